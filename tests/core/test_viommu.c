// SPDX-License-Identifier: MIT
/*
 * vIOMMU and vDEVICE objects on the mock (iommufd-uapi.md §8): the size
 * and errno rules of VIOMMU_ALLOC and VDEVICE_ALLOC (checked against Linux
 * 7.3 with linux-ref), driver data in and out, nested HWPTs made on a
 * vIOMMU, invalidation through the vIOMMU by virtual ID, the EBUSY matrix
 * and the tombstone a vDEVICE leaves when its device is unbound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "nest_util.h"

#define IOVA 0x100000ull

struct env {
	struct fx f;
	struct guest g;
	uint32_t ioas, parent;
};

static int env_up(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct ionest_device_config dc = {
		.iommu = "iommu1",
		.rid = 0x300,
		.pasid_bits = 8,
	};

	fx_setup(&e->f, NULL, 2);
	/* Device 2 sits behind another IOMMU instance. */
	assert_int_equal(ionest_machine_add_iommu(e->f.m, "iommu1",
						  ionest_mock_iommu_new(NULL)),
			 0);
	e->f.dev[2] = ionest_machine_add_device(e->f.m, &dc);
	e->f.cdev[2] = -1;
	e->f.ndev = 3;
	for (int i = 0; i < 3; i++)
		assert_int_equal(fx_bind(&e->f, i), 0);
	e->ioas = fx_ioas(e->f.fd);
	guest_init(&e->g, GUEST_GPA, GUEST_LEN);
	assert_int_equal(guest_map(&e->g, e->f.fd, e->ioas), 0);
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT,
				       &e->parent),
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

static uint32_t viommu(struct env *e)
{
	uint32_t id;

	assert_int_equal(nest_viommu_alloc(e->f.fd, e->f.devid[0], e->parent,
					   IONEST_MOCK_VIOMMU, &id),
			 0);
	return id;
}

/* ---- Size rules of the two new ioctls ---- */

static long raw(struct env *e, unsigned long req, const void *cmd,
		size_t cmd_size, uint32_t size, int tail)
{
	uint8_t buf[128];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, cmd, size < cmd_size ? size : cmd_size);
	memcpy(buf, &size, 4);
	if (tail >= 0)
		buf[size - 1] = (uint8_t)tail;
	return fx_ioctl(e->f.fd, req, buf);
}

static void test_size_rules(void **state)
{
	struct env *e = *state;
	struct iommu_viommu_alloc va = {
		.type = IONEST_MOCK_VIOMMU,
		.dev_id = e->f.devid[0],
		.hwpt_id = e->parent,
	};
	struct iommu_vdevice_alloc vd = { .dev_id = e->f.devid[1] };
	uint32_t v;

	/* VIOMMU_ALLOC: 40 bytes, minimum 24 (out_viommu_id). */
	assert_int_equal(raw(e, IOMMU_VIOMMU_ALLOC, &va, sizeof(va), 23, -1),
			 -EINVAL);
	assert_int_equal(raw(e, IOMMU_VIOMMU_ALLOC, &va, sizeof(va), 41, 1),
			 -E2BIG);
	assert_int_equal(raw(e, IOMMU_VIOMMU_ALLOC, &va, sizeof(va), 41, 0), 0);
	assert_int_equal(raw(e, IOMMU_VIOMMU_ALLOC, &va, sizeof(va), 40, -1),
			 0);
	assert_int_equal(raw(e, IOMMU_VIOMMU_ALLOC, &va, sizeof(va), 24, -1),
			 0);
	/* VDEVICE_ALLOC: 24 bytes, all of them needed. */
	v = viommu(e);
	vd.viommu_id = v;
	vd.virt_id = 1;
	assert_int_equal(raw(e, IOMMU_VDEVICE_ALLOC, &vd, sizeof(vd), 23, -1),
			 -EINVAL);
	assert_int_equal(raw(e, IOMMU_VDEVICE_ALLOC, &vd, sizeof(vd), 25, 1),
			 -E2BIG);
	assert_int_equal(raw(e, IOMMU_VDEVICE_ALLOC, &vd, sizeof(vd), 25, 0),
			 0);
	vd.dev_id = e->f.devid[0];
	vd.virt_id = 2;
	assert_int_equal(raw(e, IOMMU_VDEVICE_ALLOC, &vd, sizeof(vd), 24, -1),
			 0);
}

/* ---- VIOMMU_ALLOC ---- */

