#!/usr/bin/env bats
# JSON Lines input (SPEC §1): one object per batch element.

load common

# chain.jsonl and chain.h5: the same two linear-chain problems.
chain_pair() {
	cat > chain.jsonl <<'EOF'
{"structure": "linear-chain", "log_potentials": [[[0, 1], [7, 9]], [[0.5, -0.5], [1, 0]], [[2, -1], [0.25, 3]]], "lengths": 3}

{"log_potentials": [[[0, 1], [7, 9]], [[0.5, "-inf"], [1, 0]], [[2, -1], [0.25, 3]]], "lengths": 2, "index": [1]}
EOF
	mk chain.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] = 0 1 7 9  0.5 -0.5 1 0  2 -1 0.25 3
                                              0 1 7 9  0.5 -inf 1 0  2 -1 0.25 3
dataset lengths int64 [2] = 3 2
EOF
}

@test "JSON Lines input gives the results of the same problems in HDF5, for every command" {
	chain_pair
	local c
	for c in partition marginals argmax "sample -n 3 --seed 2" entropy; do
		# shellcheck disable=SC2086
		assert_equal "$(synstruct $c chain.jsonl)" "$(synstruct $c chain.h5)"
	done
	synstruct argmax -o a.h5 chain.jsonl
	assert_equal "$(h5get -s a.h5 labels)" "$(printf '[2, 3]\nint32')"
	assert_equal "$(h5get -s a.h5 score)" "$(printf '[2]\nfloat64')"
}

@test "JSON Lines: hmm and spanning-tree, options as keys (integers or booleans), flags win" {
	cat > hmm.jsonl <<'EOF'
{"structure": "hmm", "init_logits": [0.5, -0.25, 0], "transition_logits": [[0, 1, 2], [1, 0, -1], [0.5, 0.5, 0]], "emission_logits": [[0, 1], [1, 0], [2, -2]], "observations": [0, 1, 1, 0], "lengths": 4}
{"init_logits": [0.5, -0.25, 0], "transition_logits": [[0, 1, 2], [1, 0, -1], [0.5, 0.5, 0]], "emission_logits": [[0, 1], [1, 0], [2, -2]], "observations": [1, 1, 0, -1], "lengths": 3}
EOF
	mk hmm.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3] = 0.5 -0.25 0
dataset transition_logits float64 [3, 3] = 0 1 2  1 0 -1  0.5 0.5 0
dataset emission_logits float64 [3, 2] = 0 1  1 0  2 -2
dataset observations int32 [2, 4] = 0 1 1 0  1 1 0 -1
dataset lengths int32 [2] = 4 3
EOF
	assert_equal "$(synstruct marginals hmm.jsonl)" "$(synstruct marginals hmm.h5)"
	cat > trees.jsonl <<'EOF'
{"structure": "spanning-tree", "log_potentials": [["nan", 0.5, -1], [0.4, "nan", 1], [-0.3, 0.7, "nan"]], "single_root_edge": true, "projective": 0}
EOF
	mk trees.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [1, 3, 3] = nan 0.5 -1  0.4 nan 1  -0.3 0.7 nan
EOF
	assert_equal "$(synstruct partition trees.jsonl)" "$(synstruct partition --single-root trees.h5)"
	assert_equal "$(synstruct partition --undirected trees.jsonl)" \
		"$(synstruct partition --single-root --undirected trees.h5)"
}

@test "JSON Lines from standard input, a pipe or --input-format; --structure overrides the key" {
	chain_pair
	local want
	want=$(synstruct partition chain.h5)
	assert_equal "$(synstruct partition - < chain.jsonl)" "$want"
	assert_equal "$(cat chain.jsonl | synstruct partition -)" "$want"
	assert_equal "$(synstruct partition <(cat chain.jsonl))" "$want"
	cp chain.jsonl chain.txt
	assert_equal "$(synstruct partition --input-format jsonl chain.txt)" "$want"
	sed 's/"structure": "linear-chain", //' chain.jsonl > bare.jsonl
	assert_equal "$(synstruct partition -s linear-chain bare.jsonl)" "$want"
	expect_error "synstruct: error: 'bare.jsonl': line 1 has no \"structure\" string; name one with --structure" partition bare.jsonl
	expect_error "synstruct: error: 'chain.h5': line 1 is not a JSON object" partition --input-format jsonl chain.h5
}

