// SPDX-License-Identifier: MIT
/*
 * Fault queues and I/O page faults (iommufd-uapi.md §7): FAULT_QUEUE_ALLOC,
 * binding a queue to HWPTs (FAULT_ID_VALID), the fd's read/write/poll rules
 * (ESPIPE, whole groups, cookies, EINVAL cases; checked against Linux 7.3
 * with linux-ref), grouping of page requests by PRG index, routing by RID
 * and PASID, the INVALID answers for requests nobody takes or whose HWPT
 * the device left, and the whole PRI flow with the mock: a DMA becomes a
 * page request, the VMM maps the page and answers, the DMA goes through.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "machine/machine.h"
#include "nest_util.h"
#include "uapi/fdtable.h"

#define REC sizeof(struct iommu_hwpt_pgfault)
#define PRI_DEV 2

struct env {
	struct fx f;
	struct guest g;
	uint32_t ioas;
	uint32_t fault; /* a queue ... */
	int ffd; /* ... and its fd */
	struct page_resp_log log;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ionest_device_config dc = {
		.iommu = "iommu0",
		.rid = 0x200,
		.pasid_bits = 8,
		.pri = true,
	};

	fx_setup(&e->f, NULL, 2);
	e->f.dev[PRI_DEV] = ionest_machine_add_device(e->f.m, &dc);
	e->f.cdev[PRI_DEV] = -1;
	e->f.ndev = 3;
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_bind(&e->f, i), 0);
	e->ioas = fx_ioas(e->f.fd);
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	assert_int_equal(guest_map(&e->g, e->f.fd, e->ioas), 0);
	assert_int_equal(nest_fault_alloc(e->f.fd, &e->fault, &e->ffd), 0);
	nest_log_page_resp(ionest_machine_iommu(e->f.m, "iommu0"), &e->log);
	*state = e;
	return 0;
}

static int env_down(void **state)
{
	struct env *e = *state;

	if (e->ffd >= 0)
		assert_int_equal(ionest_close(e->ffd), 0);
	fx_teardown(&e->f);
	guest_fini(&e->g);
	free(e);
	return 0;
}

/* A paging HWPT taking faults into @fault, attached to device @i's RID
 * (or PASID). */
static uint32_t iopf_hwpt(struct env *e, uint32_t fault, uint32_t flags)
{
	uint32_t id;

	assert_int_equal(nest_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
					 IOMMU_HWPT_FAULT_ID_VALID | flags,
					 IOMMU_HWPT_DATA_NONE, NULL, 0, fault,
					 &id),
			 0);
	return id;
}

static int report(struct env *e, int i, uint32_t flags, uint32_t pasid,
		  uint32_t grpid, uint64_t addr)
{
	struct machine_device *md = machine_device(e->f.m, e->f.dev[i]);
	struct iommu_fault f = {
		.flags = flags,
		.pasid = pasid,
		.grpid = grpid,
		.perm = IOMMU_FAULT_PERM_READ,
		.addr = addr,
	};

	assert_non_null(md);
	return iommu_report_fault(&md->dev, &f);
}

#define LAST IOMMU_FAULT_F_LAST_PAGE
#define PV IOMMU_FAULT_F_PASID_VALID

static long rd(int fd, void *buf, size_t n)
{
	ssize_t r = ionest_read(fd, buf, n);

	return r < 0 ? -errno : r;
}

static long wr(int fd, const void *buf, size_t n)
{
	ssize_t r = ionest_write(fd, buf, n);

	return r < 0 ? -errno : r;
}

static long respond(int fd, uint32_t cookie, uint32_t code)
{
	struct iommu_hwpt_page_response r = { cookie, code };

	return wr(fd, &r, sizeof(r));
}

/* ---- FAULT_QUEUE_ALLOC and lifetime ---- */

