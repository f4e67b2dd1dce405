/*
 * events.c - the structures that log-prob scores, read from a second file.
 *
 * The EVENTS file holds them either as dense events [S?, *b, event] (the
 * `argmax` or `samples` of synstruct's own output, or any float, integer
 * or boolean dataset of that shape) or as the structure's compact decode
 * [S?, *b, decode] (`labels`, `heads`: gold sequences and head vectors
 * score directly). A JSON Lines EVENTS file (cli/jsonl.c) holds the same
 * per element, as synstruct's own JSON Lines outputs do. Without --dataset
 * the first present of argmax, samples, topk and the decode's name is
 * read. Decodes are turned into events by
 * the structure's encoder, chunk by chunk, so memory stays bounded. The
 * dense events of a structure whose event has two parts (pcfg) are two
 * datasets or members, <name> and <name>_tags, read into one flat event.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Whether a dataset of the given shape holds the array `spec` per element
 * of in's batch, with an optional leading sample axis. */
static int shape_matches(const in_file *in, const ss_array_spec *spec,
			 int rank, const hsize_t *shape, int *sample_axis)
{
	int extra = rank - in->batch_rank - spec->rank;
	if (extra != 0 && extra != 1)
		return 0;
	for (int d = 0; d < in->batch_rank; d++)
		if (shape[extra + d] != in->batch_shape[d])
			return 0;
	for (int d = 0; d < spec->rank; d++)
		if (shape[extra + in->batch_rank + d] !=
		    (hsize_t)in->dim[spec->dims[d]])
			return 0;
	*sample_axis = extra;
	return 1;
}

/* "[*b, n, t, t]" with the batch axes and dimensions of in. */
static void format_want(char *buf, size_t size, const in_file *in,
			const ss_array_spec *spec)
{
	hsize_t shape[CLI_MAX_RANK + SS_MAX_EVENT_RANK];
	memcpy(shape, in->batch_shape, (size_t)in->batch_rank * sizeof *shape);
	for (int d = 0; d < spec->rank; d++)
		shape[in->batch_rank + d] = (hsize_t)in->dim[spec->dims[d]];
	cli_format_shape(buf, size, in->batch_rank + spec->rank, shape);
}

int in_event_name(const char *name)
{
	return !strcmp(name, "argmax") || !strcmp(name, "samples") ||
	       !strcmp(name, "topk");
}

/* Chooses the dataset: --dataset, else the first present default. */
static int choose_dataset(in_events *ev, const in_file *in,
			  const cli_options *opt)
{
	const ss_structure *st = in->structure;
	const char *decode = st->n_decodes ? st->decodes[0].name : NULL;
	const char *defaults[] = {"argmax", "samples", "topk", decode};
	if (opt->dataset) {
		snprintf(ev->name, sizeof ev->name, "%s", opt->dataset);
		return 0;
	}
	for (size_t k = 0; k < SS_ARRAY_LEN(defaults) && !ev->name[0]; k++)
		if (defaults[k] && H5Lexists(ev->file, defaults[k],
					     H5P_DEFAULT) > 0)
			snprintf(ev->name, sizeof ev->name, "%s", defaults[k]);
	if (!ev->name[0]) {
		cli_error("'%s': no dataset 'argmax', 'samples' or '%s'; name one with --dataset",
			  ev->path, decode ? decode : "argmax");
		return -1;
	}
	return 0;
}

/* Opens dataset name of the events file into *dset: its class (an
 * enum's over an integer is H5T_ENUM, *is_enum set), or H5T_NO_CLASS
 * after reporting. */
static H5T_class_t open_values(const in_events *ev, const char *name,
			       hid_t *dset, int *is_enum)
{
	H5T_class_t cls;
	hid_t type;
	if (H5Lexists(ev->file, name, H5P_DEFAULT) <= 0 ||
	    (*dset = H5Dopen2(ev->file, name, H5P_DEFAULT)) < 0) {
		cli_error("'%s': no dataset '%s'", ev->path, name);
		return H5T_NO_CLASS;
	}
	type = H5Dget_type(*dset);
	cls = H5Tget_class(type);
	*is_enum = cls == H5T_ENUM;
	if (*is_enum) {
		hid_t base = H5Tget_super(type);
		if (H5Tget_class(base) != H5T_INTEGER ||
		    H5Tget_size(base) > sizeof(int64_t))
			cls = H5T_NO_CLASS;
		H5Tclose(base);
	}
	H5Tclose(type);
	if (cls != H5T_FLOAT && cls != H5T_INTEGER && cls != H5T_ENUM) {
		cli_error("'%s': dataset '%s' is not numeric or boolean",
			  ev->path, name);
		return H5T_NO_CLASS;
	}
	return cls;
}

/* The second part of dense events of st, <name>_tags, of the shape
 * event_tags with the first part's sample axis. */
