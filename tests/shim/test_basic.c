// SPDX-License-Identifier: MIT
/*
 * An unmodified program on the emulated devices (examples/mock.yaml: two
 * functions, vfio0 with PASID and ATS, vfio1 with PASID): the device
 * paths, stat and access, the iommufd ioctls and their errno contract,
 * DMA by the device's BAR0 engine landing in this program's memory, the
 * VFIO type1 container path, and the calls a VMM makes on device fds.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim_util.h"

/* glibc's fortified entry points, as -D_FORTIFY_SOURCE builds call them. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);

static void test_paths(void **state)
{
	int fd;

	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
	close(fd);
	fd = open("/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(fcntl(fd, F_GETFD), 0);
	close(fd);
	fd = openat(AT_FDCWD, "/dev/vfio/vfio", O_RDWR);
	assert_true(fd >= 0);
	close(fd);
	fd = open("/dev/vfio/devices/vfio1", O_RDWR | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	fd = __open_2("/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(fd >= 0);
	close(fd);
	fd = __openat_2(AT_FDCWD, "/dev/iommu", O_RDWR);
	assert_true(fd >= 0);
	close(fd);
	/* The machine has two functions; other names do not exist. */
	assert_int_equal(xopen("/dev/vfio/devices/vfio2", O_RDWR), -ENOENT);
	assert_int_equal(xopen("/dev/vfio/devices/vfio01", O_RDWR), -ENOENT);
	assert_int_equal(xopen("/dev/vfio/devices/dev", O_RDWR), -ENOENT);
	assert_int_equal(xopen("/dev/iommu", O_RDWR | O_DIRECTORY), -ENOTDIR);
	assert_int_equal(open("/dev/iommu", O_RDWR | O_CREAT | O_EXCL, 0600),
			 -1);
	assert_int_equal(errno, EEXIST);
	/* Everything else is libc's. */
	fd = open("/dev/null", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
	assert_int_equal(xopen("/dev/iommux", O_RDWR), -ENOENT);
	assert_int_equal(xopen("/nonexistent", O_RDONLY), -ENOENT);
}

static void check_chr(const struct stat *st, unsigned maj, unsigned min)
{
	assert_true(S_ISCHR(st->st_mode));
	assert_int_equal(major(st->st_rdev), maj);
	assert_int_equal(minor(st->st_rdev), min);
	assert_int_equal(st->st_uid, geteuid());
}

