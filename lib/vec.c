/*
 * vec.c - elementwise kernels over rows of values, compiled once per
 * instruction set like lib/chart.c and, like it, without trapping math:
 * they read no floating-point flags, so GCC turns their guarded selects
 * into vector blends.
 *
 *   ssi_find_bad      the first NaN or +inf of a row (input validation)
 *   ssi_exp_shifted   a row of weights exp(w - m), exact to an ulp (a
 *                     non-projective tree's, lib/dep_nonprojective.c)
 *   ssi_logsumexp     log Σ exp of a row (a log-softmax's normaliser)
 */
#include "internal.h"

/* Values scanned per block before looking for where a bad one is. */
#define SCAN_BLOCK 256

/* x[k] of doubles, or of floats where f32: inlined with f32 a constant. */
static inline __attribute__((always_inline)) double
value_at(const void *x, int64_t k, int f32)
{
	return f32 ? (double)((const float *)x)[k] : ((const double *)x)[k];
}

/* The first NaN or +inf among n values, doubles or floats; -1 if none. A
 * block at a time in vectors, then where in it. */
static inline __attribute__((always_inline)) int64_t
find_bad(const void *x, int64_t n, int f32)
{
	for (int64_t k0 = 0; k0 < n; k0 += SCAN_BLOCK) {
		const int64_t end = k0 + SCAN_BLOCK < n ? k0 + SCAN_BLOCK : n;
		int bad = 0;
		/* NaN and +inf are the values not below +inf; floats are
		 * compared as floats, 16 to a 512-bit vector. */
		if (f32) {
			const float *xf = (const float *)x;
			#pragma omp simd reduction(|:bad)
			for (int64_t k = k0; k < end; k++)
				bad |= !(xf[k] < INFINITY);
		} else {
			const double *xd = (const double *)x;
			#pragma omp simd reduction(|:bad)
			for (int64_t k = k0; k < end; k++)
				bad |= !(xd[k] < INFINITY);
		}
		for (int64_t k = k0; bad && k < end; k++)
			if (ssi_bad_value(value_at(x, k, f32)))
				return k;
	}
	return -1;
}

int64_t SSI_KERNEL(ssi_find_bad)(const double *x, int64_t n)
{
	return find_bad(x, n, 0);
}

int64_t SSI_KERNEL(ssi_find_bad_f32)(const float *x, int64_t n)
{
	return find_bad(x, n, 1);
}

/* Weights per block of exp_shifted_block: whole vectors (a row's last
 * block moved back to end at n), with no scalar remainder loop, whose
 * exps would cost as much as the vectors'. */
#define EXP_BLOCK 8

/* a[d] for d0 <= d < d0 + lanes, as ssi_exp_shifted says; inlined with
 * lanes a constant. */
static inline __attribute__((always_inline)) void
exp_shifted_block(const double *w, const double *m, int64_t d0, int lanes,
		  int64_t skip, double *a)
{
	#pragma omp simd
	for (int64_t d = d0; d < d0 + lanes; d++)
		a[d] = ssi_exp_shifted_at(w, m, d, skip);
}

/* a[d] = ssi_exp_shifted_at(w, m, d, skip) for 1 <= d < n, a[0] = 0.
 * Returns 1 where some finite w[d] (d != skip) is at least 700 below
 * m[d], out of double's safe reach; else 0. The caller clears the flags
 * this raises. */
int SSI_KERNEL(ssi_exp_shifted)(const double *w, const double *m, int64_t n,
				int64_t skip, double *a)
{
	int deep = 0;
	int64_t d0 = 1;
	a[0] = 0.0;
	if (n - 1 < EXP_BLOCK) {
		for (; d0 < n; d0++)
			exp_shifted_block(w, m, d0, 1, skip, a);
	} else {
		for (; d0 + EXP_BLOCK <= n; d0 += EXP_BLOCK)
			exp_shifted_block(w, m, d0, EXP_BLOCK, skip, a);
		if (d0 < n)
			exp_shifted_block(w, m, n - EXP_BLOCK, EXP_BLOCK, skip, a);
	}
	#pragma omp simd reduction(|:deep)
	for (int64_t d = 1; d < n; d++)
		deep |= (w[d] - m[d] <= -700.0) & (w[d] > -INFINITY) & (d != skip);
	return deep;
}

/* log Σ_k exp(x[k]) over n values without NaN or +inf (-inf if all are
 * -inf): the largest as the shift, the exps summed in vector lanes. */
double SSI_KERNEL(ssi_logsumexp)(const double *x, int64_t n)
{
	double m = -INFINITY, sum = 0.0;
	#pragma omp simd reduction(max:m)
	for (int64_t k = 0; k < n; k++)
		m = x[k] > m ? x[k] : m;
	if (m == -INFINITY)
		return -INFINITY;
	#pragma omp simd reduction(+:sum)
	for (int64_t k = 0; k < n; k++)
		sum += ssi_exp(x[k] - m);
	return m + log(sum);
}
