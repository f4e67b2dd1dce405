/*
 * struct_monotone_alignment.c - the general move-scored monotone alignment
 * (SynJax's GeneralMonotoneAlignmentCRF; McCallum, Bellare and Pereira
 * (2005), string-edit CRFs).
 *
 * Potentials: horizontal H [K, R, C] and, optionally, vertical V [R, C].
 * H[k, r, c] scores the move into cell (r, c) from (r-k, c-1): one column
 * right and k rows down; V[r, c] the move into (r, c) from (r-1, c). A
 * structure of an element of R' x C' (lengths_rows, lengths_cols, both
 * >= 1) is a monotone path of such moves from (0, 0) to (R'-1, C'-1).
 * As in SynJax, the path enters (0, 0) from a virtual cell (0, -1) by the
 * move H[0, 0, 0] (like the virtual start tag of a linear chain), so
 * every visited cell is entered by exactly one move and
 *   s(path) = H[0, 0, 0] + Σ_{moves into (r, c) ≠ (0, 0)} H[k, r, c] or V[r, c].
 * Used entries: H[0, 0, 0]; H[k, r, c] for 1 <= c < C', k <= r < R';
 * V[r, c] for 1 <= r < R', c < C'. The rest is never read.
 *
 * Event: the visited cells [R, C] (0/1; marginals: the probability of a
 * visit), zero in padding. Compact decode: pairs [R+C-1, 2], the visited
 * (row, column) cells in path order (by column, then row), then -1 rows.
 *
 * Parts: the moves, not the cells (a cell does not say how it was entered),
 * so the structure lowers onto a hidden canonical structure whose event is
 * moves [K+1, R, C]: moves[k < K] the horizontal moves, moves[K] the
 * vertical ones, θ = H and V copied, -inf where a move does not exist
 * (outside the lengths, r < k, column 0 but for the start move, row 0 of
 * V, all of V without the vertical input). The canonical element keeps the
 * inputs' indices: input 1 (the vertical input) only says whether vertical
 * moves exist, the lengths stay where they are. A cell's visits are the
 * moves into it: cell[r, c] = Σ_k moves[k, r, c].
 *
 * The chart program, column by column (α_c[r]: the paths to (r, c)):
 *   α_0[0]  = H[0, 0, 0]
 *   α_0[r]  = α_0[r-1] + V[r, 0]                   (r >= 1; -inf without V)
 *   β_c[r]  = ⊕_{k<K} α_{c-1}[r-k] + H[k, r, c]     (c >= 1: one step)
 * without V:
 *   α_c     = β_c
 * with V (γ_c[r]: the paths that enter (r, c) from above):
 *   γ_c[0]  = -inf
 *   γ_c[r]  = (β_c[r-1] ⊕ γ_c[r-1]) + V[r, c]        (one step per r >= 1)
 *   α_c     = β_c ⊕ γ_c                              (one step)
 *   root    = α_{C'-1}[R'-1]
 * K-1 guard cells of -inf before each α_c let α_{c-1}[r-k] be read for
 * r < k; γ_c lies a fixed distance after β_c, so that a cell picks from
 * both with one affine operand. Only the chain down a column is
 * sequential. Without V every path visits one cell per column, so each
 * column's step is normalised (lib/chart.c).
 *
 * Gradients (lower_grad): θ copies H and V entry for entry, so the
 * gradient is dθ copied back where θ is read and finite (a -inf move has
 * no derivative): dH[0, 0, 0] = dθ[0, 0, 0]; dH[k, r, c] = dθ[k, r, c]
 * for k <= r < R', 1 <= c < C'; dV[r, c] = dθ[K, r, c] for 1 <= r < R',
 * c < C'; 0 in every other entry. Time O(K R' C').
 *
 * Time O(C' R' (K + 1)); memory O((K + 1) R C) per element (θ), the chart
 * O(C (K + R)) cells and O(C R) steps.
 */
#include "internal.h"

extern const ss_structure ssi_monotone_alignment;

enum {
	MA_HORIZONTAL, MA_VERTICAL, MA_LENGTHS_ROWS, MA_LENGTHS_COLS,
	MA_INPUT_COUNT
};

