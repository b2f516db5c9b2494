// SPDX-License-Identifier: MIT
/*
 * A program for `ionest run` to run in the CLI tests:
 *   exit N      exit with status N
 *   signal N    die of signal N
 *   env NAME    print $NAME (or "(unset)")
 *   open        open /dev/iommu, allocate an IOAS: print "ok" or the error
 *   open-with F the same after setting IONEST_CONFIG=F (before the
 *               preload first looks at it)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <ionest/uapi/iommufd.h>

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "signal")) {
		signal(atoi(argv[2]), SIG_DFL);
		raise(atoi(argv[2]));
		return 99;
	}
	if (argc == 3 && !strcmp(argv[1], "env")) {
		const char *v = getenv(argv[2]);

		printf("%s\n", v ? v : "(unset)");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "open-with"))
		setenv("IONEST_CONFIG", argv[2], 1);
	if ((argc == 2 && !strcmp(argv[1], "open")) ||
	    (argc == 3 && !strcmp(argv[1], "open-with"))) {
		struct iommu_ioas_alloc a = { .size = sizeof(a) };
		int fd = open("/dev/iommu", O_RDWR);

		if (fd < 0 || ioctl(fd, IOMMU_IOAS_ALLOC, &a)) {
			printf("%s\n", strerror(errno));
			return 1;
		}
		close(fd);
		printf("ok\n");
		return 0;
	}
	fprintf(stderr, "run_helper: bad arguments\n");
	return 100;
}
