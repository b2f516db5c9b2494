// SPDX-License-Identifier: MIT
/*
 * Calls before the preload's constructors ran: another preloaded
 * library's constructor opened /dev/iommu and allocated an IOAS (see
 * early_lib.c); the fd it got must be a working iommufd here.
 */
#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include "shim_util.h"

typedef int (*result_fn)(int *fd, int *rc, unsigned *ioas);

static void test_constructor_time(void **state)
{
	result_fn fn =
		(result_fn)dlsym(RTLD_DEFAULT, "ionest_test_early_result");
	struct iommu_destroy d = { .size = sizeof(d) };
	unsigned ioas = 0;
	int fd = -1, rc = -1;

	assert_non_null(fn);
	fn(&fd, &rc, &ioas);
	assert_true(fd >= 0);
	assert_int_equal(rc, 0);
	assert_int_equal(ioas, 1);
	/* The same context, now from main. */
	d.id = ioas;
	assert_int_equal(xioctl(fd, IOMMU_DESTROY, &d), 0);
	assert_int_equal(xioctl(fd, IOMMU_DESTROY, &d), -ENOENT);
	assert_int_equal(close(fd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constructor_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