static void test_viommu_alloc_errors(void **state)
{
	struct env *e = *state;
	struct iommu_viommu_alloc c;
	uint32_t plain, v1, v2, id;
	int fd = e->f.fd;

	assert_int_equal(fx_hwpt_alloc(fd, e->f.devid[0], e->ioas, 0, &plain),
			 0);
#define V(flags_, type_, dev_, hwpt_, err)                                     \
	do {                                                                   \
		memset(&c, 0, sizeof(c));                                      \
		c.size = sizeof(c);                                            \
		c.flags = (flags_);                                            \
		c.type = (type_);                                              \
		c.dev_id = (dev_);                                             \
		c.hwpt_id = (hwpt_);                                           \
		assert_int_equal(fx_ioctl(fd, IOMMU_VIOMMU_ALLOC, &c), (err)); \
	} while (0)
	V(1, IONEST_MOCK_VIOMMU, e->f.devid[0], e->parent, -EOPNOTSUPP);
	V(0, IOMMU_VIOMMU_TYPE_DEFAULT, e->f.devid[0], e->parent, -EOPNOTSUPP);
	V(0, IOMMU_VIOMMU_TYPE_ARM_SMMUV3, e->f.devid[0], e->parent,
	  -EOPNOTSUPP);
	/* The type is judged before the HWPT (Linux 7.3). */
	V(0, 0x1234, e->f.devid[0], 999, -EOPNOTSUPP);
	V(0, IONEST_MOCK_VIOMMU, 999, e->parent, -ENOENT);
	V(0, IONEST_MOCK_VIOMMU, e->ioas, e->parent, -ENOENT);
	/* hwpt_id: a paging HWPT (ENOENT otherwise), a nest parent. */
	V(0, IONEST_MOCK_VIOMMU, e->f.devid[0], e->ioas, -ENOENT);
	V(0, IONEST_MOCK_VIOMMU, e->f.devid[0], 999, -ENOENT);
	V(0, IONEST_MOCK_VIOMMU, e->f.devid[0], plain, -EINVAL);
	/* A device of another IOMMU instance than the parent's. */
	V(0, IONEST_MOCK_VIOMMU, e->f.devid[2], e->parent, -EINVAL);
	/* Linux 7.3 does not look at __reserved here. */
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.type = IONEST_MOCK_VIOMMU;
	c.dev_id = e->f.devid[0];
	c.hwpt_id = e->parent;
	c.__reserved = 7;
	assert_int_equal(fx_ioctl(fd, IOMMU_VIOMMU_ALLOC, &c), 0);
	v1 = c.out_viommu_id;
	assert_non_null(nest_object(fd, v1, IOMMUFD_OBJ_VIOMMU));
	/* Many vIOMMUs may share a parent. */
	v2 = viommu(e);
	assert_true(v2 != v1);
	/* A vIOMMU is not a HWPT. */
	assert_int_equal(nest_viommu_alloc(fd, e->f.devid[0], v1,
					   IONEST_MOCK_VIOMMU, &id),
			 -ENOENT);
	assert_int_equal(fx_destroy(fd, v1), 0);
	assert_int_equal(fx_destroy(fd, v2), 0);
	assert_int_equal(fx_destroy(fd, plain), 0);
#undef V
}

static int viommu_data(struct env *e, uint32_t hwpt, const void *data,
		       uint32_t len, uint32_t *out)
{
	struct iommu_viommu_alloc c = {
		.size = sizeof(c),
		.type = IONEST_MOCK_VIOMMU,
		.dev_id = e->f.devid[0],
		.hwpt_id = hwpt,
		.data_len = len,
		.data_uptr = (uint64_t)(uintptr_t)data,
	};
	long rc = fx_ioctl(e->f.fd, IOMMU_VIOMMU_ALLOC, &c);

	if (!rc && out)
		*out = c.out_viommu_id;
	return (int)rc;
}

