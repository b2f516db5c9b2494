// SPDX-License-Identifier: MIT
/* The emulated PCI function as VFIO regions: region info, the access rules
 * of region reads and writes, config space (header, PCI Express, ATS, PRI
 * and PASID capabilities), BAR sizing, function-level reset. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/fixture.h"
#include "pci_util.h"

struct env {
	struct fx f;
	int fd; /* device 0's cdev, bound */
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	fx_setup(&e->f, NULL, 2);
	assert_int_equal(fx_bind(&e->f, 0), 0);
	e->fd = e->f.cdev[0];
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	fx_teardown(&e->f);
	free(e);
	return 0;
}

static void region(int fd, uint32_t index, struct vfio_region_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->argsz = sizeof(*ri);
	ri->index = index;
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, ri), 0);
	assert_int_equal(ri->offset, REGION(index));
}

static void test_region_info(void **state)
{
	struct env *e = *state;
	struct vfio_region_info ri;

	region(e->fd, VFIO_PCI_BAR0_REGION_INDEX, &ri);
	assert_int_equal(ri.size, IONEST_BAR0_SIZE);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ |
					   VFIO_REGION_INFO_FLAG_WRITE);
	region(e->fd, VFIO_PCI_CONFIG_REGION_INDEX, &ri);
	assert_int_equal(ri.size, 4096);
	assert_int_equal(ri.flags, VFIO_REGION_INFO_FLAG_READ |
					   VFIO_REGION_INFO_FLAG_WRITE);
	/* No MMAP flag anywhere; absent regions have size 0. */
	for (uint32_t i = VFIO_PCI_BAR1_REGION_INDEX; i < VFIO_PCI_NUM_REGIONS;
	     i++) {
		if (i == VFIO_PCI_CONFIG_REGION_INDEX)
			continue;
		region(e->fd, i, &ri);
		assert_int_equal(ri.size, 0);
		assert_int_equal(ri.flags, 0);
	}
}

