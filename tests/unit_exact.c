/*
 * unit_exact.c - every exact operation of a structure against brute force,
 * on many random small problems (t in 1..4, n in 0..6, random lengths,
 * potentials normal, spread over +-500 or all near 1e4, some -inf).
 * Shared by the linear-chain and hmm suites: both have [n, t, t] events.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define SALT 17

static double *event_alloc(const problem *p, int64_t count)
{
	return calloc((size_t)(problem_event_size(p) * count) + 1,
		      sizeof(double));
}

static void check_logz(const problem *p, const brute *b, void *arg)
{
	ss_error err = {0};
	double logz = NAN;
	int rc = p->s->log_partition(&p->e, p->ws, &logz, &err);

	(void)arg;
	if (CHECK(rc == SS_OK, "log_partition returned %d (%s)", rc,
		  err.message))
		CHECK_CLOSE_AT(logz, (double)b->logz, RTOL, "log Z");
}

static void check_marginals(const problem *p, const brute *b, void *arg)
{
	int64_t t = p->t, size = problem_event_size(p);
	double *m = event_alloc(p, 1), logz = NAN;
	ss_error err = {0};
	int rc = p->s->marginals(&p->e, p->ws, m, &logz, &err);

	(void)arg;
	if (CHECK(rc == SS_OK, "marginals returned %d (%s)", rc,
		  err.message)) {
		CHECK_CLOSE_AT(logz, (double)b->logz, RTOL,
			       "log Z of marginals()");
		for (int64_t k = 0; k < size; k++)
			CHECK_CLOSE_AT(m[k], b->marg[k], RTOL,
				       "marginals[%lld, %lld, %lld]",
				       (long long)(k / (t * t)),
				       (long long)(k / t % t), (long long)(k % t));
	}
	free(m);
}

/* The all-zero event, score -inf: what argmax gives without structure. */
static void check_empty_event(const problem *p, const double *ev,
			      const char *what)
{
	int64_t size = problem_event_size(p), nonzero = 0;

	for (int64_t k = 0; k < size; k++)
		nonzero += ev[k] != 0.0;
	CHECK(nonzero == 0, "%s: %lld non-zero entries, want the empty event",
	      what, (long long)nonzero);
}

static void check_argmax(const problem *p, const brute *b, void *arg)
{
	double *ev = event_alloc(p, 1), score = NAN, rescore = NAN;
	int64_t tags[64];
	const char *why;
	ss_error err = {0};
	int kind, rc = p->s->argmax(&p->e, p->ws, ev, &score, &err);

	(void)arg;
	if (!CHECK(rc == SS_OK, "argmax returned %d (%s)", rc, err.message))
		goto done;
	CHECK_CLOSE_AT(score, (double)b->max, RTOL, "argmax score");
	if (isinf(b->max)) {
		check_empty_event(p, ev, "argmax without structure");
		goto done;
	}
	kind = event_tags(ev, p->n, p->t, p->len, tags, &why);
	if (!CHECK(kind == EVENT_STRUCTURE, "argmax event is not a structure: %s",
		   why))
		goto done;
	CHECK_CLOSE_AT((double)brute_score(p->theta, p->t, p->len, tags),
		       (double)b->max, RTOL,
		       "brute-force score of the argmax event");
	if (b->unique)
		CHECK(brute_code(tags, p->t, p->len) == b->best,
		      "argmax event is sequence %lld, the unique best is %lld",
		      (long long)brute_code(tags, p->t, p->len),
		      (long long)b->best);
	rc = p->s->score(&p->e, p->ws, ev, &rescore, &err);
	if (CHECK(rc == SS_OK, "score(argmax) returned %d (%s)", rc,
		  err.message))
		CHECK_CLOSE_AT(rescore, score, RTOL, "score() of the argmax event");
done:
	free(ev);
}

static void check_entropy(const problem *p, const brute *b, void *arg)
{
	double h = -1.0;
	ss_error err = {0};
	int rc = p->s->entropy(&p->e, p->ws, &h, &err);

	(void)arg;
	if (CHECK(rc == SS_OK, "entropy returned %d (%s)", rc, err.message))
		CHECK_CLOSE_AT(h, b->entropy, RTOL, "entropy");
}

/* A uniformly random tag sequence of the problem's length. */
static void random_tags(unit_rng *r, const problem *p, int64_t *tags)
{
	for (int64_t i = 0; i < p->len; i++)
		tags[i] = urng_int(r, 0, p->t - 1);
}

