/*
 * struct_ctc.c - Connectionist Temporal Classification alignments.
 *
 * Inputs: per-frame logits x [n, V] (log_potentials), labels l [L] (ids in
 * [0, V), none the blank), input_lengths T <= n and label_lengths L' <= L
 * (absent: n and L); option blank_id (default 0). Each frame's logits are
 * log-softmax normalised over V first, logp[t][v] = x[t][v] - log Σ_v'
 * exp x[t][v'] (a row entirely -inf stays -inf), so that log Z is
 * log p(l | x), and -log Z the CTC loss.
 *
 * The extended sequence l' = (blank, l_1, blank, l_2, ..., blank) has
 * S' = 2L' + 1 rows. A structure is an alignment: a row s_t for every
 * frame t < T with s_0 ∈ {0, 1}, s_{T-1} ∈ {S'-1, S'-2} and moves
 * s_t - s_{t-1} ∈ {0, 1, 2}, the move 2 only into a label row whose label
 * differs from the label two rows before. Its score is Σ_t logp[t][l'_{s_t}]
 * (padding frames add nothing). T = 0: the empty alignment (score 0) where
 * L' = 0, none otherwise. The event is the indicator of the visited cells,
 * [2L+1, n] (row by frame), and the parts are its entries, with the
 * potentials θ[s, t] = logp[t][l'_s] that lower writes (s < S', t < T;
 * the others are never read and hold -inf).
 *
 * The chart program (lib/chart.c):
 *   M[j][s]  = 0 where move j into row s is allowed, else -inf (one step
 *              per run of equal cells: all-absent candidate, or none)
 *   G[0..1]  = -inf                       (guards before α_0)
 *   α_0[s]   = θ[s, 0]                    (s < 2; -inf for s >= 2)
 *   α_t[s]   = ⊕_{j<3} α_{t-1}[s - j] ⊗ M[j][s] ⊗ θ[s, t]    (0 < t < T)
 *   root     = α_{T-1}[S'-1] ⊕ α_{T-1}[S'-2]
 * where α_{t-1}[s - j] for s < j reads the guards or the previous row's
 * last cells, which M forbids. Every alignment uses exactly one cell of
 * each frame, so the frame steps are normalised: α stays of the order of
 * the scores' spread whatever the logits' magnitude.
 *
 * Decodes: path [n], the vocabulary id l'_{s_t} of every frame, and
 * tokens [n], the collapsed sequence (repeats merged, blanks dropped: the
 * labels), -1 after. encode reads path back: s_t is determined by the
 * ids (stay on the same id; a blank after a label and a label after a
 * blank advance one row; a new label after another label skips the blank).
 *
 * Gradients (lower_grad): θ[s, t] = logp[t][l'_s] - the frame's
 * log-softmax of x[t] picked at l'_s - so, with df/dθ read only where θ
 * is finite (a -inf part has no derivative),
 *   dlogp[t][v] = Σ_{s < S', l'_s = v} dθ[s, t]     (every blank row, and
 *                                                    each repeat of a label)
 *   dx[t][v]    = dlogp[t][v] - softmax(x[t])[v] Σ_v' dlogp[t][v']
 * for t < T, softmax 0 at a -inf logit. A dead frame (entirely -inf) and
 * the frames past T get 0. Time O(T (S' + V)).
 *
 * Time O(T L' + T V) per element, memory O(n L). Graves, Fernández, Gomez
 * and Schmidhuber (2006).
 */
#include "internal.h"

enum {
	CTC_LOG_POTENTIALS, CTC_LABELS, CTC_INPUT_LENGTHS, CTC_LABEL_LENGTHS,
	CTC_INPUT_COUNT
};
enum { OPT_BLANK_ID, OPT_COUNT };

/* The moves into a row: stay, advance one, skip the blank. */
#define MOVES 3

