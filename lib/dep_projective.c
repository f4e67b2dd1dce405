/*
 * dep_projective.c - projective dependency trees: Eisner's algorithm.
 *
 * Nodes 0 .. n-1 in sentence order; node 0 is the root, at the left end,
 * and only heads. Arc scores w[h * ld + d] for the arc h -> d (column 0
 * and the diagonal are never read). A projective tree gives every node
 * d >= 1 one head, with no two arcs crossing; its score is Σ_d w[head(d), d].
 *
 * Items over a span s <= t (Eisner 1996):
 *   C→(s, t)  complete, headed by s: s with its dependents' subtrees
 *             covering s+1 .. t, and nothing left to attach on that side
 *   C←(s, t)  complete, headed by t, covering s .. t-1
 *   I→(s, t)  incomplete: the arc s -> t, with s's dependents between
 *             them and t's left dependents
 *   I←(s, t)  incomplete: the arc t -> s, likewise
 * Recurrences (⊗ = +; ⊕ = logsumexp for log Z, max for the best tree):
 *   C→(s, s) = C←(s, s) = 0
 *   S(s, t)  = ⊕_{s <= r < t} C→(s, r) + C←(r+1, t)
 *   I→(s, t) = w[s, t] + S(s, t)
 *   I←(s, t) = w[t, s] + S(s, t),  I←(0, t) = -inf (node 0 has no head)
 *   C→(s, t) = ⊕_{s < r <= t} I→(s, r) + C→(r, t)
 *   C←(s, t) = ⊕_{s <= r < t} C←(s, r) + I←(r, t)
 *   log Z    = C→(0, n-1)   (0 for n = 1)
 * The split sum S is shared by the two arcs over a span, so each span
 * costs three reductions. Single root: the arc 0 -> t may only take the
 * split r = 0, S(0, t) = C←(1, t), so node 0 has exactly one dependent
 * (the dependents of 0 come from nested I→(0, ·) items, each adding one);
 * n = 1 then has no tree (-inf).
 *
 * Scale. Every tree has one arc into each d, so log Z runs on the scores
 * w[h, d] - q_d with q_d = logsumexp_h w[h, d] and adds Σ q_d back; the
 * marginals and the sampling distribution are unchanged. Every item is
 * then a sum over some head choices of locally normalised scores, so the
 * chart stays at or below 0 whatever the scores' magnitude.
 *
 * Exactness without an exp per candidate. Beside every log value x the
 * chart keeps a factor e: exp(x) when that lies in [2^-500, 2^500], 0
 * for x = -inf, NaN otherwise. A cell is first Σ_j e_a e_b in plain
 * arithmetic: products of such factors are normal doubles, so the sum is
 * exact to rounding, its log is the cell and the sum its factor. Where
 * the sum is NaN (a factor out of range: scores spread over hundreds)
 * the cell is recomputed in log space, shifted by its own maximum: a max
 * pass, then Σ exp(x - max), and its factor is exp of that. The factor of
 * I→(s, t) is that of S(s, t) times the softmax exp(w[s, t] - q_t), the
 * factor of the arc. Either way log Z is exact for any magnitude and
 * -inf stays -inf, and the O(n³) loop has exps only where scores force
 * it.
 *
 * Marginals are the gradient of log Z, by reverse-mode differentiation of
 * the inside pass (Eisner 2016): adjoints ḡ(x) = P(item x is in the tree)
 * start at ḡ(C→(0, n-1)) = 1 and flow from each cell to its candidates
 * in the reverse order, a candidate a + b of cell x passing
 * ḡ(x) exp(a + b - x) = ḡ(x) e_a e_b / e_x to a and to b (in log space
 * where that is NaN), and ḡ(S) = ḡ(I→) + ḡ(I←). P(h -> d) = ḡ(I→(h, d))
 * for h < d and ḡ(I←(d, h)) for h > d.
 *
 * The best tree: the same fill under max on the unshifted scores, with
 * the first maximising split of every cell as its backpointer, then a
 * walk down from C→(0, n-1). Sampling walks down through the inside chart
 * instead, each cell drawing its split with probability ∝ exp(candidate):
 * exact, since the candidates of a cell are the inside weights of its
 * derivations.
 *
 * Layout: every chart is stored by width, X(s, s+k) at X[k * n + s], so
 * that for one split offset j the candidates of all spans of width k lie
 * in contiguous rows over s. Cells are reduced in blocks of consecutive s
 * with the split loop inside, so that a block's running sums stay in
 * registers.
 *
 * Time O(n³), memory O(n²) (16 n² doubles). J. Eisner, "Three new
 * probabilistic models for dependency parsing" (COLING 1996); J. Eisner,
 * "Inside-outside and forward-backward algorithms are just backprop"
 * (2016).
 */
