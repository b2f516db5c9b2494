// SPDX-License-Identifier: MIT
/*
 * vEVENTQs on the mock (iommufd-uapi.md §8): VEVENTQ_ALLOC's size and errno
 * rules, the fd's read rules (whole records of header + payload, EINVAL
 * for a buffer that holds no header or not the next event, 0 when empty),
 * sequence numbers (wrapping at INT_MAX), overflow with one LOST_EVENTS
 * mark, poll readiness and lifetime. Events come from real faults: DMA
 * through a nested HWPT made on the mock vIOMMU, by a device with a
 * vDEVICE there. Expected results were checked against Linux 7.3's
 * selftest mock with linux-ref (same sequences for the same pattern).
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/core.h"
#include "nest_util.h"

#define IOVA 0x100000ull
#define VIRT_ID 0x10u
#define REC                                     \
	(sizeof(struct iommufd_vevent_header) + \
	 sizeof(struct ionest_mock_vevent))

struct env {
	struct fx f;
	struct guest g;
	uint32_t ioas, parent, viommu, nested;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	uint32_t pt;

	fx_setup(&e->f, NULL, 2);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_bind(&e->f, 1), 0);
	e->ioas = fx_ioas(e->f.fd);
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	assert_int_equal(guest_map(&e->g, e->f.fd, e->ioas), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       &e->parent),
			 0);
	assert_int_equal(nest_viommu_alloc(e->f.fd, e->f.devid[0], e->parent,
					   IONEST_MOCK_VIOMMU, &e->viommu),
			 0);
	assert_int_equal(nest_vdevice_alloc(e->f.fd, e->viommu, e->f.devid[0],
					    VIRT_ID, NULL),
			 0);
	/* An empty stage 1: every DMA faults. */
	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], e->viommu, 0,
					  guest_s1_init(&e->g), 0, 0,
					  &e->nested),
			 0);
	pt = e->nested;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
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

/* One fault of device 0, hence one vEVENT. */
static void fault(struct env *e, uint64_t iova)
{
	uint8_t b;

	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, iova, &b, 1),
			 -EFAULT);
}

static int queue(struct env *e, uint32_t depth, uint32_t *id)
{
	int qfd = -1;

	assert_int_equal(nest_veventq_alloc(e->f.fd, e->viommu,
					    IONEST_MOCK_VEVENTQ, depth, id,
					    &qfd),
			 0);
	return qfd;
}

static long rd(int qfd, void *buf, size_t n)
{
	ssize_t r = ionest_read(qfd, buf, n);

	return r < 0 ? -errno : r;
}

struct rec {
	struct iommufd_vevent_header h;
	struct ionest_mock_vevent ev;
};

/* Split a read into records; returns how many. */
static unsigned parse(const uint8_t *buf, long n, struct rec *out, unsigned max)
{
	unsigned k = 0;
	long o = 0;

	while (o < n) {
		assert_true(k < max);
		memset(&out[k], 0, sizeof(out[k]));
		memcpy(&out[k].h, buf + o, sizeof(out[k].h));
		o += sizeof(out[k].h);
		if (!(out[k].h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)) {
			memcpy(&out[k].ev, buf + o, sizeof(out[k].ev));
			o += sizeof(out[k].ev);
		}
		k++;
	}
	assert_int_equal(o, n);
	return k;
}

/* ---- VEVENTQ_ALLOC ---- */

