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

/* a * b + c, fused where the instruction set has it (the kernels built
 * for AVX2, AVX-512 and arm64): one rounding, and one operation instead
 * of two (GCC contracts no expression under -std=c11). */
#if defined(__FMA__) || defined(__aarch64__)
#define SSI_FMA(a, b, c) __builtin_fma((a), (b), (c))
#else
#define SSI_FMA(a, b, c) ((a) * (b) + (c))
#endif

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
	double kd = SSI_FMA(xc, log2e, shifter);
	unsigned long long kbits, pbits;
	memcpy(&kbits, &kd, sizeof kd);
	kd -= shifter;
	double r = SSI_FMA(-kd, ln2_lo, SSI_FMA(-kd, ln2_hi, xc));
	double p = 1.0 / 479001600.0;
	p = SSI_FMA(p, r, 1.0 / 39916800.0);
	p = SSI_FMA(p, r, 1.0 / 3628800.0);
	p = SSI_FMA(p, r, 1.0 / 362880.0);
	p = SSI_FMA(p, r, 1.0 / 40320.0);
	p = SSI_FMA(p, r, 1.0 / 5040.0);
	p = SSI_FMA(p, r, 1.0 / 720.0);
	p = SSI_FMA(p, r, 1.0 / 120.0);
	p = SSI_FMA(p, r, 1.0 / 24.0);
	p = SSI_FMA(p, r, 1.0 / 6.0);
	p = SSI_FMA(p, r, 0.5);
	p = SSI_FMA(p, r, 1.0);
	p = SSI_FMA(p, r, 1.0);
	memcpy(&pbits, &p, sizeof p);
	pbits += kbits << 52;
	memcpy(&p, &pbits, sizeof p);
	return x < -708.0 ? 0.0 : p;
}

/* exp(w[d] - m[d]) to an ulp: w - m = x + e exactly (Knuth's two-sum)
 * and exp(w - m) = exp(x) (1 + e), so scores of opposite signs lose no
 * bits; 0 where d = skip, w[d] = -inf or w[d] - m[d] < -708. */
static inline double ssi_exp_shifted_at(const double *w, const double *m,
					int64_t d, int64_t skip)
{
	double x = w[d] - m[d], b = x - w[d];
	double e = (w[d] - (x - b)) + (-m[d] - b);
	x = d == skip ? -INFINITY : x;
	e = x > -INFINITY ? e : 0.0;
	return ssi_exp(x) * (1.0 + e);
}

/*
 * log(x) for x = 0 (-inf) or normal x > 0, branch-free so that loops
 * calling it vectorise (fdlibm's __ieee754_log: x = 2^k (1 + f) with 1 + f
 * in [√2/2, √2), s = f / (2 + f), log(1 + f) = 2 atanh(s) by a polynomial
 * in s²; error below 1 ulp).
 */
static inline double ssi_log(double x)
{
	const double ln2_hi = 6.93147180369123816490e-01;
	const double ln2_lo = 1.90821492927058770002e-10;
	const double lg1 = 6.666666666666735130e-01;
	const double lg2 = 3.999999999940941908e-01;
	const double lg3 = 2.857142874366239149e-01;
	const double lg4 = 2.222219843214978396e-01;
	const double lg5 = 1.818357216161805012e-01;
	const double lg6 = 1.531383769920937332e-01;
	const double lg7 = 1.479819860511658591e-01;
	unsigned long long bits, hi;
	double m;
	memcpy(&bits, &x, sizeof x);
	/* The mantissa into [√2/2, √2), the exponent into k. */
	hi = (bits >> 32) + (0x3ff00000 - 0x3fe6a09e);
	double k = (double)((long long)(hi >> 20) - 0x3ff);
	hi = (hi & 0x000fffff) + 0x3fe6a09e;
	bits = hi << 32 | (bits & 0xffffffff);
	memcpy(&m, &bits, sizeof m);
	double f = m - 1.0, s = f / (2.0 + f), z = s * s, w = z * z;
	double t1 = w * (lg2 + w * (lg4 + w * lg6));
	double t2 = z * (lg1 + w * (lg3 + w * (lg5 + w * lg7)));
	double hfsq = 0.5 * f * f, r = t2 + t1;
	double y = k * ln2_hi - ((hfsq - (s * (hfsq + r) + k * ln2_lo)) - f);
	/* Added rather than selected, so that y need not be conditional. */
	return y + (x == 0.0 ? -INFINITY : 0.0);
}

