/*
 * unit_chain.c - linear-chain beyond the conformance suite
 * (tests/unit_conformance.c): the entropy at large scales, and marginals as
 * the gradient of log Z (central finite differences) on more problems.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define FD_H 1e-5
#define FD_TOL 1e-6

/* log Z of e with potential k of lp moved by delta. */
static double logz_moved(const problem *p, ss_element *e, double *lp,
			 int64_t k, double delta)
{
	double saved = lp[k], logz = NAN;
	ss_error err = {0};
	int rc;

	lp[k] = saved + delta;
	rc = ss_log_partition(p->s, e, p->ws, &logz, &err);
	lp[k] = saved;
	CHECK(rc == SS_OK, "log_partition returned %d (%s)", rc, err.message);
	return logz;
}

/* d log Z / d theta[i, a, c] = marginals[i, a, c] for every finite entry,
 * padding and ignored rows included (both sides 0 there). */
static void check_gradient(const problem *p, const brute *b, void *arg)
{
	int64_t size = problem_event_size(p), t = p->t;
	double *lp = malloc(sizeof *lp * (size_t)(size + 1));
	double *m = calloc((size_t)size + 1, sizeof *m), logz;
	ss_element e = p->e;
	ss_error err = {0};

	(void)arg;
	memcpy(lp, p->lp, sizeof *lp * (size_t)size);
	e.input[input_index(p->s, "log_potentials")].data = lp;
	if (isinf(b->logz) ||
	    !CHECK(ss_marginals(p->s, &e, p->ws, m, &logz, &err) == SS_OK,
		   "marginals failed: %s", err.message))
		goto done;
	for (int64_t k = 0; k < size; k++) {
		double d;

		if (isinf(lp[k]))
			continue;
		d = (logz_moved(p, &e, lp, k, FD_H) -
		     logz_moved(p, &e, lp, k, -FD_H)) / (2 * FD_H);
		CHECK_CLOSE_AT(d, m[k], FD_TOL,
			       "d log Z / d theta[%lld, %lld, %lld] vs marginal",
			       (long long)(k / (t * t)), (long long)(k / t % t),
			       (long long)(k % t));
	}
done:
	free(lp);
	free(m);
}

/* A problem of kind with every used input N(0, 1) * scale (hmm: the
 * logits), seeded by seed. */
static void scaled_problem(problem *p, problem_kind kind, int64_t n,
			   int64_t t, int64_t V, double scale, uint64_t seed)
{
	unit_rng r;

	urng_seed(&r, seed);
	problem_alloc(p, kind, n, t, V);
	if (kind == PK_CHAIN) {
		for (int64_t k = 0; k < n * t * t; k++)
			p->lp[k] = scale * urng_normal(&r);
	} else {
		for (int64_t k = 0; k < t; k++)
			p->init[k] = scale * urng_normal(&r);
		for (int64_t k = 0; k < t * t; k++)
			p->trans[k] = scale * urng_normal(&r);
		for (int64_t k = 0; k < t * V; k++)
			p->emis[k] = scale * urng_normal(&r);
		for (int64_t i = 0; i < n; i++)
			p->obs[i] = urng_int(&r, 0, V - 1);
	}
	problem_setup(p);
}

/*
 * An entropy is never negative: seeded chains (and hmms) of n = 20
 * positions, t = 5 tags, inputs N(0, 1) times 100, 1000 and 1e4 (the
 * issue: about -6e-12 at 100); and it equals brute force at those
 * scales on problems small enough to enumerate.
 */
