/*
 * unit_conformance_pcfg.c - the pcfg rows of the conformance suite: a case
 * generator (emission with word_ids, or preterminal_scores), a brute-force
 * enumerator over every bracketing of the sentence and every labelling of
 * its spans and words (independent of the chart), and d log Z / d inputs
 * through the log-softmax of root, rule and emission from the marginals and
 * the rule counts.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

/* ---- generating ---------------------------------------------------------- */

static void pcfg_params(conf_case *c, conf_gen *g)
{
	const int64_t nt = g->dim[SS_DIM_NT];
	const int64_t ns = nt + g->dim[SS_DIM_PT];
	double *root = conf_reals(c, nt), *rule = conf_reals(c, nt * ns * ns);

	for (int64_t k = 0; k < nt; k++)
		root[k] = conf_value(g);
	for (int64_t k = 0; k < nt * ns * ns; k++)
		rule[k] = conf_value(g);
	conf_set_input(c, "root", root);
	conf_set_input(c, "rule", rule);
	conf_set_lengths(c, g);
}

/* emission [pt, V], word_ids [n] (-1 or any id in padding); dead: no
 * preterminal emits the word at one position. */
void conf_pcfg_emission_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], pt = g->dim[SS_DIM_PT];
	const int64_t V = g->dim[SS_DIM_V], len = g->len;
	double *emis = conf_reals(c, pt * V);
	int64_t *ids = conf_ints(c, n);

	pcfg_params(c, g);
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
void conf_pcfg_scores_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], pt = g->dim[SS_DIM_PT];
	const int64_t len = g->len;
	double *ps = conf_reals(c, n * pt);

	pcfg_params(c, g);
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

/* log-softmax of x [m] into out (-inf for a row all -inf). */
void conf_log_softmax(const double *x, int64_t m, long double *out)
{
	long double mx = -INFINITY, sum = 0.0L;

	for (int64_t k = 0; k < m; k++)
		if (x[k] > mx)
			mx = x[k];
	for (int64_t k = 0; k < m; k++)
		sum += mx == -INFINITY ? 0.0L : expl(x[k] - mx);
	for (int64_t k = 0; k < m; k++)
		out[k] = mx == -INFINITY ? -INFINITY : x[k] - mx - logl(sum);
}

/* A grammar in log-probabilities, and the tree being built. */
typedef struct grammar {
	int64_t n, nt, pt, ns, len;
	long double *root, *rule, *tag; /* [nt], [nt][ns][ns], [len][pt] */
	double *event;                  /* chart [n, n, nt], tags [n, pt] */
	conf_enum *en;
} grammar;

static void grammar_init(const conf_case *c, grammar *g)
{
	const ss_element *e = &c->e;
	const int64_t V = e->dim[SS_DIM_V];
	const double *emis = e->input[input_index(c->s, "emission")].data;
	const int64_t *ids = e->input[input_index(c->s, "word_ids")].data;
	const double *ps = e->input[input_index(c->s, "preterminal_scores")].data;

	g->n = e->dim[SS_DIM_N];
	g->nt = e->dim[SS_DIM_NT];
	g->pt = e->dim[SS_DIM_PT];
	g->ns = g->nt + g->pt;
	g->len = c->len;
	g->root = malloc(sizeof(long double) * (size_t)(g->nt + 1));
	g->rule = malloc(sizeof(long double) * (size_t)(g->nt * g->ns * g->ns + 1));
	g->tag = malloc(sizeof(long double) * (size_t)(g->len * g->pt + V * g->pt + 1));
	g->event = calloc((size_t)(g->n * g->n * g->nt + g->n * g->pt + 1),
			  sizeof(double));
	conf_log_softmax(e->input[input_index(c->s, "root")].data, g->nt, g->root);
	for (int64_t X = 0; X < g->nt; X++)
		conf_log_softmax((const double *)e->input[input_index(c->s, "rule")].data +
				    X * g->ns * g->ns,
			    g->ns * g->ns, g->rule + X * g->ns * g->ns);
	for (int64_t i = 0; i < g->len; i++)
		for (int64_t p = 0; p < g->pt; p++) {
			if (ps) {
				g->tag[i * g->pt + p] = ps[i * g->pt + p];
				continue;
			}
			long double *row = g->tag + g->len * g->pt;
			conf_log_softmax(emis + p * V, V, row);
			g->tag[i * g->pt + p] = row[ids[i]];
		}
}

static void grammar_free(grammar *g)
{
	free(g->root);
	free(g->rule);
	free(g->tag);
	free(g->event);
}

/* A span still to expand: words i..j with symbol S. */
typedef struct pending {
	int64_t i, j, S;
} pending;

