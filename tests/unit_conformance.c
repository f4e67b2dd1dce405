/*
 * unit_conformance.c - one conformance suite for every structure, driven
 * by a table with one row per structure (or variant of one): conf_rows[].
 *
 * A row supplies a case generator and a brute-force enumerator (and,
 * optionally, the gradient of log Z from the marginals); see
 * tests/unit_conformance.h for the interface. Everything else is here,
 * written once for every row:
 *
 *   batches  for each mode of modes[] (normal scores, a spread of ±500,
 *            magnitudes near 1e4, 1.2e4 and 1e5, 1e4 N(0, 1), 1.2e4 times
 *            -1, 0 or 1, many -inf, padding, elements without structure,
 *            float32 inputs), BATCHES batches of BATCH
 *            elements of one size (the row's largest for the first batch,
 *            else drawn from its ranges), lengths drawn per element, NaN
 *            (or finite garbage) in every entry the structure never reads;
 *   results  every operation of ss_ops through the batch driver ss_run,
 *            against the enumeration: log Z (log-sum-exp of the scores),
 *            marginals (Σ p(y) event(y)), argmax (the best score; the
 *            event one of the best structures), samples (structures of
 *            positive probability, log_prob = score - log Z), entropy,
 *            log-prob of every structure and of the argmax; padding
 *            (indices >= len on an axis n) is 0 in every event and -1 in
 *            every decode; decode then ss_encode gives the event back;
 *            elements without structure follow SPEC §4 and set empty[];
 *   bytes    every output is the same when the batch runs in chunks of 2
 *            or 3 elements, and at 2 and 4 OpenMP threads (the first batch
 *            of two modes: such runs are slow on a loaded machine), as the
 *            whole batch at 1 thread;
 *   grads    marginals are d log Z / d input (central differences on
 *            every finite entry of every real input, normal scales);
 *   fit      CONF_FIT_DRAWS samples of a small problem pass a chi-square
 *            test at 0.999 against the enumerated distribution;
 *   derived  count, cross-entropy and kl through ss_run against their
 *            brute-force references, cross-entropy and kl over the batch
 *            and a twin batch Q of the same sizes and lengths (see
 *            "count, cross-entropy and kl" below); an op of ss_ops this
 *            suite does not know gets a note in the TAP output.
 *
 * The float32 modes emulate float32 files: inputs rounded to float, the
 * engine's real results rounded to float, compared with 1e-5 against
 * brute force in double on the rounded inputs (SPEC §5); the other modes
 * compare with RTOL.
 *
 * A new structure joins by adding one row to conf_rows[] below (an
 * enumerator and a case generator), not a new harness.
 */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_conformance.h"

/* ---- the table --------------------------------------------------------------- */

#define TREE_ROW(name, options)                                      \
	{"spanning-tree " name, "spanning-tree", options,                 \
	 {[SS_DIM_N] = 1}, {[SS_DIM_N] = 5}, 1,                           \
	 conf_tree_make, conf_tree_enumerate, conf_tree_grad, SS_DIM_N}

#define CTC_ROW(name, options)                                       \
	{name, "ctc", options,                                            \
	 {[SS_DIM_N] = 0, [SS_DIM_L] = 0, [SS_DIM_V] = 2},                \
	 {[SS_DIM_N] = 5, [SS_DIM_L] = 2, [SS_DIM_V] = 3}, 0,             \
	 conf_ctc_make, conf_ctc_enumerate, conf_ctc_grad, SS_DIM_N}

static const conf_row conf_rows[] = {
	{"linear-chain", "linear-chain", "",
	 {[SS_DIM_N] = 0, [SS_DIM_T] = 1}, {[SS_DIM_N] = 5, [SS_DIM_T] = 3}, 0,
	 conf_chain_make, conf_chain_enumerate, conf_grad_identity, SS_DIM_N},
	{"hmm (emission_logits)", "hmm", "",
	 {[SS_DIM_N] = 0, [SS_DIM_T] = 1, [SS_DIM_V] = 1},
	 {[SS_DIM_N] = 5, [SS_DIM_T] = 3, [SS_DIM_V] = 3}, 0,
	 conf_hmm_logits_make, conf_hmm_enumerate, conf_hmm_grad, SS_DIM_N},
	{"hmm (emission_scores)", "hmm", "",
	 {[SS_DIM_N] = 0, [SS_DIM_T] = 1}, {[SS_DIM_N] = 5, [SS_DIM_T] = 3}, 0,
	 conf_hmm_scores_make, conf_hmm_enumerate, conf_hmm_grad, SS_DIM_N},
	TREE_ROW("directed non-projective multi-root",
		 "directed=1 projective=0 single_root_edge=0"),
	TREE_ROW("directed non-projective single-root",
		 "directed=1 projective=0 single_root_edge=1"),
	TREE_ROW("directed projective multi-root",
		 "directed=1 projective=1 single_root_edge=0"),
	TREE_ROW("directed projective single-root",
		 "directed=1 projective=1 single_root_edge=1"),
	TREE_ROW("undirected non-projective multi-root",
		 "directed=0 projective=0 single_root_edge=0"),
	TREE_ROW("undirected non-projective single-root",
		 "directed=0 projective=0 single_root_edge=1"),
	TREE_ROW("undirected projective multi-root",
		 "directed=0 projective=1 single_root_edge=0"),
	TREE_ROW("undirected projective single-root",
		 "directed=0 projective=1 single_root_edge=1"),
	{"semi-markov", "semi-markov", "",
	 {[SS_DIM_N] = 0, [SS_DIM_M] = 1, [SS_DIM_T] = 1},
	 {[SS_DIM_N] = 5, [SS_DIM_M] = 3, [SS_DIM_T] = 3}, 0,
	 conf_semi_markov_make, conf_semi_markov_enumerate, conf_grad_identity,
	 SS_DIM_N},
	CTC_ROW("ctc", ""),
	CTC_ROW("ctc blank_id=1", "blank_id=1"),
	{"tree-crf", "tree-crf", "",
	 {[SS_DIM_N] = 1, [SS_DIM_T] = 1}, {[SS_DIM_N] = 5, [SS_DIM_T] = 2}, 1,
	 conf_tree_crf_make, conf_tree_crf_enumerate, conf_grad_identity,
	 SS_DIM_N},
	{"monotone-alignment", "monotone-alignment", "",
	 {[SS_DIM_K] = 1, [SS_DIM_R] = 1, [SS_DIM_C] = 1},
	 {[SS_DIM_K] = 3, [SS_DIM_R] = 4, [SS_DIM_C] = 4}, 1,
	 conf_monotone_make, conf_monotone_enumerate, NULL, SS_DIM_R},
	{"monotone-alignment (vertical)", "monotone-alignment", "",
	 {[SS_DIM_K] = 1, [SS_DIM_R] = 1, [SS_DIM_C] = 1},
	 {[SS_DIM_K] = 3, [SS_DIM_R] = 4, [SS_DIM_C] = 4}, 1,
	 conf_monotone_vertical_make, conf_monotone_enumerate, NULL, SS_DIM_R},
	/* up to 8 columns: C(7, 3) = 35 paths for the goodness of fit */
	{"alignment monotone-one-to-many", "alignment",
	 "alignment_type=monotone-one-to-many",
	 {[SS_DIM_R] = 1, [SS_DIM_C] = 1}, {[SS_DIM_R] = 4, [SS_DIM_C] = 8}, 1,
	 conf_alignment_make, conf_alignment_enumerate, conf_grad_identity,
	 SS_DIM_R},
	{"alignment monotone-many-to-many", "alignment",
	 "alignment_type=monotone-many-to-many",
	 {[SS_DIM_R] = 1, [SS_DIM_C] = 1}, {[SS_DIM_R] = 4, [SS_DIM_C] = 4}, 1,
	 conf_alignment_make, conf_alignment_enumerate, conf_grad_identity,
	 SS_DIM_R},
	/* square tables: R = C (the lengths vary the size); argmax only */
	{"alignment non-monotone-one-to-one", "alignment",
	 "alignment_type=non-monotone-one-to-one",
	 {[SS_DIM_R] = 4, [SS_DIM_C] = 4}, {[SS_DIM_R] = 4, [SS_DIM_C] = 4}, 1,
	 conf_alignment_make, conf_alignment_enumerate, NULL, SS_DIM_R},
	{"pcfg (emission)", "pcfg", "",
	 {[SS_DIM_N] = 2, [SS_DIM_NT] = 1, [SS_DIM_PT] = 1, [SS_DIM_V] = 1},
	 {[SS_DIM_N] = 4, [SS_DIM_NT] = 2, [SS_DIM_PT] = 2, [SS_DIM_V] = 3}, 2,
	 conf_pcfg_emission_make, conf_pcfg_enumerate, conf_pcfg_grad, SS_DIM_N},
	{"pcfg (preterminal_scores)", "pcfg", "",
	 {[SS_DIM_N] = 2, [SS_DIM_NT] = 1, [SS_DIM_PT] = 1},
	 {[SS_DIM_N] = 4, [SS_DIM_NT] = 2, [SS_DIM_PT] = 2}, 2,
	 conf_pcfg_scores_make, conf_pcfg_enumerate, conf_pcfg_grad, SS_DIM_N},
	{"td-pcfg (emission)", "td-pcfg", "",
	 {[SS_DIM_N] = 2, [SS_DIM_NT] = 1, [SS_DIM_PT] = 1, [SS_DIM_RANK] = 1,
	  [SS_DIM_V] = 1},
	 {[SS_DIM_N] = 3, [SS_DIM_NT] = 2, [SS_DIM_PT] = 2, [SS_DIM_RANK] = 2,
	  [SS_DIM_V] = 2}, 2,
	 conf_td_pcfg_emission_make, conf_td_pcfg_enumerate, conf_td_pcfg_grad,
	 SS_DIM_N},
	{"td-pcfg (preterminal_scores)", "td-pcfg", "",
	 {[SS_DIM_N] = 2, [SS_DIM_NT] = 1, [SS_DIM_PT] = 1, [SS_DIM_RANK] = 1},
	 {[SS_DIM_N] = 3, [SS_DIM_NT] = 2, [SS_DIM_PT] = 2, [SS_DIM_RANK] = 2}, 2,
	 conf_td_pcfg_scores_make, conf_td_pcfg_enumerate, conf_td_pcfg_grad,
	 SS_DIM_N},
};

/* ---- modes --------------------------------------------------------------------- */

enum { DEAD_NONE, DEAD_LAST, DEAD_HALF };

typedef struct conf_mode {
	const char *name;
	conf_values values;
	double pinf;     /* probability of -inf in a used entry */
	int unused_nan;  /* unused entries NaN (else finite garbage) */
	int padding;     /* lengths always given, below n where possible */
	int dead;        /* DEAD_LAST: the last element, DEAD_HALF: odd ones */
	int fd;          /* check gradients by finite differences */
	int float32;     /* inputs and results rounded to float */
	int threads;     /* first batch also run at 2 and 4 threads */
} conf_mode;

