/*
 * dep_nonprojective.c - non-projective dependency trees: the Matrix-Tree
 * Theorem, the maximum spanning arborescence, exact sampling.
 *
 * Nodes 0 .. n-1, node 0 the root. Arc scores w[h * ld + d] for h -> d;
 * column 0 and the diagonal are never read, -inf forbids an arc. A tree
 * gives every d >= 1 one head so that following heads from any node
 * reaches 0; single root: exactly one arc leaves 0. Scores add.
 *
 * Weights. Each column d is shifted by its largest finite score m_d (over
 * every head, the root included): a[h, d] = exp(w[h, d] - m_d) <= 1 and
 * Z = exp(Σ_d m_d) Z(a), whatever the magnitude of the scores.
 * r_d = a[0, d] (root arcs), A[h, d] = a[h, d] for h, d >= 1.
 *
 * Precision. Everything below runs first in double (vectorised). It is
 * redone on scaled numbers when some finite a is below e^-700 (a spread
 * of more than 700 nats in a column: scores over ±500, root arcs at 0
 * and the rest at +12000) or when the double pass raised FE_UNDERFLOW or
 * FE_OVERFLOW (a product of small weights left the range). A scaled
 * number (np_xf) is m · 2^e with a double mantissa 1/2 <= |m| < 1 (or
 * m = 0) and an exponent e kept apart, an integer held in a double
 * (exact up to 2^53), so no weight, product or quotient of weights
 * leaves the range, whatever the scores (an 80-bit long double ends at
 * e^±11356: a column spread of 12000 already underflows it). Each
 * sum, product or quotient of scaled numbers rounds once, in the
 * mantissa, to a relative 2^-53, just as double arithmetic does without
 * underflow: the scaled kernels are the double ones instantiated on
 * np_xf (one template, NP_KERNELS, the same operations in the same
 * order), and subtraction-free as they are. Without underflow every
 * operation below is a sum, product or quotient of non-negative numbers
 * with a relative rounding error of one ulp, so a double pass that
 * raises neither flag is as good as the scaled one. The few sums that
 * form log Z from the pivots (Σ_d m_d, Σ log p_k; O(n) terms, which may
 * cancel to a small log Z) are accumulated in long double. The caller's
 * floating-point flags are restored.
 *
 * Partition function (Kirchhoff; Koo, Globerson, Carreras and Collins
 * 2007; Smith and Smith 2007). Multi-root: the Laplacian over 1 .. n-1
 *   L[d, d] = r_d + Σ_{h≠d} A[h, d],   L[h, d] = -A[h, d]
 * has det L = Σ over trees Π a = Z(a). Single root: with
 * L0 the same matrix with r = 0, Z(a) = Σ_d r_d C_d, C_d = det of L0
 * without row and column d (the arborescences of nodes 1 .. n-1 rooted
 * at d): Koo et al.'s variant puts r in place of L0's first row.
 *
 * LU with pivoting cancels catastrophically here: with root arcs at -500
 * and 1 <-> 2 at +500, L = [[1+ε, -1], [-1, 1+ε]] (ε = e^-1000) and
 * det L = 2ε + ε² is lost in 1 + ε = 1 whatever the precision. So the
 * factorisation is the GTH elimination (Grassmann, Taksar and Heyman
 * 1985), which never subtracts: the Schur complement of a column-
 * diagonally-dominant M-matrix is one again, its off-diagonal weights
 * and column excess r are updated by additions of non-negative numbers,
 * and each pivot is recomputed as its column's mass instead of the
 * cancelling diagonal. Eliminating node k with R the nodes still left:
 *   p_k  = r_k + Σ_{i∈R} A[i, k]               (single root: no r_k)
 *   t_j  = A[k, j] / p_k                       (j ∈ R)
 *   r_j += r_k t_j,   A[i, j] += A[i, k] t_j   (i, j ∈ R)
 *   log det L = Σ_k log p_k.
 * (r_j is the weight with which j reaches the root through eliminated
 * nodes; A[i, j] likewise reaches i.) Single root: the same elimination
 * of all nodes but the last, ℓ, with p_k = Σ_{i∈R} A[i, k], gives
 * Π_{k≠ℓ} p_k = C_ℓ and the updated r_ℓ = Σ_d r_d C_d / C_ℓ, so
 *   log Z(a) = Σ_{k≠ℓ} log p_k + log r_ℓ
 * (the t¹ coefficient of det(L0 + t diag r), all of whose other pivots
 * are O(1)). A node whose column mass is 0 at its turn has no head but
 * the root left: it becomes ℓ (the elimination restarts with it last),
 * and a second such node means no single-root tree. Every quantity is a
 * sum of non-negative terms, so each carries a relative error of a few
 * ulps times the number of steps behind it: log Z is exact to ~1e-15
 * for any scores, and -inf exactly when no tree exists.
 *
 * Marginals are the gradient of log Z (Koo et al. 2007):
 *   μ[h, d] = A[h, d] (L⁻¹[d, d] - L⁻¹[d, h]),   μ[0, d] = r_d L⁻¹[d, d]
 * (single root: the same derivatives of log Σ_d r_d C_d; Zmigrod, Vieira
 * and Cotterell 2021). The difference of inverse entries cancels as the
 * determinant did (both are ~1/ε above, their difference 1/2), so it is
 * formed by differentiating the elimination in reverse (adjoints x̄ =
 * ∂ log Z / ∂x, one sweep back over the steps):
 *   t̄_j = r̄_j r_k + Σ_i Ā[i, j] A[i, k]
 *   Ā[i, k] += Σ_j Ā[i, j] t_j,   r̄_k += Σ_j r̄_j t_j
 *   Ā[k, j] += t̄_j / p_k,   p̄_k = (1 - Σ_j t̄_j t_j) / p_k
 *   Ā[i, k] += p̄_k,   r̄_k += p̄_k (multi-root only)
 * which yields Ā[h, d] = L⁻¹[d, d] - L⁻¹[d, h] and r̄_d = L⁻¹[d, d]
 * directly, and μ = a ∘ Ā. The only subtraction, in p̄_k, is of terms
 * that are at most n / p_k and is multiplied by weights at most p_k, so
 * marginals carry an absolute error of order n² ulps; tiny negative
 * results of that rounding are clamped to 0.
 *
 * Best tree: Chu-Liu-Edmonds (Chu and Liu 1965; Edmonds 1967). Every
 * node takes its best incoming arc; a cycle C is contracted into one
 * node, an arc x -> v ∈ C entering it with weight w(x, v) - w(best(v), v)
 * and arcs leaving it keeping their weight; the best tree of the
 * contracted graph, expanded, keeps every cycle arc but the one into
 * the node where the tree enters. Single root: the weights are pairs
 * (-[h = 0], w) compared lexicographically (an ordered group, on which
 * the algorithm is unchanged), so the tree has the fewest root arcs
 * possible and among those the best score: exactly the best single-root
 * tree when one exists (Zmigrod, Vieira and Cotterell 2020 discuss the
 * constraint). Ties are broken by the first maximum; any tie-break is
 * optimal. The score is then summed over d = 1 .. n-1 from w itself.
 *
 * Sampling. Two exact samplers; by default the one of lower expected
 * cost. Single root: the root's child c is drawn first from the root
 * marginals μ[0, ·]; the trees with 0 -> c are then, less that arc, the
 * multi-root trees over c and the other nodes with c as their root, and
 * one of those is drawn. Each step of the walk or draw of a head takes
 * one ss_rng_uniform, so a sample is a pure function of the rng.
 *
 * Wilson's algorithm (1996): for d = 1 .. n-1 in turn, walk from d, each
 * step to a head drawn ∝ a (the walk moves from a node to its head,
 * absorbed at the root), until the tree so far is reached; each node's
 * last exit is its head, so the walk's loop-erased path joins the tree.
 * The tree is exact in distribution and the walk's length random: its
 * expected number of steps is Σ_d G[d, d] (by Wilson's cycle popping,
 * node d is left G[d, d] times on average), G[d, d] the
 * walk's expected visits to d from d before the root, which is
 * p_d L⁻¹[d, d] (p_d = r_d + Σ_h A[h, d], and L⁻¹[d, d] is r̄_d of the
 * marginals' adjoint sweep below). On scores of a few units it is about
 * 2n steps; where weights trap the walk (two nodes each other's best
 * head by 1000 nats) it is e^1000.
 *
 * The chain rule over heads (Colbourn, Myrvold and Neufeld 1996), for
 * such trees: for d = 1, 2, ... draw head(d) from its exact conditional
 * given the heads already drawn, then contract d into its head's group
 * (its row of weights is added to the group's row: the group now
 * reaches wherever d did). The trees with h -> d are, less that arc, the
 * forests rooted at {0, d} in which h is not below d; all those forests
 * share one weight F(d), and the fraction in which h's path reaches 0 is
 * esc_d(h), the probability that the walk from h to a head drawn ∝ A (a
 * group's row: the sum of its members' rows), and on, is absorbed at the
 * root before d. So
 *   P(head(d) = h | drawn) ∝ a[h, d] esc_d(group(h)),   esc_d(0) = 1,
 * and esc_d, the absorption probabilities of a chain with absorbing
 * states 0 and d, comes subtraction-free from a GTH elimination of the
 * other undrawn groups (d kept as the last node):
 *   esc_k = (r_k + Σ_{i∈R} A[i, k] esc_i) / p_k   (k in reverse order).
 * No walk is run, so peaked weights cannot stall it; it costs Σ_k k³/3
 * ≈ n⁴/12 multiply-adds. Updating L⁻¹ by rank-one steps as heads are
 * drawn would take O(n³), but each update subtracts, and with two nodes
 * each other's best head by 1000 nats the entries it subtracts are e^1000
 * apart from their difference.
 *
 * The choice: the sampler first runs the marginals' elimination and
 * sweep (O(n³)), which gives log Z (no tree: every head -1) and the
 * walk's expected length T; Wilson's algorithm where T · NP_STEP_COST
 * is at most n⁴/12, the chain rule otherwise. The choice is a function
 * of the scores, not of the draws, so either way the sample is exact.
 *
 * Second order (--grad): ∇² log Z · d, the marginals' derivative along
 * d, by the same elimination and reverse sweep on dual numbers (see
 * "the second order" below).
 *
 * Time: log Z O(n³) (n³/3 multiply-adds), marginals O(n³) (about 3×
 * log Z), their derivative along d O(n³) (about 3× the marginals), best
 * tree O(n³) worst case (O(n²) per contraction), a sample the marginals'
 * O(n³) and then O(n² + T log n) expected by Wilson's algorithm (T the
 * walk's expected length, about 2n on moderate scores) or O(n⁴) by the
 * chain rule where T > n⁴ / (12 NP_STEP_COST); single root adds one more
 * marginal pass. Memory O(n²): 56 n² bytes, 144 n² more for the second
 * order.
 *
 * References: T. Koo, A. Globerson, X. Carreras, M. Collins, "Structured
 * prediction models via the matrix-tree theorem" (EMNLP 2007);
 * W. Grassmann, M. Taksar, D. Heyman, "Regenerative analysis and steady
 * state distributions for Markov chains" (Oper. Res. 1985); R. Zmigrod,
 * T. Vieira, R. Cotterell, "Please mind the root" (EMNLP 2020) and
 * "Efficient computation of expectations under spanning tree
 * distributions" (TACL 2021); J. Edmonds, "Optimum branchings" (1967);
 * C. Colbourn, W. Myrvold, E. Neufeld, "Two algorithms for unranking
 * arborescences" (J. Algorithms 1996); D. Wilson, "Generating random
 * spanning trees more quickly than the cover time" (STOC 1996).
 */
