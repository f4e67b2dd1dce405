/*
 * unit_lower_grad.c - ss_structure.lower_grad against central differences
 * of lower: the check that the structure suites run on their own random
 * elements (tests/unit_hmm.c, unit_ctc.c, unit_monotone_alignment.c,
 * unit_spanning_tree.c).
 *
 * lower maps the real inputs x to θ(x); lower_grad(dθ) must be the
 * transpose of its Jacobian, restricted to the entries of θ that are
 * finite and that the canonical problem reads. With f(x) = Σ_j dθ_j θ_j(x)
 * over those entries, Σ_k grad[k] · δ_k must equal the central difference
 * (f(x + hδ) - f(x - hδ)) / 2h for every direction δ over the finite
 * entries of the inputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define FD_STEP 1e-5
#define FD_TOL 1e-6
#define CANARY 12345.0

typedef struct lg_state {
	const ss_structure *s;
	ss_element e;      /* the element with the inputs below */
	double *x[SS_MAX_INPUTS];   /* copies of the real inputs */
	int64_t size[SS_MAX_INPUTS];
	int64_t E;         /* the canonical event size */
	double *theta, *buf, *dtheta;
	unsigned char *used; /* [E]: finite in θ(x) and read */
	void *ws;
	size_t ws_bytes;
} lg_state;

static int is_real_input(const ss_structure *s, const ss_element *e, int k)
{
	return s->inputs[k].kind == SS_REAL && e->input[k].data != NULL;
}

/* θ of element x (without preparations) into out [E]; the canonical
 * element into c where not NULL. */
static void theta_of(lg_state *g, const ss_element *x, double *out,
		     ss_element *c)
{
	ss_element low = *x;
	g->s->lower(x, g->ws, g->buf, &low);
	memcpy(out, low.input[0].data, sizeof *out * (size_t)g->E);
	if (c)
		*c = low;
}

/* f(x + step δ) = Σ_j dθ_j θ_j over the used entries. */
static double f_at(lg_state *g, double *const delta[], double step)
{
	ss_element x = g->e;
	double *moved[SS_MAX_INPUTS] = {0};
	double f = 0.0;

	memset(x.prepared, 0, sizeof x.prepared);
	for (int k = 0; k < g->s->n_inputs; k++) {
		if (!g->x[k])
			continue;
		moved[k] = malloc(sizeof(double) * (size_t)(g->size[k] + 1));
		for (int64_t i = 0; i < g->size[k]; i++)
			moved[k][i] = g->x[k][i] + step * delta[k][i];
		x.input[k].data = moved[k];
	}
	theta_of(g, &x, g->theta, NULL);
	for (int64_t j = 0; j < g->E; j++)
		if (g->used[j])
			f += g->dtheta[j] * g->theta[j];
	for (int k = 0; k < g->s->n_inputs; k++)
		free(moved[k]);
	return f;
}

/* The central difference of f along δ. */
static double central(lg_state *g, double *const delta[])
{
	return (f_at(g, delta, FD_STEP) - f_at(g, delta, -FD_STEP)) /
	       (2 * FD_STEP);
}

/* lower_grad into grad (allocated, zeroed, a canary past each end) with
 * the workspace full of NaN; want[k] NULL asks for no gradient of k. */
static void run_grad(lg_state *g, double *const want[], double *grad[])
{
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		grad[k] = NULL;
		if (!g->x[k] || !want[k])
			continue;
		grad[k] = calloc((size_t)g->size[k] + 1, sizeof(double));
		grad[k][g->size[k]] = CANARY;
	}
	memset(g->ws, 0xff, g->ws_bytes); /* NaN: lower_grad owes it nothing */
	g->s->lower_grad(&g->e, g->ws, g->dtheta, grad);
}

