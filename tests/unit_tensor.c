/*
 * unit_tensor.c - inputs as typed tensor views (lib/tensor.c): broadcast
 * and transposed strides, int32 and float32 values, and the dtypes an
 * input refuses. The conformance suite runs every structure's every
 * operation on reversed, strided views; this suite checks what it does
 * not: stride 0, a transpose, the direct entry points (ss_encode,
 * ss_prepare) and the errors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* The defaults of every option of s. */
static void default_options(const ss_structure *s, ss_element *e)
{
	for (int k = 0; k < s->n_options; k++)
		e->option[k] = s->options[k].default_value;
}

/* log Z, marginals, argmax, entropy and one sample of a and b, which
 * must agree to the byte. */
static void check_same_results(const ss_structure *s, const ss_element *a,
			       const ss_element *b, const char *what)
{
	const int64_t E = ss_event_size(s, a->dim);
	size_t bytes = ss_workspace_bytes(s, SS_OP_COUNT, a->dim) +
		       2 * ss_view_bytes(s, b);
	void *ws = ws_alloc(bytes);
	double *x = malloc(sizeof(double) * (size_t)(2 * E + 2));
	double *y = x + E + 1, vx[4], vy[4];
	ss_error err;

	CHECK(ss_log_partition(s, a, ws, &vx[0], &err) == SS_OK &&
	      ss_log_partition(s, b, ws, &vy[0], &err) == SS_OK &&
	      !memcmp(&vx[0], &vy[0], sizeof vx[0]),
	      "%s: log Z %.17g and %.17g", what, vx[0], vy[0]);
	CHECK(ss_marginals(s, a, ws, x, &vx[1], &err) == SS_OK &&
	      ss_marginals(s, b, ws, y, &vy[1], &err) == SS_OK &&
	      !memcmp(x, y, sizeof(double) * (size_t)E),
	      "%s: marginals differ", what);
	CHECK(ss_argmax(s, a, ws, x, &vx[2], &err) == SS_OK &&
	      ss_argmax(s, b, ws, y, &vy[2], &err) == SS_OK &&
	      !memcmp(x, y, sizeof(double) * (size_t)E),
	      "%s: argmax differs", what);
	CHECK(ss_entropy(s, a, ws, &vx[3], &err) == SS_OK &&
	      ss_entropy(s, b, ws, &vy[3], &err) == SS_OK &&
	      !memcmp(&vx[3], &vy[3], sizeof vx[3]),
	      "%s: entropy %.17g and %.17g", what, vx[3], vy[3]);
	CHECK(ss_sample(s, a, ws, 77, 1, x, (size_t)E, &vx[0], 1, &err) == SS_OK &&
	      ss_sample(s, b, ws, 77, 1, y, (size_t)E, &vy[0], 1, &err) == SS_OK &&
	      !memcmp(x, y, sizeof(double) * (size_t)E),
	      "%s: samples differ", what);
	free(x);
	free(ws);
}

/* A chain whose positions share one t x t matrix: the matrix with stride 0
 * along the positions, against the matrix written out at every position,
 * directly and through ss_run. */
static void broadcast_chain(void)
{
	enum { N = 6, T = 3 };
	const ss_structure *s = ss_structure_find("linear-chain");
	double shared[T * T], full[N * T * T], logz[2][2];
	ss_element plain, view, batch[2];
	unit_rng r;

	urng_seed(&r, 31u);
	for (int k = 0; k < T * T; k++)
		shared[k] = urng_normal(&r);
	for (int i = 0; i < N; i++)
		memcpy(full + i * T * T, shared, sizeof shared);
	memset(&plain, 0, sizeof plain);
	plain.dim[SS_DIM_N] = N;
	plain.dim[SS_DIM_T] = T;
	ss_dims_derive(plain.dim);
	view = plain;
	plain.input[0].data = full;
	view.input[0] = (ss_tensor){.data = shared, .strided = 1,
				    .stride = {0, T, 1}};
	CHECK(ss_view_bytes(s, &plain) == 0 && ss_view_bytes(s, &view) > 0,
	      "ss_view_bytes: %zu for a plain array, %zu for a broadcast",
	      ss_view_bytes(s, &plain), ss_view_bytes(s, &view));
	check_same_results(s, &plain, &view, "linear-chain, stride 0");

	batch[0] = plain;
	batch[1] = view;
	for (int b = 0; b < 2; b++) {
		ss_batch run = {.structure = s, .elements = batch + b, .count = 1,
				.out = {logz[b]}};
		unsigned char empty[1];
		ss_error err;

		run.empty = empty;
		CHECK(ss_run(SS_OP_PARTITION, &run, NULL, NULL, &err) == SS_OK,
		      "ss_run: %s", err.message);
	}
	CHECK(!memcmp(logz[0], logz[1], sizeof logz[0][0]),
	      "ss_run log Z %.17g of the copies, %.17g of the broadcast",
	      logz[0][0], logz[1][0]);
}

