/*
 * struct_spanning_tree.c - dependency trees: spanning arborescences rooted
 * at node 0, projective or not, directed or not, single root or not.
 *
 * Potentials lp [n, n]: lp[h, d] scores the arc head h -> dependent d.
 * Node 0 is the root; an element's length L counts it (1 <= L <= n), so
 * the nodes are 0 .. L-1. Column 0 and the diagonal are ignored.
 * A structure gives every node d in 1 .. L-1 one head; its score is
 *   s(y) = Σ_{d=1}^{L-1} w[head(d), d]
 * with w = lp (directed) or w = (lp + lpᵀ)/2 (undirected). The event is
 * the indicator e[h, d] = 1 of the arcs (undirected: of the edges, both
 * e[h, d] and e[d, h]); the compact decode is heads [n] (-1 for the root
 * and padding; undirected trees are oriented away from node 0).
 *
 * Options (root attributes or flags):
 *   directed          1 (--undirected sets 0): undirected trees are the
 *                     arborescences of w rooted at node 0, one per tree
 *   projective        0 (--projective sets 1): no crossing arcs; Eisner's
 *                     algorithm (lib/dep_projective.c); otherwise the
 *                     Matrix-Tree Theorem, maximum spanning arborescence
 *                     and an exact sampler (lib/dep_nonprojective.c)
 *   single_root_edge  0 (--single-root sets 1): exactly one arc leaves 0
 *
 * The canonical problem (lower) is the directed one over w. Projective
 * trees run Eisner's chart program (lib/dep_projective.c) on the engine,
 * which gives every operation; non-projective trees are not a dynamic
 * program and have special operations (lib/dep_nonprojective.c).
 *
 * Entropy. Projective: Σ over Eisner's cells of P(cell) times the
 * entropy of the split it draws (lib/chart.c), a sum of terms >= 0 that
 * stays exact for scores of any magnitude. Non-projective:
 * H = log Z - Σ μ·w, formed as (log Z - Σ_d s_d) - Σ μ·(w - s_d) with
 * s_d the largest finite score into d (every node's head marginals sum
 * to one), exact for scores up to 1e5 and more because the marginals
 * carry a relative error of a few ulps; where the distribution is all
 * but one tree that leaves a rounding residue of ±1e-12 around 0, and a
 * negative one is set to 0 (an entropy is never negative).
 *
 * Gradients (lower_grad): the canonical problem reads θ[h, d] for h, d
 * < L, d >= 1, h != d, and df/dθ is taken there only, where θ is finite
 * (a -inf arc has no derivative). Directed, θ = lp: dlp[h, d] = dθ[h, d]
 * on those arcs. Undirected, θ[u, v] = (lp[u, v] + lp[v, u]) / 2, so
 *   dlp[u, v] = (dθ[u, v] + dθ[v, u]) / 2        (u != v < L)
 * with dθ[., 0] = 0 (column 0 is never read; lp[v, 0] still feeds the
 * arc 0 -> v). The diagonal, directed column 0 and padding get 0.
 * Time O(L²).
 *
 * Koo, Globerson, Carreras and Collins (2007); McDonald, Pereira, Ribarov
 * and Hajič (2005); Eisner (1996).
 */
#include "internal.h"

enum { TREE_LOG_POTENTIALS, TREE_LENGTHS, TREE_INPUT_COUNT };
extern const ss_structure ssi_spanning_tree;

enum { OPT_DIRECTED, OPT_PROJECTIVE, OPT_SINGLE_ROOT, OPT_COUNT };

/* Scratch of the special operations and to_parts: μ [n, n], heads [n],
 * then the non-projective kernel's workspace. */
typedef struct tree_ws {
	double *mu;
	int64_t *heads;
	void *kernel;
} tree_ws;

