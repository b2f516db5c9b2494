/* SPDX-License-Identifier: MIT */
/*
 * Intel VT-d register file: offsets, capability fields, command and status
 * bits, fault recording. Architectural facts only (vtd.md §1, §2, §9), shared
 * by the hardware model, the host driver and the tests.
 */
#ifndef IONEST_HW_VTD_REGS_H
#define IONEST_HW_VTD_REGS_H

#include <stdint.h>

/* ---- Register offsets (vtd.md §1) ---- */
#define VTD_REG_VER 0x00
#define VTD_REG_CAP 0x08
#define VTD_REG_ECAP 0x10
#define VTD_REG_GCMD 0x18
#define VTD_REG_GSTS 0x1c
#define VTD_REG_RTADDR 0x20
#define VTD_REG_CCMD 0x28
#define VTD_REG_FSTS 0x34
#define VTD_REG_FECTL 0x38
#define VTD_REG_FEDATA 0x3c
#define VTD_REG_FEADDR 0x40
#define VTD_REG_FEUADDR 0x44
#define VTD_REG_AFLOG 0x58
#define VTD_REG_PMEN 0x64
#define VTD_REG_IQH 0x80
#define VTD_REG_IQT 0x88
#define VTD_REG_IQA 0x90
#define VTD_REG_ICS 0x9c
#define VTD_REG_IECTL 0xa0
#define VTD_REG_IEDATA 0xa4
#define VTD_REG_IEADDR 0xa8
#define VTD_REG_IEUADDR 0xac
#define VTD_REG_IQER 0xb0
#define VTD_REG_IRTA 0xb8
#define VTD_REG_PQH 0xc0
#define VTD_REG_PQT 0xc8
#define VTD_REG_PQA 0xd0
#define VTD_REG_PRS 0xdc
#define VTD_REG_PECTL 0xe0
#define VTD_REG_PEDATA 0xe4
#define VTD_REG_PEADDR 0xe8
#define VTD_REG_PEUADDR 0xec
/* IOTLB registers at ECAP.IRO * 16: IVA at +0, IOTLB at +8. */
#define VTD_REG_IVA_OFF 0x0
#define VTD_REG_IOTLB_OFF 0x8
/* Fault recording registers at CAP.FRO * 16, 16 bytes each. */
#define VTD_FRCD_SIZE 16

/* ---- CAP (vtd.md §2) ---- */
#define VTD_CAP_ND(c) ((unsigned)((c)&7))
#define VTD_CAP_AFL (1ull << 3)
#define VTD_CAP_RWBF (1ull << 4)
#define VTD_CAP_PLMR (1ull << 5)
#define VTD_CAP_PHMR (1ull << 6)
#define VTD_CAP_CM (1ull << 7)
#define VTD_CAP_SAGAW_SHIFT 8
#define VTD_CAP_SAGAW(c) ((unsigned)(((c) >> 8) & 0x1f))
#define VTD_CAP_MGAW_SHIFT 16
#define VTD_CAP_MGAW(c) ((unsigned)(((c) >> 16) & 0x3f)) /* width - 1 */
#define VTD_CAP_ZLR (1ull << 22)
#define VTD_CAP_FRO_SHIFT 24
#define VTD_CAP_FRO(c) ((unsigned)(((c) >> 24) & 0x3ff)) /* 16-byte units */
#define VTD_CAP_SSLPS_SHIFT 34
#define VTD_CAP_SSLPS(c) ((unsigned)(((c) >> 34) & 0xf)) /* bit0 2M, 1 1G */
#define VTD_CAP_PSI (1ull << 39)
#define VTD_CAP_NFR_SHIFT 40
#define VTD_CAP_NFR(c) ((unsigned)(((c) >> 40) & 0xff)) /* records - 1 */
#define VTD_CAP_MAMV_SHIFT 48
#define VTD_CAP_MAMV(c) ((unsigned)(((c) >> 48) & 0x3f))
#define VTD_CAP_DWD (1ull << 54)
#define VTD_CAP_DRD (1ull << 55)
#define VTD_CAP_FS1GP (1ull << 56)
#define VTD_CAP_PI (1ull << 59)
#define VTD_CAP_FS5LP (1ull << 60)

/* SAGAW bits: which second-stage widths (PASID-entry AW values) exist. */
#define VTD_SAGAW_39 (1u << 1) /* AW 1: 3-level */
#define VTD_SAGAW_48 (1u << 2) /* AW 2: 4-level */
#define VTD_SAGAW_57 (1u << 3) /* AW 3: 5-level */

/* ---- ECAP (vtd.md §2) ---- */
#define VTD_ECAP_C (1ull << 0)
#define VTD_ECAP_QI (1ull << 1)
#define VTD_ECAP_DT (1ull << 2)
#define VTD_ECAP_IR (1ull << 3)
#define VTD_ECAP_EIM (1ull << 4)
#define VTD_ECAP_PT (1ull << 6)
#define VTD_ECAP_SC (1ull << 7)
#define VTD_ECAP_IRO_SHIFT 8
#define VTD_ECAP_IRO(e) ((unsigned)(((e) >> 8) & 0x3ff)) /* 16-byte units */
#define VTD_ECAP_NEST (1ull << 26)
#define VTD_ECAP_PRS (1ull << 29)
#define VTD_ECAP_ERS (1ull << 30)
#define VTD_ECAP_SRS (1ull << 31)
#define VTD_ECAP_EAFS (1ull << 34)
#define VTD_ECAP_PSS_SHIFT 35
#define VTD_ECAP_PSS(e) ((unsigned)(((e) >> 35) & 0x1f)) /* width - 1 */
#define VTD_ECAP_PASID (1ull << 40)
#define VTD_ECAP_SMTS (1ull << 43)
#define VTD_ECAP_SSADS (1ull << 45)
#define VTD_ECAP_SSTS (1ull << 46)
#define VTD_ECAP_FSTS (1ull << 47)
#define VTD_ECAP_SMPWCS (1ull << 48)

