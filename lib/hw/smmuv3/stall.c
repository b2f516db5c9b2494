// SPDX-License-Identifier: MIT
/*
 * Stall model (IDR0.STALL_MODEL 0 or 2): a faulting transaction whose
 * stage has stalls enabled is held under a stall tag (STAG) reported in its
 * event; CMD_RESUME retries or aborts it and CMD_STALL_TERM aborts every
 * stall of a stream. The model tracks which tags are outstanding so that a
 * RESUME naming nothing is ignored, and tells the platform (the resume
 * handler) what became of each held transaction. At most IDR5.STALL_MAX
 * transactions are held; beyond that a fault terminates.
 *
 * The table that tracks them (struct smmu_stalls, stall.h) is also the
 * SMMUv3 driver's, for the stalls it holds itself in software nesting.
 */
#include <errno.h>

#include "hw/smmuv3/smmu.h"
#include "util/alloc.h"

/* ---- the table ---- */

void smmu_stalls_init(struct smmu_stalls *t)
{
	*t = (struct smmu_stalls){ 0 };
	pthread_mutex_init(&t->lock, NULL);
}

int smmu_stalls_size(struct smmu_stalls *t, unsigned max)
{
	if (!max)
		return 0;
	t->e = xcalloc(max, sizeof(*t->e));
	if (!t->e)
		return -ENOMEM;
	t->max = max;
	return 0;
}

void smmu_stalls_fini(struct smmu_stalls *t)
{
	xfree(t->e);
	t->e = NULL;
	t->max = 0;
	pthread_mutex_destroy(&t->lock);
}

bool smmu_stalls_hold(struct smmu_stalls *t, uint32_t sid, uint16_t *stag)
{
	struct smmu_stall *e = NULL;

	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < t->max && !e; i++)
		if (!t->e[i].used)
			e = &t->e[i];
	if (e) {
		bool clash = true;

		/* Tags are never reused while held: a fresh counter value,
		 * checked against the other held tags. */
		while (clash) {
			e->stag = t->next++;
			clash = false;
			for (unsigned j = 0; j < t->max && !clash; j++)
				clash = t->e[j].used && t->e[j].stag == e->stag;
		}
		e->used = true;
		e->sid = sid;
		*stag = e->stag;
	}
	pthread_mutex_unlock(&t->lock);
	return e;
}

/* Release the first held slot of @sid (and @stag unless @any_tag). */
static bool take(struct smmu_stalls *t, uint32_t sid, bool any_tag,
		 uint16_t *stag)
{
	bool found = false;

	pthread_mutex_lock(&t->lock);
	for (unsigned i = 0; i < t->max && !found; i++) {
		struct smmu_stall *e = &t->e[i];

		found = e->used && e->sid == sid &&
			(any_tag || e->stag == *stag);
		if (found) {
			e->used = false;
			*stag = e->stag;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

bool smmu_stalls_take(struct smmu_stalls *t, uint32_t sid, uint16_t stag)
{
	return take(t, sid, false, &stag);
}

bool smmu_stalls_take_sid(struct smmu_stalls *t, uint32_t sid, uint16_t *stag)
{
	return take(t, sid, true, stag);
}

/* ---- the model's stalled transactions ---- */

int smmu_stall_init(struct smmu *s)
{
	smmu_stalls_init(&s->stalls);
	return smmu_stalls_size(&s->stalls, s->f.stall_max);
}

void smmu_stall_fini(struct smmu *s)
{
	smmu_stalls_fini(&s->stalls);
}

void smmu_stall_term(struct smmu *s, uint32_t sid)
{
	uint16_t stag;

	while (smmu_stalls_take_sid(&s->stalls, sid, &stag))
		if (s->hw.resume_fn)
			s->hw.resume_fn(s->hw.resume_ctx, sid, stag, false);
}
