/*
 * unit_edge.c - elements without structure (log Z = -inf) and empty
 * elements (length 0, log Z = 0): every operation's convention (SPEC §4).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* Makes the case's problem. */
typedef void (*edge_make)(problem *p);

static void base(problem *p, problem_kind kind, int64_t n, int64_t len)
{
	gen_opts o = gen_random;

	o.n = n;
	o.t = 2;
	o.V = 2;
	o.len = len;
	o.mode = PM_NORMAL;
	o.pinf = 0.0;
	problem_random(p, kind, &o, 4242);
}

static void chain_dead_position(problem *p)
{
	base(p, PK_CHAIN, 3, 3);
	for (int k = 0; k < 4; k++)
		p->lp[4 + k] = -INFINITY; /* position 1 */
	problem_setup(p);
}

static void hmm_unemittable(problem *p)
{
	base(p, PK_HMM_LOGITS, 3, 3);
	p->obs[1] = 1;
	for (int c = 0; c < 2; c++)
		p->emis[c * 2 + 1] = -INFINITY; /* no state emits word 1 */
	problem_setup(p);
}

static void hmm_dead_end(problem *p)
{
	base(p, PK_HMM_LOGITS, 3, 2);
	p->init[1] = -INFINITY;                          /* start in state 0 */
	p->trans[0] = p->trans[1] = -INFINITY;           /* which has no way out */
	problem_setup(p);
}

static void hmm_scores_dead_position(problem *p)
{
	base(p, PK_HMM_SCORES, 4, 4);
	p->escores[2 * 2] = p->escores[2 * 2 + 1] = -INFINITY;
	problem_setup(p);
}

static void chain_len0(problem *p) { base(p, PK_CHAIN, 3, 0); }
static void chain_n0(problem *p) { base(p, PK_CHAIN, 0, 0); }
static void hmm_len0(problem *p)
{
	base(p, PK_HMM_LOGITS, 3, 0);
	for (int i = 0; i < 3; i++)
		p->obs[i] = -1;
	problem_setup(p);
}
static void hmm_scores_n0(problem *p) { base(p, PK_HMM_SCORES, 0, 0); }

static const struct {
	edge_make make;
	int empty; /* 1: no structure, 0: length 0 */
	const char *what;
} cases[] = {
	{chain_dead_position, 1, "linear-chain with position 1 all -inf"},
	{hmm_unemittable, 1, "hmm whose word 1 no state emits"},
	{hmm_dead_end, 1, "hmm starting in a state whose transition row is all -inf"},
	{hmm_scores_dead_position, 1, "hmm with emission_scores[2, :] all -inf"},
	{chain_len0, 0, "linear-chain with lengths 0 (n = 3)"},
	{chain_n0, 0, "linear-chain with n = 0"},
	{hmm_len0, 0, "hmm with lengths 0 and observations -1"},
	{hmm_scores_n0, 0, "hmm (emission_scores) with n = 0"},
};

/* ss_run of a one-element batch: its scalar output and empty flag. */
static void check_run_scalar(const problem *p, ss_op op, double want,
			     int want_empty)
{
	double out = 0.5;
	unsigned char empty = 0;
	ss_batch batch = {.structure = p->s, .elements = &p->e, .count = 1,
			  .num_samples = 1, .seed = 1, .empty = &empty};
	int64_t failed = -1;
	ss_error err = {0};
	int rc;

	batch.out[0] = &out;
	rc = ss_run(op, &batch, &failed, NULL, &err);
	if (!CHECK(rc == SS_OK, "ss_run %s returned %d (%s)", ss_ops[op].name,
		   rc, err.message))
		return;
	CHECK_CLOSE_AT(out, want, RTOL, "ss_run %s", ss_ops[op].name);
	CHECK(empty == want_empty, "ss_run %s: empty[0] = %d, want %d",
	      ss_ops[op].name, empty, want_empty);
}

