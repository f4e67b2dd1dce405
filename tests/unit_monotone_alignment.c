/*
 * unit_monotone_alignment.c - monotone-alignment beyond the conformance
 * suite (tests/unit_conformance.c): log Z against a plain log-space
 * recurrence written here (not the chart), exact path counts (Delannoy
 * numbers with the vertical input, binomials without, K = 2), d log Z /
 * d input by central differences against brute-force move marginals (the
 * event, visited cells, does not give them, so the conformance row has no
 * gradient), lower_grad against central differences, the single-cell
 * table, and events that are not paths.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define SALT 61
#define MAX_MOVES 64

/* One element: H [K, R, C], V [R, C] or none, lengths. */
typedef struct ma_case {
	const ss_structure *s;
	int64_t R, C, K, rows, cols;
	double *h, *v;
	int64_t lengths[2];
	ss_element e;
	void *ws;
} ma_case;

static void ma_case_init(ma_case *m, int64_t R, int64_t C, int64_t K,
			 int vertical)
{
	memset(m, 0, sizeof *m);
	m->s = ss_structure_find("monotone-alignment");
	m->R = R;
	m->C = C;
	m->K = K;
	m->rows = R;
	m->cols = C;
	m->h = calloc((size_t)(K * R * C + 1), sizeof *m->h);
	m->v = vertical ? calloc((size_t)(R * C + 1), sizeof *m->v) : NULL;
}

/* The element of m's inputs and lengths, and a workspace for every op. */
static void ma_case_setup(ma_case *m)
{
	const ss_structure *s = m->s;
	size_t bytes = 0;

	memset(&m->e, 0, sizeof m->e);
	m->e.dim[SS_DIM_R] = m->R;
	m->e.dim[SS_DIM_C] = m->C;
	m->e.dim[SS_DIM_K] = m->K;
	ss_dims_derive(m->e.dim);
	m->lengths[0] = m->rows;
	m->lengths[1] = m->cols;
	m->e.input[input_index(s, "log_potentials_horizontal")].data = m->h;
	m->e.input[input_index(s, "log_potentials_vertical")].data = m->v;
	m->e.input[input_index(s, "lengths_rows")].data = &m->lengths[0];
	m->e.input[input_index(s, "lengths_cols")].data = &m->lengths[1];
	for (int op = 0; op <= SS_OP_COUNT; op++) {
		size_t b = ss_workspace_bytes(s, (ss_op)op, m->e.dim);
		bytes = b > bytes ? b : bytes;
	}
	free(m->ws);
	m->ws = ws_alloc(bytes);
}

static void ma_case_free(ma_case *m)
{
	free(m->h);
	free(m->v);
	free(m->ws);
}

/* Random potentials (-inf with probability pinf) and lengths. */
static void ma_case_random(ma_case *m, unit_rng *r, double pinf)
{
	for (int64_t k = 0; k < m->K * m->R * m->C; k++)
		m->h[k] = urng_uniform(r) < pinf ? -INFINITY : 1.5 * urng_normal(r);
	for (int64_t k = 0; m->v && k < m->R * m->C; k++)
		m->v[k] = urng_uniform(r) < pinf ? -INFINITY : 1.5 * urng_normal(r);
	m->rows = urng_int(r, 1, m->R);
	m->cols = urng_int(r, 1, m->C);
	ma_case_setup(m);
}

static double lse2(double a, double b)
{
	double hi = a > b ? a : b;

	return hi == -INFINITY ? hi : hi + log(exp(a - hi) + exp(b - hi));
}

