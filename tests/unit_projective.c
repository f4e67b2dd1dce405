/*
 * unit_projective.c - projective dependency trees (Eisner's algorithm,
 * lib/dep_projective.c, run by the chart engine of lib/chart.c) against
 * the brute-force enumerator: log Z,
 * marginals, argmax, tree counts, marginals as the gradient of log Z,
 * invariances at sizes past enumeration, goodness of fit of the sampler
 * and its purity.
 *
 * Every problem stores its scores [n, ld] with NaN in what the kernels
 * must never read: column 0, the diagonal and the padding columns
 * d >= n when ld > n. A canary after the workspace checks its size.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "unit_tree.h"

#define MAX_N 6
#define REPS 6
#define FD_H 1e-5
#define FD_TOL 1e-6
#define SEED 20240611u

/*
 * Eisner's program run by the engine, one tree at a time: the workspace
 * holds the chart and the parts [ld, ld]. Each call builds the program
 * anew, as ss_run does per element.
 */
static ssi_chart_size chart_size_of(int64_t n, int64_t ld)
{
	ssi_chart_size size;
	ssi_projective_chart_size(n, ld, &size);
	return size;
}

static size_t projective_workspace(int64_t n, int64_t ld)
{
	ssi_chart_size size = chart_size_of(n, ld);
	return ssi_align64(ssi_chart_bytes(&size)) +
	       (size_t)(ld * ld) * sizeof(double);
}

/* The chart of p in ws; parts [ld, ld] after it. */
static ssi_chart build(const ssi_tree *p, void *ws, double **parts)
{
	ssi_chart_size size = chart_size_of(p->n, p->ld);
	ssi_chart c;
	ssi_chart_init(&c, &size, p->w, SS_F64, ws);
	ssi_projective_chart(p, &c);
	*parts = (double *)((char *)ws + ssi_align64(ssi_chart_bytes(&size)));
	return c;
}

static double projective_inside(const ssi_tree *p, void *ws)
{
	double *parts;
	ssi_chart c = build(p, ws, &parts);
	return ssi_chart_inside(&c, SSI_LOG);
}

/* Marginals for h, d < n (the rest of mu untouched). */
static void projective_marginals(const ssi_tree *p, void *ws, double logz,
				 double *mu)
{
	double *parts;
	ssi_chart c = build(p, ws, &parts);
	(void)logz;
	memset(parts, 0, (size_t)(p->ld * p->ld) * sizeof *parts);
	if (ssi_chart_inside(&c, SSI_LOG) > -INFINITY)
		ssi_chart_outside(&c, parts, 0);
	for (int64_t h = 0; h < p->n; h++)
		for (int64_t d = 0; d < p->n; d++)
			mu[h * p->ld + d] = parts[h * p->ld + d];
}

static double projective_entropy(const ssi_tree *p, void *ws)
{
	double *parts;
	ssi_chart c = build(p, ws, &parts);
	if (ssi_chart_inside(&c, SSI_LOG) == -INFINITY)
		return NAN;
	return ssi_chart_outside(&c, NULL, 1);
}

/* The heads of the backtrace's parts (all -1 without a tree). */
static double walk(const ssi_tree *p, ssi_chart *c, double *parts,
		   ssi_chooser chooser, ss_rng *rng, int64_t *heads)
{
	double score;
	memset(parts, 0, (size_t)(p->ld * p->ld) * sizeof *parts);
	score = ssi_chart_backtrace(c, chooser, rng, parts);
	for (int64_t d = 0; d < p->n; d++) {
		heads[d] = -1;
		for (int64_t h = 0; h < p->n && d > 0; h++)
			if (parts[h * p->ld + d] != 0.0)
				heads[d] = h;
	}
	return score;
}

static double projective_argmax(const ssi_tree *p, void *ws, int64_t *heads)
{
	double *parts, best;
	ssi_chart c = build(p, ws, &parts);
	best = ssi_chart_inside(&c, SSI_MAX);
	if (best == -INFINITY) {
		for (int64_t d = 0; d < p->n; d++)
			heads[d] = -1;
		return best;
	}
	walk(p, &c, parts, SSI_CHOOSE_BEST, NULL, heads);
	return best;
}

static void projective_sample(const ssi_tree *p, void *ws, ss_rng *rng,
			      int64_t *heads)
{
	double *parts;
	ssi_chart c = build(p, ws, &parts);
	ssi_chart_inside(&c, SSI_LOG);
	walk(p, &c, parts, SSI_CHOOSE_SAMPLE, rng, heads);
}