/* A non-projective tree whose potentials are stored transposed
 * (column-major), read through strides (1, n), against the same
 * potentials row-major. */
static void transposed_tree(void)
{
	enum { N = 5 };
	const ss_structure *s = ss_structure_find("spanning-tree");
	double rows[N * N], cols[N * N];
	ss_element plain, view;
	unit_rng r;

	urng_seed(&r, 32u);
	for (int h = 0; h < N; h++)
		for (int d = 0; d < N; d++) {
			rows[h * N + d] = 2.0 * urng_normal(&r);
			cols[d * N + h] = rows[h * N + d];
		}
	memset(&plain, 0, sizeof plain);
	plain.dim[SS_DIM_N] = N;
	ss_dims_derive(plain.dim);
	default_options(s, &plain);
	view = plain;
	plain.input[0].data = rows;
	view.input[0] = (ss_tensor){.data = cols, .strided = 1,
				    .stride = {1, N}};
	check_same_results(s, &plain, &view, "spanning-tree, transposed");
}

/* An hmm with float32 logits, which it does not read as floats: widened
 * exactly. Its emission_logits, a view, are prepared by the element
 * itself (ss_prepare shares only plain arrays). */
static void float32_hmm(void)
{
	enum { N = 4, T = 3, V = 5 };
	const ss_structure *s = ss_structure_find("hmm");
	double init[T], trans[T * T], emis[T * V];
	float init_f[T], trans_f[T * T], emis_f[T * V];
	int64_t obs[N];
	int32_t obs32[N];
	ss_element plain, view, prepared;
	unit_rng r;
	void *buf;
	ss_error err;
	int emission = input_index(s, "emission_logits");

	urng_seed(&r, 33u);
	for (int k = 0; k < T; k++)
		init[k] = init_f[k] = (float)urng_normal(&r);
	for (int k = 0; k < T * T; k++)
		trans[k] = trans_f[k] = (float)urng_normal(&r);
	for (int k = 0; k < T * V; k++)
		emis[k] = emis_f[k] = (float)urng_normal(&r);
	for (int i = 0; i < N; i++)
		obs[i] = obs32[i] = (int32_t)urng_int(&r, 0, V - 1);
	memset(&plain, 0, sizeof plain);
	plain.dim[SS_DIM_N] = N;
	plain.dim[SS_DIM_T] = T;
	plain.dim[SS_DIM_V] = V;
	ss_dims_derive(plain.dim);
	view = plain;
	plain.input[input_index(s, "init_logits")].data = init;
	plain.input[input_index(s, "transition_logits")].data = trans;
	plain.input[emission].data = emis;
	plain.input[input_index(s, "observations")].data = obs;
	view.input[input_index(s, "init_logits")] =
		(ss_tensor){.data = init_f, .dtype = SS_F32};
	view.input[input_index(s, "transition_logits")] =
		(ss_tensor){.data = trans_f, .dtype = SS_F32};
	view.input[emission] = (ss_tensor){.data = emis_f, .dtype = SS_F32};
	view.input[input_index(s, "observations")] =
		(ss_tensor){.data = obs32, .dtype = SS_I32};
	check_same_results(s, &plain, &view, "hmm, float32 and int32");

	prepared = view;
	buf = ws_alloc(ss_prepare_bytes(s, view.dim) + 64);
	CHECK(ss_prepare(s, &prepared, buf, &err) == SS_OK, "ss_prepare: %s",
	      err.message);
	CHECK(prepared.prepared[emission] == NULL,
	      "ss_prepare prepared a float32 view that must first be widened");
	check_same_results(s, &plain, &prepared, "hmm, float32, ss_prepare");
	free(buf);
}

