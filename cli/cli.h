/*
 * cli.h - the command-line front end: options, input and output, reports.
 * Everything that prints, exits or touches files lives under cli/.
 */
#ifndef SYNSTRUCT_CLI_H
#define SYNSTRUCT_CLI_H

#include <stdio.h>
#include <sys/types.h>
#include <hdf5.h>

#include "synstruct.h"

/* Exit statuses. */
enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2 };

/* The longest path of a file synstruct makes, terminator included. */
#define CLI_PATH_MAX 4096
/* The same, with room for a temporary's suffix ".tmp-XXXXXX". */
#define CLI_TEMP_MAX (CLI_PATH_MAX + 16)
/* The block in which a stream is copied. */
#define CLI_COPY_BLOCK (1 << 16)
/* The text of a batch multi-index "[i, j, ...]", cut to fit. */
#define CLI_INDEX_TEXT 200
/* The distinct structure flags (--undirected, ...) of all structures. */
#define CLI_MAX_FLAGS 16
/* One value in memory, of either kind: a double (SS_REAL) or an int64_t
 * (SS_INT). */
#define CLI_VALUE_BYTES 8
_Static_assert(sizeof(double) == CLI_VALUE_BYTES &&
	       sizeof(int64_t) == CLI_VALUE_BYTES,
	       "values in memory are 8 bytes");
/* The most axes of a dataset that synstruct reads. */
#define CLI_MAX_RANK 32

/* ---- reports (cli/report.c) ----------------------------------------------- */

/* "synstruct: error: ..." on stderr; the caller returns EXIT_DATA. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "synstruct: warning: ..." unless quiet. */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* While a thread holds messages (hold = 1), its errors and warnings are
 * kept, in order, instead of printed: release prints them, drop forgets
 * them (the I/O thread of cli/run.c; one thread holds at a time). */
void cli_hold_messages(int hold);
void cli_release_messages(void);
void cli_drop_messages(void);
extern int cli_quiet;
/* An HDF5 shape of up to CLI_MAX_RANK axes as int64_t, in out (returned),
 * for ss_format_index. */
const int64_t *cli_shape64(int rank, const hsize_t *shape,
			   int64_t out[CLI_MAX_RANK]);
/* "[4, 9, 5, 6]" for a shape. */
void cli_format_shape(char *buf, size_t size, int rank, const hsize_t *shape);

/* ---- options (cli/options.c) --------------------------------------------- */

typedef struct cli_options {
	ss_op op;
	const char *input;       /* path or "-" */
	const char *events;      /* the second operand: log-prob's EVENTS,
				  * cross-entropy's and kl's Q */
	const char *output;      /* NULL or "-": standard output */
	const char *format;      /* "jsonl", "hdf5" or NULL: from the output */
	const char *structure;   /* overrides the file's attribute */
	const char *group;
	const char *dataset;     /* log-prob: the events dataset */
	const char *flags[CLI_MAX_FLAGS]; /* structure flags given, each once:
					   * "undirected" */
	const char *flag_values[CLI_MAX_FLAGS]; /* their values (the last
						 * given), NULL for 0/1 flags */
	int n_flags;
	int threads;             /* 0: OpenMP's default */
	int64_t num_samples;
	int64_t top_k;           /* -k of top-k */
	uint64_t seed;
	double temperature;      /* --temperature: 1 unless given */
	size_t max_memory;
	int timing;
	int dense_events;        /* --events: dense events beside the decodes */
	int grad;                /* --grad: gradients beside the result */
	const char *input_format; /* "jsonl", "hdf5" or NULL: from the content */
	const char *dtype;       /* "float32", "float64" or NULL: the input's */
	int progress;            /* 1: --progress, -1: --no-progress, 0: auto */
} cli_options;

/*
 * Parses argv for one command (argv[0] is the command name). Returns
 * EXIT_OK, EXIT_USAGE after printing the problem, or -1 after printing the
 * command's help (the caller exits 0).
 */
int cli_parse(int argc, char **argv, ss_op op, cli_options *opt);
void cli_command_help(FILE *out, ss_op op);
void cli_global_help(FILE *out);

/* One line per command, for the global help. */
typedef struct cli_command {
	ss_op op;
	const char *operands;
	const char *summary;
} cli_command;

extern const cli_command cli_commands[SS_OP_COUNT];
const cli_command *cli_command_find(const char *name);
/* "linear-chain, hmm, ... or alignment": the structures, for messages. */
const char *cli_structure_names(char *buf, size_t size);

/* ---- input (cli/input.c) -------------------------------------------------- */

/* A JSON Lines file being read, one object per batch element (cli/jsonl.c). */
typedef struct jsonl_reader jsonl_reader;

