/*
 * unit_hmm.c - hmm beyond the conformance suite (tests/unit_conformance.c):
 * hand-worked dead ends, the identity hmm = the linear chain it builds,
 * emission-score gradients, and lower_grad against central differences.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define SALT 29

/* The results of one structure on one problem. */
typedef struct results {
	int ok;
	double logz, max, entropy;
	double *marg, *argmax;
} results;

static void results_get(results *r, const problem *p)
{
	int64_t size = problem_event_size(p);
	ss_error err = {0};
	double logz2 = NAN;

	r->marg = calloc((size_t)size + 1, sizeof(double));
	r->argmax = calloc((size_t)size + 1, sizeof(double));
	r->ok = ss_log_partition(p->s, &p->e, p->ws, &r->logz, &err) == SS_OK &&
		ss_marginals(p->s, &p->e, p->ws, r->marg, &logz2, &err) == SS_OK &&
		ss_argmax(p->s, &p->e, p->ws, r->argmax, &r->max, &err) == SS_OK &&
		ss_entropy(p->s, &p->e, p->ws, &r->entropy, &err) == SS_OK;
	CHECK(r->ok, "%s failed: %s", p->s->name, err.message);
}

static void results_free(results *r)
{
	free(r->marg);
	free(r->argmax);
}

static void check_identity(const problem *p, const brute *b, void *arg)
{
	problem q;
	results h, c;
	int64_t size = problem_event_size(p);

	(void)arg;
	problem_chain_of(&q, p);
	results_get(&h, p);
	results_get(&c, &q);
	if (h.ok && c.ok) {
		CHECK_CLOSE_AT(h.logz, c.logz, RTOL, "log Z hmm vs chain");
		CHECK_CLOSE_AT(h.entropy, c.entropy, RTOL, "entropy hmm vs chain");
		CHECK_CLOSE_AT(h.max, c.max, RTOL, "argmax score hmm vs chain");
		for (int64_t k = 0; k < size; k++)
			CHECK_CLOSE_AT(h.marg[k], c.marg[k], RTOL,
				       "marginals[%lld] hmm vs chain", (long long)k);
		if (b->unique || isinf(b->max))
			CHECK(!memcmp(h.argmax, c.argmax, sizeof(double) * (size_t)size),
			      "argmax events differ (the best is unique)");
	}
	results_free(&h);
	results_free(&c);
	problem_free(&q);
}

/* d log Z / d emission_scores[i, c] = sum_a marginals[i, a, c]. */
static void check_emission_gradient(const problem *p, const brute *b, void *arg)
{
	const double h = 1e-5;
	int64_t t = p->t, size = problem_event_size(p);
	double *es = malloc(sizeof(double) * (size_t)(p->n * t + 1));
	double *m = calloc((size_t)size + 1, sizeof(double)), logz;
	ss_element e = p->e;
	ss_error err = {0};

	(void)arg;
	memcpy(es, p->escores, sizeof(double) * (size_t)(p->n * t));
	e.input[input_index(p->s, "emission_scores")].data = es;
	if (isinf(b->logz) ||
	    !CHECK(ss_marginals(p->s, &e, p->ws, m, &logz, &err) == SS_OK,
		   "marginals failed: %s", err.message))
		goto done;
	for (int64_t k = 0; k < p->n * t; k++) {
		double saved = es[k], up = NAN, down = NAN, want = 0.0;

		if (isinf(saved))
			continue;
		es[k] = saved + h;
		ss_log_partition(p->s, &e, p->ws, &up, &err);
		es[k] = saved - h;
		ss_log_partition(p->s, &e, p->ws, &down, &err);
		es[k] = saved;
		for (int64_t a = 0; a < t; a++)
			want += m[(k / t * t + a) * t + k % t];
		CHECK_CLOSE_AT((up - down) / (2 * h), want, 1e-6,
			       "d log Z / d emission_scores[%lld, %lld]",
			       (long long)(k / t), (long long)(k % t));
	}
done:
	free(es);
	free(m);
}

/* Hand-worked HMMs with a row entirely -inf (a dead-end state), t = 2,
 * V = 2, n = 2, observations (0, 1), all other logits 0 so that every
 * normalised probability is 1/2 (or 1 where a row has one live entry). */
static const struct dead_case {
	const char *what;
	problem_kind kind;
	double trans[4], emis[4];
	double logz, entropy;
	double marg[8]; /* [2, 2, 2] */
} dead_cases[] = {
	{"transition row 1 all -inf", PK_HMM_LOGITS,
	 {0, 0, -INFINITY, -INFINITY}, {0, 0, 0, 0},
	 -3 * 0.69314718055994531, 0.69314718055994531, /* (0,0), (0,1) */
	 {1, 0, 0, 0, 0.5, 0.5, 0, 0}},
	{"emission row 1 all -inf", PK_HMM_LOGITS,
	 {0, 0, 0, 0}, {0, 0, -INFINITY, -INFINITY},
	 -4 * 0.69314718055994531, 0, /* only (0,0) */
	 {1, 0, 0, 0, 1, 0, 0, 0}},
	{"transition row 1 all -inf (emission_scores log 1/2)", PK_HMM_SCORES,
	 {0, 0, -INFINITY, -INFINITY}, {0},
	 -3 * 0.69314718055994531, 0.69314718055994531,
	 {1, 0, 0, 0, 0.5, 0.5, 0, 0}},
};

