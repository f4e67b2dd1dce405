#!/usr/bin/env bats
# outputs.bats - JSON Lines and HDF5 output, standard input, atomic output,
# determinism (SPEC §2, §3, §4).

load common

# A batch of three with an element that has no structure (element 1: every
# tag of position 1 is -inf); NaN sits in rows that are ignored.
no_structure_fixture() {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 2, 2, 2] =
  0 0 0 0         0 0 0 0
  0 0 nan nan     -inf -inf -inf -inf
  1 2 3 4         0.5 0.25 -1 2
dataset lengths int32 [3] = 2 2 1
EOF
}

# ---- JSON Lines -------------------------------------------------------------------

@test "JSON Lines: valid, one object per element in batch order, with index" {
	examples
	local c
	for c in partition marginals argmax "sample -n 3" entropy; do
		# shellcheck disable=SC2086
		synstruct $c tagging.h5 > out.jsonl
		run jsonq -n out.jsonl
		assert_success
		assert_output 3
		run jsonq out.jsonl index
		assert_output "$(printf '[0]\n[1]\n[2]')"
	done
	synstruct argmax -o a.h5 tagging.h5
	synstruct log-prob tagging.h5 a.h5 > out.jsonl
	run jsonq out.jsonl index
	assert_output "$(printf '[0]\n[1]\n[2]')"
}

@test "JSON Lines: the members are the result names of SPEC §4" {
	examples
	run synstruct partition hmm.h5
	assert_line --index 0 --regexp '^\{"index":\[0\],"log_partition":-?[0-9.e-]+\}$'
	run synstruct entropy hmm.h5
	assert_line --index 0 --regexp '^\{"index":\[0\],"entropy":[0-9.e-]+\}$'
	run synstruct marginals hmm.h5
	assert_line --index 0 --regexp '^\{"index":\[0\],"marginals":\[\[\[.*\]\]\]\}$'
	run synstruct argmax hmm.h5
	assert_line --index 1 --regexp '^\{"index":\[1\],"score":-?[0-9.e-]+,"labels":\[1,1,1,0,-1,-1,-1\]\}$'
	run synstruct sample -n 2 hmm.h5
	assert_line --index 0 --regexp '^\{"index":\[0\],"log_prob":\[-?[0-9.e-]+,-?[0-9.e-]+\],"labels":\[\[[0-9,]+\],\[[0-9,]+\]\]\}$'
	run synstruct argmax --events hmm.h5
	assert_line --index 1 --regexp '^\{"index":\[1\],"argmax":\[\[\[.*\]\]\],"score":-?[0-9.e-]+,"labels":\[1,1,1,0,-1,-1,-1\]\}$'
	run synstruct sample -n 2 --events hmm.h5
	assert_line --index 0 --regexp '^\{"index":\[0\],"samples":\[\[\[\[.*\]\]\]\],"log_prob":\[-?[0-9.e-]+,-?[0-9.e-]+\],"labels":\[\[[0-9,]+\],\[[0-9,]+\]\]\}$'
}

@test "an element with no structure: -inf as \"-inf\", a warning naming it, exit 0" {
	no_structure_fixture
	run --separate-stderr synstruct partition in.h5
	assert_success
	assert_equal "$stderr" "synstruct: warning: 'in.h5': no structure for 1 of 3 elements: [1]"
	jsonq - <<<"$output"
	assert_line --index 0 '{"index":[0],"log_partition":1.3862943611198906}'
	assert_line --index 1 '{"index":[1],"log_partition":"-inf"}'
	assert_line --index 2 '{"index":[2],"log_partition":2.313261687518223}'
}

@test "an element with no structure: entropy \"nan\", empty argmax and samples, zero marginals" {
	no_structure_fixture
	run --separate-stderr synstruct entropy in.h5
	assert_success
	assert_equal "$stderr" "synstruct: warning: 'in.h5': no structure for 1 of 3 elements: [1]"
	assert_line --index 1 '{"index":[1],"entropy":"nan"}'
	run --separate-stderr synstruct argmax --events in.h5
	assert_success
	assert_equal "${#stderr_lines[@]}" 1
	assert_line --index 1 '{"index":[1],"argmax":[[[0,0],[0,0]],[[0,0],[0,0]]],"score":"-inf","labels":[-1,-1]}'
	run --separate-stderr synstruct marginals in.h5
	assert_success
	assert_line --index 1 '{"index":[1],"marginals":[[[0,0],[0,0]],[[0,0],[0,0]]]}'
	run --separate-stderr synstruct sample -n 2 --events in.h5
	assert_success
	assert_line --index 1 '{"index":[1],"samples":[[[[0,0],[0,0]],[[0,0],[0,0]]],[[[0,0],[0,0]],[[0,0],[0,0]]]],"log_prob":["-inf","-inf"],"labels":[[-1,-1],[-1,-1]]}'
	synstruct sample -n 2 -o s.h5 in.h5 2> /dev/null
	run h5get s.h5 log_prob
	assert_output "$(printf '%s\n' -1.3862943611198906 -inf -0.31326168751822303 -1.3862943611198906 -inf -1.313261687518223)"
}

