#!/usr/bin/env bats
# info: what a file holds and whether it is valid, without computing.

load common

@test "info describes the bundled examples: structure, batch, sizes, datasets and their types" {
	examples
	run synstruct info tagging.h5
	assert_success
	assert_output '{"file":"tagging.h5","structure":"linear-chain","options":{},"batch_shape":[3],"elements":3,"sizes":{"n":6,"t":4},"datasets":{"log_potentials":{"shape":[3,6,4,4],"type":"float32"},"lengths":{"shape":[3],"type":"int32"}},"valid":true}'
	run synstruct info hmm.h5
	assert_output --partial '"structure":"hmm"'
	assert_output --partial '"emission_logits":{"shape":[3,5],"type":"float64"}'
}

@test "info: options with their values, an enum by name; JSON Lines input" {
	mk t.h5 <<'EOF'
attr structure string spanning-tree
attr projective bool true
dataset log_potentials float32 [2, 3, 3] fill 0
EOF
	run synstruct info --undirected t.h5
	assert_output --partial '"options":{"directed":0,"projective":1,"single_root_edge":0}'
	mk a.h5 <<'EOF'
attr structure string alignment
attr alignment_type string monotone_one_to_many
dataset log_potentials float64 [2, 3] fill 0
EOF
	run synstruct info a.h5
	assert_output --partial '"options":{"alignment_type":"monotone-one-to-many"}'
	echo '{"structure": "linear-chain", "log_potentials": [[[0, 1], [0, 0]]], "lengths": 1}' > in.jsonl
	run synstruct info in.jsonl
	assert_output --partial '"datasets":{"log_potentials":{"shape":[1,1,2,2],"type":"json"}'
}

@test "info of an invalid input: the error every command gives, exit 1, nothing written" {
	mk bad.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 2, 2, 2] fill 0
dataset lengths int32 [3] = 2 2 3
EOF
	run --separate-stderr synstruct info -o out.json bad.h5
	assert_failure 1
	assert_equal "$stderr" "synstruct: error: 'bad.h5': dataset 'lengths' holds 3, outside [0, 2] in batch element [2]"
	assert [ ! -e out.json ]
	run --separate-stderr synstruct info -o out.h5 bad.h5
	assert_failure 2
}
