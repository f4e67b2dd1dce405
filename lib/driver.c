/*
 * driver.c - runs one operation over a chunk of the batch.
 *
 * Elements are independent: OpenMP threads take them one at a time, each
 * with its own workspace, and write only their own slices of the outputs,
 * so results do not depend on the number of threads. Each element is
 * validated and, if valid, computed at once, while its inputs are still
 * in cache; the error reported is that of the lowest failing element
 * (invalid, or failing to compute), and the outputs of a failed chunk
 * are not to be used.
 *
 * Preparations. Before that, the inputs a structure prepares
 * (ss_structure.prepare) are prepared once per distinct array: the
 * elements' pointers to each such input are sorted, every distinct
 * pointer gets one buffer, the buffers are filled in parallel, and each
 * element runs as a copy of itself whose prepared[k] points at its
 * array's buffer. A preparation is a function of its array alone, so
 * the bytes are those of an element that prepares for itself. Only plain
 * arrays are shared so (lib/tensor.c); an element prepares any other
 * view itself, once resolved. Should a
 * preparation find its array bad, the chunk is validated and run without
 * preparations, which reports the lowest failing element as before.
 *
 * Workspaces. Each thread's is allocated per call, or taken from the
 * caller's ss_workspaces, which keep them between calls; an operation
 * writes its workspace before it reads it, so a kept one gives the same
 * bytes as a fresh one.
 */
#include <stdlib.h>
#include <omp.h>

#include "internal.h"

/* Output array k of the chunk, as doubles or int64. */
#define OUT_REAL(b, k) ((double *)(b)->out[k])
#define OUT_INT(b, k) ((int64_t *)(b)->out[k])

/* ---- preparations ------------------------------------------------------- */

/*
 * The distinct arrays of the chunk's prepared inputs: n_inputs inputs
 * (prepared_input[]), count arrays in all, array a of input input_of[a] at data[a]
 * with its buffer out[a] (bytes[] per input, 64-aligned, in mem), and
 * slot[i * n_inputs + j] the array of element i's j-th prepared input
 * (-1 where the element has none).
 */
typedef struct prep_plan {
	int prepared_input[SS_MAX_INPUTS], n_inputs;
	size_t bytes[SS_MAX_INPUTS];
	int64_t count;
	const void **data;
	int *input_of;
	int64_t *first; /* the first element using array a */
	void **out;
	int32_t *slot;
	char *mem;
} prep_plan;

typedef struct ptr_use {
	const void *ptr;
	int64_t element;
} ptr_use;

static int ptr_use_cmp(const void *x, const void *y)
{
	const ptr_use *a = x, *b = y;
	uintptr_t pa = (uintptr_t)a->ptr, pb = (uintptr_t)b->ptr;
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return (a->element > b->element) - (a->element < b->element);
}

static void plan_free(prep_plan *p)
{
	free(p->data);
	free(p->input_of);
	free(p->first);
	free(p->out);
	free(p->slot);
	free(p->mem);
	memset(p, 0, sizeof *p);
}

