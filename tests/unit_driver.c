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

/*
 * Properties every table must have, for every structure and op, whatever
 * they list: a structure added to lib/structure.c is checked without
 * touching this file, and a failure names the entry.
 */

/* 1 if names[0 .. n) has a repeat, a NULL or an empty name; *which is
 * the offender. (Call it before a CHECK that prints *which: the order in
 * which a call's arguments are evaluated is unspecified.) */
static int names_clash(const char *const names[], int n, const char **which)
{
	for (int i = 0; i < n; i++) {
		*which = names[i] ? names[i] : "(null)";
		if (!names[i] || !names[i][0])
			return 1;
		for (int j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return 1;
	}
	return 0;
}

/* 1 if the array spec's rank and letters are within the limits. */
static int dims_valid(int rank, const ss_dim dims[])
{
	if (rank < 0 || rank > SS_MAX_EVENT_RANK)
		return 0;
	for (int d = 0; d < rank; d++)
		if ((int)dims[d] < 0 || dims[d] >= SS_DIM_COUNT)
			return 0;
	return 1;
}

static void check_structure_names(void)
{
	const char *names[64], *which = "";
	int n = ss_structure_count, clash;

	unit_begin();
	CHECK(n >= 1 && n <= (int)SS_ARRAY_LEN(names),
	      "%d structures", n);
	for (int k = 0; k < n && k < (int)SS_ARRAY_LEN(names); k++) {
		const ss_structure *s = ss_structures[k];
		names[k] = s->name;
		CHECK(s->summary && s->summary[0], "%s: no summary", s->name);
		CHECK(ss_structure_find(s->name) == s,
		      "ss_structure_find('%s') is not structure %d", s->name, k);
	}
	clash = names_clash(names, n, &which);
	CHECK(!clash,
	      "structure name '%s' empty or repeated", which);
	CHECK(ss_structure_find("no-such-structure") == NULL,
	      "an unknown name is found");
	clash = names_clash(ss_dim_names, SS_DIM_COUNT, &which);
	CHECK(!clash,
	      "dimension letter '%s' empty or repeated", which);
	unit_end("tables: structure names are distinct and found by ss_structure_find (an unknown name is not); dimension letters distinct");
}

static void check_inputs(const ss_structure *s)
{
	const char *names[SS_MAX_INPUTS], *which = "";
	int required = 0, alternatives = 0, clash;

	if (!CHECK(s->n_inputs >= 1 && s->n_inputs <= SS_MAX_INPUTS,
		   "%s: %d inputs", s->name, s->n_inputs))
		return;
	for (int k = 0; k < s->n_inputs; k++) {
		const ss_input_spec *in = &s->inputs[k];
		names[k] = in->name;
		CHECK(dims_valid(in->rank, in->dims),
		      "%s: input '%s' has rank %d or a dimension out of range",
		      s->name, in->name, in->rank);
		CHECK(in->kind == SS_REAL || in->kind == SS_INT,
		      "%s: input '%s' of kind %d", s->name, in->name, in->kind);
		required += in->presence == SS_REQUIRED;
		alternatives += in->presence == SS_ALTERNATIVE;
	}
	clash = names_clash(names, s->n_inputs, &which);
	CHECK(!clash,
	      "%s: input name '%s' empty or repeated", s->name, which);
	CHECK(required + alternatives >= 1,
	      "%s: every input is optional", s->name);
	CHECK(!alternatives || s->check_presence,
	      "%s: SS_ALTERNATIVE inputs without check_presence", s->name);
}

static void check_lengths(const ss_structure *s)
{
	CHECK(s->n_lengths >= 1 && s->n_lengths <= SS_MAX_LENGTHS,
	      "%s: %d lengths inputs", s->name, s->n_lengths);
	for (int k = 0; k < s->n_lengths; k++) {
		const int input = s->lengths_inputs[k];
		const ss_input_spec *in;
		if (!CHECK(input >= 0 && input < s->n_inputs,
			   "%s: lengths_inputs[%d] = %d outside [0, %d)",
			   s->name, k, input, s->n_inputs))
			continue;
		in = &s->inputs[input];
		CHECK(in->kind == SS_INT && in->rank == 0 &&
			      in->presence == SS_OPTIONAL,
		      "%s: lengths input '%s' is not an optional rank-0 integer input (kind %d, rank %d, presence %d)",
		      s->name, in->name, in->kind, in->rank, in->presence);
		CHECK(in->dims[0] >= 0 && in->dims[0] < SS_DIM_COUNT,
		      "%s: lengths input '%s' bounds no axis (dims[0] = %d)",
		      s->name, in->name, (int)in->dims[0]);
	}
}

/* 1 if dimension d is the size of an axis of one of s's inputs. */
static int dim_from_input(const ss_structure *s, ss_dim d)
{
	if (d == SS_DIM_S) /* 2L+1, derived from L */
		d = SS_DIM_L;
	if (d == SS_DIM_K1) /* K+1, derived from K */
		d = SS_DIM_K;
	if (d == SS_DIM_THREE) /* a fixed size */
		return 1;
	if (d == SS_DIM_N2M1) /* 2n-1, derived from n */
		d = SS_DIM_N;
	if (d == SS_DIM_TWO) /* 2, a constant */
		return 1;
	if (d == SS_DIM_RC1) /* R+C-1, derived from R and C */
		return dim_from_input(s, SS_DIM_R) && dim_from_input(s, SS_DIM_C);
	for (int k = 0; k < s->n_inputs; k++)
		for (int a = 0; a < s->inputs[k].rank; a++)
			if (s->inputs[k].dims[a] == d)
				return 1;
	return 0;
}

static void check_arrays(const ss_structure *s)
{
	const ss_array_spec *arrays[1 + SS_MAX_DECODES];
	const char *names[SS_MAX_DECODES], *which = "";
	int n = 0, clash;

	CHECK(s->event.kind == SS_REAL && s->event.rank >= 1,
	      "%s: the event is not a real array of rank >= 1", s->name);
	arrays[n++] = &s->event;
	if (CHECK(s->n_decodes >= 0 && s->n_decodes <= SS_MAX_DECODES,
		  "%s: %d decodes", s->name, s->n_decodes))
		for (int d = 0; d < s->n_decodes; d++) {
			names[d] = s->decodes[d].name;
			arrays[n++] = &s->decodes[d];
			CHECK(s->decodes[d].kind == SS_INT &&
				      s->decodes[d].rank >= 1,
			      "%s: decode '%s' is not an integer array of rank >= 1",
			      s->name, s->decodes[d].name);
		}
	clash = names_clash(names, n - 1, &which);
	CHECK(!clash,
	      "%s: decode name '%s' empty or repeated", s->name, which);
	for (int k = 0; k < n; k++) {
		const ss_array_spec *a = arrays[k];
		if (!CHECK(dims_valid(a->rank, a->dims),
			   "%s: '%s' has rank %d or a dimension out of range",
			   s->name, a->name, a->rank))
			continue;
		for (int d = 0; d < a->rank; d++)
			CHECK(dim_from_input(s, a->dims[d]),
			      "%s: axis %d of '%s' is %s, which no input has",
			      s->name, d, a->name, ss_dim_names[a->dims[d]]);
	}
}

static void check_options(const ss_structure *s)
{
	const char *names[SS_MAX_OPTIONS], *flags[SS_MAX_OPTIONS];
	const char *which = "";
	int clash;

	if (!CHECK(s->n_options >= 0 && s->n_options <= SS_MAX_OPTIONS,
		   "%s: %d options", s->name, s->n_options))
		return;
	for (int k = 0; k < s->n_options; k++) {
		const ss_option_spec *o = &s->options[k];
		names[k] = o->name;
		flags[k] = o->flag;
		CHECK(ss_option_check(o, o->default_value, NULL) == SS_OK,
		      "%s: option '%s': default %lld is not a value of it",
		      s->name, o->name, (long long)o->default_value);
		CHECK(o->kind != SS_OPTION_FLAG ||
			      o->flag_value == !o->default_value,
		      "%s: option '%s': default %lld, flag sets %lld; want the flag to change it",
		      s->name, o->name, (long long)o->default_value,
		      (long long)o->flag_value);
		CHECK(o->kind != SS_OPTION_ENUM ||
			      (o->choices && o->choices[0]),
		      "%s: option '%s': an enum without choices", s->name,
		      o->name);
		CHECK(o->help && o->help[0], "%s: option '%s' has no help",
		      s->name, o->name);
	}
	clash = names_clash(names, s->n_options, &which);
	CHECK(!clash,
	      "%s: option name '%s' empty or repeated", s->name, which);
	clash = names_clash(flags, s->n_options, &which);
	CHECK(!clash,
	      "%s: option flag '%s' empty or repeated", s->name, which);
}

/* A flag that several structures have (the command line has it once)
 * sets the same attribute to the same value in each. */
static void check_shared_flags(void)
{
	unit_begin();
	for (int a = 0; a < ss_structure_count; a++)
		for (int b = 0; b < a; b++)
			for (int i = 0; i < ss_structures[a]->n_options; i++)
				for (int j = 0; j < ss_structures[b]->n_options; j++) {
					const ss_option_spec *x = &ss_structures[a]->options[i];
					const ss_option_spec *y = &ss_structures[b]->options[j];
					if (strcmp(x->flag, y->flag))
						continue;
					CHECK(!strcmp(x->name, y->name) &&
						      x->kind == y->kind &&
						      x->flag_value == y->flag_value,
					      "--%s sets %s = %lld for %s but %s = %lld for %s",
					      x->flag, x->name, (long long)x->flag_value,
					      ss_structures[a]->name, y->name,
					      (long long)y->flag_value,
					      ss_structures[b]->name);
				}
	CHECK(1, "no structure"); /* a table of one structure passes */
	unit_end("tables: a structure flag that several structures have sets the same option to the same value in each");
}

/* The slots the driver calls are there. */
static void check_interface(const ss_structure *s)
{
	const ss_structure *k = s->canonical ? s->canonical : s;
	CHECK(s->validate, "%s: no validate", s->name);
	CHECK(!k->chart == !k->chart_size,
	      "%s: chart and chart_size not both there", k->name);
	CHECK(k->chart || (k->log_partition && k->marginals),
	      "%s: neither a chart program nor log_partition and marginals",
	      k->name);
	char why[512];
	CHECK(s->to_parts ||
		      ss_op_unsupported(s, NULL, SS_OP_LOG_PROB, why, sizeof why),
	      "%s: no to_parts for log-prob", s->name);
	CHECK(!s->n_decodes || s->decode ||
		      (ss_op_unsupported(s, NULL, SS_OP_ARGMAX, why, sizeof why) &&
		       ss_op_unsupported(s, NULL, SS_OP_SAMPLE, why, sizeof why)),
	      "%s: decodes but no decode for argmax and sample", s->name);
	CHECK(!s->canonical || s->lower,
	      "%s: a canonical structure but no lower", s->name);
	CHECK(!s->encode || s->n_decodes >= 1,
	      "%s: an encoder without a decode to read", s->name);
	CHECK(!s->prepare == !s->prepare_bytes,
	      "%s: only one of prepare and prepare_bytes", s->name);
	CHECK(!s->validate_shape == !s->validate_values,
	      "%s: only one of validate_shape and validate_values", s->name);
	for (ss_op op = 0; op < SS_OP_COUNT; op++) {
		const char *reason = ss_op_unsupported(s, NULL, op, why, sizeof why);
		CHECK(!reason || strstr(reason, " supports"),
		      "%s %s: a reason without the commands that work: '%s'",
		      s->name, ss_ops[op].name, reason ? reason : "");
	}
}

static void check_ops(void)
{
	const char *names[SS_OP_COUNT], *which = "";
	int clash;

	unit_begin();
	for (ss_op op = 0; op < SS_OP_COUNT; op++) {
		const ss_op_spec *spec = &ss_ops[op];
		int decodes = 0;
		names[op] = spec->name;
		/* info validates only: no output */
		if (!CHECK((spec->n_outputs >= 1 || op == SS_OP_INFO) &&
				   spec->n_outputs <= SS_MAX_OP_OUTPUTS,
			   "%s: %d outputs", spec->name, spec->n_outputs))
			continue;
		for (int o = 0; o < spec->n_outputs; o++) {
			const ss_op_output *out = &spec->outputs[o];
			decodes += out->role == SS_OUT_DECODES;
			CHECK((out->role == SS_OUT_DECODES ||
			       out->role == SS_OUT_COUNTS) == !out->name,
			      "%s: output %d: a name where the decodes or counts go, or none elsewhere",
			      spec->name, o);
			CHECK(!(out->flags & SS_OUT_INDICATOR) ||
				      out->role == SS_OUT_EVENT,
			      "%s: output %d: an indicator that is not an event",
			      spec->name, o);
		}
		CHECK(decodes <= 1, "%s: %d decode slots", spec->name, decodes);
		CHECK((spec->operands == SS_WITH_EVENTS) ==
			      (spec->samples == SS_SAMPLES_OF_EVENTS),
		      "%s: reads events without their sample axis, or the reverse",
		      spec->name);
		CHECK(spec->operands != SS_TWO_PROBLEMS ||
			      spec->samples == SS_NO_SAMPLES,
		      "%s: two problems with a sample axis", spec->name);
	}
	clash = names_clash(names, SS_OP_COUNT, &which);
	CHECK(!clash,
	      "op name '%s' empty or repeated", which);
	unit_end("tables: ops have distinct names, 1 .. SS_MAX_OP_OUTPUTS outputs (info none), one unnamed decodes slot at most, indicators only on events");
}

/* ss_op_output_count against what ss_op_output_name/array/kind/flags
 * enumerate: every output array resolves to a name and an array spec,
 * names are distinct, the op's named outputs come once each, then the
 * decodes in order. */
static void check_op_outputs(const ss_structure *s, ss_op op)
{
	const ss_op_spec *spec = &ss_ops[op];
	const char *names[SS_MAX_OP_ARRAYS], *which = "";
	int n = ss_op_output_count(s, op), named = 0, has_decodes = 0, clash;

	for (int o = 0; o < spec->n_outputs; o++) {
		named += spec->outputs[o].role == SS_OUT_COUNTS
			? s->counts.name != NULL
			: spec->outputs[o].role != SS_OUT_DECODES;
		has_decodes |= spec->outputs[o].role == SS_OUT_DECODES;
	}
	if (!CHECK(n == named + has_decodes * s->n_decodes &&
			   n <= SS_MAX_OP_ARRAYS,
		   "%s %s: %d output arrays, want %d named and %d decodes",
		   s->name, spec->name, n, named,
		   has_decodes * s->n_decodes))
		return;
	for (int k = 0; k < n; k++) {
		const char *name = ss_op_output_name(s, op, k);
		const ss_array_spec *a = ss_op_output_array(s, op, k);
		int decode = k - named;
		names[k] = name;
		if (!CHECK(name && a, "%s %s: output %d has no name or array",
			   s->name, spec->name, k))
			return;
		CHECK(ss_op_output_kind(s, op, k) == a->kind,
		      "%s %s: '%s' kind %d, its array's %d", s->name,
		      spec->name, name, ss_op_output_kind(s, op, k), a->kind);
		if (decode >= 0) {
			CHECK(a == &s->decodes[decode] &&
				      ss_op_output_flags(s, op, k) == 0,
			      "%s %s: output %d is not decode %d", s->name,
			      spec->name, k, decode);
			continue;
		}
		int found = a == &s->counts;
		CHECK(!found || ss_op_output_flags(s, op, k) == 0,
		      "%s %s: counts with flags", s->name, spec->name);
		for (int o = 0; o < spec->n_outputs && !found; o++) {
			const ss_op_output *out = &spec->outputs[o];
			if (!out->name || strcmp(out->name, name))
				continue;
			found = 1;
			CHECK(ss_op_output_flags(s, op, k) == out->flags &&
				      (out->role == SS_OUT_EVENT
					       ? a == &s->event
					       : a->rank == 0 && a->kind == SS_REAL),
			      "%s %s: '%s' has flags %u or an array that is not its role's",
			      s->name, spec->name, name,
			      ss_op_output_flags(s, op, k));
		}
		CHECK(found, "%s %s: output %d '%s' is none of the op's",
		      s->name, spec->name, k, name);
	}
	clash = names_clash(names, n, &which);
	CHECK(!clash,
	      "%s %s: output name '%s' empty or repeated", s->name,
	      spec->name, which);
}

/* ss_option_parse, ss_option_check and ss_option_takes on one option of
 * each kind, as the command line, the attributes and JSON Lines use them. */
static void check_option_values(void)
{
	static const char *const moves[] = {"one-to-many", "many-to-many",
					    NULL};
	static const ss_option_spec flag = {.name = "projective", .flag = "projective",
				     .kind = SS_OPTION_FLAG, .flag_value = 1};
	static const ss_option_spec blank = {.name = "blank_id", .flag = "blank-id",
				      .kind = SS_OPTION_INT, .min = 0,
				      .max = 9};
	static const ss_option_spec move = {.name = "alignment_type",
				     .flag = "alignment-type",
				     .kind = SS_OPTION_ENUM, .choices = moves};
	static const struct {
		const ss_option_spec *spec;
		const char *text;
		int64_t want; /* -1: refused */
	} cases[] = {
		{&flag, "0", 0}, {&flag, "1", 1}, {&flag, "2", -1},
		{&flag, "true", -1}, {&blank, "0", 0}, {&blank, "9", 9},
		{&blank, "10", -1}, {&blank, "-1", -1}, {&blank, "3x", -1},
		{&blank, "", -1}, {&blank, "99999999999999999999", -1},
		{&move, "one-to-many", 0}, {&move, "many-to-many", 1},
		{&move, "1", -1}, {&move, "one-to-one", -1},
	};
	char buf[256];
	ss_error err;

	unit_begin();
	for (size_t k = 0; k < SS_ARRAY_LEN(cases); k++) {
		int64_t v = -7;
		int rc = ss_option_parse(cases[k].spec, cases[k].text, &v, &err);
		if (cases[k].want < 0)
			CHECK(rc == SS_EDATA && strstr(err.message, cases[k].spec->name),
			      "%s '%s': accepted as %lld, or an error '%s' without the name",
			      cases[k].spec->name, cases[k].text, (long long)v,
			      err.message);
		else
			CHECK(rc == SS_OK && v == cases[k].want,
			      "%s '%s': got %lld (rc %d), want %lld",
			      cases[k].spec->name, cases[k].text, (long long)v,
			      rc, (long long)cases[k].want);
	}
	CHECK(ss_option_check(&move, 1, NULL) == SS_OK &&
		      ss_option_check(&move, 2, &err) == SS_EDATA,
	      "an enum of two takes indices 0 and 1 only");
	CHECK(!strcmp(err.message,
		      "'alignment_type' is 2; it must be one of one-to-many, many-to-many"),
	      "enum error: '%s'", err.message);
	CHECK(!strcmp(ss_option_takes(&blank, buf, sizeof buf),
		      "an integer in [0, 9]"),
	      "int takes '%s'", buf);
	CHECK(!strcmp(ss_option_takes(&flag, buf, sizeof buf), "0 or 1"),
	      "flag takes '%s'", buf);
	unit_end("tables: option values: 0/1 flags, integers in a range and enums by name, parsed and checked with errors naming the option and what it takes");
}

void suite_tables(void)
{
	check_structure_names();
	for (int k = 0; k < ss_structure_count; k++) {
		const ss_structure *s = ss_structures[k];

		unit_begin();
		check_inputs(s);
		check_lengths(s);
		unit_end("tables: %s: inputs with distinct names, ranks within SS_MAX_EVENT_RANK, known letters; lengths inputs optional rank-0 integers",
			 s->name);
		unit_begin();
		check_arrays(s);
		check_options(s);
		unit_end("tables: %s: a real event and integer decodes whose axes inputs set; options with distinct names and flags, defaults among their values, a 0/1 flag changing the default",
			 s->name);
		unit_begin();
		check_interface(s);
		for (ss_op op = 0; op < SS_OP_COUNT; op++)
			check_op_outputs(s, op);
		unit_end("tables: %s: the slots the driver calls; ss_op_output_count matches what ss_op_output_name/array/kind/flags enumerate for every op",
			 s->name);
	}
	check_shared_flags();
	check_option_values();
	check_ops();
}

/* ---- ss_run -------------------------------------------------------------------- */

/* The output arrays of an op, from the ss_op_output_* calls (which the
 * tables suite checks against ss_ops): decodes after the others. */
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
	memset(L, 0, sizeof *L);
	L->count = ss_op_output_count(s, op);
	for (int k = 0; k < L->count; k++) {
		const ss_array_spec *a = ss_op_output_array(s, op, k);
		L->name[k] = ss_op_output_name(s, op, k);
		L->kind[k] = ss_op_output_kind(s, op, k);
		L->size[k] = ss_op_output_size(s, op, k, dim);
		L->role[k] = a == &s->event ? SS_OUT_EVENT : SS_OUT_SCALAR;
		L->decode[k] = -1;
		for (int d = 0; d < s->n_decodes; d++)
			if (a == &s->decodes[d]) {
				L->role[k] = SS_OUT_DECODES;
				L->decode[k] = d;
			}
	}
}

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

		ss_sample(rc->s, &rc->e[j], rc->p[j].ws, SEED + 1, SAMPLES,
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
	return ss_ops[op].samples != SS_NO_SAMPLES ? SAMPLES : 1;
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
			ok = !ss_log_partition(s, e, ws, &x.logz, &err);
			break;
		case SS_OP_MARGINALS:
			ok = !ss_marginals(s, e, ws, ev, &x.logz, &err);
			x.event = ev;
			break;
		case SS_OP_ARGMAX:
			ok = !ss_argmax(s, e, ws, ev, &x.score, &err);
			x.event = ev;
			break;
		case SS_OP_SAMPLE:
			ok = !ss_sample(s, e, ws, SEED, SAMPLES, ev, (size_t)E, lp, 1,
					&err);
			break;
		case SS_OP_ENTROPY:
			ok = !ss_entropy(s, e, ws, &x.entropy, &err);
			break;
		default: /* SS_OP_LOG_PROB */
			ok = !ss_log_partition(s, e, ws, &x.logz, &err);
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

				ss_score(s, e, ws, rc->events + (r * COUNT + j) * E, &sc, &err);
				x.log_prob = isinf(x.logz) || isinf(sc) ? -INFINITY
									  : sc - x.logz;
			}
			place(rc, L, r, j, &x, out);
		}
	}
	free(ev);
}