#include <fenv.h>

#include "internal.h"

/* Compiled once per instruction set, like lib/chart.c: the exported
 * functions carry the set's suffix (SSI_KERNEL; lib/isa.c dispatches). */

/* Arithmetic of the elimination: double, or scaled numbers np_xf as the
 * fallback. */
enum { NP_DOUBLE, NP_XF };

#define NP_LN2 0.693147180559945309417232121458176568L

/* ---- scaled numbers ------------------------------------------------------- */

/* m · 2^e: m = 0 (zero, with e = NP_XF_ZERO_E, below any other exponent)
 * or 1/2 <= |m| < 1; e an integer held in a double. */
typedef struct np_xf {
	double m, e;
} np_xf;

#define NP_XF_ZERO_E (-0x1p900)

static inline np_xf xf_zero(void) { return (np_xf){0.0, NP_XF_ZERO_E}; }
static inline np_xf xf_one(void) { return (np_xf){0.5, 1.0}; }

/* m · 2^e normalised, for m = 0 or a normal m (every mantissa below is
 * one: products of mantissas are >= 1/4, aligned sums >= 2^-54 or 0). */
static inline np_xf xf_norm(double m, double e)
{
	uint64_t b;
	int64_t k;
	np_xf r;
	memcpy(&b, &m, sizeof b);
	k = (int64_t)((b >> 52) & 0x7ff) - 1022;
	b = (b & ~(0x7ffULL << 52)) | (1022ULL << 52);
	memcpy(&r.m, &b, sizeof b);
	/* Selects rather than a branch on zero. */
	r.m = m == 0.0 ? 0.0 : r.m;
	r.e = m == 0.0 ? NP_XF_ZERO_E : e + (double)k;
	return r;
}

/* Any double x >= 0 (subnormal included). */
static inline np_xf xf_of(double x)
{
	int k;
	double m = frexp(x, &k);
	return m == 0.0 ? xf_zero() : (np_xf){m, (double)k};
}

/* x for x <= 2^1000 (a probability, a marginal); 0 below 2^-1100. */
static inline double xf_double(np_xf x)
{
	double e = x.e < -1100.0 ? -1100.0 : x.e > 1000.0 ? 1000.0 : x.e;
	return ldexp(x.m, (int)e);
}

static inline np_xf xf_mul(np_xf a, np_xf b)
{
	return xf_norm(a.m * b.m, a.e + b.e);
}

static inline np_xf xf_div(np_xf a, np_xf b)
{
	return xf_norm(a.m / b.m, a.e - b.e);
}

/* a + b: the smaller aligned to the larger's exponent by an exact power
 * of two (past 64 binades it is below half an ulp of the larger and
 * drops out), then one rounded addition. The operands need only be
 * 1/4 <= |m| < 1 or 0 (an unnormalised product of mantissas will do). */
static inline np_xf xf_add(np_xf a, np_xf b)
{
	const int swap = a.e < b.e;
	const double hm = swap ? b.m : a.m, he = swap ? b.e : a.e;
	const double lm = swap ? a.m : b.m, d = he - (swap ? a.e : b.e);
	uint64_t bits = (uint64_t)(1023 - (int64_t)(d < 64.0 ? d : 64.0)) << 52;
	double s;
	memcpy(&s, &bits, sizeof s);
	return xf_norm(hm + (d <= 64.0 ? lm * s : 0.0), he);
}

/* x + a b, with one normalisation. */
static inline np_xf xf_madd(np_xf x, np_xf a, np_xf b)
{
	return xf_add(x, (np_xf){a.m * b.m, a.e + b.e});
}

static inline np_xf xf_sub(np_xf a, np_xf b)
{
	b.m = -b.m;
	return xf_add(a, b);
}

/* a > b for a, b >= 0. */
static inline int xf_gt(np_xf a, np_xf b)
{
	return a.m > 0.0 && (b.m == 0.0 || a.e > b.e ||
			     (a.e == b.e && a.m > b.m));
}

/*
 * exp(x) (1 + err) for x <= 0 (-inf: 0): x = k ln2 + r with |r| <= ln2/2,
 * r by two fused multiply-adds against the two halves of ln2 (to an ulp
 * for |k| up to 2^50), exp(r) (1 + err) the mantissa. (err is the
 * rounding error of x, below half its ulp; past |x| ~ 1e14, a column
 * spread no score model makes, 1 + err stops being exp(err) to an ulp.)
 */
static np_xf xf_exp(double x, double err)
{
	const double log2e = 1.4426950408889634;
	const double ln2_hi = 0x1.62e42fefa39efp-1;
	const double ln2_lo = 0x1.abc9e3b39803fp-56;
	double k, r;
	if (x == -INFINITY)
		return xf_zero();
	k = nearbyint(x * log2e);
	r = fma(-k, ln2_hi, x);
	r = fma(-k, ln2_lo, r);
	return xf_norm(exp(r) * (1.0 + err), k);
}

/* ---- the kernels' arithmetic, per type ------------------------------------ */

/* Suffix d: double; x: np_xf. np_log_S adds the binary exponent of a > 0
 * to *twos and returns the log of its mantissa in [√½, √2): exact to an
 * ulp of 1, not of log a, which may be -700 or -1e6, and exactly 0 for
 * a = 1 (one structure: log Z is its score, log count 0). */
#define NP_SQRT_HALF 0.70710678118654752440
static inline double np_zero_d(void) { return 0.0; }
static inline double np_one_d(void) { return 1.0; }
static inline double np_add_d(double a, double b) { return a + b; }
static inline double np_sub_d(double a, double b) { return a - b; }
static inline double np_mul_d(double a, double b) { return a * b; }
static inline double np_madd_d(double x, double a, double b) { return SSI_FMA(a, b, x); }
static inline double np_div_d(double a, double b) { return a / b; }
static inline int np_iszero_d(double a) { return a == 0.0; }
static inline double np_log_d(double a, double *twos)
{
	int e;
	double m = frexp(a, &e);
	if (m < NP_SQRT_HALF) {
		m *= 2;
		e--;
	}
	*twos += e;
	return log(m);
}

static inline np_xf np_zero_x(void) { return xf_zero(); }
static inline np_xf np_one_x(void) { return xf_one(); }
static inline np_xf np_add_x(np_xf a, np_xf b) { return xf_add(a, b); }
static inline np_xf np_sub_x(np_xf a, np_xf b) { return xf_sub(a, b); }
static inline np_xf np_mul_x(np_xf a, np_xf b) { return xf_mul(a, b); }
static inline np_xf np_madd_x(np_xf x, np_xf a, np_xf b) { return xf_madd(x, a, b); }
static inline np_xf np_div_x(np_xf a, np_xf b) { return xf_div(a, b); }
static inline int np_iszero_x(np_xf a) { return a.m == 0.0; }
static inline double np_log_x(np_xf a, double *twos)
{
	double m = a.m, e = a.e;
	if (m < NP_SQRT_HALF) {
		m *= 2;
		e--;
	}
	*twos += e;
	return log(m);
}

/* ---- workspace ------------------------------------------------------------ */

