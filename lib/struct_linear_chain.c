/*
 * struct_linear_chain.c - linear-chain CRF.
 *
 * Potentials θ [n, t, t]: θ[i, a, c] scores tag a at position i-1 followed
 * by tag c at position i. Position -1 is a virtual start with tag 0, so at
 * i = 0 only row a = 0 is used: θ[0, 0, c] is the start score of tag c.
 * A structure is a tag sequence y of the element's length L; its score is
 *   s(y) = θ[0, 0, y_0] + Σ_{i=1}^{L-1} θ[i, y_{i-1}, y_i].
 * The event is the indicator e[i, y_{i-1}, y_i] = 1 (y_{-1} = 0).
 *
 * Forward (⊕ = logsumexp for log Z, max for the best sequence):
 *   α[0][c] = θ[0, 0, c]
 *   α[i][c] = ⊕_a α[i-1][a] + θ[i, a, c]          (0 < i < L)
 *   log Z   = ⊕_c α[L-1][c]                       (log Z = 0 when L = 0)
 * Backward:
 *   β[L-1][c] = 0,  β[i-1][a] = ⊕_c θ[i, a, c] + β[i][c]
 * Marginals:
 *   μ[0, 0, c] = exp(α[0][c] + β[0][c] - log Z)
 *   μ[i, a, c] = exp(α[i-1][a] + θ[i, a, c] + β[i][c] - log Z)
 * Entropy, by the chain rule from the end, the chain being Markov
 * backwards too: p(y) = p(y_{L-1}) Π_{i=L-1}^{1} p(y_{i-1} | y_i) with
 *   p(y_{L-1} = c)            ∝ exp(α[L-1][c])
 *   p(y_{i-1} = a | y_i = c)  ∝ exp(α[i-1][a] + θ[i, a, c])
 * so H = H(y_{L-1}) + Σ_i Σ_c P(y_i = c) H(y_{i-1} | y_i = c), the
 * P(y_{i-1} = a) = Σ_c P(y_i = c) p(a | c) carried back alongside.
 * Each local entropy is log Σ exp(z - zmax) + Σ p (zmax - z) over one
 * softmax's logits: every term is >= 0, so H is never negative, and its
 * error is that of the probabilities, a few ulps of the logits' spread.
 * (The identity H = log Z - Σ μ·θ cancels two numbers of the potentials'
 * magnitude: at potentials of 100 it came out at -6e-12, at 1e4 off by
 * 1e-6.)
 * Sampling, forward filtering backward sampling:
 *   y_{L-1} ∝ exp(α[L-1][c]),  y_{i-1} | y_i ∝ exp(α[i-1][a] + θ[i, a, y_i])
 *
 * Scale: every position i has a shift s_i (the largest finite θ it uses)
 * and the recurrences run on θ[i] - s_i, so α, β and log Z - Σ s_i stay
 * of the order of the score spread whatever the potentials' magnitude;
 * log Z adds Σ s_i back at the end and the marginals are unchanged.
 *
 * Time O(L t²), memory O(n t) per element. Lafferty, McCallum and Pereira
 * (2001); Rabiner (1989) for the forward-backward and Viterbi recurrences.
 */
#include "internal.h"

enum { CHAIN_LOG_POTENTIALS, CHAIN_LENGTHS, CHAIN_INPUT_COUNT };

/* Workspace: α and β [n, t], scratch [t² + t], shifts [n], backpointers
 * [n, t]. */
typedef struct chain_ws {
	double *alpha, *beta, *scratch, *shift;
	int32_t *backptr;
} chain_ws;

size_t ssi_chain_workspace(int64_t n, int64_t t)
{
	size_t nt = (size_t)(n * t);
	return 2 * ssi_align64(nt * sizeof(double)) +
	       ssi_align64((size_t)(t * t + t) * sizeof(double)) +
	       ssi_align64((size_t)n * sizeof(double)) +
	       ssi_align64(nt * sizeof(int32_t));
}

