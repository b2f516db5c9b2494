// SPDX-License-Identifier: MIT
/*
 * HW queues on the mock (iommufd-uapi.md §8): the errno rules and their
 * order of IOMMU_HW_QUEUE_ALLOC, as Linux 7.3's mock driver showed them
 * under linux-ref (generic checks, vIOMMU type, pin: ENOENT, EPERM, EFAULT,
 * ERANGE; the range locked against unmap: EBUSY), then the ionest command
 * queue (IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ): its own rules, ring processing
 * with wrap, a bad entry halting the queue, acknowledgement, doorbell
 * errors, garbage in guest memory, a ring in a memfd, teardown and
 * allocation failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"
#include "nest_util.h"
#include "util/alloc.h"

#define P FX_PAGE
#define IOVA 0x100000ull /* the guest's stage-1 IOVAs */
#define VID 0x77ull /* the device's virtual ID */
#define CMDQ IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ
#define NPAGES 12
/* Guest physical addresses outside guest RAM, for areas of their own. */
#define GPA_X 0x80000000ull
#define GPA_Y 0x90000000ull

typedef struct ionest_mock_viommu_invalidate ent_t;

struct env {
	struct fx f;
	struct guest g;
	uint32_t ioas, parent, viommu, nested;
	uint64_t d1, d2; /* NPAGES data pages each */
	int fd;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	fx_setup(&e->f, NULL, 2);
	for (int i = 0; i < 2; i++)
		assert_int_equal(fx_bind(&e->f, i), 0);
	e->fd = e->f.fd;
	e->ioas = fx_ioas(e->fd);
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	assert_int_equal(guest_map(&e->g, e->fd, e->ioas), 0);
	assert_int_equal(fx_hwpt_alloc(e->fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       &e->parent),
			 0);
	assert_int_equal(nest_viommu_alloc(e->fd, e->f.devid[0], e->parent,
					   IONEST_MOCK_VIOMMU, &e->viommu),
			 0);
	*state = e;
	return 0;
}

static int env_down(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	guest_fini(&e->g);
	free(e);
	return 0;
}

static int q_alloc(struct env *e, uint32_t index, uint64_t iova, uint64_t len,
		   uint32_t *out)
{
	return nest_hw_queue_alloc(e->fd, e->viommu, CMDQ, index, iova, len,
				   out);
}

/* Device 0 on a nested HWPT of the vIOMMU whose stage 1 maps IOVA page i
 * to d1 page i, all read once (cached), then remapped to d2 page i without
 * invalidation: every page reads stale (1) until invalidated (2). */
static void nested_stale(struct env *e)
{
	uint32_t pt;

	e->d1 = guest_alloc(&e->g, NPAGES * P);
	e->d2 = guest_alloc(&e->g, NPAGES * P);
	for (int i = 0; i < NPAGES; i++) {
		*(uint8_t *)guest_va(&e->g, e->d1 + i * P) = 1;
		*(uint8_t *)guest_va(&e->g, e->d2 + i * P) = 2;
	}
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, e->d1, NPAGES * P, true), 0);
	assert_int_equal(nest_mock_nested(e->fd, e->f.devid[0], e->viommu, 0,
					  e->g.s1.root, 0, 0, &e->nested),
			 0);
	assert_int_equal(nest_vdevice_alloc(e->fd, e->viommu, e->f.devid[0],
					    VID, NULL),
			 0);
	pt = e->nested;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	for (int i = 0; i < NPAGES; i++) {
		uint8_t b = 0;

		assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID,
					     IOVA + i * P, &b, 1),
				 0);
		assert_int_equal(b, 1);
	}
	assert_int_equal(guest_s1_unmap(&e->g, IOVA, NPAGES * P), 0);
	assert_int_equal(guest_s1_map(&e->g, IOVA, e->d2, NPAGES * P, true), 0);
}

/* What device 0 reads at IOVA page @i: 1 stale, 2 invalidated. */
static uint8_t seen(struct env *e, int i)
{
	uint8_t b = 0;

	assert_int_equal(
		fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA + i * P, &b, 1), 0);
	return b;
}

/* Pages [0, NPAGES) that read 2, as a bit mask. */
static unsigned fresh(struct env *e)
{
	unsigned m = 0;

	for (int i = 0; i < NPAGES; i++) {
		uint8_t b = seen(e, i);

		assert_true(b == 1 || b == 2);
		if (b == 2)
			m |= 1u << i;
	}
	return m;
}

static ent_t inv_page(int i)
{
	return (ent_t){ .virt_id = VID, .iova = IOVA + i * P, .length = P };
}

/* ---- IOMMU_HW_QUEUE_ALLOC: the generic rules, Linux's order ---- */

