/*
 * unit_conformance_monotone_alignment.c - the conformance rows of
 * monotone-alignment (SPEC §1): a case generator, with and without the
 * vertical input, and a brute-force enumerator that walks every monotone
 * path move by move, independently of the chart.
 *
 * The harness draws lengths_rows (the row's len_axis, R); the generator
 * draws lengths_cols itself (draw_cols). No gradient: the event (visited cells) does
 * not give the moves' marginals; tests/unit_monotone_alignment.c checks
 * d log Z / d input by finite differences against brute-force move
 * marginals instead.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

/* lengths_cols in [1, C], drawn from what P and its twin Q of the
 * cross-entropy and kl checks share (the element, its sizes and length),
 * not from g's stream, which Q's case reseeds: P and Q need the same
 * lengths. */
static int64_t draw_cols(const conf_case *c, const conf_gen *g)
{
	unit_rng r;

	urng_seed(&r, (uint64_t)c->e.index * 1000003u + (uint64_t)g->len * 7919u +
		      (uint64_t)(g->dim[SS_DIM_R] * 257 + g->dim[SS_DIM_C] * 17 +
				 g->dim[SS_DIM_K]));
	return urng_int(&r, 1, g->dim[SS_DIM_C]);
}

/* Used: H[0, 0, 0]; H[k, r, c] for 1 <= c < cols, k <= r < rows;
 * V[r, c] for 1 <= r < rows, c < cols. dead: every move into the last
 * cell (R' >= 2, so it is not the first) is -inf. */
static void ma_make(conf_case *c, conf_gen *g, int vertical)
{
	const int64_t R = g->dim[SS_DIM_R], C = g->dim[SS_DIM_C];
	const int64_t K = g->dim[SS_DIM_K], RC = R * C, rows = g->len;
	const int64_t cols = g->has_lengths ? draw_cols(c, g) : C;
	double *h = conf_reals(c, K * RC);
	double *v = vertical ? conf_reals(c, RC) : NULL;
	int64_t *lc = conf_ints(c, 1);

	for (int64_t k = 0; k < K; k++)
		for (int64_t r = 0; r < R; r++)
			for (int64_t j = 0; j < C; j++)
				h[k * RC + r * C + j] =
					(k == 0 && r == 0 && j == 0) ||
						(j >= 1 && j < cols && r >= k && r < rows)
					? conf_value(g) : conf_unused(g);
	for (int64_t r = 0; v && r < R; r++)
		for (int64_t j = 0; j < C; j++)
			v[r * C + j] = r >= 1 && r < rows && j < cols
				? conf_value(g) : conf_unused(g);
	if (g->dead) {
		for (int64_t k = 0; k < K && cols > 1; k++)
			if (rows - 1 >= k)
				h[k * RC + (rows - 1) * C + cols - 1] = -INFINITY;
		if (v)
			v[(rows - 1) * C + cols - 1] = -INFINITY;
	}
	conf_set_input(c, "log_potentials_horizontal", h);
	if (v)
		conf_set_input(c, "log_potentials_vertical", v);
	*lc = cols;
	if (g->has_lengths)
		conf_set_input(c, "lengths_cols", lc);
	conf_set_lengths(c, g);
}

void conf_monotone_make(conf_case *c, conf_gen *g)
{
	ma_make(c, g, 0);
}

void conf_monotone_vertical_make(conf_case *c, conf_gen *g)
{
	ma_make(c, g, 1);
}

typedef struct ma_walk {
	const double *h, *v;
	int64_t R, C, K, rows, cols;
	double *event;
	conf_enum *en;
} ma_walk;

/* Every path on from (r, c), visited cells marked in w->event. */
static void walk(ma_walk *w, int64_t r, int64_t c, long double score)
{
	const int64_t RC = w->R * w->C;

	w->event[r * w->C + c] = 1.0;
	if (r == w->rows - 1 && c == w->cols - 1)
		conf_enum_add(w->en, w->event, score);
	if (w->v && r + 1 < w->rows)
		walk(w, r + 1, c, score + w->v[(r + 1) * w->C + c]);
	for (int64_t k = 0; k < w->K && c + 1 < w->cols; k++)
		if (r + k < w->rows)
			walk(w, r + k, c + 1,
			     score + w->h[k * RC + (r + k) * w->C + c + 1]);
	w->event[r * w->C + c] = 0.0;
}

void conf_monotone_enumerate(const conf_case *c, conf_enum *en)
{
	const int lc = input_index(c->s, "lengths_cols");
	ma_walk w = {
		.h = c->e.input[input_index(c->s, "log_potentials_horizontal")].data,
		.v = c->e.input[input_index(c->s, "log_potentials_vertical")].data,
		.R = c->e.dim[SS_DIM_R], .C = c->e.dim[SS_DIM_C],
		.K = c->e.dim[SS_DIM_K], .rows = c->len, .en = en,
	};

	w.cols = c->e.input[lc].data ? *(const int64_t *)c->e.input[lc].data : w.C;
	w.event = calloc((size_t)(w.R * w.C + 1), sizeof *w.event);
	walk(&w, 0, 0, w.h[0]);
	free(w.event);
}
