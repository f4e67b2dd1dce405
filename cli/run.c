/*
 * run.c - one command from input to output.
 *
 *   check the destination (cli/dest.c), before any input is read
 *   open and check the input (and the events of log-prob)
 *   plan chunks of the batch that fit the memory budget (with --grad,
 *     counting the gradients of every real input, per element, and the
 *     sums of those of datasets the elements share)
 *   for each chunk: read (one thread), compute (OpenMP, each thread in a
 *     workspace kept from chunk to chunk), write (one thread), then update
 *     the progress line; the reads and writes of the chunks
 *     around the one being computed overlap it (run_chunks)
 *   commit the output, then warn about elements with no structure
 */
#include <pthread.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <omp.h>
#include <cjson/cJSON.h>

#include "cli.h"

/* Elements without a structure that the warning names. */
#define EMPTY_NAMED 8
/* Chunks small enough to stay in memory already touched (on a virtual
 * machine the first touch of a page costs more than the arithmetic) and
 * for the I/O thread to overlap most of the reading. Measured on a 64 MiB
 * float32 chain, 2 cores: partition at -j 1 50 ms with 32 MiB chunks, 34
 * with 8 (h5py reads the file in 34); at -j 2 43 and 31. */
#define CHUNK_TARGET_BYTES ((double)(8u << 20))

typedef struct run_state {
	const cli_options *opt;
	in_file in;
	in_file in_q;     /* cross-entropy and kl: Q (in is P) */
	in_events ev;
	out_array arrays[OUT_MAX_ARRAYS];
	int n_arrays, has_sample_axis;
	/* --grad: the gradients' names, grad_<dataset> (two-problem ops:
	 * grad_p_ and grad_q_), by source - OUT_SOURCE_GRAD */
	char grad_names[2 * SS_MAX_INPUTS][80];
	int64_t num_samples, event_size;
	int64_t chunk;
	int overlap;      /* I/O beside the computation (run_chunks) */
	ss_workspaces *workspaces; /* the computing threads', kept from chunk to chunk */
	/* elements with no structure: how many, and the first few */
	int64_t n_empty, first_empty[EMPTY_NAMED];
	double t_read, t_compute, t_write;
} run_state;

/* Whether real results are stored as float64 (else float32). */
static int real64(const run_state *r)
{
	return r->opt->dtype ? !strcmp(r->opt->dtype, "float64")
			     : r->in.real_bits == 64;
}

/* Adds the dataset name of axes spec, the values at offset of output
 * array k (stride values per element), stored as the flags say. */
static void add_output(run_state *r, const char *name,
		       const ss_array_spec *spec, unsigned flags, int k,
		       int64_t offset, int64_t stride)
{
	out_array *a = &r->arrays[r->n_arrays++];
	a->name = name;
	a->kind = spec->kind;
	a->type = spec->kind == SS_INT ? OUT_I32
		  : flags & SS_OUT_INDICATOR ? OUT_U8
		  : real64(r) ? OUT_F64 : OUT_F32;
	a->source = k;
	a->rank = spec->rank;
	a->size = 1;
	for (int d = 0; d < spec->rank; d++) {
		a->shape[d] = (hsize_t)r->in.dim[spec->dims[d]];
		a->size *= (int64_t)a->shape[d];
	}
	a->offset = offset;
	a->stride = stride;
}

/* Whether input k of in gets a gradient: a real dataset that is present. */
static int has_grad_input(const in_file *in, int k)
{
	return in->ds[k].present && in->structure->inputs[k].kind == SS_REAL;
}

/*
 * With --grad, the gradient of each real input k of in (q: Q's): named
 * grad_<dataset>, or grad_p_/grad_q_ for two-problem ops, in the input's
 * per-element shape, summed over the elements that share an entry where
 * the dataset has fewer batch axes than the batch.
 */
static void add_grad_outputs(run_state *r, const in_file *in, int q)
{
	const ss_structure *st = in->structure;
	const int two = ss_ops[r->opt->op].operands == SS_TWO_PROBLEMS;
	for (int k = 0; k < st->n_inputs; k++) {
		const ss_input_spec *spec = &st->inputs[k];
		int source = (q ? OUT_SOURCE_GRAD_Q : OUT_SOURCE_GRAD) + k;
		char *name = r->grad_names[source - OUT_SOURCE_GRAD];
		out_array *a;
		if (!has_grad_input(in, k))
			continue;
		snprintf(name, sizeof r->grad_names[0], "grad_%s%s",
			 !two ? "" : q ? "q_" : "p_", spec->name);
		a = &r->arrays[r->n_arrays++];
		memset(a, 0, sizeof *a);
		a->name = name;
		a->kind = SS_REAL;
		a->type = real64(r) ? OUT_F64 : OUT_F32;
		a->source = source;
		a->rank = spec->rank;
		for (int d = 0; d < spec->rank; d++)
			a->shape[d] = (hsize_t)in->dim[spec->dims[d]];
		a->size = a->stride = ss_input_size(st, k, in->dim);
		a->sum_over = in_batch_shaped(in, &in->ds[k]) ? NULL
							     : &in->ds[k];
	}
}

