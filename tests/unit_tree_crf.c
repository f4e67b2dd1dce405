/*
 * unit_tree_crf.c - identities of tree-crf beyond the conformance row:
 * the number of trees, Catalan(len-1) L^(2 len - 1), up to 30 words; the
 * word spans' marginals sum to one per word (every tree labels every
 * word once) and all marginals to 2 len - 1; a hand-worked two-word case;
 * bad lengths, bad values and bad spans named in the errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* One element over lp [n, n, L] with length len. */
typedef struct crf_case {
	const ss_structure *s;
	ss_element e;
	int64_t len;
	double *lp;
	void *ws;
} crf_case;

/* Potentials 1.5 N(0, 1) where read, NaN elsewhere. */
static void crf_setup(crf_case *c, int64_t n, int64_t L, int64_t len,
		      unit_rng *r)
{
	memset(c, 0, sizeof *c);
	c->s = ss_structure_find("tree-crf");
	c->len = len;
	c->lp = malloc(sizeof(double) * (size_t)(n * n * L + 1));
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++)
			for (int64_t l = 0; l < L; l++)
				c->lp[(i * n + j) * L + l] = i <= j && j < len
					? 1.5 * urng_normal(r) : NAN;
	c->e.dim[SS_DIM_N] = n;
	c->e.dim[SS_DIM_T] = L;
	ss_dims_derive(c->e.dim);
	c->e.input[input_index(c->s, "log_potentials")].data = c->lp;
	c->e.input[input_index(c->s, "lengths")].data = &c->len;
	c->ws = ws_alloc(ss_workspace_bytes(c->s, SS_OP_COUNT, c->e.dim));
}

static void crf_free(crf_case *c)
{
	free(c->lp);
	free(c->ws);
}

/* log(Catalan(len - 1) L^(2 len - 1)). */
static double log_trees(int64_t len, int64_t L)
{
	const double m = (double)(len - 1);
	return lgamma(2 * m + 1) - lgamma(m + 2) - lgamma(m + 1) +
	       (double)(2 * len - 1) * log((double)L);
}

static void test_count(void)
{
	unit_rng r;
	ss_error err = {0};

	urng_seed(&r, 31);
	unit_begin();
	for (int64_t L = 1; L <= 5; L++)
		for (int64_t len = 1; len <= 30; len++) {
			crf_case c;
			double count = 0.0;

			crf_setup(&c, len + len % 3, L, len, &r);
			unit_context("L = %lld, len = %lld", (long long)L,
				     (long long)len);
			if (CHECK(ss_log_count(c.s, &c.e, c.ws, &count, &err) ==
					  SS_OK, "ss_log_count: %s", err.message))
				CHECK_CLOSE(count, log_trees(len, L), RTOL);
			crf_free(&c);
		}
	unit_end("tree-crf: log count = log(Catalan(len-1) L^(2 len - 1)), len <= 30, L <= 5");
}

static void test_word_marginals(void)
{
	unit_rng r;
	ss_error err = {0};

	urng_seed(&r, 32);
	unit_begin();
	for (int64_t L = 1; L <= 5; L += 2)
		for (int64_t len = 1; len <= 30; len += 3) {
			const int64_t n = len + 2;
			crf_case c;
			double *mu = malloc(sizeof(double) * (size_t)(n * n * L));
			double logz, total = 0.0;

			crf_setup(&c, n, L, len, &r);
			unit_context("L = %lld, len = %lld", (long long)L,
				     (long long)len);
			if (!CHECK(ss_marginals(c.s, &c.e, c.ws, mu, &logz, &err) ==
					   SS_OK, "ss_marginals: %s", err.message)) {
				free(mu);
				crf_free(&c);
				continue;
			}
			for (int64_t i = 0; i < len; i++) {
				double word = 0.0;

				for (int64_t l = 0; l < L; l++)
					word += mu[(i * n + i) * L + l];
				CHECK_CLOSE_AT(word, 1.0, RTOL,
					       "Σ_l marginals[%lld, %lld, l]",
					       (long long)i, (long long)i);
			}
			for (int64_t x = 0; x < n * n * L; x++)
				total += mu[x];
			CHECK_CLOSE_AT(total, (double)(2 * len - 1), RTOL,
				       "Σ marginals");
			free(mu);
			crf_free(&c);
		}
	unit_end("tree-crf: word spans' marginals sum to 1 per word, all marginals to 2 len - 1");
}

