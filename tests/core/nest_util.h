/* SPDX-License-Identifier: MIT */
/*
 * Shared by the nesting suites (nested HWPTs, vIOMMU, vEVENTQ, fault
 * queues, PASID): a "guest" whose RAM is mapped into an IOAS at a guest
 * physical address and holds the guest's stage-1 tables (x86-64 format, as
 * the mock's nested domains want), the raw ioctl wrappers of the nesting
 * uAPI, and a way to reach core objects behind an fd for white-box checks.
 */
#ifndef IONEST_TEST_NEST_UTIL_H
#define IONEST_TEST_NEST_UTIL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fixture.h"
#include "pt/pt.h"
#include "scenario/guest.h"

#define GUEST_GPA 0x40000000ull
#define GUEST_LEN (4ull << 20)

/* A guest for the nesting suites: scenario/guest.h's VM (RAM, bump
 * allocator) and one x86-64 stage 1 in it; the helpers assert. */
struct guest {
	struct vm vm; /* RAM: vm.mem is its host memory, vm.gpa its base */
	struct pt s1; /* the guest's stage 1 (root in s1.root, a GPA) */
	bool s1_ready;
};

/* Guest RAM of @len bytes at @gpa, zeroed, not yet mapped anywhere. */
void guest_init(struct guest *g, uint64_t gpa, size_t len);
void guest_fini(struct guest *g);
/* @view: [off, off + len) of @g's RAM as a guest of its own (for a
 * second stage-1 table tree); guest_fini frees only its tables. */
void guest_view(struct guest *view, struct guest *g, size_t off, size_t len);
/* Map the whole guest RAM into @ioas (read/write). */
int guest_map(struct guest *g, int fd, uint32_t ioas);
/* @len zeroed bytes of guest RAM, 4K aligned: their GPA. */
uint64_t guest_alloc(struct guest *g, size_t len);
void *guest_va(struct guest *g, uint64_t gpa);
/* An empty stage 1; its root GPA. */
uint64_t guest_s1_init(struct guest *g);
/* Stage-1 map/unmap of IOVA -> GPA (no invalidation: the test does it). */
int guest_s1_map(struct guest *g, uint64_t iova, uint64_t gpa, uint64_t len,
		 bool writable);
int guest_s1_unmap(struct guest *g, uint64_t iova, uint64_t len);

/* ---- Raw ioctls of the nesting uAPI; 0 or -errno ---- */
int nest_hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		    uint32_t data_type, const void *data, uint32_t data_len,
		    uint32_t fault_id, uint32_t *out);
/* A mock nested HWPT over @pt_id (NEST_PARENT HWPT or mock vIOMMU). */
int nest_mock_nested(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		     uint64_t s1_root, uint32_t nflags, uint32_t fault_id,
		     uint32_t *out);
int nest_invalidate(int fd, uint32_t id, uint32_t type, const void *entries,
		    uint32_t entry_len, uint32_t *entry_num);
/* Invalidate everything of a mock nested HWPT. */
int nest_inv_all(int fd, uint32_t nested);
int nest_viommu_alloc(int fd, uint32_t dev_id, uint32_t hwpt_id, uint32_t type,
		      uint32_t *out);
int nest_vdevice_alloc(int fd, uint32_t viommu, uint32_t dev_id,
		       uint64_t virt_id, uint32_t *out);
int nest_veventq_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t depth,
		       uint32_t *out_id, int *out_fd);
int nest_fault_alloc(int fd, uint32_t *out_id, int *out_fd);
/* IOMMU_HW_QUEUE_ALLOC (flags 0). */
int nest_hw_queue_alloc(int fd, uint32_t viommu, uint32_t type, uint32_t index,
			uint64_t iova, uint64_t length, uint32_t *out);
/* The register accesses of <ionest/ionest.h>, returning 0 or -errno. */
int nest_doorbell(int fd, uint32_t q, uint32_t prod);
int nest_ack(int fd, uint32_t q, uint32_t flags);
/* The registers of queue @q, asserting the read works. */
struct ionest_hw_queue_regs nest_regs(int fd, uint32_t q);

/* poll(2) of @fd without waiting: the revents for POLLIN|POLLOUT. */
short nest_poll(int fd);

/* White box: the core object @id of type @type behind iommufd @fd. */
void *nest_object(int fd, uint32_t id, uint32_t type);

/* Page responses the mock delivered towards the endpoints. */
struct page_resp_log {
	unsigned n;
	struct {
		uint32_t sid, ssid, prgi, code;
		bool ssid_valid;
	} r[64];
};
/* Record @hw's page responses in @log (NULL to stop). */
void nest_log_page_resp(struct ionest_hw *hw, struct page_resp_log *log);

#endif