static void test_size_rules(void **state)
{
	struct env *e = *state;
	uint8_t buf[64];
	struct iommu_veventq_alloc *c = (void *)buf;

	/* 32 bytes, minimum 28 (out_veventq_fd). */
	for (int round = 0; round < 5; round++) {
		static const struct {
			uint32_t size;
			int tail;
			long want;
		} r[] = {
			{ 27, -1, -EINVAL }, { 33, 1, -E2BIG }, { 33, 0, 0 },
			{ 32, -1, 0 },	     { 28, -1, 0 },
		};

		memset(buf, 0, sizeof(buf));
		c->size = r[round].size;
		c->viommu_id = e->viommu;
		c->type = IONEST_MOCK_VEVENTQ;
		c->veventq_depth = 4;
		if (r[round].tail >= 0)
			buf[r[round].size - 1] = (uint8_t)r[round].tail;
		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_VEVENTQ_ALLOC, buf),
				 r[round].want);
		if (!r[round].want) {
			assert_int_equal(ionest_close((int)c->out_veventq_fd),
					 0);
			assert_int_equal(fx_destroy(e->f.fd, c->out_veventq_id),
					 0);
		}
	}
}

static void test_alloc_errors(void **state)
{
	struct env *e = *state;
	struct iommu_veventq_alloc c;
	uint32_t id, id2;
	int qfd, qfd2;

#define Q(flags_, rsv, viommu_, type_, depth_, err)                          \
	do {                                                                 \
		memset(&c, 0, sizeof(c));                                    \
		c.size = sizeof(c);                                          \
		c.flags = (flags_);                                          \
		c.__reserved = (rsv);                                        \
		c.viommu_id = (viommu_);                                     \
		c.type = (type_);                                            \
		c.veventq_depth = (depth_);                                  \
		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_VEVENTQ_ALLOC, &c), \
				 (err));                                     \
	} while (0)
	Q(1, 0, e->viommu, IONEST_MOCK_VEVENTQ, 4, -EOPNOTSUPP);
	Q(0, 1, e->viommu, IONEST_MOCK_VEVENTQ, 4, -EOPNOTSUPP);
	Q(0, 0, e->viommu, IOMMU_VEVENTQ_TYPE_DEFAULT, 4, -EOPNOTSUPP);
	Q(0, 0, e->viommu, IONEST_MOCK_VEVENTQ, 0, -EINVAL);
	Q(0, 0, e->viommu, IONEST_MOCK_VEVENTQ, (1u << 19) + 1, -EINVAL);
	Q(0, 0, 999, IONEST_MOCK_VEVENTQ, 4, -ENOENT);
	Q(0, 0, e->parent, IONEST_MOCK_VEVENTQ, 4, -ENOENT);
#undef Q
	/* The largest depth is fine; one queue per type. */
	assert_int_equal(nest_veventq_alloc(e->f.fd, e->viommu,
					    IONEST_MOCK_VEVENTQ, 1u << 19, &id,
					    &qfd),
			 0);
	assert_non_null(nest_object(e->f.fd, id, IOMMUFD_OBJ_VEVENTQ));
	assert_int_equal(nest_veventq_alloc(e->f.fd, e->viommu,
					    IONEST_MOCK_VEVENTQ, 4, NULL, NULL),
			 -EEXIST);
	/* Another type is another queue (nothing reports to it). */
	assert_int_equal(nest_veventq_alloc(e->f.fd, e->viommu,
					    IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 4,
					    &id2, &qfd2),
			 0);
	/* The fd holds the queue; the queue holds the vIOMMU. */
	assert_int_equal(fx_destroy(e->f.fd, id), -EBUSY);
	assert_int_equal(ionest_close(qfd), 0);
	assert_int_equal(ionest_close(qfd2), 0);
	assert_int_equal(fx_destroy(e->f.fd, e->viommu), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, id), 0);
	assert_int_equal(fx_destroy(e->f.fd, id2), 0);
	/* The fd is gone with its close. */
	assert_int_equal(rd(qfd, &c, sizeof(c)), -EBADF);
}

/* ---- Reading ---- */