#include <assert.h>

#include "internal.h"

/* The items and the split sum S; the first four are also walk items. */
enum { X_CR, X_CL, X_IR, X_IL, X_S, X_COUNT };

/* A chart: log values [n, n] by width for each of X_COUNT; the inside
 * chart also their factors (NULL in the max and adjoint charts). */
typedef struct chart {
	double *c[X_COUNT], *f[X_COUNT];
} chart;

/* A walk entry: item kind over the span (s, s + k). */
typedef struct item {
	int32_t kind, s, k;
} item;

/* Cells per block: LANES, else LANES_HALF, else 1 (see block_next). */
#define LANES 8
#define LANES_HALF (LANES / 2)

/*
 * Workspace: the inside chart with factors (kept for marginals and
 * sample); a second chart (adjoints for marginals, the max chart for
 * argmax, so that argmax leaves the inside chart alone); the factors of
 * the shifted arcs [n, n] (row h, column d); backpointers of S, C→ and
 * C← [n, n] each; the shifts q [n]; a row [n]; the walk stack [n].
 */
enum { BP_S, BP_CR, BP_CL, BP_COUNT };

/* The [n, n] arrays of one item: its inside values and factors, and its
 * second chart. */
enum { ITEM_ARRAYS = 3 };

typedef struct proj_ws {
	chart in, aux;
	double *arc, *q, *row;
	int32_t *bp[BP_COUNT];
	item *stack;
} proj_ws;

size_t ssi_projective_workspace(int64_t n)
{
	size_t nn = (size_t)(n * n), row = (size_t)n * sizeof(double);
	return (ITEM_ARRAYS * X_COUNT + 1) * ssi_align64(nn * sizeof(double)) +
	       BP_COUNT * ssi_align64(nn * sizeof(int32_t)) +
	       2 * ssi_align64(row) +
	       ssi_align64((size_t)(n + 1) * sizeof(item));
}

static proj_ws proj_ws_carve(int64_t n, void *ws)
{
	size_t nn = (size_t)(n * n), dbl = ssi_align64(nn * sizeof(double));
	size_t row = ssi_align64((size_t)n * sizeof(double));
	char *p = ws;
	proj_ws w;
	for (int x = 0; x < X_COUNT; x++, p += ITEM_ARRAYS * dbl) {
		w.in.c[x] = (double *)p;
		w.in.f[x] = (double *)(p + dbl);
		w.aux.c[x] = (double *)(p + 2 * dbl);
		w.aux.f[x] = NULL;
	}
	w.arc = (double *)p;
	p += dbl;
	for (int k = 0; k < BP_COUNT; k++, p += ssi_align64(nn * sizeof(int32_t)))
		w.bp[k] = (int32_t *)p;
	w.q = (double *)p;
	p += row;
	w.row = (double *)p;
	p += row;
	w.stack = (item *)p;
	return w;
}

/* ---- factors ------------------------------------------------------------ */

/* e when it lies in [2^-500, 2^500], else NaN. */
static inline double in_range(double e)
{
	return e >= 0x1p-500 && e <= 0x1p500 ? e : NAN;
}

/* The factor of a cell whose value e came from factors: 0 stays 0 (only
 * exact zeros, -inf parts, give it). */
static inline double checked(double e)
{
	return e == 0.0 ? 0.0 : in_range(e);
}

/* The factor of a log value x: exp(x), 0 for -inf, NaN out of range. */
static inline double factor(double x)
{
	const double range = 346.57359027997265; /* 500 ln 2 */
	double e = ssi_exp(x < range ? x : 0.0);
	int ok = x >= -range && x <= range;
	return x == -INFINITY ? 0.0 : ok ? e : NAN;
}

/*
 * log(x) for x = 0 (-inf) or normal x, branch-free so that lane loops
 * vectorise (fdlibm's __ieee754_log: x = 2^k (1 + f) with 1 + f in
 * [√2/2, √2), s = f / (2 + f), log(1 + f) = 2 atanh(s) by a polynomial
 * in s²; error below 1 ulp).
 */