/* The arrays to write: every output of the op but those written on
 * request only, each stored compactly (SPEC §3): reals in the input's
 * floating type or --dtype, indicator events uint8, decodes int32. The
 * two parts of an event are two datasets, <name> and <name>_tags. */
static void describe_outputs(run_state *r)
{
	const ss_structure *st = r->in.structure;
	ss_op op = r->opt->op;
	r->n_arrays = 0;
	for (int k = 0; k < ss_op_output_count(st, op); k++) {
		const ss_array_spec *spec = ss_op_output_array(st, op, k);
		const char *tags = ss_op_output_tags(st, op, k);
		unsigned flags = ss_op_output_flags(st, op, k);
		int64_t stride = ss_op_output_size(st, op, k, r->in.dim);
		if ((flags & SS_OUT_ON_REQUEST) && !r->opt->dense_events)
			continue;
		add_output(r, ss_op_output_name(st, op, k), spec, flags, k, 0,
			   stride);
		if (tags)
			add_output(r, tags, &st->event_tags, flags, k,
				   ss_array_size(spec, r->in.dim), stride);
	}
	if (r->opt->grad) {
		add_grad_outputs(r, &r->in, 0);
		if (ss_ops[op].operands == SS_TWO_PROBLEMS)
			add_grad_outputs(r, &r->in_q, 1);
	}
	r->event_size = ss_event_size(st, r->in.dim);
}

