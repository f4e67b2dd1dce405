/*
 * unit_ctc.c - ctc beyond the conformance suite (tests/unit_conformance.c):
 * log Z against an independent textbook CTC forward pass on larger random
 * problems (repeated labels, blank_id != 0, infeasible lengths), hand-worked
 * values, bad input, the decodes, the pair check of cross-entropy / kl,
 * and lower_grad against central differences.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* One ctc element with its own storage. */
typedef struct ctc_problem {
	const ss_structure *s;
	int64_t n, L, V, T, Lp, blank;
	double *x;        /* [n, V] */
	int64_t *labels;  /* [L] */
	int64_t input_len, label_len;
	ss_element e;
	void *ws;
} ctc_problem;

static void ctc_problem_alloc(ctc_problem *p, int64_t n, int64_t L,
			      int64_t V)
{
	memset(p, 0, sizeof *p);
	p->s = ss_structure_find("ctc");
	p->n = n;
	p->L = L;
	p->V = V;
	p->T = n;
	p->Lp = L;
	p->x = calloc((size_t)(n * V + 1), sizeof *p->x);
	p->labels = calloc((size_t)(L + 1), sizeof *p->labels);
}

/* The element of p's fields, and a workspace large enough for any op. */
static void ctc_problem_setup(ctc_problem *p)
{
	size_t bytes = 0;

	memset(&p->e, 0, sizeof p->e);
	p->e.dim[SS_DIM_N] = p->n;
	p->e.dim[SS_DIM_L] = p->L;
	p->e.dim[SS_DIM_V] = p->V;
	ss_dims_derive(p->e.dim);
	p->input_len = p->T;
	p->label_len = p->Lp;
	p->e.input[input_index(p->s, "log_potentials")].data = p->x;
	p->e.input[input_index(p->s, "labels")].data = p->labels;
	p->e.input[input_index(p->s, "input_lengths")].data = &p->input_len;
	p->e.input[input_index(p->s, "label_lengths")].data = &p->label_len;
	p->e.option[option_index(p->s, "blank_id")] = p->blank;
	for (int op = 0; op <= SS_OP_COUNT; op++) {
		size_t b = ss_workspace_bytes(p->s, (ss_op)op, p->e.dim);
		bytes = b > bytes ? b : bytes;
	}
	free(p->ws);
	p->ws = ws_alloc(bytes);
}

static void ctc_problem_free(ctc_problem *p)
{
	free(p->x);
	free(p->labels);
	free(p->ws);
	memset(p, 0, sizeof *p);
}

/* ---- the textbook forward pass (Graves et al. 2006, section 4.1) ---------- */

static double log_add(double a, double b)
{
	double m = a > b ? a : b;

	if (m == -INFINITY)
		return m;
	return m + log(exp(a - m) + exp(b - m));
}

/*
 * log p(l | x): y_k^t the softmax of frame t, l' the labels with blanks
 * added at the beginning, the end and between every pair, and
 *   α_1(1) = y_b^1, α_1(2) = y_{l_1}^1, α_1(s) = 0 for s > 2,
 *   α_t(s) = ᾱ_t(s) y_{l'_s}^t                if l'_s = b or l'_{s-2} = l'_s
 *          = (ᾱ_t(s) + α_{t-1}(s-2)) y_{l'_s}^t  otherwise,
 *   ᾱ_t(s) = α_{t-1}(s) + α_{t-1}(s-1),
 *   p(l | x) = α_T(|l'|) + α_T(|l'| - 1),
 * all in log space, 1-based as in the paper. T = 0: 1 for the empty
 * label sequence, 0 otherwise.
 */
