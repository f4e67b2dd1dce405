/*
 * input.c - reading a structure's datasets from HDF5.
 *
 * in_open checks everything that can be checked without reading values:
 * the file, the structure, each dataset's type, rank, dimensions, batch
 * axes (numpy broadcasting) and stored size. in_read_chunk then reads a
 * range of the flat batch index, so memory stays bounded by a chunk.
 * HDF5 is not thread-safe: all of this runs on one thread.
 *
 * Mapping. A dataset of at least MAP_MIN_BYTES stored in one piece
 * (contiguous, in the file itself) in the type its values are read as is
 * not read but mapped (SYNSTRUCT_MAP=1 or 0: every such dataset, or none):
 * the chunk's elements point into the file's pages, and reading a chunk
 * maps those pages in ahead of the computation (MADV_POPULATE_READ),
 * copying nothing. Reading 64 MiB of floats into buffers took 12-16 ms of
 * a 20 ms partition command on a 2-core machine (issue 8). in_open maps a
 * dataset only where the first element's values in the mapping are the
 * ones H5Dread gives, and a chunk's pages that cannot be mapped (a file
 * cut short since) fail the read as a truncated file does; a file cut
 * short while the computation reads it raises SIGBUS (cli/dest.c).
 */
#define _DEFAULT_SOURCE /* madvise */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* ---- files -------------------------------------------------------------- */

/*
 * Copies a stream (standard input, a FIFO) to a temporary file; returns its
 * path. The file is registered (a signal removes it) until in_open_source
 * unlinks it.
 */
static int copy_stream(FILE *from, const char *path, char *temp_path,
		       size_t size)
{
	const char *dir = getenv("TMPDIR");
	char buf[CLI_COPY_BLOCK];
	size_t got;
	int fd = -1;
	if (snprintf(temp_path, size, "%s/synstruct-stdin-XXXXXX",
		     dir && *dir ? dir : "/tmp") < (int)size)
		fd = cli_temp_create(temp_path);
	else
		errno = ENAMETOOLONG;
	if (fd < 0) {
		temp_path[0] = '\0';
		cli_error("'%s': cannot create a temporary file: %s", path,
			  strerror(errno));
		return -1;
	}
	while ((got = fread(buf, 1, sizeof buf, from)) > 0)
		if (write(fd, buf, got) != (ssize_t)got) {
			cli_error("'%s': cannot copy the input: %s", path,
				  strerror(errno));
			close(fd);
			cli_temp_remove(temp_path);
			temp_path[0] = '\0';
			return -1;
		}
	close(fd);
	return 0;
}

/* The first byte that is not white space, or EOF. */
static int first_byte(const char *path)
{
	FILE *f = fopen(path, "rb");
	int c = EOF;
	if (!f)
		return EOF;
	while ((c = getc(f)) == ' ' || c == '\t' || c == '\r' || c == '\n')
		;
	fclose(f);
	return c;
}

int in_open_source(const char *path, const char *format, char *temp_path,
		   size_t temp_size, hid_t *file, jsonl_reader **json)
{
	const char *real = path;
	struct stat st;
	int is_json, first, rc = 0;
	*file = -1;
	*json = NULL;
	temp_path[0] = '\0';
	if (!strcmp(path, "-")) {
		if (copy_stream(stdin, "-", temp_path, temp_size))
			return -1;
		real = temp_path;
	} else if (access(path, R_OK) != 0 || stat(path, &st) != 0) {
		cli_error("'%s': %s", path, strerror(errno));
		return -1;
	} else if (S_ISDIR(st.st_mode)) {
		cli_error("'%s': is a directory", path);
		return -1;
	} else if (!S_ISREG(st.st_mode)) {
		/* A pipe is read once: keep a copy to read twice. */
		FILE *from = fopen(path, "rb");
		if (!from) {
			cli_error("'%s': %s", path, strerror(errno));
			return -1;
		}
		rc = copy_stream(from, path, temp_path, temp_size);
		fclose(from);
		if (rc)
			return -1;
		real = temp_path;
	}
	first = first_byte(real);
	if (first == EOF && !format) {
		cli_error("'%s': empty input (neither HDF5 nor JSON Lines)", path);
		rc = -1;
		goto done;
	}
	is_json = format ? !strcmp(format, "jsonl") : first == '{';
	if (is_json) {
		FILE *f = fopen(real, "r");
		if (!f) {
			cli_error("'%s': %s", path, strerror(errno));
			rc = -1;
		} else if (!(*json = jsonl_reader_new(f, path))) {
			rc = -1;
		}
	} else if (H5Fis_hdf5(real) <= 0) {
		cli_error("'%s': not an HDF5 file (nor JSON Lines)", path);
		rc = -1;
	} else {
		*file = H5Fopen(real, H5F_ACC_RDONLY, H5P_DEFAULT);
		if (*file < 0) {
			cli_error("'%s': cannot open the HDF5 file (truncated or corrupt?)",
				  path);
			rc = -1;
		}
	}
done:
	if (temp_path[0])
		cli_temp_remove(temp_path);
	return rc;
}

/*
 * Reads a string attribute of obj into buf: fixed or variable length, ASCII
 * or UTF-8, a scalar or an array of one string (h5py writes all of these; a
 * plain str is variable-length UTF-8). 1 if absent, < 0 if not one string.
 */
