/*
 * unit_driver.c - the tables (structures, inputs, operations and their
 * outputs) and the batch driver ss_run: per-element results equal the
 * direct calls, the same bytes at 1 and 2 OpenMP threads, empty[] flags,
 * and the error of the lowest failing element.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "unit.h"

/* ---- tables ----------------------------------------------------------------- */

typedef struct want_input {
	const char *name;
	ss_kind kind;
	int rank;
	ss_dim dims[3];
} want_input;

static void check_inputs(const ss_structure *s, const want_input *want,
			 int n, const char *lengths)
{
	if (!CHECK(s->n_inputs == n, "%d inputs, want %d", s->n_inputs, n))
		return;
	for (int k = 0; k < n; k++) {
		const ss_input_spec *in = &s->inputs[k];
		int same = !strcmp(in->name, want[k].name) &&
			   in->kind == want[k].kind && in->rank == want[k].rank;

		for (int d = 0; same && d < in->rank; d++)
			same = in->dims[d] == want[k].dims[d];
		CHECK(same, "inputs[%d] is '%s' (kind %d, rank %d), want '%s' (kind %d, rank %d)",
		      k, in->name, in->kind, in->rank, want[k].name,
		      want[k].kind, want[k].rank);
	}
	CHECK(s->lengths_input == input_index(s, lengths),
	      "lengths_input %d, want %d", s->lengths_input,
	      input_index(s, lengths));
	CHECK(s->event.rank == 3 && s->event.dims[0] == SS_DIM_N &&
		      s->event.dims[1] == SS_DIM_T && s->event.dims[2] == SS_DIM_T,
	      "event is not [n, t, t]");
	CHECK(s->n_decodes == 1 && !strcmp(s->decodes[0].name, "labels") &&
		      s->decodes[0].kind == SS_INT && s->decodes[0].rank == 1 &&
		      s->decodes[0].dims[0] == SS_DIM_N,
	      "decodes are not [labels INT [n]]");
}

/* The output arrays of an op, as the header describes them: the op's
 * outputs in order, decodes expanded after the others. */
typedef struct layout {
	int count;
	const char *name[SS_MAX_OP_ARRAYS];
	ss_kind kind[SS_MAX_OP_ARRAYS];
	ss_out_role role[SS_MAX_OP_ARRAYS];
	int decode[SS_MAX_OP_ARRAYS]; /* -1: not a decode */
	int64_t size[SS_MAX_OP_ARRAYS]; /* per element */
} layout;

static void layout_init(layout *L, const ss_structure *s, ss_op op,
			const int64_t dim[])
{
	const ss_op_spec *spec = &ss_ops[op];
	int decodes = 0;

	memset(L, 0, sizeof *L);
	for (int o = 0; o < spec->n_outputs; o++) {
		const ss_op_output *out = &spec->outputs[o];

		if (out->role == SS_OUT_DECODES) {
			decodes = 1;
			continue;
		}
		L->name[L->count] = out->name;
		L->kind[L->count] = SS_REAL;
		L->role[L->count] = out->role;
		L->decode[L->count] = -1;
		L->size[L->count++] = out->role == SS_OUT_EVENT
					      ? ss_array_size(&s->event, dim) : 1;
	}
	for (int d = 0; decodes && d < s->n_decodes; d++) {
		L->name[L->count] = s->decodes[d].name;
		L->kind[L->count] = s->decodes[d].kind;
		L->role[L->count] = SS_OUT_DECODES;
		L->decode[L->count] = d;
		L->size[L->count++] = ss_array_size(&s->decodes[d], dim);
	}
}