@test "-q silences the warning and changes nothing else" {
	no_structure_fixture
	run --separate-stderr synstruct partition in.h5
	local want=$output
	run --separate-stderr synstruct partition -q in.h5
	assert_success
	assert_equal "$stderr" ""
	assert_output "$want"
	run --separate-stderr synstruct entropy --quiet in.h5
	assert_success
	assert_equal "$stderr" ""
}

@test "the warning names elements by their multi-index" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 1, 2, 2] =
  0 0 0 0   -inf -inf 0 0   0 0 0 0   0 0 0 0
dataset lengths int32 [2, 2] = 1 1 1 1
EOF
	run --separate-stderr synstruct partition in.h5
	assert_success
	assert_equal "$stderr" "synstruct: warning: 'in.h5': no structure for 1 of 4 elements: [0, 1]"
	assert_line --index 1 '{"index":[0,1],"log_partition":"-inf"}'
}

@test "-o x.jsonl and -o x.json write the JSON Lines of standard output" {
	examples
	run synstruct argmax hmm.h5
	local want=$output
	run --separate-stderr synstruct argmax -o x.jsonl hmm.h5
	assert_success
	assert_output ""
	assert_equal "$(cat x.jsonl)" "$want"
	synstruct argmax -o x.json hmm.h5
	cmp x.json x.jsonl
	synstruct argmax -o - hmm.h5 > y.jsonl
	cmp y.jsonl x.jsonl
	synstruct argmax -f jsonl -o z.h5 hmm.h5
	cmp z.h5 x.jsonl
}

# ---- HDF5 -------------------------------------------------------------------------

@test "HDF5 output: dataset names, shapes and types for every command" {
	examples
	# tagging.h5 is float32: real results are float32, decodes int32.
	synstruct partition -o p.h5 tagging.h5
	assert_equal "$(h5get -l p.h5)" "log_partition"
	assert_equal "$(h5get -s p.h5 log_partition)" "$(printf '[3]\nfloat32')"

	synstruct marginals -o m.h5 tagging.h5
	assert_equal "$(h5get -l m.h5)" "marginals"
	assert_equal "$(h5get -s m.h5 marginals)" "$(printf '[3, 6, 4, 4]\nfloat32')"

	synstruct argmax -o a.h5 tagging.h5
	assert_equal "$(h5get -l a.h5)" "$(printf 'labels\nscore')"
	assert_equal "$(h5get -s a.h5 score)" "$(printf '[3]\nfloat32')"
	assert_equal "$(h5get -s a.h5 labels)" "$(printf '[3, 6]\nint32')"
	synstruct argmax --events -o a.h5 tagging.h5
	assert_equal "$(h5get -l a.h5)" "$(printf 'argmax\nlabels\nscore')"
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[3, 6, 4, 4]\nuint8')"

	synstruct sample -n 5 -o s.h5 tagging.h5
	assert_equal "$(h5get -l s.h5)" "$(printf 'labels\nlog_prob')"
	assert_equal "$(h5get -s s.h5 log_prob)" "$(printf '[5, 3]\nfloat32')"
	assert_equal "$(h5get -s s.h5 labels)" "$(printf '[5, 3, 6]\nint32')"
	synstruct sample -n 5 --events -o se.h5 tagging.h5
	assert_equal "$(h5get -l se.h5)" "$(printf 'labels\nlog_prob\nsamples')"
	assert_equal "$(h5get -s se.h5 samples)" "$(printf '[5, 3, 6, 4, 4]\nuint8')"

	synstruct entropy -o e.h5 tagging.h5
	assert_equal "$(h5get -l e.h5)" "entropy"
	assert_equal "$(h5get -s e.h5 entropy)" "$(printf '[3]\nfloat32')"

	# log-prob reads the compact labels, or the dense samples.
	synstruct log-prob -o l.h5 tagging.h5 s.h5
	assert_equal "$(h5get -l l.h5)" "log_prob"
	assert_equal "$(h5get -s l.h5 log_prob)" "$(printf '[5, 3]\nfloat32')"
	synstruct log-prob -o le.h5 tagging.h5 se.h5
	assert_equal "$(h5get l.h5 log_prob)" "$(h5get le.h5 log_prob)"

	# hmm.h5 is float64: real results are float64.
	synstruct argmax -o h.h5 hmm.h5
	assert_equal "$(h5get -s h.h5 score)" "$(printf '[2]\nfloat64')"
	assert_equal "$(h5get -s h.h5 labels)" "$(printf '[2, 7]\nint32')"
	synstruct argmax --events -o h.h5 hmm.h5
	assert_equal "$(h5get -s h.h5 argmax)" "$(printf '[2, 7, 3, 3]\nuint8')"
}