static void test_alloc_generic_errors(void **state)
{
	struct env *e = *state;
	struct iommu_hw_queue_alloc c = {
		.size = sizeof(c),
		.flags = 1,
		.viommu_id = e->viommu,
		.type = CMDQ,
		.nesting_parent_iova = GUEST_GPA,
		.length = P,
	};
	int fd = e->fd;

	/* flags, then type DEFAULT: before anything else. */
	assert_int_equal(fx_ioctl(fd, IOMMU_HW_QUEUE_ALLOC, &c), -EOPNOTSUPP);
	c.viommu_id = 999;
	c.length = 0;
	assert_int_equal(fx_ioctl(fd, IOMMU_HW_QUEUE_ALLOC, &c), -EOPNOTSUPP);
	assert_int_equal(nest_hw_queue_alloc(fd, e->viommu, 0, 0, GUEST_GPA, P,
					     NULL),
			 -EOPNOTSUPP);
	/* length 0 and overflow come before the vIOMMU lookup. */
	assert_int_equal(nest_hw_queue_alloc(fd, 999, CMDQ, 0, GUEST_GPA, 0,
					     NULL),
			 -EINVAL);
	assert_int_equal(nest_hw_queue_alloc(fd, 999, CMDQ, 0, UINT64_MAX, P,
					     NULL),
			 -EOVERFLOW);
	/* The last byte may be the last IOVA (then it is not mapped). */
	assert_int_equal(nest_hw_queue_alloc(fd, e->viommu, CMDQ, 0,
					     UINT64_MAX - P + 1, P, NULL),
			 -ENOENT);
	/* Not a vIOMMU: ENOENT. */
	assert_int_equal(nest_hw_queue_alloc(fd, 999, CMDQ, 0, GUEST_GPA, P,
					     NULL),
			 -ENOENT);
	assert_int_equal(nest_hw_queue_alloc(fd, e->ioas, CMDQ, 0, GUEST_GPA, P,
					     NULL),
			 -ENOENT);
	assert_int_equal(nest_hw_queue_alloc(fd, e->parent, CMDQ, 0, GUEST_GPA,
					     P, NULL),
			 -ENOENT);
	/* A type the vIOMMU does not have, mapped or not. */
	assert_int_equal(nest_hw_queue_alloc(fd, e->viommu,
					     IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV,
					     0, GUEST_GPA, P, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_hw_queue_alloc(fd, e->viommu, 0xdeadbeef, 0,
					     GPA_X, P, NULL),
			 -EOPNOTSUPP);
	/* The page-rounded span overflows: ERANGE. */
	assert_int_equal(nest_hw_queue_alloc(fd, e->viommu, CMDQ, 0, 0x800,
					     0 - 0x800ull, NULL),
			 -ERANGE);
	/* Not mapped, or not all of it: ENOENT, before the queue's own
	 * rules (index 9 is beyond them). */
	assert_int_equal(q_alloc(e, 0, GPA_X, P, NULL), -ENOENT);
	assert_int_equal(q_alloc(e, 9, GPA_X, P, NULL), -ENOENT);
	assert_int_equal(q_alloc(e, 0, GUEST_GPA + GUEST_LEN - P, 2 * P, NULL),
			 -ENOENT);
	assert_int_equal(q_alloc(e, 0, GUEST_GPA - P, 2 * P, NULL), -ENOENT);
	/* Nothing was made. */
	assert_int_equal(fx_destroy(fd, e->viommu), 0);
}

static void test_alloc_pin_errors(void **state)
{
	struct env *e = *state;
	uint8_t *mem = fx_alloc(4 * P, P);
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = e->ioas,
		.user_va = (uint64_t)(uintptr_t)mem,
		.length = P,
		.iova = GPA_X,
	};
	uint32_t q;

	/* Not readable (mapped write-only): EPERM. */
	assert_int_equal(fx_ioctl(e->fd, IOMMU_IOAS_MAP, &m), 0);
	assert_int_equal(q_alloc(e, 0, GPA_X, P, NULL), -EPERM);
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_X, P, NULL), 0);
	/* Two areas whose host pages are apart: EFAULT. */
	assert_int_equal(fx_map_fixed(e->fd, e->ioas, mem, P, GPA_X), 0);
	assert_int_equal(
		fx_map_fixed(e->fd, e->ioas, mem + 2 * P, P, GPA_X + P), 0);
	assert_int_equal(q_alloc(e, 0, GPA_X, 2 * P, NULL), -EFAULT);
	/* Both still unmap: nothing stayed locked. */
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_X + P, P, NULL), 0);
	/* Two areas over adjacent host pages: one ring across them. */
	assert_int_equal(fx_map_fixed(e->fd, e->ioas, mem + P, P, GPA_X + P),
			 0);
	assert_int_equal(q_alloc(e, 0, GPA_X, 2 * P, &q), 0);
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_X, P, NULL), -EBUSY);
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_X + P, P, NULL), -EBUSY);
	assert_int_equal(fx_destroy(e->fd, q), 0);
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_X, 2 * P, NULL), 0);
	fx_free(mem, 4 * P);
}