static void check_op_tables(const ss_structure *s)
{
	int64_t dim[SS_DIM_COUNT] = {[SS_DIM_N] = 5, [SS_DIM_T] = 3, [SS_DIM_V] = 2};

	for (ss_op op = 0; op < SS_OP_COUNT; op++) {
		layout L;
		int n = ss_op_output_count(s, op);

		layout_init(&L, s, op, dim);
		CHECK(ss_op_unsupported(s, op) == NULL, "%s: %s unsupported: %s",
		      s->name, ss_ops[op].name, ss_op_unsupported(s, op));
		if (!CHECK(n == L.count, "%s %s: %d output arrays, want %d",
			   s->name, ss_ops[op].name, n, L.count))
			continue;
		for (int k = 0; k < n; k++) {
			const ss_array_spec *a = ss_op_output_array(s, op, k);
			int64_t size = a ? ss_array_size(a, dim) : 1;

			CHECK(!strcmp(ss_op_output_name(s, op, k), L.name[k]) &&
				      ss_op_output_kind(s, op, k) == L.kind[k] &&
				      size == L.size[k],
			      "%s %s output %d: '%s' kind %d size %lld, want '%s' kind %d size %lld",
			      s->name, ss_ops[op].name, k,
			      ss_op_output_name(s, op, k),
			      ss_op_output_kind(s, op, k), (long long)size,
			      L.name[k], L.kind[k], (long long)L.size[k]);
		}
	}
}

void suite_tables(void)
{
	static const want_input chain[] = {
		{"log_potentials", SS_REAL, 3, {SS_DIM_N, SS_DIM_T, SS_DIM_T}},
		{"lengths", SS_INT, 0, {SS_DIM_N}},
	};
	static const want_input hmm[] = {
		{"init_logits", SS_REAL, 1, {SS_DIM_T}},
		{"transition_logits", SS_REAL, 2, {SS_DIM_T, SS_DIM_T}},
		{"emission_logits", SS_REAL, 2, {SS_DIM_T, SS_DIM_V}},
		{"observations", SS_INT, 1, {SS_DIM_N}},
		{"emission_scores", SS_REAL, 2, {SS_DIM_N, SS_DIM_T}},
		{"lengths", SS_INT, 0, {SS_DIM_N}},
	};
	const ss_structure *lc = ss_structure_find("linear-chain");
	const ss_structure *hm = ss_structure_find("hmm");

	unit_begin();
	CHECK(lc && !strcmp(lc->name, "linear-chain"), "linear-chain not found");
	CHECK(hm && !strcmp(hm->name, "hmm"), "hmm not found");
	CHECK(ss_structure_find("no-such-structure") == NULL,
	      "an unknown name is found");
	unit_end("tables: ss_structure_find finds linear-chain and hmm, NULL for an unknown name");
	if (!lc || !hm)
		return;

	unit_begin();
	check_inputs(lc, chain, 2, "lengths");
	unit_end("tables: linear-chain inputs [log_potentials REAL [n, t, t], lengths INT []], event [n, t, t], decode labels [n]");

	unit_begin();
	check_inputs(hm, hmm, 6, "lengths");
	unit_end("tables: hmm inputs [init_logits, transition_logits, emission_logits, observations, emission_scores, lengths], event [n, t, t], decode labels [n]");

	unit_begin();
	check_op_tables(lc);
	check_op_tables(hm);
	unit_end("tables: every op is supported by both; ss_op_output_count/name/kind/array follow ss_ops with decodes expanded last");
}

/* ---- ss_run -------------------------------------------------------------------- */

#define COUNT 7
#define SAMPLES 3
#define SEED 4711u

static const int64_t batch_lengths[COUNT] = {5, 0, 3, 1, 5, 2, 4};
enum { DEAD = 4 }; /* the element made to have no structure */

typedef struct run_case {
	problem p[COUNT];
	ss_element e[COUNT];
	unsigned char want_empty[COUNT];
	const ss_structure *s;
	int64_t E;                     /* event size */
	double *events;                /* [SAMPLES][COUNT][E] for log-prob */
} run_case;

/* Element j: random, n = 5, t = 3, V = 3, of length batch_lengths[j];
 * element DEAD has no structure. */