@test "--dtype overrides the input's floating type; float32 results are the double results rounded" {
	examples
	synstruct partition --dtype float64 -o p64.h5 tagging.h5
	assert_equal "$(h5get -s p64.h5 log_partition)" "$(printf '[3]\nfloat64')"
	synstruct partition -o p32.h5 tagging.h5
	# each float32 value is the float64 value rounded to nearest
	paste <(h5get p64.h5 log_partition) <(h5get p32.h5 log_partition) |
		while read -r d f; do
			assert_equal "$(awk -v d="$d" 'BEGIN { printf "%.17g", d }' | float32_round)" "$f"
		done
	synstruct entropy --dtype float32 -o e.h5 hmm.h5
	assert_equal "$(h5get -s e.h5 entropy)" "$(printf '[2]\nfloat32')"
	# JSON Lines prints float32 results with the fewest digits of the float
	run synstruct partition tagging.h5
	assert_success
	local json
	json=$(member log_partition <<<"$output")
	assert_equal "$(float32_round <<<"$json")" "$(h5get p32.h5 log_partition)"
	[ "$(awk '{ print length($0) }' <<<"$json" | sort -n | tail -1)" -le 14 ]
	expect_usage "synstruct: error: '--dtype' needs float32 or float64, not 'half'; see 'synstruct partition --help'" partition --dtype half tagging.h5
}

@test "HDF5 output: root attributes structure, command and synstruct_version" {
	examples
	synstruct argmax -o a.h5 tagging.h5
	assert_equal "$(h5get -a a.h5 structure)" linear-chain
	assert_equal "$(h5get -a a.h5 command)" argmax
	assert_equal "$(h5get -a a.h5 synstruct_version)" 0.1.0
	synstruct argmax -o v.h5 hmm.h5
	synstruct log-prob -o l.h5 hmm.h5 v.h5
	assert_equal "$(h5get -a l.h5 structure)" hmm
	assert_equal "$(h5get -a l.h5 command)" log-prob
	synstruct sample -n 2 --seed 42 -o s.h5 hmm.h5
	assert_equal "$(h5get -a s.h5 command)" sample
	assert_equal "$(h5get -a s.h5 seed)" 42
	assert_equal "$(h5get -a s.h5 num_samples)" 2
}

@test "JSON and HDF5 hold the same values, to the last bit" {
	examples
	local c
	for c in partition marginals "argmax --events" entropy; do
		# shellcheck disable=SC2086
		synstruct $c -o "${c%% *}.h5" hmm.h5
		# shellcheck disable=SC2086
		synstruct $c hmm.h5 > "${c%% *}.jsonl"
	done
	assert_equal "$(member log_partition < partition.jsonl | num17)" "$(h5get partition.h5 log_partition)"
	assert_equal "$(member marginals < marginals.jsonl | flat | num17)" "$(h5get marginals.h5 marginals)"
	assert_equal "$(member score < argmax.jsonl | num17)" "$(h5get argmax.h5 score)"
	assert_equal "$(member labels < argmax.jsonl | flat)" "$(h5get argmax.h5 labels)"
	assert_equal "$(member argmax < argmax.jsonl | flat)" "$(h5get argmax.h5 argmax)"
	assert_equal "$(member entropy < entropy.jsonl | num17)" "$(h5get entropy.h5 entropy)"
	# samples: JSON holds [S] per element, HDF5 [S, B]: compare element-major.
	synstruct sample -n 3 --seed 5 -o s.h5 hmm.h5
	assert_equal "$(synstruct sample -n 3 --seed 5 hmm.h5 | member log_prob | flat | num17)" \
		"$(h5get s.h5 log_prob | awk '{ v[NR] = $0 } END { for (b = 1; b <= 2; b++) for (s = 0; s < 3; s++) print v[s * 2 + b] }')"
	# a value whose shortest form has 16 digits
	mk one.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [1, 1, 1] = 0.07477729912244711
EOF
	run synstruct partition one.h5
	assert_output '{"index":[],"log_partition":0.07477729912244711}'
	# -inf and nan too
	mk none.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 1, 1, 1] = 0.25 -inf
