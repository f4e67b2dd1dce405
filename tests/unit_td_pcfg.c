/*
 * unit_td_pcfg.c - td-pcfg identities the conformance rows do not state:
 * on random grammars, a td-pcfg is the pcfg of the rules it decomposes,
 * rule[X, Y, Z] = log Σ_r U[X, r] Left[r, Y] Right[r, Z], so that their
 * log Z agree, so do their tags' marginals, and the td-pcfg's span-rank
 * marginals summed over r are the pcfg's span marginals summed over X;
 * and where nothing is -inf, count is log(Catalan(L-1) (nt r)^(L-1)
 * pt^L), the derivations of a sentence of L words. And lower_grad is the
 * transpose of lower's Jacobian (check_lower_grad, tests/unit_lower_grad.c),
 * with -inf entries, whole rows of -inf, padding past the length (NaN,
 * never read) and a prepared emission.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define NT 2
#define PT 3
#define NS (NT + PT)
#define R 3
#define V 4
#define N 6

typedef struct grammar {
	double root[NT], U[NT * R], left[R * NS], right[R * NS];
	double rule[NT * NS * NS], emis[PT * V], scores[N * PT];
	int64_t ids[N], len;
} grammar;

static void log_softmax(const double *x, int64_t m, double *out)
{
	double mx = -INFINITY, sum = 0;
	for (int64_t k = 0; k < m; k++)
		mx = x[k] > mx ? x[k] : mx;
	for (int64_t k = 0; k < m; k++)
		sum += exp(x[k] - mx);
	for (int64_t k = 0; k < m; k++)
		out[k] = x[k] - mx - log(sum);
}

/* rule[X, Y, Z] = log Σ_r U[X, r] Left[r, Y] Right[r, Z], normalised. */
static void compose(grammar *g)
{
	double U[NT * R], left[R * NS], right[R * NS];
	for (int X = 0; X < NT; X++)
		log_softmax(g->U + X * R, R, U + X * R);
	for (int r = 0; r < R; r++) {
		log_softmax(g->left + r * NS, NS, left + r * NS);
		log_softmax(g->right + r * NS, NS, right + r * NS);
	}
	for (int X = 0; X < NT; X++)
		for (int Y = 0; Y < NS; Y++)
			for (int Z = 0; Z < NS; Z++) {
				double p = 0;
				for (int r = 0; r < R; r++)
					p += exp(U[X * R + r] + left[r * NS + Y] +
						 right[r * NS + Z]);
				g->rule[(X * NS + Y) * NS + Z] = log(p);
			}
}

/* The element of structure s (pcfg or td-pcfg) over g's inputs. */
static ss_element element(const ss_structure *s, grammar *g, int scores)
{
	ss_element e;
	memset(&e, 0, sizeof e);
	e.dim[SS_DIM_N] = N;
	e.dim[SS_DIM_NT] = NT;
	e.dim[SS_DIM_PT] = PT;
	e.dim[SS_DIM_V] = scores ? 0 : V;
	e.dim[SS_DIM_RANK] = !strcmp(s->name, "td-pcfg") ? R : 0;
	ss_dims_derive(e.dim);
	e.input[input_index(s, "root")].data = g->root;
	if (e.dim[SS_DIM_RANK]) {
		e.input[input_index(s, "nt_to_rank")].data = g->U;
		e.input[input_index(s, "rank_to_left_nt")].data = g->left;
		e.input[input_index(s, "rank_to_right_nt")].data = g->right;
	} else {
		e.input[input_index(s, "rule")].data = g->rule;
	}
	if (scores) {
		e.input[input_index(s, "preterminal_scores")].data = g->scores;
	} else {
		e.input[input_index(s, "emission")].data = g->emis;
		e.input[input_index(s, "word_ids")].data = g->ids;
	}
	e.input[input_index(s, "lengths")].data = &g->len;
	return e;
}

static void draw(unit_rng *r, grammar *g)
{
	for (int k = 0; k < NT; k++)
		g->root[k] = 2 * urng_normal(r);
	for (int k = 0; k < NT * R; k++)
		g->U[k] = 2 * urng_normal(r);
	for (int k = 0; k < R * NS; k++) {
		g->left[k] = 2 * urng_normal(r);
		g->right[k] = 2 * urng_normal(r);
	}
	for (int k = 0; k < PT * V; k++)
		g->emis[k] = 2 * urng_normal(r);
	for (int k = 0; k < N * PT; k++)
		g->scores[k] = 2 * urng_normal(r);
	g->len = urng_int(r, 2, N);
	for (int64_t i = 0; i < N; i++)
		g->ids[i] = i < g->len ? urng_int(r, 0, V - 1) : -1;
	compose(g);
}

/* Random inputs with -inf entries (and now and then a whole row of
 * -inf), NaN past the length. */
static void draw_grad(unit_rng *r, grammar *g)
{
	double *rows[5] = {g->root, g->U, g->left, g->right, g->emis};
	const int64_t count[5] = {NT, NT * R, R * NS, R * NS, PT * V};
	const int64_t width[5] = {NT, R, NS, NS, V};
	unit_draw_logit_rows(r, rows, count, width, 5);
	g->len = urng_int(r, 0, 3) ? urng_int(r, 2, N - 1) : N;
	for (int64_t i = 0; i < N; i++) {
		g->ids[i] = i < g->len ? urng_int(r, 0, V - 1) : -1;
		for (int p = 0; p < PT; p++)
			g->scores[i * PT + p] = i >= g->len ? NAN
						: urng_uniform(r) < 0.15 ? -INFINITY
						: 2 * urng_normal(r);
	}
}

