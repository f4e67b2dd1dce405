#!/usr/bin/env bats
# errors.bats - bad input (SPEC §1, §4): exit 1, exactly one line on stderr
# naming the file and the problem, nothing on stdout, no output file left
# behind. expect_error (common.bash) runs each case to stdout and with -o.

load common

# ---- values ---------------------------------------------------------------------

@test "NaN in a used potential (a transition, a start score)" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] =
  0 0 0 0   0 0 0 0
  0 0 0 0   0 nan 0 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' holds NaN at [1, 0, 1] in batch element [1]" partition in.h5
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 nan 0 0  0 0 0 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' holds NaN at [0, 0, 1]" argmax in.h5
}

@test "+inf in a used potential" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float32 [2, 2, 2, 2] =
  0 0 0 0   0 0 0 0
  0 0 0 0   0 0 inf 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' holds +inf at [1, 1, 0] in batch element [1]" marginals in.h5
}

@test "NaN in hmm init_logits, +inf in used emission_scores, NaN in emission_logits" {
	mk a.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] = 0 nan
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [2, 3] fill 0
dataset observations int32 [3] = 0 1 2
EOF
	expect_error "synstruct: error: 'a.h5': dataset 'init_logits' holds NaN at [1]" partition a.h5
	mk b.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_scores float64 [2, 3, 2] = 0 0 0 0 0 0   0 0 0 inf 0 0
dataset lengths int32 [2] = 3 2
EOF
	expect_error "synstruct: error: 'b.h5': dataset 'emission_scores' holds +inf at [1, 1] in batch element [1]" entropy b.h5
	mk c.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [2, 3] = 0 0 0  0 nan 0
dataset observations int32 [3] = 0 0 0
EOF
	expect_error "synstruct: error: 'c.h5': dataset 'emission_logits' holds NaN at [1, 1]" partition c.h5
}

@test "NaN in padding and in the ignored rows [0, a>0, c] is accepted" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] =
  0.5 1.5 nan inf    0 1 2 3    nan nan nan nan
  0 0 nan -inf       nan nan inf inf   nan nan nan nan
dataset lengths int32 [2] = 2 1
EOF
	run --separate-stderr synstruct partition in.h5
	assert_success
	assert_equal "$stderr" ""
	assert_close "$(jsonq - log_partition <<<"$output" | sed -n 1p)" \
		"$(awk 'BEGIN { printf "%.17g", log(exp(0.5) * (1 + exp(1)) + exp(1.5) * (exp(2) + exp(3))) }')"
	assert_close "$(jsonq - log_partition <<<"$output" | sed -n 2p)" \
		"$(awk 'BEGIN { printf "%.17g", log(2) }')"
	run synstruct marginals in.h5
	assert_success
	assert_equal "$(jsonq - marginals.2 <<<"$output")" "$(printf '[[0,0],[0,0]]\n[[0,0],[0,0]]')"
}

@test "NaN in padded hmm emission_scores and -1 observations in padding are accepted" {
	mk a.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_scores float64 [2, 3, 2] = 0.5 -1  2 0.25  nan inf
                                             1 2  nan nan  inf inf
dataset lengths int64 [2] = 2 1
EOF
	run --separate-stderr synstruct partition a.h5
	assert_success
	assert_equal "$stderr" ""
	mk b.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [2, 3] = 0.1 0.2 0.3  -1 0 1
dataset observations int32 [2, 4] = 0 1 2 2   2 1 -1 -1
dataset lengths int32 [2] = 4 2
EOF
	run --separate-stderr synstruct argmax b.h5
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(jsonq - labels <<<"$output" | sed -n 2p | cut -d, -f3-)" "-1,-1]"
}

@test "-inf potentials are accepted (forbidden parts)" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 -inf -inf -inf  0 -inf 0 0
EOF
	run --separate-stderr synstruct partition in.h5
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"index":[],"log_partition":0}'
	run --separate-stderr synstruct marginals in.h5
	assert_success
	assert_output '{"index":[],"marginals":[[[1,0],[0,0]],[[1,0],[0,0]]]}'
}

# ---- shapes and types -------------------------------------------------------------