static void run_case_init(run_case *rc, problem_kind kind)
{
	gen_opts o = gen_random;

	o.n = 5;
	o.t = 3;
	o.V = 3;
	o.mode = PM_NORMAL;
	o.pinf = 0.1;
	for (int j = 0; j < COUNT; j++) {
		problem *p = &rc->p[j];
		brute b;

		o.len = batch_lengths[j];
		problem_random(p, kind, &o, 900 + (uint64_t)j);
		if (j == DEAD) { /* position 1 impossible */
			for (int64_t k = 0; kind == PK_CHAIN && k < 9; k++)
				p->lp[9 + k] = -INFINITY;
			for (int64_t c = 0; kind == PK_HMM_LOGITS && c < 3; c++)
				p->emis[c * 3 + p->obs[1]] = -INFINITY;
			for (int64_t c = 0; kind == PK_HMM_SCORES && c < 3; c++)
				p->escores[3 + c] = -INFINITY;
			problem_setup(p);
		}
		p->e.index = 10 + j;
		rc->e[j] = p->e;
		brute_run(&b, p->theta, p->n, p->t, p->len);
		rc->want_empty[j] = b.logz == -INFINITY;
		brute_free(&b);
	}
	rc->s = rc->p[0].s;
	rc->E = problem_event_size(&rc->p[0]);
	rc->events = calloc((size_t)(SAMPLES * COUNT * rc->E), sizeof(double));
	for (int j = 0; j < COUNT; j++) {
		double lp[SAMPLES];
		ss_error err = {0};

		rc->s->sample(&rc->e[j], rc->p[j].ws, SEED + 1, SAMPLES,
			      rc->events + j * rc->E, (size_t)(COUNT * rc->E),
			      lp, 1, &err);
	}
}

static void run_case_free(run_case *rc)
{
	for (int j = 0; j < COUNT; j++)
		problem_free(&rc->p[j]);
	free(rc->events);
}

static int64_t rows_of(ss_op op)
{
	return ss_ops[op].per_sample ? SAMPLES : 1;
}

static void outputs_alloc(const layout *L, int64_t rows, void *out[])
{
	for (int k = 0; k < L->count; k++)
		out[k] = calloc((size_t)(rows * COUNT * L->size[k]) + 1, 8);
}

static void outputs_free(const layout *L, void *out[])
{
	for (int k = 0; k < L->count; k++)
		free(out[k]);
}

/* One row of one element's results, as the direct calls give them. */
typedef struct row {
	double logz, score, entropy, log_prob;
	const double *event;
} row;

/* Writes row r of element j into the outputs: events and scalars by
 * output name, decodes of the row's event. */
static void place(const run_case *rc, const layout *L, int64_t r, int j,
		  const row *x, void *out[])
{
	int64_t *decodes[SS_MAX_DECODES] = {0};
	int has_decodes = 0;

	for (int k = 0; k < L->count; k++) {
		int64_t at = (r * COUNT + j) * L->size[k];
		double *d = (double *)out[k] + at;
		const char *name = L->name[k];

		if (L->role[k] == SS_OUT_DECODES) {
			decodes[L->decode[k]] = (int64_t *)out[k] + at;
			has_decodes = 1;
		} else if (L->role[k] == SS_OUT_EVENT) {
			memcpy(d, x->event, sizeof(double) * (size_t)L->size[k]);
		} else if (!strcmp(name, "log_partition")) {
			*d = x->logz;
		} else if (!strcmp(name, "score")) {
			*d = x->score;
		} else if (!strcmp(name, "entropy")) {
			*d = x->entropy;
		} else if (!strcmp(name, "log_prob")) {
			*d = x->log_prob;
		} else {
			CHECK(0, "unknown output '%s'", name);
		}
	}
	if (has_decodes)
		rc->s->decode(&rc->e[j], x->event, decodes);
}