static const conf_mode modes[] = {
	{.name = "normal", .values = CV_NORMAL, .pinf = 0.1, .unused_nan = 1,
	 .dead = DEAD_LAST, .fd = 1, .threads = 1},
	{.name = "+-500", .values = CV_SPREAD, .pinf = 0.1, .dead = DEAD_LAST},
	{.name = "1e4", .values = CV_1E4, .pinf = 0.1, .unused_nan = 1},
	{.name = "1.2e4", .values = CV_12E3, .pinf = 0.1},
	{.name = "1e4 N(0, 1)", .values = CV_PEAKED, .pinf = 0.1,
	 .unused_nan = 1, .dead = DEAD_LAST},
	{.name = "1.2e4 x {-1, 0, 1}", .values = CV_MIXED, .pinf = 0.1,
	 .unused_nan = 1},
	{.name = "1e5", .values = CV_1E5, .pinf = 0.1, .unused_nan = 1},
	{.name = "-inf", .values = CV_NORMAL, .pinf = 0.35, .unused_nan = 1,
	 .fd = 1},
	{.name = "padding", .values = CV_NORMAL, .pinf = 0.05, .unused_nan = 1,
	 .padding = 1, .fd = 1},
	{.name = "no structure", .values = CV_NORMAL, .pinf = 0.1,
	 .unused_nan = 1, .dead = DEAD_HALF, .threads = 1},
	{.name = "float32", .values = CV_NORMAL, .pinf = 0.1, .unused_nan = 1,
	 .dead = DEAD_LAST, .float32 = 1},
	{.name = "float32 1e4", .values = CV_1E4, .pinf = 0.1, .unused_nan = 1,
	 .float32 = 1},
};

#define N_MODES ((int)(sizeof modes / sizeof modes[0]))
#define BATCHES 3        /* per mode */
#define BATCH 5          /* elements per batch */
#define SAMPLES 3        /* samples per element in the sample checks */
#define TOPK_RANKS 7     /* K of top-k: more than some elements have */
#define SEED 8675309u    /* the samplers' seed */
#define FLOAT32_RTOL 1e-5
#define FD_H 1e-5
#define FD_TOL 1e-6
#define CONF_FIT_DRAWS 20000
#define N_OUT (SS_MAX_OP_OUTPUTS + SS_MAX_DECODES)

/* ---- generator helpers (unit_conformance.h) ------------------------------------- */

double conf_value(conf_gen *g)
{
	double x;

	if (urng_uniform(&g->rng) < g->pinf)
		return -INFINITY;
	switch (g->values) {
	case CV_SPREAD: x = 1000.0 * urng_uniform(&g->rng) - 500.0; break;
	case CV_1E4: x = 1e4 + 2.0 * urng_uniform(&g->rng) - 1.0; break;
	case CV_12E3: x = 1.2e4 + 2.0 * urng_uniform(&g->rng) - 1.0; break;
	case CV_PEAKED: x = 1e4 * urng_normal(&g->rng); break;
	case CV_MIXED:
		x = 1.2e4 * (double)urng_int(&g->rng, -1, 1) +
		    1.5 * urng_normal(&g->rng);
		break;
	case CV_1E5: x = 1e5 + 2.0 * urng_uniform(&g->rng) - 1.0; break;
	default: x = 1.5 * urng_normal(&g->rng); break;
	}
	return g->float32 ? (double)(float)x : x;
}

double conf_unused(conf_gen *g)
{
	double x = 2000.0 * urng_uniform(&g->rng) - 1000.0;

	return g->unused_nan ? NAN : x;
}

int64_t conf_int(conf_gen *g, int64_t lo, int64_t hi)
{
	return urng_int(&g->rng, lo, hi);
}

static void *conf_own(conf_case *c, size_t bytes)
{
	void *p = calloc(bytes + 8, 1);

	if (c->n_owned == CONF_MAX_OWNED) {
		fprintf(stderr, "unit: a conformance case owns more than %d arrays\n",
			CONF_MAX_OWNED);
		exit(2);
	}
	c->owned[c->n_owned++] = p;
	return p;
}

double *conf_reals(conf_case *c, int64_t count)
{
	return conf_own(c, sizeof(double) * (size_t)count);
}

int64_t *conf_ints(conf_case *c, int64_t count)
{
	return conf_own(c, sizeof(int64_t) * (size_t)count);
}

void conf_set_input(conf_case *c, const char *name, const void *data)
{
	int k = input_index(c->s, name);

	if (k < 0) {
		fprintf(stderr, "unit: %s has no input '%s'\n", c->s->name, name);
		exit(2);
	}
	c->e.input[k].data = data;
}

void conf_set_lengths(conf_case *c, const conf_gen *g)
{
	c->lengths = g->len;
	if (g->has_lengths)
		c->e.input[c->s->lengths_inputs[0]].data = &c->lengths;
}

int64_t conf_option(const conf_case *c, const char *name)
{
	for (int k = 0; k < c->s->n_options; k++)
		if (!strcmp(c->s->options[k].name, name))
			return c->e.option[k];
	fprintf(stderr, "unit: %s has no option '%s'\n", c->s->name, name);
	exit(2);
}

int64_t conf_input_size(const conf_case *c, int k)
{
	const ss_input_spec *in = &c->s->inputs[k];
	int64_t size = 1;

	for (int d = 0; d < in->rank; d++)
		size *= c->e.dim[in->dims[d]];
	return size;
}

void conf_grad_identity(const conf_case *c, const double *marginals,
			double *const grad[SS_MAX_INPUTS])
{
	memcpy(grad[0], marginals,
	       sizeof(double) * (size_t)ss_event_size(c->s, c->e.dim));
}

static void case_free(conf_case *c)
{
	for (int k = 0; k < c->n_owned; k++)
		free(c->owned[k]);
	memset(c, 0, sizeof *c);
}

/* ---- enumerations --------------------------------------------------------------- */

void conf_enum_init(conf_enum *en, int64_t E)
{
	memset(en, 0, sizeof *en);
	en->E = E;
}

void conf_enum_free(conf_enum *en)
{
	free(en->events);
	free(en->scores);
	free(en->counted);
	free(en->slots);
	memset(en, 0, sizeof *en);
}

void conf_enum_add_counted(conf_enum *en, const double *event,
			   long double score, int64_t counted)
{
	if (en->count == en->cap) {
		en->cap = en->cap ? 2 * en->cap : 64;
		en->events = realloc(en->events, sizeof(double) *
				     (size_t)(en->cap * en->E + 1));
		en->scores = realloc(en->scores, sizeof(long double) *
				     (size_t)en->cap);
		en->counted = realloc(en->counted, sizeof(int64_t) *
				      (size_t)en->cap);
	}
	memcpy(en->events + en->count * en->E, event,
	       sizeof(double) * (size_t)en->E);
	en->counted[en->count] = counted;
	en->scores[en->count++] = score;
}

void conf_enum_add(conf_enum *en, const double *event, long double score)
{
	conf_enum_add_counted(en, event, score, !isinf(score));
}

/* FNV-1a over the entries, -0 read as 0. */
static uint64_t event_hash(const double *event, int64_t E)
{
	uint64_t h = 1469598103934665603ULL;

	for (int64_t k = 0; k < E; k++) {
		double x = event[k] + 0.0;
		unsigned char b[sizeof x];

		memcpy(b, &x, sizeof x);
		for (size_t i = 0; i < sizeof x; i++)
			h = (h ^ b[i]) * 1099511628211ULL;
	}
	return h;
}

static int same_event(const double *x, const double *y, int64_t E)
{
	for (int64_t k = 0; k < E; k++)
		if (x[k] != y[k])
			return 0;
	return 1;
}

void conf_enum_index(conf_enum *en)
{
	uint64_t mask;

	free(en->slots);
	en->n_slots = 16;
	while (en->n_slots < 2 * en->count)
		en->n_slots *= 2;
	en->slots = malloc(sizeof(int64_t) * (size_t)en->n_slots);
	for (int64_t s = 0; s < en->n_slots; s++)
		en->slots[s] = -1;
	mask = (uint64_t)en->n_slots - 1;
	for (int64_t k = 0; k < en->count; k++) {
		uint64_t s = event_hash(en->events + k * en->E, en->E) & mask;

		while (en->slots[s] >= 0)
			s = (s + 1) & mask;
		en->slots[s] = k;
	}
}

int64_t conf_enum_find(const conf_enum *en, const double *event)
{
	const uint64_t mask = (uint64_t)en->n_slots - 1;

	for (uint64_t s = event_hash(event, en->E) & mask; en->slots[s] >= 0;
	     s = (s + 1) & mask)
		if (same_event(en->events + en->slots[s] * en->E, event, en->E))
			return en->slots[s];
	return -1;
}

/* What the enumeration says of an element. */
typedef struct conf_ref {
	conf_enum en;
	long double logz, max;  /* -inf without structure */
	int64_t finite;         /* structures of finite score */
	int64_t counted;        /* what count counts (conf_enum.counted) */
	int64_t duplicates;     /* events listed twice (an enumerator bug) */
	double *marg;           /* [E] */
	double entropy;         /* NaN without structure */
} conf_ref;

static void ref_make(conf_ref *r, const conf_row *row, const conf_case *c)
{
	const int64_t E = ss_event_size(c->s, c->e.dim);
	long double sum = 0.0L, h = 0.0L;
	long double *marg = calloc((size_t)E + 1, sizeof *marg);

	memset(r, 0, sizeof *r);
	conf_enum_init(&r->en, E);
	row->enumerate(c, &r->en);
	conf_enum_index(&r->en);
	r->marg = calloc((size_t)E + 1, sizeof *r->marg);
	r->max = -INFINITY;
	for (int64_t k = 0; k < r->en.count; k++) {
		r->finite += !isinf(r->en.scores[k]);
		r->counted += r->en.counted[k];
		r->max = fmaxl(r->max, r->en.scores[k]);
		r->duplicates += conf_enum_find(&r->en, r->en.events + k * E) != k;
	}
	r->logz = -INFINITY;
	r->entropy = NAN;
	if (r->finite > 0) {
		for (int64_t k = 0; k < r->en.count; k++)
			sum += expl(r->en.scores[k] - r->max);
		r->logz = r->max + logl(sum);
		for (int64_t k = 0; k < r->en.count; k++) {
			long double p;

			if (isinf(r->en.scores[k]))
				continue;
			p = expl(r->en.scores[k] - r->logz);
			h += p * (r->logz - r->en.scores[k]);
			for (int64_t x = 0; x < E; x++)
				marg[x] += p * r->en.events[k * E + x];
		}
		r->entropy = (double)h;
	}
	for (int64_t x = 0; x < E; x++)
		r->marg[x] = (double)marg[x];
	free(marg);
}

static void ref_free(conf_ref *r)
{
	conf_enum_free(&r->en);
	free(r->marg);
}

/* log p of structure k (-inf where its score or log Z is). */
/* The best enumerated score of a structure whose event has entry x. */
static double ref_max_marginal(const conf_ref *r, int64_t x)
{
	long double best = -INFINITY;

	for (int64_t k = 0; k < r->en.count; k++)
		if (r->en.events[k * r->en.E + x] != 0.0 && r->en.scores[k] > best)
			best = r->en.scores[k];
	return (double)best;
}

