/*
 * unit_sample.c - exact samplers: chi-square goodness of fit against the
 * enumerated distribution, log_prob of every sample, and sampling as a pure
 * function of (seed, element index, sample index).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define DRAWS 20000
#define SEED 20240607u

/* Draws num samples of p with seed. */
static int draw(const problem *p, uint64_t seed, int64_t num, double *ev,
		double *lp)
{
	ss_error err = {0};
	int64_t size = problem_event_size(p);
	int rc = ss_sample(p->s, &p->e, p->ws, seed, num, ev, (size_t)size, lp,
			      1, &err);

	return CHECK(rc == SS_OK, "sample returned %d (%s)", rc, err.message);
}

static void check_fit(const problem *p, const brute *b, const double *ev,
		      const double *lp)
{
	int64_t size = problem_event_size(p), tags[8];
	long *counts = calloc((size_t)b->count, sizeof *counts);
	chi2_cell *cells = calloc((size_t)b->count, sizeof *cells);
	int n_cells = 0;
	long bad = 0, lp_bad = 0;

	for (int64_t s = 0; s < DRAWS; s++) {
		const char *why;

		if (event_tags(ev + s * size, p->n, p->t, p->len, tags, &why) !=
		    EVENT_STRUCTURE) {
			if (bad++ == 0)
				CHECK(0, "sample %lld is not a structure: %s",
				      (long long)s, why);
			continue;
		}
		int64_t code = brute_code(tags, p->t, p->len);
		counts[code]++;
		if (!unit_close(lp[s], (double)(b->scores[code] - b->logz), RTOL) &&
		    lp_bad++ == 0)
			CHECK_CLOSE_AT(lp[s], (double)(b->scores[code] - b->logz),
				       RTOL, "log_prob of sample %lld (first of the wrong ones)",
				       (long long)s);
	}
	CHECK(bad == 0, "%ld samples are not structures", bad);
	CHECK(lp_bad == 0, "%ld samples have log_prob != score - log Z", lp_bad);
	for (int64_t k = 0; k < b->count; k++) {
		double e = DRAWS * (double)expl(b->scores[k] - b->logz);

		if (isinf(b->scores[k])) {
			CHECK(counts[k] == 0,
			      "sequence %lld of probability 0 drawn %ld times",
			      (long long)k, counts[k]);
			continue;
		}
		cells[n_cells].expected = e;
		cells[n_cells++].observed = counts[k];
	}
	chi2_check(cells, n_cells, p->label);
	free(counts);
	free(cells);
}

static int same_draws(const double *x, const double *xl, const double *y,
		      const double *yl, int64_t size, int64_t num)
{
	return !memcmp(x, y, sizeof(double) * (size_t)(size * num)) &&
	       !memcmp(xl, yl, sizeof(double) * (size_t)num);
}

static void check_purity(const problem *p, const double *ev, const double *lp)
{
	enum { FEW = 7, CMP = 200 };
	int64_t size = problem_event_size(p);
	double *ev2 = calloc((size_t)(size * DRAWS), sizeof(double));
	double *lp2 = calloc(DRAWS, sizeof(double));
	ss_element other = p->e;
	ss_error err = {0};

	if (draw(p, SEED, 1, ev2, lp2))
		CHECK(same_draws(ev, lp, ev2, lp2, size, 1),
		      "sample 0 drawn alone differs from sample 0 of the batch");
	if (draw(p, SEED, FEW, ev2, lp2))
		CHECK(same_draws(ev, lp, ev2, lp2, size, FEW),
		      "the first %d samples of %d differ from %d drawn alone",
		      FEW, DRAWS, FEW);
	if (draw(p, SEED, DRAWS, ev2, lp2))
		CHECK(same_draws(ev, lp, ev2, lp2, size, DRAWS),
		      "two calls with the same seed differ");
	if (draw(p, SEED + 1, CMP, ev2, lp2))
		CHECK(!same_draws(ev, lp, ev2, lp2, size, CMP),
		      "seeds %u and %u give the same %d samples", SEED,
		      SEED + 1, CMP);
	other.index = p->e.index + 1;
	if (CHECK(ss_sample(p->s, &other, p->ws, SEED, CMP, ev2, (size_t)size,
			       lp2, 1, &err) == SS_OK,
		  "sample failed: %s", err.message))
		CHECK(!same_draws(ev, lp, ev2, lp2, size, CMP),
		      "element indices %lld and %lld give the same %d samples",
		      (long long)p->e.index, (long long)other.index, CMP);
	free(ev2);
	free(lp2);
}

static void sample_problem(problem *p, problem_kind kind)
{
	gen_opts o = gen_random;

	o.n = 3;
	o.t = 3;
	o.V = 2;
	o.len = 3;
	o.mode = PM_NORMAL;
	o.pinf = 0.0;
	problem_random(p, kind, &o, 31337);
	if (kind == PK_CHAIN) /* forbid the edge tag 2 -> tag 0 at position 1 */
		p->lp[(1 * 3 + 2) * 3 + 0] = -INFINITY;
	problem_setup(p);
	p->e.index = 5;
}

void suite_sample(void)
{
	for (problem_kind kind = PK_CHAIN; kind < PK_COUNT; kind++) {
		problem p;
		brute b;
		int64_t size;
		double *ev, *lp;

		sample_problem(&p, kind);
		size = problem_event_size(&p);
		ev = calloc((size_t)(size * DRAWS), sizeof(double));
		lp = calloc(DRAWS, sizeof(double));
		brute_run(&b, p.theta, p.n, p.t, p.len);

		unit_begin();
		unit_context("%s", p.label);
		if (draw(&p, SEED, DRAWS, ev, lp))
			check_fit(&p, &b, ev, lp);
		unit_end("sample: %s, t = 3, n = 3: %d draws pass chi-square at 0.999 against the %lld enumerated structures; log_prob = score - log Z",
			 problem_kind_names[kind], DRAWS, (long long)b.count);

		unit_begin();
		unit_context("%s", p.label);
		check_purity(&p, ev, lp);
		unit_end("sample: %s: a pure function of (seed, element, sample): sample 0 alone = in a batch, prefixes agree, repeatable, seed and element matter",
			 problem_kind_names[kind]);

		brute_free(&b);
		free(ev);
		free(lp);
		problem_free(&p);
	}
}