/* The op's outputs computed by direct per-element calls. */
static void direct(const run_case *rc, ss_op op, const layout *L, void *out[])
{
	const ss_structure *s = rc->s;
	int64_t E = rc->E;
	double *ev = calloc((size_t)(E * SAMPLES) + 1, sizeof(double));

	for (int j = 0; j < COUNT; j++) {
		const ss_element *e = &rc->e[j];
		void *ws = rc->p[j].ws;
		double lp[SAMPLES];
		row x = {NAN, NAN, NAN, NAN, NULL};
		ss_error err = {0};
		int ok = 1;

		switch (op) {
		case SS_OP_PARTITION:
			ok = !s->log_partition(e, ws, &x.logz, &err);
			break;
		case SS_OP_MARGINALS:
			ok = !s->marginals(e, ws, ev, &x.logz, &err);
			x.event = ev;
			break;
		case SS_OP_ARGMAX:
			ok = !s->argmax(e, ws, ev, &x.score, &err);
			x.event = ev;
			break;
		case SS_OP_SAMPLE:
			ok = !s->sample(e, ws, SEED, SAMPLES, ev, (size_t)E, lp, 1,
					&err);
			break;
		case SS_OP_ENTROPY:
			ok = !s->entropy(e, ws, &x.entropy, &err);
			break;
		default: /* SS_OP_LOG_PROB */
			ok = !s->log_partition(e, ws, &x.logz, &err);
			break;
		}
		CHECK(ok, "direct %s of element %d failed: %s", ss_ops[op].name,
		      j, err.message);
		for (int64_t r = 0; r < rows_of(op); r++) {
			if (op == SS_OP_SAMPLE) {
				x.event = ev + r * E;
				x.log_prob = lp[r];
			} else if (op == SS_OP_LOG_PROB) {
				double sc = NAN;

				s->score(e, ws, rc->events + (r * COUNT + j) * E, &sc, &err);
				x.log_prob = isinf(x.logz) || isinf(sc) ? -INFINITY
									  : sc - x.logz;
			}
			place(rc, L, r, j, &x, out);
		}
	}
	free(ev);
}

static int run(const run_case *rc, ss_op op, int threads, void *out[],
	       unsigned char *empty)
{
	ss_batch batch = {.structure = rc->s, .elements = rc->e, .count = COUNT,
			  .num_samples = SAMPLES, .seed = SEED,
			  .events = rc->events, .empty = empty};
	int64_t failed = -1;
	ss_error err = {0};
	int status;

	memcpy(batch.out, out, sizeof batch.out);
	omp_set_num_threads(threads);
	status = ss_run(op, &batch, &failed, &err);
	return CHECK(status == SS_OK, "ss_run %s at %d threads returned %d (%s), element %lld",
		     ss_ops[op].name, threads, status, err.message, (long long)failed);
}

static void compare(const layout *L, int64_t rows, void *got[], void *want[],
		    ss_op op)
{
	for (int k = 0; k < L->count; k++)
		for (int64_t x = 0; x < rows * COUNT * L->size[k]; x++) {
			int64_t r = x / (COUNT * L->size[k]);
			int64_t j = x / L->size[k] % COUNT, at = x % L->size[k];

			if (L->kind[k] == SS_INT)
				CHECK(((int64_t *)got[k])[x] == ((int64_t *)want[k])[x],
				      "%s %s[%lld][%lld][%lld]: ss_run %lld, direct %lld",
				      ss_ops[op].name, L->name[k], (long long)r,
				      (long long)j, (long long)at,
				      (long long)((int64_t *)got[k])[x],
				      (long long)((int64_t *)want[k])[x]);
			else
				CHECK_CLOSE_AT(((double *)got[k])[x], ((double *)want[k])[x],
					       RTOL, "%s %s[%lld][%lld][%lld] ss_run vs direct",
					       ss_ops[op].name, L->name[k], (long long)r,
					       (long long)j, (long long)at);
		}
}