static void format_bytes(char *buf, size_t size, double bytes)
{
	const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	int u = 0;
	while (bytes >= 1024 && u < 6) {
		bytes /= 1024;
		u++;
	}
	snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

/* Values in the product of an array's axes, in double: no overflow. */
static double array_values(const ss_array_spec *spec, const int64_t dim[])
{
	double values = 1;
	for (int d = 0; d < spec->rank; d++)
		values *= (double)dim[spec->dims[d]];
	return values;
}

/* The same for the flat event of st, both parts. */
static double event_values(const ss_structure *st, const int64_t dim[])
{
	return array_values(&st->event, dim) +
	       (st->event_tags.name ? array_values(&st->event_tags, dim) : 0);
}

/* Whether an array of this many values can be sized in integers. */
static int array_fits(double values)
{
	return values < 9e15;
}

/*
 * Whether reading and writing run in a thread of their own, beside the
 * computation: SYNSTRUCT_IO_THREAD=1 or 0 says; unset, where a core is
 * left beside the computing threads (measured on 2 cores: with one
 * computing thread the overlap saves 7%; with two, the I/O thread slows
 * the computation by more than it saves).
 */
static int io_thread_wanted(int threads)
{
	const char *env = getenv("SYNSTRUCT_IO_THREAD");
	if (env && *env)
		return strcmp(env, "0") != 0;
	return threads < omp_get_num_procs();
}

/* The bytes of memory a run holds: per batch element, once per chunk
 * (shared datasets), and for the whole run (--grad's sums). */
typedef struct run_bytes {
	double per_element, shared, sums;
} run_bytes;

/* The bytes of the inputs, outputs and gradients; in doubles, so that
 * absurd shapes cannot overflow. */
static run_bytes count_bytes(const run_state *r)
{
	const in_file *in = &r->in;
	const ss_structure *st = in->structure;
	const ss_op op = r->opt->op;
	const double samples = (double)r->num_samples;
	double per_element = sizeof(ss_element), shared = 0;
	double sums = 0; /* --grad: the sums of shared datasets' gradients */

	/* A dataset without batch axes (one hmm for every sentence) is read
	 * and prepared once per chunk; the others once per element. Q's
	 * datasets count as P's. With --grad, every element has its own
	 * gradient of each real dataset (per sample), and a dataset that
	 * elements share has one sum of them for the whole run. */
	for (int k = 0; k < 2 * st->n_inputs; k++) {
		const in_file *of = k < st->n_inputs ? in : &r->in_q;
		const in_dataset *ds = &of->ds[k % st->n_inputs];
		double values = 1, sources = 1, bytes;
		if (!ds->present)
			continue;
		for (int d = 0; d < ds->batch_rank; d++)
			sources *= (double)ds->shape[d];
		for (int d = ds->batch_rank; d < ds->rank; d++)
			values *= (double)ds->shape[d];
		if (r->opt->grad && has_grad_input(of, k % st->n_inputs)) {
			per_element += CLI_VALUE_BYTES * samples * values;
			if (!in_batch_shaped(of, ds))
				sums += CLI_VALUE_BYTES * samples * sources *
					values;
		}
		bytes = CLI_VALUE_BYTES * values;
		if (st->prepare_bytes && array_fits(values))
			bytes += (double)st->prepare_bytes(k % st->n_inputs,
							   in->dim);
		if (sources == 1)
			shared += bytes;
		else
			per_element += bytes;
	}
	for (int k = 0; k < ss_op_output_count(st, op); k++) {
		const ss_array_spec *spec = ss_op_output_array(st, op, k);
		per_element += CLI_VALUE_BYTES * samples *
			       (spec == &st->event ? event_values(st, in->dim)
						   : array_values(spec, in->dim));
	}
	if (ss_ops[op].operands == SS_WITH_EVENTS)
		per_element += CLI_VALUE_BYTES * samples *
			       event_values(st, in->dim);
	return (run_bytes){per_element, shared, sums};
}

/*
 * Sizes the chunks; refuses an element larger than the memory budget.
 * Runs before any size is formed in integers, so absurd shapes cannot
 * overflow.
 */
static int plan_chunks(run_state *r)
{
	const in_file *in = &r->in;
	const ss_structure *st = in->structure;
	const ss_op op = r->opt->op;
	const double budget = (double)r->opt->max_memory;
	const run_bytes held = count_bytes(r);
	const double per_element = held.per_element, shared = held.shared;
	const double sums = held.sums;
	double workspace = 0;
	int threads = omp_get_max_threads();
	char need[32], have[32];

	/* The workspace is of the element's order: size it once that fits.
	 * The sums count with it: they are held for the whole run. */
	if (per_element + shared + sums <= budget) {
		size_t ws = ss_workspace_bytes_ranks(st, op, in->dim,
						     r->num_samples);
		if (r->opt->grad && ss_grad_workspace_bytes(st, op, in->dim) > ws)
			ws = ss_grad_workspace_bytes(st, op, in->dim);
		workspace = (double)threads * (double)ws + sums;
	} else {
		workspace = sums;
	}
	if (per_element + shared + workspace > budget) {
		format_bytes(need, sizeof need, per_element + shared + workspace);
		format_bytes(have, sizeof have, budget);
		cli_error("'%s': one batch element needs %s, more than --max-memory (%s)",
			  in->path, need, have);
		return -1;
	}
	/* Three chunks are in memory at once when reading and writing
	 * overlap the computation (run_chunks); else one. */
	double left = (budget - workspace - 3 * shared) / 3;
	r->overlap = io_thread_wanted(threads) && left >= per_element &&
		     in->batch_count > 1;
	if (!r->overlap)
		left = budget - workspace - shared;
	double fit = (left < CHUNK_TARGET_BYTES ? left : CHUNK_TARGET_BYTES) /
		     per_element;
	double at_least = threads * per_element <= left ? threads : 1;
	if (fit < at_least)
		fit = at_least;
	r->chunk = fit > (double)in->batch_count ? in->batch_count
						 : (int64_t)fit;
	if (r->chunk < 1)
		r->chunk = 1;
	return 0;
}

/* Reports the error of a failed element, naming the file and element. */
static void report_element_error(const run_state *r, int64_t element,
				 int in_q, const ss_error *err)
{
	char where[256] = "";
	const char *file = in_q ? r->in_q.path : r->in.path;
	char prefix[300] = "";
	if (r->in.batch_rank > 0) {
		char idx[CLI_INDEX_TEXT];
		int64_t shape[CLI_MAX_RANK];
		ss_format_index(idx, sizeof idx, element, r->in.batch_rank,
				cli_shape64(r->in.batch_rank,
					    r->in.batch_shape, shape));
		snprintf(where, sizeof where, " in batch element %s", idx);
	}
	if (ss_ops[r->opt->op].operands == SS_WITH_EVENTS &&
	    !strncmp(err->message, "event", 5)) {
		file = r->opt->events;
		snprintf(prefix, sizeof prefix, "dataset '%s': ", r->ev.name);
	}
	cli_error("'%s': %s%s%s", file, prefix, err->message, where);
}

static void note_empty(run_state *r, const unsigned char *empty,
		       int64_t start, int64_t count)
{
	for (int64_t i = 0; i < count; i++) {
		if (!empty[i])
			continue;
		if (r->n_empty < EMPTY_NAMED)
			r->first_empty[r->n_empty] = start + i;
		r->n_empty++;
	}
}

static void warn_empty(const run_state *r)
{
	char list[512] = "";
	size_t used = 0;
	int64_t shape[CLI_MAX_RANK];
	if (r->n_empty == 0)
		return;
	cli_shape64(r->in.batch_rank, r->in.batch_shape, shape);
	for (int64_t k = 0; k < r->n_empty && k < EMPTY_NAMED &&
			    used < sizeof list; k++) {
		char idx[CLI_INDEX_TEXT];
		ss_format_index(idx, sizeof idx, r->first_empty[k],
				r->in.batch_rank, shape);
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
					 k ? ", " : "", idx);
	}
	/* cross-entropy and kl: P's element, or Q's, has none */
	char files[2 * CLI_PATH_MAX + 8];
	if (ss_ops[r->opt->op].operands == SS_TWO_PROBLEMS)
		snprintf(files, sizeof files, "'%s' or '%s'", r->in.path,
			 r->in_q.path);
	else
		snprintf(files, sizeof files, "'%s'", r->in.path);
	cli_warning("%s: no structure for %lld of %lld element%s: %s%s",
		    files, (long long)r->n_empty,
		    (long long)r->in.batch_count,
		    r->in.batch_count == 1 ? "" : "s", list,
		    r->n_empty > EMPTY_NAMED ? ", ..." : "");
}

