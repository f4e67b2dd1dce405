/*
 * unit_stats.c - the chi-square goodness-of-fit test the samplers' tests
 * share.
 */
#include <math.h>
#include <stdlib.h>

#include "unit.h"

/* The 0.999 quantile of chi-square with df degrees of freedom
 * (Wilson-Hilferty). */
double chi2_q999(int df)
{
	const double z = 3.090232306167813; /* Phi^-1(0.999) */
	double k = df, v = 2.0 / (9.0 * k);

	return k * pow(1.0 - v + z * sqrt(v), 3.0);
}

static int cell_cmp(const void *x, const void *y)
{
	double a = ((const chi2_cell *)x)->expected, b = ((const chi2_cell *)y)->expected;

	return (a > b) - (a < b);
}

/* Pearson's statistic with cells of expected count < 5 pooled (the pool
 * joins the smallest other chi2_cell if it is still under 5). */
double chi2_pooled(chi2_cell *cells, int n, int *df)
{
	chi2_cell pool = {0, 0};
	double stat = 0.0;
	int bins = 0;

	qsort(cells, (size_t)n, sizeof *cells, cell_cmp);
	for (int k = 0; k < n; k++) {
		if (cells[k].expected < 5.0) {
			pool.expected += cells[k].expected;
			pool.observed += cells[k].observed;
			cells[k].expected = 0.0;
		}
	}
	if (pool.expected > 0.0) {
		int k = 0;

		while (k < n && cells[k].expected == 0.0)
			k++;
		if (pool.expected < 5.0 && k < n) {
			cells[k].expected += pool.expected;
			cells[k].observed += pool.observed;
		} else {
			double d = (double)pool.observed - pool.expected;

			stat += d * d / pool.expected;
			bins++;
		}
	}
	for (int k = 0; k < n; k++) {
		double d;

		if (cells[k].expected == 0.0)
			continue;
		d = (double)cells[k].observed - cells[k].expected;
		stat += d * d / cells[k].expected;
		bins++;
	}
	*df = bins - 1;
	return stat;
}

void chi2_check(chi2_cell *cells, int n, const char *label)
{
	int df;
	double stat = chi2_pooled(cells, n, &df), q = chi2_q999(df);

	CHECK(df >= 1, "only %d bins", df + 1);
	CHECK(stat <= q, "chi-square %.3f > %.3f, the 0.999 quantile for %d df",
	      stat, q, df);
	unit_note("%s: chi-square %.2f, %d df, 0.999 quantile %.2f", label,
		  stat, df, q);
}
