// SPDX-License-Identifier: MIT
/*
 * IOAS objects and their ioctls (iommufd-uapi.md §5): ALLOC, MAP, MAP_FILE,
 * COPY, UNMAP, IOVA_RANGES, ALLOW_IOVAS, OPTION, VFIO_IOAS, CHANGE_PROCESS.
 * The checks come in the kernel's order so that a request with several
 * faults gets the same errno.
 */
#include <errno.h>

#include "core/core.h"
#include "util/alloc.h"

#define ULONG_MAX_ UINT64_MAX

static void ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *ioas = (struct iommufd_ioas *)obj;
	struct iommufd_ctx *ctx = ioas->iopt.ctx;
	uint64_t unmapped;

	/* Destroying the compat IOAS clears the compat pointer (§9.2). */
	if (ctx->vfio_ioas == ioas)
		ctx->vfio_ioas = NULL;
	iopt_unmap_all(&ioas->iopt, &unmapped);
	iopt_destroy(&ioas->iopt);
	xfree(ioas->hwpts);
}

struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ctx, uint32_t id)
{
	return (struct iommufd_ioas *)iommufd_object_get(ctx, id,
							 IOMMUFD_OBJ_IOAS);
}

static struct iommufd_ioas *ioas_alloc(struct iommufd_ctx *ctx)
{
	struct iommufd_ioas *ioas = iommufd_object_alloc(
		ctx, sizeof(*ioas), IOMMUFD_OBJ_IOAS, ioas_destroy);

	if (ioas)
		iopt_init(&ioas->iopt, ctx);
	return ioas;
}

int iommufd_ioas_create(struct iommufd_ctx *ctx, struct iommufd_ioas **out)
{
	struct iommufd_ioas *ioas = ioas_alloc(ctx);

	if (!ioas)
		return -ENOMEM;
	iommufd_object_finalize(ctx, &ioas->obj);
	*out = ioas;
	return 0;
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	ioas = ioas_alloc(ucmd->ctx);
	if (!ioas)
		return -ENOMEM;
	cmd->out_ioas_id = ioas->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ctx, &ioas->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ctx, &ioas->obj);
	return 0;
}

static uint32_t conv_prot(uint32_t flags)
{
	/* Coherent DMA is mandatory: IOMMU_CACHE always (§5 MAP). */
	uint32_t prot = IOMMU_PROT_CACHE;

	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		prot |= IOMMU_PROT_WRITE;
	if (flags & IOMMU_IOAS_MAP_READABLE)
		prot |= IOMMU_PROT_READ;
	return prot;
}

#define MAP_FLAGS                                               \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | \
	 IOMMU_IOAS_MAP_READABLE)

/* Map one pages object at *iova; consumes @pages on success. */
static int map_one(struct iommufd_ioas *ioas, struct iopt_pages *pages,
		   uint64_t start_byte, uint64_t length, uint64_t *iova,
		   uint32_t prot, bool alloc_iova)
{
	struct iopt_pages_elm elm = {
		.pages = pages,
		.start_byte = start_byte,
		.length = length,
	};
	int rc = iopt_map_pages(&ioas->iopt, &elm, 1, length, iova, prot,
				alloc_iova ? IOPT_ALLOC_IOVA : 0);

	if (rc)
		iopt_pages_put(pages);
	return rc;
}

