// SPDX-License-Identifier: MIT
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "core/core.h"
#include "nest_util.h"
#include "uapi/uapi.h"

/* ---- Guest RAM and its stage 1 (scenario/guest.c) ---- */

void guest_init(struct guest *g, uint64_t gpa, size_t len)
{
	memset(g, 0, sizeof(*g));
	assert_int_equal(vm_init(&g->vm, "guest", gpa, len), 0);
}

void guest_fini(struct guest *g)
{
	if (g->s1_ready)
		vm_s1_fini(&g->s1);
	vm_fini(&g->vm);
	memset(g, 0, sizeof(*g));
}

void guest_view(struct guest *view, struct guest *g, size_t off, size_t len)
{
	memset(view, 0, sizeof(*view));
	assert_int_equal(vm_view(&view->vm, &g->vm, off, len), 0);
}

int guest_map(struct guest *g, int fd, uint32_t ioas)
{
	return vm_ioas_map(&g->vm, fd, ioas);
}

uint64_t guest_alloc(struct guest *g, size_t len)
{
	uint64_t gpa = 0;

	assert_int_equal(vm_alloc(&g->vm, len, &gpa), 0);
	return gpa;
}

void *guest_va(struct guest *g, uint64_t gpa)
{
	void *p = vm_ptr(&g->vm, gpa, 1);

	assert_non_null(p);
	return p;
}

uint64_t guest_s1_init(struct guest *g)
{
	struct pt_cfg cfg = {
		.fmt = PT_FMT_X86_64,
		.granule_shift = 12,
		.ias = 48,
		.oas = 52,
		.start_level = -1,
	};

	assert_false(g->s1_ready);
	/* Every leaf size and 52-bit output, unlike vm_s1_init's 4K: the
	 * suites map 2M and 1G blocks. */
	assert_int_equal(pt_init(&g->s1, &cfg, vm_pt_mem(&g->vm)), 0);
	g->s1_ready = true;
	return g->s1.root;
}

int guest_s1_map(struct guest *g, uint64_t iova, uint64_t gpa, uint64_t len,
		 bool writable)
{
	return pt_map(&g->s1, iova, gpa, len,
		      PT_PROT_READ | (writable ? PT_PROT_WRITE : 0), 0);
}

int guest_s1_unmap(struct guest *g, uint64_t iova, uint64_t len)
{
	uint64_t unmapped;

	return pt_unmap(&g->s1, iova, len, 0, NULL, &unmapped);
}

/* ---- Raw ioctls ---- */

int nest_hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		    uint32_t data_type, const void *data, uint32_t data_len,
		    uint32_t fault_id, uint32_t *out)
{
	struct iommu_hwpt_alloc h = {
		.size = sizeof(h),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uint64_t)(uintptr_t)data,
		.fault_id = fault_id,
	};
	long rc = fx_ioctl(fd, IOMMU_HWPT_ALLOC, &h);

	if (!rc && out)
		*out = h.out_hwpt_id;
	return (int)rc;
}

int nest_mock_nested(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		     uint64_t s1_root, uint32_t nflags, uint32_t fault_id,
		     uint32_t *out)
{
	struct ionest_mock_hwpt_nested d = {
		.s1_root = s1_root,
		.flags = nflags,
	};

	return nest_hwpt_alloc(fd, dev_id, pt_id, flags, IONEST_MOCK_HWPT_DATA,
			       &d, sizeof(d), fault_id, out);
}

int nest_invalidate(int fd, uint32_t id, uint32_t type, const void *entries,
		    uint32_t entry_len, uint32_t *entry_num)
{
	struct iommu_hwpt_invalidate c = {
		.size = sizeof(c),
		.hwpt_id = id,
		.data_uptr = (uint64_t)(uintptr_t)entries,
		.data_type = type,
		.entry_len = entry_len,
		.entry_num = *entry_num,
	};
	long rc = fx_ioctl(fd, IOMMU_HWPT_INVALIDATE, &c);

	*entry_num = c.entry_num;
	return (int)rc;
}

int nest_inv_all(int fd, uint32_t nested)
{
	struct ionest_mock_invalidate inv = {
		.flags = IONEST_MOCK_INVALIDATE_ALL,
	};
	uint32_t n = 1;

	return nest_invalidate(fd, nested, IONEST_MOCK_INVALIDATE_NESTED, &inv,
			       sizeof(inv), &n);
}

