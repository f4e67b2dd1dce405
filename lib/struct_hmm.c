/*
 * struct_hmm.c - hidden Markov model, as the linear chain it builds.
 *
 * Parameters: init_logits π [t], transition_logits T [t, t] (T[a, c]: from
 * state a to state c), and either emission_logits E [t, V] with observations
 * x [n], or emission_scores [n, t] used as given. π, each row of T and each
 * row of E are log-softmax normalised first (a row entirely -inf stays -inf:
 * a dead-end state), so log Z = log p(x_0 .. x_{L-1}).
 *
 * The chain potentials θ [n, t, t]:
 *   θ[0, 0, c] = log π[c] + log E[c, x_0]      (rows a > 0 at i = 0: -inf)
 *   θ[i, a, c] = log T[a, c] + log E[c, x_i]    (0 < i < L)
 * with log E[c, x_i] replaced by emission_scores[i, c] when given. That
 * chain is the hmm's canonical problem (ss_structure.lower): every
 * operation runs the linear chain's program (struct_linear_chain.c), and
 * the event is the chain's, [n, t, t].
 *
 * Preparation: the row normalisers of emission_logits, log Σ_v exp E[c, v]
 * for each state c, O(t V), depend on that array alone. They are the
 * structure's preparation of emission_logits (ss_structure.prepare): the
 * driver computes them once per distinct array of a chunk, so a batch
 * that shares one emission table (no batch axes) normalises it once, not
 * once per sentence; an element without them (e->prepared NULL)
 * computes them itself, with the same bits. π and T are normalised per
 * element, O(t²), as the chain costs that anyway.
 *
 * Gradients (lower_grad): by the chain rule through θ, with df/dθ read
 * only where θ is finite (a -inf part has no derivative). Each θ entry is
 * one normalised logit plus one emission, so
 *   d log π[c]     = dθ[0, 0, c]
 *   d log T[a, c]  = Σ_{0<i<L} dθ[i, a, c]          (every position)
 *   d em[i, c]     = dθ[0, 0, c] (i = 0), Σ_a dθ[i, a, c] (0 < i < L)
 * and emission_scores[i, c] receives d em[i, c], or log E[c, x_i] does
 * (summed over the positions that observe x_i). Each normalised row then
 * goes back through its log-softmax: dx = dy - softmax(x) Σ dy, where
 * softmax is 0 at a -inf logit (whose dx is then 0: it feeds no finite
 * θ); a dead row (entirely -inf) gets 0. A row whose Σ dy is 0 is dy
 * itself, without an exp, so a large emission table costs O(V) only for
 * the states some position emits from. Rows of emission_scores past L,
 * and every input when L = 0, are never read and get 0. Time O(L t² +
 * t² + t V) per element at most.
 *
 * Time O(L t² + t²) per element, plus O(t V) per distinct emission table.
 * Rabiner (1989).
 */
#include "internal.h"

enum {
	HMM_INIT, HMM_TRANSITION, HMM_EMISSION, HMM_OBSERVATIONS,
	HMM_EMISSION_SCORES, HMM_LENGTHS, HMM_INPUT_COUNT
};