static int open_tags(in_events *ev, const in_file *in)
{
	const ss_structure *st = in->structure;
	int axis, rank;
	const hsize_t *shape = ev->shape_tags;
	char got[256], want[256];
	snprintf(ev->tags_name, sizeof ev->tags_name, "%s_tags", ev->name);
	if (open_values(ev, ev->tags_name, &ev->dset_tags,
			&ev->tags_is_enum) == H5T_NO_CLASS ||
	    h5_dataset_shape(ev->dset_tags, ev->path, ev->tags_name,
			     &ev->rank_tags, ev->shape_tags))
		return -1;
	rank = ev->rank_tags;
	if (!shape_matches(in, &st->event_tags, rank, shape, &axis) ||
	    axis != ev->has_sample_axis ||
	    (axis && shape[0] != (hsize_t)ev->num)) {
		cli_format_shape(got, sizeof got, rank, shape);
		format_want(want, sizeof want, in, &st->event_tags);
		cli_error("'%s': dataset '%s' has shape %s; it must be %s, with the sample axis of '%s'",
			  ev->path, ev->tags_name, got, want, ev->name);
		return -1;
	}
	ev->size_tags = ss_array_size(&st->event_tags, in->dim);
	return h5_check_storage(ev->dset_tags, ev->path, ev->tags_name);
}

int in_events_open(in_events *ev, const in_file *in, const cli_options *opt)
{
	const ss_structure *st = in->structure;
	const ss_array_spec *decode = st->n_decodes ? &st->decodes[0] : NULL;
	H5T_class_t cls;
	int axis;
	char got[256], dense[256], compact[256];

	memset(ev, 0, sizeof *ev);
	ev->path = opt->events;
	ev->dset = ev->dset_tags = -1;
	if (in_open_source(opt->events, NULL, ev->temp_path,
			   sizeof ev->temp_path, &ev->file, &ev->jsonl))
		return -1;
	if (ev->jsonl)
		return jsonl_events_open(ev, in, opt, ev->jsonl);
	if (choose_dataset(ev, in, opt))
		return -1;
	cls = open_values(ev, ev->name, &ev->dset, &ev->is_enum);
	if (cls == H5T_NO_CLASS)
		return -1;
	if (h5_dataset_shape(ev->dset, ev->path, ev->name, &ev->rank,
			     ev->shape))
		return -1;

	/* A decode's name is read as the decode, argmax, samples and topk as
	 * events; another name as whichever its shape fits, events first. */
	int named_decode = decode && !strcmp(ev->name, decode->name);
	if (!named_decode &&
	    shape_matches(in, &st->event, ev->rank, ev->shape, &axis)) {
		ev->size = ss_array_size(&st->event, in->dim);
	} else if (decode && st->encode && !in_event_name(ev->name) &&
		   shape_matches(in, decode, ev->rank, ev->shape, &axis)) {
		ev->is_decode = 1;
		ev->size = ss_array_size(decode, in->dim);
		if (cls != H5T_INTEGER) {
			cli_error("'%s': dataset '%s' is not integer; compact decodes such as '%s' must be",
				  ev->path, ev->name, decode->name);
			return -1;
		}
	} else {
		cli_format_shape(got, sizeof got, ev->rank, ev->shape);
		format_want(dense, sizeof dense, in, &st->event);
		if (decode && st->encode) {
			format_want(compact, sizeof compact, in, decode);
			cli_error("'%s': dataset '%s' has shape %s; structures for '%s' are events %s or %s %s, with an optional leading sample axis",
				  ev->path, ev->name, got, in->path, dense,
				  decode->name, compact);
		} else {
			cli_error("'%s': dataset '%s' has shape %s; events for '%s' need %s, with an optional leading sample axis",
				  ev->path, ev->name, got, in->path, dense);
		}
		return -1;
	}
	ev->has_sample_axis = axis;
	ev->num = axis ? (int64_t)ev->shape[0] : 1;
	if (!ev->is_decode && st->event_tags.name && open_tags(ev, in))
		return -1;
	return h5_check_storage(ev->dset, ev->path, ev->name);
}

/* One dataset of the events: the first part or the tags. */
typedef struct part {
	hid_t dset;
	int is_enum, rank;
	const hsize_t *shape;
	int64_t size;
} part;

/* Reads sample s of the chunk of part p as values of memtype (double or
 * int64). */
