/* SPDX-License-Identifier: MIT */
/*
 * Page-table formats and the one generic engine that maps, unmaps and walks
 * them. Used by the hardware walkers (lib/hw), the host drivers
 * (lib/drivers) and the guest-side table builders (tests, demo) alike.
 *
 * Levels are counted from the leaf: level 0 is the last-level table (4K
 * pages with a 4K granule), level 1 the one above it, and so on. The
 * architecture's own numbering is available through pt_arch_level():
 * VMSAv8-64 calls our level 0 "level 3", x86 calls it "PT" (level 1).
 *
 * Tables are reached through a memory accessor (struct pt_mem), so the same
 * code builds host tables (host physical == host virtual address in this
 * project) and guest tables (guest physical through a guest RAM mapping),
 * and the hardware models walk guest tables through stage 2.
 *
 * All functions return 0 or a negative errno unless stated otherwise.
 *
 * Concurrency: pt_walk may run at any time, in any thread, while one other
 * thread maps, unmaps or harvests dirty bits; those calls on one table tree
 * are serialised by the caller. Descriptors are read and written whole
 * (64-bit atomics) and a new table is complete before it is linked.
 *
 * Host tables (mem.ops == NULL) live at host virtual addresses, which need
 * 47 bits: give them an oas of at least 48, or use an accessor.
 */
#ifndef IONEST_PT_H
#define IONEST_PT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pt_format {
	PT_FMT_ARM_S1, /* VMSAv8-64 stage 1 (SMMUv3 CD TTB0/TTB1) */
	PT_FMT_ARM_S2, /* VMSAv8-64 stage 2 (SMMUv3 STE S2TTB) */
	PT_FMT_X86_64, /* x86-64 4/5-level paging: VT-d first stage */
	PT_FMT_VTD_SS, /* VT-d second stage */
	PT_FMT_COUNT
};

/* Deepest table is level PT_MAX_LEVELS-1 (x86 5-level: PML5 = level 4). */
#define PT_MAX_LEVELS 5

/*
 * ---- Permissions: what map installs and what a walk grants ----
 * ARM S1 and x86 mappings are always readable (READ is implied); ARM S2
 * and VT-d SS take R/W/X as given (a VT-d SS mapping needs one of them).
 * PRIV applies to ARM S1 and x86 only.
 */
#define PT_PROT_READ (1u << 0)
#define PT_PROT_WRITE (1u << 1)
#define PT_PROT_EXEC (1u << 2) /* instruction fetch (both privilege levels) */
#define PT_PROT_PRIV (1u << 3) /* privileged-only (S1 AP[1]=0, x86 U/S=0) */
#define PT_PROT_NOAF (1u << 4) /* map with AF=0 (ARM) for access-flag tests */
/* ARM S1: nG=0, not ASID-tagged; by default stage-1 leaves are nG=1, as
 * host drivers map them, so TLBI by ASID reaches them. */
#define PT_PROT_GLOBAL (1u << 5)

/*
 * Walk result permissions, with the table-level controls already folded in
 * (ARM APTable/UXNTable/PXNTable unless PT_CFG_HAD; x86 R/W, U/S and XD of
 * every level). The hardware model applies its own rules on top (AFFD, WPE,
 * SRE, ERE, ...).
 */
#define PT_PERM_R (1u << 0) /* read allowed */
#define PT_PERM_W (1u << 1) /* write allowed */
#define PT_PERM_UX (1u << 2) /* unprivileged instruction fetch allowed */
#define PT_PERM_PX (1u << 3) /* privileged instruction fetch allowed */
#define PT_PERM_U (1u << 4) /* unprivileged access allowed (S1/FS) */
#define PT_PERM_AF (1u << 5) /* leaf access flag / accessed bit is set */
#define PT_PERM_DIRTY (1u << 6) /* leaf is dirty (D, or DBM writable) */
#define PT_PERM_DBM (1u << 7) /* leaf has DBM set (writable-clean allowed) */
#define PT_PERM_CONTIG (1u << 8) /* contiguous hint set on the leaf */