static void test_viommu_data(void **state)
{
	struct env *e = *state;
	struct ionest_mock_viommu_data d = { .out_vmid = 0xdeadbeef };
	uint32_t buf[4] = { 0, 0xaaaaaaaa, 0xbbbbbbbb, 0 };
	uint32_t v1 = 0, v2 = 0, v3 = 0, parent2 = 0, vmid = 0;

	/* In/out: out_vmid is written back. */
	assert_int_equal(viommu_data(e, e->parent, &d, sizeof(d), &v1), 0);
	assert_true(d.out_vmid != 0xdeadbeef);
	vmid = d.out_vmid;
	/* Another vIOMMU of the same parent: the same stage-2 tag. */
	d.out_vmid = 0;
	assert_int_equal(viommu_data(e, e->parent, &d, sizeof(d), &v2), 0);
	assert_int_equal(d.out_vmid, vmid);
	/* Another parent: another tag. */
	assert_int_equal(fx_hwpt_alloc(e->f.fd, e->f.devid[0], e->ioas,
				       IOMMU_HWPT_ALLOC_NEST_PARENT, &parent2),
			 0);
	assert_int_equal(viommu_data(e, parent2, &d, sizeof(d), &v3), 0);
	assert_true(d.out_vmid != vmid);
	/* Only the caller's length is written: 4 bytes in, nothing out of
	 * bounds. */
	assert_int_equal(viommu_data(e, e->parent, buf, 4, NULL), 0);
	assert_int_equal(buf[1], 0xaaaaaaaa);
	/* Bad data. */
	d.flags = 1;
	assert_int_equal(viommu_data(e, e->parent, &d, sizeof(d), NULL),
			 -EOPNOTSUPP);
	d.flags = 0;
	assert_int_equal(viommu_data(e, e->parent, &d, 2, NULL), -EINVAL);
	assert_int_equal(viommu_data(e, e->parent, buf, 12, NULL), -EINVAL);
	assert_int_equal(viommu_data(e, e->parent, (void *)8, sizeof(d), NULL),
			 -EFAULT);
	/* Output to memory that cannot be written: EFAULT, nothing left. */
	assert_int_equal(viommu_data(e, e->parent, "\0\0\0\0\0\0\0\0",
				     sizeof(d), NULL),
			 -EFAULT);
	assert_int_equal(fx_destroy(e->f.fd, parent2), -EBUSY);
	assert_int_equal(fx_destroy(e->f.fd, v3), 0);
	assert_int_equal(fx_destroy(e->f.fd, parent2), 0);
	(void)v1;
	(void)v2;
}

/* ---- VDEVICE_ALLOC ---- */

static void test_vdevice_rules(void **state)
{
	struct env *e = *state;
	uint32_t v = viommu(e), vd0, vd1, next;
	int fd = e->f.fd;

	assert_int_equal(nest_vdevice_alloc(fd, 999, e->f.devid[0], 1, NULL),
			 -ENOENT);
	assert_int_equal(nest_vdevice_alloc(fd, e->parent, e->f.devid[0], 1,
					    NULL),
			 -ENOENT);
	assert_int_equal(nest_vdevice_alloc(fd, v, 999, 1, NULL), -ENOENT);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->ioas, 1, NULL), -ENOENT);
	/* Behind another physical IOMMU. */
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[2], 1, NULL),
			 -EINVAL);
	/* The mock's virtual IDs are 32-bit: its vdevice_init refuses, and
	 * the object made on the way is gone. */
	next = fx_ioas(fd);
	assert_int_equal(fx_destroy(fd, next), 0);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[0], 1ull << 32,
					    NULL),
			 -EINVAL);
	assert_int_equal(fx_ioas(fd), next);
	assert_int_equal(fx_destroy(fd, next), 0);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[0], 0x10, &vd0),
			 0);
	assert_non_null(nest_object(fd, vd0, IOMMUFD_OBJ_VDEVICE));
	/* One vDEVICE per device; one device per virtual ID. */
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[0], 0x11, NULL),
			 -EEXIST);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[1], 0x10, NULL),
			 -EEXIST);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[1], 0x11, &vd1),
			 0);
	/* The same virtual ID on another vIOMMU is another namespace, but
	 * the device already has its vDEVICE. */
	{
		uint32_t v2 = viommu(e);

		assert_int_equal(nest_vdevice_alloc(fd, v2, e->f.devid[0], 0x10,
						    NULL),
				 -EEXIST);
		assert_int_equal(fx_destroy(fd, v2), 0);
	}
	/* The driver-facing lookups see them. */
	{
		struct iommufd_viommu *vo =
			nest_object(fd, v, IOMMUFD_OBJ_VIOMMU);
		struct iommufd_device *i0 =
			nest_object(fd, e->f.devid[0], IOMMUFD_OBJ_DEVICE);
		uint64_t vid = 0;

		assert_ptr_equal(iommufd_viommu_find_dev(vo->hw, 0x10),
				 i0->dev);
		assert_null(iommufd_viommu_find_dev(vo->hw, 0x12));
		assert_int_equal(
			iommufd_viommu_get_vdev_id(vo->hw, i0->dev, &vid), 0);
		assert_int_equal(vid, 0x10);
	}
	/* vIOMMU busy while vDEVICEs exist. */
	assert_int_equal(fx_destroy(fd, v), -EBUSY);
	assert_int_equal(fx_destroy(fd, vd0), 0);
	assert_int_equal(fx_destroy(fd, v), -EBUSY);
	assert_int_equal(fx_destroy(fd, vd1), 0);
	assert_int_equal(fx_destroy(fd, v), 0);
	assert_int_equal(fx_destroy(fd, vd1), -ENOENT);
}

