/*
 * ops.c - every operation, written once for every structure.
 *
 * An element e of structure s is first lowered to its canonical problem:
 * an element c of the canonical structure K whose input 0 holds the
 * potentials θ of the parts, so that score(y) = Σ parts(y) · θ
 * (ss_structure.lower; hmm builds its chain, an undirected tree the
 * directed one). K's chart hook then gives the inside recurrence as a
 * chart program, and the engine (lib/chart.c) runs it:
 *
 *   partition      log Z = inside under the log semiring
 *   marginals      the parts' adjoints of the outside sweep
 *   argmax         inside under max, then the backtrace choosing the best
 *   sample         inside under log, then one backtrace per sample, each
 *                  drawing from the element's stream (seed, index, sample)
 *   entropy        the outside sweep's Σ ḡ(o) H(o), exact and >= 0
 *   max-marginals  inside under max, then the max outside: each part's
 *                  best score of a structure using it
 *   top-k          inside under the k-best semiring (lazy merging), then
 *                  one backtrace per rank
 *   log-prob       Σ parts · θ - log Z, the parts read and checked by
 *                  to_parts
 *   count          log Z over potentials 1[θ > -inf] in log space
 *   kl             KL(p ‖ q) = Σ μ_p · (θ_p - θ_q) - (log Z_p - log Z_q),
 *                  with μ_p the marginals of P (parts with μ_p = 0 do not
 *                  count, so -inf or NaN in unused parts is harmless)
 *   cross-entropy  H(p, q) = -Σ_y p(y) log q(y) = H(p) + KL(p ‖ q)
 *   --grad         the derivatives of partition, log-prob, entropy,
 *                  cross-entropy and kl in the inputs: marginals, events
 *                  and second-order passes, back through lower (below)
 *
 * An element without a chart program (a non-projective tree) runs K's
 * special operations instead; count, kl and cross-entropy need only
 * log Z, marginals and entropy, so they hold for it too. The parts are
 * then turned into the structure's event (from_parts: an undirected
 * tree's edges are the arcs of either orientation).
 *
 * KL and cross-entropy. Written so, KL(p ‖ p) is exactly 0 and H(p, p)
 * exactly H(p), whatever the potentials' magnitude (log Z_q - Σ μ_p · θ_q
 * would cancel two numbers of that magnitude). Both are >= 0; a rounding
 * leftover below 0 is set to 0. Where P or Q has no structure they are NaN
 * (SPEC §4); where Q gives probability 0 to a structure of P they are
 * +inf, found exactly even when that structure's p(y) underflows: the
 * marginals of the uniform distribution over P's support are > 0 on a part
 * Q forbids.
 */
#include <stdlib.h>

#include "internal.h"

/* ---- the workspace and the canonical problem ---------------------------- */

static const ss_structure *canonical_of(const ss_structure *s)
{
	return s->canonical ? s->canonical : s;
}

/* Doubles of the canonical event (the parts). */
static int64_t parts_of(const ss_structure *s, const int64_t dim[])
{
	return ss_event_size(canonical_of(s), dim);
}

static size_t array_bytes(const ss_structure *s, const int64_t dim[])
{
	return ssi_align64((size_t)parts_of(s, dim) * sizeof(double));
}

static size_t chart_bytes(const ss_structure *k, const int64_t dim[])
{
	ssi_chart_size size;
	if (!k->chart_size)
		return 0;
	k->chart_size(dim, &size);
	return ssi_align64(ssi_chart_bytes(&size));
}

static size_t special_bytes(const ss_structure *s, const int64_t dim[])
{
	const ss_structure *k = canonical_of(s);
	size_t a = s->workspace_bytes ? s->workspace_bytes(dim) : 0;
	size_t b = k->workspace_bytes ? k->workspace_bytes(dim) : 0;
	return ssi_align64(a > b ? a : b);
}

/* The arrays of [parts] an operation needs: theta_p and parts, and for
 * count, cross-entropy and kl theta_q and mu. */
static int arrays_of(ss_op op)
{
	return op == SS_OP_LOG_COUNT || op == SS_OP_CROSS_ENTROPY ||
	       op == SS_OP_KL || op == SS_OP_COUNT || op == SS_OP_TOP_K ||
	       op == SS_OP_MAX_MARGINALS ? 4 : 2;
}

/*
 * Workspace: where a problem's inputs are views the hooks do not read as
 * they are, first the room they are resolved into (ss_view_bytes, lib/
 * tensor.c); then the arrays, then one region for the chart program or for
 * lower's scratch and the special operations. They share it: lower's
 * scratch is dead once the canonical problem is built, an element runs
 * either its program or the special operations, and to_parts needs
 * neither.
 */
typedef struct ops_ws {
	double *theta_p, *parts, *theta_q, *mu;
	void *chart, *special;
} ops_ws;

/* The k-best state of top-k, after the chart. */
static size_t ranks_bytes(const ss_structure *s, ss_op op,
			  const int64_t dim[], int64_t ranks)
{
	const ss_structure *k = canonical_of(s);
	ssi_chart_size size;
	if (op != SS_OP_TOP_K || !k->chart_size)
		return 0;
	k->chart_size(dim, &size);
	return ssi_align64(ssi_kbest_bytes(&size, ranks));
}

size_t ss_workspace_bytes_ranks(const ss_structure *s, ss_op op,
				const int64_t dim[], int64_t ranks)
{
	size_t chart = chart_bytes(canonical_of(s), dim) +
		       ranks_bytes(s, op, dim, ranks);
	size_t special = special_bytes(s, dim);
	return (size_t)arrays_of(op) * array_bytes(s, dim) +
	       (chart > special ? chart : special);
}

