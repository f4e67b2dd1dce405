/*
 * unit_nonprojective.c - non-projective dependency trees
 * (lib/dep_nonprojective.c: Matrix-Tree Theorem by GTH elimination,
 * Chu-Liu-Edmonds, the sequential sampler) against the brute-force
 * enumerator: tree counts (Cayley), log Z, marginals, argmax, marginals as
 * the gradient of log Z, adversarial magnitudes, goodness of fit of the
 * sampler and its purity.
 *
 * Every problem stores its scores [n, ld] with NaN in what the kernels
 * must never read: column 0, the diagonal and the padding columns
 * d >= n when ld > n. A canary after the workspace checks its size.
 */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "unit_tree.h"

#define MAX_N 8
#define REPS 6
#define FD_H 1e-5
#define FD_TOL 1e-6
#define SEED 20240612u

/* Score modes beyond problem_mode: */
enum {
	NM_ZERO = PM_COUNT, /* all zero */
	NM_ADVERSE,         /* root arcs -500, the rest +500 */
	NM_INVERSE,         /* root arcs +500, the rest -500 */
	NM_BIMODAL,         /* each arc -500 or +500, plus noise */
	NM_PAIRS,           /* mutual best arcs 2k-1 <-> 2k at +500, rest -500 */
	NM_NEG_HUGE,        /* -1e4 + noise */
	NM_SPREAD300,       /* uniform in [-300, 300]: double underflows */
	/* Beyond e^±11356, where an 80-bit long double ends: C = 1.2e4 and
	 * C = 1e5, each arc's score C times a small integer plus noise. */
	NM_ADVERSE_12K,     /* root arcs 0, the rest +1.2e4 */
	NM_INVERSE_12K,     /* root arcs +1.2e4, the rest -1.2e4 */
	NM_THREE_12K,       /* each arc +1.2e4, 0 or -1.2e4 */
	NM_PAIRS_12K,       /* pairs as NM_PAIRS at +1.2e4, the rest 0 */
	NM_ADVERSE_1E5,     /* root arcs 0, the rest +1e5 */
	NM_INVERSE_1E5,     /* root arcs +1e5, the rest -1e5 */
	NM_THREE_1E5,       /* each arc +1e5, 0 or -1e5 */
	NM_SPREAD_1E5,      /* uniform in [-1e5, 1e5] */
	NM_HUGE_1E5,        /* 1e5 + noise */
	NM_COUNT
};

/* The seeds of the groups older than the large-scale modes were drawn
 * with 10 modes: keep them. */
#define SEED_MODES 10

static const char *const mode_names[NM_COUNT] = {
	[PM_NORMAL] = "normal", [PM_SPREAD] = "spread ±500",
	[PM_HUGE] = "1e4", [NM_ZERO] = "zero",
	[NM_ADVERSE] = "root -500, rest +500",
	[NM_INVERSE] = "root +500, rest -500",
	[NM_BIMODAL] = "bimodal ±500", [NM_PAIRS] = "pairs +500",
	[NM_NEG_HUGE] = "-1e4", [NM_SPREAD300] = "spread ±300",
	[NM_ADVERSE_12K] = "root 0, rest +1.2e4",
	[NM_INVERSE_12K] = "root +1.2e4, rest -1.2e4",
	[NM_THREE_12K] = "each arc +1.2e4, 0 or -1.2e4",
	[NM_PAIRS_12K] = "pairs +1.2e4, rest 0",
	[NM_ADVERSE_1E5] = "root 0, rest +1e5",
	[NM_INVERSE_1E5] = "root +1e5, rest -1e5",
	[NM_THREE_1E5] = "each arc +1e5, 0 or -1e5",
	[NM_SPREAD_1E5] = "spread ±1e5", [NM_HUGE_1E5] = "1e5",
};

static double draw_score(unit_rng *r, int mode, int64_t h, int64_t d)
{
	double noise = 2.0 * urng_uniform(r) - 1.0;

	switch (mode) {
	case PM_NORMAL:
		return 1.5 * urng_normal(r);
	case PM_SPREAD:
		return 1000.0 * urng_uniform(r) - 500.0;
	case PM_HUGE:
		return 1e4 + noise;
	case NM_ADVERSE:
		return (h == 0 ? -500.0 : 500.0) + noise;
	case NM_INVERSE:
		return (h == 0 ? 500.0 : -500.0) + noise;
	case NM_BIMODAL:
		return (urng_uniform(r) < 0.5 ? -500.0 : 500.0) + noise;
	case NM_PAIRS:
		return (h > 0 && (h + 1) / 2 == (d + 1) / 2 ? 500.0 : -500.0) +
		       noise;
	case NM_NEG_HUGE:
		return -1e4 + noise;
	case NM_SPREAD300:
		return 600.0 * urng_uniform(r) - 300.0;
	case NM_ADVERSE_12K:
	case NM_ADVERSE_1E5:
		return (h == 0 ? 0.0 : mode == NM_ADVERSE_12K ? 1.2e4 : 1e5) +
		       noise;
	case NM_INVERSE_12K:
	case NM_INVERSE_1E5:
		return (h == 0 ? 1.0 : -1.0) *
			       (mode == NM_INVERSE_12K ? 1.2e4 : 1e5) + noise;
	case NM_THREE_12K:
	case NM_THREE_1E5:
		return (double)urng_int(r, -1, 1) *
			       (mode == NM_THREE_12K ? 1.2e4 : 1e5) + noise;
	case NM_PAIRS_12K:
		return (h > 0 && (h + 1) / 2 == (d + 1) / 2 ? 1.2e4 : 0.0) +
		       noise;
	case NM_SPREAD_1E5:
		return 2e5 * urng_uniform(r) - 1e5;
	case NM_HUGE_1E5:
		return 1e5 + noise;
	default:
		return 0.0;
	}
}

/* A problem of n nodes, row stride ld, scores of mode with each used arc
 * -inf with probability pinf. */
static void make(tprob *p, int64_t n, int64_t ld, int single_root, int mode,
		 double pinf, uint64_t seed)
{
	tprob_make(p, n, ld, single_root, mode, mode_names[mode], pinf, seed,
		   draw_score, ssi_nonprojective_workspace(n));
}

