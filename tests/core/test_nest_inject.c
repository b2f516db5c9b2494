// SPDX-License-Identifier: MIT
/*
 * Fault-injection sweep over the nesting flows: make the Nth internal
 * allocation fail, for every N the flow reaches. The flow builds a nested
 * HWPT on a vIOMMU with a vDEVICE, a vEVENTQ and a fault queue, a nested
 * PASID attachment, does DMA that succeeds, faults (vEVENT) and page-faults
 * (PRI), invalidates, and takes everything down again in pieces. The step
 * that meets the failure must fail cleanly (or, for the fault paths, lose
 * just that event, which the step reports); retried without injection it
 * must succeed, and the rest of the flow must work; nothing may leak
 * (ASan).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "finject.h"
#include "nest_util.h"
#include "util/alloc.h"

#define IOVA 0x100000ull
#define HOLE 0x200000ull /* not mapped at stage 1 */
#define VREC                                    \
	(sizeof(struct iommufd_vevent_header) + \
	 sizeof(struct ionest_mock_vevent))
#define PREC sizeof(struct iommu_hwpt_pgfault)

struct flow {
	struct guest *g;
	struct ionest_machine *m;
	int fd, cdev[2], ffd, qfd;
	uint32_t devid[2];
	uint32_t ioas, parent, iopf_h, fault, viommu, vdev0, vdev1, veventq;
	uint32_t nv, np;
	struct page_resp_log log;
};

static int err(long rc)
{
	return rc < 0 ? (int)rc : 0;
}

static int s_machine(struct flow *f)
{
	f->m = ionest_machine_new();
	return f->m ? 0 : -ENOMEM;
}

static int s_iommu(struct flow *f)
{
	struct ionest_hw *hw = ionest_mock_iommu_new(NULL);
	int rc;

	if (!hw)
		return -ENOMEM;
	rc = ionest_machine_add_iommu(f->m, "iommu0", hw);
	if (rc)
		ionest_hw_free(hw);
	else
		nest_log_page_resp(hw, &f->log);
	return rc;
}

static int add_dev(struct flow *f, uint32_t rid, bool pri)
{
	struct ionest_device_config dc = {
		.iommu = "iommu0",
		.rid = rid,
		.pasid_bits = 4,
		.pri = pri,
	};
	int rc = ionest_machine_add_device(f->m, &dc);

	return rc < 0 ? rc : 0;
}

static int s_dev0(struct flow *f)
{
	return add_dev(f, 0x10, false);
}

static int s_dev1(struct flow *f)
{
	return add_dev(f, 0x11, true);
}

static int s_open(struct flow *f)
{
	f->fd = ionest_open(f->m, "/dev/iommu", O_RDWR);
	return f->fd < 0 ? -errno : 0;
}

static int s_ioas(struct flow *f)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	int rc = err(fx_ioctl(f->fd, IOMMU_IOAS_ALLOC, &a));

	f->ioas = a.out_ioas_id;
	return rc;
}

static int s_guest(struct flow *f)
{
	return guest_map(f->g, f->fd, f->ioas);
}

static int bind(struct flow *f, int i)
{
	struct vfio_device_bind_iommufd b = {
		.argsz = sizeof(b),
		.iommufd = f->fd,
	};
	char path[64];
	int rc;

	snprintf(path, sizeof(path), "/dev/vfio/devices/vfio%d", i);
	if (f->cdev[i] < 0) {
		f->cdev[i] = ionest_open(f->m, path, O_RDWR);
		if (f->cdev[i] < 0)
			return -errno;
	}
	rc = err(fx_ioctl(f->cdev[i], VFIO_DEVICE_BIND_IOMMUFD, &b));
	f->devid[i] = b.out_devid;
	return rc;
}

static int s_bind0(struct flow *f)
{
	return bind(f, 0);
}

static int s_bind1(struct flow *f)
{
	return bind(f, 1);
}

static int attach(struct flow *f, int i, uint32_t pasid, uint32_t pt)
{
	struct vfio_device_attach_iommufd_pt a = {
		.argsz = sizeof(a),
		.flags = pasid ? VFIO_DEVICE_ATTACH_PASID : 0,
		.pt_id = pt,
		.pasid = pasid,
	};

	return err(fx_ioctl(f->cdev[i], VFIO_DEVICE_ATTACH_IOMMUFD_PT, &a));
}

static int detach(struct flow *f, int i, uint32_t pasid)
{
	struct vfio_device_detach_iommufd_pt d = {
		.argsz = sizeof(d),
		.flags = pasid ? VFIO_DEVICE_DETACH_PASID : 0,
		.pasid = pasid,
	};

	return err(fx_ioctl(f->cdev[i], VFIO_DEVICE_DETACH_IOMMUFD_PT, &d));
}