static const ss_input_spec ma_inputs[MA_INPUT_COUNT] = {
	[MA_HORIZONTAL] = {"log_potentials_horizontal", SS_REAL, SS_REQUIRED, 3,
			   {SS_DIM_K, SS_DIM_R, SS_DIM_C}},
	[MA_VERTICAL] = {"log_potentials_vertical", SS_REAL, SS_OPTIONAL, 2,
			 {SS_DIM_R, SS_DIM_C}},
	[MA_LENGTHS_ROWS] = {"lengths_rows", SS_INT, SS_OPTIONAL, 0, {SS_DIM_R}},
	[MA_LENGTHS_COLS] = {"lengths_cols", SS_INT, SS_OPTIONAL, 0, {SS_DIM_C}},
};

/* The canonical structure's inputs: θ over the moves, then as above. */
static const ss_input_spec moves_inputs[MA_INPUT_COUNT] = {
	[MA_HORIZONTAL] = {"moves", SS_REAL, SS_REQUIRED, 3,
			   {SS_DIM_K1, SS_DIM_R, SS_DIM_C}},
	[MA_VERTICAL] = {"log_potentials_vertical", SS_REAL, SS_OPTIONAL, 2,
			 {SS_DIM_R, SS_DIM_C}},
	[MA_LENGTHS_ROWS] = {"lengths_rows", SS_INT, SS_OPTIONAL, 0, {SS_DIM_R}},
	[MA_LENGTHS_COLS] = {"lengths_cols", SS_INT, SS_OPTIONAL, 0, {SS_DIM_C}},
};

/* The length along axis dim given by input (its full size when absent). */
static int64_t length_of(const ss_element *e, int input, ss_dim dim)
{
	const int64_t *len = e->input[input].data;
	return len ? *len : e->dim[dim];
}

static int64_t rows_of(const ss_element *e)
{
	return length_of(e, MA_LENGTHS_ROWS, SS_DIM_R);
}

static int64_t cols_of(const ss_element *e)
{
	return length_of(e, MA_LENGTHS_COLS, SS_DIM_C);
}

/* The same clamped to [0, size], for code that may run before validate. */
static int64_t clamped(int64_t len, int64_t size)
{
	return len < 0 ? 0 : len > size ? size : len;
}

/* ---- the canonical structure: the chart over the moves ------------------- */

static void moves_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const int64_t R = dim[SS_DIM_R], C = dim[SS_DIM_C], K = dim[SS_DIM_K];
	*size = (ssi_chart_size){
		.steps = C * (R + 3) + 1,
		.cells = C * (K + 3 * R) + 1,
		.candidates = K > 2 ? K : 2,
		.width = R > K ? R : K > 1 ? K : 1,
		.parts = 0,
	};
}

static int moves_chart(const ss_element *e, ssi_chart *ch)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t K = e->dim[SS_DIM_K], RC = R * C;
	const int64_t rows = rows_of(e), cols = cols_of(e);
	const int64_t guard = K > 1 ? K - 1 : 0;
	const int vertical = e->input[MA_VERTICAL].data != NULL;
	const ssi_operand none = SSI_ABSENT;
	int64_t prev = 0;

	for (int64_t c = 0; c < cols; c++) {
		const int64_t g = ssi_chart_cells(ch, guard);
		const int64_t alpha = ssi_chart_cells(ch, rows);
		const ssi_operand from = {prev, -1, 1};
		const ssi_operand horizontal = {c, RC, C};
		if (guard > 0)
			ssi_chart_push(ch, g, guard, 0, 0, none, none, none);
		if (c == 0) {
			ssi_chart_push(ch, alpha, 1, 0, 1, none, none,
				       (ssi_operand){0, 0, 0});
			for (int64_t r = 1; vertical && r < rows; r++)
				ssi_chart_push(ch, alpha + r, 1, 0, 1,
					       (ssi_operand){alpha + r - 1, 0, 0},
					       none,
					       (ssi_operand){K * RC + r * C, 0, 0});
			if (!vertical && rows > 1)
				ssi_chart_push(ch, alpha + 1, rows - 1, 0, 0, none,
					       none, none);
		} else if (!vertical) {
			ssi_chart_push_normalised(ch, alpha, rows, 0, K, from,
						  none, horizontal);
		} else {
			/* γ_c = β_c + rows in the cells. */
			const int64_t beta = ssi_chart_cells(ch, rows);
			const int64_t gamma = ssi_chart_cells(ch, rows);
			ssi_chart_push(ch, beta, rows, 0, K, from, none,
				       horizontal);
			ssi_chart_push(ch, gamma, 1, 0, 0, none, none, none);
			for (int64_t r = 1; r < rows; r++)
				ssi_chart_push(ch, gamma + r, 1, 0, 2,
					       (ssi_operand){beta + r - 1, rows, 0},
					       none,
					       (ssi_operand){K * RC + r * C + c, 0, 0});
			ssi_chart_push(ch, alpha, rows, 0, 2,
				       (ssi_operand){beta, rows, 1}, none, none);
		}
		prev = alpha;
	}
	ssi_chart_push(ch, ssi_chart_cells(ch, 1), 1, 0, 1,
		       (ssi_operand){prev + rows - 1, 0, 0}, none, none);
	return 1;
}