/* ---- checks against brute force --------------------------------------- */

/* The largest deviations from brute force seen, for the notes. */
static double worst_logz, worst_mu;

static void check_logz(tprob *p, const tree_brute *b)
{
	double logz = ssi_nonprojective_log_partition(&p->t, p->ws);

	if (isfinite(logz) && isfinite((double)b->logz))
		worst_logz = fmax(worst_logz, fabs(logz - (double)b->logz) /
					      fmax(1.0, fabs((double)b->logz)));

	CHECK_CLOSE_AT(logz, (double)b->logz, RTOL, "log Z");
	CHECK(!isnan(logz), "log Z is NaN");
}

static void check_marginals(tprob *p, const tree_brute *b)
{
	const int64_t n = p->n, ld = p->ld;
	double *mu = malloc(sizeof *mu * (size_t)(n * ld));
	double logz;
	int untouched = 1;

	for (int64_t k = 0; k < n * ld; k++)
		mu[k] = 7.0;
	logz = ssi_nonprojective_marginals(&p->t, p->ws, mu);
	CHECK_CLOSE_AT(logz, (double)b->logz, RTOL, "log Z from marginals");
	for (int64_t h = 0; h < n; h++) {
		for (int64_t d = 0; d < n; d++) {
			CHECK_CLOSE_AT(mu[h * ld + d], b->marg[h * n + d], RTOL,
				       "marginal %lld -> %lld", (long long)h,
				       (long long)d);
			worst_mu = fmax(worst_mu,
					fabs(mu[h * ld + d] - b->marg[h * n + d]));
		}
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
	double score = ssi_nonprojective_argmax(&p->t, p->ws, heads), sum = 0.0;

	CHECK_CLOSE_AT(score, (double)b->max, RTOL, "best score");
	if (b->count == 0) {
		CHECK(heads_all_none(heads, n), "no tree, but heads are not all -1");
		goto done;
	}
	if (!CHECK(tree_is_valid(heads, n, 0, p->t.single_root),
		   "the argmax is not a tree of the kind"))
		goto done;
	for (int64_t d = 1; d < n; d++)
		sum += p->w[heads[d] * p->ld + d];
	CHECK(sum == score,
	      "the returned score %.17g is not the sum of the tree's arcs %.17g",
	      score, sum);
	if (b->unique)
		CHECK(!memcmp(heads, b->best, sizeof *heads * (size_t)n),
		      "the argmax differs from the unique best tree");
done:
	free(heads);
}

static void check_all(tprob *p, const tree_brute *b)
{
	check_logz(p, b);
	check_marginals(p, b);
	check_argmax(p, b);
}

/* Runs fn on REPS random problems for each n = 1 .. nmax, both root
 * modes, each mode of modes[]; ld = n .. n + 3, -inf arcs in some. */
static void for_problems(uint64_t salt, int64_t nmax, const int *modes,
			 int n_modes, int reps, double pinf_hi,
			 void (*fn)(tprob *, const tree_brute *))
{
	for (int64_t n = 1; n <= nmax; n++)
		for (int sr = 0; sr < 2; sr++)
			for (int m = 0; m < n_modes; m++)
				for (int rep = 0; rep < reps; rep++) {
					uint64_t seed = salt ^ (uint64_t)(
						((n * 2 + sr) * SEED_MODES + modes[m]) *
							16 + rep) * 0x9e3779b97f4a7c15ULL;
					int64_t ld = n + rep % 4;
					double pinf = rep >= reps / 2 ? pinf_hi : 0.0;
					tprob p;
					tree_brute b;

					make(&p, n, ld, sr, modes[m], pinf, seed);
					tree_brute_run(&b, p.w, n, ld, 0, sr);
					unit_context("%s rep %d", p.label, rep);
					fn(&p, &b);
					tprob_check_canary(&p);
					tree_brute_free(&b);
					tprob_free(&p);
				}
}

/* ---- groups --------------------------------------------------------------- */

static void group_counts(void)
{
	unit_begin();
	for (int64_t n = 1; n <= MAX_N; n++)
		for (int sr = 0; sr < 2; sr++) {
			tprob p;
			tree_brute b;
			int64_t want = 1;
			double logz;

			/* Cayley: n^(n-2) trees rooted at 0 over n nodes;
			 * single root: (n-1)^(n-2) (n = 1: 1 and 0). */
			for (int64_t k = 0; k + 2 < n; k++)
				want *= sr ? n - 1 : n;
			if (sr && n == 1)
				want = 0;
			make(&p, n, n, sr, NM_ZERO, 0.0, 1);
			tree_brute_run(&b, p.w, n, n, 0, sr);
			unit_context("%s", p.label);
			CHECK(b.all == want, "brute force: %lld trees, want %lld",
			      (long long)b.all, (long long)want);
			logz = ssi_nonprojective_log_partition(&p.t, p.ws);
			CHECK_CLOSE_AT(logz, want ? log((double)want) : -INFINITY,
				       RTOL, "log Z with zero scores = log #trees");
			tprob_check_canary(&p);
			tree_brute_free(&b);
			tprob_free(&p);
		}
	unit_end("nonprojective: tree counts for n = 1..8 nodes, multi-root n^(n-2) and single-root (n-1)^(n-2) (Cayley), by brute force and as exp(log Z) with zero scores");
}

static void group_exact(void)
{
	static const int base[] = {PM_NORMAL, PM_SPREAD, PM_HUGE};
	static const int adverse[] = {NM_ADVERSE, NM_INVERSE, NM_BIMODAL,
				      NM_PAIRS, NM_NEG_HUGE, NM_SPREAD300};

	worst_logz = worst_mu = 0.0;
	unit_begin();
	for_problems(0x51, 6, base, 3, REPS, 0.25, check_all);
	unit_note("largest relative error of log Z %.2g, absolute of a marginal %.2g",
		  worst_logz, worst_mu);
	unit_end("nonprojective: log Z, every marginal, argmax equal brute force, n = 1..6, both root modes, normal / ±500 / 1e4 scores, some arcs -inf, ld > n, NaN where unread (216 problems)");

	worst_logz = worst_mu = 0.0;
	unit_begin();
	for_problems(0x52, 6, adverse, 6, 4, 0.3, check_all);
	unit_note("largest relative error of log Z %.2g, absolute of a marginal %.2g",
		  worst_logz, worst_mu);
	unit_end("nonprojective: the same under adversarial magnitudes: root arcs -500 and the rest +500 (and the reverse), arcs ±500 at random, mutual pairs at +500, -1e4, ±300 (double underflows mid-way), with and without -inf arcs (288 problems)");

	unit_begin();
	for_problems(0x53, 8, base, 3, 2, 0.2, check_all);
	unit_end("nonprojective: n = 7, 8 included: nested contractions in Chu-Liu-Edmonds, larger eliminations (96 problems)");
}

/*
 * Scores beyond e^±11356, where an 80-bit long double ends (the issue's
 * example: root arcs 0 and 1 <-> 2 at +12000 gave log Z = -inf). Closed
 * forms, then brute force (shifted by the best tree's score, so exact at
 * any scale), then samples.
 */
static void group_large_scale(void)
{
	static const double scales[] = {1.2e4, 1e5};
	static const int modes[] = {
		NM_ADVERSE_12K, NM_INVERSE_12K, NM_THREE_12K, NM_PAIRS_12K,
		NM_ADVERSE_1E5, NM_INVERSE_1E5, NM_THREE_1E5, NM_SPREAD_1E5,
		NM_HUGE_1E5,
	};
	static const int fit_modes[] = {NM_ADVERSE_12K, NM_PAIRS_12K,
					NM_ADVERSE_1E5};

	unit_begin();
	for (int k = 0; k < 2; k++)
		for (int sign = 0; sign < 2; sign++)
			for (int sr = 0; sr < 2; sr++) {
				const double C = sign ? -scales[k] : scales[k];
				double w[9] = {NAN, 0, 0, NAN, NAN, C, NAN, C, NAN};
				double mu[9], want_mu = sr || C > 0 ? 0.5 : 1.0;
				ssi_tree t = {w, 3, 3, sr, SSI_SAMPLER_AUTO};
				void *ws = ws_alloc(ssi_nonprojective_workspace(3));
				int64_t heads[3];
				ss_rng rng;
				/* Trees: 0 -> 1 -> 2 and 0 -> 2 -> 1 score C,
				 * 0 -> {1, 2} (multi-root) 0. */
				double want = sr ? C + log(2.0)
					    : C > 0 ? C + log(2.0 + exp(-C))
						    : log(1.0 + 2.0 * exp(C));

				unit_context("%s, root arcs 0, 1 <-> 2 at %g",
					     sr ? "single-root" : "multi-root", C);
				CHECK_CLOSE_AT(ssi_nonprojective_log_partition(&t, ws),
					       want, RTOL, "log Z");
				CHECK_CLOSE_AT(ssi_nonprojective_marginals(&t, ws, mu),
					       want, RTOL, "log Z from marginals");
				CHECK_CLOSE_AT(mu[1], want_mu, RTOL, "P(0 -> 1)");
				CHECK_CLOSE_AT(mu[5], 1.0 - want_mu, RTOL, "P(1 -> 2)");
				CHECK_CLOSE_AT(mu[7], 1.0 - want_mu, RTOL, "P(2 -> 1)");
				CHECK_CLOSE_AT(ssi_nonprojective_argmax(&t, ws, heads),
					       sr || C > 0 ? C : 0.0, RTOL, "best score");
				ss_rng_init(&rng, SEED, 0, 0);
				ssi_nonprojective_sample(&t, ws, &rng, heads);
				CHECK(tree_is_valid(heads, 3, 0, sr) &&
					      (want_mu == 1.0 ||
					       (heads[1] == 0) != (heads[2] == 0)),
				      "the sample is a tree of score C");
				free(ws);
			}
	unit_end("nonprojective: the issue's example at ±1.2e4 and ±1e5 (root arcs 0, 1 <-> 2 at C): log Z = C + log 2 (or log(1 + 2e^C)), marginals 1/2, best score, sample, both root modes");

	/* Root arcs 0 and every other arc +C: the trees with one root arc
	 * (m^(m-1) of them over m = n - 1 words) carry all the mass, each
	 * head of a node equally likely. */
	unit_begin();
	for (int k = 0; k < 2; k++)
		for (int64_t n = 3; n <= 48; n += 15)
			for (int sr = 0; sr < 2; sr++) {
				const double C = scales[k], m = (double)(n - 1);
				tprob p;
				double *mu = malloc(sizeof *mu * (size_t)(n * n));
				int64_t *heads = malloc(sizeof *heads * (size_t)n);
				int ok = 1, roots = 0;
				ss_rng rng;

				make(&p, n, n, sr, NM_ZERO, 0.0, 1);
				for (int64_t h = 0; h < n; h++)
					for (int64_t d = 1; d < n; d++)
						if (h != d)
							p.w[h * n + d] = h ? C : 0.0;
				unit_context("%s, root arcs 0, the rest %g", p.label, C);
				CHECK_CLOSE_AT(ssi_nonprojective_log_partition(&p.t, p.ws),
					       (m - 1) * (C + log(m)), RTOL, "log Z");
				CHECK_CLOSE_AT(ssi_nonprojective_marginals(&p.t, p.ws, mu),
					       (m - 1) * (C + log(m)), RTOL,
					       "log Z from marginals");
				for (int64_t h = 0; h < n; h++)
					for (int64_t d = 1; d < n; d++)
						ok &= h == d || unit_close(mu[h * n + d],
									   1.0 / m, RTOL);
				CHECK(ok, "marginals are not all 1/%g", m);
				CHECK_CLOSE_AT(ssi_nonprojective_argmax(&p.t, p.ws, heads),
					       (m - 1) * C, RTOL, "best score");
				ss_rng_init(&rng, SEED, 4, (int64_t)n);
				ssi_nonprojective_sample(&p.t, p.ws, &rng, heads);
				for (int64_t d = 1; d < n; d++)
					roots += heads[d] == 0;
				CHECK(tree_is_valid(heads, n, 0, sr) && roots == 1,
				      "the sample is a tree with one root arc");
				tprob_check_canary(&p);
				free(mu);
				free(heads);
				tprob_free(&p);
			}
	unit_end("nonprojective: root arcs 0, the rest +1.2e4 or +1e5, n = 3, 18, 33, 48: log Z = (m-1)(C + log m) over m = n - 1 words, every head of a node 1/m, best score (m-1)C, samples with one root arc");

	worst_logz = worst_mu = 0.0;
	unit_begin();
	for_problems(0x54, 6, modes, 9, 4, 0.3, check_all);
	unit_note("largest relative error of log Z %.2g, absolute of a marginal %.2g",
		  worst_logz, worst_mu);
	unit_end("nonprojective: log Z, every marginal, argmax equal brute force at scales beyond long double's range: root 0 / rest +C, root +C / rest -C, each arc +C, 0 or -C, pairs at +C, spread ±1e5, 1e5, for C = 1.2e4 and 1e5, n = 1..6, both root modes, with and without -inf arcs (432 problems)");

	for (int64_t n = 4; n <= 5; n++)
		for (int sr = 0; sr < 2; sr++)
			for (int m = 0; m < 3; m++) {
				tprob p;
				tree_brute b;

				make(&p, n, n, sr, fit_modes[m], 0.0,
				     777 + (uint64_t)(n * 8 + sr * 4 + m));
				tree_brute_run(&b, p.w, n, n, 0, sr);
				unit_begin();
				unit_context("%s", p.label);
				tree_check_fit(&p.t, p.ws,
					       ssi_nonprojective_log_partition(&p.t, p.ws),
					       ssi_nonprojective_sample, SEED, &b, p.label);
				tprob_check_canary(&p);
				unit_end("nonprojective: %lld nodes %s, %s: %d samples fit brute force, log-probs exact",
					 (long long)n, sr ? "single-root" : "multi-root",
					 mode_names[fit_modes[m]], TREE_FIT_DRAWS);
				tree_brute_free(&b);
				tprob_free(&p);
			}
}

/* The example of the issue, by hand: root arcs -500, 1 <-> 2 at +500:
 * log Z = log 2 (two trees of score 0, one of -1000), marginals 1/2. */
static void group_hand(void)
{
	unit_begin();
	for (int sr = 0; sr < 2; sr++) {
		double w[9] = {NAN, -500, -500, NAN, NAN, 500, NAN, 500, NAN};
		double mu[9];
		ssi_tree t = {w, 3, 3, sr, SSI_SAMPLER_AUTO};
		void *ws = ws_alloc(ssi_nonprojective_workspace(3));
		int64_t heads[3];
		double logz = ssi_nonprojective_log_partition(&t, ws);

		unit_context("%s", sr ? "single-root" : "multi-root");
		CHECK_CLOSE_AT(logz, log(2.0 + (sr ? 0.0 : exp(-1000.0))), RTOL,
			       "log Z");
		ssi_nonprojective_marginals(&t, ws, mu);
		CHECK_CLOSE_AT(mu[1], 0.5, RTOL, "P(0 -> 1)");
		CHECK_CLOSE_AT(mu[2], 0.5, RTOL, "P(0 -> 2)");
		CHECK_CLOSE_AT(mu[5], 0.5, RTOL, "P(1 -> 2)");
		CHECK_CLOSE_AT(mu[7], 0.5, RTOL, "P(2 -> 1)");
		CHECK_CLOSE_AT(ssi_nonprojective_argmax(&t, ws, heads), 0.0,
			       RTOL, "best score");
		CHECK(tree_is_valid(heads, 3, 0, sr) && heads[heads[1] == 0 ? 2 : 1] != 0,
		      "argmax is 0 -> 1 -> 2 or 0 -> 2 -> 1");
		free(ws);
	}
	unit_end("nonprojective: root arcs -500, 1 <-> 2 at +500: log Z = log 2, marginals 1/2, best score 0");
}

static void group_no_tree(void)
{
	unit_begin();
	for (int64_t n = 1; n <= MAX_N; n++)
		for (int sr = 0; sr < 2; sr++)
			for (int kind = 0; kind < 3; kind++) {
				tprob p;
				int64_t heads[MAX_N];
				double mu[MAX_N * (MAX_N + 1)], logz, best;
				int zero = 1;
				const char *what[] = {"every root arc -inf",
						      "node n-1 has no finite head",
						      "nodes 1 and 2 reachable only from the root"};

				if (kind == 2 && n < 3)
					continue;
				make(&p, n, n + 1, sr, PM_NORMAL, 0.0, 77 + n);
				for (int64_t d = 1; d < n; d++)
					if (kind == 0)
						p.w[d] = -INFINITY;
				for (int64_t h = 0; h < n && kind == 1; h++)
					if (h != n - 1)
						p.w[h * (n + 1) + n - 1] = -INFINITY;
				for (int64_t h = 1; h < n && kind == 2; h++) {
					if (h != 1)
						p.w[h * (n + 1) + 1] = -INFINITY;
					if (h != 2)
						p.w[h * (n + 1) + 2] = -INFINITY;
				}
				unit_context("%s, %s", p.label, what[kind]);
				logz = ssi_nonprojective_log_partition(&p.t, p.ws);
				if (kind == 2 && !sr) {
					CHECK(isfinite(logz), "multi-root log Z %g", logz);
					tprob_free(&p);
					continue;
				}
				CHECK(logz == (n == 1 && !sr ? 0.0 : -INFINITY),
				      "log Z %g", logz);
				CHECK(ssi_nonprojective_marginals(&p.t, p.ws, mu) ==
					      logz, "log Z from marginals");
				for (int64_t h = 0; h < n; h++)
					for (int64_t d = 0; d < n; d++)
						zero &= mu[h * (n + 1) + d] == 0.0;
				CHECK(zero, "marginals are not all zero");
				best = ssi_nonprojective_argmax(&p.t, p.ws, heads);
				CHECK(best == logz, "best score %g", best);
				CHECK(heads_all_none(heads, n), "heads are not all -1");
				tprob_check_canary(&p);
				tprob_free(&p);
			}
	unit_end("nonprojective: no tree (every root arc -inf; a node without a finite head; single root with two nodes only the root can head) gives log Z -inf (n = 1: 0 multi-root, -inf single-root), zero marginals, score -inf, heads -1");
}

/* All-equal scores: every tree is best. */
static void group_ties(void)
{
	static const double values[] = {0.0, 7.25, -3.0, 1e4};

	unit_begin();
	for (int64_t n = 1; n <= 40; n += n < MAX_N ? 1 : 13)
		for (int sr = 0; sr < 2; sr++)
			for (size_t v = 0; v < 4; v++)
				for (int pinf = 0; pinf < 2; pinf++) {
					tprob p;
					int64_t *heads = malloc(sizeof *heads * (size_t)n);
					double best, want;

					make(&p, n, n, sr, PM_NORMAL,
						   pinf ? 0.3 : 0.0, 3 + (uint64_t)n);
					for (int64_t h = 0; h < n; h++)
						for (int64_t d = 1; d < n; d++)
							if (h != d && !isinf(p.w[h * n + d]))
								p.w[h * n + d] = values[v];
					unit_context("%s, all arcs %g", p.label, values[v]);
					best = ssi_nonprojective_argmax(&p.t, p.ws, heads);
					if (n <= MAX_N) {
						tree_brute b;

						tree_brute_run(&b, p.w, n, n, 0, sr);
						want = (double)b.max;
						tree_brute_free(&b);
						CHECK_CLOSE_AT(best, want, RTOL, "best score");
					}
					if (best == -INFINITY) {
						CHECK(n <= MAX_N, "no tree found at n = %lld",
						      (long long)n);
						CHECK(heads_all_none(heads, n),
						      "heads not all -1");
					} else {
						CHECK(tree_is_valid(heads, n, 0, sr),
						      "the argmax is not a tree");
						CHECK_CLOSE_AT((double)tree_score(p.w, n, heads, n),
							       values[v] * (double)(n - 1),
							       RTOL, "its score");
						CHECK_CLOSE_AT(best, values[v] * (double)(n - 1),
							       RTOL, "best score");
					}
					tprob_check_canary(&p);
					free(heads);
					tprob_free(&p);
				}
	unit_end("nonprojective: ties (every finite arc equal: 0, 7.25, -3, 1e4; with and without -inf arcs; n = 1..8, 21, 34): a valid tree of the best score");
}

/* ---- finite differences ------------------------------------------------- */

static void check_gradient(tprob *p)
{
	const int64_t n = p->n, ld = p->ld;
	double *mu = calloc((size_t)(n * ld), sizeof *mu);

	ssi_nonprojective_marginals(&p->t, p->ws, mu);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 1; d < n; d++) {
			double *x = p->w + h * ld + d, saved = *x, up, down;

			if (d == h || isinf(saved))
				continue;
			*x = saved + FD_H;
			up = ssi_nonprojective_log_partition(&p->t, p->ws);
			*x = saved - FD_H;
			down = ssi_nonprojective_log_partition(&p->t, p->ws);
			*x = saved;
			CHECK_CLOSE_AT((up - down) / (2 * FD_H), mu[h * ld + d],
				       FD_TOL, "d log Z / d w[%lld, %lld]",
				       (long long)h, (long long)d);
		}
	free(mu);
}

