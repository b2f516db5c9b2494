/* SPDX-License-Identifier: MIT */
/*
 * A circular doubly linked list with an embedded node, for the core's
 * queues and object lists (O(1) removal of any node, e.g. a vEVENTQ's
 * LOST_EVENTS mark from its tail).
 */
#ifndef IONEST_CORE_LIST_H
#define IONEST_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list_head {
	struct list_head *next, *prev;
};

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

/* A node that is in no list (after list_del_init or list_init). */
static inline bool list_unlinked(const struct list_head *n)
{
	return n->next == n;
}

static inline void list_insert(struct list_head *n, struct list_head *prev,
			       struct list_head *next)
{
	n->next = next;
	n->prev = prev;
	prev->next = n;
	next->prev = n;
}

static inline void list_add_tail(struct list_head *n, struct list_head *h)
{
	list_insert(n, h->prev, h);
}

static inline void list_add_head(struct list_head *n, struct list_head *h)
{
	list_insert(n, h, h->next);
}

static inline void list_del_init(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}

static inline bool list_is_last(const struct list_head *n,
				const struct list_head *h)
{
	return !list_unlinked(n) && n->next == h;
}

#define list_entry(ptr, type, member) \
	((type *)((char *)(ptr)-offsetof(type, member)))

#define list_for_each_safe(pos, tmp, head)                               \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