static chain_ws chain_ws_carve(const ssi_chain *c, void *ws)
{
	size_t nt = (size_t)(c->n * c->t);
	char *p = ws;
	chain_ws w;
	w.alpha = (double *)p;
	p += ssi_align64(nt * sizeof(double));
	w.beta = (double *)p;
	p += ssi_align64(nt * sizeof(double));
	w.scratch = (double *)p;
	p += ssi_align64((size_t)(c->t * c->t + c->t) * sizeof(double));
	w.shift = (double *)p;
	p += ssi_align64((size_t)c->n * sizeof(double));
	w.backptr = (int32_t *)p;
	return w;
}

static const double *theta_at(const ssi_chain *c, int64_t i)
{
	return c->theta + i * c->t * c->t;
}

int ssi_chain_validate(const ssi_chain *c, const char *dataset, ss_error *err)
{
	const int64_t shape[3] = {c->n, c->t, c->t};
	for (int64_t i = 0; i < c->len; i++) {
		const double *row = theta_at(c, i);
		int64_t used = i == 0 ? c->t : c->t * c->t;
		for (int64_t k = 0; k < used; k++)
			if (ssi_bad_value(row[k]))
				return ssi_bad_value_error(err, dataset, row[k],
							   i * c->t * c->t + k,
							   SS_ARRAY_LEN(shape), shape);
	}
	return SS_OK;
}

/* The used entries of position i: row 0 at i = 0, all rows after. */
static int64_t used_entries(const ssi_chain *c, int64_t i)
{
	return i == 0 ? c->t : c->t * c->t;
}

/* s_i = the largest finite θ position i uses (0 if none); returns Σ s_i. */
static double chain_shifts(const ssi_chain *c, chain_ws *w)
{
	double total = 0.0;
	for (int64_t i = 0; i < c->len; i++) {
		const double *th = theta_at(c, i);
		double m = -INFINITY;
		for (int64_t k = 0; k < used_entries(c, i); k++)
			m = th[k] > m ? th[k] : m;
		w->shift[i] = m == -INFINITY ? 0.0 : m;
		total += w->shift[i];
	}
	return total;
}

/*
 * Shifted forward: α[i] = (⊕_a α[i-1][a] + θ[i, a, ·]) - s_i under
 * semiring sr (backpointers under max). Returns ⊕_c α[L-1][c] + Σ s_i,
 * i.e. log Z or the best score; L > 0.
 */
static double chain_forward(const ssi_chain *c, chain_ws *w, ssi_semiring sr)
{
	const int64_t t = c->t;
	const double total_shift = chain_shifts(c, w);
	double *last = w->alpha + (c->len - 1) * t, best = -INFINITY;
	for (int64_t k = 0; k < t; k++)
		w->alpha[k] = theta_at(c, 0)[k] - w->shift[0];
	for (int64_t i = 1; i < c->len; i++) {
		double *alpha = w->alpha + i * t;
		ssi_vecmat(sr, t, t, alpha - t, theta_at(c, i), alpha,
			   w->scratch, sr == SSI_MAX ? w->backptr + i * t : NULL);
		for (int64_t k = 0; k < t; k++)
			alpha[k] -= w->shift[i];
	}
	if (sr == SSI_LOG)
		best = ssi_logsumexp(last, t);
	else
		for (int64_t k = 0; k < t; k++)
			best = last[k] > best ? last[k] : best;
	return best + total_shift;
}

/* Shifted backward: β[L-1] = 0, β[i-1][a] = ⊕_c θ[i, a, c] - s_i + β[i][c]. */
static void chain_backward(const ssi_chain *c, chain_ws *w)
{
	const int64_t t = c->t;
	for (int64_t k = 0; k < t; k++)
		w->beta[(c->len - 1) * t + k] = 0.0;
	for (int64_t i = c->len - 1; i > 0; i--) {
		double *beta = w->beta + (i - 1) * t;
		ssi_matvec(SSI_LOG, t, t, theta_at(c, i), w->beta + i * t, beta,
			   w->scratch);
		for (int64_t k = 0; k < t; k++)
			beta[k] -= w->shift[i];
	}
}

