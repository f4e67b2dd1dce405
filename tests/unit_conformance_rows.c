/*
 * unit_conformance_rows.c - the rows of the conformance suite for the
 * structures of today: a case generator, a brute-force enumerator and
 * the gradient of log Z from the marginals, for linear-chain, hmm (both
 * emission forms) and spanning-tree (one generator for its eight
 * variants, which read the element's options). The enumerators reuse
 * tests/unit_brute.c (chains, and the chain an hmm builds) and
 * tests/unit_tree_brute.c (trees).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"
#include "unit_tree.h"

/* ---- linear-chain: log_potentials [n, t, t] ------------------------------- */

/* Position 0 reads row 0 only; positions >= len nothing. */
void conf_chain_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], t = g->dim[SS_DIM_T], len = g->len;
	double *lp = conf_reals(c, n * t * t);

	for (int64_t i = 0; i < n; i++)
		for (int64_t a = 0; a < t; a++)
			for (int64_t k = 0; k < t; k++)
				lp[(i * t + a) * t + k] = i < len && (i > 0 || a == 0)
					? conf_value(g) : conf_unused(g);
	if (g->dead) { /* one position without a finite part */
		int64_t i = conf_int(g, 0, len - 1);

		for (int64_t a = 0; a < (i ? t : 1); a++)
			for (int64_t k = 0; k < t; k++)
				lp[(i * t + a) * t + k] = -INFINITY;
	}
	conf_set_input(c, "log_potentials", lp);
	conf_set_lengths(c, g);
}

/* Every tag sequence of length len of the chain theta [n, t, t]. */
static void enumerate_chain(const double *theta, int64_t n, int64_t t,
			    int64_t len, conf_enum *en)
{
	int64_t tags[64], count = 1;
	double *event = malloc(sizeof(double) * (size_t)(n * t * t + 1));

	for (int64_t i = 0; i < len; i++)
		count *= t;
	for (int64_t code = 0; code < count; code++) {
		brute_tags(code, t, len, tags);
		brute_event(tags, n, t, len, event);
		conf_enum_add(en, event, brute_score(theta, t, len, tags));
	}
	free(event);
}

void conf_chain_enumerate(const conf_case *c, conf_enum *en)
{
	enumerate_chain(c->e.input[input_index(c->s, "log_potentials")].data,
			c->e.dim[SS_DIM_N], c->e.dim[SS_DIM_T], c->len, en);
}

/* ---- hmm: init [t], transition [t, t], emissions ----------------------------- */

static void hmm_params(conf_case *c, conf_gen *g)
{
	const int64_t t = g->dim[SS_DIM_T];
	double *init = conf_reals(c, t), *trans = conf_reals(c, t * t);

	for (int64_t k = 0; k < t; k++)
		init[k] = conf_value(g);
	for (int64_t k = 0; k < t * t; k++)
		trans[k] = conf_value(g);
	conf_set_input(c, "init_logits", init);
	conf_set_input(c, "transition_logits", trans);
	conf_set_lengths(c, g);
}

/* emission_logits [t, V] and observations [n] (-1 or any id in padding);
 * dead: no state emits the word observed at one position. */
void conf_hmm_logits_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], t = g->dim[SS_DIM_T];
	const int64_t V = g->dim[SS_DIM_V], len = g->len;
	double *emis = conf_reals(c, t * V);
	int64_t *obs = conf_ints(c, n);

	hmm_params(c, g);
	for (int64_t k = 0; k < t * V; k++)
		emis[k] = conf_value(g);
	for (int64_t i = 0; i < n; i++)
		obs[i] = conf_int(g, i < len ? 0 : -1, V - 1);
	if (g->dead) {
		int64_t i = conf_int(g, 0, len - 1);

		for (int64_t k = 0; k < t; k++)
			emis[k * V + obs[i]] = -INFINITY;
	}
	conf_set_input(c, "emission_logits", emis);
	conf_set_input(c, "observations", obs);
}

