/*
 * semiring.c - the reductions every dynamic program here is built from.
 *
 * A cell of a chart is ⊕ over its candidates of (previous cell ⊗ score).
 * Under the log semiring ⊕ is logsumexp and ⊗ is +; under the max semiring
 * ⊕ is max. The kernels loop with the output index innermost so that each
 * pass is elementwise over a contiguous row and vectorises; the log
 * semiring takes two passes, one for the per-cell maximum m[c] and one for
 * Σ exp(x - m[c]), which keeps every result exact for scores of any
 * magnitude (no shared shift that could underflow a cell).
 */
#include "internal.h"

double ssi_logsumexp(const double *x, int64_t n)
{
	double m = -INFINITY, sum = 0.0;
	for (int64_t k = 0; k < n; k++)
		m = x[k] > m ? x[k] : m;
	if (m == -INFINITY)
		return -INFINITY;
	for (int64_t k = 0; k < n; k++)
		sum += ssi_exp(x[k] - m);
	return m + log(sum);
}

static void vecmat_log(int64_t na, int64_t nc, const double *v,
		       const double *M, double *out, double *sum)
{
	for (int64_t c = 0; c < nc; c++)
		out[c] = -INFINITY;
	for (int64_t a = 0; a < na; a++) {
		const double va = v[a], *row = M + a * nc;
		if (va == -INFINITY)
			continue;
		for (int64_t c = 0; c < nc; c++) {
			double x = va + row[c];
			out[c] = x > out[c] ? x : out[c];
		}
	}
	/* A cell whose candidates are all -inf keeps shift 0 and sum 0. */
	for (int64_t c = 0; c < nc; c++) {
		out[c] = out[c] == -INFINITY ? 0.0 : out[c];
		sum[c] = 0.0;
	}
	for (int64_t a = 0; a < na; a++) {
		const double va = v[a], *row = M + a * nc;
		if (va == -INFINITY)
			continue;
		for (int64_t c = 0; c < nc; c++)
			sum[c] += ssi_exp(va + row[c] - out[c]);
	}
	for (int64_t c = 0; c < nc; c++)
		out[c] += log(sum[c]);
}

static void vecmat_max(int64_t na, int64_t nc, const double *v,
		       const double *M, double *out, int32_t *arg)
{
	for (int64_t c = 0; c < nc; c++) {
		out[c] = -INFINITY;
		if (arg)
			arg[c] = 0;
	}
	for (int64_t a = 0; a < na; a++) {
		const double va = v[a], *row = M + a * nc;
		if (va == -INFINITY)
			continue;
		if (arg) {
			for (int64_t c = 0; c < nc; c++) {
				double x = va + row[c];
				arg[c] = x > out[c] ? (int32_t)a : arg[c];
				out[c] = x > out[c] ? x : out[c];
			}
		} else {
			for (int64_t c = 0; c < nc; c++) {
				double x = va + row[c];
				out[c] = x > out[c] ? x : out[c];
			}
		}
	}
}

void ssi_vecmat(ssi_semiring sr, int64_t na, int64_t nc, const double *v,
		const double *M, double *out, double *scratch, int32_t *arg)
{
	switch (sr) {
	case SSI_LOG:
		vecmat_log(na, nc, v, M, out, scratch);
		break;
	case SSI_MAX:
		vecmat_max(na, nc, v, M, out, arg);
		break;
	case SSI_SEMIRING_COUNT:
		break;
	}
}

void ssi_matvec(ssi_semiring sr, int64_t na, int64_t nc, const double *M,
		const double *w, double *out, double *scratch)
{
	double *Mt = scratch, *rest = scratch + na * nc;
	for (int64_t a = 0; a < na; a++)
		for (int64_t c = 0; c < nc; c++)
			Mt[c * na + a] = M[a * nc + c];
	ssi_vecmat(sr, nc, na, w, Mt, out, rest, NULL);
}

int64_t ssi_sample_log_weights(const double *logw, int64_t n, int64_t stride,
			       double u)
{
	double m = -INFINITY, total = 0.0, acc = 0.0;
	int64_t last = -1;
	for (int64_t k = 0; k < n; k++)
		m = logw[k * stride] > m ? logw[k * stride] : m;
	if (m == -INFINITY)
		return -1;
	for (int64_t k = 0; k < n; k++)
		total += exp(logw[k * stride] - m);
	for (int64_t k = 0; k < n; k++) {
		double w = exp(logw[k * stride] - m);
		if (w <= 0.0)
			continue;
		acc += w;
		last = k;
		if (u * total < acc)
			return k;
	}
	return last;
}
