// SPDX-License-Identifier: MIT
/* The registry of counter blocks behind the public counter API. */
#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "trace/counters.h"
#include <ionest/trace.h>

static pthread_mutex_t ctr_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctr_block *ctr_head;

void ctr_register(struct ctr_block *b, const char *component,
		  const char *const *names, uint64_t *values, unsigned count)
{
	snprintf(b->component, sizeof(b->component), "%s", component);
	b->names = names;
	b->values = values;
	b->count = count;
	pthread_mutex_lock(&ctr_lock);
	b->next = ctr_head;
	ctr_head = b;
	pthread_mutex_unlock(&ctr_lock);
}

void ctr_unregister(struct ctr_block *b)
{
	pthread_mutex_lock(&ctr_lock);
	for (struct ctr_block **p = &ctr_head; *p; p = &(*p)->next) {
		if (*p == b) {
			*p = b->next;
			break;
		}
	}
	pthread_mutex_unlock(&ctr_lock);
}

static bool ctr_matches(const struct ctr_block *b, unsigned i, const char *glob)
{
	char full[96];

	if (!glob)
		return true;
	snprintf(full, sizeof(full), "%s.%s", b->component, b->names[i]);
	return fnmatch(glob, full, 0) == 0;
}

IONEST_API int ionest_counters_foreach(const char *glob, ionest_counter_fn fn,
				       void *ctx)
{
	int n = 0;

	pthread_mutex_lock(&ctr_lock);
	for (struct ctr_block *b = ctr_head; b; b = b->next) {
		for (unsigned i = 0; i < b->count; i++) {
			if (!ctr_matches(b, i, glob))
				continue;
			fn(ctx, b->component, b->names[i],
			   __atomic_load_n(&b->values[i], __ATOMIC_RELAXED));
			n++;
		}
	}
	pthread_mutex_unlock(&ctr_lock);
	return n;
}

IONEST_API int ionest_counter_get(const char *component, const char *name,
				  uint64_t *value)
{
	int ret = -ENOENT;

	pthread_mutex_lock(&ctr_lock);
	for (struct ctr_block *b = ctr_head; b && ret; b = b->next) {
		if (strcmp(b->component, component))
			continue;
		for (unsigned i = 0; i < b->count; i++) {
			if (strcmp(b->names[i], name) == 0) {
				*value = __atomic_load_n(&b->values[i],
							 __ATOMIC_RELAXED);
				ret = 0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&ctr_lock);
	return ret;
}

IONEST_API void ionest_counters_reset(const char *glob)
{
	pthread_mutex_lock(&ctr_lock);
	for (struct ctr_block *b = ctr_head; b; b = b->next)
		for (unsigned i = 0; i < b->count; i++)
			if (ctr_matches(b, i, glob))
				__atomic_store_n(&b->values[i], 0,
						 __ATOMIC_RELAXED);
	pthread_mutex_unlock(&ctr_lock);
}