static const ss_input_spec hmm_inputs[HMM_INPUT_COUNT] = {
	[HMM_INIT] = {"init_logits", SS_REAL, SS_REQUIRED, 1, {SS_DIM_T}},
	[HMM_TRANSITION] = {"transition_logits", SS_REAL, SS_REQUIRED, 2,
			    {SS_DIM_T, SS_DIM_T}},
	[HMM_EMISSION] = {"emission_logits", SS_REAL, SS_ALTERNATIVE, 2,
			  {SS_DIM_T, SS_DIM_V}},
	[HMM_OBSERVATIONS] = {"observations", SS_INT, SS_ALTERNATIVE, 1,
			      {SS_DIM_N}},
	[HMM_EMISSION_SCORES] = {"emission_scores", SS_REAL, SS_ALTERNATIVE, 2,
				 {SS_DIM_N, SS_DIM_T}},
	[HMM_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

static int hmm_check_presence(const int present[], ss_error *err)
{
	int logits = present[HMM_EMISSION], obs = present[HMM_OBSERVATIONS];
	int scores = present[HMM_EMISSION_SCORES];
	if (scores && (logits || obs))
		return ss_error_set(err, SS_EDATA,
				    "hmm takes 'emission_logits' with 'observations' or 'emission_scores', not both");
	if (!scores && !logits && !obs)
		return ss_error_set(err, SS_EDATA,
				    "hmm needs 'emission_logits' with 'observations', or 'emission_scores'");
	if (logits != obs)
		return ss_error_set(err, SS_EDATA,
				    "hmm needs '%s' with '%s'",
				    logits ? "observations" : "emission_logits",
				    logits ? "emission_logits" : "observations");
	return SS_OK;
}

/* Scratch of lower: the row normalisers of T and E [2t]. */
static size_t hmm_workspace_bytes(const int64_t dim[])
{
	return (size_t)(2 * dim[SS_DIM_T]) * sizeof(double);
}

/* The row normalisers of emission logits E [t, V] into norm [t]. */
static void emission_normalisers(const double *E, int64_t t, int64_t V,
				 double *norm)
{
	for (int64_t c = 0; c < t; c++)
		norm[c] = ssi_logsumexp(E + c * V, V);
	ssi_count(SSI_COUNT_NORMALISE);
}

/* x - log Σ exp(row) for a logit x of a row with normaliser norm; a row
 * entirely -inf stays -inf. */
static double log_softmax(double x, double norm)
{
	return norm == -INFINITY ? -INFINITY : x - norm;
}

/* The canonical problem: the chain θ [n, t, t] from the normalised
 * parameters, with the normalisers in ws. */
static void hmm_lower(const ss_element *e, void *ws, double *theta,
		      ss_element *out)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	const int64_t V = e->dim[SS_DIM_V], L = ssi_length(e, HMM_LENGTHS);
	const double *init = e->input[HMM_INIT].data;
	const double *trans = e->input[HMM_TRANSITION].data;
	const double *emis = e->input[HMM_EMISSION].data;
	const int64_t *obs = e->input[HMM_OBSERVATIONS].data;
	const double *scores = e->input[HMM_EMISSION_SCORES].data;
	double *trans_norm = ws;
	const double *emis_norm = e->prepared[HMM_EMISSION];

	for (int64_t k = 0; k < n * t * t; k++)
		theta[k] = -INFINITY;
	ssi_chain_element(e, theta, e->input[HMM_LENGTHS].data, out);
	if (L == 0)
		return;
	for (int64_t a = 0; a < t; a++)
		trans_norm[a] = ssi_logsumexp(trans + a * t, t);
	if (emis && !emis_norm) {
		emission_normalisers(emis, t, V, trans_norm + t);
		emis_norm = trans_norm + t;
	}
	const double init_norm = ssi_logsumexp(init, t);
	for (int64_t i = 0; i < L; i++) {
		double *th = theta + i * t * t;
		for (int64_t cc = 0; cc < t; cc++) {
			double em = scores ? scores[i * t + cc]
					   : log_softmax(emis[cc * V + obs[i]],
							 emis_norm[cc]);
			if (i == 0) {
				th[cc] = log_softmax(init[cc], init_norm) + em;
				continue;
			}
			for (int64_t a = 0; a < t; a++)
				th[a * t + cc] = log_softmax(trans[a * t + cc],
							     trans_norm[a]) + em;
		}
	}
}

/* Back through the log-softmax y = x - log Σ exp x of a row x [m]: dy
 * [m] holds df/dy and becomes df/dx = dy - softmax(x) Σ dy. norm: the
 * row's normaliser, or NULL to compute it where needed. A row with Σ dy
 * = 0 (a dead row among them: none of its y is finite) keeps dy, without
 * an exp. */
static void log_softmax_grad(const double *x, int64_t m, const double *norm,
			     double *dy)
{
	double sum = 0.0, z;
	for (int64_t k = 0; k < m; k++)
		sum += dy[k];
	if (sum == 0.0)
		return;
	z = norm ? *norm : ssi_logsumexp(x, m);
	if (z == -INFINITY)
		return;
	for (int64_t k = 0; k < m; k++)
		dy[k] -= exp(x[k] - z) * sum;
}

/* df/d inputs from df/dθ (see the banner): the parts of θ that are finite
 * pass dθ to their logit and their emission, then the rows go back
 * through their log-softmax, in place in grad. */
static void hmm_lower_grad(const ss_element *e, void *ws, const double *dtheta,
			   double *const grad[])
{
	const int64_t t = e->dim[SS_DIM_T], V = e->dim[SS_DIM_V];
	const int64_t L = ssi_length(e, HMM_LENGTHS);
	const double *init = e->input[HMM_INIT].data;
	const double *trans = e->input[HMM_TRANSITION].data;
	const double *emis = e->input[HMM_EMISSION].data;
	const int64_t *obs = e->input[HMM_OBSERVATIONS].data;
	const double *scores = e->input[HMM_EMISSION_SCORES].data;
	const double *emis_norm = e->prepared[HMM_EMISSION];
	double *g_init = grad[HMM_INIT], *g_trans = grad[HMM_TRANSITION];
	double *g_emis = emis ? grad[HMM_EMISSION] : NULL;
	double *g_scores = scores ? grad[HMM_EMISSION_SCORES] : NULL;
	(void)ws;
	if (L == 0)
		return; /* lower reads nothing */
	for (int64_t i = 0; i < L; i++) {
		const double *dth = dtheta + i * t * t;
		for (int64_t cc = 0; cc < t; cc++) {
			double dem = 0.0;
			if ((scores ? scores[i * t + cc]
				    : emis[cc * V + obs[i]]) == -INFINITY)
				continue; /* every θ[i, ., cc] is -inf */
			if (i == 0) {
				if (init[cc] > -INFINITY) {
					dem = dth[cc];
					if (g_init)
						g_init[cc] += dem;
				}
			} else {
				for (int64_t a = 0; a < t; a++) {
					const double d = dth[a * t + cc];
					if (trans[a * t + cc] == -INFINITY)
						continue;
					dem += d;
					if (g_trans)
						g_trans[a * t + cc] += d;
				}
			}
			if (g_scores)
				g_scores[i * t + cc] = dem;
			if (g_emis)
				g_emis[cc * V + obs[i]] += dem;
		}
	}
	if (g_init)
		log_softmax_grad(init, t, NULL, g_init);
	for (int64_t a = 0; g_trans && a < t; a++)
		log_softmax_grad(trans + a * t, t, NULL, g_trans + a * t);
	for (int64_t cc = 0; g_emis && cc < t; cc++)
		log_softmax_grad(emis + cc * V, V,
				 emis_norm ? emis_norm + cc : NULL,
				 g_emis + cc * V);
}

/* Rejects NaN or +inf among the first count values x of a real input. */
static int check_values(const double *x, int input, int64_t count,
			const int64_t *shape, ss_error *err)
{
	int64_t k = x ? ssi_find_bad(x, count) : -1;
	if (k >= 0)
		return ssi_bad_value_error(err, hmm_inputs[input].name, x[k], k,
					   hmm_inputs[input].rank, shape);
	return SS_OK;
}

/* The same of input input of e, unless it is prepared (and so checked). */
static int check_reals(const ss_element *e, int input, int64_t count,
		       const int64_t *shape, ss_error *err)
{
	if (e->prepared[input])
		return SS_OK;
	return check_values(e->input[input].data, input, count, shape, err);
}

static int hmm_validate(const ss_element *e, void *ws, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	const int64_t V = e->dim[SS_DIM_V], L = ssi_length(e, HMM_LENGTHS);
	const int64_t tt[2] = {t, t}, tv[2] = {t, V}, nt[2] = {n, t};
	const int64_t *obs = e->input[HMM_OBSERVATIONS].data;
	(void)ws;
	if (ssi_check_length(L, n, err) ||
	    check_reals(e, HMM_INIT, t, &t, err) ||
	    check_reals(e, HMM_TRANSITION, t * t, tt, err) ||
	    check_reals(e, HMM_EMISSION, t * V, tv, err) ||
	    check_reals(e, HMM_EMISSION_SCORES, L * t, nt, err))
		return SS_EDATA;
	for (int64_t i = 0; obs && i < L; i++)
		if (obs[i] < 0 || obs[i] >= V)
			return ss_error_set(err, SS_EDATA,
					    "dataset 'observations' holds %lld at [%lld], outside [0, %lld)",
					    (long long)obs[i], (long long)i,
					    (long long)V);
	return SS_OK;
}

static size_t hmm_prepare_bytes(int input, const int64_t dim[])
{
	return input == HMM_EMISSION
		? (size_t)dim[SS_DIM_T] * sizeof(double) : 0;
}

static int hmm_prepare(int input, const void *data, const int64_t dim[],
		       void *out, ss_error *err)
{
	const int64_t t = dim[SS_DIM_T], V = dim[SS_DIM_V];
	const int64_t tv[2] = {t, V};
	if (input != HMM_EMISSION)
		return SS_OK;
	if (check_values(data, HMM_EMISSION, t * V, tv, err))
		return SS_EDATA;
	emission_normalisers(data, t, V, out);
	return SS_OK;
}

static int hmm_to_parts(const ss_element *e, void *ws, const double *event,
			double *parts, int *empty, ss_error *err)
{
	(void)ws;
	return ssi_chain_to_parts(e, HMM_LENGTHS, event, parts, empty, err);
}

static void hmm_decode(const ss_element *e, const double *event,
		       int64_t *const decodes[])
{
	ssi_chain_decode(e, HMM_LENGTHS, event, decodes[0]);
}

static int hmm_encode(const ss_element *e, const int64_t *decode,
		      double *event, ss_error *err)
{
	return ssi_chain_encode(e, HMM_LENGTHS, decode, event, err);
}

const ss_structure ssi_hmm = {
	.name = "hmm",
	.summary = "hidden Markov model (the linear chain it builds)",
	.inputs = hmm_inputs,
	.n_inputs = HMM_INPUT_COUNT,
	.check_presence = hmm_check_presence,
	.lengths_inputs = {HMM_LENGTHS},
	.n_lengths = 1,
	.event = {"event", SS_REAL, 3, {SS_DIM_N, SS_DIM_T, SS_DIM_T}},
	.decodes = {{"labels", SS_INT, 1, {SS_DIM_N}}},
	.n_decodes = 1,
	.validate = hmm_validate,
	.lower = hmm_lower,
	.lower_grad = hmm_lower_grad,
	.canonical = &ssi_linear_chain,
	.workspace_bytes = hmm_workspace_bytes,
	.to_parts = hmm_to_parts,
	.decode = hmm_decode,
	.encode = hmm_encode,
	.prepare_bytes = hmm_prepare_bytes,
	.prepare = hmm_prepare,
};