static double ref_log_prob(const conf_ref *r, int64_t k)
{
	if (k < 0 || isinf(r->en.scores[k]) || isinf(r->logz))
		return -INFINITY;
	return (double)(r->en.scores[k] - r->logz);
}

/* ---- batches -------------------------------------------------------------------- */

typedef struct conf_out {
	int ok, n;
	int64_t rows, count;
	int64_t size[N_OUT];
	void *arr[N_OUT];
	unsigned char empty[BATCH];
} conf_out;

typedef struct conf_batch {
	const conf_row *row;
	const conf_mode *mode;
	const ss_structure *s;
	uint64_t seed;
	int64_t option[SS_MAX_OPTIONS];
	int has_lengths;
	int64_t dim[SS_DIM_COUNT], E;
	conf_gen gen[BATCH];
	conf_case cases[BATCH];
	conf_ref refs[BATCH];
	ss_element elements[BATCH];
	conf_out out[SS_OP_COUNT];   /* ss_run at 1 thread, whole batch */
	int64_t sample_rows;         /* samples per element (SAMPLES) */
	int64_t lp_rows;             /* log-prob events per element */
	double *lp_events;           /* [lp_rows][BATCH][E] */
	double *lp_want;             /* [lp_rows][BATCH] */
} conf_batch;

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* Case j of the batch from the generator parameters gen[j] (its stream
 * reseeded with salt). */
static void case_make(conf_case *c, const conf_batch *b, int j, uint64_t salt)
{
	conf_gen g = b->gen[j];

	memset(c, 0, sizeof *c);
	c->s = b->s;
	c->len = g.len;
	memcpy(c->e.dim, g.dim, sizeof c->e.dim);
	memcpy(c->e.option, b->option, sizeof c->e.option);
	c->e.index = j;
	urng_seed(&g.rng, b->seed * 1000003u + (uint64_t)j * 7919u + salt);
	b->row->make(c, &g);
}

/* The options of the row ("name=value ..."), the defaults for the
 * others; 0 if it names an option the structure does not have. */