static void check_run(const run_case *rc, ss_op op)
{
	layout L;
	int64_t rows = rows_of(op);
	void *want[SS_MAX_OP_ARRAYS] = {0};
	void *one[SS_MAX_OP_ARRAYS] = {0};
	void *two[SS_MAX_OP_ARRAYS] = {0};
	unsigned char empty1[COUNT] = {0}, empty2[COUNT] = {0};

	layout_init(&L, rc->s, op, rc->e[0].dim);
	outputs_alloc(&L, rows, want);
	outputs_alloc(&L, rows, one);
	outputs_alloc(&L, rows, two);
	direct(rc, op, &L, want);
	if (run(rc, op, 1, one, empty1) && run(rc, op, 2, two, empty2)) {
		compare(&L, rows, one, want, op);
		for (int k = 0; k < L.count; k++)
			CHECK(!memcmp(one[k], two[k], (size_t)(rows * COUNT * L.size[k]) * 8),
			      "%s: output '%s' differs between 1 and 2 threads",
			      ss_ops[op].name, L.name[k]);
		for (int j = 0; j < COUNT; j++)
			CHECK(empty1[j] == rc->want_empty[j] && empty2[j] == empty1[j],
			      "%s: empty[%d] = %d (1 thread), %d (2 threads), want %d",
			      ss_ops[op].name, j, empty1[j], empty2[j],
			      rc->want_empty[j]);
	}
	outputs_free(&L, want);
	outputs_free(&L, one);
	outputs_free(&L, two);
}

/* Two bad elements: ss_run reports the lower, naming the dataset. */
static void check_failure(problem_kind kind)
{
	const char *dataset = kind == PK_CHAIN ? "log_potentials"
			      : kind == PK_HMM_LOGITS ? "observations"
						      : "emission_scores";
	run_case rc;
	double logz[COUNT];
	unsigned char empty[COUNT];

	run_case_init(&rc, kind);
	for (int j = 2; j < COUNT; j += 3) { /* elements 2 and 5 */
		problem *p = &rc.p[j];

		if (kind == PK_CHAIN)
			p->lp[0] = NAN;
		else if (kind == PK_HMM_LOGITS)
			p->obs[0] = 3;
		else
			p->escores[0] = INFINITY;
	}
	for (int threads = 1; threads <= 2; threads++) {
		ss_batch batch = {.structure = rc.s, .elements = rc.e,
				  .count = COUNT, .num_samples = 1, .seed = 1,
				  .empty = empty, .out = {logz}};
		int64_t failed = -1;
		ss_error err = {0};
		int status;

		omp_set_num_threads(threads);
		status = ss_run(SS_OP_PARTITION, &batch, &failed, &err);
		CHECK(status == SS_EDATA, "%d threads: ss_run returned %d, want SS_EDATA",
		      threads, status);
		CHECK(failed == 2, "%d threads: failed = %lld, want 2", threads,
		      (long long)failed);
		CHECK(strstr(err.message, dataset) != NULL,
		      "%d threads: message '%s' does not name '%s'", threads,
		      err.message, dataset);
	}
	run_case_free(&rc);
}

/* ---- shared parameters ------------------------------------------------------ */

#define SHARED 64

/*
 * SHARED hmm elements with one init_logits, transition_logits and
 * emission_logits array (as the CLI hands them when those datasets have
 * no batch axes) and observations of their own; with copies, every
 * element has its own emission_logits array holding the same values.
 */
typedef struct shared_case {
	problem p;
	ss_element e[SHARED];
	int64_t *obs;
	double *copies;
	int64_t E;
} shared_case;

static void shared_case_init(shared_case *sc, int copies)
{
	gen_opts o = gen_random;
	const int emis = input_index(ss_structure_find("hmm"), "emission_logits");
	const int obs = input_index(ss_structure_find("hmm"), "observations");
	unit_rng r;

	o.n = 6;
	o.t = 3;
	o.V = 40;
	o.mode = PM_NORMAL;
	o.pinf = 0.0;
	o.has_lengths = 0;
	problem_random(&sc->p, PK_HMM_LOGITS, &o, 31337);
	sc->E = problem_event_size(&sc->p);
	sc->obs = malloc(sizeof(int64_t) * SHARED * 6);
	sc->copies = copies ? malloc(sizeof(double) * SHARED * 3 * 40) : NULL;
	urng_seed(&r, 99);
	for (int j = 0; j < SHARED; j++) {
		sc->e[j] = sc->p.e;
		for (int i = 0; i < 6; i++)
			sc->obs[j * 6 + i] = urng_int(&r, 0, 39);
		sc->e[j].input[obs] = sc->obs + j * 6;
		sc->e[j].index = j;
		if (copies) {
			memcpy(sc->copies + j * 3 * 40, sc->p.emis,
			       sizeof(double) * 3 * 40);
			sc->e[j].input[emis] = sc->copies + j * 3 * 40;
		}
	}
}

