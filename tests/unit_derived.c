/*
 * unit_derived.c - count, cross-entropy and kl (lib/ops.c) through
 * ss_run, against brute-force enumeration of every structure of small
 * problems: linear-chain, hmm and the eight spanning-tree variants.
 *
 * For P and Q of the same structure, options and dimensions, the
 * enumerations list the same structures in the same order, so with scores
 * s_p and s_q:
 *   log count = log #{y : s_p(y) > -inf}
 *   H(p, q)   = -Σ_y p(y) log q(y)   (NaN without a structure of P or
 *                                      of Q, +inf where q(y) = 0 < p(y))
 *   KL(p ‖ q) = Σ_y p(y) (log p(y) - log q(y))
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "unit_tree.h"

#define BATCH 6
#define CASES 20

/* ---- references over enumerated scores ------------------------------------- */

static long double lse(const long double *s, int64_t m)
{
	long double max = -INFINITY, sum = 0;
	for (int64_t k = 0; k < m; k++)
		if (s[k] > max)
			max = s[k];
	if (max == -INFINITY)
		return -INFINITY;
	for (int64_t k = 0; k < m; k++)
		sum += expl(s[k] - max);
	return max + logl(sum);
}

static double ref_log_count(const long double *s, int64_t m)
{
	int64_t finite = 0;
	for (int64_t k = 0; k < m; k++)
		finite += s[k] > -INFINITY;
	return finite ? log((double)finite) : -INFINITY;
}

/* H(p, q) (kl = 0) or KL(p ‖ q) (kl = 1). */
static double ref_divergence(const long double *sp, const long double *sq,
			     int64_t m, int kl)
{
	long double zp = lse(sp, m), zq = lse(sq, m), sum = 0;
	if (zp == -INFINITY || zq == -INFINITY)
		return NAN;
	for (int64_t k = 0; k < m; k++) {
		long double p, logp = sp[k] - zp, logq = sq[k] - zq;
		if (sp[k] == -INFINITY)
			continue;
		if (sq[k] == -INFINITY)
			return INFINITY;
		p = expl(logp);
		sum += p * (kl ? logp - logq : -logq);
	}
	return (double)(sum < 0 ? 0 : sum);
}

static void self_test(void)
{
	/* two structures, p = (1/2, 1/2), q = (1/4, 3/4) */
	long double sp[2] = {0, 0}, sq[2] = {0, logl(3)};
	long double none[2] = {-INFINITY, -INFINITY}, half[2] = {0, -INFINITY};
	unit_begin();
	CHECK_CLOSE(ref_divergence(sp, sq, 2, 0),
		    -0.5 * log(0.25) - 0.5 * log(0.75), 1e-15);
	CHECK_CLOSE(ref_divergence(sp, sq, 2, 1),
		    0.5 * log(2.0) + 0.5 * log(0.5 / 0.75), 1e-15);
	CHECK(isnan(ref_divergence(none, sq, 2, 0)), "no structure of P");
	CHECK(isnan(ref_divergence(sp, none, 2, 1)), "no structure of Q");
	CHECK(ref_divergence(sp, half, 2, 0) == INFINITY, "q(y) = 0 < p(y)");
	CHECK_CLOSE(ref_log_count(half, 2), 0.0, 0);
	CHECK(ref_log_count(none, 2) == -INFINITY, "no structure");
	unit_end("derived: the brute-force references on hand-worked cases");
}

/* ---- problems ------------------------------------------------------------------ */

/* A potential: normal (mode 0), scaled by 30 (mode 1), or -inf with
 * probability 1/5 (mode 2). */
static double draw(unit_rng *r, int mode)
{
	if (mode == 2 && urng_uniform(r) < 0.2)
		return -INFINITY;
	return urng_normal(r) * (mode == 1 ? 30.0 : 1.5);
}

/* A batch of BATCH elements of P and of Q, and their enumerations. */
typedef struct dcase {
	const ss_structure *s;
	ss_element p[BATCH], q[BATCH];
	double *data;                  /* every array of the case */
	int64_t len[BATCH];
	long double *sp[BATCH], *sq[BATCH];
	int64_t m[BATCH];
	char label[96];
} dcase;

static void dcase_free(dcase *c)
{
	for (int i = 0; i < BATCH; i++) {
		free(c->sp[i]);
		free(c->sq[i]);
	}
	free(c->data);
}

static long double *copy_scores(const long double *s, int64_t m)
{
	long double *out = malloc((size_t)(m + 1) * sizeof *out);
	memcpy(out, s, (size_t)m * sizeof *out);
	return out;
}