@test "wrong rank: log_potentials [3, 4]" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 4] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' has shape [3, 4]; linear-chain needs [*b, n, t, t]" partition in.h5
}

@test "non-square [*b, n, t, t]: [2, 3, 2, 3]" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 3] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' has shape [2, 3, 2, 3]; linear-chain needs [*b, n, t, t]" partition in.h5
}

@test "hmm: t differs between init_logits and transition_logits" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [3, 4] fill 0
dataset observations int32 [2, 5] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'transition_logits' has shape [2, 2]; hmm needs [*b, t, t] with t = 3 (from 'init_logits')" partition in.h5
}

@test "hmm: t differs between transition_logits and emission_logits" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3] fill 0
dataset transition_logits float64 [3, 3] fill 0
dataset emission_logits float64 [2, 4] fill 0
dataset observations int32 [5] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'emission_logits' has shape [2, 4]; hmm needs [*b, t, V] with t = 3 (from 'init_logits')" partition in.h5
}

@test "lengths outside [0, n]: negative and too large" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] fill 0
dataset lengths int32 [2] = -1 2
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'lengths' holds -1, outside [0, 2] in batch element [0]" partition in.h5

	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] fill 0
dataset lengths int64 [2] = 2 3
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'lengths' holds 3, outside [0, 2] in batch element [1]" argmax in.h5
}

@test "lengths as a float dataset" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] fill 0
dataset lengths float64 [2] = 1 2
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'lengths' is not integer; linear-chain needs an integer dataset" partition in.h5
}

@test "log_potentials as a string dataset" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials string [2] = a b
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' is not floating-point; linear-chain needs a float16, float32 or float64 dataset" partition in.h5
}

@test "observations outside the vocabulary" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [2, 3] fill 0
dataset observations int32 [2, 3] = 0 1 2  0 3 1
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'observations' holds 3 at [1], outside [0, 3) in batch element [1]" partition in.h5
}

@test "a -1 observation below the length is refused" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [2, 3] fill 0
dataset observations int32 [3] = 0 -1 1
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'observations' holds -1 at [1], outside [0, 3)" partition in.h5
}

# ---- datasets and attributes ------------------------------------------------------

@test "missing dataset: log_potentials, init_logits" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset lengths int32 [2] = 1 2
EOF
	expect_error "synstruct: error: 'in.h5': no dataset 'log_potentials'; linear-chain needs it" partition in.h5

	mk in.h5 <<'EOF'
attr structure string hmm
dataset transition_logits float64 [2, 2] fill 0
dataset emission_scores float64 [3, 2] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': no dataset 'init_logits'; hmm needs it" partition in.h5
}

@test "a group where a dataset should be" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
group log_potentials
dataset x float64 [1] = 1
EOF
	expect_error "synstruct: error: 'in.h5': 'log_potentials' is not a dataset" partition in.h5
}

@test "hmm with neither emission form (or half of one)" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': hmm needs 'emission_logits' with 'observations', or 'emission_scores'" partition in.h5

	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [2, 3] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': hmm needs 'observations' with 'emission_logits'" partition in.h5

	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset observations int32 [3] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': hmm needs 'emission_logits' with 'observations'" partition in.h5
}

@test "hmm with both emission forms: the message says they exclude each other" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] fill 0
dataset transition_logits float64 [2, 2] fill 0
dataset emission_logits float64 [2, 3] fill 0
dataset observations int32 [3] = 0 1 2
dataset emission_scores float64 [3, 2] fill 0
EOF
	expect_error "~^synstruct: error: 'in\.h5': .*'emission_logits'.*'emission_scores'.*(not both|but not both|only one|one of)" partition in.h5
}

