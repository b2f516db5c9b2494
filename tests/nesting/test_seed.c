// SPDX-License-Identifier: MIT
/*
 * Issue 6: the seed topology (scenario/seed.h) on both models and both
 * nesting modes, with every check of scenario/checks.h, and assertions
 * that do not trust the checks module for the key properties: each path's
 * DMA lands in the right bytes of the right RAM (compared here), a VM's
 * paths never reach the other VM's or the host's memory, and after all
 * checks no RAM changed outside what its own paths own. Also: the seed's
 * errors, an allocation-failure sweep of the build, path lookup, and
 * checks failing on a topology that is broken behind their back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ionest/uapi/iommufd.h>

#include "scenario/checks.h"
#include "scenario/seed.h"
#include "test_util.h"
#include "util/alloc.h"

static const char *const check_names[] = {
	"dma.host",	 "dma.vm1",	     "dma.vm2",
	"dma.vm2.dev2",	 "dma.vm1.proc1",    "dma.vm1.proc2",
	"dma.vm2.proc1", "dma.vm2.proc2",    "isolation.vm1",
	"isolation.vm2", "stage1.vm1.proc1", "stage1.vm2.proc2",
	"fault",	 "page-request",     "page-request.invalid",
	"msi",
};
#define NCHECKS (sizeof(check_names) / sizeof(check_names[0]))

static const char *const path_names[] = {
	"host",	     "vm1",	  "vm2",       "vm2.dev2",
	"vm1.proc1", "vm1.proc2", "vm2.proc1", "vm2.proc2",
};

static struct seed *build(const char *model, enum ionest_nesting mode)
{
	struct seed_opts o = { .iommu = model, .nesting = mode };
	struct seed *s = NULL;
	char err[256];
	int rc = seed_new(&o, &s, err, sizeof(err));

	if (rc)
		print_message("# seed_new: %s\n", err);
	assert_int_equal(rc, 0);
	return s;
}

static void count_fn(void *ctx, const char *c, const char *n, uint64_t v)
{
	(void)c;
	(void)n;
	(void)v;
	(*(int *)ctx)++;
}

/*
 * SHADOW is available on a model when the seed builds with it and the
 * driver realises it (its shadow counters exist). Otherwise the test is
 * skipped with the reason printed, never passed silently.
 */
static struct seed *build_mode(const char *model, enum ionest_nesting mode)
{
	struct seed_opts o = { .iommu = model, .nesting = mode };
	struct seed *s = NULL;
	char err[256], glob[64];
	int rc = seed_new(&o, &s, err, sizeof(err));
	int n = 0;

	if (mode != IONEST_NESTING_SHADOW) {
		if (rc)
			print_message("# seed_new: %s\n", err);
		assert_int_equal(rc, 0);
		return s;
	}
	if (rc) {
		print_message("# SKIP: %s in shadow mode: %s\n", model, err);
		return NULL;
	}
	assert_int_equal(ionest_machine_nesting(s->m, s->iommu),
			 IONEST_NESTING_SHADOW);
	/* The driver's counters name the model (VT-d) or the instance
	 * (SMMUv3). */
	snprintf(glob, sizeof(glob), "*%s*.shadow_*", ionest_hw_name(s->hw));
	ionest_counters_foreach(glob, count_fn, &n);
	snprintf(glob, sizeof(glob), "*:%s.shadow_*", s->iommu);
	ionest_counters_foreach(glob, count_fn, &n);
	if (!n) {
		print_message("# SKIP: %s accepts shadow mode but this build "
			      "does not realise it (no shadow counters)\n",
			      model);
		seed_free(s);
		return NULL;
	}
	return s;
}

static uint64_t ctr(struct seed *s, const char *name)
{
	uint64_t v = 0;

	assert_int_equal(ionest_counter_get(ionest_hw_name(s->hw), name, &v),
			 0);
	return v;
}

/* ---- Direct assertions, not through checks.c ---- */