static int read_string_attr(hid_t obj, const char *name, char *buf,
			    size_t size)
{
	hid_t attr, type, space, mem = -1;
	int rc = -1;
	if (H5Aexists(obj, name) <= 0)
		return 1;
	if ((attr = H5Aopen(obj, name, H5P_DEFAULT)) < 0)
		return -1;
	type = H5Aget_type(attr);
	space = H5Aget_space(attr);
	if (H5Tget_class(type) != H5T_STRING ||
	    H5Sget_simple_extent_npoints(space) != 1)
		goto done;
	/* HDF5 converts strings only within one character set. */
	mem = H5Tcopy(H5T_C_S1);
	H5Tset_cset(mem, H5Tget_cset(type));
	if (H5Tis_variable_str(type) > 0) {
		char *value = NULL;
		H5Tset_size(mem, H5T_VARIABLE);
		if (H5Aread(attr, mem, &value) >= 0) {
			snprintf(buf, size, "%s", value ? value : "");
			H5free_memory(value);
			rc = 0;
		}
	} else {
		size_t len = H5Tget_size(type);
		char *value = calloc(len + 1, 1);
		H5Tset_size(mem, len + 1);
		H5Tset_strpad(mem, H5T_STR_NULLTERM);
		if (value && H5Aread(attr, mem, value) >= 0) {
			snprintf(buf, size, "%s", value);
			rc = 0;
		}
		free(value);
	}
done:
	if (mem >= 0)
		H5Tclose(mem);
	H5Sclose(space);
	H5Tclose(type);
	H5Aclose(attr);
	return rc;
}

/*
 * Reads an integer attribute of obj (any integer type, a scalar or an array
 * of one), or a boolean as h5py writes numpy and Python bools (an enum over
 * an integer, FALSE = 0, TRUE = 1); 1 if absent, < 0 if neither or out of
 * the int64 range.
 */
static int read_int_attr(hid_t obj, const char *name, int64_t *value)
{
	hid_t attr, type, space, base = -1;
	int rc = -1;
	if (H5Aexists(obj, name) <= 0)
		return 1;
	if ((attr = H5Aopen(obj, name, H5P_DEFAULT)) < 0)
		return -1;
	type = H5Aget_type(attr);
	space = H5Aget_space(attr);
	if (H5Sget_simple_extent_npoints(space) != 1)
		goto done;
	if (H5Tget_class(type) == H5T_INTEGER &&
	    H5Tget_sign(type) == H5T_SGN_NONE) {
		/* HDF5 would saturate or wrap a uint64 above INT64_MAX. */
		uint64_t u;
		if (H5Aread(attr, H5T_NATIVE_UINT64, &u) >= 0 &&
		    u <= INT64_MAX) {
			*value = (int64_t)u;
			rc = 0;
		}
	} else if (H5Tget_class(type) == H5T_INTEGER) {
		rc = H5Aread(attr, H5T_NATIVE_INT64, value) < 0 ? -1 : 0;
	} else if (H5Tget_class(type) == H5T_ENUM &&
		   H5Tget_size(type) <= sizeof *value) {
		/* Read the enum's own bytes, then convert its integer base. */
		union { int64_t i; unsigned char bytes[sizeof(int64_t)]; } raw = {0};
		base = H5Tget_super(type);
		if (H5Aread(attr, type, raw.bytes) >= 0 &&
		    H5Tconvert(base, H5T_NATIVE_INT64, 1, raw.bytes, NULL,
			       H5P_DEFAULT) >= 0) {
			*value = raw.i;
			rc = 0;
		}
	}
done:
	if (base >= 0)
		H5Tclose(base);
	H5Sclose(space);
	H5Tclose(type);
	H5Aclose(attr);
	return rc;
}

/* ---- storage and flat reads --------------------------------------------- */

int h5_dataset_shape(hid_t dset, const char *file, const char *name,
		     int *rank, hsize_t *shape)
{
	hid_t space = H5Dget_space(dset);
	*rank = H5Sget_simple_extent_ndims(space);
	if (*rank > CLI_MAX_RANK) {
		H5Sclose(space);
		cli_error("'%s': dataset '%s' has %d axes, more than %d", file,
			  name, *rank, CLI_MAX_RANK);
		return -1;
	}
	H5Sget_simple_extent_dims(space, shape, NULL);
	H5Sclose(space);
	return 0;
}

int h5_check_storage(hid_t dset, const char *file, const char *name)
{
	hid_t space = H5Dget_space(dset), dcpl = H5Dget_create_plist(dset);
	hid_t type = H5Dget_type(dset);
	hssize_t points = H5Sget_simple_extent_npoints(space);
	hsize_t shape[CLI_MAX_RANK], chunk[CLI_MAX_RANK], stored = 0;
	int rank = H5Sget_simple_extent_ndims(space), rc = 0;
	H5D_layout_t layout = H5Pget_layout(dcpl);

	if (points > 0 && layout == H5D_CONTIGUOUS) {
		hsize_t need = (hsize_t)points * H5Tget_size(type);
		if (H5Dget_storage_size(dset) < need) {
			cli_error("'%s': dataset '%s' was never fully written "
				  "(%llu of %llu bytes stored)", file, name,
				  (unsigned long long)H5Dget_storage_size(dset),
				  (unsigned long long)need);
			rc = -1;
		}
	} else if (points > 0 && layout == H5D_CHUNKED) {
		hsize_t need = 1;
		H5Sget_simple_extent_dims(space, shape, NULL);
		H5Pget_chunk(dcpl, rank, chunk);
		for (int d = 0; d < rank; d++)
			need *= (shape[d] + chunk[d] - 1) / chunk[d];
		/* HDF5 1.10 refuses H5S_ALL here: pass the dataset's space. */
		if (H5Dget_num_chunks(dset, space, &stored) < 0 ||
		    stored < need) {
			cli_error("'%s': dataset '%s' was never fully written "
				  "(%llu of %llu chunks stored)", file, name,
				  (unsigned long long)stored,
				  (unsigned long long)need);
			rc = -1;
		}
	}
	H5Tclose(type);
	H5Pclose(dcpl);
	H5Sclose(space);
	return rc;
}

/*
 * Selects the flat batch range [start, start + count) in a file space as a
 * union of hyperslabs. Each block takes q rows of the axis j whose inner
 * axes are all at 0 and fully covered, so a range needs few blocks.
 */