/* log Z by the recurrence over columns, in plain doubles. */
static double reference_logz(const ma_case *m)
{
	const int64_t R = m->R, C = m->C, RC = R * C;
	double *a = malloc(sizeof *a * (size_t)(R * C + 1));
	double z;

	for (int64_t c = 0; c < m->cols; c++)
		for (int64_t r = 0; r < m->rows; r++) {
			double x = -INFINITY;

			if (c == 0 && r == 0)
				x = m->h[0];
			for (int64_t k = 0; c > 0 && k < m->K && k <= r; k++)
				x = lse2(x, a[(r - k) * C + c - 1] +
						    m->h[k * RC + r * C + c]);
			if (m->v && r > 0)
				x = lse2(x, a[(r - 1) * C + c] + m->v[r * C + c]);
			a[r * C + c] = x;
		}
	z = a[(m->rows - 1) * C + m->cols - 1];
	free(a);
	return z;
}

static void check_reference(void)
{
	unit_rng r;

	unit_begin();
	urng_seed(&r, SALT);
	for (int t = 0; t < 200; t++) {
		ma_case m;
		ss_error err = {0};
		double logz = NAN;
		int rc;

		ma_case_init(&m, urng_int(&r, 1, 7), urng_int(&r, 1, 7),
			     urng_int(&r, 1, 4), t % 2);
		ma_case_random(&m, &r, t % 3 == 0 ? 0.3 : 0.0);
		unit_context("case %d: R=%lld C=%lld K=%lld rows=%lld cols=%lld%s",
			     t, (long long)m.R, (long long)m.C, (long long)m.K,
			     (long long)m.rows, (long long)m.cols,
			     m.v ? " (vertical)" : "");
		rc = ss_log_partition(m.s, &m.e, m.ws, &logz, &err);
		if (CHECK(rc == SS_OK, "log Z failed: %s", err.message))
			CHECK_CLOSE_AT(logz, reference_logz(&m), RTOL,
				       "log Z vs the plain recurrence");
		ma_case_free(&m);
	}
	unit_end("monotone-alignment: log Z equals a plain log-space recurrence (200 random elements, K 1-4, with and without vertical, some -inf)");
}

static double binomial(int64_t n, int64_t k)
{
	double b = 1.0;

	if (k < 0 || k > n)
		return 0.0;
	for (int64_t i = 1; i <= k; i++)
		b = b * (double)(n - k + i) / (double)i;
	return b;
}

/* The Delannoy number D(m, n): paths of right, down and diagonal steps. */
static double delannoy(int64_t m, int64_t n)
{
	double d = 0.0;

	for (int64_t k = 0; k <= m && k <= n; k++)
		d += binomial(m, k) * binomial(n, k) * ldexp(1.0, (int)k);
	return d;
}

static void check_counts(void)
{
	unit_begin();
	for (int vertical = 0; vertical < 2; vertical++)
		for (int64_t rows = 1; rows <= 9; rows++)
			for (int64_t cols = 1; cols <= 9; cols++) {
				ma_case m;
				ss_error err = {0};
				double count = NAN;
				double want = vertical ? delannoy(rows - 1, cols - 1)
						       : binomial(cols - 1, rows - 1);

				ma_case_init(&m, 9, 9, 2, vertical);
				for (int64_t k = 0; k < 2 * 81; k++)
					m.h[k] = 0.25 * (double)(k % 7);
				for (int64_t k = 0; m.v && k < 81; k++)
					m.v[k] = -0.5 * (double)(k % 5);
				m.rows = rows;
				m.cols = cols;
				ma_case_setup(&m);
				unit_context("rows=%lld cols=%lld%s", (long long)rows,
					     (long long)cols, vertical ? " (vertical)" : "");
				if (CHECK(ss_log_count(m.s, &m.e, m.ws, &count, &err) == SS_OK,
					  "count failed: %s", err.message))
					CHECK_CLOSE_AT(count, want > 0 ? log(want) : -INFINITY,
						       RTOL, "log count");
				ma_case_free(&m);
			}
	unit_end("monotone-alignment: K = 2 path counts are Delannoy numbers D(R'-1, C'-1) with the vertical input and C(C'-1, R'-1) without (R', C' <= 9)");
}

/* Brute force over paths, by moves: index k R C + r C + c of H, or
 * K R C + r C + c of V. */