/* ---- GCMD / GSTS: the same bit positions ---- */
#define VTD_GCMD_TE (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_SFL (1u << 29)
#define VTD_GCMD_EAFL (1u << 28)
#define VTD_GCMD_WBF (1u << 27)
#define VTD_GCMD_QIE (1u << 26)
#define VTD_GCMD_IRE (1u << 25)
#define VTD_GCMD_SIRTP (1u << 24)
#define VTD_GCMD_CFI (1u << 23)
#define VTD_GSTS_TES VTD_GCMD_TE
#define VTD_GSTS_RTPS VTD_GCMD_SRTP
#define VTD_GSTS_WBFS VTD_GCMD_WBF
#define VTD_GSTS_QIES VTD_GCMD_QIE

/* ---- RTADDR ---- */
#define VTD_RTADDR_RTA_MASK (~0xfffull)
#define VTD_RTADDR_TTM_SHIFT 10
#define VTD_RTADDR_TTM(r) ((unsigned)(((r) >> 10) & 3))
#define VTD_TTM_LEGACY 0
#define VTD_TTM_SCALABLE 1
#define VTD_TTM_ABORT 3 /* abort-DMA mode, not supported here */

/* ---- CCMD (register-based context-cache invalidation) ---- */
#define VTD_CCMD_ICC (1ull << 63)
#define VTD_CCMD_CIRG_SHIFT 61
#define VTD_CCMD_CAIG_SHIFT 59
#define VTD_CCMD_FM_SHIFT 32
#define VTD_CCMD_SID_SHIFT 16

/* ---- FSTS / FECTL ---- */
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)
#define VTD_FSTS_FRI_SHIFT 8
#define VTD_FSTS_FRI(f) ((unsigned)(((f) >> 8) & 0xff))
/* FECTL, IECTL and PECTL share the layout. */
#define VTD_ECTL_IM (1u << 31)
#define VTD_ECTL_IP (1u << 30)

/* ---- Invalidation queue ---- */
#define VTD_IQA_DW (1ull << 11) /* 256-bit descriptors */
#define VTD_IQA_QS(a) ((unsigned)((a)&7)) /* 2^QS 4K pages */
#define VTD_IQ_OFF_MASK 0x7fff0ull /* IQH/IQT offset bits [18:4] */
#define VTD_ICS_IWC (1u << 0)
/* IQER: error code and the source-ids of device-TLB errors. */
#define VTD_IQER_IQEI(q) ((unsigned)((q)&0xf))
#define VTD_IQER_ITESID(q) ((unsigned)(((q) >> 32) & 0xffff))
#define VTD_IQER_ICESID(q) ((unsigned)(((q) >> 48) & 0xffff))
/*
 * IQEI codes [S]: the spec enumerates them; this model uses:
 *   1 the tail register was programmed invalid (beyond the queue, or bit 4
 *     set with 256-bit descriptors),
 *   3 a descriptor of an unknown or unsupported type,
 *   4 a reserved field was set (or an out-of-range value: AM > MAMV,
 *     unaligned address, unknown granularity or response code),
 *   5 a 256-bit-only descriptor type in a 128-bit queue,
 *   6 the descriptor fetch or the wait-status write aborted on the bus.
 */
#define VTD_IQEI_TAIL 1
#define VTD_IQEI_TYPE 3
#define VTD_IQEI_RSVD 4
#define VTD_IQEI_WIDTH 5
#define VTD_IQEI_ABORT 6

/* ---- Page request queue ---- */
#define VTD_PQ_OFF_MASK 0x7ffe0ull /* PQH/PQT offset bits [18:5] */
#define VTD_PQA_PQS(a) ((unsigned)((a)&7))
#define VTD_PRS_PPR (1u << 0)
#define VTD_PRS_PRO (1u << 1)

/* ---- Register-based IOTLB invalidation ---- */
#define VTD_IOTLB_IVT (1ull << 63)
#define VTD_IOTLB_IIRG_SHIFT 60
#define VTD_IOTLB_IAIG_SHIFT 57
#define VTD_IOTLB_DR (1ull << 49)
#define VTD_IOTLB_DW (1ull << 48)
#define VTD_IOTLB_DID_SHIFT 32
#define VTD_IVA_AM(v) ((unsigned)((v)&0x3f))
#define VTD_IVA_IH (1ull << 6)

/* ---- Fault recording register (128 bits: lo, hi) ---- */
#define VTD_FRCD_HI_SID(h) ((uint32_t)((h)&0xffff))
#define VTD_FRCD_HI_PRIV (1ull << 29) /* bit 93 [S] */
#define VTD_FRCD_HI_EXE (1ull << 30) /* bit 94 [S] */
#define VTD_FRCD_HI_PP (1ull << 31) /* bit 95: PASID present */
#define VTD_FRCD_HI_FR(h) ((unsigned)(((h) >> 32) & 0xff))
#define VTD_FRCD_HI_PV(h) ((uint32_t)(((h) >> 40) & 0xfffff))
#define VTD_FRCD_HI_AT(h) ((unsigned)(((h) >> 60) & 3))
#define VTD_FRCD_HI_T (1ull << 62) /* 1 read, 0 write */
#define VTD_FRCD_HI_F (1ull << 63)

#endif