static void test_size_rules(void **state)
{
	struct env *e = *state;
	uint8_t buf[32];
	struct iommu_fault_alloc *c = (void *)buf;
	static const struct {
		uint32_t size;
		int tail;
		long want;
	} r[] = {
		{ 15, -1, -EINVAL }, { 17, 1, -E2BIG }, { 17, 0, 0 },
		{ 16, -1, 0 },	     { 24, 0, 0 },
	};

	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		memset(buf, 0, sizeof(buf));
		c->size = r[i].size;
		if (r[i].tail >= 0)
			buf[r[i].size - 1] = (uint8_t)r[i].tail;
		assert_int_equal(fx_ioctl(e->f.fd, IOMMU_FAULT_QUEUE_ALLOC,
					  buf),
				 r[i].want);
		if (!r[i].want) {
			assert_non_null(nest_object(e->f.fd, c->out_fault_id,
						    IOMMUFD_OBJ_FAULT));
			assert_int_equal(ionest_close((int)c->out_fault_fd), 0);
			assert_int_equal(fx_destroy(e->f.fd, c->out_fault_id),
					 0);
		}
	}
	memset(buf, 0, sizeof(buf));
	c->size = 16;
	c->flags = 1;
	assert_int_equal(fx_ioctl(e->f.fd, IOMMU_FAULT_QUEUE_ALLOC, buf),
			 -EOPNOTSUPP);
}

static void test_lifetime(void **state)
{
	struct env *e = *state;
	uint32_t h1, h2, parent, n;

	/* The fd holds the queue. */
	assert_int_equal(fx_destroy(e->f.fd, e->fault), -EBUSY);
	/* FAULT_ID_VALID: paging (not NEST_PARENT) and nested HWPTs. */
	h1 = iopf_hwpt(e, e->fault, 0);
	assert_int_equal(nest_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
					 IOMMU_HWPT_FAULT_ID_VALID |
						 IOMMU_HWPT_ALLOC_NEST_PARENT,
					 0, NULL, 0, e->fault, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
					 IOMMU_HWPT_FAULT_ID_VALID, 0, NULL, 0,
					 e->ioas, NULL),
			 -ENOENT);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &parent),
			 0);
	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], parent,
					  IOMMU_HWPT_FAULT_ID_VALID, GUEST_GPA,
					  0, e->fault, &h2),
			 0);
	/* HWPTs hold it too. */
	assert_int_equal(ionest_close(e->ffd), 0);
	e->ffd = -1;
	assert_int_equal(fx_destroy(e->f.fd, e->fault), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, h1), 0);
	assert_int_equal(fx_destroy(e->f.fd, e->fault), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, h2), 0);
	assert_int_equal(fx_destroy(e->f.fd, e->fault), 0);
	assert_int_equal(fx_destroy(e->f.fd, parent), 0);
	/* A HWPT without FAULT_ID_VALID ignores fault_id. */
	assert_int_equal(nest_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas, 0, 0,
					 NULL, 0, 12345, &n),
			 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
}

static void close_at_install(int fd)
{
	/* Another thread guessing the new number and closing it. */
	ionest_close(fd);
}