/* emission_scores [n, t], unused past len; dead: one row all -inf. */
void conf_hmm_scores_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], t = g->dim[SS_DIM_T], len = g->len;
	double *es = conf_reals(c, n * t);

	hmm_params(c, g);
	for (int64_t i = 0; i < n; i++)
		for (int64_t k = 0; k < t; k++)
			es[i * t + k] = i < len ? conf_value(g) : conf_unused(g);
	if (g->dead) {
		int64_t i = conf_int(g, 0, len - 1);

		for (int64_t k = 0; k < t; k++)
			es[i * t + k] = -INFINITY;
	}
	conf_set_input(c, "emission_scores", es);
}

static const void *input_named(const conf_case *c, const char *name)
{
	return c->e.input[input_index(c->s, name)].data;
}

/* The sequences of the chain the hmm builds (SPEC §1). */
void conf_hmm_enumerate(const conf_case *c, conf_enum *en)
{
	const int64_t n = c->e.dim[SS_DIM_N], t = c->e.dim[SS_DIM_T];
	double *theta = malloc(sizeof(double) * (size_t)(n * t * t + 1));

	brute_hmm_theta(n, t, c->e.dim[SS_DIM_V], c->len,
			input_named(c, "init_logits"),
			input_named(c, "transition_logits"),
			input_named(c, "emission_logits"),
			input_named(c, "observations"),
			input_named(c, "emission_scores"), theta);
	enumerate_chain(theta, n, t, c->len, en);
	free(theta);
}

/* Back through a log-softmax: the row x [m] was normalised to l, and
 * gl = d log Z / d l; out = gl - softmax(x) Σ gl. */
static void softmax_back(const double *x, int64_t m, const long double *gl,
			 double *out)
{
	long double *ls = malloc(sizeof *ls * (size_t)(m + 1)), sum = 0.0L;

	brute_log_softmax(x, m, ls);
	for (int64_t k = 0; k < m; k++)
		sum += gl[k];
	for (int64_t k = 0; k < m; k++)
		out[k] = (double)(gl[k] - (isinf(ls[k]) ? 0.0L : expl(ls[k])) * sum);
	free(ls);
}

/*
 * θ[0, 0, c] = lπ[c] + lE[c, x_0], θ[i, a, c] = lT[a, c] + lE[c, x_i] with
 * l the log-softmax of each row, so with μ = d log Z / d θ:
 *   d/d lπ[c] = μ[0, 0, c],  d/d lT[a, c] = Σ_{i >= 1} μ[i, a, c],
 *   d/d lE[c, v] = Σ_{i: x_i = v} Σ_a μ[i, a, c] = d/d emission_scores[i, c]
 *   summed over those i; then back through each row's log-softmax.
 */
void conf_hmm_grad(const conf_case *c, const double *mu,
		   double *const grad[SS_MAX_INPUTS])
{
	const ss_structure *s = c->s;
	const int64_t t = c->e.dim[SS_DIM_T], V = c->e.dim[SS_DIM_V];
	const int64_t len = c->len;
	const int k_init = input_index(s, "init_logits");
	const int k_trans = input_index(s, "transition_logits");
	const int k_emis = input_index(s, "emission_logits");
	const int k_scores = input_index(s, "emission_scores");
	const int64_t *obs = input_named(c, "observations");
	long double *gl = calloc((size_t)(t * (t + V) + 1), sizeof *gl);

	for (int64_t k = 0; k < t && len > 0; k++)
		gl[k] = mu[k];
	softmax_back(c->e.input[k_init].data, t, gl, grad[k_init]);
	for (int64_t a = 0; a < t; a++) {
		for (int64_t k = 0; k < t; k++) {
			gl[k] = 0.0L;
			for (int64_t i = 1; i < len; i++)
				gl[k] += mu[(i * t + a) * t + k];
		}
		softmax_back((const double *)c->e.input[k_trans].data + a * t, t, gl,
			     grad[k_trans] + a * t);
	}
	memset(gl, 0, sizeof *gl * (size_t)(t * V + 1));
	for (int64_t i = 0; i < len; i++)
		for (int64_t k = 0; k < t; k++) {
			long double m = 0.0L;

			for (int64_t a = 0; a < t; a++)
				m += mu[(i * t + a) * t + k];
			if (c->e.input[k_scores].data)
				grad[k_scores][i * t + k] = (double)m;
			else
				gl[k * V + obs[i]] += m;
		}
	for (int64_t k = 0; c->e.input[k_emis].data && k < t; k++)
		softmax_back((const double *)c->e.input[k_emis].data + k * V, V,
			     gl + k * V, grad[k_emis] + k * V);
	free(gl);
}