/* ---- The ionest command queue's own rules ---- */

static void test_cmdq_rules(void **state)
{
	struct env *e = *state;
	/* 8K aligned, with 8K after it mapped. */
	uint64_t ring = (guest_alloc(&e->g, 5 * P) + 2 * P - 1) & ~(2 * P - 1);
	uint32_t q0, q1, q2;
	int fd = e->fd;

	/* Index beyond 7, or not in ascending order. */
	assert_int_equal(q_alloc(e, IOMMUFD_HW_QUEUE_MAX, ring, P, NULL),
			 -EINVAL);
	assert_int_equal(q_alloc(e, 1, ring, P, NULL), -EIO);
	/* Sizes: a power of two of whole 32-byte entries. */
	assert_int_equal(q_alloc(e, 0, ring, 3 * 32, NULL), -EINVAL);
	assert_int_equal(q_alloc(e, 0, ring, 16, NULL), -EINVAL);
	assert_int_equal(q_alloc(e, 0, ring, P + 32, NULL), -EINVAL);
	/* Based at a multiple of the size. */
	assert_int_equal(q_alloc(e, 0, ring + 32, 64, NULL), -EINVAL);
	assert_int_equal(q_alloc(e, 0, ring + P, 2 * P, NULL), -EINVAL);
	/* One entry is a ring; so is a small one inside a page. */
	assert_int_equal(q_alloc(e, 0, ring + 32, 32, &q0), 0);
	assert_int_equal(nest_regs(fd, q0).log2_entries, 0);
	assert_int_equal(q_alloc(e, 0, ring, P, NULL), -EEXIST);
	assert_int_equal(q_alloc(e, 1, ring + 64, 64, &q1), 0);
	assert_int_equal(nest_regs(fd, q1).log2_entries, 1);
	assert_int_equal(q_alloc(e, 2, ring, 2 * P, &q2), 0);
	assert_int_equal(nest_regs(fd, q2).log2_entries, 8);
	/* Destroyed in descending order; everything else stays busy. */
	assert_int_equal(fx_destroy(fd, q0), -EBUSY);
	assert_int_equal(fx_destroy(fd, q1), -EBUSY);
	assert_int_equal(fx_destroy(fd, e->viommu), -EBUSY);
	assert_int_equal(fx_destroy(fd, e->parent), -EBUSY);
	assert_int_equal(fx_destroy(fd, e->ioas), -EBUSY);
	assert_int_equal(fx_destroy(fd, q2), 0);
	assert_int_equal(fx_destroy(fd, q1), 0);
	/* A freed index can be taken again, a missing one still cannot. */
	assert_int_equal(q_alloc(e, 2, ring, P, NULL), -EIO);
	assert_int_equal(q_alloc(e, 1, ring, P, &q1), 0);
	assert_int_equal(fx_destroy(fd, q1), 0);
	assert_int_equal(fx_destroy(fd, q0), 0);
	assert_int_equal(fx_destroy(fd, q0), -ENOENT);
	assert_int_equal(fx_destroy(fd, e->viommu), 0);
}

static void test_cmdq_largest(void **state)
{
	struct env *e = *state;
	/* 2^19 entries of 32 bytes = 16 MiB; one more step is too many. */
	size_t len = 32ull << 20;
	uint8_t *mem = fx_alloc(len, len);
	uint32_t q;

	ionest_set_pin_limit(UINT64_MAX);
	assert_int_equal(fx_map_fixed(e->fd, e->ioas, mem, len, 1ull << 32), 0);
	assert_int_equal(q_alloc(e, 0, 1ull << 32, len, NULL), -EINVAL);
	assert_int_equal(q_alloc(e, 0, 1ull << 32, len / 2, &q), 0);
	assert_int_equal(nest_regs(e->fd, q).log2_entries, 19);
	/* The whole ring is locked, its last page too. */
	assert_int_equal(fx_destroy(e->fd, q), 0);
	assert_int_equal(fx_unmap(e->fd, e->ioas, 1ull << 32, len, NULL), 0);
	ionest_set_pin_limit(0);
	fx_free(mem, len);
}

/* ---- The lock on the ring's pages ---- */

