/*
 * dep_projective.c - projective dependency trees: Eisner's algorithm.
 *
 * Nodes 0 .. n-1 in sentence order; node 0 is the root, at the left end,
 * and only heads. Arc scores w[h * ld + d] for the arc h -> d (column 0
 * and the diagonal are never read). A projective tree gives every node
 * d >= 1 one head, with no two arcs crossing; its score is Σ_d w[head(d), d].
 *
 * Items over a span s <= t (Eisner 1996):
 *   C→(s, t)  complete, headed by s: s with its dependents' subtrees
 *             covering s+1 .. t, and nothing left to attach on that side
 *   C←(s, t)  complete, headed by t, covering s .. t-1
 *   I→(s, t)  incomplete: the arc s -> t, with s's dependents between
 *             them and t's left dependents
 *   I←(s, t)  incomplete: the arc t -> s, likewise
 * Recurrences (⊗ = +; ⊕ = logsumexp for log Z, max for the best tree):
 *   C→(s, s) = C←(s, s) = 0
 *   S(s, t)  = ⊕_{s <= r < t} C→(s, r) + C←(r+1, t)
 *   I→(s, t) = w[s, t] + S(s, t)
 *   I←(s, t) = w[t, s] + S(s, t),  I←(0, t) = -inf (node 0 has no head)
 *   C→(s, t) = ⊕_{s < r <= t} I→(s, r) + C→(r, t)
 *   C←(s, t) = ⊕_{s <= r < t} C←(s, r) + I←(r, t)
 *   log Z    = C→(0, n-1)   (0 for n = 1)
 * The split sum S is shared by the two arcs over a span, so each span
 * costs three reductions. Single root: the arc 0 -> t may only take the
 * split r = 0, S(0, t) = C←(1, t), so node 0 has exactly one dependent
 * (the dependents of 0 come from nested I→(0, ·) items, each adding one);
 * n = 1 then has no tree (-inf).
 *
 * Scale. Every tree has one arc into each d, so the program runs on the
 * scores w[h, d] - q_d, q_d the largest finite score into d, and log Z
 * adds Σ q_d back; the marginals and the sampling distribution are
 * unchanged. Every arc is then <= 0 with the best head of each node at 0,
 * so an item lies between its best subtree's shifted score and the log of
 * its number of subtrees: for scores spread over a few units, in the range
 * where the engine multiplies factors instead of taking exps (lib/chart.c;
 * cells out of it are reduced in log space, exact for any magnitude).
 *
 * The program (lib/chart.c). Every chart is stored by width, X(s, s+k) at
 * X + k n + s, so that the spans of one width are one "split" step: for
 * split offset j the candidates of all of them lie in contiguous rows over
 * s. Per width k, with j = r - s:
 *   S   x = C→(s, s+j)      at C→ + j n + s
 *       y = C←(s+j+1, s+k)  at C← + (k-1) n + 1 + j (1-n) + s,  j in [0, k)
 *   I→  x = S(s, s+k), part w[s, s+k] at s (ld+1) + k
 *   I←  x = S(s, s+k), part w[s+k, s] at s (ld+1) + k ld        (s >= 1)
 *   C→  x = I→(s, s+j), y = C→(s+j, s+k) at C→ + k n + j (1-n) + s, j in [1, k]
 *   C←  x = C←(s, s+j), y = I←(s+j, s+k) at I← + k n + j (1-n) + s, j in [0, k)
 *                                                                  (s >= 1)
 * Every cell a step reads is written before: I←(0, ·) and C←(0, ·) past
 * width 0 (node 0 has no head) and the spans of S past single_root's
 * split at 0 are neither written nor read.
 * The engine derives the marginals as the gradient of log Z (Eisner 2016),
 * the best tree and exact samples by walking down the chart, and the
 * entropy as Σ over cells of P(cell) times the entropy of its split.
 *
 * Time O(n³), memory O(n²) (15 n² doubles: five charts of cells, factors
 * and adjoints). J. Eisner, "Three new probabilistic models for
 * dependency parsing" (COLING 1996); J. Eisner, "Inside-outside and
 * forward-backward algorithms are just backprop" (2016).
 */
#include "internal.h"

/* The items and the split sum S. */
enum { X_CR, X_CL, X_IR, X_IL, X_S, X_COUNT };

void ssi_projective_chart_size(int64_t n, int64_t ld, ssi_chart_size *size)
{
	*size = (ssi_chart_size){.steps = 6 * n + 3,
				 .cells = X_COUNT * n * n + 1,
				 .candidates = n, .width = n,
				 .parts = ld * ld};
}

