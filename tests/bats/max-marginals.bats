#!/usr/bin/env bats
# max-marginals: for each entry of the event, the best score of a structure
# that has it (-inf where none does).

load common

# Two chains of 2 tags. Element 0 (length 3): start scores 1, 2; then
# [[0.5, -1], [2, 3]] and [[1, 1], [-2, 0]]. Element 1 (length 2): start
# scores 0, 4, then [[-1, 0.25], [3, -3]].
chain_fixture() {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] = 1 2 0 0  0.5 -1 2 3  1 1 -2 0   0 4 0 0  -1 0.25 3 -3  2 2 1 1
dataset lengths int32 [2] = 3 2
EOF
}

@test "linear-chain by hand: each entry's best sequence, -inf for rows never read and for padding" {
	chain_fixture
	# element 0: sequences y0 y1 y2 and scores
	#   000: 1+0.5+1=2.5  001: 1+0.5+1=2.5  010: 1-1-2=-2  011: 1-1+0=0
	#   100: 2+2+1=5      101: 2+2+1=5      110: 2+3-2=3   111: 2+3+0=5
	# position 0, tag 0 (row 0): best 2.5; tag 1: 5
	# position 1: [0,0]: 2.5  [0,1]: 0  [1,0]: 5  [1,1]: 5
	# position 2: [0,0]: 5  [0,1]: 5  [1,0]: 3  [1,1]: 5
	# element 1 (length 2): 00: 0-1=-1  01: 0+0.25=0.25  10: 4+3=7  11: 4-3=1
	# position 0, tag 0: 0.25; tag 1: 7
	run synstruct max-marginals in.h5
	assert_success
	assert_line --index 0 '{"index":[0],"max_marginals":[[[2.5,5],["-inf","-inf"]],[[2.5,0],[5,5]],[[5,5],[3,5]]]}'
	assert_line --index 1 '{"index":[1],"max_marginals":[[[0.25,7],["-inf","-inf"]],[[-1,0.25],[7,1]],[["-inf","-inf"],["-inf","-inf"]]]}'
	# the largest is the argmax's score
	assert_equal "$(synstruct argmax in.h5 | jsonq - score | head -1)" 5
}

@test "HDF5 output: max_marginals in the event's shape and the input's type" {
	chain_fixture
	synstruct max-marginals -o m.h5 in.h5
	assert_equal "$(h5get -s m.h5 max_marginals)" "[2, 3, 2, 2]"$'\n'float64
	assert_equal "$(h5get -a m.h5 command)" max-marginals
}

@test "an element without a structure: -inf everywhere, a warning, exit 0" {
	mk dead.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [1, 2, 1, 1] = -inf 0
EOF
	run --separate-stderr synstruct max-marginals dead.h5
	assert_success
	assert_output '{"index":[0],"max_marginals":[[["-inf"]],[["-inf"]]]}'
	[[ $stderr == *"no structure for 1 of 1 element"* ]]
}

@test "spanning trees by hand, projective (Eisner's chart) and non-projective (forced arborescences)" {
	mk tree.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = 0 1 2  0 0 0.5  0 -1 0
EOF
	# projective trees of 3 nodes: 0->1 0->2 (3), 0->1 1->2 (1.5),
	# 0->2 2->1 (1); max-marginal of 0->1 is 3, of 1->2 1.5, of 2->1 1
	run synstruct max-marginals --projective tree.h5
	assert_output '{"index":[],"max_marginals":[["-inf",3,3],["-inf","-inf",1.5],["-inf",1,"-inf"]]}'
	# every tree of 3 nodes is projective: non-projective trees agree
	run synstruct max-marginals tree.h5
	assert_output '{"index":[],"max_marginals":[["-inf",3,3],["-inf","-inf",1.5],["-inf",1,"-inf"]]}'
	# 4 nodes, against every head vector that is a tree rooted at 0 (awk)
	mk t4.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [4, 4] = 0 1 2 -1  0 0 0.5 3  0 -2 0 1  0 1.5 0.25 0
EOF
	local want
	want=$(awk 'BEGIN {
		split("0 1 2 -1  0 0 0.5 3  0 -2 0 1  0 1.5 0.25 0", v, " ")
		for (i = 0; i < 16; i++) w[int(i / 4), i % 4] = v[i + 1]
		for (h = 0; h < 4; h++) for (d = 0; d < 4; d++) best[h, d] = "-inf"
		for (a = 0; a < 4; a++) for (b = 0; b < 4; b++) for (c = 0; c < 4; c++) {
			hd[1] = a; hd[2] = b; hd[3] = c; ok = 1
			for (d = 1; d < 4 && ok; d++) {
				if (hd[d] == d) ok = 0
				x = d; for (s = 0; s < 4 && x != 0; s++) x = hd[x]
				if (x != 0) ok = 0
			}
			if (!ok) continue
			sc = w[a, 1] + w[b, 2] + w[c, 3]
			for (d = 1; d < 4; d++)
				if (best[hd[d], d] == "-inf" || sc > best[hd[d], d]) best[hd[d], d] = sc
		}
		for (h = 0; h < 4; h++) for (d = 0; d < 4; d++) print best[h, d] }')
	synstruct max-marginals -o m.h5 t4.h5
	assert_equal "$(h5get m.h5 max_marginals | tr '\n' ' ')" "$(printf '%s\n' $want | tr '\n' ' ')"
}
