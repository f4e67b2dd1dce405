/*
 * simd.h - vectors of floats for the float kernels of lib/chart.c, which
 * is compiled once per instruction set (lib/isa.c): 16 lanes under
 * AVX-512, 8 under AVX2 with FMA, 4 in portable C elsewhere (GCC maps
 * those onto SSE2 or NEON where it can). Only what the kernels need:
 * loads of a row's first n lanes, subtract, multiply, max, fused
 * multiply-add, and 2^t.
 *
 *   vf_exp2(t)   2^t for t <= 127 (2^-126 below -126 and at -inf; 0
 *                in portable C): t = k + f, k an integer, |f| <= 1/2;
 *                2^f by a polynomial of degree 5 fitted to the relative
 *                error (at most 9.2e-8 exact, 1.9e-7 evaluated in
 *                floats: about 3 ulps), 2^k put into the exponent.
 *                Eleven vector operations under AVX2, nine under
 *                AVX-512.
 */
#ifndef SYNSTRUCT_SIMD_H
#define SYNSTRUCT_SIMD_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

/* The polynomial of vf_exp2: 2^f ≈ 1 + f (c1 + f (c2 + ... f c5)). */
#define EXP2_C1 6.931470037e-01f
#define EXP2_C2 2.402224243e-01f
#define EXP2_C3 5.550733581e-02f
#define EXP2_C4 9.671512991e-03f
#define EXP2_C5 1.326472731e-03f
#define EXP2_MIN -126.0f
/* The polynomial in vectors, by Horner's rule (f a variable). */
#define EXP2_POLY(f)                                                       \
	vf_fma(vf_fma(vf_fma(vf_fma(vf_fma(vf_set1(EXP2_C5), (f),          \
					   vf_set1(EXP2_C4)),              \
				    (f), vf_set1(EXP2_C3)),                \
			     (f), vf_set1(EXP2_C2)),                       \
		      (f), vf_set1(EXP2_C1)),                              \
	       (f), vf_set1(1.0f))

#if defined(__FMA__) || defined(__aarch64__)
#define VF_FMAF(a, b, c) fmaf((a), (b), (c))
#else
#define VF_FMAF(a, b, c) ((a) * (b) + (c))
#endif

/* vf_exp2 of one float, for loops GCC vectorises itself, but 0 below
 * -126 (and at -inf): an impossible part's marginal is 0. */
static inline float exp2_lane(float x)
{
	const float shifter = 0x1.8p23f;
	float kd, f, p, t = x > EXP2_MIN ? x : EXP2_MIN;
	uint32_t k, bits;
	kd = t + shifter;
	memcpy(&k, &kd, sizeof k);
	f = t - (kd - shifter);
	p = VF_FMAF(EXP2_C5, f, EXP2_C4);
	p = VF_FMAF(p, f, EXP2_C3);
	p = VF_FMAF(p, f, EXP2_C2);
	p = VF_FMAF(p, f, EXP2_C1);
	p = VF_FMAF(p, f, 1.0f);
	memcpy(&bits, &p, sizeof bits);
	bits += k << 23;
	memcpy(&p, &bits, sizeof p);
	return x < EXP2_MIN ? 0.0f : p;
}

#if defined(__AVX512F__)

#define VF_LANES 16
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
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vf_exp2(vf t)
{
	t = _mm512_max_ps(t, vf_set1(EXP2_MIN));
	vf k = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT |
					   _MM_FROUND_NO_EXC);
	const vf f = _mm512_sub_ps(t, k);
	return _mm512_scalef_ps(EXP2_POLY(f), k);
}

#elif defined(__AVX2__) && defined(__FMA__)

#define VF_LANES 8
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
static inline vf vf_sub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm256_max_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
/* k by the shifter: t + 1.5 2^23 holds round(t) in its low bits. */
static inline vf vf_exp2(vf t)
{
	const vf shifter = vf_set1(0x1.8p23f);
	t = _mm256_max_ps(t, vf_set1(EXP2_MIN));
	vf kd = _mm256_add_ps(t, shifter);
	__m256i k = _mm256_slli_epi32(_mm256_castps_si256(kd), 23);
	const vf f = _mm256_sub_ps(t, _mm256_sub_ps(kd, shifter));
	const vf p = EXP2_POLY(f);
	return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), k));
}

#else

#define VF_LANES 4
typedef struct vf { float l[VF_LANES]; } vf;
typedef int vf_mask; /* the number of lanes */

static inline vf vf_set1(float x)
{
	vf r;
	for (int l = 0; l < VF_LANES; l++)
		r.l[l] = x;
	return r;
}
static inline vf vf_load(const float *p)
{
	vf r;
	memcpy(r.l, p, sizeof r.l);
	return r;
}
static inline vf_mask vf_first(int n) { return n; }
static inline vf vf_load_masked(const float *p, vf_mask m)
{
	vf r = vf_set1(0.0f);
	memcpy(r.l, p, (size_t)m * sizeof *p);
	return r;
}
static inline void vf_store(float *p, vf x) { memcpy(p, x.l, sizeof x.l); }
#define VF_MAP(expr)                                \
	vf r;                                       \
	for (int l = 0; l < VF_LANES; l++)          \
		r.l[l] = (expr);                    \
	return r
static inline vf vf_sub(vf a, vf b) { VF_MAP(a.l[l] - b.l[l]); }
static inline vf vf_mul(vf a, vf b) { VF_MAP(a.l[l] * b.l[l]); }
static inline vf vf_max(vf a, vf b) { VF_MAP(a.l[l] > b.l[l] ? a.l[l] : b.l[l]); }
static inline vf vf_fma(vf a, vf b, vf c) { VF_MAP(VF_FMAF(a.l[l], b.l[l], c.l[l])); }
static inline vf vf_exp2(vf t) { VF_MAP(exp2_lane(t.l[l])); }
#undef VF_MAP

#endif

#endif
