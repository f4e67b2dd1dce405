/*
 * chart.c - the dynamic-programming engine every structure runs on.
 *
 * A structure describes its inside recurrence as a chart program: a list of
 * steps over an array of cells (log values), each step filling a row of
 * cells from earlier cells and the potentials θ of the parts:
 *
 *   cell[out + s] = ⊕_{lo <= j < hi}  cell[x(j, s)] ⊗ cell[y(j, s)] ⊗ θ[part(j, s)]
 *
 * for s < count, with every operand an affine address base + j per_j +
 * s per_s, or absent (the semiring's one). Two shapes cover the structures:
 *   "vecmat"  x over j, a part over (j, s), no y: a chain's forward step
 *             α[i][c] = ⊕_a α[i-1][a] + θ[i, a, c] (linear chain, hmm, and
 *             later semi-Markov, CTC, alignments);
 *   "split"   x and y over (j, s), the part constant in j: the spans of one
 *             width of Eisner's or CKY's chart, C(s, s+k) = ⊕_j L ⊗ R.
 * Steps read only cells that earlier steps wrote (a step without
 * candidates, lo = hi, writes the semiring's zero, -inf) and never the
 * cells they write; the last step's cell `root` holds log Z - offset,
 * offset the sum of the shifts a structure applied to its potentials and
 * those of its normalised steps (internal.h, ssi_chart).
 *
 * On one program the engine runs every operation, written once here:
 *   inside, log semiring    ⊕ = logsumexp: log Z = cell[root] + offset
 *   inside, max semiring    ⊕ = max: the best score
 *   outside                 the adjoints ḡ(x) = ∂ log Z / ∂ x from
 *                           ḡ(root) = 1 in reverse step order: a candidate
 *                           v of cell o passes ḡ(o) exp(v - o) to each of
 *                           its cells and its part, so that the parts'
 *                           adjoints are the marginals (Eisner 2016)
 *   entropy (expectation)   in the same reverse sweep, H = Σ_o ḡ(o) H(o),
 *                           H(o) = Σ_j p_j (o - v_j) the entropy of cell o's
 *                           choice, p_j = exp(v_j - o): a derivation is
 *                           drawn top down one choice at a time, so its
 *                           entropy is the expected sum of the choices'
 *                           entropies. Every term is >= 0 (o >= v_j), so H
 *                           is never negative and stays exact for scores
 *                           of any magnitude, unlike log Z - Σ μ·θ
 *   backtrace               from the root down, in reverse step order, each
 *                           cell in use chooses one candidate and marks its
 *                           cells in use and its part in the event; the
 *                           chooser takes the first best candidate (after
 *                           the max inside: argmax) or draws one with
 *                           probability exp(v_j - o) (after the log inside:
 *                           an exact sample)
 *   counting                the log inside over potentials 0 (allowed
 *                           part) or -inf (lib/ops.c)
 * A k-best semiring would keep k values per cell and the same programs.
 *
 * Exactness: each cell is reduced with its own maximum (a max pass, then
 * Σ exp(v - max)), so no shared shift underflows a cell, and -inf stays
 * -inf. Candidates are gathered row by row over s, so that every pass is
 * elementwise over contiguous memory and vectorises.
 *
 * This file is compiled once per instruction set (lib/isa.c picks one at
 * start-up): its exported kernels carry the set's suffix (SSI_KERNEL).
 *
 * Potentials stored as floats (SPEC §5 asks 1e-5 of their results) run a
 * program's vecmat steps in float kernels: each argument formed in double,
 * its exp in floats (twice the lanes), the cells whose float shift falls
 * out of range recomputed in double; doubles keep the double kernels.
 *
 * Time: one exp per candidate for inside and one for outside (with or
 * without the entropy), or a product of factors where a program has them;
 * the backtrace scans each step once plus the candidates of the cells in
 * use. Memory: the cells, their factors, their adjoints (or the
 * backtrace's counts), and a few rows of one step's width.
 */
#include "internal.h"
#include "simd.h"

/* Rows of one step's width: candidates, factors, potentials, and the
 * per-cell maxima or sums, values and adjoints (ssi_chart.row). */
enum { ROW_V, ROW_F, ROW_T, ROW_M, ROW_O, ROW_G, ROW_COUNT };
_Static_assert(ROW_COUNT == SSI_CHART_ROWS, "SSI_CHART_ROWS is not ROW_COUNT");

/* ---- candidates ------------------------------------------------------------ */

/* How a row takes an operand: log values add, factors multiply. */
typedef enum combine { COMBINE_ADD, COMBINE_MUL } combine;

/* row[s] (⊗)= src[o(j, s)] for s < count, ⊗ the sum (log values) or the
 * product (factors); an absent operand is the identity. Inlined with
 * how a constant, so that each loop vectorises. */
static inline __attribute__((always_inline)) void
take_operand(double *row, const double *src, ssi_operand o, int64_t j,
	     int64_t count, int first, combine how)
{
	const double one = how == COMBINE_ADD ? 0.0 : 1.0;
	const double *p;
	if (o.base < 0) {
		if (first)
			for (int64_t s = 0; s < count; s++)
				row[s] = one;
		return;
	}
	p = src + o.base + j * o.per_j;
	if (first && o.per_s == 1) {
		memcpy(row, p, (size_t)count * sizeof *row);
	} else if (o.per_s == 1) {
		for (int64_t s = 0; s < count; s++)
			row[s] = how == COMBINE_ADD ? row[s] + p[s] : row[s] * p[s];
	} else {
		for (int64_t s = 0; s < count; s++) {
			const double a = first ? one : row[s];
			const double b = p[s * o.per_s];
			row[s] = how == COMBINE_ADD ? a + b : a * b;
		}
	}
}

static void add_operand(double *row, const double *src, ssi_operand o,
			int64_t j, int64_t count, int first)
{
	take_operand(row, src, o, j, count, first, COMBINE_ADD);
}

static void mul_operand(double *row, const double *src, ssi_operand o,
			int64_t j, int64_t count, int first)
{
	take_operand(row, src, o, j, count, first, COMBINE_MUL);
}

/* θ[k], stored as double or as float. */
static inline double theta_at(const ssi_chart *c, int64_t k)
{
	return c->theta_f32 ? (double)c->theta_f32[k] : c->theta[k];
}

/* row[s] (+)= θ[o(j, s)]: add_operand on the potentials, double or
 * float. */
static void add_part(const ssi_chart *c, double *row, ssi_operand o,
		     int64_t j, int64_t count, int first)
{
	const float *p;
	if (!c->theta_f32 || o.base < 0) {
		add_operand(row, c->theta, o, j, count, first);
		return;
	}
	p = c->theta_f32 + o.base + j * o.per_j;
	for (int64_t s = 0; s < count; s++)
		row[s] = (first ? 0.0 : row[s]) + (double)p[s * o.per_s];
}

/* Row j of a vecmat step's parts as doubles: θ itself, or the floats
 * widened into row (count values). */
static const double *part_row(const ssi_chart *c, const ssi_step *st,
			      int64_t j, double *row)
{
	const int64_t at = st->part.base + j * st->part.per_j;
	if (!c->theta_f32)
		return c->theta + at;
	for (int64_t s = 0; s < st->count; s++)
		row[s] = (double)c->theta_f32[at + s];
	return row;
}

/* The candidates of step st for split j into row[count]. */
static void gather(const ssi_chart *c, const ssi_step *st, int64_t j,
		   double *row)
{
	add_operand(row, c->cell, st->x, j, st->count, 1);
	add_operand(row, c->cell, st->y, j, st->count, 0);
	add_part(c, row, st->part, j, st->count, 0);
}

/*
 * Factors: exp(x) where x lies in the chart's range [lo, hi], 0 for -inf,
 * NaN elsewhere. With at most k factors in a product (ssi_chart.factors),
 * the range [-1020 ln 2 / k, 900 ln 2 / k] keeps every product a normal
 * double and no sum of fewer than 2^100 of them overflows.
 */
static inline double factor_of(double x, double lo, double hi)
{
	return x == -INFINITY ? 0.0 : x >= lo && x <= hi ? ssi_exp(x) : NAN;
}

static void factor_range(ssi_chart *c)
{
	c->factor_lo = -1020.0 * 0.6931471805599453 / c->factors;
	c->factor_hi = 900.0 * 0.6931471805599453 / c->factors;
	c->factor_min = exp(c->factor_lo);
	c->factor_max = exp(c->factor_hi);
}

/* The factors of step st's candidates for split j: exp(candidate), or NaN
 * where a factor is out of range. */
static void gather_factors(const ssi_chart *c, const ssi_step *st, int64_t j,
			   double *row)
{
	const int64_t count = st->count;
	double *t = c->row[ROW_T];
	mul_operand(row, c->factor, st->x, j, count, 1);
	mul_operand(row, c->factor, st->y, j, count, 0);
	if (st->part.base < 0)
		return;
	add_part(c, t, st->part, j, count, 1);
	for (int64_t s = 0; s < count; s++)
		row[s] *= factor_of(t[s], c->factor_lo, c->factor_hi);
}

/* One candidate of step st: split j of cell s. */
static double candidate(const ssi_chart *c, const ssi_step *st, int64_t j,
			int64_t s)
{
	double v = 0.0;
	if (st->x.base >= 0)
		v += c->cell[st->x.base + j * st->x.per_j + s * st->x.per_s];
	if (st->y.base >= 0)
		v += c->cell[st->y.base + j * st->y.per_j + s * st->y.per_s];
	if (st->part.base >= 0)
		v += theta_at(c, st->part.base + j * st->part.per_j +
				 s * st->part.per_s);
	return v;
}

/* log Σ_j exp(candidate j of cell s), shifted by its own maximum. */
static double cell_logsumexp(const ssi_chart *c, const ssi_step *st,
			     int64_t s)
{
	double m = -INFINITY, sum = 0.0;
	for (int64_t j = st->lo; j < st->hi; j++) {
		double v = candidate(c, st, j, s);
		m = v > m ? v : m;
	}
	if (m == -INFINITY)
		return m;
	for (int64_t j = st->lo; j < st->hi; j++)
		sum += ssi_exp(candidate(c, st, j, s) - m);
	return m + log(sum);
}

/* ---- shapes with their own kernels ---------------------------------------- */