static void group_gradient(void)
{
	static const int64_t sizes[] = {2, 3, 5, 8, 13, 21, 34};

	unit_begin();
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
		for (int sr = 0; sr < 2; sr++)
			for (int mode = 0; mode < 2; mode++) {
				tprob p;

				make(&p, sizes[k], sizes[k] + (int64_t)k % 2,
					   sr, mode ? NM_ADVERSE : PM_NORMAL, 0.1,
					   900 + k * 4 + (uint64_t)(sr * 2 + mode));
				unit_context("%s", p.label);
				check_gradient(&p);
				tprob_check_canary(&p);
				tprob_free(&p);
			}
	unit_end("nonprojective: marginals = d log Z / d w by central differences (h = %g, tol %g), n up to 34, normal and root -500 / rest +500 scores, some arcs -inf",
		 FD_H, FD_TOL);
}

/* ---- larger n: identities --------------------------------------------------- */

/* No head change of one node that keeps a tree of the kind improves the
 * argmax (a necessary condition for optimality; brute force covers the
 * rest at n <= 8). */
static int locally_optimal(const tprob *p, int64_t *heads)
{
	const int64_t n = p->n, ld = p->ld;
	const double score = (double)tree_score(p->w, ld, heads, n);

	for (int64_t d = 1; d < n; d++) {
		int64_t keep = heads[d];

		for (int64_t h = 0; h < n; h++) {
			if (h == d || h == keep)
				continue;
			heads[d] = h;
			if (tree_is_valid(heads, n, 0, p->t.single_root) &&
			    (double)tree_score(p->w, ld, heads, n) >
				    score + 1e-9 * fmax(1.0, fabs(score))) {
				heads[d] = keep;
				return 0;
			}
		}
		heads[d] = keep;
	}
	return 1;
}