/* Each path's write lands at its GPA (host IOVA) in its owner's RAM, at
 * vm_ptr of that address and nowhere else we look; the read comes back. */
static void direct_dma(struct seed *s)
{
	for (unsigned i = 0; i < sizeof(path_names) / sizeof(path_names[0]);
	     i++) {
		struct seed_path p;
		uint8_t w[40], r[40], other[SEED_OWNERS][40];
		const uint64_t off = 2 * VM_PAGE + 123;
		uint8_t *at;

		assert_int_equal(seed_path(s, path_names[i], &p), 0);
		assert_string_equal(p.name, path_names[i]);
		for (int o = 0; o < SEED_OWNERS; o++)
			if (o != p.owner)
				memcpy(other[o],
				       s->ram[o].mem +
					       (o == SEED_HOST ? 0 :
								 SEED_TABLES) +
					       off,
				       sizeof(w));
		for (unsigned k = 0; k < sizeof(w); k++)
			w[k] = (uint8_t)(i * 16 + k + 1);
		assert_int_equal(ionest_device_dma(s->m, p.dev, p.pasid,
						   p.iova + off, w, sizeof(w),
						   IONEST_DMA_TO_MEM),
				 0);
		at = vm_ptr(&s->ram[p.owner], p.gpa + off, sizeof(w));
		assert_non_null(at);
		assert_memory_equal(at, w, sizeof(w));
		assert_ptr_equal(at, p.mem + off);
		for (int o = 0; o < SEED_OWNERS; o++)
			if (o != p.owner)
				assert_memory_equal(
					other[o],
					s->ram[o].mem +
						(o == SEED_HOST ? 0 :
								  SEED_TABLES) +
						off,
					sizeof(w));
		at[0] ^= 0xff;
		assert_int_equal(ionest_device_dma(s->m, p.dev, p.pasid,
						   p.iova + off, r, sizeof(r),
						   IONEST_DMA_FROM_MEM),
				 0);
		assert_memory_equal(r, at, sizeof(r));
		/* Beyond the mapped range: faults (nested: the spare IOVAs;
		 * others: past the RAM / the host buffer). */
		if (p.nested)
			assert_int_not_equal(
				ionest_device_dma(s->m, p.dev, p.pasid,
						  p.spare_iova + VM_PAGE * 3, r,
						  8, IONEST_DMA_FROM_MEM),
				0);
		checks_drain(s);
	}
}

/* A few cross-owner accesses, checked byte by byte here. */
static void direct_isolation(struct seed *s)
{
	static const struct {
		const char *path, *target;
	} probes[] = {
		{ "vm1", "vm2" },
		{ "vm1", "host" },
		{ "vm2", "vm1" },
		{ "vm2.dev2", "vm1" },
		{ "vm1.proc1", "vm2.proc1" },
		{ "vm1.proc2", "vm2" },
		{ "vm2.proc1", "vm1.proc1" },
		{ "vm2.proc2", "vm1" },
		{ "vm2.proc2", "host" },
	};

	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct seed_path p, t;
		uint8_t w[16], before[16];

		assert_int_equal(seed_path(s, probes[i].path, &p), 0);
		assert_int_equal(seed_path(s, probes[i].target, &t), 0);
		memset(w, 0xdd, sizeof(w));
		/* By the target's input address and by its GPA. */
		memcpy(before, t.mem, sizeof(before));
		assert_int_not_equal(ionest_device_dma(s->m, p.dev, p.pasid,
						       t.iova, w, sizeof(w),
						       IONEST_DMA_TO_MEM),
				     0);
		assert_int_not_equal(ionest_device_dma(s->m, p.dev, p.pasid,
						       t.gpa, w, sizeof(w),
						       IONEST_DMA_TO_MEM),
				     0);
		assert_memory_equal(before, t.mem, sizeof(before));
		checks_drain(s);
	}
}

/* Owner @o's RAM differs from @snap only where its own paths' data and
 * spare pages are, or in its guest tables area. */