/* Chains (hmm = 0) or hmms over n = 4, t = 3, V = 3. */
static void make_chain(dcase *c, unit_rng *r, int mode, int hmm)
{
	const int64_t n = 4, t = 3, V = 3, E = n * t * t;
	const int64_t per = t + t * t + t * V + n; /* hmm: init trans emis obs */
	c->s = ss_structure_find(hmm ? "hmm" : "linear-chain");
	c->data = calloc((size_t)(2 * BATCH * (hmm ? per + E : E)), sizeof(double));
	snprintf(c->label, sizeof c->label, "%s mode %d", c->s->name, mode);
	for (int i = 0; i < BATCH; i++) {
		c->len[i] = i == 0 ? 0 : urng_int(r, 1, n);
		for (int side = 0; side < 2; side++) {
			ss_element *e = side ? &c->q[i] : &c->p[i];
			double *x = c->data + (2 * i + side) * (hmm ? per + E : E);
			double *theta = hmm ? x + per : x;
			brute b;
			memset(e, 0, sizeof *e);
			e->dim[SS_DIM_N] = n;
			e->dim[SS_DIM_T] = t;
			e->dim[SS_DIM_V] = hmm ? V : 0;
			e->index = i;
			e->input[input_index(c->s, "lengths")].data = &c->len[i];
			if (!hmm) {
				for (int64_t k = 0; k < E; k++)
					x[k] = draw(r, mode);
				e->input[input_index(c->s, "log_potentials")].data = x;
			} else {
				double *init = x, *trans = x + t, *emis = trans + t * t;
				int64_t *obs = (int64_t *)(emis + t * V);
				for (int64_t k = 0; k < t + t * t + t * V; k++)
					x[k] = draw(r, mode);
				for (int64_t k = 0; k < n; k++)
					obs[k] = urng_int(r, 0, V - 1);
				e->input[input_index(c->s, "init_logits")].data = init;
				e->input[input_index(c->s, "transition_logits")].data = trans;
				e->input[input_index(c->s, "emission_logits")].data = emis;
				e->input[input_index(c->s, "observations")].data = obs;
				brute_hmm_theta(n, t, V, c->len[i], init, trans, emis,
						obs, NULL, theta);
			}
			brute_run(&b, theta, n, t, c->len[i]);
			c->m[i] = b.count;
			if (side)
				c->sq[i] = copy_scores(b.scores, b.count);
			else
				c->sp[i] = copy_scores(b.scores, b.count);
			brute_free(&b);
		}
	}
}

/* Spanning trees over n = 5 nodes, variant bits: 1 undirected,
 * 2 projective, 4 single root. */
static void make_tree(dcase *c, unit_rng *r, int mode, int variant)
{
	const int64_t n = 5, E = n * n;
	double sym[25];
	c->s = ss_structure_find("spanning-tree");
	c->data = calloc((size_t)(2 * BATCH * E), sizeof(double));
	snprintf(c->label, sizeof c->label, "spanning-tree%s%s%s mode %d",
		 variant & 1 ? " undirected" : "",
		 variant & 2 ? " projective" : "",
		 variant & 4 ? " single-root" : "", mode);
	for (int i = 0; i < BATCH; i++) {
		c->len[i] = urng_int(r, 1, n);
		for (int side = 0; side < 2; side++) {
			ss_element *e = side ? &c->q[i] : &c->p[i];
			double *w = c->data + (2 * i + side) * E;
			tree_brute b;
			memset(e, 0, sizeof *e);
			e->dim[SS_DIM_N] = n;
			e->index = i;
			e->input[input_index(c->s, "lengths")].data = &c->len[i];
			e->input[input_index(c->s, "log_potentials")].data = w;
			for (int o = 0; o < c->s->n_options; o++) {
				const char *name = c->s->options[o].name;
				e->option[o] = !strcmp(name, "directed") ? !(variant & 1)
					: !strcmp(name, "projective") ? !!(variant & 2)
					: !!(variant & 4);
			}
			for (int64_t k = 0; k < E; k++)
				w[k] = k % (n + 1) == 0 ? NAN : draw(r, mode);
			for (int64_t u = 0; u < n; u++)
				for (int64_t v = 0; v < n; v++)
					sym[u * n + v] = variant & 1
						? (w[u * n + v] + w[v * n + u]) / 2
						: w[u * n + v];
			tree_brute_run(&b, sym, c->len[i], n, !!(variant & 2),
				       !!(variant & 4));
			c->m[i] = b.all;
			if (side)
				c->sq[i] = copy_scores(b.scores, b.all);
			else
				c->sp[i] = copy_scores(b.scores, b.all);
			tree_brute_free(&b);
		}
	}
}

/* ---- the checks ------------------------------------------------------------------ */

