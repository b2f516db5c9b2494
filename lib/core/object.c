// SPDX-License-Identifier: MIT
/*
 * The iommufd context and its object table (iommufd-uapi.md §0, §4): IDs
 * from 1, the lowest free one reused; objects are created invisible and
 * finalized only when the ioctl succeeded; IOMMU_DESTROY needs the object
 * to have no users but the table; closing destroys everything leaf-first.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "util/alloc.h"

uint64_t iommufd_page_size = 4096;

/* Fills the slot of a destroyed object whose ID stays taken until the
 * context closes (iommufd_object_tombstone): never live, never freed. */
static struct iommufd_object tombstone = { .type = IOMMUFD_OBJ_NONE };

__attribute__((constructor)) static void page_size_init(void)
{
	long p = sysconf(_SC_PAGESIZE);

	if (p > 0)
		iommufd_page_size = (uint64_t)p;
}

struct iommufd_ctx *iommufd_ctx_new(bool vfio_container)
{
	struct iommufd_ctx *ctx = xzalloc(sizeof(*ctx));

	if (!ctx)
		return NULL;
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->refs = 1;
	ctx->free_hint = 1;
	/* /dev/vfio/vfio selects VFIO compatible (per process) accounting */
	ctx->account_mm = vfio_container;
	ctx->vfio_container = vfio_container;
	return ctx;
}

void iommufd_ctx_get(struct iommufd_ctx *ctx)
{
	__atomic_add_fetch(&ctx->refs, 1, __ATOMIC_RELAXED);
}

static void table_release(struct iommufd_ctx *ctx, uint32_t id);

/* Destroy leaf-first: an object nobody depends on goes first; dependents
 * drop their references as they die, freeing the next layer. */
static void ctx_teardown(struct iommufd_ctx *ctx)
{
	bool progress = true;

	pthread_mutex_lock(&ctx->lock);
	while (ctx->nobjs && progress) {
		progress = false;
		for (uint32_t id = 1; id < ctx->cap; id++) {
			struct iommufd_object *obj = ctx->objs[id];

			if (obj && obj->live && obj->users == 1) {
				iommufd_object_destroy(ctx, obj);
				progress = true;
			}
		}
	}
	/* Tombstones only hold their IDs. A cycle would be a bug; do not
	 * leak what is left. */
	for (uint32_t id = 1; ctx->nobjs && id < ctx->cap; id++) {
		if (ctx->objs[id] == &tombstone)
			table_release(ctx, id);
		else if (ctx->objs[id])
			iommufd_object_destroy(ctx, ctx->objs[id]);
	}
	pthread_mutex_unlock(&ctx->lock);
}

void iommufd_ctx_put(struct iommufd_ctx *ctx)
{
	if (__atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL))
		return;
	ctx_teardown(ctx);
	xfree(ctx->objs);
	pthread_mutex_destroy(&ctx->lock);
	xfree(ctx);
}

static int table_reserve(struct iommufd_ctx *ctx, struct iommufd_object *obj)
{
	uint32_t id;

	for (id = ctx->free_hint; id < ctx->cap; id++) {
		if (!ctx->objs[id])
			break;
	}
	if (id >= ctx->cap) {
		uint32_t ncap = ctx->cap ? ctx->cap * 2 : 16;
		struct iommufd_object **n;

		if (id > IOMMUFD_MAX_ID)
			return -ENOSPC;
		n = xrealloc(ctx->objs, ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + ctx->cap, 0, (ncap - ctx->cap) * sizeof(*n));
		ctx->objs = n;
		ctx->cap = ncap;
	}
	ctx->objs[id] = obj;
	ctx->nobjs++;
	ctx->free_hint = id + 1;
	obj->id = id;
	return 0;
}

static void table_release(struct iommufd_ctx *ctx, uint32_t id)
{
	ctx->objs[id] = NULL;
	ctx->nobjs--;
	if (id < ctx->free_hint)
		ctx->free_hint = id;
}

void *iommufd_object_alloc(struct iommufd_ctx *ctx, size_t size, uint32_t type,
			   void (*destroy)(struct iommufd_object *))
{
	struct iommufd_object *obj = xzalloc(size);

	if (!obj)
		return NULL;
	obj->type = type;
	obj->users = 1;
	obj->destroy = destroy;
	if (table_reserve(ctx, obj)) {
		xfree(obj);
		return NULL;
	}
	return obj;
}

void iommufd_object_finalize(struct iommufd_ctx *ctx,
			     struct iommufd_object *obj)
{
	obj->live = true;
}

void iommufd_object_abort(struct iommufd_ctx *ctx, struct iommufd_object *obj)
{
	table_release(ctx, obj->id);
	xfree(obj);
}

void iommufd_object_abort_and_destroy(struct iommufd_ctx *ctx,
				      struct iommufd_object *obj)
{
	if (obj->destroy)
		obj->destroy(obj);
	iommufd_object_abort(ctx, obj);
}

struct iommufd_object *iommufd_object_get(struct iommufd_ctx *ctx, uint32_t id,
					  uint32_t type)
{
	struct iommufd_object *obj;

	if (!id || id >= ctx->cap)
		return NULL;
	obj = ctx->objs[id];
	if (!obj || !obj->live)
		return NULL;
	if (type != IOMMUFD_OBJ_ANY && obj->type != type)
		return NULL;
	return obj;
}

void iommufd_object_destroy(struct iommufd_ctx *ctx, struct iommufd_object *obj)
{
	/* Out of the table first: destroy may look objects up. */
	obj->live = false;
	if (obj->destroy)
		obj->destroy(obj);
	table_release(ctx, obj->id);
	xfree(obj);
}

void iommufd_object_tombstone(struct iommufd_ctx *ctx,
			      struct iommufd_object *obj)
{
	obj->live = false;
	if (obj->destroy)
		obj->destroy(obj);
	ctx->objs[obj->id] = &tombstone;
	xfree(obj);
}

int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;
	struct iommufd_object *obj =
		iommufd_object_get(ucmd->ctx, cmd->id, IOMMUFD_OBJ_ANY);

	if (!obj)
		return -ENOENT;
	/* Someone depends on it (iommufd-uapi.md §4). */
	if (obj->users != 1)
		return -EBUSY;
	iommufd_object_destroy(ucmd->ctx, obj);
	return 0;
}

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t size)
{
	size_t n = ucmd->user_size < size ? ucmd->user_size : size;

	return copy_to_user(ucmd->ubuffer, ucmd->cmd, n);
}