static const ss_structure moves = {
	.name = "monotone-alignment moves",
	.summary = "the moves of a monotone alignment (canonical problem)",
	.inputs = moves_inputs,
	.n_inputs = MA_INPUT_COUNT,
	.lengths_inputs = {MA_LENGTHS_ROWS, MA_LENGTHS_COLS},
	.n_lengths = 2,
	.event = {"moves", SS_REAL, 3, {SS_DIM_K1, SS_DIM_R, SS_DIM_C}},
	.chart_size = moves_chart_size,
	.chart = moves_chart,
};

/* ---- the structure ------------------------------------------------------- */

static int ma_validate(const ss_element *e, void *ws, ss_error *err)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t K = e->dim[SS_DIM_K], RC = R * C;
	const int64_t rows = rows_of(e), cols = cols_of(e);
	const int64_t hshape[3] = {K, R, C}, vshape[2] = {R, C};
	const double *H = e->input[MA_HORIZONTAL].data, *V = e->input[MA_VERTICAL].data;
	(void)ws;
	if (ssi_check_lengths(&ssi_monotone_alignment, e, MA_LENGTHS_ROWS, 1,
			      err) ||
	    ssi_check_lengths(&ssi_monotone_alignment, e, MA_LENGTHS_COLS, 1,
			      err))
		return SS_EDATA;
	if (K < 1)
		return ss_error_set(err, SS_EDATA,
				    "dataset 'log_potentials_horizontal' has K = 0; monotone-alignment needs K >= 1 (move 0 enters the first cell)");
	if (ssi_bad_value(H[0]))
		return ssi_bad_value_error(err, "log_potentials_horizontal",
					   H[0], 0, 3, hshape);
	for (int64_t k = 0; k < K; k++)
		for (int64_t r = k; r < rows && cols > 1; r++) {
			const int64_t at = k * RC + r * C + 1;
			int64_t bad = ssi_find_bad(H + at, cols - 1);
			if (bad >= 0)
				return ssi_bad_value_error(err, "log_potentials_horizontal",
							   H[at + bad], at + bad, 3,
							   hshape);
		}
	for (int64_t r = 1; V && r < rows; r++) {
		int64_t bad = ssi_find_bad(V + r * C, cols);
		if (bad >= 0)
			return ssi_bad_value_error(err, "log_potentials_vertical",
						   V[r * C + bad], r * C + bad, 2,
						   vshape);
	}
	return SS_OK;
}

/* θ [K+1, R, C]: the moves of e, -inf where a move does not exist. */
static void ma_lower(const ss_element *e, void *ws, double *theta,
		     ss_element *out)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t K = e->dim[SS_DIM_K], RC = R * C;
	const int64_t rows = rows_of(e), cols = cols_of(e);
	const double *H = e->input[MA_HORIZONTAL].data, *V = e->input[MA_VERTICAL].data;
	(void)ws;
	for (int64_t k = 0; k < (K + 1) * RC; k++)
		theta[k] = -INFINITY;
	theta[0] = H[0];
	for (int64_t k = 0; k < K; k++)
		for (int64_t r = k; r < rows; r++)
			for (int64_t c = 1; c < cols; c++)
				theta[k * RC + r * C + c] = H[k * RC + r * C + c];
	for (int64_t r = 1; V && r < rows; r++)
		for (int64_t c = 0; c < cols; c++)
			theta[K * RC + r * C + c] = V[r * C + c];
	*out = *e;
	out->input[MA_HORIZONTAL].data = theta;
	out->input[MA_HORIZONTAL].dtype = SS_F64;
	out->prepared[MA_HORIZONTAL] = NULL;
}

