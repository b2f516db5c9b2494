/* SPDX-License-Identifier: MIT */
/*
 * The iommufd object model (internal): the context of one /dev/iommu fd, its
 * object table, and the object kinds of this layer. One file per object
 * kind implements it (object.c, ioas.c + iopt.c + pages.c, hwpt.c,
 * device.c); ioctl handlers take a struct iommufd_ucmd as in Linux.
 *
 * Locking: everything reachable from a context is protected by ctx->lock,
 * which the ioctl layer (lib/uapi) holds around every handler and the VFIO
 * cdev layer around bind/attach/detach. Device DMA never takes it: it goes
 * device -> driver -> tables (see lib/drivers/inflight.h).
 */
#ifndef IONEST_CORE_H
#define IONEST_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ionest/uapi/iommufd.h>

#include "core/itree.h"
#include "drivers/driver.h"

struct iommufd_ctx;

/* ---- Objects ---- */
enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_VIOMMU,
	IOMMUFD_OBJ_VDEVICE,
	IOMMUFD_OBJ_VEVENTQ,
	IOMMUFD_OBJ_HW_QUEUE,
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object {
	uint32_t type;
	uint32_t id;
	/* 1 for the table's reference; each dependent object or attachment
	 * adds one. IOMMU_DESTROY needs exactly 1 (else EBUSY). */
	unsigned users;
	bool live; /* finalized: visible to lookups */
	/* Undo everything the object holds (not its memory). */
	void (*destroy)(struct iommufd_object *obj);
};

/* Largest object ID (xarray ALLOC1 limit in Linux). */
#define IOMMUFD_MAX_ID 0x7fffffffu

/* ---- Context ---- */
struct iommufd_ctx {
	pthread_mutex_t lock;
	unsigned refs; /* the fd, bound devices, event fds (atomic) */
	struct iommufd_object **objs; /* index = ID; NULL = free */
	uint32_t cap; /* slots in objs */
	uint32_t nobjs; /* slots in use (live or being created) */
	uint32_t free_hint; /* no free slot below this ID */
	struct iommufd_ioas *vfio_ioas; /* VFIO type1 compat IOAS */
	bool account_mm; /* IOMMU_OPTION_RLIMIT_MODE: 1 = per process */
	bool vfio_container; /* opened as /dev/vfio/vfio */
};

struct iommufd_ctx *iommufd_ctx_new(bool vfio_container);
void iommufd_ctx_get(struct iommufd_ctx *ctx);
/* The last put destroys every object leaf-first and frees the context. */
void iommufd_ctx_put(struct iommufd_ctx *ctx);

/* Reserve an ID for a new object of @size bytes (zeroed) whose first member
 * is struct iommufd_object. Invisible until iommufd_object_finalize(). */
void *iommufd_object_alloc(struct iommufd_ctx *ctx, size_t size, uint32_t type,
			   void (*destroy)(struct iommufd_object *));
void iommufd_object_finalize(struct iommufd_ctx *ctx,
			     struct iommufd_object *obj);
/* Free a not yet finalized object without calling destroy. */
void iommufd_object_abort(struct iommufd_ctx *ctx, struct iommufd_object *obj);
/* Call destroy, then abort. */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ctx,
				      struct iommufd_object *obj);
/* A live object of @type (or IOMMUFD_OBJ_ANY), NULL if none. */
struct iommufd_object *iommufd_object_get(struct iommufd_ctx *ctx, uint32_t id,
					  uint32_t type);
/* Remove and destroy regardless of users (users must be 1 or forced). */
void iommufd_object_destroy(struct iommufd_ctx *ctx,
			    struct iommufd_object *obj);
/* Drop a dependent's reference; never destroys. */
static inline void iommufd_object_put_user(struct iommufd_object *obj)
{
	obj->users--;
}

static inline bool iommufd_ctx_has_objects(struct iommufd_ctx *ctx)
{
	return ctx->nobjs != 0;
}

/* ---- ioctl plumbing ---- */
struct iommufd_ucmd {
	struct iommufd_ctx *ctx;
	uint64_t ubuffer; /* the caller's struct */
	uint32_t user_size; /* its size field */
	void *cmd; /* kernel copy, zero-extended */
};

/* Copy @size bytes of the command back, clamped to the caller's size. */
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t size);

/* ---- User memory (lib/core/uaccess.c) ---- */
/* -EFAULT for NULL, wrapping or unmapped ranges; never crashes. */
int copy_from_user(void *dst, uint64_t src, size_t n);
int copy_to_user(uint64_t dst, const void *src, size_t n);
int clear_user(uint64_t dst, size_t n);
/* 0 if [src + from, src + to) is all zero, -E2BIG if not, -EFAULT. */
int check_zeroed_user(uint64_t src, size_t from, size_t to);

/* ---- Pages: the memory behind IOAS areas (pages.c) ---- */
enum iopt_pages_kind {
	IOPT_PAGES_USER,
	IOPT_PAGES_FILE,
};

