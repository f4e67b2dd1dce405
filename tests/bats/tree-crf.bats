#!/usr/bin/env bats
# tree-crf.bats - tree-crf through the command line: hand-computed log Z,
# marginals and best trees of two and three words, the spans decode and its
# -1 padding, counts, log-prob of decodes and gold spans, bad input, JSON
# Lines input, determinism across thread counts.

load common

# lse A B ...: log Σ exp, 17 significant digits.
lse() {
	awk 'BEGIN { m = ARGV[1]; for (k = 2; k < ARGC; k++) if (ARGV[k] > m) m = ARGV[k]
		for (k = 1; k < ARGC; k++) s += exp(ARGV[k] - m)
		printf "%.17g\n", m + log(s) }' "$@"
}

# Two sentences over n = 3 with one label: [i, j, 0] at i * 3 + j; NaN
# below the diagonal (never read) and past the length 2 of the second.
three_words() {
	mk in.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 3, 3, 1] = 0.5 1.25 -0.5   nan -1 0.75   nan nan 0.25
                                              0.5 1.25 nan    nan -1 nan    nan nan nan
dataset lengths int32 [2] = 3 2
EOF
}

@test "two words: log Z is the sum over the one bracketing's spans of the log-sum-exp of their labels" {
	mk in.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 2, 2] = 0.5 -1   2 0.25   nan nan   -0.75 1.5
EOF
	local want
	want=$(awk -v a="$(lse 0.5 -1)" -v b="$(lse 2 0.25)" -v c="$(lse -0.75 1.5)" \
		'BEGIN { printf "%.17g\n", a + b + c }')
	assert_close "$(synstruct partition in.h5 | jsonq - log_partition)" "$want"
	# one label: log Z is the score of the one tree, exactly
	mk one.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 2, 1] = 0.5 2 nan -0.75
EOF
	assert_close "$(synstruct partition one.h5 | jsonq - log_partition)" 1.75
	assert_equal "$(synstruct count one.h5)" '{"index":[],"log_count":0}'
	assert_equal "$(synstruct entropy one.h5)" '{"index":[],"entropy":0}'
	# the best tree: label 0 on (0, 0) and (0, 1), label 1 on (1, 1)
	assert_equal "$(synstruct argmax in.h5 | jsonq - spans)" "[[0,1,0],[0,0,0],[1,1,1]]"
	assert_close "$(synstruct argmax in.h5 | jsonq - score)" 4
}

@test "three words: two bracketings by hand; log Z, the marginal of span (0, 1) and the best tree" {
	three_words
	# ((0 1) 2) scores 0.5 - 1 + 0.25 + 1.25 - 0.5 = 0.5;
	# (0 (1 2)) scores 0.5 - 1 + 0.25 + 0.75 - 0.5 = 0.
	run synstruct partition in.h5
	assert_success
	assert_close "$(jsonq - log_partition <<<"${lines[0]}")" "$(lse 0.5 0)"
	# the second sentence, of two words, has one tree: 0.5 - 1 + 1.25
	assert_close "$(jsonq - log_partition <<<"${lines[1]}")" 0.75
	run synstruct marginals in.h5
	assert_close "$(jsonq - marginals.0.1.0 <<<"${lines[0]}")" \
		"$(awk 'BEGIN { printf "%.17g\n", exp(0.5) / (exp(0.5) + 1) }')"
	assert_close "$(jsonq - marginals.1.2.0 <<<"${lines[0]}")" \
		"$(awk 'BEGIN { printf "%.17g\n", 1 / (exp(0.5) + 1) }')"
	assert_equal "$(jsonq - marginals.0.2.0 <<<"${lines[0]}")" 1
	# past the length: 0
	assert_equal "$(jsonq - marginals.0.2 <<<"${lines[1]}")" "[0]"
	assert_equal "$(jsonq - marginals.2.2 <<<"${lines[1]}")" "[0]"
	assert_close "$(synstruct count in.h5 | jsonq - log_count | head -1)" \
		"$(awk 'BEGIN { printf "%.17g\n", log(2) }')"
}

@test "spans: pre-order (start, end, label) rows, -1 rows past 2 len - 1; the event with --events" {
	three_words
	synstruct argmax --events -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 spans)" "$(printf '[2, 5, 3]\nint32')"
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[2, 3, 3, 1]\nuint8')"
	assert_equal "$(h5get a.h5 spans | tr '\n' ' ')" \
		"0 2 0 0 1 0 0 0 0 1 1 0 2 2 0 0 1 0 0 0 0 1 1 0 -1 -1 -1 -1 -1 -1 "
	assert_equal "$(h5get a.h5 argmax | tr '\n' ' ')" \
		"1 1 1 0 1 0 0 0 1 1 1 0 0 1 0 0 0 0 "
	assert_close_lists "$(h5get a.h5 score)" "0.5 0.75"
	# samples: 2 len - 1 rows of spans, the rest -1
	synstruct sample -n 20 --seed 7 -o s.h5 in.h5
	assert_equal "$(h5get -s s.h5 spans)" "$(printf '[20, 2, 5, 3]\nint32')"
	run h5get s.h5 spans
	local k
	for ((k = 0; k < 20; k++)); do
		assert_equal "$(printf '%s ' "${lines[@]:k * 30 + 15:15}")" "0 1 0 0 0 0 1 1 0 -1 -1 -1 -1 -1 -1 "
		assert_equal "$(printf '%s ' "${lines[@]:k * 30:3}")" "0 2 0 "
	done
}

