// SPDX-License-Identifier: MIT
/*
 * scenario/guest: guest RAM and its bump allocator, stage-1 tables written
 * in guest RAM in the real formats (checked by walking the RAM by hand,
 * not through lib/pt), SMMUv3 CDs and STE words, VT-d stage-1 data, and
 * the RAM mapped into an IOAS reaching a device's DMA.
 */
#include <errno.h>
#include <string.h>

#include "core/fixture.h"
#include "scenario/guest.h"
#include "util/alloc.h"

#define GPA 0x40000000ull
#define LEN (64 * VM_PAGE)

static void test_vm_init_errors(void **state)
{
	struct vm vm;

	(void)state;
	assert_int_equal(vm_init(&vm, "x", GPA, 0), -EINVAL);
	assert_null(vm.mem);
	assert_int_equal(vm_init(&vm, "x", GPA, 100), -EINVAL);
	assert_int_equal(vm_init(&vm, "x", GPA + 8, LEN), -EINVAL);
	assert_int_equal(vm_init(&vm, "x", 0xfffffffffffff000ull, 2 * VM_PAGE),
			 -EINVAL);
	assert_int_equal(vm_init(&vm, "a-name-too-long-", GPA, LEN), -EINVAL);
	fault_inject_nth(1);
	assert_int_equal(vm_init(&vm, "x", GPA, LEN), -ENOMEM);
	fault_inject_nth(0);
	assert_null(vm.mem);
	vm_fini(&vm); /* harmless on a failed init */
	assert_int_equal(vm_init(&vm, NULL, GPA, LEN), 0);
	assert_string_equal(vm.name, "");
	vm_fini(&vm);
	vm_fini(&vm);
}

static void test_vm_alloc_and_ptr(void **state)
{
	struct vm vm;
	uint64_t a, b, c;
	uint8_t *p;

	(void)state;
	assert_int_equal(vm_init(&vm, "vm1", GPA, LEN), 0);
	assert_string_equal(vm.name, "vm1");
	for (size_t i = 0; i < LEN; i++)
		assert_int_equal(vm.mem[i], 0);
	assert_int_equal(vm_alloc(&vm, 0, &a), -EINVAL);
	assert_int_equal(vm_alloc(&vm, 1, &a), 0);
	assert_int_equal(a, GPA);
	/* Rounded up to pages, zeroed even if written before. */
	vm.mem[VM_PAGE + 5] = 0xee;
	assert_int_equal(vm_alloc(&vm, VM_PAGE + 1, &b), 0);
	assert_int_equal(b, GPA + VM_PAGE);
	assert_int_equal(vm.mem[VM_PAGE + 5], 0);
	assert_int_equal(vm_alloc(&vm, VM_PAGE, &c), 0);
	assert_int_equal(c, GPA + 3 * VM_PAGE);
	/* Exhaustion. */
	assert_int_equal(vm_alloc(&vm, LEN, &a), -ENOMEM);
	assert_int_equal(vm_alloc(&vm, SIZE_MAX, &a), -ENOMEM);
	assert_int_equal(vm_alloc(&vm, LEN - 4 * VM_PAGE, &a), 0);
	assert_int_equal(vm_alloc(&vm, 1, &a), -ENOMEM);
	/* Pointers: inside only, to the last byte. */
	p = vm_ptr(&vm, GPA + 10, 4);
	assert_ptr_equal(p, vm.mem + 10);
	assert_ptr_equal(vm_ptr(&vm, GPA + LEN - 1, 1), vm.mem + LEN - 1);
	assert_ptr_equal(vm_ptr(&vm, GPA + LEN, 0), vm.mem + LEN);
	assert_null(vm_ptr(&vm, GPA + LEN - 1, 2));
	assert_null(vm_ptr(&vm, GPA + LEN, 1));
	assert_null(vm_ptr(&vm, GPA - 1, 1));
	assert_null(vm_ptr(&vm, GPA + 8, UINT64_MAX));
	assert_true(vm_contains(&vm, GPA, LEN));
	assert_false(vm_contains(&vm, GPA, LEN + 1));
	vm_fini(&vm);
	assert_false(vm_contains(&vm, GPA, 1));
}