void ssi_chain_log_partition(const ssi_chain *c, void *ws, double *logz)
{
	chain_ws w = chain_ws_carve(c, ws);
	*logz = c->len == 0 ? 0.0 : chain_forward(c, &w, SSI_LOG);
}

/*
 * Writes the marginals of position i (rows [t, t]) into mu_i, from the
 * shifted α and β: μ = exp(α[i-1][a] + θ[i, a, c] - s_i + β[i][c] - z)
 * with z = log Z - Σ s_i.
 */
static void chain_position_marginals(const ssi_chain *c, const chain_ws *w,
				     int64_t i, double z, double *mu_i)
{
	const int64_t t = c->t;
	const double *beta = w->beta + i * t;
	if (i == 0) {
		for (int64_t k = 0; k < t; k++)
			mu_i[k] = ssi_exp(w->alpha[k] + beta[k] - z);
		return;
	}
	for (int64_t a = 0; a < t; a++) {
		const double va = w->alpha[(i - 1) * t + a] - w->shift[i] - z;
		const double *row = theta_at(c, i) + a * t;
		double *out = mu_i + a * t;
		for (int64_t k = 0; k < t; k++)
			out[k] = ssi_exp(va + row[k] + beta[k]);
	}
}

void ssi_chain_marginals(const ssi_chain *c, void *ws, double *mu,
			 double *logz)
{
	chain_ws w = chain_ws_carve(c, ws);
	const int64_t tt = c->t * c->t;
	memset(mu, 0, (size_t)(c->n * tt) * sizeof(double));
	ssi_chain_log_partition(c, ws, logz);
	if (c->len == 0 || *logz == -INFINITY)
		return;
	chain_backward(c, &w);
	double z = ssi_logsumexp(w.alpha + (c->len - 1) * c->t, c->t);
	for (int64_t i = 0; i < c->len; i++)
		chain_position_marginals(c, &w, i, z, mu + i * tt);
}

/*
 * The entropy of the distribution ∝ exp(z[k]) over k < m (-inf entries
 * carry no mass; at least one is finite), as log Σ exp(z - zmax) +
 * Σ p_k (zmax - z_k): a sum of terms that are each >= 0 in floating
 * point, as the entropy is. The probabilities p_k go into p.
 */
static double local_entropy(const double *z, int64_t m, double *p)
{
	double zmax = -INFINITY, sum = 0.0, h = 0.0, lsum;
	for (int64_t k = 0; k < m; k++)
		zmax = z[k] > zmax ? z[k] : zmax;
	for (int64_t k = 0; k < m; k++) {
		p[k] = ssi_exp(z[k] - zmax);
		sum += p[k];
	}
	lsum = log(sum);
	for (int64_t k = 0; k < m; k++) {
		p[k] /= sum;
		if (p[k] > 0.0)
			h += p[k] * (zmax - z[k]);
	}
	return lsum + h;
}

/*
 * H by the chain rule from the end (see the banner): H(y_{L-1}) from
 * α[L-1], then for i = L-1 .. 1 the entropies of the backward
 * conditionals p(y_{i-1} | y_i = c) ∝ exp(α[i-1][a] + θ[i, a, c]),
 * weighted by P(y_i = c), which the same conditionals carry back.
 */