/* dH and dV from dθ: the entries ma_lower copies, where finite. */
static void ma_lower_grad(const ss_element *e, void *ws, const double *dtheta,
			  double *const grad[])
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t K = e->dim[SS_DIM_K], RC = R * C;
	const int64_t rows = rows_of(e), cols = cols_of(e);
	const double *H = e->input[MA_HORIZONTAL].data, *V = e->input[MA_VERTICAL].data;
	double *dH = grad[MA_HORIZONTAL];
	double *dV = V ? grad[MA_VERTICAL] : NULL;
	(void)ws;
	for (int64_t k = 0; dH && k < K; k++)
		for (int64_t r = k; r < rows; r++)
			for (int64_t c = k == 0 && r == 0 ? 0 : 1; c < cols; c++) {
				const int64_t at = k * RC + r * C + c;
				if (H[at] > -INFINITY)
					dH[at] = dtheta[at];
			}
	for (int64_t r = 1; dV && r < rows; r++)
		for (int64_t c = 0; c < cols; c++)
			if (V[r * C + c] > -INFINITY)
				dV[r * C + c] = dtheta[K * RC + r * C + c];
}

/*
 * The moves of an event of visited cells, checked: taken by column, then
 * row, the cells start at (0, 0), end at (R'-1, C'-1), and each follows
 * the one before by a move (one row down in the same column, with the
 * vertical input; or one column right and k in [0, K) rows down).
 */
static int ma_to_parts(const ss_element *e, void *ws, const double *event,
		       double *parts, int *empty, ss_error *err)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t K = e->dim[SS_DIM_K], RC = R * C;
	const int64_t rows = rows_of(e), cols = cols_of(e);
	int64_t visited = 0, pr = 0, pc = 0;
	(void)ws;
	memset(parts, 0, (size_t)((K + 1) * RC) * sizeof *parts);
	for (int64_t c = 0; c < C; c++) {
		for (int64_t r = 0; r < R; r++) {
			const double x = event[r * C + c];
			int64_t k = K;
			if (x == 0.0)
				continue;
			if (x != 1.0)
				return ss_error_set(err, SS_EDATA,
						    "event holds %g at [%lld, %lld], not 0 or 1",
						    x, (long long)r, (long long)c);
			if (r >= rows || c >= cols)
				return ss_error_set(err, SS_EDATA,
						    "event marks [%lld, %lld], outside the %lld x %lld table of the lengths",
						    (long long)r, (long long)c,
						    (long long)rows, (long long)cols);
			if (visited == 0 && (r != 0 || c != 0))
				return ss_error_set(err, SS_EDATA,
						    "event does not start at [0, 0] (its first cell is [%lld, %lld])",
						    (long long)r, (long long)c);
			if (visited > 0 && c == pc && r == pr + 1 &&
			    !e->input[MA_VERTICAL].data)
				return ss_error_set(err, SS_EDATA,
						    "event moves down from [%lld, %lld] to [%lld, %lld], but there is no 'log_potentials_vertical'",
						    (long long)pr, (long long)pc,
						    (long long)r, (long long)c);
			if (visited == 0)
				k = 0;
			else if (c == pc + 1 && r >= pr && r - pr < K)
				k = r - pr;
			else if (c != pc || r != pr + 1)
				return ss_error_set(err, SS_EDATA,
						    "event is not a monotone path: [%lld, %lld] follows [%lld, %lld]",
						    (long long)r, (long long)c,
						    (long long)pr, (long long)pc);
			parts[k * RC + r * C + c] = 1.0;
			visited++;
			pr = r;
			pc = c;
		}
	}
	*empty = visited == 0;
	if (visited > 0 && (pr != rows - 1 || pc != cols - 1))
		return ss_error_set(err, SS_EDATA,
				    "event ends at [%lld, %lld], not at [%lld, %lld]",
				    (long long)pr, (long long)pc,
				    (long long)(rows - 1), (long long)(cols - 1));
	return SS_OK;
}