static size_t tree_workspace_bytes(const int64_t dim[])
{
	int64_t n = dim[SS_DIM_N];
	size_t kernel = ssi_nonprojective_workspace(n);
	size_t hvp = ssi_nonprojective_hvp_workspace(n);
	return ssi_align64((size_t)(n * n) * sizeof(double)) +
	       ssi_align64((size_t)n * sizeof(int64_t)) +
	       (kernel > hvp ? kernel : hvp);
}

static tree_ws tree_ws_carve(const ss_element *e, void *ws)
{
	int64_t n = e->dim[SS_DIM_N];
	char *p = ws;
	tree_ws w;
	w.mu = (double *)p;
	p += ssi_align64((size_t)(n * n) * sizeof(double));
	w.heads = (int64_t *)p;
	p += ssi_align64((size_t)n * sizeof(int64_t));
	w.kernel = p;
	return w;
}

static int directed(const ss_element *e) { return (int)e->option[OPT_DIRECTED]; }
static int projective(const ss_element *e) { return (int)e->option[OPT_PROJECTIVE]; }

/* The kernels' problem: a canonical (directed) element's scores. */
static ssi_tree tree_of(const ss_element *c)
{
	ssi_tree p = {c->input[TREE_LOG_POTENTIALS].data,
		      ssi_length(c, TREE_LENGTHS), c->dim[SS_DIM_N],
		      (int)c->option[OPT_SINGLE_ROOT], SSI_SAMPLER_AUTO};
	return p;
}

static int tree_validate(const ss_element *e, void *ws, ss_error *err)
{
	const double *lp = e->input[TREE_LOG_POTENTIALS].data;
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	const int64_t shape[2] = {n, n};
	(void)ws;
	if (ssi_check_lengths(&ssi_spanning_tree, e, TREE_LENGTHS, 1, err))
		return SS_EDATA;
	/* Directed: column 0 unused; undirected: lp[v, 0] feeds w[0, v].
	 * Row h is read in [first, h) and (h, L): all but the diagonal. */
	for (int64_t h = 0; h < L; h++) {
		const int64_t first = directed(e) ? 1 : 0;
		const double *row = lp + h * n;
		int64_t d = first < h ? ssi_find_bad(row + first, h - first) : -1;
		d = d >= 0 ? d + first : -1;
		if (d < 0 && h + 1 < L) {
			d = ssi_find_bad(row + h + 1, L - h - 1);
			d = d >= 0 ? d + h + 1 : -1;
		}
		if (d >= 0)
			return ssi_bad_value_error(err, "log_potentials", row[d],
						   h * n + d, SS_ARRAY_LEN(shape),
						   shape);
	}
	return SS_OK;
}

static void tree_chart_size(const int64_t dim[], ssi_chart_size *size)
{
	ssi_projective_chart_size(dim[SS_DIM_N], dim[SS_DIM_N], size);
}

static int tree_chart(const ss_element *c, ssi_chart *chart)
{
	ssi_tree p = tree_of(c);
	if (!projective(c))
		return 0;
	ssi_projective_chart(&p, chart);
	return 1;
}

/* The parts of heads (all zero beforehand), with their score. */
static double mark_heads(const ssi_tree *p, const int64_t *heads,
			 double *parts)
{
	double score = 0.0;
	for (int64_t d = 1; d < p->n; d++) {
		parts[heads[d] * p->ld + d] = 1.0;
		score += p->w[heads[d] * p->ld + d];
	}
	return score;
}

/* ---- non-projective trees: the special operations ---------------------- */

static int np_log_partition(const ss_element *c, void *ws, double *logz,
			    ss_error *err)
{
	tree_ws w = tree_ws_carve(c, ws);
	ssi_tree p = tree_of(c);
	(void)err;
	*logz = ssi_nonprojective_log_partition(&p, w.kernel);
	return SS_OK;
}

static int np_marginals(const ss_element *c, void *ws, double *mu,
			double *logz, ss_error *err)
{
	tree_ws w = tree_ws_carve(c, ws);
	ssi_tree p = tree_of(c);
	(void)err;
	*logz = ssi_nonprojective_marginals(&p, w.kernel, mu);
	return SS_OK;
}