static void group_scale(void)
{
	static const int64_t sizes[] = {17, 48, 96};
	static const int modes[] = {PM_NORMAL, PM_SPREAD, NM_ADVERSE, NM_PAIRS};

	unit_begin();
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
		for (int sr = 0; sr < 2; sr++)
			for (int m = 0; m < 4; m++) {
				const int64_t n = sizes[k], nn = n * n;
				const double c = 1e4;
				tprob p;
				double *mu = malloc(sizeof *mu * (size_t)nn);
				double *mu2 = malloc(sizeof *mu2 * (size_t)nn);
				int64_t *heads = malloc(sizeof *heads * (size_t)n);
				double logz, logz2, best, err = 0.0;
				int bad = 0;
				ss_rng rng;

				make(&p, n, n, sr, modes[m], 0.05,
					   300 + k * 8 + (uint64_t)(sr * 4 + m));
				unit_context("%s", p.label);
				logz = ssi_nonprojective_marginals(&p.t, p.ws, mu);
				best = ssi_nonprojective_argmax(&p.t, p.ws, heads);
				CHECK(isfinite(logz) && best <= logz + 1e-9 * fabs(logz) &&
					      logz <= best + (double)(n - 2) * log((double)n) + 1e-9 * fabs(logz),
				      "max %.17g, log Z %.17g", best, logz);
				CHECK(tree_is_valid(heads, n, 0, sr),
				      "argmax is not a tree");
				CHECK(locally_optimal(&p, heads),
				      "changing one head improves the argmax");
				for (int64_t d = 1; d < n; d++) {
					double sum = 0.0;

					for (int64_t h = 0; h < n; h++) {
						sum += mu[h * n + d];
						bad += !(mu[h * n + d] >= 0.0 &&
							 mu[h * n + d] <= 1.0);
					}
					CHECK_CLOSE_AT(sum, 1.0, RTOL,
						       "Σ_h P(h -> %lld)", (long long)d);
				}
				CHECK(bad == 0, "%d marginals outside [0, 1]", bad);
				for (int64_t s = 0; s < 5; s++) {
					ss_rng_init(&rng, SEED, 5, s);
					ssi_nonprojective_sample(&p.t, p.ws, &rng, heads);
					CHECK(tree_is_valid(heads, n, 0, sr),
					      "sample %lld is not a tree", (long long)s);
					CHECK(isfinite((double)tree_score(p.w, n, heads, n)),
					      "sample %lld uses a -inf arc", (long long)s);
				}
				for (int64_t x = 0; x < nn; x++)
					p.w[x] += c;
				logz2 = ssi_nonprojective_marginals(&p.t, p.ws, mu2);
				CHECK_CLOSE_AT(logz2, logz + (double)(n - 1) * c,
					       RTOL, "log Z with every arc + 1e4");
				for (int64_t x = 0; x < nn; x++)
					err = fmax(err, fabs(mu2[x] - mu[x]));
				CHECK(err <= 1e-9,
				      "marginals move by %g with every arc + 1e4",
				      err);
				tprob_check_canary(&p);
				free(mu);
				free(mu2);
				free(heads);
				tprob_free(&p);
			}
	unit_end("nonprojective: n = 17, 48, 96 (normal, ±500, root -500 / rest +500, pairs): log Z(w + 1e4) = log Z(w) + (n-1) 1e4, marginals in [0, 1], unchanged, summing to one; max <= log Z <= max + log #trees; argmax a tree no single head change improves; samples are trees");

	/* A single tree allowed: a chain in a scrambled order. */
	unit_begin();
	for (int64_t n = 2; n <= 128; n += 63)
		for (int sr = 0; sr < 2; sr++) {
			tprob p;
			int64_t *heads = malloc(sizeof *heads * (size_t)n);
			int64_t *order = malloc(sizeof *order * (size_t)n);
			double *mu = calloc((size_t)(n * n), sizeof *mu);
			double want = 0.0, logz;
			int ok = 1;
			ss_rng rng;
			unit_rng r;

			make(&p, n, n, sr, PM_SPREAD, 0.0, 5 + (uint64_t)n);
			urng_seed(&r, 99);
			order[0] = 0;
			for (int64_t k = 1; k < n; k++)
				order[k] = k;
			for (int64_t k = n - 1; k > 1; k--) {
				int64_t j = urng_int(&r, 1, k), tmp = order[k];
				order[k] = order[j];
				order[j] = tmp;
			}
			/* Keep only order[k-1] -> order[k]. */
			for (int64_t k = 1; k < n; k++)
				for (int64_t h = 0; h < n; h++)
					if (h != order[k] && h != order[k - 1])
						p.w[h * n + order[k]] = -INFINITY;
			for (int64_t d = 1; d < n; d++)
				for (int64_t k = 1; k < n; k++)
					if (order[k] == d)
						want += p.w[order[k - 1] * n + d];
			unit_context("%s, only a chain", p.label);
			logz = ssi_nonprojective_marginals(&p.t, p.ws, mu);
			CHECK_CLOSE_AT(logz, want, RTOL, "log Z");
			for (int64_t k = 1; k < n; k++)
				ok &= unit_close(mu[order[k - 1] * n + order[k]], 1.0,
						 RTOL);
			CHECK(ok, "marginals are not the chain's indicator");
			CHECK_CLOSE_AT(ssi_nonprojective_argmax(&p.t, p.ws, heads),
				       want, RTOL, "best score");
			ok = heads[0] == -1;
			for (int64_t k = 1; k < n; k++)
				ok &= heads[order[k]] == order[k - 1];
			CHECK(ok, "argmax is not the chain");
			ss_rng_init(&rng, SEED, 1, 2);
			ssi_nonprojective_sample(&p.t, p.ws, &rng, heads);
			ok = heads[0] == -1;
			for (int64_t k = 1; k < n; k++)
				ok &= heads[order[k]] == order[k - 1];
			CHECK(ok, "sample is not the chain");
			tprob_check_canary(&p);
			tprob_free(&p);
			free(heads);
			free(order);
			free(mu);
		}
	unit_end("nonprojective: a single allowed tree (a chain in scrambled order, scores over ±500, n = 2, 65, 128): log Z = its score, marginals its indicator, argmax and sample it");
}

