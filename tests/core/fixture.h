/* SPDX-License-Identifier: MIT */
/*
 * Shared set-up for the core and uapi suites: a machine with mock IOMMUs
 * and PCI functions, an iommufd, and ioctl wrappers that return -errno.
 */
#ifndef IONEST_TEST_FIXTURE_H
#define IONEST_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>
#include <ionest/uapi/vfio.h>

#include "test_util.h"

#define FX_MAX_DEV 4
#define FX_PAGE 4096ull
#define FX_MSI_START 0x8000000ull
#define FX_MSI_LAST 0x80fffffull

struct fx {
	struct ionest_machine *m;
	int dev[FX_MAX_DEV]; /* machine device indexes */
	int cdev[FX_MAX_DEV]; /* cdev fds, -1 when closed */
	uint32_t devid[FX_MAX_DEV]; /* iommufd DEVICE ids once bound */
	int ndev;
	int fd; /* the iommufd */
};

/* ioctl returning the result or -errno. */
long fx_ioctl(int fd, unsigned long req, void *arg);

/* One mock IOMMU "iommu0" (@cfg, NULL = defaults) with @ndev functions
 * (RID 0x100 + i, 8 PASID bits, ATS, PASID exec) and an open iommufd. */
void fx_setup(struct fx *f, const struct ionest_mock_config *cfg, int ndev);
/* Close every fd and free the machine. */
void fx_teardown(struct fx *f);

/* Open device @i's cdev and bind it to f->fd; returns -errno or 0. */
int fx_bind(struct fx *f, int i);
/* Attach device @i (RID or @pasid) to *pt_id; returns -errno or 0. */
int fx_attach(struct fx *f, int i, uint32_t *pt_id);
int fx_attach_pasid(struct fx *f, int i, uint32_t pasid, uint32_t *pt_id);
int fx_detach(struct fx *f, int i);
int fx_detach_pasid(struct fx *f, int i, uint32_t pasid);

uint32_t fx_ioas(int fd); /* a new IOAS, asserting success */
int fx_destroy(int fd, uint32_t id);
int fx_map(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t *iova,
	   uint32_t flags);
int fx_map_fixed(int fd, uint32_t ioas, void *va, uint64_t len, uint64_t iova);
int fx_unmap(int fd, uint32_t ioas, uint64_t iova, uint64_t len,
	     uint64_t *unmapped);
int fx_hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		  uint32_t *out);
int fx_huge_pages(int fd, uint32_t ioas, uint64_t val);

/* @len bytes of fresh zeroed memory aligned to @align (munmap with
 * fx_free). */
void *fx_alloc(size_t len, size_t align);
void fx_free(void *p, size_t len);

/* DMA helpers: 0 or -errno. */
int fx_dma_write(struct fx *f, int i, uint32_t pasid, uint64_t iova,
		 const void *buf, size_t len);
int fx_dma_read(struct fx *f, int i, uint32_t pasid, uint64_t iova, void *buf,
		size_t len);

#endif
