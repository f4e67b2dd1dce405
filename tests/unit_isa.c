/*
 * unit_isa.c - every instruction set this CPU runs (lib/isa.c) gives the
 * results of the scalar set: log Z, marginals, entropy, the best structure
 * and its score, and samples, on linear chains and on the four kinds of
 * directed spanning tree (projective or not, single root or not).
 * (tests/run.sh also runs the whole unit suite once per set.)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define PROBLEMS 12
#define SAMPLES 4
#define ISA_RTOL 1e-11

/* The results of one element under one set. */
typedef struct results {
	double logz, entropy, score, lp[SAMPLES];
	double *mu, *best, *samples;
} results;

/* A random element of s with the given options: chains n <= 9, t <= 4;
 * trees n <= 12, scores N(0, 2) with some arcs -inf. */
static ss_element make_element(const ss_structure *s, unit_rng *r,
			       const int64_t *options, double *theta)
{
	ss_element e;
	int tree = s->n_options > 0;
	int64_t n = urng_int(r, 1, tree ? 12 : 9), t = tree ? n : urng_int(r, 1, 4);
	int64_t size;
	memset(&e, 0, sizeof e);
	e.dim[SS_DIM_N] = n;
	e.dim[SS_DIM_T] = t;
	for (int k = 0; k < s->n_options; k++)
		e.option[k] = options[k];
	size = ss_event_size(s, e.dim);
	for (int64_t k = 0; k < size; k++)
		theta[k] = urng_uniform(r) < 0.1 ? -INFINITY
						 : 2.0 * urng_normal(r);
	e.input[0].data = theta;
	e.index = urng_int(r, 0, 1000);
	return e;
}

static void run(const ss_structure *s, const ss_element *e, results *x)
{
	size_t ws_bytes = ss_workspace_bytes(s, SS_OP_COUNT, e->dim);
	void *ws = ws_alloc(ws_bytes);
	int64_t E = ss_event_size(s, e->dim);
	ss_error err;
	double logz;
	CHECK(ss_log_partition(s, e, ws, &x->logz, &err) == SS_OK &&
		      ss_marginals(s, e, ws, x->mu, &logz, &err) == SS_OK &&
		      ss_entropy(s, e, ws, &x->entropy, &err) == SS_OK &&
		      ss_argmax(s, e, ws, x->best, &x->score, &err) == SS_OK &&
		      ss_sample(s, e, ws, 7, SAMPLES, x->samples, (size_t)E,
				x->lp, 1, &err) == SS_OK,
	      "%s: an operation failed under %s: %s", s->name, ss_isa(),
	      err.message);
	free(ws);
}

static int close_to(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) && isnan(b);
	if (isinf(a) || isinf(b))
		return a == b;
	return fabs(a - b) <= ISA_RTOL * fmax(1.0, fmax(fabs(a), fabs(b)));
}

/* Compares set isa's results with the scalar set's on one element. */
static void compare(const ss_structure *s, const ss_element *e,
		    const char *isa, const results *want, results *got)
{
	int64_t E = ss_event_size(s, e->dim);
	int same_mu = 1, same_best = 1, same_samples = 1;
	ss_isa_select(isa, NULL);
	run(s, e, got);
	for (int64_t k = 0; k < E; k++) {
		same_mu &= close_to(got->mu[k], want->mu[k]);
		same_best &= got->best[k] == want->best[k];
	}
	for (int64_t k = 0; k < SAMPLES * E; k++)
		same_samples &= got->samples[k] == want->samples[k];
	CHECK(close_to(got->logz, want->logz) &&
		      close_to(got->entropy, want->entropy) &&
		      close_to(got->score, want->score),
	      "%s n=%lld under %s: log Z %.17g, H %.17g, best %.17g; scalar %.17g, %.17g, %.17g",
	      s->name, (long long)e->dim[SS_DIM_N], isa, got->logz,
	      got->entropy, got->score, want->logz, want->entropy,
	      want->score);
	CHECK(same_mu, "%s under %s: marginals differ from scalar's",
	      s->name, isa);
	CHECK(same_best, "%s under %s: another best structure", s->name, isa);
	CHECK(same_samples, "%s under %s: other samples from the same seed",
	      s->name, isa);
	for (int k = 0; k < SAMPLES; k++)
		CHECK(close_to(got->lp[k], want->lp[k]),
		      "%s under %s: sample %d log-prob %.17g, scalar %.17g",
		      s->name, isa, k, got->lp[k], want->lp[k]);
}

void suite_isa(void)
{
	static const int64_t tree_options[4][3] = {
		{1, 0, 0}, {1, 0, 1}, {1, 1, 0}, {1, 1, 1}};
	const char *const *built = ss_isa_built();
	const char *initial = ss_isa();
	const ss_structure *chain = ss_structure_find("linear-chain");
	const ss_structure *tree = ss_structure_find("spanning-tree");
	const size_t big = 12 * 12 * SAMPLES;
	results want, got;
	double theta[4 * 9 * 16 > 144 ? 4 * 9 * 16 : 144];
	unit_rng r;
	int compared = 0;

	want.mu = malloc(big * sizeof(double));
	want.best = malloc(big * sizeof(double));
	want.samples = malloc(big * sizeof(double));
	got.mu = malloc(big * sizeof(double));
	got.best = malloc(big * sizeof(double));
	got.samples = malloc(big * sizeof(double));
	unit_begin();
	urng_seed(&r, 20261204u);
	for (int v = -1; v < 4; v++) {
		const ss_structure *s = v < 0 ? chain : tree;
		for (int p = 0; p < PROBLEMS; p++) {
			ss_element e = make_element(s, &r, v < 0 ? NULL
							  : tree_options[v],
						    theta);
			ss_isa_select(built[0], NULL);
			run(s, &e, &want);
			for (int k = 1; built[k]; k++)
				if (ss_isa_runs(built[k])) {
					compare(s, &e, built[k], &want, &got);
					compared++;
				}
		}
	}
	ss_isa_select(initial, NULL);
	CHECK(1, "one set only");
	unit_note("%d comparisons against %s; in use: %s", compared, built[0],
		  initial);
	unit_end("isa: every instruction set this CPU runs gives the %s set's log Z, marginals and entropy (to 1e-11), best structure and samples (exactly) on linear chains and the four directed spanning-tree kinds",
		 built[0]);
	free(want.mu);
	free(want.best);
	free(want.samples);
	free(got.mu);
	free(got.best);
	free(got.samples);
}