typedef struct ma_brute {
	const ma_case *m;
	int64_t path[MAX_MOVES], n;
	double *scores;      /* [count] */
	int64_t *moves;      /* [count][MAX_MOVES], -1 after the path */
	int64_t count, cap;
} ma_brute;

static void brute_add(ma_brute *b, double score)
{
	if (b->count == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 64;
		b->scores = realloc(b->scores, sizeof *b->scores * (size_t)b->cap);
		b->moves = realloc(b->moves, sizeof *b->moves *
				   (size_t)(b->cap * MAX_MOVES));
	}
	b->scores[b->count] = score;
	for (int64_t i = 0; i < MAX_MOVES; i++)
		b->moves[b->count * MAX_MOVES + i] = i < b->n ? b->path[i] : -1;
	b->count++;
}

static void brute_walk(ma_brute *b, int64_t r, int64_t c, double score)
{
	const ma_case *m = b->m;
	const int64_t RC = m->R * m->C;

	if (r == m->rows - 1 && c == m->cols - 1)
		brute_add(b, score);
	if (m->v && r + 1 < m->rows) {
		b->path[b->n++] = m->K * RC + (r + 1) * m->C + c;
		brute_walk(b, r + 1, c, score + m->v[(r + 1) * m->C + c]);
		b->n--;
	}
	for (int64_t k = 0; k < m->K && c + 1 < m->cols && r + k < m->rows; k++) {
		int64_t at = k * RC + (r + k) * m->C + c + 1;

		b->path[b->n++] = at;
		brute_walk(b, r + k, c + 1, score + m->h[at]);
		b->n--;
	}
}

/* The moves' marginals [(K + 1) R C] and log Z by enumeration. */
static double brute_move_marginals(const ma_case *m, double *mu)
{
	ma_brute b = {.m = m};
	double logz = -INFINITY;

	b.path[b.n++] = 0;
	brute_walk(&b, 0, 0, m->h[0]);
	for (int64_t p = 0; p < b.count; p++)
		logz = lse2(logz, b.scores[p]);
	memset(mu, 0, sizeof *mu * (size_t)((m->K + 1) * m->R * m->C));
	for (int64_t p = 0; p < b.count && logz > -INFINITY; p++)
		for (int64_t i = 0; i < MAX_MOVES && b.moves[p * MAX_MOVES + i] >= 0; i++)
			mu[b.moves[p * MAX_MOVES + i]] += exp(b.scores[p] - logz);
	free(b.scores);
	free(b.moves);
	return logz;
}

static double logz_of(const ma_case *m)
{
	ss_error err = {0};
	double logz = NAN;
	int rc = ss_log_partition(m->s, &m->e, m->ws, &logz, &err);

	CHECK(rc == SS_OK, "log Z failed: %s", err.message);
	return logz;
}

/* d log Z / d x[i] by central differences, for every finite x[i]. */
static void check_fd(const ma_case *m, double *x, int64_t size,
		     const double *mu, const char *name)
{
	const double h = 1e-5;

	for (int64_t i = 0; i < size; i++) {
		double saved = x[i], up, down;

		if (!isfinite(saved))
			continue;
		x[i] = saved + h;
		up = logz_of(m);
		x[i] = saved - h;
		down = logz_of(m);
		x[i] = saved;
		CHECK_CLOSE_AT((up - down) / (2 * h), mu[i], 1e-6,
			       "d log Z / d %s[%lld] vs the move marginal",
			       name, (long long)i);
	}
}