/* ---- sampling ----------------------------------------------------------- */

/* The sample drawn from a stream depends on nothing else: not on earlier
 * samples, argmax or marginals run in between; streams differ. */
static void check_purity(tprob *p)
{
	enum { CMP = 200 };
	const int64_t n = p->n;
	int64_t *first = malloc(sizeof *first * (size_t)(n * CMP));
	int64_t heads[MAX_N], other[MAX_N];
	double *mu = malloc(sizeof *mu * (size_t)(n * p->ld));
	int same = 1, differs = 0, differs_idx = 0;
	ss_rng rng;

	for (int64_t s = 0; s < CMP; s++) {
		ss_rng_init(&rng, SEED, 9, s);
		ssi_nonprojective_sample(&p->t, p->ws, &rng, first + s * n);
	}
	ssi_nonprojective_argmax(&p->t, p->ws, heads);
	ssi_nonprojective_marginals(&p->t, p->ws, mu);
	for (int64_t s = CMP - 1; s >= 0; s--) {
		ss_rng_init(&rng, SEED, 9, s);
		ssi_nonprojective_sample(&p->t, p->ws, &rng, heads);
		same &= !memcmp(heads, first + s * n, sizeof *heads * (size_t)n);
		ss_rng_init(&rng, SEED + 1, 9, s);
		ssi_nonprojective_sample(&p->t, p->ws, &rng, other);
		differs |= !!memcmp(heads, other, sizeof *heads * (size_t)n);
		ss_rng_init(&rng, SEED, 10, s);
		ssi_nonprojective_sample(&p->t, p->ws, &rng, other);
		differs_idx |= !!memcmp(heads, other, sizeof *heads * (size_t)n);
	}
	CHECK(same, "the same stream gave another sample (reversed order, after argmax and marginals)");
	CHECK(differs, "seeds %u and %u gave the same %d samples", SEED,
	      SEED + 1, CMP);
	CHECK(differs_idx, "elements 9 and 10 gave the same %d samples", CMP);
	free(first);
	free(mu);
}

