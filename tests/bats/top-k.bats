#!/usr/bin/env bats
# top-k: the K best structures, exactly, best first.

load common

# Element 0 (length 3): start scores 1, 2, then [[0.5, -1], [2, 3]] and
# [[1, 1], [-2, 0]]; its 8 sequences by hand:
#   000 2.5  001 2.5  010 -2  011 0  100 5  101 5  110 3  111 5
# element 1 (length 2): start 0, 4, then [[-1, 0.25], [3, -3]]:
#   00 -1  01 0.25  10 7  11 1
chain_fixture() {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] = 1 2 0 0  0.5 -1 2 3  1 1 -2 0   0 4 0 0  -1 0.25 3 -3  2 2 1 1
dataset lengths int32 [2] = 3 2
EOF
}

@test "linear-chain by hand: the 6 best of 8 and all 4 of 4 then empty ranks; ties in a fixed order" {
	chain_fixture
	run synstruct top-k -k 6 in.h5
	assert_success
	assert_line --index 0 '{"index":[0],"scores":[5,5,5,3,2.5,2.5],"labels":[[1,0,0],[1,0,1],[1,1,1],[1,1,0],[0,0,0],[0,0,1]]}'
	assert_line --index 1 '{"index":[1],"scores":[7,1,0.25,-1,"-inf","-inf"],"labels":[[1,0,-1],[1,1,-1],[0,1,-1],[0,0,-1],[-1,-1,-1],[-1,-1,-1]]}'
	# -k 1 is the argmax
	assert_equal "$(synstruct top-k in.h5 | jsonq - scores.0 | head -1)" "$(synstruct argmax in.h5 | jsonq - score | head -1)"
}

@test "HDF5: scores [K, *b], decodes [K, *b, n], topk events with --events; log-prob reads them back" {
	chain_fixture
	synstruct top-k -k 3 -o t.h5 in.h5
	assert_equal "$(h5get -s t.h5 scores)" "[3, 2]"$'\n'float64
	assert_equal "$(h5get -s t.h5 labels)" "[3, 2, 3]"$'\n'int32
	run h5get -s t.h5 topk
	assert_failure
	synstruct top-k -k 3 --events -o e.h5 in.h5
	assert_equal "$(h5get -s e.h5 topk)" "[3, 2, 3, 2, 2]"$'\n'uint8
	# log p of each rank = its score - log Z, from the events and from the labels
	synstruct log-prob in.h5 e.h5 > a.jsonl
	synstruct log-prob in.h5 t.h5 > b.jsonl
	cmp a.jsonl b.jsonl
	local logz
	logz=$(synstruct partition in.h5 | jsonq - log_partition | head -1)
	assert_close "$(jsonq - log_prob.2 < a.jsonl | head -1)" "$(awk -v z="$logz" 'BEGIN { printf "%.17g\n", 5 - z }')" 1e-12
}

@test "tree-crf by hand: one tree, then an empty rank" {
	mk tc.h5 <<'EOF'
attr structure string tree-crf
dataset log_potentials float64 [2, 2, 1] = 1 2  0 0.5
EOF
	# n = 2, one label: the only tree is (0,1) (0,0) (1,1): 2 + 1 + 0.5
	run synstruct top-k -k 2 tc.h5
	assert_output '{"index":[],"scores":[3.5,"-inf"],"spans":[[[0,1,0],[0,0,0],[1,1,0]],[[-1,-1,-1],[-1,-1,-1],[-1,-1,-1]]]}'
}

@test "non-projective trees: the k best arborescences against every tree (awk); -k must be an integer in range" {
	mk tree.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = 0 1 2  0 0 0.5  0 -1 0
EOF
	run synstruct top-k -k 3 --projective tree.h5
	assert_output '{"index":[],"scores":[3,1.5,1],"heads":[[-1,0,0],[-1,0,1],[-1,2,0]]}'
	mk t4.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [4, 4] = 0 1 2 -1  0 0 0.5 3  0 -2 0 1  0 1.5 0.25 0
EOF
	# the 16 trees of 4 nodes rooted at 0, their scores best first, then
	# 4 empty ranks of K = 20
	local want
	want=$(awk 'BEGIN {
		split("0 1 2 -1  0 0 0.5 3  0 -2 0 1  0 1.5 0.25 0", v, " ")
		for (i = 0; i < 16; i++) w[int(i / 4), i % 4] = v[i + 1]
		for (a = 0; a < 4; a++) for (b = 0; b < 4; b++) for (c = 0; c < 4; c++) {
			hd[1] = a; hd[2] = b; hd[3] = c; ok = 1
			for (d = 1; d < 4 && ok; d++) {
				if (hd[d] == d) ok = 0
				x = d; for (s = 0; s < 4 && x != 0; s++) x = hd[x]
				if (x != 0) ok = 0
			}
			if (ok) print w[a, 1] + w[b, 2] + w[c, 3]
		}
		for (k = 0; k < 4; k++) print "-inf" }' | sort -g -r | tr '\n' ' ')
	synstruct top-k -k 20 -o t.h5 t4.h5
	assert_equal "$(h5get t.h5 scores | tr '\n' ' ')" "$want"
	# single root: the best trees with one arc from node 0
	run synstruct top-k -k 2 --single-root t4.h5
	assert_success
	local k
	for k in 0 -1 x 1000001; do
		run --separate-stderr synstruct top-k -k "$k" tree.h5
		assert_equal "$status" 2
		assert_equal "$stderr" "synstruct: error: '-k' needs an integer in [1, 1000000], not '$k'; see 'synstruct top-k --help'"
	done
}

@test "top-k gives the same bytes at -j 1 and -j 2" {
	mk many.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [16, 6, 3, 3] random 5 -2 2
dataset lengths int32 [16] random 6 0 7
EOF
	synstruct top-k -k 10 --events -j 1 -o a.h5 many.h5
	synstruct top-k -k 10 --events -j 2 -o b.h5 many.h5
	cmp a.h5 b.h5
}