static void test_unmap_busy(void **state)
{
	struct env *e = *state;
	uint8_t *mem = fx_alloc(4 * P, P);
	uint64_t unmapped = 0;
	uint32_t q0, q1;
	int fd = e->fd;

	/* Three areas: the ring's page and one on each side. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_map_fixed(fd, e->ioas, mem + i * P, P,
					      GPA_X + i * P),
				 0);
	/* Two queues in the same page of the middle area. */
	assert_int_equal(q_alloc(e, 0, GPA_X + P + 128, 128, &q0), 0);
	assert_int_equal(q_alloc(e, 1, GPA_X + P + 1024, 1024, &q1), 0);
	assert_int_equal(fx_unmap(fd, e->ioas, GPA_X + P, P, NULL), -EBUSY);
	/* EBUSY also when the range would not cover the area (the lock is
	 * seen first, as in Linux). */
	assert_int_equal(fx_unmap(fd, e->ioas, GPA_X + P, 8, NULL), -EBUSY);
	assert_int_equal(fx_unmap(fd, e->ioas, GPA_X, 3 * P, NULL), -EBUSY);
	/* Unmap-all stops at it, having removed what came before. */
	assert_int_equal(fx_unmap(fd, e->ioas, 0, UINT64_MAX, NULL), -EBUSY);
	assert_int_equal(fx_unmap(fd, e->ioas, GPA_X, P, NULL), -ENOENT);
	assert_int_equal(fx_unmap(fd, e->ioas, GUEST_GPA, GUEST_LEN, NULL),
			 -ENOENT);
	assert_int_equal(guest_map(&e->g, fd, e->ioas), 0);
	/* The area after it is free. */
	assert_int_equal(fx_unmap(fd, e->ioas, GPA_X + 2 * P, P, &unmapped), 0);
	assert_int_equal(unmapped, P);
	/* Mapping over it is the usual EEXIST. */
	assert_int_equal(fx_map_fixed(fd, e->ioas, mem, P, GPA_X + P), -EEXIST);
	/* One queue gone: still locked by the other. */
	assert_int_equal(fx_destroy(fd, q1), 0);
	assert_int_equal(fx_unmap(fd, e->ioas, GPA_X + P, P, NULL), -EBUSY);
	assert_int_equal(fx_destroy(fd, q0), 0);
	assert_int_equal(fx_unmap(fd, e->ioas, GPA_X + P, P, &unmapped), 0);
	assert_int_equal(unmapped, P);
	fx_free(mem, 4 * P);
}

/* ---- Consuming the ring ---- */

static void test_ring_wraps(void **state)
{
	struct env *e = *state;
	uint64_t gpa;
	ent_t *ring;
	struct ionest_hw_queue_regs r;
	uint32_t q;

	nested_stale(e);
	assert_int_equal(fresh(e), 0);
	/* 8 entries. */
	gpa = guest_alloc(&e->g, P);
	ring = guest_va(&e->g, gpa);
	assert_int_equal(q_alloc(e, 0, gpa, 8 * sizeof(ent_t), &q), 0);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.prod, 0);
	assert_int_equal(r.cons, 0);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.log2_entries, 3);
	/* Pages 0..4 in slots 0..4. */
	for (int i = 0; i < 5; i++)
		ring[i] = inv_page(i);
	assert_int_equal(nest_doorbell(e->fd, q, 5), 0);
	assert_int_equal(nest_regs(e->fd, q).cons, 5);
	assert_int_equal(fresh(e), 0x1f);
	/* An empty doorbell does nothing. */
	assert_int_equal(nest_doorbell(e->fd, q, 5), 0);
	/* Pages 5..10 in slots 5, 6, 7, 0, 1, 2: PROD wraps to 8 | 3. */
	for (int i = 5; i <= 10; i++)
		ring[i & 7] = inv_page(i);
	assert_int_equal(nest_doorbell(e->fd, q, 8 | 3), 0);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.prod, 11);
	assert_int_equal(r.cons, 11);
	assert_int_equal(fresh(e), 0x7ff);
	/* A full ring: all 8 slots, from slot 3 round to slot 2; the wrap
	 * bit flips back. Page 11 is in the last one. */
	for (int i = 0; i < 8; i++)
		ring[(3 + i) & 7] = inv_page(i == 7 ? 11 : i);
	assert_int_equal(nest_doorbell(e->fd, q, 3), 0);
	assert_int_equal(nest_regs(e->fd, q).cons, 3);
	assert_int_equal(fresh(e), 0xfff);
	assert_int_equal(fx_detach(&e->f, 0), 0);
}