static inline double log_vec(double x)
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
	uint64_t bits, hi;
	double m;
	memcpy(&bits, &x, sizeof x);
	/* The mantissa into [√2/2, √2), the exponent into k. */
	hi = (bits >> 32) + (0x3ff00000 - 0x3fe6a09e);
	double k = (double)((int64_t)(hi >> 20) - 0x3ff);
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

/* ---- reductions --------------------------------------------------------- */

/*
 * The candidates of the cells of width k: for split offsets j in [lo, hi),
 * cell (s, s+k) has candidate a[j * n + s] + b[(kb - j) * n + j + s]
 * (log values; fa, fb the factors, NULL outside the inside chart).
 *   S:   a = C→, b = C← + 1, kb = k - 1, j = r - s in [0, k)
 *   C→:  a = I→, b = C→,     kb = k,     j = r - s in [1, k]
 *   C←:  a = C←, b = I←,     kb = k,     j = r - s in [0, k)
 * The left child is then (s, s+j) and the right child (s+j+1, s+k) for S,
 * (s+j, s+k) for C→ and C←.
 */
typedef struct rule {
	double *a, *b, *fa, *fb;
	int64_t kb, lo, hi;
} rule;

static rule rule_of(const chart *c, int x, int64_t k)
{
	int ia = X_CR, ib = X_CL, off = 1;
	int64_t kb = k - 1, lo = 0, hi = k;
	if (x == X_CR) {
		ia = X_IR, ib = X_CR, off = 0, kb = k, lo = 1, hi = k + 1;
	} else if (x == X_CL) {
		ia = X_CL, ib = X_IL, off = 0, kb = k;
	}
	return (rule){c->c[ia], c->c[ib] + off, c->f[ia],
		      c->f[ib] ? c->f[ib] + off : NULL, kb, lo, hi};
}

/* The rows of split offset j for the block at s0. */
#define ROW_A(r, x, j, n, s0) ((r)->x + (j) * (n) + (s0))
#define ROW_B(r, x, j, n, s0) ((r)->x + ((r)->kb - (j)) * (n) + (j) + (s0))

/*
 * The cells of one width go in blocks of LANES consecutive s (LANES_HALF
 * or 1 when fewer remain). block_next gives the block from s0 on: its start,
 * lanes and the lanes it skips. A last partial block is moved back to
 * end at cnt, overlapping cells done before (skip says how many): a
 * cell's value depends on its candidates only, so recomputing it gives
 * the same bits, and the adjoint pass masks the skipped lanes.
 */
typedef struct block {
	int64_t start, next;
	int lanes, skip;
} block;

static block block_next(int64_t cnt, int64_t s0)
{
	const int64_t left = cnt - s0;
	for (int lanes = LANES; lanes >= LANES_HALF; lanes /= 2) {
		if (left >= lanes)
			return (block){s0, s0 + lanes, lanes, 0};
		if (cnt >= lanes)
			return (block){cnt - lanes, cnt, lanes,
				       (int)(s0 - (cnt - lanes))};
	}
	return (block){s0, s0 + 1, 1, 0};
}

/* sum[l] = Σ_j e_a e_b over the block's lanes. */
static inline void block_factors(const rule *r, int64_t n, int64_t s0,
				 int lanes, double *sum)
{
	for (int l = 0; l < lanes; l++)
		sum[l] = 0.0;
	for (int64_t j = r->lo; j < r->hi; j++) {
		const double *fa = ROW_A(r, fa, j, n, s0);
		const double *fb = ROW_B(r, fb, j, n, s0);
#pragma omp simd
		for (int l = 0; l < lanes; l++)
			sum[l] += fa[l] * fb[l];
	}
}

/* out[l] = logsumexp_j (a + b) in log space, each cell shifted by its
 * own maximum. */
static inline void block_log(const rule *r, int64_t n, int64_t s0,
			     int lanes, double *out)
{
	double m[LANES], sum[LANES];
	for (int l = 0; l < lanes; l++) {
		m[l] = -INFINITY;
		sum[l] = 0.0;
	}
	for (int64_t j = r->lo; j < r->hi; j++) {
		const double *a = ROW_A(r, a, j, n, s0);
		const double *b = ROW_B(r, b, j, n, s0);
#pragma omp simd
		for (int l = 0; l < lanes; l++) {
			double x = a[l] + b[l];
			m[l] = x > m[l] ? x : m[l];
		}
	}
	/* A cell whose candidates are all -inf keeps shift 0 and sum 0. */
	for (int l = 0; l < lanes; l++)
		m[l] = m[l] == -INFINITY ? 0.0 : m[l];
	for (int64_t j = r->lo; j < r->hi; j++) {
		const double *a = ROW_A(r, a, j, n, s0);
		const double *b = ROW_B(r, b, j, n, s0);
#pragma omp simd
		for (int l = 0; l < lanes; l++)
			sum[l] += ssi_exp(a[l] + b[l] - m[l]);
	}
	for (int l = 0; l < lanes; l++)
		out[l] = m[l] + log(sum[l]);
}

