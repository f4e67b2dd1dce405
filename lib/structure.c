/*
 * structure.c - the tables: dimension letters, structures, operations and
 * their outputs. Usage text, --help, the man-page test and dispatch are all
 * derived from these.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char *const ss_dim_names[SS_DIM_COUNT] = {
	[SS_DIM_N] = "n",
	[SS_DIM_T] = "t",
	[SS_DIM_V] = "V",
	[SS_DIM_M] = "m",
	[SS_DIM_L] = "L",
	[SS_DIM_S] = "2L+1",
	[SS_DIM_R] = "R",
	[SS_DIM_C] = "C",
	[SS_DIM_K] = "K",
	[SS_DIM_K1] = "K+1",
	[SS_DIM_THREE] = "3",
	[SS_DIM_N2M1] = "2n-1",
	[SS_DIM_TWO] = "2",
	[SS_DIM_RC1] = "R+C-1",
	[SS_DIM_NT] = "nt",
	[SS_DIM_PT] = "pt",
	[SS_DIM_NTPT] = "nt+pt",
	[SS_DIM_RANK] = "r",
	[SS_DIM_N3R] = "n+3r",
};

void ss_dims_derive(int64_t dim[SS_DIM_COUNT])
{
	dim[SS_DIM_S] = 2 * dim[SS_DIM_L] + 1;
	dim[SS_DIM_K1] = dim[SS_DIM_K] + 1;
	dim[SS_DIM_THREE] = 3;
	dim[SS_DIM_N2M1] = dim[SS_DIM_N] > 0 ? 2 * dim[SS_DIM_N] - 1 : 0;
	dim[SS_DIM_TWO] = 2;
	dim[SS_DIM_RC1] = dim[SS_DIM_R] && dim[SS_DIM_C]
		? dim[SS_DIM_R] + dim[SS_DIM_C] - 1 : 0;
	dim[SS_DIM_NTPT] = dim[SS_DIM_NT] + dim[SS_DIM_PT];
	dim[SS_DIM_N3R] = dim[SS_DIM_N] + 3 * dim[SS_DIM_RANK];
}

extern const ss_structure ssi_linear_chain, ssi_hmm, ssi_spanning_tree;
extern const ss_structure ssi_semi_markov, ssi_ctc, ssi_tree_crf;
extern const ss_structure ssi_monotone_alignment;
extern const ss_structure ssi_alignment, ssi_pcfg, ssi_td_pcfg;

const ss_structure *const ss_structures[] = {
	&ssi_linear_chain,
	&ssi_hmm,
	&ssi_spanning_tree,
	&ssi_semi_markov,
	&ssi_ctc,
	&ssi_tree_crf,
	&ssi_monotone_alignment,
	&ssi_alignment,
	&ssi_pcfg,
	&ssi_td_pcfg,
};
const int ss_structure_count =
	(int)SS_ARRAY_LEN(ss_structures);

const ss_structure *ss_structure_find(const char *name)
{
	for (int k = 0; k < ss_structure_count; k++)
		if (!strcmp(ss_structures[k]->name, name))
			return ss_structures[k];
	return NULL;
}

int64_t ss_array_size(const ss_array_spec *spec, const int64_t dim[])
{
	int64_t size = 1;
	for (int d = 0; d < spec->rank; d++)
		size *= dim[spec->dims[d]];
	return size;
}

int64_t ss_input_size(const ss_structure *s, int k, const int64_t dim[])
{
	int64_t size = 1;
	for (int d = 0; d < s->inputs[k].rank; d++)
		size *= dim[s->inputs[k].dims[d]];
	return size;
}

int64_t ss_event_size(const ss_structure *s, const int64_t dim[])
{
	return ss_array_size(&s->event, dim) +
	       (s->event_tags.name ? ss_array_size(&s->event_tags, dim) : 0);
}

_Static_assert(SS_OP_COUNT <= SS_OP_SLOTS, "SS_OP_SLOTS is too small");

const ss_op_spec ss_ops[SS_OP_COUNT] = {
	[SS_OP_PARTITION] = {"partition", SS_ONE_PROBLEM, SS_NO_SAMPLES,
			     {{"log_partition", SS_OUT_SCALAR, 0}}, 1, 1},
	[SS_OP_MARGINALS] = {"marginals", SS_ONE_PROBLEM, SS_NO_SAMPLES,
			     {{"marginals", SS_OUT_EVENT, 0, "marginals_tags"},
			      {NULL, SS_OUT_COUNTS, 0, NULL}}, 2},
	[SS_OP_ARGMAX] = {"argmax", SS_ONE_PROBLEM, SS_NO_SAMPLES,
			  {{"argmax", SS_OUT_EVENT,
			    SS_OUT_INDICATOR | SS_OUT_ON_REQUEST, "argmax_tags"},
			   {"score", SS_OUT_SCALAR, 0},
			   {NULL, SS_OUT_DECODES, 0}}, 3},
	[SS_OP_SAMPLE] = {"sample", SS_ONE_PROBLEM, SS_SAMPLES_DRAWN,
			  {{"samples", SS_OUT_EVENT,
			    SS_OUT_INDICATOR | SS_OUT_ON_REQUEST, "samples_tags"},
			   {"log_prob", SS_OUT_SCALAR, 0},
			   {NULL, SS_OUT_DECODES, 0}}, 3},
	[SS_OP_ENTROPY] = {"entropy", SS_ONE_PROBLEM, SS_NO_SAMPLES,
			   {{"entropy", SS_OUT_SCALAR, 0}}, 1, 1},
	[SS_OP_LOG_PROB] = {"log-prob", SS_WITH_EVENTS, SS_SAMPLES_OF_EVENTS,
			    {{"log_prob", SS_OUT_SCALAR, 0}}, 1, 1},
	[SS_OP_LOG_COUNT] = {"count", SS_ONE_PROBLEM, SS_NO_SAMPLES,
			     {{"log_count", SS_OUT_SCALAR, 0}}, 1},
	[SS_OP_CROSS_ENTROPY] = {"cross-entropy", SS_TWO_PROBLEMS,
				 SS_NO_SAMPLES,
				 {{"cross_entropy", SS_OUT_SCALAR, 0}}, 1, 1},
	[SS_OP_MAX_MARGINALS] = {"max-marginals", SS_ONE_PROBLEM, SS_NO_SAMPLES,
				 {{"max_marginals", SS_OUT_EVENT, 0,
				   "max_marginals_tags"}}, 1},
	[SS_OP_TOP_K] = {"top-k", SS_ONE_PROBLEM, SS_SAMPLES_RANKS,
			 {{"topk", SS_OUT_EVENT,
			   SS_OUT_INDICATOR | SS_OUT_ON_REQUEST, "topk_tags"},
			  {"scores", SS_OUT_SCALAR, 0, NULL},
			  {NULL, SS_OUT_DECODES, 0, NULL}}, 3},
	[SS_OP_INFO] = {"info", SS_ONE_PROBLEM, SS_NO_SAMPLES, {{0}}, 0},
	[SS_OP_KL] = {"kl", SS_TWO_PROBLEMS, SS_NO_SAMPLES,
		      {{"kl", SS_OUT_SCALAR, 0}}, 1, 1},
};

/* Whether the slots op needs are filled: every operation runs on the
 * canonical structure's chart program (lib/ops.c), or on its special
 * operations where it has no program. */