static void test_fd_closed_while_made(void **state)
{
	struct env *e = *state;
	uint32_t next = fx_ioas(e->f.fd), id;
	int ffd;

	assert_int_equal(fx_destroy(e->f.fd, next), 0);
	file_set_install_hook(close_at_install);
	assert_int_equal(nest_fault_alloc(e->f.fd, &id, &ffd), -EBADF);
	assert_int_equal(nest_veventq_alloc(e->f.fd, 999, IONEST_MOCK_VEVENTQ,
					    1, NULL, NULL),
			 -ENOENT);
	file_set_install_hook(NULL);
	/* Nothing was left behind: the ID is free, no leak (ASan). */
	assert_int_equal(fx_ioas(e->f.fd), next);
	/* Event fds are not seekable. */
	assert_int_equal(ionest_pread(e->ffd, &id, 0, 0), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(ionest_pwrite(e->ffd, &id, 8, 0), -1);
	assert_int_equal(errno, ESPIPE);
}

/* ---- read / write / poll ---- */

static void test_read_write_rules(void **state)
{
	struct env *e = *state;
	struct iommu_hwpt_pgfault pf[4];
	struct iommu_hwpt_page_response two[2];
	uint32_t h = iopf_hwpt(e, e->fault, 0), pt = h;

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* Empty: 0 for a multiple of the record size, ESPIPE otherwise;
	 * always writable, not readable. */
	assert_int_equal(rd(e->ffd, pf, REC), 0);
	assert_int_equal(rd(e->ffd, pf, 0), 0);
	assert_int_equal(rd(e->ffd, pf, REC - 1), -ESPIPE);
	assert_int_equal(wr(e->ffd, pf, 7), -ESPIPE);
	assert_int_equal(nest_poll(e->ffd), POLLOUT);

	assert_int_equal(report(e, 0, LAST, 0, 5, 0x1000), 0);
	assert_int_equal(nest_poll(e->ffd), POLLIN | POLLOUT);
	/* A group pending and no room for it: EINVAL. */
	assert_int_equal(rd(e->ffd, pf, 0), -EINVAL);
	assert_int_equal(rd(e->ffd, pf, 2 * REC), REC);
	assert_int_equal(nest_poll(e->ffd), POLLOUT);
	assert_int_equal(pf[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(pf[0].dev_id, e->f.devid[0]);
	assert_int_equal(pf[0].pasid, 0);
	assert_int_equal(pf[0].grpid, 5);
	assert_int_equal(pf[0].perm, IOMMU_PGFAULT_PERM_READ);
	assert_int_equal(pf[0].__reserved, 0);
	assert_int_equal(pf[0].addr, 0x1000);
	assert_int_equal(pf[0].length, 0);
	assert_int_equal(pf[0].cookie, 1);
	/* Responses: only SUCCESS/INVALID, only live cookies. */
	assert_int_equal(respond(e->ffd, 1, 2), -EINVAL);
	assert_int_equal(respond(e->ffd, 77, 0), -EINVAL);
	assert_int_equal(respond(e->ffd, 0, 0), -EINVAL);
	assert_int_equal(e->log.n, 0);
	/* A good one then a bad one: the bytes consumed. */
	two[0] = (struct iommu_hwpt_page_response){ 1, 0 };
	two[1] = (struct iommu_hwpt_page_response){ 77, 0 };
	assert_int_equal(wr(e->ffd, two, sizeof(two)), 8);
	assert_int_equal(e->log.n, 1);
	assert_int_equal(e->log.r[0].sid, 0x100);
	assert_int_equal(e->log.r[0].prgi, 5);
	assert_false(e->log.r[0].ssid_valid);
	assert_int_equal(e->log.r[0].code, IOMMUFD_PAGE_RESP_SUCCESS);
	/* Answered already. */
	assert_int_equal(respond(e->ffd, 1, 0), -EINVAL);
	/* Cookies: the lowest free one, from 1. */
	assert_int_equal(report(e, 0, LAST, 0, 6, 0x2000), 0);
	assert_int_equal(report(e, 0, LAST, 0, 7, 0x3000), 0);
	assert_int_equal(rd(e->ffd, pf, 4 * REC), 2 * REC);
	assert_int_equal(pf[0].cookie, 1);
	assert_int_equal(pf[1].cookie, 2);
	assert_int_equal(report(e, 0, LAST, 0, 8, 0x4000), 0);
	assert_int_equal(rd(e->ffd, pf, REC), REC);
	assert_int_equal(pf[0].cookie, 3);
	assert_int_equal(respond(e->ffd, 2, IOMMUFD_PAGE_RESP_INVALID), 8);
	assert_int_equal(e->log.r[1].prgi, 7);
	assert_int_equal(e->log.r[1].code, IOMMUFD_PAGE_RESP_INVALID);
	assert_int_equal(report(e, 0, LAST, 0, 9, 0x5000), 0);
	assert_int_equal(rd(e->ffd, pf, REC), REC);
	assert_int_equal(pf[0].cookie, 2);
	/* Bad buffers. */
	assert_int_equal(report(e, 0, LAST, 0, 10, 0x6000), 0);
	assert_int_equal(rd(e->ffd, (void *)8, REC), -EFAULT);
	assert_int_equal(rd(e->ffd, pf, REC), REC); /* still there */
	assert_int_equal(wr(e->ffd, (void *)8, 8), -EFAULT);
	/* Everything left is answered when the device leaves. */
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(e->log.n, 6);
	for (unsigned i = 2; i < 6; i++)
		assert_int_equal(e->log.r[i].code, IOMMUFD_PAGE_RESP_INVALID);
	assert_int_equal(fx_destroy(e->f.fd, h), 0);
}

static void test_groups(void **state)
{
	struct env *e = *state;
	struct iommu_hwpt_pgfault pf[8];
	uint32_t h = iopf_hwpt(e, e->fault, 0), pt = h;

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* Two groups interleaved; the one completed first is read first,
	 * each in arrival order, LAST_PAGE on its last record only. */
	assert_int_equal(report(e, 0, 0, 0, 1, 0x10000), 0);
	assert_int_equal(report(e, 0, 0, 0, 2, 0x20000), 0);
	assert_int_equal(report(e, 0, 0, 0, 1, 0x11000), 0);
	assert_int_equal(nest_poll(e->ffd), POLLOUT); /* nothing complete */
	assert_int_equal(rd(e->ffd, pf, 8 * REC), 0);
	assert_int_equal(report(e, 0, LAST, 0, 2, 0x21000), 0);
	assert_int_equal(report(e, 0, LAST, 0, 1, 0x12000), 0);
	/* Room for 4: only the 2-fault group (whole groups only). */
	assert_int_equal(rd(e->ffd, pf, 4 * REC), 2 * REC);
	assert_int_equal(pf[0].grpid, 2);
	assert_int_equal(pf[0].addr, 0x20000);
	assert_int_equal(pf[0].flags, 0);
	assert_int_equal(pf[1].addr, 0x21000);
	assert_int_equal(pf[1].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(pf[0].cookie, pf[1].cookie);
	/* Room for 2 only: the 3-fault group does not fit at all. */
	assert_int_equal(rd(e->ffd, pf, 2 * REC), -EINVAL);
	assert_int_equal(rd(e->ffd, pf, 3 * REC), 3 * REC);
	assert_int_equal(pf[0].grpid, 1);
	assert_int_equal(pf[0].addr, 0x10000);
	assert_int_equal(pf[1].addr, 0x11000);
	assert_int_equal(pf[2].addr, 0x12000);
	assert_int_equal(pf[2].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_true(pf[0].cookie == pf[2].cookie);
	/* One answer per group, for its last request. */
	assert_int_equal(respond(e->ffd, pf[0].cookie, 0), 8);
	assert_int_equal(e->log.n, 1);
	assert_int_equal(e->log.r[0].prgi, 1);
	/* A group of one request. */
	assert_int_equal(report(e, 0, LAST, 0, 3, 0x30000), 0);
	assert_int_equal(rd(e->ffd, pf, 8 * REC), REC);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, h), 0);
}

static void test_partial_bound(void **state)
{
	struct env *e = *state;
	uint32_t h = iopf_hwpt(e, e->fault, 0), pt = h;
	unsigned kept = 0;
	int rc;

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* A device cannot make us hold unbounded partial requests. */
	for (unsigned i = 0; i < 1000; i++) {
		rc = report(e, 0, 0, 0, 4, (uint64_t)i << 12);
		if (rc) {
			assert_int_equal(rc, -ENOSPC);
			break;
		}
		kept++;
	}
	assert_true(kept >= 16 && kept < 1000);
	/* Not the last of a group: no answer is owed. */
	assert_int_equal(e->log.n, 0);
	/* Unbinding drops them (ASan: no leak). */
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, h), 0);
}

/* ---- Who takes a request ---- */

static void test_no_handler(void **state)
{
	struct env *e = *state;
	uint32_t plain, pt;

	/* Bound but not attached. */
	assert_int_equal(report(e, 0, LAST, 0, 1, 0x1000), -EINVAL);
	assert_int_equal(e->log.n, 1);
	assert_int_equal(e->log.r[0].code, IOMMUFD_PAGE_RESP_INVALID);
	/* Partial requests too (Linux answers them as well). */
	assert_int_equal(report(e, 0, 0, 0, 1, 0x1000), -EINVAL);
	assert_int_equal(e->log.n, 2);
	/* Attached to a HWPT without a fault queue. */
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_PASID, &plain),
			 0);
	pt = plain;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(report(e, 0, LAST, 0, 2, 0x1000), -EINVAL);
	assert_int_equal(e->log.n, 3);
	/* A PASID that is not attached, even though the RID is (the mock
	 * has no guest-owned PASID table). */
	{
		uint32_t h = iopf_hwpt(e, e->fault, IOMMU_HWPT_ALLOC_PASID);

		pt = h;
		assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
		assert_int_equal(report(e, 0, LAST | PV, 9, 3, 0x1000),
				 -EINVAL);
		assert_int_equal(e->log.n, 4);
		assert_true(e->log.r[3].ssid_valid);
		assert_int_equal(e->log.r[3].ssid, 9);
		assert_int_equal(fx_detach(&e->f, 0), 0);
		assert_int_equal(fx_destroy(e->f.fd, h), 0);
	}
	/* Not bound at all. */
	assert_int_equal(ionest_close(e->f.cdev[1]), 0);
	e->f.cdev[1] = -1;
	assert_int_equal(report(e, 1, LAST, 0, 4, 0x1000), -EINVAL);
	assert_int_equal(e->log.n, 5);
	assert_int_equal(e->log.r[4].sid, 0x101);
	assert_int_equal(rd(e->ffd, &pt, 0), 0);
	(void)plain;
}