/* Projective trees over n = 1 .. 6 nodes, m = n - 1 words: multi-root
 * C(3m, m) / (2m + 1), single root C(3m - 2, m - 1) / (2m - 1) (m > 0). */
static const int64_t proj_count[2][MAX_N + 1] = {
	{0, 1, 1, 3, 12, 55, 273},
	{0, 0, 1, 2, 7, 30, 143},
};

/* The score modes of unit.h, then normal scores of which some arcs are
 * 700 to 1000 lower: cells in range and out of range in one chart. */
enum { MODE_MIXED = PM_COUNT, MODE_COUNT, MODE_ZERO = -1 };

/* Beyond e^±11356 (outside for_problems): root arcs 0 and the rest +C,
 * each arc C times -1, 0 or 1, or 1e5, plus noise (C = 1.2e4, 1e5). */
enum {
	LARGE_ROOT0_12K = 100, LARGE_ROOT0_1E5, LARGE_THREE_12K,
	LARGE_THREE_1E5, LARGE_HUGE_1E5
};

static const char *mode_name(int mode)
{
	static const char *const large[] = {
		"root 0, rest +1.2e4", "root 0, rest +1e5",
		"1.2e4 x {-1, 0, 1}", "1e5 x {-1, 0, 1}", "1e5",
	};
	if (mode >= LARGE_ROOT0_12K)
		return large[mode - LARGE_ROOT0_12K];
	return mode == MODE_MIXED ? "mixed" : mode == MODE_ZERO ? "zero"
					       : problem_mode_names[mode];
}

/* The score of an arc under mode (the same for every arc). */
static double draw_score(unit_rng *r, int mode, int64_t h, int64_t d)
{
	const double noise = 2.0 * urng_uniform(r) - 1.0;

	(void)d;
	switch (mode) {
	case LARGE_ROOT0_12K:
		return (h == 0 ? 0.0 : 1.2e4) + noise;
	case LARGE_ROOT0_1E5:
		return (h == 0 ? 0.0 : 1e5) + noise;
	case LARGE_THREE_12K:
		return 1.2e4 * (double)urng_int(r, -1, 1) + noise;
	case LARGE_THREE_1E5:
		return 1e5 * (double)urng_int(r, -1, 1) + noise;
	case LARGE_HUGE_1E5:
		return 1e5 + noise;
	case PM_NORMAL:
		return 1.5 * urng_normal(r);
	case PM_SPREAD:
		return 1000.0 * urng_uniform(r) - 500.0;
	case PM_HUGE:
		return 1e4 + 2.0 * urng_uniform(r) - 1.0;
	case MODE_MIXED:
		return 1.5 * urng_normal(r) -
		       (urng_uniform(r) < 0.3 ? 700.0 + 300.0 * urng_uniform(r)
					       : 0.0);
	default:
		return 0.0;
	}
}

/* A problem of n nodes, row stride ld, scores of mode with each used arc
 * -inf with probability pinf. */
static void make(tprob *p, int64_t n, int64_t ld, int single_root, int mode,
		 double pinf, uint64_t seed)
{
	tprob_make(p, n, ld, single_root, mode, mode_name(mode), pinf, seed,
		   draw_score, projective_workspace(n, ld));
}

typedef void (*tprob_fn)(tprob *p, const tree_brute *b);

/*
 * Calls fn on random problems for n = 1 .. MAX_N, both root modes, every
 * score mode, REPS each: ld = n .. n + 3, -inf arcs in half of them.
 */
static void for_problems(uint64_t salt, tprob_fn fn)
{
	const int64_t per_n = 2 * MODE_COUNT * REPS;

	for (int64_t i = 0; i < MAX_N * per_n; i++) {
		int64_t n = 1 + i / per_n, ld = n + i % 4;
		int sr = (int)(i / (MODE_COUNT * REPS) % 2);
		int mode = (int)(i / REPS % MODE_COUNT), rep = (int)(i % REPS);
		double pinf = rep >= REPS / 2 ? 0.25 : 0.0;
		tprob p;
		tree_brute b;

		make(&p, n, ld, sr, mode, pinf,
			   salt ^ (uint64_t)i * 0x9e3779b97f4a7c15ULL);
		tree_brute_run(&b, p.w, n, ld, 1, sr);
		unit_context("%s rep %d", p.label, rep);
		fn(&p, &b);
		tprob_check_canary(&p);
		tree_brute_free(&b);
		tprob_free(&p);
	}
}

