/*
 * unit_conformance_td_pcfg.c - the td-pcfg rows of the conformance suite:
 * a case generator (emission with word_ids, or preterminal_scores), a
 * brute-force enumerator over every derivation (a bracketing of the
 * sentence, a nonterminal and a rank for each span of width >= 2, a
 * preterminal for each word; independent of the chart), and d log Z /
 * d inputs through the log-softmaxes.
 *
 * An event (the span-rank chart and the tags) leaves the nonterminals out:
 * the derivations that differ only in them share it, so the enumerator
 * lists each event once with the log-sum-exp of their scores, and the
 * number of them of finite score (conf_enum_add_counted) for count, which
 * counts derivations.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

/* ---- generating ---------------------------------------------------------- */

static void td_params(conf_case *c, conf_gen *g)
{
	const int64_t nt = g->dim[SS_DIM_NT], R = g->dim[SS_DIM_RANK];
	const int64_t ns = nt + g->dim[SS_DIM_PT];
	double *root = conf_reals(c, nt), *U = conf_reals(c, nt * R);
	double *left = conf_reals(c, R * ns), *right = conf_reals(c, R * ns);

	for (int64_t k = 0; k < nt; k++)
		root[k] = conf_value(g);
	for (int64_t k = 0; k < nt * R; k++)
		U[k] = conf_value(g);
	for (int64_t k = 0; k < R * ns; k++) {
		left[k] = conf_value(g);
		right[k] = conf_value(g);
	}
	conf_set_input(c, "root", root);
	conf_set_input(c, "nt_to_rank", U);
	conf_set_input(c, "rank_to_left_nt", left);
	conf_set_input(c, "rank_to_right_nt", right);
	conf_set_lengths(c, g);
}

/* emission [pt, V], word_ids [n] (-1 or any id in padding); dead: no
 * preterminal emits the word at one position. */
void conf_td_pcfg_emission_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], pt = g->dim[SS_DIM_PT];
	const int64_t V = g->dim[SS_DIM_V], len = g->len;
	double *emis = conf_reals(c, pt * V);
	int64_t *ids = conf_ints(c, n);

	td_params(c, g);
	for (int64_t k = 0; k < pt * V; k++)
		emis[k] = conf_value(g);
	for (int64_t i = 0; i < n; i++)
		ids[i] = conf_int(g, i < len ? 0 : -1, V - 1);
	if (g->dead) {
		int64_t i = conf_int(g, 0, len - 1);

		for (int64_t p = 0; p < pt; p++)
			emis[p * V + ids[i]] = -INFINITY;
	}
	conf_set_input(c, "emission", emis);
	conf_set_input(c, "word_ids", ids);
}

/* preterminal_scores [n, pt], unused past len; dead: one row all -inf. */
void conf_td_pcfg_scores_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], pt = g->dim[SS_DIM_PT];
	const int64_t len = g->len;
	double *ps = conf_reals(c, n * pt);

	td_params(c, g);
	for (int64_t i = 0; i < n; i++)
		for (int64_t p = 0; p < pt; p++)
			ps[i * pt + p] = i < len ? conf_value(g) : conf_unused(g);
	if (g->dead) {
		int64_t i = conf_int(g, 0, len - 1);

		for (int64_t p = 0; p < pt; p++)
			ps[i * pt + p] = -INFINITY;
	}
	conf_set_input(c, "preterminal_scores", ps);
}

/* ---- enumerating ----------------------------------------------------------- */

/* A grammar in log-probabilities, the derivation being built and what its
 * leaves do: list it (all), or add its parameter uses times its
 * probability to expected (with log Z). */
typedef struct grammar {
	int64_t n, nt, pt, ns, R, len, params;
	long double *root, *U, *left, *right, *tag;
	double *event;          /* chart [n, n, R], tags [n, pt] */
	long double *uses;      /* [params]: root, U, Left, Right */
	conf_enum *all;
	long double logz, *expected;
} grammar;

static long double *ld_row(int64_t count)
{
	return calloc((size_t)count + 1, sizeof(long double));
}

