/*
 * unit_tree_brute.c - every dependency tree of a small problem, by
 * enumerating all (n-1)^(n-1) head assignments and keeping the trees.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_tree.h"

int tree_is_valid(const int64_t *heads, int64_t n, int projective,
		  int single_root)
{
	int64_t root_children = 0;
	if (heads[0] != -1)
		return 0;
	for (int64_t d = 1; d < n; d++) {
		int64_t h = heads[d], steps = 0;
		if (h < 0 || h >= n || h == d)
			return 0;
		root_children += h == 0;
		/* Following heads from d must reach 0 within n steps. */
		for (int64_t v = d; v != 0; v = heads[v])
			if (++steps > n)
				return 0;
	}
	if (single_root && root_children != 1)
		return 0;
	if (projective)
		for (int64_t a = 1; a < n; a++)
			for (int64_t b = 1; b < n; b++) {
				int64_t l1 = heads[a] < a ? heads[a] : a;
				int64_t r1 = heads[a] < a ? a : heads[a];
				int64_t l2 = heads[b] < b ? heads[b] : b;
				int64_t r2 = heads[b] < b ? b : heads[b];
				if (l1 < l2 && l2 < r1 && r1 < r2)
					return 0;
			}
	return 1;
}

long double tree_score(const double *w, int64_t ld, const int64_t *heads,
		       int64_t n)
{
	long double s = 0;
	for (int64_t d = 1; d < n; d++)
		s += w[heads[d] * ld + d];
	return s;
}

void tree_brute_run(tree_brute *b, const double *w, int64_t n, int64_t ld,
		    int projective, int single_root)
{
	int64_t total = 1, *heads = calloc((size_t)n, sizeof *heads);
	memset(b, 0, sizeof *b);
	b->n = n;
	for (int64_t d = 1; d < n; d++)
		total *= n - 1;
	b->trees = malloc((size_t)(total * n + 1) * sizeof *b->trees);
	b->scores = malloc((size_t)(total + 1) * sizeof *b->scores);
	b->best = calloc((size_t)n, sizeof *b->best);
	b->marg = calloc((size_t)(n * n), sizeof *b->marg);
	for (int64_t code = 0; code < total; code++) {
		int64_t c = code;
		heads[0] = -1;
		for (int64_t d = 1; d < n; d++) {
			/* Digits in [0, n-2] map to heads skipping d. */
			int64_t h = c % (n - 1);
			c /= n - 1;
			heads[d] = h >= d ? h + 1 : h;
		}
		if (!tree_is_valid(heads, n, projective, single_root))
			continue;
		memcpy(b->trees + b->all * n, heads, (size_t)n * sizeof *heads);
		b->scores[b->all++] = tree_score(w, ld, heads, n);
	}
	b->max = -INFINITY;
	b->logz = -INFINITY;
	for (int64_t k = 0; k < b->all; k++)
		if (b->scores[k] > b->max) {
			b->max = b->scores[k];
			memcpy(b->best, b->trees + k * n, (size_t)n * sizeof *heads);
		}
	if (b->max == -INFINITY) {
		for (int64_t d = 0; d < n; d++)
			b->best[d] = -1;
		b->entropy = NAN;
		free(heads);
		return;
	}
	long double sum = 0, second = -INFINITY, ent = 0;
	int seen_best = 0;
	for (int64_t k = 0; k < b->all; k++) {
		if (b->scores[k] == -INFINITY)
			continue;
		b->count++;
		sum += expl(b->scores[k] - b->max);
		if (b->scores[k] == b->max && !seen_best)
			seen_best = 1;
		else if (b->scores[k] > second)
			second = b->scores[k];
	}
	b->logz = b->max + logl(sum);
	b->unique = second == -INFINITY ||
		    b->max - second > RTOL * fmaxl(1, fabsl(b->max));
	for (int64_t k = 0; k < b->all; k++) {
		long double lp = b->scores[k] - b->logz;
		if (b->scores[k] == -INFINITY)
			continue;
		ent -= expl(lp) * lp;
		for (int64_t d = 1; d < n; d++)
			b->marg[b->trees[k * n + d] * n + d] += (double)expl(lp);
	}
	b->entropy = (double)ent;
	free(heads);
}

void tree_brute_free(tree_brute *b)
{
	free(b->trees);
	free(b->scores);
	free(b->best);
	free(b->marg);
	memset(b, 0, sizeof *b);
}

