/*
 * struct_alignment.c - cell-scored alignments of two sequences (SynJax's
 * AlignmentCRF).
 *
 * Potentials θ [R, C]: θ[r, c] scores cell (r, c) of the table, row r of
 * the first sequence against column c of the second. An element's
 * lengths R' = lengths_rows and C' = lengths_cols (1 <= R' <= R,
 * 1 <= C' <= C) bound the table; the rest is padding. A structure is a
 * set of visited cells; its score is
 *   s(y) = Σ_{(r, c) in y} θ[r, c]
 * cell (0, 0) included (SynJax leaves it out of its scores; probabilities
 * and marginals are the same). The event is the visited-cell indicator
 * [R, C], which is also the parts; the compact decode pairs [R+C-1, 2]
 * lists the visited cells (r, c) in path order, then rows of -1.
 *
 * Option alignment_type (--alignment-type):
 *   monotone-one-to-many    a path from (0, 0) to (R'-1, C'-1) through one
 *                           cell of each column, the row stepping by 0 or
 *                           1 from column to column: C(C'-1, R'-1)
 *                           structures (none when R' > C')
 *   monotone-many-to-many   (the default; SynJax has none) a path from
 *                           (0, 0) to (R'-1, C'-1) by moves right (r,
 *                           c-1) -> (r, c), down (r-1, c) -> (r, c) and
 *                           diagonal (r-1, c-1) -> (r, c): the Delannoy
 *                           number D(R'-1, C'-1) of structures
 *   non-monotone-one-to-one a permutation π of a square table (R = C,
 *                           lengths_cols, if given, equal to
 *                           lengths_rows): cells (r, π(r)) for r < R'
 *
 * The monotone types are chart programs (lib/chart.c); every cell of the
 * R' x C' table is read. One-to-many, one "vecmat" step per column c,
 * normalised (every path uses one cell of each column), each column row
 * of cells α_c behind a guard cell g_c = -inf:
 *   α_0[0] = θ[0, 0],  α_0[r] = -inf (r > 0)
 *   α_c[r] = θ[r, c] + ⊕_{j in {0, 1}} α_{c-1}[r - j]   (0 < c < C')
 *            (α_{c-1}[-1] is the guard g_{c-1})
 *   root   = α_{C'-1}[R'-1]
 * Many-to-many, over the anti-diagonals d = r + c (0 <= d <= R'+C'-2),
 * diagonal d holding the rows r in [max(0, d-C'+1), min(d, R'-1)] with a
 * guard cell = -inf at each end, two steps per diagonal (candidates must be
 * affine in j, and the three predecessors are not):
 *   γ_d[r] = ⊕_{j in {0, 1}} α_{d-1}[r - j]           (right, down)
 *   α_d[r] = θ[r, d-r] + ⊕ (γ_d[r], α_{d-2}[r-1])    (diagonal; d >= 2)
 *   α_0[0] = θ[0, 0],  root = α_{R'+C'-2}[R'-1]
 * Every read falls on a cell of the band or one past either end of it, a
 * guard; a derivation is a path, so counts and entropies are the paths'.
 *
 * Non-monotone one-to-one is not a dynamic program: its partition function
 * is the permanent of exp(θ), which is #P-hard (Valiant 1979), so only
 * argmax exists, as a special operation: the assignment problem, solved
 * exactly by the Hungarian method in its shortest-augmenting-path form
 * (Kuhn 1955; Jonker and Volgenant 1987), -inf cells forbidden. Where no
 * permutation avoids them (Hall's condition fails when a row cannot be
 * augmented) the score is -inf and the event all zero. Every other
 * operation refuses (unsupported_for).
 *
 * Time O(R' C') per element for the monotone types (two steps of the
 * band per diagonal), O(R'³) for one-to-one; memory O(R C).
 */
#include "internal.h"

enum { AL_LOG_POTENTIALS, AL_LENGTHS_ROWS, AL_LENGTHS_COLS, AL_INPUT_COUNT };
enum { OPT_TYPE, OPT_COUNT };
enum { ONE_TO_MANY, MANY_TO_MANY, ONE_TO_ONE, TYPE_COUNT };