void ssi_chain_entropy(const ssi_chain *c, void *ws, double *entropy)
{
	chain_ws w = chain_ws_carve(c, ws);
	const int64_t t = c->t, L = c->len;
	/* P(y_i = ·) and P(y_{i-1} = ·) in β's memory ([n, t] with n >=
	 * L >= 2 where they are used); z and p in the scratch [t² + t]. */
	double *q = w.beta, *qprev = w.beta + t, *z = w.scratch;
	double *p = w.scratch + t, logz, h;
	ssi_chain_log_partition(c, ws, &logz);
	if (L == 0) {
		*entropy = 0.0;
		return;
	}
	if (logz == -INFINITY) {
		*entropy = NAN;
		return;
	}
	h = local_entropy(w.alpha + (L - 1) * t, t, q);
	for (int64_t i = L - 1; i > 0; i--) {
		const double *alpha = w.alpha + (i - 1) * t, *th = theta_at(c, i);
		double *tmp;
		for (int64_t a = 0; a < t; a++)
			qprev[a] = 0.0;
		for (int64_t cc = 0; cc < t; cc++) {
			if (!(q[cc] > 0.0))
				continue;
			for (int64_t a = 0; a < t; a++)
				z[a] = alpha[a] + th[a * t + cc];
			h += q[cc] * local_entropy(z, t, p);
			for (int64_t a = 0; a < t; a++)
				qprev[a] += q[cc] * p[a];
		}
		tmp = q;
		q = qprev;
		qprev = tmp;
	}
	*entropy = h;
}

/* The event of tag sequence y[0..L-1] (all zero beforehand). */
static void chain_mark(const ssi_chain *c, const int64_t *y, double *event)
{
	const int64_t t = c->t;
	for (int64_t i = 0; i < c->len; i++)
		event[(i * t + (i ? y[i - 1] : 0)) * t + y[i]] = 1.0;
}

void ssi_chain_argmax(const ssi_chain *c, void *ws, double *event,
		      double *score)
{
	chain_ws w = chain_ws_carve(c, ws);
	const int64_t t = c->t;
	memset(event, 0, (size_t)(c->n * t * t) * sizeof(double));
	if (c->len == 0) {
		*score = 0.0;
		return;
	}
	*score = chain_forward(c, &w, SSI_MAX);
	if (*score == -INFINITY)
		return;
	/* Backtrace into beta's memory, reused as the tag sequence. */
	int64_t *y = (int64_t *)w.beta;
	const double *last = w.alpha + (c->len - 1) * t;
	y[c->len - 1] = 0;
	for (int64_t k = 1; k < t; k++)
		if (last[k] > last[y[c->len - 1]])
			y[c->len - 1] = k;
	for (int64_t i = c->len - 1; i > 0; i--)
		y[i - 1] = w.backptr[i * t + y[i]];
	chain_mark(c, y, event);
}

void ssi_chain_sample(const ssi_chain *c, void *ws, uint64_t seed,
		      int64_t index, int64_t num, double *events,
		      size_t event_stride, double *log_prob,
		      size_t log_prob_stride)
{
	chain_ws w = chain_ws_carve(c, ws);
	const int64_t t = c->t, L = c->len;
	int64_t *y = (int64_t *)w.beta;
	double logz = L == 0 ? 0.0 : chain_forward(c, &w, SSI_LOG);
	for (int64_t s = 0; s < num; s++) {
		double *event = events + (size_t)s * event_stride;
		ss_rng rng;
		memset(event, 0, (size_t)(c->n * t * t) * sizeof(double));
		if (logz == -INFINITY) {
			log_prob[(size_t)s * log_prob_stride] = -INFINITY;
			continue;
		}
		ss_rng_init(&rng, seed, index, s);
		double score = 0.0;
		if (L > 0) {
			y[L - 1] = ssi_sample_log_weights(w.alpha + (L - 1) * t,
							  t, 1,
							  ss_rng_uniform(&rng));
			for (int64_t i = L - 1; i > 0; i--) {
				const double *col = theta_at(c, i) + y[i];
				for (int64_t a = 0; a < t; a++)
					w.scratch[a] = w.alpha[(i - 1) * t + a] +
						       col[a * t];
				y[i - 1] = ssi_sample_log_weights(
					w.scratch, t, 1, ss_rng_uniform(&rng));
				score += col[y[i - 1] * t];
			}
			score += theta_at(c, 0)[y[0]];
		}
		chain_mark(c, y, event);
		log_prob[(size_t)s * log_prob_stride] = score - logz;
	}
}