/*
 * Two shapes of step cover the structures' hot loops; other steps run on
 * gathered rows.
 *   split   x and y cells contiguous in s, no part (Eisner's and CKY's
 *           spans of one width): reduced in blocks of LANES cells with the
 *           split loop inside, so that a block's sums stay in registers;
 *   vecmat  x one cell per j, a row of parts contiguous in s, no y (a
 *           chain's position): the row's candidates are formed on the fly.
 */
#define LANES 8

/* The outside's blocks run faster in 256-bit vectors than in 512-bit ones
 * (measured: Eisner's marginals 47 ms against 63, entropy 56 against 124,
 * n = 128), while the inside's gain from the wider ones (the chain). */
#if defined(__x86_64__)
#define SHORT_VECTORS __attribute__((target("prefer-vector-width=256")))
#else
#define SHORT_VECTORS
#endif

typedef enum step_shape { SHAPE_SPLIT, SHAPE_VECMAT, SHAPE_OTHER } step_shape;

static step_shape shape_of(const ssi_step *st)
{
	if (st->x.base >= 0 && st->x.per_s == 1 && st->y.base >= 0 &&
	    st->y.per_s == 1 && st->part.base < 0)
		return SHAPE_SPLIT;
	if (st->x.base >= 0 && st->x.per_s == 0 && st->y.base < 0 &&
	    st->part.base >= 0 && st->part.per_s == 1)
		return SHAPE_VECMAT;
	return SHAPE_OTHER;
}

/* What a split reduction computes per cell. */
typedef enum split_mode { SPLIT_MAX, SPLIT_EXP, SPLIT_FACTORS } split_mode;

/* One cell s of a split step under mode (m: its maximum for SPLIT_EXP). */
static double split_cell(const ssi_chart *c, const ssi_step *st, int64_t s,
			 split_mode mode, double m)
{
	const double *src = mode == SPLIT_FACTORS ? c->factor : c->cell;
	const double *X = src + st->x.base + s, *Y = src + st->y.base + s;
	double acc = mode == SPLIT_MAX ? -INFINITY : 0.0;
	for (int64_t j = st->lo; j < st->hi; j++) {
		double a = X[j * st->x.per_j], b = Y[j * st->y.per_j];
		if (mode == SPLIT_MAX)
			acc = a + b > acc ? a + b : acc;
		else if (mode == SPLIT_EXP)
			acc += ssi_exp(a + b - m);
		else
			acc += a * b;
	}
	return acc;
}

/* Cells s0 .. s0 + lanes - 1 of a split step with operands X and Y (cell
 * values or factors) under mode, into out[lanes] (m[lanes]: their maxima
 * for SPLIT_EXP): inlined with mode and lanes constants, so that each
 * loop over the lanes vectorises. */
static inline __attribute__((always_inline)) void
split_block(const ssi_step *st, const double *X, const double *Y,
	    int64_t s0, split_mode mode, int lanes, const double *m,
	    double *out)
{
	double acc[LANES], mm[LANES];
	for (int l = 0; l < lanes; l++) {
		acc[l] = mode == SPLIT_MAX ? -INFINITY : 0.0;
		mm[l] = mode == SPLIT_EXP ? m[l] : 0.0;
	}
	for (int64_t j = st->lo; j < st->hi; j++) {
		const double *a = X + j * st->x.per_j + s0;
		const double *b = Y + j * st->y.per_j + s0;
		#pragma omp simd
		for (int l = 0; l < lanes; l++) {
			double v = a[l] + b[l];
			if (mode == SPLIT_MAX)
				acc[l] = acc[l] > v ? acc[l] : v;
			else if (mode == SPLIT_EXP)
				acc[l] += ssi_exp(v - mm[l]);
			else
				acc[l] += a[l] * b[l];
		}
	}
	for (int l = 0; l < lanes; l++)
		out[l] = acc[l];
}

/* split_block with mode a constant (lanes one too, from reduce_block). */
static inline __attribute__((always_inline)) void
reduce_modes(const ssi_step *st, const double *X, const double *Y,
	     int64_t s0, split_mode mode, int lanes, const double *m,
	     double *out)
{
	if (mode == SPLIT_MAX)
		split_block(st, X, Y, s0, SPLIT_MAX, lanes, m, out);
	else if (mode == SPLIT_EXP)
		split_block(st, X, Y, s0, SPLIT_EXP, lanes, m, out);
	else
		split_block(st, X, Y, s0, SPLIT_FACTORS, lanes, m, out);
}

/* split_block with mode and lanes (LANES or LANES / 2) as constants. */
static void reduce_block(const ssi_step *st, const double *X,
			 const double *Y, int64_t s0, split_mode mode,
			 int lanes, const double *m, double *out)
{
	if (lanes == LANES)
		reduce_modes(st, X, Y, s0, mode, LANES, m, out);
	else
		reduce_modes(st, X, Y, s0, mode, LANES / 2, m, out);
}

/* The block width for count cells: LANES, LANES / 2, or 0 (cell by cell). */
static int block_lanes(int64_t count)
{
	return count >= LANES ? LANES : count >= LANES / 2 ? LANES / 2 : 0;
}

/* The start of the block after the one at s0 (s0 < 0: the first), the
 * last moved back to end at count: it recomputes cells done before, with
 * the same bits. -1 after the last. */
static int64_t next_block(int64_t s0, int lanes, int64_t count)
{
	if (s0 + lanes >= count)
		return -1;
	s0 = s0 < 0 ? 0 : s0 + lanes;
	return s0 + lanes > count ? count - lanes : s0;
}

/* out[s] = the reduction of every cell s (m[s]: maxima for SPLIT_EXP). */
static void split_reduce(const ssi_chart *c, const ssi_step *st,
			 split_mode mode, const double *m, double *out)
{
	const double *src = mode == SPLIT_FACTORS ? c->factor : c->cell;
	const double *X = src + st->x.base, *Y = src + st->y.base;
	const int lanes = block_lanes(st->count);
	if (!lanes) {
		for (int64_t s = 0; s < st->count; s++)
			out[s] = split_cell(c, st, s, mode, m ? m[s] : 0.0);
		return;
	}
	for (int64_t s0 = next_block(-1, lanes, st->count); s0 >= 0;
	     s0 = next_block(s0, lanes, st->count))
		reduce_block(st, X, Y, s0, mode, lanes, m ? m + s0 : NULL,
			     out + s0);
}

/* The cells of a split step left NaN by the factors, in log space block
 * by block (blocks placed as split_reduce places them). */
static void split_fallback(const ssi_chart *c, const ssi_step *st,
			   double *out)
{
	const double *X = c->cell + st->x.base, *Y = c->cell + st->y.base;
	const int lanes = block_lanes(st->count);
	double m[LANES], sum[LANES];
	if (!lanes) {
		for (int64_t s = 0; s < st->count; s++)
			if (isnan(out[s]))
				out[s] = cell_logsumexp(c, st, s);
		return;
	}
	for (int64_t s0 = next_block(-1, lanes, st->count); s0 >= 0;
	     s0 = next_block(s0, lanes, st->count)) {
		int bad = 0;
		for (int l = 0; l < lanes; l++)
			bad |= isnan(out[s0 + l]);
		if (!bad)
			continue;
		reduce_block(st, X, Y, s0, SPLIT_MAX, lanes, NULL, m);
		for (int l = 0; l < lanes; l++)
			m[l] = m[l] == -INFINITY ? 0.0 : m[l];
		reduce_block(st, X, Y, s0, SPLIT_EXP, lanes, m, sum);
		for (int l = 0; l < lanes; l++)
			if (isnan(out[s0 + l]))
				out[s0 + l] = m[l] + ssi_log(sum[l]);
	}
}

/* out[s] = max_j x_j + θ row j [s] (SPLIT_MAX), or Σ_j exp(x_j + θ row j
 * [s] - m[s]) (SPLIT_EXP), for a vecmat step; inlined with mode a
 * constant. */
static inline __attribute__((always_inline)) void
vecmat_block(const ssi_chart *c, const ssi_step *st, split_mode mode,
	     const double *m, double *out)
{
	for (int64_t s = 0; s < st->count; s++)
		out[s] = mode == SPLIT_MAX ? -INFINITY : 0.0;
	for (int64_t j = st->lo; j < st->hi; j++) {
		const double xj = c->cell[st->x.base + j * st->x.per_j];
		const double *row;
		if (xj == -INFINITY)
			continue;
		row = part_row(c, st, j, c->row[ROW_T]);
		for (int64_t s = 0; s < st->count; s++) {
			const double v = xj + row[s];
			if (mode == SPLIT_MAX)
				out[s] = v > out[s] ? v : out[s];
			else
				out[s] += ssi_exp(v - m[s]);
		}
	}
}

static void vecmat_max(const ssi_chart *c, const ssi_step *st, double *out)
{
	vecmat_block(c, st, SPLIT_MAX, NULL, out);
}

static void vecmat_exp_sum(const ssi_chart *c, const ssi_step *st,
			   const double *m, double *sum)
{
	vecmat_block(c, st, SPLIT_EXP, m, sum);
}

/* count rounded up to whole vectors: the rows' room (SSI_ROW_ALIGN). */
static int64_t padded(int64_t count)
{
	return (count + SSI_ROW_ALIGN - 1) / SSI_ROW_ALIGN * SSI_ROW_ALIGN;
}

/* x, or 0 where x < 0. The outside recovers a cell's log value o as its
 * stored value plus its step's shift (normalised steps), which may fall an
 * ulp of the shift below the largest candidate: an entropy term o - v is
 * never negative. */
static inline double nonneg(double x)
{
	return x > 0.0 ? x : 0.0;
}

/*
 * Float kernels for vecmat steps over float potentials (c->theta_f32; SPEC
 * §5 asks 1e-5 of them, double inputs keep the kernels above): each exp
 * in floats (lib/simd.h: 16 lanes in 512-bit vectors against 8 in
 * double) of an argument that is a difference of float potentials, or
 * formed in double and rounded once; sums in floats, logs and cells in
 * double. An argument's rounding costs 2^-24 of its magnitude, and the
 * terms that matter have small ones: a cell's relative error stays near
 * 1e-7 of its value. A cell whose float sum may have lost a term that
 * mattered is recomputed in double, so that any magnitude stays exact
 * (vecmat_log_f32).
 */

/* log2(e): exp(d) = 2^(d log2(e)). */
#define LOG2E 1.4426950408889634
#define LN2 0.69314718055994531