static const char *const type_names[TYPE_COUNT + 1] = {
	[ONE_TO_MANY] = "monotone-one-to-many",
	[MANY_TO_MANY] = "monotone-many-to-many",
	[ONE_TO_ONE] = "non-monotone-one-to-one",
	[TYPE_COUNT] = NULL,
};

extern const ss_structure ssi_alignment;

static int type_of(const ss_element *e) { return (int)e->option[OPT_TYPE]; }

static int64_t rows_of(const ss_element *e)
{
	return ssi_length_of(&ssi_alignment, e, AL_LENGTHS_ROWS);
}

/* C': lengths_cols, or for one-to-one the rows' length. */
static int64_t cols_of(const ss_element *e)
{
	if (type_of(e) == ONE_TO_ONE && !e->input[AL_LENGTHS_COLS].data)
		return rows_of(e);
	return ssi_length_of(&ssi_alignment, e, AL_LENGTHS_COLS);
}

static int64_t clamp(int64_t x, int64_t hi)
{
	return x < 0 ? 0 : x > hi ? hi : x;
}

/* ---- validate -------------------------------------------------------------- */

static int al_validate(const ss_element *e, void *ws, ss_error *err)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t Lr = rows_of(e), Lc = cols_of(e);
	const int64_t shape[2] = {R, C};
	const double *theta = e->input[AL_LOG_POTENTIALS].data;
	(void)ws;
	if (type_of(e) == ONE_TO_ONE && R != C)
		return ss_error_set(err, SS_EDATA,
				    "dataset 'log_potentials' has %lld rows and %lld columns; non-monotone-one-to-one alignments need a square table",
				    (long long)R, (long long)C);
	if (ssi_check_lengths(&ssi_alignment, e, AL_LENGTHS_ROWS, 1, err) ||
	    ssi_check_lengths(&ssi_alignment, e, AL_LENGTHS_COLS, 1, err))
		return SS_EDATA;
	if (type_of(e) == ONE_TO_ONE && Lc != Lr)
		return ss_error_set(err, SS_EDATA,
				    "dataset 'lengths_cols' holds %lld and 'lengths_rows' %lld; non-monotone-one-to-one alignments need them equal",
				    (long long)Lc, (long long)Lr);
	for (int64_t r = 0; r < Lr; r++) {
		int64_t c = ssi_find_bad(theta + r * C, Lc);
		if (c >= 0)
			return ssi_bad_value_error(err, "log_potentials",
						   theta[r * C + c], r * C + c,
						   SS_ARRAY_LEN(shape), shape);
	}
	return SS_OK;
}

/* ---- the chart programs ------------------------------------------------------ */

static void al_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const int64_t R = dim[SS_DIM_R], C = dim[SS_DIM_C];
	/* one-to-many: 2C + 2 steps, C (R + 1) + 1 cells; many-to-many:
	 * 4 per diagonal, 2 w_d + 2 cells per diagonal (w_d <= R). */
	*size = (ssi_chart_size){.steps = 4 * (R + C) + 2,
				 .cells = 2 * R * C + 2 * (R + C) + 1,
				 .candidates = 2, .width = R + 1, .parts = 0};
}

/* A guard cell: a step without candidates writes -inf. */
static void guard(ssi_chart *c, int64_t cell)
{
	ssi_chart_push(c, cell, 1, 0, 0, SSI_ABSENT, SSI_ABSENT, SSI_ABSENT);
}

