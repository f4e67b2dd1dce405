/*
 * report.c - errors and warnings on stderr, one line each, and the
 * shapes they name.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_quiet;

/* The messages of the thread that holds them (one at a time), in order. */
static _Thread_local int holding;
static char *held;
static size_t held_len;

static void message(const char *kind, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void message(const char *kind, const char *fmt, va_list ap)
{
	char line[8192];
	int n = snprintf(line, sizeof line, "synstruct: %s: ", kind);
	vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	if (holding) {
		size_t len = strlen(line);
		char *more = realloc(held, held_len + len + 2);
		if (!more)
			return;
		held = more;
		memcpy(held + held_len, line, len);
		held[held_len + len] = '\n';
		held_len += len + 1;
		return;
	}
	cli_progress_clear();
	fputs(line, stderr);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	message("error", fmt, ap);
	va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;
	if (cli_quiet)
		return;
	va_start(ap, fmt);
	message("warning", fmt, ap);
	va_end(ap);
}

void cli_hold_messages(int hold)
{
	holding = hold;
}

void cli_release_messages(void)
{
	if (held_len) {
		cli_progress_clear();
		fwrite(held, 1, held_len, stderr);
	}
	cli_drop_messages();
}

void cli_drop_messages(void)
{
	free(held);
	held = NULL;
	held_len = 0;
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
