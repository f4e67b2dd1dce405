#!/usr/bin/env bats
# monotone-alignment.bats - the general move-scored monotone table through
# the command line: a 2 x 2 table with K = 2 worked by hand, with and
# without vertical moves (log Z, visited-cell marginals, argmax pairs,
# count, entropy), padding and -1 rows of pairs, log-prob of gold pairs,
# bad input, JSON Lines input, and the same bytes at 1 and 2 threads.

load common

# The 2 x 2 table, K = 2 (NaN where an entry is never read):
#   horizontal[0] = [[0.5, 1], [nan, 2]]   (0.5: the start move into (0, 0))
#   horizontal[1] = [[nan, nan], [nan, 3]] (the diagonal into (1, 1))
#   vertical      = [[nan, nan], [0.25, -1]]
# Paths: D = (0,0) (1,1)        0.5 + 3         = 3.5
#        U = (0,0) (0,1) (1,1)  0.5 + 1 - 1     = 0.5   (vertical only)
#        L = (0,0) (1,0) (1,1)  0.5 + 0.25 + 2  = 2.75  (vertical only)
table() {
	mk in.h5 <<'EOF'
attr structure string monotone-alignment
dataset log_potentials_horizontal float64 [2, 2, 2] = 0.5 1  nan 2  nan nan  nan 3
EOF
	mk vert.h5 <<'EOF'
attr structure string monotone-alignment
dataset log_potentials_horizontal float64 [2, 2, 2] = 0.5 1  nan 2  nan nan  nan 3
dataset log_potentials_vertical float64 [2, 2] = nan nan 0.25 -1
EOF
}

# by_hand EXPR: an awk expression over d, u, l (the three paths' scores)
# and z (their log-sum-exp), printed with 17 digits.
by_hand() {
	awk "BEGIN { d = 3.5; u = 0.5; l = 2.75; z = log(exp(d) + exp(u) + exp(l))
		printf \"%.17g\n\", $1 }"
}

@test "without vertical moves the 2 x 2 table has one path, the diagonal" {
	table
	assert_close "$(synstruct partition in.h5 | jsonq - log_partition)" 3.5
	assert_equal "$(synstruct marginals in.h5 | jsonq - marginals)" "[[1,0],[0,1]]"
	run synstruct argmax --events in.h5
	assert_success
	assert_equal "$(jsonq - pairs <<<"$output")" "[[0,0],[1,1],[-1,-1]]"
	assert_equal "$(jsonq - argmax <<<"$output")" "[[1,0],[0,1]]"
	assert_close "$(jsonq - score <<<"$output")" 3.5
	assert_close "$(synstruct count in.h5 | jsonq - log_count)" 0
	assert_close "$(synstruct entropy in.h5 | jsonq - entropy)" 0
}

@test "with vertical moves: three paths, log Z, marginals, argmax, count and entropy by hand" {
	table
	assert_close "$(synstruct partition vert.h5 | jsonq - log_partition)" "$(by_hand z)"
	run synstruct marginals vert.h5
	assert_success
	assert_close "$(jsonq - marginals.0.0 <<<"$output")" 1
	assert_close "$(jsonq - marginals.0.1 <<<"$output")" "$(by_hand 'exp(u - z)')"
	assert_close "$(jsonq - marginals.1.0 <<<"$output")" "$(by_hand 'exp(l - z)')"
	assert_close "$(jsonq - marginals.1.1 <<<"$output")" 1
	run synstruct argmax vert.h5
	assert_equal "$(jsonq - pairs <<<"$output")" "[[0,0],[1,1],[-1,-1]]"
	assert_close "$(jsonq - score <<<"$output")" 3.5
	assert_close "$(synstruct count vert.h5 | jsonq - log_count)" "$(awk 'BEGIN { printf "%.17g", log(3) }')"
	assert_close "$(synstruct entropy vert.h5 | jsonq - entropy)" \
		"$(by_hand 'z - (d * exp(d - z) + u * exp(u - z) + l * exp(l - z))')"
	# Samples are paths: three cells, or the diagonal's two then -1.
	run synstruct sample -n 20 --seed 5 vert.h5
	assert_success
	[[ "$(jsonq - pairs <<<"$output")" =~ ^\[(\[\[0,0\],(\[0,1\],\[1,1\]|\[1,0\],\[1,1\]|\[1,1\],\[-1,-1\])\],?){20}\]$ ]]
}

@test "HDF5 output: pairs [*b, R+C-1, 2] int32, events uint8 [*b, R, C]" {
	table
	synstruct argmax --events -o a.h5 vert.h5
	assert_equal "$(h5get -s a.h5 pairs)" "$(printf '[3, 2]\nint32')"
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[2, 2]\nuint8')"
	synstruct sample -n 4 -o s.h5 vert.h5
	assert_equal "$(h5get -s s.h5 pairs)" "$(printf '[4, 3, 2]\nint32')"
}