static double lse2(double a, double b)
{
	double m = a > b ? a : b;
	return m + log(exp(a - m) + exp(b - m));
}

/* Two words, two labels: one bracketing, log Z = Σ over its three spans
 * of the log-sum-exp of their labels. */
static void test_two_words(void)
{
	static const double lp[8] = {
		0.5, -1.0,   /* (0, 0) */
		2.0, 0.25,   /* (0, 1) */
		NAN, NAN,    /* (1, 0): never read */
		-0.75, 1.5,  /* (1, 1) */
	};
	const ss_structure *s = ss_structure_find("tree-crf");
	ss_element e = {0};
	ss_error err = {0};
	double logz = 0.0, best = 0.0, event[8];
	void *ws;

	e.dim[SS_DIM_N] = 2;
	e.dim[SS_DIM_T] = 2;
	ss_dims_derive(e.dim);
	e.input[0].data = lp;
	ws = ws_alloc(ss_workspace_bytes(s, SS_OP_COUNT, e.dim));
	unit_begin();
	CHECK(ss_log_partition(s, &e, ws, &logz, &err) == SS_OK, "%s",
	      err.message);
	CHECK_CLOSE(logz, lse2(0.5, -1.0) + lse2(2.0, 0.25) + lse2(-0.75, 1.5),
		    RTOL);
	CHECK(ss_argmax(s, &e, ws, event, &best, &err) == SS_OK, "%s",
	      err.message);
	CHECK_CLOSE(best, 0.5 + 2.0 + 1.5, RTOL);
	CHECK(event[0] == 1 && event[2] == 1 && event[7] == 1 &&
	      event[1] + event[3] + event[4] + event[5] + event[6] == 0,
	      "argmax event is not (0, 0, 0), (0, 1, 0), (1, 1, 1)");
	unit_end("tree-crf: two words by hand: log Z and argmax");
	free(ws);
}

/* Bad input: a length 0, NaN in a used entry, spans that are no tree. */
static void test_errors(void)
{
	unit_rng r;
	crf_case c;
	ss_error err = {0};
	double event[4 * 4 * 2];
	int64_t spans[7 * 3];
	static const int64_t crossing[7 * 3] = {
		0, 3, 0, 0, 1, 0, 1, 2, 1, 0, 0, 0, 1, 1, 0, 2, 2, 0, 3, 3, 0,
	};
	static const int64_t repeated[7 * 3] = {
		0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 3, 0, 1, 1, 0, 2, 3, 0, 3, 3, 0,
	};

	urng_seed(&r, 33);
	crf_setup(&c, 4, 2, 4, &r);
	unit_begin();
	c.len = 0;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_EDATA &&
	      strstr(err.message, "'lengths'"),
	      "length 0: %s", err.message);
	c.len = 3;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_OK,
	      "NaN past the length rejected: %s", err.message);
	c.lp[(1 * 4 + 2) * 2 + 1] = NAN;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_EDATA &&
	      strstr(err.message, "'log_potentials'") &&
	      strstr(err.message, "[1, 2, 1]"),
	      "NaN at [1, 2, 1]: %s", err.message);
	c.len = 4;
	CHECK(ss_encode(c.s, &c.e, crossing, event, &err) == SS_EDATA &&
	      strstr(err.message, "spans") && strstr(err.message, "row 2"),
	      "crossing spans: %s", err.message);
	CHECK(ss_encode(c.s, &c.e, repeated, event, &err) == SS_EDATA &&
	      strstr(err.message, "repeats"),
	      "repeated span: %s", err.message);
	memcpy(spans, repeated, sizeof spans);
	spans[3 * 4 + 2] = 2;
	CHECK(ss_encode(c.s, &c.e, spans, event, &err) == SS_EDATA &&
	      strstr(err.message, "row 4"),
	      "label 2 of 2: %s", err.message);
	unit_end("tree-crf: bad lengths, values and spans are named");
	crf_free(&c);
}

void suite_tree_crf(void)
{
	test_count();
	test_word_marginals();
	test_two_words();
	test_errors();
}
