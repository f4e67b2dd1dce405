/*
 * synstruct.h - the synstruct engine: structured distributions over batched
 * log-potentials.
 *
 * The engine computes and never prints, exits or opens files. Every call
 * returns a status (SS_OK or an ss_status code) and, on failure, fills a
 * caller-owned ss_error with a one-line lower-case message.
 *
 * Ownership: inputs are borrowed (const pointers into caller memory); outputs
 * are caller-allocated, sized from the shape queries below; a failed call
 * hands back no partial result the caller must free.
 *
 * Adding a structure:
 *   1. write lib/struct_<name>.c with a banner comment giving the structure,
 *      the index order of its potentials, the recurrences and the complexity;
 *   2. define its ss_structure: inputs, event, decodes and validate; its
 *      recurrence as a chart program (chart_size and chart: steps of the
 *      engine in lib/chart.c), or lower, which maps it onto a structure
 *      that has one (hmm onto linear-chain); its parts (to_parts, and
 *      from_parts where the event is not the parts); decode and encode.
 *      Every command then works without further code. An operation it
 *      cannot support has a reason in unsupported[]; work that depends on
 *      one input array alone, such as the log-softmax of a parameter the
 *      batch may share, goes in prepare_bytes and prepare;
 *   3. list it in the table in lib/structure.c;
 *   4. add a row (a case generator and a brute-force enumerator) to the
 *      conformance suite, tests/unit_conformance_rows.c: every operation
 *      and convention is then checked against the enumeration; test its
 *      command line in tests/bats/, and describe it in
 *      man/synstruct-structures.7 and the README.
 */
#ifndef SYNSTRUCT_H
#define SYNSTRUCT_H

#include <stddef.h>
#include <stdint.h>

#define SS_VERSION "0.1.0"

/* The number of elements of an array (an array, not a pointer). */
#define SS_ARRAY_LEN(a) (sizeof (a) / sizeof (a)[0])

/* ---- errors ------------------------------------------------------------ */

typedef enum ss_status {
	SS_OK = 0,
	SS_EDATA,        /* the input data is invalid */
	SS_ENOMEM,       /* an allocation failed */
	SS_EUNSUPPORTED, /* the operation does not exist for the structure */
	SS_STATUS_COUNT
} ss_status;

typedef struct ss_error {
	ss_status status;
	char message[512];
} ss_error;

