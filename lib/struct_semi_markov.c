/*
 * struct_semi_markov.c - semi-Markov CRF: labelled segmentations.
 *
 * Potentials θ [n, m, t, t]: θ[i, j, a, c] scores a segment labelled c
 * that ends at position i and has length j+1 (it covers i-j .. i),
 * following a segment labelled a. As in the linear chain, the first
 * segment (starting at 0) follows a virtual label 0, so for i - j = 0
 * only a = 0 is read; entries with j > i (a segment starting before 0)
 * are never read. A structure is a segmentation of 0 .. L-1 (L the
 * element's length) into segments of length at most m, each labelled:
 * segments (s_k, e_k, c_k), k < K, with s_0 = 0, s_{k+1} = e_k + 1,
 * e_{K-1} = L-1; its score is
 *   s(y) = Σ_k θ[e_k, e_k - s_k, c_{k-1}, c_k]      (c_{-1} = 0).
 * The event is the indicator of those entries, and the parts are the
 * event's entries. L = 0 has one structure, the empty one (log Z = 0).
 *
 * Compact decodes: segments [n, 3], the rows (start, end, label) of the
 * segments in order (end inclusive), then rows of -1; and labels [n],
 * the label of each position, -1 in padding. Segments come first: it is
 * the decode encode reads (log-prob of compact decodes), because labels
 * cannot tell two adjacent segments with one label from one segment.
 *
 * The chart program (lib/chart.c), two levels so that every candidate is
 * affine: β[i][j][c] is the prefixes ending with a segment labelled c
 * that covers i-j .. i, α[i][c] those ending with any segment labelled c
 * at i:
 *   β[i][j][c] = ⊕_a α[i-j-1][a] + θ[i, j, a, c]    (j < min(m, i+1),
 *                                                     i - j >= 1)
 *   β[i][i][c] = θ[i, i, 0, c]                      (i < m: the first)
 *   α[i][c]    = ⊕_{j < min(m, i+1)} β[i][j][c]      (0 <= i < L)
 *   root       = ⊕_c α[L-1][c]                      (root = 0 when L = 0)
 * from which the engine derives the marginals, the best segmentation,
 * exact samples, the entropy and the count. With m = 1 this is the
 * linear chain on the same numbers (θ [n, 1, t, t] is the chain's
 * [n, t, t]).
 *
 * Scale. No step can be normalised (a segmentation skips positions, so
 * not every structure passes through each α[i]). Instead, every
 * structure covers each position once, so for potentials stored as
 * doubles the program runs on θ'[i, j, a, c] = θ[i, j, a, c] -
 * Σ_{p=i-j}^{i} q_p with q_p the largest θ / (j+1) over the segments
 * covering p, and log Z adds Σ_p q_p back: every θ' <= 0 and the cells
 * stay of the order of the scores' spread, so that the entropy's terms
 * keep 1e-12 at scores of 1e4 (every cell is reduced with its own
 * maximum, so log Z is exact at any magnitude either way). Potentials
 * stored as floats (a float32 dataset is read as such; SPEC §5 asks
 * 1e-5 of them) run unshifted, in the engine's float kernels (lib/
 * chart.c), five times as fast. Scores and the marginals are those of θ
 * itself.
 *
 * Time O(L m t² + L m²) (the shift), memory O(n m t²) per element.
 * Sarawagi and Cohen
 * (2004), "Semi-Markov conditional random fields for information
 * extraction"; SynJax's SemiMarkovCRF for the layout.
 */
#include "internal.h"

enum { SEMI_LOG_POTENTIALS, SEMI_LENGTHS, SEMI_INPUT_COUNT };
enum { SEMI_SEGMENTS, SEMI_LABELS };

/* The longest segment ending at i: min(m, i+1) lengths. */
static int64_t lengths_at(int64_t i, int64_t m)
{
	return i + 1 < m ? i + 1 : m;
}

static void semi_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const int64_t n = dim[SS_DIM_N], m = dim[SS_DIM_M], t = dim[SS_DIM_T];
	int64_t candidates = t > m ? t : m;
	*size = (ssi_chart_size){.steps = n * (m + 1) + 1,
				 .cells = n * t * (m + 1) + 1,
				 .candidates = candidates > 1 ? candidates : 1,
				 .width = t > 1 ? t : 1,
				 .parts = n * m * t * t + n};
}

