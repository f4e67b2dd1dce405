/*
 * output.c - results as HDF5 or JSON Lines.
 *
 * HDF5: one dataset per result, shape [S?, *b, array], stored as the
 * out_array says (float32 or float64 reals, uint8 events, int32 decodes),
 * root attributes naming the structure, command and version, object
 * timestamps off (identical runs give identical bytes). A regular file is
 * written under a temporary name beside its destination and renamed when
 * complete (cli/dest.c); for standard output or a destination that is not
 * a regular file it is built in memory and written as a file image. JSON
 * Lines for those wait in an unlinked temporary file until the run has
 * succeeded, so that a failed run prints nothing.
 *
 * A temporary file is handed to the disk chunk by chunk as it is written
 * (sync_file_range, which does not wait for the disk): renamed over an
 * existing file, ext4 would otherwise start writing the whole of it back
 * at the rename (auto_da_alloc), with nothing left to overlap it (25 ms
 * for 64 MiB of marginals).
 *
 * A gradient of a dataset that elements share (out_array.sum_over) is
 * summed over them into a buffer of the dataset's shape as the chunks come,
 * in batch order, so its bytes depend on neither the threads nor the
 * chunks, and written when the output is committed.
 *
 * JSON Lines: one object per batch element, in batch order:
 *   {"index": [i, j], "<result>": value, ...}
 * with per-sample results as a list over samples. Doubles are printed with
 * the fewest digits that read back to the same value; -inf, inf and NaN
 * are the strings "-inf", "inf" and "nan".
 */
#define _GNU_SOURCE /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct out_writer {
	int hdf5;
	const char *path;            /* for messages: -o's PATH, or "-" */
	cli_dest *dest;
	char temp[CLI_TEMP_MAX];     /* the temporary file; "": held back */
	int temp_fd;                 /* the temporary file, for writing back */
	FILE *json;
	hid_t file, dset[OUT_MAX_ARRAYS];
	const out_array *arrays;
	int n_arrays;
	int has_sample_axis;
	int64_t num_samples;
	const in_file *in;
	/* HDF5: the sums of the sum_over arrays, [samples][entries][size]
	 * (entries: the dataset's batch entries), else NULL */
	double *sum[OUT_MAX_ARRAYS];
	int64_t sum_entries[OUT_MAX_ARRAYS];
	/* HDF5: the real values of a piece, as the file stores them */
	void *piece;
	size_t piece_bytes;
	/* HDF5: the arrays out_narrow turns into floats where they lie */
	int narrowed[OUT_MAX_ARRAYS];
};

/* Values of a piece: the real values of a chunk are converted and written
 * in pieces of whole elements of about this many values, through one
 * buffer that stays in cache. */
#define OUT_PIECE_VALUES ((int64_t)1 << 17)

/* ---- JSON Lines ------------------------------------------------------------ */

/* A double, or the float32 it rounds to when single is set, with the
 * fewest digits that read back to the same value. */
static void json_double(FILE *f, double x, int single)
{
	char buf[32];
	if (isnan(x)) {
		fputs("\"nan\"", f);
		return;
	}
	if (isinf(x) || (single && isinf((float)x))) {
		fputs(x > 0 ? "\"inf\"" : "\"-inf\"", f);
		return;
	}
	if (single) {
		float y = (float)x;
		for (int digits = 6; digits <= 9; digits++) {
			snprintf(buf, sizeof buf, "%.*g", digits, (double)y);
			if (strtof(buf, NULL) == y)
				break;
		}
	} else {
		for (int digits = 15; digits <= 17; digits++) {
			snprintf(buf, sizeof buf, "%.*g", digits, x);
			if (strtod(buf, NULL) == x)
				break;
		}
	}
	fputs(buf, f);
}

static void json_value(FILE *f, const out_array *a, const void *data,
		       int64_t k)
{
	if (a->kind == SS_INT)
		fprintf(f, "%lld", (long long)((const int64_t *)data)[k]);
	else if (a->type == OUT_U8)
		fputc(((const double *)data)[k] != 0.0 ? '1' : '0', f);
	else
		json_double(f, ((const double *)data)[k], a->type == OUT_F32);
}

