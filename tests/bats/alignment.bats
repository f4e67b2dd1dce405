#!/usr/bin/env bats
# alignment.bats - alignment through the command line: the three types on
# tables small enough to list every alignment by hand (2 x 2, 2 x 3, 3 x 3),
# pairs and their -1 padding, the option as attribute and flag, log-prob of
# gold pairs, the one-to-one refusals, bad input, JSON Lines, threads.

load common

# logsumexp SCORES...: log Σ exp, with 17 significant digits.
logsumexp() {
	awk 'BEGIN { m = ARGV[1]; for (i = 2; i < ARGC; i++) if (ARGV[i] > m) m = ARGV[i]
		for (i = 1; i < ARGC; i++) s += exp(ARGV[i] - m); printf "%.17g\n", m + log(s) }' "$@"
}

# entropy SCORES...: H = log Z - Σ p s over the listed structures.
entropy() {
	awk 'BEGIN { m = ARGV[1]; for (i = 2; i < ARGC; i++) if (ARGV[i] > m) m = ARGV[i]
		for (i = 1; i < ARGC; i++) s += exp(ARGV[i] - m); z = m + log(s)
		for (i = 1; i < ARGC; i++) h += exp(ARGV[i] - z) * (z - ARGV[i]); printf "%.17g\n", h }' "$@"
}

ln() { awk -v x="$1" 'BEGIN { printf "%.17g\n", log(x) }'; }

# 2 x 2: a = 0.5, b = -1 / c = 0.25, d = 1.
two_by_two() {
	mk in.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [2, 2] = 0.5 -1  0.25 1
EOF
}

# 2 x 3: [[1, 2, 3], [4, 5, 6]].
two_by_three() {
	mk in.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [2, 3] = 1 2 3  4 5 6
EOF
}

@test "2 x 2 by hand: many-to-many has 3 paths, one-to-many 1" {
	two_by_two
	# many-to-many: right-down a+b+d = 0.5, down-right a+c+d = 1.75,
	# diagonal a+d = 1.5
	assert_close "$(synstruct partition in.h5 | jsonq - log_partition)" "$(logsumexp 0.5 1.75 1.5)"
	assert_close "$(synstruct count in.h5 | jsonq - log_count)" "$(ln 3)"
	assert_close "$(synstruct entropy in.h5 | jsonq - entropy)" "$(entropy 0.5 1.75 1.5)"
	assert_close "$(synstruct marginals in.h5 | jsonq - marginals.0.1)" \
		"$(awk 'BEGIN { printf "%.17g\n", exp(0.5) / (exp(0.5) + exp(1.75) + exp(1.5)) }')"
	assert_close "$(synstruct marginals in.h5 | jsonq - marginals.1.1)" 1
	run synstruct argmax in.h5
	assert_output '{"index":[],"score":1.75,"pairs":[[0,0],[1,0],[1,1]]}'
	# one-to-many: one cell per column, only the diagonal a+d
	assert_close "$(synstruct partition --alignment-type monotone-one-to-many in.h5 | jsonq - log_partition)" 1.5
	assert_close "$(synstruct count --alignment-type monotone-one-to-many in.h5 | jsonq - log_count)" 0
	run synstruct argmax --alignment-type monotone-one-to-many in.h5
	assert_output '{"index":[],"score":1.5,"pairs":[[0,0],[1,1],[-1,-1]]}'
	# SynJax's spelling, with underscores, names the same type
	assert_close "$(synstruct partition --alignment-type monotone_one_to_many in.h5 | jsonq - log_partition)" 1.5
}

@test "2 x 3 by hand: 5 many-to-many paths, 2 one-to-many; pairs padded with -1" {
	two_by_three
	# many-to-many: RRD 1+2+3+6, RDR 1+2+5+6, DRR 1+4+5+6, diag-R 1+5+6,
	# R-diag 1+2+6
	assert_close "$(synstruct partition in.h5 | jsonq - log_partition)" "$(logsumexp 12 14 16 12 9)"
	assert_close "$(synstruct count in.h5 | jsonq - log_count)" "$(ln 5)"
	assert_close "$(synstruct entropy in.h5 | jsonq - entropy)" "$(entropy 12 14 16 12 9)"
	run synstruct argmax in.h5
	assert_output '{"index":[],"score":16,"pairs":[[0,0],[1,0],[1,1],[1,2]]}'
	# one-to-many: (0,0) (0,1) (1,2) = 9 and (0,0) (1,1) (1,2) = 12
	local t=--alignment-type=monotone-one-to-many
	assert_close "$(synstruct partition $t in.h5 | jsonq - log_partition)" "$(logsumexp 9 12)"
	assert_close "$(synstruct count $t in.h5 | jsonq - log_count)" "$(ln 2)"
	assert_close_lists "$(synstruct marginals $t in.h5 | member marginals)" \
		"$(awk 'BEGIN { p = exp(9) / (exp(9) + exp(12)); printf "1 %.17g 0 0 %.17g 1\n", p, 1 - p }')"
	run synstruct argmax $t in.h5
	assert_output '{"index":[],"score":12,"pairs":[[0,0],[1,1],[1,2],[-1,-1]]}'
	synstruct argmax $t --events -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 pairs)" "$(printf '[4, 2]\nint32')"
	assert_equal "$(h5get a.h5 argmax | tr '\n' ' ')" "1 0 0 0 1 1 "
}