static void test_vdevice_tombstone(void **state)
{
	struct env *e = *state;
	uint32_t v = viommu(e), vd, id;
	struct iommufd_viommu *vo = nest_object(e->f.fd, v, IOMMUFD_OBJ_VIOMMU);
	int fd = e->f.fd;

	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[1], 0x22, &vd),
			 0);
	/* Unbinding the device destroys its vDEVICE ... */
	assert_int_equal(ionest_close(e->f.cdev[1]), 0);
	e->f.cdev[1] = -1;
	assert_null(iommufd_viommu_find_dev(vo->hw, 0x22));
	/* ... and leaves a tombstone: ENOENT, the ID not handed out. */
	assert_int_equal(fx_destroy(fd, vd), -ENOENT);
	assert_null(nest_object(fd, vd, IOMMUFD_OBJ_ANY));
	for (int i = 0; i < 3; i++) {
		id = fx_ioas(fd);
		assert_true(id != vd);
	}
	/* The vIOMMU is free of it. */
	assert_int_equal(fx_destroy(fd, v), 0);
	/* Bound again, the device can have a vDEVICE again. */
	assert_int_equal(fx_bind(&e->f, 1), 0);
	v = viommu(e);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[1], 0x22, &id),
			 0);
	assert_true(id != vd);
	/* Closing the iommufd with the tombstone around frees it (ASan). */
}

/* ---- Nested HWPTs on a vIOMMU ---- */

static void test_viommu_nested(void **state)
{
	struct env *e = *state;
	uint64_t data = guest_alloc(&e->g, FX_PAGE);
	uint32_t v = viommu(e), n, pt, vd;
	int fd = e->f.fd;
	uint8_t b = 0;

	*(uint8_t *)guest_va(&e->g, data) = 0x3c;
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, data, FX_PAGE, true), 0);
	/* The device must sit behind the vIOMMU's IOMMU. */
	assert_int_equal(nest_mock_nested(fd, e->f.devid[2], v, 0, e->g.s1.root,
					  0, 0, NULL),
			 -EINVAL);
	assert_int_equal(nest_mock_nested(fd, e->f.devid[0], v,
					  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					  e->g.s1.root, 0, 0, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_hwpt_alloc(fd, e->f.devid[0], v, 0,
					 IOMMU_HWPT_DATA_NONE, NULL, 0, 0,
					 NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_hwpt_alloc(fd, e->f.devid[0], v, 0,
					 IOMMU_HWPT_DATA_ARM_SMMUV3, &data, 16,
					 0, NULL),
			 -EOPNOTSUPP);
	assert_int_equal(nest_mock_nested(fd, e->f.devid[0], v, 0, e->g.s1.root,
					  0, 0, &n),
			 0);
	/* The vIOMMU holds the parent; the nested HWPT holds the vIOMMU. */
	assert_int_equal(fx_destroy(fd, v), -EBUSY);
	assert_int_equal(fx_destroy(fd, e->parent), -EBUSY);
	/* Attaching needs a vDEVICE on that vIOMMU (the mock, like Linux's
	 * selftest driver, says ENOENT). */
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), -ENOENT);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[0], 5, &vd), 0);
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 0x3c);
	assert_int_equal(fx_detach(&e->f, 0), 0);
	assert_int_equal(fx_destroy(fd, n), 0);
	assert_int_equal(fx_destroy(fd, v), -EBUSY); /* the vDEVICE */
	assert_int_equal(fx_destroy(fd, vd), 0);
	assert_int_equal(fx_destroy(fd, v), 0);
	assert_int_equal(fx_destroy(fd, e->parent), 0);
}