static const ss_input_spec ctc_inputs[CTC_INPUT_COUNT] = {
	[CTC_LOG_POTENTIALS] = {"log_potentials", SS_REAL, SS_REQUIRED, 2,
				{SS_DIM_N, SS_DIM_V}},
	[CTC_LABELS] = {"labels", SS_INT, SS_REQUIRED, 1, {SS_DIM_L}},
	[CTC_INPUT_LENGTHS] = {"input_lengths", SS_INT, SS_OPTIONAL, 0,
			       {SS_DIM_N}},
	[CTC_LABEL_LENGTHS] = {"label_lengths", SS_INT, SS_OPTIONAL, 0,
			       {SS_DIM_L}},
};

/* The frames T of e (unchecked). */
static int64_t input_length(const ss_element *e)
{
	return ssi_length(e, CTC_INPUT_LENGTHS);
}

/* The label length L' of e (unchecked). */
static int64_t label_length(const ss_element *e)
{
	const int64_t *len = e->input[CTC_LABEL_LENGTHS].data;
	return len ? *len : e->dim[SS_DIM_L];
}

/* The same clamped to [0, L], for code that may run before validation. */
static int64_t label_length_clamped(const ss_element *e)
{
	const int64_t len = label_length(e), L = e->dim[SS_DIM_L];
	return len < 0 ? 0 : len > L ? L : len;
}

/* l'_s: the blank in even rows, label (s - 1) / 2 in odd ones. */
static int64_t row_id(const ss_element *e, int64_t s)
{
	const int64_t *labels = e->input[CTC_LABELS].data;
	return s % 2 == 0 ? e->option[OPT_BLANK_ID] : labels[(s - 1) / 2];
}

/* Whether move j (0, 1, 2) into row s is allowed. */
static int move_allowed(const ss_element *e, int64_t j, int64_t s)
{
	if (j == 0)
		return 1;
	if (j == 1)
		return s >= 1;
	return s >= 2 && s % 2 == 1 && row_id(e, s) != row_id(e, s - 2);
}

/* ---- checks ------------------------------------------------------------------ */

static int ctc_validate(const ss_element *e, void *ws, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], V = e->dim[SS_DIM_V];
	const int64_t L = e->dim[SS_DIM_L], blank = e->option[OPT_BLANK_ID];
	const int64_t T = input_length(e), Lp = label_length(e);
	const int64_t shape[2] = {n, V};
	const int64_t *labels = e->input[CTC_LABELS].data;
	const double *x = e->input[CTC_LOG_POTENTIALS].data;
	int64_t k;
	(void)ws;
	if (T < 0 || T > n)
		return ss_error_set(err, SS_EDATA,
				    "dataset 'input_lengths' holds %lld, outside [0, %lld]",
				    (long long)T, (long long)n);
	if (Lp < 0 || Lp > L)
		return ss_error_set(err, SS_EDATA,
				    "dataset 'label_lengths' holds %lld, outside [0, %lld]",
				    (long long)Lp, (long long)L);
	if (blank < 0 || blank >= V)
		return ss_error_set(err, SS_EDATA,
				    "option 'blank_id' is %lld, not below the vocabulary size V = %lld",
				    (long long)blank, (long long)V);
	for (int64_t i = 0; i < Lp; i++) {
		if (labels[i] < 0 || labels[i] >= V)
			return ss_error_set(err, SS_EDATA,
					    "dataset 'labels' holds %lld at [%lld], outside [0, %lld)",
					    (long long)labels[i], (long long)i,
					    (long long)V);
		if (labels[i] == blank)
			return ss_error_set(err, SS_EDATA,
					    "dataset 'labels' holds %lld at [%lld], the blank id",
					    (long long)labels[i], (long long)i);
	}
	if ((k = ssi_find_bad(x, T * V)) >= 0)
		return ssi_bad_value_error(err, "log_potentials", x[k], k,
					   SS_ARRAY_LEN(shape), shape);
	return SS_OK;
}

