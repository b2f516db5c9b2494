// SPDX-License-Identifier: MIT
/*
 * A machine file's scenario set up on its machine (scenario/file.h): DMA
 * of the devices then goes where the scenario says, on SMMUv3 and VT-d;
 * what a model cannot realise is refused with the entry's line; every
 * allocation failure is an error without a leak.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ionest/ionest.h>

#include "machine/config.h"
#include "scenario/file.h"
#include "test_util.h"
#include "util/alloc.h"

#define TO IONEST_DMA_TO_MEM
#define FROM IONEST_DMA_FROM_MEM

static const char smmu_yaml[] =
	"iommus:\n"
	"  - {name: smmu0, model: smmuv3, nesting: hw}\n"
	"devices:\n"
	"  - {name: nic0, bdf: \"00:01.0\", iommu: smmu0, pasid: 8}\n"
	"  - {name: nvme0, bdf: \"00:02.0\", iommu: smmu0}\n"
	"  - {name: spare, bdf: \"00:03.0\", iommu: smmu0}\n"
	"scenario:\n"
	"  host:\n"
	"    - devices: [nvme0]\n"
	"      map:\n"
	"        - {iova: 0x100000, size: 0x2000, perm: rw}\n"
	"        - {iova: 0x102000, size: 0x1000, perm: r}\n"
	"  vms:\n"
	"    - name: vm1\n"
	"      ram: 0x400000\n"
	"      gpa: 0x40000000\n"
	"      devices:\n"
	"        - device: nic0\n"
	"          map:\n"
	"            - {iova: 0x20000, gpa: 0x40200000, size: 0x2000}\n"
	"            - {iova: 0x22000, gpa: 0x40202000, size: 0x1000, "
	"perm: r}\n"
	"        - device: nic0\n"
	"          pasid: 3\n"
	"          map:\n"
	"            - {iova: 0x20000, gpa: 0x40202000, size: 0x1000}\n"
	"            - {iova: 0x21000, gpa: 0x80000000, size: 0x1000}\n";

static const char vtd_yaml[] =
	"iommus:\n"
	"  - {name: vtd0, model: vtd}\n"
	"devices:\n"
	"  - {name: gpu0, bdf: \"00:02.0\", iommu: vtd0, pasid: 20}\n"
	"  - {name: ssd0, bdf: \"00:03.0\", iommu: vtd0, pasid: 20}\n"
	"scenario:\n"
	"  host:\n"
	"    - devices: [ssd0]\n"
	"      map: [{iova: 0x200000, size: 0x1000}]\n"
	"  vms:\n"
	"    - name: vm1\n"
	"      ram: 0x400000\n"
	"      devices:\n"
	"        - device: gpu0\n"
	"          map: [{iova: 0x20000, gpa: 0x200000, size: 0x1000}]\n"
	"        - device: gpu0\n"
	"          pasid: 2\n"
	"          map: [{iova: 0x7000, gpa: 0x200000, size: 0x1000, "
	"perm: r}]\n"
	"        - device: ssd0\n"
	"          pasid: 5\n"
	"          map: [{iova: 0x7000, gpa: 0x201000, size: 0x1000}]\n";

struct env {
	struct machine_config *c;
	struct ionest_machine *m;
	struct scen_file *s;
};

/* Load and build @yaml; 0 or the builder's error (message in @err). */
static int env_build(struct env *e, const char *yaml, char *err, size_t len)
{
	int rc;

	memset(e, 0, sizeof(*e));
	rc = machine_config_parse("s.yaml", yaml, strlen(yaml), &e->c, err,
				  len);
	if (rc)
		return rc;
	rc = machine_config_build(e->c, &e->m, err, len);
	if (rc)
		return rc;
	return scen_file_build(e->c, e->m, &e->s, err, len);
}

static void env_fini(struct env *e)
{
	scen_file_free(e->s);
	ionest_machine_free(e->m);
	machine_config_free(e->c);
}

