/*
 * unit_semi_markov.c - semi-markov beyond the conformance suite
 * (tests/unit_conformance.c): the identity semi-Markov with m = 1 = the
 * linear chain on the same numbers (issue 9), and the messages of bad
 * segments, events and potentials.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define SALT 43
#define IDENTITY_PROBLEMS 200
#define IDENTITY_RTOL 1e-12

/* An element of s over theta with sizes n, m, t and length *len. */
static ss_element element_of(const ss_structure *s, const double *theta,
			     int64_t n, int64_t m, int64_t t, const int64_t *len)
{
	ss_element e;
	memset(&e, 0, sizeof e);
	e.dim[SS_DIM_N] = n;
	e.dim[SS_DIM_M] = m;
	e.dim[SS_DIM_T] = t;
	ss_dims_derive(e.dim);
	e.input[input_index(s, "log_potentials")].data = theta;
	e.input[s->lengths_inputs[0]].data = len;
	return e;
}

/* The results of one element: log Z, marginals, argmax, entropy, count. */
typedef struct results {
	double logz, max, entropy, count;
	double *marg, *argmax;
	int64_t *labels;
} results;

static int results_get(results *r, const ss_structure *s, const ss_element *e)
{
	const int64_t size = ss_array_size(&s->event, e->dim);
	const int64_t n = e->dim[SS_DIM_N];
	size_t bytes = 0;
	void *ws;
	ss_error err = {0};
	double logz2;
	int ok;

	for (int op = 0; op < SS_OP_COUNT; op++) {
		size_t b = ss_workspace_bytes(s, (ss_op)op, e->dim);
		bytes = b > bytes ? b : bytes;
	}
	ws = ws_alloc(bytes);
	r->marg = calloc((size_t)size + 1, sizeof(double));
	r->argmax = calloc((size_t)size + 1, sizeof(double));
	r->labels = calloc((size_t)(3 * n + 1), sizeof(int64_t));
	ok = ss_log_partition(s, e, ws, &r->logz, &err) == SS_OK &&
	     ss_marginals(s, e, ws, r->marg, &logz2, &err) == SS_OK &&
	     ss_argmax(s, e, ws, r->argmax, &r->max, &err) == SS_OK &&
	     ss_entropy(s, e, ws, &r->entropy, &err) == SS_OK &&
	     ss_log_count(s, e, ws, &r->count, &err) == SS_OK;
	CHECK(ok, "%s failed: %s", s->name, err.message);
	if (ok) {
		/* The labels decode: the chain's only one, semi-markov's by name. */
		int64_t *decodes[SS_MAX_DECODES] = {r->labels, r->labels};
		int64_t *scratch = calloc((size_t)(3 * n + 1), sizeof(int64_t));
		for (int d = 0; d < s->n_decodes; d++)
			if (strcmp(s->decodes[d].name, "labels"))
				decodes[d] = scratch;
		s->decode(e, r->argmax, decodes);
		free(scratch);
	}
	free(ws);
	return ok;
}

static void results_free(results *r)
{
	free(r->marg);
	free(r->argmax);
	free(r->labels);
}

/* Issue 9: semi-markov [n, 1, t, t] is linear-chain [n, t, t] on the same
 * array (the layouts coincide), on random problems with -inf, lengths and
 * NaN in the unread entries. */