/* The least sum of a float cell that keeps it exact (vecmat_log_f32):
 * the terms lost below 2^-126 (flushed, or exps under the floats' range)
 * then weigh less than 2^-30 of it, for up to 2^16 rows. */
#define F32_SUM_LO 0x1p-80

/* Cells per block of the float kernels: the block's shifts and sums stay
 * in registers (F32_BLOCK / VF_LANES vectors) while the rows stream by,
 * and each row's constants are loaded and u_j tested once per block. */
#define F32_BLOCK 32
#define F32_VECTORS (F32_BLOCK / VF_LANES)

static int vecmat_f32(const ssi_chart *c, const ssi_step *st, ssi_semiring sr)
{
	return sr == SSI_LOG && c->theta_f32 && !c->factors &&
	       st->hi - st->lo > 1 && shape_of(st) == SHAPE_VECMAT;
}

/* One vector of cells of a vecmat step over float potentials (see
 * vecmat_f32_block) from their sums, the shifts of their exponents and
 * the sums of their θ (or 0): out = X + S + log(sum) where sum lies in
 * [F32_SUM_LO, +inf), T is at most VF_TOP_MAX (vf_shift_of) and the θ
 * sum below +inf, -inf where T is -inf (no candidates) and sum below
 * F32_SUM_LO, NaN elsewhere (the cell needs its double reduction); the
 * first `lanes` into out, their shifts into shift_out. Returns how many
 * are NaN. log(sum) = k ln(2) + log(m), sum = 2^k m with m in [√2/2, √2)
 * by integer operations, log(m) = 2 atanh(q), q = (m - 1) / (m + 1), in
 * floats to the q^7 term (|q| < 0.172: the series errs by 3e-8, the
 * floats by about as much; 1 / (m + 1) by vf_recip), k ln(2) in double.
 * The -inf and NaN come from adding them, where a lane needs one: the log
 * of a sum out of range is finite or NaN. */
static inline int f32_cells(vf sum, vf top, vf shift, vf seen, double X,
			    double *out, double *shift_out, int lanes)
{
	const vf_i32 live = top != vf_set1(-INFINITY);
	const vf_i32 ok = (seen < vf_set1(INFINITY)) &
			  ((live & (sum >= vf_set1(F32_SUM_LO)) &
			    (sum < vf_set1(INFINITY)) &
			    (top <= vf_set1(VF_TOP_MAX))) |
			   (~live & (sum < vf_set1(F32_SUM_LO))));
	const vf_u32 bits = (vf_u32)sum + (0x3f800000u - 0x3f3504f3u);
	const vf k = __builtin_convertvector((vf_i32)(bits >> 23) - 127, vf);
	const vf m = (vf)((bits & 0x007fffffu) + 0x3f3504f3u);
	const vf f = m - 1.0f, q = f * vf_recip(f + 2.0f), z = q * q;
	const vf log_m = vf_fma(q * z,
				vf_fma(vf_fma(z, vf_set1(2.0f / 7.0f),
					      vf_set1(2.0f / 5.0f)),
				       z, vf_set1(2.0f / 3.0f)),
				q + q);
	const vd shift_lo = vd_lo(shift), shift_hi = vd_hi(shift);
	vd cell_lo = X + shift_lo * VF_SHIFT_TO_LOG +
		     (vd_lo(k) * LN2 + vd_lo(log_m));
	vd cell_hi = X + shift_hi * VF_SHIFT_TO_LOG +
		     (vd_hi(k) * LN2 + vd_hi(log_m));
	if (vf_mask_bits(ok & live) != (1u << VF_LANES) - 1u) {
		const vf special =
			(vf)((ok & ~live & (vf_i32)vf_set1(-INFINITY)) |
			     (~ok & (vf_i32)vf_set1(NAN)));
		cell_lo += vd_lo(special);
		cell_hi += vd_hi(special);
	}
	if (lanes == VF_LANES) {
		memcpy(out, &cell_lo, sizeof cell_lo);
		memcpy(out + VF_LANES / 2, &cell_hi, sizeof cell_hi);
		memcpy(shift_out, &shift_lo, sizeof shift_lo);
		memcpy(shift_out + VF_LANES / 2, &shift_hi, sizeof shift_hi);
	} else {
		double cells[VF_LANES], shifts[VF_LANES];
		memcpy(cells, &cell_lo, sizeof cell_lo);
		memcpy(cells + VF_LANES / 2, &cell_hi, sizeof cell_hi);
		memcpy(shifts, &shift_lo, sizeof shift_lo);
		memcpy(shifts + VF_LANES / 2, &shift_hi, sizeof shift_hi);
		memcpy(out, cells, (size_t)lanes * sizeof *out);
		memcpy(shift_out, shifts, (size_t)lanes * sizeof *shift_out);
	}
	return vf_count_false(ok, lanes);
}

/* u_k of the rows' constants of a vecmat step with n rows (x_factors). */
static inline float row_u(const float *row_consts, int64_t n, int64_t k)
{
	return row_consts[VF_ROW_U * n + k];
}

/* Cells s0 .. s0 + nv VF_LANES - 1 of a vecmat step over float
 * potentials (the first `lanes` of them where masked, nv then 1) into
 * out, NaN where a cell needs its double reduction; returns how many do.
 * row_consts holds the rows' constants for the scaled exps (x_factors),
 * u_j = exp(x_j - X) as a float among them (see vecmat_log_f32); rows
 * whose u_j is 0 are passed over where skip. Inlined with nv, masked
 * and skip constants, so that the block's vectors stay in registers. */
static inline __attribute__((always_inline)) int
vecmat_f32_block(const ssi_chart *c, const ssi_step *st, int64_t s0, int nv,
		 int masked, int lanes, int skip, const float *row_consts,
		 double X, double *out)
{
	const float *theta = c->theta_f32 + st->part.base + s0;
	const int64_t rows = st->hi - st->lo, per_j = st->part.per_j;
	const vf_mask first = vf_first(lanes);
	vf top[F32_VECTORS], seen[F32_VECTORS];
	vf shift[F32_VECTORS], sum[F32_VECTORS];
	vf_col col[F32_VECTORS];
	int64_t j = st->lo;
	int bad = 0;
#define ROW(j, v) (masked ? vf_load_masked(theta + (j) * per_j, first) \
			  : vf_load(theta + (j) * per_j + (v) * VF_LANES))
	for (int v = 0; v < nv; v++) {
		top[v] = vf_set1(-INFINITY);
		seen[v] = vf_set1(0.0f);
	}
	/* T[s] = the column's largest θ, four rows at a time, each four
	 * into one maximum (so that its latency does not bound the pass);
	 * and, unless the scaled exps carry them into the sums themselves
	 * (VF_EXP2_KEEPS_NAN), the column's sum, below +inf only where no θ
	 * is NaN or +inf. */
	for (; !skip && j + 4 <= st->hi; j += 4)
		for (int v = 0; v < nv; v++) {
			const vf r0 = ROW(j, v), r1 = ROW(j + 1, v);
			const vf r2 = ROW(j + 2, v), r3 = ROW(j + 3, v);
			top[v] = vf_max(top[v], vf_max(vf_max(r0, r1),
						       vf_max(r2, r3)));
			if (!VF_EXP2_KEEPS_NAN)
				seen[v] = vf_add(seen[v],
						 vf_add(vf_add(r0, r1),
							vf_add(r2, r3)));
		}
	for (; j < st->hi; j++)
		if (!skip || row_u(row_consts, rows, j - st->lo) != 0.0f)
			for (int v = 0; v < nv; v++) {
				const vf r = ROW(j, v);
				top[v] = vf_max(top[v], r);
				if (!VF_EXP2_KEEPS_NAN)
					seen[v] = vf_add(seen[v], r);
			}
	/* The exponents' shifts (lib/simd.h: scaled exps; a column without
	 * candidates, T = -inf, takes -VF_TOP_MAX, so that its terms are
	 * at most 2^-125 and its cell exactly -inf). */
	for (int v = 0; v < nv; v++) {
		shift[v] = vf_shift_of(top[v]);
		col[v] = vf_col_of(shift[v]);
		sum[v] = vf_set1(0.0f);
	}
	/* sum[s] = Σ_j u_j 2^(θ[j, s] λ + b[s]) */
	for (j = st->lo; j < st->hi; j++) {
		/* The same cells eight blocks of rows on (a chain's
		 * position eight on: its own page, which the hardware does
		 * not fetch ahead into), into L2 (not L1, whose few fill
		 * buffers then bound the stream from memory: measured
		 * 0.098 ms against 0.114 per 1 MiB element, AVX-512), and
		 * one block on into L1, for the maxima's pass; while the
		 * exps keep the core busy. */
		const char *ahead = (const char *)(theta + (j + 8 * rows) * per_j);
		const char *next = (const char *)(theta + (j + rows) * per_j);
		__builtin_prefetch(ahead, 0, 1);
		__builtin_prefetch(next, 0, 3);
		if (nv * VF_LANES * sizeof(float) > 64) {
			__builtin_prefetch(ahead + 64, 0, 1);
			__builtin_prefetch(next + 64, 0, 3);
		}
		if (skip && row_u(row_consts, rows, j - st->lo) == 0.0f)
			continue;
		const vf_row rv = vf_row_load(row_consts, rows, j - st->lo);
		for (int v = 0; v < nv; v++)
			sum[v] = vf_term_add(sum[v], ROW(j, v), col[v], rv);
	}
#undef ROW
	/* The shifts are kept (in c->factor) for the outside, which takes
	 * the same exps. */
	for (int v = 0; v < nv; v++)
		bad += f32_cells(sum[v], top[v], shift[v], seen[v], X,
				 out + s0 + v * VF_LANES,
				 c->factor + st->out + s0 + v * VF_LANES,
				 masked ? lanes : VF_LANES);
	return bad;
}

static int vecmat_f32_wide(const ssi_chart *c, const ssi_step *st,
			   int64_t s0, const float *row_consts, double X,
			   double *out)
{
	return vecmat_f32_block(c, st, s0, F32_VECTORS, 0, VF_LANES, 0,
				row_consts, X, out);
}

static int vecmat_f32_one(const ssi_chart *c, const ssi_step *st, int64_t s0,
			  int lanes, const float *row_consts, double X,
			  double *out)
{
	return vecmat_f32_block(c, st, s0, 1, 1, lanes, 0, row_consts, X,
				out);
}