static void test_pasid_routing(void **state)
{
	struct env *e = *state;
	struct iommu_hwpt_pgfault pf[2];
	uint32_t f2, rid_h, pasid_h, pt;
	int ffd2;

	assert_int_equal(nest_fault_alloc(e->f.fd, &f2, &ffd2), 0);
	rid_h = iopf_hwpt(e, e->fault, IOMMU_HWPT_ALLOC_PASID);
	pasid_h = iopf_hwpt(e, f2, IOMMU_HWPT_ALLOC_PASID);
	pt = rid_h;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	pt = pasid_h;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 3, &pt), 0);
	/* Each request goes to the queue of its attachment. */
	assert_int_equal(report(e, 0, LAST | PV, 3, 1, 0x1000), 0);
	assert_int_equal(report(e, 0, LAST, 0, 2, 0x2000), 0);
	assert_int_equal(rd(ffd2, pf, 2 * REC), REC);
	assert_int_equal(pf[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE |
					      IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_int_equal(pf[0].pasid, 3);
	assert_int_equal(pf[0].grpid, 1);
	assert_int_equal(rd(e->ffd, pf, 2 * REC), REC);
	assert_int_equal(pf[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	assert_int_equal(pf[0].grpid, 2);
	/* Detaching the PASID answers what it had pending, queued (4) or
	 * read and unanswered (1), and nothing of the RID's (2, 5). */
	assert_int_equal(report(e, 0, LAST | PV, 3, 4, 0x1000), 0);
	assert_int_equal(report(e, 0, LAST, 0, 5, 0x1000), 0);
	assert_int_equal(fx_detach_pasid(&e->f, 0, 3), 0);
	assert_int_equal(e->log.n, 2);
	assert_int_equal(e->log.r[0].prgi, 4);
	assert_int_equal(e->log.r[1].prgi, 1);
	for (int i = 0; i < 2; i++) {
		assert_true(e->log.r[i].ssid_valid);
		assert_int_equal(e->log.r[i].ssid, 3);
		assert_int_equal(e->log.r[i].code, IOMMUFD_PAGE_RESP_INVALID);
	}
	assert_int_equal(rd(ffd2, pf, 2 * REC), 0);
	assert_int_equal(rd(e->ffd, pf, 2 * REC), REC);
	assert_int_equal(pf[0].grpid, 5);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(ionest_close(ffd2), 0);
}

static void test_auto_response(void **state)
{
	struct env *e = *state;
	struct iommu_hwpt_pgfault pf[2];
	uint32_t h1 = iopf_hwpt(e, e->fault, 0), h2 = iopf_hwpt(e, e->fault, 0);
	uint32_t pt = h1, cookie;

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	/* One group read (cookie held), one still queued. */
	assert_int_equal(report(e, 0, LAST, 0, 1, 0x1000), 0);
	assert_int_equal(rd(e->ffd, pf, REC), REC);
	cookie = pf[0].cookie;
	assert_int_equal(report(e, 0, LAST, 0, 2, 0x2000), 0);
	/* Replace onto another HWPT of the same queue: both are answered
	 * INVALID (they were for the old one). */
	pt = h2;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(e->log.n, 2);
	assert_int_equal(e->log.r[0].code, IOMMUFD_PAGE_RESP_INVALID);
	assert_int_equal(e->log.r[1].code, IOMMUFD_PAGE_RESP_INVALID);
	assert_int_equal(rd(e->ffd, pf, 2 * REC), 0);
	assert_false(nest_poll(e->ffd) & POLLIN);
	assert_int_equal(respond(e->ffd, cookie, 0), -EINVAL);
	/* Replace with the same HWPT changes nothing. */
	assert_int_equal(report(e, 0, LAST, 0, 3, 0x3000), 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(e->log.n, 2);
	/* Unbinding answers the rest. */
	assert_int_equal(ionest_close(e->f.cdev[0]), 0);
	e->f.cdev[0] = -1;
	assert_int_equal(e->log.n, 3);
	assert_int_equal(e->log.r[2].prgi, 3);
	assert_int_equal(e->log.r[2].code, IOMMUFD_PAGE_RESP_INVALID);
	assert_int_equal(rd(e->ffd, pf, 2 * REC), 0);
}

static void test_user_pasid_table(void **state)
{
	struct ionest_mock_config cfg = { .user_pasid_table = 1 };
	struct ionest_device_config dc = {
		.iommu = "iommu0",
		.rid = 0x200,
		.pasid_bits = 8,
		.pri = true,
	};
	struct iommu_hwpt_pgfault pf[2];
	struct page_resp_log log;
	struct env x = { .ffd = -1 }, *e = &x;
	uint32_t parent, n, p, f2, pt;
	int ffd2;
	uint8_t b;

	/* The guest owns the PASID table: a PASID without an attachment
	 * of its own belongs to the RID's nested HWPT. */
	fx_setup(&e->f, &cfg, 1);
	e->f.dev[1] = ionest_machine_add_device(e->f.m, &dc);
	e->f.cdev[1] = -1;
	e->f.ndev = 2;
	assert_int_equal(fx_bind(&e->f, 0), 0);
	assert_int_equal(fx_bind(&e->f, 1), 0);
	nest_log_page_resp(ionest_machine_iommu(e->f.m, "iommu0"), &log);
	e->ioas = fx_ioas(e->f.fd);
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	assert_int_equal(guest_map(&e->g, e->f.fd, e->ioas), 0);
	assert_int_equal(nest_fault_alloc(e->f.fd, &e->fault, &e->ffd), 0);
	assert_int_equal(nest_fault_alloc(e->f.fd, &f2, &ffd2), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &parent),
			 0);
	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], parent,
					  IOMMU_HWPT_FAULT_ID_VALID |
						  IOMMU_HWPT_ALLOC_PASID,
					  guest_s1_init(&e->g), 0, e->fault,
					  &n),
			 0);
	p = iopf_hwpt(e, f2, IOMMU_HWPT_ALLOC_PASID);
	/* RID on a paging HWPT: a stray PASID has nobody. */
	pt = p;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(report(e, 0, LAST | PV, 5, 1, 0x1000), -EINVAL);
	assert_int_equal(log.n, 1);
	/* RID on the nested HWPT: its queue takes the PASID's requests. */
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(report(e, 0, LAST | PV, 5, 2, 0x1000), 0);
	assert_int_equal(rd(e->ffd, pf, 2 * REC), REC);
	assert_int_equal(pf[0].flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE |
					      IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_int_equal(pf[0].pasid, 5);
	/* A PASID attached on its own still goes its own way. */
	pt = p;
	assert_int_equal(fx_attach_pasid(&e->f, 0, 6, &pt), 0);
	assert_int_equal(report(e, 0, LAST | PV, 6, 3, 0x1000), 0);
	assert_int_equal(rd(ffd2, pf, 2 * REC), REC);
	assert_int_equal(pf[0].pasid, 6);
	/* DMA of the PRI device on an unattached PASID walks the RID's
	 * stage 1 and asks for the page. */
	pt = n;
	assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 1, 3, 0x5000, &b, 1), -EAGAIN);
	assert_int_equal(rd(e->ffd, pf, 2 * REC), REC);
	assert_int_equal(pf[0].dev_id, e->f.devid[1]);
	assert_int_equal(pf[0].pasid, 3);
	/* Leaving the RID's HWPT answers those PASIDs' requests. */
	assert_int_equal(fx_detach(&e->f, 1), 0);
	assert_int_equal(log.n, 2);
	assert_int_equal(log.r[1].ssid, 3);
	assert_int_equal(log.r[1].code, IOMMUFD_PAGE_RESP_INVALID);
	assert_int_equal(ionest_close(ffd2), 0);
	assert_int_equal(ionest_close(e->ffd), 0);
	fx_teardown(&e->f);
	guest_fini(&e->g);
}

