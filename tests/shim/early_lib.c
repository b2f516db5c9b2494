// SPDX-License-Identifier: MIT
/*
 * Preloaded after libionest-preload.so, so the dynamic loader runs this
 * constructor before the preload's own: /dev/iommu must already work
 * (test_early.c reads the results).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <ionest/uapi/iommufd.h>

int ionest_test_early_result(int *fd, int *rc, unsigned *ioas);

static int early_fd = -2, early_rc = -2;
static unsigned early_ioas;

__attribute__((constructor)) static void early(void)
{
	struct iommu_ioas_alloc a = { .size = sizeof(a) };

	early_fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (early_fd < 0)
		return;
	early_rc = ioctl(early_fd, IOMMU_IOAS_ALLOC, &a);
	early_ioas = a.out_ioas_id;
}

__attribute__((visibility("default"))) int
ionest_test_early_result(int *fd, int *rc, unsigned *ioas)
{
	*fd = early_fd;
	*rc = early_rc;
	*ioas = early_ioas;
	return 0;
}
