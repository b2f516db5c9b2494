// SPDX-License-Identifier: MIT
/*
 * The Linux ABI front end (iommufd-uapi.md §0): ioctl numbers, the size
 * rules of every iommufd ioctl (min - 1 EINVAL, a non-zero tail E2BIG, a
 * zero tail the same as the exact size, shorter structs zero-extended,
 * output clamped to the caller's size), ENOTTY / EFAULT / EBADF, and the
 * fd table.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../core/fixture.h"

struct env {
	struct fx f;
	uint32_t ioas, hwpt;
	uint8_t *mem;
	struct iommu_iova_range ranges[4];
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	uint32_t pt;

	fx_setup(&e->f, NULL, 1);
	e->ioas = fx_ioas(e->f.fd);
	e->mem = fx_alloc(16 * FX_PAGE, FX_PAGE);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				       &e->hwpt),
			 0);
	pt = e->hwpt;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	*state = e;
	return 0;
}

static int env_down(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	fx_free(e->mem, 16 * FX_PAGE);
	free(e);
	return 0;
}

static void test_ioctl_numbers(void **state)
{
	static const unsigned long want[] = {
		IOMMU_DESTROY,
		IOMMU_IOAS_ALLOC,
		IOMMU_IOAS_ALLOW_IOVAS,
		IOMMU_IOAS_COPY,
		IOMMU_IOAS_IOVA_RANGES,
		IOMMU_IOAS_MAP,
		IOMMU_IOAS_UNMAP,
		IOMMU_OPTION,
		IOMMU_VFIO_IOAS,
		IOMMU_HWPT_ALLOC,
		IOMMU_GET_HW_INFO,
		IOMMU_HWPT_SET_DIRTY_TRACKING,
		IOMMU_HWPT_GET_DIRTY_BITMAP,
		IOMMU_HWPT_INVALIDATE,
		IOMMU_FAULT_QUEUE_ALLOC,
		IOMMU_IOAS_MAP_FILE,
		IOMMU_VIOMMU_ALLOC,
		IOMMU_VDEVICE_ALLOC,
		IOMMU_IOAS_CHANGE_PROCESS,
		IOMMU_VEVENTQ_ALLOC,
		IOMMU_HW_QUEUE_ALLOC,
	};

	/* _IO(';', 0x80 + n): no size or direction bits. */
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(want[i], 0x3b80 + i);
	assert_int_equal(VFIO_GET_API_VERSION, 0x3b64);
	assert_int_equal(VFIO_CHECK_EXTENSION, 0x3b65);
	assert_int_equal(VFIO_SET_IOMMU, 0x3b66);
	assert_int_equal(VFIO_DEVICE_GET_INFO, 0x3b6b);
	assert_int_equal(VFIO_DEVICE_GET_REGION_INFO, 0x3b6c);
	assert_int_equal(VFIO_DEVICE_GET_IRQ_INFO, 0x3b6d);
	assert_int_equal(VFIO_DEVICE_RESET, 0x3b6f);
	assert_int_equal(VFIO_IOMMU_GET_INFO, 0x3b70);
	assert_int_equal(VFIO_IOMMU_MAP_DMA, 0x3b71);
	assert_int_equal(VFIO_IOMMU_UNMAP_DMA, 0x3b72);
	assert_int_equal(VFIO_DEVICE_BIND_IOMMUFD, 0x3b76);
	assert_int_equal(VFIO_DEVICE_ATTACH_IOMMUFD_PT, 0x3b77);
	assert_int_equal(VFIO_DEVICE_DETACH_IOMMUFD_PT, 0x3b78);
	assert_int_equal(IOMMU_HWPT_ALLOC_PASID, 8);
	assert_int_equal(IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, 8);
	assert_int_equal(VFIO_TYPE1_NESTING_IOMMU, 6);
}

/* ---- Size rules, table driven ---- */

struct ioc_case {
	const char *name;
	unsigned long req;
	uint32_t size, min;
	void (*fill)(struct env *e, void *buf);
	long expect; /* result with a well-formed struct */
};

