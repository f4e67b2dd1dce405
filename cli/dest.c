/*
 * dest.c - where the output goes, temporary files, signals and the
 * progress line (SPEC §6).
 *
 * Destinations, classified before the input is read:
 *   standard output (no -o, -o -, or a path that is the same open file as
 *     standard output): the output is held back until the run has
 *     succeeded (JSON Lines in an unlinked tmpfile(), HDF5 in memory),
 *     then written;
 *   a regular file, or a path that does not exist yet: symbolic links are
 *     followed to the file they end at, a temporary file is made beside
 *     that file and renamed over it when complete, so a link stays a link
 *     and a failed run leaves the old file as it was;
 *   anything else (a character device such as /dev/null, a FIFO, a
 *     descriptor's link such as /dev/fd/N or a shell's >(...)): held back
 *     like standard output, then written to the path directly; it is never
 *     renamed over or unlinked.
 * Refused: a directory, a path that is one of the inputs (same device and
 * inode) and HDF5 bytes bound for a terminal (bad usage); a temporary file
 * that cannot be made (exit status 1).
 *
 * Named temporary files (the output's PATH.tmp-XXXXXX and the copy of
 * standard input) are registered in a fixed array. SIGINT, SIGTERM, SIGHUP
 * and SIGPIPE unlink them, clear the progress line, restore the default
 * action and raise the signal again, so the exit status is 128 + N. A
 * signal ignored when synstruct starts (nohup's SIGHUP) stays ignored.
 * SIGBUS (an input file cut short under its mapping, cli/input.c) unlinks
 * them too, says so and exits with status 1. The handlers call only
 * unlink, write, signal, raise and _exit. Temporary files are made before
 * any OpenMP thread exists, so blocking the signals in the calling thread
 * closes the window between mkstemp and the registration.
 *
 * Progress: one line on standard error, redrawn after each chunk behind a
 * carriage return and blanked at the end, when standard error is a terminal
 * and the run has lasted a second (or from the first chunk with
 * --progress).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---- temporary files and signals ------------------------------------------ */

#define TEMP_SLOTS 4

static struct {
	volatile sig_atomic_t used;
	char path[CLI_TEMP_MAX];
} temps[TEMP_SLOTS];

static const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
#define N_HANDLED ((int)SS_ARRAY_LEN(handled))

/* Width of the progress line on the screen, for the handler to blank;
 * blanks is a carriage return and spaces, filled by cli_progress_start. */
static volatile sig_atomic_t progress_width;
#define PROGRESS_MAX 160
static char blanks[PROGRESS_MAX + 1];

