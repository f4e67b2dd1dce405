/*
 * struct_tree_crf.c - tree CRF: labelled binary constituency trees (CKY).
 *
 * Potentials θ [n, n, t] (the man page's [n, n, L], t = L the number of
 * span labels): θ[i, j, l] scores the constituent over words i .. j
 * inclusive (i <= j) with label l. A structure of an element of length
 * len (1 <= len <= n) is a binary bracketing of the words 0 .. len-1 with
 * a label on each of its 2 len - 1 spans, the width-1 spans (the words)
 * included: the span 0 .. len-1 is in it, and every span of width >= 2
 * splits into two adjacent spans of it. Its score is
 *   s(y) = Σ_{(i, j, l) in y} θ[i, j, l].
 * The event is the indicator e[i, j, l] of the labelled spans: the parts.
 * Entries with i > j or j >= len are never read. The compact decode is
 * spans [2n-1, 3], the rows (start, end, label), end inclusive, in
 * pre-order (by start, then by decreasing width), -1 rows after the
 * 2 len - 1 spans.
 *
 * Inside recurrence (⊕ = logsumexp for log Z, max for the best tree):
 *   β(i, i)  = ⊕_l θ[i, i, l]
 *   σ(i, k)  = ⊕_{i <= r < k} β(i, r) + β(r+1, k)                  (k > i)
 *   β(i, k)  = σ(i, k) + ⊕_l θ[i, k, l]
 *   log Z    = β(0, len-1)
 * As a chart program (lib/chart.c), β is stored by width, β(s, s+w-1) at
 * B + (w-1) n + s, so that the spans of one width are one "split" step
 * (as Eisner's chart, lib/dep_projective.c). Per width w >= 2, with
 * s = i the start and j = r - s:
 *   σ   x = β(s, s+j)         at B + j n + s
 *       y = β(s+j+1, s+w-1)   at B + (w-2) n + 1 + j (1-n) + s,  j in [0, w-1)
 *   β   x = σ(s, s+w-1), part θ[s, s+w-1, j] at (w-1) t + j + s (n+1) t,
 *                                                                j in [0, t)
 * and the width-1 step reads the parts at j + s (n+1) t alone. The last
 * step, width len, writes the root. From this program the engine derives
 * the marginals (inside-outside), the best tree (CKY), exact samples
 * (top-down sampling) and the entropy.
 *
 * Scale: the engine reduces every cell with its own maximum, so log Z,
 * marginals and entropy are exact for scores of any magnitude.
 *
 * θ may be stored as floats (a float32 dataset is read as such).
 *
 * Time O(len³ + len² t), memory O(n² t) per element (the potentials) and
 * 6 n² doubles of chart. Finkel, Kleeman and Manning, "Efficient,
 * feature-based, conditional random field parsing" (ACL 2008); Kasami
 * (1965), Younger (1967); SynJax's TreeCRF.
 */
#include "internal.h"

enum { CRF_LOG_POTENTIALS, CRF_LENGTHS, CRF_INPUT_COUNT };

extern const ss_structure ssi_tree_crf;

static void crf_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const int64_t n = dim[SS_DIM_N], t = dim[SS_DIM_T];
	*size = (ssi_chart_size){.steps = 2 * n + 1, .cells = 2 * n * n + 1,
				 .candidates = n > t ? n : t, .width = n,
				 .parts = 0};
}

static int crf_chart(const ss_element *e, ssi_chart *c)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	const int64_t len = ssi_length(e, CRF_LENGTHS), diag = (n + 1) * t;
	const int64_t beta = ssi_chart_cells(c, len * n);
	const int64_t sigma = ssi_chart_cells(c, len * n);
	ssi_chart_push(c, beta, len, 0, t, SSI_ABSENT, SSI_ABSENT,
		       (ssi_operand){0, 1, diag});
	for (int64_t w = 2; w <= len; w++) {
		const int64_t count = len - w + 1, at = (w - 1) * n;
		ssi_chart_push(c, sigma + at, count, 0, w - 1,
			       (ssi_operand){beta, n, 1},
			       (ssi_operand){beta + (w - 2) * n + 1, 1 - n, 1},
			       SSI_ABSENT);
		ssi_chart_push(c, beta + at, count, 0, t,
			       (ssi_operand){sigma + at, 0, 1}, SSI_ABSENT,
			       (ssi_operand){(w - 1) * t, 1, diag});
	}
	return 1;
}