static int row_options(const conf_row *row, const ss_structure *s,
		       int64_t option[SS_MAX_OPTIONS])
{
	const char *p = row->options;
	int ok = 1;

	for (int k = 0; k < SS_MAX_OPTIONS; k++)
		option[k] = k < s->n_options ? s->options[k].default_value : 0;
	while (*p) {
		size_t n = strcspn(p, "=");
		int found = 0;

		for (int k = 0; k < s->n_options; k++)
			if (strlen(s->options[k].name) == n &&
			    !strncmp(s->options[k].name, p, n)) {
				/* a number, or an enum's name */
				char value[64] = "";
				size_t m = strcspn(p + n + 1, " ");

				memcpy(value, p + n + 1,
				       m < sizeof value ? m : sizeof value - 1);
				found = ss_option_parse(&s->options[k], value,
							&option[k], NULL) == SS_OK;
			}
		ok &= found && p[n] == '=';
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	return ok;
}

/*
 * Float32 modes: the real inputs a structure reads as floats (reads_f32)
 * go to it as floats, as a float32 dataset is read, so that its float
 * kernels run; the enumeration keeps the same values as doubles.
 */
static void hand_floats(conf_batch *b, int j)
{
	conf_case *c = &b->cases[j];
	ss_element *e = &b->elements[j];

	for (int k = 0; k < b->s->n_inputs; k++) {
		const ss_input_spec *in = &b->s->inputs[k];
		const double *d = e->input[k].data;
		int64_t n;
		float *f;

		if (in->kind != SS_REAL || !in->reads_f32 || !d)
			continue;
		n = conf_input_size(c, k);
		f = conf_own(c, sizeof(float) * (size_t)(n + 1));
		for (int64_t i = 0; i < n; i++)
			f[i] = (float)d[i];
		e->input[k].data = f;
		e->input[k].dtype = SS_F32;
	}
}

/* A batch of mode m: the row's largest sizes, or sizes drawn. */
static void batch_make(conf_batch *b, const conf_row *row,
		       const ss_structure *s, const conf_mode *m, uint64_t seed,
		       int largest)
{
	unit_rng r;
	int64_t n, lo = row->len_min;

	memset(b, 0, sizeof *b);
	b->row = row;
	b->mode = m;
	b->s = s;
	b->seed = seed;
	b->sample_rows = SAMPLES;
	row_options(row, s, b->option);
	urng_seed(&r, seed);
	for (int d = 0; d < SS_DIM_COUNT; d++)
		b->dim[d] = largest ? row->dim_hi[d]
				    : urng_int(&r, row->dim_lo[d], row->dim_hi[d]);
	ss_dims_derive(b->dim);
	n = b->dim[row->len_axis];
	b->E = ss_event_size(s, b->dim);
	b->has_lengths = m->padding || urng_uniform(&r) < 0.75;
	for (int j = 0; j < BATCH; j++) {
		conf_gen *g = &b->gen[j];
		int dead = (m->dead == DEAD_LAST && j == BATCH - 1) ||
			   (m->dead == DEAD_HALF && j % 2 == 1);
		int64_t dead_lo = lo > 2 ? lo : 2;

		memcpy(g->dim, b->dim, sizeof g->dim);
		g->has_lengths = b->has_lengths;
		g->dead = dead && n >= dead_lo;
		if (!b->has_lengths)
			g->len = n;
		else if (g->dead)
			g->len = urng_int(&r, dead_lo, n);
		else if (m->padding && n > lo)
			g->len = urng_int(&r, lo, n - 1);
		else
			g->len = urng_int(&r, lo, n);
		g->dead &= g->len >= 2;
		g->values = m->values;
		g->pinf = m->pinf;
		g->unused_nan = m->unused_nan;
		g->float32 = m->float32;
		case_make(&b->cases[j], b, j, 0);
		b->elements[j] = b->cases[j].e;
		if (m->float32)
			hand_floats(b, j);
		ref_make(&b->refs[j], row, &b->cases[j]);
	}
}

static void out_free(conf_out *o)
{
	for (int k = 0; k < o->n; k++)
		free(o->arr[k]);
	memset(o, 0, sizeof *o);
}

static void batch_free(conf_batch *b)
{
	for (int j = 0; j < BATCH; j++) {
		case_free(&b->cases[j]);
		ref_free(&b->refs[j]);
	}
	for (int op = 0; op < SS_OP_COUNT; op++)
		out_free(&b->out[op]);
	free(b->lp_events);
	free(b->lp_want);
}

static void batch_context(const conf_batch *b, int j)
{
	const conf_case *c = &b->cases[j];
	char dims[96] = "";
	size_t at = 0;

	for (int d = 0; d < SS_DIM_COUNT; d++)
		if (b->row->dim_hi[d] > 0)
			at += (size_t)snprintf(dims + at, sizeof dims - at, " %s=%lld",
					       ss_dim_names[d], (long long)b->dim[d]);
	unit_context("%s, mode %s, batch seed %llu, element %d:%s len=%lld%s%s",
		     b->row->name, b->mode->name, (unsigned long long)b->seed, j,
		     dims, (long long)c->len, b->has_lengths ? " (lengths)" : "",
		     b->gen[j].dead ? " (made dead)" : "");
}

/* Rows of op's outputs for the batch. */
static int64_t op_rows(const conf_batch *b, ss_op op)
{
	if (ss_ops[op].samples == SS_NO_SAMPLES)
		return 1;
	if (op == SS_OP_TOP_K)
		return TOPK_RANKS;
	return op == SS_OP_LOG_PROB ? b->lp_rows : b->sample_rows;
}

/*
 * ss_run of op over elements [lo, hi) at the given thread count into o
 * (outputs [rows][hi - lo][size], pre-filled with a pattern that is
 * neither 0 nor -1 nor NaN); sets o->ok.
 */
static int run_op(const conf_batch *b, ss_op op, int64_t lo, int64_t hi,
		  int threads, conf_out *o)
{
	const ss_structure *s = b->s;
	const int64_t count = hi - lo, rows = op_rows(b, op);
	double *events = NULL;
	ss_batch batch = {.structure = s, .elements = b->elements + lo,
			  .count = count, .num_samples = rows, .seed = SEED,
			  .empty = o->empty};
	int64_t failed = -1;
	ss_error err = {0};
	int rc;

	memset(o, 0, sizeof *o);
	o->n = ss_op_output_count(s, op);
	o->rows = rows;
	o->count = count;
	for (int k = 0; k < o->n; k++) {
		size_t bytes;

		o->size[k] = ss_op_output_size(s, op, k, b->dim);
		bytes = 8 * (size_t)(rows * count * o->size[k]);
		o->arr[k] = malloc(bytes + 8);
		memset(o->arr[k], 0x5a, bytes + 8);
		batch.out[k] = o->arr[k];
	}
	memset(o->empty, 0x5a, sizeof o->empty);
	if (op == SS_OP_LOG_PROB) {
		events = malloc(sizeof(double) * (size_t)(rows * count * b->E + 1));
		for (int64_t r = 0; r < rows; r++)
			for (int64_t j = 0; j < count; j++)
				memcpy(events + (r * count + j) * b->E,
				       b->lp_events + (r * BATCH + lo + j) * b->E,
				       sizeof(double) * (size_t)b->E);
		batch.events = events;
	}
	omp_set_num_threads(threads);
	rc = ss_run(op, &batch, &failed, NULL, &err);
	free(events);
	o->ok = CHECK(rc == SS_OK,
		      "ss_run %s of elements [%lld, %lld) at %d threads returned %d (%s) for element %lld",
		      ss_ops[op].name, (long long)lo, (long long)hi, threads, rc,
		      err.message, (long long)failed);
	return o->ok;
}

/* Output k of o for row r of batch element j (o covers [lo, ...)). */
static void *out_at(const conf_out *o, int k, int64_t r, int64_t j)
{
	return (char *)o->arr[k] + 8 * (size_t)((r * o->count + j) * o->size[k]);
}

/* 1 if flat entry x of an array of spec lies at an index >= len on an
 * axis of the row's lengths (n, or R for alignments). */
static int in_padding(const ss_array_spec *spec, const conf_batch *b,
		      int64_t len, int64_t x)
{
	const int64_t *dim = b->dim;
	int pad = 0;

	for (int a = spec->rank - 1; a >= 0; a--) {
		int64_t size = dim[spec->dims[a]];

		pad |= spec->dims[a] == b->row->len_axis && x % size >= len;
		x /= size;
	}
	return pad;
}

/* The log-prob events: every enumerated structure of each element, then
 * the all-zero event where it has fewer, and the argmax last; with what
 * log-prob should give for each. */
static void lp_events_make(conf_batch *b)
{
	const conf_out *am = &b->out[SS_OP_ARGMAX];
	const int64_t E = b->E;
	double *zero = calloc((size_t)E + 1, sizeof *zero);

	b->lp_rows = 1;
	for (int j = 0; j < BATCH; j++)
		if (b->refs[j].en.count + 1 > b->lp_rows)
			b->lp_rows = b->refs[j].en.count + 1;
	b->lp_events = calloc((size_t)(b->lp_rows * BATCH * E + 1), sizeof(double));
	b->lp_want = calloc((size_t)(b->lp_rows * BATCH), sizeof(double));
	for (int j = 0; j < BATCH; j++) {
		const conf_ref *ref = &b->refs[j];

		for (int64_t r = 0; r < b->lp_rows; r++) {
			const double *ev = zero;
			double *dst = b->lp_events + (r * BATCH + j) * E;

			if (r < ref->en.count) {
				ev = ref->en.events + r * E;
			} else if (r == b->lp_rows - 1 && am->ok) {
				const double *best = out_at(am, 0, 0, j);

				if (conf_enum_find(&ref->en, best) >= 0)
					ev = best;
			}
			memcpy(dst, ev, sizeof(double) * (size_t)E);
			b->lp_want[r * BATCH + j] =
				ref_log_prob(ref, conf_enum_find(&ref->en, ev));
		}
	}
	free(zero);
}

/* 1 where s supports op. */
static int supported(const ss_structure *s, const int64_t *option, ss_op op)
{
	char why[512];
	return !ss_op_unsupported(s, option, op, why, sizeof why);
}

/* 1 for the one-problem ops this suite runs over a batch; cross-entropy
 * and kl take a second batch (check_two_problem_ops). */
static int op_checked(const ss_structure *s, const int64_t *option,
		      ss_op op)
{
	if (!supported(s, option, op))
		return 0;
	return op == SS_OP_LOG_COUNT || op == SS_OP_MAX_MARGINALS ||
	       op == SS_OP_TOP_K ||
	       op == SS_OP_PARTITION || op == SS_OP_MARGINALS ||
	       op == SS_OP_ARGMAX || op == SS_OP_SAMPLE ||
	       op == SS_OP_ENTROPY || op == SS_OP_LOG_PROB;
}

/* The reference runs: every checked op at 1 thread over the whole
 * batch (argmax before log-prob, which reads its events). */
static void batch_run(conf_batch *b)
{
	for (ss_op op = 0; op < SS_OP_COUNT; op++) {
		if (!op_checked(b->s, b->option, op))
			continue;
		if (op == SS_OP_LOG_PROB)
			lp_events_make(b);
		run_op(b, op, 0, BATCH, 1, &b->out[op]);
	}
}

/* ---- checks of one op against the enumeration -------------------------------------- */

static double conf_round(const conf_mode *m, double x)
{
	return m->float32 ? (double)(float)x : x;
}

#define CHECK_REAL(m, got, want, ...)                                         \
	unit_check_close(conf_round((m), (got)), (want),                      \
			 (m)->float32 ? FLOAT32_RTOL : RTOL, __FILE__, __LINE__, \
			 __VA_ARGS__)

/* CHECK_REAL with an absolute slack added to the tolerance. */
#define CHECK_CLOSE_SLACK(m, got, want, slack, ...)                           \
	unit_check_close(conf_round((m), (got)), (want),                      \
			 ((m)->float32 ? FLOAT32_RTOL : RTOL) +                 \
				 (slack) / fmax(1.0, fabs(want)),              \
			 __FILE__, __LINE__, __VA_ARGS__)

static int all_zero(const double *x, int64_t size)
{
	for (int64_t k = 0; k < size; k++)
		if (x[k] != 0.0)
			return 0;
	return 1;
}

/* Padding of an event output is exactly 0. */
static void check_event_padding(const conf_batch *b, int j, const double *ev,
				const char *what)
{
	int64_t bad = 0, first = -1;

	const int64_t E1 = ss_array_size(&b->s->event, b->dim);

	for (int64_t x = 0; x < b->E; x++)
		if ((x < E1 ? in_padding(&b->s->event, b, b->cases[j].len, x)
			    : in_padding(&b->s->event_tags, b, b->cases[j].len,
					 x - E1)) &&
		    ev[x] != 0.0 && bad++ == 0)
			first = x;
	CHECK(bad == 0, "%s: %lld padding entries are not 0 (first at %lld)",
	      what, (long long)bad, (long long)first);
}

/*
 * The decodes dec[] of event ev: -1 in padding (everywhere for the
 * all-zero event of a non-empty element), what s->decode gives, and
 * ss_encode of the first gives ev back.
 */
static void check_decodes(const conf_batch *b, int j, const double *ev,
			  int64_t *const dec[], const char *what)
{
	const ss_structure *s = b->s;
	const ss_element *e = &b->elements[j];
	const int empty = all_zero(ev, b->E);
	int64_t *direct[SS_MAX_DECODES] = {0};
	double *back = calloc((size_t)b->E + 1, sizeof *back);
	ss_error err = {0};

	for (int d = 0; d < s->n_decodes; d++) {
		const ss_array_spec *spec = &s->decodes[d];
		int64_t size = ss_array_size(spec, b->dim), bad = 0;

		direct[d] = malloc(sizeof(int64_t) * (size_t)(size + 1));
		for (int64_t x = 0; x < size; x++)
			if ((empty || in_padding(spec, b, b->cases[j].len, x)) &&
			    dec[d][x] != -1)
				bad++;
		CHECK(bad == 0, "%s: %lld entries of '%s' in padding%s are not -1",
		      what, (long long)bad, spec->name,
		      empty ? " or of the empty structure" : "");
	}
	s->decode(e, ev, direct);
	for (int d = 0; d < s->n_decodes; d++) {
		int64_t size = ss_array_size(&s->decodes[d], b->dim);

		CHECK(!memcmp(direct[d], dec[d], sizeof(int64_t) * (size_t)size),
		      "%s: '%s' from ss_run differs from s->decode", what,
		      s->decodes[d].name);
		free(direct[d]);
	}
	if (s->encode) {
		int rc = ss_encode(s, e, dec[0], back, &err);

		if (CHECK(rc == SS_OK, "%s: ss_encode of its '%s' returned %d (%s)",
			  what, s->decodes[0].name, rc, err.message))
			CHECK(same_event(back, ev, b->E),
			      "%s: ss_encode(decode(event)) is not the event", what);
	}
	free(back);
}

static void decode_ptrs(const conf_batch *b, const conf_out *o, int first,
			int64_t r, int64_t j, int64_t *dec[])
{
	for (int d = 0; d < b->s->n_decodes; d++)
		dec[d] = out_at(o, first + d, r, j);
}

/* An event output of argmax or sample: a structure of the element of
 * finite score (its index), or, without structure, the all-zero event. */
static int64_t check_structure(const conf_batch *b, int j, const double *ev,
			       const char *what)
{
	const conf_ref *ref = &b->refs[j];
	int64_t k;

	check_event_padding(b, j, ev, what);
	if (ref->finite == 0) {
		CHECK(all_zero(ev, b->E),
		      "%s: not the all-zero event of an element without structure",
		      what);
		return -1;
	}
	k = conf_enum_find(&ref->en, ev);
	if (CHECK(k >= 0, "%s is not a structure of the element", what))
		CHECK(!isinf(ref->en.scores[k]),
		      "%s is a structure of probability 0", what);
	return k;
}

static int by_score_desc(const void *a, const void *b)
{
	long double x = *(const long double *)a, y = *(const long double *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Top-k of element j: the enumerated scores best first, each rank a
 * distinct structure with its own score, then empty ranks (-inf, all-zero
 * events, -1 decodes). */
static void check_top_k(const conf_batch *b, const conf_out *o, int j)
{
	const conf_ref *ref = &b->refs[j];
	const conf_mode *m = b->mode;
	long double *best = malloc(sizeof *best * (size_t)(ref->en.count + 1));
	int64_t *seen = malloc(sizeof *seen * (size_t)o->rows);
	int64_t finite = 0;
	int64_t *dec[SS_MAX_DECODES];
	char what[64];

	for (int64_t k = 0; k < ref->en.count; k++)
		if (!isinf(ref->en.scores[k]))
			best[finite++] = ref->en.scores[k];
	qsort(best, (size_t)finite, sizeof *best, by_score_desc);
	for (int64_t r = 0; r < o->rows; r++) {
		const double *ev = out_at(o, 0, r, j);
		double score = *(double *)out_at(o, 1, r, j);

		snprintf(what, sizeof what, "top-k rank %lld", (long long)r);
		decode_ptrs(b, o, 2, r, j, dec);
		check_decodes(b, j, ev, dec, what);
		seen[r] = -1;
		if (r >= finite) {
			CHECK(score == -INFINITY && all_zero(ev, b->E),
			      "%s: past the %lld structures, not empty (score %g)",
			      what, (long long)finite, score);
			continue;
		}
		CHECK_REAL(m, score, (double)best[r], "%s score", what);
		seen[r] = check_structure(b, j, ev, what);
		if (seen[r] < 0)
			continue;
		CHECK_REAL(m, score, (double)ref->en.scores[seen[r]],
			   "%s: its score is its structure's", what);
		for (int64_t q = 0; q < r; q++)
			CHECK(seen[q] != seen[r], "%s repeats rank %lld", what,
			      (long long)q);
	}
	free(best);
	free(seen);
}

static void check_empty_flags(const conf_batch *b, const conf_out *o,
			      ss_op op)
{
	for (int j = 0; j < BATCH; j++) {
		batch_context(b, j);
		CHECK(o->empty[j] == (b->refs[j].finite == 0),
		      "%s: empty[%d] = %d, want %d", ss_ops[op].name, j,
		      o->empty[j], b->refs[j].finite == 0);
	}
}

static void check_op(const conf_batch *b, ss_op op)
{
	const conf_out *o = &b->out[op];
	const conf_mode *m = b->mode;
	char what[64];

	if (!o->ok) {
		CHECK(0, "%s: the reference ss_run failed", ss_ops[op].name);
		return;
	}
	check_empty_flags(b, o, op);
	for (int j = 0; j < BATCH; j++) {
		const conf_ref *ref = &b->refs[j];
		int64_t *dec[SS_MAX_DECODES];

		batch_context(b, j);
		switch (op) {
		case SS_OP_PARTITION: {
			ss_error err = {0};
			void *ws = ws_alloc(ss_workspace_bytes(b->s, SS_OP_COUNT, b->dim));
			int rc = b->s->validate(&b->elements[j], ws, &err);

			free(ws);
			CHECK(rc == SS_OK, "validate returned %d (%s)", rc,
			      err.message);
			CHECK(ref->duplicates == 0,
			      "the enumerator lists %lld structures twice",
			      (long long)ref->duplicates);
			CHECK(!b->gen[j].dead || ref->finite == 0,
			      "the generator left %lld structures in an element made dead",
			      (long long)ref->finite);
			CHECK(b->elements[j].input[b->s->lengths_inputs[0]].data
				      ? b->cases[j].lengths == b->cases[j].len
				      : b->cases[j].len == b->dim[b->row->len_axis],
			      "the generator did not set the length it was given");
			CHECK_REAL(m, *(double *)out_at(o, 0, 0, j),
				   (double)ref->logz, "log_partition");
			break;
		}
		case SS_OP_MARGINALS: {
			const double *mu = out_at(o, 0, 0, j);

			check_event_padding(b, j, mu, "marginals");
			for (int64_t x = 0; x < b->E; x++)
				CHECK_REAL(m, mu[x], ref->marg[x], "marginals[%lld]",
					   (long long)x);
			break;
		}
		case SS_OP_TOP_K:
			check_top_k(b, o, j);
			break;
		case SS_OP_MAX_MARGINALS: {
			const double *mm = out_at(o, 0, 0, j);

			for (int64_t x = 0; x < b->E; x++)
				CHECK_REAL(m, mm[x], ref_max_marginal(ref, x),
					   "max_marginals[%lld]", (long long)x);
			break;
		}
		case SS_OP_ARGMAX: {
			const double *ev = out_at(o, 0, 0, j);
			double score = *(double *)out_at(o, 1, 0, j);
			int64_t k = check_structure(b, j, ev, "the argmax event");

			CHECK_REAL(m, score, (double)ref->max, "argmax score");
			if (k >= 0)
				CHECK_CLOSE_AT((double)ref->en.scores[k],
					       (double)ref->max, RTOL,
					       "enumerated score of the argmax event (one of the best?)");
			decode_ptrs(b, o, 2, 0, j, dec);
			check_decodes(b, j, ev, dec, "the argmax");
			break;
		}
		case SS_OP_SAMPLE:
			for (int64_t r = 0; r < o->rows; r++) {
				const double *ev = out_at(o, 0, r, j);
				double lp = *(double *)out_at(o, 1, r, j);
				int64_t k;

				snprintf(what, sizeof what, "sample %lld", (long long)r);
				k = check_structure(b, j, ev, what);
				CHECK_REAL(m, lp, ref_log_prob(ref, k),
					   "log_prob of sample %lld", (long long)r);
				decode_ptrs(b, o, 2, r, j, dec);
				check_decodes(b, j, ev, dec, what);
			}
			break;
		case SS_OP_ENTROPY:
			CHECK_REAL(m, *(double *)out_at(o, 0, 0, j), ref->entropy,
				   "entropy");
			break;
		case SS_OP_LOG_PROB:
			for (int64_t r = 0; r < o->rows; r++)
				CHECK_REAL(m, *(double *)out_at(o, 0, r, j),
					   b->lp_want[r * BATCH + j],
					   "log_prob of event %lld (%s)", (long long)r,
					   r < ref->en.count ? "an enumerated structure"
					   : r == o->rows - 1 ? "the argmax" : "all zero");
			break;
		default: /* count: check_derived */
			break;
		}
	}
}

/* decode, then ss_encode, of every enumerated structure gives it back,
 * -1 in padding. */
static void check_round_trips(const conf_batch *b)
{
	const ss_structure *s = b->s;
	int64_t *dec[SS_MAX_DECODES] = {0};

	for (int d = 0; d < s->n_decodes; d++)
		dec[d] = malloc(sizeof(int64_t) *
				(size_t)(ss_array_size(&s->decodes[d], b->dim) + 1));
	for (int j = 0; j < BATCH; j++) {
		const conf_enum *en = &b->refs[j].en;

		batch_context(b, j);
		for (int64_t k = 0; k < en->count; k++) {
			char what[64];

			snprintf(what, sizeof what, "enumerated structure %lld",
				 (long long)k);
			s->decode(&b->elements[j], en->events + k * b->E, dec);
			check_decodes(b, j, en->events + k * b->E, dec, what);
		}
	}
	for (int d = 0; d < s->n_decodes; d++)
		free(dec[d]);
}

/* ---- the same bytes at any thread count and chunking ---------------------------- */

static void check_same_bytes(const conf_batch *b, ss_op op, const conf_out *o,
			     int64_t lo, const char *how)
{
	const conf_out *ref = &b->out[op];

	for (int k = 0; k < o->n; k++)
		for (int64_t r = 0; r < o->rows; r++)
			for (int64_t j = 0; j < o->count; j++)
				CHECK(!memcmp(out_at(o, k, r, j), out_at(ref, k, r, lo + j),
					      8 * (size_t)o->size[k]),
				      "%s: output '%s' of element %lld (row %lld) differs %s",
				      ss_ops[op].name, ss_op_output_name(b->s, op, k),
				      (long long)(lo + j), (long long)r, how);
	for (int64_t j = 0; j < o->count; j++)
		CHECK(o->empty[j] == ref->empty[lo + j],
		      "%s: empty[%lld] differs %s", ss_ops[op].name,
		      (long long)(lo + j), how);
}

/* Every op of the batch in chunks of 2 and of 3 elements, and at 2 and
 * 4 threads when threads is set, against the reference run. */
static void check_determinism(const conf_batch *b, int threads)
{
	static const int64_t chunks[] = {2, 3};

	unit_context("%s, mode %s, batch seed %llu", b->row->name,
		     b->mode->name, (unsigned long long)b->seed);
	for (ss_op op = 0; op < SS_OP_COUNT; op++) {
		char how[96];

		if (!b->out[op].ok)
			continue;
		for (int t = 2; threads && t <= 4; t *= 2) {
			conf_out o;

			snprintf(how, sizeof how, "at %d threads from 1 thread", t);
			if (run_op(b, op, 0, BATCH, t, &o))
				check_same_bytes(b, op, &o, 0, how);
			out_free(&o);
		}
		for (int c = 0; c < 2; c++)
			for (int64_t lo = 0; lo < BATCH; lo += chunks[c]) {
				int64_t hi = lo + chunks[c] < BATCH ? lo + chunks[c]
								    : BATCH;
				conf_out o;

				snprintf(how, sizeof how,
					 "in chunks of %lld from the whole batch",
					 (long long)chunks[c]);
				if (run_op(b, op, lo, hi, 1, &o))
					check_same_bytes(b, op, &o, lo, how);
				out_free(&o);
			}
	}
}

/* ---- inputs as typed views with strides -------------------------------------------- */

/*
 * Element j's inputs as views a NumPy user might pass: every axis
 * reversed, every other value skipped (strides -2 times the row-major
 * ones), integers as int32, and reals as float32 where their values are
 * floats (the float32 modes), else as they are. Buffers are owned by
 * the case. The engine gathers such views into the layout its structures
 * read (lib/tensor.c), so every result must be the same bytes.
 */
static void views_make(conf_batch *b, int j, ss_element *out)
{
	conf_case *c = &b->cases[j];
	const ss_element *e = &b->elements[j];

	*out = *e;
	for (int k = 0; k < b->s->n_inputs; k++) {
		const ss_input_spec *in = &b->s->inputs[k];
		const ss_tensor *t = &e->input[k];
		ss_tensor *v = &out->input[k];
		int64_t n, step = 1;
		ss_dtype dtype;
		char *buf;
		size_t width;

		if (!t->data)
			continue;
		n = conf_input_size(c, k);
		dtype = in->kind == SS_INT ? SS_I32
			: t->dtype == SS_F32 || b->mode->float32 ? SS_F32 : SS_F64;
		width = dtype == SS_F64 ? sizeof(double) : 4;
		buf = conf_own(c, width * (size_t)(2 * n + 1));
		for (int64_t i = 0; i < n; i++) {
			char *at = buf + width * (size_t)(2 * (n - 1 - i));
			double x = t->dtype == SS_F32 ? ((const float *)t->data)[i]
			         : in->kind == SS_REAL ? ((const double *)t->data)[i] : 0.0;

			if (dtype == SS_I32)
				*(int32_t *)at = (int32_t)((const int64_t *)t->data)[i];
			else if (dtype == SS_F32)
				*(float *)at = (float)x;
			else
				*(double *)at = x;
		}
		*v = (ss_tensor){.data = buf + width * (size_t)(2 * (n > 0 ? n - 1 : 0)),
				 .dtype = dtype, .strided = 1};
		for (int a = in->rank - 1; a >= 0; a--) {
			v->stride[a] = -2 * step;
			step *= e->dim[in->dims[a]];
		}
	}
}

/* Every op of the batch with its inputs as views (views_make), against
 * the plain run. */
static void check_views(conf_batch *b)
{
	conf_batch *v = malloc(sizeof *v);

	unit_context("%s, mode %s, batch seed %llu", b->row->name,
		     b->mode->name, (unsigned long long)b->seed);
	*v = *b;
	for (int j = 0; j < BATCH; j++)
		views_make(b, j, &v->elements[j]);
	for (ss_op op = 0; op < SS_OP_COUNT; op++) {
		conf_out o;

		if (!b->out[op].ok)
			continue;
		if (run_op(v, op, 0, BATCH, 1, &o))
			check_same_bytes(b, op, &o, 0,
					 "with the inputs as reversed, strided int32 and float32 views");
		out_free(&o);
	}
	free(v);
}

/* ---- marginals are the gradient of log Z -------------------------------------------- */

/* log Z of e through ss_run (one element, one thread). */
static double logz_of(const ss_structure *s, const ss_element *e)
{
	double logz = NAN;
	unsigned char empty;
	ss_batch batch = {.structure = s, .elements = e, .count = 1,
			  .num_samples = 1, .seed = 1, .empty = &empty,
			  .out = {&logz}};
	ss_error err = {0};
	int rc = ss_run(SS_OP_PARTITION, &batch, NULL, NULL, &err);

	CHECK(rc == SS_OK, "ss_run partition returned %d (%s)", rc, err.message);
	return logz;
}

static void check_gradient(const conf_batch *b, int j)
{
	const conf_case *c = &b->cases[j];
	const ss_structure *s = b->s;
	const double *mu = out_at(&b->out[SS_OP_MARGINALS], 0, 0, j);
	double *grad[SS_MAX_INPUTS] = {0};
	ss_element e = b->elements[j];

	for (int k = 0; k < s->n_inputs; k++)
		if (s->inputs[k].kind == SS_REAL && e.input[k].data)
			grad[k] = calloc((size_t)conf_input_size(c, k) + 1,
					 sizeof(double));
	b->row->grad(c, mu, grad);
	for (int k = 0; k < s->n_inputs; k++) {
		int64_t size;
		double *x;

		if (!grad[k])
			continue;
		size = conf_input_size(c, k);
		x = malloc(sizeof(double) * (size_t)(size + 1));
		memcpy(x, c->e.input[k].data, sizeof(double) * (size_t)size);
		e.input[k].data = x;
		for (int64_t i = 0; i < size; i++) {
			double saved = x[i], up, down;

			if (!isfinite(saved))
				continue;
			x[i] = saved + FD_H;
			up = logz_of(s, &e);
			x[i] = saved - FD_H;
			down = logz_of(s, &e);
			x[i] = saved;
			CHECK_CLOSE_AT((up - down) / (2 * FD_H), grad[k][i], FD_TOL,
				       "d log Z / d %s[%lld] by central differences vs from the marginals",
				       s->inputs[k].name, (long long)i);
		}
		e.input[k].data = c->e.input[k].data;
		free(x);
		free(grad[k]);
	}
}

/* ---- gradients of the results (--grad) -------------------------------------------- */

/*
 * ss_grad through ss_run against central differences of the brute force:
 * for element j of a batch, the gradients of partition, log-prob (of one
 * enumerated structure of finite score), entropy, cross-entropy and kl
 * (with a twin Q) with respect to every finite entry of every real input
 * of P (and of Q) equal (f(x + h) - f(x - h)) / 2h, f the enumeration's
 * value on the perturbed inputs; entries that are NaN (never read) get
 * exactly 0. Ops the structure lacks, or whose gradient it does not
 * build, are skipped (the suite says which).
 */
static double ref_cross_entropy(const conf_ref *p, const conf_ref *q);
static double ref_kl(const conf_ref *p, const conf_ref *q);

enum { GRAD_OPS = 5 };
static const ss_op grad_ops[GRAD_OPS] = {
	SS_OP_PARTITION, SS_OP_LOG_PROB, SS_OP_ENTROPY, SS_OP_CROSS_ENTROPY,
	SS_OP_KL,
};

/* The brute-force value of op for P (and Q), log-prob of event. */
static double ref_value(ss_op op, const conf_ref *p, const conf_ref *q,
			const double *event)
{
	switch (op) {
	case SS_OP_PARTITION: return (double)p->logz;
	case SS_OP_ENTROPY: return p->entropy;
	case SS_OP_LOG_PROB: return ref_log_prob(p, conf_enum_find(&p->en, event));
	case SS_OP_CROSS_ENTROPY: return ref_cross_entropy(p, q);
	case SS_OP_KL: return ref_kl(p, q);
	default: return NAN;
	}
}

/* Gradients of op on element j (and Q) through ss_run; 1 on success. */
static int grad_run(const conf_batch *b, int j, ss_op op, const ss_element *q,
		    const double *event, double *result,
		    double *const gp[SS_MAX_INPUTS], double *const gq[SS_MAX_INPUTS])
{
	unsigned char empty;
	ss_batch batch = {.structure = b->s, .elements = &b->elements[j],
			  .elements_q = ss_ops[op].operands == SS_TWO_PROBLEMS ? q : NULL,
			  .count = 1, .num_samples = 1, .seed = 1,
			  .events = event, .empty = &empty, .out = {result}};
	ss_error err = {0};
	int rc;

	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		batch.grad[k] = gp[k];
		batch.grad_q[k] = batch.elements_q ? gq[k] : NULL;
	}
	rc = ss_run(op, &batch, NULL, NULL, &err);
	return CHECK(rc == SS_OK, "ss_run %s --grad returned %d (%s)",
		     ss_ops[op].name, rc, err.message);
}

/* The gradient of op in the inputs of case c (Q's where of_q) against
 * central differences of the reference; other the fixed operand. */
static void check_grad_fd(const conf_batch *b, ss_op op, conf_case *c,
			  int of_q, const conf_ref *other, const double *event,
			  double *const grad[SS_MAX_INPUTS])
{
	const ss_structure *s = b->s;

	for (int k = 0; k < s->n_inputs; k++) {
		double *x = (double *)c->e.input[k].data;

		if (!grad[k])
			continue;
		for (int64_t i = 0; i < conf_input_size(c, k); i++) {
			double saved = x[i], f[2];

			if (isnan(saved)) {
				CHECK(grad[k][i] == 0.0,
				      "d %s / d %s%s[%lld] = %g where it is never read, not 0",
				      ss_ops[op].name, of_q ? "Q's " : "",
				      s->inputs[k].name, (long long)i, grad[k][i]);
				continue;
			}
			if (!isfinite(saved))
				continue;
			for (int side = 0; side < 2; side++) {
				conf_ref r;

				x[i] = saved + (side ? -FD_H : FD_H);
				ref_make(&r, b->row, c);
				f[side] = of_q ? ref_value(op, other, &r, event)
					       : ref_value(op, &r, other, event);
				ref_free(&r);
			}
			x[i] = saved;
			CHECK_CLOSE_AT((f[0] - f[1]) / (2 * FD_H), grad[k][i], FD_TOL,
				       "d %s / d %s%s[%lld] by central differences of the brute force",
				       ss_ops[op].name, of_q ? "Q's " : "",
				       s->inputs[k].name, (long long)i);
		}
	}
}

/* The gradients of every op with them, element j; the ops checked are
 * counted in checked[]. */
static void check_grads(conf_batch *b, int j, int64_t checked[GRAD_OPS])
{
	const ss_structure *s = b->s;
	conf_case *c = &b->cases[j], q;
	const conf_ref *p = &b->refs[j];
	conf_ref qref;
	double *gp[SS_MAX_INPUTS] = {0}, *gq[SS_MAX_INPUTS] = {0};
	const double *event = NULL;
	int64_t finite = 0;

	case_make(&q, b, j, 0x9e3779b97f4a7c15ULL);
	ref_make(&qref, b->row, &q);
	for (int64_t k = 0; k < p->en.count; k++)
		finite += !isinf(p->en.scores[k]);
	for (int64_t k = 0, seen = 0; finite && k < p->en.count; k++)
		if (!isinf(p->en.scores[k]) &&
		    seen++ == (int64_t)((unsigned)j * 7919u % (unsigned)finite))
			event = p->en.events + k * p->en.E;
	for (int k = 0; k < s->n_inputs; k++)
		if (s->inputs[k].kind == SS_REAL && c->e.input[k].data) {
			gp[k] = calloc((size_t)conf_input_size(c, k) + 1, sizeof(double));
			gq[k] = calloc((size_t)conf_input_size(c, k) + 1, sizeof(double));
		}
	for (int o = 0; o < GRAD_OPS; o++) {
		const ss_op op = grad_ops[o];
		const int pair = ss_ops[op].operands == SS_TWO_PROBLEMS;
		double result = NAN, want;

		if (!supported(s, b->option, op) ||
		    ss_grad_unsupported(s, b->option, op) ||
		    (op == SS_OP_LOG_PROB && !event) ||
		    (pair && qref.finite == 0))
			continue;
		if (!grad_run(b, j, op, &q.e, event, &result, gp, gq))
			continue;
		want = ref_value(op, p, &qref, event);
		CHECK_REAL(b->mode, result, want, "%s with --grad", ss_ops[op].name);
		if (!isfinite(want))
			continue;
		check_grad_fd(b, op, c, 0, &qref, event, gp);
		if (pair)
			check_grad_fd(b, op, &q, 1, p, event, gq);
		checked[o]++;
	}
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		free(gp[k]);
		free(gq[k]);
	}
	ref_free(&qref);
	case_free(&q);
}

/*
 * The second-order gradients at every magnitude, without finite
 * differences: where a row's gradient map is linear in the event (input
 * 0 is the event, or a tree's symmetrisation), the gradients of the
 * entropy, and P's of cross-entropy and kl, are that map applied to
 * -Cov(event, s_p), -Cov(event, s_q) and Cov(event, s_p - s_q) under p,
 * summed over the enumeration in long double.
 */
static void check_grads_cov(conf_batch *b, int j, int64_t *checked)
{
	const ss_structure *s = b->s;
	const conf_ref *p = &b->refs[j];
	const int64_t E = p->en.E;
	conf_case *c = &b->cases[j], q;
	conf_ref qref;
	static const ss_op ops[3] = {SS_OP_ENTROPY, SS_OP_CROSS_ENTROPY, SS_OP_KL};
	double *want_event = calloc((size_t)E + 1, sizeof(double));
	long double *pk = calloc((size_t)p->en.count + 1, sizeof *pk);
	long double *f = calloc((size_t)p->en.count + 1, sizeof *f);
	double *gp[SS_MAX_INPUTS] = {0}, *gq[SS_MAX_INPUTS] = {0};
	double *want[SS_MAX_INPUTS] = {0};

	case_make(&q, b, j, 0x9e3779b97f4a7c15ULL);
	ref_make(&qref, b->row, &q);
	for (int k = 0; k < s->n_inputs; k++)
		if (s->inputs[k].kind == SS_REAL && c->e.input[k].data) {
			const size_t size = (size_t)conf_input_size(c, k) + 1;
			gp[k] = calloc(size, sizeof(double));
			gq[k] = calloc(size, sizeof(double));
			want[k] = calloc(size, sizeof(double));
		}
	for (int o = 0; o < 3; o++) {
		const ss_op op = ops[o];
		long double mean = 0.0L;
		double result;
		int qfinite = 1;

		if (!supported(s, b->option, op) || ss_grad_unsupported(s, b->option, op) ||
		    (op != SS_OP_ENTROPY && qref.finite == 0))
			continue;
		/* f(y): the score whose covariance with the event is wanted */
		for (int64_t k = 0; k < p->en.count; k++) {
			const int64_t kq = conf_enum_find(&qref.en, p->en.events + k * E);
			const long double sq = kq < 0 ? NAN : qref.en.scores[kq];
			pk[k] = isinf(p->en.scores[k]) ? 0.0L
				: expl(p->en.scores[k] - p->logz);
			f[k] = op == SS_OP_ENTROPY ? p->en.scores[k]
			       : op == SS_OP_KL ? p->en.scores[k] - sq : sq;
			qfinite &= isinf(p->en.scores[k]) || isfinite(f[k]);
			mean += pk[k] > 0.0L ? pk[k] * f[k] : 0.0L;
		}
		if (!qfinite) /* kl and cross-entropy +inf */
			continue;
		for (int64_t x = 0; x < E; x++) {
			long double cov = 0.0L;
			for (int64_t k = 0; k < p->en.count; k++)
				if (pk[k] > 0.0L)
					cov += pk[k] * (p->en.events[k * E + x] - p->marg[x]) *
					       (f[k] - mean);
			want_event[x] = (double)(op == SS_OP_KL ? cov : -cov);
		}
		for (int k = 0; k < s->n_inputs; k++)
			if (want[k])
				memset(want[k], 0, sizeof(double) * (size_t)conf_input_size(c, k));
		b->row->grad(c, want_event, want);
		if (!grad_run(b, j, op, &q.e, NULL, &result, gp, gq))
			continue;
		for (int k = 0; k < s->n_inputs; k++)
			for (int64_t i = 0; want[k] && i < conf_input_size(c, k); i++)
				CHECK_REAL(b->mode, gp[k][i], want[k][i],
					   "d %s / d %s[%lld] against the enumeration's covariance",
					   ss_ops[op].name, s->inputs[k].name, (long long)i);
		checked[o]++;
	}
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		free(gp[k]);
		free(gq[k]);
		free(want[k]);
	}
	free(want_event);
	free(pk);
	free(f);
	ref_free(&qref);
	case_free(&q);
}

