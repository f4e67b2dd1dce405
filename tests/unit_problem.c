/*
 * unit_problem.c - seeded random problems for linear-chain and hmm, and the
 * loop that runs a check over many of them.
 *
 * Used entries get potentials of the problem's mode (some -inf); entries the
 * structure ignores (padding positions, rows [0, a > 0, c]) get finite
 * garbage so that reading them shows up as a wrong result.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* ---- splitmix64 ------------------------------------------------------------ */

void urng_seed(unit_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t urng_next(unit_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double urng_uniform(unit_rng *r)
{
	return (double)(urng_next(r) >> 11) * 0x1p-53;
}

int64_t urng_int(unit_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(urng_next(r) % (uint64_t)(hi - lo + 1));
}

double urng_normal(unit_rng *r)
{
	double u = 1.0 - urng_uniform(r), v = urng_uniform(r);

	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

void unit_draw_logit_rows(unit_rng *r, double *const rows[],
			  const int64_t count[], const int64_t width[],
			  int arrays)
{
	for (int a = 0; a < arrays; a++)
		for (int64_t k = 0; k < count[a]; k++) {
			if (k % width[a] == 0 && urng_uniform(r) < 0.1) {
				for (int64_t m = 0; m < width[a]; m++)
					rows[a][k + m] = -INFINITY;
				k += width[a] - 1;
				continue;
			}
			rows[a][k] = urng_uniform(r) < 0.15 ? -INFINITY
							   : 2 * urng_normal(r);
		}
}

void *ws_alloc(size_t bytes)
{
	size_t size = (bytes + 63) / 64 * 64;

	return aligned_alloc(64, size ? size : 64);
}

/* ---- problems ---------------------------------------------------------------- */

const char *const problem_kind_names[PK_COUNT] = {
	[PK_CHAIN] = "linear-chain",
	[PK_HMM_LOGITS] = "hmm (emission_logits)",
	[PK_HMM_SCORES] = "hmm (emission_scores)",
};

const char *const problem_mode_names[PM_COUNT] = {
	[PM_NORMAL] = "normal",
	[PM_SPREAD] = "+-500",
	[PM_HUGE] = "1e4",
};

const gen_opts gen_random = {
	GEN_RANDOM, GEN_RANDOM, GEN_RANDOM, GEN_RANDOM, GEN_RANDOM,
	GEN_RANDOM, GEN_RANDOM
};

int input_index(const ss_structure *s, const char *name)
{
	for (int k = 0; k < s->n_inputs; k++)
		if (!strcmp(s->inputs[k].name, name))
			return k;
	fprintf(stderr, "unit: %s has no input '%s'\n", s->name, name);
	exit(2);
}

int option_index(const ss_structure *s, const char *name)
{
	for (int k = 0; k < s->n_options; k++)
		if (!strcmp(s->options[k].name, name))
			return k;
	fprintf(stderr, "unit: %s has no option '%s'\n", s->name, name);
	exit(2);
}

static double *zeros(int64_t count)
{
	return calloc((size_t)count + 1, sizeof(double));
}

void problem_alloc(problem *p, problem_kind kind, int64_t n, int64_t t,
		   int64_t V)
{
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->s = ss_structure_find(kind == PK_CHAIN ? "linear-chain" : "hmm");
	p->n = n;
	p->t = t;
	p->V = kind == PK_HMM_LOGITS ? V : 0;
	p->len = n;
	p->mode = -1;
	p->theta = zeros(n * t * t);
	if (kind == PK_CHAIN) {
		p->lp = zeros(n * t * t);
		return;
	}
	p->init = zeros(t);
	p->trans = zeros(t * t);
	if (kind == PK_HMM_LOGITS) {
		p->emis = zeros(t * p->V);
		p->obs = calloc((size_t)n + 1, sizeof *p->obs);
	} else {
		p->escores = zeros(n * t);
	}
}

static void set_input(problem *p, const char *name, const void *data)
{
	p->e.input[input_index(p->s, name)].data = data;
}

void problem_setup(problem *p)
{
	char vpart[32] = "";

	if (!p->s) {
		fprintf(stderr, "unit: structure of %s not found\n",
			problem_kind_names[p->kind]);
		exit(2);
	}
	memset(&p->e, 0, sizeof p->e);
	p->e.dim[SS_DIM_N] = p->n;
	p->e.dim[SS_DIM_T] = p->t;
	p->e.dim[SS_DIM_V] = p->V;
	p->lengths = p->len;
	if (p->has_lengths)
		set_input(p, "lengths", &p->lengths);
	if (p->kind == PK_CHAIN) {
		set_input(p, "log_potentials", p->lp);
		memcpy(p->theta, p->lp, sizeof(double) * (size_t)(p->n * p->t * p->t));
	} else {
		set_input(p, "init_logits", p->init);
		set_input(p, "transition_logits", p->trans);
		if (p->kind == PK_HMM_LOGITS) {
			set_input(p, "emission_logits", p->emis);
			set_input(p, "observations", p->obs);
		} else {
			set_input(p, "emission_scores", p->escores);
		}
		brute_hmm_theta(p->n, p->t, p->V, p->len, p->init, p->trans,
				p->emis, p->obs, p->escores, p->theta);
	}
	free(p->ws);
	p->ws_bytes = ss_workspace_bytes(p->s, SS_OP_COUNT, p->e.dim);
	p->ws = ws_alloc(p->ws_bytes);
	if (p->kind == PK_HMM_LOGITS)
		snprintf(vpart, sizeof vpart, " V=%lld", (long long)p->V);
	snprintf(p->label, sizeof p->label, "%s%s%s n=%lld t=%lld%s len=%lld%s",
		 problem_kind_names[p->kind], p->mode >= 0 ? " " : "",
		 p->mode >= 0 ? problem_mode_names[p->mode] : "",
		 (long long)p->n, (long long)p->t, vpart, (long long)p->len,
		 p->has_lengths ? " (lengths)" : "");
}

void problem_free(problem *p)
{
	free(p->lp);
	free(p->init);
	free(p->trans);
	free(p->emis);
	free(p->obs);
	free(p->escores);
	free(p->theta);
	free(p->ws);
	memset(p, 0, sizeof *p);
}

void problem_set_length(problem *p, int64_t len)
{
	p->len = len;
	p->has_lengths = 1;
	problem_setup(p);
}

int64_t problem_event_size(const problem *p)
{
	return p->n * p->t * p->t;
}

/* A potential of the mode; -inf with probability pinf. */
static double draw(unit_rng *r, int mode, double pinf)
{
	if (urng_uniform(r) < pinf)
		return -INFINITY;
	switch (mode) {
	case PM_SPREAD:
		return 1000.0 * urng_uniform(r) - 500.0;
	case PM_HUGE:
		return 1e4 + 2.0 * urng_uniform(r) - 1.0;
	default:
		return 1.5 * urng_normal(r);
	}
}

/* An entry the structure must not read. */
static double garbage(unit_rng *r)
{
	return 2000.0 * urng_uniform(r) - 1000.0;
}

static int64_t pick(int64_t want, unit_rng *r, int64_t lo, int64_t hi)
{
	return want == GEN_RANDOM ? urng_int(r, lo, hi) : want;
}

void problem_random(problem *p, problem_kind kind, const gen_opts *o,
		    uint64_t seed)
{
	static const double pinfs[] = {0.0, 0.1, 0.3};
	unit_rng r;
	int64_t n, t, V, len;
	int has_lengths, mode;
	double pinf;

	urng_seed(&r, seed);
	n = pick(o->n, &r, 0, 6);
	t = pick(o->t, &r, 1, 4);
	V = pick(o->V, &r, 1, 3);
	mode = (int)pick(o->mode, &r, 0, PM_COUNT - 1);
	pinf = o->pinf >= 0 ? o->pinf : pinfs[urng_int(&r, 0, 2)];
	has_lengths = (int)pick(o->has_lengths, &r, 0, 1) || o->len >= 0;
	len = has_lengths ? pick(o->len, &r, 0, n) : n;

	problem_alloc(p, kind, n, t, V);
	p->mode = mode;
	p->len = len;
	p->has_lengths = has_lengths;
	if (kind == PK_CHAIN) {
		for (int64_t i = 0; i < n; i++)
			for (int64_t a = 0; a < t; a++)
				for (int64_t c = 0; c < t; c++)
					p->lp[(i * t + a) * t + c] =
						i < len && (i > 0 || a == 0)
							? draw(&r, mode, pinf)
							: garbage(&r);
	} else {
		for (int64_t k = 0; k < t; k++)
			p->init[k] = draw(&r, mode, pinf);
		for (int64_t k = 0; k < t * t; k++)
			p->trans[k] = draw(&r, mode, pinf);
		for (int64_t k = 0; p->emis && k < t * p->V; k++)
			p->emis[k] = draw(&r, mode, pinf);
		for (int64_t i = 0; i < n; i++) {
			if (p->obs)
				p->obs[i] = i < len ? urng_int(&r, 0, V - 1)
					    : urng_int(&r, -1, V - 1);
			for (int64_t c = 0; p->escores && c < t; c++)
				p->escores[i * t + c] =
					i < len ? draw(&r, mode, pinf)
						: garbage(&r);
		}
	}
	problem_setup(p);
}

void problem_chain_of(problem *p, const problem *src)
{
	problem_alloc(p, PK_CHAIN, src->n, src->t, 0);
	p->mode = src->mode;
	p->len = src->len;
	p->has_lengths = src->has_lengths;
	memcpy(p->lp, src->theta, sizeof(double) * (size_t)problem_event_size(src));
	problem_setup(p);
}

int check_valid(const problem *p)
{
	ss_error err = {0};
	int rc = p->s->validate(&p->e, p->ws, &err);

	return CHECK(rc == SS_OK, "validate returned %d (%s) on a valid problem",
		     rc, err.message);
}

void for_random_problems(problem_kind kind, const gen_opts *o, int per_mode,
			 uint64_t salt, problem_fn fn, void *arg)
{
	if (!o)
		o = &gen_random;
	for (int mode = 0; mode < PM_COUNT; mode++) {
		gen_opts g = *o;

		if (o->mode != GEN_RANDOM && o->mode != mode)
			continue;
		g.mode = mode;
		for (int k = 0; k < per_mode; k++) {
			uint64_t seed = salt * 1000003u + (uint64_t)kind * 7919u +
					(uint64_t)mode * 104729u + (uint64_t)k;
			problem p;
			brute b;

			problem_random(&p, kind, &g, seed);
			unit_context("%s (seed %llu)", p.label,
				     (unsigned long long)seed);
			if (check_valid(&p)) {
				brute_run(&b, p.theta, p.n, p.t, p.len);
				fn(&p, &b, arg);
				brute_free(&b);
			}
			problem_free(&p);
		}
	}
}