/* ---- kernels compiled per instruction set (lib/isa.c) ----------------- */

/*
 * lib/chart.c and lib/dep_nonprojective.c are compiled once per
 * instruction set the build targets (x86-64: scalar, avx2, avx512;
 * arm64: neon), with -DSSI_ISA=<set>: their exported functions are named
 * SSI_KERNEL(f), f_<set>. lib/isa.c defines f itself, calling the set
 * chosen at start-up (ss_isa_select).
 */
#ifndef SSI_ISA
#define SSI_ISA generic
#endif
#define SSI_KERNEL(name) SSI_KERNEL_JOIN(name, SSI_ISA)
#define SSI_KERNEL_JOIN(name, isa) SSI_KERNEL_JOIN2(name, isa)
#define SSI_KERNEL_JOIN2(name, isa) name##_##isa

/* ---- the chart engine (lib/chart.c) ------------------------------------ */

/*
 * Semirings of the inside pass: log (logsumexp, times = +) for partition
 * functions, max for the best structure. Sampling, entropy and counting
 * run on these (lib/chart.c's banner).
 */
typedef enum ssi_semiring { SSI_LOG, SSI_MAX } ssi_semiring;

/* An address base + j per_j + s per_s into the cells or θ; base < 0:
 * absent (adds 0). */
typedef struct ssi_operand {
	int64_t base, per_j, per_s;
} ssi_operand;

#define SSI_ABSENT ((ssi_operand){-1, 0, 0})

/* cell[out + s] = ⊕_{lo <= j < hi} cell[x] ⊗ cell[y] ⊗ θ[part] - shift,
 * s < count; shift is 0, or, for a normalised step, the largest finite
 * value of its cells, set by each inside run. */
typedef struct ssi_step {
	int64_t out, count, lo, hi;
	ssi_operand x, y, part;
	int normalised;
	double shift;
	int live;     /* normalised: some cell is finite (the largest then
		       * is 0 exactly); set by an inside */
	int factored; /* set by a log inside: lib/chart.c, vecmat_log_f32 */
} ssi_step;

/* Upper bounds for one element's program: steps, cells, the candidates of
 * one cell (hi - lo), the cells of one step (count), and θ's parts. */
typedef struct ssi_chart_size {
	int64_t steps, cells, candidates, width, parts;
} ssi_chart_size;

#define SSI_CHART_ROWS 6 /* scratch rows of one step's width */
#define SSI_ROW_ALIGN 8  /* rows hold whole vectors of 8 doubles */

/*
 * A chart program and the engine's state. A structure's chart hook fills
 * it with ssi_chart_cells and ssi_chart_push (the last step pushed holds
 * the root); every cell a step reads must be written by an earlier step.
 * To keep the cells of the order of the scores' spread it may either
 *   - normalise a step (ssi_chart_push_normalised), where every structure
 *     uses exactly one cell of that step (a chain's position): each inside
 *     run subtracts the cells' largest value and adds it to log Z;
 *   - or point theta at potentials it shifted into shifted[] (room for
 *     size.parts), adding to offset the shifts every structure sums, and
 *     set factors to the most operands of one candidate (2 or 3): the log
 *     inside and outside then multiply the cells' exp where it is in range
 *     instead of taking an exp per candidate (for programs without
 *     normalised steps).
 */