/* td-pcfg's marginals mu against the pcfg's pm. */
static void check_marginals(const double *mu, const double *pm)
{
	const double *td_tags = mu + N * N * R, *tags = pm + N * N * NT;
	for (int i = 0; i < N; i++) {
		for (int j = i + 1; j < N; j++) {
			double a = 0, b = 0;
			for (int r = 0; r < R; r++)
				a += mu[(i * N + j) * R + r];
			for (int X = 0; X < NT; X++)
				b += pm[(i * N + j) * NT + X];
			CHECK_CLOSE_AT(a, b, 1e-9, "Σ_r span marginal [%d, %d]",
				       i, j);
		}
		for (int p = 0; p < PT; p++)
			CHECK_CLOSE_AT(td_tags[i * PT + p], tags[i * PT + p], 1e-9,
				       "tag marginal [%d, %d]", i, p);
	}
}

void suite_td_pcfg(void)
{
	const ss_structure *td = ss_structure_find("td-pcfg");
	const ss_structure *pcfg = ss_structure_find("pcfg");
	grammar g;
	unit_rng r;
	ss_error err;
	ss_element probe_td = element(td, &g, 0), probe = element(pcfg, &g, 0);
	size_t bytes = ss_workspace_bytes(td, SS_OP_LOG_COUNT, probe_td.dim);
	size_t pbytes = ss_workspace_bytes(pcfg, SS_OP_MARGINALS, probe.dim);
	void *ws = ws_alloc(bytes > pbytes ? bytes : pbytes);
	double mu[N * N * R + N * PT], pm[N * N * NT + N * PT];

	urng_seed(&r, 7101);
	unit_begin();
	for (int t = 0; t < 40; t++) {
		const int scores = t % 2;
		ss_element e, p;
		double logz, want, z2;
		draw(&r, &g);
		e = element(td, &g, scores);
		p = element(pcfg, &g, scores);
		unit_context("grammar %d, length %lld, %s", t, (long long)g.len,
			     scores ? "preterminal_scores" : "emission");
		if (!CHECK(td->validate(&e, ws, &err) == SS_OK, "validate: %s",
			   err.message) ||
		    !CHECK(ss_log_partition(pcfg, &p, ws, &want, &err) == SS_OK,
			   "%s", err.message) ||
		    !CHECK(ss_log_partition(td, &e, ws, &logz, &err) == SS_OK,
			   "%s", err.message))
			continue;
		CHECK_CLOSE(logz, want, RTOL);
		if (CHECK(ss_marginals(td, &e, ws, mu, &logz, &err) == SS_OK,
			  "%s", err.message) &&
		    CHECK(ss_marginals(pcfg, &p, ws, pm, &z2, &err) == SS_OK,
			  "%s", err.message))
			check_marginals(mu, pm);
	}
	unit_end("td-pcfg: log Z, the tags' marginals and the span marginals summed over r equal those of the pcfg with rule = log Σ_r U Left Right (40 random grammars, lengths 2 .. 6, emission and preterminal_scores)");

	unit_begin();
	for (int t = 0; t < 5; t++) {
		ss_element e;
		double count, want, catalan = 1;
		draw(&r, &g);
		e = element(td, &g, t % 2);
		/* Catalan(L-1) = C(2L-2, L-1) / L */
		for (int64_t k = 1; k < g.len; k++)
			catalan = catalan * (double)(g.len - 1 + k) / (double)k;
		catalan /= (double)g.len;
		want = log(catalan) + (double)(g.len - 1) * log(NT * R) +
		       (double)g.len * log(PT);
		unit_context("grammar %d, length %lld", t, (long long)g.len);
		if (CHECK(ss_log_count(td, &e, ws, &count, &err) == SS_OK, "%s",
			  err.message))
			CHECK_CLOSE(count, want, RTOL);
	}
	unit_end("td-pcfg: count without -inf is log(Catalan(L-1) (nt r)^(L-1) pt^L), the derivations");

	unit_begin();
	for (int t = 0; t < 24; t++) {
		const int scores = t % 2, prepared = t % 4 == 2;
		const int emission = input_index(td, "emission");
		double norm[PT];
		ss_element e;
		draw_grad(&r, &g);
		e = element(td, &g, scores);
		unit_context("grammar %d, length %lld, %s%s", t,
			     (long long)g.len,
			     scores ? "preterminal_scores" : "emission",
			     prepared ? ", prepared" : "");
		if (prepared &&
		    CHECK(td->prepare(emission, g.emis, e.dim, norm, &err) == SS_OK,
			  "%s", err.message))
			e.prepared[emission] = norm;
		if (CHECK(td->validate(&e, ws, &err) == SS_OK, "validate: %s",
			  err.message))
			check_lower_grad(td, &e, NULL, &r, 4, 1);
	}
	unit_end("td-pcfg: lower_grad is the transpose of lower's Jacobian: entry by entry and along random directions against central differences, 0 where -inf or never read (24 grammars with -inf entries and rows, lengths 2 .. 6, emission, prepared or not, and preterminal_scores)");
	free(ws);
}
