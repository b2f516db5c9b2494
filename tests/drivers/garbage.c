// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "garbage.h"
#include "hw/hw.h"

#define GUARD_BYTE 0x5a

void garbage_init(struct garbage *g, struct fx *f, struct ionest_hw *hw,
		  uint64_t seed, uint64_t gpa, size_t len, uint64_t hole)
{
	memset(g, 0, sizeof(*g));
	print_message("seed %#llx\n", (unsigned long long)seed);
	test_rng_seed(&g->rng, seed);
	g->f = f;
	g->hw = hw;
	g->hole = hole;
	g->blob = mmap(NULL, len + 2 * GARBAGE_GUARD, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->blob != MAP_FAILED);
	memset(g->blob, GUARD_BYTE, len + 2 * GARBAGE_GUARD);
	g->ram = g->blob + GARBAGE_GUARD;
	memset(g->ram, 0, len);
	g->vm = (struct vm){ .name = "garbage",
			     .mem = g->ram,
			     .gpa = gpa,
			     .len = len,
			     .borrowed = true };
	g->pristine = malloc(len);
	assert_non_null(g->pristine);
}

void garbage_fini(struct garbage *g)
{
	munmap(g->blob, g->vm.len + 2 * GARBAGE_GUARD);
	free(g->pristine);
	if (g->by_buf)
		fx_free(g->by_buf, FX_PAGE);
}

void *garbage_bystander(struct garbage *g, int dev, uint64_t iova)
{
	g->by_dev = dev;
	g->by_iova = iova;
	g->by_buf = fx_alloc(FX_PAGE, FX_PAGE);
	memset(g->by_buf, 0, FX_PAGE);
	memset(g->by_expect, 0, FX_PAGE);
	return g->by_buf;
}

unsigned garbage_iterations(unsigned dflt)
{
	const char *s = getenv("IONEST_GARBAGE_ITER");

	return s ? (unsigned)strtoul(s, NULL, 0) : dflt;
}

uint64_t garbage_seed(uint64_t dflt)
{
	const char *s = getenv("IONEST_GARBAGE_SEED");

	return s ? strtoull(s, NULL, 0) : dflt;
}

uint64_t garbage_rnd(struct garbage *g)
{
	return test_rng_next(&g->rng);
}

uint64_t garbage_below(struct garbage *g, uint64_t n)
{
	return test_rng_below(&g->rng, n);
}

uint64_t garbage_gpa(struct garbage *g)
{
	uint64_t base = g->vm.gpa, len = g->vm.len;

	switch (garbage_below(g, 8)) {
	case 0: /* the tables */
		return base +
		       (garbage_below(g, g->tables ? g->tables : 1) & ~7ull);
	case 1:
		return base + garbage_below(g, len);
	case 2:
		return base + len + garbage_below(g, 4) * FX_PAGE;
	case 3:
		return base - FX_PAGE * (1 + garbage_below(g, 4));
	case 4:
		return g->hole + garbage_below(g, 16) * FX_PAGE;
	case 5:
		return 0;
	case 6:
		return garbage_rnd(g) & ((1ull << 48) - 1);
	default:
		return garbage_rnd(g);
	}
}

void *garbage_gva(struct garbage *g, uint64_t gpa)
{
	return g->ram + (gpa - g->vm.gpa);
}

void garbage_snapshot(struct garbage *g)
{
	memcpy(g->pristine, g->ram, g->vm.len);
}

void garbage_restore_ram(struct garbage *g)
{
	memcpy(g->ram, g->pristine, g->vm.len);
}

void garbage_check_errno(int rc, const char *what)
{
	if (rc && rc != -EINVAL && rc != -EIO && rc != -EOPNOTSUPP)
		fail_msg("%s: unexpected %d", what, rc);
}

/* What the IOMMU gives the nested device for @iova: no translation, or
 * host memory in the guest's RAM (the doorbell page for an MSI). */
static void check_xlate(struct garbage *g, uint64_t iova, uint32_t access)
{
	struct ionest_xlate_req q = { .sid = g->sid,
				      .access = access,
				      .iova = iova };
	struct ionest_xlate_res r;
	uint64_t lo = (uint64_t)(uintptr_t)g->ram;

	assert_int_equal(ionest_hw_translate(g->hw, &q, &r), 0);
	if (r.status == IONEST_XLATE_BYPASS)
		fail_msg("iova %#llx bypasses the IOMMU",
			 (unsigned long long)iova);
	if (r.status != IONEST_XLATE_OK || hw_is_msi_doorbell(r.addr))
		return;
	if (r.addr < lo || r.addr - lo >= g->vm.len)
		fail_msg("iova %#llx -> %#llx outside the guest's RAM",
			 (unsigned long long)iova, (unsigned long long)r.addr);
}

static uint64_t rand_iova(struct garbage *g)
{
	switch (garbage_below(g, 5)) {
	case 0:
	case 1:
		return g->data_iova + garbage_below(g, g->data_len - 16);
	case 2:
		return garbage_below(g, 1ull << 32);
	case 3:
		return garbage_gpa(g) & ((1ull << 48) - 1);
	default:
		return garbage_rnd(g) & ((1ull << 48) - 1);
	}
}

static void check_outside(struct garbage *g)
{
	uint8_t *hi = g->ram + g->vm.len;

	for (size_t i = 0; i < GARBAGE_GUARD; i++) {
		if (g->blob[i] != GUARD_BYTE || hi[i] != GUARD_BYTE)
			fail_msg("guard byte %zu written", i);
	}
	for (unsigned i = 0; i < HW_MSI_DOORBELL_SIZE; i++)
		assert_int_equal(hw_msi_doorbell[i], 0);
	if (g->by_buf)
		assert_memory_equal(g->by_buf, g->by_expect, FX_PAGE);
}

void garbage_check(struct garbage *g)
{
	uint8_t b[16], r[16];
	uint64_t iova = rand_iova(g), off;
	int rc;

	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)garbage_rnd(g);
	rc = fx_dma_write(g->f, g->dev, IONEST_NO_PASID, iova, b, sizeof(b));
	if (rc == 0)
		g->dma_ok++;
	else if (rc == -EFAULT)
		g->dma_fault++;
	else if (rc == -EAGAIN)
		g->dma_pri++;
	else
		fail_msg("nested DMA: %d", rc);
	rc = fx_dma_read(g->f, g->dev, IONEST_NO_PASID, iova, r, sizeof(r));
	assert_true(rc == 0 || rc == -EFAULT || rc == -EAGAIN);
	check_xlate(g, iova, IONEST_ACCESS_WRITE);
	check_xlate(g, iova & ~0xfffull, IONEST_ACCESS_READ);
	check_xlate(g,
		    g->data_iova + (garbage_below(g, g->data_len) & ~0xfffull),
		    IONEST_ACCESS_WRITE);
	check_outside(g);
	if (!g->by_buf)
		return;
	/* The bystander still works. */
	for (unsigned i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)garbage_rnd(g);
	off = garbage_below(g, FX_PAGE - sizeof(b));
	assert_int_equal(fx_dma_write(g->f, g->by_dev, IONEST_NO_PASID,
				      g->by_iova + off, b, sizeof(b)),
			 0);
	memcpy(g->by_expect + off, b, sizeof(b));
	assert_int_equal(fx_dma_read(g->f, g->by_dev, IONEST_NO_PASID,
				     g->by_iova + off, r, sizeof(r)),
			 0);
	assert_memory_equal(r, b, sizeof(b));
	check_outside(g);
}