/* The same where some u_j are 0. */
static int vecmat_f32_wide_skip(const ssi_chart *c, const ssi_step *st,
				int64_t s0, const float *row_consts, double X,
				double *out)
{
	return vecmat_f32_block(c, st, s0, F32_VECTORS, 0, VF_LANES, 1,
				row_consts, X, out);
}

static int vecmat_f32_one_skip(const ssi_chart *c, const ssi_step *st,
			       int64_t s0, int lanes, const float *row_consts,
			       double X, double *out)
{
	return vecmat_f32_block(c, st, s0, 1, 1, lanes, 1, row_consts, X,
				out);
}

/* The x factors of a vecmat step over float potentials: X = max_j x_j
 * into *X, the rows' constants for the scaled exps (lib/simd.h:
 * vf_rows_of) at c->cand + (hi - lo), u_j = exp(x_j - X) as a float among
 * them (row_u), and whether some u_j is 0 into *zero; returns 1 where
 * some u_j underflows (x_j > -inf, u_j = 0). */
static int x_factors(ssi_chart *c, const ssi_step *st, double *X, int *zero)
{
	const int64_t n = st->hi - st->lo, per_j = st->x.per_j;
	const double *x = c->cell + st->x.base + st->lo * per_j;
	double top = -INFINITY;
	float *row_consts = (float *)(c->cand + n);
	float *u = row_consts + VF_ROW_U * n;
	int bad = 0, zeros = 0;
	const ssi_step *before = st > c->step ? st - 1 : NULL;
	if (per_j != 1) { /* the x_j, contiguous */
		for (int64_t j = 0; j < n; j++)
			c->cand[j] = x[j * per_j];
		x = c->cand;
	}
	if (before && before->normalised && per_j == 1 && st->lo == 0 &&
	    st->x.base == before->out && n == before->count) {
		/* a chain's: the x are the cells of the step before, whose
		 * largest normalise made 0 (a maximum less on the path from
		 * one step to the next) */
		top = before->live ? 0.0 : -INFINITY;
	} else {
		#pragma omp simd reduction(max:top)
		for (int64_t j = 0; j < n; j++)
			top = x[j] > top ? x[j] : top;
	}
	#pragma omp simd
	for (int64_t j = 0; j < n; j++)
		u[j] = exp_to_float(x[j] - top);
	/* the u_j that are 0, less those of x_j = -inf (every other x_j
	 * gives a u_j above 0 where top > -inf: those are the
	 * underflows); one comparison per lane of each width */
	#pragma omp simd reduction(+:zeros)
	for (int64_t j = 0; j < n; j++)
		zeros += u[j] == 0.0f;
	if (zeros) {
		bad = zeros;
		#pragma omp simd reduction(-:bad)
		for (int64_t j = 0; j < n; j++)
			bad -= x[j] == -INFINITY;
	}
	vf_rows_of(row_consts, n);
	*X = top;
	*zero = zeros > 0;
	return bad;
}

/*
 * Log inside of a vecmat step over float potentials, into out. The
 * candidates factor as exp(x_j + θ[j, s]) = e^(X + T[s]) u_j E[j, s] with
 * X the largest x_j, u_j = exp(x_j - X) (in double, once per j, rounded
 * to float), T[s] the largest θ[j, s] of its column, S[s] a shift within
 * a rounding of it (VF_SHIFT_TO_LOG) and E[j, s] = exp(θ[j, s] - S[s]) in
 * floats (a rounding of the argument costs its term 2^-24 of its
 * magnitude, and terms far below 1 matter little): one scaled exp
 * (lib/simd.h), u_j E[j, s] added to its sum, per candidate. A cell is
 *   o[s] = X + S[s] + log Σ_j u_j E[j, s]
 * exact to the floats' rounding where its sum is at least F32_SUM_LO (the
 * terms lost below 2^-126 are then too small to count); others
 * (candidates whose x and θ are large for different j) are recomputed in
 * double, and so is the whole step where some u_j underflows (an x more
 * than 87 below the largest): a term so dropped could have been the
 * cell's largest.
 * Blocks of F32_BLOCK cells while they fit, then of one vector, the last
 * of them masked (lanes are independent: a cell's bits do not depend on
 * its block).
 */
static void vecmat_log_f32(ssi_chart *c, ssi_step *st, double *out)
{
	const int64_t count = st->count;
	const float *row_consts = (const float *)(c->cand + (st->hi - st->lo));
	double X;
	int64_t s0 = 0;
	int zero, bad = x_factors(c, st, &X, &zero);
	st->factored = 0;
	/* Rows passed over, and cells recomputed, go unchecked. */
	if (zero)
		c->values_checked = 0;
	if (X == -INFINITY || bad) {
		c->values_checked = 0;
		for (int64_t s = 0; s < count; s++)
			out[s] = cell_logsumexp(c, st, s);
		return;
	}
	for (; s0 + F32_BLOCK <= count; s0 += F32_BLOCK)
		bad |= zero ? vecmat_f32_wide_skip(c, st, s0, row_consts, X, out)
			    : vecmat_f32_wide(c, st, s0, row_consts, X, out);
	for (; s0 < count; s0 += VF_LANES) {
		const int lanes = count - s0 < VF_LANES ? (int)(count - s0)
							: VF_LANES;
		bad |= zero ? vecmat_f32_one_skip(c, st, s0, lanes, row_consts, X, out)
			    : vecmat_f32_one(c, st, s0, lanes, row_consts, X, out);
	}
	st->factored = !bad;
	if (bad)
		c->values_checked = 0;
	for (int64_t s = 0; bad && s < count; s++)
		if (isnan(out[s]))
			out[s] = cell_logsumexp(c, st, s);
}

/* Σ p[s] for s < n, n a multiple of 8: eight vertical sums, then a tree
 * (a reduction clause would add the lanes one after another). */
static inline double sum_rows8(const double *p, int64_t n)
{
	double acc[8] = {0.0};
	for (int64_t k = 0; k < n; k += 8)
		#pragma omp simd
		for (int l = 0; l < 8; l++)
			acc[l] += p[k + l];
	return ((acc[0] + acc[4]) + (acc[2] + acc[6])) +
	       ((acc[1] + acc[5]) + (acc[3] + acc[7]));
}

/*
 * The adjoints of a vecmat step whose inside took the float factorisation
 * for every cell (vecmat_log_f32; its shifts kept in c->factor): p = ḡ exp(x_j +
 * θ[j, s] - o) = r[s] u_j E[j, s], with u_j E[j, s] the inside's scaled
 * exps, but for their last rounding (the same exponents and row
 * constants), and r[s] = ḡ(s) / sum[s] from o[s] (one exp per cell, in
 * double): a cell's p then add up to its ḡ, so that no error accumulates
 * along a chain. All in floats, added to the double adjoints and
 * marginals mu (assigned to them where the step writes every part:
 * OUTSIDE_ASSIGN); for the marginals only (mu not NULL, no entropy).
 * Blocks of F32_BLOCK columns while they fit, their r and column
 * constants in registers and each row's p stored from them; the columns
 * left, and a row whose block has an x below its column's low (-inf
 * included) or a u_j E[j, s] below the floats' normal range, by
 * outside_f32_row: there such a p (up to 2^-46 of ḡ where r is large,
 * so that the scaled exps lose it), and every p of a row whose u_j is
 * below F32_U_TINY (whose row constants may be subnormal under AVX2; its
 * p are below 2^-40 of ḡ, as a cell's sum is at least F32_SUM_LO), is
 * taken in double, and p is 0 at θ = -inf. Only such small p leave the
 * floats: larger p taken in double would not add up to ḡ with the
 * others, and their errors would add up along a chain.
 */
enum { OUTSIDE_ASSIGN, OUTSIDE_ADD };
#define F32_U_TINY 0x1p-120f

/* Columns [s0, s1) of row j (see above), the rows' constants at
 * row_consts: whole
 * vectors, the last masked, the lanes with such a p in double; its p
 * stored as `store` says (OUTSIDE_*), and their sum added to x_j's
 * adjoint. */
static void outside_f32_row(ssi_chart *c, const ssi_step *st, int64_t j,
			    int64_t s0, int64_t s1, const float *row_consts,
			    const float *r, const float *shift, double *mu,
			    int store)
{
	const double *o = c->row[ROW_O], *g = c->row[ROW_G];
	const int64_t ax = st->x.base + j * st->x.per_j;
	const int64_t ap = st->part.base + j * st->part.per_j;
	const float *th = c->theta_f32 + ap;
	const int64_t n = st->hi - st->lo;
	const vf_row rw = vf_row_load(row_consts, n, j - st->lo);
	const int tiny = row_u(row_consts, n, j - st->lo) < F32_U_TINY;
	float *p = (float *)c->row[ROW_F], total = 0.0f;
	vf sum = vf_set1(0.0f);
	for (int64_t v0 = s0; v0 < s1; v0 += VF_LANES) {
		const int whole = s1 - v0 >= VF_LANES;
		const int64_t end = whole ? v0 + VF_LANES : s1;
		const vf_mask m = vf_first((int)(end - v0));
#define ROW_LANES(a) (whole ? vf_load((a) + v0) : vf_load_masked((a) + v0, m))
		const vf x = ROW_LANES(th);
		const vf_col col = vf_col_of(ROW_LANES(shift));
		const vf term = vf_term(x, col, rw);
		const vf_i32 possible = x > vf_set1(-INFINITY);
		const vf pv = (vf)((vf_i32)vf_mul(ROW_LANES(r), term) &
				   possible);
#undef ROW_LANES
		const vf_i32 lost = tiny ? possible
					 : possible & ((x < col.low) |
						       (term < vf_set1(0x1p-126f)));
		const vf kept = (vf)((vf_i32)pv & ~lost);
		const unsigned in_double = vf_mask_bits(lost);
		vf_store(p + v0, kept); /* p has a vector's room past s1 */
		sum = vf_add(sum, kept);
		for (int64_t s = v0; in_double && s < end; s++) {
			if (!(in_double >> (s - v0) & 1u))
				continue;
			p[s] = (float)(g[s] * ssi_exp((double)th[s] +
						     (c->cell[ax] - o[s])));
			total += p[s];
		}
	}
	c->adj[ax] += (double)(total + vf_hsum(sum));
	if (store == OUTSIDE_ASSIGN)
		for (int64_t s = s0; s < s1; s++)
			mu[ap + s] = (double)p[s];
	else
		for (int64_t s = s0; s < s1; s++)
			mu[ap + s] += (double)p[s];
}

