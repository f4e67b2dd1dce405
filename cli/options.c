/*
 * options.c - the option table, parsing with getopt_long, and help text.
 * The table is the one list of options: parsing, --help and the man-page
 * test all read it.
 */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Commands an option applies to, as a bit mask over ss_op. */
#define ALL_OPS ((1u << SS_OP_COUNT) - 1)
#define OP_BIT(op) (1u << (op))
/* The commands whose result has gradients (ss_ops[op].has_grad): a bit
 * past the ops, expanded by applies(). */
#define GRAD_OPS (1u << SS_OP_COUNT)

/* Keys of options without a short letter: past every letter. */
enum {
	OPT_LONG_ONLY = 256,
	OPT_MAX_MEMORY = OPT_LONG_ONLY, OPT_TIMING, OPT_SEED, OPT_TEMPERATURE,
	OPT_EVENTS,
	OPT_DTYPE,
	OPT_INPUT_FORMAT,
	OPT_GRAD,
	OPT_PROGRESS = 300, OPT_NO_PROGRESS,
	OPT_STRUCTURE_FLAG = 512 /* + index into structure_flags() */
};

/* The structure options' flags, each once, from the structure table. */
static int structure_flags(const ss_option_spec *flags[], int max)
{
	int n = 0;
	for (int k = 0; k < ss_structure_count; k++)
		for (int o = 0; o < ss_structures[k]->n_options; o++) {
			const ss_option_spec *spec = &ss_structures[k]->options[o];
			int seen = 0;
			for (int f = 0; f < n; f++)
				seen |= !strcmp(flags[f]->flag, spec->flag);
			if (seen)
				continue;
			assert(n < max); /* else raise CLI_MAX_FLAGS */
			flags[n++] = spec;
		}
	return n;
}

/* What a structure flag's value is called in the help: " N", " NAME". */
static const char *flag_arg(const ss_option_spec *spec)
{
	return spec->kind == SS_OPTION_INT ? " N"
	       : spec->kind == SS_OPTION_ENUM ? " NAME" : "";
}

typedef struct cli_option {
	const char *long_name;
	int key;                /* short letter, or an OPT_* above */
	const char *arg;        /* NULL: a flag */
	unsigned ops;
	const char *help;
} cli_option;

static const cli_option options[] = {
	{"output", 'o', "PATH", ALL_OPS,
	 "write to PATH (.h5/.hdf5/.hdf/.he5: HDF5, else JSON Lines; -: stdout)"},
	{"format", 'f', "FORMAT", ALL_OPS,
	 "jsonl or hdf5 (default: from the output's extension)"},
	{"input-format", OPT_INPUT_FORMAT, "FORMAT", ALL_OPS,
	 "jsonl or hdf5 for INPUT (default: JSON Lines if it starts with '{')"},
	{"structure", 's', "NAME", ALL_OPS,
	 "the structure, overriding the file's 'structure' attribute"},
	{"group", 'g', "GROUP", ALL_OPS,
	 "read datasets and attributes from an HDF5 group"},
	{"num-samples", 'n', "S", OP_BIT(SS_OP_SAMPLE),
	 "number of samples per batch element (default 1)"},
	{"k", 'k', "K", OP_BIT(SS_OP_TOP_K),
	 "number of structures, best first (default 1)"},
	{"seed", OPT_SEED, "N", OP_BIT(SS_OP_SAMPLE),
	 "random seed, an unsigned 64-bit integer (default 0)"},
	{"temperature", OPT_TEMPERATURE, "T", ALL_OPS,
	 "the distribution p(y) ∝ exp(score(y) / T), 0 < T < inf (default 1)"},
	{"grad", OPT_GRAD, NULL, GRAD_OPS,
	 "also write the gradient of the result in each real input (grad_<dataset>)"},
	{"events", OPT_EVENTS, NULL,
	 OP_BIT(SS_OP_ARGMAX) | OP_BIT(SS_OP_SAMPLE) | OP_BIT(SS_OP_TOP_K),
	 "also write the dense 0/1 events (argmax, samples, topk)"},
	{"dtype", OPT_DTYPE, "TYPE", ALL_OPS,
	 "float32 or float64 for real results (default: the input's)"},
	{"dataset", 'd', "NAME", OP_BIT(SS_OP_LOG_PROB),
	 "read the structures from dataset NAME (default: argmax, samples, else the decodes)"},
	{"threads", 'j', "N", ALL_OPS,
	 "number of threads (default: all cores, or OMP_NUM_THREADS)"},
	{"max-memory", OPT_MAX_MEMORY, "SIZE", ALL_OPS,
	 "memory budget in bytes, suffix K, M, G or T (default: half the RAM)"},
	{"timing", OPT_TIMING, NULL, ALL_OPS,
	 "print the seconds spent reading, computing and writing to stderr"},
	{"progress", OPT_PROGRESS, NULL, ALL_OPS,
	 "show a progress line on stderr, even when it is not a terminal"},
	{"no-progress", OPT_NO_PROGRESS, NULL, ALL_OPS,
	 "show no progress line"},
	{"quiet", 'q', NULL, ALL_OPS, "print no warnings and no progress line"},
	{"help", 'h', NULL, ALL_OPS, "show this help and exit"},
};
#define N_OPTIONS SS_ARRAY_LEN(options)