static int np_hvp(const ss_element *c, void *ws, const double *d,
		  double *hv, ss_error *err)
{
	tree_ws w = tree_ws_carve(c, ws);
	ssi_tree p = tree_of(c);
	(void)err;
	ssi_nonprojective_hvp(&p, w.kernel, d, hv);
	return SS_OK;
}

static int np_argmax(const ss_element *c, void *ws, double *parts,
		     double *score, ss_error *err)
{
	tree_ws w = tree_ws_carve(c, ws);
	ssi_tree p = tree_of(c);
	(void)err;
	*score = ssi_nonprojective_argmax(&p, w.kernel, w.heads);
	if (*score != -INFINITY)
		*score = mark_heads(&p, w.heads, parts);
	return SS_OK;
}

static int np_sample(const ss_element *c, void *ws, ss_rng *rng,
		     double *parts, double *score, ss_error *err)
{
	tree_ws w = tree_ws_carve(c, ws);
	ssi_tree p = tree_of(c);
	(void)err;
	ssi_nonprojective_sample(&p, w.kernel, rng, w.heads);
	*score = mark_heads(&p, w.heads, parts);
	return SS_OK;
}

static int np_entropy(const ss_element *c, void *ws, double *entropy,
		      ss_error *err)
{
	tree_ws w = tree_ws_carve(c, ws);
	ssi_tree p = tree_of(c);
	const int64_t n = c->dim[SS_DIM_N];
	double logz, shifted, expected = 0.0;
	(void)err;
	memset(w.mu, 0, (size_t)(n * n) * sizeof *w.mu);
	logz = ssi_nonprojective_marginals(&p, w.kernel, w.mu);
	if (logz == -INFINITY) {
		*entropy = NAN;
		return SS_OK;
	}
	shifted = logz;
	for (int64_t d = 1; d < p.n; d++) {
		double s = -INFINITY;
		for (int64_t h = 0; h < p.n; h++)
			if (h != d && p.w[h * p.ld + d] > s)
				s = p.w[h * p.ld + d];
		shifted -= s;
		for (int64_t h = 0; h < p.n; h++)
			if (h != d && w.mu[h * n + d] > 0.0)
				expected += w.mu[h * n + d] *
					    (p.w[h * p.ld + d] - s);
	}
	/* A rounding residue below 0 where H is 0 (see the banner). */
	*entropy = shifted - expected > 0.0 ? shifted - expected : 0.0;
	return SS_OK;
}

/* ---- events and parts ---------------------------------------------------- */

/* 1 if arcs (h1, d1) and (h2, d2) cross. */
static int arcs_cross(int64_t h1, int64_t d1, int64_t h2, int64_t d2)
{
	int64_t l1 = h1 < d1 ? h1 : d1, r1 = h1 < d1 ? d1 : h1;
	int64_t l2 = h2 < d2 ? h2 : d2, r2 = h2 < d2 ? d2 : h2;
	return (l1 < l2 && l2 < r1 && r1 < r2) ||
	       (l2 < l1 && l1 < r2 && r2 < r1);
}

/* Checks that the event's entries are 0/1 arcs (edges, symmetric, when
 * undirected) among the L nodes, at most one head per node; counts them
 * into *arcs and, directed, writes each node's head. */
