/*
 * unit_conformance_ctc.c - the conformance row of ctc: a case generator,
 * a brute-force enumerator of alignments and the gradient of log Z with
 * respect to the logits, written from the definition in SPEC §1 and
 * independent of lib/struct_ctc.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

/* A stream of its own for the labels and the label length: Q's twin of
 * an element (cross-entropy, kl) must score the same labels, but the
 * harness seeds Q's generator apart. So this stream depends only on what
 * P and Q share: the sizes, the lengths, the mode and the element. */
static void labels_stream(const conf_case *c, const conf_gen *g,
			  unit_rng *r)
{
	uint64_t h = 0x243f6a8885a308d3ULL;
	const uint64_t parts[] = {
		(uint64_t)g->dim[SS_DIM_N], (uint64_t)g->dim[SS_DIM_L],
		(uint64_t)g->dim[SS_DIM_V], (uint64_t)g->len,
		(uint64_t)g->has_lengths, (uint64_t)g->dead,
		(uint64_t)g->values, (uint64_t)(g->pinf * 1e6),
		(uint64_t)g->unused_nan, (uint64_t)g->float32,
		(uint64_t)c->e.index,
	};
	for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
		urng_seed(r, h ^ parts[k]);
		h = urng_next(r);
	}
	urng_seed(r, h);
}

/*
 * log_potentials [n, V] (unused past len), labels [L] (ids other than the
 * blank within label_lengths, an adjacent repeat now and then, -1 or any
 * id past it), label_lengths drawn in [0, L] where lengths are given.
 * dead: one frame's logits all -inf.
 */
void conf_ctc_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], L = g->dim[SS_DIM_L];
	const int64_t V = g->dim[SS_DIM_V], len = g->len;
	const int64_t blank = conf_option(c, "blank_id");
	double *lp = conf_reals(c, n * V);
	int64_t *labels = conf_ints(c, L), *label_len = conf_ints(c, 1);
	int64_t Lp = L;
	unit_rng r;

	labels_stream(c, g, &r);
	if (g->has_lengths) {
		Lp = urng_int(&r, 0, L);
		*label_len = Lp;
		conf_set_input(c, "label_lengths", label_len);
	}
	for (int64_t i = 0; i < L; i++) {
		if (i >= Lp) {
			labels[i] = urng_int(&r, -1, V - 1);
		} else if (i > 0 && urng_uniform(&r) < 0.4) {
			labels[i] = labels[i - 1];
		} else {
			labels[i] = urng_int(&r, 0, V - 2);
			labels[i] += labels[i] >= blank;
		}
	}
	for (int64_t t = 0; t < n; t++)
		for (int64_t v = 0; v < V; v++)
			lp[t * V + v] = t < len ? conf_value(g) : conf_unused(g);
	if (g->dead) {
		int64_t t = conf_int(g, 0, len - 1);

		for (int64_t v = 0; v < V; v++)
			lp[t * V + v] = -INFINITY;
	}
	conf_set_input(c, "log_potentials", lp);
	conf_set_input(c, "labels", labels);
	conf_set_lengths(c, g);
}

/* The element's frames T, label length L', blank and log-softmax of
 * every used frame, logp [n, V]. */
typedef struct ctc_case {
	int64_t n, V, S, T, Lp, blank;
	const int64_t *labels;
	long double *logp;
} ctc_case;

static void ctc_case_make(const conf_case *c, ctc_case *k)
{
	const double *x = c->e.input[input_index(c->s, "log_potentials")].data;
	const int64_t *ll = c->e.input[input_index(c->s, "label_lengths")].data;

	k->n = c->e.dim[SS_DIM_N];
	k->V = c->e.dim[SS_DIM_V];
	k->S = c->e.dim[SS_DIM_S];
	k->T = c->len;
	k->Lp = ll ? *ll : c->e.dim[SS_DIM_L];
	k->blank = conf_option(c, "blank_id");
	k->labels = c->e.input[input_index(c->s, "labels")].data;
	k->logp = calloc((size_t)(k->n * k->V + 1), sizeof *k->logp);
	for (int64_t t = 0; t < k->T; t++)
		brute_log_softmax(x + t * k->V, k->V, k->logp + t * k->V);
}

/* The vocabulary id of extended row s. */
static int64_t ext_id(const ctc_case *k, int64_t s)
{
	return s % 2 == 0 ? k->blank : k->labels[s / 2];
}

/* Whether the rows rows[0 .. T-1] are an alignment (SPEC §1 / issue 9). */
static int valid_alignment(const ctc_case *k, const int64_t *rows)
{
	const int64_t Sp = 2 * k->Lp + 1, T = k->T;

	if (rows[0] > 1 || rows[T - 1] < Sp - 2)
		return 0;
	for (int64_t t = 1; t < T; t++) {
		int64_t d = rows[t] - rows[t - 1];

		if (d < 0 || d > 2)
			return 0;
		if (d == 2 && (rows[t] % 2 == 0 ||
			       ext_id(k, rows[t]) == ext_id(k, rows[t] - 2)))
			return 0;
	}
	return 1;
}

/* Every sequence of rows in [0, S') over the T frames, kept when it is an
 * alignment; T = 0: the empty alignment where L' = 0. */
void conf_ctc_enumerate(const conf_case *c, conf_enum *en)
{
	ctc_case k;
	int64_t rows[16] = {0}, Sp, count = 1;
	double *event;

	ctc_case_make(c, &k);
	Sp = 2 * k.Lp + 1;
	event = calloc((size_t)(k.S * k.n + 1), sizeof *event);
	if (k.T == 0) {
		if (k.Lp == 0)
			conf_enum_add(en, event, 0.0L);
		goto done;
	}
	for (int64_t t = 0; t < k.T; t++)
		count *= Sp;
	for (int64_t code = 0; code < count; code++) {
		long double score = 0.0L;
		int64_t x = code;

		for (int64_t t = 0; t < k.T; t++) {
			rows[t] = x % Sp;
			x /= Sp;
		}
		if (!valid_alignment(&k, rows))
			continue;
		memset(event, 0, sizeof *event * (size_t)(k.S * k.n));
		for (int64_t t = 0; t < k.T; t++) {
			event[rows[t] * k.n + t] = 1.0;
			score += k.logp[t * k.V + ext_id(&k, rows[t])];
		}
		conf_enum_add(en, event, score);
	}
done:
	free(event);
	free(k.logp);
}

/* d log Z / d x[t][v] = Σ_{s: l'_s = v} μ[s][t] - softmax(x[t])[v] Σ_s μ[s][t]
 * for t < T, 0 past it. */
void conf_ctc_grad(const conf_case *c, const double *mu,
		   double *const grad[SS_MAX_INPUTS])
{
	const int k_lp = input_index(c->s, "log_potentials");
	ctc_case k;

	ctc_case_make(c, &k);
	for (int64_t t = 0; t < k.T; t++) {
		long double total = 0.0L;

		for (int64_t s = 0; s < 2 * k.Lp + 1; s++) {
			grad[k_lp][t * k.V + ext_id(&k, s)] += mu[s * k.n + t];
			total += mu[s * k.n + t];
		}
		for (int64_t v = 0; v < k.V; v++) {
			long double lq = k.logp[t * k.V + v];

			grad[k_lp][t * k.V + v] -=
				(double)((isinf(lq) ? 0.0L : expl(lq)) * total);
		}
	}
	free(k.logp);
}