/* Q scores the same label sequence as P: the same labels and blank. */
static int ctc_check_pair(const ss_element *p, const ss_element *q,
			  ss_error *err)
{
	const int64_t *lp = p->input[CTC_LABELS].data, *lq = q->input[CTC_LABELS].data;
	if (p->option[OPT_BLANK_ID] != q->option[OPT_BLANK_ID])
		return ss_error_set(err, SS_EDATA,
				    "'blank_id' differs between P and Q (%lld and %lld)",
				    (long long)p->option[OPT_BLANK_ID],
				    (long long)q->option[OPT_BLANK_ID]);
	for (int64_t i = 0; i < label_length(p); i++)
		if (lp[i] != lq[i])
			return ss_error_set(err, SS_EDATA,
					    "'labels' differ between P and Q at [%lld]",
					    (long long)i);
	return SS_OK;
}

/* ---- the canonical problem and its program ------------------------------------ */

/* θ [2L+1, n]: θ[s, t] = logp[t][l'_s] for s < S', t < T, else -inf. */
static void ctc_lower(const ss_element *e, void *ws, double *theta,
		      ss_element *out)
{
	const int64_t n = e->dim[SS_DIM_N], V = e->dim[SS_DIM_V];
	const int64_t S = e->dim[SS_DIM_S], T = input_length(e);
	const int64_t Sp = 2 * label_length(e) + 1;
	const double *x = e->input[CTC_LOG_POTENTIALS].data;
	(void)ws;
	for (int64_t k = 0; k < S * n; k++)
		theta[k] = -INFINITY;
	for (int64_t t = 0; t < T; t++) {
		const double *row = x + t * V;
		const double norm = ssi_logsumexp(row, V);
		if (norm == -INFINITY)
			continue; /* a dead frame stays -inf */
		for (int64_t s = 0; s < Sp; s++)
			theta[s * n + t] = row[row_id(e, s)] - norm;
	}
	out->input[CTC_LOG_POTENTIALS].data = theta;
	out->input[CTC_LOG_POTENTIALS].dtype = SS_F64;
}

/* df/dx [n, V] from df/dθ (see the banner): each frame's picks summed
 * per id into grad, then back through the frame's log-softmax there. */
static void ctc_lower_grad(const ss_element *e, void *ws, const double *dtheta,
			   double *const grad[])
{
	const int64_t n = e->dim[SS_DIM_N], V = e->dim[SS_DIM_V];
	const int64_t T = input_length(e), Sp = 2 * label_length(e) + 1;
	const double *x = e->input[CTC_LOG_POTENTIALS].data;
	double *g = grad[CTC_LOG_POTENTIALS];
	(void)ws;
	for (int64_t t = 0; g && t < T; t++) {
		const double *row = x + t * V;
		double *gr = g + t * V, sum = 0.0, norm;
		for (int64_t s = 0; s < Sp; s++) {
			const int64_t id = row_id(e, s);
			if (row[id] > -INFINITY) {
				gr[id] += dtheta[s * n + t];
				sum += dtheta[s * n + t];
			}
		}
		if (sum == 0.0)
			continue; /* dx = dlogp, a dead frame among them */
		norm = ssi_logsumexp(row, V);
		for (int64_t v = 0; v < V; v++)
			gr[v] -= exp(row[v] - norm) * sum;
	}
}

/* Steps: the mask (1 + 2 + at most S'), a guard, frame 0 (2), frames
 * 1 .. T-1, the root. Cells: the mask, the guards, α, the root. */
static void ctc_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const int64_t n = dim[SS_DIM_N], S = dim[SS_DIM_S];
	*size = (ssi_chart_size){.steps = S + n + 6,
				 .cells = MOVES * S + 2 + n * S + 1,
				 .candidates = MOVES,
				 .width = S > 2 ? S : 2, .parts = 0};
}

/* Cells out .. out + count - 1 hold 0 (allowed) or -inf. */
static void push_mask_run(ssi_chart *c, int64_t out, int64_t count,
			  int allowed)
{
	ssi_chart_push(c, out, count, 0, allowed ? 1 : 0, SSI_ABSENT,
		       SSI_ABSENT, SSI_ABSENT);
}