/* The same effect as IOMMU_HWPT_INVALIDATE, entry for entry. */
static void test_same_as_invalidate(void **state)
{
	struct env *e = *state;
	uint64_t gpa = guest_alloc(&e->g, P);
	ent_t *ring = guest_va(&e->g, gpa);
	const ent_t bad[] = {
		{ .virt_id = 0x99, .iova = IOVA, .length = P }, /* no vDEV */
		{ .virt_id = VID, .iova = IOVA + 1, .length = P },
		{ .virt_id = VID, .iova = IOVA, .length = 0 },
		{ .virt_id = VID, .flags = 2 },
		{ .virt_id = VID, .__reserved = 1 },
	};
	uint32_t q;

	nested_stale(e);
	assert_int_equal(q_alloc(e, 0, gpa, P, &q), 0);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t num = 1;
		int rc = nest_invalidate(e->fd, e->viommu,
					 IONEST_MOCK_INVALIDATE_VIOMMU, &bad[i],
					 sizeof(bad[i]), &num);
		struct ionest_hw_queue_regs r = nest_regs(e->fd, q);

		assert_true(rc < 0);
		ring[r.cons & 127] = bad[i];
		assert_int_equal(nest_doorbell(e->fd, q, (r.cons + 1) & 255),
				 -EIO);
		r = nest_regs(e->fd, q);
		assert_int_equal(r.err, -rc);
		assert_int_equal(nest_ack(e->fd, q, IONEST_HW_QUEUE_ACK_SKIP),
				 0);
	}
	/* Invalidate-all by the device's virtual ID. */
	ring[nest_regs(e->fd, q).cons & 127] =
		(ent_t){ .virt_id = VID, .flags = IONEST_MOCK_INVALIDATE_ALL };
	assert_int_equal(nest_doorbell(e->fd, q,
				       (nest_regs(e->fd, q).cons + 1) & 255),
			 0);
	assert_int_equal(fresh(e), 0xfff);
	assert_int_equal(fx_detach(&e->f, 0), 0);
}

static void test_bad_entry_halts(void **state)
{
	struct env *e = *state;
	uint64_t gpa = guest_alloc(&e->g, P);
	ent_t *ring = guest_va(&e->g, gpa);
	struct ionest_hw_queue_regs r;
	uint32_t q;

	nested_stale(e);
	assert_int_equal(q_alloc(e, 0, gpa, 16 * sizeof(ent_t), &q), 0);
	/* Pages 0 and 1, then an unknown virtual ID, then page 3. */
	ring[0] = inv_page(0);
	ring[1] = inv_page(1);
	ring[2] = inv_page(2);
	ring[2].virt_id = 0x99;
	ring[3] = inv_page(3);
	assert_int_equal(nest_doorbell(e->fd, q, 4), -EIO);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.prod, 4);
	assert_int_equal(r.cons, 2);
	assert_int_equal(r.err, EINVAL);
	/* The entries before it took effect, the one after it did not. */
	assert_int_equal(fresh(e), 0x3);
	/* Halted: a doorbell moves PROD and consumes nothing. */
	ring[4] = inv_page(4);
	assert_int_equal(nest_doorbell(e->fd, q, 5), -EIO);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.prod, 5);
	assert_int_equal(r.cons, 2);
	assert_int_equal(fresh(e), 0x3);
	/* An acknowledgement retries the entry: still bad. */
	assert_int_equal(nest_ack(e->fd, q, 0), -EIO);
	assert_int_equal(nest_regs(e->fd, q).err, EINVAL);
	assert_int_equal(nest_ack(e->fd, q, 2), -EOPNOTSUPP);
	/* The guest rewrites it; the queue runs to PROD. */
	ring[2].virt_id = VID;
	assert_int_equal(nest_ack(e->fd, q, 0), 0);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.cons, 5);
	assert_int_equal(r.err, 0);
	assert_int_equal(fresh(e), 0x1f);
	/* Nothing to acknowledge now. */
	assert_int_equal(nest_ack(e->fd, q, 0), -EINVAL);
	assert_int_equal(nest_ack(e->fd, q, IONEST_HW_QUEUE_ACK_SKIP), -EINVAL);
	/* An unknown flag halts it with EOPNOTSUPP; skipping it goes on. */
	ring[5] = (ent_t){ .virt_id = VID, .flags = 4 };
	ring[6] = inv_page(6);
	assert_int_equal(nest_doorbell(e->fd, q, 7), -EIO);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.cons, 5);
	assert_int_equal(r.err, EOPNOTSUPP);
	assert_int_equal(nest_ack(e->fd, q, IONEST_HW_QUEUE_ACK_SKIP), 0);
	assert_int_equal(nest_regs(e->fd, q).cons, 7);
	assert_int_equal(fresh(e), 0x5f);
	/* The guest takes a bad entry back by moving PROD down to CONS;
	 * SKIP then has nothing to step over. */
	ring[7] = (ent_t){ .virt_id = 0x99 };
	assert_int_equal(nest_doorbell(e->fd, q, 8), -EIO);
	assert_int_equal(nest_doorbell(e->fd, q, 7), -EIO);
	assert_int_equal(nest_ack(e->fd, q, IONEST_HW_QUEUE_ACK_SKIP), 0);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.cons, 7);
	assert_int_equal(r.prod, 7);
	assert_int_equal(fx_detach(&e->f, 0), 0);
}

