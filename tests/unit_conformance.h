/*
 * unit_conformance.h - the row interface of the conformance suite
 * (tests/unit_conformance.c): one table row per structure (or variant of
 * a structure), each supplying a case generator and a brute-force
 * enumerator; every check is generic and written once.
 *
 * Adding a structure to the suite: write, anywhere under tests/ (the
 * existing rows are in tests/unit_conformance_rows.c),
 *
 *   make       fills one element's inputs for the sizes, length and mode
 *              the harness chose (conf_gen): conf_value() for every entry
 *              the structure reads, conf_unused() for every real entry it
 *              must never read (padding, ignored rows), -1 for integer ids
 *              in padding; conf_set_lengths() for the lengths input; and,
 *              when g->dead, entries -inf that leave no structure at all;
 *   enumerate  lists every structure of the element with conf_enum_add():
 *              its dense event (the layout of s->event, zero in padding)
 *              and its score (-inf allowed);
 *   grad       (optional) d log Z / d input for every real input, from the
 *              marginals: for a score linear in the potentials,
 *              conf_grad_identity;
 *
 * then add one conf_row to conf_rows[] in tests/unit_conformance.c.
 */
#ifndef UNIT_CONFORMANCE_H
#define UNIT_CONFORMANCE_H

#include "unit.h"

/* ---- generating a case ------------------------------------------------- */

/* How a mode draws the potentials of used entries. */
typedef enum conf_values {
	CV_NORMAL,  /* 1.5 N(0, 1) */
	CV_SPREAD,  /* uniform in [-500, 500] */
	CV_1E4,     /* 1e4 + uniform [-1, 1] */
	CV_12E3,    /* 1.2e4 + uniform [-1, 1] */
	CV_PEAKED,  /* 1e4 N(0, 1): one structure has almost all the mass */
	CV_MIXED,   /* 1.2e4 times -1, 0 or 1, plus 1.5 N(0, 1) */
	CV_1E5,     /* 1e5 + uniform [-1, 1] */
	CV_COUNT
} conf_values;

/* What the harness asks of a generator for one element. */
typedef struct conf_gen {
	int64_t dim[SS_DIM_COUNT]; /* the batch's sizes (also in c->e.dim) */
	int64_t len;               /* the element's length along the row's
				    * len_axis (n unless it says) */
	int has_lengths;           /* set the lengths input (else len == n) */
	int dead;                  /* leave no structure (len >= 2 then) */
	/* read by conf_value / conf_unused only */
	unit_rng rng;
	conf_values values;
	double pinf;               /* probability of -inf in a used entry */
	int unused_nan;            /* unused entries NaN, else finite garbage */
	int float32;               /* values rounded to float */
} conf_gen;

/* One element under test: the harness sets s, e.dim, e.option (the
 * row's, else the defaults), e.index; the generator sets the inputs. */
#define CONF_MAX_OWNED 24
typedef struct conf_case {
	const ss_structure *s;
	ss_element e;
	int64_t len;       /* the length the generator was given */
	int64_t lengths;   /* storage for the lengths input */
	void *owned[CONF_MAX_OWNED];
	int n_owned;
} conf_case;

/* A potential of the mode (-inf with probability pinf). */
double conf_value(conf_gen *g);
/* An entry the structure must never read. */
double conf_unused(conf_gen *g);
/* A uniform integer in [lo, hi] from the case's stream. */
int64_t conf_int(conf_gen *g, int64_t lo, int64_t hi);
/* Zeroed memory of count doubles (or int64), freed with the case. */
double *conf_reals(conf_case *c, int64_t count);
int64_t *conf_ints(conf_case *c, int64_t count);
/* Points the input named name at data (exits on an unknown name). */
void conf_set_input(conf_case *c, const char *name, const void *data);
/* The structure's lengths input = g->len, when g->has_lengths. */
void conf_set_lengths(conf_case *c, const conf_gen *g);
/* The value of the structure option named name. */
int64_t conf_option(const conf_case *c, const char *name);
/* Elements of input k of c (the product of its axes). */
int64_t conf_input_size(const conf_case *c, int k);

/* ---- enumerating -------------------------------------------------------- */

typedef struct conf_enum {
	int64_t E;            /* event size */
	int64_t count, cap;
	double *events;       /* [count][E] */
	long double *scores;  /* [count] */
	int64_t *counted;     /* [count]: the structures of finite score each
			       * event stands for (count's reference) */
	int64_t *slots;       /* hash index over the events (conf_enum_find) */
	int64_t n_slots;
} conf_enum;

void conf_enum_init(conf_enum *en, int64_t E);
void conf_enum_free(conf_enum *en);
/* Appends one structure. */
void conf_enum_add(conf_enum *en, const double *event, long double score);
/* Appends the event of `counted` structures of finite score (an event that
 * leaves part of its structures out, as td-pcfg's leaves the nonterminals):
 * score is the log-sum-exp of theirs; count counts them. */
void conf_enum_add_counted(conf_enum *en, const double *event,
			   long double score, int64_t counted);