/* Prints axes d.. of one array as nested lists; *k counts the values. */
static void json_axes(FILE *f, const out_array *a, int d, const void *data,
		      int64_t *k)
{
	if (d >= a->rank || d >= SS_MAX_EVENT_RANK) {
		json_value(f, a, data, (*k)++);
		return;
	}
	fputc('[', f);
	for (hsize_t i = 0; i < a->shape[d]; i++) {
		if (i)
			fputc(',', f);
		json_axes(f, a, d + 1, data, k);
	}
	fputc(']', f);
}

static void json_array(FILE *f, const out_array *a, const void *data)
{
	int64_t k = 0;
	json_axes(f, a, 0, data, &k);
}

static int json_write_chunk(out_writer *w, int64_t start, int64_t count,
			    void *const data[])
{
	const in_file *in = w->in;
	for (int64_t i = 0; i < count; i++) {
		int64_t idx[CLI_MAX_RANK], flat = start + i;
		for (int d = in->batch_rank - 1; d >= 0; d--) {
			idx[d] = flat % (int64_t)in->batch_shape[d];
			flat /= (int64_t)in->batch_shape[d];
		}
		fputs("{\"index\":[", w->json);
		for (int d = 0; d < in->batch_rank; d++)
			fprintf(w->json, "%s%lld", d ? "," : "",
				(long long)idx[d]);
		fputc(']', w->json);
		for (int k = 0; k < w->n_arrays; k++) {
			const out_array *a = &w->arrays[k];
			size_t width = a->kind == SS_REAL ? sizeof(double)
							  : sizeof(int64_t);
			fprintf(w->json, ",\"%s\":", a->name);
			if (w->has_sample_axis)
				fputc('[', w->json);
			for (int64_t s = 0; s < w->num_samples; s++) {
				const char *base = data[a->source];
				if (s)
					fputc(',', w->json);
				json_array(w->json, a,
					   base + (size_t)((s * count + i) * a->stride +
							   a->offset) * width);
			}
			if (w->has_sample_axis)
				fputc(']', w->json);
		}
		fputs("}\n", w->json);
	}
	if (ferror(w->json)) {
		cli_error("'%s': cannot write: %s", w->path ? w->path : "-",
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- HDF5 -------------------------------------------------------------- */

static int h5_string_attr(hid_t obj, const char *name, const char *value)
{
	hid_t type = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), attr;
	herr_t rc;
	H5Tset_size(type, strlen(value) + 1);
	attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
	rc = H5Awrite(attr, type, value);
	H5Aclose(attr);
	H5Sclose(space);
	H5Tclose(type);
	return attr < 0 || rc < 0 ? -1 : 0;
}

/* A scalar attribute of type type (integers; a little-endian double) from
 * value of that type. */
static int h5_int_attr(hid_t obj, const char *name, hid_t type,
		       const void *value)
{
	hid_t space = H5Screate(H5S_SCALAR), attr;
	herr_t rc;
	attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
	rc = H5Awrite(attr, type, value);
	H5Aclose(attr);
	H5Sclose(space);
	return attr < 0 || rc < 0 ? -1 : 0;
}

/* Shape of array a's dataset: [S?, *b, a], or for a sum, [S?, the
 * dataset's batch axes, a]. */
static int dataset_shape(const out_writer *w, const out_array *a,
			 hsize_t *shape)
{
	int rank = 0;
	if (w->has_sample_axis)
		shape[rank++] = (hsize_t)w->num_samples;
	if (a->sum_over)
		for (int d = 0; d < a->sum_over->batch_rank; d++)
			shape[rank++] = a->sum_over->shape[d];
	else
		for (int d = 0; d < w->in->batch_rank; d++)
			shape[rank++] = w->in->batch_shape[d];
	for (int d = 0; d < a->rank; d++)
		shape[rank++] = a->shape[d];
	return rank;
}

static hid_t file_type(out_type type)
{
	switch (type) {
	case OUT_F32: return H5T_IEEE_F32LE;
	case OUT_F64: return H5T_IEEE_F64LE;
	case OUT_U8: return H5T_STD_U8LE;
	case OUT_I32: return H5T_STD_I32LE;
	}
	return -1;
}

static int h5_create(out_writer *w, const cli_options *opt)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	const char *name = w->temp[0] ? w->temp : "synstruct-output.h5";
	int rc = 0;

	H5Pset_obj_track_times(fcpl, 0);
	H5Pset_obj_track_times(dcpl, 0);
	if (!w->temp[0])
		H5Pset_fapl_core(fapl, 1 << 20, 0);
	/* The temporary file dest made is made again by HDF5, exclusively:
	 * HDF5's H5F_ACC_TRUNC would open it with O_TRUNC, and ext4 writes a
	 * truncated file back to disk on its close (auto_da_alloc; 25 ms for
	 * 64 MiB, measured on a new -o file). */
	if (w->temp[0])
		unlink(w->temp);
	w->file = H5Fcreate(name, w->temp[0] ? H5F_ACC_EXCL : H5F_ACC_TRUNC,
			    fcpl, fapl);
	if (w->file >= 0 && w->temp[0])
		w->temp_fd = open(w->temp, O_RDONLY | O_CLOEXEC);
	if (w->file < 0) {
		cli_error("'%s': cannot create the HDF5 file", w->path ? w->path : "-");
		rc = -1;
		goto done;
	}
	for (int k = 0; k < w->n_arrays && rc == 0; k++) {
		hsize_t shape[CLI_MAX_RANK + SS_MAX_EVENT_RANK + 1];
		int rank = dataset_shape(w, &w->arrays[k], shape);
		hid_t space = H5Screate_simple(rank, shape, NULL);
		hid_t type = file_type(w->arrays[k].type);
		w->dset[k] = H5Dcreate2(w->file, w->arrays[k].name, type, space,
					H5P_DEFAULT, dcpl, H5P_DEFAULT);
		H5Sclose(space);
		if (w->dset[k] < 0) {
			cli_error("'%s': cannot create dataset '%s'",
				  w->path ? w->path : "-", w->arrays[k].name);
			rc = -1;
		}
	}
	if (rc == 0) {
		int64_t num = w->num_samples;
		rc = h5_string_attr(w->file, "structure", w->in->structure->name) |
		     h5_string_attr(w->file, "command", ss_ops[opt->op].name) |
		     h5_string_attr(w->file, "synstruct_version", SS_VERSION);
		for (int k = 0; k < w->in->structure->n_options; k++) {
			const ss_option_spec *spec = &w->in->structure->options[k];
			/* an enum by its name, as a user writes it */
			rc |= spec->kind == SS_OPTION_ENUM
				? h5_string_attr(w->file, spec->name,
						 spec->choices[w->in->option[k]])
				: h5_int_attr(w->file, spec->name, H5T_STD_I64LE,
					      &w->in->option[k]);
		}
		if (opt->temperature != 1.0)
			rc |= h5_int_attr(w->file, "temperature",
					  H5T_IEEE_F64LE, &opt->temperature);
		if (opt->grad) {
			int64_t one = 1;
			rc |= h5_int_attr(w->file, "grad", H5T_STD_I64LE, &one);
		}
		if (ss_ops[opt->op].samples == SS_SAMPLES_DRAWN)
			rc |= h5_int_attr(w->file, "seed", H5T_STD_U64LE,
					  &opt->seed) |
			      h5_int_attr(w->file, "num_samples",
					  H5T_STD_I64LE, &num);
		if (rc)
			cli_error("'%s': cannot write the attributes",
				  w->path ? w->path : "-");
	}
done:
	H5Pclose(dcpl);
	H5Pclose(fcpl);
	H5Pclose(fapl);
	return rc;
}

/* Adds the chunk's values of sum_over array k into its sums, element by
 * element in batch order. */
static void h5_sum_chunk(out_writer *w, int k, int64_t start, int64_t count,
			 const double *data)
{
	const out_array *a = &w->arrays[k];
	for (int64_t s = 0; s < w->num_samples; s++)
		for (int64_t i = 0; i < count; i++) {
			int64_t entry = in_source_index(w->in, a->sum_over,
							start + i);
			double *to = w->sum[k] +
				     (s * w->sum_entries[k] + entry) * a->size;
			const double *from = data + (s * count + i) * a->stride +
					     a->offset;
			for (int64_t j = 0; j < a->size; j++)
				to[j] += from[j];
		}
}

/* Writes the sums of the sum_over arrays. */
static int h5_write_sums(out_writer *w)
{
	for (int k = 0; k < w->n_arrays; k++) {
		if (!w->sum[k] || w->sum_entries[k] * w->arrays[k].size == 0)
			continue;
		if (H5Dwrite(w->dset[k], H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL,
			     H5P_DEFAULT, w->sum[k]) < 0) {
			cli_error("'%s': cannot write dataset '%s'",
				  w->path ? w->path : "-", w->arrays[k].name);
			return -1;
		}
	}
	return 0;
}

/*
 * A chunk's real values of array a, sample s, as the file stores them
 * (float or double), contiguous [count][size] in out: converted here in
 * one pass rather than by HDF5's conversion of a strided selection, its
 * slowest path. A double beyond float's range becomes ±inf (IEEE 754
 * conversion, C11 Annex F), as HDF5 converts it.
 */
static void real_values(const out_array *a, const double *src, int64_t count,
			void *out)
{
	for (int64_t i = 0; i < count; i++) {
		const double *from = src + i * a->stride + a->offset;
		if (a->type == OUT_F32) {
			float *to = (float *)out + i * a->size;
			for (int64_t j = 0; j < a->size; j++)
				to[j] = (float)from[j];
		} else {
			memcpy((double *)out + i * a->size, from,
			       (size_t)a->size * sizeof *from);
		}
	}
}

/*
 * Writes elements [first, first + count) of a real array, sample s, whose
 * values start at src, through real_values, in pieces of whole elements
 * (OUT_PIECE_VALUES): the buffer is reused, not a fresh allocation of the
 * chunk's size that every page of must first be faulted in. The status
 * of H5Dwrite, or -1 without memory.
 */
static herr_t h5_write_reals(out_writer *w, int k, hid_t fspace, int lead,
			     const hsize_t *shape, int rank, int64_t first,
			     const double *src, int64_t count)
{
	const out_array *a = &w->arrays[k];
	const int f32 = a->type == OUT_F32;
	const size_t width = f32 ? sizeof(float) : sizeof(double);
	const int64_t per = a->size < OUT_PIECE_VALUES
		? OUT_PIECE_VALUES / a->size : 1;
	herr_t status = 0;
	for (int64_t i = 0; i < count && status >= 0; i += per) {
		const int64_t m = count - i < per ? count - i : per;
		const hsize_t n = (hsize_t)(m * a->size);
		hid_t mspace;
		if ((size_t)n * width > w->piece_bytes) {
			free(w->piece);
			w->piece_bytes = (size_t)n * width;
			if (!(w->piece = malloc(w->piece_bytes))) {
				w->piece_bytes = 0;
				return -1;
			}
		}
		real_values(a, src + i * a->stride, m, w->piece);
		h5_select_flat(fspace, lead, shape, rank, first + i, m);
		mspace = H5Screate_simple(1, &n, NULL);
		status = H5Dwrite(w->dset[k],
				  f32 ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE,
				  mspace, fspace, H5P_DEFAULT, w->piece);
		H5Sclose(mspace);
	}
	return status;
}

static int h5_write_chunk(out_writer *w, int64_t start, int64_t count,
			  void *const data[])
{
	for (int k = 0; k < w->n_arrays; k++) {
		const out_array *a = &w->arrays[k];
		if (w->sum[k]) {
			h5_sum_chunk(w, k, start, count, data[a->source]);
			continue;
		}
		hsize_t shape[CLI_MAX_RANK + SS_MAX_EVENT_RANK + 1];
		int rank = dataset_shape(w, a, shape);
		int lead = w->has_sample_axis + w->in->batch_rank;
		hid_t memtype = a->kind == SS_REAL ? H5T_NATIVE_DOUBLE
						   : H5T_NATIVE_INT64;
		/* The chunk's [count][stride] values in memory, of which
		 * each element's [offset, offset + size) are written. */
		hsize_t mshape[2] = {(hsize_t)count, (hsize_t)a->stride};
		hsize_t mstart[2] = {0, (hsize_t)a->offset};
		hsize_t mcount[2] = {(hsize_t)count, (hsize_t)a->size};
		herr_t status = 0;
		if (count * a->size == 0)
			continue;
		hid_t fspace = H5Dget_space(w->dset[k]);
		hid_t mspace = H5Screate_simple(2, mshape, NULL);
		H5Sselect_hyperslab(mspace, H5S_SELECT_SET, mstart, NULL,
				    mcount, NULL);
		for (int64_t s = 0; s < w->num_samples && status >= 0; s++) {
			const char *src = (const char *)data[a->source] +
					  s * count * a->stride * CLI_VALUE_BYTES;
			if (w->narrowed[k]) {
				hsize_t n = (hsize_t)(count * a->size);
				hid_t flat = H5Screate_simple(1, &n, NULL);
				h5_select_flat(fspace, lead, shape, rank,
					       s * w->in->batch_count + start, count);
				status = H5Dwrite(w->dset[k], H5T_NATIVE_FLOAT, flat,
						  fspace, H5P_DEFAULT,
						  (const float *)data[a->source] +
							  s * count * a->size);
				H5Sclose(flat);
				continue;
			}
			if (a->kind == SS_REAL) {
				status = h5_write_reals(w, k, fspace, lead, shape,
							rank, s * w->in->batch_count + start,
							(const double *)src, count);
				continue;
			}
			h5_select_flat(fspace, lead, shape, rank,
				       s * w->in->batch_count + start, count);
			status = H5Dwrite(w->dset[k], memtype, mspace, fspace,
					  H5P_DEFAULT, src);
		}
		H5Sclose(mspace);
		H5Sclose(fspace);
		if (status < 0) {
			cli_error("'%s': cannot write dataset '%s'",
				  w->path ? w->path : "-", a->name);
			return -1;
		}
	}
	return 0;
}

/* Writes the in-memory file to the destination. */
static int h5_flush_image(out_writer *w)
{
	ssize_t size;
	void *image;
	int rc;
	H5Fflush(w->file, H5F_SCOPE_GLOBAL);
	size = H5Fget_file_image(w->file, NULL, 0);
	image = size > 0 ? malloc((size_t)size) : NULL;
	if (!image || H5Fget_file_image(w->file, image, (size_t)size) != size) {
		free(image);
		cli_error("'%s': cannot build the HDF5 file image", w->path);
		return -1;
	}
	rc = dest_write(w->dest, image, (size_t)size);
	free(image);
	return rc;
}

/* ---- the writer ---------------------------------------------------------- */

static int narrowable(const out_writer *w, int k);

out_writer *out_open(const cli_options *opt, cli_dest *dest,
		     const in_file *in, const out_array *arrays, int n_arrays,
		     int has_sample_axis, int64_t num_samples)
{
	out_writer *w = calloc(1, sizeof *w);
	if (!w) {
		cli_error("cannot allocate the output writer");
		return NULL;
	}
	w->path = dest->name;
	w->dest = dest;
	w->file = -1;
	w->temp_fd = -1;
	for (int k = 0; k < OUT_MAX_ARRAYS; k++)
		w->dset[k] = -1;
	w->arrays = arrays;
	w->n_arrays = n_arrays;
	w->has_sample_axis = has_sample_axis;
	w->num_samples = num_samples;
	w->in = in;
	w->hdf5 = dest->hdf5;
	if (dest->kind == DEST_FILE) {
		/* the temporary beside the destination, already made */
		snprintf(w->temp, sizeof w->temp, "%s", dest->temp);
		if (!w->hdf5) {
			w->temp_fd = dup(dest->fd);
			w->json = fdopen(dest->fd, "w");
			if (!w->json) {
				if (w->temp_fd >= 0)
					close(w->temp_fd);
				cli_error("'%s': cannot open: %s", w->path,
					  strerror(errno));
				free(w);
				return NULL;
			}
		} else {
			close(dest->fd);
		}
		dest->fd = -1;
	} else if (!w->hdf5) {
		/* Held back until the run succeeds: a failed run prints nothing. */
		w->json = tmpfile();
		if (!w->json) {
			cli_error("'%s': cannot create a temporary file: %s",
				  w->path, strerror(errno));
			free(w);
			return NULL;
		}
	}
	if (w->hdf5 && h5_create(w, opt)) {
		out_close(w, 0);
		return NULL;
	}
	for (int k = 0; w->hdf5 && k < n_arrays; k++) {
		const in_dataset *ds = arrays[k].sum_over;
		if (!ds)
			continue;
		w->sum_entries[k] = 1;
		for (int d = 0; d < ds->batch_rank; d++)
			w->sum_entries[k] *= (int64_t)ds->shape[d];
		w->sum[k] = calloc((size_t)(num_samples * w->sum_entries[k] *
					    arrays[k].size) + 1,
				   sizeof(double));
		if (!w->sum[k]) {
			cli_error("cannot allocate the sums of '%s'",
				  arrays[k].name);
			out_close(w, 0);
			return NULL;
		}
	}
	for (int k = 0; k < n_arrays; k++)
		w->narrowed[k] = narrowable(w, k);
	return w;
}

/*
 * Narrowing: a float32 array that is the whole of its source (and its
 * only array) is converted where it lies, the floats packed at the
 * buffer's start, so that the I/O thread writes them as they are. Float
 * i takes bytes [4i, 4i + 4), below the unread doubles from 8(i + 1) on;
 * a block is read whole into a buffer before it is stored (through
 * memcpy, which may alias the doubles), so the stores never overtake a
 * read of the same bytes.
 */
static int narrowable(const out_writer *w, int k)
{
	const out_array *a = &w->arrays[k];
	if (!w->hdf5 || w->sum[k] || a->kind != SS_REAL || a->type != OUT_F32 ||
	    a->offset != 0 || a->size != a->stride)
		return 0;
	for (int i = 0; i < w->n_arrays; i++)
		if (i != k && w->arrays[i].source == a->source)
			return 0;
	return 1;
}

void out_narrow(const out_writer *w, int64_t count, void *const data[])
{
	enum { BLOCK = 512 };
	for (int k = 0; k < w->n_arrays; k++) {
		const out_array *a = &w->arrays[k];
		const int64_t n = w->num_samples * count * a->size;
		const double *from = data[a->source];
		char *to = data[a->source];
		float block[BLOCK];
		if (!w->narrowed[k])
			continue;
		for (int64_t i = 0; i < n; i += BLOCK) {
			const int64_t m = n - i < BLOCK ? n - i : BLOCK;
			for (int64_t j = 0; j < m; j++)
				block[j] = (float)from[i + j];
			memcpy(to + i * (int64_t)sizeof(float), block,
			       (size_t)m * sizeof(float));
		}
	}
}

/* Starts writing the temporary file's written pages back (see the top of
 * this file); nothing where it cannot. */
static void write_back(const out_writer *w)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (w->temp_fd >= 0)
		sync_file_range(w->temp_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
	(void)w;
#endif
}

int out_write_chunk(out_writer *w, int64_t start, int64_t count,
		    void *const data[])
{
	int rc = w->hdf5 ? h5_write_chunk(w, start, count, data)
			 : json_write_chunk(w, start, count, data);
	write_back(w);
	return rc;
}

int out_close(out_writer *w, int commit)
{
	int rc = 0;
	if (!w)
		return -1;
	if (w->hdf5 && w->file >= 0) {
		if (commit)
			rc = h5_write_sums(w);
		if (commit && rc == 0 && !w->temp[0])
			rc = h5_flush_image(w);
		for (int k = 0; k < w->n_arrays; k++)
			if (w->dset[k] >= 0)
				H5Dclose(w->dset[k]);
		if (H5Fclose(w->file) < 0 && commit) {
			cli_error("'%s': cannot write", w->path);
			rc = -1;
		}
	}
	if (w->json && !w->temp[0]) {
		/* held back: now copied to the destination */
		char buf[CLI_COPY_BLOCK];
		size_t got;
		if (commit && (fflush(w->json) != 0 || fseek(w->json, 0, SEEK_SET) != 0)) {
			cli_error("'%s': cannot read back the held output: %s",
				  w->path, strerror(errno));
			rc = -1;
		}
		while (commit && rc == 0 &&
		       (got = fread(buf, 1, sizeof buf, w->json)) > 0)
			rc = dest_write(w->dest, buf, got);
		fclose(w->json);
		w->json = NULL;
	}
	if (w->json && fclose(w->json) != 0 && commit) {
		cli_error("'%s': cannot write: %s", w->path, strerror(errno));
		rc = -1;
	}
	if (w->temp_fd >= 0)
		close(w->temp_fd);
	for (int k = 0; k < OUT_MAX_ARRAYS; k++)
		free(w->sum[k]);
	free(w->piece);
	free(w);
	return rc;
}
