/*
 * unit_spanning_tree.c - the spanning-tree structure, all eight variants
 * (directed or not, projective or not, single root or not), through its
 * ss_structure interface, against brute-force enumeration of every tree.
 * Undirected problems are checked against the directed brute force on the
 * symmetrised scores, with edge marginals P(u->v) + P(v->u). Also
 * lower_grad against central differences.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_tree.h"

#define MAXN 6

typedef struct tree_case {
	const ss_structure *s;
	int64_t n, len;
	int directed, projective, single_root;
	double lp[MAXN * MAXN], w[MAXN * MAXN];
	int64_t lengths;
	ss_element e;
	void *ws;
	char label[128];
} tree_case;

/* Modes 3 .. 6 lie beyond e^±11356, where an 80-bit long double ends:
 * each arc C times -1, 0 or +1 plus noise, or C plus noise. */
#define MODES 7
static const char *const mode_names[MODES] = {
	"normal", "+-500", "1e4", "1.2e4 x {-1, 0, 1}", "1e5 x {-1, 0, 1}",
	"1.2e4", "1e5",
};

static double draw(unit_rng *r, int mode)
{
	static const double scale[MODES] = {0, 0, 0, 1.2e4, 1e5, 1.2e4, 1e5};
	if (urng_uniform(r) < 0.08)
		return -INFINITY;
	switch (mode) {
	case 1: return -500 + 1000 * urng_uniform(r);
	case 2: return 1e4 + 2 * urng_uniform(r) - 1;
	case 3:
	case 4: return scale[mode] * (double)urng_int(r, -1, 1) +
		       1.5 * urng_normal(r);
	case 5:
	case 6: return scale[mode] + 2 * urng_uniform(r) - 1;
	default: return 1.5 * urng_normal(r);
	}
}

/* Sets the spanning tree's three options of e, looked up by name. */
static void set_options(ss_element *e, const ss_structure *s, int directed,
			int projective, int single_root)
{
	e->option[option_index(s, "directed")] = directed;
	e->option[option_index(s, "projective")] = projective;
	e->option[option_index(s, "single_root_edge")] = single_root;
}

/* Fills the case; entries never read hold NaN. */
static void case_setup(tree_case *c, int variant, int64_t n, int64_t len,
		       int mode, unit_rng *r)
{
	memset(c, 0, sizeof *c);
	c->s = ss_structure_find("spanning-tree");
	c->n = n;
	c->len = len;
	c->directed = !(variant & 1);
	c->projective = !!(variant & 2);
	c->single_root = !!(variant & 4);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++) {
			int used = h < len && d < len && h != d &&
				   (d > 0 || !c->directed);
			c->lp[h * n + d] = used ? draw(r, mode) : NAN;
		}
	for (int64_t u = 0; u < n; u++)
		for (int64_t v = 0; v < n; v++)
			c->w[u * n + v] = c->directed ? c->lp[u * n + v]
				: (c->lp[u * n + v] + c->lp[v * n + u]) / 2;
	c->lengths = len;
	c->e.input[input_index(c->s, "log_potentials")].data = c->lp;
	c->e.input[input_index(c->s, "lengths")].data = &c->lengths;
	c->e.dim[SS_DIM_N] = n;
	set_options(&c->e, c->s, c->directed, c->projective, c->single_root);
	c->ws = ws_alloc(ss_workspace_bytes(c->s, SS_OP_COUNT, c->e.dim));
	snprintf(c->label, sizeof c->label,
		 "%sdirected %sprojective %s n=%lld len=%lld %s",
		 c->directed ? "" : "un", c->projective ? "" : "non-",
		 c->single_root ? "single-root" : "multi-root", (long long)n,
		 (long long)len, mode_names[mode]);
}

/* The brute force over the (symmetrised) scores, with edge marginals
 * folded for undirected cases into fold [n * n]. */