/* Columns [s0, s0 + F32_BLOCK) of every row (see above); inlined with
 * store a constant. */
static inline __attribute__((always_inline)) void
outside_f32_block(ssi_chart *c, const ssi_step *st, int64_t s0,
		  const float *row_consts, const float *r, const float *shift,
		  double *mu, int store)
{
	const int64_t n = st->hi - st->lo;
	vf rv[F32_VECTORS];
	vf_col col[F32_VECTORS];
	for (int v = 0; v < F32_VECTORS; v++) {
		rv[v] = vf_load(r + s0 + v * VF_LANES);
		col[v] = vf_col_of(vf_load(shift + s0 + v * VF_LANES));
	}
	for (int64_t j = st->lo; j < st->hi; j++) {
		const float uj = row_u(row_consts, n, j - st->lo);
		const int64_t ap = st->part.base + j * st->part.per_j + s0;
		const float *th = c->theta_f32 + ap;
		double *q = mu + ap;
		vf pv[F32_VECTORS], sum = vf_set1(0.0f);
		vf_i32 lost = (vf_i32)vf_set1(0.0f);
		if (uj == 0.0f) {
			if (store == OUTSIDE_ASSIGN)
				memset(q, 0, F32_BLOCK * sizeof *q);
			continue;
		}
		const vf_row rw = vf_row_load(row_consts, n, j - st->lo);
		for (int v = 0; v < F32_VECTORS; v++) {
			const vf x = vf_load(th + v * VF_LANES);
			const vf term = vf_term(x, col[v], rw);
			pv[v] = vf_mul(rv[v], term);
			lost |= (x < col[v].low) | (term < vf_set1(0x1p-126f));
			sum = vf_add(sum, pv[v]);
		}
		if (uj < F32_U_TINY || vf_mask_bits(lost)) {
			outside_f32_row(c, st, j, s0, s0 + F32_BLOCK,
					row_consts, r, shift, mu, store);
			continue;
		}
		for (int v = 0; v < F32_VECTORS; v++) {
			vd lo = vd_lo(pv[v]), hi = vd_hi(pv[v]), was;
			double *at = q + v * VF_LANES;
			if (store == OUTSIDE_ADD) {
				memcpy(&was, at, sizeof was);
				lo += was;
				memcpy(&was, at + VF_LANES / 2, sizeof was);
				hi += was;
			}
			memcpy(at, &lo, sizeof lo);
			memcpy(at + VF_LANES / 2, &hi, sizeof hi);
		}
		c->adj[st->x.base + j * st->x.per_j] += (double)vf_hsum(sum);
	}
}

static void outside_f32_blocks_assign(ssi_chart *c, const ssi_step *st,
				      int64_t s0, const float *row_consts,
				      const float *r, const float *shift,
				      double *mu)
{
	outside_f32_block(c, st, s0, row_consts, r, shift, mu, OUTSIDE_ASSIGN);
}

static void outside_f32_blocks_add(ssi_chart *c, const ssi_step *st,
				   int64_t s0, const float *row_consts,
				   const float *r, const float *shift,
				   double *mu)
{
	outside_f32_block(c, st, s0, row_consts, r, shift, mu, OUTSIDE_ADD);
}

static void vecmat_outside_factored(ssi_chart *c, const ssi_step *st,
				    double *mu, int assigns)
{
	const int64_t count = st->count, width = padded(count);
	const int64_t n = st->hi - st->lo;
	const int64_t blocks = count / F32_BLOCK * F32_BLOCK;
	const double *o = c->row[ROW_O], *g = c->row[ROW_G];
	const double *shifts = c->factor + st->out;
	const float *row_consts = (const float *)(c->cand + n);
	float *r = (float *)c->row[ROW_M], *shift = (float *)c->row[ROW_V];
	const int store = assigns ? OUTSIDE_ASSIGN : OUTSIDE_ADD;
	double X;
	int zero;
	x_factors(c, st, &X, &zero);
	/* The inside's shifts (vecmat_f32_block), so that E[j, s] here has
	 * the inside's bits, and r[s] = ḡ(s) exp(X + S[s] - o[s]) = ḡ(s) /
	 * sum[s]: each cell passes on exactly its ḡ. */
	for (int64_t s = 0; s < count; s++) {
		shift[s] = (float)shifts[s];
		r[s] = (float)(g[s] * ssi_exp(X + shifts[s] * VF_SHIFT_TO_LOG -
					     o[s]));
	}
	for (int64_t s = count; s < width; s++)
		r[s] = shift[s] = 0.0f;
	for (int64_t s0 = 0; s0 < blocks; s0 += F32_BLOCK) {
		if (store == OUTSIDE_ASSIGN)
			outside_f32_blocks_assign(c, st, s0, row_consts, r, shift,
						  mu);
		else
			outside_f32_blocks_add(c, st, s0, row_consts, r, shift, mu);
	}
	for (int64_t j = st->lo; blocks < count && j < st->hi; j++) {
		if (row_u(row_consts, n, j - st->lo) != 0.0f)
			outside_f32_row(c, st, j, blocks, count, row_consts, r,
					shift, mu, store);
		else if (store == OUTSIDE_ASSIGN)
			memset(mu + st->part.base + j * st->part.per_j + blocks,
			       0, (size_t)(count - blocks) * sizeof *mu);
	}
}

/* The vecmat shape's adjoints over float potentials: p = ḡ exp(x_j + θ
 * row j - o), each argument formed in double and its exp taken in
 * floats (o is the cell's log-sum, so no argument exceeds 0 by more than
 * a rounding). */
static double vecmat_outside_f32(ssi_chart *c, const ssi_step *st,
				 double *mu, int entropy)
{
	const int64_t count = st->count, width = padded(count);
	const double *o = c->row[ROW_O], *g = c->row[ROW_G];
	double *p = c->row[ROW_F], h = 0.0;
	/* The row's padding adds nothing to the sums. */
	for (int64_t s = count; s < width; s++)
		p[s] = 0.0;
	for (int64_t j = st->lo; j < st->hi; j++) {
		const int64_t ax = st->x.base + j * st->x.per_j;
		const int64_t ap = st->part.base + j * st->part.per_j;
		const float *th = c->theta_f32 + ap;
		const double xj = c->cell[ax];
		if (xj == -INFINITY)
			continue;
		#pragma omp simd
		for (int64_t s = 0; s < count; s++) {
			const double x = (double)th[s] + (xj - o[s]);
			p[s] = g[s] * (double)exp2_lane((float)(x * LOG2E));
		}
		c->adj[ax] += sum_rows8(p, width);
		if (mu) {
			double *q = mu + ap;
			#pragma omp simd
			for (int64_t s = 0; s < count; s++)
				q[s] += p[s];
		}
		if (entropy)
			#pragma omp simd reduction(+:h)
			for (int64_t s = 0; s < count; s++)
				h += p[s] > 0.0
					? p[s] * nonneg(o[s] - xj - (double)th[s])
					: 0.0;
	}
	return h;
}

/* ---- inside ------------------------------------------------------------------ */

/* Max: one pass over the candidates. */
static void inside_max(ssi_chart *c, const ssi_step *st, double *out)
{
	double *v = c->row[ROW_V];
	switch (shape_of(st)) {
	case SHAPE_SPLIT:
		split_reduce(c, st, SPLIT_MAX, NULL, out);
		return;
	case SHAPE_VECMAT:
		vecmat_max(c, st, out);
		return;
	case SHAPE_OTHER:
		break;
	}
	for (int64_t s = 0; s < st->count; s++)
		out[s] = -INFINITY;
	for (int64_t j = st->lo; j < st->hi; j++) {
		gather(c, st, j, v);
		for (int64_t s = 0; s < st->count; s++)
			out[s] = v[s] > out[s] ? v[s] : out[s];
	}
}

/* Log: the maxima, then Σ exp(v - max): exact for any magnitude. */
static void inside_log(ssi_chart *c, const ssi_step *st, double *out)
{
	double *v = c->row[ROW_V], *sum = c->row[ROW_M];
	const step_shape shape = shape_of(st);
	inside_max(c, st, out);
	/* A cell whose candidates are all -inf keeps shift 0 and sum 0. */
	for (int64_t s = 0; s < st->count; s++) {
		out[s] = out[s] == -INFINITY ? 0.0 : out[s];
		sum[s] = 0.0;
	}
	if (shape == SHAPE_SPLIT) {
		split_reduce(c, st, SPLIT_EXP, out, sum);
	} else if (shape == SHAPE_VECMAT) {
		vecmat_exp_sum(c, st, out, sum);
	} else {
		for (int64_t j = st->lo; j < st->hi; j++) {
			gather(c, st, j, v);
			for (int64_t s = 0; s < st->count; s++)
				sum[s] += ssi_exp(v[s] - out[s]);
		}
	}
	for (int64_t s = 0; s < st->count; s++)
		out[s] += ssi_log(sum[s]);
}

/* Log by factors: Σ_j of products of factors, exact to rounding where all
 * are in range (no exp per candidate); the cells where one is not are
 * reduced in log space. */