static void test_stat_access(void **state)
{
	struct statx sx;
	struct stat st;
	int fd, pfd[2];

	assert_int_equal(stat("/dev/iommu", &st), 0);
	check_chr(&st, 10, 123);
	assert_int_equal(lstat("/dev/vfio/vfio", &st), 0);
	check_chr(&st, 10, 196);
	assert_int_equal(fstatat(AT_FDCWD, "/dev/vfio/devices/vfio1", &st, 0),
			 0);
	check_chr(&st, 237, 1);
	assert_int_equal(statx(AT_FDCWD, "/dev/vfio/devices/vfio0", 0,
			       STATX_BASIC_STATS, &sx),
			 0);
	assert_true(S_ISCHR(sx.stx_mode));
	assert_int_equal(sx.stx_rdev_major, 237);
	assert_int_equal(stat("/dev/vfio/devices/vfio2", &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(access("/dev/iommu", R_OK | W_OK), 0);
	assert_int_equal(
		faccessat(AT_FDCWD, "/dev/vfio/devices/vfio0", F_OK, 0), 0);
	assert_int_equal(access("/dev/iommu", X_OK), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(access("/dev/vfio/devices/vfio9", F_OK), -1);
	assert_int_equal(errno, ENOENT);
	/* fstat on our fds. */
	fd = open("/dev/iommu", O_RDWR);
	assert_int_equal(fstat(fd, &st), 0);
	check_chr(&st, 10, 123);
	close(fd);
	fd = open("/dev/vfio/devices/vfio1", O_RDWR);
	assert_int_equal(fstat(fd, &st), 0);
	check_chr(&st, 237, 1);
	assert_int_equal(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx),
			 0);
	assert_int_equal(sx.stx_rdev_minor, 1);
	close(fd);
	/* Other files keep their own answers. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(fstat(pfd[0], &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(stat("/", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(access("/nonexistent", F_OK), -1);
}

static void test_ioas(void **state)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);
	uint8_t *mem = page_alloc(4 * PAGE);
	struct iommu_ioas_copy cp = { .size = sizeof(cp) };
	struct iommu_destroy d = { .size = sizeof(d) };
	struct {
		struct iommu_ioas_iova_ranges r;
		struct iommu_iova_range range[8];
	} rr = { .r = { .size = sizeof(rr.r), .num_iovas = 8 } };
	uint32_t ioas2 = ioas_alloc(fd);

	assert_int_equal(ioas_map(fd, ioas, mem, 4 * PAGE, 0x100000), 0);
	assert_int_equal(ioas_map(fd, ioas, mem, PAGE, 0x100000), -EEXIST);
	rr.r.ioas_id = ioas;
	rr.r.allowed_iovas = (uint64_t)(uintptr_t)rr.range;
	assert_int_equal(xioctl(fd, IOMMU_IOAS_IOVA_RANGES, &rr.r), 0);
	assert_true(rr.r.num_iovas >= 1);
	/* Copy the mapping into a second IOAS. */
	cp.src_ioas_id = ioas;
	cp.dst_ioas_id = ioas2;
	cp.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
		   IOMMU_IOAS_MAP_WRITEABLE;
	cp.src_iova = 0x100000;
	cp.dst_iova = 0x300000;
	cp.length = 2 * PAGE;
	assert_int_equal(xioctl(fd, IOMMU_IOAS_COPY, &cp), 0);
	assert_int_equal(ioas_unmap(fd, ioas2, 0x300000, 2 * PAGE), 0);
	assert_int_equal(ioas_unmap(fd, ioas2, 0x300000, 2 * PAGE), -ENOENT);
	assert_int_equal(ioas_unmap(fd, ioas, 0x100000, 4 * PAGE), 0);
	d.id = ioas2;
	assert_int_equal(xioctl(fd, IOMMU_DESTROY, &d), 0);
	assert_int_equal(xioctl(fd, IOMMU_DESTROY, &d), -ENOENT);
	close(fd);
	page_free(mem, 4 * PAGE);
}

static void test_errno_contract(void **state)
{
	int fd = iommufd_open(), dfd, nul;
	struct iommu_ioas_alloc a = { .size = sizeof(a) };
	struct {
		struct iommu_ioas_alloc a;
		uint32_t tail;
	} big = { .a = { .size = sizeof(big) }, .tail = 1 };
	uint8_t buf[40];

	/* EFAULT: the argument is not readable. */
	assert_int_equal(xioctl(fd, IOMMU_IOAS_ALLOC, NULL), -EFAULT);
	assert_int_equal(xioctl(fd, IOMMU_IOAS_ALLOC, (void *)16), -EFAULT);
	/* ENOTTY: unknown numbers, iommufd numbers on a device fd. */
	assert_int_equal(xioctl(fd, 0x3bff, &a), -ENOTTY);
	assert_int_equal(xioctl(fd, 0x12345678, &a), -ENOTTY);
	/* EINVAL below the minimum size, E2BIG for a non-zero tail. */
	a.size = 8;
	assert_int_equal(xioctl(fd, IOMMU_IOAS_ALLOC, &a), -EINVAL);
	assert_int_equal(xioctl(fd, IOMMU_IOAS_ALLOC, &big), -E2BIG);
	big.tail = 0;
	assert_int_equal(xioctl(fd, IOMMU_IOAS_ALLOC, &big), 0);
	/* Not readable, writable, seekable or mappable. */
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(write(fd, buf, 8), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(pread(fd, buf, 8, 0), -1);
	assert_int_equal(errno, ESPIPE);
	assert_int_equal(lseek(fd, 0, SEEK_SET), -1);
	assert_int_equal(errno, ESPIPE);
	assert_true(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, ENXIO);
	/* A device fd: before bind only bind is allowed (EINVAL), after
	 * it iommufd numbers are unknown there. */
	dfd = open("/dev/vfio/devices/vfio0", O_RDWR);
	assert_int_equal(xioctl(dfd, IOMMU_IOAS_ALLOC, &a), -EINVAL);
	assert_int_equal(pread(dfd, buf, 4, (off_t)CFG_OFF(0)), -1);
	assert_int_equal(errno, EINVAL);
	close(dfd);
	dfd = device_open(0, fd, 0, NULL);
	assert_int_equal(xioctl(dfd, IOMMU_IOAS_ALLOC, &a), -ENOTTY);
	assert_true(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, dfd, 0) ==
		    MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	close(dfd);
	/* EBADF after close; a plain file's ioctl is the kernel's. */
	close(fd);
	assert_int_equal(xioctl(fd, IOMMU_IOAS_ALLOC, &a), -EBADF);
	assert_int_equal(close(fd), -1);
	assert_int_equal(errno, EBADF);
	nul = open("/dev/null", O_RDWR);
	assert_int_equal(xioctl(nul, IOMMU_IOAS_ALLOC, &a), -ENOTTY);
	close(nul);
	assert_int_equal(xioctl(9999, IOMMU_IOAS_ALLOC, &a), -EBADF);
}

static void test_device_queries(void **state)
{
	int fd = iommufd_open(), dfd = device_open(0, fd, 0, NULL);
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_irq_info ii = { .argsz = sizeof(ii) };
	uint16_t ids[2];
	struct iovec iov[2] = { { &ids[0], 2 }, { &ids[1], 2 } };

	assert_int_equal(xioctl(dfd, VFIO_DEVICE_GET_INFO, &info), 0);
	assert_true(info.flags & VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(info.num_regions, VFIO_PCI_NUM_REGIONS);
	assert_int_equal(info.num_irqs, VFIO_PCI_NUM_IRQS);
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	assert_int_equal(xioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_int_equal(ri.size, IONEST_BAR0_SIZE);
	assert_int_equal(ri.offset, 0);
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	assert_int_equal(xioctl(dfd, VFIO_DEVICE_GET_REGION_INFO, &ri), 0);
	assert_int_equal(ri.offset, CFG_OFF(0));
	ii.index = VFIO_PCI_MSI_IRQ_INDEX;
	assert_int_equal(xioctl(dfd, VFIO_DEVICE_GET_IRQ_INFO, &ii), 0);
	/* Config space by pread, preadv, and read at the position. */
	assert_int_equal(pread(dfd, ids, 4, (off_t)CFG_OFF(0)), 4);
	assert_int_equal(ids[0], IONEST_PCI_VENDOR_ID);
	assert_int_equal(ids[1], IONEST_PCI_DEVICE_ID);
	ids[0] = ids[1] = 0;
	assert_int_equal(preadv(dfd, iov, 2, (off_t)CFG_OFF(0)), 4);
	assert_int_equal(ids[1], IONEST_PCI_DEVICE_ID);
	assert_int_equal(lseek(dfd, (off_t)CFG_OFF(2), SEEK_SET),
			 (off_t)CFG_OFF(2));
	assert_int_equal(read(dfd, ids, 2), 2);
	assert_int_equal(ids[0], IONEST_PCI_DEVICE_ID);
	assert_int_equal(lseek(dfd, (off_t)CFG_OFF(0), SEEK_SET),
			 (off_t)CFG_OFF(0));
	assert_int_equal(readv(dfd, iov, 2), 4);
	assert_int_equal(ids[0], IONEST_PCI_VENDOR_ID);
	assert_int_equal(__pread_chk(dfd, ids, 2, (off_t)CFG_OFF(2), 4), 2);
	assert_int_equal(ids[0], IONEST_PCI_DEVICE_ID);
	assert_int_equal(lseek(dfd, (off_t)CFG_OFF(0), SEEK_SET),
			 (off_t)CFG_OFF(0));
	assert_int_equal(__read_chk(dfd, ids, 2, 4), 2);
	assert_int_equal(ids[0], IONEST_PCI_VENDOR_ID);
	assert_int_equal(bar_r32(dfd, IONEST_DMA_ID), IONEST_DMA_ID_VALUE);
	assert_int_equal(xioctl(dfd, VFIO_DEVICE_RESET, NULL), 0);
	/* Reset turned memory decoding off. */
	assert_int_equal(pread(dfd, ids, 4, IONEST_DMA_ID), -1);
	assert_int_equal(errno, EIO);
	close(dfd);
	close(fd);
}

static void test_dma(void **state)
{
	int fd = iommufd_open(), dfd;
	uint32_t ioas = ioas_alloc(fd);
	uint8_t *mem = page_alloc(4 * PAGE);

	memcpy(mem, "written by the program", 23);
	assert_int_equal(ioas_map(fd, ioas, mem, 4 * PAGE, 0x100000), 0);
	dfd = device_open(0, fd, ioas, NULL);
	/* The device copies IOVA 0x100000 to 0x102000: our memory. */
	assert_int_equal(dma_copy(dfd, 0x100000, 0x102000, 23),
			 IONEST_DMA_ST_DONE);
	assert_string_equal((char *)mem + 2 * PAGE, "written by the program");
	/* Unmapped: the IOMMU stops it. */
	assert_int_equal(ioas_unmap(fd, ioas, 0x100000, 4 * PAGE), 0);
	assert_int_equal(dma_copy(dfd, 0x100000, 0x102000, 23),
			 IONEST_DMA_ST_FAULT);
	assert_int_equal(bar_r32(dfd, IONEST_DMA_FAULT_ADDR), 0x100000);
	close(dfd);
	close(fd);
	page_free(mem, 4 * PAGE);
}

#define ARG(v) ((void *)(uintptr_t)(v))

static void test_type1(void **state)
{
	int c = open("/dev/vfio/vfio", O_RDWR), dfd;
	struct iommu_vfio_ioas v = { .size = sizeof(v),
				     .op = IOMMU_VFIO_IOAS_SET };
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = 0x800000,
		.size = 2 * PAGE,
	};
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = 0x800000,
		.size = 2 * PAGE,
	};
	uint8_t *mem = page_alloc(2 * PAGE);

	assert_true(c >= 0);
	assert_int_equal(xioctl(c, VFIO_GET_API_VERSION, NULL),
			 VFIO_API_VERSION);
	assert_int_equal(
		xioctl(c, VFIO_CHECK_EXTENSION, ARG(VFIO_TYPE1v2_IOMMU)), 1);
	v.ioas_id = ioas_alloc(c);
	assert_int_equal(xioctl(c, IOMMU_VFIO_IOAS, &v), 0);
	assert_int_equal(xioctl(c, VFIO_SET_IOMMU, ARG(VFIO_TYPE1v2_IOMMU)), 0);
	m.vaddr = (uint64_t)(uintptr_t)mem;
	assert_int_equal(xioctl(c, VFIO_IOMMU_MAP_DMA, &m), 0);
	dfd = device_open(1, c, v.ioas_id, NULL);
	mem[7] = 0x77;
	assert_int_equal(dma_copy(dfd, 0x800007, 0x801000, 1),
			 IONEST_DMA_ST_DONE);
	assert_int_equal(mem[PAGE], 0x77);
	assert_int_equal(xioctl(c, VFIO_IOMMU_UNMAP_DMA, &u), 0);
	assert_int_equal(u.size, 2 * PAGE);
	assert_int_equal(dma_copy(dfd, 0x800007, 0x801000, 1),
			 IONEST_DMA_ST_FAULT);
	close(dfd);
	close(c);
	page_free(mem, 2 * PAGE);
}

static void test_poll_ready(void **state)
{
	struct pollfd p[2] = { { .fd = iommufd_open(), .events = POLLIN } };
	int dfd = open("/dev/vfio/devices/vfio0", O_RDWR);

	p[1].fd = dfd;
	p[1].events = POLLIN;
	/* Real descriptors: poll works, and nothing is ever readable. */
	assert_int_equal(poll(p, 2, 0), 0);
	p[0].events = POLLOUT;
	assert_int_equal(poll(p, 1, 0), 1);
	assert_true(p[0].revents & POLLOUT);
	close(p[0].fd);
	close(dfd);
}

typedef int (*xstat_fn)(int, const char *, struct stat *);
typedef int (*fxstat_fn)(int, int, struct stat *);
typedef int (*fxstatat_fn)(int, int, const char *, struct stat *, int);

/* Entry points older binaries and fortified builds call. The pre-2.33
 * stat functions cannot be linked against any more: found by name, as
 * the dynamic loader would bind an old binary to them. */
static void test_old_entry_points(void **state)
{
	xstat_fn xstat = (xstat_fn)dlsym(RTLD_DEFAULT, "__xstat");
	xstat_fn lxstat = (xstat_fn)dlsym(RTLD_DEFAULT, "__lxstat64");
	fxstat_fn fxstat = (fxstat_fn)dlsym(RTLD_DEFAULT, "__fxstat");
	fxstatat_fn fxstatat = (fxstatat_fn)dlsym(RTLD_DEFAULT, "__fxstatat");
	int fd = __open64_2("/dev/iommu", O_RDWR), dfd;
	uint16_t cmd = 0x6, ids[2];
	struct iovec iov = { &cmd, 2 };
	struct stat st;

	assert_true(fd >= 0);
	assert_non_null(xstat);
	assert_non_null(lxstat);
	assert_non_null(fxstat);
	assert_non_null(fxstatat);
	assert_int_equal(xstat(1, "/dev/vfio/devices/vfio1", &st), 0);
	check_chr(&st, 237, 1);
	assert_int_equal(lxstat(1, "/dev/iommu", &st), 0);
	check_chr(&st, 10, 123);
	assert_int_equal(fxstat(1, fd, &st), 0);
	check_chr(&st, 10, 123);
	assert_int_equal(fxstatat(1, AT_FDCWD, "/dev/vfio/vfio", &st, 0), 0);
	check_chr(&st, 10, 196);
	assert_int_equal(xstat(1, "/dev/vfio/devices/vfio5", &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(xstat(1, "/", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(eaccess("/dev/iommu", W_OK), 0);
	assert_int_equal(euidaccess("/dev/vfio/devices/vfio3", F_OK), -1);
	assert_int_equal(errno, ENOENT);
	/* Vectored and checked forms on a device fd. */
	dfd = device_open(1, fd, 0, NULL);
	cmd = 0x2;
	assert_int_equal(pwritev(dfd, &iov, 1, (off_t)CFG_OFF(4)), 2);
	assert_int_equal(pread(dfd, ids, 2, (off_t)CFG_OFF(4)), 2);
	assert_int_equal(ids[0], 0x2);
	assert_int_equal(lseek(dfd, (off_t)CFG_OFF(4), SEEK_SET),
			 (off_t)CFG_OFF(4));
	cmd = 0x6;
	assert_int_equal(writev(dfd, &iov, 1), 2);
	assert_int_equal(__pread64_chk(dfd, ids, 2, (off_t)CFG_OFF(4), 2), 2);
	assert_int_equal(ids[0], 0x6);
	close(dfd);
	close(fd);
	fd = __openat64_2(AT_FDCWD, "/dev/vfio/devices/vfio0", O_RDWR);
	assert_true(fd >= 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_stat_access),
		cmocka_unit_test(test_ioas),
		cmocka_unit_test(test_errno_contract),
		cmocka_unit_test(test_device_queries),
		cmocka_unit_test(test_dma),
		cmocka_unit_test(test_type1),
		cmocka_unit_test(test_poll_ready),
		cmocka_unit_test(test_old_entry_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