/* A cell's visits are the moves into it. */
static void ma_from_parts(const ss_element *e, const double *parts,
			  double *event)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t K = e->dim[SS_DIM_K], RC = R * C;
	for (int64_t x = 0; x < RC; x++) {
		double sum = 0.0;
		for (int64_t k = 0; k <= K; k++)
			sum += parts[k * RC + x];
		event[x] = sum;
	}
}

/* Max-marginals: a cell's best structure enters it by its best move. */
static void ma_from_parts_max(const ss_element *e, const double *parts,
			      double *event)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t K = e->dim[SS_DIM_K], RC = R * C;
	for (int64_t x = 0; x < RC; x++) {
		double best = -INFINITY;
		for (int64_t k = 0; k <= K; k++)
			best = fmax(best, parts[k * RC + x]);
		event[x] = best;
	}
}

static void ma_decode(const ss_element *e, const double *event,
		      int64_t *const decodes[])
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t n = e->dim[SS_DIM_RC1];
	const int64_t rows = clamped(rows_of(e), R);
	const int64_t cols = clamped(cols_of(e), C);
	int64_t *pairs = decodes[0], i = 0;
	for (int64_t k = 0; k < 2 * n; k++)
		pairs[k] = -1;
	for (int64_t c = 0; c < cols; c++)
		for (int64_t r = 0; r < rows && i < n; r++)
			if (event[r * C + c] != 0.0) {
				pairs[2 * i] = r;
				pairs[2 * i + 1] = c;
				i++;
			}
}

/* The event of pairs: cells in path order (by column, then row) until
 * the first (-1, -1); whether they form a path is to_parts' check. */
static int ma_encode(const ss_element *e, const int64_t *pairs,
		     double *event, ss_error *err)
{
	const int64_t R = e->dim[SS_DIM_R], C = e->dim[SS_DIM_C];
	const int64_t rows = clamped(rows_of(e), R);
	const int64_t cols = clamped(cols_of(e), C);
	const int64_t n = rows && cols ? rows + cols - 1 : 0;
	int64_t end = n;
	memset(event, 0, (size_t)(R * C) * sizeof *event);
	for (int64_t i = 0; i < n; i++) {
		const int64_t r = pairs[2 * i], c = pairs[2 * i + 1];
		if (r == -1 && c == -1) {
			end = i < end ? i : end;
			continue;
		}
		if (i > end)
			return ss_error_set(err, SS_EDATA,
					    "pairs holds (%lld, %lld) at [%lld], after the end of the path at [%lld]",
					    (long long)r, (long long)c,
					    (long long)i, (long long)end);
		if (r < 0 || r >= rows || c < 0 || c >= cols)
			return ss_error_set(err, SS_EDATA,
					    "pairs holds (%lld, %lld) at [%lld], outside [0, %lld) x [0, %lld)",
					    (long long)r, (long long)c, (long long)i,
					    (long long)rows, (long long)cols);
		if (i > 0 && (c < pairs[2 * i - 1] ||
			      (c == pairs[2 * i - 1] && r <= pairs[2 * i - 2])))
			return ss_error_set(err, SS_EDATA,
					    "pairs holds (%lld, %lld) at [%lld], not after (%lld, %lld) in path order",
					    (long long)r, (long long)c, (long long)i,
					    (long long)pairs[2 * i - 2],
					    (long long)pairs[2 * i - 1]);
		event[r * C + c] = 1.0;
	}
	return SS_OK;
}

const ss_structure ssi_monotone_alignment = {
	.name = "monotone-alignment",
	.summary = "general monotone alignment with move scores (SynJax's GeneralMonotoneAlignmentCRF)",
	.inputs = ma_inputs,
	.n_inputs = MA_INPUT_COUNT,
	.lengths_inputs = {MA_LENGTHS_ROWS, MA_LENGTHS_COLS},
	.n_lengths = 2,
	.event = {"event", SS_REAL, 2, {SS_DIM_R, SS_DIM_C}},
	.decodes = {{"pairs", SS_INT, 2, {SS_DIM_RC1, SS_DIM_TWO}}},
	.n_decodes = 1,
	.validate = ma_validate,
	.lower = ma_lower,
	.lower_grad = ma_lower_grad,
	.canonical = &moves,
	.to_parts = ma_to_parts,
	.from_parts = ma_from_parts,
	.from_parts_max = ma_from_parts_max,
	.decode = ma_decode,
	.encode = ma_encode,
};