static void inside_factors(ssi_chart *c, const ssi_step *st, double *out)
{
	double *f = c->row[ROW_F], *sum = c->row[ROW_M];
	if (shape_of(st) == SHAPE_SPLIT) {
		split_reduce(c, st, SPLIT_FACTORS, NULL, sum);
	} else {
		for (int64_t s = 0; s < st->count; s++)
			sum[s] = 0.0;
		for (int64_t j = st->lo; j < st->hi; j++) {
			gather_factors(c, st, j, f);
			for (int64_t s = 0; s < st->count; s++)
				sum[s] += f[s];
		}
	}
	const double flo = c->factor_min, fhi = c->factor_max;
	double *fo = c->factor + st->out, *lg = c->row[ROW_T];
	int64_t bad = 0;
	/* The logs over whole vectors (the row padded with 1s): a short
	 * step's cells would otherwise all take the scalar tail. */
	for (int64_t s = st->count; s < padded(st->count); s++)
		sum[s] = 1.0;
	#pragma omp simd
	for (int64_t s = 0; s < padded(st->count); s++)
		lg[s] = ssi_log(sum[s]);
	/* The sum is the cell's factor, where it is in range. Every operand
	 * evaluated, so that the loop needs no branch (under -ftrapping-math
	 * GCC does not evaluate what the source guards). */
	#pragma omp simd reduction(+:bad)
	for (int64_t s = 0; s < st->count; s++) {
		const double x = sum[s];
		const int nan = x != x;
		const int in_range = (x == 0.0) | ((x >= flo) & (x <= fhi));
		out[s] = nan ? x : lg[s];
		fo[s] = in_range ? x : NAN;
		bad += nan;
	}
	if (bad == 0)
		return;
	/* The cells left NaN: in blocks where the step is a split, else a
	 * few one by one and more the whole step in vectors (which reuses
	 * the sums' row). */
	if (shape_of(st) == SHAPE_SPLIT) {
		split_fallback(c, st, out);
	} else if (bad * LANES < st->count) {
		for (int64_t s = 0; s < st->count; s++)
			if (isnan(out[s]))
				out[s] = cell_logsumexp(c, st, s);
	} else {
		inside_log(c, st, c->row[ROW_T]);
		for (int64_t s = 0; s < st->count; s++)
			out[s] = isnan(out[s]) ? c->row[ROW_T][s] : out[s];
	}
	for (int64_t s = 0; s < st->count; s++)
		if (isnan(fo[s]))
			fo[s] = factor_of(out[s], c->factor_lo, c->factor_hi);
}

/* Normalises the cells of a step pushed normalised: their largest finite
 * value (0 if none) becomes the step's shift, subtracted, and returned. */
static double normalise(ssi_step *st, double *out)
{
	double m = -INFINITY;
	#pragma omp simd reduction(max:m)
	for (int64_t s = 0; s < st->count; s++)
		m = out[s] > m ? out[s] : m;
	const double shift = m == -INFINITY ? 0.0 : m;
	#pragma omp simd
	for (int64_t s = 0; s < st->count; s++)
		out[s] -= shift;
	st->shift = shift;
	st->live = m > -INFINITY;
	return shift;
}

/* Fills step st's cells; returns the shift they were normalised by. A
 * chart with factors has no normalised steps (ssi_chart). */
static double step_inside(ssi_chart *c, ssi_step *st, ssi_semiring sr)
{
	double *out = c->cell + st->out;
	if (st->hi - st->lo == 1) {
		/* ⊕ over one candidate is the candidate, in every semiring;
		 * its factors over whole vectors, as inside_factors' logs. */
		gather(c, st, st->lo, out);
		if (sr == SSI_LOG && c->factors) {
			double *f = c->row[ROW_F];
			const double lo = c->factor_lo, hi = c->factor_hi;
			memcpy(f, out, (size_t)st->count * sizeof *f);
			for (int64_t s = st->count; s < padded(st->count); s++)
				f[s] = 0.0;
			#pragma omp simd
			for (int64_t s = 0; s < padded(st->count); s++)
				f[s] = factor_of(f[s], lo, hi);
			memcpy(c->factor + st->out, f,
			       (size_t)st->count * sizeof *f);
		}
		/* a NaN or +inf potential makes its cell NaN or +inf */
		for (int64_t s = 0; s < st->count; s++)
			if (!(out[s] < INFINITY))
				c->values_checked = 0;
	} else if (vecmat_f32(c, st, sr)) {
		vecmat_log_f32(c, st, out);
	} else {
		/* The double kernels do not look at the values. */
		if (st->part.base >= 0)
			c->values_checked = 0;
		if (sr == SSI_LOG && c->factors)
			inside_factors(c, st, out);
		else if (sr == SSI_MAX)
			inside_max(c, st, out);
		else
			inside_log(c, st, out);
	}
	return st->normalised ? normalise(st, out) : 0.0;
}

double SSI_KERNEL(ssi_chart_inside)(ssi_chart *c, ssi_semiring sr)
{
	double offset = c->offset;
	/* The float kernels' exps of far-off candidates are subnormal
	 * (vf_exp2): flushed, they cost nothing, and they weigh too little
	 * against a sum of at least F32_SUM_LO. (Not under max,
	 * whose scores keep a subnormal potential's bits.) */
	const int flush = c->theta_f32 && sr == SSI_LOG;
	const unsigned csr = flush ? vf_flush_begin() : 0;
	c->values_checked = c->theta_f32 != NULL;
	if (sr == SSI_LOG && c->factors)
		factor_range(c);
	for (int64_t k = 0; k < c->n_steps; k++)
		offset += step_inside(c, &c->step[k], sr);
	if (flush)
		vf_flush_end(csr);
	return c->cell[c->root] + offset;
}

/* ---- outside ----------------------------------------------------------------- */

/* dst[o(j, s)] += p[s] for s < count (an absent operand: nothing). */
static void scatter(double *dst, ssi_operand o, int64_t j, const double *p,
		    int64_t count)
{
	double *q;
	if (o.base < 0 || !dst)
		return;
	q = dst + o.base + j * o.per_j;
	if (o.per_s == 1) {
		for (int64_t s = 0; s < count; s++)
			q[s] += p[s];
	} else if (o.per_s == 0) {
		double total = 0.0;
		for (int64_t s = 0; s < count; s++)
			total += p[s];
		q[0] += total;
	} else {
		for (int64_t s = 0; s < count; s++)
			q[s * o.per_s] += p[s];
	}
}

/* p[s] = ḡ(s) exp(v_j(s) - o(s)) for split j: by factors where they are
 * in range (fo: the cells' factors), else from the candidates v. */
static void adjoint_row(ssi_chart *c, const ssi_step *st, int64_t j,
			const double *fo, int need_v, double *p)
{
	const double *o = c->row[ROW_O], *g = c->row[ROW_G];
	double *v = c->row[ROW_V];
	const int64_t count = st->count;
	if (need_v || !c->factors)
		gather(c, st, j, v);
	if (!c->factors) {
		for (int64_t s = 0; s < count; s++)
			p[s] = g[s] * ssi_exp(v[s] - o[s]);
		return;
	}
	gather_factors(c, st, j, p);
	int bad = 0;
	#pragma omp simd reduction(|:bad)
	for (int64_t s = 0; s < count; s++) {
		p[s] = g[s] * p[s] / fo[s];
		bad |= p[s] != p[s];
	}
	for (int64_t s = 0; bad && s < count; s++)
		if (isnan(p[s]))
			p[s] = g[s] > 0.0 ? g[s] * ssi_exp(candidate(c, st, j, s) -
							  o[s])
					  : 0.0;
}

/*
 * The split shape's adjoints (see step_outside) for the block of LANES
 * cells at s0, with the split loop inside so that the block's values stay
 * in registers: by factors, p = ḡ/f(o) · f(x) f(y), where they are in
 * range, else by exp (r[s] = ḡ(s) / f(o(s)), NaN where f(o) is out of
 * range). The first skip lanes are left alone.
 */
static double SHORT_VECTORS split_adjoint_block(ssi_chart *c,
						const ssi_step *st, int64_t s0,
						int skip, int entropy)
{
	double o[LANES], g[LANES], r[LANES], h = 0.0, p[LANES];
	int exact = !c->factors;
	/* The first skip lanes were done by the block before: ḡ = 0. */
	for (int l = 0; l < LANES; l++) {
		o[l] = c->row[ROW_O][s0 + l];
		g[l] = l < skip ? 0.0 : c->row[ROW_G][s0 + l];
		r[l] = l < skip ? 0.0 : c->row[ROW_M][s0 + l];
		exact |= r[l] != r[l];
	}
	for (int64_t j = st->lo; j < st->hi; j++) {
		const int64_t ax = st->x.base + j * st->x.per_j + s0;
		const int64_t ay = st->y.base + j * st->y.per_j + s0;
		const double *X = c->cell + ax, *Y = c->cell + ay;
		const double *FX = c->factor + ax, *FY = c->factor + ay;
		double *AX = c->adj + ax, *AY = c->adj + ay;
		int bad = 0;
		if (exact) {
			#pragma omp simd
			for (int l = 0; l < LANES; l++)
				p[l] = g[l] * ssi_exp(X[l] + Y[l] - o[l]);
		} else {
			#pragma omp simd reduction(|:bad)
			for (int l = 0; l < LANES; l++) {
				p[l] = r[l] * FX[l] * FY[l];
				bad |= p[l] != p[l];
			}
		}
		if (bad) {
			#pragma omp simd
			for (int l = 0; l < LANES; l++) {
				double q = g[l] * ssi_exp(X[l] + Y[l] - o[l]);
				p[l] = p[l] != p[l] ? q : p[l];
			}
		}
		#pragma omp simd
		for (int l = 0; l < LANES; l++)
			AX[l] += p[l];
		#pragma omp simd
		for (int l = 0; l < LANES; l++)
			AY[l] += p[l];
		if (entropy) {
			#pragma omp simd reduction(+:h)
			for (int l = 0; l < LANES; l++)
				h += p[l] > 0.0 ? p[l] * nonneg(o[l] - X[l] - Y[l])
						: 0.0;
		}
	}
	return h;
}

/* The same for the cells from s0 to the end, row by row (fewer than
 * LANES cells). */
static double split_adjoint_rows(ssi_chart *c, const ssi_step *st,
				 int64_t s0, int entropy)
{
	const int64_t count = st->count;
	const double *o = c->row[ROW_O], *g = c->row[ROW_G], *r = c->row[ROW_M];
	double *p = c->row[ROW_F], h = 0.0;
	for (int64_t j = st->lo; j < st->hi; j++) {
		const int64_t ax = st->x.base + j * st->x.per_j;
		const int64_t ay = st->y.base + j * st->y.per_j;
		const double *X = c->cell + ax, *Y = c->cell + ay;
		const double *FX = c->factor + ax, *FY = c->factor + ay;
		double *AX = c->adj + ax, *AY = c->adj + ay;
		for (int64_t s = s0; s < count; s++) {
			p[s] = c->factors ? r[s] * FX[s] * FY[s] : NAN;
			if (isnan(p[s]))
				p[s] = g[s] * ssi_exp(X[s] + Y[s] - o[s]);
			AX[s] += p[s];
			AY[s] += p[s];
			if (entropy && p[s] > 0.0)
				h += p[s] * nonneg(o[s] - X[s] - Y[s]);
		}
	}
	return h;
}