/* ---- The PRI flow end to end ---- */

static void test_pri_dma_paging(void **state)
{
	struct env *e = *state;
	uint8_t *mem = fx_alloc(FX_PAGE, FX_PAGE);
	struct iommu_hwpt_pgfault pf;
	uint32_t h = iopf_hwpt(e, e->fault, 0), pt = h, v = 0;

	memcpy(mem + 0x40, "pri!", 4);
	pt = h;
	assert_int_equal(fx_attach(&e->f, PRI_DEV, &pt), 0);
	/* Not mapped: the device asks for the page and waits. */
	assert_int_equal(fx_dma_read(&e->f, PRI_DEV, IONEST_NO_PASID, 0x7000040,
				     &v, 4),
			 -EAGAIN);
	assert_int_equal(rd(e->ffd, &pf, REC), REC);
	assert_int_equal(pf.dev_id, e->f.devid[PRI_DEV]);
	assert_int_equal(pf.addr, 0x7000000);
	assert_int_equal(pf.perm, IOMMU_PGFAULT_PERM_READ);
	assert_int_equal(pf.flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE);
	/* The VMM makes the page present and answers. */
	assert_int_equal(
		fx_map_fixed(e->f.fd, e->ioas, mem, FX_PAGE, 0x7000000), 0);
	assert_int_equal(respond(e->ffd, pf.cookie, IOMMUFD_PAGE_RESP_SUCCESS),
			 8);
	assert_int_equal(e->log.n, 1);
	assert_int_equal(e->log.r[0].sid, 0x200);
	assert_int_equal(e->log.r[0].code, IOMMUFD_PAGE_RESP_SUCCESS);
	/* The retry goes through. */
	assert_int_equal(fx_dma_read(&e->f, PRI_DEV, IONEST_NO_PASID, 0x7000040,
				     &v, 4),
			 0);
	assert_memory_equal(&v, "pri!", 4);
	/* Without PRI the same miss is a plain fault. */
	pt = h;
	assert_int_equal(fx_attach(&e->f, 1, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 1, IONEST_NO_PASID, 0x9000000, &v,
				     4),
			 -EFAULT);
	assert_int_equal(rd(e->ffd, &pf, REC), 0);
	assert_int_equal(fx_detach(&e->f, 1), 0);
	/* And with PRI on a HWPT without a fault queue as well. */
	{
		uint32_t plain;

		assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
					       0, &plain),
				 0);
		pt = plain;
		assert_int_equal(fx_attach(&e->f, PRI_DEV, &pt), 0);
		assert_int_equal(fx_dma_read(&e->f, PRI_DEV, IONEST_NO_PASID,
					     0x9000000, &v, 4),
				 -EFAULT);
		assert_int_equal(fx_detach(&e->f, PRI_DEV), 0);
		assert_int_equal(fx_destroy(e->f.fd, plain), 0);
	}
	assert_int_equal(fx_unmap(e->f.fd, e->ioas, 0x7000000, FX_PAGE, NULL),
			 0);
	fx_free(mem, FX_PAGE);
}