/* θ[i, j, a, c] of the element (double, or float where it is stored so). */
static double theta_at(const ss_element *e, int64_t k)
{
	return e->input[SEMI_LOG_POTENTIALS].dtype == SS_F32
		? (double)((const float *)e->input[SEMI_LOG_POTENTIALS].data)[k]
		: ((const double *)e->input[SEMI_LOG_POTENTIALS].data)[k];
}

/* The rows a a segment ending at i of length j+1 reads: all after a
 * segment, row 0 for the first. */
static int64_t rows_at(int64_t i, int64_t j, int64_t t)
{
	return j < i ? t : 1;
}

/*
 * The shifted potentials into the chart's room: q_p = the largest
 * θ[i, j, a, c] / (j+1) over the segments covering p (0 where none is
 * finite), and θ'[i, j, a, c] = θ[i, j, a, c] - Σ_{p=i-j}^{i} q_p, so
 * that every θ' <= 0. Every structure covers each position once, so log Z
 * adds Σ_p q_p back (offset) and the distribution is unchanged; the
 * cells stay of the order of the scores' spread. Only the entries the
 * program reads are written.
 */
static void shift_segments(const ss_element *e, int64_t L, ssi_chart *c)
{
	const int64_t n = e->dim[SS_DIM_N], m = e->dim[SS_DIM_M];
	const int64_t t = e->dim[SS_DIM_T], tt = t * t;
	double *sh = c->shifted, *q = sh + n * m * tt;
	for (int64_t p = 0; p < L; p++)
		q[p] = -INFINITY;
	for (int64_t i = 0; i < L; i++)
		for (int64_t j = 0; j < lengths_at(i, m); j++) {
			const int64_t at = (i * m + j) * tt;
			const int64_t used = rows_at(i, j, t) * t;
			double best = -INFINITY;
			for (int64_t k = 0; k < used; k++) {
				sh[at + k] = theta_at(e, at + k);
				best = sh[at + k] > best ? sh[at + k] : best;
			}
			best /= (double)(j + 1);
			for (int64_t p = i - j; p <= i; p++)
				q[p] = best > q[p] ? best : q[p];
		}
	for (int64_t p = 0; p < L; p++) {
		q[p] = q[p] == -INFINITY ? 0.0 : q[p];
		c->offset += q[p];
	}
	for (int64_t i = 0; i < L; i++)
		for (int64_t j = 0; j < lengths_at(i, m); j++) {
			const int64_t at = (i * m + j) * tt;
			const int64_t used = rows_at(i, j, t) * t;
			double covered = 0.0;
			for (int64_t p = i - j; p <= i; p++)
				covered += q[p];
			for (int64_t k = 0; k < used; k++)
				sh[at + k] -= covered;
		}
	c->theta = sh;
}

static int semi_chart(const ss_element *e, ssi_chart *c)
{
	const int64_t m = e->dim[SS_DIM_M], t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length(e, SEMI_LENGTHS);
	const int64_t alpha = ssi_chart_cells(c, L * t);
	int64_t root;
	if (e->input[SEMI_LOG_POTENTIALS].dtype != SS_F32)
		shift_segments(e, L, c);
	for (int64_t i = 0; i < L; i++) {
		const int64_t J = lengths_at(i, m);
		const int64_t beta = ssi_chart_cells(c, J * t);
		for (int64_t j = 0; j < J; j++) {
			const int64_t part = (i * m + j) * tt;
			if (j < i)
				ssi_chart_push(c, beta + j * t, t, 0, t,
					       (ssi_operand){alpha + (i - j - 1) * t, 1, 0},
					       SSI_ABSENT, (ssi_operand){part, t, 1});
			else /* the first segment, after label 0 */
				ssi_chart_push(c, beta + j * t, t, 0, 1, SSI_ABSENT,
					       SSI_ABSENT, (ssi_operand){part, 0, 1});
		}
		ssi_chart_push(c, alpha + i * t, t, 0, J,
			       (ssi_operand){beta, t, 1}, SSI_ABSENT, SSI_ABSENT);
	}
	root = ssi_chart_cells(c, 1);
	ssi_chart_push(c, root, 1, 0, L > 0 ? t : 1,
		       L > 0 ? (ssi_operand){alpha + (L - 1) * t, 1, 0}
			     : SSI_ABSENT,
		       SSI_ABSENT, SSI_ABSENT);
	return 1;
}