struct iopt_pages {
	unsigned refs; /* areas and in-flight users */
	uint8_t kind;
	bool writable;
	bool account_mm; /* which counter pays for the pins */
	bool pinned;
	uint64_t base; /* page-aligned host address of byte 0 */
	uint64_t length; /* bytes from base covered (whole pages) */
	uint64_t npages;
	unsigned pin_users; /* areas that need the pages pinned */
	/* IOPT_PAGES_FILE: the library's own mapping of the file. */
	uint64_t file_off; /* file offset of base */
	void *map;
	size_t map_len;
};

/* User memory [uptr, uptr + length): *start_byte = uptr - pages->base. */
int iopt_pages_new_user(uint64_t uptr, uint64_t length, bool writable,
			bool account_mm, struct iopt_pages **out,
			uint64_t *start_byte);
/* A memfd range; the library mmaps it. -EBADF, -EINVAL, -EPERM. */
int iopt_pages_new_file(int fd, uint64_t start, uint64_t length, bool writable,
			bool account_mm, struct iopt_pages **out,
			uint64_t *start_byte);
void iopt_pages_get(struct iopt_pages *p);
void iopt_pages_put(struct iopt_pages *p);
/* A new area of a domain-backed IOAS uses @p: pin (validate and account)
 * on the first such user. -EFAULT (memory not mapped or not writable),
 * -ENOMEM (over the pin limit). */
int iopt_pages_pin_user(struct iopt_pages *p);
void iopt_pages_unpin_user(struct iopt_pages *p);
/* The process has CAP_SYS_RESOURCE (IOMMU_OPTION_RLIMIT_MODE SET). */
bool iommufd_capable_sys_resource(void);

/* ---- IO page table: areas, reserved and allowed ranges, domains ---- */
struct iopt_area {
	struct itree_node node; /* IOVA range */
	struct iopt_pages *pages;
	uint64_t pages_off; /* byte offset of node.start within pages */
	uint32_t prot; /* IOMMU_PROT_* */
	bool pin_held; /* counted in pages->pin_users */
	unsigned num_locks; /* held by in-kernel users (HW queues) */
};

static inline uint64_t iopt_area_host(const struct iopt_area *a, uint64_t iova)
{
	return a->pages->base + a->pages_off + (iova - a->node.start);
}

struct iopt_reserved {
	uint64_t start, last;
	const void *owner;
};

struct iopt {
	struct iommufd_ctx *ctx;
	struct itree areas;
	struct iommu_iova_range *allowed; /* sorted, disjoint */
	unsigned nallowed;
	struct iopt_reserved *resv; /* may overlap each other */
	unsigned nresv, resv_cap;
	struct iommu_domain **domains;
	unsigned ndomains, dom_cap;
	uint64_t iova_alignment;
	bool disable_large_pages;
};

#define IOPT_ALLOC_IOVA (1u << 0)

void iopt_init(struct iopt *iopt, struct iommufd_ctx *ctx);
void iopt_destroy(struct iopt *iopt); /* no domains may remain */

/* One source range of a map: pages and the byte offset into them. */
struct iopt_pages_elm {
	struct iopt_pages *pages; /* a reference is held */
	uint64_t start_byte;
	uint64_t length;
};

/* Map the pieces at *iova (allocated if IOPT_ALLOC_IOVA). */
int iopt_map_pages(struct iopt *iopt, struct iopt_pages_elm *elms,
		   unsigned nelms, uint64_t length, uint64_t *iova,
		   uint32_t prot, unsigned flags);
/* Pieces covering [iova, iova + length) (COPY); -ENOENT for a hole. */
int iopt_get_pages(struct iopt *iopt, uint64_t iova, uint64_t length,
		   struct iopt_pages_elm **elms, unsigned *nelms);
void iopt_put_pages(struct iopt_pages_elm *elms, unsigned nelms);
/* Unmap whole areas inside [start, last]; -ENOENT if an area sticks out,
 * -EBUSY if locked. *unmapped counts what was removed, even on error. */
int iopt_unmap_range(struct iopt *iopt, uint64_t start, uint64_t last,
		     uint64_t *unmapped);
int iopt_unmap_all(struct iopt *iopt, uint64_t *unmapped);
/* Split areas so that each iovas[i] is the last byte of an area. */
int iopt_cut_iova(struct iopt *iopt, const uint64_t *iovas, unsigned n);

int iopt_reserve(struct iopt *iopt, uint64_t start, uint64_t last,
		 const void *owner);
void iopt_unreserve_owner(struct iopt *iopt, const void *owner);
int iopt_set_allowed(struct iopt *iopt, struct iommu_iova_range *ranges,
		     unsigned n);

/* Visit the holes of the reserved set in [0, UINT64_MAX] in order. */
typedef int (*iopt_hole_fn)(void *ctx, uint64_t start, uint64_t last);
int iopt_for_each_hole(struct iopt *iopt, iopt_hole_fn fn, void *ctx);