static void test_read_rules(void **state)
{
	struct env *e = *state;
	uint8_t buf[4 * REC];
	struct rec r[4];
	struct ionest_dma_fault lf;
	uint32_t id;
	int qfd = queue(e, 8, &id);

	/* Nothing pending: 0, but a buffer below a header is EINVAL. */
	assert_int_equal(rd(qfd, buf, sizeof(buf)), 0);
	assert_int_equal(rd(qfd, buf, 0), -EINVAL);
	assert_int_equal(rd(qfd, buf, 7), -EINVAL);
	/* Not writable. */
	assert_int_equal(ionest_write(qfd, buf, 8), -1);
	assert_int_equal(errno, EINVAL);

	fault(e, IOVA + 0x123);
	assert_int_equal(ionest_device_last_fault(e->f.m, e->f.dev[0], &lf), 0);
	assert_true(lf.recorded);
	/* A header alone or any buffer short of the whole event: EINVAL,
	 * and the event stays. */
	assert_int_equal(rd(qfd, buf, 8), -EINVAL);
	assert_int_equal(rd(qfd, buf, REC - 1), -EINVAL);
	assert_int_equal(rd(qfd, buf, REC), REC);
	assert_int_equal(parse(buf, REC, r, 4), 1);
	assert_int_equal(r[0].h.flags, 0);
	assert_int_equal(r[0].h.sequence, 0);
	assert_int_equal(r[0].ev.virt_id, VIRT_ID);
	assert_int_equal(r[0].ev.iova, IOVA + 0x123);
	assert_int_equal(r[0].ev.fault_addr, IOVA + 0x123);
	assert_int_equal(r[0].ev.pasid, IONEST_NO_PASID);
	assert_int_equal(r[0].ev.code, IONEST_MOCK_FAULT_TRANSLATION);
	assert_int_equal(r[0].ev.flags, 0);
	assert_int_equal(r[0].ev.access, IONEST_ACCESS_READ);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), 0);

	/* Events are never split: 2.5 records of room give 2. */
	fault(e, IOVA);
	fault(e, IOVA);
	fault(e, IOVA);
	assert_int_equal(rd(qfd, buf, 2 * REC + REC / 2), 2 * REC);
	assert_int_equal(parse(buf, 2 * REC, r, 4), 2);
	assert_int_equal(r[0].h.sequence, 1);
	assert_int_equal(r[1].h.sequence, 2);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), REC);
	assert_int_equal(parse(buf, REC, r, 4), 1);
	assert_int_equal(r[0].h.sequence, 3);
	/* A bad read buffer: EFAULT, the event stays queued. */
	fault(e, IOVA);
	assert_int_equal(rd(qfd, (void *)16, REC), -EFAULT);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), REC);
	ionest_close(qfd);
}

static void test_stage2_event(void **state)
{
	struct env *e = *state;
	uint8_t buf[2 * REC];
	struct rec r[2];
	uint32_t id;
	int qfd = queue(e, 8, &id);

	/* A GPA outside the parent: a stage-2 fault, reported with it. */
	assert_int_equal(guest_s1_map(&e->g, IOVA, 0x90000000, FX_PAGE, true),
			 0);
	assert_int_equal(nest_inv_all(e->f.fd, e->nested), 0);
	fault(e, IOVA + 8);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), REC);
	parse(buf, REC, r, 2);
	assert_int_equal(r[0].ev.flags, IONEST_MOCK_VEVENT_STAGE2);
	assert_int_equal(r[0].ev.fault_addr, 0x90000008ull);
	assert_int_equal(r[0].ev.iova, IOVA + 8);
	/* A device on a paging HWPT reports no vEVENT, even with a
	 * vDEVICE: only the vIOMMU's nested HWPTs do. */
	{
		uint32_t pt = e->parent;

		assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
		fault(e, 0x7000000000ull);
		assert_int_equal(rd(qfd, buf, sizeof(buf)), 0);
	}
	ionest_close(qfd);
}