size_t ss_workspace_bytes(const ss_structure *s, ss_op op,
			  const int64_t dim[])
{
	return ss_workspace_bytes_ranks(s, op, dim, 1);
}

static ops_ws carve(const ss_structure *s, ss_op op, const ss_element *e,
		    void *ws)
{
	const size_t E = array_bytes(s, e->dim);
	const int arrays = arrays_of(op);
	char *p = ws;
	ops_ws w;
	w.theta_p = (double *)p;
	w.parts = (double *)(p + E);
	w.theta_q = arrays > 2 ? (double *)(p + 2 * E) : NULL;
	w.mu = arrays > 2 ? (double *)(p + 3 * E) : NULL;
	w.chart = w.special = p + (size_t)arrays * E;
	return w;
}

/* A canonical problem: its structure k, element c (θ = c.input[0].data) and,
 * where k has one for c, its chart program. theta is NULL where θ is
 * stored as floats, which only the chart reads (lower widens them on
 * request). */
typedef struct canon {
	const ss_structure *k;
	ss_element c;
	const double *theta;
	ssi_chart chart;
	int has_chart;
	void *special;
	int64_t parts;
} canon;

/* The canonical problem of element c of structure k (c.input[0].data = θ). */
static void canon_of_element(const ss_structure *k, const ss_element *c,
			     const ops_ws *w, canon *out)
{
	ssi_chart_size size;
	out->k = k;
	out->c = *c;
	out->theta = c->input[0].dtype == SS_F32 ? NULL : c->input[0].data;
	out->special = w->special;
	out->parts = ss_event_size(k, c->dim);
	out->has_chart = 0;
	if (k->chart) {
		k->chart_size(c->dim, &size);
		ssi_chart_init(&out->chart, &size, c->input[0].data, c->input[0].dtype,
			       w->chart);
		out->has_chart = k->chart(c, &out->chart);
	}
}

/*
 * Lowers e (of s) into theta (when s lowers) and builds its program. With
 * widen, potentials stored as floats are widened into theta, for the
 * operations that read θ themselves (score, count, kl); the others leave
 * them to the chart. At a temperature T, theta holds θ / T: every
 * operation then acts on p_T(y) ∝ exp(score(y) / T).
 */
static int lower(const ss_structure *s, const ss_element *e, const ops_ws *w,
		 double *theta, int widen, canon *out, ss_error *err)
{
	ss_element c = *e;
	const double t = e->temperature;
	const int tempered = t > 0.0 && t != 1.0;
	if (s->lower)
		s->lower(e, w->special, theta, &c);
	if ((widen || tempered) && c.input[0].dtype == SS_F32) {
		const float *x = c.input[0].data;
		const int64_t n = ss_event_size(canonical_of(s), c.dim);
		for (int64_t k = 0; k < n; k++)
			theta[k] = (double)x[k];
		c.input[0].data = theta;
		c.input[0].dtype = SS_F64;
	}
	if (tempered) { /* p_T: every score divided by T */
		const double *x = c.input[0].data;
		const int64_t n = ss_event_size(canonical_of(s), c.dim);
		int64_t overflow = -1;
		for (int64_t k = 0; k < n; k++) {
			theta[k] = x[k] / t;
			if (isinf(theta[k]) && isfinite(x[k]) && overflow < 0)
				overflow = k;
		}
		c.input[0].data = theta;
		if (overflow >= 0)
			return ss_error_set(err, SS_EDATA,
					    "a potential of %g divided by the temperature %g overflows",
					    x[overflow], t);
	}
	canon_of_element(canonical_of(s), &c, w, out);
	return SS_OK;
}

/* ---- operations on a canonical problem ------------------------------------- */

/* The log inside of p's chart, saying to p's element whether it saw
 * every potential finite or -inf (ss_element.values_checked). */
static double canon_inside(canon *p)
{
	const double logz = ssi_chart_inside(&p->chart, SSI_LOG);
	if (p->c.values_checked)
		*p->c.values_checked = p->chart.values_checked;
	return logz;
}

static int canon_log_partition(canon *p, double *logz, ss_error *err)
{
	if (!p->has_chart)
		return p->k->log_partition(&p->c, p->special, logz, err);
	*logz = canon_inside(p);
	return SS_OK;
}

/* mu [parts] (zeroed here) and log Z. */
static int canon_marginals(canon *p, double *mu, double *logz, ss_error *err)
{
	if (!p->has_chart) {
		memset(mu, 0, (size_t)p->parts * sizeof *mu);
		return p->k->marginals(&p->c, p->special, mu, logz, err);
	}
	*logz = canon_inside(p);
	if (*logz == -INFINITY || !ssi_chart_zero_uncovered(&p->chart, mu, p->parts))
		memset(mu, 0, (size_t)p->parts * sizeof *mu);
	if (*logz > -INFINITY)
		ssi_chart_outside(&p->chart, mu, 0);
	p->chart.zero_parts = 0;
	return SS_OK;
}

static int canon_entropy(canon *p, double *entropy, ss_error *err)
{
	double logz;
	if (!p->has_chart)
		return p->k->entropy(&p->c, p->special, entropy, err);
	logz = canon_inside(p);
	*entropy = logz == -INFINITY ? NAN : ssi_chart_outside(&p->chart, NULL, 1);
	return SS_OK;
}

