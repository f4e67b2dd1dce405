/*
 * unit_validate.c - what validate() rejects (NaN or +inf in a used entry,
 * lengths out of [0, n], observations out of [0, V) at used positions) and
 * accepts (anything in padding and ignored rows, -1 observations in
 * padding); what score() accepts as an event.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* The base problems: n = 4, t = 3, V = 3, lengths = 2 (score: 3). */
static void base(problem *p, problem_kind kind, int64_t len)
{
	gen_opts o = gen_random;

	o.n = 4;
	o.t = 3;
	o.V = 3;
	o.len = len;
	o.mode = PM_NORMAL;
	o.pinf = 0.0;
	problem_random(p, kind, &o, 777 + (uint64_t)kind);
}

/* ---- validate ------------------------------------------------------------- */

typedef enum target {
	T_LP,    /* log_potentials [i, a, c] */
	T_INIT,  /* init_logits [c] */
	T_TRANS, /* transition_logits [a, c] */
	T_EMIS,  /* emission_logits [a = state, c = word] */
	T_ESC,   /* emission_scores [i, c] */
	T_OBS,   /* observations [i] */
	T_LEN,   /* lengths */
	T_COUNT
} target;

static const char *const target_names[T_COUNT] = {
	"log_potentials", "init_logits", "transition_logits",
	"emission_logits", "emission_scores", "observations", "lengths",
};

enum { SAME = 1 }; /* accepted, and results equal those of the base */

static const struct vcase {
	problem_kind kind;
	target where;
	int64_t i, a, c;
	double value;
	int expect; /* SS_OK or SS_EDATA */
	int same;
	const char *what;
} vcases[] = {
	{PK_CHAIN, T_LP, 1, 2, 1, NAN, SS_EDATA, 0, "NaN in a used entry"},
	{PK_CHAIN, T_LP, 0, 0, 2, INFINITY, SS_EDATA, 0, "+inf in a used start entry [0, 0, c]"},
	{PK_CHAIN, T_LP, 1, 0, 0, INFINITY, SS_EDATA, 0, "+inf in a used entry"},
	{PK_CHAIN, T_LEN, 0, 0, 0, -1, SS_EDATA, 0, "length -1"},
	{PK_CHAIN, T_LEN, 0, 0, 0, 5, SS_EDATA, 0, "length 5 > n = 4"},
	{PK_CHAIN, T_LP, 2, 1, 1, NAN, SS_OK, SAME, "NaN in padding"},
	{PK_CHAIN, T_LP, 3, 0, 0, INFINITY, SS_OK, SAME, "+inf in padding"},
	{PK_CHAIN, T_LP, 0, 1, 2, NAN, SS_OK, SAME, "NaN in an ignored row [0, a > 0, c]"},
	{PK_CHAIN, T_LP, 0, 2, 0, INFINITY, SS_OK, SAME, "+inf in an ignored row [0, a > 0, c]"},
	{PK_CHAIN, T_LP, 1, 1, 1, -INFINITY, SS_OK, 0, "-inf in a used entry"},
	{PK_CHAIN, T_LEN, 0, 0, 0, 0, SS_OK, 0, "length 0"},
	{PK_CHAIN, T_LEN, 0, 0, 0, 4, SS_OK, 0, "length n"},
	{PK_HMM_LOGITS, T_INIT, 0, 0, 1, NAN, SS_EDATA, 0, "NaN in init_logits"},
	{PK_HMM_LOGITS, T_TRANS, 0, 2, 0, INFINITY, SS_EDATA, 0, "+inf in transition_logits"},
	{PK_HMM_LOGITS, T_EMIS, 0, 1, 2, NAN, SS_EDATA, 0, "NaN in emission_logits"},
	{PK_HMM_LOGITS, T_OBS, 1, 0, 0, 3, SS_EDATA, 0, "observation V = 3 at a used position"},
	{PK_HMM_LOGITS, T_OBS, 0, 0, 0, -1, SS_EDATA, 0, "observation -1 at a used position"},
	{PK_HMM_LOGITS, T_LEN, 0, 0, 0, -1, SS_EDATA, 0, "length -1"},
	{PK_HMM_LOGITS, T_LEN, 0, 0, 0, 5, SS_EDATA, 0, "length 5 > n = 4"},
	{PK_HMM_LOGITS, T_OBS, 2, 0, 0, -1, SS_OK, SAME, "observation -1 in padding"},
	{PK_HMM_LOGITS, T_INIT, 0, 0, 0, -INFINITY, SS_OK, 0, "-inf in init_logits"},
	{PK_HMM_SCORES, T_ESC, 1, 0, 2, NAN, SS_EDATA, 0, "NaN in emission_scores at a used position"},
	{PK_HMM_SCORES, T_ESC, 0, 0, 0, INFINITY, SS_EDATA, 0, "+inf in emission_scores at a used position"},
	{PK_HMM_SCORES, T_TRANS, 0, 1, 1, NAN, SS_EDATA, 0, "NaN in transition_logits"},
	{PK_HMM_SCORES, T_ESC, 3, 0, 1, NAN, SS_OK, SAME, "NaN in emission_scores padding"},
	{PK_HMM_SCORES, T_ESC, 2, 0, 0, INFINITY, SS_OK, SAME, "+inf in emission_scores padding"},
};

