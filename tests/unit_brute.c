/*
 * unit_brute.c - brute-force enumeration of linear chains (and of the chain
 * an HMM builds), the reference every exact result is compared with.
 *
 * All t^len tag sequences y are listed; score(y) = theta[0, 0, y0] +
 * sum_{i=1}^{len-1} theta[i, y_{i-1}, y_i], accumulated in long double.
 *   log Z      = m + log sum_y exp(score(y) - m), m = max_y score(y)
 *   marginals  = sum_y p(y) [y passes the part], p(y) = exp(score(y) - log Z)
 *   entropy    = sum_y p(y) (log Z - score(y))
 * Sizes stay at t^len <= 4^6, so this is instant.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

void brute_tags(int64_t code, int64_t t, int64_t len, int64_t *tags)
{
	for (int64_t i = 0; i < len; i++) {
		tags[i] = code % t;
		code /= t;
	}
}

int64_t brute_code(const int64_t *tags, int64_t t, int64_t len)
{
	int64_t code = 0;

	for (int64_t i = len - 1; i >= 0; i--)
		code = code * t + tags[i];
	return code;
}

long double brute_score(const double *theta, int64_t t, int64_t len,
			const int64_t *tags)
{
	long double s;

	if (len == 0)
		return 0.0L;
	s = theta[tags[0]]; /* [0, 0, y0] */
	for (int64_t i = 1; i < len; i++)
		s += theta[(i * t + tags[i - 1]) * t + tags[i]];
	return s;
}

void brute_run(brute *b, const double *theta, int64_t n, int64_t t,
	       int64_t len)
{
	int64_t tags[64];
	long double sum = 0.0L, *marg;
	int64_t size = n * t * t;

	memset(b, 0, sizeof *b);
	b->n = n;
	b->t = t;
	b->len = len;
	b->count = 1;
	for (int64_t i = 0; i < len; i++)
		b->count *= t;
	b->scores = malloc(sizeof *b->scores * (size_t)b->count);
	b->marg = calloc((size_t)size + 1, sizeof *b->marg);
	marg = calloc((size_t)size + 1, sizeof *marg);

	b->max = -INFINITY;
	for (int64_t k = 0; k < b->count; k++) {
		brute_tags(k, t, len, tags);
		b->scores[k] = brute_score(theta, t, len, tags);
		if (b->scores[k] > b->max) {
			b->max = b->scores[k];
			b->best = k;
		}
	}
	if (isinf(b->max)) {
		b->logz = -INFINITY;
		b->entropy = NAN;
		free(marg);
		return;
	}
	b->unique = 1;
	for (int64_t k = 0; k < b->count; k++) {
		long double gap = b->max - b->scores[k];

		if (k != b->best &&
		    gap <= RTOL * fmaxl(1.0L, fabsl(b->max)))
			b->unique = 0;
		sum += expl(b->scores[k] - b->max);
	}
	b->logz = b->max + logl(sum);

	long double h = 0.0L;
	for (int64_t k = 0; k < b->count; k++) {
		long double p;

		if (isinf(b->scores[k]))
			continue;
		p = expl(b->scores[k] - b->logz);
		h += p * (b->logz - b->scores[k]);
		brute_tags(k, t, len, tags);
		for (int64_t i = 0; i < len; i++) {
			int64_t a = i ? tags[i - 1] : 0;

			marg[(i * t + a) * t + tags[i]] += p;
		}
	}
	b->entropy = (double)h;
	for (int64_t k = 0; k < size; k++)
		b->marg[k] = (double)marg[k];
	free(marg);
}

void brute_free(brute *b)
{
	free(b->scores);
	free(b->marg);
	memset(b, 0, sizeof *b);
}

void brute_log_softmax(const double *x, int64_t m, long double *out)
{
	long double mx = -INFINITY, sum = 0.0L, lse;

	for (int64_t k = 0; k < m; k++)
		mx = fmaxl(mx, x[k]);
	if (isinf(mx)) {
		for (int64_t k = 0; k < m; k++)
			out[k] = -INFINITY;
		return;
	}
	for (int64_t k = 0; k < m; k++)
		sum += expl(x[k] - mx);
	lse = mx + logl(sum);
	for (int64_t k = 0; k < m; k++)
		out[k] = x[k] - lse;
}

void brute_hmm_theta(int64_t n, int64_t t, int64_t V, int64_t len,
		     const double *init, const double *trans,
		     const double *emis, const int64_t *obs,
		     const double *escores, double *theta)
{
	long double *lpi = malloc(sizeof *lpi * (size_t)t);
	long double *lt = malloc(sizeof *lt * (size_t)(t * t));
	long double *le = malloc(sizeof *le * (size_t)(t * V + 1));

	memset(theta, 0, sizeof *theta * (size_t)(n * t * t));
	brute_log_softmax(init, t, lpi);
	for (int64_t a = 0; a < t; a++)
		brute_log_softmax(trans + a * t, t, lt + a * t);
	if (emis)
		for (int64_t c = 0; c < t; c++)
			brute_log_softmax(emis + c * V, V, le + c * V);
	for (int64_t i = 0; i < len; i++)
		for (int64_t c = 0; c < t; c++) {
			long double em = emis ? le[c * V + obs[i]]
					      : (long double)escores[i * t + c];

			if (i == 0) {
				theta[c] = (double)(lpi[c] + em);
				continue;
			}
			for (int64_t a = 0; a < t; a++)
				theta[(i * t + a) * t + c] =
					(double)(lt[a * t + c] + em);
		}
	free(lpi);
	free(lt);
	free(le);
}