static void env_ok(struct env *e, const char *yaml)
{
	char err[256] = "";
	int rc = env_build(e, yaml, err, sizeof(err));

	if (rc)
		fail_msg("%d: %s", rc, err);
}

static int dma(struct env *e, int dev, uint32_t pasid, uint64_t iova, void *buf,
	       size_t len, int dir)
{
	return ionest_device_dma(e->m, dev, pasid, iova, buf, len, dir);
}

static void test_smmuv3(void **state)
{
	struct ionest_dma_fault f;
	char w[64] = "scenario", r[64];
	struct env e;

	env_ok(&e, smmu_yaml);
	/* Host domain of nvme0 (vfio1): across its two read-write pages,
	 * not into the read-only one. */
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x100ff0, w, 32, TO), 0);
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x100ff0, r, 32, FROM), 0);
	assert_memory_equal(w, r, 32);
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x102000, r, 8, FROM), 0);
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x102000, w, 8, TO),
			 -EFAULT);
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x101ff0, w, 32, TO),
			 -EFAULT);
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x103000, r, 8, FROM),
			 -EFAULT);
	/* nic0 (vfio0) in the VM: the RID's stage 1 and PASID 3's map the
	 * same GPA 0x40202000 (read-only for the RID). */
	assert_int_equal(dma(&e, 0, 3, 0x20010, w, 16, TO), 0);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, 0x22010, r, 16, FROM), 0);
	assert_memory_equal(w, r, 16);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, 0x22010, w, 16, TO),
			 -EFAULT);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, 0x20000, w, 16, TO), 0);
	/* A GPA outside the RAM: a stage-2 fault. */
	assert_int_equal(dma(&e, 0, 3, 0x21000, r, 8, FROM), -EFAULT);
	assert_int_equal(ionest_device_last_fault(e.m, 0, &f), 0);
	assert_true(f.stage2);
	assert_int_equal(f.fault_addr, 0x80000000);
	/* A PASID without a CD, a device without a domain. */
	assert_int_equal(dma(&e, 0, 1, 0x20000, r, 8, FROM), -EFAULT);
	assert_int_equal(dma(&e, 2, IONEST_NO_PASID, 0x20000, r, 8, FROM),
			 -EFAULT);
	env_fini(&e);
}

static void test_vtd(void **state)
{
	char w[64] = "vt-d scenario", r[64];
	struct env e;

	env_ok(&e, vtd_yaml);
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x200100, w, 16, TO), 0);
	assert_int_equal(dma(&e, 1, IONEST_NO_PASID, 0x200100, r, 16, FROM), 0);
	assert_memory_equal(w, r, 16);
	/* gpu0's RID writes the page its PASID 2 reads (read-only). */
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, 0x20020, w, 16, TO), 0);
	assert_int_equal(dma(&e, 0, 2, 0x7020, r, 16, FROM), 0);
	assert_memory_equal(w, r, 16);
	assert_int_equal(dma(&e, 0, 2, 0x7020, w, 16, TO), -EFAULT);
	/* ssd0: RID in the host domain, PASID 5 in the VM (VT-d keeps a
	 * stage 2 per PASID entry). */
	assert_int_equal(dma(&e, 1, 5, 0x7000, w, 16, TO), 0);
	assert_int_equal(dma(&e, 1, 5, 0x8000, w, 16, TO), -EFAULT);
	env_fini(&e);
}

