/*
 * unit_pcfg.c - pcfg identities the conformance rows do not state:
 * log Z is log p(sentence) by a textbook inside algorithm in probability
 * space, written here over normalised probabilities; and with preterminal
 * scores 0 (emission summing to 1) over a vocabulary, the sum over every
 * sentence of length 2 of p(sentence) is the probability that the grammar
 * derives exactly two words, Σ_X root[X] Σ_{P, Q} rule[X, P, Q]. And
 * lower_grad is the transpose of lower's Jacobian (check_lower_grad, which
 * td-pcfg's suite shares), with -inf entries, whole rows of -inf, padding
 * past the length (NaN, never read) and a prepared emission.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NT 2
#define PT 3
#define NS (NT + PT)
#define V 3
#define N 6

typedef struct grammar {
	double root[NT], rule[NT * NS * NS], emis[PT * V];
	int64_t ids[N], len;
} grammar;

static void softmax(const double *x, int64_t m, double *p)
{
	double mx = -INFINITY, sum = 0;
	for (int64_t k = 0; k < m; k++)
		mx = x[k] > mx ? x[k] : mx;
	for (int64_t k = 0; k < m; k++)
		sum += exp(x[k] - mx);
	for (int64_t k = 0; k < m; k++)
		p[k] = exp(x[k] - mx) / sum;
}

/* The textbook inside probabilities I[i][j][S] (Baker 1979). */
static double textbook(const grammar *g)
{
	static double I[N][N][NS];
	double root[NT], rule[NT * NS * NS], emis[PT * V], p = 0;
	const int64_t L = g->len;
	softmax(g->root, NT, root);
	for (int X = 0; X < NT; X++)
		softmax(g->rule + X * NS * NS, NS * NS, rule + X * NS * NS);
	for (int q = 0; q < PT; q++)
		softmax(g->emis + q * V, V, emis + q * V);
	memset(I, 0, sizeof I);
	for (int64_t i = 0; i < L; i++)
		for (int q = 0; q < PT; q++)
			I[i][i][NT + q] = emis[q * V + g->ids[i]];
	for (int64_t w = 2; w <= L; w++)
		for (int64_t i = 0; i + w <= L; i++) {
			int64_t j = i + w - 1;
			for (int X = 0; X < NT; X++)
				for (int64_t k = i; k < j; k++)
					for (int Y = 0; Y < NS; Y++)
						for (int Z = 0; Z < NS; Z++)
							I[i][j][X] += rule[(X * NS + Y) * NS + Z] *
								      I[i][k][Y] * I[k + 1][j][Z];
		}
	for (int X = 0; X < NT; X++)
		p += root[X] * I[0][L - 1][X];
	return log(p);
}

static ss_element element(grammar *g, const double *scores)
{
	ss_element e;
	memset(&e, 0, sizeof e);
	e.dim[SS_DIM_N] = N;
	e.dim[SS_DIM_NT] = NT;
	e.dim[SS_DIM_PT] = PT;
	e.dim[SS_DIM_V] = V;
	ss_dims_derive(e.dim);
	e.input[input_index(ss_structure_find("pcfg"), "root")] = g->root;
	e.input[input_index(ss_structure_find("pcfg"), "rule")] = g->rule;
	if (scores) {
		e.input[input_index(ss_structure_find("pcfg"),
				    "preterminal_scores")] = scores;
	} else {
		e.input[input_index(ss_structure_find("pcfg"), "emission")] = g->emis;
		e.input[input_index(ss_structure_find("pcfg"), "word_ids")] = g->ids;
	}
	e.input[input_index(ss_structure_find("pcfg"), "lengths")] = &g->len;
	return e;
}

/* ---- lower_grad against finite differences --------------------------------- */

#define GRAD_H 1e-5
#define GRAD_TOL 1e-6

/* What check_lower_grad works with: e's real inputs (x[k], NULL for the
 * others) and their unperturbed copies, θ of those, dtheta. */