void h5_select_flat(hid_t space, int batch_rank, const hsize_t *shape,
		    int rank, int64_t start, int64_t count)
{
	hsize_t off[CLI_MAX_RANK], cnt[CLI_MAX_RANK];
	int first = 1;
	for (int d = batch_rank; d < rank; d++) {
		off[d] = 0;
		cnt[d] = shape[d];
	}
	if (batch_rank == 0) {
		H5Sselect_hyperslab(space, H5S_SELECT_SET, off, NULL, cnt,
				    NULL);
		return;
	}
	while (count > 0) {
		int64_t idx[CLI_MAX_RANK] = {0}, rest = start, inner = 1, q;
		int j = batch_rank - 1;
		for (int d = batch_rank - 1; d >= 0; d--) {
			idx[d] = rest % (int64_t)shape[d];
			rest /= (int64_t)shape[d];
		}
		while (j > 0 && idx[j] == 0 &&
		       count >= inner * (int64_t)shape[j]) {
			inner *= (int64_t)shape[j];
			j--;
		}
		q = count / inner;
		if (q > (int64_t)shape[j] - idx[j])
			q = (int64_t)shape[j] - idx[j];
		for (int d = 0; d < batch_rank; d++) {
			off[d] = d <= j ? (hsize_t)idx[d] : 0;
			cnt[d] = d < j ? 1 : d == j ? (hsize_t)q : shape[d];
		}
		H5Sselect_hyperslab(space, first ? H5S_SELECT_SET : H5S_SELECT_OR,
				    off, NULL, cnt, NULL);
		first = 0;
		start += q * inner;
		count -= q * inner;
	}
}

int h5_read_flat(hid_t dset, hid_t memtype, int batch_rank,
		 const hsize_t *shape, int rank, int64_t start, int64_t count,
		 void *buf)
{
	hsize_t values = (hsize_t)count;
	hid_t fspace, mspace;
	herr_t status;
	for (int d = batch_rank; d < rank; d++)
		values *= shape[d];
	if (values == 0)
		return 0;
	fspace = H5Dget_space(dset);
	mspace = H5Screate_simple(1, &values, NULL);
	h5_select_flat(fspace, batch_rank, shape, rank, start, count);
	status = H5Dread(dset, memtype, mspace, fspace, H5P_DEFAULT, buf);
	H5Sclose(mspace);
	H5Sclose(fspace);
	return status < 0 ? -1 : 0;
}

/* ---- opening a structure's input ------------------------------------------ */


/* "[*b, n, t, t]" for an input spec. */
static void format_spec(char *buf, size_t size, const ss_input_spec *spec)
{
	size_t used = (size_t)snprintf(buf, size, "[*b");
	for (int d = 0; d < spec->rank && used < size; d++)
		used += (size_t)snprintf(buf + used, size - used, ", %s",
					 ss_dim_names[spec->dims[d]]);
	if (used < size)
		snprintf(buf + used, size - used, "]");
}

/* Opens input k if present and checks its type, rank and storage. */
static int open_input(in_file *in, int k, int *present)
{
	const ss_input_spec *spec = &in->structure->inputs[k];
	in_dataset *ds = &in->ds[k];
	hid_t type;
	H5T_class_t cls;
	char want[64], got[256];

	ds->id = -1;
	*present = H5Lexists(in->group, spec->name, H5P_DEFAULT) > 0;
	if (!*present)
		return 0;
	ds->present = 1;
	ds->id = H5Dopen2(in->group, spec->name, H5P_DEFAULT);
	if (ds->id < 0) {
		cli_error("'%s': '%s' is not a dataset", in->path, spec->name);
		return -1;
	}
	type = H5Dget_type(ds->id);
	cls = H5Tget_class(type);
	H5Tclose(type);
	if ((spec->kind == SS_REAL && cls != H5T_FLOAT) ||
	    (spec->kind == SS_INT && cls != H5T_INTEGER)) {
		cli_error("'%s': dataset '%s' is not %s; %s needs %s dataset",
			  in->path, spec->name,
			  spec->kind == SS_REAL ? "floating-point" : "integer",
			  in->structure->name,
			  spec->kind == SS_REAL ? "a float16, float32 or float64"
						: "an integer");
		return -1;
	}
	if (h5_dataset_shape(ds->id, in->path, spec->name, &ds->rank,
			     ds->shape))
		return -1;
	format_spec(want, sizeof want, spec);
	cli_format_shape(got, sizeof got, ds->rank, ds->shape);
	if (ds->rank < spec->rank) {
		cli_error("'%s': dataset '%s' has shape %s; %s needs %s",
			  in->path, spec->name, got, in->structure->name, want);
		return -1;
	}
	ds->batch_rank = ds->rank - spec->rank;
	return h5_check_storage(ds->id, in->path, spec->name);
}

