// SPDX-License-Identifier: MIT
/*
 * Our fds behave as the kernel's: dup, dup2, dup3 and F_DUPFD give fds on
 * the same open file (the same iommufd context, the same device binding
 * and file position), close ends one fd and the file goes with its last
 * fd, dup2/close_range/closefrom over our fds are noticed, the table grows
 * past any size, and close-on-exec is per fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "shim_util.h"

/* IOAS_IOVA_RANGES on @ioas through @fd: 0 or -errno. */
static int ranges(int fd, uint32_t ioas)
{
	struct iommu_iova_range r[4];
	struct iommu_ioas_iova_ranges q = {
		.size = sizeof(q),
		.ioas_id = ioas,
		.num_iovas = 4,
		.allowed_iovas = (uint64_t)(uintptr_t)r,
	};

	return (int)xioctl(fd, IOMMU_IOAS_IOVA_RANGES, &q);
}

static void test_dup_same_context(void **state)
{
	int fd = iommufd_open(), d;
	uint32_t ioas = ioas_alloc(fd);
	uint8_t *mem = page_alloc(PAGE);

	d = dup(fd);
	assert_true(d >= 0 && d != fd);
	/* What one fd made, the other sees. */
	assert_int_equal(ranges(d, ioas), 0);
	assert_int_equal(ioas_map(d, ioas, mem, PAGE, 0x10000), 0);
	assert_int_equal(ioas_unmap(fd, ioas, 0x10000, PAGE), 0);
	/* Closing one leaves the other. */
	assert_int_equal(close(fd), 0);
	assert_int_equal(ranges(fd, ioas), -EBADF);
	assert_int_equal(ranges(d, ioas), 0);
	assert_int_equal(close(d), 0);
	assert_int_equal(ranges(d, ioas), -EBADF);
	page_free(mem, PAGE);
}

static void test_dup_forms(void **state)
{
	int fd = iommufd_open(), a, b, c, e;
	uint32_t ioas = ioas_alloc(fd);

	a = dup2(fd, 100);
	assert_int_equal(a, 100);
	assert_int_equal(fcntl(a, F_GETFD), 0);
	b = dup3(fd, 101, O_CLOEXEC);
	assert_int_equal(b, 101);
	assert_int_equal(fcntl(b, F_GETFD), FD_CLOEXEC);
	c = fcntl(fd, F_DUPFD, 200);
	assert_true(c >= 200);
	e = fcntl(fd, F_DUPFD_CLOEXEC, 300);
	assert_true(e >= 300);
	assert_int_equal(fcntl(e, F_GETFD), FD_CLOEXEC);
	assert_int_equal(fcntl(e, F_SETFD, 0), 0);
	assert_int_equal(fcntl(e, F_GETFD), 0);
	assert_int_equal(ranges(a, ioas), 0);
	assert_int_equal(ranges(b, ioas), 0);
	assert_int_equal(ranges(c, ioas), 0);
	assert_int_equal(ranges(e, ioas), 0);
	/* dup2 onto itself is a no-op, dup3 refuses it. */
	assert_int_equal(dup2(fd, fd), fd);
	assert_int_equal(dup3(fd, fd, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ranges(fd, ioas), 0);
	close(fd);
	close(a);
	close(b);
	close(c);
	assert_int_equal(ranges(e, ioas), 0);
	close(e);
	assert_int_equal(ranges(e, ioas), -EBADF);
}

static void test_dup2_over_ours(void **state)
{
	int a = iommufd_open(), b = iommufd_open(), keep, nul;
	uint32_t ioas_b = ioas_alloc(b);

	keep = dup(a);
	/* b now refers to a's context: b's old one is gone. */
	assert_int_equal(dup2(a, b), b);
	assert_int_equal(ranges(b, ioas_b), -ENOENT);
	assert_int_equal(ranges(b, ioas_alloc(keep)), 0);
	/* A plain file over one of ours: that number is libc's now. */
	nul = open("/dev/null", O_RDWR);
	assert_int_equal(dup2(nul, a), a);
	assert_int_equal(ranges(a, 1), -ENOTTY);
	assert_int_equal(write(a, "x", 1), 1);
	assert_int_equal(ranges(keep, 1), 0);
	close(a);
	close(b);
	close(nul);
	close(keep);
}

static void test_close_range(void **state)
{
	for (int i = 0; i < 4; i++) {
		int o = iommufd_open();

		assert_int_equal(dup2(o, 400 + i), 400 + i);
		close(o);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(ranges(400 + i, 1), -ENOENT);
	/* CLOSE_RANGE_CLOEXEC only marks. */
	assert_int_equal(close_range(400, 401, CLOSE_RANGE_CLOEXEC), 0);
	assert_int_equal(fcntl(400, F_GETFD), FD_CLOEXEC);
	assert_int_equal(ranges(400, 1), -ENOENT);
	assert_int_equal(close_range(400, 401, 0), 0);
	assert_int_equal(ranges(400, 1), -EBADF);
	assert_int_equal(ranges(401, 1), -EBADF);
	assert_int_equal(ranges(402, 1), -ENOENT);
	closefrom(402);
	assert_int_equal(ranges(402, 1), -EBADF);
	assert_int_equal(ranges(403, 1), -EBADF);
	/* The number is free again and libc's. */
	assert_int_equal(dup2(1, 402), 402);
	assert_int_equal(ranges(402, 1), -ENOTTY);
	close(402);
}

static void test_many_fds(void **state)
{
	struct rlimit rl;
	int n = 300, *fds = calloc(300, sizeof(int)), high;

	for (int i = 0; i < n; i++) {
		fds[i] = open("/dev/iommu", O_RDWR);
		assert_true(fds[i] >= 0);
	}
	for (int i = 0; i < n; i++)
		assert_int_equal(ranges(fds[i], 1), -ENOENT);
	/* A number far above the table. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	high = rl.rlim_cur > 5000 ? 5000 : (int)rl.rlim_cur - 1;
	assert_int_equal(dup2(fds[0], high), high);
	assert_int_equal(ranges(high, ioas_alloc(fds[0])), 0);
	close(high);
	for (int i = 0; i < n; i++)
		assert_int_equal(close(fds[i]), 0);
	free(fds);
}

static void test_device_dup(void **state)
{
	int fd = iommufd_open(), dfd = device_open(0, fd, 0, NULL), d2;
	uint16_t v;

	/* Bound once, for both fds; the file position is shared. */
	d2 = dup(dfd);
	assert_int_equal(lseek(dfd, (off_t)CFG_OFF(2), SEEK_SET),
			 (off_t)CFG_OFF(2));
	assert_int_equal(read(d2, &v, 2), 2);
	assert_int_equal(v, IONEST_PCI_DEVICE_ID);
	assert_int_equal(lseek(dfd, 0, SEEK_CUR), (off_t)CFG_OFF(4));
	close(dfd);
	/* Still bound through d2: another bind is refused. */
	dfd = open("/dev/vfio/devices/vfio0", O_RDWR);
	{
		struct vfio_device_bind_iommufd b = { .argsz = sizeof(b),
						      .iommufd = fd };

		assert_int_equal(xioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &b),
				 -EINVAL);
		close(d2); /* the last fd of the first file: unbound */
		assert_int_equal(xioctl(dfd, VFIO_DEVICE_BIND_IOMMUFD, &b), 0);
	}
	close(dfd);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dup_same_context),
		cmocka_unit_test(test_dup_forms),
		cmocka_unit_test(test_dup2_over_ours),
		cmocka_unit_test(test_close_range),
		cmocka_unit_test(test_many_fds),
		cmocka_unit_test(test_device_dup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
