/*
 * unit_pcfg.c - pcfg identities the conformance rows do not state:
 * log Z is log p(sentence) by a textbook inside algorithm in probability
 * space, written here over normalised probabilities; and with preterminal
 * scores 0 (emission summing to 1) over a vocabulary, the sum over every
 * sentence of length 2 of p(sentence) is the probability that the grammar
 * derives exactly two words, Σ_X root[X] Σ_{P, Q} rule[X, P, Q]. And
 * lower_grad is the transpose of lower's Jacobian (check_lower_grad,
 * tests/unit_lower_grad.c), with -inf entries, whole rows of -inf,
 * padding past the length (NaN, never read) and a prepared emission.
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
	e.input[input_index(ss_structure_find("pcfg"), "root")].data = g->root;
	e.input[input_index(ss_structure_find("pcfg"), "rule")].data = g->rule;
	if (scores) {
		e.input[input_index(ss_structure_find("pcfg"),
				    "preterminal_scores")].data = scores;
	} else {
		e.input[input_index(ss_structure_find("pcfg"), "emission")].data = g->emis;
		e.input[input_index(ss_structure_find("pcfg"), "word_ids")].data = g->ids;
	}
	e.input[input_index(ss_structure_find("pcfg"), "lengths")].data = &g->len;
	return e;
}

/* ---- lower_grad against finite differences --------------------------------- */

/* Random pcfg inputs with -inf entries (and now and then a whole row of
 * -inf), NaN past the length. */
static void draw_grad(unit_rng *r, grammar *g, double *scores)
{
	double *rows[3] = {g->root, g->rule, g->emis};
	const int64_t count[3] = {NT, NT * NS * NS, PT * V};
	const int64_t width[3] = {NT, NS * NS, V};
	unit_draw_logit_rows(r, rows, count, width, 3);
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
			check_lower_grad(s, &e, NULL, &r, 4, 1);
	}
	unit_end("pcfg: lower_grad is the transpose of lower's Jacobian: entry by entry and along random directions against central differences, 0 where -inf or never read (24 grammars with -inf entries and rows, lengths 2 .. 6, emission, prepared or not, and preterminal_scores)");
	free(ws);
}