static void check_decode(const problem *p, const brute *b, void *arg)
{
	double *ev = event_alloc(p, 1), score;
	int64_t tags[64], labels[64], want[64];
	int64_t *decodes[SS_MAX_DECODES] = {labels};
	ss_error err = {0};
	unit_rng r;

	(void)arg;
	(void)b;
	urng_seed(&r, (uint64_t)p->n * 31 + (uint64_t)p->len);
	/* trial 0: the argmax event, 1: the all-zero event, 2..: random */
	for (int trial = 0; trial < 6; trial++) {
		if (trial == 0) {
			if (p->s->argmax(&p->e, p->ws, ev, &score, &err))
				continue;
		} else if (trial == 1) {
			memset(ev, 0, sizeof(double) * (size_t)problem_event_size(p));
		} else {
			random_tags(&r, p, tags);
			brute_event(tags, p->n, p->t, p->len, ev);
		}
		event_tags(ev, p->n, p->t, p->len, want, NULL);
		for (int64_t i = 0; i < p->n; i++)
			labels[i] = -2;
		p->s->decode(&p->e, ev, decodes);
		for (int64_t i = 0; i < p->n; i++)
			CHECK(labels[i] == want[i],
			      "decode of %s event: labels[%lld] = %lld, want %lld",
			      trial == 0 ? "the argmax" : trial == 1 ? "the all-zero"
								 : "a random",
			      (long long)i, (long long)labels[i],
			      (long long)want[i]);
	}
	free(ev);
}

static void check_score(const problem *p, const brute *b, void *arg)
{
	double *ev = event_alloc(p, 1), score;
	int64_t tags[64];
	ss_error err = {0};
	unit_rng r;

	(void)arg;
	(void)b;
	urng_seed(&r, (uint64_t)p->n * 131 + (uint64_t)p->t);
	for (int trial = 0; trial < 5; trial++) {
		int rc;

		random_tags(&r, p, tags);
		brute_event(tags, p->n, p->t, p->len, ev);
		score = NAN;
		rc = p->s->score(&p->e, p->ws, ev, &score, &err);
		if (CHECK(rc == SS_OK, "score of a valid event returned %d (%s)",
			  rc, err.message))
			CHECK_CLOSE_AT(score,
				       (double)brute_score(p->theta, p->t, p->len, tags),
				       RTOL, "score of sequence %lld",
				       (long long)brute_code(tags, p->t, p->len));
	}
	free(ev);
}

static void check_sample(const problem *p, const brute *b, void *arg)
{
	enum { NUM = 4 };
	int64_t size = problem_event_size(p), tags[64];
	double *ev = event_alloc(p, NUM), lp[NUM];
	const char *why;
	ss_error err = {0};
	int rc = p->s->sample(&p->e, p->ws, 99, NUM, ev, (size_t)size, lp, 1,
			      &err);

	(void)arg;
	if (!CHECK(rc == SS_OK, "sample returned %d (%s)", rc, err.message))
		goto done;
	for (int s = 0; s < NUM; s++) {
		const double *x = ev + s * size;

		if (isinf(b->logz)) {
			check_empty_event(p, x, "sample without structure");
			CHECK_CLOSE_AT(lp[s], -INFINITY, RTOL,
				       "log_prob of sample %d", s);
			continue;
		}
		int kind = event_tags(x, p->n, p->t, p->len, tags, &why);

		if (!CHECK(kind == EVENT_STRUCTURE,
			   "sample %d is not a structure: %s", s, why))
			continue;
		long double sc = brute_score(p->theta, p->t, p->len, tags);
		CHECK(!isinf(sc), "sample %d has probability 0", s);
		CHECK_CLOSE_AT(lp[s], (double)(sc - b->logz), RTOL,
			       "log_prob of sample %d", s);
	}
done:
	free(ev);
}

static const struct {
	problem_fn fn;
	const char *what;
} exact_checks[] = {
	{check_logz, "log_partition equals brute-force log Z"},
	{check_marginals, "marginals equal brute force in every entry, 0 in padding and ignored rows"},
	{check_argmax, "argmax is an optimal structure (the brute-force one when unique) with the best score"},
	{check_entropy, "entropy equals brute force"},
	{check_decode, "decode gives the tags of argmax, random and all-zero events, -1 in padding"},
	{check_score, "score of random structures equals brute force"},
	{check_sample, "samples are structures of positive probability, log_prob = score - log Z"},
};

void exact_suite(problem_kind kind, int per_mode)
{
	int n_checks = (int)(sizeof exact_checks / sizeof exact_checks[0]);

	for (int k = 0; k < n_checks; k++) {
		unit_begin();
		for_random_problems(kind, NULL, per_mode, SALT,
				    exact_checks[k].fn, NULL);
		unit_end("%s: %s (%d random problems: normal, +-500, 1e4)",
			 problem_kind_names[kind], exact_checks[k].what,
			 per_mode * PM_COUNT);
	}
}