typedef struct grad_check {
	const ss_structure *s;
	const ss_element *e;
	void *ws;
	int64_t T, size[SS_MAX_INPUTS];
	double *x[SS_MAX_INPUTS], *orig[SS_MAX_INPUTS];
	double *theta, *theta0, *dtheta;
} grad_check;

/* Σ dtheta · θ over the entries finite in theta0, e lowered as its inputs
 * are now, without its preparations. */
static double lowered_dot(const grad_check *g)
{
	ss_element c, plain = *g->e;
	double f = 0;
	memset(plain.prepared, 0, sizeof plain.prepared);
	g->s->lower(&plain, g->ws, g->theta, &c);
	for (int64_t j = 0; j < g->T; j++)
		if (isfinite(g->theta0[j]))
			f += g->dtheta[j] * g->theta[j];
	return f;
}

/* The central difference of lowered_dot along δ: delta[k] [size[k]], or
 * (delta NULL) the unit vector at entry `at` of input k0. The inputs are
 * restored from their copies. */
static double central(const grad_check *g, double *const delta[], int k0,
		      int64_t at)
{
	double f[2];
	for (int side = 0; side < 2; side++) {
		const double h = side ? -GRAD_H : GRAD_H;
		for (int k = 0; delta && k < g->s->n_inputs; k++)
			for (int64_t i = 0; g->x[k] && i < g->size[k]; i++)
				if (delta[k][i] != 0.0)
					g->x[k][i] = g->orig[k][i] + h * delta[k][i];
		if (!delta)
			g->x[k0][at] = g->orig[k0][at] + h;
		f[side] = lowered_dot(g);
		for (int k = 0; k < g->s->n_inputs; k++)
			if (g->x[k])
				memcpy(g->x[k], g->orig[k],
				       (size_t)g->size[k] * sizeof(double));
	}
	return (f[0] - f[1]) / (2 * GRAD_H);
}

void check_lower_grad(const ss_structure *s, const ss_element *e,
		      unit_rng *r)
{
	const ss_structure *canon = s->canonical ? s->canonical : s;
	grad_check g = {.s = s, .e = e};
	double *grad[SS_MAX_INPUTS] = {0}, *one[SS_MAX_INPUTS] = {0};
	double *delta[SS_MAX_INPUTS] = {0};
	size_t bytes = s->workspace_bytes ? s->workspace_bytes(e->dim) : 0;
	ss_element c;

	g.T = ss_event_size(canon, e->dim);
	g.ws = ws_alloc(bytes);
	g.theta = malloc((size_t)g.T * sizeof(double));
	g.theta0 = malloc((size_t)g.T * sizeof(double));
	g.dtheta = malloc((size_t)g.T * sizeof(double));
	for (int k = 0; k < s->n_inputs; k++) {
		if (s->inputs[k].kind != SS_REAL || !e->input[k])
			continue;
		g.size[k] = ss_input_size(s, k, e->dim);
		g.x[k] = (double *)e->input[k];
		g.orig[k] = malloc((size_t)g.size[k] * sizeof(double));
		memcpy(g.orig[k], g.x[k], (size_t)g.size[k] * sizeof(double));
		grad[k] = calloc((size_t)g.size[k], sizeof(double));
		delta[k] = calloc((size_t)g.size[k], sizeof(double));
	}
	s->lower(e, g.ws, g.theta0, &c);
	for (int64_t j = 0; j < g.T; j++) {
		CHECK(!isnan(g.theta0[j]), "θ[%lld] is NaN", (long long)j);
		g.dtheta[j] = urng_normal(r);
	}
	s->lower_grad(e, g.ws, g.dtheta, grad);

	/* each entry: finite ones against their difference, others 0 */
	for (int k = 0; k < s->n_inputs; k++)
		for (int64_t i = 0; g.x[k] && i < g.size[k]; i++) {
			const char *name = s->inputs[k].name;
			if (!isfinite(g.orig[k][i]))
				CHECK(grad[k][i] == 0.0,
				      "'%s' [%lld] is %g (never read or -inf), its gradient %g, not 0",
				      name, (long long)i, g.orig[k][i],
				      grad[k][i]);
			else
				CHECK_CLOSE_AT(grad[k][i], central(&g, NULL, k, i),
					       GRAD_TOL, "d/d '%s' [%lld]", name,
					       (long long)i);
		}
	/* random directions over the finite entries */
	for (int t = 0; t < 4; t++) {
		double lhs = 0;
		for (int k = 0; k < s->n_inputs; k++)
			for (int64_t i = 0; g.x[k] && i < g.size[k]; i++) {
				delta[k][i] = isfinite(g.orig[k][i])
						      ? urng_normal(r) : 0.0;
				lhs += grad[k][i] * delta[k][i];
			}
		CHECK_CLOSE_AT(lhs, central(&g, delta, 0, 0), GRAD_TOL,
			       "Σ grad · δ, direction %d", t);
	}
	/* one gradient at a time: the same bits */
	for (int k = 0; k < s->n_inputs; k++) {
		double *only[SS_MAX_INPUTS] = {0};
		if (!grad[k])
			continue;
		one[k] = calloc((size_t)g.size[k], sizeof(double));
		only[k] = one[k];
		s->lower_grad(e, g.ws, g.dtheta, only);
		CHECK(!memcmp(one[k], grad[k],
			      (size_t)g.size[k] * sizeof(double)),
		      "'%s': the gradient differs when the others are NULL",
		      s->inputs[k].name);
	}
	for (int k = 0; k < s->n_inputs; k++) {
		free(grad[k]);
		free(one[k]);
		free(delta[k]);
		free(g.orig[k]);
	}
	free(g.theta);
	free(g.theta0);
	free(g.dtheta);
	free(g.ws);
}