static void check_gradients(void)
{
	unit_rng r;

	unit_begin();
	urng_seed(&r, SALT + 1);
	for (int t = 0; t < 60; t++) {
		ma_case m;
		double *mu;
		int64_t RC;

		ma_case_init(&m, urng_int(&r, 1, 4), urng_int(&r, 1, 4),
			     urng_int(&r, 1, 3), t % 2);
		ma_case_random(&m, &r, t % 4 == 0 ? 0.25 : 0.0);
		RC = m.R * m.C;
		mu = calloc((size_t)((m.K + 1) * RC + 1), sizeof *mu);
		unit_context("case %d: R=%lld C=%lld K=%lld rows=%lld cols=%lld%s",
			     t, (long long)m.R, (long long)m.C, (long long)m.K,
			     (long long)m.rows, (long long)m.cols,
			     m.v ? " (vertical)" : "");
		if (brute_move_marginals(&m, mu) > -INFINITY) {
			check_fd(&m, m.h, m.K * RC, mu, "log_potentials_horizontal");
			if (m.v)
				check_fd(&m, m.v, RC, mu + m.K * RC,
					 "log_potentials_vertical");
		}
		free(mu);
		ma_case_free(&m);
	}
	unit_end("monotone-alignment: d log Z / d horizontal and vertical by central differences equal the brute-force move marginals (60 random elements; unused entries: 0)");
}

/*
 * lower_grad is the transpose of lower's Jacobian (tests/unit_lower_grad.c)
 * on random elements with -inf moves, lengths below R and C, and NaN in
 * every entry lower never reads; entry by entry on every element.
 */
static void check_lower_grads(void)
{
	unit_rng r;
	int64_t padded = 0;

	unit_begin();
	urng_seed(&r, SALT + 2);
	for (int t = 0; t < 120; t++) {
		ma_case m;
		int64_t RC;

		ma_case_init(&m, urng_int(&r, 1, 5), urng_int(&r, 1, 5),
			     urng_int(&r, 1, 3), t % 2);
		ma_case_random(&m, &r, t % 3 == 0 ? 0.25 : 0.05);
		RC = m.R * m.C;
		for (int64_t k = 0; k < m.K; k++)
			for (int64_t x = 0; x < RC; x++) {
				const int64_t row = x / m.C, col = x % m.C;
				const int read = (k == 0 && x == 0) ||
					(row >= k && row < m.rows && col >= 1 &&
					 col < m.cols);

				if (!read)
					m.h[k * RC + x] = NAN;
			}
		for (int64_t x = 0; m.v && x < RC; x++)
			if (x / m.C < 1 || x / m.C >= m.rows || x % m.C >= m.cols)
				m.v[x] = NAN;
		padded += m.rows < m.R || m.cols < m.C;
		unit_context("case %d: R=%lld C=%lld K=%lld rows=%lld cols=%lld%s",
			     t, (long long)m.R, (long long)m.C, (long long)m.K,
			     (long long)m.rows, (long long)m.cols,
			     m.v ? " (vertical)" : "");
		if (CHECK(m.s->validate(&m.e, m.ws, NULL) == SS_OK,
			  "validate refuses the element"))
			check_lower_grad(m.s, &m.e, NULL, &r, 4, 1);
		ma_case_free(&m);
	}
	CHECK(padded >= 40, "coverage: %lld padded elements", (long long)padded);
	unit_end("monotone-alignment: lower_grad is the transpose of lower's Jacobian: central differences along random directions and entry by entry, 0 where never read or -inf, no NaN (120 elements)");
}

