/*
 * unit_encode.c - compact decodes back to events: ss_encode is the inverse
 * of decode on every structure of small problems, ignores padding, reads
 * the all -1 decode as the empty structure and names bad values.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "unit_tree.h"

/* An element of n positions (nodes), t tags and length len. */
static ss_element element_of(const ss_structure *s, int64_t n, int64_t t,
			     const int64_t *len)
{
	ss_element e;
	memset(&e, 0, sizeof e);
	e.dim[SS_DIM_N] = n;
	e.dim[SS_DIM_T] = t;
	e.dim[SS_DIM_V] = 2;
	e.input[s->lengths_inputs[0]].data = len;
	for (int k = 0; k < s->n_options; k++)
		e.option[k] = s->options[k].default_value;
	return e;
}

/* encode(decode) over every tag sequence of every length, with junk in
 * the padding; for linear-chain and hmm. */
static void check_chain_round_trip(const char *name)
{
	const ss_structure *s = ss_structure_find(name);
	const int64_t n = 4, t = 3;
	double event[4 * 3 * 3], back[4 * 3 * 3];
	int64_t tags[4], labels[4];
	ss_error err;

	unit_begin();
	for (int64_t len = 0; len <= n; len++) {
		ss_element e = element_of(s, n, t, &len);
		int64_t count = 1;
		for (int64_t i = 0; i < len; i++)
			count *= t;
		for (int64_t code = 0; code < count; code++) {
			int64_t *decodes[1] = {labels};
			unit_context("%s len %lld sequence %lld", name,
				     (long long)len, (long long)code);
			brute_tags(code, t, len, tags);
			brute_event(tags, n, t, len, event);
			s->decode(&e, event, decodes);
			for (int64_t i = 0; i < len; i++)
				CHECK(labels[i] == tags[i], "decode[%lld]",
				      (long long)i);
			for (int64_t i = len; i < n; i++)
				labels[i] = i % 2 ? 99 : -100;
			CHECK(ss_encode(s, &e, labels, back, &err) == SS_OK,
			      "encode failed: %s", err.message);
			CHECK(!memcmp(event, back, sizeof event),
			      "encode(decode(event)) != event");
		}
	}
	unit_end("%s: encode(decode) is the identity on every tag sequence, padding ignored", name);
}

static void check_chain_errors(void)
{
	const ss_structure *s = ss_structure_find("linear-chain");
	const int64_t len = 3;
	ss_element e = element_of(s, 4, 3, &len);
	double event[4 * 3 * 3];
	int64_t none[4] = {-1, -1, -1, 7}, bad[4] = {0, 3, 1, 0};
	int64_t negative[4] = {0, -1, 1, 0};
	ss_error err;

	unit_begin();
	CHECK(ss_encode(s, &e, none, event, &err) == SS_OK, "all -1");
	for (int k = 0; k < 4 * 3 * 3; k++)
		CHECK(event[k] == 0.0, "all -1 gives a non-zero event at %d", k);
	CHECK(ss_encode(s, &e, bad, event, &err) == SS_EDATA &&
	      !strcmp(err.message, "labels holds 3 at [1], outside [0, 3)"),
	      "label 3 of 3 tags: '%s'", err.message);
	CHECK(ss_encode(s, &e, negative, event, &err) == SS_EDATA &&
	      !strcmp(err.message, "labels holds -1 at [1], outside [0, 3)"),
	      "a -1 among labels: '%s'", err.message);
	unit_end("linear-chain: encode reads all -1 as the empty structure and names a label out of range");
}

/* The event of a head vector, both directions when undirected. */
static void heads_event(const int64_t *heads, int64_t n, int64_t L,
			int directed, double *event)
{
	memset(event, 0, sizeof *event * (size_t)(n * n));
	for (int64_t d = 1; d < L; d++) {
		event[heads[d] * n + d] = 1.0;
		if (!directed)
			event[d * n + heads[d]] = 1.0;
	}
}

static void check_tree_round_trip(void)
{
	const ss_structure *s = ss_structure_find("spanning-tree");
	const int64_t n = 5;
	double event[25], back[25];
	int64_t heads[5], decoded[5];
	ss_error err;

	unit_begin();
	for (int directed = 0; directed <= 1; directed++)
		for (int64_t L = 1; L <= n; L++) {
			ss_element e = element_of(s, n, 0, &L);
			int64_t count = 1;
			e.option[option_index(s, "directed")] = directed;
			for (int64_t d = 1; d < L; d++)
				count *= L;
			for (int64_t code = 0; code < count; code++) {
				int64_t *decodes[1] = {decoded}, c = code;
				heads[0] = -1;
				for (int64_t d = 1; d < n; d++) {
					heads[d] = d < L ? c % L : 42;
					c = d < L ? c / L : c;
				}
				if (!tree_is_valid(heads, L, 0, 0))
					continue;
				unit_context("directed %d L %lld heads %lld",
					     directed, (long long)L,
					     (long long)code);
				heads_event(heads, n, L, directed, event);
				CHECK(ss_encode(s, &e, heads, back, &err) == SS_OK,
				      "encode failed: %s", err.message);
				CHECK(!memcmp(event, back, sizeof event),
				      "encode(heads) is not the tree's event");
				s->decode(&e, back, decodes);
				for (int64_t d = 1; d < L; d++)
					CHECK(decoded[d] == heads[d],
					      "decode(encode)[%lld]", (long long)d);
			}
		}
	unit_end("spanning-tree: encode(heads) is the event of every tree, directed or not, padding ignored");
}

static void check_tree_errors(void)
{
	const ss_structure *s = ss_structure_find("spanning-tree");
	const int64_t L = 4;
	ss_element e = element_of(s, 5, 0, &L);
	double event[25];
	int64_t none[5] = {-1, -1, -1, -1, 3}, far[5] = {-1, 0, 4, 1, 0};
	int64_t self[5] = {-1, 0, 2, 1, 0};
	ss_error err;

	unit_begin();
	CHECK(ss_encode(s, &e, none, event, &err) == SS_OK, "all -1");
	for (int k = 0; k < 25; k++)
		CHECK(event[k] == 0.0, "all -1 gives a non-zero event at %d", k);
	CHECK(ss_encode(s, &e, far, event, &err) == SS_EDATA &&
	      !strcmp(err.message, "heads holds 4 at [2], outside [0, 4)"),
	      "head past the length: '%s'", err.message);
	CHECK(ss_encode(s, &e, self, event, &err) == SS_EDATA &&
	      !strcmp(err.message, "heads holds 2 at [2]: a node cannot be its own head"),
	      "own head: '%s'", err.message);
	unit_end("spanning-tree: encode reads all -1 as the empty structure and names a bad head");
}

void suite_encode(void)
{
	check_chain_round_trip("linear-chain");
	check_chain_round_trip("hmm");
	check_chain_errors();
	check_tree_round_trip();
	check_tree_errors();
}
