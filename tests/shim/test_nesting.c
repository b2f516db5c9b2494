// SPDX-License-Identifier: MIT
/*
 * Nesting as a VMM drives it, through the preload (tests/shim/nesting.yaml:
 * a mock IOMMU, vfio0 plain, vfio1 with PRI). A guest whose RAM is mapped
 * at GPA 0x40000000 owns an x86-64 stage 1 (the mock's nested format,
 * whose types <ionest/ionest.h> defines as Linux's selftest header does);
 * the device's BAR0 engine does the DMA. Covered: NEST_PARENT HWPT,
 * vIOMMU, vDEVICE, nested HWPT, stale translations until
 * IOMMU_HWPT_INVALIDATE, a fault read from the vEVENTQ fd, the fault-queue
 * fd round trip of a page request (poll, read, answer, the device goes
 * on), and readiness of those fds staying private to a forked child. Each
 * test skips if its ioctls answer ENOTTY (a build without nesting).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ionest/ionest.h>

#include "shim_util.h"

#define GPA 0x40000000ull
#define GUEST_LEN (2ull << 20)
#define PTE_P 1ull
#define PTE_RW 2ull

/* Guest RAM and a bump allocator of its pages. */
struct guest {
	uint8_t *mem;
	uint64_t next; /* next free offset */
	uint64_t root; /* stage-1 root, a GPA */
};

static uint64_t galloc(struct guest *g)
{
	uint64_t gpa = GPA + g->next;

	g->next += PAGE;
	assert_true(g->next <= GUEST_LEN);
	return gpa;
}

static uint64_t *gva(struct guest *g, uint64_t gpa)
{
	return (uint64_t *)(g->mem + (gpa - GPA));
}

/* x86-64 4-level, 4K leaf: IOVA -> GPA. */
static void s1_map(struct guest *g, uint64_t iova, uint64_t gpa)
{
	uint64_t table = g->root;

	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = gva(g, table) + ((iova >> shift) & 511);

		if (!(*e & PTE_P))
			*e = galloc(g) | PTE_P | PTE_RW;
		table = *e & ~0xfffull;
	}
	gva(g, table)[(iova >> 12) & 511] = gpa | PTE_P | PTE_RW;
}

struct env {
	int fd, dfd, pfd; /* iommufd, vfio0, vfio1 */
	uint32_t devid, pdevid, ioas;
	struct guest g;
};

static int setup(void **state)
{
	static struct env e;

	memset(&e, 0, sizeof(e));
	e.fd = iommufd_open();
	e.ioas = ioas_alloc(e.fd);
	e.g.mem = page_alloc(GUEST_LEN);
	assert_int_equal(ioas_map(e.fd, e.ioas, e.g.mem, GUEST_LEN, GPA), 0);
	e.dfd = device_open(0, e.fd, 0, &e.devid);
	e.pfd = device_open(1, e.fd, 0, &e.pdevid);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	close(e->dfd);
	close(e->pfd);
	close(e->fd);
	page_free(e->g.mem, GUEST_LEN);
	return 0;
}

static long hwpt_alloc(int fd, uint32_t dev, uint32_t pt, uint32_t flags,
		       uint32_t type, const void *data, uint32_t len,
		       uint32_t fault, uint32_t *out)
{
	struct iommu_hwpt_alloc a = {
		.size = sizeof(a),
		.flags = flags,
		.dev_id = dev,
		.pt_id = pt,
		.data_type = type,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data,
		.fault_id = fault,
	};
	long rc = xioctl(fd, IOMMU_HWPT_ALLOC, &a);

	*out = a.out_hwpt_id;
	return rc;
}

static void attach(int dfd, uint32_t pt)
{
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at),
						    .pt_id = pt };

	assert_int_equal(xioctl(dfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at), 0);
}

static short poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	assert_true(poll(&p, 1, 0) >= 0);
	return p.revents;
}

