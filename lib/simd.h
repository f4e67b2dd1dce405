/*
 * simd.h - vectors of floats for the float kernels of lib/chart.c, which
 * is compiled once per instruction set (lib/isa.c): 16 lanes under
 * AVX-512, 8 under AVX2 with FMA, 4 elsewhere in GCC's vector types
 * (SSE2 on x86, NEON on arm64). Only what the kernels need:
 * loads of a row's first n lanes, add, subtract, multiply, max,
 * multiply-add (fused where VF_FMA, as a product and a sum elsewhere),
 * 2^t, and the scaled exps of the kernels' sums. Every vf is
 * also one of GCC's vector types, so that the per-cell work around the
 * kernels can use its operators: vf_i32 and vf_u32 are a vf's lanes as
 * integers or bits (a comparison gives a vf_i32 mask, -1 or 0), vd half
 * of its lanes as doubles.
 *
 *   vd_lo(a), vd_hi(a)    the first and the last half of a's lanes as
 *                         doubles
 *   vf_recip(a)           1 / a for a in [1, 4] within 2e-7 (relative): the
 *                         instruction's estimate and a Newton step on x86,
 *                         a division elsewhere
 *   vf_hsum(a)            the sum of a's lanes, added pairwise
 *   vf_mask_bits(m)       mask m's lanes as the bits of an unsigned
 *   vf_count_false(m, n)  how many of mask m's first n lanes are 0
 *
 *   vf_exp2(t)   2^t for t <= 127, at most 1.9e-7 from it (relative,
 *                evaluated in floats: about 3 ulps); NaN at NaN.
 *                  AVX-512: t = k + f, k = floor(t), f by vreduceps, 2^f
 *                by a polynomial of degree 5, 2^k by vscalefps (eight
 *                vector operations); subnormal or 0 below -126.
 *                  AVX2: t = k + j/8 + f, 2^(j/8) from a table of eight,
 *                2^f by a polynomial of degree 3 (eleven operations);
 *                2^-126 below -126.
 *                  Elsewhere: t = k + f, k = round(t), 2^f by a polynomial
 *                of degree 5; 0 below -126.
 *                Subnormals cost a hundred cycles each unless flushed:
 *                see vf_flush_begin.
 *
 *   Scaled exps, the terms u 2^(x λ + b) of the float kernels' sums
 *   (lib/chart.c), λ = VF_LOG2E, u a row's factor in [0, 1], b a column's
 *   shift, made from the column's largest x so that no exponent exceeds
 *   1/16 (see vf_shift_of):
 *   vf_shift_of(T)        b for a column whose largest x is T, T taken
 *                         into [-VF_TOP_MAX, VF_TOP_MAX] (a larger T leaves
 *                         the column's terms unusable: the kernels check)
 *   VF_SHIFT_TO_LOG       b times it is the column's shift in natural
 *                         logs: the term is then u exp((x - S) λ ln(2))
 *   vf_col_of(b)          a column's constants, a vf_col
 *   vf_rows_of(rows, n)   the VF_ROW_FLOATS constants of rows 0 .. n - 1,
 *                         constant k of row j at rows[k n + j], from the
 *                         u_j at rows + VF_ROW_U n
 *   vf_row_load(rows, n, j)  row j's as a vf_row
 *   vf_term(x, col, row)  u 2^(x λ + b) as vf_exp2 gives it, NaN at NaN
 *                         and +inf; at most u 2^-125 (maybe 0) where x lies
 *                         below col.low, the least x whose exponent is
 *                         EXP2_MIN + 1 or more (-inf included)
 *   vf_term_add(s, x, col, row)  s + vf_term(x, col, row)
 *     AVX2 folds u into 2^f's polynomial (u times each coefficient, per
 *   row) and rounds b to a multiple of 1/8, so that one multiply-add gives
 *   x λ + b rounded for the table: ten operations and the sum's, against
 *   twelve and the sum's for u vf_exp2(x λ + b) (measured: the chain's
 *   log inside 0.077 ms per element against 0.072-0.075). Elsewhere u
 *   vf_exp2(x λ + b).
 *
 *   vf_flush_begin()  flush subnormal results and operands to zero (x86's
 *   vf_flush_end(s)   MXCSR FTZ and DAZ) until vf_flush_end(s); nothing
 *                     elsewhere. Per thread, so results stay the same
 *                     whatever the thread count.
 */
