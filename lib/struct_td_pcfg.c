/*
 * struct_td_pcfg.c - tensor-decomposition pcfg (Yang, Zhao and Tu 2021;
 * SynJax's TensorDecompositionPCFG), as a chart over its parts.
 *
 * Parameters: root [nt]; nt_to_rank U [nt, r]; rank_to_left_nt Left
 * [r, nt+pt]; rank_to_right_nt Right [r, nt+pt]; either emission [pt, V]
 * with word_ids w [n], or preterminal_scores [n, pt] used as given (as for
 * pcfg: symbols [0, nt) are nonterminals, nt + P preterminal P). root, each
 * row of U, Left, Right and emission are log-softmax normalised over their
 * last axis (a row entirely -inf stays -inf). The binary rules are
 *   p(X -> Y Z) = Σ_r U[X, r] Left[r, Y] Right[r, Z],
 * so that log Z = log p(w_0 .. w_{L-1}) under that pcfg (L >= 2).
 *
 * What the distribution is over: derivations, each a binary tree over the
 * words 0 .. L-1 whose spans of width >= 2 carry a nonterminal X and a
 * rank r, and whose words carry a preterminal; its score is
 *   log root[top] + Σ_{internal spans} (log U[X, r] + log Left[r, Y]
 *   + log Right[r, Z]) + Σ_i tag score,
 * Y and Z the symbols of the span's children, the tag score log
 * emission[P_i, w_i] or preterminal_scores[i, P_i].
 *
 * Event (two parts, as SynJax): the span-rank chart [n, n, r], 1 at
 * [i, j, r] for the span i..j (inclusive, j > i) of rank r; and the tags
 * [n, pt], 1 at [i, P]. An event leaves the nonterminals out, so it is not
 * one derivation but the set of derivations that differ in them: only
 * partition, marginals (of the event's entries) and count (of derivations)
 * are defined (see unsupported[] for the others). Compact decode (for
 * log-prob's future and the tests): spans [2n-1, 3] as pcfg's, a span of
 * width >= 2 labelled with its rank.
 *
 * The canonical problem (lower) has the parts θ of two blocks:
 *   spans [n, n, r]       [i, j, r] (j > i): 0, the span-rank parts, whose
 *                         marginals are the event's chart
 *   params [n+3r, nt+pt]  row i < n: [i, nt + P] the tag score of word i,
 *                         [0, X] log root[X]; row n + r: [X] log U[X, r]
 *                         (U transposed); row n + r + rank: [S]
 *                         log Left[r, S]; row n + 2r + rank: [S]
 *                         log Right[r, S]
 * so that score = Σ parts · θ, the parameter parts counting each use.
 *
 * The chart program (lib/chart.c), O(L³ r + L² r (nt+pt)):
 *   β(i, i)[P]  = θ_tag[i, P]
 *   Lv(i, k)[r] = ⊕_Y Left[r, Y] ⊗ β(i, k)[Y]       (k < L-1)
 *   Rv(m, j)[r] = ⊕_Z Right[r, Z] ⊗ β(m, j)[Z]      (m >= 1)
 *   S(i, j)[r]  = ⊕_{i <= k < j} Lv(i, k)[r] ⊗ Rv(k+1, j)[r] ⊗ θ_span[i, j, r]
 *   β(i, j)[X]  = ⊕_r U[X, r] ⊗ S(i, j)[r]          (j > i)
 *   root        = ⊕_X root[X] ⊗ β(0, L-1)[X]
 * with Y, Z over the preterminals for a word, over the nonterminals for a
 * wider span. The Lv of the spans starting at i lie in one row, in order
 * of their end, and the Rv of the spans ending at j in one column, in
 * order of their start, so that S(i, j)'s candidates k are affine in both.
 * The adjoints of the span-rank parts are the chart's marginals; the
 * derivations of the program are those above, so that count counts them.
 *
 * Gradients (lower_grad): the rank-space rules are not formed, so every
 * θ parameter entry is one input entry less its row's normaliser, and
 * the chain rule is that of y = x - log Σ exp(x) per row,
 * dx = dy - softmax(x) Σ dy: root's row from θ[0, 0 .. nt), U[X]'s from
 * column X of the rows n .. n+r-1, Left[r]'s and Right[r]'s from their
 * rows; the terminals as pcfg's (emission rows through the words that use
 * them, preterminal_scores as given). Entries that are -inf (and rows
 * entirely -inf) get 0; preterminal_scores past the length get 0.
 *
 * Scale, as pcfg: the program runs on potentials whose best tag of each
 * word and best root score 0, and log Z adds the shifts back.
 *
 * Memory O(L² (nt + r)) per element, plus O(pt V) per distinct emission
 * table (prepared once per chunk). Yang, Zhao and Tu, "PCFGs can do
 * better: inducing probabilistic context-free grammars with many symbols"
 * (NAACL 2021); Cohen, Satta and Collins (2013) for the decomposition.
 */