static void check_chain_identity(void)
{
	const ss_structure *semi = ss_structure_find("semi-markov");
	const ss_structure *chain = ss_structure_find("linear-chain");
	unit_rng r;

	unit_begin();
	urng_seed(&r, SALT);
	for (int k = 0; k < IDENTITY_PROBLEMS; k++) {
		const int64_t n = urng_int(&r, 0, 6), t = urng_int(&r, 1, 4);
		const int64_t len = urng_int(&r, 0, n);
		const double pinf = k % 3 ? 0.1 : 0.4;
		const double scale = k % 4 == 3 ? 1e4 : 1.5;
		double *theta = malloc(sizeof(double) * (size_t)(n * t * t + 1));
		ss_element es, ec;
		results a, b;

		unit_context("problem %d (n %lld, t %lld, len %lld)", k,
			     (long long)n, (long long)t, (long long)len);
		for (int64_t i = 0; i < n; i++)
			for (int64_t x = 0; x < t * t; x++)
				theta[i * t * t + x] =
					i >= len || (i == 0 && x >= t) ? NAN
					: urng_uniform(&r) < pinf ? -INFINITY
					: scale * urng_normal(&r);
		es = element_of(semi, theta, n, 1, t, &len);
		ec = element_of(chain, theta, n, 1, t, &len);
		if (results_get(&a, semi, &es) && results_get(&b, chain, &ec)) {
			CHECK_CLOSE_AT(a.logz, b.logz, IDENTITY_RTOL, "log Z");
			CHECK_CLOSE_AT(a.max, b.max, IDENTITY_RTOL, "best score");
			CHECK_CLOSE_AT(a.entropy, b.entropy, IDENTITY_RTOL, "entropy");
			CHECK_CLOSE_AT(a.count, b.count, IDENTITY_RTOL, "log count");
			for (int64_t x = 0; x < n * t * t; x++)
				CHECK_CLOSE_AT(a.marg[x], b.marg[x], IDENTITY_RTOL,
					       "marginals[%lld]", (long long)x);
			CHECK(!memcmp(a.argmax, b.argmax,
				      sizeof(double) * (size_t)(n * t * t)),
			      "argmax events differ");
			CHECK(!memcmp(a.labels, b.labels, sizeof(int64_t) * (size_t)n),
			      "argmax labels differ");
		}
		results_free(&a);
		results_free(&b);
		free(theta);
	}
	unit_end("semi-markov: m = 1 equals linear-chain on the same numbers (log Z, marginals, argmax, entropy, count to 1e-12; %d problems)",
		 IDENTITY_PROBLEMS);
}

/* ss_encode of segments [4, 3] of an element n = 4, m = 2, t = 2, len 3. */
static void check_encode_errors(void)
{
	const ss_structure *s = ss_structure_find("semi-markov");
	static const struct {
		int64_t rows[4][3];
		const char *message;
	} cases[] = {
		{{{0, 1, 1}, {2, 2, 0}, {-1, -1, -1}, {7, 7, 7}}, NULL},
		{{{-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}, {0, 0, 0}}, NULL},
		{{{1, 2, 0}, {-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}},
		 "segments holds 1 at [0, 0]; segment 0 must start at 0"},
		{{{0, 2, 0}, {-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}},
		 "segments holds 2 at [0, 1], outside [0, 1] (segments end before the length 3 and are at most m = 2 long)"},
		{{{0, 0, 0}, {1, 3, 0}, {-1, -1, -1}, {-1, -1, -1}},
		 "segments holds 3 at [1, 1], outside [1, 2] (segments end before the length 3 and are at most m = 2 long)"},
		{{{0, 0, 2}, {1, 2, 0}, {-1, -1, -1}, {-1, -1, -1}},
		 "segments holds 2 at [0, 2], outside [0, 2)"},
		{{{0, 0, 1}, {-1, -1, -1}, {-1, -1, -1}, {-1, -1, -1}},
		 "segments ends at position 0, not at the last position 2"},
		{{{0, 1, 0}, {2, 2, 1}, {0, -1, -1}, {-1, -1, -1}},
		 "segments holds 0 at [2, 0], after the last segment (rows of -1 follow it)"},
	};
	const int64_t len = 3;
	double theta[4 * 2 * 2 * 2] = {0}, event[4 * 2 * 2 * 2];
	ss_element e = element_of(s, theta, 4, 2, 2, &len);

	unit_begin();
	for (size_t k = 0; k < SS_ARRAY_LEN(cases); k++) {
		ss_error err = {0};
		int rc = ss_encode(s, &e, &cases[k].rows[0][0], event, &err);

		unit_context("case %zu", k);
		if (!cases[k].message)
			CHECK(rc == SS_OK, "rejected: %s", err.message);
		else if (CHECK(rc == SS_EDATA, "accepted"))
			CHECK(!strcmp(err.message, cases[k].message),
			      "message '%s'", err.message);
	}
	/* The first case: (0, 1) after label 0, then (2, 2) after label 1. */
	ss_encode(s, &e, &cases[0].rows[0][0], event, NULL);
	for (int64_t x = 0; x < 4 * 2 * 2 * 2; x++)
		CHECK(event[x] == (x == ((1 * 2 + 1) * 2 + 0) * 2 + 1 ||
				   x == ((2 * 2 + 0) * 2 + 1) * 2 + 0),
		      "event[%lld] = %g", (long long)x, event[x]);
	unit_end("semi-markov: ss_encode reads segments rows in order, ignores padding, names bad rows");
}

