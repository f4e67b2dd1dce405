/*
 * chart_hvp.c - the second-order pass of the chart engine: the Hessian of
 * log Z times a direction, for the exact gradients of the entropy, the
 * cross-entropy and kl (--grad).
 *
 * log Z's gradient in the potentials θ is the marginals μ; its Hessian
 * is the covariance of the parts, so along a direction d
 *
 *   (∇² log Z · d)[p] = Cov(parts_p, parts · d) = E[parts_p (parts · d)] - μ_p E[parts · d]
 *
 * and the entropy's gradient is -∇² log Z · θ = -Cov(parts, score). It is
 * computed as the derivative of the marginals along d, by forward-mode
 * differentiation of the inside and the outside sweeps of lib/chart.c
 * (forward over reverse; Pearlmutter 1994), on the cells the log inside
 * left in the chart. With o a cell, v_j its candidates and
 * w_j = exp(v_j - o) the probability that o takes candidate j:
 *
 *   inside tangent     τ(o) = Σ_j w_j (τ(x_j) + τ(y_j) + d[part_j])
 *                      (τ(o) = d/dε of cell o's log value along θ + ε d:
 *                      the expected d-score of o's sub-structure)
 *   outside            ḡ(root) = 1, ḡ(x_j) += ḡ(o) w_j  (as lib/chart.c)
 *   outside tangent    ġ(root) = 0,
 *                      ġ(x_j) += ġ(o) w_j + ḡ(o) w_j (τ(x_j) + τ(y_j) + d[part_j] - τ(o))
 *                      and the same to y_j; the part's share is the
 *                      result: hv[part_j] += that sum
 *
 * (ḡ(o) w_j is the marginal of candidate j; its derivative along d is
 * the second line.) Exact: every term is a product of probabilities and
 * differences of expected scores, no finite difference. Candidates with
 * w_j = 0 (a -inf operand or part) are skipped, so d may hold anything
 * there. Dead cells (-inf) pass nothing.
 *
 * Time: two passes over every candidate, one exp each; memory: τ and ġ
 * per cell, given by the caller. Plain double code: gradients are not
 * the hot path, and one version serves every instruction set.
 */
#include "internal.h"

/* Cell o's log value in its candidates' frame (its step's shift added
 * back), as lib/chart.c's outside forms it. */
static double cell_value(const ssi_chart *c, const ssi_step *st, int64_t s)
{
	return c->cell[st->out + s] + st->shift;
}

static inline double part_value(const ssi_chart *c, int64_t k)
{
	return c->theta_f32 ? (double)c->theta_f32[k] : c->theta[k];
}

/* The address of operand o for split j of cell s (o present). */
static inline int64_t at(ssi_operand o, int64_t j, int64_t s)
{
	return o.base + j * o.per_j + s * o.per_s;
}

/* Candidate j of cell s: its log value and the sum of its operands' and
 * part's tangents. */
static double candidate(const ssi_chart *c, const ssi_step *st,
			const double *d, const double *tau, int64_t j,
			int64_t s, double *tangent)
{
	double v = 0.0, t = 0.0;
	if (st->x.base >= 0) {
		v += c->cell[at(st->x, j, s)];
		t += tau[at(st->x, j, s)];
	}
	if (st->y.base >= 0) {
		v += c->cell[at(st->y, j, s)];
		t += tau[at(st->y, j, s)];
	}
	if (st->part.base >= 0) {
		v += part_value(c, at(st->part, j, s));
		t += d[at(st->part, j, s)];
	}
	*tangent = t;
	return v;
}

static void inside_tangent(const ssi_chart *c, const double *d, double *tau)
{
	for (int64_t k = 0; k < c->n_steps; k++) {
		const ssi_step *st = &c->step[k];
		for (int64_t s = 0; s < st->count; s++) {
			const double o = cell_value(c, st, s);
			double sum = 0.0, t;
			if (o == -INFINITY) {
				tau[st->out + s] = 0.0;
				continue;
			}
			for (int64_t j = st->lo; j < st->hi; j++) {
				double w = ssi_exp(candidate(c, st, d, tau, j, s, &t) - o);
				if (w > 0.0)
					sum += w * t;
			}
			tau[st->out + s] = sum;
		}
	}
}

void ssi_chart_hvp(ssi_chart *c, const double *d, double *hv, double *tau,
		   double *gdot)
{
	double *g = c->adj;
	inside_tangent(c, d, tau);
	for (int64_t k = 0; k < c->n_steps; k++) {
		const ssi_step *st = &c->step[k];
		memset(g + st->out, 0, (size_t)st->count * sizeof *g);
		memset(gdot + st->out, 0, (size_t)st->count * sizeof *gdot);
	}
	g[c->root] = 1.0;
	for (int64_t k = c->n_steps - 1; k >= 0; k--) {
		const ssi_step *st = &c->step[k];
		for (int64_t s = 0; s < st->count; s++) {
			const double o = cell_value(c, st, s);
			const double go = g[st->out + s], gdo = gdot[st->out + s];
			const double to = tau[st->out + s];
			if (o == -INFINITY || (go == 0.0 && gdo == 0.0))
				continue;
			for (int64_t j = st->lo; j < st->hi; j++) {
				double t, w, p, pdot;
				w = ssi_exp(candidate(c, st, d, tau, j, s, &t) - o);
				if (w == 0.0)
					continue;
				p = go * w;
				pdot = gdo * w + p * (t - to);
				if (st->x.base >= 0) {
					g[at(st->x, j, s)] += p;
					gdot[at(st->x, j, s)] += pdot;
				}
				if (st->y.base >= 0) {
					g[at(st->y, j, s)] += p;
					gdot[at(st->y, j, s)] += pdot;
				}
				if (st->part.base >= 0)
					hv[at(st->part, j, s)] += pdot;
			}
		}
	}
}