static void grammar_init(const conf_case *c, grammar *g)
{
	const ss_element *e = &c->e;
	const ss_structure *s = c->s;
	const int64_t V = e->dim[SS_DIM_V];
	const double *emis = e->input[input_index(s, "emission")].data;
	const int64_t *ids = e->input[input_index(s, "word_ids")].data;
	const double *ps = e->input[input_index(s, "preterminal_scores")].data;
	const double *U = e->input[input_index(s, "nt_to_rank")].data;
	const double *left = e->input[input_index(s, "rank_to_left_nt")].data;
	const double *right = e->input[input_index(s, "rank_to_right_nt")].data;
	long double *row;

	memset(g, 0, sizeof *g);
	g->n = e->dim[SS_DIM_N];
	g->nt = e->dim[SS_DIM_NT];
	g->pt = e->dim[SS_DIM_PT];
	g->ns = g->nt + g->pt;
	g->R = e->dim[SS_DIM_RANK];
	g->len = c->len;
	g->params = g->nt + g->nt * g->R + 2 * g->R * g->ns;
	g->uses = ld_row(g->params);
	g->root = ld_row(g->nt);
	g->U = ld_row(g->nt * g->R);
	g->left = ld_row(g->R * g->ns);
	g->right = ld_row(g->R * g->ns);
	g->tag = ld_row(g->len * g->pt);
	row = ld_row(V);
	g->event = calloc((size_t)(g->n * g->n * g->R + g->n * g->pt + 1),
			  sizeof(double));
	conf_log_softmax(e->input[input_index(s, "root")].data, g->nt, g->root);
	for (int64_t X = 0; X < g->nt; X++)
		conf_log_softmax(U + X * g->R, g->R, g->U + X * g->R);
	for (int64_t r = 0; r < g->R; r++) {
		conf_log_softmax(left + r * g->ns, g->ns, g->left + r * g->ns);
		conf_log_softmax(right + r * g->ns, g->ns, g->right + r * g->ns);
	}
	for (int64_t p = 0; p < g->pt; p++) {
		if (!ps)
			conf_log_softmax(emis + p * V, V, row);
		for (int64_t i = 0; i < g->len; i++)
			g->tag[i * g->pt + p] = ps ? ps[i * g->pt + p] : row[ids[i]];
	}
	free(row);
}

static void grammar_free(grammar *g)
{
	free(g->uses);
	free(g->root);
	free(g->U);
	free(g->left);
	free(g->right);
	free(g->tag);
	free(g->event);
}

/* A span still to expand: words i..j with symbol S. */
typedef struct pending {
	int64_t i, j, S;
} pending;

static void leaf(grammar *g, long double score)
{
	if (!g->expected) {
		conf_enum_add(g->all, g->event, score);
		return;
	}
	if (isinf(score))
		return;
	for (int64_t k = 0; k < g->params; k++)
		g->expected[k] += expl(score - g->logz) * g->uses[k];
}

/* Expands the last of stack[count] in every way, then the rest. */
static void expand(grammar *g, pending *stack, int count, long double score)
{
	const int64_t nt = g->nt, ns = g->ns, R = g->R;
	long double *uses_u = g->uses + nt;
	long double *uses_l = uses_u + nt * R, *uses_r = uses_l + R * ns;
	double *tags = g->event + g->n * g->n * R;
	pending p;

	if (count == 0) {
		leaf(g, score);
		return;
	}
	p = stack[count - 1];
	if (p.i == p.j) { /* a word: its symbol is a preterminal */
		tags[p.i * g->pt + p.S - nt] = 1.0;
		expand(g, stack, count - 1,
		       score + g->tag[p.i * g->pt + p.S - nt]);
		tags[p.i * g->pt + p.S - nt] = 0.0;
		stack[count - 1] = p;
		return;
	}
	for (int64_t r = 0; r < R; r++) {
		g->event[(p.i * g->n + p.j) * R + r] = 1.0;
		uses_u[p.S * R + r] += 1;
		for (int64_t k = p.i; k < p.j; k++)
			for (int64_t Y = k == p.i ? nt : 0;
			     Y < (k == p.i ? ns : nt); Y++)
				for (int64_t Z = k + 1 == p.j ? nt : 0;
				     Z < (k + 1 == p.j ? ns : nt); Z++) {
					stack[count - 1] = (pending){k + 1, p.j, Z};
					stack[count] = (pending){p.i, k, Y};
					uses_l[r * ns + Y] += 1;
					uses_r[r * ns + Z] += 1;
					expand(g, stack, count + 1,
					       score + g->U[p.S * R + r] +
						       g->left[r * ns + Y] +
						       g->right[r * ns + Z]);
					uses_l[r * ns + Y] -= 1;
					uses_r[r * ns + Z] -= 1;
				}
		uses_u[p.S * R + r] -= 1;
		g->event[(p.i * g->n + p.j) * R + r] = 0.0;
	}
	stack[count - 1] = p;
}