static double textbook_log_z(const double *x, int64_t V, int64_t T,
			     const int64_t *l, int64_t U, int64_t blank)
{
	const int64_t S = 2 * U + 1;
	double *a = malloc(sizeof *a * (size_t)(S + 1));
	double *prev = malloc(sizeof *prev * (size_t)(S + 1));
	double *logy = malloc(sizeof *logy * (size_t)(V + 1));
	int64_t *ext = malloc(sizeof *ext * (size_t)(S + 1));
	double result;

	if (T == 0) {
		result = U == 0 ? 0.0 : -INFINITY;
		goto done;
	}
	for (int64_t s = 1; s <= S; s++)
		ext[s] = s % 2 == 1 ? blank : l[s / 2 - 1];
	for (int64_t t = 1; t <= T; t++) {
		const double *row = x + (t - 1) * V;
		double m = -INFINITY, sum = 0.0;

		for (int64_t v = 0; v < V; v++)
			m = row[v] > m ? row[v] : m;
		for (int64_t v = 0; v < V; v++)
			sum += m == -INFINITY ? 0.0 : exp(row[v] - m);
		for (int64_t v = 0; v < V; v++)
			logy[v] = m == -INFINITY ? -INFINITY : row[v] - m - log(sum);
		for (int64_t s = 1; s <= S; s++) {
			double v;

			if (t == 1) {
				a[s] = s <= 2 ? logy[ext[s]] : -INFINITY;
				continue;
			}
			v = log_add(prev[s], s > 1 ? prev[s - 1] : -INFINITY);
			if (!(ext[s] == blank || (s > 2 && ext[s - 2] == ext[s])) &&
			    s > 2)
				v = log_add(v, prev[s - 2]);
			a[s] = v + logy[ext[s]];
		}
		memcpy(prev, a, sizeof *a * (size_t)(S + 1));
	}
	result = log_add(a[S], S > 1 ? a[S - 1] : -INFINITY);
done:
	free(a);
	free(prev);
	free(logy);
	free(ext);
	return result;
}

/* ---- random problems -------------------------------------------------------------- */

/* Fills p with random logits (scale, now and then -inf), labels other
 * than the blank with adjacent repeats, lengths that may leave no
 * alignment (T < L' + repeats), and padding that must never be read. */
static void random_problem(ctc_problem *p, unit_rng *r, double scale)
{
	const int64_t n = urng_int(r, 0, 12), L = urng_int(r, 0, 5);
	const int64_t V = urng_int(r, 2, 5);

	ctc_problem_alloc(p, n, L, V);
	p->blank = urng_int(r, 0, V - 1);
	p->T = urng_int(r, 0, n);
	p->Lp = urng_int(r, 0, L);
	for (int64_t t = 0; t < n; t++)
		for (int64_t v = 0; v < V; v++)
			p->x[t * V + v] = t >= p->T ? NAN
				: urng_uniform(r) < 0.05 ? -INFINITY
				: scale * urng_normal(r);
	for (int64_t i = 0; i < L; i++) {
		if (i >= p->Lp) {
			p->labels[i] = -1;
		} else if (i > 0 && urng_uniform(r) < 0.35) {
			p->labels[i] = p->labels[i - 1];
		} else {
			p->labels[i] = urng_int(r, 0, V - 2);
			p->labels[i] += p->labels[i] >= p->blank;
		}
	}
	ctc_problem_setup(p);
}

/* log Z through ss_log_partition, after validate; NAN on failure. */
static double engine_log_z(const ctc_problem *p)
{
	ss_error err = {0};
	double logz = NAN;

	if (!CHECK(p->s->validate(&p->e, p->ws, &err) == SS_OK,
		   "validate: %s", err.message))
		return NAN;
	CHECK(ss_log_partition(p->s, &p->e, p->ws, &logz, &err) == SS_OK,
	      "ss_log_partition: %s", err.message);
	return logz;
}