int64_t tree_brute_find(const tree_brute *b, const int64_t *heads)
{
	for (int64_t k = 0; k < b->all; k++)
		if (!memcmp(b->trees + k * b->n, heads,
			    (size_t)b->n * sizeof *heads))
			return k;
	return -1;
}

void tree_check_fit(const ssi_tree *t, void *ws, double logz,
		    tree_sampler sample, uint64_t seed, const tree_brute *b,
		    const char *label)
{
	const int64_t draws = TREE_FIT_DRAWS;
	long *counts = calloc((size_t)b->all + 1, sizeof *counts);
	chi2_cell *cells = calloc((size_t)b->all + 1, sizeof *cells);
	int64_t *heads = calloc((size_t)t->n, sizeof *heads);
	long bad = 0, lp_bad = 0;
	int n_cells = 0;

	for (int64_t s = 0; s < draws; s++) {
		ss_rng rng;
		int64_t k;
		double lp, want;

		ss_rng_init(&rng, seed, 3, s);
		sample(t, ws, &rng, heads);
		k = tree_brute_find(b, heads);
		if (k < 0) {
			if (bad++ == 0)
				CHECK(0, "sample %lld is not a tree of the kind",
				      (long long)s);
			continue;
		}
		counts[k]++;
		lp = (double)tree_score(t->w, t->ld, heads, t->n) - logz;
		want = (double)(b->scores[k] - b->logz);
		if (!unit_close(lp, want, RTOL) && lp_bad++ == 0)
			CHECK_CLOSE_AT(lp, want, RTOL,
				       "log-prob of sample %lld (the first off)",
				       (long long)s);
	}
	CHECK(bad == 0, "%ld samples are not trees", bad);
	CHECK(lp_bad == 0, "%ld samples have score - log Z off", lp_bad);
	for (int64_t k = 0; k < b->all; k++) {
		if (isinf(b->scores[k])) {
			CHECK(counts[k] == 0,
			      "tree %lld of probability 0 drawn %ld times",
			      (long long)k, counts[k]);
			continue;
		}
		cells[n_cells].expected =
			(double)draws * (double)expl(b->scores[k] - b->logz);
		cells[n_cells++].observed = counts[k];
	}
	chi2_check(cells, n_cells, label);
	free(heads);
	free(counts);
	free(cells);
}

void tprob_make(tprob *p, int64_t n, int64_t ld, int single_root, int mode,
		const char *mode_name, double pinf, uint64_t seed,
		tree_draw draw, size_t ws_bytes)
{
	unit_rng r;

	urng_seed(&r, seed);
	p->n = n;
	p->ld = ld;
	p->mode = mode;
	p->w = malloc(sizeof *p->w * (size_t)(n * ld));
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < ld; d++) {
			double x = NAN;

			if (d > 0 && d < n && d != h) {
				x = draw(&r, mode, h, d);
				if (pinf > 0 && urng_uniform(&r) < pinf)
					x = -INFINITY;
			}
			p->w[h * ld + d] = x;
		}
	p->ws_bytes = ws_bytes;
	p->ws = ws_alloc(p->ws_bytes + TPROB_CANARY);
	memset((char *)p->ws + p->ws_bytes, 0xa5, TPROB_CANARY);
	p->t = (ssi_tree){p->w, n, ld, single_root, SSI_SAMPLER_AUTO};
	snprintf(p->label, sizeof p->label, "n=%lld ld=%lld %s %s pinf=%g",
		 (long long)n, (long long)ld,
		 single_root ? "single-root" : "multi-root", mode_name, pinf);
}

void tprob_free(tprob *p)
{
	free(p->w);
	free(p->ws);
}

void tprob_check_canary(const tprob *p)
{
	const unsigned char *c = (const unsigned char *)p->ws + p->ws_bytes;
	int ok = 1;

	for (int k = 0; k < TPROB_CANARY; k++)
		ok &= c[k] == 0xa5;
	CHECK(ok, "a kernel wrote past the workspace of %zu bytes",
	      p->ws_bytes);
}

int heads_all_none(const int64_t *heads, int64_t n)
{
	int ok = 1;

	for (int64_t d = 0; d < n; d++)
		ok &= heads[d] == -1;
	return ok;
}