@test "unknown structure attribute" {
	mk in.h5 <<'EOF'
attr structure string linear-chian
dataset log_potentials float64 [2, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': unknown structure 'linear-chian' ($STRUCTURE_LIST)" partition in.h5
}

@test "no structure attribute, or one that is not a string" {
	mk in.h5 <<'EOF'
dataset log_potentials float64 [2, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': no 'structure' attribute; name one with --structure" partition in.h5

	mk in.h5 <<'EOF'
attr structure int 3
dataset log_potentials float64 [2, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': attribute 'structure' is not a string" partition in.h5
}

@test "--group naming a missing group" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': no group 'nosuch'" partition -g nosuch in.h5
}

# ---- files ------------------------------------------------------------------------

@test "a non-HDF5 file: text, empty, text on standard input" {
	printf 'attr structure string linear-chain\n' > in.h5
	expect_error "synstruct: error: 'in.h5': not an HDF5 file (nor JSON Lines)" partition in.h5

	: > in.h5
	expect_error "synstruct: error: 'in.h5': empty input (neither HDF5 nor JSON Lines)" partition in.h5
	printf '\n  \n' > in.h5
	expect_error "synstruct: error: 'in.h5': empty input (neither HDF5 nor JSON Lines)" partition in.h5

	printf 'hello\n' > in.txt
	run -1 --separate-stderr bash -c 'synstruct partition - < in.txt'
	assert_output ""
	assert_equal "$stderr" "synstruct: error: '-': not an HDF5 file (nor JSON Lines)"
}

@test "a truncated HDF5 file" {
	mk full.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 6, 4, 4] random 1 -2 2
dataset lengths int32 [3] = 6 4 5
EOF
	local n
	for n in 1000 2000 3000; do
		head -c "$n" full.h5 > in.h5
		expect_error "synstruct: error: 'in.h5': cannot open the HDF5 file (truncated or corrupt?)" partition in.h5
	done
}

@test "a dataset declaring 2^40 elements that was never written fails fast" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2^40, 2, 2, 2] nodata
EOF
	SECONDS=0
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' was never fully written (0 of 1073741824 chunks stored)" partition in.h5
	[ "$SECONDS" -lt 10 ]
}

@test "a partly written chunked dataset" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [4, 3, 2, 2] chunk=[1, 3, 2, 2] partial
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' was never fully written (1 of 4 chunks stored)" partition in.h5
}

@test "complete chunked and gzip-compressed datasets are accepted" {
	mk plain.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [4, 3, 2, 2] random 3 -2 2
dataset lengths int32 [4] = 3 2 1 0
EOF
	mk chunked.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [4, 3, 2, 2] chunk=[1, 3, 2, 2] random 3 -2 2
dataset lengths int32 [4] chunk=[2] = 3 2 1 0
EOF
	mk gzip.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [4, 3, 2, 2] gzip random 3 -2 2
dataset lengths int32 [4] gzip = 3 2 1 0
EOF
	run synstruct partition plain.h5
	assert_success
	local want=$output
	run --separate-stderr synstruct partition chunked.h5
	assert_success
	assert_equal "$stderr" ""
	assert_output "$want"
	run --separate-stderr synstruct partition gzip.h5
	assert_success
	assert_equal "$stderr" ""
	assert_output "$want"
}

@test "a zero-size dataset that was never written is fine" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [0, 3, 2, 2] nodata
EOF
	run --separate-stderr synstruct partition in.h5
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "one batch element larger than --max-memory is refused" {
	examples
	expect_error "~^synstruct: error: 'tagging\.h5': one batch element needs [0-9.]+ (bytes|KiB), more than --max-memory \(100 bytes\)$" partition --max-memory 100 tagging.h5
}

@test "a missing input file, a missing events file" {
	expect_error "synstruct: error: 'missing.h5': No such file or directory" partition missing.h5

	examples
	expect_error "synstruct: error: 'missing.h5': No such file or directory" log-prob tagging.h5 missing.h5
}

@test "an unwritable output path names the file" {
	examples
	local o
	for o in /nonexistent/dir/out.h5 /nonexistent/dir/out.jsonl; do
		run -1 --separate-stderr synstruct partition -o "$o" tagging.h5
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
		[[ $stderr == "synstruct: error: '$o': "*"No such file or directory" ]] ||
			fail "stderr '$stderr' does not start with synstruct: error: '$o':"
	done
}

@test "batch axes that do not broadcast: hmm parameters, lengths [2] against [3]" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3, 2] fill 0
dataset transition_logits float64 [2, 2, 2] fill 0
dataset emission_logits float64 [2, 3] fill 0
dataset observations int32 [3, 4] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'transition_logits' has batch axes [2], which do not broadcast with [3]" partition in.h5

	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 2, 2, 2] fill 0
