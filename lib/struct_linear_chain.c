/*
 * struct_linear_chain.c - linear-chain CRF.
 *
 * Potentials θ [n, t, t]: θ[i, a, c] scores tag a at position i-1 followed
 * by tag c at position i. Position -1 is a virtual start with tag 0, so at
 * i = 0 only row a = 0 is used: θ[0, 0, c] is the start score of tag c.
 * A structure is a tag sequence y of the element's length L; its score is
 *   s(y) = θ[0, 0, y_0] + Σ_{i=1}^{L-1} θ[i, y_{i-1}, y_i].
 * The event is the indicator e[i, y_{i-1}, y_i] = 1 (y_{-1} = 0), and the
 * parts are the event's entries.
 *
 * The chart program (lib/chart.c), one "vecmat" step per position:
 *   α[0][c] = θ[0, 0, c]
 *   α[i][c] = ⊕_a α[i-1][a] + θ[i, a, c]          (0 < i < L)
 *   root    = ⊕_c α[L-1][c]                       (root = 0 when L = 0)
 * from which the engine derives the forward-backward marginals, Viterbi,
 * forward-filtering backward-sampling and the entropy by the chain rule
 * from the end.
 *
 * Scale: every structure passes through one cell of each position, so
 * each position's step is normalised (α[i] - max_c α[i][c] is stored, and
 * log Z adds the maxima back): α and the root stay of the order of the
 * score spread whatever the potentials' magnitude, and the marginals are
 * unchanged.
 *
 * θ may be stored as floats (a float32 dataset is read as such): the
 * engine widens each row as it reads it.
 *
 * Time O(L t²), memory O(n t²) per element. Lafferty, McCallum and Pereira
 * (2001); Rabiner (1989) for the forward-backward and Viterbi recurrences.
 */
#include "internal.h"

enum { CHAIN_LOG_POTENTIALS, CHAIN_LENGTHS, CHAIN_INPUT_COUNT };

void ssi_chain_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const int64_t n = dim[SS_DIM_N], t = dim[SS_DIM_T];
	*size = (ssi_chart_size){.steps = n + 1, .cells = n * t + 1,
				 .candidates = t, .width = t, .parts = 0};
}

/* The entries position i uses: row 0 at i = 0, all rows after. */
static int64_t used_entries(int64_t i, int64_t t)
{
	return i == 0 ? t : t * t;
}

static int chain_chart(const ss_element *e, ssi_chart *c)
{
	const int64_t t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length(e, CHAIN_LENGTHS);
	int64_t alpha = ssi_chart_cells(c, L * t), root;
	if (L > 0)
		ssi_chart_push_normalised(c, alpha, t, 0, 1, SSI_ABSENT,
					  SSI_ABSENT, (ssi_operand){0, 0, 1});
	for (int64_t i = 1; i < L; i++)
		ssi_chart_push_normalised(c, alpha + i * t, t, 0, t,
					  (ssi_operand){alpha + (i - 1) * t, 1, 0},
					  SSI_ABSENT, (ssi_operand){i * tt, t, 1});
	root = ssi_chart_cells(c, 1);
	ssi_chart_push(c, root, 1, 0, L > 0 ? t : 1,
		       L > 0 ? (ssi_operand){alpha + (L - 1) * t, 1, 0}
			     : SSI_ABSENT,
		       SSI_ABSENT, SSI_ABSENT);
	return 1;
}

static int chain_validate_shape(const ss_element *e, void *ws, ss_error *err)
{
	(void)ws;
	return ssi_check_length(ssi_length(e, CHAIN_LENGTHS), e->dim[SS_DIM_N],
				err) ? SS_EDATA : SS_OK;
}

/* NaN or +inf in a used entry, in the order of the positions. */
static int chain_validate_values(const ss_element *e, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length(e, CHAIN_LENGTHS);
	const int64_t shape[3] = {n, t, t};
	const double *theta = e->input[CHAIN_LOG_POTENTIALS].data;
	const float *theta_f32 = e->input[CHAIN_LOG_POTENTIALS].data;
	const int f32 = e->input[CHAIN_LOG_POTENTIALS].dtype == SS_F32;
	for (int64_t i = 0; i < L; i++) {
		int64_t k = f32 ? ssi_find_bad_f32(theta_f32 + i * tt,
						   used_entries(i, t))
				: ssi_find_bad(theta + i * tt, used_entries(i, t));
		if (k >= 0)
			return ssi_bad_value_error(err, "log_potentials",
						   f32 ? theta_f32[i * tt + k]
						       : theta[i * tt + k],
						   i * tt + k, SS_ARRAY_LEN(shape),
						   shape);
	}
	return SS_OK;
}