/* q_d = max_h w[h, d] (0 for a column without a finite arc): the shifted
 * scores into the chart's room, offset Σ q_d. Row by row, so that the
 * loops over d vectorise. */
static void shift_arcs(const ssi_tree *p, ssi_chart *c)
{
	const int64_t n = p->n, ld = p->ld;
	double *sh = c->shifted, *q = c->row[0];
	for (int64_t d = 0; d < n; d++)
		q[d] = -INFINITY;
	/* The diagonal and column 0 are never read: -inf in sh. */
	for (int64_t h = 0; h < n; h++) {
		const double *w = p->w + h * ld;
		double *row = sh + h * ld;
		for (int64_t d = 0; d < n; d++)
			row[d] = d == 0 || d == h ? -INFINITY : w[d];
		for (int64_t d = 0; d < n; d++)
			q[d] = row[d] > q[d] ? row[d] : q[d];
	}
	for (int64_t d = 0; d < n; d++)
		q[d] = q[d] == -INFINITY ? 0.0 : q[d];
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++)
			sh[h * ld + d] -= q[d];
	for (int64_t d = 1; d < n; d++)
		c->offset += q[d];
	c->theta = sh;
	c->factors = 2; /* x and y, or x and an arc */
}

/* An operand of a chart: X + base + j per_j + s per_s. */
static ssi_operand at(const int64_t *x, int item, int64_t base,
		      int64_t per_j)
{
	return (ssi_operand){x[item] + base, per_j, 1};
}

/* The steps of the spans of width k (cnt = n - k of them). */
static void push_width(const ssi_tree *p, ssi_chart *c, const int64_t *x,
		       int64_t k)
{
	const int64_t n = p->n, ld = p->ld, cnt = n - k;
	/* Single root: the arc 0 -> k only over the split r = 0. */
	const int64_t s0 = p->single_root ? 1 : 0;
	if (cnt > s0) {
		ssi_chart_push(c, x[X_S] + k * n + s0, cnt - s0, 0, k,
			       at(x, X_CR, s0, n),
			       at(x, X_CL, (k - 1) * n + 1 + s0, 1 - n),
			       SSI_ABSENT);
		ssi_chart_push(c, x[X_IR] + k * n + s0, cnt - s0, 0, 1,
			       at(x, X_S, k * n + s0, 0), SSI_ABSENT,
			       (ssi_operand){s0 * (ld + 1) + k, 0, ld + 1});
	}
	if (p->single_root)
		ssi_chart_push(c, x[X_IR] + k * n, 1, 0, 1,
			       at(x, X_CL, (k - 1) * n + 1, 0), SSI_ABSENT,
			       (ssi_operand){k, 0, 0});
	if (cnt > 1)
		ssi_chart_push(c, x[X_IL] + k * n + 1, cnt - 1, 0, 1,
			       at(x, X_S, k * n + 1, 0), SSI_ABSENT,
			       (ssi_operand){ld + 1 + k * ld, 0, ld + 1});
	ssi_chart_push(c, x[X_CR] + k * n, cnt, 1, k + 1, at(x, X_IR, 0, n),
		       at(x, X_CR, k * n, 1 - n), SSI_ABSENT);
	/* C←(0, k) would need a head for node 0: never read, not written. */
	if (cnt > 1)
		ssi_chart_push(c, x[X_CL] + k * n + 1, cnt - 1, 0, k,
			       at(x, X_CL, 1, n), at(x, X_IL, k * n + 1, 1 - n),
			       SSI_ABSENT);
}

void ssi_projective_chart(const ssi_tree *p, ssi_chart *c)
{
	const int64_t n = p->n;
	int64_t x[X_COUNT], root;
	shift_arcs(p, c);
	for (int k = 0; k < X_COUNT; k++)
		x[k] = ssi_chart_cells(c, n * n);
	ssi_chart_push(c, x[X_CR], n, 0, 1, SSI_ABSENT, SSI_ABSENT, SSI_ABSENT);
	ssi_chart_push(c, x[X_CL], n, 0, 1, SSI_ABSENT, SSI_ABSENT, SSI_ABSENT);
	for (int64_t k = 1; k < n; k++)
		push_width(p, c, x, k);
	/* log Z = C→(0, n-1); a single root needs an arc (n = 1: none). */
	root = ssi_chart_cells(c, 1);
	ssi_chart_push(c, root, 1, 0, p->single_root && n == 1 ? 0 : 1,
		       (ssi_operand){x[X_CR] + (n - 1) * n, 0, 0}, SSI_ABSENT,
		       SSI_ABSENT);
}
