/*
 * unit_conformance_semi_markov.c - the conformance row of semi-markov
 * (SPEC §1): log_potentials [n, m, t, t], [i, j, a, c] scoring a segment
 * labelled c over i-j .. i after a segment labelled a (a = 0 for the
 * first). The enumerator chooses each segment's length and label in turn
 * from position 0, independently of the chart program.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

static int64_t at(int64_t m, int64_t t, int64_t i, int64_t j, int64_t a,
		  int64_t c)
{
	return ((i * m + j) * t + a) * t + c;
}

/* Entry [i, j, a, c] is read: a segment ending at i < len that starts at
 * i - j >= 0, after any label, or after label 0 where it is the first. */
static int used(int64_t len, int64_t i, int64_t j, int64_t a)
{
	return i < len && j <= i && (i - j > 0 || a == 0);
}

/* dead: every segment covering one position is forbidden. */
void conf_semi_markov_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], m = g->dim[SS_DIM_M];
	const int64_t t = g->dim[SS_DIM_T], len = g->len;
	double *lp = conf_reals(c, n * m * t * t);

	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < m; j++)
			for (int64_t a = 0; a < t; a++)
				for (int64_t k = 0; k < t; k++)
					lp[at(m, t, i, j, a, k)] = used(len, i, j, a)
						? conf_value(g) : conf_unused(g);
	if (g->dead) {
		int64_t p = conf_int(g, 0, len - 1);

		for (int64_t i = p; i < len && i < p + m; i++)
			for (int64_t j = i - p; j < m && j <= i; j++)
				for (int64_t a = 0; a < t; a++)
					for (int64_t k = 0; k < t; k++)
						if (used(len, i, j, a))
							lp[at(m, t, i, j, a, k)] = -INFINITY;
	}
	conf_set_input(c, "log_potentials", lp);
	conf_set_lengths(c, g);
}

typedef struct semi_enum {
	const double *lp;
	int64_t m, t, len;
	double *event;
	conf_enum *en;
} semi_enum;

/* Every continuation from position start after label prev. */
static void segment_from(semi_enum *s, int64_t start, int64_t prev,
			 long double score)
{
	if (start == s->len) {
		conf_enum_add(s->en, s->event, score);
		return;
	}
	for (int64_t width = 1; width <= s->m && start + width <= s->len; width++)
		for (int64_t c = 0; c < s->t; c++) {
			const int64_t k = at(s->m, s->t, start + width - 1,
					     width - 1, prev, c);

			s->event[k] = 1.0;
			segment_from(s, start + width, c, score + s->lp[k]);
			s->event[k] = 0.0;
		}
}

void conf_semi_markov_enumerate(const conf_case *c, conf_enum *en)
{
	const int64_t n = c->e.dim[SS_DIM_N], m = c->e.dim[SS_DIM_M];
	const int64_t t = c->e.dim[SS_DIM_T];
	semi_enum s = {c->e.input[input_index(c->s, "log_potentials")].data, m, t,
		       c->len, calloc((size_t)(n * m * t * t + 1), sizeof(double)),
		       en};

	segment_from(&s, 0, 0, 0.0L);
	free(s.event);
}