static void shared_case_free(shared_case *sc)
{
	problem_free(&sc->p);
	free(sc->obs);
	free(sc->copies);
}

/* Output 0 of op (partition, marginals, entropy) by direct calls, each
 * element preparing for itself (ss_prepare) or computing everything in
 * its own calls. */
static void shared_direct(const shared_case *sc, ss_op op, int prepare,
			  double *out)
{
	const ss_structure *s = sc->p.s;
	void *buf = ws_alloc(ss_prepare_bytes(s, sc->p.e.dim));

	for (int j = 0; j < SHARED; j++) {
		ss_element e = sc->e[j];
		ss_error err = {0};
		double logz;
		int rc = prepare ? ss_prepare(s, &e, buf, &err) : SS_OK;

		CHECK(rc == SS_OK && (e.prepared[input_index(s, "emission_logits")] != NULL) == prepare,
		      "ss_prepare of element %d: %s", j, err.message);
		rc = op == SS_OP_PARTITION
			? s->log_partition(&e, sc->p.ws, out + j, &err)
			: op == SS_OP_MARGINALS
			? s->marginals(&e, sc->p.ws, out + j * sc->E, &logz, &err)
			: s->entropy(&e, sc->p.ws, out + j, &err);
		CHECK(rc == SS_OK, "direct %s of element %d: %s",
		      ss_ops[op].name, j, err.message);
	}
	free(buf);
}

/*
 * A chunk of SHARED hmm elements sharing one emission_logits array
 * normalises it once (partition, marginals, entropy; 1, 2 and 4
 * threads), with the bytes of the direct per-element calls (which are
 * the same with and without ss_prepare); with a copy per element, once
 * per copy.
 */
static void check_shared(int copies)
{
	static const ss_op ops[] = {SS_OP_PARTITION, SS_OP_MARGINALS,
				    SS_OP_ENTROPY};
	shared_case sc;

	shared_case_init(&sc, copies);
	for (int o = 0; o < 3; o++) {
		const ss_op op = ops[o];
		const int64_t size = op == SS_OP_MARGINALS ? sc.E : 1;
		double *want = calloc((size_t)(SHARED * size), sizeof(double));
		double *got = calloc((size_t)(SHARED * size), sizeof(double));

		shared_direct(&sc, op, 1, got);
		shared_direct(&sc, op, 0, want);
		CHECK(!memcmp(got, want, sizeof(double) * (size_t)(SHARED * size)),
		      "%s: prepared elements (ss_prepare) differ from unprepared ones",
		      ss_ops[op].name);
		for (int threads = 1; threads <= 4; threads *= 2) {
			unsigned char empty[SHARED];
			ss_batch batch = {.structure = sc.p.s, .elements = sc.e,
					  .count = SHARED, .num_samples = 1,
					  .seed = 1, .empty = empty, .out = {got}};
			int64_t failed = -1, before, done;
			ss_error err = {0};
			int status;

			memset(got, 0, sizeof(double) * (size_t)(SHARED * size));
			omp_set_num_threads(threads);
			before = ssi_counter_value(SSI_COUNT_NORMALISE);
			status = ss_run(op, &batch, &failed, &err);
			done = ssi_counter_value(SSI_COUNT_NORMALISE) - before;
			CHECK(status == SS_OK, "%s, %d threads: ss_run returned %d (%s)",
			      ss_ops[op].name, threads, status, err.message);
			CHECK(done == (copies ? SHARED : 1),
			      "%s, %d threads: %lld normalisations of emission_logits for %d elements and %d array%s",
			      ss_ops[op].name, threads, (long long)done, SHARED,
			      copies ? SHARED : 1, copies ? "s" : "");
			CHECK(!memcmp(got, want, sizeof(double) * (size_t)(SHARED * size)),
			      "%s, %d threads: ss_run differs from the direct calls",
			      ss_ops[op].name, threads);
		}
		free(want);
		free(got);
	}
	shared_case_free(&sc);
}

