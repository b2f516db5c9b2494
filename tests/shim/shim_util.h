/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the preload suites. These programs are what an unmodified
 * program is: they use only the C library's syscalls and the ABI headers,
 * and run under `ionest run` with a machine file, so every device path and
 * fd below goes through libionest-preload.so.
 */
#ifndef IONEST_TEST_SHIM_UTIL_H
#define IONEST_TEST_SHIM_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ionest/uapi/dma_engine.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#define PAGE 4096ull
#define CFG_OFF(o) (((uint64_t)VFIO_PCI_CONFIG_REGION_INDEX << 40) + (o))

/* ioctl returning the result or -errno. */
long xioctl(int fd, unsigned long req, void *arg);
/* open returning the fd or -errno. */
int xopen(const char *path, int flags);

int iommufd_open(void); /* asserts */
uint32_t ioas_alloc(int fd);
int ioas_map(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t iova);
int ioas_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len);
/* Open vfio@n, bind to @iommufd, attach to @pt; the device fd. */
int device_open(int n, int iommufd, uint32_t pt, uint32_t *devid);

void cfg_w16(int fd, uint32_t off, uint16_t v);
uint32_t bar_r32(int fd, uint32_t off);
void bar_w32(int fd, uint32_t off, uint32_t v);
void bar_w64(int fd, uint32_t off, uint64_t v);
/* A memory-to-memory copy by the device; the STATUS it ends with (0 if
 * a register access failed). Safe in threads and children. */
uint32_t dma_copy(int fd, uint64_t src, uint64_t dst, uint32_t len);

void *page_alloc(size_t len);
void page_free(void *p, size_t len);

#endif