/* ---- tree counts -------------------------------------------------------- */

static void group_counts(void)
{
	unit_begin();
	for (int64_t n = 1; n <= MAX_N; n++)
		for (int sr = 0; sr < 2; sr++) {
			int64_t want = proj_count[sr][n];
			tprob p;
			tree_brute b;

			make(&p, n, n, sr, MODE_ZERO, 0.0, 1);
			tree_brute_run(&b, p.w, n, n, 1, sr);
			unit_context("%s", p.label);
			CHECK(b.all == want, "brute force: %lld trees, want %lld",
			      (long long)b.all, (long long)want);
			CHECK(b.count == want, "brute force: %lld finite",
			      (long long)b.count);
			CHECK_CLOSE_AT(projective_inside(&p.t, p.ws),
				       want ? log((double)want) : -INFINITY,
				       RTOL, "log Z with zero scores");
			tprob_check_canary(&p);
			tree_brute_free(&b);
			tprob_free(&p);
		}
	unit_end("projective: trees over n = 1..6 nodes: multi-root 1, 1, 3, 12, 55, 273, single-root 0, 1, 2, 7, 30, 143 (brute force; exp(log Z) with zero scores)");
}

/* ---- against brute force ------------------------------------------------ */

static void check_logz(tprob *p, const tree_brute *b)
{
	double logz = projective_inside(&p->t, p->ws);

	CHECK_CLOSE_AT(logz, (double)b->logz, RTOL, "log Z");
	CHECK(projective_inside(&p->t, p->ws) == logz,
	      "a second inside pass differs");
}

static void check_marginals(tprob *p, const tree_brute *b)
{
	const int64_t n = p->n, ld = p->ld;
	double *mu = malloc(sizeof *mu * (size_t)(n * ld));
	double logz = projective_inside(&p->t, p->ws);
	int untouched = 1;

	for (int64_t k = 0; k < n * ld; k++)
		mu[k] = 7.0;
	projective_marginals(&p->t, p->ws, logz, mu);
	for (int64_t h = 0; h < n; h++) {
		for (int64_t d = 0; d < n; d++)
			CHECK_CLOSE_AT(mu[h * ld + d], b->marg[h * n + d], RTOL,
				       "marginal %lld -> %lld", (long long)h,
				       (long long)d);
		for (int64_t d = n; d < ld; d++)
			untouched &= mu[h * ld + d] == 7.0;
	}
	CHECK(untouched, "marginals written in the padding columns");
	for (int64_t d = 1; d < n && b->count > 0; d++) {
		double sum = 0.0;

		for (int64_t h = 0; h < n; h++)
			sum += mu[h * ld + d];
		CHECK_CLOSE_AT(sum, 1.0, RTOL, "Σ_h P(h -> %lld)",
			       (long long)d);
	}
	free(mu);
}

static void check_argmax(tprob *p, const tree_brute *b)
{
	const int64_t n = p->n;
	int64_t *heads = malloc(sizeof *heads * (size_t)n);
	double score = projective_argmax(&p->t, p->ws, heads);

	CHECK_CLOSE_AT(score, (double)b->max, RTOL, "best score");
	if (b->count == 0)
		CHECK(heads_all_none(heads, n), "no tree, but heads are not all -1");
	else if (CHECK(tree_is_valid(heads, n, 1, p->t.single_root),
		       "the argmax is not a projective tree")) {
		CHECK_CLOSE_AT((double)tree_score(p->w, p->ld, heads, n),
			       score, RTOL, "score of the argmax tree");
		if (b->unique)
			CHECK(!memcmp(heads, b->best,
				      sizeof *heads * (size_t)n),
			      "the argmax is not the unique best tree");
	}
	free(heads);
}

/* Zero scores: every tree ties; the argmax is a tree of score 0, the
 * same one each time. */