/* Sets in->dim from the present datasets; all uses of a letter agree. */
static int resolve_dims(in_file *in)
{
	const ss_structure *st = in->structure;
	int from[SS_DIM_COUNT];
	for (int d = 0; d < SS_DIM_COUNT; d++) {
		in->dim[d] = -1;
		from[d] = -1;
	}
	for (int k = 0; k < st->n_inputs; k++) {
		const ss_input_spec *spec = &st->inputs[k];
		const in_dataset *ds = &in->ds[k];
		if (!ds->present)
			continue;
		for (int a = 0; a < spec->rank; a++) {
			ss_dim d = spec->dims[a];
			int64_t size = (int64_t)ds->shape[ds->batch_rank + a];
			char want[64], got[256];
			if (ds->shape[ds->batch_rank + a] > INT32_MAX) {
				cli_format_shape(got, sizeof got, ds->rank, ds->shape);
				cli_error("'%s': dataset '%s' has shape %s; %s = %llu is absurd (more than 2^31 - 1)",
					  in->path, spec->name, got, ss_dim_names[d],
					  (unsigned long long)ds->shape[ds->batch_rank + a]);
				return -1;
			}
			if (in->dim[d] < 0) {
				in->dim[d] = size;
				from[d] = k;
				continue;
			}
			if (in->dim[d] == size)
				continue;
			format_spec(want, sizeof want, spec);
			cli_format_shape(got, sizeof got, ds->rank, ds->shape);
			if (from[d] == k)
				cli_error("'%s': dataset '%s' has shape %s; %s needs %s",
					  in->path, spec->name, got, st->name,
					  want);
			else
				cli_error("'%s': dataset '%s' has shape %s; %s needs %s with %s = %lld (from '%s')",
					  in->path, spec->name, got, st->name,
					  want, ss_dim_names[d],
					  (long long)in->dim[d],
					  st->inputs[from[d]].name);
			return -1;
		}
	}
	int64_t given[SS_DIM_COUNT];
	for (int d = 0; d < SS_DIM_COUNT; d++) {
		if (in->dim[d] < 0)
			in->dim[d] = 0;
		given[d] = in->dim[d];
	}
	ss_dims_derive(in->dim);
	/* A derived letter that is an input's axis (nt+pt) must be what
	 * the others make it. */
	for (int d = 0; d < SS_DIM_COUNT; d++) {
		const in_dataset *ds;
		char want[64], got[256];
		if (from[d] < 0 || given[d] == in->dim[d])
			continue;
		ds = &in->ds[from[d]];
		format_spec(want, sizeof want, &st->inputs[from[d]]);
		cli_format_shape(got, sizeof got, ds->rank, ds->shape);
		cli_error("'%s': dataset '%s' has shape %s; %s needs %s with %s = %lld",
			  in->path, st->inputs[from[d]].name, got, st->name,
			  want, ss_dim_names[d], (long long)in->dim[d]);
		return -1;
	}
	return 0;
}

/*
 * The batch shape: the broadcast of the parameters' batch axes (numpy's
 * rule). A lengths dataset (an input of rank 0 per element) must broadcast
 * to that shape without enlarging it (numpy's broadcast_to): lengths [B, 1]
 * against potentials [B, n, t, t] is a mistake, not a B x B batch.
 */
static int resolve_batch(in_file *in)
{
	const ss_structure *st = in->structure;
	int first = -1;
	char a_shape[256], b_shape[256];
	in->batch_rank = 0;
	for (int k = 0; k < st->n_inputs; k++) {
		const in_dataset *ds = &in->ds[k];
		if (!ds->present || st->inputs[k].rank == 0)
			continue;
		if (ds->batch_rank > in->batch_rank) {
			/* Right-align: shift the shape so far. */
			int shift = ds->batch_rank - in->batch_rank;
			memmove(in->batch_shape + shift, in->batch_shape,
				(size_t)in->batch_rank * sizeof(hsize_t));
			for (int d = 0; d < shift; d++)
				in->batch_shape[d] = 1;
			in->batch_rank = ds->batch_rank;
		}
		for (int a = 0; a < ds->batch_rank; a++) {
			hsize_t *have = &in->batch_shape[in->batch_rank -
							 ds->batch_rank + a];
			hsize_t size = ds->shape[a];
			if (first < 0 || *have == 1) {
				*have = size;
			} else if (size != 1 && size != *have) {
				cli_format_shape(a_shape, sizeof a_shape,
						 ds->batch_rank, ds->shape);
				cli_format_shape(b_shape, sizeof b_shape,
						 in->batch_rank,
						 in->batch_shape);
				cli_error("'%s': dataset '%s' has batch axes %s, which do not broadcast with %s",
					  in->path, st->inputs[k].name,
					  a_shape, b_shape);
				return -1;
			}
		}
		first = k;
	}
	for (int k = 0; k < st->n_inputs; k++) {
		const in_dataset *ds = &in->ds[k];
		int fits = ds->batch_rank <= in->batch_rank;
		if (!ds->present || st->inputs[k].rank != 0)
			continue;
		for (int a = 0; fits && a < ds->batch_rank; a++) {
			hsize_t have = in->batch_shape[in->batch_rank -
						       ds->batch_rank + a];
			fits = ds->shape[a] == 1 || ds->shape[a] == have;
		}
		if (!fits) {
			cli_format_shape(a_shape, sizeof a_shape,
					 ds->batch_rank, ds->shape);
			cli_format_shape(b_shape, sizeof b_shape,
					 in->batch_rank, in->batch_shape);
			cli_error("'%s': dataset '%s' has batch axes %s, which do not broadcast to the batch shape %s of the other datasets",
				  in->path, st->inputs[k].name, a_shape,
				  b_shape);
			return -1;
		}
	}
	in->batch_count = 1;
	for (int d = 0; d < in->batch_rank; d++)
		in->batch_count *= (int64_t)in->batch_shape[d];
	return 0;
}

/*
 * The Damerau-Levenshtein distance (optimal string alignment: insertions,
 * deletions, substitutions, transpositions of neighbours) of two names,
 * ignoring case; names longer than 63 bytes count as far apart.
 */