static void case_brute(const tree_case *c, tree_brute *b, double *fold)
{
	tree_brute_run(b, c->w, c->len, c->n, c->projective, c->single_root);
	memset(fold, 0, sizeof(double) * (size_t)(c->n * c->n));
	for (int64_t u = 0; u < c->len; u++)
		for (int64_t v = 0; v < c->len; v++)
			fold[u * c->n + v] = c->directed
				? b->marg[u * c->len + v]
				: b->marg[u * c->len + v] + b->marg[v * c->len + u];
}

/* The event of a brute-force tree. */
static void case_event(const tree_case *c, const int64_t *heads,
		       double *event)
{
	memset(event, 0, sizeof(double) * (size_t)(c->n * c->n));
	for (int64_t d = 1; d < c->len; d++) {
		event[heads[d] * c->n + d] = 1;
		if (!c->directed)
			event[d * c->n + heads[d]] = 1;
	}
}

static void check_case(tree_case *c)
{
	const ss_structure *s = c->s;
	ss_error err;
	tree_brute b;
	double fold[MAXN * MAXN], mu[MAXN * MAXN], event[MAXN * MAXN];
	double logz, logz2, score, entropy;
	int64_t heads[MAXN];
	int64_t *decodes[1] = {heads};

	unit_context("%s", c->label);
	CHECK(s->validate(&c->e, c->ws, &err) == SS_OK, "validate: %s",
	      err.message);
	case_brute(c, &b, fold);
	ss_log_partition(s, &c->e, c->ws, &logz, &err);
	CHECK_CLOSE(logz, (double)b.logz, RTOL);
	ss_marginals(s, &c->e, c->ws, mu, &logz2, &err);
	CHECK_CLOSE(logz2, (double)b.logz, RTOL);
	for (int64_t k = 0; k < c->n * c->n; k++)
		CHECK_CLOSE_AT(mu[k], fold[k], RTOL, "marginals[%lld, %lld]",
			       (long long)(k / c->n), (long long)(k % c->n));
	ss_argmax(s, &c->e, c->ws, event, &score, &err);
	CHECK_CLOSE(score, (double)b.max, RTOL);
	s->decode(&c->e, event, decodes);
	if (b.max != -INFINITY) {
		int64_t k = tree_brute_find(&b, heads);
		CHECK(k >= 0, "argmax heads are a tree of the kind");
		if (k >= 0)
			CHECK_CLOSE_AT((double)b.scores[k], (double)b.max, RTOL,
				       "argmax tree's brute-force score");
	} else {
		for (int64_t d = 0; d < c->n; d++)
			CHECK(heads[d] == -1 && event[d] == 0,
			      "no tree: heads -1, empty event");
	}
	ss_entropy(s, &c->e, c->ws, &entropy, &err);
	CHECK_CLOSE(entropy, b.entropy, RTOL);
	/* score() of every tree of the kind, and log-prob consistency. */
	for (int64_t k = 0; k < b.all; k++) {
		double sc;
		case_event(c, b.trees + k * c->len, event);
		CHECK(ss_score(s, &c->e, c->ws, event, &sc, &err) == SS_OK,
		      "score accepts tree %lld: %s", (long long)k, err.message);
		CHECK_CLOSE_AT(sc, (double)b.scores[k], RTOL, "score of tree %lld",
			       (long long)k);
		s->decode(&c->e, event, decodes);
		for (int64_t d = 0; d < c->len; d++)
			CHECK(heads[d] == b.trees[k * c->len + d],
			      "decode of tree %lld", (long long)k);
	}
	/* Samples are trees of the kind with log_prob = score - log Z. */
	if (b.logz != -INFINITY) {
		double samples[4 * MAXN * MAXN], lp[4];
		ss_sample(s, &c->e, c->ws, 7, 4, samples, MAXN * MAXN, lp, 1, &err);
		for (int k = 0; k < 4; k++) {
			double sc;
			CHECK(ss_score(s, &c->e, c->ws, samples + k * MAXN * MAXN, &sc,
				       &err) == SS_OK && sc != -INFINITY,
			      "sample %d is a tree of the kind", k);
			CHECK_CLOSE_AT(lp[k], sc - (double)b.logz, RTOL,
				       "sample %d log_prob", k);
		}
	}
	tree_brute_free(&b);
}