static void check_ties(void)
{
	for (int sr = 0; sr < 2; sr++) {
		int64_t heads[MAX_N], again[MAX_N];
		tprob p;

		make(&p, MAX_N, MAX_N, sr, MODE_ZERO, 0.0, 2);
		unit_context("%s, all tied", p.label);
		CHECK(projective_argmax(&p.t, p.ws, heads) == 0.0,
		      "best score of zero scores");
		CHECK(tree_is_valid(heads, MAX_N, 1, sr), "not a tree");
		projective_argmax(&p.t, p.ws, again);
		CHECK(!memcmp(heads, again, sizeof heads),
		      "ties broken differently on a second call");
		tprob_free(&p);
	}
}

/* ---- no tree, one tree -------------------------------------------------- */

static void check_no_root_arc(int64_t n, int sr)
{
	int64_t heads[MAX_N];
	double mu[MAX_N * (MAX_N + 1)], logz;
	int zero = 1;
	tprob p;

	make(&p, n, n + 1, sr, PM_NORMAL, 0.0, 77 + (uint64_t)n);
	for (int64_t d = 1; d < n; d++)
		p.w[d] = -INFINITY;
	unit_context("%s, every root arc -inf", p.label);
	logz = projective_inside(&p.t, p.ws);
	CHECK(logz == (n == 1 && !sr ? 0.0 : -INFINITY), "log Z %g", logz);
	projective_marginals(&p.t, p.ws, logz, mu);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++)
			zero &= mu[h * (n + 1) + d] == 0.0;
	CHECK(zero, "marginals are not all zero");
	CHECK(projective_argmax(&p.t, p.ws, heads) == logz, "best score");
	if (logz == -INFINITY) {
		ss_rng rng;

		CHECK(heads_all_none(heads, n), "argmax heads are not all -1");
		ss_rng_init(&rng, SEED, 0, 0);
		heads[0] = 0;
		projective_sample(&p.t, p.ws, &rng, heads);
		CHECK(heads_all_none(heads, n), "sample heads are not all -1");
	}
	tprob_check_canary(&p);
	tprob_free(&p);
}

/* Only the chain 0 -> 1 -> ... -> n-1 allowed, scores over ±500. */
static void check_chain(int64_t n, int sr)
{
	int64_t *heads = malloc(sizeof *heads * (size_t)n);
	double *mu = calloc((size_t)(n * n), sizeof *mu), want = 0.0, logz;
	int ok = 1, is_chain = 1;
	ss_rng rng;
	tprob p;

	make(&p, n, n, sr, PM_SPREAD, 0.0, 5 + (uint64_t)n);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 1; d < n; d++)
			if (d != h && d != h + 1)
				p.w[h * n + d] = -INFINITY;
	for (int64_t d = 1; d < n; d++)
		want += p.w[(d - 1) * n + d];
	unit_context("%s, only the chain", p.label);
	logz = projective_inside(&p.t, p.ws);
	CHECK_CLOSE_AT(logz, want, RTOL, "log Z");
	projective_marginals(&p.t, p.ws, logz, mu);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++)
			ok &= unit_close(mu[h * n + d], d == h + 1, RTOL);
	CHECK(ok, "marginals are not the chain's indicator");
	CHECK_CLOSE_AT(projective_argmax(&p.t, p.ws, heads), want, RTOL,
		       "best score");
	for (int64_t d = 1; d < n; d++)
		is_chain &= heads[d] == d - 1;
	CHECK(heads[0] == -1 && is_chain, "argmax is not the chain");
	ss_rng_init(&rng, SEED, 1, 2);
	projective_sample(&p.t, p.ws, &rng, heads);
	for (int64_t d = 1; d < n; d++)
		is_chain &= heads[d] == d - 1;
	CHECK(heads[0] == -1 && is_chain, "sample is not the chain");
	tprob_check_canary(&p);
	tprob_free(&p);
	free(mu);
	free(heads);
}

static void group_edges(void)
{
	unit_begin();
	for (int64_t n = 1; n <= MAX_N; n++)
		for (int sr = 0; sr < 2; sr++)
			check_no_root_arc(n, sr);
	unit_end("projective: every root arc -inf: log Z -inf (n = 1: 0 multi-root, -inf single-root), marginals 0, score -inf, heads -1");

	unit_begin();
	for (int64_t n = 2; n <= 40; n += 19)
		for (int sr = 0; sr < 2; sr++)
			check_chain(n, sr);
	unit_end("projective: one allowed tree (a chain, scores over ±500, n = 2, 21, 40): log Z its score, marginals its indicator, argmax and sample it");
}

/* ---- a plain reference for sizes past enumeration ----------------------- */