/* The log-semiring cells of the block at s0: log values into out, their
 * factors into fout. */
static inline void block_logsum(const rule *r, int64_t n, int64_t s0,
				int lanes, double *out, double *fout)
{
	double sum[LANES], fast[LANES], exact[LANES] = {0}, ef[LANES] = {0};
	int slow = 0;
	block_factors(r, n, s0, lanes, sum);
#pragma omp simd
	for (int l = 0; l < lanes; l++)
		fast[l] = log_vec(sum[l]);
	for (int l = 0; l < lanes; l++)
		slow |= isnan(sum[l]);
	if (slow) {
		block_log(r, n, s0, lanes, exact);
#pragma omp simd
		for (int l = 0; l < lanes; l++)
			ef[l] = factor(exact[l]);
	}
#pragma omp simd
	for (int l = 0; l < lanes; l++) {
		int bad = isnan(sum[l]);
		out[s0 + l] = bad ? exact[l] : fast[l];
		fout[s0 + l] = bad ? ef[l] : checked(sum[l]);
	}
}

/* out[s] = max_j (a + b), arg[s] the first maximising j. */
static inline void block_max(const rule *r, int64_t n, int64_t s0,
			     int lanes, double *out, int32_t *arg)
{
	double m[LANES], am[LANES];
	for (int l = 0; l < lanes; l++) {
		m[l] = -INFINITY;
		am[l] = (double)r->lo;
	}
	for (int64_t j = r->lo; j < r->hi; j++) {
		const double *a = ROW_A(r, a, j, n, s0);
		const double *b = ROW_B(r, b, j, n, s0);
		const double jd = (double)j;
#pragma omp simd
		for (int l = 0; l < lanes; l++) {
			double x = a[l] + b[l], ml = m[l], al = am[l];
			/* A blend, not a conditional store, which would keep
			 * the lanes in memory. */
			am[l] = al + (x > ml ? jd - al : 0.0);
			m[l] = x > ml ? x : ml;
		}
	}
	for (int l = 0; l < lanes; l++) {
		out[s0 + l] = m[l];
		arg[s0 + l] = (int32_t)am[l];
	}
}

/*
 * The cells s < cnt of one width under sr: log values and factors (out,
 * fout) or maxima and their first maximising j (out, arg). The lane
 * counts are constants at each call so that lane loops become vectors.
 */
static void span_reduce(ssi_semiring sr, const rule *r, int64_t n,
			int64_t cnt, double *out, double *fout, int32_t *arg)
{
	for (int64_t s0 = 0; s0 < cnt;) {
		block b = block_next(cnt, s0);
		if (sr == SSI_LOG) {
			if (b.lanes == LANES)
				block_logsum(r, n, b.start, LANES, out, fout);
			else if (b.lanes == LANES_HALF)
				block_logsum(r, n, b.start, LANES_HALF, out,
					     fout);
			else
				block_logsum(r, n, b.start, 1, out, fout);
		} else {
			if (b.lanes == LANES)
				block_max(r, n, b.start, LANES, out, arg);
			else if (b.lanes == LANES_HALF)
				block_max(r, n, b.start, LANES_HALF, out, arg);
			else
				block_max(r, n, b.start, 1, out, arg);
		}
		s0 = b.next;
	}
}

/* ---- inside ------------------------------------------------------------- */

/*
 * q[d] = logsumexp_h w[h, d] (0 where every arc into d is -inf) and the
 * factors of the shifted arcs, arc[h * n + d] = exp(w[h, d] - q[d]) (0 for
 * -inf, NaN out of range), by rows so that the passes vectorise. Returns
 * Σ_d q[d].
 */