/* One input dataset of the structure, opened. */
typedef struct in_dataset {
	int present;
	hid_t id;                   /* HDF5 inputs: the dataset, else < 0 */
	int rank, batch_rank;
	hsize_t shape[CLI_MAX_RANK];
	/* HDF5 inputs stored in one piece: the values where the file is
	 * mapped (in_open), which a chunk points into; NULL: read. */
	const char *mapped;
	void *map;                  /* the mapping, of map_len bytes */
	size_t map_len;
} in_dataset;

typedef struct in_file {
	const char *path;           /* as the user gave it */
	char temp_path[CLI_PATH_MAX]; /* standard input's copy, unlinked */
	hid_t file, group;          /* HDF5 inputs, else < 0 */
	jsonl_reader *jsonl;        /* JSON Lines inputs, else NULL */
	const ss_structure *structure;
	in_dataset ds[SS_MAX_INPUTS];
	int64_t dim[SS_DIM_COUNT];
	int64_t option[SS_MAX_OPTIONS];
	int batch_rank;
	hsize_t batch_shape[CLI_MAX_RANK];
	int64_t batch_count;
	int real_bits;              /* 64 if a real input is float64, else 32 */
} in_file;

/* Opens the input, finds its structure and options and checks every
 * dataset's shape, type and storage, without reading values. Returns 0,
 * or the exit status after reporting (-1 meaning EXIT_DATA). */
int in_open(in_file *in, const cli_options *opt);
/* An in_file that in_close may close without having been opened. */
void in_init(in_file *in);
void in_close(in_file *in);
/* Reads option k of in's structure from one source (the file's
 * attributes, the first JSON line) into in->option[k]: 0 when read and a
 * value of the option, 1 when absent, -1 after reporting a bad value. */
typedef int (*in_option_reader)(in_file *in, int k, const void *source);
/*
 * The structure's options: each its default, then what read finds in
 * source, then the command-line flag. Returns 0, EXIT_DATA after read
 * reported, or EXIT_USAGE for a flag the structure does not have or a
 * value its option does not take.
 */
int in_resolve_options(in_file *in, const cli_options *opt,
		       in_option_reader read, const void *source);

/* A chunk's input values and the elements that point into them. The
 * buffers stay with the chunk from one read to the next (in_chunk_room)
 * until in_chunk_free. */
typedef struct in_chunk {
	void *data[SS_MAX_INPUTS];
	size_t room[SS_MAX_INPUTS]; /* bytes at data[k] */
	/* bytes [from, to) of a mapped input's values that are the chunk's
	 * own (in_chunk_release) */
	size_t mapped_from[SS_MAX_INPUTS], mapped_to[SS_MAX_INPUTS];
	ss_element *elements;
} in_chunk;

int in_read_chunk(const in_file *in, int64_t start, int64_t count,
		  in_chunk *chunk);
/* chunk->data[k] with room for bytes, on cache lines: the buffer it had
 * when large enough (memory touched before: reading into fresh memory
 * costs a page fault per 4 KiB, measured 2 ms against 0.5 per 3 MiB
 * read), else a new one; NULL without memory. */
void *in_chunk_room(in_chunk *chunk, int k, size_t bytes);
/* Unmaps the pages of mapped inputs that only the chunk's elements read,
 * once they are done with (the file's pages stay cached): a run's
 * resident memory then stays bounded by its chunks, not the file. */
void in_chunk_release(const in_file *in, in_chunk *chunk);
/* The flat batch index, within dataset ds of a file of in's batch shape,
 * of the entry that batch element b reads (numpy broadcasting). */
int64_t in_source_index(const in_file *in, const in_dataset *ds, int64_t b);
/* Whether ds has the batch's own axes (else it is shared or broadcast). */
int in_batch_shaped(const in_file *in, const in_dataset *ds);
void in_chunk_free(in_chunk *chunk);

/*
 * Opens INPUT or EVENTS by path. Standard input ("-") and other files that
 * are not regular (a FIFO, a shell's <(...)) are first copied to an unlinked
 * temporary file. The content is JSON Lines when format is "jsonl", or when
 * format is NULL and its first non-blank byte is '{': then *json is set,
 * else the HDF5 file *file. Returns 0, or -1 after reporting.
 */
int in_open_source(const char *path, const char *format, char *temp_path,
		   size_t temp_size, hid_t *file, jsonl_reader **json);
/* Reads [start, start + count) of the flat batch index of a dataset whose
 * leading batch_rank axes are batch axes, each element holding
 * element_size values of memtype. */
int h5_read_flat(hid_t dset, hid_t memtype, int batch_rank,
		 const hsize_t *shape, int rank, int64_t start, int64_t count,
		 void *buf);