/* ss_score rejects events that are not segmentations; validate names a
 * NaN in a used entry and accepts one in an unread entry. */
static void check_bad_events_and_values(void)
{
	const ss_structure *s = ss_structure_find("semi-markov");
	const int64_t len = 3;
	double theta[4 * 2 * 2 * 2] = {0}, event[4 * 2 * 2 * 2], score;
	ss_element e = element_of(s, theta, 4, 2, 2, &len);
	size_t bytes = ss_workspace_bytes(s, SS_OP_LOG_PROB, e.dim);
	size_t vbytes = ss_workspace_bytes(s, SS_OP_COUNT, e.dim);
	void *ws = ws_alloc(bytes > vbytes ? bytes : vbytes);
	ss_error err = {0};

#define AT(i, j, a, c) ((((i) * 2 + (j)) * 2 + (a)) * 2 + (c))
	unit_begin();
	/* (0, 0, label 1) then (1, 2, label 0): fine. */
	memset(event, 0, sizeof event);
	event[AT(0, 0, 0, 1)] = event[AT(2, 1, 1, 0)] = 1;
	CHECK(ss_score(s, &e, ws, event, &score, &err) == SS_OK, "%s", err.message);
	/* The second segment does not follow the first's label. */
	event[AT(2, 1, 1, 0)] = 0;
	event[AT(2, 1, 0, 0)] = 1;
	CHECK(ss_score(s, &e, ws, event, &score, &err) == SS_EDATA &&
		      !strcmp(err.message, "event is not a segmentation at position 2"),
	      "label mismatch: %s", err.message);
	/* A gap: (0, 0), then a segment over 2 .. 2. */
	memset(event, 0, sizeof event);
	event[AT(0, 0, 0, 1)] = event[AT(2, 0, 1, 0)] = 1;
	CHECK(ss_score(s, &e, ws, event, &score, &err) == SS_EDATA &&
		      !strcmp(err.message, "event is not a segmentation at position 2"),
	      "gap: %s", err.message);
	/* Stops before the length. */
	memset(event, 0, sizeof event);
	event[AT(1, 1, 0, 1)] = 1;
	CHECK(ss_score(s, &e, ws, event, &score, &err) == SS_EDATA &&
		      !strcmp(err.message, "event is not a segmentation at position 2"),
	      "short: %s", err.message);
	/* Past the length. */
	event[AT(3, 0, 1, 1)] = 1;
	CHECK(ss_score(s, &e, ws, event, &score, &err) == SS_EDATA &&
		      !strcmp(err.message, "event marks position 3, past the length 3"),
	      "past: %s", err.message);

	/* NaN where never read: j > i, rows a > 0 of first segments, i >= len. */
	theta[AT(0, 1, 0, 0)] = NAN;
	theta[AT(1, 1, 1, 0)] = NAN;
	theta[AT(3, 0, 0, 0)] = INFINITY;
	CHECK(s->validate(&e, ws, &err) == SS_OK, "unread NaN: %s", err.message);
	theta[AT(1, 1, 0, 1)] = NAN;
	CHECK(s->validate(&e, ws, &err) == SS_EDATA &&
		      !strcmp(err.message, "dataset 'log_potentials' holds NaN at [1, 1, 0, 1]"),
	      "first segment: %s", err.message);
	theta[AT(1, 1, 0, 1)] = 0;
	theta[AT(2, 1, 1, 0)] = INFINITY;
	CHECK(s->validate(&e, ws, &err) == SS_EDATA &&
		      !strcmp(err.message, "dataset 'log_potentials' holds +inf at [2, 1, 1, 0]"),
	      "later segment: %s", err.message);
	free(ws);
#undef AT
	unit_end("semi-markov: events that are not segmentations and NaN or +inf in read entries are rejected by name, unread entries may hold anything");
}

void suite_semi_markov(void)
{
	check_chain_identity();
	check_encode_errors();
	check_bad_events_and_values();
}
