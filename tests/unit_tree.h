/*
 * unit_tree.h - brute force over dependency trees (tests/unit_tree_brute.c)
 * for the spanning-tree tests.
 *
 * A tree over nodes 0 .. n-1 (node 0 the root) is heads[d] for d >= 1,
 * heads[0] = -1; its score is Σ_d w[heads[d] * ld + d].
 */
#ifndef UNIT_TREE_H
#define UNIT_TREE_H

#include "internal.h"
#include "unit.h"

typedef struct tree_brute {
	int64_t n;
	int64_t count;          /* trees with finite score */
	int64_t all;            /* trees of the kind, finite or not */
	long double logz;       /* -inf when no tree */
	long double max;        /* best score (-inf when none) */
	int64_t *best;          /* [n] heads of a best tree */
	int unique;             /* best by more than RTOL over the next */
	double *marg;           /* [n * n]: P(h -> d) at h * n + d */
	double entropy;         /* NaN when no tree */
	int64_t *trees;         /* [all * n] every tree's heads */
	long double *scores;    /* [all] */
} tree_brute;

/* 1 if heads (heads[0] = -1) is an arborescence rooted at 0 (projective:
 * no crossing arcs; single_root: one child of node 0). */
int tree_is_valid(const int64_t *heads, int64_t n, int projective,
		  int single_root);
long double tree_score(const double *w, int64_t ld, const int64_t *heads,
		       int64_t n);
/* Enumerates every tree of the kind over w (row stride ld). */
void tree_brute_run(tree_brute *b, const double *w, int64_t n, int64_t ld,
		    int projective, int single_root);
void tree_brute_free(tree_brute *b);
/* Index of heads in b->trees, -1 if absent. */
int64_t tree_brute_find(const tree_brute *b, const int64_t *heads);

/* Draws in tree_check_fit (and the tests' other sample counts). */
#define TREE_FIT_DRAWS 20000

typedef void (*tree_sampler)(const ssi_tree *t, void *ws, ss_rng *rng,
			     int64_t *heads);

/*
 * TREE_FIT_DRAWS samples of t (sample s from the stream (seed, 3, s), after the
 * sampler's preparation logz = log Z left in ws) fit the enumerated
 * distribution b by a chi-square test at 0.999; each sample is a tree of
 * the kind with score - log Z its brute-force log-probability; trees of
 * probability 0 never come.
 */
void tree_check_fit(const ssi_tree *t, void *ws, double logz,
		    tree_sampler sample, uint64_t seed, const tree_brute *b,
		    const char *label);

#endif