/* Workspace: NP_MATRICES [n, n] matrices of np_xf size (the working
 * weights, the adjoints or the sampler's compact matrix or cumulative
 * weights, the shifted weights a), each holding double or np_xf as the
 * arithmetic in use says, NP_VECTORS vectors [n + 2], an int32 area
 * [16 n + 16], and for the single-root sampler the scores [n, n] and
 * heads [n] of the tree left once the root's child is drawn. The
 * best-tree search reuses the first two matrices for its scores and arc
 * codes. */
enum { NP_MATRICES = 3, NP_VECTORS = 6 };

typedef struct np_ws {
	void *X, *Xb, *A0, *T, *Tb, *piv, *esc;
	np_xf *escn, *wt;
	int32_t *ints;
	double *rest_w;
	int64_t *rest_heads;
	int prec;  /* of X, Xb, T, Tb, piv, esc */
	int wprec; /* of A0 (and the sampler's group weights) */
} np_ws;

/* The bytes of np_carve's areas but the single-root sampler's. */
static size_t np_core_bytes(int64_t n)
{
	size_t nn = (size_t)(n * n), nv = (size_t)n + 2;
	return NP_MATRICES * ssi_align64(nn * sizeof(np_xf)) +
	       NP_VECTORS * ssi_align64(nv * sizeof(np_xf)) +
	       ssi_align64((16 * (size_t)n + 16) * sizeof(int32_t));
}

size_t SSI_KERNEL(ssi_nonprojective_workspace)(int64_t n)
{
	return np_core_bytes(n) +
	       ssi_align64((size_t)(n * n) * sizeof(double)) +
	       ssi_align64((size_t)n * sizeof(int64_t));
}

/* The areas for n nodes. A carve for fewer nodes than the workspace's
 * lies within this one's areas but the single-root sampler's. */
static np_ws np_carve(int64_t n, void *ws)
{
	size_t nn = ssi_align64((size_t)(n * n) * sizeof(np_xf));
	size_t nv = ssi_align64((size_t)(n + 2) * sizeof(np_xf));
	char *p = ws, *rest = p + np_core_bytes(n);
	np_ws w;
	w.X = p;
	w.Xb = p + nn;
	w.A0 = p + 2 * nn;
	p += NP_MATRICES * nn;
	w.T = p;
	w.Tb = p + nv;
	w.piv = p + 2 * nv;
	w.esc = p + 3 * nv;
	w.escn = (np_xf *)(p + 4 * nv);
	w.wt = (np_xf *)(p + 5 * nv);
	w.ints = (int32_t *)(p + NP_VECTORS * nv);
	w.rest_w = (double *)rest;
	w.rest_heads = (int64_t *)(rest + ssi_align64((size_t)(n * n) *
						      sizeof(double)));
	w.prec = w.wprec = NP_DOUBLE;
	return w;
}

/* Entry k of a matrix or vector of arithmetic prec, as a scaled number. */
static np_xf np_at(const void *M, int prec, int64_t k)
{
	return prec == NP_XF ? ((const np_xf *)M)[k]
			     : xf_of(((const double *)M)[k]);
}

/* Size of one entry of arithmetic prec. */
static size_t np_size(int prec)
{
	return prec == NP_XF ? sizeof(np_xf) : sizeof(double);
}

/*
 * The kernels, for double (the fast path, which vectorises) and np_xf
 * (its fallback): R the element type, S the suffix of its arithmetic.
 * Each is a macro template, instantiated for both by NP_KERNELS.
 *
 * np_eliminate: GTH elimination of nodes 1 .. last of X [n, n] in place,
 * row 0 holding the root weights (root_mass: they count in the pivots).
 * Pivots into piv; returns Σ log p_s, or -inf with *zero_at = s when node
 * s has no mass left.
 *
 * np_adjoint: the reverse sweep over that elimination, the adjoints of
 * log Z into Xb (single root, !root_mass: log Z also has log X[0, n-1]);
 * np_adjoint_row is its reverse of one row's update.
 *
 * np_backsub: the escape probabilities of the sampler, esc[s] for
 * s = t .. 1 over an elimination of B [m, m] (esc of node t + 1 is 0).
 */
/* Partial sums of the adjoint sweep's dot products: one vector register
 * of doubles; they are added pairwise, as a tree of three levels. */
#define NP_UNROLL 8
_Static_assert(NP_UNROLL == 8, "np_adjoint_row adds eight partial sums");

#define NP_ELIMINATE(R, S)                                                    \
/* Node s's pivot: its column's mass below row s (and in row 0 where          \
 * root_mass), in four partial sums (one would chain every addition's         \
 * latency down the column). */                                               \
static inline R np_mass_##S(const R *X, int64_t n, int64_t s, int root_mass)  \
{                                                                             \
	R part[4] = {root_mass ? X[s] : np_zero_##S(), np_zero_##S(),        \
		     np_zero_##S(), np_zero_##S()};                           \
	int64_t i = s + 1;                                                    \
	for (; i + 4 <= n; i += 4)                                            \
		for (int k = 0; k < 4; k++)                                   \
			part[k] = np_add_##S(part[k], X[(i + k) * n + s]);    \
	for (; i < n; i++)                                                    \
		part[0] = np_add_##S(part[0], X[i * n + s]);                  \
	return np_add_##S(np_add_##S(part[0], part[1]),                       \
			  np_add_##S(part[2], part[3]));                      \
}                                                                             \
                                                                              \
/* Step s on row x over columns from .. n-1: x[j] += x[s] t_j. */             \
static inline void np_row_step_##S(R *x, int64_t s, int64_t from, int64_t n,  \
				   const R *T)                                \
{                                                                             \
	const R a = x[s];                                                     \
	if (np_iszero_##S(a))                                                 \
		return;                                                       \
	for (int64_t j = from; j < n; j++)                                    \
		x[j] = np_madd_##S(x[j], a, T[j]);                            \
}                                                                             \
                                                                              \
/* Elimination steps go two at a time: step s on row s+1 and on column        \
 * s+1, which make step s+1's pivot and row, then both steps in one pass      \
 * over the rest, each entry updated as by one step after the other (the      \
 * same bits as one step at a time, with half the passes). T2 holds step      \
 * s+1's t. */                                                                \
static long double np_eliminate_##S(R *X, int64_t n, int64_t last,            \
				    int root_mass, R *piv, R *T, R *T2,       \
				    int64_t *zero_at)                         \
{                                                                             \
	long double logdet = 0;                                               \
	double twos = 0;                                                      \
	for (int64_t s = 1; s <= last; s += 2) {                              \
		R mass = np_mass_##S(X, n, s, root_mass), inv;                \
		if (np_iszero_##S(mass)) {                                    \
			*zero_at = s;                                         \
			return -INFINITY;                                     \
		}                                                             \
		piv[s] = mass;                                                \
		logdet += np_log_##S(mass, &twos);                            \
		inv = np_div_##S(np_one_##S(), mass);                         \
		for (int64_t j = s + 1; j < n; j++)                           \
			T[j] = np_mul_##S(X[s * n + j], inv);                 \
		if (s == last) { /* rows s+1 .. n-1 and row 0 */              \
			for (int64_t i = s + 1; i <= n; i++)                  \
				np_row_step_##S(X + (i == n ? 0 : i) * n, s,  \
						s + 1, n, T);                 \
			break;                                                \
		}                                                             \
		np_row_step_##S(X + (s + 1) * n, s, s + 1, n, T);             \
		for (int64_t i = s + 2; i <= n; i++) {                        \
			R *x = X + (i == n ? 0 : i) * n;                      \
			if (!np_iszero_##S(x[s]))                             \
				x[s + 1] = np_madd_##S(x[s + 1], x[s], T[s + 1]); \
		}                                                             \
		mass = np_mass_##S(X, n, s + 1, root_mass);                   \
		if (np_iszero_##S(mass)) { /* step s finished first */        \
			for (int64_t i = s + 2; i <= n; i++)                  \
				np_row_step_##S(X + (i == n ? 0 : i) * n, s,  \
						s + 2, n, T);                 \
			*zero_at = s + 1;                                     \
			return -INFINITY;                                     \
		}                                                             \
		piv[s + 1] = mass;                                            \
		logdet += np_log_##S(mass, &twos);                            \
		inv = np_div_##S(np_one_##S(), mass);                         \
		for (int64_t j = s + 2; j < n; j++)                           \
			T2[j] = np_mul_##S(X[(s + 1) * n + j], inv);          \
		for (int64_t i = s + 2; i <= n; i++) {                        \
			R *x = X + (i == n ? 0 : i) * n;                      \
			const R a = x[s], b = x[s + 1];                       \
			if (np_iszero_##S(a) || np_iszero_##S(b)) {           \
				np_row_step_##S(x, s, s + 2, n, T);           \
				np_row_step_##S(x, s + 1, s + 2, n, T2);      \
				continue;                                     \
			}                                                     \
			for (int64_t j = s + 2; j < n; j++)                   \
				x[j] = np_madd_##S(np_madd_##S(x[j], a, T[j]), \
						   b, T2[j]);                 \
		}                                                             \
	}                                                                     \
	return logdet + (long double)twos * NP_LN2;                           \
}

/* Reverse of x[j] += a t_j over j = s+1 .. n-1 for one row x of X (a =
 * x[s]) with adjoints xb: t̄_j += xb[j] a into Tb, and xb[s] += Σ_j xb[j]
 * t_j, summed in NP_UNROLL partial sums. */