/* Selects that flat batch range in a file space. */
void h5_select_flat(hid_t space, int batch_rank, const hsize_t *shape,
		    int rank, int64_t start, int64_t count);
/* The rank and shape of a dataset; more than CLI_MAX_RANK axes is
 * reported and -1. */
int h5_dataset_shape(hid_t dset, const char *file, const char *name,
		     int *rank, hsize_t *shape);
/* Refuses a dataset whose data was never (fully) written. */
int h5_check_storage(hid_t dset, const char *file, const char *name);

/* ---- events for log-prob (cli/events.c) ---------------------------------- */

/*
 * The structures log-prob scores: one dataset of the EVENTS file, holding
 * either dense events [S?, *b, event] (float, integer or boolean) or the
 * structure's first compact decode [S?, *b, decode] (integer), with an
 * optional leading sample axis of num.
 */
typedef struct in_events {
	const char *path;
	hid_t file, dset;
	char temp_path[CLI_PATH_MAX];
	char name[128];
	int is_decode;          /* the dataset is a compact decode */
	int is_enum;            /* boolean (an HDF5 enum over an integer) */
	/* Dense events of a structure with event_tags: the second part,
	 * "<name>_tags", of size_tags values per (sample, element) (0:
	 * none), read beside the first into the flat event. */
	char tags_name[140];
	hid_t dset_tags;
	int tags_is_enum, rank_tags;
	hsize_t shape_tags[CLI_MAX_RANK];
	int64_t size_tags;
	int has_sample_axis;
	int64_t num;            /* leading sample axis size, 1 if none */
	int64_t size;           /* values per (sample, element) of name */
	jsonl_reader *jsonl;    /* JSON Lines events, else NULL */
	int rank;
	hsize_t shape[CLI_MAX_RANK];
} in_events;

int in_events_open(in_events *ev, const in_file *in, const cli_options *opt);
/* 1 for the names of synstruct's own dense events: argmax, samples, topk.
 * A dataset so named is read as events, one named as the structure's
 * decode as the decode, any other as whichever its shape fits. */
int in_event_name(const char *name);
/* Reads the dense events [num][count][ss_event_size] of the chunk's elements
 * [start, start + count), encoding compact decodes; reports and returns -1
 * on failure. */
int in_events_read(const in_events *ev, const in_file *in, int64_t start,
		   int64_t count, const ss_element *elements, double *buf);
void in_events_close(in_events *ev);

/* ---- JSON Lines inputs (cli/jsonl.c) --------------------------------------- */

/* Takes f (closed by jsonl_reader_free); NULL after reporting. */
jsonl_reader *jsonl_reader_new(FILE *f, const char *path);
void jsonl_reader_free(jsonl_reader *r);
/* Sets in's structure, options, datasets and batch from the first object;
 * in->jsonl = r. Returns 0, or the exit status after reporting. */
int jsonl_open(in_file *in, const cli_options *opt, jsonl_reader *r);
/* Reads the next count objects into chunk (elements already made). */
int jsonl_read_chunk(const in_file *in, int64_t count, in_chunk *chunk);
/* Chooses the events' member, dense or decode, from the first object. */
int jsonl_events_open(in_events *ev, const in_file *in,
		      const cli_options *opt, jsonl_reader *r);
/* Reads the next count objects' events or decodes, [num][count][size +
 * size_tags] doubles or int64 as ev->is_decode says. */
int jsonl_events_read(const in_events *ev, const in_file *in, int64_t count,
		      void *values);

/* ---- destinations, temporary files, signals, progress (cli/dest.c) ------ */

typedef enum dest_kind {
	DEST_STDOUT,    /* standard output, or a path that is the same file */
	DEST_FILE,      /* a regular or new file: a temporary renamed over it */
	DEST_DIRECT,    /* not a regular file: written directly at the end */
	DEST_KIND_COUNT
} dest_kind;

/* Where the output goes (SPEC §6). */
typedef struct cli_dest {
	dest_kind kind;
	const char *name;             /* for messages: -o's PATH, or "-" */
	int hdf5;                     /* the format: HDF5, else JSON Lines */
	int fd;                       /* FILE: the temporary, until out_open
				       * takes it; DIRECT: once opened */
	int fifo, closed;
	mode_t mode;                  /* FILE: given to the file renamed */
	char target[CLI_PATH_MAX];    /* FILE: the file replaced, links
				       * followed; DIRECT: the path */
	char temp[CLI_TEMP_MAX];      /* FILE: the registered temporary */
} cli_dest;

/*
 * Classifies -o's destination and refuses, before any input is read, a
 * directory, one of the inputs and HDF5 for a terminal (EXIT_USAGE), or a
 * temporary file that cannot be made (EXIT_DATA); reports, and returns the
 * exit status. Installs the signal handlers. dest_close must follow, even
 * after a failure.
 */
