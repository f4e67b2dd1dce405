/*
 * isa.c - the kernels of one instruction set, chosen at start-up.
 *
 * lib/chart.c, lib/chart_hvp.c and lib/dep_nonprojective.c are compiled
 * once per set this build targets (Makefile: ISAS), their exported
 * functions suffixed with the set's name (SSI_KERNEL). The functions of internal.h call the chosen
 * set's through one table: the best this CPU runs (the last of the table
 * that it runs), or the one ss_isa_select chose (SYNSTRUCT_ISA on the
 * command line). The table is one row per set; __builtin_cpu_supports
 * also checks that the operating system saves the wider registers.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct kernels {
	const char *name;
	int (*runs)(void);
	double (*chart_inside)(ssi_chart *c, ssi_semiring sr);
	double (*chart_outside)(ssi_chart *c, double *mu, int entropy);
	double (*chart_backtrace)(ssi_chart *c, ssi_chooser chooser,
				  ss_rng *rng, double *event);
	void (*chart_max_outside)(ssi_chart *c, double *mm, double best);
	double (*chart_kbest)(ssi_chart *c, ssi_kbest *kb);
	double (*chart_kbest_structure)(ssi_chart *c, ssi_kbest *kb,
					int32_t rank, double *event);
	size_t (*np_workspace)(int64_t n);
	double (*np_log_partition)(const ssi_tree *p, void *ws);
	double (*np_marginals)(const ssi_tree *p, void *ws, double *mu);
	double (*np_argmax)(const ssi_tree *p, void *ws, int64_t *heads);
	void (*np_sample)(const ssi_tree *p, void *ws, ss_rng *rng,
			  int64_t *heads);
	int64_t (*find_bad)(const double *x, int64_t n);
	int64_t (*find_bad_f32)(const float *x, int64_t n);
	double (*logsumexp)(const double *x, int64_t n);
	size_t (*np_hvp_workspace)(int64_t n);
	void (*np_hvp)(const ssi_tree *p, void *ws, const double *d,
		       double *hv);
	void (*chart_hvp)(ssi_chart *c, const double *d, double *hv,
			  double *tau, double *gdot, double *norm,
			  double *rows, int64_t row_stride);
} kernels;

#define KERNELS(isa)                                                          \
	{#isa, runs_##isa, ssi_chart_inside_##isa, ssi_chart_outside_##isa,   \
	 ssi_chart_backtrace_##isa, ssi_chart_max_outside_##isa,              \
	 ssi_chart_kbest_##isa, ssi_chart_kbest_structure_##isa,              \
	 ssi_nonprojective_workspace_##isa,                                   \
	 ssi_nonprojective_log_partition_##isa,                               \
	 ssi_nonprojective_marginals_##isa, ssi_nonprojective_argmax_##isa,   \
	 ssi_nonprojective_sample_##isa, ssi_find_bad_##isa,             \
	 ssi_find_bad_f32_##isa, ssi_logsumexp_##isa,                         \
	 ssi_nonprojective_hvp_workspace_##isa,                               \
	 ssi_nonprojective_hvp_##isa, ssi_chart_hvp_##isa}

#if defined(__x86_64__)
#define K_scalar(f) f##_scalar
#define K_avx2(f) f##_avx2
#define K_avx512(f) f##_avx512
SSI_KERNEL_PROTOTYPES(K_scalar)
SSI_KERNEL_PROTOTYPES(K_avx2)
SSI_KERNEL_PROTOTYPES(K_avx512)

static int runs_scalar(void) { return 1; }

static int runs_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int runs_avx512(void)
{
	return runs_avx2() && __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512dq") &&
	       __builtin_cpu_supports("avx512vl") &&
	       __builtin_cpu_supports("avx512bw");
}

static const kernels table[] = {KERNELS(scalar), KERNELS(avx2),
				KERNELS(avx512)};
#elif defined(__aarch64__)
#define K_neon(f) f##_neon
SSI_KERNEL_PROTOTYPES(K_neon)

static int runs_neon(void) { return 1; }

static const kernels table[] = {KERNELS(neon)};
#else
#define K_scalar(f) f##_scalar
SSI_KERNEL_PROTOTYPES(K_scalar)

static int runs_scalar(void) { return 1; }

static const kernels table[] = {KERNELS(scalar)};
#endif

enum { SETS = (int)SS_ARRAY_LEN(table) };

static const kernels *chosen;

/* The chosen set; the best this CPU runs before any choice. */
static const kernels *in_use(void)
{
	const kernels *k = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
	if (k)
		return k;
	for (int s = SETS - 1; s >= 0 && !k; s--)
		if (table[s].runs())
			k = &table[s];
	__atomic_store_n(&chosen, k, __ATOMIC_RELEASE);
	return k;
}

