/* SPDX-License-Identifier: MIT */
/*
 * Intel VT-d scalable-mode in-memory formats: root, context, PASID directory
 * and PASID table entries, invalidation descriptors, page request
 * descriptors and the scalable-mode fault reasons (vtd.md §3, §4, §8-§10).
 * Architectural facts only; shared by the model, the driver and the tests.
 */
#ifndef IONEST_HW_VTD_FORMAT_H
#define IONEST_HW_VTD_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#include "pt/pt.h"

/* ---- Scalable-mode root entry (128 bits, 256 per table, by bus) ---- */
#define VTD_RE_LP (1ull << 0) /* lo: lower context table present */
#define VTD_RE_UP (1ull << 0) /* hi: upper context table present */
#define VTD_RE_CTP_MASK (~0xfffull)
#define VTD_RE_RSVD 0xffeull /* bits 11:1 of each half */

/* ---- Scalable-mode context entry (256 bits, 128 per table) ---- */
#define VTD_CE_P (1ull << 0)
#define VTD_CE_FPD (1ull << 1)
#define VTD_CE_DTE (1ull << 2)
#define VTD_CE_PASIDE (1ull << 3)
#define VTD_CE_PRE (1ull << 4)
#define VTD_CE_RSVD0 0x1e0ull /* bits 8:5 */
#define VTD_CE_PDTS_SHIFT 9
#define VTD_CE_PDTS(q0) ((unsigned)(((q0) >> 9) & 7))
#define VTD_CE_PDIR_MASK (~0xfffull)
/* qw1 */
#define VTD_CE_RID_PASID(q1) ((uint32_t)((q1)&0xfffff))
#define VTD_CE_RID_PRIV (1ull << 20)
/* Bits 127:85 and 255:128 are reserved; RID_PRIV is treated as reserved
 * too since the model does not advertise it. */
#define VTD_CE_RSVD1 (~0xfffffull)

/* ---- PASID directory entry (64 bits) ---- */
#define VTD_PDE_P (1ull << 0)
#define VTD_PDE_FPD (1ull << 1)
#define VTD_PDE_RSVD 0xffcull /* bits 11:2 */
#define VTD_PDE_PTP_MASK (~0xfffull)

/* ---- Scalable-mode PASID table entry (512 bits, 64 per table) ---- */
/* qw0 */
#define VTD_PE_P (1ull << 0)
#define VTD_PE_FPD (1ull << 1)
#define VTD_PE_AW_SHIFT 2
#define VTD_PE_AW(q0) ((unsigned)(((q0) >> 2) & 7))
#define VTD_PE_SSEE (1ull << 5) /* second-stage execute enable [S] */
#define VTD_PE_PGTT_SHIFT 6
#define VTD_PE_PGTT(q0) ((unsigned)(((q0) >> 6) & 7))
#define VTD_PE_SSADE (1ull << 9)
#define VTD_PE_RSVD0 0xc00ull /* bits 11:10 */
#define VTD_PE_PTR_MASK (~0xfffull)
/* qw1 */
#define VTD_PE_DID(q1) ((uint16_t)((q1)&0xffff))
#define VTD_PE_PWSNP (1ull << 23)
#define VTD_PE_PGSNP (1ull << 24)
/* Bits 22:16 and the memory-type fields 63:25 (no ECAP.MTS) are
 * reserved. */
#define VTD_PE_RSVD1 (~0x1ffffffull | 0x7f0000ull)
/* qw2 */
#define VTD_PE_SRE (1ull << 0)
#define VTD_PE_ERE (1ull << 1)
#define VTD_PE_FSPM_SHIFT 2
#define VTD_PE_FSPM(q2) ((unsigned)(((q2) >> 2) & 3)) /* 0 4-lvl, 1 5-lvl */
#define VTD_PE_WPE (1ull << 4)
#define VTD_PE_EAFE (1ull << 7)
#define VTD_PE_RSVD2 0xf60ull /* bits 6:5, 11:8 */

