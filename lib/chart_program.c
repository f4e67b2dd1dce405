/*
 * chart_program.c - building chart programs (lib/chart.c runs them): the
 * workspace, cells and steps; and log-sum-exp, which every file shares.
 */
#include "internal.h"

/* Scratch: the rows, and three doubles for each of one cell's candidates
 * (hi - lo): for choose, and for the float kernels' x_j and their rows'
 * constants (up to four floats each, lib/simd.h's VF_ROW_FLOATS). */
/* A row's room: the width rounded up to whole vectors (SSI_ROW_ALIGN). */
static int64_t row_stride(const ssi_chart_size *size)
{
	return (size->width + SSI_ROW_ALIGN - 1) / SSI_ROW_ALIGN * SSI_ROW_ALIGN;
}

static size_t scratch_doubles(const ssi_chart_size *size)
{
	return (size_t)(SSI_CHART_ROWS * row_stride(size) + 3 * size->candidates);
}

size_t ssi_chart_bytes(const ssi_chart_size *size)
{
	return ssi_align64((size_t)size->steps * sizeof(ssi_step)) +
	       3 * ssi_align64((size_t)size->cells * sizeof(double)) +
	       ssi_align64(scratch_doubles(size) * sizeof(double)) +
	       ssi_align64((size_t)size->parts * sizeof(double));
}

void ssi_chart_init(ssi_chart *c, const ssi_chart_size *size,
		    const void *theta, ss_dtype dtype, void *ws)
{
	char *p = ws;
	memset(c, 0, sizeof *c);
	if (dtype == SS_F32)
		c->theta_f32 = c->score_f32 = theta;
	else
		c->theta = c->score = theta;
	c->step = (ssi_step *)p;
	p += ssi_align64((size_t)size->steps * sizeof(ssi_step));
	c->cell = (double *)p;
	p += ssi_align64((size_t)size->cells * sizeof(double));
	c->factor = (double *)p;
	p += ssi_align64((size_t)size->cells * sizeof(double));
	/* The backtrace's counts share the adjoints' memory: no operation
	 * needs both. */
	c->adj = (double *)p;
	c->active = (int32_t *)p;
	p += ssi_align64((size_t)size->cells * sizeof(double));
	for (int r = 0; r < SSI_CHART_ROWS; r++)
		c->row[r] = (double *)p + r * row_stride(size);
	c->cand = (double *)p + SSI_CHART_ROWS * row_stride(size);
	p += ssi_align64(scratch_doubles(size) * sizeof(double));
	c->shifted = (double *)p;
}

/* The parts step st reads as one block [*lo, *hi), or 0 if they are not
 * one (or none). */
static int part_block(const ssi_step *st, int64_t *lo, int64_t *hi)
{
	const ssi_operand o = st->part;
	if (o.base < 0 || st->hi <= st->lo || o.per_s != 1 ||
	    (st->hi - st->lo > 1 && o.per_j != st->count))
		return 0;
	*lo = o.base + st->lo * o.per_j;
	*hi = *lo + (st->hi - st->lo) * st->count;
	return 1;
}

int ssi_chart_zero_uncovered(ssi_chart *c, double *mu, int64_t parts)
{
	int64_t end = 0, lo, hi;
	for (int64_t k = 0; k < c->n_steps; k++) {
		const ssi_step *st = &c->step[k];
		if (st->part.base < 0)
			continue;
		if (!part_block(st, &lo, &hi) || lo < end || hi > parts)
			return 0;
		end = hi;
	}
	end = 0;
	for (int64_t k = 0; k < c->n_steps; k++)
		if (part_block(&c->step[k], &lo, &hi)) {
			memset(mu + end, 0, (size_t)(lo - end) * sizeof *mu);
			end = hi;
		}
	memset(mu + end, 0, (size_t)(parts - end) * sizeof *mu);
	c->zero_parts = 1;
	return 1;
}

int64_t ssi_chart_cells(ssi_chart *c, int64_t count)
{
	int64_t first = c->n_cells;
	c->n_cells += count;
	return first;
}

static void push(ssi_chart *c, ssi_step step)
{
	c->step[c->n_steps++] = step;
	c->root = step.out;
}

void ssi_chart_push(ssi_chart *c, int64_t out, int64_t count, int64_t lo,
		    int64_t hi, ssi_operand x, ssi_operand y, ssi_operand part)
{
	push(c, (ssi_step){out, count, lo, hi, x, y, part, 0, 0.0, 0, 0});
}

void ssi_chart_push_normalised(ssi_chart *c, int64_t out, int64_t count,
			       int64_t lo, int64_t hi, ssi_operand x,
			       ssi_operand y, ssi_operand part)
{
	push(c, (ssi_step){out, count, lo, hi, x, y, part, 1, 0.0, 0, 0});
}

/* ---- the k-best state ------------------------------------------------------- */

/* Heap room: every candidate's first pair, and two successors per pop. */
static int64_t heap_entries(const ssi_chart_size *size, int64_t k)
{
	return size->candidates + 2 * k + 2;
}

size_t ssi_kbest_bytes(const ssi_chart_size *size, int64_t k)
{
	const size_t cells = (size_t)size->cells;
	return ssi_align64(cells * (size_t)k * sizeof(double)) +
	       ssi_align64(cells * (size_t)k * sizeof(ssi_kback)) +
	       ssi_align64(cells * sizeof(ssi_kback)) +
	       2 * ssi_align64(cells * sizeof(int32_t)) +
	       ssi_align64((size_t)heap_entries(size, k) * sizeof(ssi_kentry));
}

void ssi_kbest_init(ssi_kbest *kb, const ssi_chart_size *size, int64_t k,
		    void *ws)
{
	const size_t cells = (size_t)size->cells;
	char *p = ws;
	kb->k = (int32_t)k;
	kb->value = (double *)p;
	p += ssi_align64(cells * (size_t)k * sizeof(double));
	kb->back = (ssi_kback *)p;
	p += ssi_align64(cells * (size_t)k * sizeof(ssi_kback));
	kb->stack = (ssi_kback *)p;
	p += ssi_align64(cells * sizeof(ssi_kback));
	kb->count = (int32_t *)p;
	p += ssi_align64(cells * sizeof(int32_t));
	kb->step_of = (int32_t *)p;
	p += ssi_align64(cells * sizeof(int32_t));
	kb->heap = (ssi_kentry *)p;
}

/* ---- small kernels -------------------------------------------------------- */