static void suite_against_brute_force(void)
{
	for (int variant = 0; variant < 8; variant++) {
		unit_rng r;
		tree_case c;
		urng_seed(&r, 1000 + (uint64_t)variant);
		unit_begin();
		for (int mode = 0; mode < MODES; mode++)
			for (int k = 0; k < 12; k++) {
				int64_t n = urng_int(&r, 1, MAXN);
				int64_t len = urng_int(&r, 1, n);
				case_setup(&c, variant, n, len, mode, &r);
				check_case(&c);
				free(c.ws);
			}
		unit_end("spanning-tree %sdirected %sprojective %s: log Z, marginals, argmax, entropy, score, decode, samples equal brute force (84 problems: normal, +-500, 1e4, 1.2e4 and 1e5 times -1, 0 or 1, 1.2e4, 1e5, -inf arcs, NaN where unread)",
			 variant & 1 ? "un" : "", variant & 2 ? "" : "non-",
			 variant & 4 ? "single-root" : "multi-root");
	}
}

/* Whether canonical (directed) element c reads θ[h, d]: an arc h -> d
 * among its L nodes, d not the root. */
static int tree_reads(const ss_element *c, int64_t j)
{
	const ss_structure *s = ss_structure_find("spanning-tree");
	const int64_t *len = c->input[input_index(s, "lengths")].data;
	const int64_t n = c->dim[SS_DIM_N], L = len ? *len : n;
	const int64_t h = j / n, d = j % n;

	return h < L && d < L && d >= 1 && h != d;
}

/*
 * lower_grad is the transpose of lower's Jacobian (tests/unit_lower_grad.c)
 * on directed and undirected elements (projective or not: lower does not
 * care), -inf arcs, lengths below n, NaN where unread; entry by entry on
 * every element. For undirected trees the canonical problem reads no arc
 * into the root, so θ[., 0] counts as unread (tree_reads).
 */
static void suite_lower_grad(void)
{
	for (int variant = 0; variant < 4; variant++) {
		unit_rng r;
		tree_case c;
		int64_t padded = 0;

		urng_seed(&r, 3000 + (uint64_t)variant);
		unit_begin();
		for (int k = 0; k < 40; k++) {
			int64_t n = urng_int(&r, 1, MAXN);
			int64_t len = urng_int(&r, 1, n);

			case_setup(&c, variant, n, len, 0, &r);
			unit_context("%s", c.label);
			padded += len < n;
			if (CHECK(c.s->validate(&c.e, c.ws, NULL) == SS_OK,
				  "validate refuses the problem"))
				check_lower_grad(c.s, &c.e, tree_reads, &r, 4, 1);
			free(c.ws);
		}
		CHECK(padded >= 10, "coverage: %lld padded", (long long)padded);
		unit_end("spanning-tree %sdirected %sprojective: lower_grad is the transpose of lower's Jacobian: central differences along random directions and entry by entry, 0 where never read or -inf, no NaN (40 problems)",
			 variant & 1 ? "un" : "", variant & 2 ? "" : "non-");
	}
}

/*
 * An entropy is never negative: 200 seeded problems of 20 nodes per
 * variant, scores N(0, 1) times 100, 1000 and 1e4 (peaked: the entropy
 * is near 0, where rounding left -2e-12 before).
 */