/* ss_encode reads a ctc element's labels as an int32 view. */
static void int32_ctc_encode(void)
{
	enum { N = 4, V = 3, L = 2 };
	const ss_structure *s = ss_structure_find("ctc");
	double lp[N * V] = {0};
	int64_t labels[L] = {1, 2};
	int32_t labels32[2 * L] = {2, -7, 1, -7}; /* reversed, every other */
	const int64_t path[N] = {1, 0, 2, 2};
	ss_element plain, view;
	double *x, *y;
	ss_error err;
	int64_t E;

	memset(&plain, 0, sizeof plain);
	plain.dim[SS_DIM_N] = N;
	plain.dim[SS_DIM_V] = V;
	plain.dim[SS_DIM_L] = L;
	ss_dims_derive(plain.dim);
	default_options(s, &plain);
	plain.input[input_index(s, "log_potentials")].data = lp;
	view = plain;
	plain.input[input_index(s, "labels")].data = labels;
	view.input[input_index(s, "labels")] =
		(ss_tensor){.data = labels32 + 2, .dtype = SS_I32,
			    .strided = 1, .stride = {-2}};
	E = ss_event_size(s, plain.dim);
	x = calloc((size_t)(2 * E), sizeof *x);
	y = x + E;
	CHECK(ss_encode(s, &plain, path, x, &err) == SS_OK, "ss_encode: %s",
	      err.message);
	CHECK(ss_encode(s, &view, path, y, &err) == SS_OK &&
	      !memcmp(x, y, sizeof(double) * (size_t)E),
	      "ss_encode of int32 labels at stride -2 differs");
	free(x);
}

/* A real input given integers, an integer input given reals: refused,
 * naming the input, directly and through ss_run. */
static void wrong_dtypes(void)
{
	const ss_structure *s = ss_structure_find("linear-chain");
	double lp[2 * 2 * 2] = {0}, len_real = 2.0, logz;
	int32_t lp_int[8] = {0};
	ss_element e;
	ss_error err = {0};
	void *ws;
	unsigned char empty[1];
	ss_batch run = {.structure = s, .elements = &e, .count = 1,
			.out = {&logz}, .empty = empty};

	memset(&e, 0, sizeof e);
	e.dim[SS_DIM_N] = 2;
	e.dim[SS_DIM_T] = 2;
	ss_dims_derive(e.dim);
	ws = ws_alloc(ss_workspace_bytes(s, SS_OP_COUNT, e.dim) +
		      ss_input_size(s, 0, e.dim) * 8 + 64);
	e.input[0] = (ss_tensor){.data = lp_int, .dtype = SS_I32};
	CHECK(ss_log_partition(s, &e, ws, &logz, &err) == SS_EUNSUPPORTED &&
	      !strcmp(err.message,
		      "input 'log_potentials' holds integers; it takes float64 or float32"),
	      "integer potentials: '%s'", err.message);
	e.input[0] = (ss_tensor){.data = lp};
	e.input[1] = (ss_tensor){.data = &len_real, .dtype = SS_F64};
	CHECK(ss_log_partition(s, &e, ws, &logz, &err) == SS_EUNSUPPORTED &&
	      !strcmp(err.message,
		      "input 'lengths' holds reals; it takes int64 or int32"),
	      "real lengths: '%s'", err.message);
	CHECK(ss_run(SS_OP_PARTITION, &run, NULL, NULL, &err) == SS_EUNSUPPORTED,
	      "ss_run of real lengths: %s", err.message);
	free(ws);
}

void suite_tensor(void)
{
	unit_begin();
	broadcast_chain();
	unit_end("tensor: a linear-chain's potentials shared by every position at stride 0 give the bytes of the copies, directly and through ss_run");
	unit_begin();
	transposed_tree();
	unit_end("tensor: non-projective tree potentials stored transposed, read at strides (1, n), give the bytes of the row-major ones");
	unit_begin();
	float32_hmm();
	unit_end("tensor: an hmm's float32 logits and int32 observations are widened exactly; ss_prepare leaves such views to the element");
	unit_begin();
	int32_ctc_encode();
	unit_end("tensor: ss_encode reads ctc labels given as int32 at stride -2");
	unit_begin();
	wrong_dtypes();
	unit_end("tensor: integer potentials and real lengths are refused naming the input, directly and through ss_run");
}