/* Whether option o is one of op's. */
static int applies(const cli_option *o, ss_op op)
{
	if (o->ops & GRAD_OPS)
		return ss_ops[op].has_grad;
	return (o->ops & OP_BIT(op)) != 0;
}

/* "partition, entropy ... and kl": the commands that take --grad. */
static const char *grad_commands(char *buf, size_t size)
{
	int n = 0, seen = 0;
	size_t used = 0;
	buf[0] = '\0';
	for (int k = 0; k < SS_OP_COUNT; k++)
		n += ss_ops[k].has_grad;
	for (int k = 0; k < SS_OP_COUNT && used < size; k++) {
		if (!ss_ops[k].has_grad)
			continue;
		seen++;
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 seen == 1 ? "" : seen == n ? " and " : ", ",
					 ss_ops[k].name);
	}
	return buf;
}

/* A line of the help: the option, padded, then what it does. */
#define HELP_LEFT 64
#define HELP_LEFT_WIDTH 24

static void help_line(FILE *out, const char *left, const char *help)
{
	fprintf(out, "  %-*s %s\n", HELP_LEFT_WIDTH, left, help);
}

const cli_command cli_commands[SS_OP_COUNT] = {
	[SS_OP_PARTITION] = {SS_OP_PARTITION, "INPUT",
			     "log partition function log Z of each element"},
	[SS_OP_MARGINALS] = {SS_OP_MARGINALS, "INPUT",
			     "marginal probability of every part"},
	[SS_OP_ARGMAX] = {SS_OP_ARGMAX, "INPUT",
			  "highest-scoring structure, its score and decode"},
	[SS_OP_SAMPLE] = {SS_OP_SAMPLE, "INPUT",
			  "exact samples with their log-probabilities"},
	[SS_OP_ENTROPY] = {SS_OP_ENTROPY, "INPUT",
			   "exact entropy of each distribution"},
	[SS_OP_LOG_COUNT] = {SS_OP_LOG_COUNT, "INPUT",
			     "log of the number of structures of each element"},
	[SS_OP_CROSS_ENTROPY] = {SS_OP_CROSS_ENTROPY, "P Q",
				 "cross-entropy -sum p log q between two inputs"},
	[SS_OP_INFO] = {SS_OP_INFO, "INPUT",
			"what a file holds and whether it is valid, without computing"},
	[SS_OP_TOP_K] = {SS_OP_TOP_K, "INPUT",
			 "the K best structures, best first, with their scores"},
	[SS_OP_MAX_MARGINALS] = {SS_OP_MAX_MARGINALS, "INPUT",
				 "best score of a structure with each part"},
	[SS_OP_KL] = {SS_OP_KL, "P Q",
		      "Kullback-Leibler divergence KL(p || q) between two inputs"},
	[SS_OP_LOG_PROB] = {SS_OP_LOG_PROB, "INPUT EVENTS",
			    "log-probability of given structures"},
};