/* An element without structure: every gradient is 0. */
static void check_grads_dead(const conf_batch *b, int j)
{
	const ss_structure *s = b->s;
	const conf_case *c = &b->cases[j];
	double *gp[SS_MAX_INPUTS] = {0}, *gq[SS_MAX_INPUTS] = {0};
	double result;

	if (ss_grad_unsupported(s, b->option, SS_OP_PARTITION))
		return;
	for (int k = 0; k < s->n_inputs; k++)
		if (s->inputs[k].kind == SS_REAL && c->e.input[k].data)
			gp[k] = calloc((size_t)conf_input_size(c, k) + 1, sizeof(double));
	if (grad_run(b, j, SS_OP_PARTITION, NULL, NULL, &result, gp, gq))
		for (int k = 0; k < s->n_inputs; k++)
			for (int64_t i = 0; gp[k] && i < conf_input_size(c, k); i++)
				CHECK(gp[k][i] == 0.0,
				      "d log Z / d %s[%lld] = %g without structure, not 0",
				      s->inputs[k].name, (long long)i, gp[k][i]);
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		free(gp[k]);
}

/* ---- goodness of fit ------------------------------------------------------------------ */

/*
 * A small problem of the row (normal scores, some -inf; of the elements
 * of up to 40 seeded batches, the first with 40 or more structures of
 * positive probability, else the one with most, at most 160):
 * CONF_FIT_DRAWS samples through ss_run pass a chi-square test at 0.999
 * against the enumeration, each a structure of positive probability
 * with log_prob = score - log Z.
 */
