/*
 * unit.c - main, the suite table and the TAP harness of build/unit.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

typedef struct unit_suite {
	const char *name;
	void (*run)(void);
	const char *summary;
} unit_suite;

static const unit_suite suites[] = {
	{"brute", suite_brute, "the brute-force enumerators on hand-worked cases"},
	{"tables", suite_tables, "structure, input and operation tables"},
	{"linear-chain", suite_chain, "linear-chain against brute force, finite differences"},
	{"hmm", suite_hmm, "hmm against brute force, hmm = the chain it builds"},
	{"edge", suite_edge, "no structure and length 0"},
	{"validate", suite_validate, "validate rejects bad input, accepts padding"},
	{"score", suite_score, "score rejects events that are not structures"},
	{"sample", suite_sample, "goodness of fit and purity of the samplers"},
	{"driver", suite_driver, "ss_run against direct calls, thread counts"},
	{"projective", suite_projective, "projective trees (Eisner) against brute force"},
	{"nonprojective", suite_nonprojective, "non-projective trees against brute force"},
	{"spanning-tree", suite_spanning_tree, "spanning-tree, eight variants, against brute force"},
	{"ctc", suite_ctc, "ctc against a textbook CTC forward pass, hand-worked values, bad input"},
	{"tree-crf", suite_tree_crf, "tree-crf: tree counts, word marginals, hand case, bad input"},
	{"encode", suite_encode, "compact decodes back to events"},
	{"derived", suite_derived, "count, cross-entropy and kl against brute force"},
	{"monotone-alignment", suite_monotone_alignment, "monotone-alignment against a plain recurrence, path counts, finite differences"},
	{"pcfg", suite_pcfg, "pcfg against a textbook inside algorithm; sentences of length 2"},
	{"td-pcfg", suite_td_pcfg, "td-pcfg equals the pcfg of its composed rules; count of derivations"},
	{"conformance", suite_conformance, "every structure, every op through ss_run, against brute force"},
	{"isa", suite_isa, "every instruction set against the first"},
	{"semi-markov", suite_semi_markov, "semi-markov: m = 1 equals the chain, bad segments and events"},
	{"alignment", suite_alignment, "alignment: path counts, one-to-one argmax against every permutation, bad input"},
	{"tensor", suite_tensor, "inputs as typed views: strides, int32 and float32, refused dtypes"},
};

/* ---- TAP harness ---------------------------------------------------------- */

#define MAX_DIAG 10
#define MAX_NOTES 8

static int tests_run;
static int tests_failed;

static struct {
	long checks;
	long failures;
	char context[160];
	char diag[MAX_DIAG][1024];
	int n_diag;
	char notes[MAX_NOTES][256];
	int n_notes;
} group;

void unit_begin(void)
{
	memset(&group, 0, sizeof group);
}

void unit_context(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(group.context, sizeof group.context, fmt, ap);
	va_end(ap);
}

void unit_note(const char *fmt, ...)
{
	va_list ap;

	if (group.n_notes == MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(group.notes[group.n_notes++], sizeof group.notes[0], fmt, ap);
	va_end(ap);
}

static void record(int ok, const char *file, int line, const char *what,
		   const char *detail)
{
	group.checks++;
	if (ok)
		return;
	if (group.failures++ < MAX_DIAG)
		snprintf(group.diag[group.n_diag++], sizeof group.diag[0],
			 "%.100s:%d: %.159s%s%.399s%.159s", file, line, group.context,
			 group.context[0] ? ": " : "", what, detail);
}

int unit_check(int ok, const char *file, int line, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	if (ok) {
		group.checks++;
		return 1;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	record(0, file, line, what, "");
	return 0;
}

int unit_close(double got, double want, double rtol)
{
	if (isnan(want) || isnan(got))
		return isnan(want) && isnan(got);
	if (isinf(want) || isinf(got))
		return got == want;
	return fabs(got - want) <= rtol * fmax(1.0, fabs(want));
}

int unit_check_close(double got, double want, double rtol, const char *file,
		     int line, const char *fmt, ...)
{
	char what[400], detail[160];
	va_list ap;

	if (unit_close(got, want, rtol)) {
		group.checks++;
		return 1;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(detail, sizeof detail, ": got %.17g, want %.17g (rtol %g)",
		 got, want, rtol);
	record(0, file, line, what, detail);
	return 0;
}

int unit_end(const char *fmt, ...)
{
	char desc[400];
	va_list ap;
	int ok = group.failures == 0 && group.checks > 0;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof desc, fmt, ap);
	va_end(ap);
	tests_run++;
	if (!ok)
		tests_failed++;
	printf("%sok %d - %s\n", ok ? "" : "not ", tests_run, desc);
	if (group.checks == 0)
		printf("# no check ran\n");
	if (!ok && group.failures > 0) {
		printf("# %ld of %ld checks failed\n", group.failures,
		       group.checks);
		for (int k = 0; k < group.n_diag; k++)
			printf("# %s\n", group.diag[k]);
		if (group.failures > group.n_diag)
			printf("# ... and %ld more\n",
			       group.failures - group.n_diag);
	}
	for (int k = 0; k < group.n_notes; k++)
		printf("# %s\n", group.notes[k]);
	fflush(stdout);
	return ok;
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : "";
	int n_suites = (int)(sizeof suites / sizeof suites[0]);
	int matched = 0;

	if (argc > 2 || (argc == 2 && (!strcmp(filter, "-h") ||
				       !strcmp(filter, "--help")))) {
		fprintf(stderr, "usage: unit [NAME | --isas]\n(SYNSTRUCT_ISA chooses the instruction set)\nsuites:\n");
		for (int k = 0; k < n_suites; k++)
			fprintf(stderr, "  %-13s %s\n", suites[k].name,
				suites[k].summary);
		return 2;
	}
	if (argc == 2 && !strcmp(filter, "--isas")) {
		/* The instruction sets this CPU runs, for tests/run.sh. */
		for (const char *const *set = ss_isa_built(); *set; set++)
			if (ss_isa_runs(*set))
				printf("%s\n", *set);
		return 0;
	}
	if (getenv("SYNSTRUCT_ISA") &&
	    ss_isa_select(getenv("SYNSTRUCT_ISA"), NULL) != SS_OK) {
		fprintf(stderr, "unit: SYNSTRUCT_ISA=%s is not run here\n",
			getenv("SYNSTRUCT_ISA"));
		return 2;
	}
	printf("# instruction set %s\n", ss_isa());
	for (int k = 0; k < n_suites; k++) {
		if (!strstr(suites[k].name, filter))
			continue;
		matched++;
		printf("# suite %s: %s\n", suites[k].name, suites[k].summary);
		fflush(stdout);
		suites[k].run();
	}
	if (!matched) {
		fprintf(stderr, "unit: no suite matches '%s'\n", filter);
		return 2;
	}
	printf("1..%d\n", tests_run);
	return tests_failed ? 1 : 0;
}
