#!/usr/bin/env bats
# trees.bats - spanning-tree through the command line: the three options as
# attributes and flags, hand-computed and counted partition functions, heads,
# log-prob, no-tree elements, bad input, determinism, the README pipeline.

load common

# ln X: natural logarithm with 17 significant digits.
ln() { awk -v x="$1" 'BEGIN { printf "%.17g\n", log(x) }'; }

# A 4-node problem whose numbers are easy to follow (column 0 is read by
# undirected trees only).
four_nodes() {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [2, 4, 4] = nan 0.5 -1 2   0.4 nan 1 0.3   -0.3 0.7 nan -0.2   0.9 1.5 0.1 nan
                                            nan 1 2 3     0 nan 0 0       0 0 nan 0          0 0 0 nan
dataset lengths int32 [2] = 4 3
EOF
}

@test "all-zero scores: log Z is the log of the tree count, for every variant" {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [5, 5] fill 0
EOF
	# 5 nodes: Cayley 5^3 = 125, single-root 4^3 = 64; projective 55 and 30.
	assert_close "$(synstruct partition in.h5 | jsonq - log_partition)" "$(ln 125)"
	assert_close "$(synstruct partition --single-root in.h5 | jsonq - log_partition)" "$(ln 64)"
	assert_close "$(synstruct partition --projective in.h5 | jsonq - log_partition)" "$(ln 55)"
	assert_close "$(synstruct partition --projective --single-root in.h5 | jsonq - log_partition)" "$(ln 30)"
	assert_close "$(synstruct partition --undirected in.h5 | jsonq - log_partition)" "$(ln 125)"
	assert_close "$(synstruct partition --undirected --projective --single-root in.h5 | jsonq - log_partition)" "$(ln 30)"
}

@test "three nodes by hand: log Z and the marginal of 0 -> 1" {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = nan 0.25 -0.5   nan nan 1.25   nan 0.75 nan
EOF
	# Trees: {0->1, 0->2}, {0->1, 1->2}, {0->2, 2->1}.
	local want
	want=$(awk 'BEGIN { a = exp(0.25 - 0.5); b = exp(0.25 + 1.25); c = exp(-0.5 + 0.75)
		printf "%.17g %.17g\n", log(a + b + c), (a + b) / (a + b + c) }')
	assert_close "$(synstruct partition in.h5 | jsonq - log_partition)" "${want% *}"
	assert_close "$(synstruct marginals in.h5 | jsonq - marginals.0.1)" "${want#* }"
	# Single root leaves {0->1, 1->2} and {0->2, 2->1}.
	want=$(awk 'BEGIN { printf "%.17g\n", log(exp(0.25 + 1.25) + exp(-0.5 + 0.75)) }')
	assert_close "$(synstruct partition --single-root in.h5 | jsonq - log_partition)" "$want"
}

@test "attributes set the options and flags override them; HDF5 output records them" {
	four_nodes
	mk attr.h5 <<'EOF'
attr structure string spanning-tree
attr projective int 1
attr single_root_edge int 1
attr directed int 0
dataset log_potentials float64 [2, 4, 4] = nan 0.5 -1 2   0.4 nan 1 0.3   -0.3 0.7 nan -0.2   0.9 1.5 0.1 nan
                                            nan 1 2 3     0 nan 0 0       0 0 nan 0          0 0 0 nan
dataset lengths int32 [2] = 4 3
EOF
	assert_equal "$(synstruct partition attr.h5)" \
		"$(synstruct partition --projective --single-root --undirected in.h5)"
	[ "$(synstruct partition attr.h5)" != "$(synstruct partition in.h5)" ]
	synstruct argmax -o a.h5 attr.h5
	assert_equal "$(h5get -a a.h5 directed) $(h5get -a a.h5 projective) $(h5get -a a.h5 single_root_edge)" "0 1 1"
	synstruct argmax -o b.h5 in.h5
	assert_equal "$(h5get -a b.h5 directed) $(h5get -a b.h5 projective) $(h5get -a b.h5 single_root_edge)" "1 0 0"
}