/* ---- Table configuration ---- */
#define PT_CFG_DIRTY                                      \
	(1u << 0) /* dirty tracking: ARM maps W as DBM+RO \
		   * (writable-clean), x86/VT-d SS use D */
#define PT_CFG_AD (1u << 1) /* VT-d SS: A/D bits in use (SSADE) */
#define PT_CFG_HAD (1u << 2) /* ARM S1: hierarchical attributes disabled */
#define PT_CFG_XNX (1u << 3) /* ARM S2: XN[1:0] (IDR3.XNX) */
#define PT_CFG_FORCE_WRITEABLE (1u << 4) /* VT-d erratum: no RO maps */

struct pt_cfg {
	enum pt_format fmt;
	uint8_t granule_shift; /* 12, 14, 16 (ARM); always 12 for x86/VT-d */
	uint8_t ias; /* input address bits: ARM 64-TxSZ; x86 48/57;
		      * VT-d SS 39/48/57 (AGAW) */
	uint8_t oas; /* output address bits (ARM IPS/PS, VT-d HAW) */
	int8_t start_level; /* ARM S2 only, from SL0 (our numbering), or
			     * -1: derive (S1: from ias; S2: Linux's rule
			     * of concatenating up to 16 tables first) */
	uint64_t pgsize_bitmap; /* leaf sizes map may use; 0 = all legal */
	uint32_t flags; /* PT_CFG_* */
};

/* ---- Memory accessor ---- */
struct pt_mem_ops {
	/*
	 * Host pointer to @size bytes of table memory at table address @pa,
	 * or NULL when nothing is there (the walk reports PT_FAULT_FETCH and
	 * the accessor keeps whatever detail it wants, e.g. an S2 fault).
	 * @write: the caller will store to it (A/D updates, map).
	 * pt_walk asks for each descriptor alone (@pa = its address, @size =
	 * 8), as hardware fetches them: a stage-1 table larger than a
	 * stage-2 page need not be contiguous in host memory. map, unmap,
	 * iteration and dirty harvesting ask for whole tables.
	 */
	void *(*table)(void *ctx, uint64_t pa, size_t size, bool write);
	/* Zeroed table memory of @size bytes aligned to @size. */
	int (*alloc)(void *ctx, size_t size, uint64_t *pa);
	void (*free)(void *ctx, uint64_t pa, size_t size);
};

/* ops == NULL: host memory, pa == va, tables from the pre-faulted pool. */
struct pt_mem {
	const struct pt_mem_ops *ops;
	void *ctx;
};

struct pt {
	struct pt_cfg cfg;
	struct pt_mem mem;
	uint64_t root; /* table address of the start table(s) */
	uint8_t start_level; /* derived, our numbering */
	uint8_t concat; /* ARM S2: start tables concatenated (1..16) */
	uint8_t owns_root; /* pt_init allocated root; pt_destroy frees */
	uint8_t reserved;
	uint32_t root_size; /* bytes of the start table(s) */
	const struct pt_fmt *ops; /* format primitives (engine-private) */
};

/*
 * Validate @cfg, derive start level and concatenation, and allocate an empty
 * root. -EINVAL for an illegal configuration (granule, ias, oas, start level
 * needing more than 16 concatenated tables, ...).
 */
int pt_init(struct pt *pt, const struct pt_cfg *cfg, struct pt_mem mem);
/* Describe existing tables at @root (e.g. guest-built) without allocating:
 * cheap, for walkers that build a struct pt per walk. Same checks. */
int pt_attach(struct pt *pt, const struct pt_cfg *cfg, struct pt_mem mem,
	      uint64_t root);
/* Free every table (only tables pt_init or map allocated are freed). A pt
 * from pt_attach frees nothing: whoever built those tables frees them.
 * Harmless on a pt whose init failed, and twice. */