dataset lengths int32 [2] = 1 2
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'lengths' has batch axes [2], which do not broadcast to the batch shape [3] of the other datasets" partition in.h5
}

@test "lengths that would enlarge the batch: [B, 1] against [B, n, t, t], and against shared potentials" {
	# lengths[:, None] by mistake: numpy would broadcast to a B x B batch
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [4, 3, 2, 2] random 1 -1 1
dataset lengths int64 [4, 1] = 3 2 1 3
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'lengths' has batch axes [4, 1], which do not broadcast to the batch shape [4] of the other datasets" partition in.h5
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 1, 3, 2, 2] random 1 -1 1
dataset lengths int32 [1, 3] = 3 2 1
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'lengths' has batch axes [1, 3], which do not broadcast to the batch shape [2, 1] of the other datasets" argmax in.h5
	# the parameters, not the lengths, make the batch: shared potentials
	# with lengths [3] are bad input too
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [4, 4] random 1 -1 1
dataset lengths int32 [3] = 4 3 2
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'lengths' has batch axes [3], which do not broadcast to the batch shape [] of the other datasets" partition in.h5
}

# ---- log-prob events --------------------------------------------------------------

@test "log-prob: events that are not a tag sequence (two ones at a position, past the length)" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] random 4 -1 1
dataset lengths int32 [2] = 3 2
EOF
	mk ev.h5 <<'EOF'
dataset argmax float64 [2, 3, 2, 2] =
  1 1 0 0   0 0 0 0   0 0 0 0
  1 0 0 0   1 0 0 0   0 0 0 0
EOF
	expect_error "synstruct: error: 'ev.h5': dataset 'argmax': event is not a tag sequence at position 0 in batch element [0]" log-prob in.h5 ev.h5

	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] random 4 -1 1
dataset lengths int32 [2] = 3 2
EOF
	mk ev.h5 <<'EOF'
dataset argmax float64 [2, 3, 2, 2] =
  0 1 0 0   0 0 1 0   1 0 0 0
  1 0 0 0   1 0 0 0   1 0 0 0
EOF
	expect_error "synstruct: error: 'ev.h5': dataset 'argmax': event marks position 2, past the length 2 in batch element [1]" log-prob in.h5 ev.h5
}

@test "log-prob: an event value that is not 0 or 1" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] random 4 -1 1
EOF
	mk ev.h5 <<'EOF'
dataset argmax float64 [2, 2, 2] = 0 0.5 0 0   0 0 1 0
EOF
	expect_error "~^synstruct: error: 'ev\.h5': dataset 'argmax': .*0\.5" log-prob in.h5 ev.h5
}

@test "log-prob: events of the wrong shape, or no events dataset" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] fill 0
EOF
	mk ev.h5 <<'EOF'
dataset argmax float64 [3, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'ev.h5': dataset 'argmax' has shape [3, 2, 2]; structures for 'in.h5' are events [2, 3, 2, 2] or labels [2, 3], with an optional leading sample axis" log-prob in.h5 ev.h5

	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'in.h5': no dataset 'argmax', 'samples' or 'labels'; name one with --dataset" log-prob in.h5 in.h5
	expect_error "synstruct: error: 'in.h5': no dataset 'events'" log-prob -d events in.h5 in.h5
}

@test "a dimension beyond 2^31 - 1 is refused before any allocation, even in an empty dataset" {
	mk in.h5 <<'EOF2'
attr structure string linear-chain
dataset log_potentials float64 [2, 0, 2^32, 2^32] nodata
EOF2
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials' has shape [2, 0, 4294967296, 4294967296]; t = 4294967296 is absurd (more than 2^31 - 1)" partition in.h5
}

@test "an empty table or sentence without a lengths dataset names the axis, not a dataset that is not there" {
	mk tc.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [0, 0, 2] fill 0
EOF
	expect_error "synstruct: error: 'tc.h5': n = 0; tree-crf needs n >= 1" partition tc.h5
	mk al.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [0, 3] fill 0
EOF
	expect_error "synstruct: error: 'al.h5': R = 0; alignment needs R >= 1" partition al.h5
}