#include "internal.h"

enum {
	TD_ROOT, TD_NT_TO_RANK, TD_LEFT, TD_RIGHT, TD_EMISSION, TD_WORD_IDS,
	TD_PRETERMINAL_SCORES, TD_LENGTHS, TD_INPUT_COUNT
};

static const ss_input_spec td_inputs[TD_INPUT_COUNT] = {
	[TD_ROOT] = {"root", SS_REAL, SS_REQUIRED, 1, {SS_DIM_NT}},
	[TD_NT_TO_RANK] = {"nt_to_rank", SS_REAL, SS_REQUIRED, 2,
			   {SS_DIM_NT, SS_DIM_RANK}},
	[TD_LEFT] = {"rank_to_left_nt", SS_REAL, SS_REQUIRED, 2,
		     {SS_DIM_RANK, SS_DIM_NTPT}},
	[TD_RIGHT] = {"rank_to_right_nt", SS_REAL, SS_REQUIRED, 2,
		      {SS_DIM_RANK, SS_DIM_NTPT}},
	[TD_EMISSION] = {"emission", SS_REAL, SS_ALTERNATIVE, 2,
			 {SS_DIM_PT, SS_DIM_V}},
	[TD_WORD_IDS] = {"word_ids", SS_INT, SS_ALTERNATIVE, 1, {SS_DIM_N}},
	[TD_PRETERMINAL_SCORES] = {"preterminal_scores", SS_REAL,
				   SS_ALTERNATIVE, 2, {SS_DIM_N, SS_DIM_PT}},
	[TD_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

static int td_check_presence(const int present[], ss_error *err)
{
	return ssi_pcfg_check_terminals("td-pcfg", present[TD_EMISSION],
					present[TD_WORD_IDS],
					present[TD_PRETERMINAL_SCORES], err);
}

/* ---- the parts and the chart program ----------------------------------- */

/* The sizes of an element: n, nt, pt, nt + pt and r. */
typedef struct sizes {
	int64_t n, nt, pt, ns, r;
} sizes;

static sizes sizes_of(const int64_t dim[])
{
	return (sizes){dim[SS_DIM_N], dim[SS_DIM_NT], dim[SS_DIM_PT],
		       dim[SS_DIM_NT] + dim[SS_DIM_PT], dim[SS_DIM_RANK]};
}

/* Where parts lie in θ (lower's banner). */
static int64_t span_part(sizes z, int64_t i, int64_t j, int64_t r)
{
	return (i * z.n + j) * z.r + r;
}

static int64_t param_row(sizes z, int64_t row)
{
	return z.n * z.n * z.r + row * z.ns;
}

static int64_t tag_part(sizes z, int64_t i, int64_t P)
{
	return param_row(z, i) + z.nt + P;
}

static int64_t root_part(sizes z, int64_t X)
{
	return param_row(z, 0) + X;
}

static int64_t u_part(sizes z, int64_t X, int64_t r)
{
	return param_row(z, z.n + r) + X;
}

static int64_t left_part(sizes z, int64_t r, int64_t S)
{
	return param_row(z, z.n + z.r + r) + S;
}

static int64_t right_part(sizes z, int64_t r, int64_t S)
{
	return param_row(z, z.n + 2 * z.r + r) + S;
}

static int64_t max4(int64_t a, int64_t b, int64_t c, int64_t d)
{
	int64_t m = a > b ? a : b;
	m = m > c ? m : c;
	return m > d ? m : d;
}

static void td_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const sizes z = sizes_of(dim);
	const int64_t spans = z.n * (z.n + 1) / 2;
	*size = (ssi_chart_size){
		.steps = 2 * z.n * z.n + z.n + 2,
		.cells = z.n * z.pt + spans * (z.nt + 3 * z.r) + 1,
		.candidates = max4(z.n - 1, z.r, z.nt, z.pt) > 1
				      ? max4(z.n - 1, z.r, z.nt, z.pt) : 1,
		.width = max4(z.r, z.nt, z.pt, 1),
		.parts = z.n * z.n * z.r + (z.n + 3 * z.r) * z.ns};
}

/* The potentials shifted so that the best tag of each word and the best
 * root symbol score 0: every derivation takes one of each, so log Z adds
 * the shifts back (chart.offset) and nothing else changes. */
static void shift_parts(sizes z, int64_t L, ssi_chart *c)
{
	const int64_t parts = z.n * z.n * z.r + (z.n + 3 * z.r) * z.ns;
	double *sh = c->shifted;
	memcpy(sh, c->theta, (size_t)parts * sizeof *sh);
	for (int64_t i = 0; i <= L; i++) {
		/* the words' tags, then the root scores */
		const int64_t first = i < L ? tag_part(z, i, 0) : root_part(z, 0);
		const int64_t count = i < L ? z.pt : z.nt;
		double q = -INFINITY;
		for (int64_t k = 0; k < count; k++)
			q = sh[first + k] > q ? sh[first + k] : q;
		if (q == -INFINITY)
			continue;
		for (int64_t k = 0; k < count; k++)
			sh[first + k] -= q;
		c->offset += q;
	}
	c->theta = sh;
	c->factors = 3; /* x, y and a part */
}

/* The index of span (i, j), j >= i, among the spans of L words by start,
 * then end: the spans starting at i are consecutive. */
static int64_t tri(int64_t L, int64_t i, int64_t j)
{
	return i * L - i * (i - 1) / 2 + (j - i);
}

/* The index of span (m, j), 1 <= m <= j, among the spans of start >= 1 by
 * end, then start: the spans ending at j are consecutive. */
static int64_t column(int64_t m, int64_t j)
{
	return j * (j - 1) / 2 + (m - 1);
}

static int td_chart(const ss_element *e, ssi_chart *c)
{
	const sizes z = sizes_of(e->dim);
	const int64_t L = ssi_length(e, TD_LENGTHS), nt = z.nt, R = z.r;
	const int64_t spans = L * (L + 1) / 2;
	int64_t tags, beta, sc, lv, rv, root;

	if (nt == 0 || z.pt == 0 || R == 0 || L < 2) { /* no derivation */
		root = ssi_chart_cells(c, 1);
		ssi_chart_push(c, root, 1, 0, 0, SSI_ABSENT, SSI_ABSENT,
			       SSI_ABSENT);
		return 1;
	}
	shift_parts(z, L, c);
	tags = ssi_chart_cells(c, L * z.pt);
	beta = ssi_chart_cells(c, spans * nt);  /* β(i, j) at tri(i, j) */
	sc = ssi_chart_cells(c, spans * R);     /* S(i, j) at tri(i, j) */
	lv = ssi_chart_cells(c, spans * R);     /* Lv(i, k) at tri(i, k) */
	rv = ssi_chart_cells(c, L * (L - 1) / 2 * R); /* Rv at column(m, j) */
	for (int64_t w = 1; w <= L; w++)
		for (int64_t i = 0; i + w <= L; i++) {
			const int64_t j = i + w - 1;
			/* the symbols of span (i, j) and how many */
			int64_t sym = beta + tri(L, i, j) * nt, first = 0;
			int64_t count = nt;
			if (w == 1) {
				sym = tags + i * z.pt;
				first = nt;
				count = z.pt;
				ssi_chart_push(c, sym, z.pt, 0, 1, SSI_ABSENT,
					       SSI_ABSENT,
					       (ssi_operand){tag_part(z, i, 0), 0, 1});
			} else {
				const int64_t s = sc + tri(L, i, j) * R;
				ssi_chart_push(c, s, R, 0, j - i,
					       (ssi_operand){lv + tri(L, i, i) * R, R, 1},
					       (ssi_operand){rv + column(i + 1, j) * R, R, 1},
					       (ssi_operand){span_part(z, i, j, 0), 0, 1});
				ssi_chart_push(c, sym, nt, 0, R,
					       (ssi_operand){s, 1, 0}, SSI_ABSENT,
					       (ssi_operand){u_part(z, 0, 0), z.ns, 1});
			}
			if (j < L - 1) /* Lv(i, j) */
				ssi_chart_push(c, lv + tri(L, i, j) * R, R, 0, count,
					       (ssi_operand){sym, 1, 0}, SSI_ABSENT,
					       (ssi_operand){left_part(z, 0, first), 1, z.ns});
			if (i >= 1) /* Rv(i, j) */
				ssi_chart_push(c, rv + column(i, j) * R, R, 0, count,
					       (ssi_operand){sym, 1, 0}, SSI_ABSENT,
					       (ssi_operand){right_part(z, 0, first), 1, z.ns});
		}
	root = ssi_chart_cells(c, 1);
	ssi_chart_push(c, root, 1, 0, nt,
		       (ssi_operand){beta + tri(L, 0, L - 1) * nt, 1, 0},
		       SSI_ABSENT, (ssi_operand){root_part(z, 0), 1, 0});
	return 1;
}

/* The canonical structure: its event is the parts, spans then parameters
 * (it is never read or written by the command line). */
static const ss_structure td_parts = {
	.name = "td-pcfg",
	.summary = "the parts of a td-pcfg",
	.event = {"spans", SS_REAL, 3, {SS_DIM_N, SS_DIM_N, SS_DIM_RANK}},
	.event_tags = {"params", SS_REAL, 2, {SS_DIM_N3R, SS_DIM_NTPT}},
	.chart_size = td_chart_size,
	.chart = td_chart,
};

/* ---- normalising the parameters ------------------------------------------ */

/* Scratch of lower: the emission's normalisers [pt]. */
static size_t td_workspace_bytes(const int64_t dim[])
{
	return (size_t)(dim[SS_DIM_PT] + 1) * sizeof(double);
}

/* θ[part(k) + step * m] = log-softmax of x [m], for a row of a parameter. */
static void put_row(double *theta, int64_t part, int64_t step,
		    const double *x, int64_t m)
{
	const double norm = ssi_logsumexp(x, m);
	for (int64_t k = 0; k < m; k++)
		theta[part + k * step] = ssi_log_softmax(x[k], norm);
}

static void td_lower(const ss_element *e, void *ws, double *theta,
		     ss_element *out)
{
	const sizes z = sizes_of(e->dim);
	const int64_t V = e->dim[SS_DIM_V], L = ssi_length(e, TD_LENGTHS);
	const double *U = e->input[TD_NT_TO_RANK].data;
	const double *left = e->input[TD_LEFT].data, *right = e->input[TD_RIGHT].data;
	const double *emis = e->input[TD_EMISSION].data;
	const double *emis_norm = e->prepared[TD_EMISSION];

	*out = *e;
	memset(out->prepared, 0, sizeof out->prepared);
	out->input[0].data = theta;
	out->input[0].dtype = SS_F64;
	memset(theta, 0, (size_t)ss_event_size(&td_parts, e->dim) *
			 sizeof *theta);
	if (L < 2 || L > z.n)
		return;
	if (emis && !emis_norm) {
		ssi_pcfg_emission_normalisers(emis, z.pt, V, ws);
		emis_norm = ws;
	}
	put_row(theta, root_part(z, 0), 1, e->input[TD_ROOT].data, z.nt);
	for (int64_t X = 0; X < z.nt; X++) /* U transposed */
		put_row(theta, u_part(z, X, 0), z.ns, U + X * z.r, z.r);
	for (int64_t r = 0; r < z.r; r++) {
		put_row(theta, left_part(z, r, 0), 1, left + r * z.ns, z.ns);
		put_row(theta, right_part(z, r, 0), 1, right + r * z.ns, z.ns);
	}
	for (int64_t i = 0; i < L; i++)
		for (int64_t p = 0; p < z.pt; p++)
			theta[tag_part(z, i, p)] =
				ssi_pcfg_tag_score(e, TD_EMISSION, TD_WORD_IDS,
						   TD_PRETERMINAL_SCORES,
						   emis_norm, i, p);
}

/* ---- gradients ------------------------------------------------------------- */

/* The chain rule through td_lower (the banner's Gradients). */
static void td_lower_grad(const ss_element *e, void *ws, const double *dtheta,
			  double *const grad[])
{
	const sizes z = sizes_of(e->dim);
	const int64_t L = ssi_length(e, TD_LENGTHS);
	const double *U = e->input[TD_NT_TO_RANK].data;
	const double *left = e->input[TD_LEFT].data, *right = e->input[TD_RIGHT].data;
	(void)ws;

	if (L < 2 || L > z.n)
		return;
	if (grad[TD_ROOT])
		ssi_pcfg_log_softmax_grad(e->input[TD_ROOT].data, z.nt,
					  dtheta + root_part(z, 0), 1,
					  grad[TD_ROOT]);
	for (int64_t X = 0; grad[TD_NT_TO_RANK] && X < z.nt; X++)
		ssi_pcfg_log_softmax_grad(U + X * z.r, z.r,
					  dtheta + u_part(z, X, 0), z.ns,
					  grad[TD_NT_TO_RANK] + X * z.r);
	for (int64_t r = 0; r < z.r; r++) {
		if (grad[TD_LEFT])
			ssi_pcfg_log_softmax_grad(left + r * z.ns, z.ns,
						  dtheta + left_part(z, r, 0), 1,
						  grad[TD_LEFT] + r * z.ns);
		if (grad[TD_RIGHT])
			ssi_pcfg_log_softmax_grad(right + r * z.ns, z.ns,
						  dtheta + right_part(z, r, 0), 1,
						  grad[TD_RIGHT] + r * z.ns);
	}
	ssi_pcfg_terminals_grad(e, TD_EMISSION, TD_WORD_IDS,
				TD_PRETERMINAL_SCORES, L,
				dtheta + tag_part(z, 0, 0), z.ns, grad);
}

/* ---- checks ---------------------------------------------------------------- */

static int td_validate(const ss_element *e, void *ws, ss_error *err)
{
	const sizes z = sizes_of(e->dim);
	const int64_t V = e->dim[SS_DIM_V], L = ssi_length(e, TD_LENGTHS);
	const int64_t u_shape[2] = {z.nt, z.r}, rs[2] = {z.r, z.ns};
	const int64_t pv[2] = {z.pt, V}, np[2] = {z.n, z.pt};
	const ss_input_spec *in = td_inputs;
	(void)ws;
	if (ssi_pcfg_check_length("td-pcfg", L, z.n, err))
		return SS_EDATA;
	if (ssi_pcfg_check_reals(e, in, TD_ROOT, z.nt, &z.nt, err) ||
	    ssi_pcfg_check_reals(e, in, TD_NT_TO_RANK, z.nt * z.r, u_shape,
				 err) ||
	    ssi_pcfg_check_reals(e, in, TD_LEFT, z.r * z.ns, rs, err) ||
	    ssi_pcfg_check_reals(e, in, TD_RIGHT, z.r * z.ns, rs, err) ||
	    ssi_pcfg_check_reals(e, in, TD_EMISSION, z.pt * V, pv, err) ||
	    ssi_pcfg_check_reals(e, in, TD_PRETERMINAL_SCORES, L * z.pt, np,
				 err))
		return SS_EDATA;
	return ssi_pcfg_check_word_ids(e->input[TD_WORD_IDS].data, L, V, err);
}

static size_t td_prepare_bytes(int input, const int64_t dim[])
{
	return input == TD_EMISSION
		? (size_t)dim[SS_DIM_PT] * sizeof(double) : 0;
}

static int td_prepare(int input, const void *data, const int64_t dim[],
		      void *out, ss_error *err)
{
	if (input != TD_EMISSION)
		return SS_OK;
	return ssi_pcfg_prepare_emission(data, dim, out, err);
}

/* ---- events and decodes ------------------------------------------------------ */

static void td_from_parts(const ss_element *e, const double *parts,
			  double *event)
{
	const sizes z = sizes_of(e->dim);
	double *tags = event + z.n * z.n * z.r;
	for (int64_t i = 0; i < z.n; i++) {
		for (int64_t j = 0; j < z.n; j++)
			for (int64_t r = 0; r < z.r; r++)
				event[(i * z.n + j) * z.r + r] =
					j > i ? parts[span_part(z, i, j, r)] : 0.0;
		for (int64_t p = 0; p < z.pt; p++)
			tags[i * z.pt + p] = parts[tag_part(z, i, p)];
	}
}

static void td_decode(const ss_element *e, const double *event,
		      int64_t *const decodes[])
{
	ssi_pcfg_decode(e->dim[SS_DIM_N], e->dim[SS_DIM_RANK],
			e->dim[SS_DIM_PT], ssi_length(e, TD_LENGTHS), event,
			decodes[0]);
}

static int td_encode(const ss_element *e, const int64_t *spans,
		     double *event, ss_error *err)
{
	return ssi_pcfg_encode(e->dim[SS_DIM_N], e->dim[SS_DIM_RANK],
			       e->dim[SS_DIM_PT],
			       ssi_length_clamped(e, TD_LENGTHS), spans, event,
			       err);
}

/* Why the operations over trees are not those over derivations. */
#define TD_RANKS "argmax, sample, top-k, max-marginals and entropy would be over derivations (trees with a rank and a nonterminal per span): the rank variables make them differ from the tree distribution"

#define TD_PAIR "cross-entropy and kl would be over derivations (trees with a rank and a nonterminal per span), as the entropy: the rank variables make them differ from the tree distribution"

const ss_structure ssi_td_pcfg = {
	.name = "td-pcfg",
	.summary = "tensor-decomposition pcfg (rules through r ranks)",
	.inputs = td_inputs,
	.n_inputs = TD_INPUT_COUNT,
	.check_presence = td_check_presence,
	.lengths_inputs = {TD_LENGTHS},
	.n_lengths = 1,
	.event = {"event", SS_REAL, 3, {SS_DIM_N, SS_DIM_N, SS_DIM_RANK}},
	.event_tags = {"tags", SS_REAL, 2, {SS_DIM_N, SS_DIM_PT}},
	.decodes = {{"spans", SS_INT, 2, {SS_DIM_N2M1, SS_DIM_THREE}}},
	.n_decodes = 1,
	.validate = td_validate,
	.lower = td_lower,
	.canonical = &td_parts,
	.workspace_bytes = td_workspace_bytes,
	.from_parts = td_from_parts,
	.decode = td_decode,
	.encode = td_encode,
	.unsupported = {
		[SS_OP_ARGMAX] = TD_RANKS,
		[SS_OP_SAMPLE] = TD_RANKS,
		[SS_OP_ENTROPY] = TD_RANKS,
		[SS_OP_TOP_K] = TD_RANKS,
		[SS_OP_MAX_MARGINALS] = TD_RANKS,
		[SS_OP_LOG_PROB] = "an event (spans with ranks, and tags) does not determine the nonterminals of a derivation, so log-prob is not defined over events",
		[SS_OP_CROSS_ENTROPY] = TD_PAIR,
		[SS_OP_KL] = TD_PAIR,
	},
	.prepare_bytes = td_prepare_bytes,
	.prepare = td_prepare,
	.lower_grad = td_lower_grad,
};