/*
 * A NaN in the shared emission_logits: ss_run fails at element 0 with
 * validate's message, as an element that prepares for itself does
 * (ss_prepare) and as before preparations.
 */
static void check_shared_bad(void)
{
	shared_case sc;
	double logz[SHARED];
	unsigned char empty[SHARED];
	const ss_structure *s;

	shared_case_init(&sc, 0);
	s = sc.p.s;
	sc.p.emis[2 * 40 + 7] = NAN;
	for (int threads = 1; threads <= 2; threads++) {
		ss_batch batch = {.structure = s, .elements = sc.e,
				  .count = SHARED, .num_samples = 1, .seed = 1,
				  .empty = empty, .out = {logz}};
		int64_t failed = -1;
		ss_error err = {0}, verr = {0}, perr = {0};
		ss_element e = sc.e[0];
		void *buf = ws_alloc(ss_prepare_bytes(s, e.dim));
		int status;

		omp_set_num_threads(threads);
		status = ss_run(SS_OP_PARTITION, &batch, &failed, &err);
		CHECK(status == SS_EDATA && failed == 0,
		      "%d threads: ss_run returned %d for element %lld, want SS_EDATA for 0",
		      threads, status, (long long)failed);
		CHECK(s->validate(&sc.e[0], sc.p.ws, &verr) == SS_EDATA &&
			      !strcmp(err.message, verr.message),
		      "%d threads: message '%s', validate says '%s'", threads,
		      err.message, verr.message);
		CHECK(ss_prepare(s, &e, buf, &perr) == SS_EDATA &&
			      !strcmp(perr.message, verr.message),
		      "ss_prepare says '%s', validate '%s'", perr.message,
		      verr.message);
		for (int k = 0; k < SS_MAX_INPUTS; k++)
			CHECK(e.prepared[k] == NULL,
			      "prepared[%d] set after a failed ss_prepare", k);
		free(buf);
	}
	shared_case_free(&sc);
}

void suite_driver(void)
{
	int threads = omp_get_max_threads();

	for (problem_kind kind = PK_CHAIN; kind < PK_COUNT; kind++) {
		run_case rc;

		run_case_init(&rc, kind);
		for (ss_op op = 0; op < SS_OP_COUNT; op++) {
			unit_begin();
			unit_context("%s batch", problem_kind_names[kind]);
			check_run(&rc, op);
			unit_end("driver: %s %s: ss_run over 7 elements (lengths 5 0 3 1 5 2 4, one without structure) equals direct calls, same bytes at 1 and 2 threads, empty[] right",
				 problem_kind_names[kind], ss_ops[op].name);
		}
		run_case_free(&rc);

		unit_begin();
		unit_context("%s batch", problem_kind_names[kind]);
		check_failure(kind);
		unit_end("driver: %s: ss_run with bad elements 2 and 5 returns SS_EDATA for element 2, naming the dataset (1 and 2 threads)",
			 problem_kind_names[kind]);
	}
	unit_begin();
	check_shared(0);
	unit_end("driver: %d hmm elements sharing one emission_logits array normalise it once per chunk (partition, marginals, entropy at 1, 2, 4 threads), the same bytes as direct calls",
		 SHARED);
	unit_begin();
	check_shared(1);
	unit_end("driver: %d hmm elements with a copy of emission_logits each normalise each copy once, the same bytes as direct calls",
		 SHARED);
	unit_begin();
	check_shared_bad();
	unit_end("driver: NaN in a shared emission_logits: ss_run fails at element 0 with validate's message (1 and 2 threads); ss_prepare says the same and leaves prepared NULL");
	omp_set_num_threads(threads);
}