static double arc_shifts(const ssi_tree *p, double *q, double *arc,
			 double *sum)
{
	const int64_t n = p->n, ld = p->ld;
	double total = 0.0;
	for (int64_t d = 0; d < n; d++) {
		q[d] = -INFINITY;
		sum[d] = 0.0;
	}
	for (int64_t h = 0; h < n; h++) {
		const double *row = p->w + h * ld;
		for (int64_t d = 1; d < n; d++) {
			double x = d == h ? -INFINITY : row[d];
			q[d] = x > q[d] ? x : q[d];
		}
	}
	for (int64_t d = 0; d < n; d++)
		q[d] = q[d] == -INFINITY ? 0.0 : q[d];
	for (int64_t h = 0; h < n; h++) {
		const double *row = p->w + h * ld;
		double *e = arc + h * n;
		for (int64_t d = 1; d < n; d++) {
			double x = d == h ? -INFINITY : row[d];
			e[d] = ssi_exp(x - q[d]);
			sum[d] += e[d];
		}
	}
	for (int64_t d = 1; d < n; d++) {
		sum[d] = sum[d] > 0.0 ? sum[d] : 1.0;
		q[d] += log(sum[d]);
		total += q[d];
		sum[d] = 1.0 / sum[d];
	}
	for (int64_t h = 0; h < n; h++) {
		const double *row = p->w + h * ld;
		double *e = arc + h * n;
		for (int64_t d = 1; d < n; d++) {
			double x = d == h ? -INFINITY : row[d];
			double v = in_range(e[d] * sum[d]);
			e[d] = x == -INFINITY ? 0.0 : v;
		}
	}
	return total;
}

/*
 * Fills chart c under sr and returns C→(0, n-1). The log semiring runs
 * on the scores w[h, d] - q[d], with arc their factors, and fills the
 * factors of c; max runs on w (q NULL) and writes backpointers.
 */
static double chart_fill(const ssi_tree *p, ssi_semiring sr, chart *c,
			 const double *q, const double *arc, int32_t *const *bp)
{
	const int64_t n = p->n, ld = p->ld;
	double *const *x = c->c, *const *f = c->f;
	for (int64_t s = 0; s < n; s++)
		x[X_CR][s] = x[X_CL][s] = 0.0;
	if (f[X_CR])
		for (int64_t s = 0; s < n; s++)
			f[X_CR][s] = f[X_CL][s] = 1.0;
	for (int64_t k = 1; k < n; k++) {
		const int64_t cnt = n - k, off = k * n;
		double *sp = x[X_S] + off;
		double *ir = x[X_IR] + off, *il = x[X_IL] + off;
		rule r = rule_of(c, X_S, k);
		span_reduce(sr, &r, n, cnt, sp, f[X_S] ? f[X_S] + off : NULL,
			    bp ? bp[BP_S] + off : NULL);
		if (p->single_root) {
			sp[0] = x[X_CL][(k - 1) * n + 1];
			if (f[X_S])
				f[X_S][off] = f[X_CL][(k - 1) * n + 1];
			if (bp)
				bp[BP_S][off] = 0;
		}
		/* The arcs over the span; node 0 takes no head (column 0 is
		 * never read). */
		for (int64_t s = 0; s < cnt; s++)
			ir[s] = p->w[s * ld + s + k] - (q ? q[s + k] : 0.0) +
				sp[s];
		il[0] = -INFINITY;
		for (int64_t s = 1; s < cnt; s++)
			il[s] = p->w[(s + k) * ld + s] - (q ? q[s] : 0.0) +
				sp[s];
		if (f[X_S]) {
			const double *fs = f[X_S] + off;
			double *fir = f[X_IR] + off, *fil = f[X_IL] + off;
			for (int64_t s = 0; s < cnt; s++)
				fir[s] = checked(arc[s * n + s + k] * fs[s]);
			fil[0] = 0.0;
			for (int64_t s = 1; s < cnt; s++)
				fil[s] = checked(arc[(s + k) * n + s] * fs[s]);
		}
		r = rule_of(c, X_CR, k);
		span_reduce(sr, &r, n, cnt, x[X_CR] + off,
			    f[X_CR] ? f[X_CR] + off : NULL,
			    bp ? bp[BP_CR] + off : NULL);
		r = rule_of(c, X_CL, k);
		span_reduce(sr, &r, n, cnt, x[X_CL] + off,
			    f[X_CL] ? f[X_CL] + off : NULL,
			    bp ? bp[BP_CL] + off : NULL);
	}
	return x[X_CR][(n - 1) * n];
}

double ssi_projective_inside(const ssi_tree *p, void *ws)
{
	proj_ws w = proj_ws_carve(p->n, ws);
	double shift = arc_shifts(p, w.q, w.arc, w.row);
	double logz = chart_fill(p, SSI_LOG, &w.in, w.q, w.arc, NULL);
	if (p->single_root && p->n == 1)
		return -INFINITY;
	return logz == -INFINITY ? logz : logz + shift;
}