static void test_vm_view(void **state)
{
	struct vm vm, v;
	uint64_t g;

	(void)state;
	assert_int_equal(vm_init(&vm, "vm", GPA, LEN), 0);
	assert_int_equal(vm_view(&v, &vm, 8, VM_PAGE), -EINVAL);
	assert_int_equal(vm_view(&v, &vm, 0, LEN + VM_PAGE), -EINVAL);
	assert_int_equal(vm_view(&v, &vm, LEN, VM_PAGE), -EINVAL);
	assert_int_equal(vm_view(&v, &vm, 0, 0), -EINVAL);
	assert_int_equal(vm_view(&v, &vm, 32 * VM_PAGE, 32 * VM_PAGE), 0);
	assert_true(v.borrowed);
	assert_int_equal(vm_alloc(&v, 1, &g), 0);
	assert_int_equal(g, GPA + 32 * VM_PAGE);
	*(uint8_t *)vm_ptr(&v, g, 1) = 0x42;
	assert_int_equal(vm.mem[32 * VM_PAGE], 0x42);
	assert_null(vm_ptr(&v, GPA, 1));
	vm_fini(&v); /* frees nothing (ASan would see a double free) */
	vm_fini(&vm);
}

/*
 * Walk a 4-level, 4K, 48-bit table in guest RAM by hand. ARM: valid =
 * bits[1:0] == 0b11 (table or page); x86: P (bit 0). The next table / the
 * page is bits [47:12] of the entry.
 */
static int hand_walk(const struct vm *vm, bool arm, uint64_t root,
		     uint64_t iova, uint64_t *gpa, uint64_t *leaf)
{
	uint64_t table = root, e = 0;

	for (int lvl = 3; lvl >= 0; lvl--) {
		unsigned idx = (unsigned)(iova >> (12 + 9 * lvl)) & 511;
		const uint64_t *t = vm_ptr(vm, table, VM_PAGE);

		if (!t)
			return -EFAULT;
		e = t[idx];
		if (arm ? (e & 3) != 3 : !(e & 1))
			return -ENOENT;
		table = e & 0x0000fffffffff000ull;
	}
	*gpa = table | (iova & 0xfff);
	*leaf = e;
	return 0;
}

static void check_s1(enum vm_s1_format fmt)
{
	const bool arm = fmt == VM_S1_ARM64_4K;
	const uint64_t iova = 0x7f1234567000ull;
	struct vm vm;
	struct pt s1;
	uint64_t data, gpa, leaf, before;
	uint32_t perm;

	assert_int_equal(vm_init(&vm, "vm", GPA, LEN), 0);
	assert_int_equal(vm_s1_init(&s1, &vm, fmt), 0);
	assert_true(vm_contains(&vm, s1.root, VM_PAGE));
	assert_int_equal(vm_alloc(&vm, 2 * VM_PAGE, &data), 0);
	assert_int_equal(vm_s1_lookup(&s1, iova, &gpa, &perm), -ENOENT);
	assert_int_equal(vm_s1_map(&s1, iova, data, VM_PAGE, PT_PROT_WRITE), 0);
	assert_int_equal(
		vm_s1_map(&s1, iova + VM_PAGE, data + VM_PAGE, VM_PAGE, 0), 0);
	assert_int_equal(vm_s1_map(&s1, iova, data, VM_PAGE, 0), -EEXIST);
	assert_int_equal(vm_s1_map(&s1, iova + 8, data, VM_PAGE, 0), -EINVAL);
	/* The tables are in guest RAM in the architecture's format. */
	assert_int_equal(
		hand_walk(&vm, arm, s1.root, iova + 0x123, &gpa, &leaf), 0);
	assert_int_equal(gpa, data + 0x123);
	if (arm) {
		/* AP[2] clear (writable), AF set, nG set (ASID-tagged). */
		assert_false(leaf & (1ull << 7));
		assert_true(leaf & (1ull << 10));
		assert_true(leaf & (1ull << 11));
	} else {
		assert_true(leaf & 2); /* R/W */
	}
	assert_int_equal(
		hand_walk(&vm, arm, s1.root, iova + VM_PAGE, &gpa, &leaf), 0);
	assert_int_equal(gpa, data + VM_PAGE);
	if (arm)
		assert_true(leaf & (1ull << 7)); /* read-only */
	else
		assert_false(leaf & 2);
	assert_int_equal(vm_s1_lookup(&s1, iova + 5, &gpa, &perm), 0);
	assert_int_equal(gpa, data + 5);
	assert_true(perm & PT_PERM_W);
	assert_int_equal(vm_s1_lookup(&s1, iova + VM_PAGE, NULL, &perm), 0);
	assert_false(perm & PT_PERM_W);
	/* Unmap: gone from the RAM, twice is ENOENT. */
	assert_int_equal(vm_s1_unmap(&s1, iova, VM_PAGE), 0);
	assert_int_equal(hand_walk(&vm, arm, s1.root, iova, &gpa, &leaf),
			 -ENOENT);
	assert_int_equal(vm_s1_unmap(&s1, iova, VM_PAGE), -ENOENT);
	assert_int_equal(vm_s1_lookup(&s1, iova, NULL, NULL), -ENOENT);
	/* Broken tables: a table pointer outside RAM. */
	{
		uint64_t *root = vm_ptr(&vm, s1.root, VM_PAGE);
		unsigned idx = (unsigned)(iova >> 39) & 511;

		before = root[idx];
		root[idx] = (before & 0xfff) | 0x7000000000ull;
		assert_int_equal(vm_s1_lookup(&s1, iova + VM_PAGE, NULL, NULL),
				 -EFAULT);
		root[idx] = before;
	}
	/* Out of RAM for tables: -ENOMEM, nothing mapped. */
	vm.used = vm.len;
	assert_int_equal(vm_s1_map(&s1, 0x1000000000ull, data, VM_PAGE, 0),
			 -ENOMEM);
	assert_int_equal(vm_s1_lookup(&s1, 0x1000000000ull, NULL, NULL),
			 -ENOENT);
	vm_s1_fini(&s1);
	vm_fini(&vm);
}