/* The most nodes of group_sample_large's trees. */
#define LARGE_N 48

static const char *const sampler_names[] = {
	[SSI_SAMPLER_AUTO] = "the cheaper sampler",
	[SSI_SAMPLER_CHAIN_RULE] = "the chain rule",
	[SSI_SAMPLER_WILSON] = "Wilson's algorithm",
};

static void group_sample(void)
{
	for (int sampler = SSI_SAMPLER_CHAIN_RULE; sampler <= SSI_SAMPLER_WILSON; sampler++)
	for (int64_t n = 4; n <= 5; n++)
		for (int sr = 0; sr < 2; sr++)
			for (int inf = 0; inf < 2; inf++) {
				tprob p;
				tree_brute b;

				make(&p, n, n + inf, sr, PM_NORMAL,
					   inf ? 0.2 : 0.0,
					   4242 + (uint64_t)(n * 4 + sr * 2 + inf));
				p.t.sampler = sampler;
				tree_brute_run(&b, p.w, n, p.ld, 0, sr);
				unit_begin();
				unit_context("%s, %s", p.label, sampler_names[sampler]);
				tree_check_fit(&p.t, p.ws, ssi_nonprojective_log_partition(&p.t, p.ws),
				       ssi_nonprojective_sample, SEED, &b, p.label);
				check_purity(&p);
				tprob_check_canary(&p);
				unit_end("nonprojective: %lld nodes %s%s, %s: %d samples fit brute force (chi-square, 0.999), log-probs exact, pure function of the stream",
					 (long long)n, sr ? "single-root" : "multi-root",
					 inf ? ", some arcs -inf" : "",
					 sampler_names[sampler], TREE_FIT_DRAWS);
				tree_brute_free(&b);
				tprob_free(&p);
			}

	/* One arc 800 below the rest of its column: the weights are scaled
	 * numbers (np_xf), and both samplers read them so. */
	for (int sampler = SSI_SAMPLER_CHAIN_RULE; sampler <= SSI_SAMPLER_WILSON; sampler++)
		for (int sr = 0; sr < 2; sr++) {
			tprob p;
			tree_brute b;

			make(&p, 5, 5, sr, PM_NORMAL, 0.0, 5150 + (uint64_t)sr);
			p.t.sampler = sampler;
			p.w[1 * 5 + 2] = -800.0;
			tree_brute_run(&b, p.w, 5, 5, 0, sr);
			unit_begin();
			unit_context("%s, arc 1 -> 2 at -800, %s", p.label,
				     sampler_names[sampler]);
			tree_check_fit(&p.t, p.ws, ssi_nonprojective_log_partition(&p.t, p.ws),
				       ssi_nonprojective_sample, SEED, &b, p.label);
			tprob_check_canary(&p);
			unit_end("nonprojective: 5 nodes %s, normal scores but arc 1 -> 2 at -800 (weights as scaled numbers), %s: %d samples fit brute force",
				 sr ? "single-root" : "multi-root",
				 sampler_names[sampler], TREE_FIT_DRAWS);
			tree_brute_free(&b);
			tprob_free(&p);
		}

	/* Peaked weights: root arcs -500, the rest +500. The trees with one
	 * root arc share the mass equally, the others have e^-1000 of it: a
	 * random walk would circle for ~e^1000 steps here, so only the chain
	 * rule is forced (by default, single root walks the tree left once
	 * the root's child is drawn: its arcs are all +500). */
	for (int sampler = SSI_SAMPLER_AUTO; sampler <= SSI_SAMPLER_CHAIN_RULE; sampler++)
	for (int64_t n = 3; n <= 5; n++)
		for (int sr = 0; sr < 2; sr++) {
			tprob p;
			tree_brute b;

			make(&p, n, n, sr, NM_ADVERSE, 0.0, 1);
			p.t.sampler = sampler;
			for (int64_t h = 0; h < n; h++)
				for (int64_t d = 1; d < n; d++)
					if (h != d)
						p.w[h * n + d] = h == 0 ? -500.0 : 500.0;
			tree_brute_run(&b, p.w, n, n, 0, sr);
			unit_begin();
			unit_context("%s, %s", p.label, sampler_names[sampler]);
			tree_check_fit(&p.t, p.ws, ssi_nonprojective_log_partition(&p.t, p.ws),
				       ssi_nonprojective_sample, SEED, &b, p.label);
			tprob_check_canary(&p);
			unit_end("nonprojective: %lld nodes %s, root arcs -500 and the rest +500 (the trees with one root arc, uniformly), %s: %d samples fit brute force",
				 (long long)n, sr ? "single-root" : "multi-root",
				 sampler_names[sampler], TREE_FIT_DRAWS);
			tree_brute_free(&b);
			tprob_free(&p);
		}
}