static int has_slots(const ss_structure *s, ss_op op)
{
	const ss_structure *c = s->canonical ? s->canonical : s;
	int chart = c->chart != NULL;
	int logz = chart || c->log_partition, mu = chart || c->marginals;
	int entropy = chart || c->entropy;
	switch (op) {
	case SS_OP_PARTITION: return logz;
	case SS_OP_MARGINALS: return mu;
	case SS_OP_ARGMAX: return (chart || c->argmax) && s->decode;
	case SS_OP_SAMPLE: return (chart || c->sample) && logz && s->decode;
	case SS_OP_ENTROPY: return entropy;
	case SS_OP_LOG_PROB: return s->to_parts && logz;
	case SS_OP_LOG_COUNT: return logz;
	case SS_OP_CROSS_ENTROPY: return logz && mu && entropy;
	case SS_OP_KL: return logz && mu;
	case SS_OP_MAX_MARGINALS:
		return (c->chart || (c->argmax && c->force)) &&
		       (!s->from_parts || s->from_parts_max);
	case SS_OP_TOP_K:
		return (c->chart || (c->argmax && c->force)) && s->decode;
	case SS_OP_INFO: return 1;
	case SS_OP_COUNT: break;
	}
	return 0;
}

/* Why op does not exist for s with options option (NULL: defaults). */
static const char *why_not(const ss_structure *s, const int64_t *option,
			   ss_op op)
{
	int64_t defaults[SS_MAX_OPTIONS];
	if (s->unsupported[op])
		return s->unsupported[op];
	if (!has_slots(s, op))
		return "the operation is not defined for it";
	if (!s->unsupported_for)
		return NULL;
	if (!option) {
		for (int k = 0; k < s->n_options; k++)
			defaults[k] = s->options[k].default_value;
		option = defaults;
	}
	return s->unsupported_for(option, op);
}