@test "heads: -1 for the root and padding; the argmax event marks each head" {
	four_nodes
	synstruct argmax --events -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 heads)" "$(printf '[2, 4]\nint32')"
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[2, 4, 4]\nuint8')"
	# Element 0: best tree 0->3, 3->1, 1->2 (2 + 1.5 + 1 = 4.5).
	assert_equal "$(synstruct argmax in.h5 | jsonq - heads | head -1)" "[-1,3,1,0]"
	assert_close "$(synstruct argmax in.h5 | jsonq - score | head -1)" 4.5
	# Element 1 has 3 nodes: node 3 is padding.
	run synstruct argmax --events in.h5
	[[ "$(jsonq - heads <<<"$output" | sed -n 2p)" =~ ^\[-1,[0-9],[0-9],-1\]$ ]]
	assert_equal "$(jsonq - argmax.3 <<<"$output" | sed -n 2p)" "[0,0,0,0]"
}

@test "undirected: symmetric marginals and events; heads point away from the root" {
	four_nodes
	run synstruct marginals --undirected in.h5
	assert_success
	local u v
	for u in 0 1 2 3; do
		for v in 0 1 2 3; do
			assert_equal "$(jsonq - "marginals.$u.$v" <<<"$output" | head -1)" \
				"$(jsonq - "marginals.$v.$u" <<<"$output" | head -1)"
		done
	done
	# Every node but the root has one head: its edge marginals sum to 1
	# plus those of its children's edges; in all, 2 (n - 1) = 6.
	assert_close "$(jsonq - marginals <<<"$output" | head -1 | flat | awk '{ s += $1 } END { printf "%.17g", s }')" 6 1e-12
	run synstruct argmax --undirected in.h5
	for u in 0 1 2 3; do
		for v in 0 1 2 3; do
			assert_equal "$(jsonq - "argmax.$u.$v" <<<"$output" | head -1)" \
				"$(jsonq - "argmax.$v.$u" <<<"$output" | head -1)"
		done
	done
	[[ "$(jsonq - heads <<<"$output" | head -1)" =~ ^\[-1,[0-3],[0-3],[0-3]\]$ ]]
}

@test "log-prob of argmax is score - log Z; of samples, their log_prob" {
	four_nodes
	local flags
	for flags in "" --projective --single-root "--undirected --projective"; do
		# shellcheck disable=SC2086
		synstruct argmax $flags -o a.h5 in.h5
		# shellcheck disable=SC2086
		synstruct partition $flags -o z.h5 in.h5
		# shellcheck disable=SC2086
		want=$(paste <(h5get a.h5 score) <(h5get z.h5 log_partition) | awk '{ printf "%.17g ", $1 - $2 }')
		# shellcheck disable=SC2086
		assert_close_lists "$(synstruct log-prob $flags -o lp.h5 in.h5 a.h5 && h5get lp.h5 log_prob)" "$want" 1e-12
		# shellcheck disable=SC2086
		synstruct sample $flags -n 5 --seed 3 -o s.h5 in.h5
		# shellcheck disable=SC2086
		assert_close_lists "$(synstruct log-prob $flags -o lp.h5 in.h5 s.h5 && h5get lp.h5 log_prob)" "$(h5get s.h5 log_prob)" 1e-12
	done
}

@test "log-prob of gold head vectors: any integer type, padding ignored; bad heads are named" {
	four_nodes
	mk gold.h5 <<'EOF'
dataset heads int16 [2, 4] = -1 3 1 0  -1 0 1 99
dataset loop int16 [2, 4] = -1 2 1 0  -1 0 1 -1
dataset far uint8 [2, 4] = 0 3 1 0  0 0 3 0
EOF
	local z
	z=$(synstruct partition in.h5 | member log_partition | tr '\n' ' ')
	assert_close_lists "$(synstruct log-prob in.h5 gold.h5 | member log_prob)" \
		"$(awk -v z="$z" 'BEGIN { split(z, Z, " "); printf "%.17g %.17g", 4.5 - Z[1], 1 - Z[2] }')"
	expect_error "synstruct: error: 'gold.h5': dataset 'loop': event is not a spanning tree: it has a cycle through node 1 in batch element [0]" log-prob -d loop in.h5 gold.h5
	expect_error "synstruct: error: 'gold.h5': dataset 'far', batch element [1]: heads holds 3 at [2], outside [0, 3)" log-prob -d far in.h5 gold.h5
}

