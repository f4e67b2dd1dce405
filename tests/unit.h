/*
 * unit.h - the synstruct C unit tests: a small TAP harness, a seeded random
 * problem generator and brute-force enumerators.
 *
 * Output is TAP: one line per group of checks, "ok N - what" or
 * "not ok N - what" followed by "# ..." diagnostics, then the plan "1..N".
 * build/unit runs every suite; build/unit NAME runs the suites whose name
 * contains NAME.
 *
 * A group of checks:
 *
 *	unit_begin();
 *	for (...) {
 *		unit_context("problem %d", k);
 *		CHECK_CLOSE(got, want, RTOL);
 *	}
 *	unit_end("linear-chain: log Z equals brute force");
 *
 * Adding a suite: write tests/unit_<name>.c with a function suite_<name>(),
 * declare it below and list it in the table in tests/unit.c.
 *
 * Adding a structure: do not write a new harness. The conformance suite
 * (tests/unit_conformance.c) runs every operation of every structure
 * through ss_run against brute force, with the conventions of SPEC §4,
 * determinism across threads and chunks, finite-difference gradients and
 * a goodness-of-fit test; a structure joins it with one row of its table:
 * a case generator and a brute-force enumerator (the interface is in
 * tests/unit_conformance.h). Write a suite of its own only for what is
 * particular to it (identities, hand-worked cases, bad input).
 */
#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>
#include <stdint.h>

#include "synstruct.h"

/* Tolerance for float64 results against brute force (SPEC §5). */
#define RTOL 1e-9

/* ---- TAP harness (tests/unit.c) ----------------------------------------- */

/* Starts a group of checks. */
void unit_begin(void);
/* Ends the group: prints its TAP line and, on failure, its diagnostics.
 * Returns 1 when every check of the group passed. */