static int event_arcs(const ss_element *e, const double *event,
		      int64_t *heads, int64_t *arcs, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	*arcs = 0;
	for (int64_t h = 0; h < n; h++)
		for (int64_t d = 0; d < n; d++) {
			double x = event[h * n + d];
			if (x == 0.0)
				continue;
			if (x != 1.0)
				return ss_error_set(err, SS_EDATA,
						    "event holds %g at [%lld, %lld], not 0 or 1",
						    x, (long long)h, (long long)d);
			if (h >= L || d >= L || h == d)
				return ss_error_set(err, SS_EDATA,
						    "event marks [%lld, %lld], not an arc among the %lld nodes",
						    (long long)h, (long long)d, (long long)L);
			if (!directed(e) && event[d * n + h] != 1.0)
				return ss_error_set(err, SS_EDATA,
						    "event is not symmetric at [%lld, %lld]",
						    (long long)h, (long long)d);
			if (directed(e) || h < d)
				(*arcs)++;
			if (directed(e)) {
				if (d == 0 || heads[d] >= 0)
					return ss_error_set(err, SS_EDATA,
							    "event gives node %lld %s",
							    (long long)d, d ? "two heads" : "a head");
				heads[d] = h;
			}
		}
	return SS_OK;
}

/* The heads of an undirected event's edges, oriented away from node 0:
 * grows the tree from the root until no edge reaches a new node. */
static void event_orient(const ss_element *e, const double *event,
			 int64_t *heads)
{
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	for (int grown = 1; grown;) {
		grown = 0;
		for (int64_t v = 1; v < L; v++)
			for (int64_t u = 0; u < L && heads[v] < 0; u++)
				if (event[u * n + v] == 1.0 &&
				    (u == 0 || heads[u] >= 0)) {
					heads[v] = u;
					grown = 1;
				}
	}
}

/* Checks that heads, one arc into each of nodes 1 .. L-1, form a tree
 * that the element's options allow. */
static int heads_check(const ss_element *e, const int64_t *heads,
		       ss_error *err)
{
	const int64_t L = ssi_length(e, TREE_LENGTHS);
	int64_t root_children = 0;
	for (int64_t d = 1; d < L; d++) {
		int64_t steps = 0;
		if (heads[d] < 0)
			return ss_error_set(err, SS_EDATA,
					    "event is not a spanning tree: node %lld is not reached from the root",
					    (long long)d);
		for (int64_t v = d; v != 0; v = heads[v])
			if (++steps > L)
				return ss_error_set(err, SS_EDATA,
						    "event is not a spanning tree: it has a cycle through node %lld",
						    (long long)d);
		root_children += heads[d] == 0;
	}
	if (e->option[OPT_SINGLE_ROOT] && root_children != 1)
		return ss_error_set(err, SS_EDATA,
				    "event has %lld arcs from the root; single_root_edge allows one",
				    (long long)root_children);
	if (projective(e))
		for (int64_t a = 1; a < L; a++)
			for (int64_t b = a + 1; b < L; b++)
				if (arcs_cross(heads[a], a, heads[b], b))
					return ss_error_set(err, SS_EDATA,
							    "event is not projective: the arcs into %lld and %lld cross",
							    (long long)a, (long long)b);
	return SS_OK;
}

/*
 * Reads an event into heads (oriented from node 0 when undirected) and
 * checks that it is a tree of this element's kind. *empty is set for the
 * all-zero event.
 */
static int event_heads(const ss_element *e, const double *event,
		       int64_t *heads, int *empty, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	int64_t arcs;
	int rc;
	for (int64_t d = 0; d < n; d++)
		heads[d] = -1;
	if ((rc = event_arcs(e, event, heads, &arcs, err)) != SS_OK)
		return rc;
	*empty = arcs == 0;
	if (*empty)
		return SS_OK;
	if (arcs != L - 1)
		return ss_error_set(err, SS_EDATA,
				    "event has %lld arcs; a tree of %lld nodes has %lld",
				    (long long)arcs, (long long)L, (long long)(L - 1));
	if (!directed(e))
		event_orient(e, event, heads);
	return heads_check(e, heads, err);
}

/* The arcs of an event, checked to be a tree of this element's kind. */
static int tree_to_parts(const ss_element *e, void *ws, const double *event,
			 double *parts, int *empty, ss_error *err)
{
	tree_ws w = tree_ws_carve(e, ws);
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	int rc = event_heads(e, event, w.heads, empty, err);
	if (rc)
		return rc;
	memset(parts, 0, (size_t)(n * n) * sizeof *parts);
	/* The all-zero event: the root alone (L = 1), else empty. */
	*empty = *empty && (L > 1 || e->option[OPT_SINGLE_ROOT]);
	if (!*empty)
		for (int64_t d = 1; d < L; d++)
			parts[w.heads[d] * n + d] = 1.0;
	return SS_OK;
}

