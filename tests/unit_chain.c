/*
 * unit_chain.c - linear-chain beyond the conformance suite
 * (tests/unit_conformance.c): the entropy at large scales, and marginals as
 * the gradient of log Z (central finite differences) on more problems.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define FD_H 1e-5
#define FD_TOL 1e-6

/* log Z of e with potential k of lp moved by delta. */
static double logz_moved(const problem *p, ss_element *e, double *lp,
			 int64_t k, double delta)
{
	double saved = lp[k], logz = NAN;
	ss_error err = {0};
	int rc;

	lp[k] = saved + delta;
	rc = ss_log_partition(p->s, e, p->ws, &logz, &err);
	lp[k] = saved;
	CHECK(rc == SS_OK, "log_partition returned %d (%s)", rc, err.message);
	return logz;
}

/* d log Z / d theta[i, a, c] = marginals[i, a, c] for every finite entry,
 * padding and ignored rows included (both sides 0 there). */
static void check_gradient(const problem *p, const brute *b, void *arg)
{
	int64_t size = problem_event_size(p), t = p->t;
	double *lp = malloc(sizeof *lp * (size_t)(size + 1));
	double *m = calloc((size_t)size + 1, sizeof *m), logz;
	ss_element e = p->e;
	ss_error err = {0};

	(void)arg;
	memcpy(lp, p->lp, sizeof *lp * (size_t)size);
	e.input[input_index(p->s, "log_potentials")] = lp;
	if (isinf(b->logz) ||
	    !CHECK(ss_marginals(p->s, &e, p->ws, m, &logz, &err) == SS_OK,
		   "marginals failed: %s", err.message))
		goto done;
	for (int64_t k = 0; k < size; k++) {
		double d;

		if (isinf(lp[k]))
			continue;
		d = (logz_moved(p, &e, lp, k, FD_H) -
		     logz_moved(p, &e, lp, k, -FD_H)) / (2 * FD_H);
		CHECK_CLOSE_AT(d, m[k], FD_TOL,
			       "d log Z / d theta[%lld, %lld, %lld] vs marginal",
			       (long long)(k / (t * t)), (long long)(k / t % t),
			       (long long)(k % t));
	}
done:
	free(lp);
	free(m);
}

/* A problem of kind with every used input N(0, 1) * scale (hmm: the
 * logits), seeded by seed. */
static void scaled_problem(problem *p, problem_kind kind, int64_t n,
			   int64_t t, int64_t V, double scale, uint64_t seed)
{
	unit_rng r;

	urng_seed(&r, seed);
	problem_alloc(p, kind, n, t, V);
	if (kind == PK_CHAIN) {
		for (int64_t k = 0; k < n * t * t; k++)
			p->lp[k] = scale * urng_normal(&r);
	} else {
		for (int64_t k = 0; k < t; k++)
			p->init[k] = scale * urng_normal(&r);
		for (int64_t k = 0; k < t * t; k++)
			p->trans[k] = scale * urng_normal(&r);
		for (int64_t k = 0; k < t * V; k++)
			p->emis[k] = scale * urng_normal(&r);
		for (int64_t i = 0; i < n; i++)
			p->obs[i] = urng_int(&r, 0, V - 1);
	}
	problem_setup(p);
}

/*
 * An entropy is never negative: seeded chains (and hmms) of n = 20
 * positions, t = 5 tags, inputs N(0, 1) times 100, 1000 and 1e4 (the
 * issue: about -6e-12 at 100); and it equals brute force at those
 * scales on problems small enough to enumerate.
 */
void entropy_scale_groups(problem_kind kind)
{
	static const double scales[] = {100.0, 1000.0, 1e4};
	const char *name = problem_kind_names[kind];

	unit_begin();
	for (int k = 0; k < 3; k++) {
		int negative = 0;
		double lowest = INFINITY;
		char first[64] = "";

		for (uint64_t seed = 1; seed <= 300; seed++) {
			problem p;
			double h = NAN;
			ss_error err = {0};

			scaled_problem(&p, kind, 20, 5, 7, scales[k], seed);
			CHECK(ss_entropy(p.s, &p.e, p.ws, &h, &err) == SS_OK,
			      "entropy failed: %s", err.message);
			if (!(h >= 0.0) && negative++ == 0)
				snprintf(first, sizeof first, "seed %llu: %.3g",
					 (unsigned long long)seed, h);
			lowest = fmin(lowest, h);
			problem_free(&p);
		}
		unit_context("scale %g", scales[k]);
		CHECK(negative == 0, "%d of 300 entropies are negative (first %s)",
		      negative, first);
		unit_note("scale %g: smallest entropy %.3g", scales[k], lowest);
	}
	unit_end("%s: entropy >= 0 for 300 seeded problems of n = 20, t = 5, inputs N(0, 1) x 100, 1000, 1e4",
		 name);

	unit_begin();
	for (int k = 0; k < 3; k++)
		for (uint64_t seed = 1; seed <= 40; seed++) {
			problem p;
			brute b;
			double h = NAN;
			ss_error err = {0};
			int64_t n = 3 + (int64_t)(seed % 5), t = 2 + (int64_t)(seed % 3);

			scaled_problem(&p, kind, n, t, 3, scales[k], 1000 + seed);
			unit_context("%s scale %g (seed %llu)", p.label, scales[k],
				     (unsigned long long)seed);
			brute_run(&b, p.theta, p.n, p.t, p.len);
			CHECK(ss_entropy(p.s, &p.e, p.ws, &h, &err) == SS_OK,
			      "entropy failed: %s", err.message);
			CHECK_CLOSE_AT(h, b.entropy, RTOL, "entropy");
			brute_free(&b);
			problem_free(&p);
		}
	unit_end("%s: entropy equals brute force with inputs N(0, 1) x 100, 1000, 1e4 (n = 3..7, t = 2..4, 120 problems)",
		 name);
}

void suite_chain(void)
{
	gen_opts o = gen_random;

	entropy_scale_groups(PK_CHAIN);

	o.mode = PM_NORMAL;
	o.pinf = 0.1;
	unit_begin();
	for_random_problems(PK_CHAIN, &o, 60, 23, check_gradient, NULL);
	unit_end("linear-chain: marginals = d log Z / d theta by central differences (h = %g, tol %g, 60 problems)",
		 FD_H, FD_TOL);
}