/* The first NaN or +inf among count entries of θ from offset, -1 if none. */
static int64_t find_bad_at(const ss_element *e, int64_t offset, int64_t count)
{
	const int64_t k = e->input[SEMI_LOG_POTENTIALS].dtype == SS_F32
		? ssi_find_bad_f32((const float *)e->input[SEMI_LOG_POTENTIALS].data + offset, count)
		: ssi_find_bad((const double *)e->input[SEMI_LOG_POTENTIALS].data + offset, count);
	return k < 0 ? -1 : offset + k;
}

static int semi_validate(const ss_element *e, void *ws, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], m = e->dim[SS_DIM_M];
	const int64_t t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length(e, SEMI_LENGTHS);
	const int64_t shape[4] = {n, m, t, t};
	(void)ws;
	if (ssi_check_length(L, n, err))
		return SS_EDATA;
	for (int64_t i = 0; i < L; i++) {
		/* Lengths j < min(m, i) follow a segment: every row a; the
		 * first segment (j = i) reads row a = 0. */
		const int64_t follow = i < m ? i : m;
		int64_t k = find_bad_at(e, i * m * tt, follow * tt);
		if (k < 0 && i < m)
			k = find_bad_at(e, (i * m + i) * tt, t);
		if (k >= 0)
			return ssi_bad_value_error(
				err, "log_potentials",
				theta_at(e, k), k, SS_ARRAY_LEN(shape), shape);
	}
	return SS_OK;
}

static int not_segmentation(ss_error *err, int64_t i)
{
	return ss_error_set(err, SS_EDATA,
			    "event is not a segmentation at position %lld",
			    (long long)i);
}

/* Checks that event marks a chain of segments from 0 to L-1, one ending at
 * each of their ends, each following the label of the one before. */
static int semi_to_parts(const ss_element *e, void *ws, const double *event,
			 double *parts, int *empty, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], m = e->dim[SS_DIM_M];
	const int64_t t = e->dim[SS_DIM_T], tt = t * t, block = m * tt;
	const int64_t L = ssi_length(e, SEMI_LENGTHS);
	int64_t start = 0, prev = 0, ones = 0;
	(void)ws;
	for (int64_t i = 0; i < n; i++) {
		int64_t marks = 0;
		for (int64_t k = 0; k < block; k++) {
			const double x = event[i * block + k];
			const int64_t j = k / tt, a = k / t % t;
			if (x == 0.0)
				continue;
			if (x != 1.0)
				return ss_error_set(err, SS_EDATA,
						    "event holds %g at position %lld, not 0 or 1",
						    x, (long long)i);
			if (i >= L)
				return ss_error_set(err, SS_EDATA,
						    "event marks position %lld, past the length %lld",
						    (long long)i, (long long)L);
			if (marks++ || i - j != start || a != prev)
				return not_segmentation(err, i);
			start = i + 1;
			prev = k % t;
			ones++;
		}
	}
	if (ones != 0 && start != L)
		return not_segmentation(err, start);
	/* The all-zero event is the empty structure. */
	*empty = ones == 0 && L > 0;
	memcpy(parts, event, (size_t)(n * block) * sizeof *parts);
	return SS_OK;
}