static void test_viommu_invalidate(void **state)
{
	struct env *e = *state;
	uint64_t d1 = guest_alloc(&e->g, FX_PAGE), d2 = guest_alloc(&e->g, 1);
	struct ionest_mock_viommu_invalidate inv[2] = { 0 };
	uint32_t v = viommu(e), n, pt, num;
	int fd = e->f.fd;
	uint8_t b, big[40] = { 0 };

	*(uint8_t *)guest_va(&e->g, d1) = 1;
	*(uint8_t *)guest_va(&e->g, d2) = 2;
	guest_s1_init(&e->g);
	assert_int_equal(guest_s1_map(&e->g, IOVA, d1, FX_PAGE, true), 0);
	assert_int_equal(nest_mock_nested(fd, e->f.devid[0], v, 0, e->g.s1.root,
					  0, 0, &n),
			 0);
	assert_int_equal(nest_vdevice_alloc(fd, v, e->f.devid[0], 0x77, NULL),
			 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 1);
	assert_int_equal(guest_s1_unmap(&e->g, IOVA, FX_PAGE), 0);
	assert_int_equal(guest_s1_map(&e->g, IOVA, d2, FX_PAGE, true), 0);
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 1); /* stale */

	/* Probing the type. */
	num = 0;
	assert_int_equal(nest_invalidate(fd, v, IONEST_MOCK_INVALIDATE_VIOMMU,
					 NULL, 0, &num),
			 0);
	assert_int_equal(nest_invalidate(fd, v, IONEST_MOCK_INVALIDATE_NESTED,
					 NULL, 0, &num),
			 -EINVAL);
	/* An unknown virtual ID stops the array at that entry. */
	inv[0] = (struct ionest_mock_viommu_invalidate){
		.virt_id = 0x77,
		.iova = IOVA + FX_PAGE,
		.length = FX_PAGE,
	};
	inv[1] = (struct ionest_mock_viommu_invalidate){
		.virt_id = 0x78,
		.flags = IONEST_MOCK_INVALIDATE_ALL,
	};
	num = 2;
	assert_int_equal(nest_invalidate(fd, v, IONEST_MOCK_INVALIDATE_VIOMMU,
					 inv, sizeof(inv[0]), &num),
			 -EINVAL);
	assert_int_equal(num, 1);
	/* The first one did not cover IOVA. */
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 1);
	/* Entry sizes: 28 (minimum) and 32 work, 27 and 40 do not. */
	inv[0].iova = IOVA;
	num = 1;
	assert_int_equal(nest_invalidate(fd, v, IONEST_MOCK_INVALIDATE_VIOMMU,
					 inv, 27, &num),
			 -EINVAL);
	memcpy(big, inv, sizeof(inv[0]));
	num = 1;
	assert_int_equal(nest_invalidate(fd, v, IONEST_MOCK_INVALIDATE_VIOMMU,
					 big, sizeof(big), &num),
			 -EINVAL);
	inv[1].flags = 2;
	num = 2;
	assert_int_equal(nest_invalidate(fd, v, IONEST_MOCK_INVALIDATE_VIOMMU,
					 inv, sizeof(inv[0]), &num),
			 -EOPNOTSUPP);
	assert_int_equal(num, 1);
	/* That one covered it. */
	assert_int_equal(fx_dma_read(&e->f, 0, IONEST_NO_PASID, IOVA, &b, 1),
			 0);
	assert_int_equal(b, 2);
	num = 1;
	assert_int_equal(nest_invalidate(fd, v, IONEST_MOCK_INVALIDATE_VIOMMU,
					 inv, 28, &num),
			 0);
	assert_int_equal(num, 1);
	assert_int_equal(fx_detach(&e->f, 0), 0);
}

static void test_close_with_everything(void **state)
{
	struct env *e = *state;
	uint32_t v = viommu(e), n, pt;
	int qfd, ffd;
	uint32_t q, fq;

	/* A full graph left to the close: nested HWPT attached, vDEVICE,
	 * vEVENTQ and fault queue with their fds closed first. */
	assert_int_equal(nest_vdevice_alloc(e->f.fd, v, e->f.devid[0], 1, NULL),
			 0);
	assert_int_equal(nest_fault_alloc(e->f.fd, &fq, &ffd), 0);
	assert_int_equal(nest_mock_nested(e->f.fd, e->f.devid[0], v,
					  IOMMU_HWPT_FAULT_ID_VALID,
					  guest_s1_init(&e->g), 0, fq, &n),
			 0);
	assert_int_equal(nest_veventq_alloc(e->f.fd, v, IONEST_MOCK_VEVENTQ, 4,
					    &q, &qfd),
			 0);
	pt = n;
	assert_int_equal(fx_attach(&e->f, 0, &pt), 0);
	assert_int_equal(ionest_close(qfd), 0);
	assert_int_equal(ionest_close(ffd), 0);
	/* env_down closes the cdevs and the iommufd. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, env_up, env_down)
		T(test_size_rules),	   T(test_viommu_alloc_errors),
		T(test_viommu_data),	   T(test_vdevice_rules),
		T(test_vdevice_tombstone), T(test_viommu_nested),
		T(test_viommu_invalidate), T(test_close_with_everything),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