static void check_fit(const conf_row *row, const ss_structure *s)
{
	conf_batch *b = NULL;
	conf_mode m = modes[0];
	conf_out o;
	const conf_ref *ref;
	long *counts;
	chi2_cell *cells;
	int64_t bad = 0, lp_bad = 0;
	int found = -1, n_cells = 0;
	char label[160];

	m.dead = DEAD_NONE;
	/* a batch holds pointers into itself: it stays where it is made */
	for (uint64_t attempt = 0; attempt < 40; attempt++) {
		conf_batch *t = malloc(sizeof *t);
		int best = -1;

		batch_make(t, row, s, &m, name_hash(row->name) + 31 * attempt,
			   attempt % 2 == 0);
		for (int j = 0; j < BATCH; j++)
			if (t->refs[j].finite >= 6 && t->refs[j].finite <= 160 &&
			    (best < 0 || t->refs[j].finite > t->refs[best].finite))
				best = j;
		if (best >= 0 && (found < 0 ||
				  t->refs[best].finite > b->refs[found].finite)) {
			if (b)
				batch_free(b);
			free(b);
			b = t;
			found = best;
		} else {
			batch_free(t);
			free(t);
		}
		if (found >= 0 && b->refs[found].finite >= 40)
			break;
	}
	if (!CHECK(found >= 0, "no problem of 6 to 160 structures found"))
		return;
	batch_context(b, found);
	ref = &b->refs[found];
	b->sample_rows = CONF_FIT_DRAWS;
	counts = calloc((size_t)ref->en.count + 1, sizeof *counts);
	cells = calloc((size_t)ref->en.count + 1, sizeof *cells);
	if (!run_op(b, SS_OP_SAMPLE, found, found + 1, 1, &o))
		goto done;
	for (int64_t r = 0; r < CONF_FIT_DRAWS; r++) {
		const double *ev = out_at(&o, 0, r, 0);
		double lp = *(double *)out_at(&o, 1, r, 0);
		int64_t k = conf_enum_find(&ref->en, ev);

		if (k < 0 || isinf(ref->en.scores[k])) {
			if (bad++ == 0)
				CHECK(0, "sample %lld is not a structure of positive probability",
				      (long long)r);
			continue;
		}
		counts[k]++;
		if (!unit_close(lp, ref_log_prob(ref, k), RTOL) && lp_bad++ == 0)
			CHECK_CLOSE_AT(lp, ref_log_prob(ref, k), RTOL,
				       "log_prob of sample %lld (the first off)",
				       (long long)r);
	}
	CHECK(bad == 0, "%lld samples are not structures of positive probability",
	      (long long)bad);
	CHECK(lp_bad == 0, "%lld samples have log_prob != score - log Z",
	      (long long)lp_bad);
	for (int64_t k = 0; k < ref->en.count; k++) {
		if (isinf(ref->en.scores[k]))
			continue;
		cells[n_cells].expected = CONF_FIT_DRAWS * exp(ref_log_prob(ref, k));
		cells[n_cells++].observed = counts[k];
	}
	snprintf(label, sizeof label, "%s: %lld structures of positive probability",
		 row->name, (long long)ref->finite);
	chi2_check(cells, n_cells, label);
done:
	out_free(&o);
	free(counts);
	free(cells);
	batch_free(b);
	free(b);
}