/* Sets err (when not NULL) and returns status. */
int ss_error_set(ss_error *err, ss_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes "[i, j, k]", the multi-index of a flat row-major offset into an
 * array of the given rank and shape, into buf[size] (cut short to fit). */
void ss_format_index(char *buf, size_t size, int64_t offset, int rank,
		     const int64_t *shape);

/* ---- dimensions and input tables ---------------------------------------- */

/* The dimension letters of SPEC.md; their names are in lib/structure.c. */
typedef enum ss_dim {
	SS_DIM_N,  /* n: sequence length (frames for ctc) */
	SS_DIM_T,  /* t: tags / states */
	SS_DIM_V,  /* V: vocabulary */
	SS_DIM_M,  /* m: longest segment (semi-markov) */
	SS_DIM_L,  /* L: label-sequence length (ctc) */
	SS_DIM_S,  /* 2L+1: extended labels (ctc), derived from L */
	SS_DIM_R,  /* R: rows of an alignment table */
	SS_DIM_C,  /* C: columns of an alignment table */
	SS_DIM_K,  /* K: horizontal move kinds (monotone-alignment) */
	SS_DIM_K1, /* K+1: every move kind, derived from K */
	SS_DIM_THREE, /* 3: the (start, end, label) of a segment or span */
	SS_DIM_N2M1, /* 2n-1: the spans of a binary tree over n words */
	SS_DIM_TWO, /* 2: a (row, column) pair */
	SS_DIM_RC1, /* R+C-1: the most cells of a monotone path */
	SS_DIM_NT,    /* nt: nonterminals (pcfg) */
	SS_DIM_PT,    /* pt: preterminals (pcfg) */
	SS_DIM_NTPT,  /* nt+pt: every symbol, derived from nt and pt (an
		       * input's axis must equal it) */
	SS_DIM_RANK,  /* r: rank of a tensor-decomposition pcfg */
	SS_DIM_N3R,   /* n+3r: rows of a td-pcfg's parameter parts, derived
		       * from n and r */
	SS_DIM_COUNT
} ss_dim;

extern const char *const ss_dim_names[SS_DIM_COUNT];

/* Sets the derived and fixed sizes (2L+1 from L, K+1 from K, 2n-1 from n,
 * R+C-1 from R and C, nt+pt from nt and pt, n+3r from n and r, the
 * constants 3 and 2): call
 * it once the sizes the inputs give are known. */
void ss_dims_derive(int64_t dim[SS_DIM_COUNT]);

#define SS_OP_SLOTS 16 /* at least SS_OP_COUNT (checked in structure.c) */
#define SS_MAX_EVENT_RANK 4
#define SS_MAX_INPUTS 8
#define SS_MAX_DECODES 2
#define SS_MAX_OPTIONS 4
#define SS_MAX_LENGTHS 2

typedef enum ss_kind { SS_REAL, SS_INT } ss_kind;

/* How a structure's input dataset must be present. */
typedef enum ss_presence {
	SS_REQUIRED,
	SS_OPTIONAL,
	SS_ALTERNATIVE /* present or not as ss_structure.check_presence says */
} ss_presence;

/* One input dataset: its name, its element type and the letters of its
 * trailing (per-element) axes. Leading axes are batch axes. */
typedef struct ss_input_spec {
	const char *name;
	ss_kind kind;
	ss_presence presence;
	int rank;
	ss_dim dims[SS_MAX_EVENT_RANK];
	int reads_f32;  /* SS_REAL: the structure reads it as float too */
} ss_input_spec;

/* The type of an input's values (ss_tensor.dtype). */
typedef enum ss_dtype {
	SS_NATIVE, /* the input's own: double (SS_REAL), int64_t (SS_INT) */
	SS_F64,    /* double */
	SS_F32,    /* float */
	SS_I64,    /* int64_t */
	SS_I32,    /* int32_t */
	SS_DTYPE_COUNT
} ss_dtype;

/*
 * A typed tensor view: one element's slice of an input, as a NumPy array
 * is one. Its axes are those of the input's spec (ss_input_spec.dims),
 * their sizes the element's dim[]. data is NULL where the input is
 * absent. dtype: a real input takes SS_NATIVE, SS_F64 or SS_F32, an
 * integer one SS_NATIVE, SS_I64 or SS_I32. strided 0: the values are
 * contiguous and row-major; else stride[a] is the distance, in values,
 * from one entry to the next along axis a: any sign (a reversed axis),
 * and 0 repeats one entry along the axis (a broadcast). A zeroed view
 * with data set is a plain array of the input's own type.
 *
 * The structures read one layout: contiguous, double (or float where the
 * spec reads_f32) and int64_t. An input in another is gathered and
 * widened, exactly, into the workspace (lib/tensor.c), so that the
 * result is the same bytes as for a plain array of the same values.
 */
typedef struct ss_tensor {
	const void *data;
	ss_dtype dtype;
	int strided;
	int64_t stride[SS_MAX_EVENT_RANK];
} ss_tensor;

/* An output array of one batch element: letters of its axes. */
typedef struct ss_array_spec {
	const char *name;
	ss_kind kind;
	int rank;
	ss_dim dims[SS_MAX_EVENT_RANK];
} ss_array_spec;

/* What values a structure option takes. */
typedef enum ss_option_kind {
	SS_OPTION_FLAG, /* 0 or 1; the flag (no value) sets flag_value */
	SS_OPTION_INT,  /* an integer in [min, max]: --blank-id 3 */
	SS_OPTION_ENUM, /* value k named choices[k]: --alignment-type NAME */
	SS_OPTION_KIND_COUNT
} ss_option_kind;

/*
 * A structure option: an attribute of the file (or a key of JSON Lines),
 * overridden by a command-line flag. Values are integers: an enum's
 * attribute may be its name or its index.
 */
typedef struct ss_option_spec {
	const char *name;       /* the attribute: "directed" */
	const char *flag;       /* the long option: "undirected" */
	ss_option_kind kind;
	int64_t flag_value;     /* SS_OPTION_FLAG: what the flag sets: 0 */
	int64_t default_value;  /* without attribute or flag: 1 */
	int64_t min, max;       /* SS_OPTION_INT: the range */
	const char *const *choices; /* SS_OPTION_ENUM: NULL-terminated names */
	const char *help;
} ss_option_spec;

/* Checks value as one of option spec's (SS_EDATA naming the option and
 * what it takes). */
int ss_option_check(const ss_option_spec *spec, int64_t value,
		    ss_error *err);
/* Reads text as a value of spec: an integer, or an enum's name. */
int ss_option_parse(const ss_option_spec *spec, const char *text,
		    int64_t *value, ss_error *err);
/* What spec takes, in words, into buf: "0 or 1", "an integer in [0, 9]",
 * "one of a, b". */
const char *ss_option_takes(const ss_option_spec *spec, char *buf,
			    size_t size);

/* ---- one batch element ------------------------------------------------- */

/*
 * One problem of the batch. input[k] is the view of this element's slice
 * of the structure's k-th input (data NULL where the dataset is absent).
 * The hooks of a structure see only resolved elements: every input
 * contiguous, SS_F32 only where its spec reads_f32, else the input's own
 * type (lib/tensor.c). dim[] holds the resolved dimension sizes,
 * option[k] the value of the structure's k-th option.
 * index is the flat batch index: it names the element's random stream.
 * temperature T (0 means 1) makes every operation act on the distribution
 * p_T(y) ∝ exp(score(y) / T), scores taken after the structure's own
 * normalisation: lib/ops.c divides the canonical potentials by T.
 * prepared[k] is NULL (callers zero it) or the structure's preparation of
 * input[k] (ss_structure.prepare), which ss_run and ss_prepare fill in.
 * Elements that share a parameter (one array for the whole batch) point
 * at the same input[k].data.
 */
typedef struct ss_element {
	ss_tensor input[SS_MAX_INPUTS];
	int64_t dim[SS_DIM_COUNT];
	int64_t option[SS_MAX_OPTIONS];
	int64_t index;
	const void *prepared[SS_MAX_INPUTS];
	double temperature; /* T of p(y) ∝ exp(score(y) / T); 0 or 1: none */
	/* Where not NULL: set to 1 by an operation whose log inside read
	 * only finite or -inf potentials and saw it (the float kernels of
	 * lib/chart.c), else to 0. lib/driver.c then skips the values'
	 * scan. */
	int *values_checked;
} ss_element;

/* ---- counter-based random numbers ---------------------------------------- */

/* A stream that is a pure function of (seed, element, sample). */
typedef struct ss_rng {
	uint64_t key;
	uint64_t counter;
} ss_rng;

void ss_rng_init(ss_rng *rng, uint64_t seed, int64_t element, int64_t sample);
/* A uniform double in [0, 1) with 53 random bits. */
double ss_rng_uniform(ss_rng *rng);

/* ---- structures ------------------------------------------------------------ */

/*
 * A structure is a small interface: it supplies its inputs' checks, its
 * recurrence and its parts, not its operations. lib/ops.c runs every
 * operation from these, once for all structures. All per-element functions
 * take a workspace (64-byte aligned, owned by the caller, reused between
 * elements) and write only their outputs.
 *
 *   validate       rejects NaN or +inf in used entries, lengths out of range,
 *                  ids out of range
 *   lower          the canonical problem of e, whose events are its parts:
 *                  an element of the structure `canonical` (NULL: the
 *                  structure itself) with the same dimensions, lengths and
 *                  options, whose input 0 is theta [canonical event size],
 *                  the potentials of the parts (hmm: the chain it builds;
 *                  an undirected spanning tree: the directed one over the
 *                  symmetrised potentials), so that a structure's score is
 *                  Σ parts · theta. NULL: e is its own canonical problem,
 *                  theta its input 0.
 *   chart_size, chart
 *                  the canonical structure's recurrence: the inside chart
 *                  program of a canonical element (struct ssi_chart, lib/
 *                  internal.h), from which the engine (lib/chart.c) derives
 *                  log Z, marginals, the best structure, samples, the
 *                  entropy and the count. chart returns 0 for an element
 *                  that has no such program (non-projective trees), whose
 *                  operations are then the special ones below.
 *   log_partition, marginals, argmax, sample, entropy
 *                  special operations on a canonical element that are not
 *                  dynamic programs (the Matrix-Tree Theorem, Chu-Liu-
 *                  Edmonds): log Z (-inf where no structure exists); the
 *                  parts' marginals and log Z; the best structure's parts
 *                  (all zero if none) and score; one exact sample's parts
 *                  and score from rng; H(p) (NaN without a structure)
 *   workspace_bytes  the scratch lower and the special operations need
 *                  (NULL: none)
 *   to_parts       the canonical parts of an event, checked: SS_EDATA if
 *                  the event is not a structure of e; *empty is set for the
 *                  all-zero event where e has structures with parts (score
 *                  -inf)
 *   from_parts     the event of canonical parts (marginals or indicators);
 *                  NULL: the same array
 *   to_counts      the counts array (ss_structure.counts) of the canonical
 *                  parts' marginals; NULL where counts has no name
 *   decode         the compact decodes of an event, -1 in padding
 *   encode         the event of a compact decode (the first of decodes[]),
 *                  the inverse of decode: SS_EDATA naming the decode and
 *                  the position of a value out of range; a decode that is
 *                  -1 everywhere is the empty structure (all-zero event);
 *                  entries past the length are ignored
 *
 * Optionally, work that depends on one input array alone (the log-softmax
 * normalisers of a parameter) is split off as a preparation, which ss_run
 * does once per distinct array of a chunk instead of once per element: a
 * parameter the batch shares (one hmm's emission_logits for every
 * sentence) is one array.
 *   prepare_bytes  the size of input k's preparation for dimensions dim,
 *                  0 where input k has none; never larger than input k
 *   prepare        checks the array data of input k as validate would
 *                  (SS_EDATA with the same message) and writes its
 *                  preparation into out (64-byte aligned)
 * Per-element functions read a preparation from e->prepared[k] and, where
 * that is NULL, compute it themselves, with the same bits; validate skips
 * the checks of a prepared input. Both hooks are NULL when a structure
 * prepares nothing.
 */
struct ssi_chart;
struct ssi_chart_size;
typedef struct ss_structure ss_structure;
struct ss_structure {
	const char *name;
	const char *summary;
	const ss_input_spec *inputs;
	int n_inputs;
	/* NULL, or checks which SS_ALTERNATIVE inputs are present together. */
	int (*check_presence)(const int present[], ss_error *err);
	/* Indices in inputs[] of the lengths: optional rank-0 integers, one
	 * per element, each bounding the axis its dims[0] names (n for one
	 * length; two for a pair of sequences, such as CTC's frames and
	 * labels or an alignment's rows and columns). P and Q of a
	 * two-problem operation must have equal lengths. */
	int lengths_inputs[SS_MAX_LENGTHS];
	int n_lengths;
	ss_option_spec options[SS_MAX_OPTIONS];
	int n_options;
	/* The event: one flat array of doubles, `event` followed by
	 * `event_tags` where the structure has a second part (pcfg's
	 * preterminal tags; name NULL, rank 0: none), written as two
	 * datasets, <name> and <name>_tags (ss_event_size). */
	ss_array_spec event;
	ss_array_spec event_tags;
	/* name NULL, or an array of expected counts that the marginals
	 * also give, from the canonical parts' marginals (to_counts):
	 * pcfg's rule_counts. */
	ss_array_spec counts;
	ss_array_spec decodes[SS_MAX_DECODES];
	int n_decodes;

	int (*validate)(const ss_element *e, void *ws, ss_error *err);
	/* Optional, together: validate split into its checks of lengths,
	 * shapes and ids (validate_shape) and its scan of the values for
	 * NaN and +inf (validate_values), for ss_run to scan after an
	 * operation that no value can misdirect (log Z, marginals or the
	 * entropy of a chart: late_values in lib/driver.c), while the
	 * input is still in cache from it, and only where the chart's
	 * kernels did not see every value (ss_element.values_checked): the
	 * chart must read every entry validate_values scans. The error is
	 * validate's. */
	int (*validate_shape)(const ss_element *e, void *ws, ss_error *err);
	int (*validate_values)(const ss_element *e, ss_error *err);
	void (*lower)(const ss_element *e, void *ws, double *theta,
		      ss_element *out);
	const ss_structure *canonical;
	void (*chart_size)(const int64_t dim[], struct ssi_chart_size *size);
	int (*chart)(const ss_element *c, struct ssi_chart *chart);
	size_t (*workspace_bytes)(const int64_t dim[]);
	int (*log_partition)(const ss_element *c, void *ws, double *logz,
			     ss_error *err);
	int (*marginals)(const ss_element *c, void *ws, double *marginals,
			 double *logz, ss_error *err);
	int (*argmax)(const ss_element *c, void *ws, double *parts,
		      double *score, ss_error *err);
	int (*sample)(const ss_element *c, void *ws, ss_rng *rng,
		      double *parts, double *score, ss_error *err);
	int (*entropy)(const ss_element *c, void *ws, double *entropy,
		       ss_error *err);
	int (*to_parts)(const ss_element *e, void *ws, const double *event,
			double *parts, int *empty, ss_error *err);
	void (*from_parts)(const ss_element *e, const double *parts,
			   double *event);
	/* The same for max-marginals: each event entry the largest of its
	 * parts' (NULL: max-marginals need from_parts NULL). */
	void (*from_parts_max)(const ss_element *e, const double *parts,
			       double *event);
	void (*to_counts)(const ss_element *e, const double *parts,
			  double *counts);
	void (*decode)(const ss_element *e, const double *event,
		       int64_t *const decodes[]);
	int (*encode)(const ss_element *e, const int64_t *decode,
		      double *event, ss_error *err);
	/* Why an operation does not exist for the structure (NULL where it
	 * does, given the slots above). */
	const char *unsupported[SS_OP_SLOTS];
	/* NULL, or why operation op (an ss_op) does not exist for elements
	 * with these option values (NULL where it does): an alignment's
	 * type decides. */
	const char *(*unsupported_for)(const int64_t option[], int op);
	/* NULL, or, for a structure without a chart program, sets in theta
	 * (the potentials of canonical element c) the parts that exclude
	 * part `part` to -inf, so that its argmax is the best structure that
	 * has the part: top-k (Lawler's partitioning) and max-marginals. */
	void (*force)(const ss_element *c, double *theta, int64_t part);
	/* NULL, or SS_EDATA where Q is not over the same structures as P
	 * beyond what their dimensions, options and lengths say (ctc: the
	 * same labels), for cross-entropy and kl. */
	int (*check_pair)(const ss_element *p, const ss_element *q,
			  ss_error *err);
	size_t (*prepare_bytes)(int input, const int64_t dim[]);
	int (*prepare)(int input, const void *data, const int64_t dim[],
		       void *out, ss_error *err);
	/*
	 * Gradients (--grad). lower_grad: NULL where lower is NULL (input 0
	 * is θ, so its gradient is dtheta); else the chain rule through
	 * lower: dtheta [canonical event size] is df/dθ for θ as lower(e)
	 * writes it (before any temperature), and grad[k], where it is not
	 * NULL, receives df/d input k [ss_input_size(s, k, dim)] for every
	 * real input k of e that is present, 0 in each entry lower never
	 * reads (grad[k] arrives zeroed). ws: workspace_bytes(dim) bytes,
	 * shared with nothing else at that point.
	 */
	void (*lower_grad)(const ss_element *e, void *ws, const double *dtheta,
			   double *const grad[]);
	/* A special operation, for a canonical structure whose elements may
	 * have no chart program: hv [parts] (zeroed) = ∇² log Z · d, the
	 * Hessian of log Z in θ times direction d [parts] (finite where θ
	 * is; 0 where θ is -inf), which is Cov(parts, parts · d) under p.
	 * Called only where log Z > -inf. */
	int (*hvp)(const ss_element *c, void *ws, const double *d, double *hv,
		   ss_error *err);
};

/* The structure table (lib/structure.c). */
extern const ss_structure *const ss_structures[];
extern const int ss_structure_count;
const ss_structure *ss_structure_find(const char *name);

/* Values of input k of s per element (the product of its axes). */
int64_t ss_input_size(const ss_structure *s, int k, const int64_t dim[]);
/* Elements in the product of the event's (or a decode's) axes. */
int64_t ss_array_size(const ss_array_spec *spec, const int64_t dim[]);
/* Doubles of s's flat event: its event and event_tags parts. */
int64_t ss_event_size(const ss_structure *s, const int64_t dim[]);

/* ---- instruction sets --------------------------------------------------- */

/*
 * The kernels are built for several instruction sets (x86-64: "scalar",
 * "avx2", "avx512"; arm64: "neon") and one is chosen at first use: the
 * best this CPU runs, unless ss_isa_select chose another. Results agree
 * between sets to rounding; with one set, the same input gives the same
 * bytes whatever the thread count.
 */
const char *ss_isa(void);
/* The sets this build has, NULL-terminated, best last; whether this CPU
 * runs one. */
const char *const *ss_isa_built(void);
int ss_isa_runs(const char *name);
/* Chooses a set: SS_EUNSUPPORTED, naming the sets, for one this build does
 * not have or this CPU does not run. Not thread-safe: call it first. */
int ss_isa_select(const char *name, ss_error *err);

/* ---- operations and the batch driver ---------------------------------------- */

typedef enum ss_op {
	SS_OP_PARTITION,
	SS_OP_MARGINALS,
	SS_OP_ARGMAX,
	SS_OP_SAMPLE,
	SS_OP_ENTROPY,
	SS_OP_LOG_PROB,
	SS_OP_LOG_COUNT,
	SS_OP_CROSS_ENTROPY,
	SS_OP_KL,
	SS_OP_MAX_MARGINALS,
	SS_OP_TOP_K,
	SS_OP_INFO,      /* validation only: what a file holds */
	SS_OP_COUNT
} ss_op;

/* The role of one output of an operation. */
typedef enum ss_out_role {
	SS_OUT_SCALAR,  /* one double per element (per sample) */
	SS_OUT_EVENT,   /* the structure's event (flat: both parts) */
	SS_OUT_DECODES, /* the structure's compact decodes */
	SS_OUT_COUNTS   /* the structure's counts, where it has them */
} ss_out_role;

/* How an output is stored and when it is written (flags of ss_op_output). */
enum {
	SS_OUT_INDICATOR = 1,  /* an event of 0/1 indicators, not probabilities */
	SS_OUT_ON_REQUEST = 2  /* written only when asked for (--events) */
};

typedef struct ss_op_output {
	const char *name; /* NULL for SS_OUT_DECODES and SS_OUT_COUNTS: the
			   * structure's names */
	ss_out_role role;
	unsigned flags;   /* SS_OUT_INDICATOR | SS_OUT_ON_REQUEST */
	const char *tags; /* SS_OUT_EVENT: the name of its second part */
} ss_op_output;

#define SS_MAX_OP_OUTPUTS 4
/* Output arrays of an op, its decodes expanded (ss_op_output_count). */
#define SS_MAX_OP_ARRAYS (SS_MAX_OP_OUTPUTS + SS_MAX_DECODES)

/* Where an operation's operands come from. */
typedef enum ss_operands {
	SS_ONE_PROBLEM,  /* INPUT */
	SS_WITH_EVENTS,  /* INPUT and the structures to score (log-prob) */
	SS_TWO_PROBLEMS, /* P and Q: two inputs of one structure and shape */
	SS_OPERANDS_COUNT
} ss_operands;

/* Where the leading sample axis of an operation's outputs comes from. */
typedef enum ss_samples {
	SS_NO_SAMPLES,
	SS_SAMPLES_DRAWN,       /* num_samples draws from seed (sample) */
	SS_SAMPLES_OF_EVENTS,   /* the events' own sample axis, if any */
	SS_SAMPLES_RANKS,       /* the K best, best first (top-k) */
	SS_SAMPLES_COUNT
} ss_samples;

typedef struct ss_op_spec {
	const char *name;    /* command name: "partition", "log-prob", ... */
	ss_operands operands;
	ss_samples samples;
	ss_op_output outputs[SS_MAX_OP_OUTPUTS];
	int n_outputs;
	int has_grad;        /* its scalar result has gradients (--grad) */
} ss_op_spec;

extern const ss_op_spec ss_ops[SS_OP_COUNT];

/*
 * NULL where the structure supports op for elements with the option
 * values option[] (NULL: the defaults), else why not, followed by the
 * commands it supports, in buf.
 */
const char *ss_op_unsupported(const ss_structure *s, const int64_t *option,
			      ss_op op, char *buf, size_t size);

/*
 * A chunk of a batch for the driver. elements[count] are the problems.
 * Outputs: out[k] for the op's k-th output array (ss_op_output_count: one
 * array per decode, in order, in place of SS_OUT_DECODES), laid out
 * [samples][count][size], size ss_op_output_size, where samples is
 * num_samples for per-sample ops and 1 otherwise.
 * For SS_OP_LOG_PROB, events holds [num_samples][count][event size].
 * For two-problem operations (cross-entropy, kl) elements_q[count] are Q,
 * of the same structure, options and dimensions as elements (P).
 * empty[count] is set to 1 where an element (of P) has no structure.
 * workspaces, where not NULL, holds each OpenMP thread's workspace from
 * one ss_run to the next (ss_workspaces_new).
 */
typedef struct ss_workspaces ss_workspaces;
typedef struct ss_batch {
	const ss_structure *structure;
	ss_workspaces *workspaces;     /* kept between calls, or NULL */
	const ss_element *elements;
	const ss_element *elements_q;  /* SS_TWO_PROBLEMS: Q's, else NULL */
	int64_t count;
	int64_t num_samples;
	uint64_t seed;
	const double *events;
	void *out[SS_MAX_OP_ARRAYS];
	unsigned char *empty;
	/* --grad, for ops with has_grad: where grad[k] is not NULL, the
	 * derivative of the op's scalar result with respect to every entry
	 * of each element's slice of input k (of P; grad_q: of Q), laid out
	 * [samples][count][ss_input_size(s, k, dim)] doubles as the outputs
	 * are. Elements that share an input get one slice each, to be summed
	 * by the caller. Where an element's result is not finite (no
	 * structure, an impossible event, KL +inf) its gradients are 0. */
	double *grad[SS_MAX_INPUTS];
	double *grad_q[SS_MAX_INPUTS];
} ss_batch;

/* Number of output arrays of op for structure s (decodes expanded, counts
 * where s has them). */
int ss_op_output_count(const ss_structure *s, ss_op op);
/* Name, kind and axes of the k-th output array (an event's: its first
 * part), and its values per element (an event's: ss_event_size). */
const char *ss_op_output_name(const ss_structure *s, ss_op op, int k);
ss_kind ss_op_output_kind(const ss_structure *s, ss_op op, int k);
const ss_array_spec *ss_op_output_array(const ss_structure *s, ss_op op,
					 int k);
int64_t ss_op_output_size(const ss_structure *s, ss_op op, int k,
			  const int64_t dim[]);
/* The name of the second part of the k-th output array, an event of a
 * structure with event_tags ("argmax_tags"); NULL for the others. */
const char *ss_op_output_tags(const ss_structure *s, ss_op op, int k);
/* The SS_OUT_* flags of the k-th output array (decodes: none). */
unsigned ss_op_output_flags(const ss_structure *s, ss_op op, int k);

/* The event [ss_event_size] of element e's compact decode (s's first
 * decode): see ss_structure.encode. SS_EUNSUPPORTED without an encoder. */
int ss_encode(const ss_structure *s, const ss_element *e,
	      const int64_t *decode, double *event, ss_error *err);

/* Per-element bytes op needs beyond the inputs and outputs (SS_OP_COUNT:
 * those of validate, and enough for every op but top-k). For top-k,
 * ss_workspace_bytes_ranks with its K (ss_workspace_bytes is K = 1).
 * An element whose inputs are views the structure does not read as they
 * are (strided, or of another type) needs ss_view_bytes more, for each
 * problem (P and Q). */
size_t ss_workspace_bytes(const ss_structure *s, ss_op op,
			  const int64_t dim[]);
size_t ss_workspace_bytes_ranks(const ss_structure *s, ss_op op,
				const int64_t dim[], int64_t ranks);
/* 0 where every input of e is plain: contiguous, and double, int64_t or
 * (where its spec reads_f32) float; else the room its inputs are
 * gathered into. ss_run sizes its workspaces with it. */
size_t ss_view_bytes(const ss_structure *s, const ss_element *e);

/*
 * The operations on one element e of s (lib/ops.c; ss_run runs them over a
 * batch), with a workspace of ss_workspace_bytes(s, op, e->dim) bytes,
 * 64-byte aligned. Outputs are those of the commands: log Z (-inf where no
 * structure exists), the marginals in the event layout, the best event
 * (all zero if none) and its score, num samples (sample k uses
 * ss_rng_init(seed, e->index, k); events and log-probabilities at the
 * given strides, in doubles), the entropy (NaN without a structure), the
 * score of an event (-inf for the all-zero event of an element that has
 * structures with parts; SS_EDATA if it is not a structure of e), the log
 * of the number of structures, and H(p, q) and KL(p ‖ q) of two elements.
 */
int ss_log_partition(const ss_structure *s, const ss_element *e, void *ws,
		     double *logz, ss_error *err);
int ss_marginals(const ss_structure *s, const ss_element *e, void *ws,
		 double *mu, double *logz, ss_error *err);
/* The same, and s's counts (ss_structure.counts) into counts where it is
 * not NULL. */
int ss_marginals_counts(const ss_structure *s, const ss_element *e,
			void *ws, double *mu, double *counts, double *logz,
			ss_error *err);
int ss_argmax(const ss_structure *s, const ss_element *e, void *ws,
	      double *event, double *score, ss_error *err);
int ss_sample(const ss_structure *s, const ss_element *e, void *ws,
	      uint64_t seed, int64_t num, double *events, size_t event_stride,
	      double *log_prob, size_t log_prob_stride, ss_error *err);
int ss_entropy(const ss_structure *s, const ss_element *e, void *ws,
	       double *entropy, ss_error *err);
/* The k best structures, best first (ties in a fixed order): events and
 * scores at the given strides; past the last structure, all-zero events
 * and -inf. Workspace: ss_workspace_bytes_ranks(s, SS_OP_TOP_K, dim, k). */
int ss_top_k(const ss_structure *s, const ss_element *e, void *ws,
	     int64_t k, double *events, size_t event_stride, double *scores,
	     size_t score_stride, ss_error *err);
/* For each entry of the event, the best score of a structure that has it
 * (-inf where none does), and the best score of all. */
int ss_max_marginals(const ss_structure *s, const ss_element *e, void *ws,
		     double *mm, double *best, ss_error *err);
int ss_score(const ss_structure *s, const ss_element *e, void *ws,
	     const double *event, double *score, ss_error *err);
int ss_log_count(const ss_structure *s, const ss_element *e, void *ws,
		 double *log_count, ss_error *err);
int ss_cross_entropy(const ss_structure *s, const ss_element *p,
		     const ss_element *q, void *ws, double *cross_entropy,
		     ss_error *err);
int ss_kl(const ss_structure *s, const ss_element *p, const ss_element *q,
	  void *ws, double *kl, ss_error *err);

/*
 * Gradients (--grad) of one element: the scalar result of op (partition,
 * log-prob, entropy, cross-entropy or kl: ss_ops[op].has_grad) into
 * result and, for every real input k with grads->p[k] (of P) or
 * grads->q[k] (of Q) not NULL, its derivative with respect to each entry
 * of the element's slice of input k, through the structure's own
 * normalisation and the temperature: ∂ log Z/∂θ = μ; ∂ log p(y)/∂θ =
 * parts(y) - μ; ∂H/∂θ = -Cov(parts, score), exact, by a second-order
 * pass (lib/chart_hvp.c); for kl and cross-entropy, Q's side μ_q - μ_p
 * and P's Cov(parts, s_p - s_q) and -Cov(parts, s_q). log-prob scores
 * num events at event_stride (doubles) into result at result_stride,
 * the gradients of event i at grads->p[k] + i * grads->stride[k];
 * the others num = 1. Entries never read are 0; so are all of an
 * element whose result is not finite. Workspace:
 * ss_grad_workspace_bytes.
 */
typedef struct ss_grads {
	double *p[SS_MAX_INPUTS], *q[SS_MAX_INPUTS];
	size_t stride[SS_MAX_INPUTS];
} ss_grads;

/* NULL where op has gradients for s with options option (NULL: the
 * defaults), else why not. */
const char *ss_grad_unsupported(const ss_structure *s, const int64_t *option,
				ss_op op);
size_t ss_grad_workspace_bytes(const ss_structure *s, ss_op op,
			       const int64_t dim[]);
int ss_grad(const ss_structure *s, ss_op op, const ss_element *p,
	    const ss_element *q, void *ws, const double *events, int64_t num,
	    size_t event_stride, double *result, size_t result_stride,
	    const ss_grads *grads, ss_error *err);

/*
 * The preparations of one element by itself (ss_run shares them between
 * the elements of a chunk): ss_prepare_bytes is the room they need,
 * ss_prepare writes them into buf (64-byte aligned, owned by the caller,
 * alive while e is used) and points e->prepared at them; on failure
 * (SS_EDATA, as validate would report) e->prepared is all NULL.
 */
size_t ss_prepare_bytes(const ss_structure *s, const int64_t dim[]);
int ss_prepare(const ss_structure *s, ss_element *e, void *buf,
	       ss_error *err);

/*
 * Runs op over the chunk with OpenMP threads (the caller sets their number).
 * Prepares each distinct input array once (elements[k].prepared is
 * ignored; the elements of a chunk have the same dim), then validates
 * and computes each element (an invalid one is not computed). On failure,
 * the outputs are partial; returns the error of the failing element of
 * lowest index (invalid or failing to compute) and stores that index (within the chunk)
 * in *failed, and in *failed_q whether it is an element of Q (failed_q may
 * be NULL); the message does not name the element.
 */
int ss_run(ss_op op, const ss_batch *batch, int64_t *failed, int *failed_q,
	   ss_error *err);

/*
 * Workspaces that ss_run keeps from one call to the next, one per OpenMP
 * thread, each grown where a call needs more: a run over many chunks then
 * touches its workspaces' pages once rather than once per chunk (a page's
 * first touch can cost more than the arithmetic done in it). The caller
 * frees them after its last ss_run with them; NULL (ss_workspaces_new
 * out of memory) does no harm, as in ss_batch: each call then allocates
 * its own.
 */
ss_workspaces *ss_workspaces_new(void);
void ss_workspaces_free(ss_workspaces *w);

#endif
