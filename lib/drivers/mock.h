/* SPDX-License-Identifier: MIT */
/*
 * The mock IOMMU (internal): what its paging part (mock.c: the model, the
 * driver, paging domains) shares with its nesting part (mock_nested.c:
 * nested domains walked through their parent, the mock vIOMMU, vEVENTs and
 * I/O page faults).
 *
 * IOTLB tags: a paging domain's entries carry dom = its tag; a nested
 * domain's carry dom = its parent's tag (the VMID role) and asid = its own
 * tag with HW_TLB_S1, so a stage-2 change drops them with the parent's.
 */
#ifndef IONEST_DRIVERS_MOCK_H
#define IONEST_DRIVERS_MOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/ionest.h>

#include "drivers/driver.h"
#include "hw/hw.h"
#include "hw/tlb.h"

#define MOCK_IAS 48
#define MOCK_OAS 52
#define MOCK_SID_BITS 16

struct mock_viommu;

struct mock_domain {
	struct iommu_domain base;
	struct pt pt; /* paging */
	bool dirty_enabled; /* read by DMA (relaxed) */
	/* Tables are being freed without a gather: DMA must stay out. */
	bool draining;
	uint16_t tag; /* TLB domain tag */
	/* Nested: the guest's stage 1 over @parent. */
	struct mock_domain *parent;
	struct mock_viommu *viommu; /* made on a vIOMMU */
	uint64_t s1_root; /* GPA */
	uint32_t nflags; /* IONEST_MOCK_NESTED_* */
};

struct mock_viommu {
	struct iommu_viommu base;
	struct mock_domain *parent;
};

struct mock_pasid_ent {
	uint32_t pasid;
	struct mock_domain *dom; /* NULL: removed (blocked) */
};

/* Copy-on-write PASID table, sorted by PASID; replaced tables are freed
 * once no DMA can be reading them. */
struct mock_pasid_tab {
	unsigned n;
	struct mock_pasid_ent e[];
};

struct mock_dev {
	struct iommu_dev *dev;
	struct mock_domain *rid_dom; /* NULL: blocked */
	struct mock_pasid_tab *pasids;
};

/* The model: its config and, once a driver bound it, the StreamID table. */
struct mock_hw {
	struct ionest_hw base;
	struct ionest_mock_config cfg;
	uint8_t pasid_bits;
	bool dirty, ats;
	/* IOTLB, tagged by domain, keyed by (RID, PASID). */
	struct hw_tlb tlb;
	uint16_t next_tag;
	/* sid -> device, two levels of 256, read without locks */
	struct mock_dev **sid_l1[1u << (MOCK_SID_BITS - 8)];
};

static inline struct mock_hw *to_mock_hw(struct ionest_hw *hw)
{
	return (struct mock_hw *)hw;
}

static inline struct mock_domain *to_mock_dom(struct iommu_domain *d)
{
	return (struct mock_domain *)d;
}

static inline uint32_t mock_tlb_ssid(const struct ionest_xlate_req *req)
{
	return req->ssid_valid ? req->ssid | HW_TLB_SSID_VALID : 0;
}

static inline uint16_t mock_new_tag(struct mock_hw *mh)
{
	return __atomic_fetch_add(&mh->next_tag, 1, __ATOMIC_RELAXED);
}

/* mock.c */
void mock_fault(struct ionest_hw *hw, const struct ionest_xlate_req *req,
		struct ionest_xlate_res *res, uint32_t code);
void mock_hit(const struct ionest_xlate_req *req, struct ionest_xlate_res *res,
	      uint64_t pa_block, unsigned shift, uint32_t perm);
/* Drop matching IOTLB entries, then wait out DMA that may use them. */
void mock_tlb_inv(struct mock_hw *mh, const struct hw_tlb_match *m);
int mock_attach_dev(struct iommu_domain *d, struct iommu_dev *dev);
int mock_set_dev_pasid(struct iommu_domain *d, struct iommu_dev *dev,
		       uint32_t pasid);

/* mock_nested.c */
/* The translation of a miss through nested domain @dom (IOTLB filled);
 * @md the requesting device. */
void mock_nested_translate(struct mock_hw *mh, struct mock_dev *md,
			   struct mock_domain *dom,
			   const struct ionest_xlate_req *req,
			   struct ionest_xlate_res *res, uint32_t need,
			   uint64_t gen);
/* A paging domain's translation fault of @md: a page request if the
 * device uses PRI and the domain takes I/O page faults. */
bool mock_page_request(struct mock_hw *mh, struct mock_dev *md,
		       struct mock_domain *dom,
		       const struct ionest_xlate_req *req,
		       struct ionest_xlate_res *res);
int mock_domain_alloc_nested(struct iommu_dev *dev, struct iommu_domain *parent,
			     uint32_t flags, const struct iommu_user_data *data,
			     struct iommu_domain **out);
bool mock_viommu_supported(struct iommu_dev *dev, uint32_t type);
int mock_viommu_alloc(struct iommu_dev *dev, struct iommu_domain *parent,
		      uint32_t type, struct iommu_user_data *data,
		      struct iommu_viommu **out);
void mock_page_response(struct iommu_dev *dev, const struct iommu_fault *last,
			uint32_t code);

#endif
