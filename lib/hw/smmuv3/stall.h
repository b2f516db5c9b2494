/* SPDX-License-Identifier: MIT */
/*
 * A table of held stalls (spec/smmuv3.md §9): at most IDR5.STALL_MAX
 * (stream, tag) pairs, each tag the next value of a counter that no held
 * stall carries, so that a RESUME names one transaction or none. The SMMU
 * model holds its stalled transactions in one (stall.c); the SMMUv3 driver
 * holds the stalls of software nesting, which the SMMU never sees, in
 * another of its own. Thread-safe; the table's lock is a leaf.
 */
#ifndef IONEST_HW_SMMU_STALL_H
#define IONEST_HW_SMMU_STALL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct smmu_stall {
	uint32_t sid;
	uint16_t stag;
	bool used;
};

struct smmu_stalls {
	pthread_mutex_t lock;
	struct smmu_stall *e;
	unsigned max;
	uint16_t next;
};

/* An empty table (no slot: every stall terminates). */
void smmu_stalls_init(struct smmu_stalls *t);
/* Give an empty table @max slots. */
int smmu_stalls_size(struct smmu_stalls *t, unsigned max);
void smmu_stalls_fini(struct smmu_stalls *t);
/* Hold a stall of @sid under a fresh tag; false when every slot is held. */
bool smmu_stalls_hold(struct smmu_stalls *t, uint32_t sid, uint16_t *stag);
/* Release (@sid, @stag); true if it was held. */
bool smmu_stalls_take(struct smmu_stalls *t, uint32_t sid, uint16_t stag);
/* Release one stall of @sid, its tag in *stag; false if it holds none. */
bool smmu_stalls_take_sid(struct smmu_stalls *t, uint32_t sid, uint16_t *stag);

#endif
