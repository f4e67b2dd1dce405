/*
 * unit_alignment.c - what is particular to alignment beyond its
 * conformance rows: the number of monotone paths of tables up to 30 x 30
 * (binomials and Delannoy numbers), the one-to-one argmax against every
 * permutation of up to 7 rows, and its bad input and refusals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

enum { ONE_TO_MANY, MANY_TO_MANY, ONE_TO_ONE };

/* An element of the R x C table theta with lengths rows, cols (NULL:
 * absent) and the given type. */
static ss_element element(const ss_structure *s, const double *theta,
			  int64_t R, int64_t C, const int64_t *rows,
			  const int64_t *cols, int type)
{
	ss_element e;

	memset(&e, 0, sizeof e);
	e.dim[SS_DIM_R] = R;
	e.dim[SS_DIM_C] = C;
	ss_dims_derive(e.dim);
	e.input[input_index(s, "log_potentials")].data = theta;
	e.input[input_index(s, "lengths_rows")].data = rows;
	e.input[input_index(s, "lengths_cols")].data = cols;
	e.option[0] = type;
	return e;
}

/* log D(m, n), D(i, j) = D(i-1, j) + D(i, j-1) + D(i-1, j-1), D(0, j) =
 * D(i, 0) = 1, in long double (D(29, 29) < 1e23). */
static double log_delannoy(int64_t m, int64_t n)
{
	long double d[31][31];

	for (int64_t i = 0; i <= m; i++)
		for (int64_t j = 0; j <= n; j++)
			d[i][j] = i == 0 || j == 0 ? 1.0L
				: d[i - 1][j] + d[i][j - 1] + d[i - 1][j - 1];
	return (double)logl(d[m][n]);
}

/* log C(n, k), -inf for k > n. */
static double log_binomial(int64_t n, int64_t k)
{
	if (k > n)
		return -INFINITY;
	return lgamma((double)n + 1) - lgamma((double)k + 1) -
	       lgamma((double)(n - k) + 1);
}

static void suite_counts(const ss_structure *s)
{
	static const int64_t sizes[][2] = {
		{1, 1}, {1, 5}, {5, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 7},
		{7, 3}, {5, 9}, {12, 12}, {17, 30}, {30, 17}, {30, 30},
	};
	const int64_t R = 30, C = 30;
	double *theta = calloc((size_t)(R * C), sizeof(double));
	void *ws;
	ss_element probe = element(s, theta, R, C, NULL, NULL, ONE_TO_MANY);

	for (int64_t k = 0; k < R * C; k++)
		theta[k] = 0.25 * (double)(k % 7) - 1.0;
	ws = ws_alloc(ss_workspace_bytes(s, SS_OP_LOG_COUNT, probe.dim));
	unit_begin();
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		int64_t rows = sizes[k][0], cols = sizes[k][1];
		double count;
		ss_error err = {0};
		ss_element e;

		for (int type = ONE_TO_MANY; type <= MANY_TO_MANY; type++) {
			unit_context("%s %lld x %lld in a 30 x 30 table",
				     s->options[0].choices[type], (long long)rows,
				     (long long)cols);
			e = element(s, theta, R, C, &rows, &cols, type);
			CHECK(ss_log_count(s, &e, ws, &count, &err) == SS_OK,
			      "ss_log_count: %s", err.message);
			CHECK_CLOSE_AT(count,
				       type == ONE_TO_MANY
					       ? log_binomial(cols - 1, rows - 1)
					       : log_delannoy(rows - 1, cols - 1),
				       RTOL, "log_count");
		}
	}
	unit_end("alignment: count of one-to-many paths is C(C'-1, R'-1), of many-to-many the Delannoy number D(R'-1, C'-1), up to 30 x 30");
	free(ws);
	free(theta);
}

/* The best permutation score of the n x n table t (stride ld) by trying
 * every one: rows r.. take the columns not in used. */
static long double best_permutation(const double *t, int64_t n, int64_t ld,
				    int64_t r, unsigned used)
{
	long double best = -INFINITY;

	if (r == n)
		return 0.0L;
	for (int64_t c = 0; c < n; c++)
		if (!(used & (1u << c)) && t[r * ld + c] > -INFINITY) {
			long double v = t[r * ld + c] +
				best_permutation(t, n, ld, r + 1, used | (1u << c));
			best = v > best ? v : best;
		}
	return best;
}

