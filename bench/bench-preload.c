// SPDX-License-Identifier: MIT
/*
 * The preload's cost (docs/preload.md). The library is dlopen()ed here and
 * its interposed calls are called through dlsym, so one process measures
 * them against the plain call in the same run:
 *   - read(2) of an unrelated fd (/dev/zero) through the preload's read
 *     against glibc's read: what every program pays for being preloaded;
 *   - an iommufd ioctl (IOMMU_OPTION get) through the preload's ioctl
 *     against ionest_ioctl() on the linked library: what the fd map, the
 *     fork lock and the fd kind lookup add;
 *   - a BAR0 register read through the preload's pread against
 *     ionest_pread().
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <ionest/ionest.h>
#include <ionest/uapi/dma_engine.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "bench.h"

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*pread_fn)(int, void *, size_t, off_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef int (*ioctl_fn)(int, unsigned long, ...);
typedef int (*open_fn)(const char *, int, ...);

struct calls {
	read_fn read;
	pread_fn pread;
	pwrite_fn pwrite;
	ioctl_fn ioctl;
	int fd; /* what the call works on */
};

/* One mock IOMMU, one device (vfio0). */
static const char machine_yaml[] = "version: 1\n"
				   "iommus:\n"
				   "  - name: iommu0\n"
				   "    model: mock\n"
				   "devices:\n"
				   "  - name: dma0\n"
				   "    bdf: \"00:01.0\"\n"
				   "    iommu: iommu0\n";

/* The temporary machine file, removed on the way out. */
static char machine[512];

static void die(const char *what)
{
	if (machine[0])
		unlink(machine);
	fprintf(stderr, "bench-preload: %s\n", what);
	exit(1);
}

static void read_pass(void *ctx, uint64_t n)
{
	struct calls *c = ctx;
	uint64_t v;

	for (uint64_t i = 0; i < n; i++)
		if (c->read(c->fd, &v, sizeof(v)) != sizeof(v))
			die("read");
}

static void ioctl_pass(void *ctx, uint64_t n)
{
	struct calls *c = ctx;
	struct iommu_option o = { .size = sizeof(o),
				  .option_id = IOMMU_OPTION_RLIMIT_MODE,
				  .op = IOMMU_OPTION_OP_GET };

	for (uint64_t i = 0; i < n; i++)
		if (c->ioctl(c->fd, IOMMU_OPTION, &o))
			die("ioctl");
}

static void pread_pass(void *ctx, uint64_t n)
{
	struct calls *c = ctx;
	uint32_t v;

	for (uint64_t i = 0; i < n; i++)
		if (c->pread(c->fd, &v, 4, IONEST_DMA_ID) != 4)
			die("pread");
}

static int direct_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return ionest_ioctl(fd, req, arg);
}

/* Bind device fd @dev to @c->fd and enable its BAR0; @c->fd becomes it. */
static void bind(struct calls *c, int dev)
{
	struct vfio_device_bind_iommufd b = { .argsz = sizeof(b),
					      .iommufd = c->fd };
	off_t command =
		(off_t)((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + 4;
	uint16_t cmd = 0x6;

	if (dev < 0 || c->ioctl(dev, VFIO_DEVICE_BIND_IOMMUFD, &b))
		die("bind");
	if (c->pwrite(dev, &cmd, 2, command) != 2)
		die("config write");
	c->fd = dev;
}

int main(int argc, char **argv)
{
	struct calls shim = { 0 }, plain = { 0 };
	struct ionest_machine *m;
	open_fn shim_open;
	void *h;
	double ns, base;
	const char *tmpdir = getenv("TMPDIR"), *lib = getenv("IONEST_PRELOAD");
	char err[256];
	int zero, iommufd, fd;

	bench_init(argc, argv, "preload");
	snprintf(machine, sizeof(machine), "%s/ionest-bench-XXXXXX.yaml",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	fd = mkstemps(machine, 5);
	if (fd < 0 || write(fd, machine_yaml, sizeof(machine_yaml) - 1) !=
			      (ssize_t)sizeof(machine_yaml) - 1)
		die("cannot write a temporary machine file");
	close(fd);
	setenv("IONEST_CONFIG", machine, 1);
	h = dlopen(lib && *lib ? lib : IONEST_PRELOAD_PATH,
		   RTLD_NOW | RTLD_LOCAL);
	if (!h)
		die(dlerror());
	shim.read = (read_fn)dlsym(h, "read");
	shim.pread = (pread_fn)dlsym(h, "pread");
	shim.ioctl = (ioctl_fn)dlsym(h, "ioctl");
	shim.pwrite = (pwrite_fn)dlsym(h, "pwrite");
	shim_open = (open_fn)dlsym(h, "open");
	if (!shim.read || !shim.pread || !shim.pwrite || !shim.ioctl ||
	    !shim_open)
		die("the preload lacks a call");

	/* An unrelated fd: the preload passes it to glibc. */
	zero = open("/dev/zero", O_RDONLY);
	if (zero < 0)
		die("/dev/zero");
	shim.fd = plain.fd = zero;
	plain.read = read;
	ns = bench_run2(read_pass, &shim, read_pass, &plain, 200000, &base);
	bench_report("read(2) of /dev/zero through the preload", ns, "ns",
		     "glibc read", base, 1.10, false);

	/* An iommufd: the preload's copy against the linked library. */
	m = ionest_machine_load(machine, err, sizeof(err));
	if (!m)
		die(err);
	shim.fd = shim_open("/dev/iommu", O_RDWR);
	plain.fd = ionest_open(m, "/dev/iommu", O_RDWR);
	if (shim.fd < 0 || plain.fd < 0)
		die("open /dev/iommu");
	plain.ioctl = direct_ioctl;
	iommufd = plain.fd;
	ns = bench_run2(ioctl_pass, &shim, ioctl_pass, &plain, 200000, &base);
	bench_report("ioctl(IOMMU_OPTION) through the preload", ns, "ns",
		     "ionest_ioctl", base, 1.5, false);

	/* A BAR0 register of device 0. */
	plain.pread = ionest_pread;
	plain.pwrite = ionest_pwrite;
	bind(&shim, shim_open("/dev/vfio/devices/vfio0", O_RDWR));
	bind(&plain, ionest_open(m, "/dev/vfio/devices/vfio0", O_RDWR));
	ns = bench_run2(pread_pass, &shim, pread_pass, &plain, 200000, &base);
	bench_report("pread of a BAR0 register through the preload", ns, "ns",
		     "ionest_pread", base, 1.5, false);
	/* Our files are released with the machine's fds closed. */
	ionest_close(plain.fd);
	ionest_close(iommufd);
	ionest_machine_free(m);
	close(zero);
	unlink(machine);
	return bench_finish();
}