static void test_doorbell_errors(void **state)
{
	struct env *e = *state;
	uint64_t gpa = guest_alloc(&e->g, P);
	ent_t *ring = guest_va(&e->g, gpa);
	struct ionest_hw_queue_regs r;
	uint32_t q;

	assert_int_equal(q_alloc(e, 0, gpa, 4 * sizeof(ent_t), &q), 0);
	/* Not ours, not an iommufd, not a HW queue. */
	assert_int_equal(nest_doorbell(-1, q, 0), -EBADF);
	assert_int_equal(nest_doorbell(STDERR_FILENO, q, 0), -EBADF);
	assert_int_equal(nest_doorbell(e->f.cdev[0], q, 0), -EBADF);
	assert_int_equal(nest_ack(e->f.cdev[0], q, 0), -EBADF);
	assert_int_equal(ionest_hw_queue_read_regs(e->f.cdev[0], q, &r), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(nest_doorbell(e->fd, e->viommu, 0), -ENOENT);
	assert_int_equal(nest_doorbell(e->fd, 999, 0), -ENOENT);
	assert_int_equal(nest_ack(e->fd, 0, 0), -ENOENT);
	assert_int_equal(ionest_hw_queue_read_regs(e->fd, e->ioas, &r), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ionest_hw_queue_read_regs(e->fd, q, NULL), -1);
	assert_int_equal(errno, EINVAL);
	/* 4 entries: PROD is 3 bits; more is refused and ignored. */
	assert_int_equal(nest_doorbell(e->fd, q, 8), -EINVAL);
	assert_int_equal(nest_doorbell(e->fd, q, 0x80000001u), -EINVAL);
	/* 4 ahead of CONS is a full ring, 5 too many. */
	for (int i = 0; i < 4; i++)
		ring[i] = (ent_t){ .virt_id = 0x99,
				   .flags = IONEST_MOCK_INVALIDATE_ALL };
	assert_int_equal(nest_doorbell(e->fd, q, 5), -EINVAL);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.prod, 0);
	assert_int_equal(r.cons, 0);
	assert_int_equal(r.err, 0);
	/* No vDEVICE yet: the first entry halts the queue. */
	assert_int_equal(nest_doorbell(e->fd, q, 4), -EIO);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.prod, 4);
	assert_int_equal(r.cons, 0);
	assert_int_equal(r.err, EINVAL);
	assert_int_equal(nest_vdevice_alloc(e->fd, e->viommu, e->f.devid[0],
					    0x99, NULL),
			 0);
	/* A full ring consumed at once. */
	assert_int_equal(nest_ack(e->fd, q, 0), 0);
	r = nest_regs(e->fd, q);
	assert_int_equal(r.cons, 4);
	assert_int_equal(r.err, 0);
	/* PROD going backwards (further than a ring) is refused. */
	assert_int_equal(nest_doorbell(e->fd, q, 3), -EINVAL);
	assert_int_equal(nest_regs(e->fd, q).prod, 4);
}