static int run(const run_case *rc, ss_op op, int threads, void *out[],
	       unsigned char *empty, ss_workspaces *kept)
{
	ss_batch batch = {.structure = rc->s, .workspaces = kept,
			  .elements = rc->e, .count = COUNT,
			  .num_samples = SAMPLES, .seed = SEED,
			  .events = rc->events, .empty = empty};
	int64_t failed = -1;
	ss_error err = {0};
	int status;

	memcpy(batch.out, out, sizeof batch.out);
	omp_set_num_threads(threads);
	status = ss_run(op, &batch, &failed, NULL, &err);
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

static void check_run(const run_case *rc, ss_op op, ss_workspaces *kept)
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
	/* the runs at 2 threads take workspaces that earlier runs wrote (of
	 * this op, and of the ops before: kept), and must give the bytes of
	 * fresh ones */
	if (run(rc, op, 1, one, empty1, NULL) &&
	    run(rc, op, 2, two, empty2, kept) &&
	    run(rc, op, 2, two, empty2, kept)) {
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
		status = ss_run(SS_OP_PARTITION, &batch, &failed, NULL, &err);
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

/* The ops of check_late_values: those that scan values after computing
 * (lib/driver.c, late_values) and two that scan before. */
static const ss_op late_ops[] = {SS_OP_PARTITION, SS_OP_MARGINALS,
				 SS_OP_ENTROPY, SS_OP_ARGMAX, SS_OP_SAMPLE};

/* Runs every late_ops op over rc at 1 and 2 threads: it succeeds where
 * bad < 0, else fails at element bad with validate's message. */
static void late_runs(run_case *rc, int bad)
{
	ss_error verr = {0};
	if (bad >= 0)
		CHECK(rc->s->validate(&rc->e[bad], rc->p[bad].ws, &verr) == SS_EDATA,
		      "validate passes element %d", bad);
	for (size_t k = 0; k < SS_ARRAY_LEN(late_ops); k++) {
		const ss_op op = late_ops[k];
		unsigned char empty[COUNT];
		void *out[SS_MAX_OP_ARRAYS] = {0};
		layout L;
		layout_init(&L, rc->s, op, rc->e[0].dim);
		outputs_alloc(&L, rows_of(op), out);
		for (int threads = 1; threads <= 2; threads++) {
			ss_batch batch = {.structure = rc->s, .elements = rc->e,
					  .count = COUNT, .num_samples = rows_of(op),
					  .seed = SEED, .empty = empty};
			int64_t failed = -1;
			ss_error err = {0};
			int status;
			for (int a = 0; a < L.count; a++)
				batch.out[a] = out[a];
			omp_set_num_threads(threads);
			status = ss_run(op, &batch, &failed, NULL, &err);
			if (bad < 0)
				CHECK(status == SS_OK, "%s, %d threads: %s",
				      ss_ops[op].name, threads, err.message);
			else
				CHECK(status == SS_EDATA && failed == bad &&
					      !strcmp(err.message, verr.message),
				      "%s, %d threads: status %d at element %lld, '%s'; want element %d, '%s'",
				      ss_ops[op].name, threads, status,
				      (long long)failed, err.message, bad,
				      verr.message);
		}
		outputs_free(&L, out);
	}
}

/*
 * Float potentials of a chain, whose values ss_run scans after log Z,
 * marginals and the entropy (ss_structure.validate_values): NaN and +inf
 * in entries no structure uses change nothing; in used ones the run
 * fails at the lowest such element with validate's message, as for the
 * ops that scan first.
 */
static void check_late_values(void)
{
	run_case rc;
	float *f[COUNT];
	int64_t tt, n;

	run_case_init(&rc, PK_CHAIN);
	n = rc.e[0].dim[SS_DIM_N];
	tt = rc.e[0].dim[SS_DIM_T] * rc.e[0].dim[SS_DIM_T];
	for (int j = 0; j < COUNT; j++) {
		f[j] = malloc((size_t)(n * tt) * sizeof **f);
		for (int64_t k = 0; k < n * tt; k++)
			f[j][k] = (float)rc.p[j].lp[k];
		rc.e[j].input[0].data = f[j];
		rc.e[j].input[0].dtype = SS_F32;
	}
	f[2][4 * tt + 1] = NAN;  /* element 2 has length 3 */
	f[0][tt - 1] = INFINITY; /* position 0 uses row 0 only */
	late_runs(&rc, -1);
	f[6][1] = NAN;           /* position 0, row 0 */
	f[5][tt + 4] = INFINITY; /* position 1 of 2 */
	late_runs(&rc, 5);
	f[5][tt + 4] = 0.0f;
	late_runs(&rc, 6);
	for (int j = 0; j < COUNT; j++)
		free(f[j]);
	run_case_free(&rc);
}

/*
 * The float chain kernels see NaN and +inf as they go (lib/chart.c,
 * ss_element.values_checked), so that ss_run scans no values after them
 * where they saw none: on every width of step (whole blocks of 32 cells,
 * single vectors, a masked last one), a clean chain reports its values
 * checked, -inf included; and a NaN of any payload or sign, or a +inf
 * (before or after a NaN of its column, whose maximum may then drop
 * it), anywhere in a used entry, still fails log Z, marginals and the
 * entropy at its element with validate's message.
 */
static void check_kernel_values(void)
{
	static const int64_t widths[] = {3, 17, 32, 40};
	static const uint32_t bad_bits[] = {0x7fc00000u, 0x7fffffffu,
					    0xffc00001u, 0x7f800001u,
					    0x7f800000u};
	static const ss_op ops[] = {SS_OP_PARTITION, SS_OP_MARGINALS,
				    SS_OP_ENTROPY};
	for (size_t w = 0; w < SS_ARRAY_LEN(widths); w++) {
		gen_opts o = gen_random;
		problem p;
		float *f;
		int64_t t, n, tt;
		unit_rng r;

		o.n = 4;
		o.t = widths[w];
		o.mode = PM_NORMAL;
		o.pinf = 0.0;
		o.has_lengths = 0;
		problem_random(&p, PK_CHAIN, &o, 77 + (uint64_t)w);
		n = p.e.dim[SS_DIM_N];
		t = p.e.dim[SS_DIM_T];
		tt = t * t;
		f = malloc((size_t)(n * tt) * sizeof *f);
		urng_seed(&r, 5 + (uint64_t)w);
		for (int64_t k = 0; k < n * tt; k++)
			f[k] = (float)p.lp[k];
		f[2 * tt + 1] = -INFINITY; /* allowed */
		p.e.input[0].data = f;
		p.e.input[0].dtype = SS_F32;
		for (int trial = -1; trial < 12; trial++) {
			/* a bad value at position 1 + trial % 3, row and
			 * column drawn; trials 10 and 11 add +inf then NaN,
			 * and NaN then +inf, in one column */
			const int64_t pos = 1 + (trial < 0 ? 0 : trial % 3);
			const int64_t j = urng_int(&r, 0, t - 1);
			const int64_t col = urng_int(&r, 0, t - 1);
			const int64_t at = pos * tt + j * t + col;
			const int64_t at2 = pos * tt + ((j + 1) % t) * t + col;
			const float keep = f[at], keep2 = f[at2];
			ss_error verr = {0};
			if (trial >= 0) {
				uint32_t b = bad_bits[trial % 5];
				if (trial >= 10)
					b = bad_bits[trial == 10 ? 4 : 0];
				memcpy(&f[at], &b, sizeof b);
				if (trial >= 10) {
					b = bad_bits[trial == 10 ? 1 : 4];
					memcpy(&f[at2], &b, sizeof b);
				}
				CHECK(p.s->validate(&p.e, p.ws, &verr) == SS_EDATA,
				      "t=%lld trial %d: validate passes",
				      (long long)t, trial);
			} else {
				int checked = 0;
				double logz = 0.0;
				ss_element e = p.e;
				ss_error err = {0};
				e.values_checked = &checked;
				CHECK(ss_log_partition(p.s, &e, p.ws, &logz, &err) ==
						      SS_OK && checked == 1,
				      "t=%lld: a clean chain's values are not checked by its kernels",
				      (long long)t);
			}
			for (size_t k = 0; k < SS_ARRAY_LEN(ops); k++) {
				const ss_op op = ops[k];
				const int64_t E = ss_event_size(p.s, p.e.dim);
				double *out = malloc((size_t)(op == SS_OP_MARGINALS ? E : 1) *
						     sizeof *out);
				unsigned char empty[1];
				ss_batch batch = {.structure = p.s, .elements = &p.e,
						  .count = 1, .num_samples = 1,
						  .seed = SEED, .empty = empty};
				int64_t failed = -1;
				ss_error err = {0};
				int status;
				batch.out[0] = out;
				status = ss_run(op, &batch, &failed, NULL, &err);
				if (trial < 0)
					CHECK(status == SS_OK, "t=%lld %s: %s",
					      (long long)t, ss_ops[op].name,
					      err.message);
				else
					CHECK(status == SS_EDATA && failed == 0 &&
						      !strcmp(err.message, verr.message),
					      "t=%lld trial %d %s: status %d, '%s'; want '%s'",
					      (long long)t, trial, ss_ops[op].name,
					      status, err.message, verr.message);
				free(out);
			}
			f[at] = keep;
			f[at2] = keep2;
		}
		free(f);
		problem_free(&p);
	}
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
		sc->e[j].input[obs].data = sc->obs + j * 6;
		sc->e[j].index = j;
		if (copies) {
			memcpy(sc->copies + j * 3 * 40, sc->p.emis,
			       sizeof(double) * 3 * 40);
			sc->e[j].input[emis].data = sc->copies + j * 3 * 40;
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
			? ss_log_partition(s, &e, sc->p.ws, out + j, &err)
			: op == SS_OP_MARGINALS
			? ss_marginals(s, &e, sc->p.ws, out + j * sc->E, &logz, &err)
			: ss_entropy(s, &e, sc->p.ws, out + j, &err);
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
			status = ss_run(op, &batch, &failed, NULL, &err);
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
		status = ss_run(SS_OP_PARTITION, &batch, &failed, NULL, &err);
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
		ss_workspaces *kept = ss_workspaces_new();

		run_case_init(&rc, kind);
		/* The operations of the structures' own slots; count,
		 * cross-entropy and kl are checked in unit_derived.c. */
		for (ss_op op = 0; op <= SS_OP_LOG_PROB; op++) {
			unit_begin();
			unit_context("%s batch", problem_kind_names[kind]);
			check_run(&rc, op, kept);
			unit_end("driver: %s %s: ss_run over 7 elements (lengths 5 0 3 1 5 2 4, one without structure) equals direct calls, same bytes at 1 and 2 threads, also in workspaces kept from earlier runs, empty[] right",
				 problem_kind_names[kind], ss_ops[op].name);
		}
		ss_workspaces_free(kept);
		run_case_free(&rc);

		unit_begin();
		unit_context("%s batch", problem_kind_names[kind]);
		check_failure(kind);
		unit_end("driver: %s: ss_run with bad elements 2 and 5 returns SS_EDATA for element 2, naming the dataset (1 and 2 threads)",
			 problem_kind_names[kind]);
	}
	unit_begin();
	check_late_values();
	unit_end("driver: linear-chain over floats: NaN and +inf past the length or off row 0 at position 0 change nothing; in used entries partition, marginals, entropy (which scan after computing), argmax and sample fail at the lowest such element with validate's message (1 and 2 threads)");
	unit_begin();
	check_kernel_values();
	unit_end("driver: linear-chain over floats, t = 3, 17, 32, 40: the float kernels report a clean chain's values checked (no scan after them); NaN of any payload or sign and +inf (alone, before or after a NaN of its column) still fail partition, marginals and entropy with validate's message");
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
