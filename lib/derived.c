/*
 * derived.c - operations derived from a structure's canonical problem,
 * written once for every structure: count, cross-entropy and kl.
 *
 * lower gives the canonical problem of an element: potentials theta, one
 * per part, in the event layout of the canonical structure, so that
 * score(y) = Σ_parts event(y) · theta for every structure y. Then
 *
 *   log count       = log Z(1[theta > -inf]): the same recurrence over the
 *                     potentials 0 (allowed part) or -inf (forbidden);
 *   kl              KL(p ‖ q) = Σ μ_p · (θ_p - θ_q) - (log Z_p - log Z_q),
 *                     with μ_p the marginals of P (parts with μ_p = 0 do not
 *                     count, so -inf or NaN in unused parts is harmless);
 *   cross-entropy   H(p, q) = -Σ_y p(y) log q(y) = H(p) + KL(p ‖ q), with
 *                     H(p) the structure's exact entropy.
 *
 * Written so, KL(p ‖ p) is exactly 0 and H(p, p) exactly H(p), whatever the
 * potentials' magnitude (log Z_q - Σ μ_p · θ_q would cancel two numbers of
 * that magnitude). Both are ≥ 0; a rounding leftover below 0 is set to 0.
 * Where P or Q has no structure they are NaN (SPEC §4); where Q gives
 * probability 0 to a structure of P they are +inf, found exactly even when
 * that structure's p(y) underflows: the marginals of the uniform
 * distribution over P's support are > 0 on a part Q forbids.
 * Time: that of the marginals of P and log Z of Q, and of the entropy.
 */
#include "internal.h"

/* Workspace: theta_p, theta_q, mu [E each], then the largest of the
 * structure's and its canonical structure's workspaces. */
static size_t event_bytes(const ss_structure *s, const int64_t dim[])
{
	return ssi_align64((size_t)ss_array_size(&s->event, dim) *
			   sizeof(double));
}

static const ss_structure *canonical_of(const ss_structure *s)
{
	return s->canonical ? s->canonical : s;
}

size_t ssi_derived_workspace(const ss_structure *s, const int64_t dim[])
{
	size_t own = ssi_align64(s->workspace_bytes(dim));
	size_t canon = ssi_align64(canonical_of(s)->workspace_bytes(dim));
	if (!s->lower)
		return 0;
	return 3 * event_bytes(s, dim) + (own > canon ? own : canon);
}

typedef struct derived_ws {
	double *theta_p, *theta_q, *mu;
	void *rest;
} derived_ws;

static derived_ws carve(const ss_structure *s, const ss_element *e, void *ws)
{
	size_t E = event_bytes(s, e->dim);
	char *p = ws;
	derived_ws w = {(double *)p, (double *)(p + E), (double *)(p + 2 * E),
			p + 3 * E};
	return w;
}

int ssi_log_count(const ss_structure *s, const ss_element *e, void *ws,
		  double *log_count, ss_error *err)
{
	const int64_t E = ss_array_size(&s->event, e->dim);
	derived_ws w = carve(s, e, ws);
	ss_element c;
	s->lower(e, w.rest, w.theta_p, &c);
	for (int64_t k = 0; k < E; k++)
		if (w.theta_p[k] != -INFINITY && !isnan(w.theta_p[k]))
			w.theta_p[k] = 0.0;
	return canonical_of(s)->log_partition(&c, w.rest, log_count, err);
}

/*
 * Whether a structure of P's support uses a part that Q forbids, so that
 * q(y) = 0 < p(y): the marginals of the uniform distribution over P's
 * support (potentials 0 where P allows a part, -inf where not) are > 0 on
 * such a part. Overwrites theta_p and mu.
 */
static int escapes_support(const ss_structure *cs, const ss_element *cp,
			   int64_t E, derived_ws *w, ss_error *err, int *rc)
{
	double logz;
	int candidates = 0;
	for (int64_t k = 0; k < E; k++)
		candidates |= w->theta_p[k] > -INFINITY &&
			      w->theta_q[k] == -INFINITY;
	if (!candidates)
		return 0;
	for (int64_t k = 0; k < E; k++)
		if (w->theta_p[k] > -INFINITY)
			w->theta_p[k] = 0.0;
	if ((*rc = cs->marginals(cp, w->rest, w->mu, &logz, err)) != SS_OK)
		return 0;
	for (int64_t k = 0; k < E; k++)
		if (w->mu[k] > 0.0 && w->theta_q[k] == -INFINITY)
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
static int divergence(const ss_structure *s, const ss_element *p,
		      const ss_element *q, void *ws, double *kl,
		      ss_error *err)
{
	const ss_structure *cs = canonical_of(s);
	const int64_t E = ss_array_size(&s->event, p->dim);
	derived_ws w = carve(s, p, ws);
	ss_element cp, cq;
	double logz_p, logz_q, dot = 0.0;
	int rc = SS_OK;

	s->lower(p, w.rest, w.theta_p, &cp);
	if ((rc = cs->marginals(&cp, w.rest, w.mu, &logz_p, err)) != SS_OK)
		return rc;
	s->lower(q, w.rest, w.theta_q, &cq);
	if ((rc = cs->log_partition(&cq, w.rest, &logz_q, err)) != SS_OK)
		return rc;
	if (logz_p == -INFINITY || logz_q == -INFINITY) {
		*kl = NAN;
		return SS_OK;
	}
	for (int64_t k = 0; k < E; k++)
		if (w.mu[k] > 0.0)
			dot += w.mu[k] * (w.theta_p[k] - w.theta_q[k]);
	if (dot == INFINITY || escapes_support(cs, &cp, E, &w, err, &rc)) {
		*kl = rc == SS_OK ? INFINITY : NAN;
		return rc;
	}
	*kl = fmax(dot - (logz_p - logz_q), 0.0);
	return rc;
}

int ssi_kl(const ss_structure *s, const ss_element *p, const ss_element *q,
	   void *ws, double *kl, ss_error *err)
{
	return divergence(s, p, q, ws, kl, err);
}

/* H(p, q) = H(p) + KL(p ‖ q), both exact: H(p, p) is the entropy. */
int ssi_cross_entropy(const ss_structure *s, const ss_element *p,
		      const ss_element *q, void *ws, double *cross_entropy,
		      ss_error *err)
{
	derived_ws w = carve(s, p, ws);
	double kl, entropy;
	int rc = divergence(s, p, q, ws, &kl, err);
	if (rc != SS_OK || isnan(kl) || kl == INFINITY) {
		*cross_entropy = kl;
		return rc;
	}
	if ((rc = s->entropy(p, w.rest, &entropy, err)) != SS_OK)
		return rc;
	*cross_entropy = entropy + kl;
	return SS_OK;
}