@test "lengths: padding is 0 in marginals and -1 in pairs; a row longer than the columns has no one-to-many path" {
	mk in.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [3, 3, 3] = 1 2 nan  4 5 nan  nan nan nan
                                           0 0 0    0 0 0    0 0 0
                                           0 0 0    0 0 0    0 0 0
dataset lengths_rows int32 [3] = 2 3 3
dataset lengths_cols int32 [3] = 2 3 2
EOF
	run synstruct argmax in.h5
	assert_success
	assert_line -n 0 '{"index":[0],"score":10,"pairs":[[0,0],[1,0],[1,1],[-1,-1],[-1,-1]]}'
	synstruct marginals -o m.h5 in.h5
	assert_equal "$(h5get m.h5 marginals | sed -n '3p;6,9p' | tr '\n' ' ')" "0 0 0 0 0 "
	# D(2, 2) = 13, D(2, 1) = 5
	assert_close_lists "$(synstruct count in.h5 | member log_count)" "$(ln 3) $(ln 13) $(ln 5)"
	run -0 --separate-stderr synstruct count --alignment-type monotone-one-to-many in.h5
	assert_equal "$(member log_count <<<"$output" | tr '\n' ' ')" "0 0 \"-inf\" "
	[[ $stderr == *"[2]"* ]] || fail "no warning names element [2]: $stderr"
}

@test "the type: default many-to-many, an attribute sets it (name or index), the flag overrides; HDF5 output records it" {
	two_by_three
	mk attr.h5 <<'EOF'
attr structure string alignment
attr alignment_type string monotone-one-to-many
dataset log_potentials float64 [2, 3] = 1 2 3  4 5 6
EOF
	mk index.h5 <<'EOF'
attr structure string alignment
attr alignment_type int 0
dataset log_potentials float64 [2, 3] = 1 2 3  4 5 6
EOF
	assert_close "$(synstruct count attr.h5 | jsonq - log_count)" "$(ln 2)"
	assert_close "$(synstruct count index.h5 | jsonq - log_count)" "$(ln 2)"
	assert_close "$(synstruct count --alignment-type monotone-many-to-many attr.h5 | jsonq - log_count)" "$(ln 5)"
	synstruct partition --alignment-type monotone-one-to-many -o z.h5 in.h5
	synstruct partition -o d.h5 in.h5
	# recorded by name, as a user writes it
	assert_equal "$(h5get -a z.h5 alignment_type)" monotone-one-to-many
	assert_equal "$(h5get -a d.h5 alignment_type)" monotone-many-to-many
}

@test "non-monotone one-to-one: argmax of a 3 x 3 permutation problem; every other command refuses" {
	mk sq.h5 <<'EOF'
attr structure string alignment
attr alignment_type string non-monotone-one-to-one
dataset log_potentials float64 [3, 3] = 1 5 0  4 1 -inf  0 -inf 2
EOF
	# the 6 permutations (column of rows 0, 1, 2): 012 = 4, 021 = -inf,
	# 102 = 11, 120 = -inf, 201 = -inf, 210 = 0 + 1 + 0 = 1
	run synstruct argmax --events sq.h5
	assert_output '{"index":[],"argmax":[[0,1,0],[1,0,0],[0,0,1]],"score":11,"pairs":[[0,1],[1,0],[2,2],[-1,-1],[-1,-1]]}'
	local c why="partition and marginals over non-monotone-one-to-one alignments are #P-hard (the permanent), and so is every operation built on them; alignment supports argmax, max-marginals, top-k, info"
	expect_error "synstruct: error: 'sq.h5': alignment does not support partition: $why" partition sq.h5
	for c in marginals entropy count sample; do
		expect_error "~^synstruct: error: 'sq.h5': alignment does not support $c: .*#P-hard.*; alignment supports argmax, max-marginals, top-k, info$" "$c" sq.h5
	done
	expect_error "~^synstruct: error: .*alignment does not support log-prob: .*#P-hard.*; alignment supports argmax, max-marginals, top-k, info$" log-prob sq.h5 sq.h5
	expect_error "~^synstruct: error: .*alignment does not support kl: .*#P-hard.*; alignment supports argmax, max-marginals, top-k, info$" kl sq.h5 sq.h5
	# no permutation avoids the -inf cells: score -inf, pairs -1
	mk dead.h5 <<'EOF'
attr structure string alignment
attr alignment_type string non-monotone-one-to-one
dataset log_potentials float64 [2, 2] = 1 -inf  2 -inf
EOF
	run -0 --separate-stderr synstruct argmax dead.h5
	assert_output '{"index":[],"score":"-inf","pairs":[[-1,-1],[-1,-1],[-1,-1]]}'
}

