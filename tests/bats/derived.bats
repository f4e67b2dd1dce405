#!/usr/bin/env bats
# count, cross-entropy and kl (SPEC §2, §4): the generic operations on a
# structure's canonical problem.

load common

@test "count: t^len tag sequences, minus those a -inf forbids; log_count in the input's type" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 3, 2, 2] = 0 0 5 5  1 2 3 4  -1 -2 -3 -4
                                              0 0 5 5  1 -inf 3 4  -1 -2 -3 -4
                                              0 -inf 5 5  1 2 3 4  -1 -2 -3 -4
dataset lengths int32 [3] = 3 2 0
EOF
	# element 0: 2^3; element 1: start 0 or 1, then 0 -> 1 forbidden: 3 of 4;
	# element 2: length 0, one empty structure
	run --separate-stderr synstruct count in.h5
	assert_success
	assert_equal "$stderr" ""
	assert_close_lists "$(member log_count <<<"$output")" \
		"$(awk 'BEGIN { printf "%.17g %.17g 0", log(8), log(3) }')"
	synstruct count -o c.h5 in.h5
	assert_equal "$(h5get -s c.h5 log_count)" "$(printf '[3]\nfloat64')"
	assert_equal "$(h5get -a c.h5 command)" count
	examples
	synstruct count -o t.h5 tagging.h5
	assert_equal "$(h5get -s t.h5 log_count)" "$(printf '[3]\nfloat32')"
}

@test "count: Cayley's n^(n-2) trees, the projective and single-root counts, and no tree" {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [5, 6, 6] fill 0
dataset lengths int32 [5] = 2 3 4 5 6
EOF
	# nodes including the root: n = 2..6 gives (n)^(n-2) rooted at 0
	assert_close_lists "$(synstruct count in.h5 | member log_count)" \
		"$(awk 'BEGIN { for (n = 2; n <= 6; n++) printf "%.17g ", (n - 2) * log(n) }')"
	assert_close_lists "$(synstruct count --projective in.h5 | member log_count)" \
		"$(awk 'BEGIN { split("1 3 12 55 273", c, " "); for (k = 1; k <= 5; k++) printf "%.17g ", log(c[k]) }')"
	assert_close_lists "$(synstruct count --projective --single-root in.h5 | member log_count)" \
		"$(awk 'BEGIN { split("1 2 7 30 143", c, " "); for (k = 1; k <= 5; k++) printf "%.17g ", log(c[k]) }')"
	mk none.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = nan -inf -inf  0 nan 0  0 0 nan
EOF
	run --separate-stderr synstruct count --single-root none.h5
	assert_success
	assert_output '{"index":[],"log_count":"-inf"}'
	assert_equal "$stderr" "synstruct: warning: 'none.h5': no structure for 1 of 1 element: []"
}

# two two-position chains with two tags: P and Q
pq_fixture() {
	mk p.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 1 7 9  0.5 -0.5 1 0
EOF
	mk q.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0.25 -1 7 9  2 0 -0.5 1.5
EOF
}

@test "cross-entropy and kl of two chains equal the sums over their four tag sequences" {
	pq_fixture
	# sequences 00, 01, 10, 11: scores [0,0,a]+[1,a,c]
	local want_ce want_kl
	want_ce=$(awk 'BEGIN {
		split("0.5 -0.5 2 1", sp, " "); split("2.25 0.25 -1.5 0.5", sq, " ")
		for (k = 1; k <= 4; k++) { zp += exp(sp[k]); zq += exp(sq[k]) }
		for (k = 1; k <= 4; k++) { p = exp(sp[k]) / zp; ce -= p * log(exp(sq[k]) / zq); kl += p * log(p / (exp(sq[k]) / zq)) }
		printf "%.17g %.17g", ce, kl }')
	run --separate-stderr synstruct cross-entropy p.h5 q.h5
	assert_success
	assert_close "$(member cross_entropy <<<"$output")" "${want_ce% *}" 1e-12
	run --separate-stderr synstruct kl p.h5 q.h5
	assert_success
	assert_close "$(member kl <<<"$output")" "${want_ce#* }" 1e-12
	# H(p, p) = H(p); KL(p || p) = 0
	assert_close "$(synstruct cross-entropy p.h5 p.h5 | member cross_entropy)" \
		"$(synstruct entropy p.h5 | member entropy)" 1e-12
	assert_close "$(synstruct kl p.h5 p.h5 | member kl)" 0 1e-12
	synstruct kl -o kl.h5 p.h5 q.h5
	assert_equal "$(h5get -l kl.h5)" kl
	assert_equal "$(h5get -a kl.h5 command)" kl
	# either operand on standard input
	assert_equal "$(synstruct kl - q.h5 < p.h5)" "$(synstruct kl p.h5 q.h5)"
	assert_equal "$(synstruct kl p.h5 - < q.h5)" "$(synstruct kl p.h5 q.h5)"
}

