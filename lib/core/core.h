/* SPDX-License-Identifier: MIT */
/*
 * The iommufd object model (internal): the context of one /dev/iommu fd, its
 * object table, and the object kinds of this layer. One file per object
 * kind implements it (object.c, ioas.c + iopt.c + pages.c, hwpt.c,
 * device.c, fault.c, viommu.c, vdevice.c, veventq.c, hw_queue.c; eventq.c
 * has what the two fd-backed queues share); ioctl handlers take a struct
 * iommufd_ucmd as in Linux.
 *
 * Locking: everything reachable from a context is protected by ctx->lock,
 * which the ioctl layer (lib/uapi) holds around every handler and the VFIO
 * cdev layer around bind/attach/detach. Device DMA never takes it: it goes
 * device -> driver -> tables (see lib/drivers/inflight.h).
 *
 * Drivers report I/O page faults and vEVENTs from any thread, possibly
 * inside a DMA in-flight section, so those paths take only locks that no
 * thread holds while it waits for DMA: the IOPF routing lock
 * (iommufd_iopf_lock: which HWPT a device's RID/PASID is attached to, and
 * partial page-request groups), a vIOMMU's rwlock (its vDEVICEs and
 * vEVENTQs) and each event queue's own mutex; in that order, after
 * ctx->lock when both are taken. Drivers are never called with them held.
 */
#ifndef IONEST_CORE_H
#define IONEST_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ionest/uapi/iommufd.h>

#include "util/itree.h"
#include "core/list.h"
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
/* Destroy @obj but keep its ID reserved until the context closes: lookups
 * and IOMMU_DESTROY see ENOENT (the vDEVICE of an unbound device, §4). */
