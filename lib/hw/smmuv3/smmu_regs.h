/* SPDX-License-Identifier: MIT */
/*
 * Arm SMMUv3 architectural constants: register offsets and fields, stream
 * table, STE, CD, command and event layouts (spec/smmuv3.md §1-§9).
 * DWn[b] is bit b of the n-th little-endian 64-bit word of a structure.
 */
#ifndef IONEST_HW_SMMU_REGS_H
#define IONEST_HW_SMMU_REGS_H

#include <stdint.h>

/* Extract bits [hi:lo] of @v. */
#define SMMU_BITS(v, hi, lo) \
	(((uint64_t)(v) >> (lo)) & ((2ull << ((hi) - (lo))) - 1))
#define SMMU_BIT(v, b) (((uint64_t)(v) >> (b)) & 1)
#define SMMU_MASK(hi, lo) (((2ull << ((hi) - (lo))) - 1) << (lo))

/* ---- Register file (§1); page 1 starts at 0x10000 ---- */
#define SMMU_IDR0 0x00
#define SMMU_IDR1 0x04
#define SMMU_IDR2 0x08
#define SMMU_IDR3 0x0c
#define SMMU_IDR4 0x10
#define SMMU_IDR5 0x14
#define SMMU_IIDR 0x18
#define SMMU_AIDR 0x1c
#define SMMU_CR0 0x20
#define SMMU_CR0ACK 0x24
#define SMMU_CR1 0x28
#define SMMU_CR2 0x2c
#define SMMU_STATUSR 0x40
#define SMMU_GBPA 0x44
#define SMMU_AGBPA 0x48
#define SMMU_IRQ_CTRL 0x50
#define SMMU_IRQ_CTRLACK 0x54
#define SMMU_GERROR 0x60
#define SMMU_GERRORN 0x64
#define SMMU_GERROR_IRQ_CFG0 0x68
#define SMMU_GERROR_IRQ_CFG1 0x70
#define SMMU_GERROR_IRQ_CFG2 0x74
#define SMMU_STRTAB_BASE 0x80
#define SMMU_STRTAB_BASE_CFG 0x88
#define SMMU_CMDQ_BASE 0x90
#define SMMU_CMDQ_PROD 0x98
#define SMMU_CMDQ_CONS 0x9c
#define SMMU_EVTQ_BASE 0xa0
#define SMMU_EVTQ_IRQ_CFG0 0xb0
#define SMMU_EVTQ_IRQ_CFG1 0xb8
#define SMMU_EVTQ_IRQ_CFG2 0xbc
#define SMMU_PRIQ_BASE 0xc0
#define SMMU_PRIQ_IRQ_CFG0 0xd0
#define SMMU_PRIQ_IRQ_CFG1 0xd8
#define SMMU_PRIQ_IRQ_CFG2 0xdc
#define SMMU_PAGE1 0x10000
#define SMMU_EVTQ_PROD (SMMU_PAGE1 + 0xa8)
#define SMMU_EVTQ_CONS (SMMU_PAGE1 + 0xac)
#define SMMU_PRIQ_PROD (SMMU_PAGE1 + 0xc8)
#define SMMU_PRIQ_CONS (SMMU_PAGE1 + 0xcc)
#define SMMU_MMIO_SIZE 0x20000

/* IDR0 (§2) */
#define IDR0_S2P (1u << 0)
#define IDR0_S1P (1u << 1)
#define IDR0_TTF_AA64 (2u << 2)
#define IDR0_COHACC (1u << 4)
#define IDR0_HTTU_SHIFT 6
#define IDR0_HYP (1u << 9)
#define IDR0_ATS (1u << 10)
#define IDR0_NS1ATS (1u << 11)
#define IDR0_ASID16 (1u << 12)
#define IDR0_MSI (1u << 13)
#define IDR0_SEV (1u << 14)
#define IDR0_PRI (1u << 16)
#define IDR0_VMID16 (1u << 18)
#define IDR0_CD2L (1u << 19)
#define IDR0_TTENDIAN_LE (2u << 21)
#define IDR0_STALL_SHIFT 24
#define IDR0_TERM_MODEL (1u << 26)
#define IDR0_ST_LEVEL_SHIFT 27
/* IDR3 */
#define IDR3_HAD (1u << 2)
#define IDR3_RIL (1u << 10)
/* IDR5 */
#define IDR5_GRAN4K (1u << 4)
#define IDR5_GRAN16K (1u << 5)
#define IDR5_GRAN64K (1u << 6)
#define IDR5_STALL_MAX_SHIFT 16