/* Random pcfg inputs with -inf entries (and now and then a whole row of
 * -inf), NaN past the length. */
static void draw_grad(unit_rng *r, grammar *g, double *scores)
{
	double *rows[3] = {g->root, g->rule, g->emis};
	const int64_t count[3] = {NT, NT * NS * NS, PT * V};
	const int64_t width[3] = {NT, NS * NS, V};
	for (int a = 0; a < 3; a++)
		for (int64_t k = 0; k < count[a]; k++) {
			if (k % width[a] == 0 && urng_uniform(r) < 0.1) {
				for (int64_t m = 0; m < width[a]; m++)
					rows[a][k + m] = -INFINITY;
				k += width[a] - 1;
				continue;
			}
			rows[a][k] = urng_uniform(r) < 0.15 ? -INFINITY
							   : 2 * urng_normal(r);
		}
	g->len = urng_int(r, 0, 3) ? urng_int(r, 2, N - 1) : N;
	for (int64_t i = 0; i < N; i++) {
		g->ids[i] = i < g->len ? urng_int(r, 0, V - 1) : -1;
		for (int p = 0; p < PT; p++)
			scores[i * PT + p] = i >= g->len ? NAN
					     : urng_uniform(r) < 0.15 ? -INFINITY
					     : 2 * urng_normal(r);
	}
}