static void mutate(problem *p, const struct vcase *v)
{
	int64_t t = p->t;

	switch (v->where) {
	case T_LP: p->lp[(v->i * t + v->a) * t + v->c] = v->value; break;
	case T_INIT: p->init[v->c] = v->value; break;
	case T_TRANS: p->trans[v->a * t + v->c] = v->value; break;
	case T_EMIS: p->emis[v->a * p->V + v->c] = v->value; break;
	case T_ESC: p->escores[v->i * t + v->c] = v->value; break;
	case T_OBS: p->obs[v->i] = (int64_t)v->value; break;
	default: p->lengths = (int64_t)v->value; break; /* T_LEN */
	}
}

/* log Z and marginals of p; 0 on failure. */
static int results(const problem *p, double *logz, double *m)
{
	ss_error err = {0};
	double z2;

	return ss_log_partition(p->s, &p->e, p->ws, logz, &err) == SS_OK &&
	       ss_marginals(p->s, &p->e, p->ws, m, &z2, &err) == SS_OK;
}

static void check_vcase(const struct vcase *v)
{
	problem p;
	ss_error err = {0};
	double z0 = NAN, z1 = NAN, *m0, *m1;
	int64_t size;
	int rc;

	base(&p, v->kind, 2);
	size = problem_event_size(&p);
	m0 = calloc((size_t)size + 1, sizeof(double));
	m1 = calloc((size_t)size + 1, sizeof(double));
	unit_context("%s", p.label);
	CHECK(results(&p, &z0, m0), "the base problem fails");
	mutate(&p, v);
	rc = p.s->validate(&p.e, p.ws, &err);
	CHECK(rc == v->expect, "validate returned %d (%s), want %d", rc,
	      err.message, v->expect);
	if (v->expect != SS_OK) {
		CHECK((int)err.status == v->expect, "err.status %d, want %d",
		      (int)err.status, v->expect);
		CHECK(strstr(err.message, target_names[v->where]) != NULL,
		      "message '%s' does not name '%s'", err.message,
		      target_names[v->where]);
	} else if (v->same && rc == SS_OK) {
		if (CHECK(results(&p, &z1, m1), "log Z or marginals failed")) {
			CHECK_CLOSE_AT(z1, z0, RTOL, "log Z with the change vs without");
			for (int64_t k = 0; k < size; k++)
				CHECK_CLOSE_AT(m1[k], m0[k], RTOL,
					       "marginals[%lld] with the change vs without",
					       (long long)k);
		}
	}
	free(m0);
	free(m1);
	problem_free(&p);
}

/* ss_format_index, which every message naming a position uses. */
static void check_format_index(void)
{
	static const int64_t shape[6] = {2, 3, 4, 5, 6, 7};
	static const int64_t empty_axis[3] = {4, 0, 3};
	char buf[64], small[6];

	unit_begin();
	ss_format_index(buf, sizeof buf, 0, 0, shape);
	CHECK(!strcmp(buf, "[]"), "rank 0 gives '%s'", buf);
	/* 1234 = ((((0 * 3 + 1) * 4 + 1) * 5 + 4) * 6 + 2) * 7 + 2 */
	ss_format_index(buf, sizeof buf, 1234, 6, shape);
	CHECK(!strcmp(buf, "[0, 1, 1, 4, 2, 2]"), "rank 6 gives '%s'", buf);
	ss_format_index(buf, sizeof buf, 17, 3, shape + 3);
	CHECK(!strcmp(buf, "[0, 2, 3]"), "rank 3 gives '%s'", buf);
	ss_format_index(buf, sizeof buf, 5, 3, empty_axis);
	CHECK(!strcmp(buf, "[0, 0, 2]"), "an axis of size 0 gives '%s'", buf);
	ss_format_index(small, sizeof small, 1234, 6, shape);
	CHECK(!strcmp(small, "[0, 1"), "a short buffer gives '%s'", small);
	unit_end("ss_format_index: the multi-index of a flat offset, any rank, cut to the buffer");
}