static void suite_entropy_sign(void)
{
	static const double scales[] = {100.0, 1000.0, 1e4};
	enum { NODES = 20, PROBLEMS = 200 };
	const ss_structure *s = ss_structure_find("spanning-tree");
	double *lp = malloc(sizeof(double) * NODES * NODES);

	unit_begin();
	for (int variant = 0; variant < 8; variant++)
		for (int k = 0; k < 3; k++) {
			ss_element e = {0};
			void *ws;
			int negative = 0;
			double lowest = INFINITY;

			e.input[input_index(s, "log_potentials")].data = lp;
			e.dim[SS_DIM_N] = NODES;
			set_options(&e, s, !(variant & 1), !!(variant & 2),
				    !!(variant & 4));
			ws = ws_alloc(ss_workspace_bytes(s, SS_OP_COUNT, e.dim));
			for (uint64_t seed = 1; seed <= PROBLEMS; seed++) {
				unit_rng r;
				double h = NAN;
				ss_error err = {0};

				urng_seed(&r, seed);
				for (int64_t x = 0; x < NODES * NODES; x++)
					lp[x] = scales[k] * urng_normal(&r);
				CHECK(ss_entropy(s, &e, ws, &h, &err) == SS_OK,
				      "entropy failed: %s", err.message);
				negative += !(h >= 0.0);
				lowest = fmin(lowest, h);
			}
			unit_context("%sdirected %sprojective %s, scale %g",
				     variant & 1 ? "un" : "", variant & 2 ? "" : "non-",
				     variant & 4 ? "single-root" : "multi-root",
				     scales[k]);
			CHECK(negative == 0,
			      "%d of %d entropies are negative (the lowest %.3g)",
			      negative, PROBLEMS, lowest);
			free(ws);
		}
	free(lp);
	unit_end("spanning-tree: entropy >= 0 for 200 seeded problems of 20 nodes, scores N(0, 1) x 100, 1000, 1e4, all eight variants");
}

/* With all scores 0, log Z is the log of the number of trees. */
static void suite_counts(void)
{
	/* Trees over n = 1..6 nodes: non-projective n^(n-2) (Cayley) and
	 * (n-1)^(n-2) single-root; projective 1, 1, 3, 12, 55, 273 and
	 * 0, 1, 2, 7, 30, 143 single-root (one root and n-1 words). */
	static const double counts[4][MAXN] = {
		{1, 1, 3, 16, 125, 1296},
		{1, 1, 3, 12, 55, 273},
		{0, 1, 2, 9, 64, 625},
		{0, 1, 2, 7, 30, 143},
	};
	unit_begin();
	for (int variant = 0; variant < 8; variant++)
		for (int64_t n = 1; n <= MAXN; n++) {
			tree_case c;
			unit_rng r;
			double logz;
			ss_error err;
			urng_seed(&r, 1);
			case_setup(&c, variant, n, n, 0, &r);
			for (int64_t k = 0; k < n * n; k++)
				c.lp[k] = 0;
			unit_context("%s", c.label);
			ss_log_partition(c.s, &c.e, c.ws, &logz, &err);
			CHECK_CLOSE(logz, log(counts[(variant >> 1)][n - 1]), RTOL);
			free(c.ws);
		}
	unit_end("spanning-tree: log Z of all-zero scores is the log of the tree count (Cayley n^(n-2), (n-1)^(n-2); projective 1, 1, 3, 12, 55, 273 and 0, 1, 2, 7, 30, 143), all eight variants");
}

/* Up to three nodes every tree is projective. */
static void suite_projective_identity(void)
{
	unit_begin();
	static const int non_projective[] = {0, 1, 4, 5};
	for (int v = 0; v < 4; v++) {
		for (int k = 0; k < 20; k++) {
			int variant = non_projective[v];
			tree_case a, b;
			unit_rng r1, r2;
			double za, zb, ma[MAXN * MAXN], mb[MAXN * MAXN];
			ss_error err;
			int64_t n = 1 + k % 3;
			urng_seed(&r1, (uint64_t)(50 + k));
			urng_seed(&r2, (uint64_t)(50 + k));
			case_setup(&a, variant, n, n, k % 3, &r1);
			case_setup(&b, variant | 2, n, n, k % 3, &r2);
			unit_context("%s", a.label);
			ss_marginals(a.s, &a.e, a.ws, ma, &za, &err);
			ss_marginals(b.s, &b.e, b.ws, mb, &zb, &err);
			CHECK_CLOSE(za, zb, RTOL);
			for (int64_t j = 0; j < n * n; j++)
				CHECK_CLOSE_AT(ma[j], mb[j], RTOL, "marginal %lld",
					       (long long)j);
			free(a.ws);
			free(b.ws);
		}
	}
	unit_end("spanning-tree: projective and non-projective agree for n <= 3 nodes (log Z, marginals), every variant");
}