#define NP_ADJOINT_ROW(R, S)                                                  \
static inline void np_adjoint_row_##S(int64_t n, int64_t s, R a,             \
				      const R *T, R *Tb, R *xb)               \
{                                                                             \
	R acc[NP_UNROLL];                                                     \
	int64_t j = s + 1;                                                    \
	for (int u = 0; u < NP_UNROLL; u++)                                   \
		acc[u] = np_zero_##S();                                       \
	for (; j + NP_UNROLL <= n; j += NP_UNROLL)                            \
		for (int u = 0; u < NP_UNROLL; u++) {                         \
			Tb[j + u] = np_madd_##S(Tb[j + u], xb[j + u], a);     \
			acc[u] = np_madd_##S(acc[u], xb[j + u], T[j + u]);    \
		}                                                             \
	for (; j < n; j++) {                                                  \
		Tb[j] = np_madd_##S(Tb[j], xb[j], a);                         \
		acc[0] = np_madd_##S(acc[0], xb[j], T[j]);                    \
	}                                                                     \
	xb[s] = np_add_##S(xb[s], np_add_##S(                                 \
		np_add_##S(np_add_##S(acc[0], acc[1]),                        \
			   np_add_##S(acc[2], acc[3])),                       \
		np_add_##S(np_add_##S(acc[4], acc[5]),                        \
			   np_add_##S(acc[6], acc[7]))));                     \
}

#define NP_ADJOINT(R, S)                                                      \
static void np_adjoint_##S(const R *X, R *Xb, int64_t n, int64_t last,        \
			   int root_mass, const R *piv, R *T, R *Tb)          \
{                                                                             \
	for (int64_t k = 0; k < n * n; k++)                                   \
		Xb[k] = np_zero_##S();                                        \
	if (!root_mass)                                                       \
		Xb[n - 1] = np_div_##S(np_one_##S(), X[n - 1]);               \
	for (int64_t s = last; s >= 1; s--) {                                 \
		const R inv = np_div_##S(np_one_##S(), piv[s]);               \
		R dot = np_zero_##S(), pb;                                    \
		for (int64_t j = s + 1; j < n; j++) {                         \
			T[j] = np_mul_##S(X[s * n + j], inv);                 \
			Tb[j] = np_zero_##S();                                \
		}                                                             \
		/* Reverse of x[i, j] += x[i, s] t_j: t̄ and Ā[i, s]. */      \
		for (int64_t i = s + 1; i <= n; i++) {                        \
			const int64_t row = i == n ? 0 : i;                   \
			np_adjoint_row_##S(n, s, X[row * n + s], T, Tb,       \
					   Xb + row * n);                     \
		}                                                             \
		/* t_j = x[s, j] / p_s. */                                    \
		for (int64_t j = s + 1; j < n; j++) {                         \
			Xb[s * n + j] = np_madd_##S(Xb[s * n + j], Tb[j], inv); \
			dot = np_madd_##S(dot, Tb[j], T[j]);                  \
		}                                                             \
		/* p_s = (x[0, s]) + Σ_{i>s} x[i, s]. */                      \
		pb = np_mul_##S(np_sub_##S(np_one_##S(), dot), inv);          \
		if (root_mass)                                                \
			Xb[s] = np_add_##S(Xb[s], pb);                        \
		for (int64_t i = s + 1; i < n; i++)                           \
			Xb[i * n + s] = np_add_##S(Xb[i * n + s], pb);        \
	}                                                                     \
}

#define NP_BACKSUB(R, S)                                                      \
static void np_backsub_##S(const R *B, int64_t m, int64_t t, const R *piv,    \
			   R *esc)                                            \
{                                                                             \
	for (int64_t s = t; s >= 1; s--) {                                    \
		R e = B[s];                                                   \
		for (int64_t i = s + 1; i <= t; i++)                          \
			e = np_madd_##S(e, B[i * m + s], esc[i]);             \
		esc[s] = np_div_##S(e, piv[s]);                               \
	}                                                                     \
}

#define NP_KERNELS(R, S) \
	NP_ELIMINATE(R, S) NP_ADJOINT_ROW(R, S) NP_ADJOINT(R, S) NP_BACKSUB(R, S)

NP_KERNELS(double, d)
NP_KERNELS(np_xf, x)

/* X [n, n] = A0 with rows and columns permuted: X[i, j] = A0[perm i,
 * perm j] (perm[0] = 0), both of arithmetic w->prec. */
static void np_permute(int64_t n, const np_ws *w, const int32_t *perm)
{
	const size_t size = np_size(w->prec);
	int identity = 1;
	for (int64_t i = 0; i < n; i++)
		identity &= perm[i] == i;
	if (identity) {
		memcpy(w->X, w->A0, (size_t)(n * n) * size);
		return;
	}
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++)
			memcpy((char *)w->X + (size_t)(i * n + j) * size,
			       (const char *)w->A0 +
				       (size_t)(perm[i] * n + perm[j]) * size,
			       size);
}

static long double np_eliminate(const np_ws *w, int64_t n, int64_t last,
				int root_mass, int64_t *zero_at)
{
	if (w->prec == NP_XF)
		return np_eliminate_x(w->X, n, last, root_mass, w->piv, w->T,
				      w->Tb, zero_at);
	return np_eliminate_d(w->X, n, last, root_mass, w->piv, w->T, w->Tb,
			      zero_at);
}

/* The double path is exact unless something underflowed or overflowed:
 * the sticky IEEE flags say so, at no cost in the loops. */
static int np_fp_trouble(void)
{
	return fetestexcept(FE_UNDERFLOW | FE_OVERFLOW) != 0;
}

/*
 * a = exp(w - m_d) per column into A0 [n, n] in arithmetic prec (0 on
 * the diagonal, in column 0 and for -inf arcs); returns Σ_d m_d, or -inf
 * when some node has no finite incoming arc. *deep: some a is below
 * e^-700, out of double's reach (double: stored as 0).
 */
static long double np_load(const ssi_tree *p, np_ws *w, int prec, int *deep)
{
	const int64_t n = p->n, ld = p->ld;
	double *m = w->T;
	long double shift = 0;
	int dp = 0;
	for (int64_t d = 0; d < n; d++)
		m[d] = -INFINITY;
	for (int64_t h = 0; h < n; h++) {
		const double *row = p->w + h * ld;
		for (int64_t d = 1; d < n; d++) {
			double x = d == h ? -INFINITY : row[d];
			m[d] = x > m[d] ? x : m[d];
		}
	}
	for (int64_t d = 1; d < n; d++) {
		if (m[d] == -INFINITY)
			return -INFINITY;
		shift += m[d];
	}
	for (int64_t h = 0; h < n; h++) {
		const double *row = p->w + h * ld;
		if (prec == NP_XF) {
			np_xf *a = (np_xf *)w->A0 + h * n;
			a[0] = xf_zero();
			/* as ssi_exp_shifted, on scaled numbers */
			for (int64_t d = 1; d < n; d++) {
				double x = row[d] - m[d], b = x - row[d];
				double e = (row[d] - (x - b)) + (-m[d] - b);
				a[d] = d == h ? xf_zero()
					      : xf_exp(x, x > -INFINITY ? e : 0.0);
			}
		} else {
#if defined(__AVX512F__)
			/* Under trapping math, GCC vectorises this loop in
			 * place only with AVX-512's masks (a masked compare
			 * does not trap); there it beats the call per row
			 * (B=32 n=48 log Z: 0.48 against 0.56 ms). Elsewhere
			 * lib/vec.c runs it without trapping math. */
			double *a = (double *)w->A0 + h * n;
			a[0] = 0.0;
			for (int64_t d = 1; d < n; d++)
				a[d] = ssi_exp_shifted_at(row, m, d, h);
			for (int64_t d = 1; d < n; d++)
				dp |= (row[d] - m[d] <= -700.0) &
				      (row[d] > -INFINITY) & (d != h);
#else
			dp |= SSI_KERNEL(ssi_exp_shifted)(row, m, n, h,
							  (double *)w->A0 + h * n);
#endif
		}
	}
	*deep = dp;
	return shift;
}

/* The weights in double, or scaled when double cannot hold them:
 * w->wprec says which. */
static long double np_load_weights(const ssi_tree *p, np_ws *w)
{
	int deep;
	long double shift = np_load(p, w, NP_DOUBLE, &deep);
	w->wprec = NP_DOUBLE;
	if (deep && shift != -INFINITY) {
		w->wprec = NP_XF;
		np_load(p, w, NP_XF, &deep);
	}
	return shift;
}

/*
 * One elimination in w->prec: log Z(a) (-inf when no tree), X holding
 * the factors, perm the order. Single root: a node left without mass is
 * moved last and the elimination starts again; a second one means no
 * tree.
 */
static long double np_try(const ssi_tree *p, const np_ws *w, int32_t *perm)
{
	const int64_t n = p->n;
	const int single = p->single_root;
	long double logdet;
	int64_t zero_at = 0;
	for (int64_t j = 0; j < n; j++)
		perm[j] = (int32_t)j;
	for (int attempt = 0;; attempt++) {
		int32_t tmp;
		np_permute(n, w, perm);
		logdet = np_eliminate(w, n, single ? n - 2 : n - 1, !single,
				      &zero_at);
		if (logdet != -INFINITY || !single || attempt > 0)
			break;
		tmp = perm[zero_at];
		perm[zero_at] = perm[n - 1];
		perm[n - 1] = tmp;
	}
	if (single && logdet != -INFINITY) {
		np_xf rho = np_at(w->X, w->prec, n - 1);
		double twos = 0;
		logdet = rho.m > 0 ? logdet + np_log_x(rho, &twos) +
					     (long double)twos * NP_LN2
				   : -INFINITY;
	}
	return logdet;
}