const char *ss_op_unsupported(const ss_structure *s, const int64_t *option,
			      ss_op op, char *buf, size_t size)
{
	const char *why = why_not(s, option, op);
	size_t used;
	int listed = 0;
	if (!why)
		return NULL;
	used = (size_t)snprintf(buf, size, "%s; %s supports", why, s->name);
	for (int k = 0; k < SS_OP_COUNT && used < size; k++)
		if (!why_not(s, option, (ss_op)k))
			used += (size_t)snprintf(buf + used, size - used,
						 "%s %s", listed++ ? "," : "",
						 ss_ops[k].name);
	if (!listed && used < size)
		snprintf(buf + used, size - used, " no command");
	return buf;
}

/* The output arrays an op output stands for: one per decode, counts where
 * the structure has them, else one. */
static int output_width(const ss_structure *s, const ss_op_output *out)
{
	if (out->role == SS_OUT_DECODES)
		return s->n_decodes;
	if (out->role == SS_OUT_COUNTS)
		return s->counts.name != NULL;
	return 1;
}

/* Maps output array k to (op output, decode) indices. */
static const ss_op_output *output_at(const ss_structure *s, ss_op op, int k,
				     int *decode)
{
	const ss_op_spec *spec = &ss_ops[op];
	*decode = -1;
	for (int o = 0; o < spec->n_outputs; o++) {
		const ss_op_output *out = &spec->outputs[o];
		int width = output_width(s, out);
		if (k < width) {
			*decode = out->role == SS_OUT_DECODES ? k : -1;
			return out;
		}
		k -= width;
	}
	return NULL;
}

int ss_op_output_count(const ss_structure *s, ss_op op)
{
	int count = 0;
	for (int o = 0; o < ss_ops[op].n_outputs; o++)
		count += output_width(s, &ss_ops[op].outputs[o]);
	return count;
}

const char *ss_op_output_name(const ss_structure *s, ss_op op, int k)
{
	int decode;
	const ss_op_output *out = output_at(s, op, k, &decode);
	if (decode >= 0)
		return s->decodes[decode].name;
	return out->role == SS_OUT_COUNTS ? s->counts.name : out->name;
}

static const ss_array_spec scalar_spec = {"scalar", SS_REAL, 0, {SS_DIM_N}};

const ss_array_spec *ss_op_output_array(const ss_structure *s, ss_op op,
					 int k)
{
	int decode;
	const ss_op_output *out = output_at(s, op, k, &decode);
	if (decode >= 0)
		return &s->decodes[decode];
	if (out->role == SS_OUT_COUNTS)
		return &s->counts;
	return out->role == SS_OUT_EVENT ? &s->event : &scalar_spec;
}

int64_t ss_op_output_size(const ss_structure *s, ss_op op, int k,
			  const int64_t dim[])
{
	int decode;
	const ss_op_output *out = output_at(s, op, k, &decode);
	if (decode < 0 && out->role == SS_OUT_EVENT)
		return ss_event_size(s, dim);
	return ss_array_size(ss_op_output_array(s, op, k), dim);
}