/* The mask M [MOVES][S'], in runs of equal cells; returns its first. */
static int64_t push_mask(const ss_element *e, ssi_chart *c, int64_t Sp)
{
	const int64_t mask = ssi_chart_cells(c, MOVES * Sp);
	for (int64_t j = 0; j < MOVES; j++) {
		int64_t start = 0;
		for (int64_t s = 1; s <= Sp; s++) {
			int allowed = move_allowed(e, j, start);
			if (s < Sp && move_allowed(e, j, s) == allowed)
				continue;
			push_mask_run(c, mask + j * Sp + start, s - start,
				      allowed);
			start = s;
		}
	}
	return mask;
}

static int ctc_chart(const ss_element *e, ssi_chart *c)
{
	const int64_t n = e->dim[SS_DIM_N], T = input_length(e);
	const int64_t Lp = label_length(e), Sp = 2 * Lp + 1;
	const int64_t first = Sp < 2 ? Sp : 2;
	int64_t mask = 0, alpha, root;
	if (T == 0) {
		root = ssi_chart_cells(c, 1);
		ssi_chart_push(c, root, 1, 0, Lp == 0 ? 1 : 0, SSI_ABSENT,
			       SSI_ABSENT, SSI_ABSENT);
		return 1;
	}
	if (T > 1)
		mask = push_mask(e, c, Sp);
	/* The guards, then α_0 .. α_{T-1}, one row of S' cells each. */
	alpha = ssi_chart_cells(c, 2 + T * Sp) + 2;
	ssi_chart_push(c, alpha - 2, 2, 0, 0, SSI_ABSENT, SSI_ABSENT,
		       SSI_ABSENT);
	ssi_chart_push_normalised(c, alpha, first, 0, 1, SSI_ABSENT,
				  SSI_ABSENT, (ssi_operand){0, 0, n});
	if (Sp > first)
		ssi_chart_push(c, alpha + first, Sp - first, 0, 0, SSI_ABSENT,
			       SSI_ABSENT, SSI_ABSENT);
	for (int64_t t = 1; t < T; t++)
		ssi_chart_push_normalised(c, alpha + t * Sp, Sp, 0, MOVES,
					  (ssi_operand){alpha + (t - 1) * Sp, -1, 1},
					  (ssi_operand){mask, Sp, 1},
					  (ssi_operand){t, 0, n});
	root = ssi_chart_cells(c, 1);
	ssi_chart_push(c, root, 1, 0, Sp > 1 ? 2 : 1,
		       (ssi_operand){alpha + (T - 1) * Sp + Sp - 1, -1, 0},
		       SSI_ABSENT, SSI_ABSENT);
	return 1;
}

/* ---- events and decodes ----------------------------------------------------------- */

/* The row of frame t in event (the first marked; -1 if none). */
static int64_t row_at(const ss_element *e, const double *event, int64_t t)
{
	const int64_t n = e->dim[SS_DIM_N], S = e->dim[SS_DIM_S];
	for (int64_t s = 0; s < S; s++)
		if (event[s * n + t] != 0.0)
			return s;
	return -1;
}

static int ctc_to_parts(const ss_element *e, void *ws, const double *event,
			double *parts, int *empty, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], S = e->dim[SS_DIM_S];
	const int64_t T = input_length(e), Sp = 2 * label_length(e) + 1;
	int64_t ones = 0, prev = -1;
	(void)ws;
	for (int64_t s = 0; s < S; s++)
		for (int64_t t = 0; t < n; t++) {
			const double x = event[s * n + t];
			if (x == 0.0)
				continue;
			if (x != 1.0)
				return ss_error_set(err, SS_EDATA,
						    "event holds %g at [%lld, %lld], not 0 or 1",
						    x, (long long)s, (long long)t);
			if (t >= T || s >= Sp)
				return ss_error_set(err, SS_EDATA,
						    "event marks [%lld, %lld], outside the %lld rows and %lld frames of the element",
						    (long long)s, (long long)t,
						    (long long)Sp, (long long)T);
			ones++;
		}
	*empty = ones == 0 && (T > 0 || Sp > 1);
	memcpy(parts, event, (size_t)(S * n) * sizeof *parts);
	if (ones == 0)
		return SS_OK;
	for (int64_t t = 0; t < T; t++) {
		const int64_t s = row_at(e, event, t), move = s - prev;
		int ok = s >= 0 && move >= 0 && move <= 2 &&
			 (t > 0 || s <= 1) && (t < T - 1 || s >= Sp - 2) &&
			 (t == 0 || move_allowed(e, move, s));
		for (int64_t r = s + 1; ok && r < Sp; r++)
			ok = event[r * n + t] == 0.0;
		if (!ok)
			return ss_error_set(err, SS_EDATA,
					    "event is not an alignment of the labels at frame %lld",
					    (long long)t);
		prev = s;
	}
	return SS_OK;
}