static void semi_decode(const ss_element *e, const double *event,
			int64_t *const decodes[])
{
	const int64_t n = e->dim[SS_DIM_N], m = e->dim[SS_DIM_M];
	const int64_t t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length(e, SEMI_LENGTHS);
	int64_t *segments = decodes[SEMI_SEGMENTS], *labels = decodes[SEMI_LABELS];
	int64_t row = 0;
	for (int64_t k = 0; k < 3 * n; k++)
		segments[k] = -1;
	for (int64_t i = 0; i < n; i++)
		labels[i] = -1;
	for (int64_t i = 0; i < L; i++)
		for (int64_t j = 0; j < lengths_at(i, m); j++)
			for (int64_t k = 0; k < tt; k++) {
				if (event[(i * m + j) * tt + k] == 0.0)
					continue;
				segments[3 * row] = i - j;
				segments[3 * row + 1] = i;
				segments[3 * row + 2] = k % t;
				row++;
				for (int64_t p = i - j; p <= i; p++)
					labels[p] = k % t;
			}
}

/* The event of segments [n, 3]: rows (start, end, label) in order, then
 * rows of -1; rows at or past the length are ignored. */
static int semi_encode(const ss_element *e, const int64_t *segments,
		       double *event, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], m = e->dim[SS_DIM_M];
	const int64_t t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length_clamped(e, SEMI_LENGTHS);
	int64_t start = 0, prev = 0, rows = 0;
	memset(event, 0, (size_t)(n * m * tt) * sizeof *event);
	for (int64_t r = 0; r < L; r++) {
		const int64_t *row = segments + 3 * r;
		const int64_t last = start + m - 1 < L - 1 ? start + m - 1 : L - 1;
		if (rows == r && start < L && row[0] != -1) {
			if (row[0] != start)
				return ss_error_set(err, SS_EDATA,
						    "segments holds %lld at [%lld, 0]; segment %lld must start at %lld",
						    (long long)row[0], (long long)r,
						    (long long)r, (long long)start);
			if (row[1] < start || row[1] > last)
				return ss_error_set(err, SS_EDATA,
						    "segments holds %lld at [%lld, 1], outside [%lld, %lld] (segments end before the length %lld and are at most m = %lld long)",
						    (long long)row[1], (long long)r,
						    (long long)start, (long long)last,
						    (long long)L, (long long)m);
			if (row[2] < 0 || row[2] >= t)
				return ss_error_set(err, SS_EDATA,
						    "segments holds %lld at [%lld, 2], outside [0, %lld)",
						    (long long)row[2], (long long)r,
						    (long long)t);
			event[((row[1] * m + row[1] - start) * t + prev) * t + row[2]] = 1.0;
			start = row[1] + 1;
			prev = row[2];
			rows++;
			continue;
		}
		for (int c = 0; c < 3; c++)
			if (row[c] != -1)
				return ss_error_set(err, SS_EDATA,
						    "segments holds %lld at [%lld, %d], after the last segment (rows of -1 follow it)",
						    (long long)row[c], (long long)r, c);
	}
	if (rows > 0 && start != L)
		return ss_error_set(err, SS_EDATA,
				    "segments ends at position %lld, not at the last position %lld",
				    (long long)(start - 1), (long long)(L - 1));
	return SS_OK;
}

static const ss_input_spec semi_inputs[SEMI_INPUT_COUNT] = {
	[SEMI_LOG_POTENTIALS] = {"log_potentials", SS_REAL, SS_REQUIRED, 4,
				 {SS_DIM_N, SS_DIM_M, SS_DIM_T, SS_DIM_T}, 1},
	[SEMI_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

const ss_structure ssi_semi_markov = {
	.name = "semi-markov",
	.summary = "semi-Markov CRF over labelled segmentations",
	.inputs = semi_inputs,
	.n_inputs = SEMI_INPUT_COUNT,
	.lengths_inputs = {SEMI_LENGTHS},
	.n_lengths = 1,
	.event = {"event", SS_REAL, 4, {SS_DIM_N, SS_DIM_M, SS_DIM_T, SS_DIM_T}},
	.decodes = {[SEMI_SEGMENTS] = {"segments", SS_INT, 2,
				       {SS_DIM_N, SS_DIM_THREE}},
		    [SEMI_LABELS] = {"labels", SS_INT, 1, {SS_DIM_N}}},
	.n_decodes = 2,
	.validate = semi_validate,
	.chart_size = semi_chart_size,
	.chart = semi_chart,
	.to_parts = semi_to_parts,
	.decode = semi_decode,
	.encode = semi_encode,
};