/*
 * log Z, and with adjoint the adjoints of log Z(a) in Xb: in double,
 * again on scaled numbers when the weights need it or the double pass
 * underflowed or overflowed. Clobbers the floating-point flags: the
 * public functions save and restore them around it.
 */
static double np_solve(const ssi_tree *p, np_ws *w, int32_t *perm,
		       int adjoint)
{
	const int64_t n = p->n;
	const int single = p->single_root;
	long double shift, logdet;
	int deep;
	perm[0] = 0;
	if (n == 1)
		return single ? -INFINITY : 0.0;
	shift = np_load_weights(p, w);
	logdet = -INFINITY;
	for (w->prec = w->wprec; shift != -INFINITY;) {
		feclearexcept(FE_UNDERFLOW | FE_OVERFLOW);
		logdet = np_try(p, w, perm);
		if (adjoint && logdet != -INFINITY) {
			const int64_t last = single ? n - 2 : n - 1;
			if (w->prec == NP_XF)
				np_adjoint_x(w->X, w->Xb, n, last, !single,
					     w->piv, w->T, w->Tb);
			else
				np_adjoint_d(w->X, w->Xb, n, last, !single,
					     w->piv, w->T, w->Tb);
		}
		if (w->prec == NP_XF || !np_fp_trouble())
			break;
		w->prec = w->wprec = NP_XF;
		np_load(p, w, NP_XF, &deep);
	}
	return logdet == -INFINITY ? -INFINITY : (double)(shift + logdet);
}

double SSI_KERNEL(ssi_nonprojective_log_partition)(const ssi_tree *p, void *ws)
{
	np_ws w = np_carve(p->n, ws);
	fexcept_t saved;
	double logz;
	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	logz = np_solve(p, &w, w.ints, 0);
	fesetexceptflag(&saved, FE_ALL_EXCEPT);
	return logz;
}

/* μ = a ∘ adjoints, in the caller's layout; zero where no tree. */
static void np_write_marginals(const ssi_tree *p, const np_ws *w,
			       const int32_t *perm, double logz, double *mu)
{
	const int64_t n = p->n, ld = p->ld;
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++)
			mu[h * ld + d] = 0.0;
	if (logz == -INFINITY || n == 1)
		return;
	if (w->prec == NP_DOUBLE) { /* the common case */
		const double *a = w->A0, *xb = w->Xb;
		for (int64_t i = 0; i < n; i++)
			for (int64_t j = 1; j < n; j++) {
				int64_t h = perm[i], d = perm[j];
				double m = a[h * n + d] * xb[i * n + j];
				if (h != d)
					mu[h * ld + d] = m > 0 ? (m < 1 ? m : 1.0)
							       : 0.0;
			}
		return;
	}
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 1; j < n; j++) {
			int64_t h = perm[i], d = perm[j];
			double m;
			if (h == d)
				continue;
			m = xf_double(xf_mul(((const np_xf *)w->A0)[h * n + d],
					     ((const np_xf *)w->Xb)[i * n + j]));
			/* Rounding can leave -1e-19 where μ is 0. */
			mu[h * ld + d] = m > 0 ? (m < 1 ? m : 1.0) : 0.0;
		}
}

double SSI_KERNEL(ssi_nonprojective_marginals)(const ssi_tree *p, void *ws, double *mu)
{
	np_ws w = np_carve(p->n, ws);
	fexcept_t saved;
	double logz;
	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	logz = np_solve(p, &w, w.ints, 1);
	np_write_marginals(p, &w, w.ints, logz, mu);
	fesetexceptflag(&saved, FE_ALL_EXCEPT);
	return logz;
}


/* ---- the second order: ∇² log Z · d (--grad) ------------------------------ */

/*
 * The derivative of the marginals along a direction d of the scores, by
 * forward-mode differentiation of the very computation that gives them:
 * the elimination and its reverse sweep run on dual numbers (x, ẋ), each
 * weight a entering as (a, a d), and μ̇ = ȧ ∘ Ā + a ∘ Ā̇ is ∇² log Z · d =
 * Cov(arcs, arcs · d). The elimination is free of subtractions, so each
 * tangent is its value times a weighted average of d's: its errors stay
 * relative to that, whatever the scores' magnitude, as the marginals'
 * do (an inverse of the Laplacian by LU would cancel catastrophically
 * where a column's scores spread over tens of nats). Double duals, or
 * scaled ones where the weights or the double pass leave double's range.
 */
typedef struct np_dd {
	double v, t;
} np_dd;

typedef struct np_dx {
	np_xf v, t;
} np_dx;

static inline np_dd np_zero_dd(void) { return (np_dd){0.0, 0.0}; }
static inline np_dd np_one_dd(void) { return (np_dd){1.0, 0.0}; }
static inline np_dd np_add_dd(np_dd a, np_dd b) { return (np_dd){a.v + b.v, a.t + b.t}; }
static inline np_dd np_sub_dd(np_dd a, np_dd b) { return (np_dd){a.v - b.v, a.t - b.t}; }
static inline np_dd np_mul_dd(np_dd a, np_dd b)
{
	return (np_dd){a.v * b.v, a.t * b.v + a.v * b.t};
}
static inline np_dd np_madd_dd(np_dd x, np_dd a, np_dd b)
{
	return np_add_dd(x, np_mul_dd(a, b));
}
static inline np_dd np_div_dd(np_dd a, np_dd b)
{
	const double q = a.v / b.v;
	return (np_dd){q, (a.t - q * b.t) / b.v};
}
static inline int np_iszero_dd(np_dd a) { return a.v == 0.0; }
static inline double np_log_dd(np_dd a, double *twos) { return np_log_d(a.v, twos); }

static inline np_dx np_zero_dx(void) { return (np_dx){xf_zero(), xf_zero()}; }
static inline np_dx np_one_dx(void) { return (np_dx){xf_one(), xf_zero()}; }
static inline np_dx np_add_dx(np_dx a, np_dx b)
{
	return (np_dx){xf_add(a.v, b.v), xf_add(a.t, b.t)};
}
static inline np_dx np_sub_dx(np_dx a, np_dx b)
{
	return (np_dx){xf_sub(a.v, b.v), xf_sub(a.t, b.t)};
}
static inline np_dx np_mul_dx(np_dx a, np_dx b)
{
	return (np_dx){xf_mul(a.v, b.v),
		       xf_add(xf_mul(a.t, b.v), xf_mul(a.v, b.t))};
}
static inline np_dx np_madd_dx(np_dx x, np_dx a, np_dx b)
{
	return np_add_dx(x, np_mul_dx(a, b));
}
static inline np_dx np_div_dx(np_dx a, np_dx b)
{
	const np_xf q = xf_div(a.v, b.v);
	return (np_dx){q, xf_div(xf_sub(a.t, xf_mul(q, b.t)), b.v)};
}
static inline int np_iszero_dx(np_dx a) { return a.v.m == 0.0; }
static inline double np_log_dx(np_dx a, double *twos) { return np_log_x(a.v, twos); }

NP_ELIMINATE(np_dd, dd) NP_ADJOINT_ROW(np_dd, dd) NP_ADJOINT(np_dd, dd)
NP_ELIMINATE(np_dx, dx) NP_ADJOINT_ROW(np_dx, dx) NP_ADJOINT(np_dx, dx)

/* Workspace: the weights' (np_ws), then three dual matrices [n, n] and
 * three dual vectors [n + 2], each of the scaled duals' size. */
size_t SSI_KERNEL(ssi_nonprojective_hvp_workspace)(int64_t n)
{
	return SSI_KERNEL(ssi_nonprojective_workspace)(n) +
	       3 * ssi_align64((size_t)(n * n) * sizeof(np_dx)) +
	       3 * ssi_align64((size_t)(n + 2) * sizeof(np_dx));
}

typedef struct np_hvp_ws {
	void *X, *Xb, *A, *piv, *T, *Tb;
} np_hvp_ws;

static np_hvp_ws np_hvp_carve(int64_t n, void *ws)
{
	const size_t nn = ssi_align64((size_t)(n * n) * sizeof(np_dx));
	const size_t nv = ssi_align64((size_t)(n + 2) * sizeof(np_dx));
	char *p = (char *)ws + SSI_KERNEL(ssi_nonprojective_workspace)(n);
	return (np_hvp_ws){p, p + nn, p + 2 * nn, p + 3 * nn, p + 3 * nn + nv,
			   p + 3 * nn + 2 * nv};
}

/* The dual weights (a, a d) in the order perm into h->A ([n, n]; d as
 * the caller lays it out, ld apart), of arithmetic prec. */
static void np_hvp_load(const ssi_tree *p, const np_ws *w, const double *d,
			int prec, const int32_t *perm, np_hvp_ws *h)
{
	const int64_t n = p->n;
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 0; j < n; j++) {
			const int64_t hh = perm[i], dd = perm[j];
			const double dir = hh != dd && dd > 0 ? d[hh * p->ld + dd] : 0.0;
			if (prec == NP_XF) {
				np_xf a = np_at(w->A0, w->wprec, hh * n + dd);
				((np_dx *)h->A)[i * n + j] =
					(np_dx){a, xf_mul(a, xf_of(dir))};
			} else {
				double a = ((const double *)w->A0)[hh * n + dd];
				((np_dd *)h->A)[i * n + j] = (np_dd){a, a * dir};
			}
		}
}

/* One dual elimination and its reverse sweep in prec, in the order
 * perm; -inf log det when some pivot is zero (*zero_at: where). */
