/*
 * struct_pcfg.c - probabilistic context-free grammar in Chomsky normal form
 * (binary rules, no unaries), as a chart over its parts.
 *
 * Parameters: root [nt]; rule [nt, nt+pt, nt+pt] (rule[X, Y, Z] scores
 * X -> Y Z); either emission [pt, V] with word_ids w [n], or
 * preterminal_scores [n, pt] used as given. Symbols [0, nt) are
 * nonterminals, [nt, nt+pt) preterminals (preterminal P is symbol nt + P).
 * root is log-softmax normalised over nt, rule[X] jointly over its last two
 * axes, emission[P] over V (a row entirely -inf stays -inf), so that
 * log Z = log p(w_0 .. w_{L-1}). A structure is a binary tree over the
 * words 0 .. L-1 (L >= 2) whose spans of width >= 2 carry a nonterminal
 * and whose words carry a preterminal; its score is
 *   log root[top] + Σ_{internal spans} log rule[X, Y, Z] + Σ_i tag score,
 * the tag score log emission[P_i, w_i] or preterminal_scores[i, P_i].
 *
 * Event (two parts): the chart [n, n, nt], 1 at [i, j, X] for the span
 * i..j (inclusive, j > i) labelled X; and the tags [n, pt], 1 at [i, P].
 * Compact decode: spans [2n-1, 3] (start, end, label) in pre-order (start
 * ascending, then end descending), a width-1 span labelled with its
 * preterminal's index in [0, pt); -1 in padding. marginals also gives
 * rule_counts [nt, nt+pt, nt+pt], the expected uses of each rule.
 *
 * The canonical problem (lower) has the parts θ of two blocks:
 *   chart [n, n, nt+pt]   [i, j, X] (j > i, X < nt) the span (i, j, X):
 *                         log root[X] for the top span (0, L-1), else 0;
 *                         [i, i, nt + P] the tag score of word i
 *   rules [nt+pt, nt, nt+pt]  [Y, X, Z] = log rule[X, Y, Z], the rule
 *                         transposed so that one step reads (Y, X) as
 *                         one affine row
 * so that score = Σ parts · θ, the rule parts counting each use; the
 * span parts' marginals are the chart's, the rules' the rule counts.
 *
 * The chart program (lib/chart.c). Every span (i, j) has a block of nt+pt
 * cells β(i, j)[S] over all symbols, -inf where S cannot label it
 * (preterminals of width >= 2, nonterminals of width 1):
 *   β(i, i)[nt + P] = θ[i, i, nt + P]
 *   δ(m, j)[Y][X]  = ⊕_Z θ_rules[Y, X, Z] ⊗ β(m, j)[Z]       (m >= 1)
 *   β(i, j)[X]     = ⊕_{i <= k < j} ⊕_Y β(i, k)[Y] ⊗ δ(k+1, j)[Y][X]
 *                    ⊗ θ[i, j, X]                              (j > i)
 *   root           = ⊕_X β(0, L-1)[X]
 * δ(m, j), the right child (m, j) with every parent symbol X and left
 * symbol Y, is shared by the parents (i, j), i < m. The blocks of the
 * spans starting at i lie in one row, in order of their end, and the δ of
 * the spans ending at j in one column, in order of their start, so that
 * a parent's candidates (k, Y) are one affine range of both.
 *
 * Scale. Every tree takes one tag per word and one root symbol: the
 * program runs on potentials whose best tag of each word and best root
 * score 0, and log Z adds the shifts back (as the projective trees do), so
 * that the cells stay of the order of the scores' spread (rules are
 * log-probabilities, their best at least -log (nt+pt)² per row).
 *
 * Gradients (lower_grad): θ is log-softmaxed inputs, each θ entry one
 * input entry less its row's normaliser, so the chain rule is that of
 * y = x - log Σ exp(x) per row: dx = dy - softmax(x) Σ dy, over root's
 * row (dy the top span (0, L-1)'s θ), each rule[X] jointly over (Y, Z)
 * (dy the rules block [Y, X, Z]) and each emission row P (dy[w] the sum
 * of θ[i, i, nt + P]'s adjoints over the words i with w_i = w, so that a
 * column no word uses gets -softmax Σ dy alone); preterminal_scores take
 * θ[i, i, nt + P]'s adjoint as it is. Entries that are -inf (and rows
 * entirely -inf) get 0, their θ's adjoints ignored; preterminal_scores
 * past the length, never read, get 0.
 *
 * The terminals (emission or preterminal_scores), the checks of a
 * sentence, their gradients and the spans decode are shared with td-pcfg
 * (ssi_pcfg_*, internal.h).
 *
 * Time O(L³ nt (nt+pt) + L² nt (nt+pt)²), memory O(L² nt (nt+pt)) per
 * element, plus O(pt V) per distinct emission table (prepared once per
 * chunk, as the hmm's). Baker (1979); Lari and Young (1990) for the
 * inside-outside recurrences; Kim, Dyer and Rush (2019) for the neural
 * parameterisation this input layout follows.
 */