/* The frequency of every arc over draws samples against its marginal:
 * within 5 standard deviations (and 1e-3). */
static void check_frequencies(tprob *p, int64_t draws)
{
	const int64_t n = p->n, ld = p->ld;
	double *mu = malloc(sizeof *mu * (size_t)(n * ld));
	double *count = calloc((size_t)(n * ld), sizeof *count);
	int64_t heads[LARGE_N];
	double worst = 0.0;
	int bad = 0;
	ss_rng rng;

	ssi_nonprojective_marginals(&p->t, p->ws, mu);
	for (int64_t s = 0; s < draws; s++) {
		ss_rng_init(&rng, SEED, 11, s);
		ssi_nonprojective_sample(&p->t, p->ws, &rng, heads);
		bad += !tree_is_valid(heads, n, 0, p->t.single_root);
		for (int64_t d = 1; d < n; d++)
			if (heads[d] >= 0)
				count[heads[d] * ld + d] += 1.0;
	}
	CHECK(bad == 0, "%d of %lld samples are not trees", bad, (long long)draws);
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 1; d < n; d++) {
			const double m = mu[h * ld + d], f = count[h * ld + d] / (double)draws;
			const double sd = sqrt(m * (1.0 - m) / (double)draws);
			worst = fmax(worst, fabs(f - m) / (sd + 1e-300));
			CHECK(fabs(f - m) <= 5.0 * sd + 1e-3,
			      "arc %lld -> %lld drawn %.5f of the time, marginal %.5f",
			      (long long)h, (long long)d, f, m);
		}
	unit_note("%s: worst arc %.2f standard deviations from its marginal", p->label, worst);
	free(mu);
	free(count);
}