static double split_outside(ssi_chart *c, const ssi_step *st, int entropy)
{
	const int64_t count = st->count;
	const double *g = c->row[ROW_G], *fo = c->factor + st->out;
	double *r = c->row[ROW_M], h = 0.0;
	int64_t s0 = 0;
	for (int64_t s = 0; s < count; s++)
		r[s] = c->factors && g[s] > 0.0 ? g[s] / fo[s] : 0.0;
	if (count < LANES)
		return split_adjoint_rows(c, st, 0, entropy);
	for (; s0 + LANES <= count; s0 += LANES)
		h += split_adjoint_block(c, st, s0, 0, entropy);
	/* A last partial block is moved back to end at count, its lanes
	 * done before masked. */
	if (s0 < count)
		h += split_adjoint_block(c, st, count - LANES,
					 (int)(s0 - (count - LANES)), entropy);
	return h;
}

/* The vecmat shape's adjoints: p = ḡ exp(x_j + θ row j - o). */
static double vecmat_outside(ssi_chart *c, const ssi_step *st, double *mu,
			     int entropy)
{
	const int64_t count = st->count;
	const double *o = c->row[ROW_O], *g = c->row[ROW_G];
	double *p = c->row[ROW_F], h = 0.0;
	for (int64_t j = st->lo; j < st->hi; j++) {
		const int64_t ax = st->x.base + j * st->x.per_j;
		const int64_t ap = st->part.base + j * st->part.per_j;
		const double xj = c->cell[ax], *row;
		double total = 0.0;
		if (xj == -INFINITY)
			continue;
		row = part_row(c, st, j, c->row[ROW_T]);
		for (int64_t s = 0; s < count; s++) {
			p[s] = g[s] * ssi_exp(xj + row[s] - o[s]);
			total += p[s];
		}
		c->adj[ax] += total;
		if (mu)
			for (int64_t s = 0; s < count; s++)
				mu[ap + s] += p[s];
		if (entropy)
			#pragma omp simd reduction(+:h)
			for (int64_t s = 0; s < count; s++)
				h += p[s] > 0.0 ? p[s] * nonneg(o[s] - xj - row[s])
						: 0.0;
	}
	return h;
}

/*
 * The adjoints of step st's candidates: p = ḡ(o) exp(v - o), passed to
 * their cells and parts (mu); returns Σ p (o - v), the step's share of the
 * entropy, when entropy is asked for.
 */
static double step_outside(ssi_chart *c, const ssi_step *st, double *mu,
			   int entropy)
{
	const int64_t count = st->count;
	const double *out = c->cell + st->out, *g = c->adj + st->out;
	double *o = c->row[ROW_O], *gs = c->row[ROW_G], *p = c->row[ROW_F];
	const double *v = c->row[ROW_V];
	double h = 0.0;
	int any = 0;
	/* The step's parts, zeroed now that they are about to be used
	 * (ssi_chart_zero_uncovered), unless the factored float kernel
	 * writes every one of them (rows of count parts one after another):
	 * it then assigns them, 0 + p being p. */
	double *parts = mu && c->zero_parts && st->part.base >= 0
		? mu + st->part.base + st->lo * st->part.per_j : NULL;
	const size_t parts_bytes = (size_t)((st->hi - st->lo) * count) * sizeof *mu;
	const int factored = vecmat_f32(c, st, SSI_LOG) && st->factored &&
			     mu && !entropy;
	const int assigns = parts && factored && st->part.per_j == count;
	if (parts && !assigns)
		memset(parts, 0, parts_bytes);
	/* o: the cell's log value (its step's shift added back). */
	const double shift = st->shift;
	#pragma omp simd reduction(|:any)
	for (int64_t s = 0; s < count; s++) {
		const int dead = out[s] == -INFINITY;
		const double gv = g[s]; /* read whole: no masked load */
		o[s] = dead ? 0.0 : out[s] + shift;
		gs[s] = dead ? 0.0 : gv;
		any |= gs[s] > 0.0;
	}
	if (!any) {
		if (assigns)
			memset(parts, 0, parts_bytes);
		return 0.0;
	}
	switch (shape_of(st)) {
	case SHAPE_SPLIT:
		return split_outside(c, st, entropy);
	case SHAPE_VECMAT:
		if (factored) {
			vecmat_outside_factored(c, st, mu, assigns);
			return 0.0;
		}
		if (vecmat_f32(c, st, SSI_LOG))
			return vecmat_outside_f32(c, st, mu, entropy);
		return vecmat_outside(c, st, mu, entropy);
	case SHAPE_OTHER:
		break;
	}
	if (st->hi - st->lo == 1) {
		/* One candidate: it is the cell, p = ḡ and its entropy 0. */
		scatter(c->adj, st->x, st->lo, gs, count);
		scatter(c->adj, st->y, st->lo, gs, count);
		scatter(mu, st->part, st->lo, gs, count);
		return 0.0;
	}
	for (int64_t j = st->lo; j < st->hi; j++) {
		adjoint_row(c, st, j, c->factor + st->out, entropy, p);
		if (entropy)
			#pragma omp simd reduction(+:h)
			for (int64_t s = 0; s < count; s++)
				h += p[s] > 0.0 ? p[s] * nonneg(o[s] - v[s]) : 0.0;
		scatter(c->adj, st->x, j, p, count);
		scatter(c->adj, st->y, j, p, count);
		scatter(mu, st->part, j, p, count);
	}
	return h;
}

double SSI_KERNEL(ssi_chart_outside)(ssi_chart *c, double *mu, int entropy)
{
	double h = 0.0;
	/* Only cells steps write are read, so only theirs get adjoints. */
	for (int64_t k = 0; k < c->n_steps; k++)
		memset(c->adj + c->step[k].out, 0,
		       (size_t)c->step[k].count * sizeof *c->adj);
	c->adj[c->root] = 1.0;
	for (int64_t k = c->n_steps - 1; k >= 0; k--)
		h += step_outside(c, &c->step[k], mu, entropy);
	return h;
}

/* ---- backtrace ------------------------------------------------------------- */

/* Index k drawn with probability ∝ exp(logw[k]) using uniform u in
 * [0, 1); -1 when every weight is zero. Overwrites logw with the weights:
 * their exps in vectors, their sum in order, so that every instruction
 * set draws the same index. */
static int64_t draw_index(double *logw, int64_t n, double u)
{
	double m = -INFINITY, total = 0.0, acc = 0.0;
	int64_t last = -1;
	#pragma omp simd reduction(max:m)
	for (int64_t k = 0; k < n; k++)
		m = logw[k] > m ? logw[k] : m;
	if (m == -INFINITY)
		return -1;
	#pragma omp simd
	for (int64_t k = 0; k < n; k++)
		logw[k] = ssi_exp(logw[k] - m);
	for (int64_t k = 0; k < n; k++)
		total += logw[k];
	for (int64_t k = 0; k < n; k++) {
		if (logw[k] <= 0.0)
			continue;
		acc += logw[k];
		last = k;
		if (u * total < acc)
			return k;
	}
	return last;
}

/*
 * A draw of cell s's candidate by the log inside's factors, where the
 * program has them: weights fx fy, products of factors with no exp (a
 * split step: no part), drawn as draw_index draws. -2 where a factor is
 * out of range (NaN): the caller then draws in log space.
 */
static int64_t draw_by_factors(const ssi_chart *c, const ssi_step *st,
			       int64_t s, double u)
{
	const int64_t nj = st->hi - st->lo;
	double *w = c->cand, total = 0.0, acc = 0.0;
	int64_t last = -1;
	if (!c->factors || st->part.base >= 0)
		return -2;
	for (int64_t j = 0; j < nj; j++) {
		const int64_t jj = st->lo + j;
		const double fx = st->x.base < 0 ? 1.0
			: c->factor[st->x.base + jj * st->x.per_j + s * st->x.per_s];
		const double fy = st->y.base < 0 ? 1.0
			: c->factor[st->y.base + jj * st->y.per_j + s * st->y.per_s];
		w[j] = fx * fy;
		if (isnan(w[j]))
			return -2;
	}
	for (int64_t j = 0; j < nj; j++)
		total += w[j];
	for (int64_t j = 0; j < nj; j++) {
		if (w[j] <= 0.0)
			continue;
		acc += w[j];
		last = j;
		if (u * total < acc)
			return j;
	}
	return last;
}

/* The candidate cell s of step st takes: the first best one, or one drawn
 * with probability exp(v - cell) using uniform u (by the factors where
 * they serve). */
static int64_t choose(const ssi_chart *c, const ssi_step *st, int64_t s,
		      ssi_chooser chooser, double u)
{
	const int64_t nj = st->hi - st->lo;
	double *v = c->cand, best = -INFINITY;
	int64_t pick = -1;
	if (nj == 1) /* its one candidate, unless the cell is -inf */
		return c->cell[st->out + s] == -INFINITY ? -1 : st->lo;
	if (chooser == SSI_CHOOSE_BEST && shape_of(st) == SHAPE_SPLIT) {
		/* x + y, two strided rows: no operand tests per candidate */
		const double *X = c->cell + st->x.base + s;
		const double *Y = c->cell + st->y.base + s;
		for (int64_t j = st->lo; j < st->hi; j++) {
			const double vj = X[j * st->x.per_j] + Y[j * st->y.per_j];
			if (vj > best) {
				best = vj;
				pick = j;
			}
		}
		return pick;
	}
	if (chooser == SSI_CHOOSE_SAMPLE &&
	    (pick = draw_by_factors(c, st, s, u)) != -2)
		return pick < 0 ? -1 : st->lo + pick;
	for (int64_t j = 0; j < nj; j++)
		v[j] = candidate(c, st, st->lo + j, s);
	if (chooser == SSI_CHOOSE_SAMPLE)
		pick = draw_index(v, nj, u);
	else
		for (int64_t j = 0; j < nj; j++)
			if (v[j] > best) {
				best = v[j];
				pick = j;
			}
	return pick < 0 ? -1 : st->lo + pick;
}

/* Marks operand o of split j, cell s, in use. */
static void use(int32_t *active, ssi_operand o, int64_t j, int64_t s)
{
	if (o.base >= 0)
		active[o.base + j * o.per_j + s * o.per_s]++;
}