@test "log-prob of gold pairs is score - log Z; bad pairs are named" {
	two_by_three
	mk gold.h5 <<'EOF'
dataset pairs int32 [2, 4, 2] = 0 0  0 1  1 1  1 2    0 0  1 1  1 2  -1 -1
dataset jump int32 [4, 2] = 0 0  1 2  -1 -1  -1 -1
dataset out int32 [4, 2] = 0 0  0 1  0 3  1 3
EOF
	local z
	z=$(logsumexp 12 14 16 12 9)
	assert_close_lists "$(synstruct log-prob -o lp.h5 in.h5 gold.h5 && h5get lp.h5 log_prob)" \
		"$(awk -v z="$z" 'BEGIN { printf "%.17g %.17g\n", 14 - z, 12 - z }')"
	expect_error "synstruct: error: 'gold.h5': dataset 'jump', batch element []: pairs goes from (0, 0) to (1, 2) at [1], not a move of a monotone-many-to-many alignment" log-prob -d jump in.h5 gold.h5
	expect_error "synstruct: error: 'gold.h5': dataset 'out', batch element []: pairs holds (0, 3) at [2], outside the 2 x 3 table" log-prob -d out in.h5 gold.h5
	# argmax and samples read back
	synstruct argmax -o a.h5 in.h5
	assert_close "$(synstruct log-prob in.h5 a.h5 | jsonq - log_prob)" "$(awk -v z="$z" 'BEGIN { printf "%.17g\n", 16 - z }')"
}

@test "bad input: a length of 0, NaN in a used cell, a bad alignment_type" {
	mk len.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [2, 2, 3] fill 0
dataset lengths_cols int32 [2] = 3 0
EOF
	expect_error "synstruct: error: 'len.h5': dataset 'lengths_cols' holds 0, outside [1, 3] in batch element [1]" partition len.h5
	mk nan.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [2, 3] = 0 0 nan  0 0 0
dataset lengths_cols int32 [] = 3
EOF
	expect_error "synstruct: error: 'nan.h5': dataset 'log_potentials' holds NaN at [0, 2]" partition nan.h5
	mk opt.h5 <<'EOF'
attr structure string alignment
attr alignment_type string zigzag
dataset log_potentials float64 [2, 3] fill 0
EOF
	expect_error "synstruct: error: 'opt.h5': attribute 'alignment_type' must be one of monotone-one-to-many, monotone-many-to-many, non-monotone-one-to-one (a name or its index)" partition opt.h5
	expect_usage "synstruct: error: option '--alignment-type': 'alignment_type' is 'zigzag'; it must be one of monotone-one-to-many, monotone-many-to-many, non-monotone-one-to-one" partition --alignment-type zigzag nan.h5
	mk rect.h5 <<'EOF'
attr structure string alignment
attr alignment_type string non-monotone-one-to-one
dataset log_potentials float64 [2, 3] fill 0
EOF
	expect_error "synstruct: error: 'rect.h5': dataset 'log_potentials' has 2 rows and 3 columns; non-monotone-one-to-one alignments need a square table" argmax rect.h5
}

@test "JSON Lines input of one element equals the HDF5 input" {
	two_by_three
	printf '%s\n' '{"structure": "alignment", "alignment_type": "monotone-one-to-many", "log_potentials": [[1, 2, 3], [4, 5, 6]], "lengths_cols": 3}' > in.jsonl
	assert_close "$(synstruct partition in.jsonl | jsonq - log_partition)" "$(logsumexp 9 12)"
	run synstruct argmax in.jsonl
	assert_output '{"index":[0],"score":12,"pairs":[[0,0],[1,1],[1,2],[-1,-1]]}'
}

@test "samples are the same bytes at 1 and 2 threads, for both monotone types" {
	mk in.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [16, 5, 7] random 4 -3 3
dataset lengths_rows int32 [16] random 5 1 6
dataset lengths_cols int32 [16] random 6 1 8
EOF
	local t
	for t in monotone-one-to-many monotone-many-to-many; do
		synstruct sample --alignment-type $t -n 3 --seed 9 -j 1 -o a.h5 in.h5 2>/dev/null
		synstruct sample --alignment-type $t -n 3 --seed 9 -j 2 --max-memory 40K -o b.h5 in.h5 2>/dev/null
		cmp a.h5 b.h5
	done
}

@test "kl of two alignment types names both by name" {
	mk a1.h5 <<'EOF'
attr structure string alignment
attr alignment_type string monotone-one-to-many
dataset log_potentials float64 [2, 3] fill 0
EOF
	mk a2.h5 <<'EOF'
attr structure string alignment
dataset log_potentials float64 [2, 3] fill 0
EOF
	run --separate-stderr synstruct kl a1.h5 a2.h5
	assert_failure 1
	assert_equal "$stderr" "synstruct: error: 'a2.h5': option 'alignment_type' is monotone-many-to-many, but monotone-one-to-many in 'a1.h5'; P and Q must be distributions of one kind"
}
