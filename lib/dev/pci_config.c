// SPDX-License-Identifier: MIT
/*
 * PCIe configuration space of the emulated function: a type 0 header,
 * the PCI Express capability (endpoint, version 2, FLR), and the ATS, PRI
 * and PASID extended capabilities (PCIe base spec, chapters 7 and 10)
 * when the machine gives the device those capabilities. Every byte has a
 * write mask and a write-1-to-clear mask, so BAR sizing and control
 * registers behave as on hardware; reserved space reads as zero.
 */
#include <string.h>

#include "dev/vfio_pci.h"

/* Type 0 header offsets. */
#define PCI_VENDOR 0x00
#define PCI_DEVICE 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CACHE_LINE 0x0c
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_CAP_PTR 0x34
#define PCI_INT_LINE 0x3c

#define PCI_CMD_MEM (1u << 1)
#define PCI_CMD_MASTER (1u << 2)
#define PCI_CMD_PARITY (1u << 6)
#define PCI_CMD_SERR (1u << 8)
#define PCI_CMD_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST (1u << 4)

/* PCI Express capability (ID 0x10), offsets from its start. */
#define PCIE_CAP_ID 0x10
#define PCIE_FLAGS 0x02 /* [3:0] version, [7:4] port type */
#define PCIE_DEVCAP 0x04
#define PCIE_DEVCTL 0x08
#define PCIE_DEVSTA 0x0a
#define PCIE_LNKCAP 0x0c
#define PCIE_LNKCTL 0x10
#define PCIE_LNKSTA 0x12
#define PCIE_DEVCTL2 0x28
#define PCIE_LNKCAP2 0x2c
#define PCIE_LNKCTL2 0x30
#define PCIE_CAP_LEN 0x3c
#define PCIE_DEVCAP_RBER (1u << 15)
#define PCIE_DEVCAP_FLR (1u << 28)
#define PCIE_DEVCTL_BCR_FLR (1u << 15)

/* Extended capability IDs and their registers. */
#define EXT_CAP_ATS 0x000f
#define EXT_CAP_PRI 0x0013
#define EXT_CAP_PASID 0x001b
#define ATS_CAP 0x04 /* [4:0] invalidate queue depth, [5] page aligned */
#define ATS_CTRL 0x06 /* [4:0] STU, [15] enable */
#define ATS_CAP_PAGE_ALIGNED (1u << 5)
#define ATS_CTRL_ENABLE (1u << 15)
#define PRI_CTRL 0x04 /* [0] enable, [1] reset */
#define PRI_STATUS 0x06
#define PRI_MAX_REQ 0x08 /* outstanding page request capacity */
#define PRI_ALLOC_REQ 0x0c /* outstanding page request allocation */
#define PRI_CTRL_ENABLE (1u << 0)
#define PRI_CTRL_RESET (1u << 1)
#define PRI_STATUS_RF (1u << 0) /* response failure, RW1C */
#define PRI_STATUS_UPRGI (1u << 1) /* unexpected PRG index, RW1C */
#define PRI_STATUS_STOPPED (1u << 8)
#define PRI_STATUS_PASID (1u << 15) /* PRG response PASID required */
#define PASID_CAP 0x04 /* [1] exec, [2] priv, [12:8] max width */
#define PASID_CTRL 0x06 /* [0] enable, [1] exec, [2] priv enable */
#define PASID_CAP_EXEC (1u << 1)
#define PASID_CAP_PRIV (1u << 2)
#define PASID_CTRL_ENABLE (1u << 0)
#define PASID_CTRL_EXEC (1u << 1)
#define PASID_CTRL_PRIV (1u << 2)

#define PRI_CAPACITY 32