/* Finds the distinct arrays and allocates their buffers. */
static int plan_make(const ss_batch *b, prep_plan *p, ss_error *err)
{
	const ss_structure *st = b->structure;
	const int64_t B = b->count;
	ptr_use *uses = NULL;
	size_t total = 0;
	memset(p, 0, sizeof *p);
	if (!st->prepare || !st->prepare_bytes || B == 0)
		return SS_OK;
	for (int k = 0; k < st->n_inputs; k++) {
		size_t bytes = st->prepare_bytes(k, b->elements[0].dim);
		if (bytes == 0)
			continue;
		p->bytes[p->n_inputs] = ssi_align64(bytes);
		p->prepared_input[p->n_inputs++] = k;
	}
	if (p->n_inputs == 0)
		return SS_OK;
	uses = malloc((size_t)B * sizeof *uses);
	p->slot = malloc((size_t)(B * p->n_inputs) * sizeof *p->slot);
	p->data = malloc((size_t)(B * p->n_inputs) * sizeof *p->data);
	p->input_of = malloc((size_t)(B * p->n_inputs) * sizeof *p->input_of);
	p->first = malloc((size_t)(B * p->n_inputs) * sizeof *p->first);
	p->out = malloc((size_t)(B * p->n_inputs) * sizeof *p->out);
	if (!uses || !p->slot || !p->data || !p->input_of || !p->first ||
	    !p->out)
		goto nomem;
	for (int j = 0; j < p->n_inputs; j++) {
		const int k = p->prepared_input[j];
		int64_t m = 0;
		for (int64_t i = 0; i < B; i++) {
			p->slot[i * p->n_inputs + j] = -1;
			const ss_element *e = &b->elements[i];
			if (e->input[k].data &&
			    ssi_tensor_plain(&st->inputs[k], &e->input[k], e->dim))
				uses[m++] = (ptr_use){e->input[k].data, i};
		}
		qsort(uses, (size_t)m, sizeof *uses, ptr_use_cmp);
		for (int64_t u = 0; u < m; u++) {
			if (u == 0 || uses[u].ptr != uses[u - 1].ptr) {
				p->data[p->count] = uses[u].ptr;
				p->input_of[p->count] = j;
				p->first[p->count++] = uses[u].element;
				total += p->bytes[j];
			}
			p->slot[uses[u].element * p->n_inputs + j] =
				(int32_t)(p->count - 1);
		}
	}
	free(uses);
	uses = NULL;
	p->mem = aligned_alloc(64, total ? total : 64);
	if (!p->mem)
		goto nomem;
	total = 0;
	for (int64_t a = 0; a < p->count; a++) {
		p->out[a] = p->mem + total;
		total += p->bytes[p->input_of[a]];
	}
	return SS_OK;
nomem:
	free(uses);
	plan_free(p);
	return ss_error_set(err, SS_ENOMEM,
			    "cannot allocate the preparations of %lld elements",
			    (long long)B);
}

/* Fills every buffer, in parallel; 0 if some array is bad. */
static int plan_fill(const ss_batch *b, const prep_plan *p)
{
	const ss_structure *st = b->structure;
	int ok = 1;
	if (p->count == 0)
		return ok; /* no parallel region: each costs a wake-up */
	#pragma omp parallel for schedule(dynamic, 1) if (p->count > 1)
	for (int64_t a = 0; a < p->count; a++) {
		ss_error e_err;
		if (st->prepare(p->prepared_input[p->input_of[a]], p->data[a],
				b->elements[p->first[a]].dim, p->out[a],
				&e_err) != SS_OK) {
			#pragma omp atomic write
			ok = 0;
		}
	}
	return ok;
}

/* Element i as the operations see it: itself where the structure
 * prepares nothing, else a copy in *copy whose prepared[] points at its
 * arrays' buffers (all NULL without a plan). */
static const ss_element *element_at(const ss_batch *b, const prep_plan *p,
				    int64_t i, ss_element *copy)
{
	if (!b->structure->prepare)
		return &b->elements[i];
	*copy = b->elements[i];
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		copy->prepared[k] = NULL;
	for (int j = 0; j < p->n_inputs; j++) {
		int32_t a = p->slot[i * p->n_inputs + j];
		if (a >= 0)
			copy->prepared[p->prepared_input[j]] = p->out[a];
	}
	return copy;
}

size_t ss_prepare_bytes(const ss_structure *s, const int64_t dim[])
{
	size_t total = 0;
	for (int k = 0; s->prepare_bytes && k < s->n_inputs; k++)
		total += ssi_align64(s->prepare_bytes(k, dim));
	return total;
}

int ss_prepare(const ss_structure *s, ss_element *e, void *buf,
	       ss_error *err)
{
	char *out = buf;
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		e->prepared[k] = NULL;
	for (int k = 0; s->prepare && k < s->n_inputs; k++) {
		size_t bytes = s->prepare_bytes(k, e->dim);
		int rc;
		if (bytes == 0 || !e->input[k].data ||
		    !ssi_tensor_plain(&s->inputs[k], &e->input[k], e->dim))
			continue;
		rc = s->prepare(k, e->input[k].data, e->dim, out, err);
		if (rc != SS_OK) {
			for (int j = 0; j < SS_MAX_INPUTS; j++)
				e->prepared[j] = NULL;
			return rc;
		}
		e->prepared[k] = out;
		out += ssi_align64(bytes);
	}
	return SS_OK;
}

/* ---- elements ------------------------------------------------------------ */