static void ctc_decode(const ss_element *e, const double *event,
		       int64_t *const decodes[])
{
	const int64_t n = e->dim[SS_DIM_N], T = input_length(e);
	int64_t *path = decodes[0], *tokens = decodes[1], k = 0, prev = -1;
	for (int64_t t = 0; t < n; t++)
		path[t] = tokens[t] = -1;
	for (int64_t t = 0; t < T; t++) {
		const int64_t s = row_at(e, event, t);
		if (s < 0)
			return; /* the empty structure */
		path[t] = row_id(e, s);
		if (s % 2 == 1 && s != prev)
			tokens[k++] = path[t];
		prev = s;
	}
}

/* The event of a path: the rows it visits, found from the ids. */
static int ctc_encode(const ss_element *e, const int64_t *path, double *event,
		      ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], S = e->dim[SS_DIM_S];
	const int64_t V = e->dim[SS_DIM_V], blank = e->option[OPT_BLANK_ID];
	const int64_t T = ssi_length_clamped(e, CTC_INPUT_LENGTHS);
	const int64_t Sp = 2 * label_length_clamped(e) + 1;
	int64_t unset = 0, s = -1;
	memset(event, 0, (size_t)(S * n) * sizeof *event);
	for (int64_t t = 0; t < T; t++)
		unset += path[t] == -1;
	if (unset == T)
		return SS_OK; /* the empty structure */
	for (int64_t t = 0; t < T; t++) {
		const int64_t id = path[t];
		if (id < 0 || id >= V)
			return ss_error_set(err, SS_EDATA,
					    "path holds %lld at [%lld], outside [0, %lld)",
					    (long long)id, (long long)t,
					    (long long)V);
		if (t == 0)
			s = id == blank ? 0 : 1;
		else if (id != path[t - 1])
			s += id != blank && path[t - 1] != blank ? 2 : 1;
		if (s >= Sp || row_id(e, s) != id ||
		    (t == T - 1 && s < Sp - 2))
			return ss_error_set(err, SS_EDATA,
					    "path is not an alignment of the labels at frame %lld",
					    (long long)t);
		event[s * n + t] = 1.0;
	}
	return SS_OK;
}

const ss_structure ssi_ctc = {
	.name = "ctc",
	.summary = "CTC alignments of a label sequence to frames",
	.inputs = ctc_inputs,
	.n_inputs = CTC_INPUT_COUNT,
	.lengths_inputs = {CTC_INPUT_LENGTHS, CTC_LABEL_LENGTHS},
	.n_lengths = 2,
	.options = {
		[OPT_BLANK_ID] = {.name = "blank_id", .flag = "blank-id",
				  .kind = SS_OPTION_INT, .default_value = 0,
				  .min = 0, .max = INT32_MAX,
				  .help = "the blank's vocabulary id (ctc: blank_id, default 0)"},
	},
	.n_options = OPT_COUNT,
	.event = {"event", SS_REAL, 2, {SS_DIM_S, SS_DIM_N}},
	.decodes = {{"path", SS_INT, 1, {SS_DIM_N}},
		    {"tokens", SS_INT, 1, {SS_DIM_N}}},
	.n_decodes = 2,
	.validate = ctc_validate,
	.lower = ctc_lower,
	.lower_grad = ctc_lower_grad,
	.chart_size = ctc_chart_size,
	.chart = ctc_chart,
	.to_parts = ctc_to_parts,
	.decode = ctc_decode,
	.encode = ctc_encode,
	.check_pair = ctc_check_pair,
};