static void put(uint8_t *a, uint32_t off, uint32_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		a[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get(const uint8_t *a, uint32_t off, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)a[off + i] << (8 * i);
	return v;
}

uint16_t pci_config_get16(const struct pci_config *c, uint32_t off)
{
	return off + 2 <= PCI_CFG_SIZE ? (uint16_t)get(c->v, off, 2) : 0;
}

uint32_t pci_config_get32(const struct pci_config *c, uint32_t off)
{
	return off + 4 <= PCI_CFG_SIZE ? get(c->v, off, 4) : 0;
}

/* Register @off of @n bytes: value, writable bits, RW1C bits. */
static void reg(struct pci_config *c, uint32_t off, unsigned n, uint32_t v,
		uint32_t wmask, uint32_t w1c)
{
	put(c->v, off, v, n);
	put(c->wmask, off, wmask, n);
	put(c->w1c, off, w1c, n);
}

/* Extended capability header: ID, version 1, next. */
static void ext_hdr(struct pci_config *c, uint32_t off, uint16_t id,
		    uint32_t next)
{
	reg(c, off, 4, id | 1u << 16 | next << 20, 0, 0);
}

static void pcie_cap(struct pci_config *c)
{
	uint32_t b = IONEST_PCI_PCIE_CAP;

	reg(c, b, 1, PCIE_CAP_ID, 0, 0);
	reg(c, b + 1, 1, 0, 0, 0); /* last in the list */
	reg(c, b + PCIE_FLAGS, 2, 0x0002, 0, 0); /* v2, endpoint */
	/* 128-byte max payload, role-based error reporting, FLR. */
	reg(c, b + PCIE_DEVCAP, 4, PCIE_DEVCAP_RBER | PCIE_DEVCAP_FLR, 0, 0);
	/* Relaxed ordering, no snoop, 512-byte max read request; bit 15
	 * (initiate FLR) is an action, never stored. */
	reg(c, b + PCIE_DEVCTL, 2, 0x2810, 0x7fff, 0);
	reg(c, b + PCIE_DEVSTA, 2, 0, 0, 0x000f);
	reg(c, b + PCIE_LNKCAP, 4, 0x00000011, 0, 0); /* 2.5 GT/s x1 */
	reg(c, b + PCIE_LNKCTL, 2, 0, 0x00c3, 0);
	reg(c, b + PCIE_LNKSTA, 2, 0x0011, 0, 0);
	reg(c, b + PCIE_DEVCTL2, 2, 0, 0x001f, 0);
	reg(c, b + PCIE_LNKCAP2, 4, 0x00000002, 0, 0);
	reg(c, b + PCIE_LNKCTL2, 2, 0x0001, 0x000f, 0);
}

void pci_config_init(struct pci_config *c,
		     const struct ionest_device_config *dc)
{
	uint16_t caps[3], ids[3];
	unsigned n = 0;

	memset(c, 0, sizeof(*c));
	reg(c, PCI_VENDOR, 2, IONEST_PCI_VENDOR_ID, 0, 0);
	reg(c, PCI_DEVICE, 2, IONEST_PCI_DEVICE_ID, 0, 0);
	reg(c, PCI_COMMAND, 2, 0,
	    PCI_CMD_MEM | PCI_CMD_MASTER | PCI_CMD_PARITY | PCI_CMD_SERR |
		    PCI_CMD_INTX_DISABLE,
	    0);
	reg(c, PCI_STATUS, 2, PCI_STATUS_CAP_LIST, 0, 0xf900);
	reg(c, PCI_REVISION, 1, IONEST_PCI_REVISION, 0, 0);
	reg(c, PCI_CLASS_PROG, 3, IONEST_PCI_CLASS, 0, 0);
	reg(c, PCI_CACHE_LINE, 1, 0, 0xff, 0);
	reg(c, PCI_HEADER_TYPE, 1, 0, 0, 0);
	/* 32-bit non-prefetchable memory BAR: the low bits that are not
	 * writable give its size. */
	reg(c, PCI_BAR0, 4, 0, ~(uint32_t)(IONEST_BAR0_SIZE - 1), 0);
	reg(c, PCI_SUBSYS_VENDOR, 2, IONEST_PCI_VENDOR_ID, 0, 0);
	reg(c, PCI_SUBSYS_ID, 2, IONEST_PCI_DEVICE_ID, 0, 0);
	reg(c, PCI_CAP_PTR, 1, IONEST_PCI_PCIE_CAP, 0, 0);
	reg(c, PCI_INT_LINE, 1, 0, 0xff, 0); /* interrupt pin 0: none */
	pcie_cap(c);

	/* Extended capabilities: a chain from 0x100, 16 bytes apart. */
	if (dc->ats)
		ids[n++] = EXT_CAP_ATS;
	if (dc->pri)
		ids[n++] = EXT_CAP_PRI;
	if (dc->pasid_bits)
		ids[n++] = EXT_CAP_PASID;
	for (unsigned i = 0; i < n; i++) {
		caps[i] = (uint16_t)(IONEST_PCI_EXT_CAP + 0x10 * i);
		ext_hdr(c, caps[i], ids[i], i + 1 < n ? caps[i] + 0x10 : 0);
	}
	for (unsigned i = 0; i < n; i++) {
		uint32_t b = caps[i];

		switch (ids[i]) {
		case EXT_CAP_ATS:
			c->ats = (uint16_t)b;
			reg(c, b + ATS_CAP, 2, ATS_CAP_PAGE_ALIGNED, 0, 0);
			reg(c, b + ATS_CTRL, 2, 0, ATS_CTRL_ENABLE | 0x1f, 0);
			break;
		case EXT_CAP_PRI:
			c->pri = (uint16_t)b;
			reg(c, b + PRI_CTRL, 2, 0, PRI_CTRL_ENABLE, 0);
			reg(c, b + PRI_STATUS, 2,
			    PRI_STATUS_STOPPED |
				    (dc->pasid_bits ? PRI_STATUS_PASID : 0),
			    0, PRI_STATUS_RF | PRI_STATUS_UPRGI);
			reg(c, b + PRI_MAX_REQ, 4, PRI_CAPACITY, 0, 0);
			reg(c, b + PRI_ALLOC_REQ, 4, 0, 0xffffffff, 0);
			break;
		default:
			c->pasid = (uint16_t)b;
			reg(c, b + PASID_CAP, 2,
			    (dc->pasid_exec ? PASID_CAP_EXEC : 0) |
				    (dc->pasid_priv ? PASID_CAP_PRIV : 0) |
				    (uint32_t)dc->pasid_bits << 8,
			    0, 0);
			/* Exec/priv enables exist only if supported. */
			reg(c, b + PASID_CTRL, 2, 0,
			    PASID_CTRL_ENABLE |
				    (dc->pasid_exec ? PASID_CTRL_EXEC : 0) |
				    (dc->pasid_priv ? PASID_CTRL_PRIV : 0),
			    0);
			break;
		}
	}
}

void pci_config_read(const struct pci_config *c, uint32_t off, uint8_t *buf,
		     uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		buf[i] = off + i < PCI_CFG_SIZE ? c->v[off + i] : 0xff;
}

static bool touches(uint32_t off, uint32_t n, uint32_t reg_off)
{
	return reg_off >= off && reg_off < off + n;
}

unsigned pci_config_write(struct pci_config *c, uint32_t off,
			  const uint8_t *buf, uint32_t n)
{
	uint32_t flr = IONEST_PCI_PCIE_CAP + PCIE_DEVCTL + 1;
	unsigned ev = 0;

	for (uint32_t i = 0; i < n && off + i < PCI_CFG_SIZE; i++) {
		uint32_t o = off + i;
		uint8_t old = c->v[o];

		c->v[o] = (uint8_t)((old & ~c->wmask[o]) |
				    (buf[i] & c->wmask[o]));
		c->v[o] &= (uint8_t) ~(buf[i] & c->w1c[o]);
	}
	if (touches(off, n, flr) &&
	    (buf[flr - off] & (PCIE_DEVCTL_BCR_FLR >> 8)))
		ev |= PCI_CFG_EV_FLR;
	if (c->pri && touches(off, n, c->pri + PRI_CTRL)) {
		uint32_t ctl = get(c->v, c->pri + PRI_CTRL, 2);
		uint32_t st = get(c->v, c->pri + PRI_STATUS, 2);

		/* Reset clears the error bits; a disabled interface with
		 * nothing outstanding is Stopped. */
		if (buf[c->pri + PRI_CTRL - off] & PRI_CTRL_RESET)
			st &= ~(PRI_STATUS_RF | PRI_STATUS_UPRGI);
		if (ctl & PRI_CTRL_ENABLE)
			st &= ~PRI_STATUS_STOPPED;
		else
			st |= PRI_STATUS_STOPPED;
		put(c->v, c->pri + PRI_STATUS, st, 2);
	}
	return ev;
}

bool pci_config_mem_enabled(const struct pci_config *c)
{
	return get(c->v, PCI_COMMAND, 2) & PCI_CMD_MEM;
}

bool pci_config_bus_master(const struct pci_config *c)
{
	return get(c->v, PCI_COMMAND, 2) & PCI_CMD_MASTER;
}

bool pci_config_pasid_enabled(const struct pci_config *c)
{
	return c->pasid &&
	       (get(c->v, c->pasid + PASID_CTRL, 2) & PASID_CTRL_ENABLE);
}

bool pci_config_ats_enabled(const struct pci_config *c)
{
	return c->ats && (get(c->v, c->ats + ATS_CTRL, 2) & ATS_CTRL_ENABLE);
}
