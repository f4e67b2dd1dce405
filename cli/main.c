/*
 * main.c - synstruct: dispatch to a command, --help and --version.
 */
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <omp.h>
#include <cjson/cJSON.h>

#include "cli.h"

#ifndef SS_BUILD_CFLAGS
#define SS_BUILD_CFLAGS "unknown"
#endif

static void print_version(void)
{
	unsigned major, minor, release;
	H5get_libversion(&major, &minor, &release);
	printf("synstruct %s\n", SS_VERSION);
	printf("openmp %d, %d threads\n", _OPENMP, omp_get_max_threads());
	printf("hdf5 %u.%u.%u (built with %d.%d.%d)\n", major, minor, release,
	       H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
	printf("cjson %d.%d.%d\n", CJSON_VERSION_MAJOR, CJSON_VERSION_MINOR,
	       CJSON_VERSION_PATCH);
	printf("isa %s (built:", ss_isa());
	for (const char *const *set = ss_isa_built(); *set; set++)
		printf(" %s%s", *set, ss_isa_runs(*set) ? "" : " (not on this CPU)");
	printf(")\n");
	printf("compiler %s\n", __VERSION__);
	printf("cflags %s\n", SS_BUILD_CFLAGS);
}

/* Standard output is checked when closed: a full disk is an error. */
static int close_stdout(int status)
{
	int failed = fflush(stdout) != 0 || ferror(stdout);
	failed |= fclose(stdout) != 0;
	if (failed && status == EXIT_OK) {
		cli_error("cannot write to standard output");
		return EXIT_DATA;
	}
	return status;
}

/* SYNSTRUCT_ISA, when set, chooses the kernels' instruction set. */
static int select_isa(void)
{
	const char *isa = getenv("SYNSTRUCT_ISA");
	ss_error err;
	if (!isa || !*isa || ss_isa_select(isa, &err) == SS_OK)
		return EXIT_OK;
	cli_error("SYNSTRUCT_ISA: %s", err.message);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const cli_command *cmd;
	cli_options opt;
	int rc;

	if ((rc = select_isa()) != EXIT_OK)
		return rc;

	if (argc < 2) {
		cli_global_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		cli_global_help(stdout);
		return close_stdout(EXIT_OK);
	}
	if (!strcmp(argv[1], "--version")) {
		print_version();
		return close_stdout(EXIT_OK);
	}
	cmd = cli_command_find(argv[1]);
	if (!cmd) {
		cli_error("unknown command '%s'; see 'synstruct --help'",
			  argv[1]);
		return EXIT_USAGE;
	}
	rc = cli_parse(argc - 1, argv + 1, cmd->op, &opt);
	if (rc < 0)
		return close_stdout(EXIT_OK);
	if (rc != EXIT_OK)
		return rc;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
#ifdef __GLIBC__
	/* Keep freed chunk buffers for the next chunk instead of returning
	 * them to the kernel and faulting them in again. */
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
	if (opt.threads > 0)
		omp_set_num_threads(opt.threads);
	return close_stdout(cli_run(&opt));
}