/* An option's value as a user writes it: an enum's name, else the number. */
static void option_text(const ss_option_spec *spec, int64_t value, char *buf,
			size_t size)
{
	if (spec->kind == SS_OPTION_ENUM)
		snprintf(buf, size, "%s", spec->choices[value]);
	else
		snprintf(buf, size, "%lld", (long long)value);
}

/*
 * Opens Q, the second operand of cross-entropy and kl, and checks that it
 * is a problem of P's structure, options, dimensions and batch shape.
 */
static int open_q(run_state *r)
{
	cli_options opt_q = *r->opt;
	const in_file *p = &r->in, *q = &r->in_q;
	char a[256], b[256];
	int rc;
	opt_q.input = r->opt->events;
	if ((rc = in_open(&r->in_q, &opt_q)) != 0)
		return rc;
	if (q->structure != p->structure) {
		cli_error("'%s': a %s, but '%s' is a %s; P and Q must be distributions of one kind",
			  q->path, q->structure->name, p->path,
			  p->structure->name);
		return -1;
	}
	for (int k = 0; k < p->structure->n_options; k++)
		if (p->option[k] != q->option[k]) {
			const ss_option_spec *spec = &p->structure->options[k];
			char vq[64], vp[64];
			option_text(spec, q->option[k], vq, sizeof vq);
			option_text(spec, p->option[k], vp, sizeof vp);
			cli_error("'%s': option '%s' is %s, but %s in '%s'; P and Q must be distributions of one kind",
				  q->path, spec->name, vq, vp, p->path);
			return -1;
		}
	for (int d = 0; d < SS_DIM_COUNT; d++)
		if (p->dim[d] != q->dim[d]) {
			cli_error("'%s': %s = %lld, but %lld in '%s'; P and Q must have the same shapes",
				  q->path, ss_dim_names[d], (long long)q->dim[d],
				  (long long)p->dim[d], p->path);
			return -1;
		}
	cli_format_shape(a, sizeof a, p->batch_rank, p->batch_shape);
	cli_format_shape(b, sizeof b, q->batch_rank, q->batch_shape);
	if (strcmp(a, b)) {
		cli_error("'%s': batch shape %s, but %s in '%s'; P and Q must have the same shapes",
			  q->path, b, a, p->path);
		return -1;
	}
	return 0;
}

/*
 * The chunks run as a pipeline: while OpenMP computes chunk k, one I/O
 * thread writes chunk k - 1 and then reads chunk k + 1. Every HDF5 call
 * (and every read of a JSON Lines stream) is made by one thread at a time,
 * in chunk order, as HDF5 requires; the output is the same bytes as a
 * run without overlap. A chunk's buffers live in a slot; three slots
 * rotate. What the I/O thread would print is held back (report.c) and
 * printed after the join, so that messages keep the order of a run
 * without overlap: the write of k - 1, then the computation of k, then
 * the read of k + 1.
 */
typedef struct chunk_slot {
	int64_t start, count;
	in_chunk chunk, chunk_q;
	double *events;
	ss_batch batch;
} chunk_slot;

/* Frees what slot c holds but its input buffers, which the slot's next
 * chunk reads into (in_chunk_room); slot_free frees those too. */
