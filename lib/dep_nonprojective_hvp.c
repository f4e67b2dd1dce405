/*
 * dep_nonprojective_hvp.c - the second-order pass of non-projective trees:
 * the Hessian of log Z times a direction, for the exact gradients of the
 * entropy, the cross-entropy and kl (--grad).
 *
 * Nodes and arcs as lib/dep_nonprojective.c: w[h * ld + d] scores h -> d,
 * nodes 0 .. n-1, node 0 the root; columns shifted by their largest
 * finite score m_d, a[h, d] = exp(w[h, d] - m_d) (the shift cancels
 * below). The Laplacian is a sum of rank-one terms, one per arc e = h -> d:
 *
 *   L = Σ_e a_e b_e c_eᵀ,   c_e = unit vector of column d - 1,
 *   multi-root   b_e = u_{d-1} - u_{h-1}   (no second term for h = 0)
 *   single root  (Koo et al. 2007: node 1's row replaced by the root
 *                arcs) b_e = u_0 for h = 0, else u_{d-1} - u_{h-1} less
 *                any term on row 0
 *
 * so that Z(a) = det L and, with X = L⁻¹, the marginals are the
 * derivatives of log det: μ_e = a_e c_eᵀ X b_e. Their derivative along a
 * direction d of the scores (da_e = a_e d_e, dL = Lc, the Laplacian of
 * the weights a_e d_e, dX = -X Lc X) is
 *
 *   (∇² log Z · d)_e = d_e μ_e - a_e c_eᵀ (X Lc X) b_e
 *
 * the covariance of arc e with the d-score (the arcs of a random tree are
 * a determinantal process: P(e, f) = K_ee K_ff - K_ef K_fe with
 * K_ef = a_e c_eᵀ X b_f, and the sum over f of d_f K_ef K_fe is the second
 * term). X comes from an LU factorisation with partial pivoting in
 * double: exact as a formula, but unlike log Z and the marginals
 * (lib/dep_nonprojective.c) not subtraction-free, so scores whose columns
 * spread over hundreds of nats lose digits to cancellation.
 *
 * Time O(n³): one factorisation and two matrix products. Memory: three
 * (n-1) x (n-1) matrices and n-1 pivots.
 */
#include "internal.h"

size_t ssi_nonprojective_hvp_workspace(int64_t n)
{
	return 3 * ssi_align64((size_t)(n * n) * sizeof(double)) +
	       ssi_align64((size_t)n * sizeof(double)) +
	       ssi_align64((size_t)n * sizeof(int64_t));
}

/* Arc h -> d (h != d, d >= 1): its column, and the rows of its +1 and -1
 * entries in b_e (-1: none). */
typedef struct arc_rows {
	int64_t col, plus, minus;
} arc_rows;

static arc_rows rows_of(int64_t h, int64_t d, int single_root)
{
	arc_rows r = {d - 1, d - 1, h - 1};
	if (single_root) {
		if (h == 0)
			r.plus = 0;
		else if (d == 1)
			r.plus = -1;
		if (h == 1)
			r.minus = -1;
	}
	return r;
}

/* c_eᵀ M b_e for a row-major m x m matrix M. */
static double form(const double *M, int64_t m, arc_rows r)
{
	double v = 0.0;
	if (r.plus >= 0)
		v += M[r.col * m + r.plus];
	if (r.minus >= 0)
		v -= M[r.col * m + r.minus];
	return v;
}

/* The weight a[h, d] of column d shifted by shift (0 for -inf). */
static double weight(const ssi_tree *p, int64_t h, int64_t d, double shift)
{
	double x = p->w[h * p->ld + d];
	return x == -INFINITY ? 0.0 : exp(x - shift);
}

/* L of the weights a (or a ∘ d, with d) into M [m x m]. */
static void laplacian(const ssi_tree *p, const double *shift, const double *d,
		      double *M)
{
	const int64_t m = p->n - 1;
	memset(M, 0, (size_t)(m * m) * sizeof *M);
	for (int64_t v = 1; v < p->n; v++)
		for (int64_t h = 0; h < p->n; h++) {
			arc_rows r = rows_of(h, v, p->single_root);
			double a = h == v ? 0.0 : weight(p, h, v, shift[v]);
			if (a == 0.0)
				continue;
			if (d)
				a *= d[h * p->ld + v];
			if (r.plus >= 0)
				M[r.plus * m + r.col] += a;
			if (r.minus >= 0)
				M[r.minus * m + r.col] -= a;
		}
}