static void test_pri_dma_nested_pasid(void **state)
{
	struct env *e = *state;
	uint64_t data = guest_alloc(&e->g, FX_PAGE);
	struct iommu_hwpt_pgfault pf;
	uint32_t parent, n, pt, v = 0;

	memcpy(guest_va(&e->g, data), "s1pf", 4);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT |
					       IOMMU_HWPT_ALLOC_PASID,
				       &parent),
			 0);
	guest_s1_init(&e->g);
	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], parent,
					  IOMMU_HWPT_FAULT_ID_VALID |
						  IOMMU_HWPT_ALLOC_PASID,
					  e->g.s1.root, 0, e->fault, &n),
			 0);
	pt = parent;
	assert_int_equal(fx_attach(&e->f, PRI_DEV, &pt), 0);
	pt = n;
	assert_int_equal(fx_attach_pasid(&e->f, PRI_DEV, 5, &pt), 0);
	/* A stage-1 miss on PASID 5: a page request for the guest. */
	assert_int_equal(fx_dma_read(&e->f, PRI_DEV, 5, 0x200010, &v, 4),
			 -EAGAIN);
	assert_int_equal(rd(e->ffd, &pf, REC), REC);
	assert_int_equal(pf.flags, IOMMU_PGFAULT_FLAGS_LAST_PAGE |
					   IOMMU_PGFAULT_FLAGS_PASID_VALID);
	assert_int_equal(pf.pasid, 5);
	assert_int_equal(pf.addr, 0x200000);
	/* The guest maps it in its stage 1 and answers. */
	assert_int_equal(guest_s1_map(&e->g, 0x200000, data, FX_PAGE, true), 0);
	assert_int_equal(respond(e->ffd, pf.cookie, IOMMUFD_PAGE_RESP_SUCCESS),
			 8);
	assert_true(e->log.r[0].ssid_valid);
	assert_int_equal(e->log.r[0].ssid, 5);
	assert_int_equal(fx_dma_read(&e->f, PRI_DEV, 5, 0x200000, &v, 4), 0);
	assert_memory_equal(&v, "s1pf", 4);
	/* A stage-2 miss is not the guest's to fix: a plain fault. */
	assert_int_equal(
		guest_s1_map(&e->g, 0x300000, 0x90000000, FX_PAGE, true), 0);
	assert_int_equal(fx_dma_read(&e->f, PRI_DEV, 5, 0x300000, &v, 4),
			 -EFAULT);
	assert_int_equal(rd(e->ffd, &pf, REC), 0);
	assert_int_equal(fx_detach_pasid(&e->f, PRI_DEV, 5), 0);
	assert_int_equal(fx_detach(&e->f, PRI_DEV), 0);
	assert_int_equal(fx_destroy(e->f.fd, n), 0);
	assert_int_equal(fx_destroy(e->f.fd, parent), 0);
}