#ifndef SYNSTRUCT_SIMD_H
#define SYNSTRUCT_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

/* The polynomials of vf_exp2, each fitted by Lawson's iteration to the
 * relative error: 2^f ≈ 1 + f (c1 + f (c2 + ... f c5)) for |f| <= 1/2
 * (9.2e-8 exact, 1.9e-7 evaluated in floats), and 2^f ≈ d0 + f (d1 + ...
 * f d5) for 0 <= f < 1 (7.5e-8 and 1.7e-7). */
#define EXP2_C1 6.931470037e-01f
#define EXP2_C2 2.402224243e-01f
#define EXP2_C3 5.550733581e-02f
#define EXP2_C4 9.671512991e-03f
#define EXP2_C5 1.326472731e-03f
#define EXP2_D0 9.999999404e-01f
#define EXP2_D1 6.931530833e-01f
#define EXP2_D2 2.401536107e-01f
#define EXP2_D3 5.582631752e-02f
#define EXP2_D4 8.989340626e-03f
#define EXP2_D5 1.877576695e-03f
/* 2^f ≈ 1 + f (e1 + f (e2 + f e3)) for |f| <= 1/16 (2.5e-8 exact),
 * and the bits of 2^(j/8) rounded to a float, less j << 20 (the AVX2
 * vf_exp2: 1.6e-7 evaluated in floats, table included). */
#define EXP2_E1 6.931472421e-01f
#define EXP2_E2 2.402576208e-01f
#define EXP2_E3 5.549621582e-02f
#define EXP2_8TH(j, bits) ((int)((bits) - ((j) << 20)))
#define EXP2_MIN -126.0f
/* log2(e) as a float, λ of the scaled exps; and the largest |T| that
 * vf_shift_of takes as it is. */
#define VF_LOG2E ((float)1.4426950408889634)
#define VF_TOP_MAX 0x1p17f
/* A scaled exp's shift in natural logs: with fused multiply-adds b is
 * -TL, TL within a rounding of T λ (to a float, or to 1/8 on AVX2), and a
 * term 2^(x λ - TL) = exp((x - S) λ ln(2)) for S = TL / λ: λ ln(2) = 1 +
 * 6e-8 multiplies x - S only, which is small for the terms that matter
 * (S = TL ln(2) would leave 6e-8 of x itself in every cell). Without, b
 * is T and the exponent (x - T) λ. */
#define VF_SHIFT_TO_LOG (VF_FMA ? -1.0 / (double)VF_LOG2E : 1.0)
/* A polynomial of degree 5 in vectors by Estrin's scheme (f a variable):
 * (c0 + c1 f) + f^2 ((c2 + c3 f) + f^2 (c4 + c5 f)), one operation more
 * than Horner's rule but 12 cycles of latency instead of 20, so that the
 * scheduler holds more exps at once (measured: the chain's log inside
 * 0.097 ms per element against 0.125 under AVX2). */
#define EXP2_ESTRIN(f, c0, c1, c2, c3, c4, c5)                            \
	vf_fma(vf_fma(vf_fma(vf_set1(c5), (f), vf_set1(c4)), vf_mul(f, f),  \
		      vf_fma(vf_set1(c3), (f), vf_set1(c2))),               \
	       vf_mul(f, f), vf_fma(vf_set1(c1), (f), vf_set1(c0)))

#if defined(__FMA__) || defined(__aarch64__)
#define VF_FMA 1
#define VF_FMAF(a, b, c) fmaf((a), (b), (c))
#else
#define VF_FMA 0
#define VF_FMAF(a, b, c) ((a) * (b) + (c))
#endif

/* 2^(k + f) for an integer -126 <= k <= 127 and |f| <= 1/2, k put into
 * the exponent by integer operations (a loop calling it vectorises). */
static inline float exp2_split(float f, uint32_t k)
{
	uint32_t bits;
	float p = VF_FMAF(EXP2_C5, f, EXP2_C4);
	p = VF_FMAF(p, f, EXP2_C3);
	p = VF_FMAF(p, f, EXP2_C2);
	p = VF_FMAF(p, f, EXP2_C1);
	p = VF_FMAF(p, f, 1.0f);
	memcpy(&bits, &p, sizeof bits);
	bits += k << 23;
	memcpy(&p, &bits, sizeof p);
	return p;
}