const char *cli_structure_names(char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int k = 0; k < ss_structure_count && used < size; k++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
					 k == 0 ? ""
					 : k == ss_structure_count - 1 ? " or " : ", ",
					 ss_structures[k]->name);
	return buf;
}

const cli_command *cli_command_find(const char *name)
{
	for (int k = 0; k < SS_OP_COUNT; k++)
		if (!strcmp(ss_ops[cli_commands[k].op].name, name))
			return &cli_commands[k];
	return NULL;
}

void cli_command_help(FILE *out, ss_op op)
{
	fprintf(out, "usage: synstruct %s [OPTIONS] %s\n\n%s.\n\noptions:\n",
		ss_ops[op].name, cli_commands[op].operands,
		cli_commands[op].summary);
	for (size_t k = 0; k < N_OPTIONS; k++) {
		char left[HELP_LEFT];
		if (!applies(&options[k], op))
			continue;
		if (options[k].key < OPT_LONG_ONLY)
			snprintf(left, sizeof left, "-%c, --%s%s%s",
				 options[k].key, options[k].long_name,
				 options[k].arg ? " " : "",
				 options[k].arg ? options[k].arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s",
				 options[k].long_name,
				 options[k].arg ? " " : "",
				 options[k].arg ? options[k].arg : "");
		help_line(out, left, options[k].help);
	}
	const ss_option_spec *flags[CLI_MAX_FLAGS];
	int n_flags = structure_flags(flags, CLI_MAX_FLAGS);
	if (n_flags)
		fprintf(out, "\nstructure options (override the file's attributes):\n");
	for (int k = 0; k < n_flags; k++) {
		char left[HELP_LEFT];
		snprintf(left, sizeof left, "    --%s%s", flags[k]->flag,
			 flag_arg(flags[k]));
		help_line(out, left, flags[k]->help);
	}
	fprintf(out, "\nstructures:");
	for (int k = 0; k < ss_structure_count; k++)
		fprintf(out, " %s", ss_structures[k]->name);
	fprintf(out, "\nsee synstruct-%s(1)\n", ss_ops[op].name);
}

void cli_global_help(FILE *out)
{
	int width = 0;
	/* one column for the names of commands and structures */
	for (int k = 0; k < SS_OP_COUNT; k++)
		if ((int)strlen(ss_ops[k].name) > width)
			width = (int)strlen(ss_ops[k].name);
	for (int k = 0; k < ss_structure_count; k++)
		if ((int)strlen(ss_structures[k]->name) > width)
			width = (int)strlen(ss_structures[k]->name);
	fprintf(out, "usage: synstruct COMMAND [OPTIONS] INPUT\n"
		     "       synstruct COMMAND --help\n"
		     "       synstruct --version\n\ncommands:\n");
	for (int k = 0; k < SS_OP_COUNT; k++)
		fprintf(out, "  %-*s %s\n", width, ss_ops[cli_commands[k].op].name,
			cli_commands[k].summary);
	fprintf(out, "\nstructures:\n");
	for (int k = 0; k < ss_structure_count; k++)
		fprintf(out, "  %-*s %s\n", width, ss_structures[k]->name,
			ss_structures[k]->summary);
	fprintf(out, "\nINPUT is an HDF5 or JSON Lines file, or - for one on standard input.\n"
		     "see synstruct(1)\n");
}

/* Parses a non-negative integer; 0 on success. */
static int parse_u64(const char *s, uint64_t *value)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*value = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int parse_size(const char *s, size_t *value)
{
	char *end;
	double v;
	const char *units = "KMGT";
	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 1)
		return -1;
	if (*end) {
		const char *u = strchr(units, *end);
		if (!u || end[1])
			return -1;
		for (const char *p = units; p <= u; p++)
			v *= 1024.0;
	}
	if (v > (double)SIZE_MAX / 2)
		return -1;
	*value = (size_t)v;
	return 0;
}