static void fill_destroy(struct env *e, void *b)
{
	((struct iommu_destroy *)b)->id = 999;
}

static void fill_nothing(struct env *e, void *b)
{
}

static void fill_allow(struct env *e, void *b)
{
	((struct iommu_ioas_allow_iovas *)b)->ioas_id = e->ioas;
}

static void fill_copy(struct env *e, void *b)
{
	struct iommu_ioas_copy *c = b;

	c->flags = IOMMU_IOAS_MAP_READABLE;
	c->src_ioas_id = 999;
	c->length = FX_PAGE;
}

static void fill_ranges(struct env *e, void *b)
{
	struct iommu_ioas_iova_ranges *r = b;

	r->ioas_id = e->ioas;
	r->num_iovas = 4;
	r->allowed_iovas = (uint64_t)(uintptr_t)e->ranges;
}

static void fill_map(struct env *e, void *b)
{
	struct iommu_ioas_map *m = b;

	m->flags = IOMMU_IOAS_MAP_READABLE;
	m->ioas_id = e->ioas;
	m->user_va = (uint64_t)(uintptr_t)e->mem;
	m->length = FX_PAGE;
}

static void fill_unmap(struct env *e, void *b)
{
	struct iommu_ioas_unmap *u = b;

	u->ioas_id = e->ioas;
	u->length = UINT64_MAX;
}

static void fill_option(struct env *e, void *b)
{
	struct iommu_option *o = b;

	o->option_id = IOMMU_OPTION_HUGE_PAGES;
	o->op = IOMMU_OPTION_OP_GET;
	o->object_id = e->ioas;
}

static void fill_vfio_ioas(struct env *e, void *b)
{
	((struct iommu_vfio_ioas *)b)->op = IOMMU_VFIO_IOAS_CLEAR;
}

static void fill_hwpt(struct env *e, void *b)
{
	struct iommu_hwpt_alloc *h = b;

	h->dev_id = e->f.devid[0];
	h->pt_id = e->ioas;
}

static void fill_hw_info(struct env *e, void *b)
{
	((struct iommu_hw_info *)b)->dev_id = e->f.devid[0];
}

static void fill_set_dirty(struct env *e, void *b)
{
	((struct iommu_hwpt_set_dirty_tracking *)b)->hwpt_id = e->hwpt;
}

static void fill_get_dirty(struct env *e, void *b)
{
	((struct iommu_hwpt_get_dirty_bitmap *)b)->hwpt_id = 999;
}

static void fill_invalidate(struct env *e, void *b)
{
	((struct iommu_hwpt_invalidate *)b)->hwpt_id = 999;
}

static void fill_map_file(struct env *e, void *b)
{
	struct iommu_ioas_map_file *m = b;

	m->flags = IOMMU_IOAS_MAP_READABLE;
	m->ioas_id = e->ioas;
	m->fd = -1;
	m->length = FX_PAGE;
}

static void fill_hw_queue(struct env *e, void *b)
{
	struct iommu_hw_queue_alloc *q = b;

	q->viommu_id = 999;
	q->type = IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ;
	q->length = FX_PAGE;
}

#define CASE(r, s, last, fn, exp)                                  \
	{                                                          \
#r, r, sizeof(struct s),                           \
			(uint32_t)(offsetof(struct s, last) +      \
				   sizeof(((struct s *)0)->last)), \
			fn, exp                                    \
	}