/* The parts of the best structure (zeroed here) and its score. */
static int canon_argmax(canon *p, double *parts, double *score, ss_error *err)
{
	memset(parts, 0, (size_t)p->parts * sizeof *parts);
	if (!p->has_chart)
		return p->k->argmax(&p->c, p->special, parts, score, err);
	/* The score is the max chart's: cell by cell no larger than the log
	 * chart's, so that it never exceeds log Z by a rounding. */
	*score = ssi_chart_inside(&p->chart, SSI_MAX);
	if (*score > -INFINITY)
		ssi_chart_backtrace(&p->chart, SSI_CHOOSE_BEST, NULL, parts);
	return SS_OK;
}

/* One sample's parts (zeroed here) and score, after canon_log_partition. */
static int canon_sample(canon *p, ss_rng *rng, double *parts, double *score,
			ss_error *err)
{
	memset(parts, 0, (size_t)p->parts * sizeof *parts);
	if (!p->has_chart)
		return p->k->sample(&p->c, p->special, rng, parts, score, err);
	*score = ssi_chart_backtrace(&p->chart, SSI_CHOOSE_SAMPLE, rng, parts);
	return SS_OK;
}

/* ---- the commands --------------------------------------------------------- */

/* The event of parts: from_parts, or the parts themselves. */
static void to_event(const ss_structure *s, const ss_element *e,
		     const double *parts, double *event)
{
	if (s->from_parts)
		s->from_parts(e, parts, event);
	else if (parts != event)
		memcpy(event, parts,
		       (size_t)ss_event_size(s, e->dim) * sizeof *event);
}

/* Where parts go: the event itself when it is the parts. */
static double *parts_buffer(const ss_structure *s, const ops_ws *w,
			    double *event)
{
	return s->from_parts ? w->parts : event;
}

int ss_log_partition(const ss_structure *s, const ss_element *e,
			 void *ws, double *logz, ss_error *err)
{
	ss_element view;
	ops_ws w;
	canon p;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_PARTITION, e, ws);
	if (lower(s, e, &w, w.theta_p, 0, &p, err))
		return SS_EDATA;
	return canon_log_partition(&p, logz, err);
}

int ss_marginals_counts(const ss_structure *s, const ss_element *e,
			void *ws, double *mu, double *counts, double *logz,
			ss_error *err)
{
	ss_element view;
	ops_ws w;
	double *parts;
	canon p;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_MARGINALS, e, ws);
	parts = parts_buffer(s, &w, mu);
	if (lower(s, e, &w, w.theta_p, 0, &p, err))
		return SS_EDATA;
	if ((rc = canon_marginals(&p, parts, logz, err)) != SS_OK)
		return rc;
	if (counts && s->to_counts)
		s->to_counts(e, parts, counts);
	to_event(s, e, parts, mu);
	return rc;
}

int ss_marginals(const ss_structure *s, const ss_element *e, void *ws,
		     double *mu, double *logz, ss_error *err)
{
	return ss_marginals_counts(s, e, ws, mu, NULL, logz, err);
}

int ss_argmax(const ss_structure *s, const ss_element *e, void *ws,
		  double *event, double *score, ss_error *err)
{
	ss_element view;
	ops_ws w;
	double *parts;
	canon p;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_ARGMAX, e, ws);
	parts = parts_buffer(s, &w, event);
	if (lower(s, e, &w, w.theta_p, 0, &p, err))
		return SS_EDATA;
	if ((rc = canon_argmax(&p, parts, score, err)) == SS_OK)
		to_event(s, e, parts, event);
	return rc;
}

int ss_sample(const ss_structure *s, const ss_element *e, void *ws,
		  uint64_t seed, int64_t num, double *events,
		  size_t event_stride, double *log_prob,
		  size_t log_prob_stride, ss_error *err)
{
	ss_element view;
	ops_ws w;
	canon p;
	double logz;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_SAMPLE, e, ws);
	if (lower(s, e, &w, w.theta_p, 0, &p, err))
		return SS_EDATA;
	if ((rc = canon_log_partition(&p, &logz, err)) != SS_OK)
		return rc;
	for (int64_t k = 0; k < num; k++) {
		double *event = events + (size_t)k * event_stride;
		double *parts = parts_buffer(s, &w, event), score;
		double *lp = log_prob + (size_t)k * log_prob_stride;
		ss_rng rng;
		if (logz == -INFINITY) {
			memset(parts, 0, (size_t)p.parts * sizeof *parts);
			to_event(s, e, parts, event);
			*lp = -INFINITY;
			continue;
		}
		ss_rng_init(&rng, seed, e->index, k);
		if ((rc = canon_sample(&p, &rng, parts, &score, err)) != SS_OK)
			return rc;
		to_event(s, e, parts, event);
		*lp = score - logz;
	}
	return SS_OK;
}

/* ---- special structures under constraints ----------------------------------- */

/*
 * Where a structure has no chart (non-projective trees, one-to-one
 * alignments), top-k and max-marginals run its exact argmax under
 * constraints: parts forced into every structure (its force hook sets the
 * parts that exclude one to -inf) and parts forbidden (-inf). Scores are
 * summed from the unconstrained potentials theta.
 */