int ssi_chain_score(const ssi_chain *c, const double *event, double *score,
		    ss_error *err)
{
	const int64_t t = c->t, tt = t * t;
	int64_t prev = 0, ones = 0;
	double total = 0.0;
	for (int64_t i = 0; i < c->n; i++) {
		for (int64_t k = 0; k < tt; k++) {
			double x = event[i * tt + k];
			if (x == 0.0)
				continue;
			if (x != 1.0)
				return ss_error_set(err, SS_EDATA,
						    "event holds %g at position %lld, not 0 or 1",
						    x, (long long)i);
			if (i >= c->len)
				return ss_error_set(err, SS_EDATA,
						    "event marks position %lld, past the length %lld",
						    (long long)i, (long long)c->len);
			if (ones++ != i || k / t != prev)
				return ss_error_set(err, SS_EDATA,
						    "event is not a tag sequence at position %lld",
						    (long long)i);
			total += c->theta[i * tt + k];
			prev = k % t;
		}
	}
	if (ones != 0 && ones != c->len)
		return ss_error_set(err, SS_EDATA,
				    "event is not a tag sequence at position %lld",
				    (long long)ones);
	/* The all-zero event is the empty structure. */
	*score = ones == 0 && c->len > 0 ? -INFINITY : total;
	return SS_OK;
}

void ssi_chain_decode(const ssi_chain *c, const double *event,
		      int64_t *labels)
{
	const int64_t tt = c->t * c->t;
	for (int64_t i = 0; i < c->n; i++) {
		labels[i] = -1;
		for (int64_t k = 0; k < tt && i < c->len; k++)
			if (event[i * tt + k] != 0.0)
				labels[i] = k % c->t;
	}
}

/* The event of a label sequence: the inverse of ssi_chain_decode. */
int ssi_chain_encode(const ssi_chain *c, const int64_t *labels,
		     double *event, ss_error *err)
{
	const int64_t t = c->t, tt = t * t;
	int64_t unlabelled = 0;
	memset(event, 0, (size_t)(c->n * tt) * sizeof *event);
	for (int64_t i = 0; i < c->len; i++)
		unlabelled += labels[i] == -1;
	if (unlabelled == c->len)
		return SS_OK; /* the empty structure */
	for (int64_t i = 0; i < c->len; i++) {
		if (labels[i] < 0 || labels[i] >= t)
			return ss_error_set(err, SS_EDATA,
					    "labels holds %lld at [%lld], outside [0, %lld)",
					    (long long)labels[i], (long long)i,
					    (long long)t);
		event[i * tt + (i ? labels[i - 1] : 0) * t + labels[i]] = 1.0;
	}
	return SS_OK;
}

/* ---- the structure ------------------------------------------------------- */

static ssi_chain chain_of(const ss_element *e)
{
	ssi_chain c = {e->input[CHAIN_LOG_POTENTIALS], e->dim[SS_DIM_N],
		       e->dim[SS_DIM_T], ssi_length(e, CHAIN_LENGTHS)};
	return c;
}

static size_t lc_workspace_bytes(const int64_t dim[])
{
	return ssi_chain_workspace(dim[SS_DIM_N], dim[SS_DIM_T]);
}

static int lc_validate(const ss_element *e, void *ws, ss_error *err)
{
	ssi_chain c = chain_of(e);
	(void)ws;
	if (ssi_check_length(c.len, c.n, err))
		return SS_EDATA;
	return ssi_chain_validate(&c, "log_potentials", err);
}

static int lc_log_partition(const ss_element *e, void *ws, double *logz,
			    ss_error *err)
{
	ssi_chain c = chain_of(e);
	(void)err;
	ssi_chain_log_partition(&c, ws, logz);
	return SS_OK;
}