static void suite_textbook(void)
{
	static const double scales[] = {1.0, 5.0, 300.0};
	unit_rng r;
	int64_t infeasible = 0, repeats = 0, nonzero_blank = 0, finite = 0;

	urng_seed(&r, 9);
	unit_begin();
	for (int k = 0; k < 600; k++) {
		ctc_problem p;
		double want, got;

		random_problem(&p, &r, scales[k % 3]);
		unit_context("problem %d: n=%lld T=%lld L=%lld L'=%lld V=%lld blank=%lld",
			     k, (long long)p.n, (long long)p.T, (long long)p.L,
			     (long long)p.Lp, (long long)p.V, (long long)p.blank);
		want = textbook_log_z(p.x, p.V, p.T, p.labels, p.Lp, p.blank);
		got = engine_log_z(&p);
		CHECK_CLOSE_AT(got, want, RTOL, "log Z against the textbook");
		infeasible += want == -INFINITY;
		finite += isfinite(want);
		nonzero_blank += p.blank != 0;
		for (int64_t i = 1; i < p.Lp; i++)
			repeats += p.labels[i] == p.labels[i - 1];
		ctc_problem_free(&p);
	}
	CHECK(infeasible >= 50 && finite >= 300 && repeats >= 50 &&
	      nonzero_blank >= 200,
	      "coverage: %lld -inf, %lld finite, %lld repeats, %lld blank != 0",
	      (long long)infeasible, (long long)finite, (long long)repeats,
	      (long long)nonzero_blank);
	unit_end("ctc: log Z = the textbook CTC forward pass (Graves et al. 2006) on 600 random problems: repeated labels, blank_id != 0, infeasible lengths, -inf logits, NaN padding, scales 1 to 300");
}

/* ---- lower_grad ------------------------------------------------------------------------ */

/*
 * lower_grad is the transpose of lower's Jacobian (tests/unit_lower_grad.c)
 * on the random problems above (NaN frames past T, -inf logits, repeated
 * labels, blank_id != 0), a dead frame (all -inf) now and then; entry by
 * entry on every problem.
 */
static void suite_lower_grad(void)
{
	unit_rng r;
	int64_t padded = 0, dead = 0;

	urng_seed(&r, 17);
	unit_begin();
	for (int k = 0; k < 200; k++) {
		ctc_problem p;

		random_problem(&p, &r, 1.5);
		unit_context("problem %d: n=%lld T=%lld L=%lld L'=%lld V=%lld blank=%lld",
			     k, (long long)p.n, (long long)p.T, (long long)p.L,
			     (long long)p.Lp, (long long)p.V, (long long)p.blank);
		if (p.T > 0 && urng_uniform(&r) < 0.2) {
			const int64_t t = urng_int(&r, 0, p.T - 1);

			for (int64_t v = 0; v < p.V; v++)
				p.x[t * p.V + v] = -INFINITY;
			dead++;
		}
		padded += p.T < p.n;
		if (CHECK(p.s->validate(&p.e, p.ws, NULL) == SS_OK,
			  "validate refuses the problem"))
			check_lower_grad(p.s, &p.e, NULL, &r, 4, 1);
		ctc_problem_free(&p);
	}
	CHECK(padded >= 50 && dead >= 20, "coverage: %lld padded, %lld dead frames",
	      (long long)padded, (long long)dead);
	unit_end("ctc: lower_grad is the transpose of lower's Jacobian: central differences along random directions and entry by entry, 0 where never read or -inf, no NaN (200 problems)");
}

/* ---- hand-worked values ------------------------------------------------------------- */

/* A problem of n frames of logits x [n, V] and labels l [L]. */
static void hand_problem(ctc_problem *p, int64_t n, int64_t V,
			 const double *x, int64_t L, const int64_t *l,
			 int64_t blank)
{
	ctc_problem_alloc(p, n, L, V);
	memcpy(p->x, x, sizeof *x * (size_t)(n * V));
	memcpy(p->labels, l, sizeof *l * (size_t)L);
	p->blank = blank;
	ctc_problem_setup(p);
}