/* ---- Guest memory is untrusted ---- */

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_garbage(void **state)
{
	struct env *e = *state;
	/* The ring's page between two inaccessible ones: a read outside
	 * the ring would crash the test. */
	uint8_t *mem = mmap(NULL, 3 * P, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *page = mem + P;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned halts = 0, oks = 0;
	uint32_t q;

	assert_true(mem != MAP_FAILED);
	assert_int_equal(fx_map_fixed(e->fd, e->ioas, page, P, GPA_X), 0);
	assert_int_equal(mprotect(mem, P, PROT_NONE), 0);
	assert_int_equal(mprotect(mem + 2 * P, P, PROT_NONE), 0);
	nested_stale(e);
	/* 128 entries. */
	assert_int_equal(q_alloc(e, 0, GPA_X, P, &q), 0);
	for (int it = 0; it < 3000; it++) {
		struct ionest_hw_queue_regs r = nest_regs(e->fd, q);
		unsigned k = (unsigned)(rnd(&seed) % 5);
		uint32_t prod;
		int rc;

		/* Random bytes anywhere in the ring, then k new entries,
		 * mostly plausible, some random bytes. */
		for (unsigned i = 0; i < k + 2; i++) {
			unsigned slot = i < 2 ? (unsigned)rnd(&seed) & 127 :
						(r.prod + i - 2) & 127;
			ent_t *en = (ent_t *)page + slot;
			uint64_t v = rnd(&seed);

			if (i >= 2 && v % 5) {
				*en = inv_page((int)((v >> 8) % NPAGES));
				if (!(v & 0x30))
					en->flags = (uint32_t)(v >> 32) & 3;
			} else {
				uint64_t w[4] = { v, rnd(&seed), rnd(&seed),
						  rnd(&seed) };

				memcpy(en, w, sizeof(w));
			}
		}
		/* Mostly the next PROD, sometimes anything. */
		prod = it & 15 ? (r.prod + k) & 255 : (uint32_t)rnd(&seed);
		rc = nest_doorbell(e->fd, q, prod);
		assert_true(rc == 0 || rc == -EIO || rc == -EINVAL);
		r = nest_regs(e->fd, q);
		assert_true(r.prod < 256 && r.cons < 256);
		assert_true(((r.prod - r.cons) & 255) <= 128);
		if (rc == -EIO) {
			halts++;
			/* Retried as it is, it fails again; skipped, the
			 * queue goes on (to the next bad entry, if any). */
			assert_true(r.err == EINVAL || r.err == EOPNOTSUPP);
			assert_int_equal(nest_ack(e->fd, q, 0), -EIO);
			assert_int_equal(nest_regs(e->fd, q).cons, r.cons);
			for (int n = 0; rc == -EIO; n++) {
				assert_true(n <= 128);
				rc = nest_ack(e->fd, q,
					      IONEST_HW_QUEUE_ACK_SKIP);
			}
			assert_int_equal(rc, 0);
		} else if (!rc) {
			oks++;
			assert_int_equal(r.cons, r.prod);
		}
	}
	print_message("# %u halts, %u clean runs\n", halts, oks);
	assert_true(halts > 100);
	assert_true(oks > 100);
	/* Still a working device and queue. */
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->fd, q), 0);
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_X, P, NULL), 0);
	munmap(mem, 3 * P);
}

/* ---- A ring in a memfd (IOAS_MAP_FILE): read through the library's
 * own mapping of the file, written through the guest's ---- */

static void test_ring_in_memfd(void **state)
{
	struct env *e = *state;
	int mfd = memfd_create("ring", 0);
	struct iommu_ioas_map_file m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = e->ioas,
		.length = P,
		.iova = GPA_Y,
	};
	ent_t *ring;
	uint32_t q;

	assert_true(mfd >= 0);
	assert_int_equal(ftruncate(mfd, P), 0);
	m.fd = mfd;
	ring = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(ring != MAP_FAILED);
	assert_int_equal(fx_ioctl(e->fd, IOMMU_IOAS_MAP_FILE, &m), 0);
	nested_stale(e);
	assert_int_equal(q_alloc(e, 0, GPA_Y, P, &q), 0);
	ring[0] = inv_page(7);
	ring[1] = inv_page(9);
	assert_int_equal(nest_doorbell(e->fd, q, 2), 0);
	assert_int_equal(fresh(e), 1u << 7 | 1u << 9);
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_Y, P, NULL), -EBUSY);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->fd, q), 0);
	assert_int_equal(fx_unmap(e->fd, e->ioas, GPA_Y, P, NULL), 0);
	munmap(ring, P);
	close(mfd);
}

/* Each doorbell's outcome is traced. */
static void test_trace(void **state)
{
	struct env *e = *state;
	uint64_t gpa = guest_alloc(&e->g, P);
	ent_t *ring = guest_va(&e->g, gpa);
	FILE *f = tmpfile();
	char line[2][256] = { "", "" };
	char want[128];
	uint32_t q;

	assert_non_null(f);
	assert_int_equal(q_alloc(e, 0, gpa, 4 * sizeof(ent_t), &q), 0);
	ring[0] = (ent_t){ .virt_id = 0x99 };
	ionest_trace_set_output(f, IONEST_TRACE_TEXT);
	assert_int_equal(ionest_trace_enable("core_hw_queue"), 1);
	assert_int_equal(nest_doorbell(e->fd, q, 1), -EIO);
	ring[0] = (ent_t){ .virt_id = 0x99, .flags = 2 };
	assert_int_equal(nest_ack(e->fd, q, 0), -EIO);
	ionest_trace_enable(NULL);
	ionest_trace_set_output(NULL, IONEST_TRACE_TEXT);
	rewind(f);
	assert_non_null(fgets(line[0], sizeof(line[0]), f));
	assert_non_null(fgets(line[1], sizeof(line[1]), f));
	snprintf(want, sizeof(want),
		 "core_hw_queue: id=%u prod=0x1 cons=0 err=%d", q, EINVAL);
	assert_non_null(strstr(line[0], want));
	snprintf(want, sizeof(want),
		 "core_hw_queue: id=%u prod=0x1 cons=0 err=%d", q, EOPNOTSUPP);
	assert_non_null(strstr(line[1], want));
	fclose(f);
}