int iopt_add_domain(struct iopt *iopt, struct iommu_domain *d);
void iopt_remove_domain(struct iopt *iopt, struct iommu_domain *d);
int iopt_disable_large_pages(struct iopt *iopt);
void iopt_enable_large_pages(struct iopt *iopt);
/* Recompute the alignment; -EADDRINUSE if areas would violate it. */
int iopt_recalc_alignment(struct iopt *iopt);

int iopt_set_dirty_tracking(struct iopt *iopt, struct iommu_domain *d,
			    bool enable);
int iopt_read_and_clear_dirty(struct iopt *iopt, struct iommu_domain *d,
			      struct iommu_hwpt_get_dirty_bitmap *cmd);

/* ---- IOAS ---- */
struct iommufd_hwpt_paging;

struct iommufd_ioas {
	struct iommufd_object obj;
	struct iopt iopt;
	struct iommufd_hwpt_paging **hwpts; /* HWPT_PAGINGs on this IOAS */
	unsigned nhwpts, hwpt_cap;
};

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ctx, uint32_t id);
/* Map user memory (IOAS_MAP, VFIO_IOMMU_MAP_DMA). */
int iommufd_map_user(struct iommufd_ioas *ioas, uint64_t uptr, uint64_t length,
		     uint64_t *iova, uint32_t prot, bool alloc_iova,
		     bool account_mm);
/* Create an IOAS (finalized) for the VFIO compat path. */
int iommufd_ioas_create(struct iommufd_ctx *ctx, struct iommufd_ioas **out);

/* ---- HW page tables ---- */
struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct iommu_domain *domain;
	bool pasid_compat; /* IOMMU_HWPT_ALLOC_PASID */
};

struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas;
	bool auto_domain;
	bool nest_parent;
	bool enforce_cache_coherency;
	bool in_ioas; /* domain added to ioas->iopt */
};

static inline bool hwpt_is_paging(struct iommufd_hw_pagetable *h)
{
	return h->obj.type == IOMMUFD_OBJ_HWPT_PAGING;
}

static inline struct iommufd_hwpt_paging *
to_hwpt_paging(struct iommufd_hw_pagetable *h)
{
	return (struct iommufd_hwpt_paging *)h;
}

struct iommufd_device;
/* A new HWPT_PAGING on @ioas for @idev (not finalized). */
int iommufd_hwpt_paging_alloc(struct iommufd_ctx *ctx,
			      struct iommufd_ioas *ioas,
			      struct iommufd_device *idev, uint32_t flags,
			      struct iommufd_hwpt_paging **out);
/* Drop an attachment's reference; auto domains die with the last one. */
void iommufd_hwpt_put_attach(struct iommufd_ctx *ctx,
			     struct iommufd_hw_pagetable *hwpt);

/* ---- Devices ---- */
struct iommufd_pasid_attach {
	uint32_t pasid;
	struct iommufd_hw_pagetable *hwpt;
};

struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ctx;
	struct iommu_dev *dev;
	struct iommufd_hw_pagetable *rid_hwpt; /* NULL: blocked */
	struct iommufd_pasid_attach *pasids;
	unsigned npasids, pasid_cap;
	struct iommufd_ioas *resv_ioas; /* where our reserved regions are */
	bool enforce_cache_coherency;
	bool unbinding;
};

/* Bind @dev to @ctx: a DEVICE object held by the caller (the VFIO cdev);
 * the device is blocked. Takes ctx->lock. */
int iommufd_device_bind(struct iommufd_ctx *ctx, struct iommu_dev *dev,
			struct iommufd_device **out, uint32_t *id);
/* Detach everything and destroy the DEVICE object. Takes ctx->lock. */
void iommufd_device_unbind(struct iommufd_device *idev);
/* @pasid IOMMU_NO_PASID for the RID. *pt_id: in an IOAS or HWPT ID, out
 * the HWPT attached. Take ctx->lock. */
int iommufd_device_attach(struct iommufd_device *idev, uint32_t pasid,
			  uint32_t *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, uint32_t pasid,
			   uint32_t *pt_id);
void iommufd_device_detach(struct iommufd_device *idev, uint32_t pasid);
bool iommufd_device_pasid_attached(struct iommufd_device *idev, uint32_t pasid);

struct iommufd_device *iommufd_get_device(struct iommufd_ctx *ctx, uint32_t id);

/* ---- ioctl handlers (ctx->lock held) ---- */
int iommufd_destroy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_option(struct iommufd_ucmd *ucmd);
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);

/* ---- Small helpers ---- */
extern uint64_t iommufd_page_size; /* the host's PAGE_SIZE */

static inline bool add_overflows(uint64_t a, uint64_t b, uint64_t *res)
{
	return __builtin_add_overflow(a, b, res);
}

#endif