static void slot_clear(run_state *r, chunk_slot *c)
{
	const int n_out = ss_op_output_count(r->in.structure, r->opt->op);
	in_chunk_release(&r->in, &c->chunk);
	in_chunk_release(&r->in_q, &c->chunk_q);
	const in_chunk chunk = c->chunk, chunk_q = c->chunk_q;
	for (int k = 0; k < n_out; k++)
		free(c->batch.out[k]);
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		free(c->batch.grad[k]);
		free(c->batch.grad_q[k]);
	}
	free(c->batch.empty);
	free(c->events);
	free(chunk.elements);
	free(chunk_q.elements);
	memset(c, 0, sizeof *c);
	memcpy(c->chunk.data, chunk.data, sizeof chunk.data);
	memcpy(c->chunk.room, chunk.room, sizeof chunk.room);
	memcpy(c->chunk_q.data, chunk_q.data, sizeof chunk_q.data);
	memcpy(c->chunk_q.room, chunk_q.room, sizeof chunk_q.room);
}

static void slot_free(run_state *r, chunk_slot *c)
{
	slot_clear(r, c);
	in_chunk_free(&c->chunk);
	in_chunk_free(&c->chunk_q);
}

/* Faults in the pages of buf[bytes] by writing a 0 at the start of each
 * (calloc's are zero already, malloc's are about to be written). */
static void touch_pages(void *buf, size_t bytes)
{
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	for (size_t at = 0; at < bytes; at += page)
		((volatile char *)buf)[at] = 0;
}

/* Reads [start, start + count) into c, with room for its outputs. */
static int chunk_read(run_state *r, chunk_slot *c, int64_t start,
		      int64_t count)
{
	const ss_structure *st = r->in.structure;
	const ss_op op = r->opt->op;
	const int n_out = ss_op_output_count(st, op);
	double t0 = omp_get_wtime();
	int rc = -1;

	c->start = start;
	c->count = count;
	if (in_read_chunk(&r->in, start, count, &c->chunk))
		goto done;
	if (ss_ops[op].operands == SS_TWO_PROBLEMS &&
	    in_read_chunk(&r->in_q, start, count, &c->chunk_q))
		goto done;
	if (ss_ops[op].operands == SS_WITH_EVENTS) {
		c->events = malloc((size_t)(r->num_samples * count *
					    r->event_size) * sizeof(double) + 64);
		if (!c->events || in_events_read(&r->ev, &r->in, start, count,
						 c->chunk.elements, c->events))
			goto done;
	}
	for (int64_t i = 0; i < count; i++) {
		c->chunk.elements[i].temperature = r->opt->temperature;
		if (c->chunk_q.elements)
			c->chunk_q.elements[i].temperature = r->opt->temperature;
	}
	c->batch.structure = st;
	c->batch.workspaces = r->workspaces;
	c->batch.elements = c->chunk.elements;
	c->batch.elements_q = c->chunk_q.elements;
	c->batch.count = count;
	c->batch.num_samples = r->num_samples;
	c->batch.seed = r->opt->seed;
	c->batch.events = c->events;
	c->batch.empty = calloc((size_t)count + 1, 1);
	if (!c->batch.empty) {
		cli_error("cannot allocate a chunk of %lld elements",
			  (long long)count);
		goto done;
	}
	/* not zeroed: ss_run writes every value of its outputs (zeroing
	 * them would be a pass over memory the size of the results); but
	 * each page is touched here, beside the computation rather than in
	 * it (marginals of a 64 MiB chain: the first chunks computed in
	 * 1.2 ms instead of 0.33, faulting their pages in) */
	for (int k = 0; k < n_out; k++) {
		int64_t size = ss_op_output_size(st, op, k, r->in.dim);
		size_t bytes = ((size_t)(r->num_samples * count * size) + 8) *
			       CLI_VALUE_BYTES;
		c->batch.out[k] = malloc(bytes);
		if (!c->batch.out[k]) {
			cli_error("cannot allocate the output '%s'",
				  ss_op_output_name(st, op, k));
			goto done;
		}
		touch_pages(c->batch.out[k], bytes);
	}
	/* --grad: [samples][count][input size] for each array written */
	for (int k = 0; k < r->n_arrays; k++) {
		const out_array *a = &r->arrays[k];
		double **grad = a->source >= OUT_SOURCE_GRAD_Q
			? &c->batch.grad_q[a->source - OUT_SOURCE_GRAD_Q]
			: a->source >= OUT_SOURCE_GRAD
			? &c->batch.grad[a->source - OUT_SOURCE_GRAD] : NULL;
		if (!grad)
			continue;
		*grad = calloc((size_t)(r->num_samples * count * a->size) + 8,
			       sizeof(double));
		if (!*grad) {
			cli_error("cannot allocate the output '%s'", a->name);
			goto done;
		}
		touch_pages(*grad, ((size_t)(r->num_samples * count * a->size) + 8) *
					   sizeof(double));
	}
	rc = 0;
done:
	r->t_read += omp_get_wtime() - t0;
	return rc;
}