/* One cell: one structure, entered by the start move H[0, 0, 0]. */
static void check_single_cell(void)
{
	ma_case m;
	ss_error err = {0};
	double logz = NAN, mu[4] = {0}, best[4] = {0}, score = NAN, count = NAN;
	int64_t pairs[6];
	int64_t *dec[1] = {pairs};

	unit_begin();
	ma_case_init(&m, 2, 2, 2, 1);
	for (int64_t k = 0; k < 8; k++)
		m.h[k] = 1.0 + (double)k;
	for (int64_t k = 0; k < 4; k++)
		m.v[k] = -2.0;
	m.rows = m.cols = 1;
	ma_case_setup(&m);
	CHECK(ss_log_partition(m.s, &m.e, m.ws, &logz, &err) == SS_OK &&
	      ss_marginals(m.s, &m.e, m.ws, mu, &logz, &err) == SS_OK &&
	      ss_argmax(m.s, &m.e, m.ws, best, &score, &err) == SS_OK &&
	      ss_log_count(m.s, &m.e, m.ws, &count, &err) == SS_OK,
	      "an op failed: %s", err.message);
	CHECK_CLOSE(logz, 1.0, RTOL);
	CHECK_CLOSE(score, 1.0, RTOL);
	CHECK_CLOSE(count, 0.0, RTOL);
	CHECK(mu[0] == 1.0 && mu[1] == 0.0 && mu[2] == 0.0 && mu[3] == 0.0,
	      "marginals [[%g, %g], [%g, %g]], want [[1, 0], [0, 0]]",
	      mu[0], mu[1], mu[2], mu[3]);
	CHECK(!memcmp(best, mu, sizeof mu), "the argmax is not the first cell");
	m.s->decode(&m.e, best, dec);
	CHECK(pairs[0] == 0 && pairs[1] == 0 && pairs[2] == -1 &&
	      pairs[3] == -1 && pairs[4] == -1 && pairs[5] == -1,
	      "pairs %lld %lld %lld %lld %lld %lld, want 0 0 then -1",
	      (long long)pairs[0], (long long)pairs[1], (long long)pairs[2],
	      (long long)pairs[3], (long long)pairs[4], (long long)pairs[5]);
	ma_case_free(&m);
	unit_end("monotone-alignment: a 1 x 1 table has one structure, the first cell, scored by horizontal[0, 0, 0]");
}

/* ss_score of a 3 x 3 event: SS_EDATA with message want (NULL: SS_OK). */
static void check_event(ma_case *m, const char *cells, const char *want)
{
	double event[9], score;
	ss_error err = {0};
	int rc;

	for (int k = 0; k < 9; k++)
		event[k] = cells[k] - '0';
	rc = ss_score(m->s, &m->e, m->ws, event, &score, &err);
	if (!want)
		CHECK(rc == SS_OK, "event %s: %s", cells, err.message);
	else if (CHECK(rc == SS_EDATA, "event %s: returned %d, want SS_EDATA",
		       cells, rc))
		CHECK(!strcmp(err.message, want), "event %s: message '%s', want '%s'",
		      cells, err.message, want);
}

static void check_not_paths(void)
{
	ma_case m;

	unit_begin();
	ma_case_init(&m, 3, 3, 2, 0);
	ma_case_setup(&m);
	/* cells row by row: "100 010 001" is the diagonal */
	check_event(&m, "100010001", NULL);
	check_event(&m, "110001000", "event ends at [1, 2], not at [2, 2]");
	check_event(&m, "010010001", "event does not start at [0, 0] (its first cell is [0, 1])");
	check_event(&m, "100100001", "event moves down from [0, 0] to [1, 0], but there is no 'log_potentials_vertical'");
	check_event(&m, "110000001", "event is not a monotone path: [2, 2] follows [0, 1]");
	check_event(&m, "120010001", "event holds 2 at [0, 1], not 0 or 1");
	ma_case_free(&m);
	ma_case_init(&m, 3, 3, 2, 1);
	m.rows = 2;
	ma_case_setup(&m);
	check_event(&m, "100100001", "event marks [2, 2], outside the 2 x 3 table of the lengths");
	check_event(&m, "100110000", "event ends at [1, 1], not at [1, 2]");
	check_event(&m, "101000000", "event is not a monotone path: [0, 2] follows [0, 0]");
	ma_case_free(&m);
	unit_end("monotone-alignment: log-prob rejects events that are not monotone paths of the element, saying why");
}

void suite_monotone_alignment(void)
{
	check_reference();
	check_counts();
	check_gradients();
	check_lower_grads();
	check_single_cell();
	check_not_paths();
}