static void check_dead_case(const struct dead_case *d)
{
	problem p;
	double logz = NAN, h = NAN, m[8], z2;
	ss_error err = {0};
	brute b;

	problem_alloc(&p, d->kind, 2, 2, 2);
	memcpy(p.trans, d->trans, sizeof d->trans);
	if (p.emis) {
		memcpy(p.emis, d->emis, sizeof d->emis);
		p.obs[0] = 0;
		p.obs[1] = 1;
	} else {
		for (int k = 0; k < 4; k++)
			p.escores[k] = -0.69314718055994531;
	}
	problem_setup(&p);
	unit_context("%s: %s", p.label, d->what);
	check_valid(&p);
	brute_run(&b, p.theta, p.n, p.t, p.len);
	CHECK_CLOSE_AT((double)b.logz, d->logz, RTOL, "brute-force log Z");
	brute_free(&b);
	CHECK(ss_log_partition(p.s, &p.e, p.ws, &logz, &err) == SS_OK &&
	      ss_marginals(p.s, &p.e, p.ws, m, &z2, &err) == SS_OK &&
	      ss_entropy(p.s, &p.e, p.ws, &h, &err) == SS_OK,
	      "an operation failed: %s", err.message);
	CHECK_CLOSE_AT(logz, d->logz, RTOL, "log Z");
	CHECK_CLOSE_AT(h, d->entropy, RTOL, "entropy");
	for (int k = 0; k < 8; k++)
		CHECK_CLOSE_AT(m[k], d->marg[k], RTOL, "marginals[%d, %d, %d]",
			       k / 4, k / 2 % 2, k % 2);
	problem_free(&p);
}

/*
 * lower_grad is the transpose of lower's Jacobian (tests/unit_lower_grad.c)
 * on random hmms: logits -inf now and then, a dead row of T or E (all
 * -inf) now and then, lengths below n with the rows of emission_scores
 * past them NaN, the emission normalisers prepared (ss_prepare) or not.
 * small: entry by entry too; else n = 24, t = 5, V = 40, directions only.
 */
static void check_lower_grads(problem_kind kind, int small, int count)
{
	unit_rng r;

	urng_seed(&r, SALT * 7919u + (uint64_t)kind * 31u + (uint64_t)small);
	for (int k = 0; k < count; k++) {
		gen_opts o = gen_random;
		problem p;
		ss_element e;
		void *buf = NULL;
		ss_error err = {0};

		o.mode = PM_NORMAL;
		o.pinf = 0.15;
		if (!small) {
			o.n = 24;
			o.t = 5;
			o.V = 40;
		}
		problem_random(&p, kind, &o, SALT * 100003u +
			       (uint64_t)kind * 1009u + (uint64_t)small * 503u +
			       (uint64_t)k);
		unit_context("%s (problem %d)", p.label, k);
		if (urng_uniform(&r) < 0.3)
			for (int64_t c = 0, a = urng_int(&r, 0, p.t - 1); c < p.t; c++)
				p.trans[a * p.t + c] = -INFINITY;
		if (p.emis && urng_uniform(&r) < 0.3)
			for (int64_t v = 0, c = urng_int(&r, 0, p.t - 1); v < p.V; v++)
				p.emis[c * p.V + v] = -INFINITY;
		for (int64_t i = p.len; p.escores && i < p.n; i++)
			for (int64_t c = 0; c < p.t; c++)
				p.escores[i * p.t + c] = NAN;
		e = p.e;
		if (p.emis && k % 2) {
			buf = ws_alloc(ss_prepare_bytes(p.s, e.dim));
			CHECK(ss_prepare(p.s, &e, buf, &err) == SS_OK,
			      "ss_prepare: %s", err.message);
		}
		if (check_valid(&p))
			check_lower_grad(p.s, &e, NULL, &r, 4, small);
		free(buf);
		problem_free(&p);
	}
}

void suite_hmm(void)
{
	gen_opts o = gen_random;

	unit_begin();
	for (size_t k = 0; k < sizeof dead_cases / sizeof dead_cases[0]; k++)
		check_dead_case(&dead_cases[k]);
	unit_end("hmm: a logits row entirely -inf stays -inf (dead-end state): hand-worked log Z, marginals, entropy");

	entropy_scale_groups(PK_HMM_LOGITS);

	for (problem_kind kind = PK_HMM_LOGITS; kind <= PK_HMM_SCORES; kind++) {
		unit_begin();
		for_random_problems(kind, NULL, 60, SALT, check_identity, NULL);
		unit_end("%s: log Z, marginals, argmax and entropy equal those of the linear-chain it builds (180 problems)",
			 problem_kind_names[kind]);
	}

	o.mode = PM_NORMAL;
	o.pinf = 0.1;
	unit_begin();
	for_random_problems(PK_HMM_SCORES, &o, 60, SALT, check_emission_gradient,
			    NULL);
	unit_end("hmm: d log Z / d emission_scores[i, c] = sum_a marginals[i, a, c] by central differences (60 problems)");

	for (problem_kind kind = PK_HMM_LOGITS; kind <= PK_HMM_SCORES; kind++) {
		unit_begin();
		check_lower_grads(kind, 1, 60);
		check_lower_grads(kind, 0, 4);
		unit_end("%s: lower_grad is the transpose of lower's Jacobian: central differences along random directions and entry by entry, 0 where never read or -inf, no NaN (64 problems)",
			 problem_kind_names[kind]);
	}
}