static long double np_hvp_pass(const ssi_tree *p, const np_ws *w,
			       const double *d, int prec, const int32_t *perm,
			       np_hvp_ws *h, int64_t *zero_at)
{
	const int64_t n = p->n, last = p->single_root ? n - 2 : n - 1;
	const int root_mass = !p->single_root;
	long double logdet;
	np_hvp_load(p, w, d, prec, perm, h);
	if (prec == NP_XF) {
		memcpy(h->X, h->A, (size_t)(n * n) * sizeof(np_dx));
		logdet = np_eliminate_dx(h->X, n, last, root_mass, h->piv,
					 h->T, h->Tb, zero_at);
		if (logdet != -INFINITY)
			np_adjoint_dx(h->X, h->Xb, n, last, root_mass, h->piv,
				      h->T, h->Tb);
	} else {
		memcpy(h->X, h->A, (size_t)(n * n) * sizeof(np_dd));
		logdet = np_eliminate_dd(h->X, n, last, root_mass, h->piv,
					 h->T, h->Tb, zero_at);
		if (logdet != -INFINITY)
			np_adjoint_dd(h->X, h->Xb, n, last, root_mass, h->piv,
				      h->T, h->Tb);
	}
	return logdet;
}

void SSI_KERNEL(ssi_nonprojective_hvp)(const ssi_tree *p, void *ws,
				       const double *d, double *hv)
{
	const int64_t n = p->n;
	np_ws w = np_carve(n, ws);
	np_hvp_ws h = np_hvp_carve(n, ws);
	int32_t *perm = w.ints;
	fexcept_t saved;
	int prec;
	if (n < 2)
		return;
	fegetexceptflag(&saved, FE_ALL_EXCEPT);
	np_load_weights(p, &w);
	for (prec = w.wprec;; prec = NP_XF) {
		int64_t zero_at = 0;
		feclearexcept(FE_UNDERFLOW | FE_OVERFLOW);
		for (int64_t j = 0; j < n; j++)
			perm[j] = (int32_t)j;
		/* Single root: a node left without mass goes last (np_try). */
		if (np_hvp_pass(p, &w, d, prec, perm, &h, &zero_at) == -INFINITY &&
		    p->single_root) {
			int32_t tmp = perm[zero_at];
			perm[zero_at] = perm[n - 1];
			perm[n - 1] = tmp;
			np_hvp_pass(p, &w, d, prec, perm, &h, &zero_at);
		}
		if (prec == NP_XF || !np_fp_trouble())
			break;
		if (w.wprec == NP_DOUBLE) {
			int deep;
			w.wprec = NP_XF;
			np_load(p, &w, NP_XF, &deep);
		}
	}
	/* μ̇ = ȧ Ā + a Ā̇, in the caller's layout. */
	for (int64_t i = 0; i < n; i++)
		for (int64_t j = 1; j < n; j++) {
			const int64_t hh = perm[i], dd = perm[j];
			double t;
			if (hh == dd)
				continue;
			if (prec == NP_XF) {
				const np_dx a = ((const np_dx *)h.A)[i * n + j];
				const np_dx b = ((const np_dx *)h.Xb)[i * n + j];
				t = xf_double(xf_add(xf_mul(a.t, b.v),
						     xf_mul(a.v, b.t)));
			} else {
				const np_dd a = ((const np_dd *)h.A)[i * n + j];
				const np_dd b = ((const np_dd *)h.Xb)[i * n + j];
				t = a.t * b.v + a.v * b.t;
			}
			hv[hh * p->ld + dd] = t;
		}
	fesetexceptflag(&saved, FE_ALL_EXCEPT);
}

/* ---- best tree: Chu-Liu-Edmonds on (root-arc count, score) ------------- */

/* 1 if (c1, s1) > (c2, s2): absent arcs (s = -inf) lose to any arc. */
static int lex_gt(int32_t c1, double s1, int32_t c2, double s2)
{
	if (s1 == -INFINITY)
		return 0;
	if (s2 == -INFINITY)
		return 1;
	return c1 > c2 || (c1 == c2 && s1 > s2);
}

/* The best incoming arc of slot v among live slots (-1 if none). */
static int32_t clu_best(int64_t n, const double *S, const int32_t *C,
			const int32_t *alive, int64_t v)
{
	int32_t b = -1;
	for (int64_t u = 0; u < n; u++) {
		if (u == v || !alive[u] || S[u * n + v] == -INFINITY)
			continue;
		if (b < 0 || lex_gt(C[u * n + v], S[u * n + v], C[b * n + v],
				    S[b * n + v]))
			b = (int32_t)u;
	}
	return b;
}

/*
 * The state of Chu-Liu-Edmonds over slots 0 .. n-1: S scores, C root-arc
 * counts (negated), code the original arc h * n + d each current arc
 * stands for; best incoming arc per slot, live slots, the node id of each
 * slot (n, n+1, ... for contracted cycles); per contraction r, its id
 * and members with the arcs they kept, and up[] from a member's id to
 * the cycle's.
 */
typedef struct clu {
	int64_t n;
	double *S;
	int32_t *C, *code;
	int32_t *best, *alive, *id, *stamp, *cyc, *incyc, *up, *enter;
	int32_t *rec_id, *rec_start, *rec_member, *rec_arc;
	int32_t next_id, nrec;
} clu;

/* The state in the workspace, with every arc of p, each slot its best
 * incoming one; -1 if some node has none. */
static int clu_init(clu *g, const ssi_tree *p, np_ws *w)
{
	const int64_t n = p->n, ld = p->ld;
	g->n = n;
	g->S = (double *)w->X;
	g->C = (int32_t *)w->Xb;
	g->code = g->C + n * n;
	g->best = w->ints;
	g->alive = g->best + n;
	g->id = g->alive + n;
	g->stamp = g->id + n;
	g->cyc = g->stamp + n;
	g->incyc = g->cyc + n;
	g->up = g->incyc + n; /* [2n] */
	g->enter = g->up + 2 * n; /* [2n] */
	g->rec_id = g->enter + 2 * n;
	g->rec_start = g->rec_id + n;
	g->rec_member = g->rec_start + n + 1;
	g->rec_arc = g->rec_member + 2 * n;
	g->next_id = (int32_t)n;
	g->nrec = 0;
	for (int64_t u = 0; u < n; u++) {
		g->alive[u] = 1;
		g->id[u] = (int32_t)u;
		g->incyc[u] = 0;
		for (int64_t v = 0; v < n; v++) {
			g->S[u * n + v] = v == 0 || u == v ? -INFINITY
							   : p->w[u * ld + v];
			g->C[u * n + v] = p->single_root && u == 0 ? -1 : 0;
			g->code[u * n + v] = (int32_t)(u * n + v);
		}
	}
	for (int64_t v = 1; v < n; v++)
		if ((g->best[v] = clu_best(n, g->S, g->C, g->alive, v)) < 0)
			return -1;
	g->rec_start[0] = 0;
	return 0;
}

/* A slot on a cycle of best arcs, or -1: follows best arcs from each
 * node; a walk that meets itself has found a cycle. */
static int32_t clu_find_cycle(clu *g)
{
	int32_t walk = 0;
	for (int64_t v = 0; v < g->n; v++)
		g->stamp[v] = 0;
	for (int64_t v = 1; v < g->n; v++) {
		int64_t x = v;
		if (!g->alive[v] || g->stamp[v])
			continue;
		walk++;
		while (x != 0 && !g->stamp[x]) {
			g->stamp[x] = walk;
			x = g->best[x];
		}
		if (x != 0 && g->stamp[x] == walk)
			return (int32_t)x;
	}
	return -1;
}

/* Records the cycle through start, its members (into cyc) and their
 * arcs, as contraction nrec; returns its length. */
static int32_t clu_record_cycle(clu *g, int32_t start)
{
	int32_t k = 0, t = start;
	do {
		g->cyc[k++] = t;
		g->incyc[t] = 1;
		t = g->best[t];
	} while (t != start);
	g->rec_id[g->nrec] = g->next_id;
	for (int32_t i = 0; i < k; i++) {
		int32_t v = g->cyc[i], m = g->rec_start[g->nrec] + i;
		g->rec_member[m] = g->id[v];
		g->rec_arc[m] = g->code[g->best[v] * g->n + v];
		g->up[g->id[v]] = g->next_id;
	}
	g->rec_start[g->nrec + 1] = g->rec_start[g->nrec] + k;
	g->nrec++;
	return k;
}

/* The arcs between live slot x and the cycle cyc[0 .. k) once it is
 * contracted into slot t: into t, the best of x -> v less the arc into v
 * it replaces; out of t, the best of v -> x. */
static void clu_contract_arcs(clu *g, int64_t x, int32_t t, int32_t k)
{
	const int64_t n = g->n;
	double *S = g->S;
	int32_t *C = g->C, *code = g->code;
	int32_t bc = 0, oc = 0, bcode = -1, ocode = -1;
	double bs = -INFINITY, os = -INFINITY;
	for (int32_t i = 0; i < k; i++) {
		int64_t v = g->cyc[i], bv = g->best[v];
		double s = S[x * n + v];
		int32_t c;
		if (s != -INFINITY) {
			s -= S[bv * n + v];
			c = C[x * n + v] - C[bv * n + v];
			if (lex_gt(c, s, bc, bs)) {
				bc = c;
				bs = s;
				bcode = code[x * n + v];
			}
		}
		if (x != 0 && lex_gt(C[v * n + x], S[v * n + x], oc, os)) {
			oc = C[v * n + x];
			os = S[v * n + x];
			ocode = code[v * n + x];
		}
	}
	S[x * n + t] = bs;
	C[x * n + t] = bc;
	code[x * n + t] = bcode;
	if (x != 0) {
		S[t * n + x] = os;
		C[t * n + x] = oc;
		code[t * n + x] = ocode;
	}
}

