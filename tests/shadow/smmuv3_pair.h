/* SPDX-License-Identifier: MIT */
/*
 * Software nesting on SMMUv3 held against hardware nesting: two machines
 * built the same way (struct pair), one whose SMMUv3 nests in hardware and
 * one in "shadow" mode, each with a VM (struct side: guest RAM mapped in
 * a nest parent, a vIOMMU with two vDEVICEs and a vEVENTQ, guest CD
 * tables for two devices, two guest stage-1 address spaces), driven with
 * the same operations through the uAPI. The pair_* helpers act on both
 * sides and compare: every DMA's bytes, error and last fault, the vEVENTQ
 * records, the host's kept events, the fault-queue records and the resumes
 * the platform sees must be identical.
 */
#ifndef IONEST_TESTS_SHADOW_SMMUV3_PAIR_H
#define IONEST_TESTS_SHADOW_SMMUV3_PAIR_H

#include <stdbool.h>
#include <stdint.h>
#include <ionest/ionest.h>
#include <ionest/uapi/iommufd.h>

#include "../drivers/smmu_fixture.h"
#include "core/nest_util.h"
#include "scenario/guest.h"

#define GPA 0x40000000ull
#define RAM (8ull << 20) /* tables in the first 2M, data above */
#define CHUNK (64ull << 10) /* parent IOAS areas */
#define DATA (GPA + (2ull << 20))
#define IOVA 0x7f0000000000ull
#define WIN (8ull << 20) /* guest IOVA window */
#define NS 2 /* guest address spaces */
#define PASID 5u
#define SZ_2M (2ull << 20)
#define PAGE 4096ull
#define VSID0 0x42ull

/* The platform's view of CMD_RESUME (ionest_hw_set_resume_handler). */
struct resumes {
	unsigned n, retries;
	uint32_t sid;
	uint16_t stag;
};

struct side {
	struct sx x;
	struct vm vm;
	uint8_t *mem;
	uint32_t ioas, parent, viommu, vdev[2], nested[2], qid;
	int qfd;
	uint32_t fid; /* device 0's fault queue (stall sides), or 0 */
	int ffd;
	struct resumes rs;
	struct pt s1[NS];
	struct vm_cdtab cdt[2]; /* device 0: 8 CDs, device 1: one */
	bool mapped[RAM / CHUNK];
};

struct pair {
	struct side s[2]; /* [0] hardware nesting, [1] shadow */
};

/* CD.S (stall) and STE.S1STALLD. */
#define CD0_S_BIT (1ull << 44)
#define STE1_S1STALLD_BIT (1ull << 27)

/* Guest ASIDs of the two address spaces. */
extern const uint16_t gasid[NS];
/* STE DW1 bits the next nested HWPTs carry besides the table's; device
 * 0's S1DSS. */
extern uint64_t ste1_extra;
extern enum vm_s1dss dev0_s1dss;
/* Records compared so far; vEVENTQ records among them; the last host
 * event compared. */
extern unsigned events_compared, vevents_compared;
extern uint64_t last_host_ev[4];

/* ---- one side ---- */
/* Parent IOAS area @c (the 2M one whole) mapped / unmapped. */
void side_map_chunk(struct side *s, unsigned c);
int side_unmap_chunk(struct side *s, unsigned c);
/* A nested HWPT for device @dev over its guest CD table (fault queue
 * @fault_id, or 0). */
uint32_t nested_alloc(struct side *s, int dev, uint32_t fault_id);
/* Machine, VM, parent, vIOMMU, vDEVICEs, vEVENTQ and guest CDs in @mode
 * (IONEST_NESTING_*); side_attach attaches both devices. */
void side_setup(struct side *s, int mode,
		const struct ionest_smmuv3_config *cfg, bool pri);
void side_attach(struct side *s);
void side_teardown(struct side *s);
/* ---- both sides ---- */
void pair_setup(struct pair *p, const struct ionest_smmuv3_config *cfg);
void pair_teardown(struct pair *p);
/* One guest command through the vIOMMU. */
int side_cmd(struct side *s, uint64_t c0, uint64_t c1);
void pair_cmd(struct pair *p, uint64_t c0, uint64_t c1);
/* TLBI_NH_VA of one page or a range (RIL), TLBI_NH_ASID of space @sp. */
void pair_tlbi_va(struct pair *p, int sp, uint64_t iova, uint64_t size);
void pair_tlbi_asid(struct pair *p, int sp);
/* Guest stage-1 changes in space @i. */
void pair_s1_map(struct pair *p, int i, uint64_t iova, uint64_t gpa,
		 uint64_t size, uint32_t prot);
void pair_s1_unmap(struct pair *p, int i, uint64_t iova, uint64_t size);
/* Compare the vEVENTQ records and host events so far; how many. */
unsigned pair_events(struct pair *p);
/* A DMA in both modes, everything compared; its result (pair_dma: true
 * on success; pair_rw: a write then a read of 8 bytes). */
int pair_dma_rc(struct pair *p, int dev, uint32_t pasid, uint64_t iova,
		size_t len, int dir, uint8_t fill);
bool pair_dma(struct pair *p, int dev, uint32_t pasid, uint64_t iova,
	      size_t len, int dir, uint8_t fill);
void pair_rw(struct pair *p, int dev, uint32_t pasid, uint64_t iova);
/* The GPA of data page @page; the parent area of a GPA. */
uint64_t data_gpa(unsigned page);
unsigned chunk_of(uint64_t gpa);
/* The last fault of device @dev on one side (it must have one). */
struct ionest_dma_fault last_fault(struct side *s, int dev);
/* ---- stalls ---- */
/* Guest CD @ssid of device @dev with S set or clear. */
void side_cd_stall(struct side *s, int dev, uint32_t ssid, bool on);
/* CFGI_CD_ALL of both devices. */
void pair_cfgi_all(struct pair *p);
/* Both sides with a fault queue on device 0's nested HWPT, the platform's
 * resumes logged (not with forced stalls), guest CDs with S=1 per @stall
 * (bit 0: device 0's CD 0, bit 1: its CD 5, bit 2: device 1's CD 0). */
void pair_setup_stall(struct pair *p, const struct ionest_smmuv3_config *cfg,
		      bool pri, unsigned stall);
/* The platform saw the same resumes on both sides. */
void pair_check_resumes(struct pair *p);
/* Up to @max pending fault records of device 0 read (alike) and answered
 * with @code on both sides; how many. */
unsigned pair_answer(struct pair *p, uint32_t code, unsigned max);
/* Device @dev's last fault on both sides: @status, @code, recorded. */
void pair_last(struct pair *p, int dev, uint32_t status, uint32_t code);

#endif
