/*
 * jsonl.c - JSON Lines inputs: one object per batch element.
 *
 *   {"structure": "linear-chain", "log_potentials": [[[0.5, "-inf"], ...]],
 *    "lengths": 3}
 *
 * Each object holds the structure's datasets under their names as nested
 * arrays without batch axes (lengths as integers), and optionally
 * "structure" and the structure options; the first object's say what the
 * file holds, and --structure and the flags win. Numbers are JSON numbers;
 * -inf, inf and nan are the strings "-inf", "inf" and "nan" (the last two are
 * then refused as values by the structure, as in HDF5 inputs); booleans read
 * as 0 and 1. Every object must hold the datasets of the first, with the same
 * shapes; other keys (synstruct's own "index", say) are ignored.
 *
 * The batch is one axis of one element per non-blank line. A first pass
 * counts the lines, then chunks are read in order, one line at a time, so a
 * file of millions of lines runs in the memory of a chunk. The EVENTS of
 * log-prob are read the same way, from synstruct's own JSON Lines outputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

struct jsonl_reader {
	FILE *f;
	const char *path;
	char *line;
	size_t cap;
	int64_t lineno;        /* lines read so far, blank ones included */
};

jsonl_reader *jsonl_reader_new(FILE *f, const char *path)
{
	jsonl_reader *r = calloc(1, sizeof *r);
	if (!r) {
		cli_error("cannot allocate a JSON Lines reader");
		fclose(f);
		return NULL;
	}
	r->f = f;
	r->path = path;
	return r;
}

void jsonl_reader_free(jsonl_reader *r)
{
	if (!r)
		return;
	fclose(r->f);
	free(r->line);
	free(r);
}

static int blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return *s == '\0';
}

/* Counts the non-blank lines from the current position, then rewinds. */
static int count_lines(jsonl_reader *r, int64_t *count)
{
	ssize_t len;
	*count = 0;
	while ((len = getline(&r->line, &r->cap, r->f)) >= 0)
		*count += !blank(r->line);
	if (ferror(r->f) || fseek(r->f, 0, SEEK_SET) != 0) {
		cli_error("'%s': cannot read", r->path);
		return -1;
	}
	return 0;
}