EOF
	synstruct entropy -q -o e.h5 none.h5
	assert_equal "$(synstruct entropy -q none.h5 | member entropy | flat)" "$(h5get e.h5 entropy)"
	assert_equal "$(h5get e.h5 entropy)" "$(printf '0\nnan')"
	synstruct sample -q -n 2 -o s.h5 none.h5
	assert_equal "$(synstruct sample -q -n 2 none.h5 | member log_prob | flat | num17)" "$(printf '0\n0\n-inf\n-inf')"
	assert_equal "$(h5get s.h5 log_prob)" "$(printf '0\n-inf\n0\n-inf')"
}

@test "JSON numbers round-trip: the shortest digits that read back" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [1, 1, 1] = 0.1
EOF
	run synstruct partition in.h5
	assert_output '{"index":[],"log_partition":0.1}'
}

@test "identical runs give identical HDF5 bytes, for every command" {
	examples
	local c k run
	for run in a b; do
		k=0
		for c in partition marginals argmax "sample -n 3 --seed 9" entropy; do
			# shellcheck disable=SC2086
			synstruct $c -o "$run$((++k)).h5" tagging.h5
		done
		synstruct log-prob -o "${run}6.h5" tagging.h5 a4.h5
		# object timestamps, were they on, would differ between a and b
		[ "$run" = b ] || sleep 1.1
	done
	for k in 1 2 3 4 5 6; do
		cmp "a$k.h5" "b$k.h5"
	done
}

@test "--format hdf5 -o - writes an HDF5 file image to standard output" {
	examples
	synstruct argmax -o file.h5 hmm.h5
	synstruct argmax --format hdf5 -o - hmm.h5 > image.h5
	assert_equal "$(head -c 4 image.h5 | od -An -c | tr -d ' ')" '211HDF'
	assert_equal "$(h5get -l image.h5)" "$(h5get -l file.h5)"
	local d
	for d in argmax score labels; do
		assert_equal "$(h5get -s image.h5 $d)" "$(h5get -s file.h5 $d)"
		assert_equal "$(h5get image.h5 $d)" "$(h5get file.h5 $d)"
	done
	assert_equal "$(h5get -a image.h5 command)" argmax
	# the image is a complete file: it is usable as events
	run synstruct log-prob hmm.h5 image.h5
	assert_success
	assert_equal "${#lines[@]}" 2
}

# ---- standard input ------------------------------------------------------------------

@test "standard input: 'synstruct partition - < in.h5' equals reading the file" {
	examples
	local c
	for c in partition argmax "sample -n 2 --seed 3"; do
		# shellcheck disable=SC2086
		run synstruct $c tagging.h5
		local want=$output
		# shellcheck disable=SC2086
		run --separate-stderr bash -c "synstruct $c - < tagging.h5"
		assert_success
		assert_equal "$stderr" ""
		assert_output "$want"
	done
	run synstruct partition hmm.h5
	local want=$output
	run bash -c 'cat hmm.h5 | synstruct partition -'
	assert_success
	assert_output "$want"
}

@test "standard input: errors name '-'" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 nan 0 0  0 0 0 0
EOF
	run -1 --separate-stderr bash -c 'synstruct partition - < in.h5'
	assert_output ""
	assert_equal "$stderr" "synstruct: error: '-': dataset 'log_potentials' holds NaN at [0, 0, 1]"
}

# ---- atomic output ---------------------------------------------------------------

@test "a run that fails in a later chunk leaves no output file, no temporary file and nothing on standard output" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [40, 2, 2, 2] fill 0
dataset lengths int32 [40] = 2 2 2 2 2 2 2 2 2 2  2 2 2 2 2 2 2 2 2 2
                             2 2 2 2 2 2 2 2 2 2  2 2 2 2 2 2 2 2 2 3