/* STALL_MODEL encodings */
#define SMMU_STALL_BOTH 0 /* stall and terminate */
#define SMMU_STALL_TERM_ONLY 1
#define SMMU_STALL_FORCED 2

/* CR0 / CR0ACK */
#define CR0_SMMUEN (1u << 0)
#define CR0_PRIQEN (1u << 1)
#define CR0_EVTQEN (1u << 2)
#define CR0_CMDQEN (1u << 3)
#define CR0_ATSCHK (1u << 4)
#define CR0_MASK 0x1fu
/* CR2 */
#define CR2_E2H (1u << 0)
#define CR2_RECINVSID (1u << 1)
#define CR2_PTM (1u << 2)
/* GBPA */
#define GBPA_ABORT (1u << 20)
#define GBPA_UPDATE (1u << 31)
#define GBPA_MASK 0x001fffffu /* every field below UPDATE */
/* IRQ_CTRL */
#define IRQ_CTRL_GERROR (1u << 0)
#define IRQ_CTRL_PRIQ (1u << 1)
#define IRQ_CTRL_EVTQ (1u << 2)
/* GERROR / GERRORN */
#define GERROR_CMDQ_ERR (1u << 0)
#define GERROR_EVTQ_ABT (1u << 2)
#define GERROR_PRIQ_ABT (1u << 3)
#define GERROR_MSI_CMDQ_ABT (1u << 4)
#define GERROR_MSI_EVTQ_ABT (1u << 5)
#define GERROR_MSI_PRIQ_ABT (1u << 6)
#define GERROR_MSI_GERROR_ABT (1u << 7)
#define GERROR_SFM_ERR (1u << 8)
#define GERROR_MASK 0x1fdu
/* *_IRQ_CFG0 address and STRTAB/queue base fields */
#define IRQ_CFG0_ADDR SMMU_MASK(51, 2)
#define STRTAB_BASE_ADDR SMMU_MASK(51, 6)
#define BASE_RA (1ull << 62)
#define Q_BASE_ADDR SMMU_MASK(51, 5)
#define Q_BASE_LOG2 SMMU_MASK(4, 0)
/* STRTAB_BASE_CFG */
#define STRTAB_FMT_LINEAR 0
#define STRTAB_FMT_2LVL 1
/* Queue index registers */
#define Q_OVF (1u << 31) /* EVTQ/PRIQ PROD.OVFLG, CONS.OVACKFLG */
#define CMDQ_CONS_ERR_SHIFT 24
#define CERROR_NONE 0
#define CERROR_ILL 1
#define CERROR_ABT 2
#define CERROR_ATC_INV_SYNC 3

/* ---- Stream table (§3) and STE (§4) ---- */
#define STE_SIZE 64
#define L1STD_SPAN(d) SMMU_BITS(d, 4, 0)
#define L1STD_L2PTR SMMU_MASK(51, 6)

#define STE_CFG_ABORT 0 /* Config[2] clear */
#define STE_CFG_BYPASS 4
#define STE_CFG_S1 5
#define STE_CFG_S2 6
#define STE_CFG_NESTED 7

/* DW0 */
#define STE0_V(d) SMMU_BIT(d, 0)
#define STE0_CONFIG(d) SMMU_BITS(d, 3, 1)
#define STE0_S1FMT(d) SMMU_BITS(d, 5, 4)
#define STE0_CTXPTR SMMU_MASK(51, 6)
#define STE0_S1CDMAX(d) SMMU_BITS(d, 63, 59)
/* DW1 */
#define STE1_S1DSS(d) SMMU_BITS(d, 1, 0)
#define STE1_S1STALLD(d) SMMU_BIT(d, 27)
#define STE1_EATS(d) SMMU_BITS(d, 29, 28)
#define STE1_STRW(d) SMMU_BITS(d, 31, 30)
/* DW2 */
#define STE2_S2VMID(d) SMMU_BITS(d, 15, 0)
#define STE2_S2T0SZ(d) SMMU_BITS(d, 37, 32)
#define STE2_S2SL0(d) SMMU_BITS(d, 39, 38)
#define STE2_S2TG(d) SMMU_BITS(d, 47, 46)
#define STE2_S2PS(d) SMMU_BITS(d, 50, 48)
#define STE2_S2AA64(d) SMMU_BIT(d, 51)
#define STE2_S2ENDI(d) SMMU_BIT(d, 52)
#define STE2_S2AFFD(d) SMMU_BIT(d, 53)
#define STE2_S2PTW(d) SMMU_BIT(d, 54)
#define STE2_S2HD(d) SMMU_BIT(d, 55)
#define STE2_S2HA(d) SMMU_BIT(d, 56)
#define STE2_S2S(d) SMMU_BIT(d, 57)
#define STE2_S2R(d) SMMU_BIT(d, 58)
/* DW3 */
#define STE3_S2TTB SMMU_MASK(51, 4)

