// SPDX-License-Identifier: MIT
/* AVL tree of disjoint ranges keyed by start. */
#include "util/itree.h"

static int h(const struct itree_node *n)
{
	return n ? n->height : 0;
}

static void fix(struct itree_node *n)
{
	int l = h(n->left), r = h(n->right);

	n->height = (l > r ? l : r) + 1;
}

static struct itree_node *rot_right(struct itree_node *n)
{
	struct itree_node *l = n->left;

	n->left = l->right;
	l->right = n;
	fix(n);
	fix(l);
	return l;
}

static struct itree_node *rot_left(struct itree_node *n)
{
	struct itree_node *r = n->right;

	n->right = r->left;
	r->left = n;
	fix(n);
	fix(r);
	return r;
}

static struct itree_node *balance(struct itree_node *n)
{
	int b;

	fix(n);
	b = h(n->left) - h(n->right);
	if (b > 1) {
		if (h(n->left->left) < h(n->left->right))
			n->left = rot_left(n->left);
		return rot_right(n);
	}
	if (b < -1) {
		if (h(n->right->right) < h(n->right->left))
			n->right = rot_right(n->right);
		return rot_left(n);
	}
	return n;
}

static struct itree_node *insert(struct itree_node *root, struct itree_node *n)
{
	if (!root)
		return n;
	if (n->start < root->start)
		root->left = insert(root->left, n);
	else
		root->right = insert(root->right, n);
	return balance(root);
}

void itree_insert(struct itree *t, struct itree_node *n)
{
	n->left = n->right = NULL;
	n->height = 1;
	t->root = insert(t->root, n);
	t->count++;
}

static struct itree_node *remove_min(struct itree_node *root,
				     struct itree_node **min)
{
	if (!root->left) {
		*min = root;
		return root->right;
	}
	root->left = remove_min(root->left, min);
	return balance(root);
}

static struct itree_node *node_remove(struct itree_node *root,
				      const struct itree_node *n)
{
	if (!root)
		return NULL;
	if (n->start < root->start) {
		root->left = node_remove(root->left, n);
	} else if (n->start > root->start) {
		root->right = node_remove(root->right, n);
	} else {
		struct itree_node *l = root->left, *r = root->right, *m;

		if (!r)
			return l;
		r = remove_min(r, &m);
		m->left = l;
		m->right = r;
		return balance(m);
	}
	return balance(root);
}

void itree_remove(struct itree *t, struct itree_node *n)
{
	t->root = node_remove(t->root, n);
	t->count--;
	n->left = n->right = NULL;
}

struct itree_node *itree_first(const struct itree *t)
{
	struct itree_node *n = t->root;

	while (n && n->left)
		n = n->left;
	return n;
}

/* Lowest node with start > x. */
static struct itree_node *first_after(const struct itree *t, uint64_t x)
{
	struct itree_node *n = t->root, *best = NULL;

	while (n) {
		if (n->start > x) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

/* Highest node with start <= x. */
static struct itree_node *last_upto(const struct itree *t, uint64_t x)
{
	struct itree_node *n = t->root, *best = NULL;

	while (n) {
		if (n->start <= x) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

struct itree_node *itree_next(const struct itree *t, const struct itree_node *n)
{
	return first_after(t, n->start);
}

struct itree_node *itree_iter_first(const struct itree *t, uint64_t start,
				    uint64_t last)
{
	struct itree_node *n = last_upto(t, start);

	if (n && n->last >= start)
		return n;
	n = first_after(t, start);
	if (n && n->start <= last)
		return n;
	return NULL;
}

struct itree_node *itree_iter_next(const struct itree *t,
				   const struct itree_node *n, uint64_t last)
{
	struct itree_node *next = first_after(t, n->start);

	if (next && next->start <= last)
		return next;
	return NULL;
}