static const struct ioc_case cases[] = {
	CASE(IOMMU_DESTROY, iommu_destroy, id, fill_destroy, -ENOENT),
	CASE(IOMMU_IOAS_ALLOC, iommu_ioas_alloc, out_ioas_id, fill_nothing, 0),
	CASE(IOMMU_IOAS_ALLOW_IOVAS, iommu_ioas_allow_iovas, allowed_iovas,
	     fill_allow, 0),
	CASE(IOMMU_IOAS_COPY, iommu_ioas_copy, src_iova, fill_copy, -ENOENT),
	CASE(IOMMU_IOAS_IOVA_RANGES, iommu_ioas_iova_ranges, out_iova_alignment,
	     fill_ranges, 0),
	CASE(IOMMU_IOAS_MAP, iommu_ioas_map, iova, fill_map, 0),
	CASE(IOMMU_IOAS_UNMAP, iommu_ioas_unmap, length, fill_unmap, 0),
	CASE(IOMMU_OPTION, iommu_option, val64, fill_option, 0),
	CASE(IOMMU_VFIO_IOAS, iommu_vfio_ioas, __reserved, fill_vfio_ioas, 0),
	CASE(IOMMU_HWPT_ALLOC, iommu_hwpt_alloc, __reserved, fill_hwpt, 0),
	CASE(IOMMU_GET_HW_INFO, iommu_hw_info, __reserved, fill_hw_info, 0),
	CASE(IOMMU_HWPT_SET_DIRTY_TRACKING, iommu_hwpt_set_dirty_tracking,
	     __reserved, fill_set_dirty, 0),
	CASE(IOMMU_HWPT_GET_DIRTY_BITMAP, iommu_hwpt_get_dirty_bitmap, data,
	     fill_get_dirty, -ENOENT),
	CASE(IOMMU_HWPT_INVALIDATE, iommu_hwpt_invalidate, __reserved,
	     fill_invalidate, -ENOENT),
	CASE(IOMMU_IOAS_MAP_FILE, iommu_ioas_map_file, iova, fill_map_file,
	     -EBADF),
	CASE(IOMMU_IOAS_CHANGE_PROCESS, iommu_ioas_change_process, __reserved,
	     fill_nothing, 0),
	CASE(IOMMU_HW_QUEUE_ALLOC, iommu_hw_queue_alloc, length, fill_hw_queue,
	     -ENOENT),
};

static long run(struct env *e, const struct ioc_case *c, uint32_t size,
		int tail_byte)
{
	uint64_t buf[16];

	memset(buf, 0, sizeof(buf));
	c->fill(e, buf);
	((uint32_t *)buf)[0] = size;
	if (tail_byte >= 0 && size > c->size)
		((uint8_t *)buf)[size - 1] = (uint8_t)tail_byte;
	return fx_ioctl(e->f.fd, c->req, buf);
}

static void test_size_rules(void **state)
{
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ioc_case *c = &cases[i];

		print_message("# %s size %u min %u\n", c->name, c->size,
			      c->min);
		assert_int_equal(run(e, c, c->size, -1), c->expect);
		assert_int_equal(run(e, c, c->min - 1, -1), -EINVAL);
		assert_int_equal(run(e, c, 0, -1), -EINVAL);
		assert_int_equal(run(e, c, c->size + 1, 1), -E2BIG);
		assert_int_equal(run(e, c, c->size + 8, 0x80), -E2BIG);
		assert_int_equal(run(e, c, c->size + 1, 0), c->expect);
		assert_int_equal(run(e, c, c->size + 64, 0), c->expect);
		/* A shorter struct (>= min) is zero-extended. */
		if (c->min < c->size)
			assert_int_equal(run(e, c, c->min, -1), c->expect);
	}
}

static void test_huge_size_tail(void **state)
{
	struct env *e = *state;
	/* A tail running into unmapped memory is EFAULT, not E2BIG. */
	uint8_t *p = mmap(NULL, 2 * FX_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iommu_destroy *d;

	assert_true(p != MAP_FAILED);
	assert_int_equal(mprotect(p + FX_PAGE, FX_PAGE, PROT_NONE), 0);
	d = (void *)(p + FX_PAGE - 16);
	memset(d, 0, 16);
	d->size = 64;
	d->id = 999;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_DESTROY, d), -EFAULT);
	/* Struct itself crossing into it. */
	d = (void *)(p + FX_PAGE - 4);
	d->size = 8;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_DESTROY, d), -EFAULT);
	/* Even the size word unreadable. */
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_DESTROY, p + FX_PAGE),
			 -EFAULT);
	munmap(p, 2 * FX_PAGE);
}