/* ---- count, cross-entropy, kl ------------------------------------------------------ */

/*
 * count (log_count: log of the number of structures of finite score,
 * conf_enum.counted where an event stands for several),
 * cross-entropy (-Σ_y p(y) log q(y)) and kl (KL(p‖q)) of two inputs of
 * the same structure and shapes (SPEC §2). Their brute-force references
 * are checked against hand-worked values (ref_suite_hand); check_derived
 * compares the engine with them: count runs with the batch like the other
 * scalar ops, cross-entropy and kl over the batch and a twin batch Q.
 *
 * Conventions: an element (P or Q) without structure gives NaN for
 * cross-entropy and kl (SPEC §4); p(y) > 0 where q(y) = 0 gives +inf.
 */
static double ref_log_count(const conf_ref *r)
{
	return r->counted ? log((double)r->counted) : -INFINITY;
}

/* -Σ p log q (kl = 0) or Σ p (log p - log q) (kl = 1); P and Q list the
 * same structures, matched by event. */
static double ref_pair(const conf_ref *p, const conf_ref *q, int kl)
{
	long double sum = 0.0L;

	if (p->finite == 0 || q->finite == 0)
		return NAN;
	for (int64_t k = 0; k < p->en.count; k++) {
		double lp = ref_log_prob(p, k), lq;

		if (isinf(lp))
			continue;
		lq = ref_log_prob(q, conf_enum_find(&q->en, p->en.events + k * p->en.E));
		if (isinf(lq))
			return INFINITY;
		sum += expl((long double)lp) * ((kl ? lp : 0.0) - lq);
	}
	return (double)sum;
}

/*
 * What limits the accuracy of cross-entropy and kl in double: they are
 * E_p[s_p - s_q] less log Z_p - log Z_q, so the relative error of the
 * marginals, some ε (|log Z_p| + |log Z_q|), is multiplied by E_p|s_p -
 * s_q|. Where the scores are of 1e4 and P and Q disagree by as much, that
 * is above 1e-9 of a divergence near 1 whatever the algorithm; the
 * checks allow it on top of RTOL (it is below 1e-12 at normal scales).
 */
static double ref_pair_slack(const conf_ref *p, const conf_ref *q)
{
	long double spread = 0.0L;

	if (p->finite == 0 || q->finite == 0)
		return 0.0;
	for (int64_t k = 0; k < p->en.count; k++) {
		double lp = ref_log_prob(p, k);
		int64_t kq = conf_enum_find(&q->en, p->en.events + k * p->en.E);

		if (isinf(lp) || kq < 0 || isinf(q->en.scores[kq]))
			continue;
		spread += expl((long double)lp) *
			  fabsl(p->en.scores[k] - q->en.scores[kq]);
	}
	return 16 * DBL_EPSILON * (1.0 + fabs((double)p->logz) +
				   fabs((double)q->logz)) * (double)spread;
}

static double ref_cross_entropy(const conf_ref *p, const conf_ref *q)
{
	return ref_pair(p, q, 0);
}

static double ref_kl(const conf_ref *p, const conf_ref *q)
{
	return ref_pair(p, q, 1);
}

/* A reference over hand-made structures: events e_k = unit vector k of
 * size 3, scores given. */
static void hand_ref(conf_ref *r, const double scores[3])
{
	double ev[3];
	long double sum = 0.0L, mx = -INFINITY;

	memset(r, 0, sizeof *r);
	conf_enum_init(&r->en, 3);
	for (int k = 0; k < 3; k++) {
		memset(ev, 0, sizeof ev);
		ev[k] = 1.0;
		conf_enum_add(&r->en, ev, scores[k]);
		r->finite += !isinf(scores[k]);
		r->counted += !isinf(scores[k]);
		mx = fmaxl(mx, scores[k]);
	}
	conf_enum_index(&r->en);
	for (int k = 0; k < 3; k++)
		sum += isinf(scores[k]) ? 0.0L : expl(scores[k] - mx);
	r->logz = r->finite ? mx + logl(sum) : -INFINITY;
}

static void ref_suite_hand(void)
{
	/* p = (1/3, 2/3, 0), q = (3/5, 1/5, 1/5), q2 = (1/2, 0, 1/2). */
	const double sp[3] = {0.0, log(2.0), -INFINITY};
	const double sq[3] = {log(3.0), 0.0, 0.0};
	const double sq2[3] = {0.0, -INFINITY, 0.0};
	const double none[3] = {-INFINITY, -INFINITY, -INFINITY};
	conf_ref p, q, q2, z;

	hand_ref(&p, sp);
	hand_ref(&q, sq);
	hand_ref(&q2, sq2);
	hand_ref(&z, none);
	unit_begin();
	CHECK_CLOSE(ref_log_count(&p), log(2.0), RTOL);
	CHECK_CLOSE(ref_log_count(&q), log(3.0), RTOL);
	CHECK_CLOSE(ref_log_count(&z), -INFINITY, RTOL);
	CHECK_CLOSE(ref_cross_entropy(&p, &q),
		    -(log(3.0 / 5.0) / 3.0 + 2.0 * log(1.0 / 5.0) / 3.0), RTOL);
	CHECK_CLOSE(ref_kl(&p, &q), log((1.0 / 3.0) / (3.0 / 5.0)) / 3.0 +
				    2.0 * log((2.0 / 3.0) / (1.0 / 5.0)) / 3.0,
		    RTOL);
	CHECK_CLOSE(ref_cross_entropy(&p, &p),
		    -(log(1.0 / 3.0) / 3.0 + 2.0 * log(2.0 / 3.0) / 3.0), RTOL);
	CHECK_CLOSE(ref_kl(&p, &p), 0.0, RTOL);
	CHECK_CLOSE(ref_cross_entropy(&p, &q2), INFINITY, RTOL);
	CHECK_CLOSE(ref_kl(&p, &q2), INFINITY, RTOL);
	CHECK_CLOSE(ref_cross_entropy(&q2, &p), INFINITY, RTOL);
	CHECK_CLOSE(ref_cross_entropy(&z, &q), NAN, RTOL);
	CHECK_CLOSE(ref_kl(&q, &z), NAN, RTOL);
	unit_end("conformance: references for log count, cross-entropy and kl on hand-worked distributions, +inf where q = 0 < p, NaN without structure");
	ref_free(&p);
	ref_free(&q);
	ref_free(&q2);
	ref_free(&z);
}

/* ss_run of cross-entropy or kl with P the batch and Q elements q into
 * out and empty; 1 on success. */
static int run_pair(const conf_batch *b, ss_op op, const ss_element *q,
		    double *out, unsigned char *empty)
{
	ss_batch batch = {.structure = b->s, .elements = b->elements,
			  .elements_q = q, .count = BATCH, .num_samples = 1,
			  .empty = empty};
	int64_t failed = -1;
	int failed_q = 0;
	ss_error err = {0};
	int rc;
	batch.out[0] = out;
	rc = ss_run(op, &batch, &failed, &failed_q, &err);
	return CHECK(rc == SS_OK, "ss_run %s returned %d (%s) for element %lld%s",
		     ss_ops[op].name, rc, err.message, (long long)failed,
		     failed_q ? " of Q" : "");
}

/*
 * The engine against the references: count on the batch; cross-entropy
 * and kl on the batch and a twin batch Q of the same sizes, lengths and
 * dead elements with other scores, and on the batch against itself
 * (CE(P, P) = H(P), KL(P, P) = 0).
 */