static void test_access_rules(void **state)
{
	struct env *e = *state;
	uint8_t buf[16];
	int unbound;

	/* Nothing before bind. */
	unbound = ionest_open(e->f.m, "/dev/vfio/devices/vfio1", O_RDWR);
	assert_true(unbound >= 0);
	assert_int_equal(ionest_pread(unbound, buf, 4, (off_t)CFG_OFF(0)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ionest_close(unbound), 0);
	/* Outside every region, absent regions, the end of a region. */
	assert_int_equal(ionest_pread(e->fd, buf, 4, (off_t)REGION(9)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ionest_pread(e->fd, buf, 4, (off_t)REGION(1)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ionest_pread(e->fd, buf, 4, (off_t)CFG_OFF(4096)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ionest_pwrite(e->fd, buf, 4, IONEST_BAR0_SIZE), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ionest_pread(e->fd, buf, 16, (off_t)CFG_OFF(4090)), 6);
	assert_int_equal(ionest_pread(e->fd, buf, 0, (off_t)CFG_OFF(0)), 0);
	assert_int_equal(ionest_pread(e->fd, buf, 4, -1), -1);
	assert_int_equal(errno, EINVAL);
	/* Bad buffers are EFAULT, not a crash. */
	assert_int_equal(ionest_pread(e->fd, NULL, 4, (off_t)CFG_OFF(0)), -1);
	assert_int_equal(errno, EFAULT);
	assert_int_equal(ionest_pwrite(e->fd, (void *)8, 4, (off_t)CFG_OFF(0)),
			 -1);
	assert_int_equal(errno, EFAULT);
	/* Other fds: no position; not ours: EBADF. */
	assert_int_equal(ionest_pread(e->f.fd, buf, 4, 0), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(ionest_pwrite(e->f.fd, buf, 4, 0), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(ionest_pread(0, buf, 4, 0), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(ionest_lseek(e->f.fd, 0, SEEK_SET), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(ionest_lseek(-1, 0, SEEK_SET), -1);
	assert_int_equal(errno, EBADF);
}

static void test_position(void **state)
{
	struct env *e = *state;
	uint32_t v;

	assert_int_equal(ionest_lseek(e->fd, (off_t)CFG_OFF(0), SEEK_SET),
			 (off_t)CFG_OFF(0));
	assert_int_equal(ionest_read(e->fd, &v, 4), 4);
	assert_int_equal(v, IONEST_PCI_DEVICE_ID << 16 | IONEST_PCI_VENDOR_ID);
	/* The position moved on: the command/status word is next. */
	assert_int_equal(ionest_lseek(e->fd, 0, SEEK_CUR), (off_t)CFG_OFF(4));
	v = 0x2;
	assert_int_equal(ionest_write(e->fd, &v, 2), 2);
	assert_int_equal(cfg_read(e->fd, 4, 2), 0x2);
	assert_int_equal(ionest_lseek(e->fd, -2, SEEK_CUR), (off_t)CFG_OFF(4));
	assert_int_equal(ionest_lseek(e->fd, 0, SEEK_END), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ionest_lseek(e->fd, -1, SEEK_SET), -1);
	assert_int_equal(errno, EINVAL);
	/* A failed read leaves the position. */
	assert_int_equal(ionest_lseek(e->fd, (off_t)REGION(5), SEEK_SET),
			 (off_t)REGION(5));
	assert_int_equal(ionest_read(e->fd, &v, 4), -1);
	assert_int_equal(ionest_lseek(e->fd, 0, SEEK_CUR), (off_t)REGION(5));
}

static void test_header(void **state)
{
	struct env *e = *state;
	int fd = e->fd;

	assert_int_equal(cfg_read(fd, 0, 2), IONEST_PCI_VENDOR_ID);
	assert_int_equal(cfg_read(fd, 2, 2), IONEST_PCI_DEVICE_ID);
	assert_int_equal(cfg_read(fd, 4, 2), 0); /* command: all off */
	assert_int_equal(cfg_read(fd, 6, 2), 0x10); /* capability list */
	assert_int_equal(cfg_read(fd, 8, 4),
			 IONEST_PCI_CLASS << 8 | IONEST_PCI_REVISION);
	assert_int_equal(cfg_read(fd, 0x0e, 1), 0); /* type 0 */
	assert_int_equal(cfg_read(fd, 0x10, 4), 0); /* BAR0 unassigned */
	assert_int_equal(cfg_read(fd, 0x14, 4), 0); /* no BAR1 */
	assert_int_equal(cfg_read(fd, 0x2c, 2), IONEST_PCI_VENDOR_ID);
	assert_int_equal(cfg_read(fd, 0x2e, 2), IONEST_PCI_DEVICE_ID);
	assert_int_equal(cfg_read(fd, 0x34, 1), IONEST_PCI_PCIE_CAP);
	assert_int_equal(cfg_read(fd, 0x3d, 1), 0); /* no INTx pin */
	/* PCI Express capability, last in the list: v2 endpoint, FLR. */
	assert_int_equal(cfg_read(fd, 0x40, 2), 0x0010);
	assert_int_equal(cfg_read(fd, 0x42, 2) & 0xff, 0x02);
	assert_true(cfg_read(fd, 0x44, 4) & (1u << 28));
}

static void test_header_writes(void **state)
{
	struct env *e = *state;
	int fd = e->fd;

	/* Command: only the implemented bits stick. */
	cfg_write(fd, 4, 2, 0xffff);
	assert_int_equal(cfg_read(fd, 4, 2), 0x0546);
	/* Status: read-only, error bits write-1-to-clear (none set). */
	cfg_write(fd, 6, 2, 0xffff);
	assert_int_equal(cfg_read(fd, 6, 2), 0x10);
	/* IDs are read-only. */
	cfg_write(fd, 0, 4, 0x12345678);
	assert_int_equal(cfg_read(fd, 0, 2), IONEST_PCI_VENDOR_ID);
	/* BAR sizing: all ones read back as the size mask. */
	cfg_write(fd, 0x10, 4, 0xffffffff);
	assert_int_equal(cfg_read(fd, 0x10, 4),
			 ~(uint32_t)(IONEST_BAR0_SIZE - 1));
	cfg_write(fd, 0x10, 4, 0xfe012345);
	assert_int_equal(cfg_read(fd, 0x10, 4), 0xfe000000);
	/* A write spanning registers: cache line size RW, latency RO. */
	cfg_write(fd, 0x0c, 2, 0xabcd);
	assert_int_equal(cfg_read(fd, 0x0c, 2), 0x00cd);
	cfg_write(fd, 0x3c, 2, 0xffff);
	assert_int_equal(cfg_read(fd, 0x3c, 2), 0x00ff);
	/* Reserved space reads zero and ignores writes. */
	cfg_write(fd, 0x200, 4, 0xffffffff);
	assert_int_equal(cfg_read(fd, 0x200, 4), 0);
	/* Device Control: bit 15 is an action and reads zero. */
	cfg_write(fd, 0x48, 2, 0x0000);
	assert_int_equal(cfg_read(fd, 0x48, 2), 0);
}

/* A machine with one device of the given capabilities, bound. */
struct one {
	struct ionest_machine *m;
	int iommufd, fd;
};

static void one_setup(struct one *o, uint8_t pasid_bits, bool ats, bool pri,
		      bool exec, bool priv)
{
	struct ionest_device_config dc = {
		.iommu = "io",
		.rid = 8,
		.pasid_bits = pasid_bits,
		.ats = ats,
		.pri = pri,
		.pasid_exec = exec,
		.pasid_priv = priv,
	};
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b) };

	o->m = ionest_machine_new();
	assert_int_equal(ionest_machine_add_iommu(o->m, "io",
						  ionest_mock_iommu_new(NULL)),
			 0);
	assert_int_equal(ionest_machine_add_device(o->m, &dc), 0);
	o->iommufd = ionest_open(o->m, "/dev/iommu", O_RDWR);
	o->fd = ionest_open(o->m, "/dev/vfio/devices/vfio0", O_RDWR);
	b.iommufd = o->iommufd;
	assert_int_equal(fx_ioctl(o->fd, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
}

static void one_teardown(struct one *o)
{
	assert_int_equal(ionest_close(o->fd), 0);
	assert_int_equal(ionest_close(o->iommufd), 0);
	ionest_machine_free(o->m);
}

/* Extended capability header: ID, version, next. */
static void ext(int fd, uint32_t off, uint32_t id, uint32_t next)
{
	assert_int_equal(cfg_read(fd, off, 4), id | 1u << 16 | next << 20);
}

static void test_no_ext_caps(void **state)
{
	struct one o;

	one_setup(&o, 0, false, false, false, false);
	assert_int_equal(cfg_read(o.fd, 0x100, 4), 0);
	one_teardown(&o);
}

static void test_ext_caps_fixture(void **state)
{
	struct env *e = *state;

	/* The fixture's functions: ATS, PASID (8 bits, exec). */
	ext(e->fd, 0x100, 0x000f, 0x110);
	ext(e->fd, 0x110, 0x001b, 0);
	assert_int_equal(cfg_read(e->fd, 0x114, 2), 8 << 8 | 1 << 1);
}

static void test_ext_caps_all(void **state)
{
	struct one o;
	int fd;

	one_setup(&o, 20, true, true, false, true);
	fd = o.fd;
	ext(fd, 0x100, 0x000f, 0x110);
	ext(fd, 0x110, 0x0013, 0x120);
	ext(fd, 0x120, 0x001b, 0);
	/* ATS: page aligned requests; control STU and enable writable. */
	assert_int_equal(cfg_read(fd, 0x104, 2), 1 << 5);
	cfg_write(fd, 0x106, 2, 0xffff);
	assert_int_equal(cfg_read(fd, 0x106, 2), 0x801f);
	/* PRI: stopped while disabled, PASID required in responses. */
	assert_int_equal(cfg_read(fd, 0x116, 2), 1u << 15 | 1u << 8);
	assert_int_equal(cfg_read(fd, 0x118, 4), 32);
	cfg_write(fd, 0x114, 2, 0x3); /* enable + reset */
	assert_int_equal(cfg_read(fd, 0x114, 2), 0x1);
	assert_int_equal(cfg_read(fd, 0x116, 2), 1u << 15);
	cfg_write(fd, 0x116, 2, 0xffff); /* RW1C bits clear, never set */
	assert_int_equal(cfg_read(fd, 0x116, 2), 1u << 15);
	cfg_write(fd, 0x11c, 4, 16);
	assert_int_equal(cfg_read(fd, 0x11c, 4), 16);
	cfg_write(fd, 0x114, 2, 0);
	assert_int_equal(cfg_read(fd, 0x116, 2), 1u << 15 | 1u << 8);
	/* PASID: 20 bits, privileged mode; exec enable not writable. */
	assert_int_equal(cfg_read(fd, 0x124, 2), 20 << 8 | 1 << 2);
	cfg_write(fd, 0x126, 2, 0xffff);
	assert_int_equal(cfg_read(fd, 0x126, 2), 0x5);
	one_teardown(&o);
}

static void test_flr(void **state)
{
	struct env *e = *state;
	int fd = e->fd;

	pci_enable(fd);
	cfg_write(fd, 0x10, 4, 0xfe000000);
	cfg_write(fd, 0x106, 2, 0x8000); /* ATS enable */
	bar_w32(fd, IONEST_DMA_LEN, 77);
	bar_w32(fd, IONEST_DEVMEM_OFFSET, 0xdeadbeef);
	/* Initiate FLR through Device Control. */
	cfg_write(fd, 0x48, 2, 0x8000);
	assert_int_equal(cfg_read(fd, 4, 2), 0);
	assert_int_equal(cfg_read(fd, 0x10, 4), 0);
	assert_int_equal(cfg_read(fd, 0x106, 2), 0);
	assert_int_equal(cfg_read(fd, 0x48, 2), 0x2810);
	pci_enable(fd);
	assert_int_equal(bar_r32(fd, IONEST_DMA_LEN), 0);
	assert_int_equal(bar_r32(fd, IONEST_DEVMEM_OFFSET), 0);
	/* VFIO_DEVICE_RESET does the same. */
	bar_w32(fd, IONEST_DMA_LEN, 77);
	assert_int_equal(fx_ioctl(fd, VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(cfg_read(fd, 4, 2), 0);
	pci_enable(fd);
	assert_int_equal(bar_r32(fd, IONEST_DMA_LEN), 0);
}

static void test_reset_before_access(void **state)
{
	struct env *e = *state;

	/* The function's state is made on first use: reset first works. */
	assert_int_equal(fx_bind(&e->f, 1), 0);
	assert_int_equal(fx_ioctl(e->f.cdev[1], VFIO_DEVICE_RESET, NULL), 0);
	assert_int_equal(cfg_read(e->f.cdev[1], 0, 2), IONEST_PCI_VENDOR_ID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_region_info, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_access_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_position, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_writes, setup,
						teardown),
		cmocka_unit_test(test_no_ext_caps),
		cmocka_unit_test_setup_teardown(test_ext_caps_fixture, setup,
						teardown),
		cmocka_unit_test(test_ext_caps_all),
		cmocka_unit_test_setup_teardown(test_flr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_before_access, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
