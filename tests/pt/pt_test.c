// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <string.h>

#include "pt_test.h"

static void *g_table(void *ctx, uint64_t pa, size_t size, bool write)
{
	struct guest *g = ctx;

	g->table_calls++;
	if (g->deny_pa && pa <= g->deny_pa && g->deny_pa < pa + size &&
	    (!g->deny_write || write))
		return NULL;
	if (pa < GUEST_BASE || pa - GUEST_BASE > g->arena.size ||
	    size > g->arena.size - (pa - GUEST_BASE))
		return NULL;
	return g->arena.base + (pa - GUEST_BASE);
}

static int g_alloc(void *ctx, size_t size, uint64_t *pa)
{
	struct guest *g = ctx;
	unsigned i;
	void *p;

	if (g->fail_alloc)
		return -12;
	g->allocs++;
	/* reuse a freed block of the same size, zeroed */
	for (i = 0; i < g->nfree; i++) {
		if (g->free_size[i] == size) {
			*pa = g->free_pa[i];
			g->nfree--;
			g->free_pa[i] = g->free_pa[g->nfree];
			g->free_size[i] = g->free_size[g->nfree];
			memset(guest_ptr(g, *pa), 0, size);
			return 0;
		}
	}
	p = test_arena_alloc(&g->arena, size, size);
	*pa = GUEST_BASE + (uint64_t)((uint8_t *)p - g->arena.base);
	return 0;
}

static void g_free(void *ctx, uint64_t pa, size_t size)
{
	struct guest *g = ctx;

	g->frees++;
	if (g->nfree < GUEST_MAX_FREE) {
		g->free_pa[g->nfree] = pa;
		g->free_size[g->nfree] = size;
		g->nfree++;
	}
}

static const struct pt_mem_ops guest_ops = {
	.table = g_table,
	.alloc = g_alloc,
	.free = g_free,
};

void guest_init(struct guest *g, size_t size)
{
	memset(g, 0, sizeof(*g));
	test_arena_init(&g->arena, size);
}

void guest_fini(struct guest *g)
{
	test_arena_fini(&g->arena);
}

struct pt_mem guest_mem(struct guest *g)
{
	return (struct pt_mem){ .ops = &guest_ops, .ctx = g };
}

void *guest_ptr(struct guest *g, uint64_t gpa)
{
	return g->arena.base + (gpa - GUEST_BASE);
}

struct pt_cfg pt_cfg_make(enum pt_format fmt, unsigned g, unsigned ias,
			  unsigned oas, int start_level, uint32_t flags)
{
	struct pt_cfg c = {
		.fmt = fmt,
		.granule_shift = (uint8_t)g,
		.ias = (uint8_t)ias,
		.oas = (uint8_t)oas,
		.start_level = (int8_t)start_level,
		.flags = flags,
	};

	return c;
}

#define C(n, f, g, i, o, s, fl)                                           \
	{                                                                 \
		n,                                                        \
		{                                                         \
			.fmt = f, .granule_shift = g, .ias = i, .oas = o, \
			.start_level = s, .flags = fl                     \
		}                                                         \
	}
const struct pt_case pt_cases[] = {
	C("s1-4k-48", PT_FMT_ARM_S1, 12, 48, 48, -1, 0),
	C("s1-4k-39", PT_FMT_ARM_S1, 12, 39, 44, -1, 0),
	C("s1-4k-32", PT_FMT_ARM_S1, 12, 32, 40, -1, 0),
	C("s1-16k-48", PT_FMT_ARM_S1, 14, 48, 48, -1, 0),
	C("s1-16k-36", PT_FMT_ARM_S1, 14, 36, 48, -1, 0),
	C("s1-64k-48", PT_FMT_ARM_S1, 16, 48, 48, -1, 0),
	C("s1-64k-52", PT_FMT_ARM_S1, 16, 52, 52, -1, 0),
	C("s1-64k-42", PT_FMT_ARM_S1, 16, 42, 48, -1, 0),
	C("s1-64k-28-1lvl", PT_FMT_ARM_S1, 16, 28, 48, -1, 0),
	C("s2-4k-48", PT_FMT_ARM_S2, 12, 48, 48, -1, 0),
	C("s2-4k-40-concat2", PT_FMT_ARM_S2, 12, 40, 48, -1, 0),
	C("s2-4k-42-concat8", PT_FMT_ARM_S2, 12, 42, 44, 2, 0),
	C("s2-4k-34-concat16", PT_FMT_ARM_S2, 12, 34, 40, 1, 0),
	C("s2-16k-48-concat2", PT_FMT_ARM_S2, 14, 48, 48, -1, 0),
	C("s2-16k-40", PT_FMT_ARM_S2, 14, 40, 48, -1, 0),
	C("s2-16k-28-l3-concat8", PT_FMT_ARM_S2, 14, 28, 48, 0, 0),
	C("s2-64k-48", PT_FMT_ARM_S2, 16, 48, 48, -1, 0),
	C("s2-64k-46-concat16", PT_FMT_ARM_S2, 16, 46, 48, 1, 0),
	C("x86-4lvl", PT_FMT_X86_64, 12, 48, 46, -1, 0),
	C("x86-5lvl", PT_FMT_X86_64, 12, 57, 52, -1, 0),
	C("ss-3lvl", PT_FMT_VTD_SS, 12, 39, 39, -1, 0),
	C("ss-4lvl", PT_FMT_VTD_SS, 12, 48, 46, -1, PT_CFG_AD),
	C("ss-5lvl", PT_FMT_VTD_SS, 12, 57, 52, -1, 0),
};
const unsigned pt_ncases = sizeof(pt_cases) / sizeof(pt_cases[0]);

static int dump_fn(void *ctx, uint64_t iova, uint64_t pa, uint64_t size,
		   uint32_t perm)
{
	struct pt_dump *d = ctx;

	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->e = realloc(d->e, d->cap * sizeof(*d->e));
		assert_non_null(d->e);
	}
	d->e[d->n][0] = iova;
	d->e[d->n][1] = pa;
	d->e[d->n][2] = size;
	d->e[d->n][3] = perm;
	d->n++;
	return 0;
}

void pt_dump_take(const struct pt *pt, struct pt_dump *d)
{
	memset(d, 0, sizeof(*d));
	assert_int_equal(pt_for_each(pt, 0, ~0ull, dump_fn, d), 0);
}

bool pt_dump_equal(const struct pt_dump *a, const struct pt_dump *b)
{
	return a->n == b->n &&
	       (!a->n || !memcmp(a->e, b->e, a->n * sizeof(*a->e)));
}

void pt_dump_free(struct pt_dump *d)
{
	free(d->e);
	memset(d, 0, sizeof(*d));
}

size_t pool_in_use(void)
{
	size_t u;

	pt_pool_usage(&u, NULL);
	return u;
}