/* PGTT values */
#define VTD_PGTT_FS 1
#define VTD_PGTT_SS 2
#define VTD_PGTT_NESTED 3
#define VTD_PGTT_PT 4

/* ---- First-stage (x86-64) entry bits the model applies itself ---- */
#define VTD_FS_A (1ull << 5)
#define VTD_FS_D (1ull << 6)
#define VTD_FS_G (1ull << 8) /* leaf */
#define VTD_FS_EA (1ull << 10) /* extended accessed (EAFE) [S] */

/* ---- Invalidation descriptors (vtd.md §8) ---- */
#define VTD_INV_TYPE(q0) ((unsigned)(((q0)&0xf) | (((q0) >> 9) & 7) << 4))
#define VTD_INV_G(q0) ((unsigned)(((q0) >> 4) & 3))
#define VTD_INV_DID(q0) ((uint16_t)((q0) >> 16))
#define VTD_INV_PASID(q0) ((uint32_t)(((q0) >> 32) & 0xfffff))

enum vtd_inv_type {
	VTD_INV_CC = 0x1, /* context-cache */
	VTD_INV_IOTLB = 0x2,
	VTD_INV_DEVTLB = 0x3,
	VTD_INV_IEC = 0x4, /* interrupt entry cache */
	VTD_INV_WAIT = 0x5,
	VTD_INV_PIOTLB = 0x6, /* PASID-based IOTLB */
	VTD_INV_PC = 0x7, /* PASID-cache */
	VTD_INV_PDEVTLB = 0x8, /* PASID-based device-TLB */
	VTD_INV_PGRP_RESP = 0x9, /* page group response */
};

/* Context-cache: G 1 global, 2 domain, 3 device; SID, FM */
#define VTD_CC_G_GLOBAL 1
#define VTD_CC_G_DOMAIN 2
#define VTD_CC_G_DEVICE 3
#define VTD_CC_SID(q0) ((uint16_t)((q0) >> 32))
#define VTD_CC_FM(q0) ((unsigned)(((q0) >> 48) & 3))
#define VTD_CC_RSVD0 0xfffc00000000f1c0ull

/* IOTLB: G 1 global, 2 domain, 3 page; DW, DR; qw1 AM, IH, ADDR */
#define VTD_IOTLB_G_GLOBAL 1
#define VTD_IOTLB_G_DOMAIN 2
#define VTD_IOTLB_G_PAGE 3
#define VTD_IOTLB_RSVD0 0xffffffff0000f100ull
#define VTD_INV_AM(q1) ((unsigned)((q1)&0x3f))
#define VTD_INV_IH (1ull << 6)
#define VTD_INV_ADDR_MASK (~0xfffull)
#define VTD_INV_ADDR_RSVD1 0xf80ull

/* Device-TLB: qw0 PFSID, MIP, SID; qw1 S, ADDR */
#define VTD_DEVTLB_SID(q0) ((uint16_t)((q0) >> 32))
#define VTD_DEVTLB_RSVD0 0x000f0000ffe001f0ull /* 8:4, 31:21, 51:48 */
#define VTD_DEVTLB_S (1ull << 0)
#define VTD_DEVTLB_RSVD1 0xffeull

/* Interrupt entry cache: G, IM, IIDX */
#define VTD_IEC_RSVD0 0xffff000007fff1e0ull

/* Invalidation wait */
#define VTD_WAIT_IF (1ull << 4)
#define VTD_WAIT_SW (1ull << 5)
#define VTD_WAIT_FN (1ull << 6)
#define VTD_WAIT_PD (1ull << 7)
#define VTD_WAIT_SDATA(q0) ((uint32_t)((q0) >> 32))
#define VTD_WAIT_RSVD0 0xfffff100ull /* bit 8, 31:12 */
#define VTD_WAIT_RSVD1 0x3ull