@test "log-prob refuses an event that is not a tree of the element's kind" {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [4, 4] random 1 -1 1
EOF
	mk ev.h5 <<'EOF'
dataset argmax float64 [4, 4] = 0 1 0 0   0 0 0 0   0 0 0 1   0 0 1 0
EOF
	expect_error "synstruct: error: 'ev.h5': dataset 'argmax': event is not a spanning tree: it has a cycle through node 2" log-prob in.h5 ev.h5
	mk cross.h5 <<'EOF'
dataset argmax float64 [4, 4] = 0 0 1 0   0 0 0 1   0 1 0 0   0 0 0 0
EOF
	run synstruct log-prob in.h5 cross.h5
	assert_success
	expect_error "synstruct: error: 'cross.h5': dataset 'argmax': event is not projective: the arcs into 2 and 3 cross" log-prob --projective in.h5 cross.h5
}

@test "no tree: single root with every root arc -inf gives -inf, a warning and exit 0" {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [2, 3, 3] = nan -inf -inf  nan nan 1  nan 2 nan   nan 0 0  nan nan 0  nan 0 nan
EOF
	run --separate-stderr synstruct partition --single-root in.h5
	assert_success
	assert_equal "$(jsonq - log_partition <<<"$output" | head -1)" "-inf"
	assert_equal "$stderr" "synstruct: warning: 'in.h5': no structure for 1 of 2 elements: [0]"
	run --separate-stderr synstruct argmax --single-root in.h5
	assert_equal "$(jsonq - heads <<<"$output" | head -1)" "[-1,-1,-1]"
	assert_equal "$(jsonq - score <<<"$output" | head -1)" "-inf"
	run --separate-stderr synstruct entropy --single-root in.h5
	assert_equal "$(jsonq - entropy <<<"$output" | head -1)" "nan"
}

@test "arcs at +12000 and +1e5 beside root arcs at 0: log Z = C + log 2, no warning, every variant" {
	local c flags want
	for c in 12000 100000; do
		mk in.h5 <<EOF
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = nan 0 0   0 nan $c   0 $c nan
EOF
		# Trees 0 -> 1 -> 2 and 0 -> 2 -> 1 score C; {0 -> 1, 0 -> 2}
		# (multi-root) scores 0, e^-C of the rest.
		want=$(awk -v c="$c" 'BEGIN { printf "%.17g\n", c + log(2) }')
		for flags in "" --single-root --projective --undirected \
			"--undirected --projective --single-root"; do
			# shellcheck disable=SC2086
			run --separate-stderr synstruct partition $flags in.h5
			assert_success
			assert_equal "$stderr" ""
			assert_close "$(jsonq - log_partition <<<"$output")" "$want" 1e-15
			# shellcheck disable=SC2086
			run --separate-stderr synstruct marginals $flags in.h5
			assert_close "$(jsonq - marginals.0.1 <<<"$output")" 0.5 1e-12
			# shellcheck disable=SC2086
			run --separate-stderr synstruct entropy $flags in.h5
			assert_close "$(jsonq - entropy <<<"$output")" "$(ln 2)" 1e-9
		done
	done
}

@test "the root alone: log Z 0, or -inf with a single root edge" {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] random 2 -1 1
dataset lengths int32 [] = 1
EOF
	assert_equal "$(synstruct partition in.h5 | jsonq - log_partition)" 0
	assert_equal "$(synstruct argmax in.h5 | jsonq - heads)" "[-1,-1,-1]"
	assert_equal "$(synstruct partition -q --single-root in.h5 | jsonq - log_partition)" "-inf"
}