/* X = L⁻¹ by Gaussian elimination with partial pivoting (L overwritten). */
static void invert(double *L, double *X, int64_t *piv, int64_t m)
{
	for (int64_t k = 0; k < m; k++) {
		int64_t best = k;
		for (int64_t i = k + 1; i < m; i++)
			if (fabs(L[i * m + k]) > fabs(L[best * m + k]))
				best = i;
		piv[k] = best;
		if (best != k)
			for (int64_t j = 0; j < m; j++) {
				double t = L[k * m + j];
				L[k * m + j] = L[best * m + j];
				L[best * m + j] = t;
			}
		for (int64_t i = k + 1; i < m; i++) {
			double f = L[i * m + k] /= L[k * m + k];
			for (int64_t j = k + 1; j < m; j++)
				L[i * m + j] -= f * L[k * m + j];
		}
	}
	/* Column by column: P L = LU, so X's column j solves LU x = P u_j. */
	for (int64_t j = 0; j < m; j++) {
		double *x = X; /* column j, stored at stride m */
		for (int64_t i = 0; i < m; i++)
			x[i * m + j] = i == j;
		for (int64_t k = 0; k < m; k++)
			if (piv[k] != k) {
				double t = x[k * m + j];
				x[k * m + j] = x[piv[k] * m + j];
				x[piv[k] * m + j] = t;
			}
		for (int64_t i = 0; i < m; i++)
			for (int64_t k = 0; k < i; k++)
				x[i * m + j] -= L[i * m + k] * x[k * m + j];
		for (int64_t i = m - 1; i >= 0; i--) {
			for (int64_t k = i + 1; k < m; k++)
				x[i * m + j] -= L[i * m + k] * x[k * m + j];
			x[i * m + j] /= L[i * m + i];
		}
	}
}

/* C = A B, m x m row-major. */
static void product(const double *A, const double *B, double *C, int64_t m)
{
	memset(C, 0, (size_t)(m * m) * sizeof *C);
	for (int64_t i = 0; i < m; i++)
		for (int64_t k = 0; k < m; k++) {
			const double a = A[i * m + k];
			for (int64_t j = 0; j < m; j++)
				C[i * m + j] += a * B[k * m + j];
		}
}

void ssi_nonprojective_hvp(const ssi_tree *p, void *ws, const double *d,
			   double *hv)
{
	const int64_t m = p->n - 1;
	const size_t matrix = ssi_align64((size_t)(p->ld * p->ld) * sizeof(double));
	char *at = ws;
	double *A = (double *)at, *X = (double *)(at + matrix);
	double *B = (double *)(at + 2 * matrix), *shift = (double *)(at + 3 * matrix);
	int64_t *piv = (int64_t *)(at + 3 * matrix +
				   ssi_align64((size_t)p->ld * sizeof(double)));
	if (m < 1)
		return;
	for (int64_t v = 1; v < p->n; v++) {
		shift[v] = -INFINITY;
		for (int64_t h = 0; h < p->n; h++) {
			double x = p->w[h * p->ld + v];
			if (h != v && x > shift[v])
				shift[v] = x;
		}
		shift[v] = shift[v] == -INFINITY ? 0.0 : shift[v];
	}
	laplacian(p, shift, NULL, A);
	invert(A, X, piv, m);
	laplacian(p, shift, d, B);
	product(B, X, A, m);  /* A = Lc X */
	product(X, A, B, m);  /* B = X Lc X */
	for (int64_t v = 1; v < p->n; v++)
		for (int64_t h = 0; h < p->n; h++) {
			const arc_rows r = rows_of(h, v, p->single_root);
			const double a = h == v ? 0.0 : weight(p, h, v, shift[v]);
			if (a == 0.0)
				continue;
			hv[h * p->ld + v] = d[h * p->ld + v] * a * form(X, m, r) -
					    a * form(B, m, r);
		}
}
