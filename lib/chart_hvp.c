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
 * w_j = 0 (a -inf operand or part) add nothing, so d may hold anything
 * finite there. Dead cells (-inf) pass nothing.
 *
 * Each step runs row by row over its splits j, each row a loop over the
 * step's cells s, as lib/chart.c's passes do, so that the loops
 * vectorise; the file is compiled once per instruction set, as chart.c
 * is (lib/isa.c). Time: two passes over every candidate, one exp each.
 * Memory: τ, ġ and the normalised log values per cell, and SSI_HVP_ROWS
 * rows of a step's width, given by the caller.
 */
#include "internal.h"

enum { ROW_O, ROW_TO, ROW_G, ROW_GD, ROW_V, ROW_T, ROW_P, ROW_PD, ROW_COUNT };
_Static_assert(ROW_COUNT == SSI_HVP_ROWS, "SSI_HVP_ROWS is not ROW_COUNT");

/* row[s] (+)= src[o(j, s)] for s < count; an absent operand adds 0. */
static void add_row(double *row, const double *src, ssi_operand o, int64_t j,
		    int64_t count, int first)
{
	const double *p = src + o.base + j * o.per_j;
	if (o.base < 0) {
		if (first)
			memset(row, 0, (size_t)count * sizeof *row);
	} else if (o.per_s == 1) {
		for (int64_t s = 0; s < count; s++)
			row[s] = (first ? 0.0 : row[s]) + p[s];
	} else {
		for (int64_t s = 0; s < count; s++)
			row[s] = (first ? 0.0 : row[s]) + p[s * o.per_s];
	}
}

/* The parts' values of split j, as doubles, added to row. */
static void add_parts(const ssi_chart *c, double *row, ssi_operand o,
		      int64_t j, int64_t count)
{
	const int64_t at = o.base + j * o.per_j;
	if (o.base < 0)
		return;
	if (c->theta_f32)
		for (int64_t s = 0; s < count; s++)
			row[s] += (double)c->theta_f32[at + s * o.per_s];
	else
		add_row(row, c->theta, o, j, count, 0);
}

/* dst[o(j, s)] += p[s] for s < count (absent: nothing). */
static void scatter(double *dst, ssi_operand o, int64_t j, const double *p,
		    int64_t count)
{
	double *q = dst + o.base + j * o.per_j;
	if (o.base < 0)
		return;
	for (int64_t s = 0; s < count; s++)
		q[s * o.per_s] += p[s];
}

/* Split j of step st: its candidates' log values into v, their operands'
 * and part's tangents into t, and w = exp(v - o) into w (0 where v or o
 * is -inf). */
static void split_row(const ssi_chart *c, const ssi_step *st, int64_t j,
		      const double *d, const double *tau, double **r,
		      double *w)
{
	const int64_t count = st->count;
	double *v = r[ROW_V], *t = r[ROW_T];
	const double *o = r[ROW_O];
	add_row(v, c->cell, st->x, j, count, 1);
	add_row(v, c->cell, st->y, j, count, 0);
	add_parts(c, v, st->part, j, count);
	add_row(t, tau, st->x, j, count, 1);
	add_row(t, tau, st->y, j, count, 0);
	if (st->part.base >= 0)
		add_row(t, d, st->part, j, count, 0);
	#pragma omp simd
	for (int64_t s = 0; s < count; s++)
		w[s] = o[s] == -INFINITY ? 0.0 : ssi_exp(v[s] - o[s]);
}

/* o: the cells' log values in their candidates' frame (the step's shift
 * added back, as lib/chart.c's outside forms them). */
static void cell_values(const ssi_chart *c, const ssi_step *st, double *o)
{
	for (int64_t s = 0; s < st->count; s++)
		o[s] = c->cell[st->out + s] + st->shift;
}

/* The same, normalised by inside_tangent. */
static void normalised_values(const ssi_step *st, const double *norm,
			      double *o)
{
	memcpy(o, norm + st->out, (size_t)st->count * sizeof *o);
}