int iommufd_map_user(struct iommufd_ioas *ioas, uint64_t uptr, uint64_t length,
		     uint64_t *iova, uint32_t prot, bool alloc_iova,
		     bool account_mm)
{
	struct iopt_pages *pages;
	uint64_t start_byte;
	int rc;

	rc = iopt_pages_new_user(uptr, length, prot & IOMMU_PROT_WRITE,
				 account_mm, &pages, &start_byte);
	if (rc)
		return rc;
	return map_one(ioas, pages, start_byte, length, iova, prot, alloc_iova);
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	uint64_t iova = cmd->iova;
	int rc;

	if ((cmd->flags & ~MAP_FLAGS) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->iova >= ULONG_MAX_ || cmd->length >= ULONG_MAX_)
		return -EOVERFLOW;
	if (!(cmd->flags &
	      (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	ioas = iommufd_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	rc = iommufd_map_user(ioas, cmd->user_va, cmd->length, &iova,
			      conv_prot(cmd->flags),
			      !(cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA),
			      ucmd->ctx->account_mm);
	if (rc)
		return rc;
	cmd->iova = iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map_file *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	struct iopt_pages *pages;
	uint64_t iova = cmd->iova, start_byte;
	uint32_t prot = conv_prot(cmd->flags);
	int rc;

	if (cmd->flags & ~MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->iova >= ULONG_MAX_ || cmd->length >= ULONG_MAX_)
		return -EOVERFLOW;
	if (!(cmd->flags &
	      (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	ioas = iommufd_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	rc = iopt_pages_new_file(cmd->fd, cmd->start, cmd->length,
				 prot & IOMMU_PROT_WRITE, ucmd->ctx->account_mm,
				 &pages, &start_byte);
	if (rc)
		return rc;
	rc = map_one(ioas, pages, start_byte, cmd->length, &iova, prot,
		     !(cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA));
	if (rc)
		return rc;
	cmd->iova = iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *cmd = ucmd->cmd;
	struct iommufd_ioas *src, *dst;
	struct iopt_pages_elm *elms;
	unsigned nelms;
	uint64_t iova;
	int rc;

	if (cmd->flags & ~MAP_FLAGS)
		return -EOPNOTSUPP;
	if (cmd->length >= ULONG_MAX_ || cmd->src_iova >= ULONG_MAX_ ||
	    cmd->dst_iova >= ULONG_MAX_)
		return -EOVERFLOW;
	if (!(cmd->flags &
	      (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE)))
		return -EINVAL;
	src = iommufd_get_ioas(ucmd->ctx, cmd->src_ioas_id);
	if (!src)
		return -ENOENT;
	/* Any range fully covered by areas, sub-ranges included (§5 COPY). */
	rc = iopt_get_pages(&src->iopt, cmd->src_iova, cmd->length, &elms,
			    &nelms);
	if (rc)
		return rc;
	dst = iommufd_get_ioas(ucmd->ctx, cmd->dst_ioas_id);
	if (!dst) {
		rc = -ENOENT;
		goto out_put;
	}
	iova = cmd->dst_iova;
	rc = iopt_map_pages(
		&dst->iopt, elms, nelms, cmd->length, &iova,
		conv_prot(cmd->flags),
		(cmd->flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? 0 : IOPT_ALLOC_IOVA);
	if (rc)
		goto out_put;
	/* The new areas hold the page references now. */
	xfree(elms);
	cmd->dst_iova = iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_put:
	iopt_put_pages(elms, nelms);
	return rc;
}

int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas = iommufd_get_ioas(ucmd->ctx, cmd->ioas_id);
	uint64_t unmapped = 0, last;
	int rc;

	if (!ioas)
		return -ENOENT;
	if (cmd->iova == 0 && cmd->length == UINT64_MAX) {
		/* Unmap all: succeeds on an empty IOAS too. */
		rc = iopt_unmap_all(&ioas->iopt, &unmapped);
	} else {
		if (cmd->iova >= ULONG_MAX_ || cmd->length >= ULONG_MAX_)
			return -EOVERFLOW;
		if (!cmd->length)
			return -EINVAL;
		if (add_overflows(cmd->iova, cmd->length - 1, &last))
			return -EOVERFLOW;
		rc = iopt_unmap_range(&ioas->iopt, cmd->iova, last, &unmapped);
		if (!rc && !unmapped)
			rc = -ENOENT;
	}
	/* A failure part way leaves what was unmapped unmapped, but reports
	 * nothing (Linux 7.3 behaviour). */
	if (rc)
		return rc;
	cmd->length = unmapped;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

struct ranges_out {
	uint64_t uptr;
	uint32_t max, n;
	int rc;
};

static int put_range(void *p, uint64_t start, uint64_t last)
{
	struct ranges_out *o = p;
	struct iommu_iova_range r = { .start = start, .last = last };

	if (o->n < o->max) {
		int rc = copy_to_user(o->uptr + (uint64_t)o->n * sizeof(r), &r,
				      sizeof(r));

		if (rc)
			return rc;
	}
	o->n++;
	return 0;
}

int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	struct ranges_out o;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	o = (struct ranges_out){ .uptr = cmd->allowed_iovas,
				 .max = cmd->num_iovas };
	rc = iopt_for_each_hole(&ioas->iopt, put_range, &o);
	if (rc)
		return rc;
	cmd->num_iovas = o.n;
	cmd->out_iova_alignment = ioas->iopt.iova_alignment;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		return rc;
	/* The struct went back with the total; the array was too small. */
	if (o.n > o.max)
		return -EMSGSIZE;
	return 0;
}

int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *cmd = ucmd->cmd;
	struct iommu_iova_range *ranges = NULL;
	struct iommufd_ioas *ioas;
	uint32_t cap = 0;
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (!ioas)
		return -ENOENT;
	for (uint32_t i = 0; i < cmd->num_iovas; i++) {
		struct iommu_iova_range r;

		rc = copy_from_user(&r, cmd->allowed_iovas + (uint64_t)i * 16,
				    sizeof(r));
		if (rc)
			goto out;
		if (r.start >= r.last) {
			rc = -EINVAL;
			goto out;
		}
		/* Ranges must not overlap each other. */
		for (uint32_t j = 0; j < i; j++) {
			if (ranges[j].start <= r.last &&
			    ranges[j].last >= r.start) {
				rc = -EINVAL;
				goto out;
			}
		}
		if (i == cap) {
			uint32_t ncap = cap ? cap * 2 : 8;
			struct iommu_iova_range *n =
				xrealloc(ranges, ncap * sizeof(*n));

			if (!n) {
				rc = -ENOMEM;
				goto out;
			}
			ranges = n;
			cap = ncap;
		}
		ranges[i] = r;
	}
	if (!cmd->num_iovas) {
		/* num 0 clears the list */
		rc = iopt_set_allowed(&ioas->iopt, NULL, 0);
		return rc;
	}
	rc = iopt_set_allowed(&ioas->iopt, ranges, cmd->num_iovas);
	if (!rc)
		return 0;
out:
	xfree(ranges);
	return rc;
}

/* IOMMU_OPTION_RLIMIT_MODE: per user (0) or per process (1) accounting. */
static int option_rlimit_mode(struct iommu_option *cmd,
			      struct iommufd_ctx *ctx);

static int option_huge_pages(struct iommu_option *cmd,
			     struct iommufd_ioas *ioas)
{
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = !ioas->iopt.disable_large_pages;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (cmd->val64 == 0)
		return iopt_disable_large_pages(&ioas->iopt);
	if (cmd->val64 == 1) {
		iopt_enable_large_pages(&ioas->iopt);
		return 0;
	}
	return -EINVAL;
}

int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		rc = option_rlimit_mode(cmd, ucmd->ctx);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		ioas = iommufd_get_ioas(ucmd->ctx, cmd->object_id);
		if (!ioas)
			return -ENOENT;
		rc = option_huge_pages(cmd, ioas);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc)
		return rc;
	/* Only val64 goes back. */
	if (ucmd->user_size >= 24)
		return copy_to_user(
			ucmd->ubuffer + offsetof(struct iommu_option, val64),
			&cmd->val64, sizeof(cmd->val64));
	return 0;
}

static int option_rlimit_mode(struct iommu_option *cmd, struct iommufd_ctx *ctx)
{
	if (cmd->object_id)
		return -EOPNOTSUPP;
	if (cmd->op == IOMMU_OPTION_OP_GET) {
		cmd->val64 = ctx->account_mm;
		return 0;
	}
	if (cmd->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (!iommufd_capable_sys_resource())
		return -EPERM;
	/* Only on an fd without objects. */
	if (iommufd_ctx_has_objects(ctx))
		return -EBUSY;
	if (cmd->val64 > 1)
		return -EINVAL;
	ctx->account_mm = cmd->val64;
	return 0;
}

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		if (!ucmd->ctx->vfio_ioas)
			return -ENODEV;
		cmd->ioas_id = ucmd->ctx->vfio_ioas->obj.id;
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = iommufd_get_ioas(ucmd->ctx, cmd->ioas_id);
		if (!ioas)
			return -ENOENT;
		ucmd->ctx->vfio_ioas = ioas;
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		ucmd->ctx->vfio_ioas = NULL;
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_change_process *cmd = ucmd->cmd;
	struct iommufd_ctx *ctx = ucmd->ctx;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	/* One process here: only the rule that every area must be a file
	 * area is left to enforce; accounting stays where it is. */
	for (uint32_t id = 1; id < ctx->cap; id++) {
		struct iommufd_ioas *ioas = iommufd_get_ioas(ctx, id);

		if (!ioas)
			continue;
		for (struct itree_node *n = itree_first(&ioas->iopt.areas); n;
		     n = itree_next(&ioas->iopt.areas, n)) {
			if (((struct iopt_area *)n)->pages->kind !=
			    IOPT_PAGES_FILE)
				return -EINVAL;
		}
	}
	return 0;
}