void check_lower_grad(const ss_structure *s, const ss_element *e,
		      theta_reads_fn reads, unit_rng *r, int directions,
		      int unit)
{
	const ss_structure *k_s = s->canonical ? s->canonical : s;
	lg_state g;
	ss_element c;
	double *grad[SS_MAX_INPUTS], *delta[SS_MAX_INPUTS] = {0};
	double *all[SS_MAX_INPUTS];

	memset(&g, 0, sizeof g);
	g.s = s;
	g.e = *e;
	g.E = ss_event_size(k_s, e->dim);
	g.ws_bytes = s->workspace_bytes ? s->workspace_bytes(e->dim) : 0;
	g.ws_bytes = (g.ws_bytes + 63) / 64 * 64;
	g.ws = ws_alloc(g.ws_bytes);
	g.theta = malloc(sizeof(double) * (size_t)(g.E + 1));
	g.buf = malloc(sizeof(double) * (size_t)(g.E + 1));
	g.dtheta = malloc(sizeof(double) * (size_t)(g.E + 1));
	g.used = calloc((size_t)g.E + 1, 1);
	if (!CHECK(s->lower_grad != NULL, "%s has no lower_grad", s->name))
		goto done;
	for (int k = 0; k < s->n_inputs; k++) {
		if (!is_real_input(s, e, k))
			continue;
		CHECK(e->input[k].dtype != SS_F32, "input %d is not double", k);
		g.size[k] = ss_input_size(s, k, e->dim);
		g.x[k] = malloc(sizeof(double) * (size_t)(g.size[k] + 1));
		memcpy(g.x[k], e->input[k].data, sizeof(double) * (size_t)g.size[k]);
		g.e.input[k].data = g.x[k];
		delta[k] = calloc((size_t)g.size[k] + 1, sizeof(double));
	}
	{
		ss_element plain = g.e;

		memset(plain.prepared, 0, sizeof plain.prepared);
		theta_of(&g, &plain, g.theta, &c);
	}
	for (int64_t j = 0; j < g.E; j++) {
		g.used[j] = isfinite(g.theta[j]) && (!reads || reads(&c, j));
		g.dtheta[j] = urng_normal(r); /* anything where unused */
	}

	/* Every gradient at once; then each alone, which must agree. */
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		all[k] = g.x[k];
	run_grad(&g, all, grad);
	for (int k = 0; k < s->n_inputs; k++) {
		double *one[SS_MAX_INPUTS] = {0}, *alone[SS_MAX_INPUTS];

		if (!g.x[k])
			continue;
		CHECK(grad[k][g.size[k]] == CANARY,
		      "input %s: lower_grad wrote past its end",
		      s->inputs[k].name);
		for (int64_t i = 0; i < g.size[k]; i++) {
			const double x = g.x[k][i], d = grad[k][i];

			CHECK(!isnan(d), "input %s[%lld]: gradient NaN",
			      s->inputs[k].name, (long long)i);
			if (!isfinite(x))
				CHECK(d == 0.0,
				      "input %s[%lld] = %g (never read or -inf): gradient %g, not 0",
				      s->inputs[k].name, (long long)i, x, d);
		}
		one[k] = g.x[k];
		run_grad(&g, one, alone);
		CHECK(!memcmp(alone[k], grad[k],
			      sizeof(double) * (size_t)g.size[k]),
		      "input %s: its gradient alone differs from it among all",
		      s->inputs[k].name);
		free(alone[k]);
	}

	/* Random directions over the finite entries of every input. */
	for (int d = 0; d < directions; d++) {
		double want = 0.0;

		for (int k = 0; k < s->n_inputs; k++)
			for (int64_t i = 0; g.x[k] && i < g.size[k]; i++) {
				delta[k][i] = isfinite(g.x[k][i]) ? urng_normal(r)
								   : 0.0;
				want += grad[k][i] * delta[k][i];
			}
		CHECK_CLOSE_AT(want, central(&g, delta), FD_TOL,
			       "Σ grad · δ against the central difference (direction %d)",
			       d);
	}

	/* Unit vectors: entry by entry. */
	for (int k = 0; unit && k < s->n_inputs; k++) {
		for (int j = 0; j < s->n_inputs; j++)
			if (delta[j])
				memset(delta[j], 0,
				       sizeof(double) * (size_t)g.size[j]);
		for (int64_t i = 0; g.x[k] && i < g.size[k]; i++) {
			if (!isfinite(g.x[k][i]))
				continue;
			delta[k][i] = 1.0;
			CHECK_CLOSE_AT(grad[k][i], central(&g, delta), FD_TOL,
				       "d f / d %s[%lld]", s->inputs[k].name,
				       (long long)i);
			delta[k][i] = 0.0;
		}
	}
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		free(grad[k]);
done:
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		free(g.x[k]);
		free(delta[k]);
	}
	free(g.theta);
	free(g.buf);
	free(g.dtheta);
	free(g.used);
	free(g.ws);
}