static void one_to_many_chart(const ss_element *e, ssi_chart *ch)
{
	const int64_t C = e->dim[SS_DIM_C], Lr = rows_of(e), Lc = cols_of(e);
	/* column c: guard at block + c (Lr + 1), α_c right after it */
	const int64_t block = ssi_chart_cells(ch, Lc * (Lr + 1));
	int64_t root;
	for (int64_t c = 0; c < Lc; c++) {
		const int64_t g = block + c * (Lr + 1), alpha = g + 1;
		guard(ch, g);
		if (c == 0) {
			ssi_chart_push(ch, alpha, 1, 0, 1, SSI_ABSENT, SSI_ABSENT,
				       (ssi_operand){0, 0, 0});
			if (Lr > 1)
				ssi_chart_push(ch, alpha + 1, Lr - 1, 0, 0,
					       SSI_ABSENT, SSI_ABSENT, SSI_ABSENT);
			continue;
		}
		ssi_chart_push_normalised(ch, alpha, Lr, 0, 2,
					  (ssi_operand){alpha - (Lr + 1), -1, 1},
					  SSI_ABSENT, (ssi_operand){c, 0, C});
	}
	root = ssi_chart_cells(ch, 1);
	ssi_chart_push(ch, root, 1, 0, 1,
		       (ssi_operand){block + (Lc - 1) * (Lr + 1) + Lr, 0, 0},
		       SSI_ABSENT, SSI_ABSENT);
}

/* Rows [lo, hi] of anti-diagonal d of an Lr x Lc table. */
static int64_t diag_lo(int64_t d, int64_t Lc) { return d - Lc + 1 > 0 ? d - Lc + 1 : 0; }
static int64_t diag_hi(int64_t d, int64_t Lr) { return d < Lr - 1 ? d : Lr - 1; }

static void many_to_many_chart(const ss_element *e, ssi_chart *ch)
{
	const int64_t C = e->dim[SS_DIM_C], Lr = rows_of(e), Lc = cols_of(e);
	/* blk[d % 3]: the first (guard) cell of diagonal d's row; the row
	 * of r is at blk + 1 + r - diag_lo(d), valid for r one past either
	 * end of the band. */
	int64_t blk[3] = {0, 0, 0};
	for (int64_t d = 0; d <= Lr + Lc - 2; d++) {
		const int64_t lo = diag_lo(d, Lc), w = diag_hi(d, Lr) - lo + 1;
		const int64_t b = ssi_chart_cells(ch, w + 2), alpha = b + 1;
		blk[d % 3] = b;
		guard(ch, b);
		guard(ch, b + w + 1);
		if (d == 0) {
			ssi_chart_push(ch, alpha, 1, 0, 1, SSI_ABSENT, SSI_ABSENT,
				       (ssi_operand){0, 0, 0});
			continue;
		}
		/* right and down: α_{d-1}[r], α_{d-1}[r-1] */
		const int64_t gamma = ssi_chart_cells(ch, w);
		const int64_t prev = blk[(d - 1) % 3] + 1 + lo - diag_lo(d - 1, Lc);
		ssi_chart_push(ch, gamma, w, 0, 2, (ssi_operand){prev, -1, 1},
			       SSI_ABSENT, SSI_ABSENT);
		/* γ_d[r], then the diagonal move's α_{d-2}[r-1] */
		const int64_t diag = d >= 2
			? blk[(d - 2) % 3] + 1 + (lo - 1) - diag_lo(d - 2, Lc) : 0;
		ssi_chart_push(ch, alpha, w, 0, d >= 2 ? 2 : 1,
			       (ssi_operand){gamma, diag - gamma, 1}, SSI_ABSENT,
			       (ssi_operand){lo * (C - 1) + d, 0, C - 1});
	}
}

static int al_chart(const ss_element *e, ssi_chart *ch)
{
	switch (type_of(e)) {
	case ONE_TO_MANY: one_to_many_chart(e, ch); return 1;
	case MANY_TO_MANY: many_to_many_chart(e, ch); return 1;
	default: return 0;
	}
}

/* ---- one-to-one: the assignment problem ------------------------------------ */

/* Scratch of the Hungarian method over n = R: potentials u, v and the
 * column minima [n + 1] each; matches p and the path way [n + 1]; the
 * visited columns [n + 1]. */
typedef struct hungarian_ws {
	double *u, *v, *minv;
	int64_t *p, *way;
	unsigned char *used;
} hungarian_ws;