double SSI_KERNEL(ssi_chart_backtrace)(ssi_chart *c, ssi_chooser chooser,
				       ss_rng *rng, double *event)
{
	double score = 0.0;
	for (int64_t k = 0; k < c->n_steps; k++)
		memset(c->active + c->step[k].out, 0,
		       (size_t)c->step[k].count * sizeof *c->active);
	c->active[c->root] = 1;
	for (int64_t k = c->n_steps - 1; k >= 0; k--) {
		const ssi_step *st = &c->step[k];
		const int32_t *in_use = c->active + st->out;
		int32_t any = 0;
		/* Most steps have no cell in use: one vector scan skips them. */
		#pragma omp simd reduction(|:any)
		for (int64_t s = 0; s < st->count; s++)
			any |= in_use[s];
		for (int64_t s = 0; any && s < st->count; s++) {
			for (int32_t r = c->active[st->out + s]; r > 0; r--) {
				double u = chooser == SSI_CHOOSE_SAMPLE
					? ss_rng_uniform(rng) : 0.0;
				int64_t j = choose(c, st, s, chooser, u), at;
				if (j < 0)
					continue;
				use(c->active, st->x, j, s);
				use(c->active, st->y, j, s);
				if (st->part.base < 0)
					continue;
				at = st->part.base + j * st->part.per_j +
				     s * st->part.per_s;
				event[at] += 1.0;
				score += c->score_f32 ? (double)c->score_f32[at]
						      : c->score[at];
			}
		}
	}
	return score;
}

/* ---- max-marginals ----------------------------------------------------------- */

/*
 * After the max inside: mm[part] = the best score of a structure that uses
 * the part, for every part some structure of positive score uses (the
 * others keep what mm held: the caller's -inf). The max outside
 * out(o) = the best score of the rest of a structure around cell o, from
 * out(root) = 0 in reverse step order: candidate j of cell o, worth v_j =
 * x + y + θ, passes out(o) + y + θ to x, out(o) + x + θ to y and out(o) +
 * v_j to its part, each cell and part keeping its largest. Values are in
 * the stored cells' units (normalised steps less their shift, θ as the
 * program holds it), which differ from scores by best - cell[root] for
 * every structure alike: added at the end. O(candidates), as the inside.
 */
void SSI_KERNEL(ssi_chart_max_outside)(ssi_chart *c, double *mm, double best)
{
	double *out = c->adj;
	const double to_score = best - c->cell[c->root];
	for (int64_t k = 0; k < c->n_steps; k++)
		for (int64_t s = 0; s < c->step[k].count; s++)
			out[c->step[k].out + s] = -INFINITY;
	out[c->root] = 0.0;
	for (int64_t k = c->n_steps - 1; k >= 0; k--) {
		const ssi_step *st = &c->step[k];
		for (int64_t s = 0; s < st->count; s++) {
			const double o = out[st->out + s] - st->shift;
			if (out[st->out + s] == -INFINITY ||
			    c->cell[st->out + s] == -INFINITY)
				continue;
			for (int64_t j = st->lo; j < st->hi; j++) {
				const int64_t xa = st->x.base + j * st->x.per_j + s * st->x.per_s;
				const int64_t ya = st->y.base + j * st->y.per_j + s * st->y.per_s;
				const int64_t pa = st->part.base + j * st->part.per_j +
						   s * st->part.per_s;
				const double x = st->x.base >= 0 ? c->cell[xa] : 0.0;
				const double y = st->y.base >= 0 ? c->cell[ya] : 0.0;
				const double t = st->part.base >= 0 ? theta_at(c, pa) : 0.0;
				if (x + y + t == -INFINITY)
					continue;
				if (st->x.base >= 0)
					out[xa] = fmax(out[xa], o + y + t);
				if (st->y.base >= 0)
					out[ya] = fmax(out[ya], o + x + t);
				if (st->part.base >= 0 && mm)
					mm[pa] = fmax(mm[pa], o + x + y + t + to_score);
			}
		}
	}
}

/* ---- the k best structures ------------------------------------------------------ */

/*
 * The k-best semiring on the same programs: each cell keeps its K best
 * derivations, best first, each as a value and a back pointer (candidate
 * j, rank a of its x cell, rank b of its y cell). A cell's K best are
 * found by lazy merging (Huang and Chiang 2005, algorithm 2): a heap holds
 * each candidate's best combination (a, b) = (0, 0); popping (j, a, b)
 * pushes (j, a, b + 1), and (j, a + 1, 0) when b = 0, so that every pair
 * enters once and after the one before it, which is no worse: O(candidates
 * + K log(candidates + K)) per cell, against O(candidates) for the argmax.
 * Normalised steps subtract their best value, as the max inside does.
 * Ties keep the candidate order (lower j, then lower ranks first), so that
 * every instruction set and thread count gives the same structures.
 */

/* e better than f: larger, or equal and earlier. */
static int kbest_before(const ssi_kentry *e, const ssi_kentry *f)
{
	if (e->value != f->value)
		return e->value > f->value;
	if (e->back.j != f->back.j)
		return e->back.j < f->back.j;
	if (e->back.a != f->back.a)
		return e->back.a < f->back.a;
	return e->back.b < f->back.b;
}

static void kbest_sift_down(ssi_kentry *h, int64_t n, int64_t i)
{
	for (;;) {
		int64_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && kbest_before(&h[l], &h[m]))
			m = l;
		if (r < n && kbest_before(&h[r], &h[m]))
			m = r;
		if (m == i)
			return;
		ssi_kentry t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void kbest_push(ssi_kentry *h, int64_t *n, ssi_kentry e)
{
	int64_t i = (*n)++;
	h[i] = e;
	while (i > 0 && kbest_before(&h[i], &h[(i - 1) / 2])) {
		ssi_kentry t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Value of rank r of cell o's list, or -inf past its end; absent: 0 at
 * rank 0. */
static double kbest_at(const ssi_kbest *kb, int64_t cell, int32_t r)
{
	if (cell < 0)
		return r == 0 ? 0.0 : -INFINITY;
	return r < kb->count[cell] ? kb->value[cell * kb->k + r] : -INFINITY;
}

/* Combination (j, a, b) of cell s of step st. */
static ssi_kentry kbest_combine(const ssi_chart *c, const ssi_kbest *kb,
				 const ssi_step *st, int64_t s, int32_t j,
				 int32_t a, int32_t b)
{
	const int64_t xa = st->x.base < 0 ? -1
		: st->x.base + j * st->x.per_j + s * st->x.per_s;
	const int64_t ya = st->y.base < 0 ? -1
		: st->y.base + j * st->y.per_j + s * st->y.per_s;
	double v = kbest_at(kb, xa, a) + kbest_at(kb, ya, b);
	if (st->part.base >= 0)
		v += theta_at(c, st->part.base + j * st->part.per_j +
				 s * st->part.per_s);
	return (ssi_kentry){v, {j, a, b}};
}

static void kbest_cell(const ssi_chart *c, ssi_kbest *kb, const ssi_step *st,
		       int64_t s)
{
	const int64_t cell = st->out + s;
	ssi_kentry *h = kb->heap;
	int64_t n = 0;
	int32_t found = 0;
	for (int64_t j = st->lo; j < st->hi; j++) {
		ssi_kentry e = kbest_combine(c, kb, st, s, (int32_t)j, 0, 0);
		if (e.value > -INFINITY)
			h[n++] = e;
	}
	for (int64_t i = n / 2 - 1; i >= 0; i--)
		kbest_sift_down(h, n, i);
	while (n > 0 && found < kb->k) {
		ssi_kentry top = h[0], next;
		kb->value[cell * kb->k + found] = top.value;
		kb->back[cell * kb->k + found] = top.back;
		found++;
		h[0] = h[--n];
		kbest_sift_down(h, n, 0);
		next = kbest_combine(c, kb, st, s, top.back.j, top.back.a,
				     top.back.b + 1);
		if (next.value > -INFINITY)
			kbest_push(h, &n, next);
		if (top.back.b == 0) {
			next = kbest_combine(c, kb, st, s, top.back.j,
					     top.back.a + 1, 0);
			if (next.value > -INFINITY)
				kbest_push(h, &n, next);
		}
	}
	kb->count[cell] = found;
}

double SSI_KERNEL(ssi_chart_kbest)(ssi_chart *c, ssi_kbest *kb)
{
	double offset = c->offset;
	for (int64_t k = 0; k < c->n_steps; k++) {
		ssi_step *st = &c->step[k];
		double m = -INFINITY;
		for (int64_t s = 0; s < st->count; s++) {
			kb->step_of[st->out + s] = (int32_t)k;
			kbest_cell(c, kb, st, s);
			if (kb->count[st->out + s] > 0)
				m = fmax(m, kb->value[(st->out + s) * kb->k]);
		}
		st->shift = 0.0;
		if (st->normalised && m > -INFINITY) {
			st->shift = m;
			for (int64_t s = 0; s < st->count; s++)
				for (int32_t r = 0; r < kb->count[st->out + s]; r++)
					kb->value[(st->out + s) * kb->k + r] -= m;
		}
		offset += st->shift;
	}
	return offset;
}

/* The parts of derivation `rank` of the root into event (added) and its
 * score under the chart's score potentials; -inf past the last. */
double SSI_KERNEL(ssi_chart_kbest_structure)(ssi_chart *c, ssi_kbest *kb,
					     int32_t rank, double *event)
{
	int64_t n = 0;
	double score = 0.0;
	if (rank >= kb->count[c->root])
		return -INFINITY;
	kb->stack[n++] = (ssi_kback){(int32_t)c->root, rank, 0};
	while (n > 0) {
		const ssi_kback top = kb->stack[--n];
		const int64_t cell = top.j;
		const ssi_step *st = &c->step[kb->step_of[cell]];
		const int64_t s = cell - st->out;
		const ssi_kback bp = kb->back[cell * kb->k + top.a];
		const int64_t j = bp.j;
		if (st->part.base >= 0) {
			const int64_t at = st->part.base + j * st->part.per_j +
					   s * st->part.per_s;
			event[at] += 1.0;
			score += c->score_f32 ? (double)c->score_f32[at]
					      : c->score[at];
		}
		if (st->x.base >= 0)
			kb->stack[n++] = (ssi_kback){
				(int32_t)(st->x.base + j * st->x.per_j + s * st->x.per_s),
				bp.a, 0};
		if (st->y.base >= 0)
			kb->stack[n++] = (ssi_kback){
				(int32_t)(st->y.base + j * st->y.per_j + s * st->y.per_s),
				bp.b, 0};
	}
	return score;
}