static void suite_hand(void)
{
	const double zero4[4] = {0, 0, 0, 0}, zero6[6] = {0, 0, 0, 0, 0, 0};
	const int64_t one[1] = {1}, aa[2] = {1, 1}, zero[1] = {0};
	/* frame 0: p(blank) = 1/4, p(1) = 3/4; frame 1: 1/2, 1/2 */
	const double skew[4] = {0, log(3.0), 0, 0};
	ctc_problem p;

	unit_begin();
	/* "1" over 2 frames, uniform: (b,1), (1,1), (1,b): 3/4. */
	hand_problem(&p, 2, 2, zero4, 1, one, 0);
	CHECK_CLOSE(engine_log_z(&p), log(0.75), RTOL);
	ctc_problem_free(&p);
	/* the same with skewed frame 0: 1/4 1/2 + 3/4 1/2 + 3/4 1/2 = 7/8 */
	hand_problem(&p, 2, 2, skew, 1, one, 0);
	CHECK_CLOSE(engine_log_z(&p), log(7.0 / 8.0), RTOL);
	ctc_problem_free(&p);
	/* blank_id 1, label 0 (frame 0: p(label) = 1/4, p(blank) = 3/4):
	 * (b,0) 3/4 1/2 + (0,0) 1/4 1/2 + (0,b) 1/4 1/2 = 5/8 */
	hand_problem(&p, 2, 2, skew, 1, zero, 1);
	CHECK_CLOSE(engine_log_z(&p), log(5.0 / 8.0), RTOL);
	ctc_problem_free(&p);
	/* "1 1" needs a blank between: 2 frames none, 3 frames one path */
	hand_problem(&p, 2, 2, zero4, 2, aa, 0);
	CHECK_CLOSE(engine_log_z(&p), -INFINITY, RTOL);
	ctc_problem_free(&p);
	hand_problem(&p, 3, 2, zero6, 2, aa, 0);
	CHECK_CLOSE(engine_log_z(&p), log(1.0 / 8.0), RTOL);
	ctc_problem_free(&p);
	/* T = 0: log Z = 0 without labels, -inf with */
	hand_problem(&p, 2, 2, zero4, 1, one, 0);
	p.T = 0;
	ctc_problem_setup(&p);
	CHECK_CLOSE(engine_log_z(&p), -INFINITY, RTOL);
	p.Lp = 0;
	ctc_problem_setup(&p);
	CHECK_CLOSE(engine_log_z(&p), 0.0, RTOL);
	/* no labels, 2 frames: all blank, (1/2)^2 */
	p.T = 2;
	ctc_problem_setup(&p);
	CHECK_CLOSE(engine_log_z(&p), log(0.25), RTOL);
	/* a frame entirely -inf leaves no alignment */
	p.x[2] = p.x[3] = -INFINITY;
	CHECK_CLOSE(engine_log_z(&p), -INFINITY, RTOL);
	ctc_problem_free(&p);
	unit_end("ctc: hand-worked log Z: uniform and skewed frames, blank_id 1, repeated labels, T = 0, a dead frame");
}

/* ---- bad input ------------------------------------------------------------------------ */

/* validate on p fails with exactly want. */
static void check_rejects(const ctc_problem *p, const char *want)
{
	ss_error err = {0};
	int rc = p->s->validate(&p->e, p->ws, &err);

	CHECK(rc == SS_EDATA && !strcmp(err.message, want),
	      "validate returned %d '%s', want '%s'", rc, err.message, want);
}

static void suite_bad_input(void)
{
	const double x[6] = {0, 1, 2, 3, 4, 5};
	const int64_t l[2] = {1, 2};
	ctc_problem p;
	ss_error err = {0};

	unit_begin();
	hand_problem(&p, 2, 3, x, 2, l, 0);
	p.labels[1] = 0;
	check_rejects(&p, "dataset 'labels' holds 0 at [1], the blank id");
	p.labels[1] = 3;
	check_rejects(&p, "dataset 'labels' holds 3 at [1], outside [0, 3)");
	p.labels[1] = -1;
	check_rejects(&p, "dataset 'labels' holds -1 at [1], outside [0, 3)");
	p.label_len = 1; /* past the label length: ignored */
	CHECK(p.s->validate(&p.e, p.ws, &err) == SS_OK, "%s", err.message);
	p.label_len = 3;
	check_rejects(&p, "dataset 'label_lengths' holds 3, outside [0, 2]");
	p.label_len = 1;
	p.input_len = 3;
	check_rejects(&p, "dataset 'input_lengths' holds 3, outside [0, 2]");
	p.input_len = 2;
	p.e.option[option_index(p.s, "blank_id")] = 3;
	check_rejects(&p, "option 'blank_id' is 3, not below the vocabulary size V = 3");
	p.e.option[option_index(p.s, "blank_id")] = 0;
	p.x[4] = NAN;
	check_rejects(&p, "dataset 'log_potentials' holds NaN at [1, 1]");
	p.x[4] = INFINITY;
	check_rejects(&p, "dataset 'log_potentials' holds +inf at [1, 1]");
	p.input_len = 1; /* a padding frame: never read */
	CHECK(p.s->validate(&p.e, p.ws, &err) == SS_OK, "%s", err.message);
	ctc_problem_free(&p);
	unit_end("ctc: validate names the dataset, the index and why (labels = blank, out of range, lengths, blank_id >= V, NaN, +inf) and accepts padding");
}

