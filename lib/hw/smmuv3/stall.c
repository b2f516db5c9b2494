// SPDX-License-Identifier: MIT
/*
 * Stall model (IDR0.STALL_MODEL 0 or 2): a faulting transaction whose
 * stage has stalls enabled is held under a stall tag (STAG) reported in its
 * event; CMD_RESUME retries or aborts it and CMD_STALL_TERM aborts every
 * stall of a stream. The model tracks which tags are outstanding so that a
 * RESUME naming nothing is ignored, and tells the platform (the resume
 * handler) what became of each held transaction. At most IDR5.STALL_MAX
 * transactions are held; beyond that a fault terminates.
 */
#include <errno.h>

#include "hw/smmuv3/smmu.h"
#include "util/alloc.h"

int smmu_stall_init(struct smmu *s)
{
	if (!s->f.stall_max)
		return 0;
	s->stalls = xcalloc(s->f.stall_max, sizeof(*s->stalls));
	return s->stalls ? 0 : -ENOMEM;
}

void smmu_stall_fini(struct smmu *s)
{
	xfree(s->stalls);
	s->stalls = NULL;
}

bool smmu_stall_alloc(struct smmu *s, uint32_t sid, uint16_t *stag)
{
	bool ok = false;

	pthread_mutex_lock(&s->stall_lock);
	for (unsigned i = 0; i < s->f.stall_max; i++) {
		struct smmu_stall *t = &s->stalls[i];

		if (t->used)
			continue;
		t->used = true;
		t->sid = sid;
		/* Tags are never reused while held: a fresh counter value,
		 * checked against the other held tags. */
		for (;;) {
			bool clash = false;

			t->stag = s->next_stag++;
			for (unsigned j = 0; j < s->f.stall_max && !clash; j++)
				clash = j != i && s->stalls[j].used &&
					s->stalls[j].stag == t->stag;
			if (!clash)
				break;
		}
		*stag = t->stag;
		ok = true;
		break;
	}
	pthread_mutex_unlock(&s->stall_lock);
	return ok;
}

/* Remove (sid, stag); true if it was held. */
static bool stall_take(struct smmu *s, uint32_t sid, uint16_t stag)
{
	bool found = false;

	pthread_mutex_lock(&s->stall_lock);
	for (unsigned i = 0; i < s->f.stall_max; i++) {
		struct smmu_stall *t = &s->stalls[i];

		if (t->used && t->sid == sid && t->stag == stag) {
			t->used = false;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->stall_lock);
	return found;
}

void smmu_stall_release(struct smmu *s, uint32_t sid, uint16_t stag)
{
	stall_take(s, sid, stag);
}

bool smmu_stall_resume(struct smmu *s, uint32_t sid, uint16_t stag)
{
	return stall_take(s, sid, stag);
}

void smmu_stall_term(struct smmu *s, uint32_t sid)
{
	for (unsigned i = 0; i < s->f.stall_max; i++) {
		uint16_t stag = 0;
		bool held;

		pthread_mutex_lock(&s->stall_lock);
		held = s->stalls[i].used && s->stalls[i].sid == sid;
		if (held) {
			stag = s->stalls[i].stag;
			s->stalls[i].used = false;
		}
		pthread_mutex_unlock(&s->stall_lock);
		if (held && s->hw.resume_fn)
			s->hw.resume_fn(s->hw.resume_ctx, sid, stag, false);
	}
}