/* ---- marginals ---------------------------------------------------------- */

/*
 * The adjoint step of one block under rule r of the inside chart (rg the
 * same rule over the adjoint chart): each candidate a + b of cell s
 * passes gout[s] exp(a + b - out[s]) to the adjoints of a and b, from the
 * factors as (gout / e_out) e_a e_b, or in log space in the lanes where a
 * factor is NaN (as block_factors finds). Skipped lanes and cells that
 * are -inf or have no weight pass nothing on.
 */
static inline void block_push(const rule *r, const rule *rg, int64_t n,
			      const block *bk, int lanes, const double *out,
			      const double *fout, const double *gout)
{
	const int64_t s0 = bk->start;
	double g[LANES], v[LANES], inv[LANES], sum[LANES], bad[LANES];
	int slow = 0;
	for (int l = 0; l < lanes; l++) {
		int live = l >= bk->skip && out[s0 + l] > -INFINITY &&
			   gout[s0 + l] != 0.0;
		g[l] = live ? gout[s0 + l] : 0.0;
		v[l] = live ? out[s0 + l] : 0.0;
		inv[l] = live ? g[l] / fout[s0 + l] : 0.0;
	}
	block_factors(r, n, s0, lanes, sum);
	for (int l = 0; l < lanes; l++) {
		bad[l] = g[l] != 0.0 && isnan(inv[l] * sum[l]) ? 1.0 : 0.0;
		slow |= bad[l] != 0.0;
	}
	for (int64_t j = r->lo; j < r->hi; j++) {
		const double *fa = ROW_A(r, fa, j, n, s0);
		const double *fb = ROW_B(r, fb, j, n, s0);
		double *ga = ROW_A(rg, a, j, n, s0);
		double *gb = ROW_B(rg, b, j, n, s0);
		if (!slow) {
#pragma omp simd
			for (int l = 0; l < lanes; l++) {
				/* No weight, nothing passed, NaN or not. */
				double q = inv[l] * (fa[l] * fb[l]);
				q = g[l] != 0.0 ? q : 0.0;
				ga[l] += q;
				gb[l] += q;
			}
			continue;
		}
		const double *a = ROW_A(r, a, j, n, s0);
		const double *b = ROW_B(r, b, j, n, s0);
#pragma omp simd
		for (int l = 0; l < lanes; l++) {
			double d = a[l] + b[l] - v[l];
			double e = g[l] * ssi_exp(d < 0.0 ? d : 0.0);
			double q = inv[l] * (fa[l] * fb[l]);
			q = bad[l] != 0.0 ? e : g[l] != 0.0 ? q : 0.0;
			ga[l] += q;
			gb[l] += q;
		}
	}
}

/* The adjoint step of reduction x at width k. */
static void span_push(const proj_ws *w, int x, int64_t n, int64_t k)
{
	const rule r = rule_of(&w->in, x, k), rg = rule_of(&w->aux, x, k);
	const double *out = w->in.c[x] + k * n, *fout = w->in.f[x] + k * n;
	const double *gout = w->aux.c[x] + k * n;
	for (int64_t s0 = 0; s0 < n - k;) {
		block b = block_next(n - k, s0);
		if (b.lanes == LANES)
			block_push(&r, &rg, n, &b, LANES, out, fout, gout);
		else if (b.lanes == LANES_HALF)
			block_push(&r, &rg, n, &b, LANES_HALF, out, fout,
				   gout);
		else
			block_push(&r, &rg, n, &b, 1, out, fout, gout);
		s0 = b.next;
	}
}

void ssi_projective_marginals(const ssi_tree *p, void *ws, double logz,
			      double *mu)
{
	const int64_t n = p->n, ld = p->ld;
	proj_ws w = proj_ws_carve(n, ws);
	double *const *g = w.aux.c;
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++)
			mu[h * ld + d] = 0.0;
	if (logz == -INFINITY || n == 1)
		return;
	for (int x = 0; x < X_COUNT; x++)
		memset(g[x], 0, (size_t)(n * n) * sizeof(double));
	g[X_CR][(n - 1) * n] = 1.0;
	for (int64_t k = n - 1; k >= 1; k--) {
		const int64_t off = k * n;
		span_push(&w, X_CL, n, k);
		span_push(&w, X_CR, n, k);
		for (int64_t s = 0; s < n - k; s++)
			g[X_S][off + s] = g[X_IR][off + s] + g[X_IL][off + s];
		if (p->single_root) {
			/* S(0, k) = C←(1, k): one candidate, of weight 1. */
			g[X_CL][(k - 1) * n + 1] += g[X_S][off];
			g[X_S][off] = 0.0;
		}
		span_push(&w, X_S, n, k);
	}
	for (int64_t k = 1; k < n; k++)
		for (int64_t s = 0; s + k < n; s++) {
			mu[s * ld + s + k] = g[X_IR][k * n + s];
			if (s > 0)
				mu[(s + k) * ld + s] = g[X_IL][k * n + s];
		}
}