/* PASID-based IOTLB: G 2 PASID, 3 page-in-PASID; DID, PASID; qw1 */
#define VTD_PIOTLB_G_PASID 2
#define VTD_PIOTLB_G_PAGE 3
#define VTD_PIOTLB_RSVD0 0xfff000000000f1c0ull

/* PASID-cache: G 0 domain, 1 PASID, 3 all */
#define VTD_PC_G_DOMAIN 0
#define VTD_PC_G_PASID 1
#define VTD_PC_G_ALL 3
#define VTD_PC_RSVD0 0xfff000000000f1c0ull

/* PASID-based device-TLB: qw0 QDEP, PFSID, SID[31:16], PASID; qw1 G, S */
#define VTD_PDEVTLB_SID(q0) ((uint16_t)((q0) >> 16))
#define VTD_PDEVTLB_G (1ull << 0)
#define VTD_PDEVTLB_S (1ull << 11)
#define VTD_PDEVTLB_RSVD1 0x7feull

/* Page group response: qw0 PP, PDP, RC, RID, PASID; qw1 LPIG, PRGI */
#define VTD_PGRP_PP (1ull << 4)
#define VTD_PGRP_PDP (1ull << 5)
#define VTD_PGRP_RC(q0) ((unsigned)(((q0) >> 12) & 0xf))
#define VTD_PGRP_RID(q0) ((uint16_t)((q0) >> 16))
#define VTD_PGRP_RSVD0 0xfff00000000001c0ull
#define VTD_PGRP_LPIG (1ull << 2)
#define VTD_PGRP_PRGI(q1) ((unsigned)(((q1) >> 3) & 0x1ff))
#define VTD_PGRP_RSVD1 0xfffffffffffff003ull
#define VTD_PGRP_RC_SUCCESS 0x0
#define VTD_PGRP_RC_INVALID 0x1
#define VTD_PGRP_RC_FAILURE 0xf

/* ---- Page request descriptor (256 bits, vtd.md §10) ---- */
#define VTD_PRQ_TYPE 1ull /* qw0[1:0] */
#define VTD_PRQ_PP (1ull << 8)
#define VTD_PRQ_PDP (1ull << 9)
#define VTD_PRQ_RID_SHIFT 16
#define VTD_PRQ_PASID_SHIFT 32
#define VTD_PRQ_EXR (1ull << 52)
#define VTD_PRQ_PMR (1ull << 53)
#define VTD_PRQ_RDR (1ull << 0) /* qw1 */
#define VTD_PRQ_WRR (1ull << 1)
#define VTD_PRQ_LPIG (1ull << 2)
#define VTD_PRQ_PRGI_SHIFT 3
#define VTD_PRQ_ADDR_MASK (~0xfffull)
#define VTD_PRQ_DESC_SIZE 32