EOF
	mkdir out
	local o
	# --max-memory 2K: many chunks, the bad element in the last one
	for o in out/r.h5 out/r.jsonl -; do
		run -1 --separate-stderr synstruct partition --max-memory 2K -j 1 -o "$o" in.h5
		assert_equal "$stderr" "synstruct: error: 'in.h5': dataset 'lengths' holds 3, outside [0, 2] in batch element [39]"
		assert_output ""
	done
	assert_equal "$(ls -A out)" ""
}

@test "a failed run leaves an existing output file as it was" {
	examples
	mk bad.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 nan 0 0  0 0 0 0
EOF
	synstruct partition -o keep.h5 tagging.h5
	cp keep.h5 before.h5
	run -1 synstruct partition -o keep.h5 bad.h5
	cmp keep.h5 before.h5
	assert_equal "$(ls -A | sort | tr '\n' ' ')" "bad.h5 before.h5 hmm.h5 keep.h5 tagging.h5 "
}

@test "a successful run replaces an existing output file" {
	examples
	echo old > out.jsonl
	synstruct partition -o out.jsonl tagging.h5
	assert_equal "$(jsonq -n out.jsonl)" 3
	assert_equal "$(ls -A | sort | tr '\n' ' ')" "hmm.h5 out.jsonl tagging.h5 "
}

# ---- determinism -------------------------------------------------------------------

# 64 small elements of random potentials (float64, or the type $1 names)
# and lengths (0 .. 20), and a --max-memory of 200K that cuts them into
# several chunks.
many_fixture() {
	mk in.h5 <<EOF
attr structure string linear-chain
dataset log_potentials ${1:-float64} [64, 20, 8, 8] random 7 -3 3
dataset lengths int32 [64] random 8 0 21
EOF
}

@test "the same bytes at -j 1, -j 2, OMP_NUM_THREADS=1 and 2, and with --max-memory 200K, for every command" {
	many_fixture
	synstruct sample -n 2 --seed 3 -o ev.h5 in.h5
	local c
	for c in partition marginals argmax entropy "sample -n 3 --seed 11" "log-prob"; do
		local args=(in.h5)
		[ "$c" = log-prob ] && args=(in.h5 ev.h5)
		# shellcheck disable=SC2086
		{
			synstruct $c -j 1 -o j1.h5 "${args[@]}"
			synstruct $c -j 2 -o j2.h5 "${args[@]}"
			synstruct $c -j 2 --max-memory 200K -o m2.h5 "${args[@]}"
			OMP_NUM_THREADS=2 synstruct $c -o o2.h5 "${args[@]}"
			OMP_NUM_THREADS=1 synstruct $c "${args[@]}" > o1.jsonl
			OMP_NUM_THREADS=2 synstruct $c --max-memory 200K "${args[@]}" > o2.jsonl
		}
		cmp j1.h5 j2.h5
		cmp j1.h5 m2.h5
		cmp j1.h5 o2.h5
		cmp o1.jsonl o2.jsonl
	done
}

@test "SYNSTRUCT_IO_THREAD=1 (reads and writes beside the computation) gives the bytes of =0, for every command, HDF5 and JSON Lines" {
	many_fixture
	synstruct sample -n 2 --seed 3 -o ev.h5 in.h5
	synstruct argmax --events in.h5 > ev.jsonl
	local c
	for c in partition marginals argmax entropy count "sample -n 3 --seed 11" log-prob log-prob-jsonl kl; do
		local args=(in.h5) cmd=$c
		case $c in
		log-prob) args=(in.h5 ev.h5) ;;
		log-prob-jsonl) cmd=log-prob args=(in.h5 ev.jsonl) ;;
		kl) args=(in.h5 in.h5) ;;
		esac
		# shellcheck disable=SC2086
		{
			SYNSTRUCT_IO_THREAD=0 synstruct $cmd -j 1 --max-memory 200K -o t0.h5 "${args[@]}"
			SYNSTRUCT_IO_THREAD=1 synstruct $cmd -j 1 --max-memory 200K -o t1.h5 "${args[@]}"
			SYNSTRUCT_IO_THREAD=1 synstruct $cmd -j 2 --max-memory 200K -o t2.h5 "${args[@]}"
			SYNSTRUCT_IO_THREAD=0 synstruct $cmd -j 1 --max-memory 200K "${args[@]}" > t0.jsonl
			SYNSTRUCT_IO_THREAD=1 synstruct $cmd -j 2 --max-memory 200K "${args[@]}" > t1.jsonl
		}
		cmp t0.h5 t1.h5
		cmp t0.h5 t2.h5
		cmp t0.jsonl t1.jsonl
	done
}

