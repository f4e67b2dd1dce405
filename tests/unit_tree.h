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

/* ---- random kernel problems --------------------------------------------- */

/* Bytes after a tprob's workspace that must stay untouched. */
#define TPROB_CANARY 256

/* A random problem for a tree kernel: scores w [n, ld] (NaN where never
 * read: column 0, the diagonal, columns >= n), a workspace of ws_bytes
 * followed by a canary. */
typedef struct tprob {
	int64_t n, ld;
	int mode;
	double *w;
	void *ws;
	size_t ws_bytes;
	ssi_tree t;
	char label[128];
} tprob;

/* The score of arc h -> d under a test file's score mode. */
typedef double (*tree_draw)(unit_rng *r, int mode, int64_t h, int64_t d);

/* Scores of mode (named mode_name in the label) from draw, each used arc
 * -inf with probability pinf, seeded by seed. */
void tprob_make(tprob *p, int64_t n, int64_t ld, int single_root, int mode,
		const char *mode_name, double pinf, uint64_t seed,
		tree_draw draw, size_t ws_bytes);
void tprob_free(tprob *p);
/* CHECKs that no kernel wrote past the workspace. */
void tprob_check_canary(const tprob *p);
/* 1 if heads[0 .. n-1] are all -1. */
int heads_all_none(const int64_t *heads, int64_t n);

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