/* The event of arcs: an undirected edge is either orientation's arc. */
static void tree_from_parts(const ss_element *e, const double *parts,
			    double *event)
{
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	if (directed(e)) {
		memcpy(event, parts, (size_t)(n * n) * sizeof *event);
		return;
	}
	memset(event, 0, (size_t)(n * n) * sizeof *event);
	for (int64_t u = 0; u < L; u++)
		for (int64_t v = 0; v < L; v++)
			event[u * n + v] = parts[u * n + v] + parts[v * n + u];
}

/* Max-marginals: an undirected edge takes the better orientation; what
 * no tree uses is -inf. */
static void tree_from_parts_max(const ss_element *e, const double *parts,
				double *event)
{
	const int64_t n = e->dim[SS_DIM_N];
	if (directed(e)) {
		memcpy(event, parts, (size_t)(n * n) * sizeof *event);
		return;
	}
	for (int64_t u = 0; u < n; u++)
		for (int64_t v = 0; v < n; v++)
			event[u * n + v] = fmax(parts[u * n + v], parts[v * n + u]);
}

/* Arc h -> d in every tree: d's other heads forbidden. */
static void tree_force(const ss_element *c, double *theta, int64_t part)
{
	const int64_t n = c->dim[SS_DIM_N], h = part / n, d = part % n;
	for (int64_t g = 0; g < n; g++)
		if (g != h)
			theta[g * n + d] = -INFINITY;
}

static void tree_decode(const ss_element *e, const double *event,
			int64_t *const decodes[])
{
	int64_t *heads = decodes[0];
	int empty;
	if (event_heads(e, event, heads, &empty, NULL) != SS_OK)
		for (int64_t d = 0; d < e->dim[SS_DIM_N]; d++)
			heads[d] = -1;
}

/* The event of a head vector; whether it is a tree of the element's kind
 * is checked by tree_to_parts. */
static int tree_encode(const ss_element *e, const int64_t *heads,
		       double *event, ss_error *err)
{
	const int64_t n = e->dim[SS_DIM_N];
	const int64_t L = ssi_length_clamped(e, TREE_LENGTHS);
	int64_t headless = 0;
	memset(event, 0, (size_t)(n * n) * sizeof *event);
	for (int64_t d = 1; d < L; d++)
		headless += heads[d] == -1;
	if (headless == L - 1)
		return SS_OK; /* the empty structure, or the root alone */
	for (int64_t d = 1; d < L; d++) {
		if (heads[d] < 0 || heads[d] >= L)
			return ss_error_set(err, SS_EDATA,
					    "heads holds %lld at [%lld], outside [0, %lld)",
					    (long long)heads[d], (long long)d,
					    (long long)L);
		if (heads[d] == d)
			return ss_error_set(err, SS_EDATA,
					    "heads holds %lld at [%lld]: a node cannot be its own head",
					    (long long)d, (long long)d);
	}
	for (int64_t d = 1; d < L; d++) {
		event[heads[d] * n + d] = 1.0;
		if (!directed(e))
			event[d * n + heads[d]] = 1.0;
	}
	return SS_OK;
}

/* The canonical problem is the directed one: undirected potentials are
 * symmetrised (only the first L rows and columns: the rest is unread). */