static void test_overflow_lost_events(void **state)
{
	struct env *e = *state;
	uint8_t buf[8 * REC];
	struct rec r[8];
	uint32_t id;
	int qfd = queue(e, 2, &id);
	long n;

	/* Five events into a queue of two: two, then one LOST_EVENTS mark
	 * that took the later sequence numbers (Linux 7.3: 0, 1, lost 4). */
	for (int i = 0; i < 5; i++)
		fault(e, IOVA);
	n = rd(qfd, buf, sizeof(buf));
	assert_int_equal(n, 2 * REC + 8);
	assert_int_equal(parse(buf, n, r, 8), 3);
	assert_int_equal(r[0].h.sequence, 0);
	assert_int_equal(r[1].h.sequence, 1);
	assert_int_equal(r[2].h.flags, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	assert_int_equal(r[2].h.sequence, 4);
	/* Three more: 5, 6 and the mark (7). Read one: room again, so the
	 * next event replaces the mark at the tail: 6, 8, a gap. */
	for (int i = 0; i < 3; i++)
		fault(e, IOVA);
	assert_int_equal(rd(qfd, buf, REC), REC);
	parse(buf, REC, r, 8);
	assert_int_equal(r[0].h.sequence, 5);
	fault(e, IOVA);
	n = rd(qfd, buf, sizeof(buf));
	assert_int_equal(parse(buf, n, r, 8), 2);
	assert_int_equal(r[0].h.sequence, 6);
	assert_int_equal(r[1].h.sequence, 8);
	assert_int_equal(r[1].h.flags, 0);
	/* The mark alone fits in a header-sized buffer. */
	for (int i = 0; i < 3; i++)
		fault(e, IOVA);
	assert_int_equal(rd(qfd, buf, REC + 8), REC);
	assert_int_equal(rd(qfd, buf, 8), -EINVAL); /* event 10 */
	assert_int_equal(rd(qfd, buf, REC + 4), REC);
	n = rd(qfd, buf, 8);
	assert_int_equal(n, 8);
	parse(buf, n, r, 8);
	assert_int_equal(r[0].h.flags, IOMMU_VEVENTQ_FLAG_LOST_EVENTS);
	assert_int_equal(r[0].h.sequence, 11);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), 0);
	ionest_close(qfd);
}

static void test_sequence_wraps(void **state)
{
	struct env *e = *state;
	uint8_t buf[4 * REC];
	struct rec r[4];
	struct iommufd_veventq *q;
	uint32_t id;
	int qfd = queue(e, 8, &id);
	long n;

	/* Jump close to the end of the sequence space. */
	q = nest_object(e->f.fd, id, IOMMUFD_OBJ_VEVENTQ);
	assert_non_null(q);
	pthread_mutex_lock(&q->common.lock);
	q->sequence = INT_MAX - 1;
	pthread_mutex_unlock(&q->common.lock);
	for (int i = 0; i < 3; i++)
		fault(e, IOVA);
	n = rd(qfd, buf, sizeof(buf));
	assert_int_equal(parse(buf, n, r, 4), 3);
	assert_int_equal(r[0].h.sequence, INT_MAX - 1);
	assert_int_equal(r[1].h.sequence, INT_MAX);
	assert_int_equal(r[2].h.sequence, 0);
	ionest_close(qfd);
}

static void test_no_queue_no_vdevice(void **state)
{
	struct env *e = *state;
	uint8_t buf[2 * REC];
	struct ionest_dma_fault lf;
	uint32_t id;
	int qfd;

	/* No queue: the fault is still a fault, nothing recorded. */
	fault(e, IOVA);
	assert_int_equal(ionest_device_last_fault(e->f.m, e->f.dev[0], &lf), 0);
	assert_false(lf.recorded);
	/* A new queue only sees what comes after it. */
	qfd = queue(e, 4, &id);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), 0);
	fault(e, IOVA);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), REC);
	ionest_close(qfd);
}

/* ---- Readiness ---- */