@test "cross-entropy and kl: NaN where P has no structure, +inf where Q forbids a structure of P" {
	mk p.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 1, 2, 2] = 0 1 5 5   -inf -inf 5 5   0 1 5 5
EOF
	mk q.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 1, 2, 2] = 1 0 5 5   0 0 5 5   0 -inf 5 5
EOF
	run --separate-stderr synstruct kl p.h5 q.h5
	assert_success
	assert_equal "$stderr" "synstruct: warning: 'p.h5' or 'q.h5': no structure for 1 of 3 elements: [1]"
	assert_line --index 1 '{"index":[1],"kl":"nan"}'
	assert_line --index 2 '{"index":[2],"kl":"inf"}'
	run --separate-stderr synstruct cross-entropy -q p.h5 q.h5
	assert_line --index 2 '{"index":[2],"cross_entropy":"inf"}'
}

@test "cross-entropy and kl of spanning trees, every variant: KL(p || p) = 0 and H(p, p) = H(p)" {
	cp "$BUILD/examples/trees.h5" .
	local flags
	for flags in "" --projective --single-root --undirected "--undirected --projective --single-root"; do
		# shellcheck disable=SC2086
		assert_close_lists "$(synstruct cross-entropy --dtype float64 $flags trees.h5 trees.h5 | member cross_entropy)" \
			"$(synstruct entropy --dtype float64 $flags trees.h5 | member entropy)" 1e-9
		# shellcheck disable=SC2086
		assert_close_lists "$(synstruct kl $flags trees.h5 trees.h5 | member kl)" "0 0 0 0" 1e-9
	done
}

@test "P and Q of different structures, options or shapes are refused; both on stdin is bad usage" {
	pq_fixture
	examples
	expect_error "synstruct: error: 'tagging.h5': a linear-chain, but 'hmm.h5' is a hmm; P and Q must be distributions of one kind" kl hmm.h5 tagging.h5
	mk q3.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'q3.h5': n = 3, but 2 in 'p.h5'; P and Q must have the same shapes" kl p.h5 q3.h5
	mk qb.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] fill 0
EOF
	expect_error "synstruct: error: 'qb.h5': batch shape [2], but [] in 'p.h5'; P and Q must have the same shapes" cross-entropy p.h5 qb.h5
	cp "$BUILD/examples/trees.h5" .
	mk t1.h5 <<'EOF'
attr structure string spanning-tree
attr projective int 1
dataset log_potentials float32 [4, 6, 6] random 7 -3 3
dataset lengths int32 [4] = 6 4 5 6
EOF
	expect_error "synstruct: error: 't1.h5': option 'projective' is 1, but 0 in 'trees.h5'; P and Q must be distributions of one kind" kl trees.h5 t1.h5
	expect_usage "synstruct: error: P and Q cannot both be standard input; see 'synstruct kl --help'" kl - -
	expect_usage "synstruct: error: missing Q file; see 'synstruct kl --help'" kl p.h5
	# -o naming Q is refused like any input
	run --separate-stderr synstruct kl -o q.h5 p.h5 q.h5
	assert_failure 2
}

@test "P and Q of different lengths are refused, naming Q's element" {
	mk p.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] random 4 -1 1
dataset lengths int32 [2] = 3 2
EOF
	mk q.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] random 4 -1 1
EOF
	expect_error "synstruct: error: 'q.h5': 'lengths' is 3 where P's is 2; P and Q must have the same lengths in batch element [1]" kl p.h5 q.h5
	expect_error "synstruct: error: 'p.h5': 'lengths' is 2 where P's is 3; P and Q must have the same lengths in batch element [1]" cross-entropy q.h5 p.h5
}