void suite_validate(void)
{
	int n = (int)(sizeof vcases / sizeof vcases[0]);

	for (int k = 0; k < n; k++) {
		const struct vcase *v = &vcases[k];

		unit_begin();
		check_vcase(v);
		unit_end("validate: %s (n = 4, lengths = 2): %s %s%s",
			 problem_kind_names[v->kind],
			 v->expect == SS_OK ? "accepts" : "rejects", v->what,
			 v->expect != SS_OK ? ", naming the dataset"
			 : v->same ? ", results unchanged" : "");
	}
	check_format_index();
}

/* ---- score ------------------------------------------------------------------ */

/* Events of the base problem (n = 4, t = 3, length 3) for tags (2, 0, 1),
 * changed: [i, a, c] flat as (i * 3 + a) * 3 + c. */
#define AT(i, a, c) (((i) * 3 + (a)) * 3 + (c))

typedef void (*event_change)(double *ev);

static void ch_none(double *ev) { (void)ev; }
static void ch_zero(double *ev) { memset(ev, 0, sizeof(double) * 36); }
static void ch_two_ones(double *ev) { ev[AT(1, 2, 1)] = 1; }
static void ch_inconsistent(double *ev) { ev[AT(1, 2, 0)] = 0; ev[AT(1, 1, 0)] = 1; }
static void ch_half(double *ev) { ev[AT(1, 2, 0)] = 0.5; }
static void ch_two(double *ev) { ev[AT(2, 0, 1)] = 2; }
static void ch_nan(double *ev) { ev[AT(2, 0, 1)] = NAN; }
static void ch_padding(double *ev) { ev[AT(3, 1, 1)] = 1; }
static void ch_ignored_row(double *ev) { ev[AT(0, 0, 2)] = 0; ev[AT(0, 1, 2)] = 1; }
static void ch_gap(double *ev) { ev[AT(1, 2, 0)] = 0; }
static void ch_negative(double *ev) { ev[AT(2, 2, 2)] = -1; }

static const struct scase {
	event_change change;
	int64_t len;
	int expect;
	const char *what;
} scases[] = {
	{ch_none, 3, SS_OK, "gives brute force for a valid event"},
	{ch_zero, 3, SS_OK, "gives -inf for the all-zero event at length 3"},
	{ch_zero, 0, SS_OK, "gives 0 for the all-zero event at length 0"},
	{ch_two_ones, 3, SS_EDATA, "rejects two ones at a position"},
	{ch_inconsistent, 3, SS_EDATA, "rejects tags inconsistent between positions"},
	{ch_half, 3, SS_EDATA, "rejects a value 0.5"},
	{ch_two, 3, SS_EDATA, "rejects a value 2"},
	{ch_negative, 3, SS_EDATA, "rejects a value -1"},
	{ch_nan, 3, SS_EDATA, "rejects a NaN entry"},
	{ch_padding, 3, SS_EDATA, "rejects a one in padding"},
	{ch_ignored_row, 3, SS_EDATA, "rejects a start in a row [0, a > 0, c]"},
	{ch_gap, 3, SS_EDATA, "rejects a used position without a one"},
};

static void check_scase(const struct scase *v, problem_kind kind)
{
	static const int64_t tags[3] = {2, 0, 1};
	double ev[36], score = 0.5, want;
	problem p;
	ss_error err = {0};
	int rc;

	base(&p, kind, 3);
	if (v->len != 3)
		problem_set_length(&p, v->len);
	unit_context("%s", p.label);
	brute_event(tags, 4, 3, 3, ev);
	v->change(ev);
	want = v->change == ch_zero
		       ? (v->len ? -INFINITY : 0.0)
		       : (double)brute_score(p.theta, 3, 3, tags);
	rc = ss_score(p.s, &p.e, p.ws, ev, &score, &err);
	CHECK(rc == v->expect, "score returned %d (%s), want %d", rc,
	      err.message, v->expect);
	if (v->expect == SS_OK && rc == SS_OK)
		CHECK_CLOSE_AT(score, want, RTOL, "score");
	problem_free(&p);
}

void suite_score(void)
{
	int n = (int)(sizeof scases / sizeof scases[0]);

	for (int k = 0; k < n; k++) {
		unit_begin();
		for (problem_kind kind = PK_CHAIN; kind < PK_COUNT; kind++)
			check_scase(&scases[k], kind);
		unit_end("score: linear-chain and hmm (n = 4, t = 3) %s",
			 scases[k].what);
	}
}
