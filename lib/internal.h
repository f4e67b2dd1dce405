/*
 * internal.h - what the engine's files share and the CLI does not see:
 * a vectorisable exp, the semiring kernels, small helpers.
 */
#ifndef SYNSTRUCT_INTERNAL_H
#define SYNSTRUCT_INTERNAL_H

#include <math.h>
#include <string.h>

#include "synstruct.h"

/* Round n bytes up to a multiple of 64 (the workspace alignment). */
static inline size_t ssi_align64(size_t n) { return (n + 63) & ~(size_t)63; }

/*
 * exp(x) for x <= 709, branch-free so that loops calling it vectorise.
 * x = k ln2 + r with |r| <= ln2/2; exp(r) by its degree-12 Taylor
 * polynomial (truncation below 2e-16 relative); 2^k added to the exponent
 * bits. Arguments below -708 (including -inf) give 0: after the max-shift of
 * a log-sum-exp such terms are below 1e-307 of the sum.
 */
static inline double ssi_exp(double x)
{
	const double log2e = 1.4426950408889634;
	const double ln2_hi = 6.93147180369123816490e-01;
	const double ln2_lo = 1.90821492927058770002e-10;
	const double shifter = 0x1.8p52;
	double xc = x < -708.0 ? -708.0 : x;
	double kd = xc * log2e + shifter;
	unsigned long long kbits, pbits;
	memcpy(&kbits, &kd, sizeof kd);
	kd -= shifter;
	double r = (xc - kd * ln2_hi) - kd * ln2_lo;
	double p = 1.0 / 479001600.0;
	p = p * r + 1.0 / 39916800.0;
	p = p * r + 1.0 / 3628800.0;
	p = p * r + 1.0 / 362880.0;
	p = p * r + 1.0 / 40320.0;
	p = p * r + 1.0 / 5040.0;
	p = p * r + 1.0 / 720.0;
	p = p * r + 1.0 / 120.0;
	p = p * r + 1.0 / 24.0;
	p = p * r + 1.0 / 6.0;
	p = p * r + 0.5;
	p = p * r + 1.0;
	p = p * r + 1.0;
	memcpy(&pbits, &p, sizeof p);
	pbits += kbits << 52;
	memcpy(&p, &pbits, sizeof p);
	return x < -708.0 ? 0.0 : p;
}

/* ---- semirings ----------------------------------------------------------- */

/*
 * A dynamic program reduces each cell's candidates under a semiring: the
 * log semiring (logsumexp, times = +) for partition functions and marginals,
 * the max semiring (max, times = +) for the best structure. The kernels
 * below gather candidates row by row so that only the reduction changes.
 */
typedef enum ssi_semiring { SSI_LOG, SSI_MAX, SSI_SEMIRING_COUNT } ssi_semiring;

/* log Σ exp(x[k]) over k < n (-inf for n = 0 or all -inf). */
double ssi_logsumexp(const double *x, int64_t n);

/*
 * out[c] = ⊕_a v[a] ⊗ M[a, c] for a < na, c < nc, M row-major with rows of
 * nc. SSI_LOG needs scratch[nc]; SSI_MAX stores the first maximising a in
 * arg[c] (arg may be NULL). Never produces NaN from -inf operands.
 */
void ssi_vecmat(ssi_semiring sr, int64_t na, int64_t nc, const double *v,
		const double *M, double *out, double *scratch, int32_t *arg);

/*
 * out[a] = ⊕_c M[a, c] ⊗ w[c]: the transposed product, through a transposed
 * copy in scratch[na * nc + nc].
 */
void ssi_matvec(ssi_semiring sr, int64_t na, int64_t nc, const double *M,
		const double *w, double *out, double *scratch);

/* Index k drawn with probability ∝ exp(logw[k * stride]) using uniform u in
 * [0, 1); -1 when every weight is zero. */
int64_t ssi_sample_log_weights(const double *logw, int64_t n, int64_t stride,
			       double u);

/* 1 if x is NaN or +inf (bad in a used entry). */
static inline int ssi_bad_value(double x) { return isnan(x) || x == INFINITY; }

/* The length of element e: its lengths input, or n when absent. */
int64_t ssi_length(const ss_element *e, int lengths_input);

/* SS_EDATA naming the dataset and the position of a NaN or +inf. */
int ssi_bad_value_error(ss_error *err, const char *dataset, double x,
			int64_t offset, int rank, const int64_t *shape);

/* The length of element e clamped to [0, n]: for code that may run before
 * validation (encoding decodes). */
int64_t ssi_length_clamped(const ss_element *e, int lengths_input);

/* Rejects a length outside [0, n]. */
int ssi_check_length(int64_t len, int64_t n, ss_error *err);

/* ---- work counters -------------------------------------------------------- */