void pt_destroy(struct pt *pt);

/* Largest input address + 1 (1 << ias), and the legal leaf sizes. */
uint64_t pt_input_size(const struct pt *pt);
uint64_t pt_leaf_sizes(const struct pt *pt);
/* Architectural level number for our @level (ARM: 3 - level; x86: 1 + level).
 */
int pt_arch_level(const struct pt *pt, unsigned level);

/*
 * Map [iova, iova + size) to [pa, pa + size) with @prot (PT_PROT_*), using
 * the largest leaves that alignment and @pgsize_bitmap (0 = the table's
 * bitmap) allow. All or nothing: on error the tables are as before.
 *   -EINVAL    size 0, or iova/pa/size not aligned to the smallest leaf
 *   -EOVERFLOW iova + size or pa + size wraps, or lies beyond ias / oas
 *   -EEXIST    any part already mapped (or an empty table sits where a
 *              leaf must go and no smaller leaf size is allowed)
 *   -ENOMEM    table allocation failed
 */
int pt_map(struct pt *pt, uint64_t iova, uint64_t pa, uint64_t size,
	   uint32_t prot, uint64_t pgsize_bitmap);

/* Tables that an unmap emptied, freed only after the IOTLB was flushed
 * (a walker may still be reading them until then). */
struct pt_gather {
	uint64_t *pa;
	uint32_t *size;
	unsigned count, cap;
};
/* Free the gathered tables and reset @g (start from a zeroed struct). */
void pt_gather_release(struct pt *pt, struct pt_gather *g);

#define PT_UNMAP_SPLIT (1u << 0) /* split blocks cut by the range */

/*
 * Unmap whatever is mapped in [iova, iova + size); *unmapped = bytes that
 * were mapped. A leaf straddling either end is refused (-EINVAL, nothing
 * changed) unless PT_UNMAP_SPLIT, which splits it (may return -ENOMEM,
 * nothing changed). Emptied tables are freed, or queued on @g if given.
 */
int pt_unmap(struct pt *pt, uint64_t iova, uint64_t size, unsigned flags,
	     struct pt_gather *g, uint64_t *unmapped);

/*
 * ---- In-place updates of one granule leaf ----
 * For a caller that owns the tables and changes single pages often (the
 * shadow engine): the slot of @iova's granule leaf in its last-level
 * table, or NULL when no last-level table holds it (a hole or a larger
 * leaf on the path, or @iova beyond ias). Storing a pt_leaf_desc() there
 * (a 64-bit atomic store) maps the page as pt_map would; storing 0 unmaps
 * it as pt_unmap would, except that an emptied table stays (until an
 * unmap that covers it). pt_map never sets the contiguous hint, so a leaf
 * it wrote may change alone. The slot is valid until its table is freed;
 * the same serialisation as map and unmap applies.
 */
uint64_t *pt_leaf_slot(const struct pt *pt, uint64_t iova);
/* The granule leaf mapping @pa with @prot: -EINVAL (unaligned, unknown
 * prot, no granule leaves, a VT-d SS leaf without access) or -EOVERFLOW
 * (beyond oas), as pt_map. */
int pt_leaf_desc(const struct pt *pt, uint64_t pa, uint32_t prot,
		 uint64_t *desc);
/* Whether two leaves differ at most by the dirty state the hardware
 * sets. */
bool pt_leaf_same(const struct pt *pt, uint64_t a, uint64_t b);

/* ---- Walk ---- */
enum pt_fault {
	PT_FAULT_NONE = 0,
	PT_FAULT_TRANSLATION, /* invalid descriptor, or input out of range */
	PT_FAULT_ADDR_SIZE, /* output/table address beyond oas */
	PT_FAULT_RESERVED, /* reserved bits set / illegal leaf at level */
	PT_FAULT_FETCH, /* accessor returned NULL for a table */
	PT_FAULT_UPDATE, /* accessor refused the A/D write-back */
};