static void test_s1_arm(void **state)
{
	(void)state;
	check_s1(VM_S1_ARM64_4K);
}

static void test_s1_x86(void **state)
{
	(void)state;
	check_s1(VM_S1_X86_64_4L);
}

static void test_s1_bad_format(void **state)
{
	struct vm vm;
	struct pt s1;

	(void)state;
	assert_int_equal(vm_init(&vm, "vm", GPA, LEN), 0);
	assert_int_equal(vm_s1_init(&s1, &vm, (enum vm_s1_format)7), -EINVAL);
	vm_s1_fini(&s1); /* harmless after a failed init */
	/* No RAM left for the root. */
	vm.used = vm.len;
	assert_int_not_equal(vm_s1_init(&s1, &vm, VM_S1_X86_64_4L), 0);
	vm_fini(&vm);
}

static void test_cd_and_ste(void **state)
{
	struct vm vm;
	struct vm_cdtab t;
	struct pt s1, x86;
	uint64_t ste[2], *cd;

	(void)state;
	assert_int_equal(vm_init(&vm, "vm", GPA, LEN), 0);
	assert_int_equal(vm_cdtab_init(&t, &vm, 11), -EINVAL);
	assert_int_equal(vm_cdtab_init(&t, &vm, 3), 0);
	assert_true(vm_contains(&vm, t.gpa, 8 * 64));
	assert_int_equal(t.gpa & 63, 0);
	assert_int_equal(vm_s1_init(&s1, &vm, VM_S1_ARM64_4K), 0);
	assert_int_equal(vm_s1_init(&x86, &vm, VM_S1_X86_64_4L), 0);
	assert_int_equal(vm_cd_gpa(&t, 2), t.gpa + 128);
	assert_int_equal(vm_cd_gpa(&t, 8), 0);
	assert_int_equal(vm_cd_write(&t, 8, &s1, 5), -EINVAL);
	assert_int_equal(vm_cd_write(&t, 2, &x86, 5), -EINVAL);
	assert_int_equal(vm_cd_write(&t, 2, &s1, 0x1234), 0);
	cd = vm_ptr(&vm, vm_cd_gpa(&t, 2), 64);
	assert_int_equal(cd[0] & 0x3f, 16); /* T0SZ */
	assert_int_equal((cd[0] >> 6) & 3, 0); /* TG0 4K */
	assert_true(cd[0] & (1ull << 31)); /* V */
	assert_true(cd[0] & (1ull << 30)); /* EPD1 */
	assert_int_equal((cd[0] >> 32) & 7, 5); /* IPS 48 bits */
	assert_true(cd[0] & (1ull << 41)); /* AA64 */
	assert_true(cd[0] & (1ull << 45)); /* R */
	assert_true(cd[0] & (1ull << 46)); /* A */
	assert_int_equal(cd[0] >> 48, 0x1234);
	assert_int_equal(cd[1], s1.root);
	/* Neighbours untouched. */
	assert_int_equal(((uint64_t *)vm_ptr(&vm, vm_cd_gpa(&t, 1), 64))[0], 0);
	assert_int_equal(((uint64_t *)vm_ptr(&vm, vm_cd_gpa(&t, 3), 64))[0], 0);
	assert_int_equal(vm_cd_clear(&t, 8), -EINVAL);
	assert_int_equal(vm_cd_clear(&t, 2), 0);
	assert_false(cd[0] & (1ull << 31));
	assert_int_equal(cd[0] >> 48, 0x1234);
	/* STE words. */
	vm_cdtab_ste(&t, VM_S1DSS_BYPASS, ste);
	assert_int_equal(ste[0] & 1, 1);
	assert_int_equal((ste[0] >> 1) & 7, 5);
	assert_int_equal((ste[0] >> 4) & 3, 0);
	assert_int_equal(ste[0] & 0x000fffffffffffc0ull, t.gpa);
	assert_int_equal(ste[0] >> 59, 3);
	assert_int_equal(ste[1] & 3, VM_S1DSS_BYPASS);
	vm_cdtab_ste(&t, VM_S1DSS_TERMINATE, ste);
	assert_int_equal(ste[1] & 3, 0);
	vm_s1_fini(&s1);
	vm_s1_fini(&x86);
	vm_fini(&vm);
}