@test "padding: lengths_rows and lengths_cols; -1 rows of pairs, zero marginals; no path is -inf" {
	mk in.h5 <<'EOF'
attr structure string monotone-alignment
dataset log_potentials_horizontal float64 [3, 2, 3, 3] fill 0
dataset lengths_rows int32 [3] = 3 2 2
dataset lengths_cols int32 [3] = 3 3 1
EOF
	run --separate-stderr synstruct marginals in.h5
	assert_success
	# K = 2. Element 1 (2 x 3): C(2, 1) = 2 paths, each through (0,0) and (1,2).
	assert_equal "$(sed -n 2p <<<"$output" | jsonq - marginals)" "[[1,0.5,0],[0,0.5,1],[0,0,0]]"
	# Element 2 (2 x 1) has no path without vertical moves.
	assert_equal "$(sed -n 3p <<<"$output" | jsonq - marginals)" "[[0,0,0],[0,0,0],[0,0,0]]"
	run --separate-stderr synstruct argmax in.h5
	assert_success
	# Element 0 (3 x 3, K = 2): only the diagonal, then two -1 rows.
	assert_equal "$(sed -n 1p <<<"$output" | jsonq - pairs)" "[[0,0],[1,1],[2,2],[-1,-1],[-1,-1]]"
	assert_equal "$(sed -n 3p <<<"$output" | jsonq - pairs)" "[[-1,-1],[-1,-1],[-1,-1],[-1,-1],[-1,-1]]"
	assert_equal "$(sed -n 3p <<<"$output" | jsonq - score)" -inf
	[[ $stderr == *"[2]"* ]] || fail "no warning names element [2]: '$stderr'"
	run --separate-stderr synstruct count in.h5
	assert_close "$(sed -n 1p <<<"$output" | jsonq - log_count)" 0
	assert_close "$(sed -n 2p <<<"$output" | jsonq - log_count)" "$(awk 'BEGIN { printf "%.17g", log(2) }')"
	assert_equal "$(sed -n 3p <<<"$output" | jsonq - log_count)" -inf
}

@test "log-prob of gold pairs and events; a path of moves the element lacks is refused" {
	table
	mk gold.h5 <<'EOF'
dataset pairs int32 [3, 2] = 0 0  1 0  1 1
dataset after int32 [3, 2] = 0 0  -1 -1  1 1
dataset up uint8 [2, 2] = 1 1 0 1
EOF
	assert_close "$(synstruct log-prob vert.h5 gold.h5 | jsonq - log_prob)" "$(by_hand 'l - z')"
	expect_error "synstruct: error: 'gold.h5': dataset 'after', batch element []: pairs holds (1, 1) at [2], after the end of the path at [1]" log-prob -d after vert.h5 gold.h5
	expect_error "synstruct: error: 'gold.h5': dataset 'pairs': event moves down from [0, 0] to [1, 0], but there is no 'log_potentials_vertical'" log-prob in.h5 gold.h5
	assert_close "$(synstruct log-prob -d up vert.h5 gold.h5 | jsonq - log_prob)" "$(by_hand 'u - z')"
}

@test "bad input: NaN in a used entry, lengths outside [1, R]; NaN where unread is fine" {
	mk in.h5 <<'EOF'
attr structure string monotone-alignment
dataset log_potentials_horizontal float64 [2, 2, 2, 2] = 0.5 1  nan 2  nan nan  nan 3   0.5 1  nan nan  nan nan  nan 3
dataset lengths_cols int32 [2] = 2 2
EOF
	expect_error "synstruct: error: 'in.h5': dataset 'log_potentials_horizontal' holds NaN at [0, 1, 1] in batch element [1]" partition in.h5
	mk len.h5 <<'EOF'
attr structure string monotone-alignment
dataset log_potentials_horizontal float64 [2, 2, 2] = 0.5 1  nan 2  nan nan  nan 3
dataset lengths_rows int32 [] = 0
EOF
	expect_error "synstruct: error: 'len.h5': dataset 'lengths_rows' holds 0, outside [1, 2]" partition len.h5
	mk vnan.h5 <<'EOF'
attr structure string monotone-alignment
dataset log_potentials_horizontal float64 [2, 2, 2] = 0.5 1  nan 2  nan nan  nan 3
dataset log_potentials_vertical float64 [2, 2] = nan nan 0.25 inf
EOF
	expect_error "synstruct: error: 'vnan.h5': dataset 'log_potentials_vertical' holds +inf at [1, 1]" marginals vnan.h5
}

@test "JSON Lines input of one element gives what HDF5 gives" {
	table
	printf '%s\n' '{"structure": "monotone-alignment", "log_potentials_horizontal": [[[0.5, 1], [0, 2]], [[0, 0], [0, 3]]], "log_potentials_vertical": [[0, 0], [0.25, -1]], "lengths_rows": 2, "lengths_cols": 2}' > in.jsonl
	local c name
	for c in partition:log_partition marginals:marginals argmax:pairs argmax:score \
		count:log_count entropy:entropy; do
		name=${c#*:}
		assert_equal "$(synstruct "${c%:*}" in.jsonl | jsonq - "$name")" \
			"$(synstruct "${c%:*}" vert.h5 | jsonq - "$name")"
	done
	assert_equal "$(synstruct argmax in.jsonl | jsonq - pairs)" "[[0,0],[1,1],[-1,-1]]"
	assert_equal "$(synstruct partition in.jsonl | jsonq - index)" "[0]"
}

@test "the same bytes at 1 and 2 threads" {
	mk in.h5 <<'EOF'
attr structure string monotone-alignment
dataset log_potentials_horizontal float64 [12, 3, 4, 5] random 7 -2 2
dataset log_potentials_vertical float64 [12, 4, 5] random 8 -2 2
dataset lengths_rows int32 [12] random 9 1 5
dataset lengths_cols int32 [12] random 10 1 6
EOF
	local c
	for c in partition marginals "argmax --events" "sample --events -n 3 --seed 4" entropy count; do
		# shellcheck disable=SC2086
		synstruct $c -j 1 -o a.h5 in.h5
		# shellcheck disable=SC2086
		synstruct $c -j 2 -o b.h5 in.h5
		cmp a.h5 b.h5
	done
}