@test "SYNSTRUCT_IO_THREAD=1: an error in a later chunk gives the message of =0 and leaves nothing" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [40, 2, 2, 2] fill 0
dataset lengths int32 [40] = 2 2 2 2 2 2 2 2 2 2  2 2 2 2 2 2 2 2 2 2
                             2 2 2 2 2 2 2 2 2 2  2 2 2 2 2 2 2 2 2 3
EOF
	mkdir out
	local o t
	for t in 0 1; do
		for o in out/r.h5 out/r.jsonl -; do
			# 4K: chunks of two elements, three in memory at once
			SYNSTRUCT_IO_THREAD=$t run -1 --separate-stderr synstruct partition --max-memory 4K -j 1 -o "$o" in.h5
			assert_equal "$stderr" "synstruct: error: 'in.h5': dataset 'lengths' holds 3, outside [0, 2] in batch element [39]"
			assert_output ""
		done
		# a JSON Lines stream whose last line is cut short: found by the read
		local k
		for k in $(seq 39); do
			echo '{"structure": "linear-chain", "log_potentials": [[[0, 1], [0, 0]]], "lengths": 1}'
		done > cut.jsonl
		echo '{"structure": "linear-chain", "log_potentials": [[[0, 1]' >> cut.jsonl
		SYNSTRUCT_IO_THREAD=$t run -1 --separate-stderr synstruct partition --max-memory 4K -j 1 -o out/r.h5 cut.jsonl
		assert_equal "$stderr" "synstruct: error: 'cut.jsonl': line 40 is not a JSON object"
	done
	assert_equal "$(ls -A out)" ""
}

@test "--max-memory 200K really splits the batch: a budget below one element fails" {
	many_fixture
	# One element is about 10 KiB of potentials: 200K holds a few dozen at
	# most with the outputs, 8K holds none.
	run -1 --separate-stderr synstruct marginals --max-memory 8K in.h5
	[[ $stderr == "synstruct: error: 'in.h5': one batch element needs "*", more than --max-memory (8.0 KiB)" ]]
	run --separate-stderr synstruct marginals --max-memory 200K in.h5
	assert_success
	assert_equal "${#lines[@]}" 64
}

@test "float32 results written in several chunks, with the I/O thread or without, are the float64 results rounded" {
	many_fixture float32
	local c name io
	for c in marginals entropy "sample -n 3 --seed 11" "partition --grad"; do
		# shellcheck disable=SC2086
		synstruct $c --dtype float64 --max-memory 200K -o d.h5 in.h5
		for io in 0 1; do
			# shellcheck disable=SC2086
			SYNSTRUCT_IO_THREAD=$io synstruct $c --max-memory 200K -o f.h5 in.h5
			for name in $(h5get -l f.h5); do
				[ "$(h5get -s f.h5 "$name" | tail -1)" = float32 ] || continue
				assert_equal "$(h5get f.h5 "$name")" "$(h5get d.h5 "$name" | float32_round)"
			done
		done
	done
}

@test "sampling: the same seed gives the same samples, different seeds differ" {
	many_fixture
	synstruct sample -n 4 --seed 1 -o a.h5 in.h5
	synstruct sample -n 4 --seed 1 -o b.h5 in.h5
	synstruct sample -n 4 --seed 2 -o c.h5 in.h5
	synstruct sample -n 4 -o d.h5 in.h5
	synstruct sample -n 4 --seed 0 -o e.h5 in.h5
	cmp a.h5 b.h5
	cmp d.h5 e.h5 # the default seed is 0
	[ "$(h5get a.h5 labels)" != "$(h5get c.h5 labels)" ]
	[ "$(h5get a.h5 labels)" != "$(h5get e.h5 labels)" ]
}