int unit_end(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Text put in front of the diagnostics that follow (which problem). */
void unit_context(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A comment printed after the group's TAP line, pass or fail. */
void unit_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records one check; returns ok. */
int unit_check(int ok, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Equal infinities are equal, NaN equals only NaN, otherwise
 * |got - want| <= rtol * max(1, |want|). */
int unit_close(double got, double want, double rtol);
int unit_check_close(double got, double want, double rtol, const char *file,
		     int line, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#define CHECK(cond, ...) \
	unit_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_CLOSE(got, want, rtol) \
	unit_check_close((got), (want), (rtol), __FILE__, __LINE__, "%s", #got)
#define CHECK_CLOSE_AT(got, want, rtol, ...) \
	unit_check_close((got), (want), (rtol), __FILE__, __LINE__, __VA_ARGS__)

/* ---- chi-square goodness of fit (tests/unit_stats.c) -------------------- */

typedef struct chi2_cell {
	double expected;
	long observed;
} chi2_cell;

/* The 0.999 quantile of chi-square with df degrees of freedom
 * (Wilson-Hilferty). */
double chi2_q999(int df);
/* Pearson's statistic with cells of expected count < 5 pooled (the pool
 * joins the smallest other cell if it is still under 5); sorts cells and
 * sets *df. */
double chi2_pooled(chi2_cell *cells, int n, int *df);
/* The verdict: checks (unit_check) that the pooled statistic of the n cells
 * has at least one degree of freedom and is below the 0.999 quantile, and
 * notes it after label. Sorts the cells. */
void chi2_check(chi2_cell *cells, int n, const char *label);

/* ---- seeded generator (tests/unit_problem.c) ---------------------------- */

typedef struct unit_rng {
	uint64_t state;
} unit_rng;

void urng_seed(unit_rng *r, uint64_t seed);
uint64_t urng_next(unit_rng *r);
/* Uniform in [0, 1). */
double urng_uniform(unit_rng *r);
/* Uniform integer in [lo, hi]. */
int64_t urng_int(unit_rng *r, int64_t lo, int64_t hi);
double urng_normal(unit_rng *r);
/* Logits of arrays rows[a] [count[a]] in rows of width[a]: 2 N(0, 1),
 * -inf with probability 0.15, a whole row -inf with probability 0.1. */
void unit_draw_logit_rows(unit_rng *r, double *const rows[],
			  const int64_t count[], const int64_t width[],
			  int arrays);

/* 64-byte aligned workspace of at least 64 bytes; free() it. */
void *ws_alloc(size_t bytes);

/* ---- brute force (tests/unit_brute.c) ------------------------------------ */

/*
 * Enumerates all t^len tag sequences y of a chain with potentials theta
 * [n, t, t]: score(y) = theta[0, 0, y0] + sum_{i>=1} theta[i, y_{i-1}, y_i].
 * Sequence code = sum_i y_i t^i. Sums are long double log-sum-exp.
 */
typedef struct brute {
	int64_t n, t, len, count;
	long double *scores; /* [count] */
	long double logz;    /* -inf when no structure */
	long double max;     /* best score */
	int64_t best;        /* its code */
	int unique;          /* the best is unique (by more than RTOL) */
	double *marg;        /* [n, t, t], zero outside the used entries */
	double entropy;      /* NaN when no structure */
} brute;

void brute_run(brute *b, const double *theta, int64_t n, int64_t t,
	       int64_t len);
void brute_free(brute *b);
long double brute_score(const double *theta, int64_t t, int64_t len,
			const int64_t *tags);
void brute_tags(int64_t code, int64_t t, int64_t len, int64_t *tags);
int64_t brute_code(const int64_t *tags, int64_t t, int64_t len);

/* Log-softmax of x[m] in long double; a row entirely -inf stays -inf. */
void brute_log_softmax(const double *x, int64_t m, long double *out);
/* The chain an HMM builds (SPEC §1), theta [n, t, t], zero where unused.
 * emis with obs, or escores. */
void brute_hmm_theta(int64_t n, int64_t t, int64_t V, int64_t len,
		     const double *init, const double *trans,
		     const double *emis, const int64_t *obs,
		     const double *escores, double *theta);

/* The event [n, t, t] of a tag sequence (zero in padding). */
void brute_event(const int64_t *tags, int64_t n, int64_t t, int64_t len,
		 double *event);

enum { EVENT_INVALID = -1, EVENT_EMPTY = 0, EVENT_STRUCTURE = 1 };
/* Reads an event back into tags (-1 in padding). EVENT_STRUCTURE for a
 * structure of length len (the all-zero event when len = 0), EVENT_EMPTY
 * for the all-zero event when len > 0, else
 * EVENT_INVALID (why in *why when not NULL). */
int event_tags(const double *event, int64_t n, int64_t t, int64_t len,
	       int64_t *tags, const char **why);

/* ---- random problems (tests/unit_problem.c) ------------------------------- */

typedef enum problem_kind {
	PK_CHAIN,       /* linear-chain */
	PK_HMM_LOGITS,  /* hmm with emission_logits and observations */
	PK_HMM_SCORES,  /* hmm with emission_scores */
	PK_COUNT
} problem_kind;

typedef enum problem_mode {
	PM_NORMAL, /* potentials ~ 1.5 N(0, 1) */
	PM_SPREAD, /* uniform in [-500, 500] */
	PM_HUGE,   /* 1e4 + uniform [-1, 1] */
	PM_COUNT
} problem_mode;

extern const char *const problem_kind_names[PK_COUNT];
extern const char *const problem_mode_names[PM_COUNT];

/* Generator options; GEN_RANDOM (-1) in a field draws it. */
#define GEN_RANDOM (-1)
typedef struct gen_opts {
	int64_t n, t, V, len;
	int has_lengths;
	int mode;
	double pinf; /* probability of -inf in a used entry */
} gen_opts;

extern const gen_opts gen_random;

typedef struct problem {
	problem_kind kind;
	int mode;
	const ss_structure *s;
	int64_t n, t, V, len;
	int has_lengths;
	int64_t lengths;  /* the lengths input, when has_lengths */
	/* inputs (NULL where the kind has none) */
	double *lp;       /* chain [n, t, t] */
	double *init;     /* [t] */
	double *trans;    /* [t, t] */
	double *emis;     /* [t, V] */
	int64_t *obs;     /* [n] */
	double *escores;  /* [n, t] */
	double *theta;    /* the chain the brute force scores [n, t, t] */
	ss_element e;
	void *ws;
	size_t ws_bytes;
	char label[96];
} problem;

/* Allocates the inputs of kind (zeroed), len = n, no lengths input. */
void problem_alloc(problem *p, problem_kind kind, int64_t n, int64_t t,
		   int64_t V);
/* After the inputs are filled: builds theta, the element and the
 * workspace. Call again after changing len or the inputs. */
void problem_setup(problem *p);
void problem_free(problem *p);
/* A random problem from o (fields at GEN_RANDOM drawn) and seed. */
void problem_random(problem *p, problem_kind kind, const gen_opts *o,
		    uint64_t seed);
/* The linear-chain problem with potentials src->theta and src's length. */
void problem_chain_of(problem *p, const problem *src);
/* Sets the length (and the lengths input) and redoes the setup. */
void problem_set_length(problem *p, int64_t len);
int64_t problem_event_size(const problem *p);
/* Index of the input named name in s->inputs, and of the option named
 * name in s->options: tests look inputs and options up by name, never by
 * a copy of a structure's private enum. A name s does not have ends the
 * run (exit status 2). */
int input_index(const ss_structure *s, const char *name);
int option_index(const ss_structure *s, const char *name);

/*
 * Calls fn on per_mode random problems of kind for each mode (or only
 * o->mode when set), after checking that validate accepts them. Sets the
 * diagnostic context to the problem's label.
 */
typedef void (*problem_fn)(const problem *p, const brute *b, void *arg);
void for_random_problems(problem_kind kind, const gen_opts *o, int per_mode,
			 uint64_t salt, problem_fn fn, void *arg);
/* The structure's validate on p; checks SS_OK. */
int check_valid(const problem *p);

/* Entropy >= 0 on seeded problems with inputs N(0, 1) x 100, 1000, 1e4,
 * and equal to brute force at those scales (tests/unit_chain.c). */
void entropy_scale_groups(problem_kind kind);

/* ---- lower_grad against finite differences (tests/unit_lower_grad.c) ------ */

/* 1 if the canonical element c reads entry j of its θ (NULL: every
 * entry). */
typedef int (*theta_reads_fn)(const ss_element *c, int64_t j);

/*
 * Checks s->lower_grad on element e (its real inputs double; entries lower
 * never reads NaN, -inf allowed elsewhere; preparations used if set) with
 * a random dθ, finite everywhere: that Σ_k grad[k] · δ_k equals the
 * central difference (h = 1e-5, tolerance 1e-6) of Σ_j dθ_j θ_j(x) over
 * the entries of θ that are finite and read, for `directions` random δ
 * over every finite input entry and, with unit, for each such entry
 * alone; that no gradient is NaN, that NaN and -inf entries get exactly
 * 0, that nothing is written past an array, that the workspace need not
 * hold lower's results, and that each input's gradient alone (the others
 * NULL) is the same bits.
 */
void check_lower_grad(const ss_structure *s, const ss_element *e,
		      theta_reads_fn reads, unit_rng *r, int directions,
		      int unit);

/* ---- suites -------------------------------------------------------------- */

void suite_brute(void);
void suite_tables(void);
void suite_chain(void);
void suite_hmm(void);
void suite_edge(void);
void suite_validate(void);
void suite_score(void);
void suite_sample(void);
void suite_driver(void);
void suite_projective(void);
void suite_nonprojective(void);
void suite_spanning_tree(void);
void suite_ctc(void);
void suite_encode(void);
void suite_derived(void);
void suite_monotone_alignment(void);
void suite_pcfg(void);
void suite_td_pcfg(void);
void suite_conformance(void);
void suite_isa(void);
void suite_semi_markov(void);
void suite_tree_crf(void);
void suite_alignment(void);
void suite_tensor(void);

#endif