/* Nested translation end to end, caching, invalidation, vEVENTQ. */
static void test_nested_viommu(void **state)
{
	struct env *e = *state;
	struct iommu_viommu_alloc va = { .size = sizeof(va),
					 .type = IONEST_MOCK_VIOMMU };
	struct iommu_vdevice_alloc vd = { .size = sizeof(vd), .virt_id = 0x42 };
	struct iommu_veventq_alloc vq = { .size = sizeof(vq),
					  .type = IONEST_MOCK_VEVENTQ,
					  .veventq_depth = 8 };
	struct ionest_mock_viommu_invalidate inv = {
		.virt_id = 0x42, .flags = IONEST_MOCK_INVALIDATE_ALL
	};
	struct iommu_hwpt_invalidate hi = {
		.size = sizeof(hi),
		.data_type = IONEST_MOCK_INVALIDATE_VIOMMU,
		.entry_len = sizeof(inv),
		.entry_num = 1
	};
	struct ionest_mock_hwpt_nested nd = { 0 };
	struct {
		struct iommufd_vevent_header h;
		struct ionest_mock_vevent ev;
	} rec;
	uint64_t src, dst, dst2;
	uint32_t parent, nested;
	long rc;

	rc = hwpt_alloc(e->fd, e->devid, e->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT,
			IOMMU_HWPT_DATA_NONE, NULL, 0, 0, &parent);
	if (rc == -ENOTTY || rc == -EOPNOTSUPP)
		skip(); /* no nesting in this build */
	assert_int_equal(rc, 0);
	va.dev_id = e->devid;
	va.hwpt_id = parent;
	rc = xioctl(e->fd, IOMMU_VIOMMU_ALLOC, &va);
	if (rc == -ENOTTY)
		skip();
	assert_int_equal(rc, 0);
	vd.viommu_id = va.out_viommu_id;
	vd.dev_id = e->devid;
	assert_int_equal(xioctl(e->fd, IOMMU_VDEVICE_ALLOC, &vd), 0);
	vq.viommu_id = va.out_viommu_id;
	assert_int_equal(xioctl(e->fd, IOMMU_VEVENTQ_ALLOC, &vq), 0);
	assert_true((int)vq.out_veventq_fd >= 0);

	/* The guest's stage 1: 0x1000 -> src, 0x2000 -> dst. */
	e->g.root = galloc(&e->g);
	src = galloc(&e->g);
	dst = galloc(&e->g);
	dst2 = galloc(&e->g);
	s1_map(&e->g, 0x1000, src);
	s1_map(&e->g, 0x2000, dst);
	memcpy(gva(&e->g, src), "through two stages", 19);
	nd.s1_root = e->g.root;
	assert_int_equal(hwpt_alloc(e->fd, e->devid, va.out_viommu_id, 0,
				    IONEST_MOCK_HWPT_DATA, &nd, sizeof(nd), 0,
				    &nested),
			 0);
	attach(e->dfd, nested);
	assert_int_equal(dma_copy(e->dfd, 0x1000, 0x2000, 19),
			 IONEST_DMA_ST_DONE);
	assert_string_equal((char *)gva(&e->g, dst), "through two stages");

	/* The guest moves 0x2000 without invalidating: the IOTLB still
	 * has the old translation; after the invalidation the new one. */
	s1_map(&e->g, 0x2000, dst2);
	memcpy(gva(&e->g, src), "second", 7);
	assert_int_equal(dma_copy(e->dfd, 0x1000, 0x2000, 7),
			 IONEST_DMA_ST_DONE);
	assert_string_equal((char *)gva(&e->g, dst), "second");
	assert_int_equal(*(char *)gva(&e->g, dst2), 0);
	hi.hwpt_id = va.out_viommu_id;
	hi.data_uptr = (uint64_t)(uintptr_t)&inv;
	assert_int_equal(xioctl(e->fd, IOMMU_HWPT_INVALIDATE, &hi), 0);
	assert_int_equal(hi.entry_num, 1);
	memcpy(gva(&e->g, src), "third", 6);
	assert_int_equal(dma_copy(e->dfd, 0x1000, 0x2000, 6),
			 IONEST_DMA_ST_DONE);
	assert_string_equal((char *)gva(&e->g, dst2), "third");

	/* A stage-1 fault goes to the vEVENTQ: readable, then drained. */
	assert_false(poll_now((int)vq.out_veventq_fd) & POLLIN);
	assert_int_equal(dma_copy(e->dfd, 0x1000, 0x9000, 4),
			 IONEST_DMA_ST_FAULT);
	assert_true(poll_now((int)vq.out_veventq_fd) & POLLIN);
	assert_int_equal(read((int)vq.out_veventq_fd, &rec, sizeof(rec)),
			 sizeof(rec));
	assert_int_equal(rec.ev.virt_id, 0x42);
	assert_int_equal(rec.ev.iova, 0x9000);
	assert_int_equal(rec.ev.code, IONEST_MOCK_FAULT_TRANSLATION);
	assert_false(poll_now((int)vq.out_veventq_fd) & POLLIN);
	assert_int_equal(close((int)vq.out_veventq_fd), 0);
}