int nest_viommu_alloc(int fd, uint32_t dev_id, uint32_t hwpt_id, uint32_t type,
		      uint32_t *out)
{
	struct iommu_viommu_alloc c = {
		.size = sizeof(c),
		.type = type,
		.dev_id = dev_id,
		.hwpt_id = hwpt_id,
	};
	long rc = fx_ioctl(fd, IOMMU_VIOMMU_ALLOC, &c);

	if (!rc && out)
		*out = c.out_viommu_id;
	return (int)rc;
}

int nest_vdevice_alloc(int fd, uint32_t viommu, uint32_t dev_id,
		       uint64_t virt_id, uint32_t *out)
{
	struct iommu_vdevice_alloc c = {
		.size = sizeof(c),
		.viommu_id = viommu,
		.dev_id = dev_id,
		.virt_id = virt_id,
	};
	long rc = fx_ioctl(fd, IOMMU_VDEVICE_ALLOC, &c);

	if (!rc && out)
		*out = c.out_vdevice_id;
	return (int)rc;
}

int nest_veventq_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t depth,
		       uint32_t *out_id, int *out_fd)
{
	struct iommu_veventq_alloc c = {
		.size = sizeof(c),
		.viommu_id = viommu,
		.type = type,
		.veventq_depth = depth,
	};
	long rc = fx_ioctl(fd, IOMMU_VEVENTQ_ALLOC, &c);

	if (!rc) {
		if (out_id)
			*out_id = c.out_veventq_id;
		if (out_fd)
			*out_fd = (int)c.out_veventq_fd;
	}
	return (int)rc;
}

int nest_hw_queue_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t index,
			uint64_t iova, uint64_t length, uint32_t *out)
{
	struct iommu_hw_queue_alloc c = {
		.size = sizeof(c),
		.viommu_id = viommu,
		.type = type,
		.index = index,
		.nesting_parent_iova = iova,
		.length = length,
	};
	long rc = fx_ioctl(fd, IOMMU_HW_QUEUE_ALLOC, &c);

	if (!rc && out)
		*out = c.out_hw_queue_id;
	return (int)rc;
}

int nest_doorbell(int fd, uint32_t q, uint32_t prod)
{
	return ionest_hw_queue_doorbell(fd, q, prod) ? -errno : 0;
}

int nest_ack(int fd, uint32_t q, uint32_t flags)
{
	return ionest_hw_queue_ack(fd, q, flags) ? -errno : 0;
}

struct ionest_hw_queue_regs nest_regs(int fd, uint32_t q)
{
	struct ionest_hw_queue_regs r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(ionest_hw_queue_read_regs(fd, q, &r), 0);
	return r;
}

int nest_fault_alloc(int fd, uint32_t *out_id, int *out_fd)
{
	struct iommu_fault_alloc c = { .size = sizeof(c) };
	long rc = fx_ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &c);

	if (!rc) {
		if (out_id)
			*out_id = c.out_fault_id;
		if (out_fd)
			*out_fd = (int)c.out_fault_fd;
	}
	return (int)rc;
}

short nest_poll(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	assert_true(poll(&p, 1, 0) >= 0);
	return p.revents;
}

void *nest_object(int fd, uint32_t id, uint32_t type)
{
	struct ionest_file *f = file_get(fd);
	struct iommufd_ctx *ctx;
	void *obj;

	assert_non_null(f);
	ctx = uapi_iommufd_ctx(f);
	assert_non_null(ctx);
	pthread_mutex_lock(&ctx->lock);
	obj = iommufd_object_get(ctx, id, type);
	pthread_mutex_unlock(&ctx->lock);
	file_put(f);
	return obj;
}

static void log_resp(void *ctx, uint32_t sid, uint32_t ssid, bool ssid_valid,
		     uint32_t prgi, uint32_t code)
{
	struct page_resp_log *log = ctx;
	unsigned i = __atomic_fetch_add(&log->n, 1, __ATOMIC_RELAXED);

	if (i < sizeof(log->r) / sizeof(log->r[0])) {
		log->r[i].sid = sid;
		log->r[i].ssid = ssid;
		log->r[i].ssid_valid = ssid_valid;
		log->r[i].prgi = prgi;
		log->r[i].code = code;
	}
}

void nest_log_page_resp(struct ionest_hw *hw, struct page_resp_log *log)
{
	if (log)
		memset(log, 0, sizeof(*log));
	ionest_hw_set_page_resp_handler(hw, log ? log_resp : NULL, log);
}