static int constrained_argmax(canon *p, const double *theta, double *theta_c,
			      const int32_t *forced, int32_t n_forced,
			      const int32_t *forbidden, int32_t n_forbidden,
			      double *parts, double *score, ss_error *err)
{
	const void *own = p->c.input[0].data;
	int rc;
	memcpy(theta_c, theta, (size_t)p->parts * sizeof *theta_c);
	for (int32_t i = 0; i < n_forced; i++)
		p->k->force(&p->c, theta_c, forced[i]);
	for (int32_t i = 0; i < n_forbidden; i++)
		theta_c[forbidden[i]] = -INFINITY;
	p->c.input[0].data = theta_c;
	memset(parts, 0, (size_t)p->parts * sizeof *parts);
	rc = p->k->argmax(&p->c, p->special, parts, score, err);
	p->c.input[0].data = own;
	if (rc == SS_OK && *score > -INFINITY) {
		double total = 0.0;
		for (int64_t k = 0; k < p->parts; k++)
			if (parts[k] != 0.0)
				total += parts[k] * theta[k];
		*score = total;
	}
	return rc;
}

/*
 * The k best by Lawler's partitioning (Lawler 1972; Murty 1968 for
 * assignments): the best structure y of a subspace (some parts forced,
 * some forbidden) is output, and the rest of the subspace is split by y's
 * free parts p_1 .. p_m into subspaces forcing p_1 .. p_{i-1} and
 * forbidding p_i, each with its own best structure; the best of all
 * subspaces is next. K m constrained argmaxes, each exact. Ties keep the
 * order in which subspaces were made.
 */
typedef struct lawler_space {
	double score;
	int64_t order;
	int32_t *forced, *forbidden, *used; /* used: the best's parts */
	int32_t n_forced, n_forbidden, n_used;
} lawler_space;

static int lawler_before(const lawler_space *a, const lawler_space *b)
{
	return a->score != b->score ? a->score > b->score : a->order < b->order;
}

static void lawler_free(lawler_space *s)
{
	free(s->forced);
	free(s->forbidden);
	free(s->used);
}

/* Space s with its best structure found (score -inf: none). */
static int lawler_solve(canon *p, const double *theta, const ops_ws *w,
			lawler_space *s, ss_error *err)
{
	int rc = constrained_argmax(p, theta, w->theta_q, s->forced,
				    s->n_forced, s->forbidden, s->n_forbidden,
				    w->mu, &s->score, err);
	int32_t n = 0;
	if (rc != SS_OK || s->score == -INFINITY)
		return rc;
	for (int64_t k = 0; k < p->parts; k++)
		n += w->mu[k] != 0.0;
	s->used = malloc(sizeof *s->used * (size_t)(n + 1));
	if (!s->used)
		return ss_error_set(err, SS_ENOMEM, "cannot allocate top-k's spaces");
	for (int64_t k = 0; k < p->parts; k++)
		if (w->mu[k] != 0.0)
			s->used[s->n_used++] = (int32_t)k;
	return SS_OK;
}

static int special_top_k(const ss_structure *s, const ss_element *e,
			 canon *p, const ops_ws *w, int64_t k, double *events,
			 size_t event_stride, double *scores, size_t score_stride,
			 ss_error *err)
{
	const double *theta = p->theta;
	int64_t cap = 16, n = 1, made = 1;
	lawler_space *open = calloc((size_t)cap, sizeof *open);
	int rc = open ? SS_OK : ss_error_set(err, SS_ENOMEM,
					     "cannot allocate top-k's spaces");
	if (rc == SS_OK)
		rc = lawler_solve(p, theta, w, &open[0], err);
	for (int64_t r = 0; r < k; r++) {
		double *event = events + (size_t)r * event_stride;
		double *parts = parts_buffer(s, w, event);
		int64_t best = -1;
		memset(parts, 0, (size_t)p->parts * sizeof *parts);
		scores[(size_t)r * score_stride] = -INFINITY;
		for (int64_t i = 0; rc == SS_OK && i < n; i++)
			if (open[i].score > -INFINITY &&
			    (best < 0 || lawler_before(&open[i], &open[best])))
				best = i;
		if (best >= 0) {
			lawler_space y = open[best];
			open[best] = open[--n];
			for (int32_t i = 0; i < y.n_used; i++)
				parts[y.used[i]] = 1.0;
			scores[(size_t)r * score_stride] = y.score;
			/* y's free parts split the rest of its space (after
			 * the last rank there is nothing to find) */
			for (int32_t i = 0; rc == SS_OK && r + 1 < k &&
					    i < y.n_used; i++) {
				lawler_space c = {0};
				int forced = 0;
				for (int32_t f = 0; f < y.n_forced; f++)
					forced |= y.forced[f] == y.used[i];
				if (forced)
					continue;
				c.forced = malloc(sizeof *c.forced * (size_t)(y.n_forced + i + 1));
				c.forbidden = malloc(sizeof *c.forbidden * (size_t)(y.n_forbidden + 1));
				if (!c.forced || !c.forbidden) {
					lawler_free(&c);
					rc = ss_error_set(err, SS_ENOMEM, "cannot allocate top-k's spaces");
					break;
				}
				/* the first space's lists are empty (NULL) */
				for (int32_t f = 0; f < y.n_forced; f++)
					c.forced[c.n_forced++] = y.forced[f];
				for (int32_t f = 0; f < i; f++)
					c.forced[c.n_forced++] = y.used[f];
				for (int32_t f = 0; f < y.n_forbidden; f++)
					c.forbidden[c.n_forbidden++] = y.forbidden[f];
				c.forbidden[c.n_forbidden++] = y.used[i];
				c.order = made++;
				if ((rc = lawler_solve(p, theta, w, &c, err)) != SS_OK ||
				    c.score == -INFINITY) {
					lawler_free(&c);
					continue;
				}
				if (n == cap) {
					lawler_space *more = realloc(open, sizeof *open * (size_t)(2 * cap));
					if (!more) {
						lawler_free(&c);
						rc = ss_error_set(err, SS_ENOMEM, "cannot allocate top-k's spaces");
						break;
					}
					open = more;
					cap *= 2;
				}
				open[n++] = c;
			}
			lawler_free(&y);
		}
		to_event(s, e, parts, event);
	}
	for (int64_t i = 0; open && i < n; i++)
		lawler_free(&open[i]);
	free(open);
	return rc;
}