void entropy_scale_groups(problem_kind kind)
{
	static const double scales[] = {100.0, 1000.0, 1e4};
	const char *name = problem_kind_names[kind];

	unit_begin();
	for (int k = 0; k < 3; k++) {
		int negative = 0;
		double lowest = INFINITY;
		char first[64] = "";

		for (uint64_t seed = 1; seed <= 300; seed++) {
			problem p;
			double h = NAN;
			ss_error err = {0};

			scaled_problem(&p, kind, 20, 5, 7, scales[k], seed);
			CHECK(ss_entropy(p.s, &p.e, p.ws, &h, &err) == SS_OK,
			      "entropy failed: %s", err.message);
			if (!(h >= 0.0) && negative++ == 0)
				snprintf(first, sizeof first, "seed %llu: %.3g",
					 (unsigned long long)seed, h);
			lowest = fmin(lowest, h);
			problem_free(&p);
		}
		unit_context("scale %g", scales[k]);
		CHECK(negative == 0, "%d of 300 entropies are negative (first %s)",
		      negative, first);
		unit_note("scale %g: smallest entropy %.3g", scales[k], lowest);
	}
	unit_end("%s: entropy >= 0 for 300 seeded problems of n = 20, t = 5, inputs N(0, 1) x 100, 1000, 1e4",
		 name);

	unit_begin();
	for (int k = 0; k < 3; k++)
		for (uint64_t seed = 1; seed <= 40; seed++) {
			problem p;
			brute b;
			double h = NAN;
			ss_error err = {0};
			int64_t n = 3 + (int64_t)(seed % 5), t = 2 + (int64_t)(seed % 3);

			scaled_problem(&p, kind, n, t, 3, scales[k], 1000 + seed);
			unit_context("%s scale %g (seed %llu)", p.label, scales[k],
				     (unsigned long long)seed);
			brute_run(&b, p.theta, p.n, p.t, p.len);
			CHECK(ss_entropy(p.s, &p.e, p.ws, &h, &err) == SS_OK,
			      "entropy failed: %s", err.message);
			CHECK_CLOSE_AT(h, b.entropy, RTOL, "entropy");
			brute_free(&b);
			problem_free(&p);
		}
	unit_end("%s: entropy equals brute force with inputs N(0, 1) x 100, 1000, 1e4 (n = 3..7, t = 2..4, 120 problems)",
		 name);
}

/*
 * Potentials stored as floats (SS_F32, as a float32 dataset is read) give
 * the results of the same values stored as doubles to 1e-5 (SPEC §5: the
 * log inside and outside run float kernels on them), and the same bits
 * where the engine works in double on them: count, the argmax and its
 * score, the score of an event.
 */
