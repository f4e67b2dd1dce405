/*
 * rng.c - counter-based random numbers.
 *
 * The stream of sample s of batch element b under seed is
 *   key = mix64(mix64(mix64(seed + γ) ^ (b + γ)) ^ (s + 2γ))
 *   u_k = (mix64(key + k·γ) >> 11) · 2^-53     (k = 1, 2, ...)
 * with mix64 the SplitMix64 finaliser (Steele, Lea and Flood 2014) and γ
 * its odd increment, golden_gamma. Every draw is a pure function of (seed, b, s, k), so the
 * bytes of a sample do not depend on threads, chunks or other samples.
 */
#include "synstruct.h"

static const uint64_t golden_gamma = 0x9e3779b97f4a7c15ULL;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void ss_rng_init(ss_rng *rng, uint64_t seed, int64_t element, int64_t sample)
{
	uint64_t key = mix64(seed + golden_gamma);
	key = mix64(key ^ ((uint64_t)element + golden_gamma));
	key = mix64(key ^ ((uint64_t)sample + 2 * golden_gamma));
	rng->key = key;
	rng->counter = 0;
}

double ss_rng_uniform(ss_rng *rng)
{
	uint64_t z = mix64(rng->key + ++rng->counter * golden_gamma);
	return (double)(z >> 11) * 0x1.0p-53;
}