const char *ss_op_output_tags(const ss_structure *s, ss_op op, int k)
{
	int decode;
	const ss_op_output *out = output_at(s, op, k, &decode);
	return decode < 0 && out->role == SS_OUT_EVENT && s->event_tags.name
		? out->tags : NULL;
}

unsigned ss_op_output_flags(const ss_structure *s, ss_op op, int k)
{
	int decode;
	const ss_op_output *out = output_at(s, op, k, &decode);
	return decode >= 0 ? 0 : out->flags;
}

ss_kind ss_op_output_kind(const ss_structure *s, ss_op op, int k)
{
	return ss_op_output_array(s, op, k)->kind;
}

int ss_encode(const ss_structure *s, const ss_element *e,
	      const int64_t *decode, double *event, ss_error *err)
{
	ss_element view;
	void *room = NULL, *at;
	int rc, plain = 1;
	if (!s->encode)
		return ss_error_set(err, SS_EUNSUPPORTED,
				    "%s cannot read compact decodes", s->name);
	for (int k = 0; k < s->n_inputs; k++)
		plain &= ssi_tensor_plain(&s->inputs[k], &e->input[k], e->dim);
	if (!plain && !(room = malloc(ssi_resolve_bytes(s, e->dim))))
		return ss_error_set(err, SS_ENOMEM,
				    "cannot allocate the inputs of an element");
	at = room;
	rc = ssi_resolve(s, e, &view, &at, &e, err);
	if (rc == SS_OK)
		rc = s->encode(e, decode, event, err);
	free(room);
	return rc;
}

/* ---- option values --------------------------------------------------------- */

static int64_t choice_count(const ss_option_spec *spec)
{
	int64_t n = 0;
	while (spec->choices && spec->choices[n])
		n++;
	return n;
}

const char *ss_option_takes(const ss_option_spec *spec, char *buf,
			    size_t size)
{
	size_t used = 0;
	switch (spec->kind) {
	case SS_OPTION_FLAG:
		snprintf(buf, size, "0 or 1");
		break;
	case SS_OPTION_INT:
		snprintf(buf, size, "an integer in [%lld, %lld]",
			 (long long)spec->min, (long long)spec->max);
		break;
	case SS_OPTION_ENUM:
		used = (size_t)snprintf(buf, size, "one of");
		for (int64_t k = 0; k < choice_count(spec) && used < size; k++)
			used += (size_t)snprintf(buf + used, size - used, "%s %s",
						 k ? "," : "", spec->choices[k]);
		break;
	case SS_OPTION_KIND_COUNT:
		snprintf(buf, size, "nothing");
		break;
	}
	return buf;
}

int ss_option_check(const ss_option_spec *spec, int64_t value,
		    ss_error *err)
{
	int64_t lo = 0, hi = 1;
	char takes[256];
	if (spec->kind == SS_OPTION_INT) {
		lo = spec->min;
		hi = spec->max;
	} else if (spec->kind == SS_OPTION_ENUM) {
		hi = choice_count(spec) - 1;
	}
	if (value >= lo && value <= hi)
		return SS_OK;
	return ss_error_set(err, SS_EDATA, "'%s' is %lld; it must be %s",
			    spec->name, (long long)value,
			    ss_option_takes(spec, takes, sizeof takes));
}

/* Names equal but for '_' in place of '-' (SynJax's spelling,
 * monotone_many_to_many). */
static int same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (*a != *b && !((*a == '_' && *b == '-') || (*a == '-' && *b == '_')))
			return 0;
	return *a == *b;
}

int ss_option_parse(const ss_option_spec *spec, const char *text,
		    int64_t *value, ss_error *err)
{
	char takes[256], *end;
	long long v;
	for (int64_t k = 0; spec->kind == SS_OPTION_ENUM &&
			    k < choice_count(spec); k++)
		if (same_name(text, spec->choices[k])) {
			*value = k;
			return SS_OK;
		}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (spec->kind != SS_OPTION_ENUM && *text && !*end && !errno) {
		*value = v;
		return ss_option_check(spec, v, err);
	}
	return ss_error_set(err, SS_EDATA, "'%s' is '%s'; it must be %s",
			    spec->name, text,
			    ss_option_takes(spec, takes, sizeof takes));
}