/* ---- Concurrency: reporters and a responder ---- */

#define STORM_THREADS 4
#define STORM_GROUPS 150

struct storm {
	struct env *e;
	unsigned running;
};

static void *storm_report(void *arg)
{
	struct storm *s = arg;
	static unsigned next_t;
	unsigned t = __atomic_fetch_add(&next_t, 1, __ATOMIC_RELAXED);

	for (unsigned i = 0; i < STORM_GROUPS; i++) {
		/* Two-request groups; grpids unique per thread. */
		uint32_t g = (t % STORM_THREADS) * 1000 + i;

		assert_int_equal(report(s->e, 0, 0, 0, g, 0x1000), 0);
		assert_int_equal(report(s->e, 0, LAST, 0, g, 0x2000), 0);
	}
	__atomic_sub_fetch(&s->running, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct env *e = *state;
	struct storm s = { .e = e, .running = STORM_THREADS };
	struct iommu_hwpt_pgfault pf[32];
	uint32_t h = iopf_hwpt(e, e->fault, 0), pt = h;
	pthread_t t[STORM_THREADS];
	unsigned groups = 0;

	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	for (int i = 0; i < STORM_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, storm_report, &s),
				 0);
	for (;;) {
		bool idle = !__atomic_load_n(&s.running, __ATOMIC_ACQUIRE);
		long n = rd(e->ffd, pf, sizeof(pf));

		assert_true(n >= 0 && n % (2 * REC) == 0);
		for (long i = 0; i < n / (long)REC; i += 2) {
			/* Never mixed: a group's two requests together. */
			assert_int_equal(pf[i].grpid, pf[i + 1].grpid);
			assert_int_equal(pf[i].cookie, pf[i + 1].cookie);
			assert_int_equal(pf[i + 1].flags,
					 IOMMU_PGFAULT_FLAGS_LAST_PAGE);
			assert_int_equal(respond(e->ffd, pf[i].cookie, 0), 8);
			groups++;
		}
		if (idle && !n)
			break;
	}
	for (int i = 0; i < STORM_THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(groups, STORM_THREADS * STORM_GROUPS);
	assert_int_equal(e->log.n, STORM_THREADS * STORM_GROUPS);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(e->f.fd, h), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_size_rules),
		T(test_lifetime),
		T(test_fd_closed_while_made),
		T(test_read_write_rules),
		T(test_groups),
		T(test_partial_bound),
		T(test_no_handler),
		T(test_pasid_routing),
		cmocka_unit_test(test_user_pasid_table),
		T(test_auto_response),
		T(test_pri_dma_paging),
		T(test_pri_dma_nested_pasid),
		T(test_concurrent),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