#define S1DSS_TERMINATE 0
#define S1DSS_BYPASS 1
#define S1DSS_SSID0 2
#define STRW_NSEL1 0
#define STRW_EL2 2
#define EATS_ABORT 0
#define EATS_TRANS 1
#define EATS_SPLIT 2

/* ---- Context descriptor (§5) ---- */
#define CD_SIZE 64
#define CD0_T0SZ(d) SMMU_BITS(d, 5, 0)
#define CD0_TG0(d) SMMU_BITS(d, 7, 6)
#define CD0_EPD0(d) SMMU_BIT(d, 14)
#define CD0_ENDI(d) SMMU_BIT(d, 15)
#define CD0_T1SZ(d) SMMU_BITS(d, 21, 16)
#define CD0_TG1(d) SMMU_BITS(d, 23, 22)
#define CD0_EPD1(d) SMMU_BIT(d, 30)
#define CD0_V(d) SMMU_BIT(d, 31)
#define CD0_IPS(d) SMMU_BITS(d, 34, 32)
#define CD0_AFFD(d) SMMU_BIT(d, 35)
#define CD0_WXN(d) SMMU_BIT(d, 36)
#define CD0_TBI(d) SMMU_BITS(d, 39, 38)
#define CD0_AA64(d) SMMU_BIT(d, 41)
#define CD0_HD(d) SMMU_BIT(d, 42)
#define CD0_HA(d) SMMU_BIT(d, 43)
#define CD0_S(d) SMMU_BIT(d, 44)
#define CD0_R(d) SMMU_BIT(d, 45)
#define CD0_A(d) SMMU_BIT(d, 46)
#define CD0_ASID(d) SMMU_BITS(d, 63, 48)
#define CD1_HAD(d) SMMU_BIT(d, 1)
#define CD_TTB SMMU_MASK(51, 4)
/* DW0 bits as a writer sets them. */
#define CD_EPD0 (1ull << 14)
#define CD_EPD1 (1ull << 30)
#define CD_V (1ull << 31)
#define CD_AA64 (1ull << 41)
#define CD_A (1ull << 46)
#define L1CD_V(d) SMMU_BIT(d, 0)
#define L1CD_L2PTR SMMU_MASK(51, 12)
#define S1FMT_LINEAR 0
#define S1FMT_4K 1 /* 2-level, 64 CDs per leaf table */
#define S1FMT_64K 2 /* 2-level, 1024 CDs per leaf table */

/* ---- Commands (§8) ---- */
#define CMD_PREFETCH_CONFIG 0x01
#define CMD_PREFETCH_ADDR 0x02
#define CMD_CFGI_STE 0x03
#define CMD_CFGI_STE_RANGE 0x04
#define CMD_CFGI_CD 0x05
#define CMD_CFGI_CD_ALL 0x06
#define CMD_TLBI_NH_ALL 0x10
#define CMD_TLBI_NH_ASID 0x11
#define CMD_TLBI_NH_VA 0x12
#define CMD_TLBI_NH_VAA 0x13
#define CMD_TLBI_EL3_ALL 0x18
#define CMD_TLBI_EL3_VA 0x1a
#define CMD_TLBI_EL2_ALL 0x20
#define CMD_TLBI_EL2_ASID 0x21
#define CMD_TLBI_EL2_VA 0x22
#define CMD_TLBI_EL2_VAA 0x23
#define CMD_TLBI_S12_VMALL 0x28
#define CMD_TLBI_S2_IPA 0x2a
#define CMD_TLBI_NSNH_ALL 0x30
#define CMD_ATC_INV 0x40
#define CMD_PRI_RESP 0x41
#define CMD_RESUME 0x44
#define CMD_STALL_TERM 0x45
#define CMD_SYNC 0x46