typedef struct ssi_chart {
	ssi_step *step;
	int64_t n_steps, n_cells, root;
	const double *theta;     /* the potentials the steps read, or */
	const float *theta_f32;  /* these, where they are stored as floats */
	const double *score;     /* the unshifted potentials for scores, or */
	const float *score_f32;  /* these (set by lib/ops.c) */
	double offset;
	double *shifted;
	int factors;
	double factor_lo, factor_hi;   /* the range of a factor's log */
	double factor_min, factor_max; /* and of a factor */
	double *cell, *factor, *adj, *row[SSI_CHART_ROWS];
	double *cand; /* [3 candidates] */
	int32_t *active;
	int zero_parts; /* the outside zeroes each step's parts first
			 * (ssi_chart_zero_uncovered) */
	int values_checked; /* after a log inside over float potentials: 1
			     * where every potential its steps read was
			     * finite or -inf (the float kernels see it as
			     * they go), else 0 */
} ssi_chart;

/* How a backtrace picks a cell's candidate. */
typedef enum ssi_chooser { SSI_CHOOSE_BEST, SSI_CHOOSE_SAMPLE } ssi_chooser;

size_t ssi_chart_bytes(const ssi_chart_size *size);
/* An empty program over potentials theta (double, or float where dtype is
 * SS_F32) in ws[ssi_chart_bytes(size)]. */
void ssi_chart_init(ssi_chart *c, const ssi_chart_size *size,
		    const void *theta, ss_dtype dtype, void *ws);
/* count new cells; returns the first. */
int64_t ssi_chart_cells(ssi_chart *c, int64_t count);
void ssi_chart_push(ssi_chart *c, int64_t out, int64_t count, int64_t lo,
		    int64_t hi, ssi_operand x, ssi_operand y,
		    ssi_operand part);
void ssi_chart_push_normalised(ssi_chart *c, int64_t out, int64_t count,
			       int64_t lo, int64_t hi, ssi_operand x,
			       ssi_operand y, ssi_operand part);
/*
 * Before an outside into mu [parts]: where every step's parts are one
 * contiguous block (rows j of count parts, one after another), the
 * blocks disjoint and in increasing order (a chain's positions), zeroes
 * the parts no step reads and sets zero_parts, so that the outside
 * zeroes each step's block just before adding to it, while it is in
 * cache, instead of a pass over all of mu first; returns 1. Else does
 * nothing and returns 0 (the caller zeroes mu).
 */
int ssi_chart_zero_uncovered(ssi_chart *c, double *mu, int64_t parts);
/* Runs the program under sr: log Z or the best score (offset added). */
double ssi_chart_inside(ssi_chart *c, ssi_semiring sr);
/* After a log inside with log Z > -inf: adds the marginals to mu (may be
 * NULL); returns the entropy when entropy is set. */
double ssi_chart_outside(ssi_chart *c, double *mu, int entropy);
/* After the inside the chooser needs (max: best; log: sample): adds the
 * chosen structure's parts to event and returns its score under the
 * chart's score potentials. */
double ssi_chart_backtrace(ssi_chart *c, ssi_chooser chooser, ss_rng *rng,
			   double *event);

/*
 * The k-best semiring's state (lib/chart.c, ssi_chart_kbest): per cell
 * its K best derivations, best first (value and back pointer: candidate
 * j, rank a of the x cell, rank b of the y cell), how many it has, the
 * step that writes it; a heap and a stack for the merging and the
 * backtrace. ssi_kbest_init carves it from ssi_kbest_bytes(size, k).
 */
typedef struct ssi_kback {
	int32_t j, a, b;
} ssi_kback;

typedef struct ssi_kentry {
	double value;
	ssi_kback back;
} ssi_kentry;

typedef struct ssi_kbest {
	int32_t k;
	double *value;
	ssi_kback *back, *stack;
	int32_t *count, *step_of;
	ssi_kentry *heap;
} ssi_kbest;

size_t ssi_kbest_bytes(const ssi_chart_size *size, int64_t k);
void ssi_kbest_init(ssi_kbest *kb, const ssi_chart_size *size, int64_t k,
		    void *ws);
/* Runs the k-best inside; returns the offset to add to a root value. */
double ssi_chart_kbest(ssi_chart *c, ssi_kbest *kb);
/* Adds the parts of the root's derivation of rank `rank` to event and
 * returns its score (-inf, nothing added, past the last one). */