static size_t al_workspace_bytes(const int64_t dim[])
{
	const size_t n1 = (size_t)dim[SS_DIM_R] + 1;
	return 3 * ssi_align64(n1 * sizeof(double)) +
	       2 * ssi_align64(n1 * sizeof(int64_t)) + ssi_align64(n1);
}

static hungarian_ws hungarian_carve(const ss_element *e, void *ws)
{
	const size_t n1 = (size_t)e->dim[SS_DIM_R] + 1;
	char *p = ws;
	hungarian_ws w;
	w.u = (double *)p;
	p += ssi_align64(n1 * sizeof(double));
	w.v = (double *)p;
	p += ssi_align64(n1 * sizeof(double));
	w.minv = (double *)p;
	p += ssi_align64(n1 * sizeof(double));
	w.p = (int64_t *)p;
	p += ssi_align64(n1 * sizeof(int64_t));
	w.way = (int64_t *)p;
	p += ssi_align64(n1 * sizeof(int64_t));
	w.used = (unsigned char *)p;
	return w;
}

/*
 * The best permutation of the n x n table θ (row stride ld), minimising
 * the costs -θ: rows are added one at a time, each by a shortest
 * augmenting path over reduced costs -θ[i, j] - u[i] - v[j] >= 0
 * (1-based; column 0 is the path's virtual start). Returns 0 where a row
 * cannot be augmented: then no permutation avoids the -inf cells.
 * On success w.p[j] is the row (1-based) of column j.
 */
static int hungarian(const double *theta, int64_t n, int64_t ld,
		     hungarian_ws w)
{
	for (int64_t j = 0; j <= n; j++) {
		w.u[j] = w.v[j] = 0.0;
		w.p[j] = 0;
	}
	for (int64_t i = 1; i <= n; i++) {
		int64_t j0 = 0;
		w.p[0] = i;
		for (int64_t j = 0; j <= n; j++) {
			w.minv[j] = INFINITY;
			w.used[j] = 0;
		}
		do {
			const int64_t i0 = w.p[j0];
			double delta = INFINITY;
			int64_t j1 = -1;
			w.used[j0] = 1;
			for (int64_t j = 1; j <= n; j++) {
				const double t = theta[(i0 - 1) * ld + j - 1];
				if (w.used[j])
					continue;
				if (t > -INFINITY && -t - w.u[i0] - w.v[j] < w.minv[j]) {
					w.minv[j] = -t - w.u[i0] - w.v[j];
					w.way[j] = j0;
				}
				if (w.minv[j] < delta) {
					delta = w.minv[j];
					j1 = j;
				}
			}
			if (j1 < 0)
				return 0;
			for (int64_t j = 0; j <= n; j++) {
				if (w.used[j]) {
					w.u[w.p[j]] += delta;
					w.v[j] -= delta;
				} else {
					w.minv[j] -= delta;
				}
			}
			j0 = j1;
		} while (w.p[j0] != 0);
		do {
			const int64_t j1 = w.way[j0];
			w.p[j0] = w.p[j1];
			j0 = j1;
		} while (j0);
	}
	return 1;
}

/* Cell (r, c) in every permutation: the rest of row r and column c
 * forbidden. */
static void al_force(const ss_element *e, double *theta, int64_t part)
{
	const int64_t C = e->dim[SS_DIM_C], n = rows_of(e);
	const int64_t r = part / C, c = part % C;
	for (int64_t k = 0; k < n; k++) {
		if (k != c)
			theta[r * C + k] = -INFINITY;
		if (k != r)
			theta[k * C + c] = -INFINITY;
	}
}