/* Max-marginals where there is no chart: for each part some structure
 * may use, the best structure forced to use it. */
static int special_max_marginals(canon *p, const ops_ws *w, double *mm,
				 double *best, ss_error *err)
{
	const double *theta = p->theta;
	int rc = constrained_argmax(p, theta, w->theta_q, NULL, 0, NULL, 0,
				    w->mu, best, err);
	for (int64_t k = 0; k < p->parts; k++)
		mm[k] = -INFINITY;
	for (int32_t k = 0; rc == SS_OK && *best > -INFINITY && k < p->parts; k++) {
		double score;
		if (theta[k] == -INFINITY)
			continue;
		rc = constrained_argmax(p, theta, w->theta_q, &k, 1, NULL, 0,
					w->mu, &score, err);
		/* a structure that has the part: forcing may leave none */
		if (rc == SS_OK && score > -INFINITY && w->mu[k] != 0.0)
			mm[k] = score;
	}
	return rc;
}

int ss_top_k(const ss_structure *s, const ss_element *e, void *ws,
	     int64_t k, double *events, size_t event_stride, double *scores,
	     size_t score_stride, ss_error *err)
{
	ss_element view;
	ops_ws w;
	const ss_structure *kind = canonical_of(s);
	ssi_chart_size size;
	ssi_kbest kb;
	canon p;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_TOP_K, e, ws);
	if (lower(s, e, &w, w.theta_p, 1, &p, err))
		return SS_EDATA;
	if (!p.has_chart && !kind->force)
		return ss_error_set(err, SS_EUNSUPPORTED,
				    "%s: top-k needs a chart program or a force hook",
				    s->name);
	if (!p.has_chart)
		return special_top_k(s, e, &p, &w, k, events, event_stride,
				     scores, score_stride, err);
	if (k == 1) { /* the argmax: the max semiring's vector kernels */
		double *parts = parts_buffer(s, &w, events);
		rc = canon_argmax(&p, parts, scores, err);
		if (rc == SS_OK)
			to_event(s, e, parts, events);
		return rc;
	}
	kind->chart_size(p.c.dim, &size);
	ssi_kbest_init(&kb, &size, k,
		       (char *)w.chart + chart_bytes(kind, p.c.dim));
	ssi_chart_kbest(&p.chart, &kb);
	for (int64_t r = 0; r < k; r++) {
		double *event = events + (size_t)r * event_stride;
		double *parts = parts_buffer(s, &w, event);
		memset(parts, 0, (size_t)p.parts * sizeof *parts);
		scores[(size_t)r * score_stride] =
			ssi_chart_kbest_structure(&p.chart, &kb, (int32_t)r, parts);
		to_event(s, e, parts, event);
	}
	return SS_OK;
}

int ss_max_marginals(const ss_structure *s, const ss_element *e, void *ws,
		     double *mm, double *best, ss_error *err)
{
	ss_element view;
	ops_ws w;
	double *parts;
	canon p;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_MAX_MARGINALS, e, ws);
	parts = s->from_parts ? w.parts : mm;
	if (lower(s, e, &w, w.theta_p, 1, &p, err))
		return SS_EDATA;
	if (!p.has_chart && !p.k->force)
		return ss_error_set(err, SS_EUNSUPPORTED,
				    "%s: max-marginals need a chart program or a force hook",
				    s->name);
	if (!p.has_chart) {
		rc = special_max_marginals(&p, &w, parts, best, err);
	} else {
		for (int64_t k = 0; k < p.parts; k++)
			parts[k] = -INFINITY;
		*best = ssi_chart_inside(&p.chart, SSI_MAX);
		if (*best > -INFINITY)
			ssi_chart_max_outside(&p.chart, parts, *best);
	}
	if (rc != SS_OK)
		return rc;
	if (s->from_parts)
		s->from_parts_max(e, parts, mm);
	return SS_OK;
}

int ss_entropy(const ss_structure *s, const ss_element *e, void *ws,
		   double *entropy, ss_error *err)
{
	ss_element view;
	ops_ws w;
	canon p;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_ENTROPY, e, ws);
	if (lower(s, e, &w, w.theta_p, 0, &p, err))
		return SS_EDATA;
	return canon_entropy(&p, entropy, err);
}

int ss_score(const ss_structure *s, const ss_element *e, void *ws,
		 const double *event, double *score, ss_error *err)
{
	ss_element view;
	ops_ws w;
	canon p;
	double total = 0.0;
	int empty = 0, rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_LOG_PROB, e, ws);
	if (lower(s, e, &w, w.theta_p, 1, &p, err))
		return SS_EDATA;
	rc = s->to_parts(e, w.special, event, w.parts, &empty, err);
	if (rc != SS_OK)
		return rc;
	for (int64_t k = 0; k < p.parts; k++)
		if (w.parts[k] != 0.0)
			total += w.parts[k] * p.theta[k];
	*score = empty ? -INFINITY : total;
	return SS_OK;
}