/* ---- entropy ---------------------------------------------------------------- */

/* The entropy of the split of cell s under rule r, in log space: over the
 * candidates' log values z_j, log Σ_j exp(z_j - zmax) + Σ_j π_j (zmax -
 * z_j), every term >= 0. */
static double cell_entropy_log(const rule *r, int64_t n, int64_t s)
{
	double zmax = -INFINITY, sum = 0.0, hx = 0.0;
	for (int64_t j = r->lo; j < r->hi; j++) {
		double z = *ROW_A(r, a, j, n, s) + *ROW_B(r, b, j, n, s);
		zmax = z > zmax ? z : zmax;
	}
	if (zmax == -INFINITY)
		return 0.0;
	for (int64_t j = r->lo; j < r->hi; j++) {
		double d = *ROW_A(r, a, j, n, s) + *ROW_B(r, b, j, n, s) - zmax;
		double e = ssi_exp(d);
		sum += e;
		hx += e > 0.0 ? e * -d : 0.0;
	}
	return log(sum) + hx / sum;
}

/*
 * Σ P(x) H_x over the live cells x of the block (adjoints g, log values
 * out): from the factors, π_j = e_a e_b / Σ_j e_a e_b and H_x =
 * Σ_j π_j (x - a_j - b_j) with x = log Σ_j e_a e_b as inside formed it
 * (each x - a_j - b_j >= 0 but for rounding, which the clamp removes);
 * in log space in the lanes where a factor is NaN.
 */
static inline double block_entropy(const rule *r, int64_t n, const block *bk,
				   int lanes, const double *out,
				   const double *g, int64_t skip_cell)
{
	const int64_t s0 = bk->start;
	double sum[LANES], acc[LANES], h = 0.0;
	for (int l = 0; l < lanes; l++)
		sum[l] = acc[l] = 0.0;
	for (int64_t j = r->lo; j < r->hi; j++) {
		const double *fa = ROW_A(r, fa, j, n, s0);
		const double *fb = ROW_B(r, fb, j, n, s0);
		const double *a = ROW_A(r, a, j, n, s0);
		const double *b = ROW_B(r, b, j, n, s0);
#pragma omp simd
		for (int l = 0; l < lanes; l++) {
			double e = fa[l] * fb[l], d = out[s0 + l] - (a[l] + b[l]);
			d = d > 0.0 ? d : 0.0;
			sum[l] += e;
			acc[l] += e > 0.0 ? e * d : 0.0;
		}
	}
	for (int l = bk->skip; l < lanes; l++) {
		const int64_t s = s0 + l;
		if (!(g[s] > 0.0) || s == skip_cell)
			continue;
		h += g[s] * (isnan(sum[l]) ? cell_entropy_log(r, n, s)
					   : acc[l] / sum[l]);
	}
	return h;
}

/*
 * H after inside and marginals (their charts in ws). Every projective
 * tree has exactly one derivation, in which each cell that chooses a
 * split (S, C→, C←) draws it with probability π_j ∝ exp(candidate j);
 * so H = Σ_x P(x) H_x, P(x) the adjoint of cell x and H_x the entropy
 * of its split: a sum of terms >= 0, each exact to the rounding of the
 * chart (not the cancelling log Z - Σ μ·w, which at scores of 1e5 lost
 * 1e-5).
 */