static void tree_lower(const ss_element *e, void *ws, double *theta,
		       ss_element *out)
{
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	const double *lp = e->input[TREE_LOG_POTENTIALS].data;
	(void)ws;
	*out = *e;
	memset(out->prepared, 0, sizeof out->prepared);
	if (directed(e))
		return; /* its own potentials */
	for (int64_t u = 0; u < L; u++)
		for (int64_t v = 0; v < L; v++)
			theta[u * n + v] = u == v ? 0.0
				: (lp[u * n + v] + lp[v * n + u]) / 2;
	out->input[TREE_LOG_POTENTIALS].data = theta;
	out->option[OPT_DIRECTED] = 1;
}

/* dlp from dθ (see the banner): the arcs the canonical problem reads,
 * where θ is finite; undirected, each edge's half from both of its arcs. */
static void tree_lower_grad(const ss_element *e, void *ws, const double *dtheta,
			    double *const grad[])
{
	const int64_t n = e->dim[SS_DIM_N], L = ssi_length(e, TREE_LENGTHS);
	const double *lp = e->input[TREE_LOG_POTENTIALS].data;
	double *g = grad[TREE_LOG_POTENTIALS];
	(void)ws;
	for (int64_t u = 0; g && u < L; u++)
		for (int64_t v = 0; v < L; v++) {
			const int64_t uv = u * n + v, vu = v * n + u;
			if (u == v)
				continue;
			if (directed(e)) {
				if (v > 0 && lp[uv] > -INFINITY)
					g[uv] = dtheta[uv];
			} else if (lp[uv] > -INFINITY && lp[vu] > -INFINITY) {
				g[uv] = ((v > 0 ? dtheta[uv] : 0.0) +
					 (u > 0 ? dtheta[vu] : 0.0)) / 2;
			}
		}
}

static const ss_input_spec tree_inputs[TREE_INPUT_COUNT] = {
	[TREE_LOG_POTENTIALS] = {"log_potentials", SS_REAL, SS_REQUIRED, 2,
				 {SS_DIM_N, SS_DIM_N}},
	[TREE_LENGTHS] = {"lengths", SS_INT, SS_OPTIONAL, 0, {SS_DIM_N}},
};

const ss_structure ssi_spanning_tree = {
	.name = "spanning-tree",
	.summary = "dependency trees: spanning arborescences rooted at node 0",
	.inputs = tree_inputs,
	.n_inputs = TREE_INPUT_COUNT,
	.lengths_inputs = {TREE_LENGTHS},
	.n_lengths = 1,
	.options = {
		[OPT_DIRECTED] = {.name = "directed", .flag = "undirected",
				  .kind = SS_OPTION_FLAG, .flag_value = 0,
				  .default_value = 1,
				  .help = "undirected trees (spanning-tree: directed = 0)"},
		[OPT_PROJECTIVE] = {.name = "projective", .flag = "projective",
				    .kind = SS_OPTION_FLAG, .flag_value = 1,
				    .default_value = 0,
				    .help = "projective trees only (spanning-tree: projective = 1)"},
		[OPT_SINGLE_ROOT] = {.name = "single_root_edge",
				     .flag = "single-root",
				     .kind = SS_OPTION_FLAG, .flag_value = 1,
				     .default_value = 0,
				     .help = "one arc from the root (spanning-tree: single_root_edge = 1)"},
	},
	.n_options = OPT_COUNT,
	.event = {"event", SS_REAL, 2, {SS_DIM_N, SS_DIM_N}},
	.decodes = {{"heads", SS_INT, 1, {SS_DIM_N}}},
	.n_decodes = 1,
	.validate = tree_validate,
	.lower = tree_lower,
	.lower_grad = tree_lower_grad,
	.chart_size = tree_chart_size,
	.chart = tree_chart,
	.workspace_bytes = tree_workspace_bytes,
	.log_partition = np_log_partition,
	.marginals = np_marginals,
	.argmax = np_argmax,
	.sample = np_sample,
	.entropy = np_entropy,
	.hvp = np_hvp,
	.to_parts = tree_to_parts,
	.from_parts = tree_from_parts,
	.from_parts_max = tree_from_parts_max,
	.force = tree_force,
	.decode = tree_decode,
	.encode = tree_encode,
};
