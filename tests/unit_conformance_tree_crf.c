/*
 * unit_conformance_tree_crf.c - the conformance row of tree-crf: a case
 * generator and a brute-force enumerator of every labelled binary
 * bracketing (Catalan(len-1) bracketings times L^(2 len - 1) labellings),
 * written from the definition (SPEC §1), independent of the chart.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

/* log_potentials [n, n, L]: [i, j, l] read for i <= j < len; dead: every
 * label of the whole span 0 .. len-1 forbidden. */
void conf_tree_crf_make(conf_case *c, conf_gen *g)
{
	const int64_t n = g->dim[SS_DIM_N], L = g->dim[SS_DIM_T], len = g->len;
	double *lp = conf_reals(c, n * n * L);

	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++)
			for (int64_t l = 0; l < L; l++)
				lp[(i * n + j) * L + l] = i <= j && j < len
					? conf_value(g) : conf_unused(g);
	if (g->dead)
		for (int64_t l = 0; l < L; l++)
			lp[(len - 1) * L + l] = -INFINITY;
	conf_set_input(c, "log_potentials", lp);
	conf_set_lengths(c, g);
}

#define MAX_SPANS 64

/* One enumeration: the spans chosen so far and those still to split. */
typedef struct bracketing {
	const conf_case *c;
	conf_enum *en;
	int64_t chosen[MAX_SPANS][2], n_chosen;
	int64_t todo[MAX_SPANS][2], n_todo;
	double *event;
} bracketing;

/* Every labelling of the complete bracketing b->chosen. */
static void label(bracketing *b)
{
	const int64_t n = b->c->e.dim[SS_DIM_N], L = b->c->e.dim[SS_DIM_T];
	const double *lp =
		b->c->e.input[input_index(b->c->s, "log_potentials")].data;
	const int64_t E = n * n * L;
	int64_t labels[MAX_SPANS] = {0};

	if (L == 0)
		return;
	for (;;) {
		long double score = 0.0L;
		int64_t k;

		memset(b->event, 0, sizeof(double) * (size_t)E);
		for (k = 0; k < b->n_chosen; k++) {
			int64_t x = (b->chosen[k][0] * n + b->chosen[k][1]) * L +
				    labels[k];
			b->event[x] = 1.0;
			score += lp[x];
		}
		conf_enum_add(b->en, b->event, score);
		for (k = 0; k < b->n_chosen && ++labels[k] == L; k++)
			labels[k] = 0;
		if (k == b->n_chosen)
			return;
	}
}

/* Takes the next span to split and tries each of its splits. */
static void expand(bracketing *b)
{
	int64_t i, j;

	if (b->n_todo == 0) {
		label(b);
		return;
	}
	b->n_todo--;
	i = b->todo[b->n_todo][0];
	j = b->todo[b->n_todo][1];
	b->chosen[b->n_chosen][0] = i;
	b->chosen[b->n_chosen][1] = j;
	b->n_chosen++;
	if (i == j) {
		expand(b);
	} else {
		for (int64_t k = i; k < j; k++) {
			b->todo[b->n_todo][0] = i;
			b->todo[b->n_todo][1] = k;
			b->todo[b->n_todo + 1][0] = k + 1;
			b->todo[b->n_todo + 1][1] = j;
			b->n_todo += 2;
			expand(b);
			b->n_todo -= 2;
		}
	}
	b->n_chosen--;
	b->todo[b->n_todo][0] = i;
	b->todo[b->n_todo][1] = j;
	b->n_todo++;
}

void conf_tree_crf_enumerate(const conf_case *c, conf_enum *en)
{
	const int64_t n = c->e.dim[SS_DIM_N], L = c->e.dim[SS_DIM_T];
	bracketing b = {.c = c, .en = en};

	b.event = malloc(sizeof(double) * (size_t)(n * n * L + 1));
	b.todo[0][0] = 0;
	b.todo[0][1] = c->len - 1;
	b.n_todo = 1;
	expand(&b);
	free(b.event);
}