@test "bad input: lengths 0, NaN in a used arc, a non-square matrix, a bad option attribute" {
	mk len.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [2, 3, 3] fill 0
dataset lengths int32 [2] = 3 0
EOF
	expect_error "synstruct: error: 'len.h5': dataset 'lengths' holds 0, outside [1, 3] in batch element [1]" partition len.h5
	mk nan.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = nan 0 0  nan nan nan  nan 0 nan
EOF
	expect_error "synstruct: error: 'nan.h5': dataset 'log_potentials' holds NaN at [1, 2]" partition nan.h5
	mk col0.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = 0 0 0  nan 0 0  0 0 0
EOF
	run synstruct partition col0.h5
	assert_success
	expect_error "synstruct: error: 'col0.h5': dataset 'log_potentials' holds NaN at [1, 0]" partition --undirected col0.h5
	mk rect.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [2, 3, 4] fill 0
EOF
	expect_error "synstruct: error: 'rect.h5': dataset 'log_potentials' has shape [2, 3, 4]; spanning-tree needs [*b, n, n]" partition rect.h5
	mk opt.h5 <<'EOF'
attr structure string spanning-tree
attr projective int 2
dataset log_potentials float64 [3, 3] fill 0
EOF
	expect_error "synstruct: error: 'opt.h5': attribute 'projective' must be the integer 0 or 1" partition opt.h5
}

@test "a structure flag on another structure is bad usage" {
	examples
	expect_usage "synstruct: error: '--single-root' does not apply to linear-chain" partition --single-root tagging.h5
}

@test "samples are the same bytes at 1 and 2 threads, projective or not" {
	mk in.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float32 [16, 7, 7] random 4 -3 3
dataset lengths int32 [16] random 5 1 8
EOF
	local flags
	for flags in "" --projective "--single-root --undirected"; do
		# shellcheck disable=SC2086
		synstruct sample $flags -n 3 --seed 9 -j 1 -o a.h5 in.h5
		# shellcheck disable=SC2086
		synstruct sample $flags -n 3 --seed 9 -j 2 --max-memory 40K -o b.h5 in.h5
		cmp a.h5 b.h5
	done
}

@test "the README's policy-gradient pipeline runs" {
	cp "$BUILD/examples/trees.h5" .
	synstruct sample -n 8 --seed 0 --single-root -o samples.h5 trees.h5 &&
	synstruct argmax --single-root -o baseline.h5 trees.h5 &&
	synstruct log-prob --single-root -o logp.h5 trees.h5 samples.h5 &&
	synstruct entropy --single-root -o entropy.h5 trees.h5
	# trees.h5 is float32: float32 results, int32 heads
	assert_equal "$(h5get -s logp.h5 log_prob)" "$(printf '[8, 4]\nfloat32')"
	assert_equal "$(h5get logp.h5 log_prob)" "$(h5get samples.h5 log_prob)"
	assert_equal "$(h5get -s baseline.h5 heads)" "$(printf '[4, 6]\nint32')"
	grep -q 'synstruct sample -n 8 --seed 0 --single-root -o samples.h5 trees.h5' "$ROOT/README.md"
}

@test "options as numpy bools (h5py's enum attributes) work like 0 and 1" {
	mk bools.h5 <<'EOF2'
attr structure string spanning-tree
attr directed bool false
attr single_root_edge bool true
dataset log_potentials float64 [3, 5, 5] random 6 -2 2
EOF2
	mk ints.h5 <<'EOF2'
attr structure string spanning-tree
attr directed int 0
attr single_root_edge int 1
dataset log_potentials float64 [3, 5, 5] random 6 -2 2
EOF2
	assert_equal "$(synstruct partition bools.h5)" "$(synstruct partition ints.h5)"
	assert_equal "$(synstruct partition bools.h5)" "$(synstruct partition --undirected --single-root bools.h5)"
}