static int al_argmax(const ss_element *e, void *ws, double *parts,
		     double *score, ss_error *err)
{
	const int64_t C = e->dim[SS_DIM_C], n = rows_of(e);
	const double *theta = e->input[AL_LOG_POTENTIALS].data;
	hungarian_ws w = hungarian_carve(e, ws);
	double total = 0.0;
	(void)err;
	if (!hungarian(theta, n, C, w)) {
		*score = -INFINITY;
		return SS_OK;
	}
	/* The score summed in row order, as from the event. */
	for (int64_t j = 1; j <= n; j++)
		parts[(w.p[j] - 1) * C + j - 1] = 1.0;
	for (int64_t r = 0; r < n; r++)
		for (int64_t c = 0; c < n; c++)
			if (parts[r * C + c] != 0.0)
				total += theta[r * C + c];
	*score = total;
	return SS_OK;
}

/* ---- paths: the events and the compact decodes ----------------------------- */

/* Whether (r1, c1) -> (r2, c2) is a move of a monotone path: one-to-many
 * (0, 1) and (1, 1); many-to-many also (1, 0). */
static int is_move(int type, const int64_t *a, const int64_t *b)
{
	const int64_t dr = b[0] - a[0], dc = b[1] - a[1];
	if (type == ONE_TO_MANY)
		return dc == 1 && (dr == 0 || dr == 1);
	return (dr == 0 || dr == 1) && (dc == 0 || dc == 1) && dr + dc > 0;
}

/*
 * Checks that the cells (r, c) at cells[2k], cells[2k + 1], k < n
 * (n >= 1), all inside the table, are a structure of e's type in path
 * order (one-to-one: row order); what names the array in messages.
 */
static int check_cells(const ss_element *e, const int64_t *cells, int64_t n,
		       const char *what, ss_error *err)
{
	const int type = type_of(e);
	const int64_t Lr = rows_of(e), Lc = cols_of(e);
	const int64_t *last = cells + 2 * (n - 1);
	if (type == ONE_TO_ONE) {
		for (int64_t k = 0; k < n; k++) {
			if (cells[2 * k] != k)
				return ss_error_set(err, SS_EDATA,
						    "%s holds (%lld, %lld) at [%lld]; a one-to-one alignment has row %lld there",
						    what, (long long)cells[2 * k],
						    (long long)cells[2 * k + 1],
						    (long long)k, (long long)k);
			for (int64_t m = 0; m < k; m++)
				if (cells[2 * m + 1] == cells[2 * k + 1])
					return ss_error_set(err, SS_EDATA,
							    "%s aligns column %lld twice, at [%lld] and [%lld]",
							    what, (long long)cells[2 * k + 1],
							    (long long)m, (long long)k);
		}
		if (n != Lr)
			return ss_error_set(err, SS_EDATA,
					    "%s aligns %lld rows; a one-to-one alignment aligns all %lld",
					    what, (long long)n, (long long)Lr);
		return SS_OK;
	}
	if (cells[0] != 0 || cells[1] != 0)
		return ss_error_set(err, SS_EDATA,
				    "%s starts at (%lld, %lld); a path starts at (0, 0)",
				    what, (long long)cells[0], (long long)cells[1]);
	for (int64_t k = 1; k < n; k++)
		if (!is_move(type, cells + 2 * (k - 1), cells + 2 * k))
			return ss_error_set(err, SS_EDATA,
					    "%s goes from (%lld, %lld) to (%lld, %lld) at [%lld], not a move of a %s alignment",
					    what, (long long)cells[2 * k - 2],
					    (long long)cells[2 * k - 1],
					    (long long)cells[2 * k],
					    (long long)cells[2 * k + 1], (long long)k,
					    type_names[type]);
	if (last[0] != Lr - 1 || last[1] != Lc - 1)
		return ss_error_set(err, SS_EDATA,
				    "%s ends at (%lld, %lld); a path ends at (%lld, %lld)",
				    what, (long long)last[0], (long long)last[1],
				    (long long)(Lr - 1), (long long)(Lc - 1));
	return SS_OK;
}

/*
 * The cells an event marks in the Lr x Lc table (entries not 0 count) into
 * cells[2k], cells[2k + 1], at most max of them, in path order: anti-
 * diagonal by anti-diagonal for the monotone types (a path visits one
 * cell of each), row by row for one-to-one. *n is their number, *clash
 * that of the first cell on the anti-diagonal (row) of the one before it,
 * -1 if none.
 */