static int crf_validate(const ss_element *e, void *ws, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	const int64_t len = ssi_length(e, CRF_LENGTHS);
	const int64_t shape[3] = {n, n, t};
	const int f32 = e->input[CRF_LOG_POTENTIALS].dtype == SS_F32;
	const double *theta = e->input[CRF_LOG_POTENTIALS].data;
	const float *theta_f32 = e->input[CRF_LOG_POTENTIALS].data;
	(void)ws;
	if (ssi_check_lengths(&ssi_tree_crf, e, CRF_LENGTHS, 1, err))
		return SS_EDATA;
	/* Row i reads θ[i, i .. len-1, :], contiguous. */
	for (int64_t i = 0; i < len; i++) {
		const int64_t first = (i * n + i) * t, count = (len - i) * t;
		int64_t k = f32 ? ssi_find_bad_f32(theta_f32 + first, count)
				: ssi_find_bad(theta + first, count);
		if (k >= 0)
			return ssi_bad_value_error(err, "log_potentials",
						   f32 ? theta_f32[first + k]
						       : theta[first + k],
						   first + k, SS_ARRAY_LEN(shape),
						   shape);
	}
	return SS_OK;
}

/* ---- spans ---------------------------------------------------------------- */

/* 1 if the spans x and y, (start, end), overlap without one holding the
 * other, or are the same span. */
static int spans_clash(const int64_t *x, const int64_t *y)
{
	if (x[0] == y[0] && x[1] == y[1])
		return 1;
	return (x[0] < y[0] && y[0] <= x[1] && x[1] < y[1]) ||
	       (y[0] < x[0] && x[0] <= y[1] && y[1] < x[1]);
}

/*
 * The first row k of rows[count][3] (spans within 0 .. len-1) that repeats
 * or crosses an earlier row, that row in *other; -1 if none. count =
 * 2 len - 1 distinct spans of 0 .. len-1 that pairwise nest or are apart
 * are a binary tree: a laminar family of intervals over len words has at
 * most 2 len - 1 members, and only a full binary one, with the span of
 * every word and of the whole, has that many.
 */
static int64_t find_clash(const int64_t *rows, int64_t count, int64_t *other)
{
	for (int64_t k = 1; k < count; k++)
		for (int64_t m = 0; m < k; m++)
			if (spans_clash(rows + 3 * m, rows + 3 * k)) {
				*other = m;
				return k;
			}
	return -1;
}

/* The labelled spans an event marks, in pre-order (start, then decreasing
 * end), into rows[3 * max] (at most max of them); their number. */
static int64_t event_spans(const ss_element *e, const double *event,
			   int64_t max, int64_t *rows)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	const int64_t len = ssi_length_clamped(e, CRF_LENGTHS);
	int64_t count = 0;
	for (int64_t i = 0; i < len; i++)
		for (int64_t j = len - 1; j >= i; j--)
			for (int64_t l = 0; l < t; l++)
				if (event[(i * n + j) * t + l] != 0.0 &&
				    count < max) {
					rows[3 * count] = i;
					rows[3 * count + 1] = j;
					rows[3 * count + 2] = l;
					count++;
				}
	return count;
}

static size_t crf_workspace_bytes(const int64_t dim[])
{
	return ssi_align64((size_t)(6 * dim[SS_DIM_N] + 1) * sizeof(int64_t));
}

/* The parts of an event, checked to be a labelled binary tree. */
static int crf_to_parts(const ss_element *e, void *ws, const double *event,
			double *parts, int *empty, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	const int64_t len = ssi_length(e, CRF_LENGTHS), size = n * n * t;
	int64_t *rows = ws, ones = 0, count, k, m;
	for (int64_t x = 0; x < size; x++) {
		const int64_t i = x / t / n, j = x / t % n;
		if (event[x] == 0.0)
			continue;
		if (event[x] != 1.0)
			return ss_error_set(err, SS_EDATA,
					    "event holds %g at [%lld, %lld, %lld], not 0 or 1",
					    event[x], (long long)i, (long long)j,
					    (long long)(x % t));
		if (i > j || j >= len)
			return ss_error_set(err, SS_EDATA,
					    "event marks [%lld, %lld, %lld], not a span of the %lld words",
					    (long long)i, (long long)j,
					    (long long)(x % t), (long long)len);
		ones++;
	}
	*empty = ones == 0;
	if (ones != 0 && ones != 2 * len - 1)
		return ss_error_set(err, SS_EDATA,
				    "event has %lld spans; a binary tree over %lld words has %lld",
				    (long long)ones, (long long)len,
				    (long long)(2 * len - 1));
	count = event_spans(e, event, 2 * len - 1, rows);
	if ((k = find_clash(rows, count, &m)) >= 0)
		return ss_error_set(err, SS_EDATA,
				    "event is not a binary tree: the spans (%lld, %lld) and (%lld, %lld) %s",
				    (long long)rows[3 * m], (long long)rows[3 * m + 1],
				    (long long)rows[3 * k], (long long)rows[3 * k + 1],
				    rows[3 * m] == rows[3 * k] &&
				    rows[3 * m + 1] == rows[3 * k + 1]
				    ? "are the same" : "cross");
	memcpy(parts, event, (size_t)size * sizeof *parts);
	return SS_OK;
}