static void test_vtd_data(void **state)
{
	struct vm vm;
	struct pt s1, arm;
	struct iommu_hwpt_vtd_s1 d;

	(void)state;
	assert_int_equal(vm_init(&vm, "vm", GPA, LEN), 0);
	assert_int_equal(vm_s1_init(&s1, &vm, VM_S1_X86_64_4L), 0);
	assert_int_equal(vm_s1_init(&arm, &vm, VM_S1_ARM64_4K), 0);
	memset(&d, 0xff, sizeof(d));
	assert_int_equal(vm_vtd_s1_data(&s1, &d), 0);
	assert_int_equal(d.pgtbl_addr, s1.root);
	assert_int_equal(d.addr_width, 48);
	assert_int_equal(d.flags, 0);
	assert_int_equal(d.__reserved, 0);
	assert_int_equal(vm_vtd_s1_data(&arm, &d), -EINVAL);
	vm_s1_fini(&s1);
	vm_s1_fini(&arm);
	vm_fini(&vm);
}

/* The RAM mapped at its GPA: a device attached to the IOAS writes it. */
static void test_ioas_map_dma(void **state)
{
	struct fx f;
	struct vm vm;
	uint32_t ioas, pt;
	uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	(void)state;
	fx_setup(&f, NULL, 1);
	assert_int_equal(vm_init(&vm, "vm", GPA, LEN), 0);
	ioas = fx_ioas(f.fd);
	assert_int_equal(vm_ioas_map(&vm, f.fd, ioas), 0);
	/* Twice: the range is taken. */
	assert_int_equal(vm_ioas_map(&vm, f.fd, ioas), -EEXIST);
	assert_int_equal(vm_ioas_map(&vm, f.fd, ioas + 100), -ENOENT);
	assert_int_equal(fx_bind(&f, 0), 0);
	pt = ioas;
	assert_int_equal(fx_attach(&f, 0, &pt), 0);
	assert_int_equal(fx_dma_write(&f, 0, IONEST_NO_PASID,
				      GPA + 5 * VM_PAGE + 3, buf, sizeof(buf)),
			 0);
	assert_memory_equal(vm.mem + 5 * VM_PAGE + 3, buf, sizeof(buf));
	assert_int_not_equal(
		fx_dma_write(&f, 0, IONEST_NO_PASID, GPA + LEN, buf, 1), 0);
	assert_int_equal(fx_detach(&f, 0), 0);
	fx_teardown(&f);
	vm_fini(&vm);
	/* A VM without RAM cannot be mapped. */
	assert_int_equal(vm_ioas_map(&vm, 0, 1), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_init_errors),
		cmocka_unit_test(test_vm_alloc_and_ptr),
		cmocka_unit_test(test_vm_view),
		cmocka_unit_test(test_s1_arm),
		cmocka_unit_test(test_s1_x86),
		cmocka_unit_test(test_s1_bad_format),
		cmocka_unit_test(test_cd_and_ste),
		cmocka_unit_test(test_vtd_data),
		cmocka_unit_test(test_ioas_map_dma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
