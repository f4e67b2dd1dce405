#!/usr/bin/env bats
# --temperature T: every command acts on p_T(y) ∝ exp(score(y) / T). Checked
# against files whose potentials are the first file's divided by T (2: the
# halves are exact), so the outputs must be the same bytes.

load common

chain_files() {
	mk t1.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] = 1 2 0 0  0.5 -1 2 3  1 1 -2 0   0 4 0 0  -1 0.25 3 -3  2 2 1 1
dataset lengths int32 [2] = 3 2
EOF
	mk half.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] = 0.5 1 0 0  0.25 -0.5 1 1.5  0.5 0.5 -1 0   0 2 0 0  -0.5 0.125 1.5 -1.5  1 1 0.5 0.5
dataset lengths int32 [2] = 3 2
EOF
}

tree_files() {
	mk t1.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [4, 4] = 0 1 2 -1  0 0 0.5 3  0 -2 0 1  0 1.5 0.25 0
EOF
	mk half.h5 <<'EOF'
attr structure string spanning-tree
dataset log_potentials float64 [4, 4] = 0 0.5 1 -0.5  0 0 0.25 1.5  0 -1 0 0.5  0 0.75 0.125 0
EOF
}

same_for_every_command() {
	local c
	for c in partition marginals argmax entropy count "sample -n 3 --seed 4"; do
		# shellcheck disable=SC2086
		{
			synstruct $c --temperature 2 "$@" t1.h5 > a.jsonl
			synstruct $c "$@" half.h5 > b.jsonl
		}
		cmp a.jsonl b.jsonl || fail "$c $*: --temperature 2 differs from the halved potentials"
	done
	synstruct argmax -o best.h5 "$@" half.h5
	synstruct log-prob --temperature 2 "$@" t1.h5 best.h5 > a.jsonl
	synstruct log-prob "$@" half.h5 best.h5 > b.jsonl
	cmp a.jsonl b.jsonl
	# kl and cross-entropy: P and Q both tempered
	synstruct kl --temperature 2 "$@" t1.h5 t1.h5 > a.jsonl
	synstruct kl "$@" half.h5 half.h5 > b.jsonl
	cmp a.jsonl b.jsonl
	synstruct cross-entropy --temperature 2 "$@" t1.h5 t1.h5 > a.jsonl
	synstruct cross-entropy "$@" half.h5 half.h5 > b.jsonl
	cmp a.jsonl b.jsonl
	run synstruct kl --temperature 2 "$@" t1.h5 t1.h5
	assert_output --partial '"kl":0'
}

@test "--temperature 2 gives the bytes of the potentials halved: linear-chain, every command" {
	chain_files
	same_for_every_command
}

@test "--temperature 2 gives the bytes of the potentials halved: spanning trees, non-projective (Matrix-Tree) and projective" {
	tree_files
	same_for_every_command
	same_for_every_command --projective
	same_for_every_command --single-root
}

@test "--temperature is recorded in HDF5 outputs; count does not depend on it" {
	chain_files
	synstruct partition --temperature 0.5 -o t.h5 t1.h5
	assert_equal "$(h5get -a t.h5 temperature)" 0.5
	synstruct partition -o one.h5 t1.h5
	run h5get -a one.h5 temperature
	assert_failure
	assert_equal "$(synstruct count --temperature 7 t1.h5)" "$(synstruct count t1.h5)"
}

@test "--temperature must be a positive finite number (exit 2)" {
	chain_files
	local t
	for t in 0 -1 inf nan abc 1x ""; do
		run --separate-stderr synstruct partition --temperature "$t" t1.h5
		assert_equal "$status" 2
		assert_equal "$stderr" "synstruct: error: '--temperature' needs a positive finite number, not '$t'; see 'synstruct partition --help'"
	done
}

@test "--temperature: a potential that overflows when divided by T is bad input (exit 1); a subnormal T is a temperature" {
	mk ov.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [1, 2, 2, 2] = 200 1 0 0  1 2 3 4
EOF
	local c
	for c in partition marginals argmax count "top-k -k 2"; do
		# shellcheck disable=SC2086
		run --separate-stderr synstruct $c --temperature 1e-306 ov.h5
		assert_failure 1
		assert_equal "$stderr" "synstruct: error: 'ov.h5': a potential of 200 divided by the temperature 1e-306 overflows in batch element [0]"
	done
	mk zero.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] fill 0
EOF
	run synstruct partition --temperature 1e-308 zero.h5
	assert_success
	assert_output '{"index":[],"log_partition":1.3862943611198906}'
}