static int read_values(const in_events *ev, const in_file *in, part p,
		       int64_t s, int64_t start, int64_t count, hid_t memtype,
		       void *buf)
{
	int lead = ev->has_sample_axis + in->batch_rank;
	hid_t dset = p.dset, type = -1, base = -1;
	int is_enum = p.is_enum, rc;
	if (is_enum) {
		/* HDF5 does not convert an enum to a number: read its integer
		 * bytes, then convert them in place. */
		hid_t file_type = H5Dget_type(dset);
		type = H5Tget_native_type(file_type, H5T_DIR_DEFAULT);
		base = H5Tget_super(type);
		H5Tclose(file_type);
	}
	rc = h5_read_flat(dset, is_enum ? type : memtype, lead, p.shape,
			  p.rank, s * in->batch_count + start, count, buf);
	if (rc == 0 && is_enum &&
	    H5Tconvert(base, memtype, (size_t)(count * p.size), buf, NULL,
		       H5P_DEFAULT) < 0)
		rc = -1;
	if (type >= 0)
		H5Tclose(type);
	if (base >= 0)
		H5Tclose(base);
	return rc;
}

/* Reads the values of the chunk, [num][count][size + size_tags] doubles
 * (events) or int64 (decodes): each part's sample into tmp (when there
 * are two), then into its place beside the other. */
static int read_chunk_values(const in_events *ev, const in_file *in,
			     int64_t start, int64_t count, void *values)
{
	hid_t memtype = ev->is_decode ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE;
	const int64_t stride = ev->size + ev->size_tags;
	const part parts[2] = {
		{ev->dset, ev->is_enum, ev->rank, ev->shape, ev->size},
		{ev->dset_tags, ev->tags_is_enum, ev->rank_tags, ev->shape_tags,
		 ev->size_tags}};
	const char *names[2] = {ev->name, ev->tags_name};
	char *out = values, *tmp = NULL;
	if (ev->jsonl)
		return jsonl_events_read(ev, in, count, values);
	if (ev->size_tags &&
	    !(tmp = malloc((size_t)(count * stride) * CLI_VALUE_BYTES + 8))) {
		cli_error("cannot allocate %lld values for dataset '%s'",
			  (long long)(count * stride), ev->name);
		return -1;
	}
	for (int64_t s = 0; s < ev->num; s++)
		for (int k = 0; k < (ev->size_tags ? 2 : 1); k++) {
			const int64_t size = parts[k].size;
			char *dst = out + (size_t)(s * count * stride) *
						  CLI_VALUE_BYTES;
			if (read_values(ev, in, parts[k], s, start, count,
					memtype, tmp ? tmp : dst)) {
				cli_error("'%s': cannot read dataset '%s' (truncated or corrupt file?)",
					  ev->path, names[k]);
				free(tmp);
				return -1;
			}
			for (int64_t i = 0; tmp && i < count; i++)
				memcpy(dst + (size_t)(i * stride + k * ev->size) *
						     CLI_VALUE_BYTES,
				       tmp + (size_t)(i * size) * CLI_VALUE_BYTES,
				       (size_t)size * CLI_VALUE_BYTES);
		}
	free(tmp);
	return 0;
}

int in_events_read(const in_events *ev, const in_file *in, int64_t start,
		   int64_t count, const ss_element *elements, double *buf)
{
	const ss_structure *st = in->structure;
	const int64_t E = ss_event_size(st, in->dim);
	int64_t *decodes;

	if (!ev->is_decode)
		return read_chunk_values(ev, in, start, count, buf);
	decodes = malloc((size_t)(ev->num * count * ev->size + 1) *
			 sizeof *decodes);
	if (!decodes) {
		cli_error("cannot allocate %lld values for dataset '%s'",
			  (long long)(ev->num * count * ev->size), ev->name);
		return -1;
	}
	if (read_chunk_values(ev, in, start, count, decodes)) {
		free(decodes);
		return -1;
	}
	for (int64_t s = 0; s < ev->num; s++)
		for (int64_t i = 0; i < count; i++) {
			int64_t at = s * count + i;
			char idx[CLI_INDEX_TEXT], sample[48] = "";
			ss_error err;
			if (ss_encode(st, &elements[i], decodes + at * ev->size,
				      buf + at * E, &err) == SS_OK)
				continue;
			int64_t shape[CLI_MAX_RANK];
			ss_format_index(idx, sizeof idx, start + i,
					in->batch_rank,
					cli_shape64(in->batch_rank,
						    in->batch_shape, shape));
			if (ev->has_sample_axis)
				snprintf(sample, sizeof sample, "sample %lld, ",
					 (long long)s);
			cli_error("'%s': dataset '%s', %sbatch element %s: %s",
				  ev->path, ev->name, sample, idx, err.message);
			free(decodes);
			return -1;
		}
	free(decodes);
	return 0;
}

void in_events_close(in_events *ev)
{
	jsonl_reader_free(ev->jsonl);
	if (ev->dset >= 0)
		H5Dclose(ev->dset);
	if (ev->dset_tags >= 0)
		H5Dclose(ev->dset_tags);
	if (ev->file > 0)
		H5Fclose(ev->file);
}