/* Builds the index conf_enum_find reads (after the last conf_enum_add). */
void conf_enum_index(conf_enum *en);
/* The index of the structure whose event is event, -1 if none. */
int64_t conf_enum_find(const conf_enum *en, const double *event);

/* ---- the row ------------------------------------------------------------ */

typedef void (*conf_make_fn)(conf_case *c, conf_gen *g);
typedef void (*conf_enum_fn)(const conf_case *c, conf_enum *en);
/* grad[k] [conf_input_size(c, k)] (zeroed) for every real input k that is
 * present, NULL for the others. */
typedef void (*conf_grad_fn)(const conf_case *c, const double *marginals,
			     double *const grad[SS_MAX_INPUTS]);

typedef struct conf_row {
	const char *name;                /* in every TAP line of the row */
	const char *structure;           /* for ss_structure_find */
	const char *options;             /* "name=value ...", others default */
	int64_t dim_lo[SS_DIM_COUNT];    /* sizes of a batch, drawn in */
	int64_t dim_hi[SS_DIM_COUNT];    /* [lo, hi] per letter */
	int64_t len_min;                 /* the shortest valid length */
	conf_make_fn make;
	conf_enum_fn enumerate;
	conf_grad_fn grad;               /* NULL: gradients not checked */
	ss_dim len_axis;                 /* the axis of the first lengths
					  * input (0: n); a second length is
					  * the generator's to draw and set */
} conf_row;

/* Input 0 has the event's layout and the score is Σ event · input 0. */
void conf_grad_identity(const conf_case *c, const double *marginals,
			double *const grad[SS_MAX_INPUTS]);

/* ---- the rows of tests/unit_conformance_rows.c ---------------------------- */

void conf_chain_make(conf_case *c, conf_gen *g);
void conf_chain_enumerate(const conf_case *c, conf_enum *en);
void conf_hmm_logits_make(conf_case *c, conf_gen *g);
void conf_hmm_scores_make(conf_case *c, conf_gen *g);
void conf_hmm_enumerate(const conf_case *c, conf_enum *en);
void conf_hmm_grad(const conf_case *c, const double *marginals,
		   double *const grad[SS_MAX_INPUTS]);
void conf_tree_make(conf_case *c, conf_gen *g);
void conf_tree_enumerate(const conf_case *c, conf_enum *en);
void conf_tree_grad(const conf_case *c, const double *marginals,
		    double *const grad[SS_MAX_INPUTS]);

/* ---- tests/unit_conformance_semi_markov.c ------------------------------- */

void conf_semi_markov_make(conf_case *c, conf_gen *g);
void conf_semi_markov_enumerate(const conf_case *c, conf_enum *en);
/* ---- the row of tests/unit_conformance_ctc.c ------------------------------ */

void conf_ctc_make(conf_case *c, conf_gen *g);
void conf_ctc_enumerate(const conf_case *c, conf_enum *en);
void conf_ctc_grad(const conf_case *c, const double *marginals,
		   double *const grad[SS_MAX_INPUTS]);
/* ---- tree-crf (tests/unit_conformance_tree_crf.c) -------------------------- */

void conf_tree_crf_make(conf_case *c, conf_gen *g);
void conf_tree_crf_enumerate(const conf_case *c, conf_enum *en);
/* ---- tests/unit_conformance_monotone_alignment.c ---------------------------- */

void conf_monotone_make(conf_case *c, conf_gen *g);
void conf_monotone_vertical_make(conf_case *c, conf_gen *g);
void conf_monotone_enumerate(const conf_case *c, conf_enum *en);
/* ---- the rows of tests/unit_conformance_alignment.c ----------------------- */

void conf_alignment_make(conf_case *c, conf_gen *g);
void conf_alignment_enumerate(const conf_case *c, conf_enum *en);
/* ---- the rows of tests/unit_conformance_pcfg.c ---------------------------- */

void conf_pcfg_emission_make(conf_case *c, conf_gen *g);
void conf_pcfg_scores_make(conf_case *c, conf_gen *g);
void conf_pcfg_enumerate(const conf_case *c, conf_enum *en);
void conf_pcfg_grad(const conf_case *c, const double *marginals,
		    double *const grad[SS_MAX_INPUTS]);
/* log-softmax of x [m] into out (-inf for a row all -inf); back through
 * it: out = gl - softmax(x) Σ gl, for gl = d log Z / d log-softmax(x). */
void conf_log_softmax(const double *x, int64_t m, long double *out);
void conf_softmax_back(const double *x, int64_t m, const long double *gl,
		       double *out);
/* ---- the rows of tests/unit_conformance_td_pcfg.c ------------------------- */

void conf_td_pcfg_emission_make(conf_case *c, conf_gen *g);
void conf_td_pcfg_scores_make(conf_case *c, conf_gen *g);
void conf_td_pcfg_enumerate(const conf_case *c, conf_enum *en);
void conf_td_pcfg_grad(const conf_case *c, const double *marginals,
		       double *const grad[SS_MAX_INPUTS]);

#endif