#define CMD_OP(d) SMMU_BITS(d, 7, 0)
#define CMD_SSEC (1ull << 10)
#define CMD_SSV(d) SMMU_BIT(d, 11)
#define CMD_SSID(d) SMMU_BITS(d, 31, 12)
#define CMD_SID(d) SMMU_BITS(d, 63, 32)
#define CMD_VMID(d) SMMU_BITS(d, 47, 32)
#define CMD_ASID(d) SMMU_BITS(d, 63, 48)
#define CMD_NUM(d) SMMU_BITS(d, 16, 12)
#define CMD_SCALE(d) SMMU_BITS(d, 24, 20)
#define CMD1_LEAF(d) SMMU_BIT(d, 0)
#define CMD1_TTL(d) SMMU_BITS(d, 9, 8)
#define CMD1_TG(d) SMMU_BITS(d, 11, 10)
#define CMD1_ADDR SMMU_MASK(63, 12)
#define CMD1_IPA SMMU_MASK(51, 12)
#define CMD1_RANGE(d) SMMU_BITS(d, 4, 0)
#define CMD1_ATC_SIZE(d) SMMU_BITS(d, 5, 0)
#define CMD1_PRGI(d) SMMU_BITS(d, 8, 0)
#define CMD1_PRI_RESP(d) SMMU_BITS(d, 13, 12)
#define CMD_RESUME_ACTION(d) SMMU_BITS(d, 13, 12)
#define CMD1_STAG(d) SMMU_BITS(d, 15, 0)
#define CMD_SYNC_CS(d) SMMU_BITS(d, 13, 12)
#define CMD_SYNC_DATA(d) SMMU_BITS(d, 63, 32)
#define CMD1_SYNC_ADDR SMMU_MASK(51, 2)
#define SYNC_CS_NONE 0
#define SYNC_CS_IRQ 1
#define SYNC_CS_SEV 2
#define PRI_RESP_DENY 0
#define PRI_RESP_FAIL 1
#define PRI_RESP_SUCCESS 2
#define RESUME_TERMINATE 0
#define RESUME_RETRY 1
#define RESUME_ABORT 2

/* ---- Events (§9) ---- */
#define EVT_F_UUT 0x01
#define EVT_C_BAD_STREAMID 0x02
#define EVT_F_STE_FETCH 0x03
#define EVT_C_BAD_STE 0x04
#define EVT_F_BAD_ATS_TREQ 0x05
#define EVT_F_STREAM_DISABLED 0x06
#define EVT_F_TRANSL_FORBIDDEN 0x07
#define EVT_C_BAD_SUBSTREAMID 0x08
#define EVT_F_CD_FETCH 0x09
#define EVT_C_BAD_CD 0x0a
#define EVT_F_WALK_EABT 0x0b
#define EVT_F_TRANSLATION 0x10
#define EVT_F_ADDR_SIZE 0x11
#define EVT_F_ACCESS 0x12
#define EVT_F_PERMISSION 0x13

#define EVT_SIZE 32
#define EVT0_SSV (1ull << 11)
#define EVT0_SSID_SHIFT 12
#define EVT0_SID_SHIFT 32
#define EVT1_STALL (1ull << 31)
#define EVT1_PNU (1ull << 33)
#define EVT1_IND (1ull << 34)
#define EVT1_RNW (1ull << 35)
#define EVT1_S2 (1ull << 39)
#define EVT1_CLASS_SHIFT 40
#define EVT1_TTRNW (1ull << 44)
#define EVT3_IPA SMMU_MASK(51, 12)
#define EVT3_FETCH SMMU_MASK(51, 3)
#define EVT_CLASS_CD 0
#define EVT_CLASS_TT 1
#define EVT_CLASS_IN 2

/* ---- PRI queue entries (§9) ---- */
#define PRI_SIZE 16
#define PRI0_SSID_SHIFT 32
#define PRI0_PRIV (1ull << 58)
#define PRI0_EXEC (1ull << 59)
#define PRI0_READ (1ull << 60)
#define PRI0_WRITE (1ull << 61)
#define PRI0_LAST (1ull << 62)
#define PRI0_SSV (1ull << 63)

#endif