const char *ss_isa(void)
{
	return in_use()->name;
}

const char *const *ss_isa_built(void)
{
	static const char *names[SETS + 1];
	for (int s = 0; s < SETS; s++)
		names[s] = table[s].name;
	return names;
}

int ss_isa_runs(const char *name)
{
	for (int s = 0; s < SETS; s++)
		if (!strcmp(table[s].name, name))
			return table[s].runs();
	return 0;
}

int ss_isa_select(const char *name, ss_error *err)
{
	char sets[128];
	size_t used = 0;
	int built = 0;
	for (int s = 0; s < SETS; s++) {
		if (strcmp(table[s].name, name))
			continue;
		built = 1;
		if (table[s].runs()) {
			__atomic_store_n(&chosen, &table[s], __ATOMIC_RELEASE);
			return SS_OK;
		}
	}
	sets[0] = '\0';
	for (int s = 0; s < SETS && used < sizeof sets; s++)
		if (table[s].runs())
			used += (size_t)snprintf(sets + used, sizeof sets - used,
						 "%s%s", used ? ", " : "",
						 table[s].name);
	return ss_error_set(err, SS_EUNSUPPORTED,
			    "instruction set '%s' is not %s; this machine runs %s",
			    name, built ? "run by this CPU" : "built in", sets);
}

/* ---- the kernels, through the table ------------------------------------- */

double ssi_chart_inside(ssi_chart *c, ssi_semiring sr)
{
	return in_use()->chart_inside(c, sr);
}

double ssi_chart_outside(ssi_chart *c, double *mu, int entropy)
{
	return in_use()->chart_outside(c, mu, entropy);
}

double ssi_chart_backtrace(ssi_chart *c, ssi_chooser chooser, ss_rng *rng,
			   double *event)
{
	return in_use()->chart_backtrace(c, chooser, rng, event);
}

void ssi_chart_max_outside(ssi_chart *c, double *mm, double best)
{
	in_use()->chart_max_outside(c, mm, best);
}

double ssi_chart_kbest(ssi_chart *c, ssi_kbest *kb)
{
	return in_use()->chart_kbest(c, kb);
}

double ssi_chart_kbest_structure(ssi_chart *c, ssi_kbest *kb, int32_t rank,
				 double *event)
{
	return in_use()->chart_kbest_structure(c, kb, rank, event);
}

size_t ssi_nonprojective_workspace(int64_t n)
{
	return in_use()->np_workspace(n);
}

double ssi_nonprojective_log_partition(const ssi_tree *p, void *ws)
{
	return in_use()->np_log_partition(p, ws);
}

double ssi_nonprojective_marginals(const ssi_tree *p, void *ws, double *mu)
{
	return in_use()->np_marginals(p, ws, mu);
}

double ssi_nonprojective_argmax(const ssi_tree *p, void *ws, int64_t *heads)
{
	return in_use()->np_argmax(p, ws, heads);
}

void ssi_nonprojective_sample(const ssi_tree *p, void *ws, ss_rng *rng,
			      int64_t *heads)
{
	in_use()->np_sample(p, ws, rng, heads);
}

int64_t ssi_find_bad(const double *x, int64_t n)
{
	return in_use()->find_bad(x, n);
}

int64_t ssi_find_bad_f32(const float *x, int64_t n)
{
	return in_use()->find_bad_f32(x, n);
}

double ssi_logsumexp(const double *x, int64_t n)
{
	return in_use()->logsumexp(x, n);
}

void ssi_chart_hvp(ssi_chart *c, const double *d, double *hv, double *tau,
		   double *gdot, double *norm, double *rows, int64_t row_stride)
{
	in_use()->chart_hvp(c, d, hv, tau, gdot, norm, rows, row_stride);
}

size_t ssi_nonprojective_hvp_workspace(int64_t n)
{
	return in_use()->np_hvp_workspace(n);
}

void ssi_nonprojective_hvp(const ssi_tree *p, void *ws, const double *d,
			   double *hv)
{
	in_use()->np_hvp(p, ws, d, hv);
}