static void assert_only_own_bytes(struct seed *s, int o, const uint8_t *snap)
{
	const struct vm *v = &s->ram[o];
	size_t bad = 0;
	uint64_t first = 0;

	for (size_t i = 0; i < v->len; i++) {
		uint64_t a = v->gpa + i;
		bool own = o != SEED_HOST && i < SEED_TABLES;

		if (v->mem[i] == snap[i])
			continue;
		for (int k = 0; !own && k < s->npaths; k++) {
			const struct seed_path *p = &s->paths[k];
			uint64_t len =
				p->len + (p->nested ? SEED_SPARE * VM_PAGE : 0);

			own = p->owner == o && a >= p->gpa && a - p->gpa < len;
		}
		if (!own && !bad++)
			first = a;
	}
	if (bad)
		print_message("# %s: %zu bytes changed outside its paths' "
			      "pages, first at 0x%llx\n",
			      seed_owner_name(o), bad,
			      (unsigned long long)first);
	assert_int_equal(bad, 0);
}

static void run_model(const char *model, enum ionest_nesting mode)
{
	struct check_result res[CHECKS_MAX];
	uint8_t *snap[SEED_OWNERS];
	struct seed *s = build_mode(model, mode);
	int n;

	if (!s) {
		skip();
		return;
	}
	assert_string_equal(s->model, model);
	assert_int_equal(s->npaths, 8);
	/* The mode in effect is the one asked for (AUTO: HW here). */
	assert_int_equal(s->nesting, mode == IONEST_NESTING_AUTO ?
					     IONEST_NESTING_HW :
					     (int)mode);
	for (int o = 0; o < SEED_OWNERS; o++) {
		snap[o] = xmalloc(s->ram[o].len);
		assert_non_null(snap[o]);
		memcpy(snap[o], s->ram[o].mem, s->ram[o].len);
	}
	direct_dma(s);
	direct_isolation(s);

	n = checks_run_all(s, res, CHECKS_MAX);
	assert_int_equal(n, NCHECKS);
	for (int i = 0; i < n; i++) {
		print_message("# %-22s %s  %s\n", res[i].name,
			      res[i].ok ? "ok" : "FAIL", res[i].detail);
		assert_string_equal(res[i].name, check_names[i]);
	}
	for (int i = 0; i < n; i++)
		assert_true(res[i].ok);
	/* Twice: the checks leave the topology as they found it. */
	n = checks_run_all(s, res, CHECKS_MAX);
	for (int i = 0; i < n; i++) {
		if (!res[i].ok)
			print_message("# again: %s: %s\n", res[i].name,
				      res[i].detail);
		assert_true(res[i].ok);
	}

	for (int o = 0; o < SEED_OWNERS; o++) {
		assert_only_own_bytes(s, o, snap[o]);
		xfree(snap[o]);
	}
	/* Nothing left pending anywhere. */
	assert_int_equal(checks_drain(s), 0);
	/* The hardware did the work the checks claim. */
	{
		struct seed_counters c;

		assert_int_equal(seed_counters(s, &c), 0);
		assert_int_equal(c.translate, ctr(s, "translate"));
		assert_true(c.tlb_hit > 0 && c.tlb_miss > 0);
		assert_true(c.walk > 0 && c.walk_read >= c.walk);
		assert_true(c.fault > 0);
		assert_true(c.page_request >= 4);
		assert_true(c.invalidation > 0);
		/* Events: recorded by the model, or in shadow mode made by
		 * the driver (the model's shadow faults are not recorded). */
		if (mode == IONEST_NESTING_SHADOW) {
			assert_true(c.shadow_sync > 0);
			assert_true(c.shadow_fault > 0);
		} else {
			assert_int_equal(c.shadow_sync, 0);
			if (!strcmp(model, "smmuv3"))
				assert_true(c.event > 0);
		}
	}
	seed_free(s);
}

static void test_smmuv3_hw(void **state)
{
	(void)state;
	run_model("smmuv3", IONEST_NESTING_HW);
}