static void suite_one_to_one(const ss_structure *s)
{
	const int64_t N = 8;
	static const double scales[] = {1.0, 500.0, 1e5};
	double *theta = calloc((size_t)(N * N), sizeof(double));
	double *event = malloc(sizeof(double) * (size_t)(N * N));
	ss_element probe = element(s, theta, N, N, NULL, NULL, ONE_TO_ONE);
	void *ws = ws_alloc(ss_workspace_bytes(s, SS_OP_ARGMAX, probe.dim));
	unit_rng rng;
	int64_t dead = 0;

	urng_seed(&rng, 20240611);
	unit_begin();
	for (int trial = 0; trial < 300; trial++) {
		int64_t n = 1 + trial % 7;
		double pinf = (double)(trial % 5) * 0.12;
		double scale = scales[trial % 3], score, sum = 0.0;
		long double want;
		ss_error err = {0};
		ss_element e = element(s, theta, N, N, &n, NULL, ONE_TO_ONE);
		int64_t marked = 0, bad_rows = 0;

		for (int64_t k = 0; k < N * N; k++)
			theta[k] = k / N < n && k % N < n
				? (urng_uniform(&rng) < pinf ? -INFINITY
				   : scale * urng_normal(&rng))
				: NAN;
		want = best_permutation(theta, n, N, 0, 0);
		unit_context("trial %d: n = %lld, -inf with probability %g, scale %g",
			     trial, (long long)n, pinf, scale);
		if (!CHECK(ss_argmax(s, &e, ws, event, &score, &err) == SS_OK,
			   "ss_argmax: %s", err.message))
			continue;
		CHECK_CLOSE_AT(score, (double)want, RTOL, "best score");
		dead += want == -INFINITY;
		for (int64_t r = 0; r < N; r++) {
			int64_t in_row = 0;

			for (int64_t c = 0; c < N; c++)
				if (event[r * N + c] != 0.0) {
					in_row++;
					marked++;
					sum += theta[r * N + c];
					CHECK(r < n && c < n && event[r * N + c] == 1.0,
					      "event [%lld, %lld] = %g", (long long)r,
					      (long long)c, event[r * N + c]);
				}
			bad_rows += in_row > 1;
		}
		CHECK(bad_rows == 0, "%lld rows hold two cells", (long long)bad_rows);
		CHECK(marked == (want == -INFINITY ? 0 : n),
		      "the event marks %lld cells", (long long)marked);
		if (want > -INFINITY)
			CHECK(sum == score, "score %.17g is not the event's %.17g",
			      score, sum);
	}
	unit_end("alignment: one-to-one argmax (Hungarian) equals the best of every permutation, n <= 7, -inf cells, scales 1 to 1e5 (%lld without a permutation)",
		 (long long)dead);
	free(ws);
	free(event);
	free(theta);
}

/* Checks that validate fails with a message containing want. */
static void check_bad(const ss_structure *s, const ss_element *e,
		      const char *want)
{
	ss_error err = {0};
	void *ws = ws_alloc(ss_workspace_bytes(s, SS_OP_COUNT, e->dim));
	int rc = s->validate(e, ws, &err);

	free(ws);
	CHECK(rc == SS_EDATA && strstr(err.message, want),
	      "validate gave %d (%s), want SS_EDATA with \"%s\"", rc,
	      err.message, want);
}

static void suite_bad_input(const ss_structure *s)
{
	double theta[12] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
	int64_t zero = 0, one = 1, two = 2, three = 3, five = 5;
	char buf[512];
	int64_t option[SS_MAX_OPTIONS] = {ONE_TO_ONE};
	ss_element e;

	unit_begin();
	e = element(s, theta, 3, 4, &zero, NULL, MANY_TO_MANY);
	check_bad(s, &e, "dataset 'lengths_rows' holds 0, outside [1, 3]");
	e = element(s, theta, 3, 4, NULL, &zero, ONE_TO_MANY);
	check_bad(s, &e, "dataset 'lengths_cols' holds 0, outside [1, 4]");
	e = element(s, theta, 3, 4, NULL, &five, ONE_TO_MANY);
	check_bad(s, &e, "dataset 'lengths_cols' holds 5, outside [1, 4]");
	e = element(s, theta, 3, 4, NULL, NULL, ONE_TO_ONE);
	check_bad(s, &e, "non-monotone-one-to-one alignments need a square table");
	e = element(s, theta, 3, 3, &three, &two, ONE_TO_ONE);
	check_bad(s, &e, "'lengths_cols' holds 2 and 'lengths_rows' 3");
	theta[5] = NAN;
	e = element(s, theta, 3, 4, NULL, NULL, MANY_TO_MANY);
	check_bad(s, &e, "dataset 'log_potentials' holds NaN at [1, 1]");
	/* a NaN past the lengths is padding */
	e = element(s, theta, 3, 4, NULL, &one, MANY_TO_MANY);
	{
		ss_error err = {0};
		void *ws = ws_alloc(ss_workspace_bytes(s, SS_OP_COUNT, e.dim));

		CHECK(s->validate(&e, ws, &err) == SS_OK,
		      "NaN in padding: %s", err.message);
		free(ws);
	}
	for (int op = 0; op < SS_OP_COUNT; op++) {
		const char *why = ss_op_unsupported(s, option, (ss_op)op, buf,
						    sizeof buf);

		unit_context("%s of one-to-one", ss_ops[op].name);
		if (op == SS_OP_ARGMAX || op == SS_OP_TOP_K ||
		    op == SS_OP_MAX_MARGINALS || op == SS_OP_INFO)
			CHECK(why == NULL, "%s refused: %s", ss_ops[op].name, why);
		else
			CHECK(why && strstr(why, "#P-hard") &&
			      strstr(why, "alignment supports argmax"),
			      "refusal: %s", why ? why : "(none)");
	}
	CHECK(ss_op_unsupported(s, NULL, SS_OP_PARTITION, buf, sizeof buf) == NULL,
	      "the default type refuses partition");
	unit_end("alignment: bad lengths, non-square one-to-one tables and NaN are rejected naming the dataset; one-to-one refuses every op but argmax, top-k and max-marginals, saying why");
}

void suite_alignment(void)
{
	const ss_structure *s = ss_structure_find("alignment");

	suite_counts(s);
	suite_one_to_one(s);
	suite_bad_input(s);
}