static int chunk_compute(run_state *r, chunk_slot *c)
{
	int64_t failed;
	int failed_q;
	ss_error err;
	double t0 = omp_get_wtime();
	int rc = 0;

	if (ss_run(r->opt->op, &c->batch, &failed, &failed_q, &err)) {
		if (failed >= 0)
			report_element_error(r, c->start + failed, failed_q, &err);
		else
			cli_error("'%s': %s", r->in.path, err.message);
		rc = -1;
	} else {
		note_empty(r, c->batch.empty, c->start, c->count);
	}
	r->t_compute += omp_get_wtime() - t0;
	return rc;
}

/* The chunk's results by out_array source. */
static void chunk_data(chunk_slot *c, void *data[OUT_MAX_SOURCES])
{
	for (int k = 0; k < SS_MAX_OP_ARRAYS; k++)
		data[k] = c->batch.out[k];
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		data[OUT_SOURCE_GRAD + k] = c->batch.grad[k];
		data[OUT_SOURCE_GRAD_Q + k] = c->batch.grad_q[k];
	}
}

/* Narrows the computed chunk's float32 results where they lie
 * (out_narrow), beside the I/O thread rather than on it; returns the
 * seconds taken, counted as writing. */
static double chunk_narrow(out_writer *w, chunk_slot *c)
{
	double t0 = omp_get_wtime();
	void *data[OUT_MAX_SOURCES];
	chunk_data(c, data);
	out_narrow(w, c->count, data);
	return omp_get_wtime() - t0;
}

static int chunk_write(run_state *r, out_writer *w, chunk_slot *c)
{
	double t0 = omp_get_wtime();
	void *data[OUT_MAX_SOURCES];
	chunk_data(c, data);
	int rc = out_write_chunk(w, c->start, c->count, data);
	r->t_write += omp_get_wtime() - t0;
	return rc;
}

/* The I/O thread's work beside the computation of one chunk. */
typedef struct io_job {
	run_state *r;
	out_writer *w;
	chunk_slot *write, *read;  /* NULL: nothing to do */
	int64_t start, count;      /* of the read */
	int write_failed, read_failed;
	double t_read, t_write;
} io_job;

static void *io_run(void *arg)
{
	io_job *j = arg;
	cli_hold_messages(1);
	if (j->write)
		j->write_failed = chunk_write(j->r, j->w, j->write) != 0;
	if (j->read && !j->write_failed)
		j->read_failed = chunk_read(j->r, j->read, j->start, j->count) != 0;
	cli_hold_messages(0);
	return NULL;
}

/* Elements of the chunk that starts at start. */
static int64_t chunk_count(const run_state *r, int64_t start)
{
	return r->in.batch_count - start < r->chunk ? r->in.batch_count - start
						    : r->chunk;
}

/* Reads, computes and writes every chunk: in turn when overlap is 0 or
 * there is one chunk, else as the pipeline above. */
static int run_chunks(run_state *r, out_writer *w, int overlap)
{
	chunk_slot slot[3];
	chunk_slot *prev = NULL, *cur = &slot[0];
	int ok = 1;
	memset(slot, 0, sizeof slot);
	if (r->in.batch_count == 0)
		return 0;
	if (chunk_read(r, cur, 0, chunk_count(r, 0))) {
		slot_free(r, cur);
		return -1;
	}
	/* the slots keep their input buffers from chunk to chunk */
	for (int k = 0; ok; k = (k + 1) % 3) {
		int64_t next = cur->start + cur->count;
		chunk_slot *nxt = next < r->in.batch_count ? &slot[(k + 1) % 3]
							   : NULL;
		io_job job = {r, w, prev, nxt, next,
			      nxt ? chunk_count(r, next) : 0, 0, 0, 0, 0};
		pthread_t io;
		int threaded = overlap && (prev || nxt) &&
			       !pthread_create(&io, NULL, io_run, &job);
		int computed;
		double t_narrow = 0.0;
		if (!threaded && prev)
			job.write_failed = chunk_write(r, w, prev) != 0;
		computed = !job.write_failed && chunk_compute(r, cur) == 0;
		if (computed)
			t_narrow = chunk_narrow(w, cur);
		if (threaded) {
			pthread_join(io, NULL);
			if (job.write_failed || computed)
				cli_release_messages();
			else
				cli_drop_messages();
		}
		r->t_write += t_narrow;
		if (prev)
			slot_clear(r, prev);
		if (job.write_failed || !computed) {
			if (nxt)
				slot_clear(r, nxt);
			ok = 0;
			break;
		}
		cli_progress_update(cur->start + cur->count);
		if (!threaded && nxt)
			job.read_failed = chunk_read(r, nxt, job.start, job.count) != 0;
		if (job.read_failed) {
			slot_clear(r, nxt);
			ok = 0;
			break;
		}
		prev = cur;
		cur = nxt;
		if (!cur) {
			ok = chunk_write(r, w, prev) == 0;
			slot_clear(r, prev);
			break;
		}
	}
	for (int k = 0; k < 3; k++)
		slot_free(r, &slot[k]);
	return ok ? 0 : -1;
}