/* Expands the last of stack[count] in every way, then the rest. */
static void expand(grammar *g, pending *stack, int count, long double score)
{
	pending p;
	double *tags = g->event + g->n * g->n * g->nt;

	if (count == 0) {
		conf_enum_add(g->en, g->event, score);
		return;
	}
	p = stack[count - 1];
	if (p.i == p.j) { /* a word: its symbol is a preterminal */
		tags[p.i * g->pt + p.S - g->nt] = 1.0;
		expand(g, stack, count - 1,
		       score + g->tag[p.i * g->pt + p.S - g->nt]);
		tags[p.i * g->pt + p.S - g->nt] = 0.0;
		stack[count - 1] = p;
		return;
	}
	g->event[(p.i * g->n + p.j) * g->nt + p.S] = 1.0;
	for (int64_t k = p.i; k < p.j; k++)
		for (int64_t Y = k == p.i ? g->nt : 0;
		     Y < (k == p.i ? g->ns : g->nt); Y++)
			for (int64_t Z = k + 1 == p.j ? g->nt : 0;
			     Z < (k + 1 == p.j ? g->ns : g->nt); Z++) {
				stack[count - 1] = (pending){k + 1, p.j, Z};
				stack[count] = (pending){p.i, k, Y};
				expand(g, stack, count + 1,
				       score + g->rule[(p.S * g->ns + Y) * g->ns + Z]);
			}
	stack[count - 1] = p;
	g->event[(p.i * g->n + p.j) * g->nt + p.S] = 0.0;
}

void conf_pcfg_enumerate(const conf_case *c, conf_enum *en)
{
	grammar g;
	pending *stack;

	grammar_init(c, &g);
	g.en = en;
	stack = malloc(sizeof *stack * (size_t)(2 * g.len + 2));
	for (int64_t X = 0; X < g.nt && g.len >= 2; X++) {
		stack[0] = (pending){0, g.len - 1, X};
		expand(&g, stack, 1, g.root[X]);
	}
	free(stack);
	grammar_free(&g);
}

/* ---- gradients ------------------------------------------------------------- */

/* Back through a log-softmax of x [m]: gl = d log Z / d log-softmax(x);
 * out = gl - softmax(x) Σ gl. */
void conf_softmax_back(const double *x, int64_t m, const long double *gl,
			 double *out)
{
	long double *ls = malloc(sizeof *ls * (size_t)(m + 1)), sum = 0.0L;

	conf_log_softmax(x, m, ls);
	for (int64_t k = 0; k < m; k++)
		sum += gl[k];
	for (int64_t k = 0; k < m; k++)
		out[k] = (double)(gl[k] - (isinf(ls[k]) ? 0.0L : expl(ls[k])) * sum);
	free(ls);
}

/*
 * d log Z / d log root[X] = μ(0, len-1, X); d / d log rule[X, Y, Z] = the
 * expected uses of the rule (rule_counts, from ss_marginals_counts); d / d
 * log emission[p, v] = Σ_{i: w_i = v} μ_tags[i, p] = d / d
 * preterminal_scores[i, p] summed over those i; then back through each
 * row's log-softmax.
 */
void conf_pcfg_grad(const conf_case *c, const double *mu,
		    double *const grad[SS_MAX_INPUTS])
{
	const ss_structure *s = c->s;
	const ss_element *e = &c->e;
	const int64_t n = e->dim[SS_DIM_N], nt = e->dim[SS_DIM_NT];
	const int64_t pt = e->dim[SS_DIM_PT], ns = nt + pt, V = e->dim[SS_DIM_V];
	const int64_t len = c->len;
	const int k_root = input_index(s, "root"), k_rule = input_index(s, "rule");
	const int k_emis = input_index(s, "emission");
	const int k_scores = input_index(s, "preterminal_scores");
	const int64_t *ids = e->input[input_index(s, "word_ids")].data;
	const double *tags = mu + n * n * nt;
	size_t bytes = ss_workspace_bytes(s, SS_OP_MARGINALS, e->dim);
	void *ws = aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
	double *mu2 = malloc(sizeof(double) * (size_t)(ss_event_size(s, e->dim) + 1));
	double *counts = malloc(sizeof(double) * (size_t)(nt * ns * ns + 1));
	long double *gl = calloc((size_t)(nt * ns * ns + pt * V + 1), sizeof *gl);
	double logz;
	ss_error err;

	ss_marginals_counts(s, e, ws, mu2, counts, &logz, &err);
	for (int64_t X = 0; X < nt; X++)
		gl[X] = mu[(len - 1) * nt + X];
	conf_softmax_back(e->input[k_root].data, nt, gl, grad[k_root]);
	for (int64_t X = 0; X < nt; X++) {
		for (int64_t k = 0; k < ns * ns; k++)
			gl[k] = counts[X * ns * ns + k];
		conf_softmax_back((const double *)e->input[k_rule].data + X * ns * ns,
			     ns * ns, gl, grad[k_rule] + X * ns * ns);
	}
	memset(gl, 0, sizeof *gl * (size_t)(pt * V + 1));
	for (int64_t i = 0; i < len; i++)
		for (int64_t p = 0; p < pt; p++) {
			if (e->input[k_scores].data)
				grad[k_scores][i * pt + p] = tags[i * pt + p];
			else
				gl[p * V + ids[i]] += tags[i * pt + p];
		}
	for (int64_t p = 0; e->input[k_emis].data && p < pt; p++)
		conf_softmax_back((const double *)e->input[k_emis].data + p * V, V,
			     gl + p * V, grad[k_emis] + p * V);
	free(gl);
	free(counts);
	free(mu2);
	free(ws);
}