/* vf_exp2 of one float, for loops GCC vectorises itself, but 0 below
 * -126 (and at -inf): an impossible part's marginal is 0. */
static inline float exp2_lane(float x)
{
	const float shifter = 0x1.8p23f;
	float kd, t = x > EXP2_MIN ? x : EXP2_MIN;
	uint32_t k;
	kd = t + shifter;
	memcpy(&k, &kd, sizeof k);
	const float p = exp2_split(t - (kd - shifter), k);
	return x < EXP2_MIN ? 0.0f : p;
}

/* exp(d) as a float for d <= 0 (a double), 0 below 2^-126: d log2(e) =
 * k + f in double, so that the float's error is the polynomial's
 * whatever the magnitude of d. */
static inline float exp_to_float(double d)
{
	const double shifter = 0x1.8p52;
	const double a = d * 1.4426950408889634;
	const double t = a > (double)EXP2_MIN ? a : (double)EXP2_MIN;
	const double k = (t + shifter) - shifter;
	const float p = exp2_split((float)(t - k), (uint32_t)(int32_t)k);
	return a < (double)EXP2_MIN ? 0.0f : p;
}

#if defined(__x86_64__) || defined(__i386__)
static inline unsigned vf_flush_begin(void)
{
	const unsigned csr = _mm_getcsr();
	_mm_setcsr(csr | 0x8040u); /* FTZ | DAZ */
	return csr;
}
static inline void vf_flush_end(unsigned csr) { _mm_setcsr(csr); }
#else
static inline unsigned vf_flush_begin(void) { return 0; }
static inline void vf_flush_end(unsigned csr) { (void)csr; }
#endif

#if defined(__AVX512F__)

#define VF_LANES 16
typedef int32_t vf_i32 __attribute__((vector_size(64)));
typedef uint32_t vf_u32 __attribute__((vector_size(64)));
typedef __m512d vd;
/* vf_exp2 is NaN at a NaN of any payload, +inf at +inf (elsewhere an
 * integer add into the exponent can turn a NaN's payload into a finite
 * value). */
#define VF_EXP2_KEEPS_NAN 1
typedef __m512 vf;
typedef __mmask16 vf_mask;

static inline vf vf_set1(float x) { return _mm512_set1_ps(x); }
static inline vf vf_load(const float *p) { return _mm512_loadu_ps(p); }
static inline vf_mask vf_first(int n) { return (vf_mask)((1u << n) - 1u); }
/* The lanes of m from p, 0 in the others (which are not read). */
static inline vf vf_load_masked(const float *p, vf_mask m)
{
	return _mm512_maskz_loadu_ps(m, p);
}
static inline void vf_store(float *p, vf x) { _mm512_storeu_ps(p, x); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
/* f = t - floor(t) by vreduceps (0 at ±inf), and vscalefps multiplies
 * 2^f by 2^floor(t) itself. */
static inline vf vf_exp2(vf t)
{
	const vf f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEG_INF |
					 _MM_FROUND_NO_EXC);
	return _mm512_scalef_ps(EXP2_ESTRIN(f, EXP2_D0, EXP2_D1, EXP2_D2,
					    EXP2_D3, EXP2_D4, EXP2_D5),
				t);
}


static inline vf vf_recip(vf a)
{
	const vf r = _mm512_rcp14_ps(a);
	return vf_fma(r, _mm512_fnmadd_ps(a, r, vf_set1(1.0f)), r);
}