static void test_vtd_hw(void **state)
{
	(void)state;
	run_model("vtd", IONEST_NESTING_HW);
}

static void test_smmuv3_shadow(void **state)
{
	(void)state;
	run_model("smmuv3", IONEST_NESTING_SHADOW);
}

static void test_vtd_shadow(void **state)
{
	(void)state;
	run_model("vtd", IONEST_NESTING_SHADOW);
}

/* ---- The seed module itself ---- */

static void test_topology(void **state)
{
	struct seed *s;
	struct seed_path p;

	(void)state;
	/* SMMUv3: the VMs' SVA on functions of their own. */
	s = build("smmuv3", IONEST_NESTING_AUTO);
	assert_int_equal(s->ndevices, 4);
	assert_int_equal(seed_path(s, "vm1.proc1", &p), 0);
	assert_string_equal(s->devices[p.device].name, "RID1.1");
	assert_int_equal(p.pasid, SEED_PASID_A);
	assert_true(p.nested);
	assert_int_equal(s->domains[p.domain].kind, SEED_DOM_NESTED);
	assert_int_equal(seed_path(s, "vm2.proc2", &p), 0);
	assert_string_equal(s->devices[p.device].name, "RID2");
	assert_int_equal(seed_path(s, "vm1", &p), 0);
	assert_string_equal(s->devices[p.device].name, "RID1");
	assert_int_equal(p.pasid, SEED_PASID_X);
	assert_int_equal(p.iova, p.gpa);
	assert_int_equal(s->domains[p.domain].kind, SEED_DOM_PAGING);
	assert_int_equal(seed_path(s, "nope", &p), -ENOENT);
	assert_null(seed_find_path(s, NULL));
	assert_true(seed_fault_fd(s, SEED_VM1) >= 0);
	assert_true(seed_veventq_fd(s, SEED_VM2) >= 0);
	assert_int_equal(seed_veventq_fd(s, SEED_HOST), -1);
	assert_int_equal(seed_fault_fd(s, 7), -1);
	assert_ptr_equal(seed_machine(s), s->m);
	assert_int_equal(seed_iommufd(s), s->fd);
	/* Guest CD entries are recorded as such. */
	{
		int guest = 0;

		for (int i = 0; i < s->nattach; i++)
			guest += s->attach[i].guest_cd;
		assert_int_equal(guest, 4);
	}
	seed_free(s);

	/* VT-d: one device serves the host and both VMs by PASID. */
	s = build("vtd", IONEST_NESTING_AUTO);
	assert_int_equal(s->ndevices, 2);
	for (unsigned i = 0; i < 3; i++) {
		static const char *const rid1[] = { "vm1.proc1", "vm1.proc2",
						    "vm2.proc1" };

		assert_int_equal(seed_path(s, rid1[i], &p), 0);
		assert_string_equal(s->devices[p.device].name, "RID1");
		assert_int_equal(s->domains[p.domain].kind, SEED_DOM_NESTED);
		assert_int_equal(s->domains[s->domains[p.domain].parent].kind,
				 SEED_DOM_PARENT);
	}
	assert_int_equal(seed_veventq_fd(s, SEED_VM1), -1);
	for (int i = 0; i < s->nattach; i++)
		assert_false(s->attach[i].guest_cd);
	seed_free(s);
	seed_free(NULL);
	assert_string_equal(seed_owner_name(SEED_VM2), "vm2");
	assert_string_equal(seed_owner_name(9), "?");
	assert_string_equal(seed_nesting_name(IONEST_NESTING_SHADOW), "shadow");
	assert_string_equal(seed_nesting_name(7), "?");
}

static void test_bad_options(void **state)
{
	struct seed_opts o = { .iommu = "amd" };
	struct seed *s = (struct seed *)1;
	char err[128];

	(void)state;
	assert_int_equal(seed_new(&o, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "amd"));
	o.iommu = "vtd";
	o.nesting = (enum ionest_nesting)5;
	assert_int_equal(seed_new(&o, &s, NULL, 0), -EINVAL);
	assert_null(s);
	/* NULL options: SMMUv3, AUTO, quiet. */
	assert_int_equal(seed_new(NULL, &s, err, sizeof(err)), 0);
	assert_string_equal(s->model, "smmuv3");
	assert_string_equal(err, "");
	seed_free(s);
}