static void check_f32_at(int64_t N, int64_t T, int reps)
{
	enum { S = 3 };
	const int64_t E = N * T * T;
	const ss_structure *s = ss_structure_find("linear-chain");
	float *theta_f = malloc(sizeof(float) * (size_t)E);
	double *theta_d = malloc(sizeof(double) * (size_t)E);
	double *q = malloc(sizeof(double) * (size_t)E);
	double *out_d = malloc(sizeof(double) * (size_t)(S * E));
	double *out_f = malloc(sizeof(double) * (size_t)(S * E));
	unit_rng r;
	int same = 1;
	urng_seed(&r, 1204u + (uint64_t)T);
	for (int rep = 0; rep < reps; rep++) {
		ss_element ed, ef, eq;
		int64_t len = urng_int(&r, 0, N);
		void *ws;
		double a[8], b[8], lp_d[S], lp_f[S];
		ss_error err;
		memset(&ed, 0, sizeof ed);
		ed.dim[SS_DIM_N] = N;
		ed.dim[SS_DIM_T] = T;
		ed.index = rep;
		for (int k = 0; k < E; k++) {
			theta_f[k] = urng_uniform(&r) < 0.1 ? -INFINITY
				: (float)(3.0 * urng_normal(&r));
			theta_d[k] = theta_f[k];
			q[k] = theta_d[k] + urng_normal(&r);
		}
		ed.input[0].data = theta_d;
		ed.input[1].data = &len;
		ef = ed;
		ef.input[0].data = theta_f;
		ef.input[0].dtype = SS_F32;
		eq = ed;
		eq.input[0].data = q;
		ws = ws_alloc(ss_workspace_bytes(s, SS_OP_COUNT, ed.dim));
		CHECK(s->validate(&ef, ws, &err) == SS_OK, "validate: %s",
		      err.message);
		ss_log_partition(s, &ed, ws, &a[0], &err);
		ss_log_partition(s, &ef, ws, &b[0], &err);
		ss_entropy(s, &ed, ws, &a[1], &err);
		ss_entropy(s, &ef, ws, &b[1], &err);
		ss_log_count(s, &ed, ws, &a[2], &err);
		ss_log_count(s, &ef, ws, &b[2], &err);
		ss_kl(s, &ed, &eq, ws, &a[3], &err);
		ss_kl(s, &ef, &eq, ws, &b[3], &err);
		ss_cross_entropy(s, &eq, &ed, ws, &a[4], &err);
		ss_cross_entropy(s, &eq, &ef, ws, &b[4], &err);
		ss_marginals(s, &ed, ws, out_d, &a[5], &err);
		ss_marginals(s, &ef, ws, out_f, &b[5], &err);
		for (int k = 0; k < E; k++)
			same &= fabs(out_d[k] - out_f[k]) <= 1e-5;
		ss_argmax(s, &ed, ws, out_d, &a[6], &err);
		ss_argmax(s, &ef, ws, out_f, &b[6], &err);
		same &= !memcmp(out_d, out_f, sizeof(double) * (size_t)E);
		ss_score(s, &ed, ws, out_d, &a[7], &err);
		ss_score(s, &ef, ws, out_d, &b[7], &err);
		ss_sample(s, &ed, ws, 9, S, out_d, E, lp_d, 1, &err);
		ss_sample(s, &ef, ws, 9, S, out_f, E, lp_f, 1, &err);
		for (int k = 0; k < S; k++) /* a structure's log p either way */
			CHECK(isinf(lp_f[k]) == isinf(lp_d[k]) &&
				      (isinf(lp_f[k]) || lp_f[k] <= 1e-9),
			      "rep %d, sample %d: log p %.17g", rep, k, lp_f[k]);
		for (int k = 0; k < 8; k++) {
			const int exact = k == 2 || k == 6 || k == 7;
			if (exact)
				CHECK(!memcmp(&a[k], &b[k], sizeof a[k]),
				      "t = %lld, rep %d, result %d: %.17g as doubles, %.17g as floats",
				      (long long)T, rep, k, a[k], b[k]);
			else
				CHECK_CLOSE_AT(b[k], a[k], 1e-5,
					       "t = %lld, rep %d, result %d as floats",
					       (long long)T, rep, k);
		}
		free(ws);
	}
	CHECK(same, "t = %lld: marginals differ by more than 1e-5, or argmax events differ, between floats and doubles",
	      (long long)T);
	free(theta_f);
	free(theta_d);
	free(q);
	free(out_d);
	free(out_f);
}

/* The marginals and log Z of a chain of n positions (its length n) and t
 * tags from the same potentials as doubles and as floats. */
static void marginals_both(int64_t n, int64_t t, const double *theta_d,
			   const float *theta_f, double *mu_d, double *mu_f,
			   double *logz_d, double *logz_f)
{
	const ss_structure *s = ss_structure_find("linear-chain");
	int64_t len = n;
	ss_element ed, ef;
	ss_error err;
	void *ws;
	memset(&ed, 0, sizeof ed);
	ed.dim[SS_DIM_N] = n;
	ed.dim[SS_DIM_T] = t;
	ed.input[0].data = theta_d;
	ed.input[1].data = &len;
	ef = ed;
	ef.input[0].data = theta_f;
	ef.input[0].dtype = SS_F32;
	ws = ws_alloc(ss_workspace_bytes(s, SS_OP_MARGINALS, ed.dim));
	ss_marginals(s, &ed, ws, mu_d, logz_d, &err);
	ss_marginals(s, &ef, ws, mu_f, logz_f, &err);
	free(ws);
}