@test "log-prob reads synstruct's own JSON Lines outputs as EVENTS, with or without a sample axis" {
	chain_pair
	synstruct argmax chain.jsonl > best.jsonl
	synstruct argmax -o best.h5 chain.h5
	assert_equal "$(synstruct log-prob chain.jsonl best.jsonl)" "$(synstruct log-prob chain.h5 best.h5)"
	synstruct argmax --events chain.jsonl > dense.jsonl
	assert_equal "$(synstruct log-prob -d argmax chain.h5 dense.jsonl)" "$(synstruct log-prob chain.h5 best.h5)"
	synstruct sample -n 4 --seed 3 chain.h5 > s.jsonl
	run synstruct log-prob chain.h5 s.jsonl
	assert_success
	assert_equal "$(member log_prob <<<"$output")" "$(member log_prob < s.jsonl)"
	synstruct sample -n 4 --seed 3 --events chain.h5 > se.jsonl
	assert_equal "$(synstruct log-prob -d samples chain.h5 se.jsonl)" "$output"
	head -n 1 s.jsonl > one.jsonl
	expect_error "synstruct: error: 'one.jsonl': 1 JSON objects for a batch of 2 elements in 'chain.h5'" log-prob chain.h5 one.jsonl
}

@test "JSON Lines streams: a long file in a small memory budget gives the same bytes as at once" {
	awk 'BEGIN {
		for (i = 0; i < 3000; i++)
			printf "{\"structure\": \"linear-chain\", \"log_potentials\": [[[%d, 1], [0, 0]], [[0.5, %g], [1, 0]]]}\n", i % 7, (i % 13) / 4
	}' > long.jsonl
	synstruct partition -o a.h5 long.jsonl
	synstruct partition --max-memory 16K -o b.h5 long.jsonl
	cmp a.h5 b.h5
	assert_equal "$(h5get -s a.h5 log_partition)" "$(printf '[3000]\nfloat64')"
	synstruct argmax --max-memory 16K long.jsonl > best.jsonl
	assert_equal "$(synstruct log-prob --max-memory 16K long.jsonl best.jsonl)" "$(synstruct log-prob long.jsonl best.jsonl)"
}

@test "bad JSON Lines: one line naming the file, the line and the problem" {
	local head='{"structure": "linear-chain", "log_potentials": [[[0, 1], [7, 9]]]}'
	printf '%s\n%s\n' "$head" '{"log_potentials": [[[0, 1]], [[7, 9]]]}' > ragged.jsonl
	expect_error "synstruct: error: 'ragged.jsonl': line 2: 'log_potentials' is not an array of shape [1, 2, 2]" partition ragged.jsonl
	printf '%s\n%s\n' "$head" '{"log_potentials": [[[0, 1], [7, "x"]]]}' > word.jsonl
	expect_error "synstruct: error: 'word.jsonl': line 2: 'log_potentials' holds a value that is not a number, \"-inf\", \"inf\" or \"nan\"" partition word.jsonl
	printf '%s\n%s\n' "$head" '{"log_potentials": [[[0, 1], [7, 9]]]' > cut.jsonl
	expect_error "synstruct: error: 'cut.jsonl': line 2 is not a JSON object" partition cut.jsonl
	printf '%s\n\n%s\n' "$head" '{"lengths": 1}' > missing.jsonl
	expect_error "synstruct: error: 'missing.jsonl': line 3 has no 'log_potentials'" partition missing.jsonl
	printf '%s\n' '{"structure": "linear-chain", "log_potentials": [[0, 1], [7, 9]]}' > flat.jsonl
	expect_error "synstruct: error: 'flat.jsonl': line 1: 'log_potentials' is not a nested array of 3 axes" partition flat.jsonl
	printf '%s\n' '{"structure": "linear-chain", "log_potentials": [[[0, 1], [7, 9]]], "lengths": 1.5}' > len.jsonl
	expect_error "synstruct: error: 'len.jsonl': line 1: 'lengths' holds a value that is not an integer" partition len.jsonl
	printf '%s\n' '{"structure": "linear-chain", "log_potentials": [[["inf", 1], [7, 9]]]}' > inf.jsonl
	expect_error "~^synstruct: error: 'inf\.jsonl': dataset 'log_potentials' holds \+inf at \[0, 0, 0\]" partition inf.jsonl
	printf '%s\n' '{"structure": "spanning-tree", "log_potentials": [[0, 1], [7, 9]], "projective": 2}' > opt.jsonl
	expect_error "synstruct: error: 'opt.jsonl': line 1: 'projective' must be 0, 1, false or true" partition opt.jsonl
	printf '%s\n' '{"structure": "semi-markov-ish"}' > unknown.jsonl
	expect_error "synstruct: error: 'unknown.jsonl': unknown structure 'semi-markov-ish' ($STRUCTURE_LIST)" partition unknown.jsonl
}

@test "a lengths key absent from one line means the full size there, as an absent dataset does" {
	printf '%s\n' '{"structure":"tree-crf","log_potentials":[[[0],[1]],[[0],[2]]],"lengths":1}' \
		'{"log_potentials":[[[0],[1]],[[0],[2]]]}' > in.jsonl
	run synstruct partition in.jsonl
	assert_success
	# line 1: one word, log Z 0; line 2: two words, (0,1) (0,0) (1,1): 1 + 0 + 2
	assert_line --index 0 '{"index":[0],"log_partition":0}'
	assert_line --index 1 '{"index":[1],"log_partition":3}'
}
