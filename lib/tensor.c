/*
 * tensor.c - typed tensor views: an element's inputs in any dtype and
 * layout.
 *
 * A caller hands each input as an ss_tensor: values of a dtype at strides
 * (synstruct.h). The hooks of a structure read one layout only: contiguous
 * and row-major, double (float where the input's spec reads_f32 and the
 * values are floats) and int64_t. Every entry point of the engine (the
 * operations, ss_run, ss_prepare, ss_encode) therefore first resolves
 * its element:
 *
 *   plain input    read where it is, as it is: no copy
 *   other input    gathered in row-major order into room the caller
 *                  sets aside, widened exactly (float -> double where the
 *                  structure does not read floats, int32 -> int64), so
 *                  that every result is the same bytes as for a plain
 *                  array of the same values
 *
 * The room is ssi_resolve_bytes: every input of the element as 8-byte
 * values, at the start of the workspace, which the caller enlarges by
 * ss_view_bytes: 0 where every input is plain, as the command line's are.
 */
#include "internal.h"

/* The dtypes an input of kind `kind` takes. */
static int dtype_fits(ss_kind kind, ss_dtype dtype)
{
	if (kind == SS_INT)
		return dtype == SS_NATIVE || dtype == SS_I64 || dtype == SS_I32;
	return dtype == SS_NATIVE || dtype == SS_F64 || dtype == SS_F32;
}

/* The dtype the hooks read a fitting view of spec as. */
static ss_dtype read_as(const ss_input_spec *spec, ss_dtype dtype)
{
	if (spec->kind == SS_INT)
		return SS_NATIVE;
	return dtype == SS_F32 && spec->reads_f32 ? SS_F32 : SS_NATIVE;
}

static int is_native(ss_dtype dtype)
{
	return dtype == SS_NATIVE || dtype == SS_F64 || dtype == SS_I64;
}

/* Whether view t of spec's input, of dimensions dim, is row-major and
 * contiguous (strides that happen to be so count). */
static int contiguous(const ss_input_spec *spec, const ss_tensor *t,
		      const int64_t dim[])
{
	int64_t step = 1;
	if (!t->strided)
		return 1;
	for (int a = spec->rank - 1; a >= 0; a--) {
		const int64_t size = dim[spec->dims[a]];
		if (size > 1 && t->stride[a] != step)
			return 0;
		step *= size;
	}
	return 1;
}

int ssi_tensor_plain(const ss_input_spec *spec, const ss_tensor *t,
		     const int64_t dim[])
{
	if (!t->data)
		return 1;
	return contiguous(spec, t, dim) &&
	       (is_native(t->dtype) || read_as(spec, t->dtype) == t->dtype);
}

size_t ssi_resolve_bytes(const ss_structure *s, const int64_t dim[])
{
	size_t bytes = 0;
	for (int k = 0; k < s->n_inputs; k++)
		bytes += ssi_align64((size_t)ss_input_size(s, k, dim) * 8);
	return bytes;
}

size_t ss_view_bytes(const ss_structure *s, const ss_element *e)
{
	for (int k = 0; k < s->n_inputs; k++)
		if (!ssi_tensor_plain(&s->inputs[k], &e->input[k], e->dim))
			return ssi_resolve_bytes(s, e->dim);
	return 0;
}

/* Value at offset i of t's data, widened. */
static double real_at(const ss_tensor *t, int64_t i)
{
	return t->dtype == SS_F32 ? (double)((const float *)t->data)[i]
				  : ((const double *)t->data)[i];
}

static int64_t int_at(const ss_tensor *t, int64_t i)
{
	return t->dtype == SS_I32 ? (int64_t)((const int32_t *)t->data)[i]
				  : ((const int64_t *)t->data)[i];
}

/*
 * Copies view t of spec's input into out, row-major, as dtype `as`:
 * an odometer over the axes, its offset in t moved by the strides.
 */
static void gather(const ss_input_spec *spec, const ss_tensor *t,
		   const int64_t dim[], ss_dtype as, void *out)
{
	int64_t size[SS_MAX_EVENT_RANK], stride[SS_MAX_EVENT_RANK];
	int64_t index[SS_MAX_EVENT_RANK] = {0}, total = 1, at = 0, step = 1;
	const int rank = spec->rank;
	for (int a = rank - 1; a >= 0; a--) {
		size[a] = dim[spec->dims[a]];
		stride[a] = t->strided ? t->stride[a] : step;
		step *= size[a];
		total *= size[a];
	}
	for (int64_t i = 0; i < total; i++) {
		if (spec->kind == SS_INT)
			((int64_t *)out)[i] = int_at(t, at);
		else if (as == SS_F32)
			((float *)out)[i] = ((const float *)t->data)[at];
		else
			((double *)out)[i] = real_at(t, at);
		for (int a = rank - 1; a >= 0; a--) {
			at += stride[a];
			if (++index[a] < size[a])
				break;
			at -= stride[a] * size[a];
			index[a] = 0;
		}
	}
}

int ssi_resolve(const ss_structure *s, const ss_element *e,
		ss_element *copy, void **room, const ss_element **out,
		ss_error *err)
{
	char *at = *room;
	int plain = 1;
	for (int k = 0; k < s->n_inputs; k++) {
		const ss_input_spec *spec = &s->inputs[k];
		if (e->input[k].data && !dtype_fits(spec->kind, e->input[k].dtype))
			return ss_error_set(err, SS_EUNSUPPORTED,
					    "input '%s' holds %s; it takes %s",
					    spec->name,
					    spec->kind == SS_INT ? "reals"
								 : "integers",
					    spec->kind == SS_INT
					    ? "int64 or int32" : "float64 or float32");
		plain &= ssi_tensor_plain(spec, &e->input[k], e->dim);
	}
	*out = e;
	if (plain)
		return SS_OK;
	*copy = *e;
	for (int k = 0; k < s->n_inputs; k++) {
		const ss_input_spec *spec = &s->inputs[k];
		ss_tensor *t = &copy->input[k];
		if (ssi_tensor_plain(spec, t, e->dim))
			continue;
		gather(spec, t, e->dim, read_as(spec, t->dtype), at);
		*t = (ss_tensor){.data = at, .dtype = read_as(spec, t->dtype)};
		copy->prepared[k] = NULL;
		at += ssi_align64((size_t)ss_input_size(s, k, e->dim) * 8);
	}
	*room = (char *)*room + ssi_resolve_bytes(s, e->dim);
	*out = copy;
	return SS_OK;
}