int dest_open(cli_dest *d, const cli_options *opt);
/* Writes bytes held back to a DEST_STDOUT or DEST_DIRECT destination. */
int dest_write(cli_dest *d, const void *buf, size_t size);
/* Renames the temporary into place (commit = 1) or removes it; closes a
 * direct destination. Reports and returns -1 on failure; idempotent. */
int dest_close(cli_dest *d, int commit);
/* 1 if path ends in .h5, .hdf5, .hdf or .he5, in any case. */
int cli_hdf5_name(const char *path);

/*
 * Named temporary files, removed by SIGINT, SIGTERM, SIGHUP and SIGPIPE.
 * cli_temp_create: mkstemp on the template path, registered; returns the
 * descriptor or -1 with errno. cli_temp_rename renames one into place (0,
 * or -1 with errno, the file kept); cli_temp_remove unlinks it.
 */
void cli_signals_init(void);
int cli_temp_create(char *path);
int cli_temp_rename(const char *path, const char *to);
void cli_temp_remove(const char *path);

/*
 * The progress line on stderr: elements done of total, rate, time left.
 * Shown with --progress, or when stderr is a terminal and a second has
 * passed, unless --no-progress or -q. cli_progress_clear blanks it before
 * a message (the next update redraws it); cli_progress_end blanks it for
 * good.
 */
void cli_progress_start(const cli_options *opt, int64_t total);
void cli_progress_update(int64_t done);
void cli_progress_clear(void);
void cli_progress_end(void);

/* ---- output (cli/output.c) ------------------------------------------------ */

/* How an output array is stored. */
typedef enum out_type { OUT_F32, OUT_F64, OUT_U8, OUT_I32 } out_type;

/* The most output datasets of a command: its arrays, an event's second
 * part (<name>_tags) beside each event, and with --grad the gradients of
 * every input of P and of Q. */
#define OUT_MAX_ARRAYS (2 * SS_MAX_OP_ARRAYS + 2 * SS_MAX_INPUTS)

/* The arrays of out_write_chunk's data[]: the op's outputs (ss_batch.out),
 * then the gradients of P's inputs (ss_batch.grad), then Q's (grad_q). */
#define OUT_SOURCE_GRAD SS_MAX_OP_ARRAYS
#define OUT_SOURCE_GRAD_Q (SS_MAX_OP_ARRAYS + SS_MAX_INPUTS)
#define OUT_MAX_SOURCES (SS_MAX_OP_ARRAYS + 2 * SS_MAX_INPUTS)

/* One output array: name, its values in memory (double for SS_REAL, int64
 * for SS_INT) at data[source] of out_write_chunk, how it is stored, and its
 * shape per element. Each element's values are the size values at offset
 * of its stride values in data[source] (an event's parts share one array).
 * sum_over is NULL, or the input dataset (of a file of the input's batch
 * shape) whose gradient this is where it has fewer batch axes than the
 * batch (shared, or broadcast): HDF5 then stores it in that dataset's
 * shape, [S?, dataset], each entry the sum, in element order, of the
 * values of the elements that share it; JSON Lines gives each element its
 * own values. */
typedef struct out_array {
	const char *name;
	ss_kind kind;
	out_type type;
	int source;
	int rank;
	hsize_t shape[SS_MAX_EVENT_RANK];
	int64_t size, offset, stride;
	const in_dataset *sum_over;
} out_array;

typedef struct out_writer out_writer;

/*
 * Opens the output into dest: HDF5 (datasets of shape [S?, *b, array]) or
 * JSON Lines. has_sample_axis adds the leading axis of num_samples.
 */
out_writer *out_open(const cli_options *opt, cli_dest *dest,
		     const in_file *in, const out_array *arrays, int n_arrays,
		     int has_sample_axis, int64_t num_samples);
/* Writes the chunk [start, start + count): data[k] laid out
 * [samples][count][size] (k an out_array's source). Chunks come in batch
 * order. */
int out_write_chunk(out_writer *w, int64_t start, int64_t count,
		    void *const data[]);
/* Turns a computed chunk's float32 results (data as out_write_chunk
 * takes it) into floats where they lie, where the writer will write them
 * so; call it once per chunk, before out_write_chunk. Touches no HDF5
 * state: it may run beside another thread's write. */
void out_narrow(const out_writer *w, int64_t count, void *const data[]);
/* Finishes the output: the sums of sum_over arrays and what was held back
 * go to the destination (commit = 1) or are dropped (commit = 0).
 * dest_close then renames or removes the file. */
int out_close(out_writer *w, int commit);

/* ---- the command driver (cli/run.c) -------------------------------------- */

int cli_run(const cli_options *opt);

#endif