static void check_derived(const conf_batch *b)
{
	conf_case q[BATCH];
	conf_ref qref[BATCH];
	ss_element qe[BATCH];
	double ce[BATCH], kl[BATCH], self_ce[BATCH], self_kl[BATCH];
	unsigned char empty[BATCH];

	if (b->out[SS_OP_LOG_COUNT].ok) {
		const conf_out *o = &b->out[SS_OP_LOG_COUNT];

		unit_context("%s, mode %s, batch seed %llu", b->row->name,
			     b->mode->name, (unsigned long long)b->seed);
		for (int j = 0; j < BATCH; j++) {
			batch_context(b, j);
			CHECK_REAL(b->mode, *(double *)out_at(o, 0, 0, j),
				   ref_log_count(&b->refs[j]), "log_count");
		}
		check_empty_flags(b, o, SS_OP_LOG_COUNT);
	}
	if (!supported(b->s, b->option, SS_OP_CROSS_ENTROPY) ||
	    !supported(b->s, b->option, SS_OP_KL))
		return;
	for (int j = 0; j < BATCH; j++) {
		case_make(&q[j], b, j, 0x9e3779b97f4a7c15ULL);
		ref_make(&qref[j], b->row, &q[j]);
		qe[j] = q[j].e;
	}
	if (run_pair(b, SS_OP_CROSS_ENTROPY, qe, ce, empty) &&
	    run_pair(b, SS_OP_KL, qe, kl, empty) &&
	    run_pair(b, SS_OP_CROSS_ENTROPY, b->elements, self_ce, empty) &&
	    run_pair(b, SS_OP_KL, b->elements, self_kl, empty))
		for (int j = 0; j < BATCH; j++) {
			const conf_ref *p = &b->refs[j];
			batch_context(b, j);
			CHECK(qref[j].en.count == p->en.count,
			      "Q lists %lld structures, P %lld",
			      (long long)qref[j].en.count, (long long)p->en.count);
			const double slack = ref_pair_slack(p, &qref[j]);
			const double ce_want = ref_cross_entropy(p, &qref[j]);
			const double kl_want = ref_kl(p, &qref[j]);

			CHECK_CLOSE_SLACK(b->mode, ce[j], ce_want, slack,
					  "cross-entropy(P, Q)");
			CHECK_CLOSE_SLACK(b->mode, kl[j], kl_want, slack,
					  "kl(P, Q)");
			CHECK_REAL(b->mode, self_ce[j], p->entropy,
				   "cross-entropy(P, P) = entropy(P)");
			CHECK_REAL(b->mode, self_kl[j], ref_kl(p, p), "kl(P, P)");
			CHECK(empty[j] == (p->finite == 0),
			      "empty flag %d of kl(P, P)", empty[j]);
		}
	for (int j = 0; j < BATCH; j++) {
		case_free(&q[j]);
		ref_free(&qref[j]);
	}
}

/* ---- the suite ---------------------------------------------------------------------- */

/* What each group of check_op checks. */
static const char *const op_summary[SS_OP_COUNT] = {
	[SS_OP_PARTITION] = "log_partition = log-sum-exp of the enumerated scores; validate accepts NaN where unread",
	[SS_OP_MARGINALS] = "marginals = Σ p(y) event(y), 0 in padding",
	[SS_OP_ARGMAX] = "argmax event is one of the best structures with the best score, decodes consistent (-1 in padding, ss_encode gives the event)",
	[SS_OP_SAMPLE] = "samples are structures of positive probability, log_prob = score - log Z, decodes consistent",
	[SS_OP_ENTROPY] = "entropy equals brute force (NaN without structure)",
	[SS_OP_LOG_PROB] = "log-prob of every enumerated structure, of the argmax and of the all-zero event",
	[SS_OP_MAX_MARGINALS] = "max_marginals[x] = the best enumerated score of a structure whose event has x (-inf where none)",
	[SS_OP_TOP_K] = "the 7 best: enumerated scores best first, distinct structures, then empty ranks",
};

static void suite_row(const conf_row *row)
{
	const int n_batches = N_MODES * BATCHES;
	const ss_structure *s = ss_structure_find(row->structure);
	conf_batch *batches;
	int64_t elements = 0, dead = 0, shortest = 0, structures = 0, fd = 0;
	int64_t option[SS_MAX_OPTIONS];

	unit_begin();
	if (!CHECK(s != NULL, "structure '%s' not found", row->structure)) {
		unit_end("conformance: %s: structure found", row->name);
		return;
	}
	CHECK(row_options(row, s, option),
	      "options \"%s\" name an option %s does not have",
	      row->options, s->name);
	batches = calloc((size_t)n_batches, sizeof *batches);
	for (int m = 0; m < N_MODES; m++)
		for (int k = 0; k < BATCHES; k++) {
			conf_batch *b = &batches[m * BATCHES + k];

			batch_make(b, row, s, &modes[m],
				   name_hash(row->name) ^ (uint64_t)(m * 131 + k + 1) * 0x9e3779b97f4a7c15ULL,
				   k == 0);
			batch_run(b);
			for (int j = 0; j < BATCH; j++) {
				elements++;
				dead += b->refs[j].finite == 0;
				shortest += b->cases[j].len == row->len_min;
				structures += b->refs[j].en.count;
			}
		}
	for (ss_op op = 0; op < SS_OP_COUNT; op++)
		if (!op_checked(s, option, op) && supported(s, option, op) &&
		    op != SS_OP_CROSS_ENTROPY && op != SS_OP_KL &&
		    op != SS_OP_INFO /* validation: checked by every op */)
			unit_note("%s: ss_ops has '%s', which this suite does not check yet (see \"operations to come\")",
				  row->name, ss_ops[op].name);
	unit_end("conformance: %s: %d batches of %d elements built and run (%lld without structure, %lld of the shortest length %lld, %lld enumerated structures)",
		 row->name, n_batches, BATCH, (long long)dead,
		 (long long)shortest, (long long)row->len_min,
		 (long long)structures);

	for (ss_op op = 0; op < SS_OP_COUNT; op++) {
		if (!op_checked(s, option, op) || op == SS_OP_LOG_COUNT)
			continue;
		unit_begin();
		for (int k = 0; k < n_batches; k++)
			check_op(&batches[k], op);
		unit_end("conformance: %s: %s through ss_run: %s (%lld elements, %d modes)",
			 row->name, ss_ops[op].name, op_summary[op],
			 (long long)elements, N_MODES);
	}

	unit_begin();
	for (int k = 0; k < n_batches; k++)
		check_round_trips(&batches[k]);
	unit_end("conformance: %s: decode of every enumerated structure is -1 in padding and ss_encode gives it back",
		 row->name);

	unit_begin();
	for (int k = 0; k < n_batches; k++)
		check_determinism(&batches[k],
				  k % BATCHES == 0 && batches[k].mode->threads);
	unit_end("conformance: %s: every op gives the same bytes (and empty[]) in chunks of 2 and 3 elements, and at 2 and 4 threads (modes normal and no structure), as the whole batch at 1 thread",
		 row->name);

	unit_begin();
	for (int k = 0; k < n_batches; k++)
		check_views(&batches[k]);
	unit_end("conformance: %s: every op gives the same bytes with the inputs as typed views: axes reversed, strided, integers int32, float32 values as float32",
		 row->name);

	if (row->grad) {
		unit_begin();
		omp_set_num_threads(1);
		for (int k = 0; k < n_batches; k++) {
			const conf_batch *b = &batches[k];

			if (!b->mode->fd || !b->out[SS_OP_MARGINALS].ok)
				continue;
			for (int j = 0; j < BATCH; j++) {
				if (b->refs[j].finite == 0)
					continue;
				batch_context(b, j);
				check_gradient(b, j);
				fd++;
			}
		}
		unit_end("conformance: %s: d log Z / d input by central differences (h = %g, tol %g) equals the gradient from the marginals, every finite entry of every real input (%lld elements)",
			 row->name, FD_H, FD_TOL, (long long)fd);
	}

	if (supported(s, option, SS_OP_PARTITION)) {
		int64_t checked[GRAD_OPS] = {0};
		char ops[200] = "";
		size_t used = 0;

		unit_begin();
		omp_set_num_threads(1);
		for (int k = 0; k < n_batches; k++) {
			conf_batch *b = &batches[k];

			if (!b->mode->fd)
				continue;
			for (int j = 0; j < BATCH; j++) {
				batch_context(b, j);
				if (b->refs[j].finite == 0)
					check_grads_dead(b, j);
				else
					check_grads(b, j, checked);
			}
		}
		for (int o = 0; o < GRAD_OPS; o++) {
			const char *why = ss_grad_unsupported(s, option, grad_ops[o]);

			if (checked[o])
				used += (size_t)snprintf(ops + used, sizeof ops - used,
							 "%s%s %lld", used ? ", " : "",
							 ss_ops[grad_ops[o]].name,
							 (long long)checked[o]);
			else if (supported(s, option, grad_ops[o]) && why)
				unit_note("%s: %s --grad: %s", row->name,
					  ss_ops[grad_ops[o]].name, why);
		}
		unit_end("conformance: %s: --grad of every op with a gradient equals central differences (h = %g, tol %g) of the brute force in every finite entry of every real input, of P and Q, 0 where never read and without structure (elements: %s)",
			 row->name, FD_H, FD_TOL, used ? ops : "none");
	}

	if (row->grad == conf_grad_identity || row->grad == conf_tree_grad) {
		int64_t checked[3] = {0};

		unit_begin();
		omp_set_num_threads(1);
		for (int k = 0; k < n_batches; k++)
			for (int j = 0; j < BATCH; j++) {
				if (batches[k].refs[j].finite == 0)
					continue;
				batch_context(&batches[k], j);
				check_grads_cov(&batches[k], j, checked);
			}
		unit_end("conformance: %s: --grad of entropy, cross-entropy and kl (P) equals the enumeration's covariance of the event with the score, in every mode and magnitude (elements: %lld, %lld, %lld)",
			 row->name, (long long)checked[0], (long long)checked[1],
			 (long long)checked[2]);
	}

	if (supported(s, option, SS_OP_SAMPLE)) {
		unit_begin();
		if (!row->grad)
			unit_note("%s: its row gives no gradient: marginals not checked by finite differences",
				  row->name);
		check_fit(row, s);
		unit_end("conformance: %s: %d samples through ss_run pass chi-square at 0.999 against the enumeration; log_prob = score - log Z",
			 row->name, CONF_FIT_DRAWS);
	}

	if (supported(s, option, SS_OP_LOG_COUNT) ||
	    (supported(s, option, SS_OP_CROSS_ENTROPY) &&
	     supported(s, option, SS_OP_KL))) {
		unit_begin();
		for (int k = 0; k < n_batches; k++)
			check_derived(&batches[k]);
		unit_end("conformance: %s: count, cross-entropy(P, Q) and kl(P, Q) through ss_run against brute force; CE(P, P) = H(P), KL(P, P) = 0",
			 row->name);
	}

	for (int k = 0; k < n_batches; k++)
		batch_free(&batches[k]);
	free(batches);
}

void suite_conformance(void)
{
	const int threads = omp_get_max_threads();

	ref_suite_hand();
	for (size_t k = 0; k < sizeof conf_rows / sizeof conf_rows[0]; k++)
		suite_row(&conf_rows[k]);
	omp_set_num_threads(threads);
}