/* ---- spanning-tree: log_potentials [n, n], eight variants --------------------- */

/* Used: arcs among the len nodes off the diagonal; directed trees ignore
 * column 0. dead: one node d >= 1 that no arc (edge) reaches. */
void conf_tree_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], len = g->len;
	const int directed = (int)conf_option(c, "directed");
	double *lp = conf_reals(c, n * n);

	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++)
			lp[h * n + d] = h < len && d < len && h != d &&
						(d > 0 || !directed)
				? conf_value(g) : conf_unused(g);
	if (g->dead) {
		int64_t d = conf_int(g, 1, len - 1);

		for (int64_t h = 0; h < len; h++) {
			if (h == d)
				continue;
			lp[h * n + d] = -INFINITY;
			if (!directed)
				lp[d * n + h] = -INFINITY;
		}
	}
	conf_set_input(c, "log_potentials", lp);
	conf_set_lengths(c, g);
}

/* Every head vector over the len nodes that is a tree of the kind, scored
 * on w = lp (directed) or (lp + lpᵀ)/2 (undirected, both e[h, d] and
 * e[d, h] in the event). */
void conf_tree_enumerate(const conf_case *c, conf_enum *en)
{
	const int64_t n = c->e.dim[SS_DIM_N], len = c->len;
	const int directed = (int)conf_option(c, "directed");
	const int projective = (int)conf_option(c, "projective");
	const int single = (int)conf_option(c, "single_root_edge");
	const double *lp = input_named(c, "log_potentials");
	double *w = malloc(sizeof(double) * (size_t)(n * n + 1));
	double *event = malloc(sizeof(double) * (size_t)(n * n + 1));
	int64_t heads[64], total = 1;

	for (int64_t k = 0; k < n * n; k++)
		w[k] = directed ? lp[k] : (lp[k] + lp[k % n * n + k / n]) / 2;
	for (int64_t d = 1; d < len; d++)
		total *= len - 1;
	for (int64_t code = 0; code < total; code++) {
		int64_t x = code;

		heads[0] = -1;
		for (int64_t d = 1; d < len; d++) { /* digits skip d itself */
			int64_t h = x % (len - 1);

			x /= len - 1;
			heads[d] = h >= d ? h + 1 : h;
		}
		if (!tree_is_valid(heads, len, projective, single))
			continue;
		memset(event, 0, sizeof(double) * (size_t)(n * n));
		for (int64_t d = 1; d < len; d++) {
			event[heads[d] * n + d] = 1.0;
			if (!directed)
				event[d * n + heads[d]] = 1.0;
		}
		conf_enum_add(en, event, tree_score(w, n, heads, len));
	}
	free(w);
	free(event);
}

/* Directed: the marginals. Undirected: lp[u, v] enters w[u, v] and w[v, u]
 * with weight 1/2, and the edge {u, v} counts once: half the edge
 * marginal (column 0 included). */
void conf_tree_grad(const conf_case *c, const double *mu,
		    double *const grad[SS_MAX_INPUTS])
{
	const int64_t n = c->e.dim[SS_DIM_N];
	const int directed = (int)conf_option(c, "directed");
	double *g = grad[input_index(c->s, "log_potentials")];

	for (int64_t k = 0; k < n * n; k++)
		g[k] = directed ? mu[k] : mu[k] / 2;
}