static void scan_cells(const ss_element *e, const double *event,
		       int64_t *cells, int64_t max, int64_t *n, int64_t *clash)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t Lr = clamp(rows_of(e), R), Lc = clamp(cols_of(e), C);
	const int one_to_one = type_of(e) == ONE_TO_ONE;
	*n = 0;
	*clash = -1;
	for (int64_t d = 0; d < (one_to_one ? Lr : Lr + Lc - 1); d++) {
		int64_t seen = 0;
		for (int64_t k = 0; k < (one_to_one ? Lc : Lr); k++) {
			/* one-to-one: (d, k); monotone: (k, d - k) */
			const int64_t r = one_to_one ? d : k, c = one_to_one ? k : d - k;
			if (c < 0 || c >= Lc || event[r * C + c] == 0.0)
				continue;
			if (seen++ && *clash < 0)
				*clash = *n;
			if (*n < max) {
				cells[2 * *n] = r;
				cells[2 * *n + 1] = c;
				(*n)++;
			}
		}
	}
}

/* Room for the cells of one structure: R + C - 1 pairs. */
static size_t cells_bytes(const int64_t dim[])
{
	return ssi_align64((size_t)(2 * (dim[SS_DIM_R] + dim[SS_DIM_C])) *
			   sizeof(int64_t));
}

static int al_to_parts(const ss_element *e, void *ws, const double *event,
		       double *parts, int *empty, ss_error *err)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t Lr = rows_of(e), Lc = cols_of(e);
	int64_t *cells = ws, n, clash;
	for (int64_t r = 0; r < R; r++)
		for (int64_t c = 0; c < C; c++) {
			const double x = event[r * C + c];
			if (x == 0.0)
				continue;
			if (x != 1.0)
				return ss_error_set(err, SS_EDATA,
						    "event holds %g at [%lld, %lld], not 0 or 1",
						    x, (long long)r, (long long)c);
			if (r >= Lr || c >= Lc)
				return ss_error_set(err, SS_EDATA,
						    "event marks [%lld, %lld], outside the %lld x %lld table",
						    (long long)r, (long long)c,
						    (long long)Lr, (long long)Lc);
		}
	scan_cells(e, event, cells, R + C, &n, &clash);
	if (clash >= 0)
		return ss_error_set(err, SS_EDATA,
				    "event marks [%lld, %lld] and [%lld, %lld]: %s",
				    (long long)cells[2 * clash - 2],
				    (long long)cells[2 * clash - 1],
				    (long long)cells[2 * clash],
				    (long long)cells[2 * clash + 1],
				    type_of(e) == ONE_TO_ONE
					    ? "a one-to-one alignment has one cell in each row"
					    : "a monotone path has one cell on each anti-diagonal");
	*empty = n == 0;
	if (n) {
		int rc = check_cells(e, cells, n, "event", err);
		if (rc)
			return rc;
	}
	memcpy(parts, event, (size_t)(R * C) * sizeof *parts);
	return SS_OK;
}

/* The pairs of an event of a structure: its cells in path order, then
 * rows of -1. */
static void al_decode(const ss_element *e, const double *event,
		      int64_t *const decodes[])
{
	const int64_t rows = e->dim[SS_DIM_RC1];
	int64_t n, clash;
	scan_cells(e, event, decodes[0], rows, &n, &clash);
	for (int64_t k = 2 * n; k < 2 * rows; k++)
		decodes[0][k] = -1;
}

/*
 * The event of pairs, checked: the rows before the first (-1, -1) (all
 * R+C-1 if none) are cells inside the table that form a structure of the
 * element's type, in path order; the rows after are ignored. Pairs of -1
 * everywhere are the empty structure.
 */