/* The next non-blank line as a JSON object; NULL after reporting. */
static cJSON *next_object(jsonl_reader *r)
{
	ssize_t len;
	cJSON *obj;
	do {
		len = getline(&r->line, &r->cap, r->f);
		if (len < 0) {
			cli_error("'%s': ends at line %lld, before the batch does",
				  r->path, (long long)r->lineno);
			return NULL;
		}
		r->lineno++;
	} while (blank(r->line));
	obj = cJSON_ParseWithLength(r->line, (size_t)len);
	if (!obj || !cJSON_IsObject(obj)) {
		cli_error("'%s': line %lld is not a JSON object", r->path,
			  (long long)r->lineno);
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* ---- values and shapes ------------------------------------------------------ */

/* The shape of a nested array of the given rank, read along first items. */
static int value_shape(const cJSON *v, int rank, hsize_t *shape)
{
	for (int d = 0; d < rank; d++) {
		if (!cJSON_IsArray(v))
			return -1;
		shape[d] = (hsize_t)cJSON_GetArraySize(v);
		v = v->child;
		if (!v) {
			for (int e = d + 1; e < rank; e++)
				shape[e] = 0;
			return 0;
		}
	}
	return 0;
}

/* One value as a double: a number, a boolean, or "-inf", "inf", "nan". */
static int real_value(const cJSON *v, double *x)
{
	if (cJSON_IsNumber(v)) {
		*x = v->valuedouble;
	} else if (cJSON_IsBool(v)) {
		*x = cJSON_IsTrue(v);
	} else if (cJSON_IsString(v) && !strcmp(v->valuestring, "-inf")) {
		*x = -INFINITY;
	} else if (cJSON_IsString(v) && !strcmp(v->valuestring, "inf")) {
		*x = INFINITY;
	} else if (cJSON_IsString(v) && !strcmp(v->valuestring, "nan")) {
		*x = NAN;
	} else {
		return -1;
	}
	return 0;
}

/* One value as an integer: an integral number or a boolean. */
static int int_value(const cJSON *v, int64_t *x)
{
	double d;
	if (cJSON_IsBool(v)) {
		*x = cJSON_IsTrue(v);
		return 0;
	}
	if (!cJSON_IsNumber(v))
		return -1;
	d = v->valuedouble;
	if (d != floor(d) || d < -9.2e18 || d > 9.2e18)
		return -1;
	*x = (int64_t)d;
	return 0;
}

/*
 * Copies the nested array v of the given shape into out (doubles or int64)
 * at *k, row-major. Returns 0, 1 for a ragged or misshapen array, 2 for a
 * value of the wrong kind.
 */
static int flatten(const cJSON *v, ss_kind kind, int rank,
		   const hsize_t *shape, void *out, int64_t *k)
{
	if (rank == 0) {
		int bad = kind == SS_REAL
				  ? real_value(v, (double *)out + *k)
				  : int_value(v, (int64_t *)out + *k);
		(*k)++;
		return bad ? 2 : 0;
	}
	if (!cJSON_IsArray(v) || (hsize_t)cJSON_GetArraySize(v) != shape[0])
		return 1;
	for (const cJSON *item = v->child; item; item = item->next) {
		int rc = flatten(item, kind, rank - 1, shape + 1, out, k);
		if (rc)
			return rc;
	}
	return 0;
}

/* Copies member name of obj (shape [per-element shape]) into out. */
static int read_member(const jsonl_reader *r, const cJSON *obj,
		       const char *name, ss_kind kind, int rank,
		       const hsize_t *shape, void *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char want[256];
	int64_t k = 0;
	int rc;
	if (!v) {
		cli_error("'%s': line %lld has no '%s'", r->path,
			  (long long)r->lineno, name);
		return -1;
	}
	rc = flatten(v, kind, rank, shape, out, &k);
	if (rc == 1) {
		cli_format_shape(want, sizeof want, rank, shape);
		cli_error("'%s': line %lld: '%s' is not an array of shape %s",
			  r->path, (long long)r->lineno, name, want);
	} else if (rc == 2) {
		cli_error("'%s': line %lld: '%s' holds a value that is not %s",
			  r->path, (long long)r->lineno, name,
			  kind == SS_REAL ? "a number, \"-inf\", \"inf\" or \"nan\""
					  : "an integer");
	}
	return rc ? -1 : 0;
}

/* ---- the input ---------------------------------------------------------------- */

/* Whether input k of st is one of its lengths. */
static int is_lengths(const ss_structure *st, int k)
{
	for (int l = 0; l < st->n_lengths; l++)
		if (st->lengths_inputs[l] == k)
			return 1;
	return 0;
}

/* Option k from the first object's key: an integer or a boolean, or an
 * enum's name. */
static int read_key_option(in_file *in, int k, const void *source)
{
	const ss_option_spec *spec = &in->structure->options[k];
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(source, spec->name);
	char takes[256];
	int bad;
	if (!v)
		return 1;
	if (spec->kind == SS_OPTION_ENUM && cJSON_IsString(v))
		bad = ss_option_parse(spec, v->valuestring, &in->option[k],
				      NULL) != SS_OK;
	else
		bad = int_value(v, &in->option[k]) ||
		      ss_option_check(spec, in->option[k], NULL) != SS_OK;
	if (!bad)
		return 0;
	if (spec->kind == SS_OPTION_FLAG)
		snprintf(takes, sizeof takes, "0, 1, false or true");
	else
		ss_option_takes(spec, takes, sizeof takes);
	cli_error("'%s': line 1: '%s' must be %s", in->path, spec->name,
		  takes);
	return -1;
}

int jsonl_open(in_file *in, const cli_options *opt, jsonl_reader *r)
{
	const ss_structure *st;
	int64_t count;
	cJSON *obj;
	int rc = -1;

	in->jsonl = r;
	if (count_lines(r, &count))
		return -1;
	if (count == 0) {
		cli_error("'%s': no JSON object: an empty JSON Lines input", in->path);
		return -1;
	}
	if (!(obj = next_object(r)))
		return -1;
	if (opt->structure) {
		in->structure = ss_structure_find(opt->structure);
	} else {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(obj, "structure");
		if (!cJSON_IsString(name)) {
			cli_error("'%s': line 1 has no \"structure\" string; name one with --structure",
				  in->path);
			goto done;
		}
		in->structure = ss_structure_find(name->valuestring);
		if (!in->structure) {
			char names[256];
			cli_error("'%s': unknown structure '%s' (%s)", in->path,
				  name->valuestring,
				  cli_structure_names(names, sizeof names));
			goto done;
		}
	}
	st = in->structure;
	if ((rc = in_resolve_options(in, opt, read_key_option, obj)) != 0)
		goto done;
	rc = -1;
	int present[SS_MAX_INPUTS] = {0};
	for (int k = 0; k < st->n_inputs; k++) {
		const ss_input_spec *spec = &st->inputs[k];
		in_dataset *ds = &in->ds[k];
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, spec->name);
		present[k] = v != NULL;
		if (!v && spec->presence == SS_REQUIRED) {
			cli_error("'%s': line 1 has no '%s'; %s needs it",
				  in->path, spec->name, st->name);
			goto done;
		}
		if (!v)
			continue;
		ds->present = 1;
		ds->rank = spec->rank + 1;
		ds->batch_rank = 1;
		ds->shape[0] = (hsize_t)count;
		if (value_shape(v, spec->rank, ds->shape + 1)) {
			cli_error("'%s': line 1: '%s' is not a nested array of %d axes",
				  in->path, spec->name, spec->rank);
			goto done;
		}
	}
	if (st->check_presence) {
		ss_error err;
		if (st->check_presence(present, &err)) {
			cli_error("'%s': %s", in->path, err.message);
			goto done;
		}
	}
	/* The first object is read again with its chunk. */
	if (fseek(r->f, 0, SEEK_SET) != 0) {
		cli_error("'%s': cannot read", in->path);
		goto done;
	}
	r->lineno = 0;
	in->real_bits = 64;
	rc = 0;
done:
	cJSON_Delete(obj);
	return rc;
}

int jsonl_read_chunk(const in_file *in, int64_t count, in_chunk *chunk)
{
	const ss_structure *st = in->structure;
	int64_t size[SS_MAX_INPUTS];
	for (int k = 0; k < st->n_inputs; k++) {
		const in_dataset *ds = &in->ds[k];
		size_t width = st->inputs[k].kind == SS_REAL ? sizeof(double)
							     : sizeof(int64_t);
		if (!ds->present)
			continue;
		size[k] = 1;
		for (int d = 1; d < ds->rank; d++)
			size[k] *= (int64_t)ds->shape[d];
		if (!in_chunk_room(chunk, k, (size_t)(count * size[k]) * width)) {
			cli_error("cannot allocate %lld values for '%s'",
				  (long long)(count * size[k]),
				  st->inputs[k].name);
			return -1;
		}
	}
	for (int64_t i = 0; i < count; i++) {
		cJSON *obj = next_object(in->jsonl);
		if (!obj)
			return -1;
		for (int k = 0; k < st->n_inputs; k++) {
			const in_dataset *ds = &in->ds[k];
			const ss_input_spec *spec = &st->inputs[k];
			size_t width = spec->kind == SS_REAL ? sizeof(double)
							     : sizeof(int64_t);
			char *at;
			if (!ds->present)
				continue;
			at = (char *)chunk->data[k] +
			     (size_t)(i * size[k]) * width;
			if (is_lengths(st, k) &&
			    !cJSON_GetObjectItemCaseSensitive(obj, spec->name)) {
				/* absent on this line: the full size (SPEC §1) */
				*(int64_t *)at = in->dim[spec->dims[0]];
				chunk->elements[i].input[k].data = at;
				continue;
			}
			if (read_member(in->jsonl, obj, spec->name, spec->kind,
					spec->rank, ds->shape + 1, at)) {
				cJSON_Delete(obj);
				return -1;
			}
			chunk->elements[i].input[k].data = at;
		}
		cJSON_Delete(obj);
	}
	return 0;
}

/* ---- events -------------------------------------------------------------------- */

/* Whether member v holds the array spec of in's elements, as given or with a
 * leading sample axis; sets *num to that axis (1 without). */
static int member_matches(const in_file *in, const cJSON *v,
			  const ss_array_spec *spec, int *sample_axis,
			  int64_t *num)
{
	hsize_t shape[SS_MAX_EVENT_RANK + 1];
	for (int axis = 0; axis <= 1; axis++) {
		int rank = spec->rank + axis, match = 1;
		if (value_shape(v, rank, shape))
			continue;
		/* The innermost item must be a value, not another array. */
		const cJSON *inner = v;
		for (int d = 0; d < rank && inner; d++)
			inner = inner->child;
		if (inner && (cJSON_IsArray(inner) || cJSON_IsObject(inner)))
			continue;
		for (int d = 0; d < spec->rank; d++)
			match &= shape[axis + d] == (hsize_t)in->dim[spec->dims[d]];
		if (match) {
			*sample_axis = axis;
			*num = axis ? (int64_t)shape[0] : 1;
			return 1;
		}
	}
	return 0;
}

/* The member of the first line obj that holds the events: --dataset's,
 * or the first of argmax, samples, topk and the decode; its name into
 * ev->name. NULL, reported, if there is none. */
static const cJSON *events_member(in_events *ev, const cJSON *obj,
				  const cli_options *opt,
				  const ss_array_spec *decode)
{
	const char *defaults[] = {"argmax", "samples", "topk",
				  decode ? decode->name : NULL};
	const cJSON *v = NULL;
	if (opt->dataset) {
		snprintf(ev->name, sizeof ev->name, "%s", opt->dataset);
		v = cJSON_GetObjectItemCaseSensitive(obj, ev->name);
	}
	for (size_t k = 0; k < SS_ARRAY_LEN(defaults) && !opt->dataset && !v;
	     k++)
		if (defaults[k] &&
		    (v = cJSON_GetObjectItemCaseSensitive(obj, defaults[k])))
			snprintf(ev->name, sizeof ev->name, "%s", defaults[k]);
	if (!v && opt->dataset)
		cli_error("'%s': line 1 has no '%s'", ev->path, ev->name);
	else if (!v)
		cli_error("'%s': line 1 has no 'argmax', 'samples' or '%s'; name one with --dataset",
			  ev->path, decode ? decode->name : "argmax");
	return v;
}

int jsonl_events_open(in_events *ev, const in_file *in, const cli_options *opt,
		      jsonl_reader *r)
{
	const ss_structure *st = in->structure;
	const ss_array_spec *decode = st->n_decodes && st->encode
					      ? &st->decodes[0] : NULL;
	const cJSON *v;
	int64_t count;
	cJSON *obj;
	int rc = -1, axis;

	ev->jsonl = r;
	if (count_lines(r, &count))
		return -1;
	if (count != in->batch_count) {
		cli_error("'%s': %lld JSON objects for a batch of %lld elements in '%s'",
			  ev->path, (long long)count,
			  (long long)in->batch_count, in->path);
		return -1;
	}
	ev->num = 1;
	if (count == 0)
		return 0;
	if (!(obj = next_object(r)))
		return -1;
	if (!(v = events_member(ev, obj, opt, decode)))
		goto done;
	/* As in HDF5 (cli/events.c): a decode's name is the decode, argmax,
	 * samples and topk are events, another name fits by its shape. */
	int named_decode = decode && !strcmp(ev->name, decode->name);
	int named_event = in_event_name(ev->name);
	if (!named_decode && member_matches(in, v, &st->event, &axis, &ev->num)) {
		ev->size = ss_array_size(&st->event, in->dim);
	} else if (decode && !named_event &&
		   member_matches(in, v, decode, &axis, &ev->num)) {
		ev->is_decode = 1;
		ev->size = ss_array_size(decode, in->dim);
	} else {
		cli_error("'%s': line 1: '%s' is neither an event nor '%s' of the elements of '%s', with an optional leading sample axis",
			  ev->path, ev->name, decode ? decode->name : "a decode",
			  in->path);
		goto done;
	}
	ev->has_sample_axis = axis;
	ev->rank = (decode && ev->is_decode ? decode->rank : st->event.rank) + axis;
	if (!ev->is_decode && st->event_tags.name) {
		/* the second part of the event, with the same sample axis */
		int64_t num;
		snprintf(ev->tags_name, sizeof ev->tags_name, "%s_tags", ev->name);
		v = cJSON_GetObjectItemCaseSensitive(obj, ev->tags_name);
		if (!v || !member_matches(in, v, &st->event_tags, &axis, &num) ||
		    axis != ev->has_sample_axis || num != ev->num) {
			cli_error("'%s': line 1: %s '%s' beside '%s', of the elements' preterminal tags with the sample axis of '%s'",
				  ev->path, v ? "bad" : "no", ev->tags_name,
				  ev->name, ev->name);
			goto done;
		}
		ev->size_tags = ss_array_size(&st->event_tags, in->dim);
	}
	if (fseek(r->f, 0, SEEK_SET) != 0) {
		cli_error("'%s': cannot read", ev->path);
		goto done;
	}
	r->lineno = 0;
	rc = 0;
done:
	cJSON_Delete(obj);
	return rc;
}

/* The rank and shape [S?, spec] of member spec of an element's events. */
static int member_shape(const in_events *ev, const in_file *in,
			const ss_array_spec *spec, hsize_t *shape)
{
	shape[0] = (hsize_t)ev->num;
	for (int d = 0; d < spec->rank; d++)
		shape[ev->has_sample_axis + d] = (hsize_t)in->dim[spec->dims[d]];
	return spec->rank + ev->has_sample_axis;
}

int jsonl_events_read(const in_events *ev, const in_file *in, int64_t count,
		      void *values)
{
	const ss_structure *st = in->structure;
	const ss_array_spec *spec = ev->is_decode ? &st->decodes[0] : &st->event;
	ss_kind kind = ev->is_decode ? SS_INT : SS_REAL;
	size_t width = kind == SS_REAL ? sizeof(double) : sizeof(int64_t);
	hsize_t shape[SS_MAX_EVENT_RANK + 1], shape_tags[SS_MAX_EVENT_RANK + 1];
	int rank = member_shape(ev, in, spec, shape);
	int rank_tags = member_shape(ev, in, &st->event_tags, shape_tags);
	const int64_t size = ev->size, stride = ev->size + ev->size_tags;
	char *tmp = malloc((size_t)(ev->num * stride) * width + 8);
	char *tmp_tags = tmp + (size_t)(ev->num * size) * width;

	if (!tmp) {
		cli_error("cannot allocate the events of one element");
		return -1;
	}
	for (int64_t i = 0; i < count; i++) {
		cJSON *obj = next_object(ev->jsonl);
		int rc = obj ? read_member(ev->jsonl, obj, ev->name, kind, rank,
					   shape, tmp)
			     : -1;
		if (!rc && ev->size_tags)
			rc = read_member(ev->jsonl, obj, ev->tags_name, kind,
					 rank_tags, shape_tags, tmp_tags);
		cJSON_Delete(obj);
		if (rc) {
			free(tmp);
			return -1;
		}
		/* [S][count][size + size_tags] from this element's [S][size]
		 * and [S][size_tags]. */
		for (int64_t s = 0; s < ev->num; s++) {
			char *dst = (char *)values +
				    (size_t)((s * count + i) * stride) * width;
			memcpy(dst, tmp + (size_t)(s * size) * width,
			       (size_t)size * width);
			memcpy(dst + (size_t)size * width,
			       tmp_tags + (size_t)(s * ev->size_tags) * width,
			       (size_t)ev->size_tags * width);
		}
	}
	free(tmp);
	return 0;
}