static void run_op(const dcase *c, ss_op op, double *out, unsigned char *empty)
{
	ss_batch b;
	int64_t failed = -1;
	ss_error err;
	memset(&b, 0, sizeof b);
	b.structure = c->s;
	b.elements = c->p;
	b.elements_q = ss_ops[op].operands == SS_TWO_PROBLEMS ? c->q : NULL;
	b.count = BATCH;
	b.num_samples = 1;
	b.out[0] = out;
	b.empty = empty;
	CHECK(ss_run(op, &b, &failed, NULL, &err) == SS_OK,
	      "%s: %s failed at %lld: %s", c->label, ss_ops[op].name,
	      (long long)failed, err.message);
}

static void check_case(const dcase *c)
{
	double out[BATCH];
	unsigned char empty[BATCH];
	run_op(c, SS_OP_LOG_COUNT, out, empty);
	for (int i = 0; i < BATCH; i++)
		CHECK_CLOSE_AT(out[i], ref_log_count(c->sp[i], c->m[i]), RTOL,
			       "%s element %d: log count", c->label, i);
	run_op(c, SS_OP_CROSS_ENTROPY, out, empty);
	for (int i = 0; i < BATCH; i++) {
		double want = ref_divergence(c->sp[i], c->sq[i], c->m[i], 0);
		CHECK_CLOSE_AT(out[i], want, RTOL, "%s element %d: cross-entropy",
			       c->label, i);
		CHECK(empty[i] == isnan(want), "%s element %d: empty %d",
		      c->label, i, empty[i]);
	}
	run_op(c, SS_OP_KL, out, empty);
	for (int i = 0; i < BATCH; i++)
		CHECK_CLOSE_AT(out[i], ref_divergence(c->sp[i], c->sq[i], c->m[i], 1),
			       RTOL, "%s element %d: kl", c->label, i);
	/* KL(p ‖ p) = 0, H(p, p) = H(p) */
	dcase same = *c;
	memcpy(same.q, c->p, sizeof same.q);
	run_op(&same, SS_OP_KL, out, empty);
	for (int i = 0; i < BATCH; i++)
		CHECK(isnan(out[i]) || fabs(out[i]) <= RTOL,
		      "%s element %d: KL(p || p) = %g", c->label, i, out[i]);
}

static void check_all(int tree, int variant)
{
	unit_rng r;
	urng_seed(&r, 77 + (uint64_t)(tree * 16 + variant));
	unit_begin();
	for (int k = 0; k < CASES; k++) {
		dcase c;
		memset(&c, 0, sizeof c);
		if (tree)
			make_tree(&c, &r, k % 3, variant);
		else
			make_chain(&c, &r, k % 3, variant);
		unit_context("%s case %d", c.label, k);
		check_case(&c);
		dcase_free(&c);
	}
	if (tree)
		unit_end("derived: spanning-tree%s%s%s count, cross-entropy and kl equal brute force (normal, x30 and -inf scores)",
			 variant & 1 ? " undirected" : "",
			 variant & 2 ? " projective" : "",
			 variant & 4 ? " single-root" : "");
	else
		unit_end("derived: %s count, cross-entropy and kl equal brute force (normal, x30 and -inf scores, length 0)",
			 variant ? "hmm" : "linear-chain");
}

static void check_refusals(void)
{
	dcase c;
	unit_rng r;
	ss_batch b;
	double out[BATCH];
	unsigned char empty[BATCH];
	int64_t failed;
	int in_q;
	ss_error err;
	urng_seed(&r, 5);
	memset(&c, 0, sizeof c);
	make_chain(&c, &r, 0, 0);
	memset(&b, 0, sizeof b);
	b.structure = c.s;
	b.elements = c.p;
	b.count = BATCH;
	b.num_samples = 1;
	b.out[0] = out;
	b.empty = empty;
	unit_begin();
	CHECK(ss_run(SS_OP_KL, &b, &failed, NULL, &err) == SS_EUNSUPPORTED,
	      "kl without Q");
	/* a bad Q element is reported as Q's */
	double *theta = (double *)c.q[3].input[input_index(c.s, "log_potentials")].data;
	theta[0] = NAN;
	b.elements_q = c.q;
	CHECK(ss_run(SS_OP_CROSS_ENTROPY, &b, &failed, &in_q, &err) == SS_EDATA &&
	      failed == 3 && in_q == 1,
	      "NaN in Q's element 3: failed %lld, in Q %d: %s",
	      (long long)failed, in_q, err.message);
	unit_end("derived: kl refuses a missing Q; a bad element of Q is reported as Q's");
	dcase_free(&c);
}

void suite_derived(void)
{
	self_test();
	check_all(0, 0);
	check_all(0, 1);
	for (int variant = 0; variant < 8; variant++)
		check_all(1, variant);
	check_refusals();
}