/* The verbose log names every step (devices, domains, attachments). */
static void test_log(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct seed_opts o = { .iommu = "vtd", .log = f };
	struct seed *s;

	(void)state;
	assert_non_null(f);
	assert_int_equal(seed_new(&o, &s, NULL, 0), 0);
	fclose(f);
	assert_non_null(strstr(buf, "seed: vtd0: vtd model, nesting hw"));
	assert_non_null(strstr(buf, "attached RID1 PASID 8 to domain2"));
	assert_non_null(strstr(buf, "attached RID2 PASID 1 to nested4"));
	free(buf);
	seed_free(s);
}

/* Every allocation of the build failing in turn: an error, no leak
 * (ASan), and the next build works. */
static void sweep(const char *model)
{
	struct seed_opts o = { .iommu = model };
	unsigned long nth, seen = 0;
	unsigned failed = 0;
	struct seed *s;
	char err[256];
	int rc;

	for (nth = 1; nth < 100000; nth++) {
		fault_inject_nth(nth);
		rc = seed_new(&o, &s, err, sizeof(err));
		seen = fault_inject_nth(0);
		if (rc) {
			assert_null(s);
			assert_true(err[0] != 0);
			failed++;
			continue;
		}
		seed_free(s);
		if (seen < nth)
			break;
	}
	print_message("# %s: %lu allocations, %u builds failed cleanly\n",
		      model, seen, failed);
	assert_true(failed > 10);
	assert_true(nth < 100000);
}

static void test_alloc_failures(void **state)
{
	(void)state;
	sweep("smmuv3");
	sweep("vtd");
}

/* The checks are not blind: a topology broken behind their back fails
 * them. */
static void test_checks_detect(void **state)
{
	struct check_result r;
	struct seed *s;
	struct seed_path *p;

	(void)state;
	s = build("vtd", IONEST_NESTING_AUTO);
	assert_false(check_dma(s, "nope", &r));
	assert_string_equal(r.name, "dma.nope");
	assert_false(check_stage1(s, "vm1", &r)); /* not nested */
	assert_false(check_isolation(s, SEED_HOST, &r));
	/* The guest unmaps a page and invalidates: DMA there faults. */
	p = seed_find_path(s, "vm1.proc2");
	assert_int_equal(vm_s1_unmap(p->s1, p->iova, VM_PAGE), 0);
	assert_false(check_dma(s, "vm1.proc2", &r));
	assert_non_null(strstr(r.detail, "write at"));
	/* VM2's RAM also mapped in VM1's IOAS at VM2's GPA: VM1 reaches it,
	 * the isolation check sees the breach. */
	{
		struct iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA |
				 IOMMU_IOAS_MAP_READABLE |
				 IOMMU_IOAS_MAP_WRITEABLE,
			.ioas_id = s->ioas[SEED_VM1],
			.user_va = (uintptr_t)s->ram[SEED_VM2].mem,
			.length = s->ram[SEED_VM2].len,
			.iova = s->ram[SEED_VM2].gpa,
		};

		assert_int_equal(ionest_ioctl(s->fd, IOMMU_IOAS_MAP, &m), 0);
	}
	assert_false(check_isolation(s, SEED_VM1, &r));
	print_message("# %s\n", r.detail);
	assert_non_null(strstr(r.detail, "wrote"));
	assert_true(check_isolation(s, SEED_VM2, &r));
	seed_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smmuv3_hw),
		cmocka_unit_test(test_vtd_hw),
		cmocka_unit_test(test_smmuv3_shadow),
		cmocka_unit_test(test_vtd_shadow),
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_alloc_failures),
		cmocka_unit_test(test_checks_detect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