void brute_event(const int64_t *tags, int64_t n, int64_t t, int64_t len,
		 double *event)
{
	memset(event, 0, sizeof *event * (size_t)(n * t * t));
	for (int64_t i = 0; i < len; i++)
		event[(i * t + (i ? tags[i - 1] : 0)) * t + tags[i]] = 1.0;
}

int event_tags(const double *event, int64_t n, int64_t t, int64_t len,
	       int64_t *tags, const char **why)
{
	int64_t ones = 0;
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = "";
	for (int64_t i = 0; i < n; i++)
		tags[i] = -1;
	for (int64_t k = 0; k < n * t * t; k++) {
		if (event[k] != 0.0 && event[k] != 1.0) {
			*why = "an entry is neither 0 nor 1";
			return EVENT_INVALID;
		}
		ones += event[k] == 1.0;
	}
	if (ones == 0) { /* at length 0 the empty event is the structure */
		*why = "the all-zero (empty) event";
		return len ? EVENT_EMPTY : EVENT_STRUCTURE;
	}
	for (int64_t i = 0; i < n; i++) {
		int64_t here = 0;

		for (int64_t a = 0; a < t; a++)
			for (int64_t c = 0; c < t; c++) {
				if (event[(i * t + a) * t + c] != 1.0)
					continue;
				here++;
				if (i >= len) {
					*why = "a one in padding";
					return EVENT_INVALID;
				}
				if (a != (i ? tags[i - 1] : 0)) {
					*why = "previous tag inconsistent";
					return EVENT_INVALID;
				}
				tags[i] = c;
			}
		if (i < len && here != 1) {
			*why = here ? "several ones at a position"
				    : "no one at a used position";
			return EVENT_INVALID;
		}
	}
	return EVENT_STRUCTURE;
}

/* ---- the suite: the reference checked by hand -------------------------- */

void suite_brute(void)
{
	/* n = 2, t = 2, all zero: 4 sequences of score 0. */
	double zero[8] = {0};
	/* n = 3, t = 2, len = 2: [0,0,:] = (1, -inf), [1,0,:] = (2, 3);
	 * rows [0,1,:] and position 2 are ignored garbage. */
	double lp[12] = {1, -INFINITY, 99, 99, 2, 3, -INFINITY, 5,
			 7, 7, 7, 7};
	brute b;
	int64_t tags[3] = {1, 0, 1};

	unit_begin();
	brute_run(&b, zero, 2, 2, 2);
	CHECK(b.count == 4, "count %lld, want 4", (long long)b.count);
	CHECK_CLOSE((double)b.logz, log(4.0), RTOL);
	CHECK_CLOSE(b.entropy, log(4.0), RTOL);
	CHECK_CLOSE(b.marg[0], 0.5, RTOL);     /* [0,0,0] */
	CHECK_CLOSE(b.marg[2], 0.0, RTOL);     /* [0,1,0] ignored row */
	CHECK_CLOSE(b.marg[4 + 3], 0.25, RTOL); /* [1,1,1] */
	CHECK(!b.unique, "all-equal scores reported unique");
	brute_free(&b);

	brute_run(&b, lp, 3, 2, 2);
	/* sequences (0,0): 3, (0,1): 4, (1,*): -inf */
	double z = log(exp(3.0) + exp(4.0));
	CHECK_CLOSE((double)b.logz, z, RTOL);
	CHECK_CLOSE((double)b.max, 4.0, RTOL);
	CHECK(b.unique && b.best == 2, "best code %lld, want 2",
	      (long long)b.best);
	CHECK_CLOSE(b.marg[0], 1.0, RTOL);
	CHECK_CLOSE(b.marg[5], exp(4.0 - z), RTOL);
	CHECK_CLOSE(b.marg[8], 0.0, RTOL);
	CHECK_CLOSE(b.entropy, -(exp(3 - z) * (3 - z) + exp(4 - z) * (4 - z)),
		    RTOL);
	CHECK_CLOSE((double)brute_score(lp, 2, 2, tags), -INFINITY, RTOL);
	brute_free(&b);

	brute_run(&b, lp, 3, 2, 0);
	CHECK(b.count == 1, "len 0: count %lld, want 1", (long long)b.count);
	CHECK_CLOSE((double)b.logz, 0.0, RTOL);
	CHECK_CLOSE(b.entropy, 0.0, RTOL);
	brute_free(&b);

	double event[12];
	int64_t back[3];
	brute_event(tags, 3, 2, 3, event);
	CHECK(event_tags(event, 3, 2, 3, back, NULL) == EVENT_STRUCTURE &&
	      back[0] == 1 && back[1] == 0 && back[2] == 1,
	      "event_tags does not invert brute_event");
	CHECK(event_tags(event, 3, 2, 2, back, NULL) == EVENT_INVALID,
	      "a one in padding accepted");
	unit_end("brute: log Z, marginals, entropy, argmax and events on hand-worked chains");

	long double out[3];
	double x[3] = {1e4, 1e4 + log(2.0), -INFINITY};
	double dead[2] = {-INFINITY, -INFINITY};
	unit_begin();
	brute_log_softmax(x, 3, out);
	CHECK_CLOSE((double)out[0], -log(3.0), RTOL);
	CHECK_CLOSE((double)out[1], log(2.0 / 3.0), RTOL);
	CHECK_CLOSE((double)out[2], -INFINITY, RTOL);
	brute_log_softmax(dead, 2, out);
	CHECK_CLOSE((double)out[0], -INFINITY, RTOL);
	unit_end("brute: log-softmax at 1e4 and of an all -inf row");
}