/*
 * A long chain (n = 1000, t = 32) of floats, potentials N(0, sigma²),
 * with holes 10% of them -inf and columns 5 and 17 all -inf (states no
 * step enters: cells without candidates):
 * log Z and the marginals above 1e-4 within 1e-5 relative of the same
 * values as doubles (SPEC §5) in every instruction set, and those down to
 * 1e-30 within 1e-4 (a float p of a cell whose sum is far below 1 can
 * be tiny where its exp is below the floats' range). The float outside takes the inside's
 * exps bit for bit, so that each cell hands on exactly its adjoint: exps
 * that differed by a few 1e-7 between the passes would add up over the
 * positions, to about 2e-5 here.
 */
static void check_f32_long(double sigma, int holes)
{
	enum { N = 1000, T = 32 };
	const int64_t E = (int64_t)N * T * T;
	float *theta_f = malloc(sizeof(float) * (size_t)E);
	double *theta_d = malloc(sizeof(double) * (size_t)E);
	double *mu_d = malloc(sizeof(double) * (size_t)E);
	double *mu_f = malloc(sizeof(double) * (size_t)E);
	double logz_d = 0.0, logz_f = 0.0, worst = 0.0, worst_tiny = 0.0;
	int zeros = 1;
	unit_rng r;
	urng_seed(&r, 2026u);
	for (int64_t k = 0; k < E; k++) {
		const int64_t c = k % T;
		theta_f[k] = holes && (c == 5 || c == 17 || urng_uniform(&r) < 0.1)
			? -INFINITY : (float)(sigma * urng_normal(&r));
		theta_d[k] = theta_f[k];
	}
	marginals_both(N, T, theta_d, theta_f, mu_d, mu_f, &logz_d, &logz_f);
	for (int64_t k = 0; k < E; k++) {
		const double e = fabs(mu_f[k] - mu_d[k]) / mu_d[k];
		zeros &= mu_d[k] != 0.0 || mu_f[k] == 0.0;
		if (mu_d[k] > 1e-4 && e > worst)
			worst = e;
		if (mu_d[k] > 1e-30 && mu_d[k] <= 1e-4 && e > worst_tiny)
			worst_tiny = e;
	}
	CHECK(fabs(logz_f - logz_d) <= 1e-5 * fabs(logz_d),
	      "N(0, %g): log Z %.17g as floats, %.17g as doubles", sigma,
	      logz_f, logz_d);
	CHECK(worst <= 1e-5,
	      "N(0, %g): marginals above 1e-4 differ by %.3g relative", sigma,
	      worst);
	CHECK(worst_tiny <= 1e-4,
	      "N(0, %g): marginals in (1e-30, 1e-4] differ by %.3g relative",
	      sigma, worst_tiny);
	CHECK(zeros, "N(0, %g), holes %d: a part of no structure has a marginal",
	      sigma, holes);
	free(theta_f);
	free(theta_d);
	free(mu_d);
	free(mu_f);
}

/*
 * Floats of every magnitude (SPEC §5): each position's potentials N(0, 3)
 * plus an offset of that position, 0, ±5e4, ±2.5e5 or 1e6 (the float
 * kernels shift each column by its largest potential, those beyond 2^17
 * in double: lib/simd.h, scaled exps), and at one position one column
 * 2.5e5 above the rest (which leaves the step's other rows far below it).
 * The offsets leave the marginals unchanged and add up in log Z: the
 * marginals within 1e-5 of the same values as doubles, log Z within 1e-4
 * (absolute; relative to log Z it would pass anything).
 */