/* ⊕ of x and y: logsumexp (max = 0) or max, in long double. */
static long double ref_plus(long double x, long double y, int max)
{
	long double m = x > y ? x : y;

	if (max || m == -INFINITY)
		return m;
	return m + logl(expl(x - m) + expl(y - m));
}

/*
 * The same recurrences written out plainly, chi2_cell by chi2_cell in long double,
 * [s][t] charts: log Z (or the best score when max) over the projective
 * trees of the kind.
 */
static double ref_eisner(const double *w, int64_t n, int64_t ld, int sr,
			 int max)
{
	long double *cr = malloc(sizeof *cr * (size_t)(4 * n * n));
	long double *cl = cr + n * n, *ir = cl + n * n, *il = ir + n * n;
	long double z;

	for (int64_t k = 0; k < 4 * n * n; k++)
		cr[k] = -INFINITY;
	for (int64_t s = 0; s < n; s++)
		cr[s * n + s] = cl[s * n + s] = 0;
	for (int64_t t = 1; t < n; t++)
		for (int64_t s = t - 1; s >= 0; s--) {
			long double sum = -INFINITY, c = -INFINITY;

			for (int64_t r = s; r < t; r++) {
				long double x = cr[s * n + r] +
						cl[(r + 1) * n + t];

				if (!(sr && s == 0 && r > 0))
					sum = ref_plus(sum, x, max);
			}
			ir[s * n + t] = w[s * ld + t] + sum;
			il[s * n + t] = s ? w[t * ld + s] + sum : -INFINITY;
			for (int64_t r = s + 1; r <= t; r++)
				c = ref_plus(c, ir[s * n + r] + cr[r * n + t],
					     max);
			cr[s * n + t] = c;
			c = -INFINITY;
			for (int64_t r = s; r < t; r++)
				c = ref_plus(c, cl[s * n + r] + il[r * n + t],
					     max);
			cl[s * n + t] = c;
		}
	z = n == 1 && sr ? -INFINITY : cr[n - 1];
	free(cr);
	return (double)z;
}

static void group_reference(void)
{
	unit_begin();
	for (int64_t n = 7; n <= 30; n += 1)
		for (int i = 0; i < 2 * MODE_COUNT; i++) {
			int sr = i % 2, mode = i / 2;
			int64_t *heads = malloc(sizeof *heads * (size_t)n);
			double best;
			tprob p;

			make(&p, n, n + (int64_t)i % 3, sr, mode,
				   n % 3 ? 0.1 : 0.0,
				   600 + (uint64_t)(n * 16 + i));
			unit_context("%s", p.label);
			CHECK_CLOSE_AT(projective_inside(&p.t, p.ws),
				       ref_eisner(p.w, n, p.ld, sr, 0), RTOL,
				       "log Z");
			best = projective_argmax(&p.t, p.ws, heads);
			CHECK_CLOSE_AT(best, ref_eisner(p.w, n, p.ld, sr, 1),
				       RTOL, "best score");
			CHECK(tree_is_valid(heads, n, 1, sr), "argmax not a tree");
			tprob_check_canary(&p);
			tprob_free(&p);
			free(heads);
		}
	unit_end("projective: n = 7..30 (blocks of 8 spans and their remainders), every score mode: log Z and the best score = a plain long-double Eisner");
}

/* ---- gradient, invariances past enumeration ----------------------------- */

static void check_gradient(tprob *p)
{
	const int64_t n = p->n, ld = p->ld;
	double *mu = calloc((size_t)(n * ld), sizeof *mu);
	double logz = projective_inside(&p->t, p->ws);

	projective_marginals(&p->t, p->ws, logz, mu);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 1; d < n; d++) {
			double *x = p->w + h * ld + d, saved = *x, up, down;

			if (d == h || isinf(saved) || isinf(logz)) {
				CHECK(d == h || mu[h * ld + d] == 0.0,
				      "P(%lld -> %lld) = %g without a tree or arc",
				      (long long)h, (long long)d,
				      mu[h * ld + d]);
				continue;
			}
			*x = saved + FD_H;
			up = projective_inside(&p->t, p->ws);
			*x = saved - FD_H;
			down = projective_inside(&p->t, p->ws);
			*x = saved;
			CHECK_CLOSE_AT((up - down) / (2 * FD_H), mu[h * ld + d],
				       FD_TOL, "d log Z / d w[%lld, %lld]",
				       (long long)h, (long long)d);
		}
	free(mu);
}