double ssi_chart_kbest_structure(ssi_chart *c, ssi_kbest *kb, int32_t rank,
				 double *event);

/* After a log inside with log Z > -inf: adds (∇² log Z · d)[part] =
 * Cov(parts_part, parts · d) to hv, with tau, gdot and norm [cells] and
 * SSI_HVP_ROWS rows of row_stride >= width doubles as scratch
 * (lib/chart_hvp.c); overwrites the adjoints. */
#define SSI_HVP_ROWS 8
void ssi_chart_hvp(ssi_chart *c, const double *d, double *hv, double *tau,
		   double *gdot, double *norm, double *rows,
		   int64_t row_stride);

/* After the max inside whose best score is best (> -inf): raises mm[part]
 * to the best score of a structure using the part (lib/chart.c). */
void ssi_chart_max_outside(ssi_chart *c, double *mm, double best);

/* ---- small kernels ----------------------------------------------------- */

/* log Σ exp(x[k]) over k < n (-inf for n = 0 or all -inf). */
double ssi_logsumexp(const double *x, int64_t n);


/* 1 if x is NaN or +inf (bad in a used entry). */
static inline int ssi_bad_value(double x) { return isnan(x) || x == INFINITY; }

/* The index of the first NaN or +inf among x[0 .. n-1], -1 if none: a
 * vectorised scan, for the checks that read a whole input. */
int64_t ssi_find_bad(const double *x, int64_t n);
int64_t ssi_find_bad_f32(const float *x, int64_t n);

/* ---- typed tensor views (lib/tensor.c) ---------------------------------- */

/* Whether the hooks read view t of spec's input (dimensions dim) as it is:
 * contiguous, and double, int64_t or (where spec reads_f32) float. */
int ssi_tensor_plain(const ss_input_spec *spec, const ss_tensor *t,
		     const int64_t dim[]);
/* The room one element's resolution may take. */
size_t ssi_resolve_bytes(const ss_structure *s, const int64_t dim[]);
/*
 * *out = e as the hooks read it: e itself where every input is plain (and
 * *room untouched), else copy, its other inputs gathered into *room,
 * which then moves past ssi_resolve_bytes. SS_EUNSUPPORTED for a dtype
 * its input's kind does not take.
 */
int ssi_resolve(const ss_structure *s, const ss_element *e,
		ss_element *copy, void **room, const ss_element **out,
		ss_error *err);

/* The length of element e: its lengths input, or n when absent. */
int64_t ssi_length(const ss_element *e, int lengths_input);
/* The same for any lengths input of s: absent, the size of the axis its
 * spec's dims[0] names (s->lengths_inputs). */
int64_t ssi_length_of(const ss_structure *s, const ss_element *e, int input);

/* SS_EDATA naming the dataset and the position of a NaN or +inf. */
int ssi_bad_value_error(ss_error *err, const char *dataset, double x,
			int64_t offset, int rank, const int64_t *shape);

/* The length of element e clamped to [0, n]: for code that may run before
 * validation (encoding decodes). */
int64_t ssi_length_clamped(const ss_element *e, int lengths_input);

/* Rejects a length of lengths input `input` of s outside [min, its
 * axis's size], naming the dataset (or the axis, where it is below min). */
int ssi_check_lengths(const ss_structure *s, const ss_element *e, int input,
		      int64_t min, ss_error *err);

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

/* ---- linear chains (lib/struct_linear_chain.c), shared with hmm ------- */

/* The chain's program and parts, for a structure that lowers to it. */
void ssi_chain_chart_size(const int64_t dim[], ssi_chart_size *size);
int ssi_chain_to_parts(const ss_element *e, int lengths_input,
		       const double *event, double *parts, int *empty,
		       ss_error *err);
void ssi_chain_decode(const ss_element *e, int lengths_input,
		      const double *event, int64_t *labels);
int ssi_chain_encode(const ss_element *e, int lengths_input,
		     const int64_t *labels, double *event, ss_error *err);
/* A linear-chain element over theta [n, t, t] with the lengths (NULL: n)
 * and the dimensions and index of like. */