/* Contracts the cycle cyc[0 .. k) into slot t, a new node; -1 if
 * nothing enters it. */
static int clu_contract(clu *g, int32_t t, int32_t k)
{
	for (int64_t x = 0; x < g->n; x++)
		if (g->alive[x] && !g->incyc[x])
			clu_contract_arcs(g, x, t, k);
	for (int32_t i = 0; i < k; i++) {
		g->incyc[g->cyc[i]] = 0;
		if (g->cyc[i] != t)
			g->alive[g->cyc[i]] = 0;
	}
	g->id[t] = g->next_id++;
	/* Arcs that came from the cycle now come from t; t itself needs a
	 * best incoming arc from outside. */
	for (int64_t v = 1; v < g->n; v++)
		if (g->alive[v] && v != t && !g->alive[g->best[v]])
			g->best[v] = t;
	g->best[t] = clu_best(g->n, g->S, g->C, g->alive, t);
	return g->best[t] < 0 ? -1 : 0;
}

/* The heads of the tree: the arcs of the contracted tree, then each
 * cycle expanded, latest first: every member keeps its arc except the
 * one the tree enters. */
static void clu_expand(const clu *g, int64_t *heads)
{
	const int64_t n = g->n;
	int32_t *enter = g->enter, *up = g->up;
	for (int64_t v = 1; v < n; v++) {
		int32_t c;
		if (!g->alive[v])
			continue;
		c = g->code[g->best[v] * n + v];
		heads[c % n] = c / n;
		enter[g->id[v]] = (int32_t)(c % n);
	}
	for (int32_t r = g->nrec - 1; r >= 0; r--) {
		int32_t N = g->rec_id[r], dstar = enter[N], x = dstar;
		while (up[x] != N)
			x = up[x];
		for (int32_t m = g->rec_start[r]; m < g->rec_start[r + 1]; m++) {
			int32_t arc = g->rec_arc[m];
			if (g->rec_member[m] == x) {
				enter[x] = dstar;
				continue;
			}
			heads[arc % n] = arc / n;
			enter[g->rec_member[m]] = arc % n;
		}
	}
}

double SSI_KERNEL(ssi_nonprojective_argmax)(const ssi_tree *p, void *ws, int64_t *heads)
{
	const int64_t n = p->n;
	np_ws w = np_carve(n, ws);
	clu g;
	int32_t start, roots = 0;
	double score = 0.0;

	for (int64_t d = 0; d < n; d++)
		heads[d] = -1;
	if (n == 1)
		return p->single_root ? -INFINITY : 0.0;
	if (clu_init(&g, p, &w))
		return -INFINITY;
	while ((start = clu_find_cycle(&g)) >= 0)
		if (clu_contract(&g, start, clu_record_cycle(&g, start)))
			return -INFINITY;
	clu_expand(&g, heads);
	for (int64_t d = 1; d < n; d++)
		roots += heads[d] == 0;
	if (p->single_root && roots != 1) {
		for (int64_t d = 0; d < n; d++)
			heads[d] = -1;
		return -INFINITY;
	}
	heads[0] = -1;
	for (int64_t d = 1; d < n; d++)
		score += p->w[heads[d] * p->ld + d];
	return score;
}


/* ---- sampling ------------------------------------------------------------ */

/* Index k < m drawn with probability ∝ wt[k] using u in [0, 1); -1 when
 * every weight is 0. The weights are scaled by the largest one's binary
 * exponent into doubles: a weight below 2^-1100 of the largest counts
 * as 0. */
static int64_t np_draw(const np_xf *wt, int64_t m, double u)
{
	double top = NP_XF_ZERO_E, total = 0, target, cum = 0;
	int64_t lastpos = -1;
	for (int64_t k = 0; k < m; k++)
		if (wt[k].m > 0 && wt[k].e > top)
			top = wt[k].e;
	for (int64_t k = 0; k < m; k++)
		if (wt[k].m > 0)
			total += xf_double((np_xf){wt[k].m, wt[k].e - top});
	if (!(total > 0))
		return -1;
	target = u * total;
	for (int64_t k = 0; k < m; k++) {
		double x;
		if (!(wt[k].m > 0))
			continue;
		x = xf_double((np_xf){wt[k].m, wt[k].e - top});
		if (x <= 0)
			continue;
		lastpos = k;
		cum += x;
		if (target < cum)
			return k;
	}
	return lastpos;
}

/*
 * escn[g] for each of the t undrawn nodes g = others[k] other than d: the
 * probability that the walk from g (to a head, and on, under the group
 * weights Ac) reaches the root group before d. B is the compact matrix
 * [t + 2, t + 2]: index 0 the root group, 1 .. t the others, t + 1 = d,
 * eliminated but for d. Double first, as in np_solve.
 */
static void np_escape(int64_t n, const void *Ac, const int32_t *others,
		      int64_t t, int32_t d, np_ws *w)
{
	const int64_t m = t + 2;
	long double logdet;
	int64_t zero_at;
	for (w->prec = w->wprec;; w->prec = NP_XF) {
		feclearexcept(FE_UNDERFLOW | FE_OVERFLOW);
		for (int64_t a = 0; a < m; a++) {
			int64_t ra = a == 0 ? 0 : a == t + 1 ? d : others[a - 1];
			for (int64_t b = 1; b <= t; b++) {
				int64_t from = ra * n + others[b - 1];
				if (w->prec == NP_XF)
					((np_xf *)w->Xb)[a * m + b] =
						np_at(Ac, w->wprec, from);
				else
					((double *)w->Xb)[a * m + b] =
						((const double *)Ac)[from];
			}
		}
		logdet = w->prec == NP_XF
			? np_eliminate_x(w->Xb, m, t, 1, w->piv, w->T, w->Tb,
					 &zero_at)
			: np_eliminate_d(w->Xb, m, t, 1, w->piv, w->T, w->Tb,
					 &zero_at);
		if (logdet != -INFINITY) {
			if (w->prec == NP_XF)
				np_backsub_x(w->Xb, m, t, w->piv, w->esc);
			else
				np_backsub_d(w->Xb, m, t, w->piv, w->esc);
		}
		if (w->prec == NP_XF || !np_fp_trouble())
			break;
	}
	for (int64_t a = 1; a <= t; a++)
		w->escn[others[a - 1]] = logdet == -INFINITY
			? xf_zero() : np_at(w->esc, w->prec, a);
}

/*
 * The chain rule's groups: group[x] is the group of node x (each undrawn
 * node heads its own; the root's holds the root and every drawn node
 * whose path reaches it); Ac has a row of weights per group, in the
 * arithmetic of a; undrawn[0 .. count) the nodes left to draw, in order.
 */
typedef struct np_groups {
	void *Ac;
	int32_t *group, *undrawn;
	int64_t count;
} np_groups;

/* Every node its own group; the rows of A0. */
static np_groups np_groups_init(int64_t n, const np_ws *w)
{
	const size_t size = np_size(w->wprec);
	np_groups G = {w->X, w->ints + n, w->ints + 2 * n, 0};
	memcpy(G.Ac, w->A0, (size_t)(n * n) * size);
	for (int64_t x = 0; x < n; x++)
		G.group[x] = (int32_t)x;
	for (int64_t x = 1; x < n; x++)
		G.undrawn[G.count++] = (int32_t)x;
	return G;
}

/* The head of d, drawn with probability ∝ a[h, d] escn[group(h)] (the
 * escape probabilities of np_escape, in w->escn); where underflow lost
 * every path, the best arc into d from outside its group. -1 if none. */
static int64_t np_draw_head(int64_t n, np_ws *w, const np_groups *G,
			    int32_t d, ss_rng *rng)
{
	np_xf *wt = w->wt;
	int64_t h;
	w->escn[0] = xf_one();
	w->escn[d] = xf_zero();
	for (int64_t x = 0; x < n; x++)
		wt[x] = x == d ? xf_zero()
			       : xf_mul(np_at(w->A0, w->wprec, x * n + d),
					w->escn[G->group[x]]);
	h = np_draw(wt, n, ss_rng_uniform(rng));
	if (h < 0) { /* only if underflow lost every path */
		np_xf best = xf_zero();
		for (int64_t x = 0; x < n; x++) {
			np_xf a = np_at(w->A0, w->wprec, x * n + d);
			if (G->group[x] != d && xf_gt(a, best)) {
				best = a;
				h = x;
			}
		}
	}
	return h;
}

/* Contracts d into the group of its head h: d's row of weights to the t
 * nodes others[] is added to the group's, and d's group joins it. */
static void np_join(int64_t n, int wprec, np_groups *G, int32_t d,
		    int64_t h, const int32_t *others, int64_t t)
{
	const int32_t g = G->group[h];
	for (int64_t k = 0; k < t; k++) {
		int64_t to = g * n + others[k], from = d * n + others[k];
		if (wprec == NP_XF)
			((np_xf *)G->Ac)[to] = xf_add(((np_xf *)G->Ac)[to],
						      ((np_xf *)G->Ac)[from]);
		else
			((double *)G->Ac)[to] += ((double *)G->Ac)[from];
	}
	for (int64_t x = 0; x < n; x++)
		if (G->group[x] == d)
			G->group[x] = g;
}