static int al_encode(const ss_element *e, const int64_t *pairs,
		     double *event, ss_error *err)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t Lr = clamp(rows_of(e), R), Lc = clamp(cols_of(e), C);
	const int64_t rows = e->dim[SS_DIM_RC1];
	int64_t n = 0;
	memset(event, 0, (size_t)(R * C) * sizeof *event);
	for (; n < rows && (pairs[2 * n] != -1 || pairs[2 * n + 1] != -1); n++) {
		const int64_t r = pairs[2 * n], c = pairs[2 * n + 1];
		if (r < 0 || r >= Lr || c < 0 || c >= Lc)
			return ss_error_set(err, SS_EDATA,
					    "pairs holds (%lld, %lld) at [%lld], outside the %lld x %lld table",
					    (long long)r, (long long)c, (long long)n,
					    (long long)Lr, (long long)Lc);
		if (event[r * C + c] != 0.0)
			return ss_error_set(err, SS_EDATA,
					    "pairs holds (%lld, %lld) twice, the second time at [%lld]",
					    (long long)r, (long long)c, (long long)n);
		event[r * C + c] = 1.0;
	}
	return n ? check_cells(e, pairs, n, "pairs", err) : SS_OK;
}

/* ---- operations over option values ------------------------------------------ */

static const char *al_unsupported_for(const int64_t option[], int op)
{
	if (option[OPT_TYPE] != ONE_TO_ONE || op == SS_OP_ARGMAX ||
	    op == SS_OP_INFO)
		return NULL;
	switch (op) {
	case SS_OP_LOG_COUNT:
		return "counting non-monotone-one-to-one alignments that avoid -inf cells is #P-hard (the permanent of a 0/1 matrix)";
	case SS_OP_SAMPLE:
		return "exact sampling of non-monotone-one-to-one alignments needs their partition function, which is #P-hard (the permanent)";
	case SS_OP_TOP_K:
	case SS_OP_MAX_MARGINALS:
		return NULL; /* assignments under constraints */
	default:
		return "partition and marginals over non-monotone-one-to-one alignments are #P-hard (the permanent), and so is every operation built on them";
	}
}

static size_t al_ws_bytes(const int64_t dim[])
{
	size_t a = al_workspace_bytes(dim), b = cells_bytes(dim);
	return a > b ? a : b;
}

static const ss_input_spec al_inputs[AL_INPUT_COUNT] = {
	[AL_LOG_POTENTIALS] = {"log_potentials", SS_REAL, SS_REQUIRED, 2,
			       {SS_DIM_R, SS_DIM_C}},
	[AL_LENGTHS_ROWS] = {"lengths_rows", SS_INT, SS_OPTIONAL, 0, {SS_DIM_R}},
	[AL_LENGTHS_COLS] = {"lengths_cols", SS_INT, SS_OPTIONAL, 0, {SS_DIM_C}},
};

const ss_structure ssi_alignment = {
	.name = "alignment",
	.summary = "cell-scored alignments of two sequences: monotone paths or permutations",
	.inputs = al_inputs,
	.n_inputs = AL_INPUT_COUNT,
	.lengths_inputs = {AL_LENGTHS_ROWS, AL_LENGTHS_COLS},
	.n_lengths = 2,
	.options = {
		[OPT_TYPE] = {.name = "alignment_type", .flag = "alignment-type",
			      .kind = SS_OPTION_ENUM,
			      .default_value = MANY_TO_MANY,
			      .choices = type_names,
			      .help = "alignment: monotone-one-to-many, monotone-many-to-many (default) or non-monotone-one-to-one"},
	},
	.n_options = OPT_COUNT,
	.event = {"event", SS_REAL, 2, {SS_DIM_R, SS_DIM_C}},
	.decodes = {{"pairs", SS_INT, 2, {SS_DIM_RC1, SS_DIM_TWO}}},
	.n_decodes = 1,
	.validate = al_validate,
	.chart_size = al_chart_size,
	.chart = al_chart,
	.workspace_bytes = al_ws_bytes,
	.argmax = al_argmax,
	.force = al_force,
	.to_parts = al_to_parts,
	.decode = al_decode,
	.encode = al_encode,
	.unsupported_for = al_unsupported_for,
};
