/*
 * driver.c - runs one operation over a chunk of the batch.
 *
 * Elements are independent: OpenMP threads take them one at a time, each
 * with its own workspace, and write only their own slices of the outputs,
 * so results do not depend on the number of threads. Every element is
 * validated before any is computed; the error reported is that of the
 * lowest failing element.
 */
#include <stdlib.h>

#include "internal.h"

/* Output array k of the chunk, as doubles or int64. */
#define OUT_REAL(b, k) ((double *)(b)->out[k])
#define OUT_INT(b, k) ((int64_t *)(b)->out[k])

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

static int run_element(ss_op op, const ss_batch *b, int64_t i, void *ws,
		       ss_error *err)
{
	const ss_structure *st = b->structure;
	const ss_element *e = &b->elements[i];
	const int64_t E = ss_array_size(&st->event, e->dim);
	const int64_t S = b->num_samples, count = b->count;
	int64_t *slices[SS_MAX_DECODES];
	double logz;
	int rc = SS_OK;

	switch (op) {
	case SS_OP_PARTITION:
		rc = st->log_partition(e, ws, &OUT_REAL(b, 0)[i], err);
		b->empty[i] = OUT_REAL(b, 0)[i] == -INFINITY;
		break;
	case SS_OP_MARGINALS:
		rc = st->marginals(e, ws, OUT_REAL(b, 0) + i * E, &logz, err);
		b->empty[i] = logz == -INFINITY;
		break;
	case SS_OP_ARGMAX:
		rc = st->argmax(e, ws, OUT_REAL(b, 0) + i * E,
				&OUT_REAL(b, 1)[i], err);
		b->empty[i] = OUT_REAL(b, 1)[i] == -INFINITY;
		decode_slices(b, 2, 0, i, slices);
		st->decode(e, OUT_REAL(b, 0) + i * E, slices);
		break;
	case SS_OP_SAMPLE:
		rc = st->sample(e, ws, b->seed, S, OUT_REAL(b, 0) + i * E,
				(size_t)(count * E), OUT_REAL(b, 1) + i,
				(size_t)count, err);
		b->empty[i] = S > 0 && OUT_REAL(b, 1)[i] == -INFINITY;
		for (int64_t s = 0; s < S; s++) {
			decode_slices(b, 2, s, i, slices);
			st->decode(e, OUT_REAL(b, 0) + (s * count + i) * E,
				   slices);
		}
		break;
	case SS_OP_ENTROPY:
		rc = st->entropy(e, ws, &OUT_REAL(b, 0)[i], err);
		b->empty[i] = isnan(OUT_REAL(b, 0)[i]);
		break;
	case SS_OP_LOG_PROB:
		rc = st->log_partition(e, ws, &logz, err);
		b->empty[i] = logz == -INFINITY;
		for (int64_t s = 0; rc == SS_OK && s < S; s++) {
			double score, *lp = &OUT_REAL(b, 0)[s * count + i];
			rc = st->score(e, ws, b->events + (s * count + i) * E,
				       &score, err);
			*lp = score == -INFINITY ? -INFINITY : score - logz;
		}
		break;
	case SS_OP_COUNT:
		break;
	}
	return rc;
}

/* Runs validate (op < 0) or op on every element; keeps the first error. */
static int run_all(int op, const ss_batch *b, int64_t *failed,
		   ss_error *err)
{
	size_t ws_bytes = b->count ? ss_workspace_bytes(b->structure,
							b->elements[0].dim)
				   : 64;
	int64_t first_bad = b->count;
	int alloc_failed = 0;
	ss_error first_err = {SS_OK, ""};

	#pragma omp parallel
	{
		void *ws = aligned_alloc(64, ws_bytes);
		ss_error e_err = {SS_OK, ""};
		#pragma omp for schedule(dynamic, 1)
		for (int64_t i = 0; i < b->count; i++) {
			int rc;
			if (!ws)
				continue;
			rc = op < 0 ? b->structure->validate(&b->elements[i],
							     ws, &e_err)
				    : run_element((ss_op)op, b, i, ws, &e_err);
			if (rc != SS_OK) {
				#pragma omp critical(ss_first_error)
				if (i < first_bad) {
					first_bad = i;
					first_err = e_err;
				}
			}
		}
		if (!ws) {
			#pragma omp atomic write
			alloc_failed = 1;
		}
		free(ws);
	}
	if (alloc_failed)
		return ss_error_set(err, SS_ENOMEM,
				    "cannot allocate a workspace of %zu bytes",
				    ws_bytes);
	if (first_bad < b->count) {
		*failed = first_bad;
		if (err)
			*err = first_err;
		return first_err.status;
	}
	return SS_OK;
}

int ss_run(ss_op op, const ss_batch *batch, int64_t *failed, ss_error *err)
{
	int64_t unused;
	const char *why = ss_op_unsupported(batch->structure, op);
	if (!failed)
		failed = &unused;
	*failed = -1;
	if (why)
		return ss_error_set(err, SS_EUNSUPPORTED, "%s: %s",
				    batch->structure->name, why);
	int rc = run_all(-1, batch, failed, err);
	return rc ? rc : run_all((int)op, batch, failed, err);
}
