/* SPDX-License-Identifier: MIT */
/*
 * An ordered set of non-overlapping inclusive ranges [start, last], as an
 * AVL tree of nodes embedded in their owners (IOAS areas, allowed ranges).
 * No allocation: inserting never fails.
 */
#ifndef IONEST_UTIL_ITREE_H
#define IONEST_UTIL_ITREE_H

#include <stddef.h>
#include <stdint.h>

struct itree_node {
	uint64_t start, last;
	struct itree_node *left, *right;
	int height;
};

struct itree {
	struct itree_node *root;
	size_t count;
};

/* @n must not overlap any node already in @t. */
void itree_insert(struct itree *t, struct itree_node *n);
void itree_remove(struct itree *t, struct itree_node *n);

/* The node with the smallest start, or NULL. */
struct itree_node *itree_first(const struct itree *t);
/* The node after @n in address order, or NULL. */
struct itree_node *itree_next(const struct itree *t,
			      const struct itree_node *n);
/* The lowest node overlapping [start, last], or NULL. */
struct itree_node *itree_iter_first(const struct itree *t, uint64_t start,
				    uint64_t last);
/* The next node after @n that still overlaps [.., last], or NULL. */
struct itree_node *itree_iter_next(const struct itree *t,
				   const struct itree_node *n, uint64_t last);

#endif