@test "sampling: more samples keep the first ones; other elements' potentials do not matter" {
	many_fixture
	synstruct sample -n 3 --seed 4 -o all.h5 in.h5
	synstruct sample -n 5 --seed 4 -o more.h5 in.h5
	assert_equal "$(h5get more.h5 labels | head -n $((3 * 64 * 20)))" "$(h5get all.h5 labels)"
	# element 0 changed, elements 1 .. 63 the same: their samples stay
	h5get in.h5 log_potentials | awk 'NR <= 1280 { print 0; next } { print }' | tr '\n' ' ' > values.txt
	printf 'attr structure string linear-chain\ndataset log_potentials float64 [64, 20, 8, 8] = %s\ndataset lengths int32 [64] = %s\n' \
		"$(cat values.txt)" "$(h5get in.h5 lengths | tr '\n' ' ')" | h5mk - other.h5
	synstruct sample -n 3 --seed 4 -o other.out.h5 other.h5
	# labels [3, 64, 20]: drop element 0 of each sample
	local keep='{ if (int((NR - 1) / 20) % 64 != 0) print }'
	assert_equal "$(h5get other.out.h5 labels | awk "$keep")" "$(h5get all.h5 labels | awk "$keep")"
	[ "$(h5get other.out.h5 labels | head -n 20)" != "$(h5get all.h5 labels | head -n 20)" ]
}

# ---- edge shapes -------------------------------------------------------------------

@test "zero batch elements: success, empty output" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [0, 3, 2, 2] nodata
EOF
	local c
	for c in partition marginals argmax sample entropy; do
		run --separate-stderr synstruct $c in.h5
		assert_success
		assert_output ""
		assert_equal "$stderr" ""
	done
	synstruct partition -o p.h5 in.h5
	assert_equal "$(h5get -s p.h5 log_partition)" "$(printf '[0]\nfloat64')"
	synstruct argmax --events -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[0, 3, 2, 2]\nuint8')"
	assert_equal "$(h5get -s a.h5 labels)" "$(printf '[0, 3]\nint32')"
	synstruct sample --events -n 2 -o s.h5 in.h5
	assert_equal "$(h5get -s s.h5 samples)" "$(printf '[2, 0, 3, 2, 2]\nuint8')"
	assert_equal "$(h5get -s s.h5 log_prob)" "$(printf '[2, 0]\nfloat64')"
	run --separate-stderr synstruct log-prob in.h5 s.h5
	assert_success
	assert_output ""
}

@test "no batch axes: scalar outputs and \"index\":[]" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 1 2 3  0.5 -0.5 1 0
EOF
	run synstruct partition in.h5
	assert_output --regexp '^\{"index":\[\],"log_partition":2\.514674965500975[0-9]*\}$'
	assert_close "$(jsonq - log_partition <<<"$output")" \
		"$(awk 'BEGIN { printf "%.17g", log(exp(0.5) + exp(-0.5) + exp(2) + exp(1)) }')"
	run synstruct argmax in.h5
	assert_output '{"index":[],"score":2,"labels":[1,0]}'
	run synstruct argmax --events in.h5
	assert_output '{"index":[],"argmax":[[[0,1],[0,0]],[[0,0],[1,0]]],"score":2,"labels":[1,0]}'
	synstruct partition -o p.h5 in.h5
	assert_equal "$(h5get -s p.h5 log_partition)" "$(printf '[]\nfloat64')"
	synstruct entropy -o e.h5 in.h5
	assert_equal "$(h5get -s e.h5 entropy)" "$(printf '[]\nfloat64')"
	synstruct argmax --events -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 score)" "$(printf '[]\nfloat64')"
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[2, 2, 2]\nuint8')"
	assert_equal "$(h5get -s a.h5 labels)" "$(printf '[2]\nint32')"
	synstruct sample --events -n 3 -o s.h5 in.h5
	assert_equal "$(h5get -s s.h5 samples)" "$(printf '[3, 2, 2, 2]\nuint8')"
	assert_equal "$(h5get -s s.h5 log_prob)" "$(printf '[3]\nfloat64')"
	run synstruct log-prob in.h5 s.h5
	assert_output --regexp '^\{"index":\[\],"log_prob":\[[^],]+,[^],]+,[^],]+\]\}$'
}

@test "JSON Lines: an event with an empty axis is nested lists of the right shape" {
	mk in.h5 <<'EOF2'
attr structure string linear-chain
dataset log_potentials float64 [3, 0, 0] nodata
EOF2
	run --separate-stderr synstruct argmax --events in.h5
	assert_success
	assert_output '{"index":[],"argmax":[[],[],[]],"score":"-inf","labels":[-1,-1,-1]}'
}