void suite_pcfg(void)
{
	const ss_structure *s = ss_structure_find("pcfg");
	unit_rng r;
	grammar g;
	ss_error err;
	ss_element dims = element(&g, NULL);
	/* SS_OP_COUNT: validate's, the most of any operation's */
	void *ws = aligned_alloc(64, ss_workspace_bytes(s, SS_OP_COUNT,
							dims.dim));

	urng_seed(&r, 2024);
	unit_begin();
	for (int t = 0; t < 40; t++) {
		ss_element e;
		double logz;
		for (int k = 0; k < NT; k++)
			g.root[k] = 2 * urng_normal(&r);
		for (int k = 0; k < NT * NS * NS; k++)
			g.rule[k] = 2 * urng_normal(&r);
		for (int k = 0; k < PT * V; k++)
			g.emis[k] = 2 * urng_normal(&r);
		g.len = urng_int(&r, 2, N);
		for (int64_t i = 0; i < N; i++)
			g.ids[i] = i < g.len ? urng_int(&r, 0, V - 1) : -1;
		e = element(&g, NULL);
		unit_context("grammar %d, length %lld", t, (long long)g.len);
		if (CHECK(s->validate(&e, ws, &err) == SS_OK, "validate: %s",
			  err.message) &&
		    CHECK(ss_log_partition(s, &e, ws, &logz, &err) == SS_OK,
			  "%s", err.message))
			CHECK_CLOSE(logz, textbook(&g), RTOL);
	}
	unit_end("pcfg: log Z = log p(sentence) of a textbook inside algorithm in probability space (40 grammars, lengths 2 .. 6)");

	unit_begin();
	for (int t = 0; t < 10; t++) {
		double scores[N * PT] = {0}, total = 0, want = 0;
		double root[NT], rule[NT * NS * NS];
		ss_element e;
		for (int k = 0; k < NT; k++)
			g.root[k] = 2 * urng_normal(&r);
		for (int k = 0; k < NT * NS * NS; k++)
			g.rule[k] = 2 * urng_normal(&r);
		g.len = 2;
		/* the emission of any word is 1: every pair of words at once */
		e = element(&g, scores);
		softmax(g.root, NT, root);
		for (int X = 0; X < NT; X++)
			softmax(g.rule + X * NS * NS, NS * NS, rule + X * NS * NS);
		for (int X = 0; X < NT; X++)
			for (int Y = NT; Y < NS; Y++)
				for (int Z = NT; Z < NS; Z++)
					want += root[X] * rule[(X * NS + Y) * NS + Z];
		/* Σ over the V² sentences of p(sentence) with uniform emission
		 * logits is the same sum, word by word */
		for (int64_t a = 0; a < V; a++)
			for (int64_t b = 0; b < V; b++) {
				double logz;
				memset(g.emis, 0, sizeof g.emis);
				g.ids[0] = a;
				g.ids[1] = b;
				ss_element ew = element(&g, NULL);
				ss_log_partition(s, &ew, ws, &logz, &err);
				total += exp(logz);
			}
		unit_context("grammar %d", t);
		double logz;
		CHECK(ss_log_partition(s, &e, ws, &logz, &err) == SS_OK, "%s",
		      err.message);
		CHECK_CLOSE(exp(logz), want, RTOL);
		CHECK_CLOSE(total, want, RTOL);
	}
	unit_end("pcfg: with emission summing to 1, Σ over sentences of length 2 of p(sentence) = Σ root[X] rule[X, P, Q], the probability of a two-word derivation");

	unit_begin();
	for (int t = 0; t < 24; t++) {
		const int with_scores = t % 2, prepared = t % 4 == 2;
		const int emission = input_index(s, "emission");
		double scores[N * PT], norm[PT];
		ss_element e;
		draw_grad(&r, &g, scores);
		e = element(&g, with_scores ? scores : NULL);
		unit_context("grammar %d, length %lld, %s%s", t,
			     (long long)g.len,
			     with_scores ? "preterminal_scores" : "emission",
			     prepared ? ", prepared" : "");
		if (prepared &&
		    CHECK(s->prepare(emission, g.emis, e.dim, norm, &err) == SS_OK,
			  "%s", err.message))
			e.prepared[emission] = norm;
		if (CHECK(s->validate(&e, ws, &err) == SS_OK, "validate: %s",
			  err.message))
			check_lower_grad(s, &e, &r);
	}
	unit_end("pcfg: lower_grad is the transpose of lower's Jacobian: entry by entry and along random directions against central differences, 0 where -inf or never read (24 grammars with -inf entries and rows, lengths 2 .. 6, emission, prepared or not, and preterminal_scores)");
	free(ws);
}