/* Decode pointers for sample s of element i. */
static void decode_slices(const ss_batch *b, int first, int64_t s, int64_t i,
			  int64_t *slices[])
{
	const ss_structure *st = b->structure;
	for (int d = 0; d < st->n_decodes; d++) {
		int64_t size = ss_array_size(&st->decodes[d],
					     b->elements[i].dim);
		slices[d] = OUT_INT(b, first + d) + (s * b->count + i) * size;
	}
}

/* Whether the batch asks for gradients (of an op that has them). */
static int wants_grad(ss_op op, const ss_batch *b)
{
	int any = 0;
	for (int k = 0; k < SS_MAX_INPUTS; k++)
		any |= b->grad[k] || b->grad_q[k];
	return any && ss_ops[op].has_grad;
}

/* Whether op scans the values of the batch's elements after computing
 * (ss_structure.validate_values): for the log inside and outside of a
 * chart no value steers a memory access, so that a NaN or +inf costs
 * nothing worse than a wrong result, which the scan then replaces by its
 * error; and the scan finds the input in cache. The float kernels see
 * the values as they go, and where they saw no NaN or +inf there is no
 * scan (ss_element.values_checked). */
static int late_values(ss_op op, const ss_batch *b)
{
	const ss_structure *st = b->structure;
	return st->validate_values && st->chart && !b->elements_q &&
	       !wants_grad(op, b) &&
	       (op == SS_OP_PARTITION || op == SS_OP_MARGINALS ||
		op == SS_OP_ENTROPY);
}

/* The op's scalar result and its gradients (ss_grad), element i. */
static int run_grad(ss_op op, const ss_batch *b, int64_t i,
		    const ss_element *e, const ss_element *q, void *ws,
		    ss_error *err)
{
	const ss_structure *st = b->structure;
	const int64_t E = ss_event_size(st, e->dim), count = b->count;
	const int64_t S = op == SS_OP_LOG_PROB ? b->num_samples : 1;
	double *result = &OUT_REAL(b, 0)[i];
	ss_grads g;
	int rc;
	for (int k = 0; k < SS_MAX_INPUTS; k++) {
		const int64_t size = k < st->n_inputs
			? ss_input_size(st, k, e->dim) : 0;
		g.p[k] = b->grad[k] ? b->grad[k] + i * size : NULL;
		g.q[k] = b->grad_q[k] ? b->grad_q[k] + i * size : NULL;
		g.stride[k] = (size_t)(count * size);
	}
	rc = ss_grad(st, op, e, q, ws, op == SS_OP_LOG_PROB ? b->events + i * E : NULL,
		     S, (size_t)(count * E), result, (size_t)count, &g, err);
	if (op == SS_OP_LOG_PROB) {
		/* empty: the element has no structure, as without --grad */
		double logz = 0.0;
		if (rc == SS_OK)
			rc = ss_log_partition(st, e, ws, &logz, err);
		b->empty[i] = logz == -INFINITY;
	} else if (op == SS_OP_PARTITION) {
		b->empty[i] = *result == -INFINITY;
	} else {
		b->empty[i] = isnan(*result);
	}
	return rc;
}

/* The decodes of element i's events in rows [0, rows) of output 0 into
 * outputs 2 onwards, and whether it has no structure (output 1, its
 * first score, -inf): argmax, sample and top-k. */
static void decode_rows(const ss_batch *b, int64_t i, const ss_element *e,
			int64_t rows)
{
	const int64_t E = ss_event_size(b->structure, e->dim);
	int64_t *slices[SS_MAX_DECODES];
	b->empty[i] = rows > 0 && OUT_REAL(b, 1)[i] == -INFINITY;
	for (int64_t s = 0; s < rows; s++) {
		decode_slices(b, 2, s, i, slices);
		b->structure->decode(e, OUT_REAL(b, 0) + (s * b->count + i) * E,
				     slices);
	}
}

/* log-prob: the score of each of element i's events less log Z. */
static int run_log_prob(const ss_batch *b, int64_t i, const ss_element *e,
			void *ws, ss_error *err)
{
	const ss_structure *st = b->structure;
	const int64_t E = ss_event_size(st, e->dim), count = b->count;
	double logz;
	int rc = ss_log_partition(st, e, ws, &logz, err);
	b->empty[i] = logz == -INFINITY;
	for (int64_t s = 0; rc == SS_OK && s < b->num_samples; s++) {
		double score, *lp = &OUT_REAL(b, 0)[s * count + i];
		rc = ss_score(st, e, ws, b->events + (s * count + i) * E,
			      &score, err);
		*lp = score == -INFINITY ? -INFINITY : score - logz;
	}
	return rc;
}

