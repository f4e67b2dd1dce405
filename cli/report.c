/*
 * report.c - errors and warnings on stderr, one line each, and the
 * shapes they name.
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

const int64_t *cli_shape64(int rank, const hsize_t *shape,
			   int64_t out[CLI_MAX_RANK])
{
	for (int d = 0; d < rank && d < CLI_MAX_RANK; d++)
		out[d] = (int64_t)shape[d];
	return out;
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