static void check_edge(const problem *p, int empty)
{
	enum { NUM = 3 };
	int64_t size = problem_event_size(p), nonzero = 0;
	double want = empty ? -INFINITY : 0.0, h = empty ? NAN : 0.0;
	double *ev = calloc((size_t)(size * NUM) + 1, sizeof(double));
	double *m = calloc((size_t)size + 1, sizeof(double));
	double logz = 0.5, score = 0.5, lp[NUM] = {0.5, 0.5, 0.5};
	int64_t labels[8];
	int64_t *decodes[SS_MAX_DECODES] = {labels};
	ss_error err = {0};
	brute b;

	brute_run(&b, p->theta, p->n, p->t, p->len);
	CHECK_CLOSE_AT((double)b.logz, want, RTOL, "brute-force log Z");
	brute_free(&b);
	check_valid(p);

	CHECK(ss_log_partition(p->s, &p->e, p->ws, &logz, &err) == SS_OK,
	      "log_partition failed: %s", err.message);
	CHECK_CLOSE_AT(logz, want, RTOL, "log Z");

	logz = 0.5;
	for (int64_t k = 0; k < size; k++)
		m[k] = 0.5;
	CHECK(ss_marginals(p->s, &p->e, p->ws, m, &logz, &err) == SS_OK,
	      "marginals failed: %s", err.message);
	CHECK_CLOSE_AT(logz, want, RTOL, "log Z of marginals()");
	for (int64_t k = 0; k < size; k++)
		nonzero += m[k] != 0.0;
	CHECK(nonzero == 0, "%lld marginals are not 0", (long long)nonzero);

	for (int64_t k = 0; k < size; k++)
		ev[k] = 0.5;
	CHECK(ss_argmax(p->s, &p->e, p->ws, ev, &score, &err) == SS_OK,
	      "argmax failed: %s", err.message);
	CHECK_CLOSE_AT(score, want, RTOL, "argmax score");
	nonzero = 0;
	for (int64_t k = 0; k < size; k++)
		nonzero += ev[k] != 0.0;
	CHECK(nonzero == 0, "argmax: %lld entries are not 0", (long long)nonzero);

	for (int64_t i = 0; i < p->n; i++)
		labels[i] = 5;
	p->s->decode(&p->e, ev, decodes);
	for (int64_t i = 0; i < p->n; i++)
		CHECK(labels[i] == -1, "labels[%lld] = %lld, want -1",
		      (long long)i, (long long)labels[i]);

	score = 0.5;
	CHECK(ss_score(p->s, &p->e, p->ws, ev, &score, &err) == SS_OK,
	      "score of the all-zero event failed: %s", err.message);
	CHECK_CLOSE_AT(score, want, RTOL, "score of the all-zero event");

	h = 0.5;
	CHECK(ss_entropy(p->s, &p->e, p->ws, &h, &err) == SS_OK,
	      "entropy failed: %s", err.message);
	CHECK_CLOSE_AT(h, empty ? NAN : 0.0, RTOL, "entropy");

	for (int64_t k = 0; k < size * NUM; k++)
		ev[k] = 0.5;
	CHECK(ss_sample(p->s, &p->e, p->ws, 5, NUM, ev, (size_t)size, lp, 1,
			   &err) == SS_OK,
	      "sample failed: %s", err.message);
	nonzero = 0;
	for (int64_t k = 0; k < size * NUM; k++)
		nonzero += ev[k] != 0.0;
	CHECK(nonzero == 0, "samples: %lld entries are not 0", (long long)nonzero);
	for (int s = 0; s < NUM; s++)
		CHECK_CLOSE_AT(lp[s], want, RTOL, "log_prob of sample %d", s);

	check_run_scalar(p, SS_OP_PARTITION, want, empty);
	check_run_scalar(p, SS_OP_ENTROPY, empty ? NAN : 0.0, empty);
	free(ev);
	free(m);
}

void suite_edge(void)
{
	int n_cases = (int)(sizeof cases / sizeof cases[0]);

	for (int k = 0; k < n_cases; k++) {
		problem p;

		unit_begin();
		cases[k].make(&p);
		unit_context("%s", p.label);
		check_edge(&p, cases[k].empty);
		problem_free(&p);
		unit_end("edge: %s: %s", cases[k].what,
			 cases[k].empty
				 ? "no structure: log Z -inf, marginals 0, argmax and samples empty with score/log_prob -inf, labels -1, entropy NaN, ss_run empty = 1"
				 : "one empty structure: log Z 0, marginals 0, argmax and samples empty with score/log_prob 0, labels -1, entropy 0, ss_run empty = 0");
	}
}