static int s_parent(struct flow *f)
{
	return fx_hwpt_alloc(f->fd, f->devid[0], f->ioas,
			     IOMMU_HWPT_ALLOC_NEST_PARENT |
				     IOMMU_HWPT_ALLOC_PASID,
			     &f->parent);
}

static int s_fault(struct flow *f)
{
	return nest_fault_alloc(f->fd, &f->fault, &f->ffd);
}

static int s_viommu(struct flow *f)
{
	struct ionest_mock_viommu_data d = { 0 };
	struct iommu_viommu_alloc c = {
		.size = sizeof(c),
		.type = IONEST_MOCK_VIOMMU,
		.dev_id = f->devid[0],
		.hwpt_id = f->parent,
		.data_len = sizeof(d),
		.data_uptr = (uint64_t)(uintptr_t)&d,
	};
	int rc = err(fx_ioctl(f->fd, IOMMU_VIOMMU_ALLOC, &c));

	f->viommu = c.out_viommu_id;
	return rc;
}

static int s_vdev0(struct flow *f)
{
	return nest_vdevice_alloc(f->fd, f->viommu, f->devid[0], 0x10,
				  &f->vdev0);
}

static int s_vdev1(struct flow *f)
{
	return nest_vdevice_alloc(f->fd, f->viommu, f->devid[1], 0x11,
				  &f->vdev1);
}

static int s_veventq(struct flow *f)
{
	return nest_veventq_alloc(f->fd, f->viommu, IONEST_MOCK_VEVENTQ, 4,
				  &f->veventq, &f->qfd);
}

static int s_nested_v(struct flow *f)
{
	return nest_mock_nested(f->fd, f->devid[0], f->viommu,
				IOMMU_HWPT_FAULT_ID_VALID |
					IOMMU_HWPT_ALLOC_PASID,
				f->g->s1.root, 0, f->fault, &f->nv);
}

static int s_attach0(struct flow *f)
{
	return attach(f, 0, 0, f->nv);
}

static int s_dma_ok(struct flow *f)
{
	uint8_t b = 0;
	int rc = ionest_device_dma(f->m, 0, IONEST_NO_PASID, IOVA, &b, 1,
				   IONEST_DMA_FROM_MEM);

	if (!rc && b != 0xa5)
		return -EIO;
	return rc;
}

static int s_vevent(struct flow *f)
{
	uint8_t buf[4 * VREC], b;
	struct iommufd_vevent_header h;
	ssize_t n;
	int rc = ionest_device_dma(f->m, 0, IONEST_NO_PASID, HOLE, &b, 1,
				   IONEST_DMA_FROM_MEM);

	if (rc != -EFAULT)
		return rc ? rc : -EIO;
	n = ionest_read(f->qfd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(h))
		return -EIO;
	memcpy(&h, buf + n - (n % VREC ? 8 : VREC), sizeof(h));
	/* The event's allocation failed: a LOST_EVENTS mark instead. */
	if (h.flags & IOMMU_VEVENTQ_FLAG_LOST_EVENTS)
		return -ENOMEM;
	return 0;
}

static int s_inv_nested(struct flow *f)
{
	return nest_inv_all(f->fd, f->nv);
}

static int s_inv_viommu(struct flow *f)
{
	struct ionest_mock_viommu_invalidate inv = {
		.virt_id = 0x10,
		.flags = IONEST_MOCK_INVALIDATE_ALL,
	};
	uint32_t n = 1;

	return nest_invalidate(f->fd, f->viommu, IONEST_MOCK_INVALIDATE_VIOMMU,
			       &inv, sizeof(inv), &n);
}

static int s_nested_p(struct flow *f)
{
	return nest_mock_nested(f->fd, f->devid[0], f->parent,
				IOMMU_HWPT_FAULT_ID_VALID |
					IOMMU_HWPT_ALLOC_PASID,
				f->g->s1.root, 0, f->fault, &f->np);
}

static int s_iopf_hwpt(struct flow *f)
{
	return nest_hwpt_alloc(
		f->fd, f->devid[0], f->ioas,
		IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID,
		IOMMU_HWPT_DATA_NONE, NULL, 0, f->fault, &f->iopf_h);
}

static int s_attach1(struct flow *f)
{
	return attach(f, 1, 0, f->iopf_h);
}

static int s_attach1_pasid(struct flow *f)
{
	return attach(f, 1, 2, f->np);
}

/* A page request of device 1 at @iova (@pasid), read from the queue and
 * answered INVALID unless @keep. */