void ssi_chain_element(const ss_element *like, const double *theta,
		       const int64_t *lengths, ss_element *out);
extern const ss_structure ssi_linear_chain;

/* ---- pcfgs (lib/struct_pcfg.c), shared with td-pcfg ------------------- */

/*
 * What pcfg and td-pcfg share: the terminals (emission [pt, V] with
 * word_ids [n], or preterminal_scores [n, pt]), the checks of a sentence,
 * and the compact decode of an event whose chart [n, n, labels] labels the
 * spans of width >= 2 (nt nonterminals, or r ranks), followed by the tags
 * [n, pt].
 */
/* SS_EDATA unless emission and word_ids come together, or
 * preterminal_scores alone (flags: which are present). */
int ssi_pcfg_check_terminals(const char *structure, int emission, int ids,
			     int scores, ss_error *err);
/* SS_EDATA for a length outside [2, n], naming the structure. */
int ssi_pcfg_check_length(const char *structure, int64_t L, int64_t n,
			  ss_error *err);
/* SS_EDATA for an id of the first L outside [0, V) (ids may be NULL). */
int ssi_pcfg_check_word_ids(const int64_t *ids, int64_t L, int64_t V,
			    ss_error *err);
/* SS_EDATA naming inputs[input] and the position of a NaN or +inf among
 * the first count values of e's input (absent or prepared: none). */
int ssi_pcfg_check_reals(const ss_element *e, const ss_input_spec *inputs,
			 int input, int64_t count, const int64_t *shape,
			 ss_error *err);
/* norm[p] = log Σ_v exp(E[p, v]) for p < pt. */
void ssi_pcfg_emission_normalisers(const double *E, int64_t pt, int64_t V,
				   double *norm);
/* The preparation of an emission [pt, V] (ss_structure.prepare): its
 * values checked, its normalisers into out [pt]. */
int ssi_pcfg_prepare_emission(const void *data, const int64_t dim[],
			      void *out, ss_error *err);
/* x - log Σ exp(row) for the row's normaliser norm; a row entirely -inf
 * stays -inf. */
double ssi_log_softmax(double x, double norm);
/* The tag score of word i, preterminal p, of e (its inputs emission,
 * word_ids and preterminal_scores at those indices): log-softmaxed
 * emission with normalisers norm, or the preterminal score as given. */
double ssi_pcfg_tag_score(const ss_element *e, int emission, int word_ids,
			  int preterminal_scores, const double *norm,
			  int64_t i, int64_t p);
/* Gradients (ss_structure.lower_grad). Adds to dx [m] the adjoint of
 * x [m] through y = log-softmax(x) given dy (y[k]'s at dy[k * step]):
 * dy[k] - softmax(x)[k] Σ dy, the sum and the update over the finite x
 * only (dy of a -inf y is ignored; a row entirely -inf adds nothing). */
void ssi_pcfg_log_softmax_grad(const double *x, int64_t m, const double *dy,
			       int64_t step, double *dx);
/* The adjoints of e's terminals through the tag scores of its L words
 * (ssi_pcfg_tag_score), dtag[i * stride + p] the tag score (i, p)'s:
 * into grad[preterminal_scores] as given (0 where the score is -inf), or
 * into grad[emission] through each row's log-softmax (norm from
 * e->prepared[emission] or recomputed). A NULL grad[k] is skipped. */
void ssi_pcfg_terminals_grad(const ss_element *e, int emission, int word_ids,
			     int preterminal_scores, int64_t L,
			     const double *dtag, int64_t stride,
			     double *const grad[]);
/* spans [2n-1, 3] (start, end, label) of an event over L words, in
 * pre-order, -1 in padding; and its inverse (SS_EDATA naming a span out
 * of range; all -1: the empty structure). */
void ssi_pcfg_decode(int64_t n, int64_t labels, int64_t pt, int64_t L,
		     const double *event, int64_t *spans);
int ssi_pcfg_encode(int64_t n, int64_t labels, int64_t pt, int64_t L,
		    const int64_t *spans, double *event, ss_error *err);

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
	int sampler; /* ssi_tree_sampler: how a non-projective tree is drawn */
} ssi_tree;

