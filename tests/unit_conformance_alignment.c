/*
 * unit_conformance_alignment.c - the conformance rows of alignment: a case
 * generator and a brute-force enumerator for its three types (the
 * generator reads the element's alignment_type). The enumerators walk
 * the moves of a path (or build the permutations) recursively, knowing
 * nothing of the chart programs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

enum { ONE_TO_MANY, MANY_TO_MANY, ONE_TO_ONE };

/* The element's table: rows Lr, columns Lc, type. */
typedef struct al_table {
	const double *theta;
	int64_t R, C, Lr, Lc;
	int type;
} al_table;

static al_table table_of(const conf_case *c)
{
	const int64_t *cols = c->e.input[input_index(c->s, "lengths_cols")].data;
	al_table t = {c->e.input[input_index(c->s, "log_potentials")].data,
		      c->e.dim[SS_DIM_R], c->e.dim[SS_DIM_C], c->len, 0,
		      (int)conf_option(c, "alignment_type")};

	t.Lc = cols ? *cols : t.type == ONE_TO_ONE ? t.Lr : t.C;
	return t;
}

/*
 * log_potentials [R, C], read in the Lr x Lc table; lengths_rows = len;
 * lengths_cols in [1, C] (one-to-one: len) set where the lengths are,
 * drawn from a stream of the element's index, length and sizes, not from
 * g's (the twin batch Q of cross-entropy and kl reseeds g's stream and
 * must have the same lengths); dead: the last cell (one-to-one: the last
 * row) -inf.
 */
void conf_alignment_make(conf_case *c, conf_gen *g)
{
	const int64_t R = g->dim[SS_DIM_R], C = g->dim[SS_DIM_C];
	const int type = (int)conf_option(c, "alignment_type");
	double *lp = conf_reals(c, R * C);
	int64_t *cols = conf_ints(c, 1), Lr = g->len, Lc = C;

	if (g->has_lengths) {
		unit_rng r;

		urng_seed(&r, (uint64_t)(c->e.index * 1009 + Lr * 31 + R * 7 + C));
		Lc = type == ONE_TO_ONE ? Lr : urng_int(&r, 1, C);
		*cols = Lc;
		conf_set_input(c, "lengths_cols", cols);
	} else if (type == ONE_TO_ONE) {
		Lc = Lr;
	}
	for (int64_t r = 0; r < R; r++)
		for (int64_t k = 0; k < C; k++)
			lp[r * C + k] = r < Lr && k < Lc ? conf_value(g)
							 : conf_unused(g);
	if (g->dead) {
		if (type == ONE_TO_ONE)
			for (int64_t k = 0; k < Lc; k++)
				lp[(Lr - 1) * C + k] = -INFINITY;
		else
			lp[(Lr - 1) * C + Lc - 1] = -INFINITY;
	}
	conf_set_input(c, "log_potentials", lp);
	conf_set_lengths(c, g);
}

/* Every monotone path from (r, c) on, the cells so far in event and
 * their score in score. */
static void walk(const al_table *t, int64_t r, int64_t c, double *event,
		 long double score, conf_enum *en)
{
	static const int64_t moves[3][2] = {{0, 1}, {1, 1}, {1, 0}};

	event[r * t->C + c] = 1.0;
	score += t->theta[r * t->C + c];
	if (r == t->Lr - 1 && c == t->Lc - 1)
		conf_enum_add(en, event, score);
	for (int m = 0; m < (t->type == ONE_TO_MANY ? 2 : 3); m++) {
		int64_t r2 = r + moves[m][0], c2 = c + moves[m][1];

		if (r2 < t->Lr && c2 < t->Lc)
			walk(t, r2, c2, event, score, en);
	}
	event[r * t->C + c] = 0.0;
}

/* Every permutation: rows r.. get the columns not in used. */
static void permute(const al_table *t, int64_t r, unsigned used,
		    double *event, long double score, conf_enum *en)
{
	if (r == t->Lr) {
		conf_enum_add(en, event, score);
		return;
	}
	for (int64_t k = 0; k < t->Lc; k++) {
		if (used & (1u << k))
			continue;
		event[r * t->C + k] = 1.0;
		permute(t, r + 1, used | (1u << k), event,
			score + t->theta[r * t->C + k], en);
		event[r * t->C + k] = 0.0;
	}
}

void conf_alignment_enumerate(const conf_case *c, conf_enum *en)
{
	al_table t = table_of(c);
	double *event = calloc((size_t)(t.R * t.C) + 1, sizeof *event);

	if (t.type == ONE_TO_ONE)
		permute(&t, 0, 0, event, 0.0L, en);
	else
		walk(&t, 0, 0, event, 0.0L, en);
	free(event);
}