/* The I/O page fault round trip through the fault-queue fd. */
static void test_fault_queue(void **state)
{
	struct env *e = *state;
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct iommu_hwpt_page_response resp = {
		.code = IOMMUFD_PAGE_RESP_SUCCESS
	};
	struct iommu_hwpt_pgfault pf;
	struct pollfd p;
	uint8_t *page = page_alloc(PAGE), *src = page_alloc(PAGE);
	uint32_t hwpt;
	int ffd, st;
	pid_t pid;
	long rc;

	rc = xioctl(e->fd, IOMMU_FAULT_QUEUE_ALLOC, &fa);
	if (rc == -ENOTTY)
		skip(); /* no fault queues in this build */
	assert_int_equal(rc, 0);
	ffd = (int)fa.out_fault_fd;
	/* Nothing pending: poll times out, read returns 0. */
	p = (struct pollfd){ .fd = ffd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 10), 0);
	assert_int_equal(read(ffd, &pf, sizeof(pf)), 0);
	assert_int_equal(read(ffd, &pf, 7), -1);
	assert_int_equal(errno, ESPIPE);

	/* A PRI device on an HWPT that takes faults; its source page is
	 * not mapped yet, so the engine stops on a page request. */
	assert_int_equal(hwpt_alloc(e->fd, e->pdevid, e->ioas,
				    IOMMU_HWPT_FAULT_ID_VALID,
				    IOMMU_HWPT_DATA_NONE, NULL, 0,
				    fa.out_fault_id, &hwpt),
			 0);
	attach(e->pfd, hwpt);
	assert_int_equal(ioas_map(e->fd, e->ioas, page, PAGE, 0x7000000), 0);
	memcpy(src + 0x10, "paged in", 9);
	assert_int_equal(dma_copy(e->pfd, 0x6000010, 0x7000000, 9),
			 IONEST_DMA_ST_PAGE_REQ);
	assert_true(bar_r32(e->pfd, IONEST_DMA_PRQ_STATUS) &
		    IONEST_DMA_PRQ_WAITING);
	p.revents = 0;
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_true(p.revents & POLLIN);
	/* select and epoll see the same readiness. */
	{
		struct epoll_event ev = { .events = EPOLLIN }, got;
		struct timeval tv = { 0 };
		int ep = epoll_create1(EPOLL_CLOEXEC);
		fd_set rs;

		FD_ZERO(&rs);
		FD_SET(ffd, &rs);
		assert_int_equal(select(ffd + 1, &rs, NULL, NULL, &tv), 1);
		assert_true(FD_ISSET(ffd, &rs));
		assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, ffd, &ev), 0);
		assert_int_equal(epoll_wait(ep, &got, 1, 0), 1);
		assert_true(got.events & EPOLLIN);
		close(ep);
	}

	/* A forked child drains its copy of the queue: the parent's fd
	 * stays readable (readiness is not shared). */
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct iommu_hwpt_pgfault c;
		struct pollfd cp = { .fd = ffd, .events = POLLIN };

		if (read(ffd, &c, sizeof(c)) != sizeof(c))
			_exit(1);
		_exit(poll(&cp, 1, 0) == 0 ? 0 : 2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(poll_now(ffd) & POLLIN);

	/* Read the request, make the page present, answer. */
	assert_int_equal(read(ffd, &pf, sizeof(pf)), sizeof(pf));
	assert_int_equal(pf.dev_id, e->pdevid);
	assert_int_equal(pf.addr, 0x6000000);
	assert_false(poll_now(ffd) & POLLIN);
	assert_int_equal(ioas_map(e->fd, e->ioas, src, PAGE, 0x6000000), 0);
	resp.cookie = pf.cookie;
	assert_int_equal(write(ffd, &resp, sizeof(resp)), sizeof(resp));
	/* An answered cookie is gone. */
	assert_int_equal(write(ffd, &resp, sizeof(resp)), -1);
	assert_int_equal(errno, EINVAL);
	/* The device goes on from where it stopped. */
	bar_w32(e->pfd, IONEST_DMA_DOORBELL, IONEST_DMA_RESUME);
	assert_int_equal(bar_r32(e->pfd, IONEST_DMA_STATUS),
			 IONEST_DMA_ST_DONE);
	assert_string_equal((char *)page, "paged in");
	close(ffd);
	assert_int_equal(read(ffd, &pf, sizeof(pf)), -1);
	assert_int_equal(errno, EBADF);
	page_free(page, PAGE);
	page_free(src, PAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_nested_viommu, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fault_queue, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