static void group_gradient(void)
{
	static const int64_t sizes[] = {2, 3, 5, 8, 13, 21};

	unit_begin();
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
		for (int i = 0; i < 6; i++) {
			static const int modes[] = {PM_NORMAL, MODE_MIXED,
						    PM_SPREAD};
			int sr = i % 2, mode = modes[i / 2];
			tprob p;

			make(&p, sizes[k], sizes[k] + (int64_t)k % 2, sr,
				   mode, 0.1, 900 + k * 8 + (uint64_t)i);
			unit_context("%s", p.label);
			check_gradient(&p);
			tprob_check_canary(&p);
			tprob_free(&p);
		}
	unit_end("projective: marginals = d log Z / d w by central differences (h = %g, tol %g), n up to 21, normal / mixed / ±500 scores, some arcs -inf",
		 FD_H, FD_TOL);
}

/* Sizes past enumeration: log Z(w + c) = log Z(w) + (n - 1) c with the
 * marginals unchanged, Σ_h P(h -> d) = 1, max <= log Z <= max + log
 * #trees, and the argmax a projective tree of the score returned. */
static void check_invariances(tprob *p)
{
	const int64_t n = p->n, nn = n * n;
	const double c = 1e4;
	double *mu = malloc(sizeof *mu * (size_t)nn);
	double *mu2 = malloc(sizeof *mu2 * (size_t)nn);
	int64_t *heads = malloc(sizeof *heads * (size_t)n);
	double logz, logz2, best, err = 0.0;

	logz = projective_inside(&p->t, p->ws);
	projective_marginals(&p->t, p->ws, logz, mu);
	best = projective_argmax(&p->t, p->ws, heads);
	/* #trees < 7^n */
	CHECK(isfinite(logz) && best <= logz &&
		      logz <= best + (double)n * log(7.0),
	      "max %.17g, log Z %.17g", best, logz);
	CHECK(tree_is_valid(heads, n, 1, p->t.single_root),
	      "argmax is not a projective tree");
	CHECK_CLOSE_AT((double)tree_score(p->w, n, heads, n), best, RTOL,
		       "argmax score");
	for (int64_t d = 1; d < n; d++) {
		double sum = 0.0;

		for (int64_t h = 0; h < n; h++)
			sum += mu[h * n + d];
		CHECK_CLOSE_AT(sum, 1.0, RTOL, "Σ_h P(h -> %lld)",
			       (long long)d);
	}
	for (int64_t x = 0; x < nn; x++)
		p->w[x] += c;
	logz2 = projective_inside(&p->t, p->ws);
	CHECK_CLOSE_AT(logz2, logz + (double)(n - 1) * c, RTOL,
		       "log Z with every arc + 1e4");
	projective_marginals(&p->t, p->ws, logz2, mu2);
	for (int64_t x = 0; x < nn; x++)
		err = fmax(err, fabs(mu2[x] - mu[x]));
	CHECK(err <= 1e-9, "marginals move by %g with every arc + 1e4", err);
	free(mu);
	free(mu2);
	free(heads);
}

static void group_invariances(void)
{
	static const int64_t sizes[] = {17, 48, 96};
	static const int modes[] = {PM_NORMAL, PM_SPREAD, MODE_MIXED};

	unit_begin();
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
		for (int i = 0; i < 6; i++) {
			tprob p;

			make(&p, sizes[k], sizes[k], i % 2, modes[i / 2],
				   0.05, 300 + k * 8 + (uint64_t)i);
			unit_context("%s", p.label);
			check_invariances(&p);
			tprob_check_canary(&p);
			tprob_free(&p);
		}
	unit_end("projective: n = 17, 48, 96, normal / ±500 / mixed: log Z(w + 1e4) = log Z(w) + (n-1) 1e4 with the marginals unchanged and summing to one per dependent, max <= log Z, argmax a tree of its score");
}

/* ---- sampling ----------------------------------------------------------- */

/* A sample depends on its rng stream only: not on the samples before it,
 * nor on argmax or marginals run in between; seeds matter. */