static int chain_validate(const ss_element *e, void *ws, ss_error *err)
{
	int rc = chain_validate_shape(e, ws, err);
	return rc ? rc : chain_validate_values(e, err);
}

int ssi_chain_to_parts(const ss_element *e, int lengths_input,
		       const double *event, double *parts, int *empty,
		       ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length(e, lengths_input);
	int64_t prev = 0, ones = 0;
	for (int64_t i = 0; i < n; i++) {
		for (int64_t k = 0; k < tt; k++) {
			double x = event[i * tt + k];
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
			if (ones++ != i || k / t != prev)
				return ss_error_set(err, SS_EDATA,
						    "event is not a tag sequence at position %lld",
						    (long long)i);
			prev = k % t;
		}
	}
	if (ones != 0 && ones != L)
		return ss_error_set(err, SS_EDATA,
				    "event is not a tag sequence at position %lld",
				    (long long)ones);
	/* The all-zero event is the empty structure. */
	*empty = ones == 0 && L > 0;
	memcpy(parts, event, (size_t)(n * tt) * sizeof *parts);
	return SS_OK;
}

void ssi_chain_decode(const ss_element *e, int lengths_input,
		      const double *event, int64_t *labels)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length(e, lengths_input);
	for (int64_t i = 0; i < n; i++) {
		labels[i] = -1;
		for (int64_t k = 0; k < tt && i < L; k++)
			if (event[i * tt + k] != 0.0)
				labels[i] = k % t;
	}
}

/* The event of a label sequence: the inverse of ssi_chain_decode. */
int ssi_chain_encode(const ss_element *e, int lengths_input,
		     const int64_t *labels, double *event, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T], tt = t * t;
	const int64_t L = ssi_length_clamped(e, lengths_input);
	int64_t unlabelled = 0;
	memset(event, 0, (size_t)(n * tt) * sizeof *event);
	for (int64_t i = 0; i < L; i++)
		unlabelled += labels[i] == -1;
	if (unlabelled == L)
		return SS_OK; /* the empty structure */
	for (int64_t i = 0; i < L; i++) {
		if (labels[i] < 0 || labels[i] >= t)
			return ss_error_set(err, SS_EDATA,
					    "labels holds %lld at [%lld], outside [0, %lld)",
					    (long long)labels[i], (long long)i,
					    (long long)t);
		event[i * tt + (i ? labels[i - 1] : 0) * t + labels[i]] = 1.0;
	}
	return SS_OK;
}

static int chain_to_parts(const ss_element *e, void *ws,
			  const double *event, double *parts, int *empty,
			  ss_error *err)
{
	(void)ws;
	return ssi_chain_to_parts(e, CHAIN_LENGTHS, event, parts, empty, err);
}

static void chain_decode(const ss_element *e, const double *event,
			 int64_t *const decodes[])
{
	ssi_chain_decode(e, CHAIN_LENGTHS, event, decodes[0]);
}

static int chain_encode(const ss_element *e, const int64_t *decode,
			double *event, ss_error *err)
{
	return ssi_chain_encode(e, CHAIN_LENGTHS, decode, event, err);
}

void ssi_chain_element(const ss_element *like, const double *theta,
		       const int64_t *lengths, ss_element *out)
{
	memset(out, 0, sizeof *out);
	memcpy(out->dim, like->dim, sizeof out->dim);
	out->index = like->index;
	out->input[CHAIN_LOG_POTENTIALS].data = theta;
	out->input[CHAIN_LENGTHS].data = lengths;
}

static const ss_input_spec chain_inputs[CHAIN_INPUT_COUNT] = {
	[CHAIN_LOG_POTENTIALS] = {"log_potentials", SS_REAL, SS_REQUIRED, 3,
				  {SS_DIM_N, SS_DIM_T, SS_DIM_T}, 1},
	[CHAIN_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

const ss_structure ssi_linear_chain = {
	.name = "linear-chain",
	.summary = "linear-chain CRF over tag sequences",
	.inputs = chain_inputs,
	.n_inputs = CHAIN_INPUT_COUNT,
	.lengths_inputs = {CHAIN_LENGTHS},
	.n_lengths = 1,
	.event = {"event", SS_REAL, 3, {SS_DIM_N, SS_DIM_T, SS_DIM_T}},
	.decodes = {{"labels", SS_INT, 1, {SS_DIM_N}}},
	.n_decodes = 1,
	.validate = chain_validate,
	.validate_shape = chain_validate_shape,
	.validate_values = chain_validate_values,
	.chart_size = ssi_chain_chart_size,
	.chart = chain_chart,
	.to_parts = chain_to_parts,
	.decode = chain_decode,
	.encode = chain_encode,
};