static void test_poll_and_epoll(void **state)
{
	struct env *e = *state;
	uint8_t buf[2 * REC];
	struct epoll_event ev = { .events = EPOLLIN }, out;
	uint32_t id;
	int qfd = queue(e, 4, &id), ep = epoll_create1(EPOLL_CLOEXEC);

	assert_true(ep >= 0);
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, qfd, &ev), 0);
	assert_false(nest_poll(qfd) & POLLIN);
	assert_int_equal(epoll_wait(ep, &out, 1, 0), 0);
	fault(e, IOVA);
	assert_true(nest_poll(qfd) & POLLIN);
	assert_int_equal(epoll_wait(ep, &out, 1, 0), 1);
	/* Still readable until everything is read. */
	fault(e, IOVA);
	assert_int_equal(rd(qfd, buf, REC), REC);
	assert_true(nest_poll(qfd) & POLLIN);
	assert_int_equal(rd(qfd, buf, REC), REC);
	assert_false(nest_poll(qfd) & POLLIN);
	assert_int_equal(epoll_wait(ep, &out, 1, 0), 0);
	close(ep);
	ionest_close(qfd);
}

static void test_fd_outlives_iommufd(void **state)
{
	struct env *e = *state;
	uint8_t buf[2 * REC];
	uint32_t id;
	int qfd = queue(e, 4, &id);

	fault(e, IOVA);
	/* The cdevs and the iommufd go; the queue fd keeps the context. */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ionest_close(e->f.cdev[i]), 0);
		e->f.cdev[i] = -1;
	}
	assert_int_equal(ionest_close(e->f.fd), 0);
	e->f.fd = -1;
	assert_int_equal(rd(qfd, buf, sizeof(buf)), REC);
	assert_int_equal(rd(qfd, buf, sizeof(buf)), 0);
	/* The last close frees everything (ASan checks). */
	assert_int_equal(ionest_close(qfd), 0);
}

/* ---- Concurrency: many faulting DMA threads, one reader ---- */

#define STORM_THREADS 4
#define STORM_FAULTS 300

struct storm {
	struct env *e;
	unsigned running;
};

static void *storm_dma(void *arg)
{
	struct storm *s = arg;

	for (unsigned i = 0; i < STORM_FAULTS; i++) {
		uint8_t b;

		fx_dma_read(&s->e->f, 0, IONEST_NO_PASID, IOVA, &b, 1);
	}
	__atomic_sub_fetch(&s->running, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_concurrent_reports(void **state)
{
	struct env *e = *state;
	struct storm s = { .e = e, .running = STORM_THREADS };
	pthread_t t[STORM_THREADS];
	uint8_t buf[16 * REC];
	struct rec r[16];
	uint32_t id, last = 0, events = 0;
	bool first = true;
	int qfd = queue(e, 32, &id);
	long n;

	for (int i = 0; i < STORM_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, storm_dma, &s), 0);
	for (;;) {
		bool idle = !__atomic_load_n(&s.running, __ATOMIC_ACQUIRE);
		unsigned k;

		n = rd(qfd, buf, sizeof(buf));
		assert_true(n >= 0);
		k = parse(buf, n, r, 16);
		for (unsigned i = 0; i < k; i++) {
			/* Strictly increasing: losses leave gaps only. */
			if (!first)
				assert_true(r[i].h.sequence > last);
			first = false;
			last = r[i].h.sequence;
			if (!r[i].h.flags) {
				assert_int_equal(r[i].ev.virt_id, VIRT_ID);
				events++;
			}
		}
		if (idle && !n)
			break;
	}
	for (int i = 0; i < STORM_THREADS; i++)
		pthread_join(t[i], NULL);
	/* Every fault took a sequence number, and the last item queued
	 * (event or mark) is always read: nothing vanished. */
	assert_int_equal(last, STORM_THREADS * STORM_FAULTS - 1);
	assert_true(events >= 32 && events <= STORM_THREADS * STORM_FAULTS);
	ionest_close(qfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_size_rules),	      T(test_alloc_errors),
		T(test_read_rules),	      T(test_stage2_event),
		T(test_overflow_lost_events), T(test_sequence_wraps),
		T(test_no_queue_no_vdevice),  T(test_poll_and_epoll),
		T(test_fd_outlives_iommufd),  T(test_concurrent_reports),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