int ss_log_count(const ss_structure *s, const ss_element *e, void *ws,
		     double *log_count, ss_error *err)
{
	ss_element view;
	ops_ws w;
	canon p, ones;
	int rc;
	if ((rc = ssi_resolve(s, e, &view, &ws, &e, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_LOG_COUNT, e, ws);
	if (lower(s, e, &w, w.theta_p, 1, &p, err))
		return SS_EDATA;
	for (int64_t k = 0; k < p.parts; k++)
		w.theta_q[k] = p.theta[k] == -INFINITY || isnan(p.theta[k])
			? p.theta[k] : 0.0;
	p.c.input[0].data = w.theta_q;
	canon_of_element(p.k, &p.c, &w, &ones);
	return canon_log_partition(&ones, log_count, err);
}

/*
 * Whether a structure of P's support uses a part that Q forbids, so that
 * q(y) = 0 < p(y): the marginals of the uniform distribution over P's
 * support (potentials 0 where P allows a part, -inf where not) are > 0 on
 * such a part. Overwrites theta_p and mu.
 */
static int escapes_support(canon *p, const double *theta_q, const ops_ws *w,
			   ss_error *err, int *rc)
{
	double logz;
	int candidates = 0;
	canon uniform;
	for (int64_t k = 0; k < p->parts; k++)
		candidates |= p->theta[k] > -INFINITY && theta_q[k] == -INFINITY;
	if (!candidates)
		return 0;
	for (int64_t k = 0; k < p->parts; k++)
		w->theta_p[k] = p->theta[k] > -INFINITY ? 0.0 : p->theta[k];
	p->c.input[0].data = w->theta_p;
	canon_of_element(p->k, &p->c, w, &uniform);
	if ((*rc = canon_marginals(&uniform, w->mu, &logz, err)) != SS_OK)
		return 0;
	for (int64_t k = 0; k < p->parts; k++)
		if (w->mu[k] > 0.0 && theta_q[k] == -INFINITY)
			return 1;
	return 0;
}

/*
 * KL(p ‖ q) = Σ μ_p (θ_p - θ_q) - (log Z_p - log Z_q), the sum over parts
 * of μ_p > 0: it is exactly 0 for P = Q, and its error is that of the
 * marginals times the difference of the potentials, not times their
 * magnitude. NaN without a structure of P or of Q, +inf where Q forbids a
 * structure of P.
 */
static int divergence(const ss_structure *s, const ss_element *pe,
		      const ss_element *qe, void *ws, double *kl,
		      ss_error *err)
{
	ss_element view_p, view_q;
	ops_ws w;
	canon p, q;
	double logz_p, logz_q, dot = 0.0;
	int rc;
	if ((rc = ssi_resolve(s, pe, &view_p, &ws, &pe, err)) != SS_OK ||
	    (rc = ssi_resolve(s, qe, &view_q, &ws, &qe, err)) != SS_OK)
		return rc;
	w = carve(s, SS_OP_KL, pe, ws);

	if (lower(s, pe, &w, w.theta_p, 1, &p, err))
		return SS_EDATA;
	if ((rc = canon_marginals(&p, w.mu, &logz_p, err)) != SS_OK)
		return rc;
	if (lower(s, qe, &w, w.theta_q, 1, &q, err))
		return SS_EDATA;
	if ((rc = canon_log_partition(&q, &logz_q, err)) != SS_OK)
		return rc;
	if (logz_p == -INFINITY || logz_q == -INFINITY) {
		*kl = NAN;
		return SS_OK;
	}
	/* P's theta may be its input: its own until escapes_support. */
	for (int64_t k = 0; k < p.parts; k++)
		if (w.mu[k] > 0.0)
			dot += w.mu[k] * (p.theta[k] - q.theta[k]);
	if (q.theta != w.theta_q)
		memcpy(w.theta_q, q.theta, (size_t)p.parts * sizeof *w.theta_q);
	if (dot == INFINITY || escapes_support(&p, w.theta_q, &w, err, &rc)) {
		*kl = rc == SS_OK ? INFINITY : NAN;
		return rc;
	}
	*kl = fmax(dot - (logz_p - logz_q), 0.0);
	return rc;
}

int ss_kl(const ss_structure *s, const ss_element *p,
	      const ss_element *q, void *ws, double *kl, ss_error *err)
{
	return divergence(s, p, q, ws, kl, err);
}

/* H(p, q) = H(p) + KL(p ‖ q), both exact: H(p, p) is the entropy. */
int ss_cross_entropy(const ss_structure *s, const ss_element *p,
			 const ss_element *q, void *ws, double *cross_entropy,
			 ss_error *err)
{
	ss_element view_p, view_q;
	double kl, entropy;
	int rc;
	if ((rc = ssi_resolve(s, p, &view_p, &ws, &p, err)) != SS_OK ||
	    (rc = ssi_resolve(s, q, &view_q, &ws, &q, err)) != SS_OK)
		return rc;
	rc = divergence(s, p, q, ws, &kl, err);
	if (rc != SS_OK || isnan(kl) || kl == INFINITY) {
		*cross_entropy = kl;
		return rc;
	}
	if ((rc = ss_entropy(s, p, ws, &entropy, err)) != SS_OK)
		return rc;
	*cross_entropy = entropy + kl;
	return SS_OK;
}

/* ---- gradients (--grad) ------------------------------------------------------ */

/*
 * The derivative of a result f with respect to the inputs as written: f's
 * gradient in the canonical potentials, dθ, then the chain rule through
 * the temperature (θ / T) and through lower (lower_grad: log-softmax,
 * symmetrisation). In θ:
 *   partition      ∂ log Z = μ
 *   log-prob       ∂ (score(y) - log Z) = parts(y) - μ
 *   entropy        ∂H = -∇² log Z · θ = -Cov(parts, score)
 *   kl             P: ∇²_p log Z_p · (θ_p - θ_q) = Cov_p(parts, s_p - s_q);
 *                  Q: μ_q - μ_p
 *   cross-entropy  P: -∇²_p log Z_p · θ_q = -Cov_p(parts, s_q);
 *                  Q: μ_q - μ_p
 * the products with the Hessian by the chart's second-order pass
 * (lib/chart_hvp.c) or the structure's hvp hook. Parts of potential -inf
 * take direction 0: no structure of positive probability has them.
 */

/* The extra arrays of gradients, after a kl workspace: the direction d,
 * the product hv, Q's marginals, and the second-order pass's cells and
 * rows. */
typedef struct grad_ws {
	double *d, *hv, *mu_q, *tau, *gdot, *norm, *rows;
	int64_t row_stride;
} grad_ws;

/* The chart's size for dim (all 0 without a chart). */
static ssi_chart_size chart_size_of(const ss_structure *s, const int64_t dim[])
{
	const ss_structure *k = canonical_of(s);
	ssi_chart_size size = {0};
	if (k->chart_size)
		k->chart_size(dim, &size);
	return size;
}

static size_t cells_bytes(const ss_structure *s, const int64_t dim[])
{
	return ssi_align64((size_t)chart_size_of(s, dim).cells * sizeof(double));
}

static int64_t hvp_row_stride(const ss_structure *s, const int64_t dim[])
{
	return (chart_size_of(s, dim).width + SSI_ROW_ALIGN - 1) /
	       SSI_ROW_ALIGN * SSI_ROW_ALIGN;
}

size_t ss_grad_workspace_bytes(const ss_structure *s, ss_op op,
			       const int64_t dim[])
{
	(void)op;
	return ss_workspace_bytes(s, SS_OP_KL, dim) + 3 * array_bytes(s, dim) +
	       3 * cells_bytes(s, dim) +
	       (size_t)(SSI_HVP_ROWS * hvp_row_stride(s, dim)) * sizeof(double);
}

static grad_ws carve_grad(const ss_structure *s, const int64_t dim[],
			  void *ws)
{
	const size_t E = array_bytes(s, dim), C = cells_bytes(s, dim);
	char *p = (char *)ws + ss_workspace_bytes(s, SS_OP_KL, dim);
	grad_ws g;
	g.d = (double *)p;
	g.hv = (double *)(p + E);
	g.mu_q = (double *)(p + 2 * E);
	g.tau = (double *)(p + 3 * E);
	g.gdot = (double *)(p + 3 * E + C);
	g.norm = (double *)(p + 3 * E + 2 * C);
	g.rows = (double *)(p + 3 * E + 3 * C);
	g.row_stride = hvp_row_stride(s, dim);
	return g;
}

const char *ss_grad_unsupported(const ss_structure *s, const int64_t *option,
				ss_op op)
{
	const ss_structure *k = canonical_of(s);
	(void)option;
	if (!ss_ops[op].has_grad)
		return "only partition, log-prob, entropy, cross-entropy and kl have gradients";
	if (s->lower && !s->lower_grad)
		return "the gradient through its normalisation is not built";
	if (op != SS_OP_PARTITION && op != SS_OP_LOG_PROB && !k->chart &&
	    !k->hvp)
		return "the second-order pass its gradient needs is not built";
	return NULL;
}

/* d (zeroed where θ is -inf): a direction from the values x. */
static void direction(const canon *p, const double *x, double *d)
{
	for (int64_t k = 0; k < p->parts; k++)
		d[k] = p->theta[k] > -INFINITY && isfinite(x[k]) ? x[k] : 0.0;
}

/* hv = ∇² log Z · d, after canon_marginals of p. */
static int canon_hvp(canon *p, const grad_ws *g, const double *d,
		     double *hv, ss_error *err)
{
	memset(hv, 0, (size_t)p->parts * sizeof *hv);
	if (!p->has_chart)
		return p->k->hvp(&p->c, p->special, d, hv, err);
	ssi_chart_hvp(&p->chart, d, hv, g->tau, g->gdot, g->norm, g->rows,
		      g->row_stride);
	return SS_OK;
}

/* The gradients of the inputs of e (of s) from dtheta, f's gradient in the
 * tempered canonical potentials (scaled here), into grad[] at sample i;
 * all 0 where the result is not finite. */
static void input_grads(const ss_structure *s, const ss_element *e,
			const ops_ws *w, double *dtheta, int finite,
			double *const grads[], const size_t stride[], int64_t i)
{
	double *grad[SS_MAX_INPUTS] = {0};
	const double t = e->temperature > 0.0 ? e->temperature : 1.0;
	const int64_t parts = parts_of(s, e->dim);
	for (int k = 0; k < s->n_inputs; k++) {
		if (!grads[k] || s->inputs[k].kind != SS_REAL)
			continue;
		grad[k] = grads[k] + (size_t)i * stride[k];
		memset(grad[k], 0,
		       (size_t)ss_input_size(s, k, e->dim) * sizeof *grad[k]);
		if (!e->input[k].data)
			grad[k] = NULL;
	}
	if (!finite)
		return;
	if (t != 1.0)
		for (int64_t k = 0; k < parts; k++)
			dtheta[k] /= t;
	if (s->lower_grad)
		s->lower_grad(e, w->special, dtheta, grad);
	else if (grad[0])
		memcpy(grad[0], dtheta, (size_t)parts * sizeof *dtheta);
}

static int grad_log_prob(const ss_structure *s, const ss_element *e,
			 const ops_ws *w, const double *events, int64_t num,
			 size_t event_stride, double *result,
			 size_t result_stride, const ss_grads *grads,
			 ss_error *err)
{
	canon p;
	double logz;
	int rc;
	if (lower(s, e, w, w->theta_p, 1, &p, err))
		return SS_EDATA;
	if ((rc = canon_marginals(&p, w->mu, &logz, err)) != SS_OK)
		return rc;
	for (int64_t i = 0; i < num; i++) {
		double score = 0.0, *lp = result + (size_t)i * result_stride;
		int empty = 0;
		rc = s->to_parts(e, w->special,
				 events + (size_t)i * event_stride, w->parts,
				 &empty, err);
		if (rc != SS_OK)
			return rc;
		for (int64_t k = 0; k < p.parts; k++) {
			if (w->parts[k] != 0.0)
				score += w->parts[k] * p.theta[k];
			w->theta_q[k] = w->parts[k] - w->mu[k];
		}
		*lp = empty || score == -INFINITY || logz == -INFINITY
			? -INFINITY : score - logz;
		input_grads(s, e, w, w->theta_q, isfinite(*lp), grads->p,
			    grads->stride, i);
	}
	return SS_OK;
}

/* kl and cross-entropy: the value, then Q's marginals, then P's (whose
 * chart the second-order pass reads). */
static int grad_divergence(const ss_structure *s, ss_op op,
			   const ss_element *pe, const ss_element *qe, void *ws,
			   const ops_ws *wp, const grad_ws *gp, double *result,
			   const ss_grads *grads, ss_error *err)
{
	ops_ws w = *wp;
	const grad_ws g = *gp;
	canon p, q;
	double logz;
	int rc = op == SS_OP_KL ? divergence(s, pe, qe, ws, result, err)
				: ss_cross_entropy(s, pe, qe, ws, result, err);
	if (rc != SS_OK)
		return rc;
	if (isfinite(*result)) {
		if (lower(s, qe, &w, w.theta_q, 1, &q, err))
			return SS_EDATA;
		if ((rc = canon_marginals(&q, g.mu_q, &logz, err)) != SS_OK)
			return rc;
		if (q.theta != w.theta_q)
			memcpy(w.theta_q, q.theta, (size_t)q.parts * sizeof *w.theta_q);
		if (lower(s, pe, &w, w.theta_p, 1, &p, err))
			return SS_EDATA;
		if ((rc = canon_marginals(&p, w.mu, &logz, err)) != SS_OK)
			return rc;
		for (int64_t k = 0; k < p.parts; k++)
			w.parts[k] = op == SS_OP_KL ? p.theta[k] - w.theta_q[k]
						    : w.theta_q[k];
		direction(&p, w.parts, g.d);
		if ((rc = canon_hvp(&p, &g, g.d, g.hv, err)) != SS_OK)
			return rc;
		for (int64_t k = 0; k < p.parts; k++) {
			if (op == SS_OP_CROSS_ENTROPY)
				g.hv[k] = 0.0 - g.hv[k];
			g.mu_q[k] -= w.mu[k];
		}
	}
	input_grads(s, pe, &w, g.hv, isfinite(*result), grads->p,
		    grads->stride, 0);
	input_grads(s, qe, &w, g.mu_q, isfinite(*result), grads->q,
		    grads->stride, 0);
	return SS_OK;
}

int ss_grad(const ss_structure *s, ss_op op, const ss_element *pe,
	    const ss_element *qe, void *ws, const double *events, int64_t num,
	    size_t event_stride, double *result, size_t result_stride,
	    const ss_grads *grads, ss_error *err)
{
	ss_element view_p, view_q;
	ops_ws w;
	grad_ws g;
	canon p;
	int rc;
	if ((rc = ssi_resolve(s, pe, &view_p, &ws, &pe, err)) != SS_OK ||
	    (qe && (rc = ssi_resolve(s, qe, &view_q, &ws, &qe, err)) != SS_OK))
		return rc;
	w = carve(s, SS_OP_KL, pe, ws);
	g = carve_grad(s, pe->dim, ws);

	switch (op) {
	case SS_OP_LOG_PROB:
		return grad_log_prob(s, pe, &w, events, num, event_stride,
				     result, result_stride, grads, err);
	case SS_OP_PARTITION:
		if (lower(s, pe, &w, w.theta_p, 1, &p, err))
			return SS_EDATA;
		if ((rc = canon_marginals(&p, w.mu, result, err)) != SS_OK)
			return rc;
		input_grads(s, pe, &w, w.mu, isfinite(*result), grads->p,
			    grads->stride, 0);
		return SS_OK;
	case SS_OP_ENTROPY:
		if (lower(s, pe, &w, w.theta_p, 1, &p, err))
			return SS_EDATA;
		if ((rc = canon_entropy(&p, result, err)) != SS_OK)
			return rc;
		if (isfinite(*result)) { /* the log inside is in the chart */
			direction(&p, p.theta, g.d);
			if ((rc = canon_hvp(&p, &g, g.d, g.hv, err)) != SS_OK)
				return rc;
			for (int64_t k = 0; k < p.parts; k++)
				g.hv[k] = 0.0 - g.hv[k]; /* +0, not -0 */
		}
		input_grads(s, pe, &w, g.hv, isfinite(*result), grads->p,
			    grads->stride, 0);
		return SS_OK;
	case SS_OP_KL:
	case SS_OP_CROSS_ENTROPY:
		return grad_divergence(s, op, pe, qe, ws, &w, &g, result,
				       grads, err);
	default:
		return ss_error_set(err, SS_EUNSUPPORTED, "%s has no gradient",
				    ss_ops[op].name);
	}
}