static int run_element(ss_op op, const ss_batch *b, int64_t i,
		       const ss_element *e, const ss_element *q, void *ws,
		       ss_error *err)
{
	const ss_structure *st = b->structure;
	const int64_t E = ss_event_size(st, e->dim);
	const int64_t S = b->num_samples, count = b->count;
	double logz;
	int rc = SS_OK;

	if (wants_grad(op, b))
		return run_grad(op, b, i, e, q, ws, err);
	switch (op) {
	case SS_OP_PARTITION:
		rc = ss_log_partition(st, e, ws, &OUT_REAL(b, 0)[i], err);
		b->empty[i] = OUT_REAL(b, 0)[i] == -INFINITY;
		break;
	case SS_OP_MARGINALS:
		rc = ss_marginals_counts(st, e, ws, OUT_REAL(b, 0) + i * E,
					 st->counts.name
					 ? OUT_REAL(b, 1) + i * ss_array_size(&st->counts, e->dim)
					 : NULL, &logz, err);
		b->empty[i] = logz == -INFINITY;
		break;
	case SS_OP_ARGMAX:
		rc = ss_argmax(st, e, ws, OUT_REAL(b, 0) + i * E,
				   &OUT_REAL(b, 1)[i], err);
		decode_rows(b, i, e, 1);
		break;
	case SS_OP_SAMPLE:
		rc = ss_sample(st, e, ws, b->seed, S,
				   OUT_REAL(b, 0) + i * E, (size_t)(count * E),
				   OUT_REAL(b, 1) + i, (size_t)count, err);
		decode_rows(b, i, e, S);
		break;
	case SS_OP_INFO: /* validated: nothing to compute */
		break;
	case SS_OP_TOP_K:
		rc = ss_top_k(st, e, ws, S, OUT_REAL(b, 0) + i * E,
			      (size_t)(count * E), OUT_REAL(b, 1) + i,
			      (size_t)count, err);
		decode_rows(b, i, e, S);
		break;
	case SS_OP_MAX_MARGINALS:
		rc = ss_max_marginals(st, e, ws, OUT_REAL(b, 0) + i * E, &logz,
				      err);
		b->empty[i] = logz == -INFINITY;
		break;
	case SS_OP_ENTROPY:
		rc = ss_entropy(st, e, ws, &OUT_REAL(b, 0)[i], err);
		b->empty[i] = isnan(OUT_REAL(b, 0)[i]);
		break;
	case SS_OP_LOG_PROB:
		rc = run_log_prob(b, i, e, ws, err);
		break;
	case SS_OP_LOG_COUNT:
		rc = ss_log_count(st, e, ws, &OUT_REAL(b, 0)[i], err);
		b->empty[i] = OUT_REAL(b, 0)[i] == -INFINITY;
		break;
	case SS_OP_CROSS_ENTROPY:
		rc = ss_cross_entropy(st, e, q, ws, &OUT_REAL(b, 0)[i],
					  err);
		b->empty[i] = isnan(OUT_REAL(b, 0)[i]);
		break;
	case SS_OP_KL:
		rc = ss_kl(st, e, q, ws, &OUT_REAL(b, 0)[i], err);
		b->empty[i] = isnan(OUT_REAL(b, 0)[i]);
		break;
	case SS_OP_COUNT:
		break;
	}
	return rc;
}

/* Q's element is valid and has P's lengths: cross-entropy and kl compare
 * distributions over the same structures. */
static int validate_q(const ss_structure *st, const ss_element *p,
		      const ss_element *q, void *ws, ss_error *err)
{
	int rc = st->validate(q, ws, err);
	for (int k = 0; rc == SS_OK && k < st->n_lengths; k++) {
		const int input = st->lengths_inputs[k];
		int64_t len_p = ssi_length_of(st, p, input);
		int64_t len_q = ssi_length_of(st, q, input);
		if (len_p != len_q)
			rc = ss_error_set(err, SS_EDATA,
					  "'%s' is %lld where P's is %lld; P and Q must have the same lengths",
					  st->inputs[input].name,
					  (long long)len_q, (long long)len_p);
	}
	if (rc == SS_OK && st->check_pair)
		rc = st->check_pair(p, q, err);
	return rc;
}