/*
 * Counts of costly steps, for the tests; they never change a result.
 * SSI_COUNT_NORMALISE: normalisations of a whole parameter array (the
 * row normalisers of an hmm's emission_logits, O(t V)), which a chunk of
 * elements sharing one array should do once, not once per element.
 * Updated atomically from any thread.
 */
typedef enum ssi_counter {
	SSI_COUNT_NORMALISE,
	SSI_COUNTER_COUNT
} ssi_counter;

void ssi_count(ssi_counter c);
int64_t ssi_counter_value(ssi_counter c);

/* ---- operations derived from the canonical problem (lib/derived.c) ---- */

/* Workspace bytes of the derived operations (0 without lower). */
size_t ssi_derived_workspace(const ss_structure *s, const int64_t dim[]);
int ssi_log_count(const ss_structure *s, const ss_element *e, void *ws,
		  double *log_count, ss_error *err);
int ssi_cross_entropy(const ss_structure *s, const ss_element *p,
		      const ss_element *q, void *ws, double *cross_entropy,
		      ss_error *err);
int ssi_kl(const ss_structure *s, const ss_element *p, const ss_element *q,
	   void *ws, double *kl, ss_error *err);

/* ---- linear chain kernels (lib/struct_linear_chain.c), shared with hmm -- */

/* A chain problem: potentials theta [n, t, t], of which positions < len are
 * used (position 0: row 0 only). */
typedef struct ssi_chain {
	const double *theta;
	int64_t n, t, len;
} ssi_chain;

size_t ssi_chain_workspace(int64_t n, int64_t t);
int ssi_chain_validate(const ssi_chain *c, const char *dataset, ss_error *err);
void ssi_chain_log_partition(const ssi_chain *c, void *ws, double *logz);
void ssi_chain_marginals(const ssi_chain *c, void *ws, double *mu,
			 double *logz);
void ssi_chain_argmax(const ssi_chain *c, void *ws, double *event,
		      double *score);
void ssi_chain_sample(const ssi_chain *c, void *ws, uint64_t seed,
		      int64_t index, int64_t num, double *events,
		      size_t event_stride, double *log_prob,
		      size_t log_prob_stride);
int ssi_chain_score(const ssi_chain *c, const double *event, double *score,
		    ss_error *err);
void ssi_chain_entropy(const ssi_chain *c, void *ws, double *entropy);
void ssi_chain_decode(const ssi_chain *c, const double *event,
		      int64_t *labels);
int ssi_chain_encode(const ssi_chain *c, const int64_t *labels,
		     double *event, ss_error *err);
/* A linear-chain element over theta [n, t, t] with the lengths (NULL: n)
 * and the dimensions and index of like. */
void ssi_chain_element(const ss_element *like, const double *theta,
		       const int64_t *lengths, ss_element *out);
extern const ss_structure ssi_linear_chain;

/* ---- dependency trees (lib/dep_projective.c, lib/dep_nonprojective.c) -- */

/*
 * A dependency-tree problem: arc scores w[h * ld + d] for the arc head h ->
 * dependent d over nodes 0 .. n-1 (n >= 1, node 0 the root). Column 0 and
 * the diagonal are never read; -inf marks a forbidden arc. A structure
 * gives every node d >= 1 one head; its score is Σ_d w[head(d), d].
 * single_root: exactly one arc leaves node 0. heads[0] is always -1.
 * Where no tree exists, log Z and the best score are -inf and heads are
 * all -1. Marginals mu[h * ld + d] are written for h, d < n (zero on the
 * diagonal and in column 0); the caller zeroes the rest.
 */
typedef struct ssi_tree {
	const double *w;
	int64_t n, ld;
	int single_root;
} ssi_tree;

/* Projective trees (no crossing arcs): Eisner's algorithm. The workspace
 * holds the inside chart that marginals and sample read after inside. */
size_t ssi_projective_workspace(int64_t n);
double ssi_projective_inside(const ssi_tree *p, void *ws);
void ssi_projective_marginals(const ssi_tree *p, void *ws, double logz,
			      double *mu);
double ssi_projective_argmax(const ssi_tree *p, void *ws, int64_t *heads);
void ssi_projective_sample(const ssi_tree *p, void *ws, ss_rng *rng,
			   int64_t *heads);
/* H, from the charts of inside and marginals (left in ws). */
double ssi_projective_entropy(const ssi_tree *p, void *ws);

/* Non-projective trees: the Matrix-Tree Theorem, maximum spanning
 * arborescence, exact sampling. */
size_t ssi_nonprojective_workspace(int64_t n);
double ssi_nonprojective_log_partition(const ssi_tree *p, void *ws);
double ssi_nonprojective_marginals(const ssi_tree *p, void *ws, double *mu);
double ssi_nonprojective_argmax(const ssi_tree *p, void *ws, int64_t *heads);
void ssi_nonprojective_sample(const ssi_tree *p, void *ws, ss_rng *rng,
			      int64_t *heads);

#endif