static int lc_marginals(const ss_element *e, void *ws, double *mu,
			double *logz, ss_error *err)
{
	ssi_chain c = chain_of(e);
	(void)err;
	ssi_chain_marginals(&c, ws, mu, logz);
	return SS_OK;
}

static int lc_argmax(const ss_element *e, void *ws, double *event,
		     double *score, ss_error *err)
{
	ssi_chain c = chain_of(e);
	(void)err;
	ssi_chain_argmax(&c, ws, event, score);
	return SS_OK;
}

static int lc_sample(const ss_element *e, void *ws, uint64_t seed,
		     int64_t num, double *events, size_t event_stride,
		     double *log_prob, size_t log_prob_stride, ss_error *err)
{
	ssi_chain c = chain_of(e);
	(void)err;
	ssi_chain_sample(&c, ws, seed, e->index, num, events, event_stride,
			 log_prob, log_prob_stride);
	return SS_OK;
}

static int lc_score(const ss_element *e, void *ws, const double *event,
		    double *score, ss_error *err)
{
	ssi_chain c = chain_of(e);
	(void)ws;
	return ssi_chain_score(&c, event, score, err);
}

static int lc_entropy(const ss_element *e, void *ws, double *entropy,
		      ss_error *err)
{
	ssi_chain c = chain_of(e);
	(void)err;
	ssi_chain_entropy(&c, ws, entropy);
	return SS_OK;
}

static void lc_decode(const ss_element *e, const double *event,
		      int64_t *const decodes[])
{
	ssi_chain c = chain_of(e);
	ssi_chain_decode(&c, event, decodes[0]);
}

static int lc_encode(const ss_element *e, const int64_t *decode,
		     double *event, ss_error *err)
{
	ssi_chain c = chain_of(e);
	c.len = ssi_length_clamped(e, CHAIN_LENGTHS);
	return ssi_chain_encode(&c, decode, event, err);
}

void ssi_chain_element(const ss_element *like, const double *theta,
		       const int64_t *lengths, ss_element *out)
{
	memset(out, 0, sizeof *out);
	memcpy(out->dim, like->dim, sizeof out->dim);
	out->index = like->index;
	out->input[CHAIN_LOG_POTENTIALS] = theta;
	out->input[CHAIN_LENGTHS] = lengths;
}

/* The chain is its own canonical problem: theta is a copy of θ. */
static void lc_lower(const ss_element *e, void *ws, double *theta,
		     ss_element *out)
{
	const int64_t n = e->dim[SS_DIM_N], t = e->dim[SS_DIM_T];
	(void)ws;
	memcpy(theta, e->input[CHAIN_LOG_POTENTIALS],
	       (size_t)(n * t * t) * sizeof *theta);
	ssi_chain_element(e, theta, e->input[CHAIN_LENGTHS], out);
}

static const ss_input_spec lc_inputs[CHAIN_INPUT_COUNT] = {
	[CHAIN_LOG_POTENTIALS] = {"log_potentials", SS_REAL, SS_REQUIRED, 3,
				  {SS_DIM_N, SS_DIM_T, SS_DIM_T}},
	[CHAIN_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

const ss_structure ssi_linear_chain = {
	.name = "linear-chain",
	.summary = "linear-chain CRF over tag sequences",
	.inputs = lc_inputs,
	.n_inputs = CHAIN_INPUT_COUNT,
	.lengths_input = CHAIN_LENGTHS,
	.event = {"event", SS_REAL, 3, {SS_DIM_N, SS_DIM_T, SS_DIM_T}},
	.decodes = {{"labels", SS_INT, 1, {SS_DIM_N}}},
	.n_decodes = 1,
	.workspace_bytes = lc_workspace_bytes,
	.validate = lc_validate,
	.log_partition = lc_log_partition,
	.marginals = lc_marginals,
	.argmax = lc_argmax,
	.sample = lc_sample,
	.score = lc_score,
	.entropy = lc_entropy,
	.decode = lc_decode,
	.encode = lc_encode,
	.lower = lc_lower,
};