static int name_distance(const char *a, const char *b)
{
	int d[64][64];
	size_t la = strlen(a), lb = strlen(b);
	if (la >= SS_ARRAY_LEN(d) || lb >= SS_ARRAY_LEN(d[0]))
		return INT32_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int ai = tolower((unsigned char)a[i - 1]);
			int bj = tolower((unsigned char)b[j - 1]);
			int best = d[i - 1][j - 1] + (ai != bj);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == bj &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* Attributes synstruct knows besides the structure's options: its own
 * input attribute and those it writes into outputs. */
static const char *const known_attrs[] = {
	"structure", "command", "synstruct_version", "seed", "num_samples",
};

/*
 * H5Aiterate2 callback: warns about an attribute that is not known but lies
 * within distance 2 of an option of the structure (a typo such as
 * 'projectve'). An attribute of the root that the group also has was seen
 * there already.
 */
static herr_t warn_typo(hid_t loc, const char *name, const H5A_info_t *info,
			void *data)
{
	const in_file *in = data;
	const ss_structure *st = in->structure;
	int best = -1, best_distance = 3;
	(void)info;
	if (strlen(name) < 4 ||
	    (loc != in->group && H5Aexists(in->group, name) > 0))
		return 0;
	for (size_t k = 0; k < SS_ARRAY_LEN(known_attrs); k++)
		if (!strcmp(name, known_attrs[k]))
			return 0;
	for (int k = 0; k < st->n_options; k++)
		if (!strcmp(name, st->options[k].name))
			return 0;
	for (int k = 0; k < st->n_options; k++) {
		int distance = name_distance(name, st->options[k].name);
		if (distance < best_distance) {
			best = k;
			best_distance = distance;
		}
	}
	if (best >= 0)
		cli_warning("'%s': attribute '%s' is not an option of %s; did you mean '%s'?",
			    in->path, name, st->name, st->options[best].name);
	return 0;
}

/* Warns about misspelt options among the group's and the root's
 * attributes (SPEC §6). */
static void check_attr_names(in_file *in)
{
	H5O_info_t group, root;
	if (cli_quiet || in->structure->n_options == 0)
		return;
	H5Aiterate2(in->group, H5_INDEX_NAME, H5_ITER_INC, NULL, warn_typo,
		    in);
	if (H5Oget_info2(in->group, &group, H5O_INFO_BASIC) >= 0 &&
	    H5Oget_info2(in->file, &root, H5O_INFO_BASIC) >= 0 &&
	    group.addr != root.addr)
		H5Aiterate2(in->file, H5_INDEX_NAME, H5_ITER_INC, NULL,
			    warn_typo, in);
}

/* A structure flag that in's structure does not have is bad usage. */
static int check_flags(const in_file *in, const cli_options *opt)
{
	const ss_structure *st = in->structure;
	for (int f = 0; f < opt->n_flags; f++) {
		int known = 0;
		for (int k = 0; k < st->n_options; k++)
			known |= !strcmp(st->options[k].flag, opt->flags[f]);
		if (!known) {
			cli_error("'--%s' does not apply to %s", opt->flags[f],
				  st->name);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* The flags given override in's options; EXIT_USAGE after reporting a
 * value the option does not take. */
static int apply_flags(in_file *in, const cli_options *opt)
{
	const ss_structure *st = in->structure;
	for (int k = 0; k < st->n_options; k++) {
		const ss_option_spec *spec = &st->options[k];
		for (int f = 0; f < opt->n_flags; f++) {
			ss_error err;
			if (strcmp(spec->flag, opt->flags[f]))
				continue;
			if (spec->kind == SS_OPTION_FLAG) {
				in->option[k] = spec->flag_value;
			} else if (ss_option_parse(spec, opt->flag_values[f],
						   &in->option[k], &err)) {
				cli_error("option '--%s': %s", spec->flag,
					  err.message);
				return EXIT_USAGE;
			}
		}
	}
	return 0;
}

/* What an option attribute must be, for the error. */
static const char *attr_takes(const ss_option_spec *spec, char *buf,
			      size_t size)
{
	char takes[256];
	if (spec->kind == SS_OPTION_FLAG)
		snprintf(buf, size, "the integer 0 or 1");
	else
		snprintf(buf, size, "%s%s",
			 ss_option_takes(spec, takes, sizeof takes),
			 spec->kind == SS_OPTION_ENUM ? " (a name or its index)"
						      : "");
	return buf;
}

/* Option spec's attribute of obj into *value: 1 if absent, 0 if read and
 * valid, < 0 if not a value of the option. An enum's may be its name. */
static int read_option_attr(hid_t obj, const ss_option_spec *spec,
			    int64_t *value)
{
	char text[256];
	int rc = read_int_attr(obj, spec->name, value);
	if (rc < 0 && spec->kind == SS_OPTION_ENUM &&
	    read_string_attr(obj, spec->name, text, sizeof text) == 0)
		rc = ss_option_parse(spec, text, value, NULL) == SS_OK ? 0 : -1;
	if (rc == 0 && ss_option_check(spec, *value, NULL) != SS_OK)
		rc = -1;
	return rc;
}

int in_resolve_options(in_file *in, const cli_options *opt,
		       in_option_reader read, const void *source)
{
	int rc = check_flags(in, opt);
	if (rc)
		return rc;
	for (int k = 0; k < in->structure->n_options; k++) {
		in->option[k] = in->structure->options[k].default_value;
		if (read(in, k, source) < 0)
			return EXIT_DATA;
	}
	return apply_flags(in, opt);
}

/* Option k from its attribute: the group's, else the file root's. */
static int read_attr_option(in_file *in, int k, const void *source)
{
	const ss_option_spec *spec = &in->structure->options[k];
	char takes[300];
	int rc = read_option_attr(in->group, spec, &in->option[k]);
	(void)source;
	if (rc > 0)
		rc = read_option_attr(in->file, spec, &in->option[k]);
	if (rc < 0)
		cli_error("'%s': attribute '%s' must be %s", in->path,
			  spec->name, attr_takes(spec, takes, sizeof takes));
	return rc;
}

/* The structure's options (attributes, then flags), and a warning for an
 * attribute that looks like a misspelt option. */
static int resolve_options(in_file *in, const cli_options *opt)
{
	int rc = in_resolve_options(in, opt, read_attr_option, NULL);
	if (rc == 0)
		check_attr_names(in);
	return rc;
}

/* 64 if a present real input is stored in more than 32 bits, else 32
 * (float16 and float32 inputs give float32 results). */
static int input_real_bits(const in_file *in)
{
	int bits = 32;
	for (int k = 0; k < in->structure->n_inputs; k++) {
		hid_t type;
		if (!in->ds[k].present ||
		    in->structure->inputs[k].kind != SS_REAL)
			continue;
		type = H5Dget_type(in->ds[k].id);
		if (H5Tget_size(type) > sizeof(float))
			bits = 64;
		H5Tclose(type);
	}
	return bits;
}

void in_init(in_file *in)
{
	memset(in, 0, sizeof *in);
	in->file = in->group = -1;
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		in->ds[k].id = -1;
}

static void map_input(in_file *in, int k);

int in_open(in_file *in, const cli_options *opt)
{
	char name[128];
	int present[SS_MAX_INPUTS] = {0};
	ss_error err;
	int rc;

	in_init(in);
	in->path = opt->input;
	if (in_open_source(opt->input, opt->input_format, in->temp_path,
			   sizeof in->temp_path, &in->file, &in->jsonl))
		return -1;
	if (in->jsonl) {
		if ((rc = jsonl_open(in, opt, in->jsonl)) != 0)
			return rc;
		return resolve_dims(in) || resolve_batch(in) ? -1 : 0;
	}
	if (opt->group) {
		if (H5Lexists(in->file, opt->group, H5P_DEFAULT) <= 0 ||
		    (in->group = H5Gopen2(in->file, opt->group,
					  H5P_DEFAULT)) < 0) {
			cli_error("'%s': no group '%s'", in->path, opt->group);
			return -1;
		}
	} else {
		in->group = H5Gopen2(in->file, "/", H5P_DEFAULT);
	}

	if (opt->structure) {
		snprintf(name, sizeof name, "%s", opt->structure);
	} else {
		rc = read_string_attr(in->group, "structure", name, sizeof name);
		if (rc > 0 && opt->group)
			rc = read_string_attr(in->file, "structure", name,
					      sizeof name);
		if (rc > 0) {
			cli_error("'%s': no 'structure' attribute; name one with --structure",
				  in->path);
			return -1;
		}
		if (rc < 0) {
			cli_error("'%s': attribute 'structure' is not a string",
				  in->path);
			return -1;
		}
	}
	in->structure = ss_structure_find(name);
	if (!in->structure) {
		char names[256];
		cli_error("'%s': unknown structure '%s' (%s)", in->path, name,
			  cli_structure_names(names, sizeof names));
		return -1;
	}
	if ((rc = resolve_options(in, opt)) != 0)
		return rc;

	for (int k = 0; k < in->structure->n_inputs; k++) {
		const ss_input_spec *spec = &in->structure->inputs[k];
		if (open_input(in, k, &present[k]))
			return -1;
		if (!present[k] && spec->presence == SS_REQUIRED) {
			cli_error("'%s': no dataset '%s'; %s needs it",
				  in->path, spec->name, in->structure->name);
			return -1;
		}
	}
	if (in->structure->check_presence &&
	    in->structure->check_presence(present, &err)) {
		cli_error("'%s': %s", in->path, err.message);
		return -1;
	}
	in->real_bits = input_real_bits(in);
	if (resolve_dims(in) || resolve_batch(in))
		return -1;
	for (int k = 0; k < in->structure->n_inputs; k++)
		if (in->ds[k].present)
			map_input(in, k);
	return 0;
}

void in_close(in_file *in)
{
	jsonl_reader_free(in->jsonl);
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		if (in->ds[k].map)
			munmap(in->ds[k].map, in->ds[k].map_len);
		if (in->ds[k].id >= 0)
			H5Dclose(in->ds[k].id);
	}
	if (in->group >= 0)
		H5Gclose(in->group);
	if (in->file >= 0)
		H5Fclose(in->file);
}

/* ---- chunks -------------------------------------------------------------- */

int64_t in_source_index(const in_file *in, const in_dataset *ds, int64_t b)
{
	int64_t src = 0, stride = 1;
	for (int d = in->batch_rank - 1; d >= 0; d--) {
		int64_t idx = b % (int64_t)in->batch_shape[d];
		int a = d - (in->batch_rank - ds->batch_rank);
		b /= (int64_t)in->batch_shape[d];
		if (a < 0)
			continue;
		if (ds->shape[a] != 1)
			src += idx * stride;
		stride *= (int64_t)ds->shape[a];
	}
	return src;
}

int in_batch_shaped(const in_file *in, const in_dataset *ds)
{
	if (ds->batch_rank != in->batch_rank)
		return 0;
	for (int d = 0; d < ds->batch_rank; d++)
		if (ds->shape[d] != in->batch_shape[d])
			return 0;
	return 1;
}

/*
 * The memory type an integer input is read as: int64, or uint64 for an
 * unsigned 64-bit dataset, whose values above INT64_MAX HDF5 would saturate
 * (little-endian) or wrap (big-endian) into int64; check_uint64 then
 * refuses those.
 */
static hid_t int_memtype(hid_t dset)
{
	hid_t type = H5Dget_type(dset);
	int wide = H5Tget_sign(type) == H5T_SGN_NONE &&
		   H5Tget_size(type) >= sizeof(uint64_t);
	H5Tclose(type);
	return wide ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
}

/* Values per batch element of dataset ds. */
static int64_t element_values(const in_dataset *ds)
{
	int64_t size = 1;
	for (int d = ds->batch_rank; d < ds->rank; d++)
		size *= (int64_t)ds->shape[d];
	return size;
}

/* Refuses a uint64 value above INT64_MAX among the n values at values,
 * which start batch element b of input k; the rest read as int64. */
static int check_uint64(const in_file *in, int k, const void *values,
			int64_t n, int64_t b)
{
	const in_dataset *ds = &in->ds[k];
	const uint64_t *u = values;
	const int64_t size = element_values(ds);
	char at[256] = "", element[256];
	int64_t shape[CLI_MAX_RANK];
	for (int64_t j = 0; j < n; j++) {
		if (u[j] <= INT64_MAX)
			continue;
		if (ds->rank > ds->batch_rank) {
			char index[240];
			int rank = ds->rank - ds->batch_rank;
			ss_format_index(index, sizeof index, j % size, rank,
					cli_shape64(rank,
						    ds->shape + ds->batch_rank,
						    shape));
			snprintf(at, sizeof at, " at %s", index);
		}
		ss_format_index(element, sizeof element, b + j / size,
				in->batch_rank,
				cli_shape64(in->batch_rank, in->batch_shape,
					    shape));
		cli_error("'%s': dataset '%s' holds %llu%s, outside the int64 range in batch element %s",
			  in->path, in->structure->inputs[k].name,
			  (unsigned long long)u[j], at, element);
		return -1;
	}
	return 0;
}

/*
 * Reads input k for elements [start, start + count). Runs of consecutive
 * source elements are read at once; an element that repeats its
 * predecessor's source (a shared parameter) points at the same values.
 */
/* Whether real input k is read as floats: its spec reads them and the
 * dataset holds floats of 32 bits or fewer (float16 widens exactly). */
static int reads_as_f32(const in_file *in, int k)
{
	const ss_input_spec *spec = &in->structure->inputs[k];
	hid_t type;
	int f32;
	if (spec->kind != SS_REAL || !spec->reads_f32)
		return 0;
	type = H5Dget_type(in->ds[k].id);
	f32 = H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) <= sizeof(float);
	H5Tclose(type);
	return f32;
}

/* The type input k is read as in memory, and its width in bytes. */
static hid_t input_memtype(const in_file *in, int k, size_t *width)
{
	const ss_input_spec *spec = &in->structure->inputs[k];
	if (reads_as_f32(in, k)) {
		*width = sizeof(float);
		return H5T_NATIVE_FLOAT;
	}
	*width = spec->kind == SS_REAL ? sizeof(double) : sizeof(int64_t);
	return spec->kind == SS_REAL ? H5T_NATIVE_DOUBLE
				     : int_memtype(in->ds[k].id);
}

/* The least dataset mapped: a smaller one is read whole, which leaves its
 * values in cache for the computation (a 590 KB non-projective batch took
 * 0.71 ms to compute mapped against 0.50 read). */
#define MAP_MIN_BYTES ((hssize_t)8 << 20)

/* Maps input k where its dataset allows (see the top of this file);
 * leaves it to be read elsewhere. */
static void map_input(in_file *in, int k)
{
	in_dataset *ds = &in->ds[k];
	size_t width, bytes, page = (size_t)sysconf(_SC_PAGESIZE), base;
	const hid_t memtype = input_memtype(in, k, &width);
	const hid_t type = H5Dget_type(ds->id);
	const hid_t dcpl = H5Dget_create_plist(ds->id);
	const hid_t fapl = H5Fget_access_plist(in->file);
	const hid_t space = H5Dget_space(ds->id);
	const hssize_t points = H5Sget_simple_extent_npoints(space);
	const haddr_t offset = H5Dget_offset(ds->id);
	const char *env = getenv("SYNSTRUCT_MAP");
	const int forced = env && *env ? strcmp(env, "0") != 0 : -1;
	int ok = forced != 0 &&
		 (forced == 1 || points * (hssize_t)width >= MAP_MIN_BYTES) &&
		 memtype != H5T_NATIVE_UINT64 && H5Tequal(type, memtype) > 0 &&
		 H5Pget_layout(dcpl) == H5D_CONTIGUOUS &&
		 H5Pget_external_count(dcpl) == 0 &&
		 H5Pget_driver(fapl) == H5FD_SEC2 && points > 0 &&
		 offset != HADDR_UNDEF && offset % width == 0;
	int *fd = NULL;
	struct stat st;
	void *map, *first;
	H5Sclose(space);
	H5Pclose(fapl);
	H5Pclose(dcpl);
	H5Tclose(type);
	bytes = (size_t)points * width;
	if (!ok || H5Fget_vfd_handle(in->file, H5P_DEFAULT, (void **)&fd) < 0 ||
	    fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size < offset + bytes)
		return;
	base = (size_t)offset / page * page;
	map = mmap(NULL, (size_t)offset + bytes - base, PROT_READ, MAP_SHARED,
		   *fd, (off_t)base);
	if (map == MAP_FAILED)
		return;
	ds->map = map;
	ds->map_len = (size_t)offset + bytes - base;
	ds->mapped = (const char *)map + ((size_t)offset - base);
	/* the first element as HDF5 reads it, against the mapping's */
	bytes = (size_t)element_values(ds) * width;
	first = malloc(bytes ? bytes : 1);
	ok = first && h5_read_flat(ds->id, memtype, ds->batch_rank, ds->shape,
				   ds->rank, 0, 1, first) == 0 &&
	     memcmp(first, ds->mapped, bytes) == 0;
	free(first);
	if (!ok) {
		munmap(ds->map, ds->map_len);
		ds->map = NULL;
		ds->mapped = NULL;
	}
}

/* Maps the pages of bytes [from, to) of dataset ds's values in ahead of
 * their reading; -1 where they cannot be (past the file's end). */
static int populate(const in_dataset *ds, size_t from, size_t to)
{
#ifdef MADV_POPULATE_READ
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const uintptr_t lo = (uintptr_t)(ds->mapped + from) / page * page;
	if (to > from &&
	    madvise((void *)lo, (uintptr_t)(ds->mapped + to) - lo,
		    MADV_POPULATE_READ) != 0 &&
	    errno != EINVAL) /* a kernel without it: the reads fault them in */
		return -1;
#else
	(void)ds, (void)from, (void)to;
#endif
	return 0;
}

/* Points the chunk's elements at mapped input k (see read_input). */
static int point_input(const in_file *in, int k, int64_t start,
		       int64_t count, size_t width, ss_dtype dtype,
		       in_chunk *chunk)
{
	const in_dataset *ds = &in->ds[k];
	const size_t bytes = (size_t)element_values(ds) * width;
	int64_t lo = INT64_MAX, hi = -1;
	for (int64_t i = 0; i < count; i++) {
		const int64_t src = in_source_index(in, ds, start + i);
		chunk->elements[i].input[k].data = ds->mapped + (size_t)src * bytes;
		chunk->elements[i].input[k].dtype = dtype;
		lo = src < lo ? src : lo;
		hi = src > hi ? src : hi;
	}
	if (count > 0 && in_batch_shaped(in, ds)) {
		chunk->mapped_from[k] = (size_t)lo * bytes;
		chunk->mapped_to[k] = (size_t)(hi + 1) * bytes;
	}
	if (count > 0 && populate(ds, (size_t)lo * bytes, (size_t)(hi + 1) * bytes)) {
		cli_error("'%s': cannot read dataset '%s' (truncated or corrupt file?)",
			  in->path, in->structure->inputs[k].name);
		return -1;
	}
	/* Toward the caches: the computation, on another core, then finds
	 * the values in the shared cache rather than in memory (64 MiB of
	 * floats: its compute 6.5 ms against 5.4). */
	for (size_t at = (size_t)lo * bytes; count > 0 && at < (size_t)(hi + 1) * bytes;
	     at += 64)
		__builtin_prefetch(ds->mapped + at, 0, 2);
	return 0;
}

static int read_input(const in_file *in, int k, int64_t start,
		      int64_t count, in_chunk *chunk)
{
	const in_dataset *ds = &in->ds[k];
	const ss_input_spec *spec = &in->structure->inputs[k];
	size_t width;
	const hid_t memtype = input_memtype(in, k, &width);
	const ss_dtype dtype = memtype == H5T_NATIVE_FLOAT ? SS_F32 : SS_NATIVE;
	const int64_t size = element_values(ds);
	int64_t filled = 0;
	char *data;
	if (ds->mapped)
		return point_input(in, k, start, count, width, dtype, chunk);
	data = in_chunk_room(chunk, k, (size_t)(count * size) * width);
	if (!data) {
		cli_error("cannot allocate %lld values for dataset '%s'",
			  (long long)(count * size), spec->name);
		return -1;
	}
	for (int64_t i = 0; i < count;) {
		int64_t src = in_source_index(in, ds, start + i), run = 1;
		chunk->elements[i].input[k].dtype = dtype;
		if (i > 0 && src == in_source_index(in, ds, start + i - 1)) {
			chunk->elements[i].input[k].data =
				chunk->elements[i - 1].input[k].data;
			i++;
			continue;
		}
		while (i + run < count &&
		       in_source_index(in, ds, start + i + run) == src + run)
			run++;
		if (h5_read_flat(ds->id, memtype, ds->batch_rank, ds->shape,
				 ds->rank, src, run,
				 data + (size_t)(filled * size) * width) < 0) {
			cli_error("'%s': cannot read dataset '%s' (truncated or corrupt file?)",
				  in->path, spec->name);
			return -1;
		}
		if (memtype == H5T_NATIVE_UINT64 &&
		    check_uint64(in, k, data + (size_t)(filled * size) * width,
				 run * size, start + i))
			return -1;
		for (int64_t r = 0; r < run; r++) {
			chunk->elements[i + r].input[k].data =
				data + (size_t)((filled + r) * size) * width;
			chunk->elements[i + r].input[k].dtype = dtype;
		}
		filled += run;
		i += run;
	}
	return 0;
}

void in_chunk_release(const in_file *in, in_chunk *chunk)
{
	const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		/* whole pages only: the chunks beside keep theirs */
		const char *values = in->ds[k].mapped;
		const uintptr_t lo = values ? ((uintptr_t)(values + chunk->mapped_from[k]) +
					       page - 1) / page * page : 0;
		const uintptr_t hi = values ? (uintptr_t)(values + chunk->mapped_to[k]) /
					       page * page : 0;
		if (hi > lo)
			madvise((void *)lo, hi - lo, MADV_DONTNEED);
		chunk->mapped_from[k] = chunk->mapped_to[k] = 0;
	}
}

void *in_chunk_room(in_chunk *chunk, int k, size_t bytes)
{
	/* whole cache lines, as the kernels' vector loads want them, and
	 * one spare */
	const size_t lines = (bytes + 127) / 64 * 64;
	if (chunk->data[k] && chunk->room[k] >= lines)
		return chunk->data[k];
	free(chunk->data[k]);
	chunk->data[k] = aligned_alloc(64, lines);
	chunk->room[k] = chunk->data[k] ? lines : 0;
	return chunk->data[k];
}

int in_read_chunk(const in_file *in, int64_t start, int64_t count,
		  in_chunk *chunk)
{
	free(chunk->elements);
	chunk->elements = calloc((size_t)(count ? count : 1),
				 sizeof *chunk->elements);
	if (!chunk->elements) {
		cli_error("cannot allocate %lld batch elements",
			  (long long)count);
		return -1;
	}
	for (int64_t i = 0; i < count; i++) {
		memcpy(chunk->elements[i].dim, in->dim, sizeof in->dim);
		memcpy(chunk->elements[i].option, in->option, sizeof in->option);
		chunk->elements[i].index = start + i;
	}
	for (int k = 0; k < in->structure->n_inputs; k++)
		if (in->ds[k].present && !in->jsonl &&
		    read_input(in, k, start, count, chunk))
			return -1;
	if (in->jsonl)
		return jsonl_read_chunk(in, count, chunk);
	return 0;
}

void in_chunk_free(in_chunk *chunk)
{
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		free(chunk->data[k]);
	free(chunk->elements);
	memset(chunk, 0, sizeof *chunk);
}
