/*
 * util.c - errors, index formatting, the checks every structure shares and
 * the work counters.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

int ss_error_set(ss_error *err, ss_status status, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->status = status;
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return status;
}

void ss_format_index(char *buf, size_t size, int64_t offset, int rank,
		     const int64_t *shape)
{
	size_t used = (size_t)snprintf(buf, size, "[");
	for (int d = 0; d < rank && used < size; d++) {
		/* Axis d's index: offset over the sizes of the later axes
		 * (0 past an axis of size 0), modulo its own size. */
		int64_t rest = offset;
		for (int k = rank - 1; k > d; k--)
			rest = shape[k] ? rest / shape[k] : 0;
		used += (size_t)snprintf(buf + used, size - used, "%s%lld",
					 d ? ", " : "",
					 (long long)(shape[d] ? rest % shape[d] : 0));
	}
	if (used < size)
		snprintf(buf + used, size - used, "]");
}

int64_t ssi_length(const ss_element *e, int lengths_input)
{
	const int64_t *len = e->input[lengths_input].data;
	return len ? *len : e->dim[SS_DIM_N];
}

int64_t ssi_length_of(const ss_structure *s, const ss_element *e, int input)
{
	const int64_t *len = e->input[input].data;
	return len ? *len : e->dim[s->inputs[input].dims[0]];
}

int64_t ssi_length_clamped(const ss_element *e, int lengths_input)
{
	int64_t len = ssi_length(e, lengths_input), n = e->dim[SS_DIM_N];
	return len < 0 ? 0 : len > n ? n : len;
}

int ssi_bad_value_error(ss_error *err, const char *dataset, double x,
			int64_t offset, int rank, const int64_t *shape)
{
	char where[128];
	ss_format_index(where, sizeof where, offset, rank, shape);
	return ss_error_set(err, SS_EDATA, "dataset '%s' holds %s at %s",
			    dataset, isnan(x) ? "NaN" : "+inf", where);
}

int ssi_check_lengths(const ss_structure *s, const ss_element *e, int input,
		      int64_t min, ss_error *err)
{
	const ss_input_spec *spec = &s->inputs[input];
	const ss_dim axis = spec->dims[0];
	const int64_t n = e->dim[axis], len = ssi_length_of(s, e, input);
	if (n < min)
		return ss_error_set(err, SS_EDATA, "%s = %lld; %s needs %s >= %lld",
				    ss_dim_names[axis], (long long)n, s->name,
				    ss_dim_names[axis], (long long)min);
	if (len < min || len > n)
		return ss_error_set(err, SS_EDATA,
				    "dataset '%s' holds %lld, outside [%lld, %lld]",
				    spec->name, (long long)len, (long long)min,
				    (long long)n);
	return SS_OK;
}

int ssi_check_length(int64_t len, int64_t n, ss_error *err)
{
	if (len < 0 || len > n)
		return ss_error_set(err, SS_EDATA,
				    "dataset 'lengths' holds %lld, outside [0, %lld]",
				    (long long)len, (long long)n);
	return SS_OK;
}

static int64_t counters[SSI_COUNTER_COUNT];

void ssi_count(ssi_counter c)
{
	#pragma omp atomic
	counters[c]++;
}

int64_t ssi_counter_value(ssi_counter c)
{
	int64_t v;
	#pragma omp atomic read
	v = counters[c];
	return v;
}