void iommufd_object_tombstone(struct iommufd_ctx *ctx,
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
struct iommufd_eventq;

/* What the ioctl layer provides for objects that come with an fd (the
 * core cannot make files itself). */
struct iommufd_fd_ops {
	/* A new fd for @eq, inert (reads fail) until publish; it sets
	 * eq->efd to a private handle on the fd's eventfd and *file to the
	 * file behind the fd for publish/cancel. fd or -errno. */
	int (*open)(struct iommufd_eventq *eq, bool writable, void **file);
	/* The ioctl succeeded: the file now reaches @eq (holding the user
	 * and context references iommufd_eventq_fd_get took). false: the
	 * caller closed the fd already, nothing reaches @eq and the
	 * references are the core's to drop. Called with ctx->lock held. */
	bool (*publish)(void *file, struct iommufd_eventq *eq);
	/* The ioctl failed after open: close the fd. */
	void (*cancel)(void *file, int fd);
};

struct iommufd_ucmd {
	struct iommufd_ctx *ctx;
	uint64_t ubuffer; /* the caller's struct */
	uint32_t user_size; /* its size field */
	void *cmd; /* kernel copy, zero-extended */
	const struct iommufd_fd_ops *fd_ops;
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
/* An in-library user (a HW queue) holds [start, last]: every area under it
 * is locked (unmap and cut: -EBUSY) until iopt_unlock_range() of the same
 * range. *host: the host address of @start. -ENOENT: not all mapped;
 * -EPERM: an area is not readable; -EFAULT: the host memory behind it is
 * not contiguous. Locks nothing on error. */
int iopt_lock_range(struct iopt *iopt, uint64_t start, uint64_t last,
		    uint64_t *host);
void iopt_unlock_range(struct iopt *iopt, uint64_t start, uint64_t last);
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
struct iommufd_fault;
struct iommufd_viommu;

struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct iommu_domain *domain;
	/* FAULT_ID_VALID: page requests of attached devices go here. */
	struct iommufd_fault *fault;
	bool pasid_compat; /* IOMMU_HWPT_ALLOC_PASID */
};

struct iommufd_hwpt_paging {
	struct iommufd_hw_pagetable common;
	struct iommufd_ioas *ioas;
	bool auto_domain;
	bool nest_parent;
	bool enforce_cache_coherency;
	bool in_ioas; /* domain added to ioas->iopt */
	/* The software MSI doorbell page mapped at msi_iova for the RIDs
	 * attached here (or to nested HWPTs over it) that have an
	 * IOMMU_RESV_SW_MSI window. */
	unsigned msi_users;
	uint64_t msi_iova;
};

/* A user-managed stage 1 over a nest parent, allocated on the parent or
 * on a vIOMMU (iommufd-uapi.md §6). */
struct iommufd_hwpt_nested {
	struct iommufd_hw_pagetable common;
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu; /* NULL: made on the parent */
	bool counted; /* in its instance's nested_domains */
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

static inline struct iommufd_hwpt_nested *
to_hwpt_nested(struct iommufd_hw_pagetable *h)
{
	return (struct iommufd_hwpt_nested *)h;
}

/* The paging HWPT whose IOAS backs @h: itself or a nested one's parent. */
static inline struct iommufd_hwpt_paging *
hwpt_find_paging(struct iommufd_hw_pagetable *h)
{
	if (hwpt_is_paging(h))
		return to_hwpt_paging(h);
	return to_hwpt_nested(h)->parent;
}

struct iommufd_device;
/* A new HWPT_PAGING on @ioas for @idev (not finalized). */
int iommufd_hwpt_paging_alloc(struct iommufd_ctx *ctx,
			      struct iommufd_ioas *ioas,
			      struct iommufd_device *idev, uint32_t flags,
			      struct iommufd_hwpt_paging **out);
/* Copy a caller's driver data in for a driver (see struct
 * iommu_user_data); only -ENOMEM is an error here. */
int iommufd_user_data_init(struct iommu_user_data *ud, uint32_t type,
			   uint32_t len, uint64_t uptr);
void iommufd_user_data_fini(struct iommu_user_data *ud);
/* Drop an attachment's reference; auto domains die with the last one. */
void iommufd_hwpt_put_attach(struct iommufd_ctx *ctx,
			     struct iommufd_hw_pagetable *hwpt);

/* ---- Devices ---- */
struct iommufd_pasid_attach {
	uint32_t pasid;
	struct iommufd_hw_pagetable *hwpt;
};

struct iommufd_vdevice;

struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ctx;
	struct iommu_dev *dev;
	/* rid_hwpt and pasids change under ctx->lock and iommufd_iopf_lock
	 * (the fault path reads them under the latter only). */
	struct iommufd_hw_pagetable *rid_hwpt; /* NULL: blocked */
	struct iommufd_pasid_attach *pasids;
	unsigned npasids, pasid_cap;
	struct iommufd_ioas *resv_ioas; /* where our reserved regions are */
	/* The paging HWPT we hold the SW MSI doorbell mapping of. */
	struct iommufd_hwpt_paging *msi_hwpt;
	/* Page requests not yet completed by their group's last one
	 * (iommufd_iopf_lock). */
	struct iommu_fault *partial;
	unsigned npartial, partial_cap;
	struct iommufd_vdevice *vdev; /* at most one (§8) */
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

/* ---- Event queues behind an fd: FAULT and VEVENTQ (eventq.c) ---- */
struct iommufd_eventq {
	struct iommufd_object obj;
	struct iommufd_ctx *ctx;
	/* The queue. Never held while calling a driver or waiting for DMA. */
	pthread_mutex_t lock;
	/* Our handle on the fd's eventfd, whose counter is non-zero exactly
	 * while something is pending (poll/epoll see POLLIN). -1: none. */
	int efd;
	bool ready;
};

void iommufd_eventq_init(struct iommufd_eventq *eq, struct iommufd_ctx *ctx);
/* Close the eventfd handle and the lock (the object's destroy). */
void iommufd_eventq_fini(struct iommufd_eventq *eq);
/* Take our own handle on the eventfd behind @fd (eq->efd). */
int iommufd_eventq_dup_fd(struct iommufd_eventq *eq, int fd);
/* eq->lock held: make the fd readable iff @pending. */
void iommufd_eventq_set_ready(struct iommufd_eventq *eq, bool pending);
/* The fd of a new queue is published (ctx->lock held): it holds a user
 * reference on the object and a context reference. */
void iommufd_eventq_fd_get(struct iommufd_eventq *eq);
/* The fd was closed: drop what iommufd_eventq_fd_get took. */
void iommufd_eventq_fd_put(struct iommufd_eventq *eq);
/* Publish @file for @eq (ctx->lock held): fd_get, then fd_ops->publish. */
void iommufd_eventq_publish(struct iommufd_ucmd *ucmd,
			    struct iommufd_eventq *eq, void *file);

/* ---- Fault queue (fault.c) ---- */
struct iommufd_fault_group;

struct iommufd_fault {
	struct iommufd_eventq common;
	struct list_head deliver; /* groups not yet read, oldest first */
	/* Groups read and awaiting a response; index = cookie (from 1). */
	struct iommufd_fault_group **resp;
	uint32_t resp_cap, resp_hint;
};

/* Routing of page requests: see iommu_report_fault in driver.h. */
extern pthread_mutex_t iommufd_iopf_lock;

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd);
struct iommufd_fault *iommufd_get_fault(struct iommufd_ctx *ctx, uint32_t id);
/* read(2)/write(2) on the fault fd (iommufd-uapi.md §7). */
long iommufd_fault_read(struct iommufd_fault *fault, void *buf, size_t n);
long iommufd_fault_write(struct iommufd_fault *fault, const void *buf,
			 size_t n);
/* (@idev, @pasid) left @hwpt: answer its pending groups with INVALID. */
void iommufd_fault_auto_respond(struct iommufd_hw_pagetable *hwpt,
				struct iommufd_device *idev, uint32_t pasid);
/* Drop @idev's partial page requests (unbind). */
void iommufd_fault_drop_partial(struct iommufd_device *idev);

/* ---- vIOMMU, vDEVICE, vEVENTQ (viommu.c, vdevice.c, veventq.c) ---- */
struct iommufd_veventq;

struct iommufd_viommu {
	struct iommufd_object obj;
	struct iommufd_ctx *ctx;
	struct iommufd_hwpt_paging *hwpt; /* the nest parent */
	struct iommu_viommu *hw; /* the driver's */
	uint32_t type;
	/* vdevs and veventqs; the driver-facing lookups read under it. */
	pthread_rwlock_t lock;
	struct list_head vdevs;
	struct list_head veventqs;
};

struct iommufd_vdevice {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	struct list_head node; /* in viommu->vdevs */
	struct iommu_vdevice hw;
	bool inited; /* the driver's vdevice_init succeeded */
};

/* One queued vEVENT; the payload follows the struct. */
struct iommufd_vevent {
	struct list_head node;
	struct iommufd_vevent_header header;
	uint32_t len; /* payload bytes (0: the LOST_EVENTS mark) */
};

struct iommufd_veventq {
	struct iommufd_eventq common;
	struct iommufd_viommu *viommu;
	struct list_head node; /* in viommu->veventqs */
	uint32_t type, depth;
	uint32_t num_events; /* queued, LOST_EVENTS mark not counted */
	uint32_t sequence; /* of the next event, wraps at INT_MAX */
	struct list_head deliver; /* struct iommufd_vevent, oldest first */
	/* LOST_EVENTS mark: queued (always last) when events were dropped. */
	struct iommufd_vevent lost;
};

int iommufd_viommu_alloc(struct iommufd_ucmd *ucmd);
struct iommufd_viommu *iommufd_get_viommu(struct iommufd_ctx *ctx, uint32_t id);
int iommufd_vdevice_alloc(struct iommufd_ucmd *ucmd);
/* The device is being unbound: destroy its vDEVICE, leaving a tombstone. */
void iommufd_vdevice_unbind(struct iommufd_device *idev);
int iommufd_veventq_alloc(struct iommufd_ucmd *ucmd);
/* read(2) on the vEVENTQ fd (iommufd-uapi.md §8). */
long iommufd_veventq_read(struct iommufd_veventq *q, void *buf, size_t n);

/* ---- HW queues (hw_queue.c) ---- */
struct ionest_hw_queue_regs;

/* Per vIOMMU, IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ queues 0..7. */
#define IOMMUFD_HW_QUEUE_MAX 8

/* A command ring in guest memory (IOMMU_HW_QUEUE_TYPE_IONEST_CMDQ) that
 * the host consumes through the vIOMMU's cache_invalidate. */
struct iommufd_hw_queue {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;
	/* Index - 1, kept busy (destroyed after us). */
	struct iommufd_hw_queue *prev;
	uint32_t type, index;
	uint64_t base_iova, length; /* the guest's range */
	uint64_t lock_start, lock_last; /* the pages locked in the IOAS */
	bool locked;
	const uint8_t *ring; /* host address of entry 0 */
	uint32_t data_type, entry_len; /* the driver's entry format */
	uint32_t log2n; /* 2^log2n entries */
	/* Registers (ctx->lock): index | wrap << log2n; errno or 0. */
	uint32_t prod, cons, err;
};

int iommufd_hw_queue_alloc(struct iommufd_ucmd *ucmd);
/* The guest's register accesses (ctx->lock held); see <ionest/ionest.h>.
 * 0, -EIO (the queue is halted), -ENOENT, -EINVAL, -EOPNOTSUPP. */
int iommufd_hw_queue_doorbell(struct iommufd_ctx *ctx, uint32_t id,
			      uint32_t prod);
int iommufd_hw_queue_ack(struct iommufd_ctx *ctx, uint32_t id, uint32_t flags);
int iommufd_hw_queue_read_regs(struct iommufd_ctx *ctx, uint32_t id,
			       struct ionest_hw_queue_regs *regs);

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