/* The chain rule: heads of a multi-root tree whose weights are in A0. */
static void np_chain_rule(int64_t n, np_ws *w, ss_rng *rng, int64_t *heads)
{
	np_groups G = np_groups_init(n, w);
	for (int64_t u = 0; u < G.count; u++) {
		const int32_t d = G.undrawn[u], *others = G.undrawn + u + 1;
		const int64_t t = G.count - u - 1;
		int64_t h;
		np_escape(n, G.Ac, others, t, d, w);
		if ((h = np_draw_head(n, w, &G, d, rng)) < 0)
			break;
		heads[d] = h;
		np_join(n, w->wprec, &G, d, h, others, t);
	}
}

/*
 * Wilson's expected number of walk steps for a multi-root tree whose log
 * Z and adjoints np_solve left in w (perm the identity): Σ_d G[d, d],
 * the walk's expected visits to d from d before the root, which is
 * p_d L⁻¹[d, d] with p_d = Σ_h a[h, d] the walk's normaliser at d and
 * L⁻¹[d, d] the root arc's adjoint, Xb[0, d]. +inf beyond 2^1000.
 */
static double np_wilson_steps(int64_t n, const np_ws *w)
{
	np_xf steps = xf_zero();
	if (w->prec == NP_DOUBLE) {
		const double *a = w->A0, *xb = w->Xb;
		double *mass = w->T, sum = 0.0;
		for (int64_t d = 0; d < n; d++)
			mass[d] = 0.0;
		for (int64_t h = 0; h < n; h++)
			for (int64_t d = 0; d < n; d++)
				mass[d] += h == d ? 0.0 : a[h * n + d];
		for (int64_t d = 1; d < n; d++)
			sum += mass[d] * xb[d];
		return sum;
	}
	for (int64_t d = 1; d < n; d++) {
		np_xf mass = xf_zero();
		for (int64_t h = 0; h < n; h++)
			if (h != d)
				mass = xf_add(mass, ((const np_xf *)w->A0)[h * n + d]);
		steps = xf_madd(steps, mass, ((const np_xf *)w->Xb)[d]);
	}
	return steps.e > 1000 ? INFINITY : xf_double(steps);
}

/* The most expected steps for which Wilson's algorithm is chosen: where
 * it costs about as much as the chain rule (n⁴ / 12 multiply-adds, and
 * a step about NP_STEP_COST of them: a uniform and a binary search). */
#define NP_STEP_COST 32.0
static double np_wilson_budget(int64_t n)
{
	const double nn = (double)n * (double)n;
	return nn * nn / (12.0 * NP_STEP_COST);
}

/* cum[h * n + d] = Σ_{h' <= h, h' != d} a[h', d]: each node's heads'
 * weights, cumulated down its column; scaled columns in double by their
 * largest binary exponent (a weight below 2^-1100 of the largest counts
 * as 0, as in np_draw). */
static void np_cumulate(int64_t n, const np_ws *w, double *cum)
{
	if (w->wprec == NP_DOUBLE) {
		const double *a = w->A0;
		for (int64_t h = 0; h < n; h++)
			for (int64_t d = 0; d < n; d++)
				cum[h * n + d] = (h > 0 ? cum[(h - 1) * n + d] : 0.0) +
						 (h == d ? 0.0 : a[h * n + d]);
		return;
	}
	for (int64_t d = 0; d < n; d++) {
		const np_xf *a = (const np_xf *)w->A0;
		double top = NP_XF_ZERO_E, sum = 0.0;
		for (int64_t h = 0; h < n; h++)
			if (h != d && a[h * n + d].m > 0 && a[h * n + d].e > top)
				top = a[h * n + d].e;
		for (int64_t h = 0; h < n; h++) {
			if (h != d && a[h * n + d].m > 0)
				sum += xf_double((np_xf){a[h * n + d].m,
							 a[h * n + d].e - top});
			cum[h * n + d] = sum;
		}
	}
}

/* A head of d, drawn with u in [0, 1) from its column of cum: the first h
 * whose cumulated weight passes u times the total (or reaches it, where
 * rounding made u · total the total). Its weight is never 0. */
static int64_t np_walk_step(const double *cum, int64_t n, int64_t d,
			    double u)
{
	const double total = cum[(n - 1) * n + d], target = u * total;
	int64_t lo = 0, hi = n - 1;
	while (lo < hi) {
		const int64_t mid = lo + (hi - lo) / 2;
		const double c = cum[mid * n + d];
		if (c > target || c >= total)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * Wilson's algorithm (1996) for a multi-root tree, cum its walk (see
 * np_cumulate): for d = 1 .. n-1 in turn, walk from d, each step to a
 * head drawn ∝ a, until the tree (at first the root alone) is reached;
 * heads[] keeps each node's last exit, so the path from d is the loop-
 * erased walk, and it joins the tree. in_tree has n entries.
 * It ends: it is chosen only where the expected number of steps T is at
 * most the budget, and from any node the expected steps to the root are
 * Σ_u G[u, v] <= Σ_u G[u, u] = T, so a walk outlives 2kT steps with
 * probability at most 2^-k. No arc that cum rounds away (one below
 * 2^-53 of its column) can be a node's only way out, or T would exceed
 * 2^53.
 */
static void np_wilson(int64_t n, const double *cum, int32_t *in_tree,
		      ss_rng *rng, int64_t *heads)
{
	in_tree[0] = 1;
	for (int64_t x = 1; x < n; x++)
		in_tree[x] = 0;
	for (int64_t d = 1; d < n; d++) {
		for (int64_t x = d; !in_tree[x]; x = heads[x])
			heads[x] = np_walk_step(cum, n, x, ss_rng_uniform(rng));
		for (int64_t x = d; !in_tree[x]; x = heads[x])
			in_tree[x] = 1;
	}
}

/* The heads of a multi-root tree (all -1 where none exists), by the
 * sampler p->sampler names or, by default, the cheaper by expected cost. */
static void np_sample_multi_root(const ssi_tree *p, np_ws *w, ss_rng *rng,
				 int64_t *heads)
{
	const int64_t n = p->n;
	int sampler = p->sampler;
	if (n == 1 || np_solve(p, w, w->ints, sampler == SSI_SAMPLER_AUTO) ==
			      -INFINITY)
		return;
	if (sampler == SSI_SAMPLER_AUTO)
		sampler = np_wilson_steps(n, w) <= np_wilson_budget(n)
			? SSI_SAMPLER_WILSON : SSI_SAMPLER_CHAIN_RULE;
	if (sampler == SSI_SAMPLER_WILSON) {
		np_cumulate(n, w, w->X);
		np_wilson(n, w->X, w->ints, rng, heads);
	} else {
		np_chain_rule(n, w, rng, heads);
	}
}

/* Single root: the root's child c from μ[0, ·] (heads[c] = 0), -1 where
 * no tree exists (or underflow lost every weight). */
static int32_t np_draw_root_child(const ssi_tree *p, np_ws *w, ss_rng *rng,
				  int64_t *heads)
{
	const int64_t n = p->n;
	int32_t *perm = w->ints, c;
	if (np_solve(p, w, perm, 1) == -INFINITY)
		return -1;
	for (int64_t j = 1; j < n; j++)
		w->wt[perm[j] - 1] = xf_mul(np_at(w->A0, w->wprec, perm[j]),
					    np_at(w->Xb, w->prec, j));
	c = (int32_t)np_draw(w->wt, n - 1, ss_rng_uniform(rng)) + 1;
	if (c == 0)
		return -1;
	heads[c] = 0;
	return c;
}

/* Node x of the tree left once the root's child c is drawn: its node 0
 * is c, its others the nodes 1 .. n-1 but c, in order. */
static int64_t np_rest_node(int64_t x, int64_t c)
{
	return x == 0 ? c : x < c ? x : x + 1;
}

void SSI_KERNEL(ssi_nonprojective_sample)(const ssi_tree *p, void *ws, ss_rng *rng,
			      int64_t *heads)
{
	const int64_t n = p->n;
	np_ws w = np_carve(n, ws);
	fexcept_t saved;

	for (int64_t d = 0; d < n; d++)
		heads[d] = -1;
	if (n == 1)
		return;
	fegetexceptflag(&saved, FE_ALL_EXCEPT); /* restored at the end */
	if (!p->single_root) {
		np_sample_multi_root(p, &w, rng, heads);
	} else {
		/* The trees with c the root's child are, less the arc 0 -> c,
		 * the multi-root trees over c and the others, c the root. */
		const int64_t c = np_draw_root_child(p, &w, rng, heads), m = n - 1;
		const ssi_tree rest = {w.rest_w, m, m, 0, p->sampler};
		np_ws wr = np_carve(m, ws);
		if (c < 0)
			goto done;
		for (int64_t h = 0; h < m; h++)
			for (int64_t d = 0; d < m; d++)
				w.rest_w[h * m + d] = p->w[np_rest_node(h, c) * p->ld +
							   np_rest_node(d, c)];
		for (int64_t d = 0; d < m; d++)
			w.rest_heads[d] = -1;
		np_sample_multi_root(&rest, &wr, rng, w.rest_heads);
		for (int64_t d = 1; d < m; d++)
			heads[np_rest_node(d, c)] = w.rest_heads[d] < 0
				? -1 : np_rest_node(w.rest_heads[d], c);
	}
done:
	fesetexceptflag(&saved, FE_ALL_EXCEPT);
}