@test "count: log(Catalan(len - 1) L^(2 len - 1)) for all-zero scores" {
	mk in.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [3, 5, 5, 3] fill 0
dataset lengths int32 [3] = 5 4 1
EOF
	# Catalan(4) = 14, Catalan(3) = 5, Catalan(0) = 1
	assert_close_lists "$(synstruct count in.h5 | member log_count)" \
		"$(awk 'BEGIN { printf "%.17g %.17g %.17g\n", log(14 * 3^9), log(5 * 3^7), log(3) }')"
	assert_close_lists "$(synstruct partition in.h5 | member log_partition)" \
		"$(awk 'BEGIN { printf "%.17g %.17g %.17g\n", log(14 * 3^9), log(5 * 3^7), log(3) }')"
}

@test "log-prob of the argmax and of samples; of gold spans, padding ignored; bad spans are named" {
	three_words
	synstruct argmax -o a.h5 in.h5
	synstruct partition -o z.h5 in.h5
	assert_close_lists "$(synstruct log-prob -o lp.h5 in.h5 a.h5 && h5get lp.h5 log_prob)" \
		"$(paste <(h5get a.h5 score) <(h5get z.h5 log_partition) | awk '{ printf "%.17g ", $1 - $2 }')"
	synstruct sample -n 5 --seed 3 -o s.h5 in.h5
	assert_close_lists "$(synstruct log-prob -o lp.h5 in.h5 s.h5 && h5get lp.h5 log_prob)" \
		"$(h5get s.h5 log_prob)"
	mk gold.h5 <<'EOF'
dataset spans int16 [2, 5, 3] = 1 2 0  0 2 0  0 0 0  1 1 0  2 2 0    0 1 0  1 1 0  0 0 0  7 7 7  9 9 9
dataset cross int32 [2, 5, 3] = 0 2 0  0 1 0  1 2 0  0 0 0  1 1 0    0 1 0  0 0 0  1 1 0  -1 -1 -1  -1 -1 -1
dataset label int32 [2, 5, 3] = 0 2 0  0 1 0  0 0 0  1 1 0  2 2 0    0 1 0  0 0 1  1 1 0  -1 -1 -1  -1 -1 -1
EOF
	# (0 (1 2)) scores 0; the second sentence's one tree 0.75
	assert_close_lists "$(synstruct log-prob in.h5 gold.h5 | member log_prob)" \
		"$(awk -v z="$(lse 0.5 0)" 'BEGIN { printf "%.17g 0\n", -z }')"
	expect_error "synstruct: error: 'gold.h5': dataset 'cross', batch element [0]: spans is not a binary tree: row 2 (1, 2) crosses row 1 (0, 1)" \
		log-prob -d cross in.h5 gold.h5
	expect_error "synstruct: error: 'gold.h5': dataset 'label', batch element [1]: spans holds (0, 0, 1) at row 1, not a span of 0 .. 1 with a label in [0, 1)" \
		log-prob -d label in.h5 gold.h5
}

@test "bad input: a length 0, NaN in a used entry; NaN where never read is fine" {
	mk zero.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 2, 2, 1] = 0 0 nan 0   0 0 nan 0
dataset lengths int32 [2] = 2 0
EOF
	expect_error "synstruct: error: 'zero.h5': dataset 'lengths' holds 0, outside [1, 2] in batch element [1]" \
		partition zero.h5
	mk nan.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 2, 2] = 0 0  nan 0  nan nan  nan 1
EOF
	expect_error "synstruct: error: 'nan.h5': dataset 'log_potentials' holds NaN at [0, 1, 0]" \
		partition nan.h5
	mk inf.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 2, 1] = 0 inf nan 0
dataset lengths int32 [] = 1
EOF
	assert_equal "$(synstruct partition inf.h5)" '{"index":[],"log_partition":0}'
}

@test "no tree: every label of the whole span -inf" {
	mk in.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 2, 1] = 0.5 -inf nan 1
EOF
	run --separate-stderr synstruct partition in.h5
	assert_success
	assert_equal "$output" '{"index":[],"log_partition":"-inf"}'
	run --separate-stderr synstruct argmax in.h5
	assert_success
	assert_equal "$output" '{"index":[],"score":"-inf","spans":[[-1,-1,-1],[-1,-1,-1],[-1,-1,-1]]}'
}

@test "JSON Lines input: one sentence gives what its HDF5 file gives" {
	three_words
	printf '%s\n' '{"structure":"tree-crf","log_potentials":[[[0.5],[1.25],[-0.5]],[["nan"],[-1],[0.75]],[["nan"],["nan"],[0.25]]]}' > one.jsonl
	run synstruct partition one.jsonl
	assert_success
	assert_equal "$(jsonq - index <<<"$output")" "[0]"
	assert_close "$(jsonq - log_partition <<<"$output")" "$(lse 0.5 0)"
	assert_equal "$(synstruct argmax one.jsonl | jsonq - spans)" \
		"$(synstruct argmax in.h5 | jsonq - spans | head -1)"
	assert_equal "$(synstruct marginals one.jsonl | member marginals)" \
		"$(synstruct marginals in.h5 | member marginals | head -1)"
}

@test "the same bytes at -j 1 and -j 2" {
	mk in.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [7, 6, 6, 3] random 5 -3 3
dataset lengths int32 [7] = 6 1 4 5 2 6 3
EOF
	local c
	for c in partition marginals argmax "sample -n 3 --seed 9" entropy count; do
		# shellcheck disable=SC2086
		synstruct $c -j 1 -o one.h5 in.h5
		# shellcheck disable=SC2086
		synstruct $c -j 2 -o two.h5 in.h5
		cmp one.h5 two.h5
		# shellcheck disable=SC2086
		assert_equal "$(synstruct $c -j 1 in.h5)" "$(synstruct $c -j 2 in.h5)"
	done
}