static void crf_decode(const ss_element *e, const double *event,
		       int64_t *const decodes[])
{
	const int64_t n = e->dim[SS_DIM_N], rows = n > 0 ? 2 * n - 1 : 0;
	int64_t *spans = decodes[0];
	const int64_t count = event_spans(e, event, rows, spans);
	for (int64_t x = 3 * count; x < 3 * rows; x++)
		spans[x] = -1;
}

/* The event of spans: its first 2 len - 1 rows, checked to be a labelled
 * binary tree (or all -1: the empty structure). */
static int crf_encode(const ss_element *e, const int64_t *spans,
		      double *event, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	const int64_t len = ssi_length_clamped(e, CRF_LENGTHS);
	const int64_t count = len > 0 ? 2 * len - 1 : 0;
	int64_t unset = 0, k, m;
	memset(event, 0, (size_t)(n * n * t) * sizeof *event);
	for (int64_t x = 0; x < 3 * count; x++)
		unset += spans[x] == -1;
	if (unset == 3 * count)
		return SS_OK; /* the empty structure */
	for (k = 0; k < count; k++) {
		const int64_t *r = spans + 3 * k;
		if (r[0] < 0 || r[0] > r[1] || r[1] >= len || r[2] < 0 ||
		    r[2] >= t)
			return ss_error_set(err, SS_EDATA,
					    "spans holds (%lld, %lld, %lld) at row %lld, not a span of 0 .. %lld with a label in [0, %lld)",
					    (long long)r[0], (long long)r[1],
					    (long long)r[2], (long long)k,
					    (long long)(len - 1), (long long)t);
	}
	if ((k = find_clash(spans, count, &m)) >= 0)
		return ss_error_set(err, SS_EDATA,
				    "spans is not a binary tree: row %lld (%lld, %lld) %s row %lld (%lld, %lld)",
				    (long long)k, (long long)spans[3 * k],
				    (long long)spans[3 * k + 1],
				    spans[3 * m] == spans[3 * k] &&
				    spans[3 * m + 1] == spans[3 * k + 1]
				    ? "repeats" : "crosses",
				    (long long)m, (long long)spans[3 * m],
				    (long long)spans[3 * m + 1]);
	for (k = 0; k < count; k++) {
		const int64_t *r = spans + 3 * k;
		event[(r[0] * n + r[1]) * t + r[2]] = 1.0;
	}
	return SS_OK;
}

static const ss_input_spec crf_inputs[CRF_INPUT_COUNT] = {
	[CRF_LOG_POTENTIALS] = {"log_potentials", SS_REAL, SS_REQUIRED, 3,
				{SS_DIM_N, SS_DIM_N, SS_DIM_T}, 1},
	[CRF_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

const ss_structure ssi_tree_crf = {
	.name = "tree-crf",
	.summary = "labelled binary constituency trees (CKY)",
	.inputs = crf_inputs,
	.n_inputs = CRF_INPUT_COUNT,
	.lengths_inputs = {CRF_LENGTHS},
	.n_lengths = 1,
	.event = {"event", SS_REAL, 3, {SS_DIM_N, SS_DIM_N, SS_DIM_T}},
	.decodes = {{"spans", SS_INT, 2, {SS_DIM_N2M1, SS_DIM_THREE}}},
	.n_decodes = 1,
	.validate = crf_validate,
	.chart_size = crf_chart_size,
	.chart = crf_chart,
	.workspace_bytes = crf_workspace_bytes,
	.to_parts = crf_to_parts,
	.decode = crf_decode,
	.encode = crf_encode,
};
