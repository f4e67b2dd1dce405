/*
 * unit_chain.c - linear-chain: exact results against brute force, and
 * marginals as the gradient of log Z (central finite differences).
 */
#include <math.h>
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
	rc = p->s->log_partition(e, p->ws, &logz, &err);
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
	    !CHECK(p->s->marginals(&e, p->ws, m, &logz, &err) == SS_OK,
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

void suite_chain(void)
{
	gen_opts o = gen_random;

	exact_suite(PK_CHAIN, 100);

	o.mode = PM_NORMAL;
	o.pinf = 0.1;
	unit_begin();
	for_random_problems(PK_CHAIN, &o, 60, 23, check_gradient, NULL);
	unit_end("linear-chain: marginals = d log Z / d theta by central differences (h = %g, tol %g, 60 problems)",
		 FD_H, FD_TOL);
}