/* Doorbells from one thread while another maps, unmaps and does DMA: the
 * doorbell takes the context lock as an ioctl does; nothing is lost. */
struct racer {
	struct env *e;
	int stop;
};

static void *race_ioctls(void *arg)
{
	struct racer *r = arg;
	uint8_t *mem = fx_alloc(P, P);

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		uint8_t b;

		if (fx_map_fixed(r->e->fd, r->e->ioas, mem, P, GPA_Y) ||
		    fx_unmap(r->e->fd, r->e->ioas, GPA_Y, P, NULL) ||
		    fx_dma_read(&r->e->f, 0, IONEST_NO_PASID, IOVA, &b, 1))
			abort();
	}
	fx_free(mem, P);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct env *e = *state;
	uint64_t gpa = guest_alloc(&e->g, P);
	ent_t *ring = guest_va(&e->g, gpa);
	struct racer r = { .e = e };
	uint32_t q, prod = 0;
	pthread_t t;

	nested_stale(e);
	assert_int_equal(q_alloc(e, 0, gpa, 16 * sizeof(ent_t), &q), 0);
	assert_int_equal(pthread_create(&t, NULL, race_ioctls, &r), 0);
	for (int i = 0; i < 2000; i++) {
		unsigned k = 1 + i % 16;

		for (unsigned j = 0; j < k; j++)
			ring[(prod + j) & 15] =
				inv_page((int)((i + j) % NPAGES));
		prod = (prod + k) & 31;
		assert_int_equal(nest_doorbell(e->fd, q, prod), 0);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(nest_regs(e->fd, q).cons, prod);
	assert_int_equal(fresh(e), (1u << NPAGES) - 1);
	assert_int_equal(fx_detach(&e->f, 0), 0);
}

/* ---- Lifetime ---- */

static void test_close_with_queues(void **state)
{
	struct env *e = *state;
	uint64_t gpa = guest_alloc(&e->g, P);
	ent_t *ring = guest_va(&e->g, gpa);
	uint32_t q0, q1;

	nested_stale(e);
	assert_int_equal(q_alloc(e, 0, gpa, 64, &q0), 0);
	assert_int_equal(q_alloc(e, 1, gpa + 2048, 2048, &q1), 0);
	/* One of them halted with work pending. */
	ring[0] = (ent_t){ .virt_id = 0x99 };
	assert_int_equal(nest_doorbell(e->fd, q0, 1), -EIO);
	/* env_down closes the cdevs, then the iommufd with everything in
	 * it: the queues go first, in descending order (ASan: no leak). */
}

static void test_alloc_failures(void **state)
{
	struct env *e = *state;
	uint64_t gpa = guest_alloc(&e->g, P);
	uint32_t q = 0;
	int rc = -ENOMEM;

	for (unsigned long nth = 1; rc == -ENOMEM; nth++) {
		fault_inject_nth(nth);
		rc = q_alloc(e, 0, gpa, P, &q);
		fault_inject_nth(0);
		assert_true(rc == 0 || rc == -ENOMEM);
		if (rc)
			/* Nothing was left locked or busy. */
			assert_int_equal(fx_unmap(e->fd, e->ioas, GUEST_GPA,
						  GUEST_LEN, NULL),
					 0);
		if (rc)
			assert_int_equal(guest_map(&e->g, e->fd, e->ioas), 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(nest_doorbell(e->fd, q, 0), 0);
	assert_int_equal(fx_destroy(e->fd, q), 0);
	assert_int_equal(fx_destroy(e->fd, e->viommu), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_alloc_generic_errors), T(test_alloc_pin_errors),
		T(test_cmdq_rules),	      T(test_cmdq_largest),
		T(test_unmap_busy),	      T(test_ring_wraps),
		T(test_same_as_invalidate),   T(test_bad_entry_halts),
		T(test_doorbell_errors),      T(test_garbage),
		T(test_ring_in_memfd),	      T(test_trace),
		T(test_concurrent),	      T(test_close_with_queues),
		T(test_alloc_failures),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