static void test_output_clamped(void **state)
{
	struct env *e = *state;
	uint8_t buf[32];
	struct iommu_ioas_alloc *a = (void *)buf;

	memset(buf, 0, sizeof(buf));
	memset(buf + 12, 0xaa, sizeof(buf) - 12);
	a->size = 12;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOC, buf), 0);
	assert_true(a->out_ioas_id != 0);
	for (size_t i = 12; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xaa);
	/* Longer with a zero tail: still only the kernel's 12 bytes. */
	memset(buf, 0, sizeof(buf));
	a->size = 20;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_ALLOC, buf), 0);
	for (size_t i = 12; i < 20; i++)
		assert_int_equal(buf[i], 0);
	/* HWPT_ALLOC at its minimum (24): out_hwpt_id (offset 16) is inside
	 * and written, nothing beyond 24 is. */
	{
		uint8_t hb[48];
		struct iommu_hwpt_alloc *h = (void *)hb;

		memset(hb, 0, sizeof(hb));
		memset(hb + 24, 0x5c, sizeof(hb) - 24);
		h->size = 24;
		h->dev_id = e->f.devid[0];
		h->pt_id = e->ioas;
		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_HWPT_ALLOC, hb), 0);
		assert_true(h->out_hwpt_id != 0);
		for (size_t i = 24; i < sizeof(hb); i++)
			assert_int_equal(hb[i], 0x5c);
	}
}

static void test_enotty(void **state)
{
	struct env *e = *state;
	struct iommu_destroy d = { .size = sizeof(d), .id = 999 };
	uint64_t big[8] = { 64 };

	/* Past the table, and before it (type1 compat handles those). */
	assert_int_equal(fx_ioctl(e->f.fd, 0x3b95, big), -ENOTTY);
	assert_int_equal(fx_ioctl(e->f.fd, 0x3ba0, big), -ENOTTY);
	assert_int_equal(fx_ioctl(e->f.fd, 0x3b10, big), -ENOTTY);
	/* Only the low 32 bits of the request count, as in the kernel. */
	assert_int_equal(fx_ioctl(e->f.fd, (1ul << 32) | IOMMU_DESTROY, &d),
			 -ENOENT);
	/* The right slot but not the full number. */
	assert_int_equal(fx_ioctl(e->f.fd, 0xc0083b80ul, &d), -ENOTTY);
	assert_int_equal(fx_ioctl(e->f.fd, 0x1280, &d), -ENOTTY);
	/* VFIO device ioctls on an iommufd. */
	assert_int_equal(fx_ioctl(e->f.fd, VFIO_DEVICE_BIND_IOMMUFD, big),
			 -ENOTTY);
}

static void test_efault_null(void **state)
{
	struct env *e = *state;

	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_DESTROY, NULL), -EFAULT);
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_MAP, NULL), -EFAULT);
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_IOAS_MAP, (void *)16),
			 -EFAULT);
}