static void check_f32_magnitudes(void)
{
	enum { N = 60, T = 40 };
	static const double offset[] = {0.0, 5e4, -5e4, 2.5e5, -2.5e5, 1e6};
	const int64_t E = (int64_t)N * T * T;
	float *theta_f = malloc(sizeof(float) * (size_t)E);
	double *theta_d = malloc(sizeof(double) * (size_t)E);
	double *mu_d = malloc(sizeof(double) * (size_t)E);
	double *mu_f = malloc(sizeof(double) * (size_t)E);
	double logz_d = 0.0, logz_f = 0.0, worst = 0.0;
	unit_rng r;
	urng_seed(&r, 2027u);
	for (int64_t k = 0; k < E; k++) {
		const int64_t i = k / (T * T), c = k % T;
		const double lift = i == 13 && c == 3 ? 2.5e5 : 0.0;
		theta_f[k] = (float)(offset[i % 6] + lift +
				     3.0 * urng_normal(&r));
		theta_d[k] = theta_f[k];
	}
	marginals_both(N, T, theta_d, theta_f, mu_d, mu_f, &logz_d, &logz_f);
	for (int64_t k = 0; k < E; k++)
		worst = fmax(worst, fabs(mu_f[k] - mu_d[k]));
	CHECK(fabs(logz_f - logz_d) <= 1e-4,
	      "log Z %.17g as floats, %.17g as doubles", logz_f, logz_d);
	CHECK(worst <= 1e-5, "marginals differ by %.3g", worst);
	free(theta_f);
	free(theta_d);
	free(mu_d);
	free(mu_f);
}

/* The float kernels take blocks of 32 cells, then single vectors, the
 * last masked (lib/chart.c): t = 4, 20 and 48 take each kind. */
static void check_f32(void)
{
	enum { N = 7, T = 4 };
	float theta_f[N * T * T] = {0};
	const ss_structure *s = ss_structure_find("linear-chain");
	unit_begin();
	check_f32_at(N, T, 40);
	check_f32_at(5, 20, 10);
	check_f32_at(4, 48, 6);
	theta_f[21] = NAN; /* position 1, row 1, column 1 */
	{
		ss_element ef;
		int64_t len = N;
		void *ws;
		ss_error err;
		memset(&ef, 0, sizeof ef);
		ef.dim[SS_DIM_N] = N;
		ef.dim[SS_DIM_T] = T;
		ef.input[0].data = theta_f;
		ef.input[1].data = &len;
		ef.input[0].dtype = SS_F32;
		ws = ws_alloc(ss_workspace_bytes(s, SS_OP_COUNT, ef.dim));
		CHECK(s->validate(&ef, ws, &err) == SS_EDATA &&
			      strstr(err.message, "holds NaN at [1, 1, 1]"),
		      "NaN in floats: '%s'", err.message);
		free(ws);
	}
	unit_end("linear-chain: potentials stored as floats give the results of the same values as doubles to 1e-5 (log Z, entropy, kl, cross-entropy, marginals) and their bits (count, argmax, score), samples are structures (t = 4, 20 and 48: 56 problems); NaN among floats is named");
	unit_begin();
	check_f32_long(3.0, 0);
	check_f32_long(20.0, 0);
	check_f32_long(3.0, 1);
	unit_end("linear-chain: chains of 1000 positions, t = 32, potentials N(0, 3) and N(0, 20), and N(0, 3) with 10%% -inf and states 5 and 17 never entered, as floats: log Z and the marginals above 1e-4 within 1e-5 relative of the same values as doubles, those down to 1e-30 within 1e-4, impossible parts 0");
	unit_begin();
	check_f32_magnitudes();
	unit_end("linear-chain: floats N(0, 3) plus offsets per position of 0, +-5e4, +-2.5e5 and 1e6, one column 2.5e5 above the rest at one position (n = 60, t = 40): marginals within 1e-5 and log Z within 1e-4 (absolute) of the same values as doubles");
}

void suite_chain(void)
{
	check_f32();
	gen_opts o = gen_random;

	entropy_scale_groups(PK_CHAIN);

	o.mode = PM_NORMAL;
	o.pinf = 0.1;
	unit_begin();
	for_random_problems(PK_CHAIN, &o, 60, 23, check_gradient, NULL);
	unit_end("linear-chain: marginals = d log Z / d theta by central differences (h = %g, tol %g, 60 problems)",
		 FD_H, FD_TOL);
}