#define PT_WALK_SET_AF (1u << 0) /* hardware access-flag / A updates */
/* Hardware dirty update for a write, made only where the leaf lets the
 * write through (x86 / VT-d SS: R/W of every level; ARM: DBM and no
 * APTable[1] above). */
#define PT_WALK_SET_DIRTY (1u << 1)

struct pt_walk_level {
	uint64_t table; /* table address (as given to the accessor) */
	uint64_t desc; /* descriptor read */
	uint16_t index; /* entry index in the table */
	uint8_t level; /* our numbering */
};

struct pt_walk {
	uint64_t oa; /* output address of the input address */
	uint64_t desc; /* leaf descriptor (after any A/D update) */
	uint32_t perm; /* PT_PERM_* */
	uint8_t level; /* leaf level, or faulting level */
	uint8_t leaf_shift; /* log2 of the leaf size */
	uint8_t fault; /* enum pt_fault */
	uint8_t nrec; /* records filled in @rec when requested */
	uint64_t fault_addr; /* PT_FAULT_FETCH/UPDATE: the address given to
			      * the accessor (the descriptor's) */
	struct pt_walk_level *rec; /* optional: PT_MAX_LEVELS records */
};

/*
 * Translate @iova. Returns 0 with w->fault == PT_FAULT_NONE, or -EFAULT with
 * w->fault, w->level and (for fetches) w->fault_addr set. If w->rec is
 * non-NULL, one record per level visited is filled in (the faulting level
 * included); set it (or NULL) before the call. @flags PT_WALK_*.
 * For an ARM TTB1 walk pass the address with the bits above ias cleared.
 * VT-d SS: R and W are folded over the levels, X comes from the leaf.
 * With host tables, no records and no flags, this is an inlined loop.
 */
int pt_walk(const struct pt *pt, uint64_t iova, unsigned flags,
	    struct pt_walk *w);

/* Call @fn for each mapped leaf overlapping [start, last]; stop early when it
 * returns non-zero (that value is returned). */
typedef int (*pt_leaf_fn)(void *ctx, uint64_t iova, uint64_t pa, uint64_t size,
			  uint32_t perm);
int pt_for_each(const struct pt *pt, uint64_t start, uint64_t last,
		pt_leaf_fn fn, void *ctx);

/*
 * Dirty state of [iova, iova + size) into @bitmap, one bit per @page_size
 * (a power of two >= 4K) starting at bit 0 for @iova; bits are ORed in.
 * Cleared as read unless @no_clear (a leaf larger than the range is
 * cleared whole). -EOPNOTSUPP for tables without PT_CFG_DIRTY (ARM) or
 * without dirty bits (VT-d SS without PT_CFG_AD). -EINVAL if @iova or
 * @size is not a multiple of @page_size.
 */
int pt_read_and_clear_dirty(struct pt *pt, uint64_t iova, uint64_t size,
			    uint64_t page_size, uint64_t *bitmap,
			    bool no_clear);
/* Mark the leaf covering @iova dirty (as a hardware write would):
 * -ENOENT if nothing is mapped, -EPERM if the leaf cannot be dirtied
 * (read-only, or ARM without DBM). */
int pt_set_dirty(struct pt *pt, uint64_t iova);

/* ---- Table memory pool (pre-faulted, host identity tables) ---- */
/* Reserve @bytes of pre-faulted table memory so maps never page-fault.
 * (The pool also grows by itself, populated, when it runs out.) */
int pt_pool_reserve(size_t bytes);
/* Bytes currently handed out as tables, and held by the pool in total. */
void pt_pool_usage(size_t *in_use, size_t *total);
/* Pool tables for callers with their own pt_mem_ops (e.g. a driver that
 * defers frees): zeroed, aligned to @size (4K..1M); NULL when out of
 * memory (or an injected failure). Free only zeroed blocks. */
void *pt_pool_alloc(size_t size);
void pt_pool_free(void *p, size_t size);

#endif