static inline vd vd_lo(vf a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
static inline vd vd_hi(vf a)
{
	return _mm512_cvtps_pd(_mm512_extractf32x8_ps(a, 1));
}
static inline unsigned vf_mask_bits(vf_i32 m)
{
	return _mm512_movepi32_mask((__m512i)m);
}

#elif defined(__AVX2__) && defined(__FMA__)

#define VF_LANES 8
typedef int32_t vf_i32 __attribute__((vector_size(32)));
typedef uint32_t vf_u32 __attribute__((vector_size(32)));
typedef __m256d vd;
/* vf_exp2 and the scaled exps are NaN at NaN and at +inf (see vf_exp2 and
 * term_parts). */
#define VF_EXP2_KEEPS_NAN 1
typedef __m256 vf;
typedef __m256i vf_mask;

static inline vf vf_set1(float x) { return _mm256_set1_ps(x); }
static inline vf vf_load(const float *p) { return _mm256_loadu_ps(p); }
static inline vf_mask vf_first(int n)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(n),
				  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline vf vf_load_masked(const float *p, vf_mask m)
{
	return _mm256_maskload_ps(p, m);
}
static inline void vf_store(float *p, vf x) { _mm256_storeu_ps(p, x); }
static inline vf vf_add(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
/* t = k + j/8 + f with |f| <= 1/16: t + 1.5 2^20 holds r = round(8 t) =
 * 8 k + j in its low bits, j picks 2^(j/8) from a register (vpermps,
 * which reads the low three bits) and r << 20 = k << 23 + j << 20 adds k
 * to its exponent (each entry is stored less j << 20), and 2^f is the
 * polynomial of degree 3. Eleven operations, eight of them in the
 * multiply-add ports, which bound the kernels (ten there for a polynomial
 * of degree 5 on |f| <= 1/2). NaN at NaN (any payload) and at +inf: f is
 * then NaN, and the last operation a product. */
static inline vf vf_exp2(vf t)
{
	const vf shifter = vf_set1(0x1.8p20f);
	const __m256i table = _mm256_setr_epi32(
		EXP2_8TH(0, 0x3f800000), EXP2_8TH(1, 0x3f8b95c2),
		EXP2_8TH(2, 0x3f9837f0), EXP2_8TH(3, 0x3fa5fed7),
		EXP2_8TH(4, 0x3fb504f3), EXP2_8TH(5, 0x3fc5672a),
		EXP2_8TH(6, 0x3fd744fd), EXP2_8TH(7, 0x3feac0c7));
	t = _mm256_max_ps(vf_set1(EXP2_MIN), t); /* NaN stays NaN */
	const vf kd = _mm256_add_ps(t, shifter);
	const __m256i r = _mm256_castps_si256(kd);
	const vf f = _mm256_sub_ps(t, _mm256_sub_ps(kd, shifter));
	const __m256i scale = _mm256_add_epi32(
		_mm256_castps_si256(_mm256_permutevar8x32_ps(
			_mm256_castsi256_ps(table), r)),
		_mm256_slli_epi32(r, 20));
	const vf p = vf_fma(vf_fma(vf_fma(vf_set1(EXP2_E3), f,
					  vf_set1(EXP2_E2)),
				   f, vf_set1(EXP2_E1)),
			    f, vf_set1(1.0f));
	return _mm256_mul_ps(p, _mm256_castsi256_ps(scale));
}


/* Scaled exps (see the top). A column's b = -(T λ rounded to a multiple
 * of 1/8), |b| < 2^18, and base = b + 1.5 2^20, both exact: x λ + base,
 * fused and rounded to 1/8 in [2^20, 2^21), then holds r = round(8 (x λ +
 * b)) = 8 k + j in its low bits, as t + shifter does in vf_exp2, and f =
 * x λ + (base - that) is x λ + b - (k + j/8) with one rounding. The
 * polynomial's coefficients are a row's: u E3, u E2, u E1 and u. */
#define VF_SCALED_EXP_OWN 1
#define VF_ROW_FLOATS 4
typedef struct { vf base, low; } vf_col;
typedef struct { vf c3, c2, c1, u; } vf_row;

static inline vf vf_shift_of(vf top)
{
	const vf shifter = vf_set1(0x1.8p20f);
	const vf t = _mm256_min_ps(vf_max(top, vf_set1(-VF_TOP_MAX)),
				   vf_set1(VF_TOP_MAX));
	return vf_sub(shifter, vf_fma(t, vf_set1(VF_LOG2E), shifter));
}
static inline vf_col vf_col_of(vf b)
{
	return (vf_col){vf_add(b, vf_set1(0x1.8p20f)),
			vf_mul(vf_sub(vf_set1(EXP2_MIN + 1.0f), b),
			       vf_set1(1.0f / VF_LOG2E))};
}
static inline void vf_rows_of(float *rows, int64_t n)
{
	const float *u = rows + 3 * n;
	#pragma omp simd
	for (int64_t j = 0; j < n; j++) {
		rows[j] = u[j] * EXP2_E3;
		rows[n + j] = u[j] * EXP2_E2;
		rows[2 * n + j] = u[j] * EXP2_E1;
	}
}
static inline vf_row vf_row_load(const float *rows, int64_t n, int64_t j)
{
	return (vf_row){vf_set1(rows[j]), vf_set1(rows[n + j]),
			vf_set1(rows[2 * n + j]), vf_set1(rows[3 * n + j])};
}
/* p u 2^(k + j/8), p u = u 2^f by the row's polynomial, 2^(k + j/8) as in
 * vf_exp2; *scale_out the latter, for vf_term_add's fused last step. */
static inline vf term_parts(vf x, vf_col col, vf_row row, vf *scale_out)
{
	const vf lambda = vf_set1(VF_LOG2E);
	const __m256i table = _mm256_setr_epi32(
		EXP2_8TH(0, 0x3f800000), EXP2_8TH(1, 0x3f8b95c2),
		EXP2_8TH(2, 0x3f9837f0), EXP2_8TH(3, 0x3fa5fed7),
		EXP2_8TH(4, 0x3fb504f3), EXP2_8TH(5, 0x3fc5672a),
		EXP2_8TH(6, 0x3fd744fd), EXP2_8TH(7, 0x3feac0c7));
	x = vf_max(col.low, x); /* NaN stays NaN */
	const vf kd = vf_fma(x, lambda, col.base);
	const __m256i r = _mm256_castps_si256(kd);
	const vf f = vf_fma(x, lambda, vf_sub(col.base, kd));
	*scale_out = _mm256_castsi256_ps(_mm256_add_epi32(
		_mm256_castps_si256(_mm256_permutevar8x32_ps(
			_mm256_castsi256_ps(table), r)),
		_mm256_slli_epi32(r, 20)));
	return vf_fma(vf_fma(vf_fma(row.c3, f, row.c2), f, row.c1), f, row.u);
}
static inline vf vf_term(vf x, vf_col col, vf_row row)
{
	vf scale;
	const vf p = term_parts(x, col, row, &scale);
	return vf_mul(p, scale);
}
static inline vf vf_term_add(vf sum, vf x, vf_col col, vf_row row)
{
	vf scale;
	const vf p = term_parts(x, col, row, &scale);
	return vf_fma(p, scale, sum);
}

static inline vf vf_recip(vf a)
{
	const vf r = _mm256_rcp_ps(a);
	return vf_fma(r, _mm256_fnmadd_ps(a, r, vf_set1(1.0f)), r);
}

static inline vd vd_lo(vf a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
static inline vd vd_hi(vf a)
{
	return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1));
}
static inline unsigned vf_mask_bits(vf_i32 m)
{
	return (unsigned)_mm256_movemask_ps((__m256)m);
}

#else

#define VF_LANES 4
#define VF_EXP2_KEEPS_NAN 0
/* GCC's vector types: SSE2 or NEON registers, whole-vector operations. */
typedef float vf __attribute__((vector_size(16)));
typedef int32_t vf_i32 __attribute__((vector_size(16)));
typedef uint32_t vf_u32 __attribute__((vector_size(16)));
typedef double vd __attribute__((vector_size(16)));
typedef int vf_mask; /* the number of lanes */

static inline vf vf_set1(float x) { return (vf){x, x, x, x}; }
static inline vf vf_load(const float *p)
{
	vf r;
	memcpy(&r, p, sizeof r);
	return r;
}
static inline vf_mask vf_first(int n) { return n; }
static inline vf vf_load_masked(const float *p, vf_mask m)
{
	vf r = vf_set1(0.0f);
	memcpy(&r, p, (size_t)m * sizeof *p);
	return r;
}
static inline void vf_store(float *p, vf x) { memcpy(p, &x, sizeof x); }
static inline vf vf_add(vf a, vf b) { return a + b; }
static inline vf vf_sub(vf a, vf b) { return a - b; }
static inline vf vf_mul(vf a, vf b) { return a * b; }
/* a where a > b, else b (so b where either is NaN) */
static inline vf vf_max(vf a, vf b)
{
	const vf_i32 a_wins = a > b;
	return (vf)((a_wins & (vf_i32)a) | (~a_wins & (vf_i32)b));
}
static inline vf vf_fma(vf a, vf b, vf c)
{
	vf r;
	for (int l = 0; l < VF_LANES; l++)
		r[l] = VF_FMAF(a[l], b[l], c[l]);
	return r;
}
/* exp2_lane's steps on whole vectors. */
static inline vf vf_exp2(vf t)
{
	const vf shifter = vf_set1(0x1.8p23f);
	const vf tc = vf_max(vf_set1(EXP2_MIN), t);
	const vf kd = tc + shifter;
	const vf f = tc - (kd - shifter);
	const vf p = EXP2_ESTRIN(f, 1.0f, EXP2_C1, EXP2_C2, EXP2_C3, EXP2_C4,
				 EXP2_C5);
	const vf_u32 bits = (vf_u32)p + ((vf_u32)kd << 23);
	return (vf)(bits & ~(vf_u32)(t < vf_set1(EXP2_MIN)));
}

static inline vf vf_recip(vf a) { return 1.0f / a; }

static inline vd vd_lo(vf a)
{
	return __builtin_convertvector(__builtin_shufflevector(a, a, 0, 1), vd);
}
static inline vd vd_hi(vf a)
{
	return __builtin_convertvector(__builtin_shufflevector(a, a, 2, 3), vd);
}
static inline unsigned vf_mask_bits(vf_i32 m)
{
	return (m[0] & 1u) | (m[1] & 2u) | (m[2] & 4u) | (m[3] & 8u);
}

#endif

#ifndef VF_SCALED_EXP_OWN
/* Scaled exps (see the top): b = -(T λ rounded to a float) where
 * multiply-adds are fused, so that x λ + b is one of them; T elsewhere,
 * the exponent (x - b) λ. */
#define VF_ROW_FLOATS 1
typedef struct { vf b, low; } vf_col;
typedef struct { vf u; } vf_row;

static inline vf vf_shift_of(vf top)
{
	/* -T, T taken into [-VF_TOP_MAX, VF_TOP_MAX] (vf_max alone) */
	const vf minus_t = vf_max(vf_set1(-VF_TOP_MAX),
				  vf_sub(vf_set1(0.0f),
					 vf_max(vf_set1(-VF_TOP_MAX), top)));
	return VF_FMA ? vf_mul(minus_t, vf_set1(VF_LOG2E))
		      : vf_sub(vf_set1(0.0f), minus_t);
}
static inline vf_col vf_col_of(vf b)
{
	const vf low = VF_FMA ? vf_mul(vf_sub(vf_set1(EXP2_MIN + 1.0f), b),
				       vf_set1(1.0f / VF_LOG2E))
			      : vf_add(b, vf_set1((EXP2_MIN + 1.0f) /
						  VF_LOG2E));
	return (vf_col){b, low};
}
static inline void vf_rows_of(float *rows, int64_t n)
{
	(void)rows;
	(void)n;
}
static inline vf_row vf_row_load(const float *rows, int64_t n, int64_t j)
{
	(void)n;
	return (vf_row){vf_set1(rows[j])};
}
static inline vf scaled_exponent(vf x, vf_col col)
{
	return VF_FMA ? vf_fma(x, vf_set1(VF_LOG2E), col.b)
		      : vf_mul(vf_sub(x, col.b), vf_set1(VF_LOG2E));
}
static inline vf vf_term(vf x, vf_col col, vf_row row)
{
	return vf_mul(row.u, vf_exp2(scaled_exponent(x, col)));
}
static inline vf vf_term_add(vf sum, vf x, vf_col col, vf_row row)
{
	return vf_fma(row.u, vf_exp2(scaled_exponent(x, col)), sum);
}
#endif
#define VF_ROW_U (VF_ROW_FLOATS - 1)

/* The sum of a's lanes, pairwise: half the lanes onto the other half, and
 * again (the lanes' order of a serial sum would chain every addition). */
static inline float vf_hsum(vf a)
{
	float l[VF_LANES];
	memcpy(l, &a, sizeof l);
	for (int half = VF_LANES / 2; half > 0; half /= 2)
		for (int k = 0; k < half; k++)
			l[k] += l[k + half];
	return l[0];
}

static inline int vf_count_false(vf_i32 m, int n)
{
	return __builtin_popcount(~vf_mask_bits(m) & ((1u << n) - 1u));
}

#endif