double ssi_projective_entropy(const ssi_tree *p, void *ws)
{
	static const int kinds[] = {X_S, X_CR, X_CL};
	const int64_t n = p->n;
	proj_ws w = proj_ws_carve(n, ws);
	double h = 0.0;
	for (int64_t k = 1; k < n; k++)
		for (size_t x = 0; x < SS_ARRAY_LEN(kinds); x++) {
			const rule r = rule_of(&w.in, kinds[x], k);
			const double *out = w.in.c[kinds[x]] + k * n;
			const double *g = w.aux.c[kinds[x]] + k * n;
			/* Single root: S(0, k) has one candidate. */
			const int64_t skip_cell =
				kinds[x] == X_S && p->single_root ? 0 : -1;
			for (int64_t s0 = 0; s0 < n - k;) {
				block b = block_next(n - k, s0);
				if (b.lanes == LANES)
					h += block_entropy(&r, n, &b, LANES, out, g,
							   skip_cell);
				else if (b.lanes == LANES_HALF)
					h += block_entropy(&r, n, &b, LANES_HALF,
							   out, g, skip_cell);
				else
					h += block_entropy(&r, n, &b, 1, out, g,
							   skip_cell);
				s0 = b.next;
			}
		}
	return h;
}

/* ---- argmax and sample -------------------------------------------------- */

/*
 * The split offset j of item it: its backpointer (rng NULL), or drawn
 * with probability ∝ exp(candidate) from chart c.
 */
static int64_t choose_split(const ssi_tree *p, const proj_ws *w,
			    const chart *c, ss_rng *rng, const item *it)
{
	const int64_t n = p->n, s = it->s, k = it->k;
	const int x = it->kind == X_CR || it->kind == X_CL ? it->kind : X_S;
	const int bpk = x == X_CR ? BP_CR : x == X_CL ? BP_CL : BP_S;
	if (!rng)
		return w->bp[bpk][k * n + s];
	rule r = rule_of(c, x, k);
	if (x == X_S && p->single_root && s == 0)
		r.hi = 1;
	double *cand = w->row;
	for (int64_t j = r.lo; j < r.hi; j++)
		cand[j - r.lo] =
			*ROW_A(&r, a, j, n, s) + *ROW_B(&r, b, j, n, s);
	int64_t pick = ssi_sample_log_weights(cand, r.hi - r.lo, 1,
					      ss_rng_uniform(rng));
	assert(pick >= 0);
	return r.lo + pick;
}

/*
 * Walks down from C→(0, n-1) through chart c, splitting every item by
 * choose_split, and writes the heads the I items name.
 */
static void walk(const ssi_tree *p, const proj_ws *w, const chart *c,
		 ss_rng *rng, int64_t *heads)
{
	const int64_t n = p->n;
	item *stack = w->stack;
	int64_t top = 0;
	heads[0] = -1;
	if (n > 1)
		stack[top++] = (item){X_CR, 0, (int32_t)(n - 1)};
	while (top > 0) {
		item it = stack[--top], left, right;
		int32_t j = (int32_t)choose_split(p, w, c, rng, &it);
		int32_t s = it.s, k = it.k;
		switch (it.kind) {
		case X_CR:
			left = (item){X_IR, s, j};
			right = (item){X_CR, s + j, k - j};
			break;
		case X_CL:
			left = (item){X_CL, s, j};
			right = (item){X_IL, s + j, k - j};
			break;
		default:
			if (it.kind == X_IR)
				heads[s + k] = s;
			else
				heads[s] = s + k;
			left = (item){X_CR, s, j};
			right = (item){X_CL, s + j + 1, k - 1 - j};
			break;
		}
		/* Spans on the stack never share an inner point: at most
		 * n - 1 of width >= 1; width 0 has nothing below it. */
		if (left.k > 0)
			stack[top++] = left;
		if (right.k > 0)
			stack[top++] = right;
		assert(top <= n);
	}
}

static void no_tree(int64_t n, int64_t *heads)
{
	for (int64_t d = 0; d < n; d++)
		heads[d] = -1;
}

double ssi_projective_argmax(const ssi_tree *p, void *ws, int64_t *heads)
{
	proj_ws w = proj_ws_carve(p->n, ws);
	double best = chart_fill(p, SSI_MAX, &w.aux, NULL, NULL, w.bp);
	if ((p->single_root && p->n == 1) || best == -INFINITY) {
		no_tree(p->n, heads);
		return -INFINITY;
	}
	walk(p, &w, &w.aux, NULL, heads);
	return best;
}

void ssi_projective_sample(const ssi_tree *p, void *ws, ss_rng *rng,
			   int64_t *heads)
{
	proj_ws w = proj_ws_carve(p->n, ws);
	if ((p->single_root && p->n == 1) ||
	    w.in.c[X_CR][(p->n - 1) * p->n] == -INFINITY) {
		no_tree(p->n, heads);
		return;
	}
	walk(p, &w, &w.in, rng, heads);
}
