/* SPDX-License-Identifier: MIT */
/*
 * Explaining one access. A model re-derives how it would translate a
 * request, step by step, without changing anything: no cache is filled,
 * no counter moves, no access-flag or dirty bit is written (a walk that
 * would update a descriptor updates a private copy, and the update is
 * reported as a step), no fault is recorded. The caches are probed as the
 * real access would probe them and are believed as it would believe them,
 * so the outcome is the one ionest_hw_translate() would give on the same
 * state (tests hold the two against each other).
 *
 * Steps come in the order the hardware takes them: register state,
 * cache probes, configuration structures (STE/CD, context/PASID entries),
 * each stage-1 level preceded by the stage-2 walk of its table address
 * (depth 1) when nested, the stage-2 walk of the output, and hardware
 * updates. Where a cache serves the access, the steps it replaces are still
 * derived (for the reader) and marked `skipped`.
 *
 * Entry point: hw_explain() below; a model provides hw_ops.explain.
 */
#ifndef IONEST_HW_EXPLAIN_H
#define IONEST_HW_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/hw.h"

enum hw_xs_kind {
	HW_XS_NOTE, /* a remark on the access */
	HW_XS_REG, /* register state that decides (SMMUEN, GBPA, TE) */
	HW_XS_CACHE, /* a cache probe: hit is 1 or 0 */
	HW_XS_CONFIG, /* a configuration structure read */
	HW_XS_S1, /* a stage-1 (first-stage) level */
	HW_XS_S2, /* a stage-2 (second-stage) level */
	HW_XS_CHECK, /* a permission or attribute check that failed */
	HW_XS_UPDATE, /* a descriptor update the hardware makes */
	HW_XS_KIND_COUNT
};

#define HW_XS_WORDS 8

struct hw_xstep {
	uint8_t kind; /* enum hw_xs_kind */
	uint8_t depth; /* 0: the access; 1: stage 2 of a stage-1 address */
	int8_t level; /* architectural level number, -1: none */
	int8_t hit; /* HW_XS_CACHE: 1 hit, 0 miss; else -1 */
	bool skipped; /* a real access takes this from a cache */
	bool has_in, has_addr, has_host;
	uint8_t nwords;
	char name[23]; /* "STE", "CD", "S1 L2", "TLB", ... */
	uint64_t in; /* address being translated (IOVA, IPA, GPA) */
	uint64_t addr; /* address read, in its own space (IPA/GPA or host) */
	uint64_t host; /* host address read, when addr is not one */
	uint64_t w[HW_XS_WORDS]; /* the words read */
	char text[200]; /* what they mean */
};

struct hw_explain {
	const char *model; /* ionest_hw_model() */
	struct ionest_xlate_req req;
	/* What ionest_hw_translate() returns (0 or -EINVAL) and reports. */
	int ret;
	struct ionest_xlate_res res;
	const char *fault_name; /* the fault's architectural name, or NULL */
	int fault_level; /* level of a walk fault, -1: none */
	bool would_record; /* the fault would be recorded (queue state
			    * permitting) */
	bool stale; /* a cache serves what the tables no longer say */
	char summary[160]; /* one line */

	struct hw_xstep *steps;
	unsigned nsteps, cap;
	int err; /* first failure while building (-ENOMEM) */
	/* Building state. */
	uint8_t depth;
	bool skipping;
};

/*
 * Explain @req on @hw into @x (initialised here; release with
 * hw_explain_fini even on error). 0: @x holds the steps and the outcome
 * (x->ret is what translate would return); -EOPNOTSUPP: the model cannot
 * explain; -ENOMEM; -EINVAL: a NULL argument.
 */
int hw_explain(struct ionest_hw *hw, const struct ionest_xlate_req *req,
	       struct hw_explain *x);
void hw_explain_fini(struct hw_explain *x);

const char *hw_xs_kind_name(enum hw_xs_kind k);

/* ---- For the models' explain.c ---- */

/* Append a step (zeroed but for kind, name, depth, level -1, hit -1 and
 * skipped); never NULL: on allocation failure a scratch step, x->err set. */