static void on_signal(int sig)
{
	for (int k = 0; k < TEMP_SLOTS; k++)
		if (temps[k].used)
			unlink(temps[k].path);
	if (progress_width > 0) {
		if (write(STDERR_FILENO, blanks, (size_t)progress_width + 1) < 0 ||
		    write(STDERR_FILENO, "\r", 1) < 0) {
			/* nothing to be done: the signal ends the run */
		}
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* SIGBUS: a mapped input cut short while the computation reads it
 * (cli/input.c). The temporary files go, and the run fails as on bad
 * data. */
static void on_bus(int sig)
{
	static const char msg[] =
		"synstruct: error: an input file was cut short while it was being read\n";
	(void)sig;
	for (int k = 0; k < TEMP_SLOTS; k++)
		if (temps[k].used)
			unlink(temps[k].path);
	if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) {
		/* nothing to be done: the run ends */
	}
	_exit(EXIT_DATA);
}

void cli_signals_init(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (int k = 0; k < N_HANDLED; k++)
		sigaddset(&sa.sa_mask, handled[k]);
	for (int k = 0; k < N_HANDLED; k++)
		if (sigaction(handled[k], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(handled[k], &sa, NULL);
	sa.sa_handler = on_bus;
	sigaction(SIGBUS, &sa, NULL);
}

static void block_signals(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	for (int k = 0; k < N_HANDLED; k++)
		sigaddset(&set, handled[k]);
	sigprocmask(SIG_BLOCK, &set, old);
}

int cli_temp_create(char *path)
{
	sigset_t old;
	int fd, k, saved;
	for (k = 0; k < TEMP_SLOTS && temps[k].used; k++)
		;
	if (k == TEMP_SLOTS || strlen(path) >= sizeof temps[k].path) {
		errno = k == TEMP_SLOTS ? EMFILE : ENAMETOOLONG;
		return -1;
	}
	block_signals(&old);
	fd = mkstemp(path);
	saved = errno;
	if (fd >= 0) {
		memcpy(temps[k].path, path, strlen(path) + 1);
		temps[k].used = 1;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return fd;
}

static void temp_forget(const char *path)
{
	for (int k = 0; k < TEMP_SLOTS; k++)
		if (temps[k].used && !strcmp(temps[k].path, path))
			temps[k].used = 0;
}

void cli_temp_remove(const char *path)
{
	unlink(path);
	temp_forget(path);
}

int cli_temp_rename(const char *path, const char *to)
{
	sigset_t old;
	int rc, saved;
	block_signals(&old);
	rc = rename(path, to);
	saved = errno;
	if (rc == 0)
		temp_forget(path);
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return rc;
}

/* ---- destinations ---------------------------------------------------------- */

int cli_hdf5_name(const char *path)
{
	static const char *const ext[] = {".h5", ".hdf5", ".hdf", ".he5"};
	size_t n = strlen(path);
	for (size_t k = 0; k < SS_ARRAY_LEN(ext); k++) {
		size_t m = strlen(ext[k]);
		if (n >= m && !strcasecmp(path + n - m, ext[k]))
			return 1;
	}
	return 0;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/*
 * Follows the symbolic links of path to the file they end at, which need
 * not exist: its directory made absolute by realpath, then its name.
 * Stops at a link under /proc (/dev/fd/N, /dev/stdout, /proc/self/fd/N),
 * which names an open file rather than a path, and sets *descriptor.
 * Returns 0 or an errno value.
 */
static int follow_links(const char *path, char *out, size_t size,
			int *descriptor)
{
	char cur[CLI_PATH_MAX], dir[CLI_PATH_MAX], parent[CLI_PATH_MAX];
	char link[CLI_PATH_MAX];
	*descriptor = 0;
	if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
		return ENAMETOOLONG;
	for (int hops = 0; hops < 40; hops++) {
		char *slash = strrchr(cur, '/');
		const char *base = slash ? slash + 1 : cur;
		struct stat st;
		ssize_t n;
		if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
			return EISDIR;
		if (!slash)
			strcpy(parent, ".");
		else if (slash == cur)
			strcpy(parent, "/");
		else
			snprintf(parent, sizeof parent, "%.*s", (int)(slash - cur),
				 cur);
		if (!realpath(parent, dir))
			return errno;
		if (snprintf(out, size, "%s/%s", strcmp(dir, "/") ? dir : "",
			     base) >= (int)size)
			return ENAMETOOLONG;
		if (lstat(out, &st) != 0)
			return errno == ENOENT ? 0 : errno;
		if (!S_ISLNK(st.st_mode))
			return 0;
		if (!strncmp(out, "/proc/", 6)) {
			*descriptor = 1;
			return 0;
		}
		n = readlink(out, link, sizeof link - 1);
		if (n < 0)
			return errno;
		link[n] = '\0';
		if (snprintf(cur, sizeof cur, "%s%s%s", link[0] == '/' ? "" : dir,
			     link[0] == '/' ? "" : "/", link) >= (int)sizeof cur)
			return ENAMETOOLONG;
	}
	return ELOOP;
}

/* Refuses an output that is one of the inputs. */
static int check_inputs(const cli_dest *d, const struct stat *out,
			const cli_options *opt)
{
	const char *paths[] = {opt->input, opt->events};
	const char *what[SS_ARRAY_LEN(paths)] = {"input", "events file"};
	for (size_t k = 0; k < SS_ARRAY_LEN(paths); k++) {
		struct stat st;
		if (!paths[k] || !strcmp(paths[k], "-") || stat(paths[k], &st) ||
		    !same_file(&st, out))
			continue;
		cli_error("'%s': the output would overwrite the %s '%s'",
			  d->name, what[k], paths[k]);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Refuses HDF5 bytes bound for a terminal. */
static int check_terminal(const cli_dest *d, int fd)
{
	if (!d->hdf5 || !isatty(fd))
		return EXIT_OK;
	cli_error("'%s': will not write HDF5 to a terminal; redirect standard output or name a file with -o",
		  d->name);
	return EXIT_USAGE;
}

/* Opens a direct destination for writing; a FIFO waits for its reader. */
static int direct_open(cli_dest *d, int nonblock)
{
	int flags = O_WRONLY | O_NOCTTY | O_APPEND | (nonblock ? O_NONBLOCK : 0);
	do
		d->fd = open(d->target, flags);
	while (d->fd < 0 && errno == EINTR);
	if (d->fd >= 0 && nonblock)
		fcntl(d->fd, F_SETFL, fcntl(d->fd, F_GETFL) & ~O_NONBLOCK);
	return d->fd < 0 ? -1 : 0;
}

static int open_temp(cli_dest *d, const struct stat *old)
{
	mode_t mask = umask(0);
	umask(mask);
	if (snprintf(d->temp, sizeof d->temp, "%s.tmp-XXXXXX", d->target) >=
	    (int)sizeof d->temp) {
		d->temp[0] = '\0';
		cli_error("'%s': cannot create: %s", d->name,
			  strerror(ENAMETOOLONG));
		return EXIT_DATA;
	}
	d->fd = cli_temp_create(d->temp);
	if (d->fd < 0) {
		d->temp[0] = '\0';
		cli_error("'%s': cannot create: %s", d->name, strerror(errno));
		return EXIT_DATA;
	}
	/* mkstemp makes the file 0600; it gets the mode of the file it
	 * replaces, or the usual one, when renamed (a read-only mode now
	 * would keep HDF5 from opening it again). */
	d->mode = old ? old->st_mode & 07777 : 0666 & ~mask;
	return EXIT_OK;
}

int dest_open(cli_dest *d, const cli_options *opt)
{
	const char *path = opt->output && strcmp(opt->output, "-")
				   ? opt->output : NULL;
	struct stat st, out;
	int descriptor, err, exists;

	memset(d, 0, sizeof *d);
	d->fd = -1;
	d->name = path ? path : "-";
	d->hdf5 = opt->format ? !strcmp(opt->format, "hdf5")
			      : path && cli_hdf5_name(path);
	cli_signals_init();
	if (!path) {
		d->kind = DEST_STDOUT;
		return check_terminal(d, STDOUT_FILENO);
	}
	exists = stat(path, &st) == 0;
	if (!exists && errno != ENOENT) {
		cli_error("'%s': cannot create: %s", path, strerror(errno));
		return EXIT_DATA;
	}
	if (exists && S_ISDIR(st.st_mode)) {
		cli_error("'%s': is a directory; -o needs a file", path);
		return EXIT_USAGE;
	}
	if (exists && (err = check_inputs(d, &st, opt)) != EXIT_OK)
		return err;
	if (exists && fstat(STDOUT_FILENO, &out) == 0 && same_file(&st, &out)) {
		d->kind = DEST_STDOUT;
		return check_terminal(d, STDOUT_FILENO);
	}
	if (exists && !S_ISREG(st.st_mode)) {
		d->kind = DEST_DIRECT;
		d->fifo = S_ISFIFO(st.st_mode);
		snprintf(d->target, sizeof d->target, "%s", path);
		if (!S_ISCHR(st.st_mode))
			return EXIT_OK;
		/* A device opens at once: a terminal is refused now, and one
		 * that cannot be opened fails before any computation. */
		if (direct_open(d, 1)) {
			cli_error("'%s': cannot open: %s", path, strerror(errno));
			return EXIT_DATA;
		}
		return check_terminal(d, d->fd);
	}
	err = follow_links(path, d->target, sizeof d->target, &descriptor);
	if (err) {
		cli_error("'%s': cannot create: %s", path, strerror(err));
		return EXIT_DATA;
	}
	if (descriptor) {
		/* a descriptor's link to a regular file: appended to, as the
		 * shell's descriptor would be */
		d->kind = DEST_DIRECT;
		snprintf(d->target, sizeof d->target, "%s", path);
		return EXIT_OK;
	}
	d->kind = DEST_FILE;
	return open_temp(d, exists ? &st : NULL);
}

int dest_write(cli_dest *d, const void *buf, size_t size)
{
	const char *p = buf;
	if (d->kind == DEST_STDOUT) {
		if (fwrite(buf, 1, size, stdout) == size)
			return 0;
		cli_error("'%s': cannot write to standard output: %s", d->name,
			  strerror(errno));
		return -1;
	}
	if (d->fd < 0 && direct_open(d, 0)) {
		cli_error("'%s': cannot open: %s", d->name, strerror(errno));
		return -1;
	}
	while (size > 0) {
		ssize_t n = write(d->fd, p, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cli_error("'%s': cannot write: %s", d->name,
				  n < 0 ? strerror(errno) : "nothing written");
			return -1;
		}
		p += n;
		size -= (size_t)n;
	}
	return 0;
}

int dest_close(cli_dest *d, int commit)
{
	int rc = 0;
	if (d->closed)
		return 0;
	d->closed = 1;
	if (d->kind == DEST_FILE) {
		if (d->fd >= 0)
			close(d->fd);
		d->fd = -1;
		if (!d->temp[0])
			return 0;
		if (commit && (chmod(d->temp, d->mode) != 0 ||
			       cli_temp_rename(d->temp, d->target) != 0)) {
			cli_error("'%s': cannot rename the temporary file into place: %s",
				  d->name, strerror(errno));
			rc = -1;
		}
		if (!commit || rc)
			cli_temp_remove(d->temp);
	} else if (d->kind == DEST_DIRECT) {
		/* Opened even for an empty output, so that a FIFO's reader
		 * sees its end; after a failure only if a reader waits. */
		if (commit && d->fd < 0 && direct_open(d, 0)) {
			cli_error("'%s': cannot open: %s", d->name,
				  strerror(errno));
			rc = -1;
		}
		if (!commit && d->fd < 0 && d->fifo)
			direct_open(d, 1);
		if (d->fd >= 0 && close(d->fd) != 0 && commit && rc == 0) {
			cli_error("'%s': cannot write: %s", d->name,
				  strerror(errno));
			rc = -1;
		}
		d->fd = -1;
	}
	return rc;
}

/* ---- progress -------------------------------------------------------------- */

static struct {
	int on;              /* 1: forced, 0: once a second has passed, -1: never */
	int64_t total;
	double start, last;
	int width;           /* of the line now shown, 0 if none */
} progress = {-1, 0, 0, 0, 0};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(char *buf, size_t size, double s)
{
	long t = s < 0 ? 0 : s > 1e8 ? 100000000L : (long)(s + 0.5);
	if (t < 60)
		snprintf(buf, size, "%lds", t);
	else if (t < 3600)
		snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
}

static void format_rate(char *buf, size_t size, double rate)
{
	if (rate >= 1e6)
		snprintf(buf, size, "%.1fM", rate / 1e6);
	else if (rate >= 1e4)
		snprintf(buf, size, "%.1fk", rate / 1e3);
	else if (rate >= 100)
		snprintf(buf, size, "%.0f", rate);
	else
		snprintf(buf, size, "%.3g", rate);
}

void cli_progress_start(const cli_options *opt, int64_t total)
{
	progress.on = opt->progress > 0 ? 1
		      : opt->progress < 0 || cli_quiet ||
				!isatty(STDERR_FILENO) ? -1 : 0;
	blanks[0] = '\r';
	memset(blanks + 1, ' ', PROGRESS_MAX);
	progress.total = total;
	progress.start = now();
	progress.last = 0;
	progress.width = 0;
}

void cli_progress_update(int64_t done)
{
	char line[PROGRESS_MAX + 2], rate[32], left[32];
	double t = now(), elapsed = t - progress.start, per_second;
	int n, pad;

	if (progress.on < 0 || (progress.on == 0 && elapsed < 1.0))
		return;
	/* at most five redraws a second */
	if (progress.width > 0 && t - progress.last < 0.2)
		return;
	progress.last = t;
	per_second = elapsed > 0 ? (double)done / elapsed : 0;
	format_rate(rate, sizeof rate, per_second);
	format_duration(left, sizeof left,
			per_second > 0 ? (double)(progress.total - done) / per_second
				       : 0);
	n = snprintf(line + 1, sizeof line - 1,
		     "synstruct: %lld/%lld elements (%d%%), %s/s, %s left",
		     (long long)done, (long long)progress.total,
		     progress.total > 0 ? (int)(100 * done / progress.total) : 100,
		     rate, left);
	if (n > PROGRESS_MAX)
		n = PROGRESS_MAX;
	line[0] = '\r';
	/* blank what a longer previous line leaves */
	pad = progress.width > n ? progress.width - n : 0;
	memset(line + 1 + n, ' ', (size_t)pad);
	fwrite(line, 1, (size_t)(1 + n + pad), stderr);
	fflush(stderr);
	progress.width = n + pad;
	progress_width = progress.width;
}

void cli_progress_clear(void)
{
	if (progress.width <= 0)
		return;
	progress_width = 0;
	fwrite(blanks, 1, (size_t)progress.width + 1, stderr);
	fputc('\r', stderr);
	fflush(stderr);
	progress.width = 0;
}

void cli_progress_end(void)
{
	cli_progress_clear();
	progress.on = -1;
}