#include "internal.h"

enum {
	PCFG_ROOT, PCFG_RULE, PCFG_EMISSION, PCFG_WORD_IDS,
	PCFG_PRETERMINAL_SCORES, PCFG_LENGTHS, PCFG_INPUT_COUNT
};

static const ss_input_spec pcfg_inputs[PCFG_INPUT_COUNT] = {
	[PCFG_ROOT] = {"root", SS_REAL, SS_REQUIRED, 1, {SS_DIM_NT}},
	[PCFG_RULE] = {"rule", SS_REAL, SS_REQUIRED, 3,
		       {SS_DIM_NT, SS_DIM_NTPT, SS_DIM_NTPT}},
	[PCFG_EMISSION] = {"emission", SS_REAL, SS_ALTERNATIVE, 2,
			   {SS_DIM_PT, SS_DIM_V}},
	[PCFG_WORD_IDS] = {"word_ids", SS_INT, SS_ALTERNATIVE, 1, {SS_DIM_N}},
	[PCFG_PRETERMINAL_SCORES] = {"preterminal_scores", SS_REAL,
				     SS_ALTERNATIVE, 2, {SS_DIM_N, SS_DIM_PT}},
	[PCFG_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

int ssi_pcfg_check_terminals(const char *structure, int emission, int ids,
			     int scores, ss_error *err)
{
	if (scores && (emission || ids))
		return ss_error_set(err, SS_EDATA,
				    "%s takes 'emission' with 'word_ids' or 'preterminal_scores', not both",
				    structure);
	if (!scores && !emission && !ids)
		return ss_error_set(err, SS_EDATA,
				    "%s needs 'emission' with 'word_ids', or 'preterminal_scores'",
				    structure);
	if (emission != ids)
		return ss_error_set(err, SS_EDATA, "%s needs '%s' with '%s'",
				    structure, emission ? "word_ids" : "emission",
				    emission ? "emission" : "word_ids");
	return SS_OK;
}

static int pcfg_check_presence(const int present[], ss_error *err)
{
	return ssi_pcfg_check_terminals("pcfg", present[PCFG_EMISSION],
					present[PCFG_WORD_IDS],
					present[PCFG_PRETERMINAL_SCORES], err);
}

/* ---- the parts and the chart program ----------------------------------- */

/* The sizes of an element: n, nt, pt and nt + pt. */
typedef struct sizes {
	int64_t n, nt, pt, ns;
} sizes;

static sizes sizes_of(const int64_t dim[])
{
	return (sizes){dim[SS_DIM_N], dim[SS_DIM_NT], dim[SS_DIM_PT],
		       dim[SS_DIM_NT] + dim[SS_DIM_PT]};
}

/* Where parts lie in θ: span (i, j) symbol S, and rule X -> Y Z. */
static int64_t span_part(sizes z, int64_t i, int64_t j, int64_t S)
{
	return (i * z.n + j) * z.ns + S;
}

static int64_t rule_part(sizes z, int64_t X, int64_t Y, int64_t Z)
{
	return z.n * z.n * z.ns + (Y * z.nt + X) * z.ns + Z;
}

static void pcfg_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	const sizes z = sizes_of(dim);
	const int64_t spans = z.n * (z.n + 1) / 2;
	int64_t candidates = (z.n > 1 ? z.n - 1 : 1) * z.ns;
	if (candidates < 1)
		candidates = 1;
	*size = (ssi_chart_size){
		.steps = 2 * z.n * z.n + 2 * z.n + 2,
		.cells = spans * z.ns + spans * z.ns * z.nt + 1,
		.candidates = candidates,
		.width = z.ns * z.nt > 1 ? z.ns * z.nt : 1,
		.parts = z.n * z.n * z.ns + z.ns * z.nt * z.ns};
}

/* The potentials shifted so that the best tag of each word and the best
 * root symbol score 0: every tree takes one of each, so log Z adds the
 * shifts back (chart.offset) and nothing else changes. */
static void shift_parts(sizes z, int64_t L, ssi_chart *c)
{
	const int64_t parts = z.n * z.n * z.ns + z.ns * z.nt * z.ns;
	double *sh = c->shifted;
	memcpy(sh, c->theta, (size_t)parts * sizeof *sh);
	for (int64_t i = 0; i <= L; i++) {
		/* the words' tags, then the top span's root scores */
		const int64_t first = i < L ? span_part(z, i, i, z.nt)
					    : span_part(z, 0, L - 1, 0);
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

/* The first cell of row i (the blocks β(i, k), k = i .. L-1) from the
 * rows' first cell. */
static int64_t row_at(int64_t rows, int64_t i, int64_t L, int64_t ns)
{
	return rows + ns * (i * L - i * (i - 1) / 2);
}

/* The first cell of column j (the δ(m, j), m = 1 .. j) from the columns'
 * first cell. */
static int64_t column_at(int64_t cols, int64_t j, int64_t per)
{
	return cols + per * (j * (j - 1) / 2);
}

static int pcfg_chart(const ss_element *e, ssi_chart *c)
{
	const sizes z = sizes_of(e->dim);
	const int64_t L = ssi_length(e, PCFG_LENGTHS), nt = z.nt, ns = z.ns;
	const int64_t per = ns * nt; /* cells of one δ */
	int64_t rows, cols, root;

	if (nt == 0 || z.pt == 0 || L < 2) { /* no tree */
		root = ssi_chart_cells(c, 1);
		ssi_chart_push(c, root, 1, 0, 0, SSI_ABSENT, SSI_ABSENT,
			       SSI_ABSENT);
		return 1;
	}
	shift_parts(z, L, c);
	rows = ssi_chart_cells(c, ns * L * (L + 1) / 2);
	cols = ssi_chart_cells(c, per * L * (L - 1) / 2);
	/* -inf where a symbol cannot label the span, and the tags */
	for (int64_t i = 0; i < L; i++) {
		const int64_t row = row_at(rows, i, L, ns);
		ssi_chart_push(c, row, nt, 0, 0, SSI_ABSENT, SSI_ABSENT,
			       SSI_ABSENT);
		for (int64_t k = i + 1; k < L; k++)
			ssi_chart_push(c, row + (k - i) * ns + nt, z.pt, 0, 0,
				       SSI_ABSENT, SSI_ABSENT, SSI_ABSENT);
		ssi_chart_push(c, row + nt, z.pt, 0, 1, SSI_ABSENT, SSI_ABSENT,
			       (ssi_operand){span_part(z, i, i, nt), 0, 1});
	}
	for (int64_t w = 1; w <= L; w++)
		for (int64_t i = 0; i + w <= L; i++) {
			const int64_t j = i + w - 1, row = row_at(rows, i, L, ns);
			const int64_t col = column_at(cols, j, per);
			const int64_t zlo = w == 1 ? nt : 0;
			if (w >= 2) /* β(i, j)[X] over (k, Y) */
				ssi_chart_push(c, row + (j - i) * ns, nt, 0,
					       (j - i) * ns,
					       (ssi_operand){row, 1, 0},
					       (ssi_operand){col + i * per, nt, 1},
					       (ssi_operand){span_part(z, i, j, 0), 0, 1});
			if (i >= 1) /* δ(i, j)[Y][X] over Z */
				ssi_chart_push(c, col + (i - 1) * per, per, 0,
					       w == 1 ? z.pt : nt,
					       (ssi_operand){row + (j - i) * ns + zlo, 1, 0},
					       SSI_ABSENT,
					       (ssi_operand){rule_part(z, 0, 0, zlo), 1, ns});
		}
	root = ssi_chart_cells(c, 1);
	ssi_chart_push(c, root, 1, 0, nt,
		       (ssi_operand){row_at(rows, 0, L, ns) + (L - 1) * ns, 1, 0},
		       SSI_ABSENT, SSI_ABSENT);
	return 1;
}

/* The canonical structure: its event is the parts, chart then rules (it
 * is never read or written by the command line). */
static const ss_structure pcfg_parts = {
	.name = "pcfg",
	.summary = "the parts of a pcfg",
	.event = {"chart", SS_REAL, 3, {SS_DIM_N, SS_DIM_N, SS_DIM_NTPT}},
	.event_tags = {"rules", SS_REAL, 3,
		       {SS_DIM_NTPT, SS_DIM_NT, SS_DIM_NTPT}},
	.chart_size = pcfg_chart_size,
	.chart = pcfg_chart,
};

/* ---- normalising the parameters ------------------------------------------ */

/* Scratch of lower: the normalisers of rule's rows and emission's
 * [nt + pt]; of lower_grad: the adjoints of one rule[X] [(nt+pt)²]. */
static size_t pcfg_workspace_bytes(const int64_t dim[])
{
	const int64_t ns = dim[SS_DIM_NT] + dim[SS_DIM_PT];
	return (size_t)(ns * ns > ns + 1 ? ns * ns : ns + 1) * sizeof(double);
}

void ssi_pcfg_emission_normalisers(const double *E, int64_t pt, int64_t V,
				   double *norm)
{
	for (int64_t p = 0; p < pt; p++)
		norm[p] = ssi_logsumexp(E + p * V, V);
	ssi_count(SSI_COUNT_NORMALISE);
}

double ssi_log_softmax(double x, double norm)
{
	return norm == -INFINITY ? -INFINITY : x - norm;
}

double ssi_pcfg_tag_score(const ss_element *e, int emission, int word_ids,
			  int preterminal_scores, const double *norm,
			  int64_t i, int64_t p)
{
	const double *emis = e->input[emission].data;
	const double *scores = e->input[preterminal_scores].data;
	const int64_t *ids = e->input[word_ids].data;
	const int64_t V = e->dim[SS_DIM_V], pt = e->dim[SS_DIM_PT];
	return scores ? scores[i * pt + p]
		      : ssi_log_softmax(emis[p * V + ids[i]], norm[p]);
}

static void pcfg_lower(const ss_element *e, void *ws, double *theta,
		       ss_element *out)
{
	const sizes z = sizes_of(e->dim);
	const int64_t V = e->dim[SS_DIM_V], L = ssi_length(e, PCFG_LENGTHS);
	const int64_t ss = z.ns * z.ns;
	const double *root = e->input[PCFG_ROOT].data, *rule = e->input[PCFG_RULE].data;
	const double *emis = e->input[PCFG_EMISSION].data;
	const double *emis_norm = e->prepared[PCFG_EMISSION];
	double *rule_norm = ws, root_norm;

	*out = *e;
	memset(out->prepared, 0, sizeof out->prepared);
	out->input[0].data = theta;
	out->input[0].dtype = SS_F64;
	memset(theta, 0, (size_t)ss_event_size(&pcfg_parts, e->dim) *
			 sizeof *theta);
	if (L < 2 || L > z.n)
		return;
	if (emis && !emis_norm) {
		ssi_pcfg_emission_normalisers(emis, z.pt, V, rule_norm + z.nt);
		emis_norm = rule_norm + z.nt;
	}
	root_norm = ssi_logsumexp(root, z.nt);
	for (int64_t X = 0; X < z.nt; X++) {
		theta[span_part(z, 0, L - 1, X)] =
			ssi_log_softmax(root[X], root_norm);
		rule_norm[X] = ssi_logsumexp(rule + X * ss, ss);
		for (int64_t Y = 0; Y < z.ns; Y++)
			for (int64_t Z = 0; Z < z.ns; Z++)
				theta[rule_part(z, X, Y, Z)] =
					ssi_log_softmax(rule[X * ss + Y * z.ns + Z],
							rule_norm[X]);
	}
	for (int64_t i = 0; i < L; i++)
		for (int64_t p = 0; p < z.pt; p++)
			theta[span_part(z, i, i, z.nt + p)] =
				ssi_pcfg_tag_score(e, PCFG_EMISSION, PCFG_WORD_IDS,
						   PCFG_PRETERMINAL_SCORES,
						   emis_norm, i, p);
}

/* ---- gradients ------------------------------------------------------------- */

void ssi_pcfg_log_softmax_grad(const double *x, int64_t m, const double *dy,
			       int64_t step, double *dx)
{
	const double norm = ssi_logsumexp(x, m);
	double sum = 0;
	if (norm == -INFINITY) /* the row stays -inf: nothing moves it */
		return;
	for (int64_t k = 0; k < m; k++)
		if (x[k] != -INFINITY)
			sum += dy[k * step];
	for (int64_t k = 0; k < m; k++)
		if (x[k] != -INFINITY)
			dx[k] += dy[k * step] - exp(x[k] - norm) * sum;
}

void ssi_pcfg_terminals_grad(const ss_element *e, int emission, int word_ids,
			     int preterminal_scores, int64_t L,
			     const double *dtag, int64_t stride,
			     double *const grad[])
{
	const int64_t V = e->dim[SS_DIM_V], pt = e->dim[SS_DIM_PT];
	const double *scores = e->input[preterminal_scores].data;
	const double *emis = e->input[emission].data;
	const double *norm = e->prepared[emission];
	const int64_t *ids = e->input[word_ids].data;
	double *g;

	if (scores && (g = grad[preterminal_scores]) != NULL)
		for (int64_t i = 0; i < L; i++)
			for (int64_t p = 0; p < pt; p++)
				if (scores[i * pt + p] != -INFINITY)
					g[i * pt + p] = dtag[i * stride + p];
	if (!emis || (g = grad[emission]) == NULL)
		return;
	for (int64_t p = 0; p < pt; p++, g += V) {
		const double *row = emis + p * V;
		const double q = norm ? norm[p] : ssi_logsumexp(row, V);
		double sum = 0;
		if (q == -INFINITY)
			continue;
		/* the words' columns, each use counted; then the normaliser,
		 * which every column of the row feeds */
		for (int64_t i = 0; i < L; i++) {
			if (row[ids[i]] == -INFINITY)
				continue;
			g[ids[i]] += dtag[i * stride + p];
			sum += dtag[i * stride + p];
		}
		for (int64_t v = 0; v < V; v++)
			if (row[v] != -INFINITY)
				g[v] -= exp(row[v] - q) * sum;
	}
}

/* The chain rule through pcfg_lower (the banner's Gradients). */
static void pcfg_lower_grad(const ss_element *e, void *ws,
			    const double *dtheta, double *const grad[])
{
	const sizes z = sizes_of(e->dim);
	const int64_t L = ssi_length(e, PCFG_LENGTHS), ss = z.ns * z.ns;
	const double *rule = e->input[PCFG_RULE].data;
	double *dy = ws; /* rule[X]'s adjoints, in rule's order */

	if (L < 2 || L > z.n)
		return;
	if (grad[PCFG_ROOT])
		ssi_pcfg_log_softmax_grad(e->input[PCFG_ROOT].data, z.nt,
					  dtheta + span_part(z, 0, L - 1, 0), 1,
					  grad[PCFG_ROOT]);
	for (int64_t X = 0; grad[PCFG_RULE] && X < z.nt; X++) {
		for (int64_t Y = 0; Y < z.ns; Y++)
			for (int64_t Z = 0; Z < z.ns; Z++)
				dy[Y * z.ns + Z] = dtheta[rule_part(z, X, Y, Z)];
		ssi_pcfg_log_softmax_grad(rule + X * ss, ss, dy, 1,
					  grad[PCFG_RULE] + X * ss);
	}
	ssi_pcfg_terminals_grad(e, PCFG_EMISSION, PCFG_WORD_IDS,
				PCFG_PRETERMINAL_SCORES, L,
				dtheta + span_part(z, 0, 0, z.nt),
				span_part(z, 1, 1, 0), grad);
}

/* ---- checks ---------------------------------------------------------------- */

int ssi_pcfg_check_reals(const ss_element *e, const ss_input_spec *inputs,
			 int input, int64_t count, const int64_t *shape,
			 ss_error *err)
{
	const double *x = e->input[input].data;
	int64_t k = x && !e->prepared[input] ? ssi_find_bad(x, count) : -1;
	if (k >= 0)
		return ssi_bad_value_error(err, inputs[input].name, x[k], k,
					   inputs[input].rank, shape);
	return SS_OK;
}

int ssi_pcfg_check_length(const char *structure, int64_t L, int64_t n,
			  ss_error *err)
{
	if (ssi_check_length(L, n, err))
		return SS_EDATA;
	if (L < 2)
		return ss_error_set(err, SS_EDATA,
				    "dataset 'lengths' holds %lld; a %s needs sentences of at least 2 words (a binary tree without unary rules has none over fewer)",
				    (long long)L, structure);
	return SS_OK;
}

int ssi_pcfg_check_word_ids(const int64_t *ids, int64_t L, int64_t V,
			    ss_error *err)
{
	for (int64_t i = 0; ids && i < L; i++)
		if (ids[i] < 0 || ids[i] >= V)
			return ss_error_set(err, SS_EDATA,
					    "dataset 'word_ids' holds %lld at [%lld], outside [0, %lld)",
					    (long long)ids[i], (long long)i,
					    (long long)V);
	return SS_OK;
}

int ssi_pcfg_prepare_emission(const void *data, const int64_t dim[],
			      void *out, ss_error *err)
{
	const int64_t pt = dim[SS_DIM_PT], V = dim[SS_DIM_V];
	const int64_t pv[2] = {pt, V};
	const double *E = data;
	int64_t k = ssi_find_bad(E, pt * V);
	if (k >= 0)
		return ssi_bad_value_error(err, "emission", E[k], k, 2, pv);
	ssi_pcfg_emission_normalisers(E, pt, V, out);
	return SS_OK;
}

static int pcfg_validate(const ss_element *e, void *ws, ss_error *err)
{
	const sizes z = sizes_of(e->dim);
	const int64_t V = e->dim[SS_DIM_V], L = ssi_length(e, PCFG_LENGTHS);
	const int64_t rule_shape[3] = {z.nt, z.ns, z.ns};
	const int64_t pv[2] = {z.pt, V}, np[2] = {z.n, z.pt};
	const ss_input_spec *in = pcfg_inputs;
	(void)ws;
	if (ssi_pcfg_check_length("pcfg", L, z.n, err))
		return SS_EDATA;
	if (ssi_pcfg_check_reals(e, in, PCFG_ROOT, z.nt, &z.nt, err) ||
	    ssi_pcfg_check_reals(e, in, PCFG_RULE, z.nt * z.ns * z.ns,
				 rule_shape, err) ||
	    ssi_pcfg_check_reals(e, in, PCFG_EMISSION, z.pt * V, pv, err) ||
	    ssi_pcfg_check_reals(e, in, PCFG_PRETERMINAL_SCORES, L * z.pt, np,
				 err))
		return SS_EDATA;
	return ssi_pcfg_check_word_ids(e->input[PCFG_WORD_IDS].data, L, V, err);
}

static size_t pcfg_prepare_bytes(int input, const int64_t dim[])
{
	return input == PCFG_EMISSION
		? (size_t)dim[SS_DIM_PT] * sizeof(double) : 0;
}

static int pcfg_prepare(int input, const void *data, const int64_t dim[],
			void *out, ss_error *err)
{
	if (input != PCFG_EMISSION)
		return SS_OK;
	return ssi_pcfg_prepare_emission(data, dim, out, err);
}

/* ---- events, parts and decodes --------------------------------------------- */

/* The label of span (i, j) of an event's chart, -1 if none. */
static int64_t span_label(sizes z, const double *chart, int64_t i, int64_t j)
{
	for (int64_t X = 0; X < z.nt; X++)
		if (chart[(i * z.n + j) * z.nt + X] != 0.0)
			return X;
	return -1;
}

/* The tag of word i of an event's tags, -1 if none. */
static int64_t word_tag(sizes z, const double *tags, int64_t i)
{
	for (int64_t p = 0; p < z.pt; p++)
		if (tags[i * z.pt + p] != 0.0)
			return p;
	return -1;
}

/* Checks that the event's entries are 0 or 1, one per span or word at
 * most, none past the length; counts the spans and tags. */
static int check_entries(sizes z, int64_t L, const double *event,
			 int64_t *spans, int64_t *tags, ss_error *err)
{
	const int64_t E1 = z.n * z.n * z.nt;
	*spans = *tags = 0;
	for (int64_t k = 0; k < E1 + z.n * z.pt; k++) {
		const int is_tag = k >= E1;
		const int64_t cell = is_tag ? (k - E1) / z.pt : k / z.nt;
		const int64_t i = is_tag ? cell : cell / z.n;
		const int64_t j = is_tag ? cell : cell % z.n;
		const double x = event[k];
		if (x == 0.0)
			continue;
		if (x != 1.0)
			return ss_error_set(err, SS_EDATA,
					    "event holds %g at %s [%lld, %lld], not 0 or 1",
					    x, is_tag ? "word" : "span",
					    (long long)i, (long long)j);
		if (j >= L || (!is_tag && j <= i))
			return ss_error_set(err, SS_EDATA,
					    "event marks %s [%lld, %lld], %s",
					    is_tag ? "word" : "span",
					    (long long)i, (long long)j,
					    j >= L ? "past the length"
						   : "not a span of width >= 2");
		if (is_tag ? word_tag(z, event + E1, i) != (k - E1) % z.pt
			   : span_label(z, event, i, j) != k % z.nt)
			return ss_error_set(err, SS_EDATA,
					    "event labels %s [%lld, %lld] twice",
					    is_tag ? "word" : "span",
					    (long long)i, (long long)j);
		*(is_tag ? tags : spans) += 1;
	}
	return SS_OK;
}

/*
 * The parts of an event: a binary tree if its top span (0, L-1) is
 * labelled, it has L - 1 labelled spans, and each labelled span splits
 * into its longest labelled prefix (or its first word) and a labelled
 * rest (or its last word): the spans reached from the top then form a
 * tree of L - 1 spans, all of them.
 */
static int pcfg_to_parts(const ss_element *e, void *ws, const double *event,
			 double *parts, int *empty, ss_error *err)
{
	const sizes z = sizes_of(e->dim);
	const int64_t L = ssi_length(e, PCFG_LENGTHS), E1 = z.n * z.n * z.nt;
	const double *tags = event + E1;
	int64_t spans, words;
	int rc;
	(void)ws;
	memset(parts, 0, (size_t)ss_event_size(&pcfg_parts, e->dim) *
			 sizeof *parts);
	if ((rc = check_entries(z, L, event, &spans, &words, err)) != SS_OK)
		return rc;
	*empty = spans == 0 && words == 0;
	if (*empty)
		return SS_OK;
	if (words != L)
		return ss_error_set(err, SS_EDATA,
				    "event tags %lld of the %lld words",
				    (long long)words, (long long)L);
	if (spans != L - 1 || span_label(z, event, 0, L - 1) < 0)
		return ss_error_set(err, SS_EDATA,
				    "event is not a binary tree over the %lld words: %lld spans%s",
				    (long long)L, (long long)spans,
				    span_label(z, event, 0, L - 1) < 0
					    ? ", without the whole sentence" : "");
	for (int64_t i = 0; i < L; i++) {
		parts[span_part(z, i, i, z.nt + word_tag(z, tags, i))] = 1.0;
		for (int64_t j = i + 1; j < L; j++) {
			int64_t X = span_label(z, event, i, j), k = j - 1, Y, Zs;
			if (X < 0)
				continue;
			while (k > i && span_label(z, event, i, k) < 0)
				k--;
			Y = k == i ? z.nt + word_tag(z, tags, i)
				   : span_label(z, event, i, k);
			Zs = k + 1 == j ? z.nt + word_tag(z, tags, j)
					: span_label(z, event, k + 1, j);
			if (Zs < 0)
				return ss_error_set(err, SS_EDATA,
						    "event is not a binary tree: span [%lld, %lld] has no children",
						    (long long)i, (long long)j);
			parts[span_part(z, i, j, X)] = 1.0;
			parts[rule_part(z, X, Y, Zs)] += 1.0;
		}
	}
	return SS_OK;
}

static void from_parts_as(const ss_element *e, const double *parts,
			  double *event, double none)
{
	const sizes z = sizes_of(e->dim);
	double *tags = event + z.n * z.n * z.nt;
	for (int64_t i = 0; i < z.n; i++) {
		for (int64_t j = 0; j < z.n; j++)
			for (int64_t X = 0; X < z.nt; X++)
				event[(i * z.n + j) * z.nt + X] =
					j > i ? parts[span_part(z, i, j, X)] : none;
		for (int64_t p = 0; p < z.pt; p++)
			tags[i * z.pt + p] = parts[span_part(z, i, i, z.nt + p)];
	}
}

static void pcfg_from_parts(const ss_element *e, const double *parts,
			    double *event)
{
	from_parts_as(e, parts, event, 0.0);
}

/* Max-marginals: spans of width < 2 are no chart entry: -inf. */
static void pcfg_from_parts_max(const ss_element *e, const double *parts,
				double *event)
{
	from_parts_as(e, parts, event, -INFINITY);
}

static void pcfg_to_counts(const ss_element *e, const double *parts,
			   double *counts)
{
	const sizes z = sizes_of(e->dim);
	for (int64_t X = 0; X < z.nt; X++)
		for (int64_t Y = 0; Y < z.ns; Y++)
			for (int64_t Zs = 0; Zs < z.ns; Zs++)
				counts[(X * z.ns + Y) * z.ns + Zs] =
					parts[rule_part(z, X, Y, Zs)];
}

void ssi_pcfg_decode(int64_t n, int64_t labels, int64_t pt, int64_t L,
		     const double *event, int64_t *spans)
{
	const sizes z = {n, labels, pt, labels + pt};
	const double *tags = event + z.n * z.n * z.nt;
	int64_t r = 0;
	for (int64_t k = 0; k < 3 * (2 * z.n - 1); k++)
		spans[k] = -1;
	for (int64_t i = 0; i < L; i++)
		for (int64_t j = L - 1; j >= i; j--) {
			int64_t label = j > i ? span_label(z, event, i, j)
					      : word_tag(z, tags, i);
			if (label < 0 || r >= 2 * z.n - 1)
				continue;
			spans[3 * r] = i;
			spans[3 * r + 1] = j;
			spans[3 * r + 2] = label;
			r++;
		}
}

static void pcfg_decode(const ss_element *e, const double *event,
			int64_t *const decodes[])
{
	ssi_pcfg_decode(e->dim[SS_DIM_N], e->dim[SS_DIM_NT], e->dim[SS_DIM_PT],
			ssi_length(e, PCFG_LENGTHS), event, decodes[0]);
}

int ssi_pcfg_encode(int64_t n, int64_t labels, int64_t pt, int64_t L,
		    const int64_t *spans, double *event, ss_error *err)
{
	const sizes z = {n, labels, pt, labels + pt};
	const int64_t rows = L > 0 ? 2 * L - 1 : 0;
	double *tags = event + z.n * z.n * z.nt;
	int64_t unset = 0;
	memset(event, 0, (size_t)(z.n * z.n * z.nt + z.n * z.pt) *
			 sizeof *event);
	for (int64_t r = 0; r < 3 * rows; r++)
		unset += spans[r] == -1;
	if (unset == 3 * rows)
		return SS_OK; /* the empty structure */
	for (int64_t r = 0; r < rows; r++) {
		const int64_t i = spans[3 * r], j = spans[3 * r + 1];
		const int64_t label = spans[3 * r + 2];
		const int64_t count = j > i ? z.nt : z.pt;
		if (i < 0 || j < i || j >= L || label < 0 || label >= count)
			return ss_error_set(err, SS_EDATA,
					    "spans holds [%lld, %lld, %lld] at [%lld]; a span needs 0 <= start <= end < %lld and a label in [0, %lld)",
					    (long long)i, (long long)j,
					    (long long)label, (long long)r,
					    (long long)L, (long long)count);
		if (j > i)
			event[(i * z.n + j) * z.nt + label] = 1.0;
		else
			tags[i * z.pt + label] = 1.0;
	}
	return SS_OK;
}

static int pcfg_encode(const ss_element *e, const int64_t *spans,
		       double *event, ss_error *err)
{
	return ssi_pcfg_encode(e->dim[SS_DIM_N], e->dim[SS_DIM_NT],
			       e->dim[SS_DIM_PT],
			       ssi_length_clamped(e, PCFG_LENGTHS), spans, event,
			       err);
}

const ss_structure ssi_pcfg = {
	.name = "pcfg",
	.summary = "probabilistic context-free grammar in Chomsky normal form",
	.inputs = pcfg_inputs,
	.n_inputs = PCFG_INPUT_COUNT,
	.check_presence = pcfg_check_presence,
	.lengths_inputs = {PCFG_LENGTHS},
	.n_lengths = 1,
	.event = {"event", SS_REAL, 3, {SS_DIM_N, SS_DIM_N, SS_DIM_NT}},
	.event_tags = {"tags", SS_REAL, 2, {SS_DIM_N, SS_DIM_PT}},
	.counts = {"rule_counts", SS_REAL, 3,
		   {SS_DIM_NT, SS_DIM_NTPT, SS_DIM_NTPT}},
	.decodes = {{"spans", SS_INT, 2, {SS_DIM_N2M1, SS_DIM_THREE}}},
	.n_decodes = 1,
	.validate = pcfg_validate,
	.lower = pcfg_lower,
	.canonical = &pcfg_parts,
	.workspace_bytes = pcfg_workspace_bytes,
	.to_parts = pcfg_to_parts,
	.from_parts = pcfg_from_parts,
	.from_parts_max = pcfg_from_parts_max,
	.to_counts = pcfg_to_counts,
	.decode = pcfg_decode,
	.encode = pcfg_encode,
	.prepare_bytes = pcfg_prepare_bytes,
	.prepare = pcfg_prepare,
	.lower_grad = pcfg_lower_grad,
};