struct hw_xstep *hw_x_add(struct hw_explain *x, enum hw_xs_kind kind,
			  const char *name);
/* Append formatted text to a step's text. */
void hw_x_text(struct hw_xstep *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hw_x_words(struct hw_xstep *s, const uint64_t *w, unsigned n);
void hw_x_note(struct hw_explain *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A cache probe step: @hit, and text. */
struct hw_xstep *hw_x_cache(struct hw_explain *x, const char *name, bool hit);
/*
 * A cache answered the access with @cached and the full derivation has just
 * run for the reader (its result in x->res): flag the cache stale where the
 * tables now say otherwise, then restore the cached answer, which is what
 * the access gets.
 */
void hw_x_cache_served(struct hw_explain *x,
		       const struct ionest_xlate_res *cached);
/* Set the outcome's summary. */
void hw_x_summary(struct hw_explain *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A private overlay of descriptor words: walks that update a descriptor
 * (access flag, dirty state) write the overlay, never memory. Reads of a
 * written word see the overlay, as the walk that wrote it would.
 */
#define HW_X_OVERLAY 32
struct hw_x_overlay {
	struct {
		uint64_t host; /* the word's host address */
		uint64_t old; /* its value in memory */
		uint64_t val; /* after the updates */
		uint8_t tag; /* who wrote it (HW_XS_S1 / HW_XS_S2) */
		bool shown; /* reported by hw_x_updates */
	} slot[HW_X_OVERLAY];
	unsigned n;
};

/* Host pointer to read @size bytes at host address @pa through the
 * overlay (an 8-byte word that was written reads from it); NULL where the
 * bus has nothing. */
void *hw_x_map_read(struct ionest_hw *hw, struct hw_x_overlay *ov, uint64_t pa,
		    uint64_t size);
/* Pointer to the overlay copy of the word at host address @pa, which the
 * bus must allow writing (NULL: it does not, or the overlay is full);
 * @tag says whose walk writes it. */
uint64_t *hw_x_map_write(struct ionest_hw *hw, struct hw_x_overlay *ov,
			 uint64_t pa, uint8_t tag);

/*
 * A recording accessor for pt_walk: each descriptor read (and update) is
 * a step of @kind at the current depth; with @s2 set, table addresses are
 * stage-1 physical addresses translated by the callback first (which
 * records its own steps at depth + 1). hw_x_walk_done() then names the
 * levels from the walk's records.
 */
struct hw_x_mem;
typedef bool (*hw_x_s2_fn)(struct hw_x_mem *m, uint64_t ipa, bool write,
			   uint64_t *pa);
struct hw_x_mem {
	struct hw_explain *x;
	struct ionest_hw *hw;
	struct hw_x_overlay *ov;
	hw_x_s2_fn s2; /* NULL: table addresses are host addresses */
	void *ctx; /* the model's */
	uint8_t kind; /* HW_XS_S1 or HW_XS_S2 */
	uint64_t in; /* the address being walked */
	unsigned nread;
	unsigned read_step[PT_MAX_LEVELS * 2]; /* steps of the reads */
};

struct pt_mem hw_x_pt_mem(struct hw_x_mem *m);
/* Fill in the level, index and name of the read steps from @w's records
 * (@arch_level: pt_arch_level of our level), and decode each descriptor
 * with @decode (may be NULL). */
typedef void (*hw_x_decode_fn)(struct hw_xstep *s, unsigned level,
			       uint64_t desc, const void *ctx);
void hw_x_walk_done(struct hw_x_mem *m, const struct pt *pt,
		    const struct pt_walk *w, const char *prefix,
		    hw_x_decode_fn decode, const void *ctx);
/* One HW_XS_UPDATE step per overlay word written by @tag and changed
 * since the last call, its text from @what (old, new value; may be
 * NULL). */
typedef void (*hw_x_update_fn)(struct hw_xstep *s, uint64_t old, uint64_t val,
			       const void *ctx);
void hw_x_updates(struct hw_explain *x, struct hw_x_overlay *ov, uint8_t tag,
		  hw_x_update_fn what, const void *ctx);

#endif
