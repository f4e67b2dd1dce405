/*
 * report.c - errors and warnings on stderr, one line each.
 */
#include <stdarg.h>

#include "cli.h"

int cli_quiet;

void cli_error(const char *fmt, ...)
{
	va_list ap;
	cli_progress_clear();
	va_start(ap, fmt);
	fputs("synstruct: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;
	if (cli_quiet)
		return;
	cli_progress_clear();
	va_start(ap, fmt);
	fputs("synstruct: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void cli_format_index(char *buf, size_t size, int64_t flat, int rank,
		      const hsize_t *shape)
{
	int64_t idx[CLI_MAX_RANK];
	size_t used;
	for (int d = rank - 1; d >= 0; d--) {
		idx[d] = shape[d] ? flat % (int64_t)shape[d] : 0;
		flat = shape[d] ? flat / (int64_t)shape[d] : 0;
	}
	used = (size_t)snprintf(buf, size, "[");
	for (int d = 0; d < rank && used < size; d++)
		used += (size_t)snprintf(buf + used, size - used, "%s%lld",
					 d ? ", " : "", (long long)idx[d]);
	if (used < size)
		snprintf(buf + used, size - used, "]");
}

void cli_format_shape(char *buf, size_t size, int rank, const hsize_t *shape)
{
	size_t used = (size_t)snprintf(buf, size, "[");
	for (int d = 0; d < rank && used < size; d++)
		used += (size_t)snprintf(buf + used, size - used, "%s%llu",
					 d ? ", " : "",
					 (unsigned long long)shape[d]);
	if (used < size)
		snprintf(buf + used, size - used, "]");
}