/* The non-projective sampler (lib/dep_nonprojective.c): the cheaper of
 * the two by its expected cost, or one forced (the tests run both). */
typedef enum ssi_tree_sampler {
	SSI_SAMPLER_AUTO = 0,
	SSI_SAMPLER_CHAIN_RULE,
	SSI_SAMPLER_WILSON
} ssi_tree_sampler;

/* Projective trees (no crossing arcs): Eisner's algorithm as a chart
 * program over θ = w (parts at h * ld + d). */
void ssi_projective_chart_size(int64_t n, int64_t ld, ssi_chart_size *size);
void ssi_projective_chart(const ssi_tree *p, ssi_chart *c);

/* Non-projective trees: the Matrix-Tree Theorem, maximum spanning
 * arborescence, exact sampling. */
size_t ssi_nonprojective_workspace(int64_t n);
double ssi_nonprojective_log_partition(const ssi_tree *p, void *ws);
double ssi_nonprojective_marginals(const ssi_tree *p, void *ws, double *mu);
double ssi_nonprojective_argmax(const ssi_tree *p, void *ws, int64_t *heads);
void ssi_nonprojective_sample(const ssi_tree *p, void *ws, ss_rng *rng,
			      int64_t *heads);
/* hv (zeroed) += ∇² log Z · d over the arcs, log Z > -inf: the
 * marginals' derivative along d (lib/dep_nonprojective.c). */
size_t ssi_nonprojective_hvp_workspace(int64_t n);
void ssi_nonprojective_hvp(const ssi_tree *p, void *ws, const double *d,
			   double *hv);

/* ---- the kernels of one instruction set (lib/isa.c) ------------------ */

/* The prototypes of the kernels, names transformed by K (SSI_KERNEL for
 * the set this file is compiled for; lib/isa.c declares every set's). */
#define SSI_KERNEL_PROTOTYPES(K)                                             \
	double K(ssi_chart_inside)(ssi_chart *c, ssi_semiring sr);          \
	double K(ssi_chart_outside)(ssi_chart *c, double *mu, int entropy); \
	double K(ssi_chart_backtrace)(ssi_chart *c, ssi_chooser chooser,    \
				      ss_rng *rng, double *event);          \
	void K(ssi_chart_max_outside)(ssi_chart *c, double *mm,            \
				      double best);                         \
	double K(ssi_chart_kbest)(ssi_chart *c, ssi_kbest *kb);             \
	double K(ssi_chart_kbest_structure)(ssi_chart *c, ssi_kbest *kb,    \
					    int32_t rank, double *event);   \
	size_t K(ssi_nonprojective_workspace)(int64_t n);                   \
	double K(ssi_nonprojective_log_partition)(const ssi_tree *p,        \
						  void *ws);                \
	double K(ssi_nonprojective_marginals)(const ssi_tree *p, void *ws,  \
					      double *mu);                  \
	double K(ssi_nonprojective_argmax)(const ssi_tree *p, void *ws,     \
					   int64_t *heads);                 \
	void K(ssi_nonprojective_sample)(const ssi_tree *p, void *ws,       \
					 ss_rng *rng, int64_t *heads);      \
	int64_t K(ssi_find_bad)(const double *x, int64_t n);               \
	int64_t K(ssi_find_bad_f32)(const float *x, int64_t n);            \
	int K(ssi_exp_shifted)(const double *w, const double *m, int64_t n, \
			       int64_t skip, double *a);                    \
	double K(ssi_logsumexp)(const double *x, int64_t n);               \
	size_t K(ssi_nonprojective_hvp_workspace)(int64_t n);               \
	void K(ssi_nonprojective_hvp)(const ssi_tree *p, void *ws,          \
				      const double *d, double *hv);         \
	void K(ssi_chart_hvp)(ssi_chart *c, const double *d, double *hv,    \
			      double *tau, double *gdot, double *norm,      \
			      double *rows, int64_t row_stride);

SSI_KERNEL_PROTOTYPES(SSI_KERNEL)

#endif