@test "an attribute that looks like a misspelt option gets a warning naming the option" {
	mk typo.h5 <<'EOF2'
attr structure string spanning-tree
attr projectve int 1
attr Single_Root_Edge bool true
attr model_name string biaffine
attr dir int 1
attr seed int 3
attr command string argmax
dataset log_potentials float64 [2, 5, 5] random 6 -2 2
EOF2
	mk plain.h5 <<'EOF2'
attr structure string spanning-tree
dataset log_potentials float64 [2, 5, 5] random 6 -2 2
EOF2
	run --separate-stderr synstruct partition typo.h5
	assert_success
	# in attribute-name order; the misspelt attributes are not applied
	assert_equal "$stderr" "synstruct: warning: 'typo.h5': attribute 'Single_Root_Edge' is not an option of spanning-tree; did you mean 'single_root_edge'?
synstruct: warning: 'typo.h5': attribute 'projectve' is not an option of spanning-tree; did you mean 'projective'?"
	assert_output "$(synstruct partition plain.h5)"
	run --separate-stderr synstruct partition -q typo.h5
	assert_equal "$stderr" ""
	# a transposition and an insertion at once; a group's attribute and the
	# root's, each once
	mk group.h5 <<'EOF2'
attr structure string spanning-tree
attr drected int 1
group g
attr projetcive int 0
attr drected int 1
dataset log_potentials float64 [4, 4] random 6 -2 2
EOF2
	run --separate-stderr synstruct argmax -g g group.h5
	assert_success
	assert_equal "$stderr" "synstruct: warning: 'group.h5': attribute 'drected' is not an option of spanning-tree; did you mean 'directed'?
synstruct: warning: 'group.h5': attribute 'projetcive' is not an option of spanning-tree; did you mean 'projective'?"
	# three edits away, or a structure without options: no warning
	mk far.h5 <<'EOF2'
attr structure string spanning-tree
attr prjctve int 1
dataset log_potentials float64 [4, 4] random 6 -2 2
EOF2
	run --separate-stderr synstruct partition far.h5
	assert_equal "$stderr" ""
	mk chain.h5 <<'EOF2'
attr structure string linear-chain
attr projectve int 1
dataset log_potentials float64 [2, 2, 2] fill 0
EOF2
	run --separate-stderr synstruct partition chain.h5
	assert_success
	assert_equal "$stderr" ""
}

@test "log-prob reads 'heads' as heads even where its shape is that of an event (one sentence, S = n)" {
	mk one.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [4, 4] = nan 0.5 -1 2   0.4 nan 1 0.3   -0.3 0.7 nan -0.2   0.9 1.5 0.1 nan
EOF
	# heads [S = 4, n = 4] has the shape of one event [n, n]
	synstruct sample -n 4 --seed 3 -o s.h5 one.h5
	assert_equal "$(h5get -s s.h5 heads | head -n 1)" "[4, 4]"
	run --separate-stderr synstruct log-prob one.h5 s.h5
	assert_success
	assert_equal "$(member log_prob <<<"$output" | tr -d '[]' | tr ',' '\n' | float32_round)" \
		"$(h5get s.h5 log_prob | float32_round)"
	run --separate-stderr synstruct log-prob -d heads one.h5 s.h5
	assert_success
	synstruct sample -n 4 --seed 3 one.h5 > s.jsonl
	run --separate-stderr synstruct log-prob one.h5 s.jsonl
	assert_success
}

@test "a tree of two nodes has log Z its one arc's score and log count 0, exactly" {
	mk two.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [2, 2] = nan 0.7 0.3 nan
EOF
	local flags
	for flags in "" --projective --single-root --undirected; do
		# shellcheck disable=SC2086
		assert_equal "$(synstruct count $flags two.h5)" '{"index":[],"log_count":0}'
	done
	assert_equal "$(synstruct partition two.h5)" '{"index":[],"log_partition":0.7}'
	assert_equal "$(synstruct entropy two.h5)" '{"index":[],"entropy":0}'
}