static void check_purity(tprob *p)
{
	enum { CMP = 200 };
	const int64_t n = p->n;
	int64_t *first = malloc(sizeof *first * (size_t)(n * CMP));
	int64_t heads[MAX_N], other[MAX_N];
	double *mu = malloc(sizeof *mu * (size_t)(n * p->ld));
	double logz = projective_inside(&p->t, p->ws);
	int same = 1, differs = 0;
	ss_rng rng;

	for (int64_t s = 0; s < CMP; s++) {
		ss_rng_init(&rng, SEED, 9, s);
		projective_sample(&p->t, p->ws, &rng, first + s * n);
	}
	projective_argmax(&p->t, p->ws, heads);
	projective_marginals(&p->t, p->ws, logz, mu);
	for (int64_t s = CMP - 1; s >= 0; s--) {
		ss_rng_init(&rng, SEED, 9, s);
		projective_sample(&p->t, p->ws, &rng, heads);
		same &= !memcmp(heads, first + s * n,
				sizeof *heads * (size_t)n);
		ss_rng_init(&rng, SEED + 1, 9, s);
		projective_sample(&p->t, p->ws, &rng, other);
		differs |= !!memcmp(heads, other, sizeof *heads * (size_t)n);
	}
	CHECK(same, "a stream gave another sample (in reverse order, after argmax and marginals)");
	CHECK(differs, "seeds %u and %u gave the same %d samples", SEED,
	      SEED + 1, CMP);
	free(first);
	free(mu);
}

/* Past enumeration: over TREE_FIT_DRAWS samples the frequency of every arc is
 * within 5 standard errors of its marginal. */
static void check_frequencies(tprob *p)
{
	const int64_t n = p->n, ld = p->ld;
	double *mu = malloc(sizeof *mu * (size_t)(n * ld));
	long *seen = calloc((size_t)(n * n), sizeof *seen);
	int64_t *heads = malloc(sizeof *heads * (size_t)n);
	double logz = projective_inside(&p->t, p->ws), worst = 0.0;
	long bad = 0;

	projective_marginals(&p->t, p->ws, logz, mu);
	for (int64_t s = 0; s < TREE_FIT_DRAWS; s++) {
		ss_rng rng;

		ss_rng_init(&rng, SEED, 4, s);
		projective_sample(&p->t, p->ws, &rng, heads);
		if (!tree_is_valid(heads, n, 1, p->t.single_root)) {
			bad++;
			continue;
		}
		for (int64_t d = 1; d < n; d++)
			seen[heads[d] * n + d]++;
	}
	CHECK(bad == 0, "%ld samples are not projective trees", bad);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 1; d < n; d++) {
			double m = mu[h * ld + d];
			double f = (double)seen[h * n + d] / TREE_FIT_DRAWS;
			double se = sqrt(m * (1.0 - m) / TREE_FIT_DRAWS) + 1e-12;

			worst = fmax(worst, fabs(f - m) / se);
			CHECK(fabs(f - m) <= 5.0 * se,
			      "arc %lld -> %lld drawn %.5f of the time, P = %.5f",
			      (long long)h, (long long)d, f, m);
		}
	unit_note("%s: largest |freq - P| %.2f standard errors", p->label,
		  worst);
	free(mu);
	free(seen);
	free(heads);
}

static void group_sample(void)
{
	for (int64_t n = 4; n <= 5; n++)
		for (int sr = 0; sr < 2; sr++) {
			const char *root = sr ? "single-root" : "multi-root";
			tprob p;
			tree_brute b;

			make(&p, n, n + 1, sr, PM_NORMAL, 0.0,
				   4242 + (uint64_t)(n * 2 + sr));
			p.w[(n - 1) * p.ld + 1] = -INFINITY; /* no n-1 -> 1 */
			tree_brute_run(&b, p.w, n, p.ld, 1, sr);

			unit_begin();
			unit_context("%s", p.label);
			tree_check_fit(&p.t, p.ws, projective_inside(&p.t, p.ws),
				       projective_sample, SEED, &b, p.label);
			tprob_check_canary(&p);
			unit_end("projective: sample, %s, n = %lld: %d draws pass chi-square at 0.999 against the %lld enumerated trees; score - log Z = brute-force log-prob",
				 root, (long long)n, TREE_FIT_DRAWS, (long long)b.count);

			unit_begin();
			unit_context("%s", p.label);
			check_purity(&p);
			unit_end("projective: sample, %s, n = %lld: a pure function of the rng stream (any order, after argmax and marginals); seeds matter",
				 root, (long long)n);
			tree_brute_free(&b);
			tprob_free(&p);
		}
	for (int sr = 0; sr < 2; sr++) {
		tprob p;

		make(&p, 12, 13, sr, MODE_MIXED, 0.1,
			   4343 + (uint64_t)sr);
		unit_begin();
		unit_context("%s", p.label);
		check_frequencies(&p);
		tprob_check_canary(&p);
		unit_end("projective: sample, %s, n = 12, mixed scores: each arc's frequency in %d draws within 5 standard errors of its marginal",
			 sr ? "single-root" : "multi-root", TREE_FIT_DRAWS);
		tprob_free(&p);
	}
}