/* ---- Scalable-mode fault reasons (vtd.md §9) ---- */
enum vtd_fault_reason {
	VTD_FR_NONE = 0,
	VTD_FR_ROOT_TABLE_INV = 0x30, /* invalid root table address/mode */
	VTD_FR_ROOT_ACCESS = 0x38,
	VTD_FR_ROOT_NP = 0x39,
	VTD_FR_ROOT_RSVD = 0x3a,
	VTD_FR_CTX_ACCESS = 0x40,
	VTD_FR_CTX_NP = 0x41,
	VTD_FR_CTX_RSVD = 0x42,
	VTD_FR_CTX_INV = 0x43,
	VTD_FR_CTX_DTE = 0x44, /* translation request with DTE=0 */
	VTD_FR_CTX_PASIDE = 0x45, /* request with PASID, PASIDE=0 */
	VTD_FR_CTX_PASID_MAX = 0x46, /* PASID beyond PDTS */
	VTD_FR_CTX_PRE = 0x47, /* page request with PRE=0 */
	VTD_FR_CTX_RID_PASID = 0x48,
	VTD_FR_PDE_ACCESS = 0x50,
	VTD_FR_PDE_NP = 0x51,
	VTD_FR_PDE_RSVD = 0x52,
	VTD_FR_PE_ACCESS = 0x58,
	VTD_FR_PE_NP = 0x59,
	VTD_FR_PE_RSVD = 0x5a,
	VTD_FR_PE_INV = 0x5b, /* PGTT, AW, FSPM, ... */
	VTD_FR_PE_ERE = 0x5c,
	VTD_FR_PE_SRE = 0x5d,
	VTD_FR_FS_ACCESS = 0x70,
	VTD_FR_FS_NP = 0x71,
	VTD_FR_FS_RSVD = 0x72,
	VTD_FR_FS_ROOT_ACCESS = 0x73, /* FSPTPTR table */
	VTD_FR_NEST_FS_ADDR = 0x74, /* FS address beyond stage 2 */
	VTD_FR_NEST_FS_ROOT_RD = 0x75, /* SS read perm, FS root entry */
	VTD_FR_NEST_FS_RD = 0x76, /* SS read perm, FS entry */
	VTD_FR_NEST_FS_WR = 0x77, /* SS write perm, FS A/D update */
	VTD_FR_SS_ACCESS = 0x78,
	VTD_FR_SS_PERM = 0x79, /* SS R/W(/X) permission, or not present */
	VTD_FR_SS_RSVD = 0x7a,
	VTD_FR_SS_ROOT_INV = 0x7b, /* SSPTPTR table */
	VTD_FR_SS_AD_NOSNOOP = 0x7c,
	VTD_FR_FS_NONCANON = 0x80,
	VTD_FR_FS_US = 0x81,
	VTD_FR_EXEC = 0x82,
	VTD_FR_ADDR_BEYOND = 0x83,
	VTD_FR_SS_ADDR_BEYOND = 0x84,
	VTD_FR_WRITE = 0x85,
	VTD_FR_READ = 0x86,
	VTD_FR_INTR_RANGE = 0x87,
	VTD_FR_FS_AD_NOSNOOP = 0x90,
	VTD_FR_FS_AD_UPDATE = 0x91,
};

/*
 * Faults an ATS translation request answers with a completion granting no
 * access (R=W=0) instead of a fault record: the page is not there or not
 * allowed. Shared by the model, its explain facility and the shadow
 * driver, which must classify alike.
 */
static inline bool vtd_fr_ats_no_access(uint8_t reason)
{
	switch (reason) {
	case VTD_FR_FS_NP:
	case VTD_FR_SS_PERM:
	case VTD_FR_FS_US:
	case VTD_FR_EXEC:
	case VTD_FR_WRITE:
	case VTD_FR_READ:
		return true;
	default:
		return false;
	}
}

/*
 * The reason a failed second-stage walk @w gives (0 if it did not fail):
 * a table the walk could not fetch is an invalid SSPTPTR at the start
 * level @root_level, another one an access error, and so is an A/D
 * write-back the bus refused. Shared by the model, its explain facility
 * and the shadow driver, which must classify alike.
 */
static inline uint8_t vtd_fr_ss_walk(const struct pt_walk *w,
				     unsigned root_level)
{
	switch (w->fault) {
	case PT_FAULT_NONE:
		return 0;
	case PT_FAULT_TRANSLATION:
		return VTD_FR_SS_PERM;
	case PT_FAULT_RESERVED:
		return VTD_FR_SS_RSVD;
	case PT_FAULT_ADDR_SIZE:
		return VTD_FR_SS_ADDR_BEYOND;
	case PT_FAULT_FETCH:
		return w->level == root_level ? VTD_FR_SS_ROOT_INV :
						VTD_FR_SS_ACCESS;
	default:
		return VTD_FR_SS_ACCESS;
	}
}

#endif