/* ---- decodes, encode, pairs ---------------------------------------------------------- */

static void suite_decodes(void)
{
	/* frames favour: 1, 1, blank, 2, blank(padding) */
	const double x[15] = {0, 5, 0, 0, 5, 0, 5, 0, 0, 0, 0, 5, 9, 9, 9};
	const int64_t l[2] = {1, 2};
	ctc_problem p, q;
	double *event, score;
	int64_t path[5], tokens[5], *const decodes[2] = {path, tokens};
	const int64_t want_path[5] = {1, 1, 0, 2, -1};
	const int64_t want_tokens[5] = {1, 2, -1, -1, -1};
	ss_error err = {0};
	int64_t E;

	unit_begin();
	hand_problem(&p, 5, 3, x, 2, l, 0);
	p.T = 4;
	ctc_problem_setup(&p);
	E = ss_array_size(&p.s->event, p.e.dim);
	event = calloc((size_t)E + 1, sizeof *event);
	CHECK(ss_argmax(p.s, &p.e, p.ws, event, &score, &err) == SS_OK, "%s",
	      err.message);
	p.s->decode(&p.e, event, decodes);
	CHECK(!memcmp(path, want_path, sizeof path), "path %lld %lld %lld %lld %lld",
	      (long long)path[0], (long long)path[1], (long long)path[2],
	      (long long)path[3], (long long)path[4]);
	CHECK(!memcmp(tokens, want_tokens, sizeof tokens), "tokens %lld %lld",
	      (long long)tokens[0], (long long)tokens[1]);
	/* encode: the path back; a path that skips a needed row fails */
	{
		const int64_t bad[5] = {1, 0, 0, 0, -1}, empty[5] = {-1, -1, -1, -1, 7};
		double *back = calloc((size_t)E + 1, sizeof *back);

		CHECK(ss_encode(p.s, &p.e, path, back, &err) == SS_OK, "%s", err.message);
		CHECK(!memcmp(back, event, sizeof *back * (size_t)E), "encode(decode) differs");
		CHECK(ss_encode(p.s, &p.e, bad, back, &err) == SS_EDATA &&
		      !strcmp(err.message, "path is not an alignment of the labels at frame 3"),
		      "encode of a bad path: '%s'", err.message);
		CHECK(ss_encode(p.s, &p.e, empty, back, &err) == SS_OK, "%s", err.message);
		free(back);
	}
	/* check_pair: the same labels within the length, any past it */
	hand_problem(&q, 5, 3, x, 2, l, 0);
	q.T = 4;
	ctc_problem_setup(&q);
	CHECK(p.s->check_pair(&p.e, &q.e, &err) == SS_OK, "%s", err.message);
	q.labels[1] = 1;
	CHECK(p.s->check_pair(&p.e, &q.e, &err) == SS_EDATA &&
	      !strcmp(err.message, "'labels' differ between P and Q at [1]"),
	      "check_pair: '%s'", err.message);
	p.label_len = q.label_len = 1;
	CHECK(p.s->check_pair(&p.e, &q.e, &err) == SS_OK, "%s", err.message);
	free(event);
	ctc_problem_free(&p);
	ctc_problem_free(&q);
	unit_end("ctc: argmax decodes to path and tokens (-1 in padding), encode inverts it and rejects a path that is no alignment; P and Q must share the labels");
}

void suite_ctc(void)
{
	suite_textbook();
	suite_hand();
	suite_bad_input();
	suite_decodes();
	suite_lower_grad();
}