/* Every derivation of g, each a leaf. */
static void derivations(grammar *g)
{
	pending *stack = malloc(sizeof *stack * (size_t)(2 * g->len + 2));

	for (int64_t X = 0; X < g->nt && g->len >= 2; X++) {
		stack[0] = (pending){0, g->len - 1, X};
		g->uses[X] += 1;
		expand(g, stack, 1, g->root[X]);
		g->uses[X] -= 1;
	}
	free(stack);
}

static long double lse(long double a, long double b)
{
	long double m = a > b ? a : b;

	return m == -INFINITY ? m : m + logl(expl(a - m) + expl(b - m));
}

/* Every derivation of the case into all (one entry each). */
static void list_derivations(const conf_case *c, grammar *g, conf_enum *all)
{
	grammar_init(c, g);
	conf_enum_init(all, ss_event_size(c->s, c->e.dim));
	g->all = all;
	derivations(g);
	conf_enum_index(all);
}

void conf_td_pcfg_enumerate(const conf_case *c, conf_enum *en)
{
	grammar g;
	conf_enum all;
	long double *score;
	int64_t *counted;

	list_derivations(c, &g, &all);
	score = ld_row(all.count);
	counted = calloc((size_t)all.count + 1, sizeof *counted);
	for (int64_t k = 0; k < all.count; k++)
		score[k] = -INFINITY;
	for (int64_t k = 0; k < all.count; k++) {
		int64_t f = conf_enum_find(&all, all.events + k * all.E);

		score[f] = lse(score[f], all.scores[k]);
		counted[f] += !isinf(all.scores[k]);
	}
	for (int64_t k = 0; k < all.count; k++)
		if (conf_enum_find(&all, all.events + k * all.E) == k)
			conf_enum_add_counted(en, all.events + k * all.E,
					      score[k], counted[k]);
	free(score);
	free(counted);
	conf_enum_free(&all);
	grammar_free(&g);
}

/* ---- gradients ------------------------------------------------------------- */

/*
 * d log Z / d log-softmaxed parameter = its expected uses, which the
 * event's marginals do not give (they leave the nonterminals out): taken
 * from the enumeration; d / d preterminal_scores[i, p] = μ_tags[i, p]
 * from the marginals, and d / d log emission[p, v] their sum over the
 * words i with w_i = v; then back through each row's log-softmax.
 */
void conf_td_pcfg_grad(const conf_case *c, const double *mu,
		       double *const grad[SS_MAX_INPUTS])
{
	const ss_structure *s = c->s;
	const ss_element *e = &c->e;
	const int k_root = input_index(s, "root");
	const int k_u = input_index(s, "nt_to_rank");
	const int k_left = input_index(s, "rank_to_left_nt");
	const int k_right = input_index(s, "rank_to_right_nt");
	const int k_emis = input_index(s, "emission");
	const int k_scores = input_index(s, "preterminal_scores");
	const int64_t *ids = e->input[input_index(s, "word_ids")].data;
	const int64_t V = e->dim[SS_DIM_V];
	grammar g;
	conf_enum all;
	long double *gl, *ex;

	list_derivations(c, &g, &all);
	g.logz = -INFINITY;
	for (int64_t k = 0; k < all.count; k++)
		g.logz = lse(g.logz, all.scores[k]);
	g.expected = ex = ld_row(g.params);
	derivations(&g);
	conf_softmax_back(e->input[k_root].data, g.nt, ex, grad[k_root]);
	ex += g.nt;
	for (int64_t X = 0; X < g.nt; X++, ex += g.R)
		conf_softmax_back((const double *)e->input[k_u].data + X * g.R, g.R,
				  ex, grad[k_u] + X * g.R);
	for (int64_t r = 0; r < g.R; r++, ex += g.ns)
		conf_softmax_back((const double *)e->input[k_left].data + r * g.ns,
				  g.ns, ex, grad[k_left] + r * g.ns);
	for (int64_t r = 0; r < g.R; r++, ex += g.ns)
		conf_softmax_back((const double *)e->input[k_right].data + r * g.ns,
				  g.ns, ex, grad[k_right] + r * g.ns);
	gl = ld_row(g.pt * V);
	for (int64_t i = 0; i < g.len; i++)
		for (int64_t p = 0; p < g.pt; p++) {
			const double t = mu[g.n * g.n * g.R + i * g.pt + p];

			if (e->input[k_scores].data)
				grad[k_scores][i * g.pt + p] = t;
			else
				gl[p * V + ids[i]] += t;
		}
	for (int64_t p = 0; e->input[k_emis].data && p < g.pt; p++)
		conf_softmax_back((const double *)e->input[k_emis].data + p * V, V,
				  gl + p * V, grad[k_emis] + p * V);
	free(gl);
	free(g.expected);
	conf_enum_free(&all);
	grammar_free(&g);
}