static void test_ebadf_and_fds(void **state)
{
	struct env *e = *state;
	int nul = open("/dev/null", O_RDWR);
	char c;
	int fd, fl;

	assert_true(nul >= 0);
	assert_int_equal(ionest_ioctl(nul, IOMMU_DESTROY, NULL), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ionest_ioctl(-1, IOMMU_DESTROY, NULL), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ionest_close(nul), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ionest_read(nul, &c, 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ionest_write(nul, &c, 1), -1);
	assert_int_equal(errno, EBADF);
	close(nul);
	/* An iommufd cannot be read or written. */
	assert_int_equal(ionest_read(e->f.fd, &c, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ionest_write(e->f.fd, &c, 1), -1);
	assert_int_equal(errno, EINVAL);
	/* Real descriptors with the requested flags. */
	fd = ionest_open(e->f.m, "/dev/iommu", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	fl = fcntl(fd, F_GETFL);
	assert_true(fl >= 0 && (fl & O_NONBLOCK));
	assert_int_equal(ionest_close(fd), 0);
	assert_int_equal(ionest_close(fd), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* really closed */
	fd = ionest_open(e->f.m, "/dev/iommu", O_RDWR);
	assert_false(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* IDs are per fd. */
	assert_int_equal(fx_ioas(fd), 1);
	assert_int_equal(ionest_close(fd), 0);
	/* Unknown paths. */
	assert_int_equal(ionest_open(e->f.m, "/dev/iommu0", O_RDWR), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ionest_open(e->f.m, "/dev/vfio/devices/vfio7", O_RDWR),
			 -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(
		ionest_open(e->f.m, "/dev/vfio/devices/vfio00", O_RDWR), -1);
	assert_int_equal(
		ionest_open(e->f.m, "/dev/vfio/devices/vfio0x", O_RDWR), -1);
	assert_int_equal(ionest_open(e->f.m, "/dev/vfio/devices/vfio", O_RDWR),
			 -1);
	assert_int_equal(ionest_open(NULL, "/dev/vfio/devices/vfio0", O_RDWR),
			 -1);
	assert_int_equal(ionest_open(e->f.m, NULL, O_RDWR), -1);
	assert_int_equal(errno, EFAULT);
}

struct churn {
	struct ionest_machine *m;
	int errors;
};

static void *churn_thread(void *p)
{
	struct churn *c = p;

	for (int i = 0; i < 200; i++) {
		int fd = ionest_open(c->m, "/dev/iommu", O_RDWR);
		struct iommu_ioas_alloc a = { .size = sizeof(a) };

		if (fd < 0 || ionest_ioctl(fd, IOMMU_IOAS_ALLOC, &a) ||
		    a.out_ioas_id != 1 || ionest_close(fd))
			__atomic_add_fetch(&c->errors, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void test_fd_table_threads(void **state)
{
	struct env *e = *state;
	struct churn c = { .m = e->f.m };
	pthread_t t[4];

	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &c),
				 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(c.errors, 0);
}

/* An ioctl holds its file: closing the fd meanwhile is safe, and the
 * context goes away only after. */
struct closer {
	int fd;
	volatile int done;
};

static void *map_loop(void *p)
{
	struct closer *c = p;
	uint8_t page[64];

	for (int i = 0; i < 2000; i++) {
		struct iommu_ioas_map m = {
			.size = sizeof(m),
			.flags = IOMMU_IOAS_MAP_READABLE,
			.ioas_id = 1,
			.user_va = (uint64_t)(uintptr_t)page,
			.length = sizeof(page),
		};

		if (ionest_ioctl(c->fd, IOMMU_IOAS_MAP, &m) && errno == EBADF)
			break;
	}
	c->done = 1;
	return NULL;
}

static void test_close_during_ioctls(void **state)
{
	struct env *e = *state;
	struct closer c;
	pthread_t t;

	c.fd = ionest_open(e->f.m, "/dev/iommu", O_RDWR);
	c.done = 0;
	assert_int_equal(fx_ioas(c.fd), 1);
	assert_int_equal(pthread_create(&t, NULL, map_loop, &c), 0);
	for (int i = 0; i < 100 && !c.done; i++)
		sched_yield();
	assert_int_equal(ionest_close(c.fd), 0);
	pthread_join(t, NULL);
	assert_int_equal(c.done, 1);
}

static void test_ioctl_trace(void **state)
{
	struct env *e = *state;
	FILE *f = tmpfile();
	char line[256], want[64];
	struct iommu_destroy d = { .size = sizeof(d), .id = 999 };
	bool found = false;

	assert_non_null(f);
	ionest_trace_set_output(f, IONEST_TRACE_TEXT);
	assert_int_equal(ionest_trace_enable("uapi_ioctl"), 1);
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_DESTROY, &d), -ENOENT);
	ionest_trace_enable(NULL);
	ionest_trace_set_output(NULL, IONEST_TRACE_TEXT);
	snprintf(want, sizeof(want), "fd=%d cmd=0x3b80 ret=-2", e->f.fd);
	rewind(f);
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, want) != NULL;
	fclose(f);
	assert_true(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		cmocka_unit_test(test_ioctl_numbers),
		T(test_size_rules),
		T(test_huge_size_tail),
		T(test_output_clamped),
		T(test_enotty),
		T(test_efault_null),
		T(test_ebadf_and_fds),
		T(test_fd_table_threads),
		T(test_close_during_ioctls),
		T(test_ioctl_trace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