/* ---- info ------------------------------------------------------------------ */

/* How dataset ds is stored: "float32", "int64", "uint8", "bool" (h5py's
 * numpy bool), or "json" for JSON Lines. */
static void stored_type(const in_dataset *ds, char *buf, size_t size)
{
	hid_t t;
	if (ds->id < 0) {
		snprintf(buf, size, "json");
		return;
	}
	t = H5Dget_type(ds->id);
	switch (H5Tget_class(t)) {
	case H5T_FLOAT:
		snprintf(buf, size, "float%zu", 8 * H5Tget_size(t));
		break;
	case H5T_INTEGER:
		snprintf(buf, size, "%sint%zu",
			 H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "",
			 8 * H5Tget_size(t));
		break;
	case H5T_ENUM:
		snprintf(buf, size, "bool");
		break;
	default:
		snprintf(buf, size, "other");
		break;
	}
	H5Tclose(t);
}

static cJSON *shape_json(int rank, const hsize_t *shape)
{
	cJSON *a = cJSON_CreateArray();
	for (int d = 0; d < rank; d++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)shape[d]));
	return a;
}

/* The description info writes: the file, its structure and options, its
 * batch, the sizes its datasets give, and each dataset's shape and type. */
static char *info_text(const run_state *r)
{
	const in_file *in = &r->in;
	const ss_structure *st = in->structure;
	cJSON *o = cJSON_CreateObject(), *opts = cJSON_CreateObject();
	cJSON *sizes = cJSON_CreateObject(), *sets = cJSON_CreateObject();
	char *text;
	cJSON_AddStringToObject(o, "file", in->path);
	cJSON_AddStringToObject(o, "structure", st->name);
	for (int k = 0; k < st->n_options; k++) {
		const ss_option_spec *spec = &st->options[k];
		if (spec->kind == SS_OPTION_ENUM)
			cJSON_AddStringToObject(opts, spec->name,
						spec->choices[in->option[k]]);
		else
			cJSON_AddNumberToObject(opts, spec->name,
						(double)in->option[k]);
	}
	cJSON_AddItemToObject(o, "options", opts);
	cJSON_AddItemToObject(o, "batch_shape",
			      shape_json(in->batch_rank, in->batch_shape));
	cJSON_AddNumberToObject(o, "elements", (double)in->batch_count);
	for (int k = 0; k < st->n_inputs; k++) {
		const in_dataset *ds = &in->ds[k];
		char type[32];
		cJSON *d;
		if (!ds->present)
			continue;
		for (int a = 0; a < st->inputs[k].rank; a++)
			cJSON_AddNumberToObject(
				sizes, ss_dim_names[st->inputs[k].dims[a]],
				(double)in->dim[st->inputs[k].dims[a]]);
		d = cJSON_CreateObject();
		cJSON_AddItemToObject(d, "shape", shape_json(ds->rank, ds->shape));
		stored_type(ds, type, sizeof type);
		cJSON_AddStringToObject(d, "type", type);
		cJSON_AddItemToObject(sets, st->inputs[k].name, d);
	}
	/* a letter several inputs share is added once per use: keep the first */
	for (cJSON *a = sizes->child; a; a = a->next)
		for (cJSON *b = a->next, *nb; b; b = nb) {
			nb = b->next;
			if (!strcmp(a->string, b->string))
				cJSON_Delete(cJSON_DetachItemViaPointer(sizes, b));
		}
	cJSON_AddItemToObject(o, "sizes", sizes);
	cJSON_AddItemToObject(o, "datasets", sets);
	cJSON_AddBoolToObject(o, "valid", 1);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* info: every chunk is read and validated, nothing computed; then the
 * description, one JSON line. */
static int run_info(run_state *r, cli_dest *dest)
{
	chunk_slot c;
	char *text;
	int rc;
	memset(&c, 0, sizeof c);
	for (int64_t start = 0; start < r->in.batch_count; start += r->chunk) {
		rc = chunk_read(r, &c, start, chunk_count(r, start));
		if (!rc)
			rc = chunk_compute(r, &c);
		slot_clear(r, &c);
		if (rc) {
			slot_free(r, &c);
			return -1;
		}
		cli_progress_update(start + chunk_count(r, start));
	}
	slot_free(r, &c);
	text = info_text(r);
	rc = !text || dest_write(dest, text, strlen(text)) ||
	     dest_write(dest, "\n", 1);
	cJSON_free(text);
	return rc ? -1 : 0;
}

/*
 * Opens the input (and Q's, and the events), checks that the structure
 * has the command, and sets the sample axis: 0, or the exit status.
 */
static int open_inputs(run_state *r, const cli_options *opt)
{
	const char *why;
	char why_buf[512];
	int rc;

	if ((rc = in_open(&r->in, opt)) != 0)
		return rc == EXIT_USAGE ? EXIT_USAGE : EXIT_DATA;
	why = ss_op_unsupported(r->in.structure, r->in.option, opt->op, why_buf,
				sizeof why_buf);
	if (why) {
		cli_error("'%s': %s does not support %s: %s", r->in.path,
			  r->in.structure->name, ss_ops[opt->op].name, why);
		return EXIT_DATA;
	}
	if (opt->grad && (why = ss_grad_unsupported(r->in.structure,
						     r->in.option, opt->op))) {
		cli_error("'%s': %s has no gradients for %s: %s", r->in.path,
			  r->in.structure->name, ss_ops[opt->op].name, why);
		return EXIT_DATA;
	}
	if (ss_ops[opt->op].operands == SS_TWO_PROBLEMS &&
	    (rc = open_q(r)) != 0)
		return rc == EXIT_USAGE ? EXIT_USAGE : EXIT_DATA;
	r->has_sample_axis = ss_ops[opt->op].samples == SS_SAMPLES_DRAWN ||
			     ss_ops[opt->op].samples == SS_SAMPLES_RANKS;
	r->num_samples = ss_ops[opt->op].samples == SS_SAMPLES_DRAWN
		? opt->num_samples
		: ss_ops[opt->op].samples == SS_SAMPLES_RANKS ? opt->top_k : 1;
	if (ss_ops[opt->op].operands == SS_WITH_EVENTS) {
		if (in_events_open(&r->ev, &r->in, opt))
			return EXIT_DATA;
		r->num_samples = r->ev.num;
		r->has_sample_axis = r->ev.has_sample_axis;
	}
	return 0;
}

int cli_run(const cli_options *opt)
{
	run_state r;
	cli_dest dest;
	out_writer *w = NULL;
	int ok = 0, status = EXIT_DATA, rc;

	memset(&r, 0, sizeof r);
	r.opt = opt;
	r.ev.file = r.ev.dset = r.ev.dset_tags = -1;
	in_init(&r.in);
	in_init(&r.in_q);
	double t_start = omp_get_wtime();
	if ((rc = dest_open(&dest, opt)) != EXIT_OK) {
		status = rc;
		goto done;
	}
	if (opt->op == SS_OP_INFO && dest.hdf5) {
		cli_error("info writes one line of JSON, not HDF5: give -o a .json or .jsonl path, or none for standard output");
		status = EXIT_USAGE;
		goto done;
	}
	if ((rc = open_inputs(&r, opt)) != 0) {
		status = rc;
		goto done;
	}
	if (plan_chunks(&r))
		goto done;
	if (opt->op == SS_OP_INFO) {
		cli_progress_start(opt, r.in.batch_count);
		ok = run_info(&r, &dest) == 0;
		goto done;
	}
	describe_outputs(&r);
	w = out_open(opt, &dest, &r.in, r.arrays, r.n_arrays,
		     r.has_sample_axis, r.num_samples);
	if (!w)
		goto done;
	r.t_read += omp_get_wtime() - t_start;
	cli_progress_start(opt, r.in.batch_count);
	r.workspaces = ss_workspaces_new();
	if (run_chunks(&r, w, r.overlap))
		goto done;
	ok = 1;
done:
	cli_progress_end();
	double t0 = omp_get_wtime();
	if (w && out_close(w, ok))
		ok = 0;
	if (dest_close(&dest, ok))
		ok = 0;
	r.t_write += omp_get_wtime() - t0;
	if (ok)
		warn_empty(&r);
	if (opt->timing) {
		struct rusage use;
		getrusage(RUSAGE_SELF, &use);
		fprintf(stderr, "synstruct: timing: read %.6f s, compute %.6f s, write %.6f s, peak memory %.1f MiB, %d thread%s\n",
			r.t_read, r.t_compute, r.t_write,
			(double)use.ru_maxrss / 1024.0, omp_get_max_threads(),
			omp_get_max_threads() == 1 ? "" : "s");
	}
	ss_workspaces_free(r.workspaces);
	in_events_close(&r.ev);
	in_close(&r.in);
	in_close(&r.in_q);
	return ok ? EXIT_OK : status;
}