/* score() refuses events that are not trees of the element's kind. */
static void suite_bad_events(void)
{
	static const struct {
		int variant;
		int64_t arcs[5][2];
		int n_arcs;
		const char *what;
	} bad[] = {
		{0, {{0, 1}, {1, 2}, {2, 1}}, 3, "a node with two heads"},
		{0, {{2, 1}, {1, 2}, {0, 3}}, 3, "a cycle"},
		{0, {{0, 1}}, 1, "too few arcs"},
		{0, {{0, 1}, {1, 0}, {1, 2}, {1, 3}}, 4, "an arc into the root"},
		{2, {{0, 2}, {2, 1}, {0, 3}, {1, 4}}, 4, "crossing arcs under projective"},
		{4, {{0, 1}, {0, 2}, {0, 3}, {0, 4}}, 4, "two root arcs under single root"},
	};
	unit_begin();
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		tree_case c;
		unit_rng r;
		double event[MAXN * MAXN] = {0}, score;
		ss_error err;
		urng_seed(&r, 3);
		case_setup(&c, bad[k].variant, 5, 5, 0, &r);
		for (int a = 0; a < bad[k].n_arcs; a++)
			event[bad[k].arcs[a][0] * 5 + bad[k].arcs[a][1]] = 1;
		CHECK(ss_score(c.s, &c.e, c.ws, event, &score, &err) == SS_EDATA,
		      "score refuses %s", bad[k].what);
		free(c.ws);
	}
	{
		tree_case c;
		unit_rng r;
		double event[MAXN * MAXN] = {0}, score;
		ss_error err;
		urng_seed(&r, 3);
		case_setup(&c, 1, 3, 3, 0, &r);
		event[0 * 3 + 1] = 1;
		event[1 * 3 + 2] = 1;
		event[2 * 3 + 1] = 1;
		CHECK(ss_score(c.s, &c.e, c.ws, event, &score, &err) == SS_EDATA,
		      "score refuses an asymmetric undirected event");
		memset(event, 0, sizeof event);
		CHECK(ss_score(c.s, &c.e, c.ws, event, &score, &err) == SS_OK &&
			      score == -INFINITY,
		      "the all-zero event scores -inf");
		free(c.ws);
		case_setup(&c, 0, 3, 1, 0, &r);
		CHECK(ss_score(c.s, &c.e, c.ws, event, &score, &err) == SS_OK &&
			      score == 0,
		      "the root alone scores 0");
		free(c.ws);
	}
	unit_end("spanning-tree: score refuses two heads, cycles, missing arcs, arcs into the root, crossing arcs (projective), two root arcs (single root), asymmetric undirected events");
}

/* validate: lengths in [1, n]; NaN and +inf refused where read. */
static void suite_validate_tree(void)
{
	tree_case c;
	unit_rng r;
	ss_error err;
	unit_begin();
	urng_seed(&r, 9);
	case_setup(&c, 0, 4, 4, 0, &r);
	c.lengths = 0;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_EDATA, "length 0 refused");
	c.lengths = 5;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_EDATA, "length 5 > n refused");
	c.lengths = 4;
	c.lp[1 * 4 + 2] = NAN;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_EDATA &&
		      strstr(err.message, "log_potentials"),
	      "NaN in a used arc refused, naming the dataset");
	c.lp[1 * 4 + 2] = INFINITY;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_EDATA, "+inf refused");
	c.lp[1 * 4 + 2] = 0;
	c.lp[2 * 4 + 0] = NAN;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_OK,
	      "NaN in column 0 accepted (directed)");
	c.e.option[option_index(c.s, "directed")] = 0;
	CHECK(c.s->validate(&c.e, c.ws, &err) == SS_EDATA,
	      "NaN in column 0 refused (undirected: it is symmetrised in)");
	free(c.ws);
	unit_end("spanning-tree: validate refuses lengths outside [1, n], NaN and +inf where read; accepts NaN in column 0 of directed trees");
}

void suite_spanning_tree(void)
{
	suite_against_brute_force();
	suite_entropy_sign();
	suite_counts();
	suite_projective_identity();
	suite_bad_events();
	suite_validate_tree();
	suite_lower_grad();
}