/* The preparations of P's elements (plans[0]) and of Q's (plans[1]). */
typedef struct plans {
	prep_plan p[2];
	int n;
} plans;

struct ss_workspaces {
	int count;       /* threads with a slot */
	void **buf;      /* buf[t]: thread t's workspace, or NULL */
	size_t *bytes;   /* and its size */
};

ss_workspaces *ss_workspaces_new(void)
{
	return calloc(1, sizeof(ss_workspaces));
}

void ss_workspaces_free(ss_workspaces *w)
{
	if (!w)
		return;
	for (int t = 0; t < w->count; t++)
		free(w->buf[t]);
	free(w->buf);
	free(w->bytes);
	free(w);
}

/* Slots for threads 0 .. threads - 1; -1 without memory. */
static int workspaces_reserve(ss_workspaces *w, int threads)
{
	void **buf;
	size_t *bytes;
	if (threads <= w->count)
		return 0;
	buf = realloc(w->buf, (size_t)threads * sizeof *buf);
	if (buf)
		w->buf = buf;
	bytes = buf ? realloc(w->bytes, (size_t)threads * sizeof *bytes) : NULL;
	if (!bytes)
		return -1;
	w->bytes = bytes;
	for (int t = w->count; t < threads; t++) {
		w->buf[t] = NULL;
		w->bytes[t] = 0;
	}
	w->count = threads;
	return 0;
}

/* Thread t's workspace of at least `bytes`: kept in w, or where w is NULL
 * a new one (workspace_put frees it); NULL without memory. */
static void *workspace_get(ss_workspaces *w, int t, size_t bytes)
{
	if (!w)
		return aligned_alloc(64, bytes);
	if (w->bytes[t] < bytes) {
		free(w->buf[t]);
		w->buf[t] = aligned_alloc(64, bytes);
		w->bytes[t] = w->buf[t] ? bytes : 0;
	}
	return w->buf[t];
}

static void workspace_put(ss_workspaces *w, void *ws)
{
	if (!w)
		free(ws);
}

/* Runs validate (op < 0) or op on every element (of P, then Q, for
 * validation), with the preparations of pl (freed ones: none); keeps the
 * first error. */