static int page_fault(struct flow *f, uint32_t pasid, uint64_t iova, bool keep)
{
	struct iommu_hwpt_pgfault pf[4];
	uint8_t b;
	ssize_t n;
	int rc = ionest_device_dma(f->m, 1, pasid, iova, &b, 1,
				   IONEST_DMA_FROM_MEM);

	if (rc != -EAGAIN)
		return rc ? rc : -EIO;
	n = ionest_read(f->ffd, pf, sizeof(pf));
	if (n < 0)
		return -errno;
	/* The group's allocation failed: answered FAILURE, nothing queued. */
	if (!n)
		return -ENOMEM;
	for (ssize_t i = 0; !keep && i < n / (ssize_t)PREC; i++) {
		struct iommu_hwpt_page_response r = { pf[i].cookie, 1 };

		if (ionest_write(f->ffd, &r, sizeof(r)) != sizeof(r))
			return -errno;
	}
	return 0;
}

static int s_iopf_rid(struct flow *f)
{
	return page_fault(f, IONEST_NO_PASID, 0x3000000, false);
}

static int s_iopf_pasid(struct flow *f)
{
	return page_fault(f, 2, HOLE, true);
}

static int s_detach1_pasid(struct flow *f)
{
	/* Answers the request left pending. */
	return detach(f, 1, 2);
}

static int s_replace0(struct flow *f)
{
	return attach(f, 0, 0, f->parent);
}

static int s_destroy_nv(struct flow *f)
{
	return fx_destroy(f->fd, f->nv);
}

static int s_close_qfd(struct flow *f)
{
	int rc = ionest_close(f->qfd);

	f->qfd = -1;
	return rc ? -errno : fx_destroy(f->fd, f->veventq);
}

static int s_close_cdev1(struct flow *f)
{
	/* Leaves vdev1's tombstone. */
	int rc = ionest_close(f->cdev[1]);

	f->cdev[1] = -1;
	return rc ? -errno : 0;
}

static int s_destroy_rest(struct flow *f)
{
	int rc = fx_destroy(f->fd, f->vdev0);

	if (!rc)
		rc = fx_destroy(f->fd, f->np);
	if (!rc)
		rc = fx_destroy(f->fd, f->iopf_h);
	if (!rc)
		rc = fx_destroy(f->fd, f->viommu);
	return rc;
}

static int (*const steps[])(struct flow *) = {
	s_machine,	 s_iommu,      s_dev0,	     s_dev1,
	s_open,		 s_ioas,       s_guest,	     s_bind0,
	s_bind1,	 s_parent,     s_fault,	     s_viommu,
	s_vdev0,	 s_vdev1,      s_veventq,    s_nested_v,
	s_attach0,	 s_dma_ok,     s_vevent,     s_inv_nested,
	s_inv_viommu,	 s_nested_p,   s_iopf_hwpt,  s_attach1,
	s_attach1_pasid, s_iopf_rid,   s_iopf_pasid, s_detach1_pasid,
	s_replace0,	 s_destroy_nv, s_close_qfd,  s_close_cdev1,
	s_destroy_rest,
};

static void flow_cleanup(struct flow *f)
{
	if (f->qfd >= 0)
		assert_int_equal(ionest_close(f->qfd), 0);
	if (f->ffd >= 0)
		assert_int_equal(ionest_close(f->ffd), 0);
	for (int i = 0; i < 2; i++) {
		if (f->cdev[i] >= 0)
			assert_int_equal(ionest_close(f->cdev[i]), 0);
	}
	if (f->fd >= 0)
		assert_int_equal(ionest_close(f->fd), 0);
	ionest_machine_free(f->m);
}

FINJECT_ADAPTERS(struct flow, steps, flow_cleanup)

static void flow_begin(void *state, void *arg)
{
	*(struct flow *)state = (struct flow){
		.g = arg,
		.fd = -1,
		.cdev = { -1, -1 },
		.ffd = -1,
		.qfd = -1,
	};
}

static void test_sweep(void **state)
{
	struct guest g;
	struct flow f;
	struct finject_flow fl = FINJECT_FLOW(steps, flow_begin, &f, &g);
	struct finject_result r;
	uint64_t data;

	/* The guest's RAM and stage 1 are built once, outside the sweep:
	 * IOVA -> a page of 0xa5, HOLE unmapped. */
	guest_init(&g, GUEST_GPA, GUEST_LEN);
	guest_s1_init(&g);
	data = guest_alloc(&g, FX_PAGE);
	memset(guest_va(&g, data), 0xa5, FX_PAGE);
	assert_int_equal(guest_s1_map(&g, IOVA, data, FX_PAGE, true), 0);
	r = finject_sweep(&fl);
	assert_true(r.swept >= 50);
	assert_true(r.failed > 0);
	guest_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