static int usage_error(ss_op op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(ss_op op, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("synstruct: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "; see 'synstruct %s --help'\n", ss_ops[op].name);
	va_end(ap);
	return EXIT_USAGE;
}

/* The getopt_long tables of op's options and the structure flags:
 * longs[N_OPTIONS + n_flags + 1], shorts[2 * N_OPTIONS + 2]. */
static void getopt_tables(ss_op op, const ss_option_spec *const flags[],
			  int n_flags, struct option *longs, char *shorts)
{
	size_t n_longs = 0, used = 0;
	shorts[used++] = ':'; /* a missing value returns ':' */
	for (size_t k = 0; k < N_OPTIONS; k++) {
		/* --grad parses for every command, so that one without
		 * gradients can say which have them */
		if (!applies(&options[k], op) && options[k].key != OPT_GRAD)
			continue;
		longs[n_longs++] = (struct option){
			options[k].long_name,
			options[k].arg ? required_argument : no_argument, NULL,
			options[k].key};
		if (options[k].key < OPT_LONG_ONLY) {
			shorts[used++] = (char)options[k].key;
			if (options[k].arg)
				shorts[used++] = ':';
		}
	}
	for (int k = 0; k < n_flags; k++)
		longs[n_longs++] = (struct option){flags[k]->flag,
						   flags[k]->kind == SS_OPTION_FLAG
						   ? no_argument : required_argument,
						   NULL, OPT_STRUCTURE_FLAG + k};
	shorts[used] = '\0';
	longs[n_longs] = (struct option){NULL, 0, NULL, 0};
}

/* Option c with value value into opt: EXIT_OK, or EXIT_USAGE after
 * reporting a bad value. */
static int apply_value(ss_op op, int c, const char *value, cli_options *opt)
{
	uint64_t u;
	char names[256];
	switch (c) {
	case 'o': opt->output = value; break;
	case 'f':
		if (strcmp(value, "jsonl") && strcmp(value, "hdf5"))
			return usage_error(op, "unknown format '%s' (jsonl or hdf5)", value);
		opt->format = value;
		break;
	case 's':
		if (!ss_structure_find(value))
			return usage_error(op, "unknown structure '%s' (%s)", value,
					   cli_structure_names(names, sizeof names));
		opt->structure = value;
		break;
	case 'g': opt->group = value; break;
	case 'd': opt->dataset = value; break;
	case 'k':
		if (parse_u64(value, &u) || u < 1 || u > 1000000)
			return usage_error(op, "'-k' needs an integer in [1, 1000000], not '%s'", value);
		opt->top_k = (int64_t)u;
		break;
	case 'n':
		if (parse_u64(value, &u) || u < 1 || u > INT32_MAX)
			return usage_error(op, "'--num-samples' needs an integer in [1, %d], not '%s'", INT32_MAX, value);
		opt->num_samples = (int64_t)u;
		break;
	case OPT_TEMPERATURE: {
		char *end;
		/* subnormal values are positive and finite too: ERANGE is
		 * no reason to refuse them */
		opt->temperature = strtod(value, &end);
		if (!*value || *end || !(opt->temperature > 0) ||
		    isinf(opt->temperature))
			return usage_error(op, "'--temperature' needs a positive finite number, not '%s'", value);
		break;
	}
	case OPT_SEED:
		if (parse_u64(value, &opt->seed))
			return usage_error(op, "'--seed' needs an unsigned 64-bit integer, not '%s'", value);
		break;
	case 'j':
		if (parse_u64(value, &u) || u < 1 || u > 4096)
			return usage_error(op, "'--threads' needs an integer in [1, 4096], not '%s'", value);
		opt->threads = (int)u;
		break;
	case OPT_MAX_MEMORY:
		if (parse_size(value, &opt->max_memory))
			return usage_error(op, "'--max-memory' needs a size such as 512M or 4G, not '%s'", value);
		break;
	case OPT_INPUT_FORMAT:
		if (strcmp(value, "jsonl") && strcmp(value, "hdf5"))
			return usage_error(op, "unknown input format '%s' (jsonl or hdf5)", value);
		opt->input_format = value;
		break;
	case OPT_DTYPE:
		if (strcmp(value, "float32") && strcmp(value, "float64"))
			return usage_error(op, "'--dtype' needs float32 or float64, not '%s'", value);
		opt->dtype = value;
		break;
	}
	return EXIT_OK;
}

/* What getopt_long returned, c, into opt (value: its optarg, where):
 * EXIT_OK, EXIT_USAGE after reporting, or -1 after printing the help. */
static int apply_option(ss_op op, int c, const char *value, const char *where,
			const ss_option_spec *const flags[], int n_flags,
			cli_options *opt)
{
	switch (c) {
	case OPT_TIMING: opt->timing = 1; return EXIT_OK;
	case OPT_EVENTS: opt->dense_events = 1; return EXIT_OK;
	case OPT_GRAD: {
		char names[256];
		if (!ss_ops[op].has_grad)
			return usage_error(op, "'--grad' applies only to %s",
					   grad_commands(names, sizeof names));
		opt->grad = 1;
		return EXIT_OK;
	}
	case OPT_PROGRESS: opt->progress = 1; return EXIT_OK;
	case OPT_NO_PROGRESS: opt->progress = -1; return EXIT_OK;
	case 'q': cli_quiet = 1; return EXIT_OK;
	case 'h':
		cli_command_help(stdout, op);
		return -1;
	case ':':
		return usage_error(op, "option '%s' needs a value", where);
	case '?':
		return usage_error(op, "unknown option '%s'", where);
	}
	if (c >= OPT_STRUCTURE_FLAG && c < OPT_STRUCTURE_FLAG + n_flags) {
		/* each flag once: opt->flags holds them all */
		const ss_option_spec *spec = flags[c - OPT_STRUCTURE_FLAG];
		int f = 0;
		while (f < opt->n_flags && opt->flags[f] != spec->flag)
			f++;
		if (f == opt->n_flags)
			opt->flags[opt->n_flags++] = spec->flag;
		opt->flag_values[f] = spec->kind == SS_OPTION_FLAG ? NULL : value;
		return EXIT_OK;
	}
	for (size_t k = 0; k < N_OPTIONS; k++)
		if (options[k].key == c && options[k].arg)
			return apply_value(op, c, value, opt);
	return usage_error(op, "unknown option '%s'", where);
}

/* The operands after the options: INPUT, INPUT EVENTS or P Q, as
 * cli_commands names them. */
static int parse_operands(int argc, char **argv, ss_op op, cli_options *opt)
{
	int operands = ss_ops[op].operands == SS_ONE_PROBLEM ? 1 : 2;
	const char *names = cli_commands[op].operands;
	const char *second = strchr(names, ' ');
	if (argc - optind < operands) {
		if (argc - optind == 1)
			return usage_error(op, "missing %s file", second + 1);
		return usage_error(op, "missing %.*s file",
				   (int)(second ? second - names : (long)strlen(names)),
				   names);
	}
	if (argc - optind > operands)
		return usage_error(op, "unexpected argument '%s'", argv[optind + operands]);
	opt->input = argv[optind];
	if (operands == 2)
		opt->events = argv[optind + 1];
	if (operands == 2 && !strcmp(opt->input, "-") && !strcmp(opt->events, "-"))
		return usage_error(op, "%.*s and %s cannot both be standard input",
				   (int)(second - names), names, second + 1);
	return EXIT_OK;
}

int cli_parse(int argc, char **argv, ss_op op, cli_options *opt)
{
	const ss_option_spec *flags[CLI_MAX_FLAGS];
	int n_flags = structure_flags(flags, CLI_MAX_FLAGS);
	struct option longs[N_OPTIONS + CLI_MAX_FLAGS + 1];
	/* ':' first, a letter and a ':' per option, the terminator */
	char shorts[1 + 2 * N_OPTIONS + 1];
	int c, rc;

	memset(opt, 0, sizeof *opt);
	opt->op = op;
	opt->num_samples = 1;
	opt->top_k = 1;
	opt->temperature = 1.0;
	opt->max_memory = (size_t)sysconf(_SC_PHYS_PAGES) *
			  (size_t)sysconf(_SC_PAGESIZE) / 2;
	getopt_tables(op, flags, n_flags, longs, shorts);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1)
		if ((rc = apply_option(op, c, optarg, argv[optind - 1], flags,
				       n_flags, opt)) != EXIT_OK)
			return rc;
	return parse_operands(argc, argv, op, opt);
}