static const struct {
	const char *yaml, *msg;
} refusals[] = {
	{ "iommus: [{name: io0, model: smmuv3}]\n"
	  "devices: [{name: d, rid: 8, iommu: io0, pasid: 4}]\n"
	  "scenario:\n"
	  "  host: [{devices: [d]}]\n"
	  "  vms:\n"
	  "    - {name: v, ram: 0x100000, devices: [{device: d, pasid: 1}]}\n",
	  "s.yaml:6: scenario: on SMMUv3 a device's RID and PASIDs are in one "
	  "domain" },
	{ "iommus: [{name: io0, model: smmuv3}]\n"
	  "devices: [{name: d, rid: 8, iommu: io0, pasid: 4}]\n"
	  "scenario:\n"
	  "  vms:\n"
	  "    - name: v\n"
	  "      ram: 0x100000\n"
	  "      devices:\n"
	  "        - {device: d}\n"
	  "        - {device: d, pasid: 0}\n",
	  "s.yaml:9: VM v: on SMMUv3 the RID's stage 1 is CD 0: PASID 0 is not "
	  "available beside it" },
	{ "iommus: [{name: io0, model: mock}]\n"
	  "devices: [{name: d, rid: 8, iommu: io0}]\n"
	  "scenario:\n"
	  "  vms: [{name: v, ram: 0x100000, devices: [{device: d}]}]\n",
	  "s.yaml:4: VM v: a VM's devices need an smmuv3 or vtd IOMMU" },
	{ "iommus: [{name: a, model: vtd}, {name: b, model: vtd}]\n"
	  "devices: [{name: d, rid: 8, iommu: a}, {name: e, rid: 8, "
	  "iommu: b}]\n"
	  "scenario:\n"
	  "  vms:\n"
	  "    - name: v\n"
	  "      ram: 0x100000\n"
	  "      devices: [{device: d}, {device: e}]\n",
	  "s.yaml:7: VM v: a VM's devices are behind one IOMMU" },
	{ "iommus: [{name: io0, model: vtd}]\n"
	  "devices: [{name: d, rid: 8, iommu: io0}]\n"
	  "scenario:\n"
	  "  vms: [{name: v, ram: 0x1000, devices: [{device: d, map: "
	  "[{iova: 0, gpa: 0, size: 0x1000}]}]}]\n",
	  "s.yaml:4: VM v: no RAM left for the guest tables" },
};

static void test_refused(void **state)
{
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		char err[256] = "";
		struct env e;
		int rc = env_build(&e, refusals[i].yaml, err, sizeof(err));

		if (!rc ||
		    strncmp(err, refusals[i].msg, strlen(refusals[i].msg)))
			fail_msg("case %zu: rc %d '%s', expected '%s'", i, rc,
				 err, refusals[i].msg);
		assert_null(e.s);
		env_fini(&e);
	}
}

/* No scenario: nothing but the iommufd; every access faults. */
static void test_none(void **state)
{
	char r[8];
	struct env e;

	env_ok(&e, "iommus: [{name: io0, model: vtd}]\n"
		   "devices: [{name: d, rid: 8, iommu: io0}]\n");
	assert_non_null(e.s);
	assert_int_equal(dma(&e, 0, IONEST_NO_PASID, 0, r, 8, FROM), -EFAULT);
	env_fini(&e);
}

/* The n-th allocation of the build failing: an error, nothing leaked. */
static void test_alloc_failures(void **state)
{
	const char *yamls[2] = { smmu_yaml, vtd_yaml };

	for (int y = 0; y < 2; y++) {
		unsigned long n = 0;
		int rc;

		do {
			struct machine_config *c = NULL;
			struct ionest_machine *m = NULL;
			struct scen_file *s = NULL;
			char err[256];

			assert_int_equal(
				machine_config_parse("s.yaml", yamls[y],
						     strlen(yamls[y]), &c, err,
						     sizeof(err)),
				0);
			assert_int_equal(machine_config_build(c, &m, err,
							      sizeof(err)),
					 0);
			fault_inject_nth(++n);
			rc = scen_file_build(c, m, &s, err, sizeof(err));
			fault_inject_nth(0);
			if (rc)
				assert_null(s);
			scen_file_free(s);
			ionest_machine_free(m);
			machine_config_free(c);
		} while (rc && n < 5000);
		assert_int_equal(rc, 0);
		assert_true(n > 10);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smmuv3),
		cmocka_unit_test(test_vtd),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