/*
 * τ of every cell, and into norm the cells' log values corrected so that
 * their candidates' weights exp(v_j - norm) sum to one as computed: at
 * scores of 1e4 a cell's log value carries an absolute rounding of
 * 1e-12, and weights that summed to 1 + 1e-12 would bias τ, of the order
 * of a whole structure's d-score, by that much; normalised, τ(o) is a
 * weighted mean of its candidates' and the differences τ(x) + τ(y) + d -
 * τ(o) of the reverse sweep stay exact to the rounding of the scores.
 */
static void inside_tangent(const ssi_chart *c, const double *d, double *tau,
			   double *norm, double **r)
{
	for (int64_t k = 0; k < c->n_steps; k++) {
		const ssi_step *st = &c->step[k];
		const int64_t count = st->count;
		double *sum = tau + st->out, *w = r[ROW_P], *total = r[ROW_G];
		const double *t = r[ROW_T], *o = r[ROW_O];
		cell_values(c, st, r[ROW_O]);
		memset(sum, 0, (size_t)count * sizeof *sum);
		memset(total, 0, (size_t)count * sizeof *total);
		for (int64_t j = st->lo; j < st->hi; j++) {
			split_row(c, st, j, d, tau, r, w);
			#pragma omp simd
			for (int64_t s = 0; s < count; s++) {
				sum[s] += w[s] > 0.0 ? w[s] * t[s] : 0.0;
				total[s] += w[s];
			}
		}
		for (int64_t s = 0; s < count; s++) {
			const int live = total[s] > 0.0;
			sum[s] = live ? sum[s] / total[s] : 0.0;
			norm[st->out + s] = live ? o[s] + log(total[s]) : -INFINITY;
		}
	}
}

void SSI_KERNEL(ssi_chart_hvp)(ssi_chart *c, const double *d, double *hv,
				double *tau, double *gdot, double *norm,
				double *rows, int64_t row_stride)
{
	double *g = c->adj, *r[ROW_COUNT];
	for (int k = 0; k < ROW_COUNT; k++)
		r[k] = rows + k * row_stride;
	inside_tangent(c, d, tau, norm, r);
	for (int64_t k = 0; k < c->n_steps; k++) {
		const ssi_step *st = &c->step[k];
		memset(g + st->out, 0, (size_t)st->count * sizeof *g);
		memset(gdot + st->out, 0, (size_t)st->count * sizeof *gdot);
	}
	g[c->root] = 1.0;
	for (int64_t k = c->n_steps - 1; k >= 0; k--) {
		const ssi_step *st = &c->step[k];
		const int64_t count = st->count;
		double *go = r[ROW_G], *gdo = r[ROW_GD], *to = r[ROW_TO];
		double *p = r[ROW_P], *pd = r[ROW_PD];
		const double *t = r[ROW_T];
		int any = 0;
		normalised_values(st, norm, r[ROW_O]);
		for (int64_t s = 0; s < count; s++) {
			go[s] = g[st->out + s];
			gdo[s] = gdot[st->out + s];
			to[s] = tau[st->out + s];
			any |= go[s] != 0.0 || gdo[s] != 0.0;
		}
		if (!any)
			continue;
		for (int64_t j = st->lo; j < st->hi; j++) {
			split_row(c, st, j, d, tau, r, p);
			#pragma omp simd
			for (int64_t s = 0; s < count; s++) {
				const double w = p[s];
				p[s] = go[s] * w;
				pd[s] = w > 0.0 ? gdo[s] * w + p[s] * (t[s] - to[s])
						: 0.0;
			}
			scatter(g, st->x, j, p, count);
			scatter(g, st->y, j, p, count);
			scatter(gdot, st->x, j, pd, count);
			scatter(gdot, st->y, j, pd, count);
			scatter(hv, st->part, j, pd, count);
		}
	}
}