/* ---- scores beyond long double's range ------------------------------------ */

/* log Z, marginals, argmax and entropy against brute force. */
static void check_large(tprob *p, const tree_brute *b)
{
	const int64_t n = p->n, ld = p->ld;
	double *mu = malloc(sizeof *mu * (size_t)(n * ld)), logz;

	check_logz(p, b);
	check_marginals(p, b);
	check_argmax(p, b);
	logz = projective_inside(&p->t, p->ws);
	if (logz != -INFINITY) {
		projective_marginals(&p->t, p->ws, logz, mu);
		CHECK_CLOSE_AT(projective_entropy(&p->t, p->ws), b->entropy,
			       RTOL, "entropy");
	}
	free(mu);
}

static void group_large_scale(void)
{
	static const int modes[] = {LARGE_ROOT0_12K, LARGE_ROOT0_1E5,
				    LARGE_THREE_12K, LARGE_THREE_1E5,
				    LARGE_HUGE_1E5};

	unit_begin();
	for (int64_t n = 1; n <= MAX_N; n++)
		for (int sr = 0; sr < 2; sr++)
			for (int m = 0; m < 5; m++)
				for (int rep = 0; rep < 4; rep++) {
					tprob p;
					tree_brute b;

					make(&p, n, n + rep % 2, sr, modes[m],
					     rep >= 2 ? 0.25 : 0.0,
					     0x1004 ^ (uint64_t)(((n * 2 + sr) * 8 + m) * 4 + rep) *
							      0x9e3779b97f4a7c15ULL);
					tree_brute_run(&b, p.w, n, p.ld, 1, sr);
					unit_context("%s rep %d", p.label, rep);
					check_large(&p, &b);
					tprob_check_canary(&p);
					tree_brute_free(&b);
					tprob_free(&p);
				}
	unit_end("projective: log Z, marginals, argmax and entropy = brute force at scores beyond long double's range (root 0 / rest +C, C times -1, 0 or 1, for C = 1.2e4 and 1e5; 1e5), n = 1..6, both root modes, with and without -inf arcs (240 problems)");

	for (int64_t n = 4; n <= 5; n++)
		for (int sr = 0; sr < 2; sr++)
			for (int m = 0; m < 2; m++) {
				tprob p;
				tree_brute b;

				make(&p, n, n, sr, modes[m], 0.0,
				     4545 + (uint64_t)(n * 4 + sr * 2 + m));
				tree_brute_run(&b, p.w, n, n, 1, sr);
				unit_begin();
				unit_context("%s", p.label);
				tree_check_fit(&p.t, p.ws, projective_inside(&p.t, p.ws),
					       projective_sample, SEED, &b, p.label);
				tprob_check_canary(&p);
				unit_end("projective: sample, %s, n = %lld, %s: %d draws fit brute force, log-probs exact",
					 sr ? "single-root" : "multi-root", (long long)n,
					 mode_name(modes[m]), TREE_FIT_DRAWS);
				tree_brute_free(&b);
				tprob_free(&p);
			}
}

void suite_projective(void)
{
	group_counts();

	unit_begin();
	for_problems(0x1001, check_logz);
	unit_end("projective: log Z = brute force, n = 1..6, multi and single root, normal / ±500 / 1e4 / mixed scores, -inf arcs, ld > n, NaN where unread");

	unit_begin();
	for_problems(0x1002, check_marginals);
	unit_end("projective: every marginal = brute force, Σ_h P(h -> d) = 1, padding untouched");

	unit_begin();
	for_problems(0x1003, check_argmax);
	check_ties();
	unit_end("projective: argmax score = brute-force max, a projective tree of that score, the unique best when unique; ties broken the same way twice");

	group_edges();
	group_reference();
	group_gradient();
	group_invariances();
	group_sample();
	group_large_scale();
}