/* Larger trees, beyond brute force: both samplers draw every arc as
 * often as its marginal says; by default, the walk where it is short
 * (normal scores) and the chain rule where it is long (pairs at +500, a
 * walk circling ~e^1000 times between two nodes). */
static void group_sample_large(void)
{
	enum { DRAWS = 4000 };

	for (int sampler = SSI_SAMPLER_CHAIN_RULE; sampler <= SSI_SAMPLER_WILSON; sampler++)
		for (int sr = 0; sr < 2; sr++)
			for (int inf = 0; inf < 2; inf++) {
				tprob p;

				make(&p, 12, 12, sr, PM_NORMAL, inf ? 0.2 : 0.0,
				     7070 + (uint64_t)(sr * 2 + inf));
				p.t.sampler = sampler;
				unit_begin();
				unit_context("%s, %s", p.label, sampler_names[sampler]);
				check_frequencies(&p, DRAWS);
				tprob_check_canary(&p);
				unit_end("nonprojective: 12 nodes %s%s, %s: %d samples draw each arc as often as its marginal (5 sd)",
					 sr ? "single-root" : "multi-root",
					 inf ? ", some arcs -inf" : "",
					 sampler_names[sampler], DRAWS);
				tprob_free(&p);
			}

	unit_begin();
	for (int64_t n = 17; n <= 48; n += 31)
		for (int sr = 0; sr < 2; sr++)
			for (int m = 0; m < 2; m++) {
				const int want = m == 0 ? SSI_SAMPLER_WILSON
							: SSI_SAMPLER_CHAIN_RULE;
				int64_t heads[LARGE_N], forced[LARGE_N];
				int same = 1;
				tprob p;
				ss_rng rng;

				make(&p, n, n, sr, m == 0 ? PM_NORMAL : NM_PAIRS, 0.0,
				     8080 + (uint64_t)(n * 4 + sr * 2 + m));
				unit_context("%s", p.label);
				for (int64_t s = 0; s < 20; s++) {
					p.t.sampler = SSI_SAMPLER_AUTO;
					ss_rng_init(&rng, SEED, 12, s);
					ssi_nonprojective_sample(&p.t, p.ws, &rng, heads);
					p.t.sampler = want;
					ss_rng_init(&rng, SEED, 12, s);
					ssi_nonprojective_sample(&p.t, p.ws, &rng, forced);
					same &= !memcmp(heads, forced, sizeof *heads * (size_t)n);
				}
				CHECK(same, "the default sampler is not %s", sampler_names[want]);
				tprob_free(&p);
			}
	unit_end("nonprojective: n = 17, 48, both root modes: by default, Wilson's algorithm draws normal scores and the chain rule pairs at +500 (the same samples as each forced)");
}

/* The kernels clear and test the underflow and overflow flags (and may
 * raise invalid comparing the unread NaN): the caller's flags come back
 * as they were, but for inexact. */
static void group_fenv(void)
{
	static const int modes[] = {PM_NORMAL, NM_SPREAD300, NM_ADVERSE};
	const int MOST = FE_ALL_EXCEPT & ~FE_INEXACT;

	unit_begin();
	for (int m = 0; m < 3; m++)
		for (int sr = 0; sr < 2; sr++)
			for (int set = 0; set < 2; set++) {
				const int flags = set ? FE_UNDERFLOW | FE_OVERFLOW : 0;
				tprob p;
				double mu[36];
				int64_t heads[6];
				ss_rng rng;

				make(&p, 6, 6, sr, modes[m], 0.0, 61 + (uint64_t)m);
				unit_context("%s, flags %s before", p.label,
					     set ? "UNDERFLOW|OVERFLOW" : "clear");
				feclearexcept(FE_ALL_EXCEPT);
				feraiseexcept(flags);
				/* NaN on the diagonal, as the caller may leave. */
				for (int64_t d = 0; d < 6; d++)
					p.w[d * 6 + d] = NAN;
				ssi_nonprojective_log_partition(&p.t, p.ws);
				CHECK(fetestexcept(MOST) == flags,
				      "log_partition changed the flags");
				ssi_nonprojective_marginals(&p.t, p.ws, mu);
				CHECK(fetestexcept(MOST) == flags,
				      "marginals changed the flags");
				ss_rng_init(&rng, SEED, 0, 0);
				ssi_nonprojective_sample(&p.t, p.ws, &rng, heads);
				CHECK(fetestexcept(MOST) == flags,
				      "sample changed the flags");
				CHECK(tree_is_valid(heads, 6, 0, sr), "sample is a tree");
				feclearexcept(FE_ALL_EXCEPT);
				tprob_free(&p);
			}
	unit_end("nonprojective: log_partition, marginals and sample leave the caller's floating-point flags (but inexact) as they were, double underflow fallback and NaN on the diagonal included");
}

void suite_nonprojective(void)
{
	group_counts();
	group_hand();
	group_exact();
	group_no_tree();
	group_ties();
	group_large_scale();
	group_fenv();
	group_gradient();
	group_scale();
	group_sample();
	group_sample_large();
}