static int run_all(int op, const ss_batch *b, const plans *pl,
		   int64_t *failed, int *failed_q, ss_error *err)
{
	const ss_structure *st = b->structure;
	size_t ws_bytes = b->count
		? ss_workspace_bytes_ranks(st, op < 0 ? SS_OP_COUNT : (ss_op)op,
					   b->elements[0].dim,
					   op == SS_OP_TOP_K ? b->num_samples : 1)
		: 64;
	int64_t first_bad = b->count;
	size_t views = 0;
	if (op >= 0 && b->count && wants_grad((ss_op)op, b)) {
		size_t g = ss_grad_workspace_bytes(st, (ss_op)op,
						   b->elements[0].dim);
		ws_bytes = g > ws_bytes ? g : ws_bytes;
	}
	for (int64_t i = 0; i < b->count; i++) {
		size_t v = ss_view_bytes(st, &b->elements[i]) +
			   (b->elements_q ? ss_view_bytes(st, &b->elements_q[i]) : 0);
		views = v > views ? v : views;
	}
	ws_bytes += views;
	int first_q = 0, alloc_failed = 0;
	const int late = op >= 0 && late_values((ss_op)op, b);
	ss_error first_err = {SS_OK, ""};
	ss_batch bq = *b;
	bq.elements = b->elements_q;
	if (b->workspaces &&
	    workspaces_reserve(b->workspaces, omp_get_max_threads()))
		return ss_error_set(err, SS_ENOMEM,
				    "cannot allocate workspaces for %d threads",
				    omp_get_max_threads());

	#pragma omp parallel
	{
		void *ws = workspace_get(b->workspaces, omp_get_thread_num(),
					 ws_bytes);
		ss_error e_err = {SS_OK, ""}, v_err = {SS_OK, ""};
		#pragma omp for schedule(dynamic, 1)
		for (int64_t i = 0; i < b->count; i++) {
			ss_element copy, copy_q, view, view_q;
			const ss_element *e = element_at(b, &pl->p[0], i, &copy);
			const ss_element *q = b->elements_q
				? element_at(&bq, &pl->p[1], i, &copy_q) : NULL;
			void *rest = ws;
			int rc, in_q = 0;
			if (!ws)
				continue;
			/* the operations then find them resolved */
			rc = ssi_resolve(st, e, &view, &rest, &e, &e_err);
			if (rc == SS_OK)
				rc = late ? st->validate_shape(e, rest, &e_err)
					  : st->validate(e, rest, &e_err);
			if (rc == SS_OK && q) {
				rc = ssi_resolve(st, q, &view_q, &rest, &q, &e_err);
				if (rc == SS_OK)
					rc = validate_q(st, e, q, rest, &e_err);
				in_q = rc != SS_OK;
			}
			if (rc == SS_OK && op >= 0) {
				/* a late scan has nothing to find where the
				 * op's kernels saw every value */
				int checked = 0;
				ss_element seen;
				if (late) {
					seen = *e;
					seen.values_checked = &checked;
				}
				rc = run_element((ss_op)op, b, i, late ? &seen : e,
						 q, rest, &e_err);
				if (late && !checked &&
				    st->validate_values(e, &v_err) != SS_OK) {
					rc = v_err.status;
					e_err = v_err;
				}
			}
			if (rc != SS_OK) {
				#pragma omp critical(ss_first_error)
				if (i < first_bad) {
					first_bad = i;
					first_q = in_q;
					first_err = e_err;
				}
			}
		}
		if (!ws) {
			#pragma omp atomic write
			alloc_failed = 1;
		}
		workspace_put(b->workspaces, ws);
	}
	if (alloc_failed)
		return ss_error_set(err, SS_ENOMEM,
				    "cannot allocate a workspace of %zu bytes",
				    ws_bytes);
	if (first_bad < b->count) {
		*failed = first_bad;
		*failed_q = first_q;
		if (err)
			*err = first_err;
		return first_err.status;
	}
	return SS_OK;
}

int ss_run(ss_op op, const ss_batch *batch, int64_t *failed, int *failed_q,
	   ss_error *err)
{
	int64_t unused;
	int unused_q;
	char why[512];
	plans pl;
	ss_batch bq = *batch;
	int rc = SS_OK, ok = 1;
	if (!failed)
		failed = &unused;
	if (!failed_q)
		failed_q = &unused_q;
	*failed = -1;
	*failed_q = 0;
	if (ss_op_unsupported(batch->structure,
			      batch->count ? batch->elements[0].option : NULL,
			      op, why, sizeof why))
		return ss_error_set(err, SS_EUNSUPPORTED, "%s: %s",
				    batch->structure->name, why);
	if (wants_grad(op, batch)) {
		const char *no = ss_grad_unsupported(batch->structure,
			batch->count ? batch->elements[0].option : NULL, op);
		if (no)
			return ss_error_set(err, SS_EUNSUPPORTED,
					    "%s: %s --grad: %s",
					    batch->structure->name,
					    ss_ops[op].name, no);
	}
	if ((ss_ops[op].operands == SS_TWO_PROBLEMS) != !!batch->elements_q)
		return ss_error_set(err, SS_EUNSUPPORTED,
				    "%s takes %s", ss_ops[op].name,
				    batch->elements_q ? "one problem"
						      : "two problems, P and Q");
	bq.elements = batch->elements_q;
	pl.n = batch->elements_q ? 2 : 1;
	memset(&pl.p[1], 0, sizeof pl.p[1]);
	rc = plan_make(batch, &pl.p[0], err);
	if (!rc && pl.n == 2 && (rc = plan_make(&bq, &pl.p[1], err)))
		plan_free(&pl.p[0]);
	if (rc)
		return rc;
	ok = plan_fill(batch, &pl.p[0]) && (pl.n == 1 || plan_fill(&bq, &pl.p[1]));
	if (!ok) {
		/* validate reports the bad array */
		plan_free(&pl.p[0]);
		plan_free(&pl.p[1]);
	}
	rc = run_all((int)op, batch, &pl, failed, failed_q, err);
	plan_free(&pl.p[0]);
	plan_free(&pl.p[1]);
	return rc;
}
