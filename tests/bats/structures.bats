#!/usr/bin/env bats
# structures.bats - linear-chain and hmm through the command line (SPEC §1-§4):
# batch axes, padding, broadcasting, input types, and identities that pin the
# numbers down (hand-computed cases, HMM = the chain it builds, log-prob =
# score - log Z).

load common

# element_file OUT K SIZE SHAPE LENGTH: writes OUT, a linear-chain input of
# shape SHAPE holding values K*SIZE+1 .. (K+1)*SIZE of lp.txt (one value a
# line, as h5get prints them) and the scalar length LENGTH.
element_file() {
	local values
	values=$(sed -n "$(($2 * $3 + 1)),$((($2 + 1) * $3))p" lp.txt | tr '\n' ' ')
	printf 'attr structure string linear-chain\ndataset log_potentials float64 %s = %s\ndataset lengths int64 [] = %s\n' \
		"$4" "$values" "$5" | h5mk - "$1"
}

# ---- batch axes ---------------------------------------------------------------------

@test "batch axes [2, 3, n, t, t]: a two-entry index in row-major order" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 3, 2, 2] random 5 -1 1
dataset lengths int64 [2, 3] = 3 2 1 0 3 2
EOF
	local c
	for c in partition marginals argmax "sample -n 2" entropy; do
		# shellcheck disable=SC2086
		run synstruct $c in.h5
		assert_success
		assert_equal "$(jsonq - index <<<"$output" | tr '\n' ' ')" "[0,0] [0,1] [0,2] [1,0] [1,1] [1,2] "
	done
	synstruct argmax -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 labels)" "$(printf '[2, 3, 3]\nint32')"
	# lengths 3 2 1 / 0 3 2: element k holds lines 3k+1 .. 3k+3
	assert_equal "$(h5get a.h5 labels | sed -n '6p;8,12p;18p' | tr '\n' ' ')" "-1 -1 -1 -1 -1 -1 -1 "
	[[ "$(h5get a.h5 labels | sed -n '1,5p;7p;13,17p' | tr '\n' ' ')" =~ ^([01]\ ){11}$ ]]
	synstruct sample --events -n 4 -o s.h5 in.h5
	assert_equal "$(h5get -s s.h5 samples)" "$(printf '[4, 2, 3, 3, 2, 2]\nuint8')"
	assert_equal "$(h5get -s s.h5 log_prob)" "$(printf '[4, 2, 3]\nfloat64')"
}

@test "a batch computed at once equals each element computed alone" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 3, 2, 2] random 5 -1 1
dataset lengths int64 [2, 3] = 3 2 1 0 3 2
EOF
	h5get in.h5 log_potentials > lp.txt
	synstruct partition in.h5 > z.jsonl
	synstruct marginals in.h5 > m.jsonl
	local k lengths=(3 2 1 0 3 2)
	for k in 0 1 2 3 4 5; do
		element_file "e$k.h5" "$k" 12 "[3, 2, 2]" "${lengths[k]}"
		assert_close "$(synstruct partition "e$k.h5" | member log_partition)" \
			"$(sed -n "$((k + 1))p" z.jsonl | member log_partition)"
		assert_close_lists "$(synstruct marginals "e$k.h5" | member marginals)" \
			"$(sed -n "$((k + 1))p" m.jsonl | member marginals)"
	done
}

@test "broadcasting: lengths with fewer batch axes, of size 1 along an axis, or scalar" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 4, 3, 3] random 9 -2 2
dataset lengths int32 [3] = 4 0 2
EOF
	h5get in.h5 log_potentials > lp.txt
	run synstruct partition in.h5
	assert_success
	assert_equal "$(jsonq - index <<<"$output" | tr '\n' ' ')" "[0,0] [0,1] [0,2] [1,0] [1,1] [1,2] "
	local i j lengths=(4 0 2)
	for i in 0 1; do
		for j in 0 1 2; do
			element_file e.h5 $((i * 3 + j)) 36 "[4, 3, 3]" "${lengths[j]}"
			assert_close "$(synstruct partition e.h5 | member log_partition)" \
				"$(member log_partition <<<"${lines[i * 3 + j]}")"
		done
	done
	assert_equal "$(member log_partition <<<"${lines[4]}")" 0
	# lengths [2, 1]: one length per row of the batch
	mk col.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 4, 3, 3] random 9 -2 2
dataset lengths int64 [2, 1] = 3 1
EOF
	run synstruct partition col.h5
	assert_success
	assert_equal "${#lines[@]}" 6
	for i in 0 1; do
		for j in 0 1 2; do
			element_file e.h5 $((i * 3 + j)) 36 "[4, 3, 3]" $((i ? 1 : 3))
			assert_close "$(synstruct partition e.h5 | member log_partition)" \
				"$(member log_partition <<<"${lines[i * 3 + j]}")"
		done
	done
	# a scalar length for the whole batch
	mk scalar.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 4, 3, 3] random 9 -2 2
dataset lengths int32 [] = 2
EOF
	run synstruct partition scalar.h5
	assert_success
	assert_equal "${#lines[@]}" 6
	element_file e.h5 5 36 "[4, 3, 3]" 2
	assert_close "$(synstruct partition e.h5 | member log_partition)" "$(member log_partition <<<"${lines[5]}")"
}

@test "broadcasting: log_potentials [2, 1, n, t, t] with lengths [2, 1] give a [2, 1] batch" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 1, 3, 2, 2] random 11 -2 2
dataset lengths int32 [2, 1] = 1 3
EOF
	h5get in.h5 log_potentials > lp.txt
	run synstruct partition in.h5
	assert_success
	assert_equal "$(jsonq - index <<<"$output" | tr '\n' ' ')" "[0,0] [1,0] "
	local i lengths=(1 3)
	for i in 0 1; do
		element_file "e$i.h5" "$i" 12 "[3, 2, 2]" "${lengths[i]}"
		assert_close "$(synstruct partition "e$i.h5" | member log_partition)" \
			"$(member log_partition <<<"${lines[i]}")"
	done
	synstruct marginals -o m.h5 in.h5
	assert_equal "$(h5get -s m.h5 marginals | head -n 1)" '[2, 1, 3, 2, 2]'
}

# ---- padding ---------------------------------------------------------------------

@test "padding: labels -1, zero marginals, zero argmax and samples past the length" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 4, 3, 3] random 13 -2 2
dataset lengths int32 [2] = 4 2
EOF
	local zero='[[0,0,0],[0,0,0],[0,0,0]]'
	run synstruct argmax --events in.h5
	assert_equal "$(jsonq - labels <<<"${lines[1]}" | cut -d, -f3-)" "-1,-1]"
	assert_equal "$(jsonq - argmax.2 <<<"${lines[1]}")" "$zero"
	assert_equal "$(jsonq - argmax.3 <<<"${lines[1]}")" "$zero"
	[[ $(jsonq - labels <<<"${lines[0]}") =~ ^\[[0-2],[0-2],[0-2],[0-2]\]$ ]]
	run synstruct marginals in.h5
	assert_equal "$(jsonq - marginals.2 <<<"${lines[1]}")" "$zero"
	assert_equal "$(jsonq - marginals.3 <<<"${lines[1]}")" "$zero"
	# at i = 0 only row 0 (the virtual start) is used
	assert_equal "$(jsonq - marginals.0.1 <<<"${lines[0]}")" "[0,0,0]"
	assert_equal "$(jsonq - marginals.0.2 <<<"${lines[0]}")" "[0,0,0]"
	run synstruct sample --events -n 3 --seed 2 in.h5
	local s
	for s in 0 1 2; do
		assert_equal "$(jsonq - "samples.$s.2" <<<"${lines[1]}")" "$zero"
		assert_equal "$(jsonq - "samples.$s.3" <<<"${lines[1]}")" "$zero"
		assert_equal "$(jsonq - "labels.$s" <<<"${lines[1]}" | cut -d, -f3-)" "-1,-1]"
	done
}

@test "marginals of each used position sum to 1 (to 1e-6: tagging.h5 is float32, computed by float kernels)" {
	examples
	synstruct marginals --dtype float64 -o m.h5 tagging.h5
	# tagging.h5: [3, 6, 4, 4], lengths 6 4 5
	h5get m.h5 marginals | awk '
		{ b = int((NR - 1) / 96); i = int((NR - 1) % 96 / 16); s[b, i] += $1 }
		END {
			split("6 4 5", len, " ")
			for (b = 0; b < 3; b++)
				for (i = 0; i < 6; i++) {
					want = i < len[b + 1] ? 1 : 0
					d = s[b, i] - want
					if (d > 1e-6 || d < -1e-6) { print "element " b " position " i ": " s[b, i]; bad = 1 }
				}
			exit bad
		}'
}

@test "length 0: log Z 0, entropy 0, an empty argmax with score 0, no warning" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [1, 2, 2, 2] random 3 -1 1
dataset lengths int32 [1] = 0
EOF
	run --separate-stderr synstruct partition in.h5
	assert_equal "$stderr" ""
	assert_output '{"index":[0],"log_partition":0}'
	run --separate-stderr synstruct entropy in.h5
	assert_output '{"index":[0],"entropy":0}'
	run --separate-stderr synstruct argmax --events in.h5
	assert_equal "$stderr" ""
	assert_output '{"index":[0],"argmax":[[[0,0],[0,0]],[[0,0],[0,0]]],"score":0,"labels":[-1,-1]}'
	run --separate-stderr synstruct sample --events -n 1 in.h5
	assert_output '{"index":[0],"samples":[[[[0,0],[0,0]],[[0,0],[0,0]]]],"log_prob":[0],"labels":[[-1,-1]]}'
	synstruct argmax -o a.h5 in.h5
	run synstruct log-prob in.h5 a.h5
	assert_output '{"index":[0],"log_prob":0}'
}

# ---- input types -------------------------------------------------------------------

@test "float32 and float64 inputs agree to 1e-5 (SPEC §5: float32 inputs run float kernels)" {
	local ty
	for ty in float32 float64 float32be; do
		mk "d_$ty.h5" <<EOF
attr structure string linear-chain
dataset log_potentials $ty [2, 3, 2, 2] = 0.125 -1.5 2.25 0.75   -0.5 1.875 3 -2.125   1 0.25 -0.375 4
                                          0.5 0.625 -3.25 1.5    2 -0.75 0.0625 1.25    -1 2.5 0.875 -0.25
dataset lengths int32 [2] = 3 2
EOF
		mk "g_$ty.h5" <<EOF
attr structure string linear-chain
dataset log_potentials $ty [2, 3, 2, 2] = 0.1 0.2 0.3 0.4  -1.5 2.25 0.7 -0.3  1.1 -2.2 3.3 0.01
                                          0.5 0.6 0.7 0.8  1.9 -0.1 0.3 0.33  -0.7 0.9 1.3 2.1
dataset lengths int32 [2] = 3 2
EOF
	done
	local c f tol
	for c in partition marginals entropy; do
		for f in d g; do
			tol=1e-5
			assert_close_lists "$(synstruct $c --dtype float64 ${f}_float32.h5 | member "$(result $c)")" \
				"$(synstruct $c ${f}_float64.h5 | member "$(result $c)")" $tol
		done
	done
	synstruct marginals -o a.h5 d_float32.h5
	synstruct marginals -o b.h5 d_float32be.h5
	cmp a.h5 b.h5
	assert_equal "$(synstruct argmax g_float32.h5 | member labels)" "$(synstruct argmax g_float64.h5 | member labels)"
}

@test "int32, int64 and big-endian lengths and observations give the same bytes" {
	local ty
	for ty in int32 int64 int32be int64be; do
		mk "l_$ty.h5" <<EOF
attr structure string linear-chain
dataset log_potentials float64 [3, 4, 2, 2] random 21 -2 2
dataset lengths $ty [3] = 4 2 0
EOF
		mk "h_$ty.h5" <<EOF
attr structure string hmm
dataset init_logits float64 [2] = 0.5 -0.5
dataset transition_logits float64 [2, 2] = 1 -1 0.25 0.5
dataset emission_logits float64 [2, 3] = 0 1 2 2 1 0
dataset observations $ty [2, 3] = 0 2 1  1 -1 -1
dataset lengths $ty [2] = 3 1
EOF
	done
	for ty in int64 int32be int64be; do
		synstruct argmax -o a.h5 l_int32.h5
		synstruct argmax -o b.h5 "l_$ty.h5"
		cmp a.h5 b.h5
		synstruct marginals -o a.h5 h_int32.h5
		synstruct marginals -o b.h5 "h_$ty.h5"
		cmp a.h5 b.h5
	done
}

# ---- hmm ----------------------------------------------------------------------------

@test "hmm: shared parameters [t], [t, t], [t, V] equal the parameters repeated per element" {
	mk shared.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3] = 0.5 -0.25 0
dataset transition_logits float64 [3, 3] = 1 -0.5 -1  -0.5 1.25 -0.75  0 -1.5 0.75
dataset emission_logits float64 [3, 4] = 1.5 0.25 -1 -0.5  -1 1 0.5 -0.25  0 -0.75 -0.5 1.25
dataset observations int64 [2, 4] = 0 1 3 2   3 3 -1 -1
dataset lengths int32 [2] = 4 2
EOF
	mk repeated.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2, 3] = 0.5 -0.25 0  0.5 -0.25 0
dataset transition_logits float64 [2, 3, 3] = 1 -0.5 -1  -0.5 1.25 -0.75  0 -1.5 0.75
                                              1 -0.5 -1  -0.5 1.25 -0.75  0 -1.5 0.75
dataset emission_logits float64 [2, 3, 4] = 1.5 0.25 -1 -0.5  -1 1 0.5 -0.25  0 -0.75 -0.5 1.25
                                            1.5 0.25 -1 -0.5  -1 1 0.5 -0.25  0 -0.75 -0.5 1.25
dataset observations int64 [2, 4] = 0 1 3 2   3 3 -1 -1
dataset lengths int32 [2] = 4 2
EOF
	local c
	for c in partition marginals argmax entropy "sample -n 3 --seed 5"; do
		# shellcheck disable=SC2086
		synstruct $c -o a.h5 shared.h5
		# shellcheck disable=SC2086
		synstruct $c -o b.h5 repeated.h5
		cmp a.h5 b.h5
	done
	synstruct log-prob -o c.h5 shared.h5 a.h5
	synstruct log-prob -o d.h5 repeated.h5 a.h5
	cmp c.h5 d.h5
}

@test "hmm: a 2-state HMM of length 1 has log Z = log sum_c pi[c] E[c, x0]" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] = 0.3 -0.7
dataset transition_logits float64 [2, 2] = 1 2 3 4
dataset emission_logits float64 [2, 3] = 0.1 0.2 0.3  -1 0 1
dataset observations int32 [1] = 2
EOF
	local want
	want=$(awk 'BEGIN {
		z = exp(0.3) + exp(-0.7)
		e0 = exp(0.3) / (exp(0.1) + exp(0.2) + exp(0.3))
		e1 = exp(1) / (exp(-1) + exp(0) + exp(1))
		printf "%.17g", log(exp(0.3) / z * e0 + exp(-0.7) / z * e1) }')
	run synstruct partition in.h5
	assert_close "$(member log_partition <<<"$output")" "$want"
}

@test "hmm: t = 1 has log Z = sum_i log E[0, x_i]" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [1] = 0.7
dataset transition_logits float64 [1, 1] = -2
dataset emission_logits float64 [1, 3] = 1 2 3
dataset observations int32 [2, 4] = 0 2 1 2  1 1 -1 -1
dataset lengths int32 [2] = 4 2
EOF
	run synstruct partition in.h5
	local l
	l=$(awk 'BEGIN { printf "%.17g", log(exp(1) + exp(2) + exp(3)) }')
	assert_close "$(member log_partition <<<"${lines[0]}")" "$(awk -v l="$l" 'BEGIN { printf "%.17g", 1 + 3 + 2 + 3 - 4 * l }')"
	assert_close "$(member log_partition <<<"${lines[1]}")" "$(awk -v l="$l" 'BEGIN { printf "%.17g", 2 + 2 - 2 * l }')"
}

@test "hmm: emission_scores are used as given" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] = 0 0
dataset transition_logits float64 [2, 2] = 0 0 0 0
dataset emission_scores float64 [2, 3, 2] = 0.5 -1  2 0.25  nan inf
                                             1 2  nan nan  inf inf
dataset lengths int64 [2] = 2 1
EOF
	run --separate-stderr synstruct partition in.h5
	assert_success
	# uniform init and transitions: log Z = sum_i logsumexp_c s[i, c] - L log 2
	assert_close "$(member log_partition <<<"${lines[0]}")" \
		"$(awk 'BEGIN { printf "%.17g", log(exp(0.5) + exp(-1)) + log(exp(2) + exp(0.25)) - 2 * log(2) }')"
	assert_close "$(member log_partition <<<"${lines[1]}")" \
		"$(awk 'BEGIN { printf "%.17g", log(exp(1) + exp(2)) - log(2) }')"
	run synstruct argmax in.h5
	assert_equal "$(member labels <<<"${lines[0]}")" "[0,0,-1]"
	assert_equal "$(member labels <<<"${lines[1]}")" "[1,-1,-1]"
}

@test "hmm: logits are log-softmax normalised (adding a constant to a row changes nothing)" {
	mk a.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3] = 0.5 -0.25 0
dataset transition_logits float64 [3, 3] = 1 -0.5 -1  -0.5 1.25 -0.75  0 -1.5 0.75
dataset emission_logits float64 [3, 4] = 1.5 0.25 -1 -0.5  -1 1 0.5 -0.25  0 -0.75 -0.5 1.25
dataset observations int32 [5] = 0 1 3 2 3
EOF
	mk b.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3] = 10.5 9.75 10
dataset transition_logits float64 [3, 3] = -2 -3.5 -4  -0.5 1.25 -0.75  7 5.5 7.75
dataset emission_logits float64 [3, 4] = 1.5 0.25 -1 -0.5  99 101 100.5 99.75  -5 -5.75 -5.5 -3.75
dataset observations int32 [5] = 0 1 3 2 3
EOF
	local c
	for c in partition marginals entropy; do
		assert_close_lists "$(synstruct $c a.h5 | member "$(result $c)")" "$(synstruct $c b.h5 | member "$(result $c)")" 1e-10
	done
	assert_equal "$(synstruct argmax a.h5 | member labels)" "$(synstruct argmax b.h5 | member labels)"
}

@test "hmm equals the linear chain it builds" {
	# pi, T, E and the observations, then theta computed independently:
	# theta[0, 0, c] = log pi[c] + log E[c, x0], rows a > 0 ignored (-inf),
	# theta[i, a, c] = log T[a, c] + log E[c, x_i], all normalised.
	mk hmm.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2] = 0.4 -0.3
dataset transition_logits float64 [2, 2] = 0.2 -1.1  0.9 0.1
dataset emission_logits float64 [2, 3] = 0.5 -0.5 1.5  -1 0.75 0.25
dataset observations int32 [3] = 2 0 1
EOF
	awk 'BEGIN {
		pi[0] = 0.4; pi[1] = -0.3
		T[0,0] = 0.2; T[0,1] = -1.1; T[1,0] = 0.9; T[1,1] = 0.1
		E[0,0] = 0.5; E[0,1] = -0.5; E[0,2] = 1.5; E[1,0] = -1; E[1,1] = 0.75; E[1,2] = 0.25
		x[0] = 2; x[1] = 0; x[2] = 1
		zp = log(exp(pi[0]) + exp(pi[1]))
		for (a = 0; a < 2; a++) {
			zt[a] = log(exp(T[a,0]) + exp(T[a,1]))
			ze[a] = log(exp(E[a,0]) + exp(E[a,1]) + exp(E[a,2]))
		}
		printf "attr structure string linear-chain\ndataset log_potentials float64 [3, 2, 2] ="
		for (i = 0; i < 3; i++)
			for (a = 0; a < 2; a++)
				for (c = 0; c < 2; c++) {
					e = E[c, x[i]] - ze[c]
					if (i == 0) v = a == 0 ? sprintf("%.17g", pi[c] - zp + e) : "-inf"
					else v = sprintf("%.17g", T[a,c] - zt[a] + e)
					printf " %s", v
				}
		printf "\n"
	}' | h5mk - chain.h5
	local c
	for c in partition entropy; do
		assert_close "$(synstruct $c hmm.h5 | member "$(result $c)")" "$(synstruct $c chain.h5 | member "$(result $c)")"
	done
	assert_close_lists "$(synstruct marginals hmm.h5 | member marginals)" "$(synstruct marginals chain.h5 | member marginals)"
	assert_equal "$(synstruct argmax hmm.h5 | member labels)" "$(synstruct argmax chain.h5 | member labels)"
	assert_close "$(synstruct argmax hmm.h5 | member score)" "$(synstruct argmax chain.h5 | member score)"
	# the same seed draws the same samples from the two
	assert_equal "$(synstruct sample -n 5 --seed 3 hmm.h5 | member labels)" "$(synstruct sample -n 5 --seed 3 chain.h5 | member labels)"
}

# ---- linear-chain identities --------------------------------------------------------

@test "linear-chain with t = 1: log Z is the sum of the start and transition scores, exactly" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 4, 1, 1] = 0.5 0.25 -1.5 2   1 2 3 4
dataset lengths int32 [2] = 4 2
EOF
	run synstruct partition in.h5
	assert_output "$(printf '%s\n' '{"index":[0],"log_partition":1.25}' '{"index":[1],"log_partition":3}')"
	run synstruct entropy in.h5
	assert_output "$(printf '%s\n' '{"index":[0],"entropy":0}' '{"index":[1],"entropy":0}')"
	run synstruct marginals in.h5
	assert_line --index 1 '{"index":[1],"marginals":[[[1]],[[1]],[[0]],[[0]]]}'
	run synstruct argmax --events in.h5
	assert_line --index 0 '{"index":[0],"argmax":[[[1]],[[1]],[[1]],[[1]]],"score":1.25,"labels":[0,0,0,0]}'
}

@test "linear-chain: a hand-computable case of two positions and two tags" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 1 7 9  0.5 -0.5 1 0
EOF
	# start scores [0, 1] (row 1 of position 0 ignored); paths
	# 00: 0 + 0.5, 01: 0 - 0.5, 10: 1 + 1, 11: 1 + 0
	local z
	z=$(awk 'BEGIN { printf "%.17g", log(exp(0.5) + exp(-0.5) + exp(2) + exp(1)) }')
	assert_close "$(synstruct partition in.h5 | member log_partition)" "$z"
	assert_close_lists "$(synstruct marginals in.h5 | member marginals)" \
		"$(awk -v z="$z" 'BEGIN {
			p00 = exp(0.5 - z); p01 = exp(-0.5 - z); p10 = exp(2 - z); p11 = exp(1 - z)
			printf "%.17g %.17g 0 0 %.17g %.17g %.17g %.17g", p00 + p01, p10 + p11, p00, p01, p10, p11 }')"
	assert_close "$(synstruct entropy in.h5 | member entropy)" \
		"$(awk -v z="$z" 'BEGIN { split("0.5 -0.5 2 1", s, " "); for (k = 1; k <= 4; k++) { p = exp(s[k] - z); h -= p * log(p) } printf "%.17g", h }')"
	run synstruct argmax --events in.h5
	assert_output '{"index":[],"argmax":[[[0,1],[0,0]],[[0,0],[1,0]]],"score":2,"labels":[1,0]}'
}

@test "linear-chain: potentials around 1e4 and -1e4 stay accurate" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] fill 10000
EOF
	mk neg.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [3, 2, 2] fill -10000
EOF
	# 2^3 paths, each scoring 3e4
	assert_close "$(synstruct partition in.h5 | member log_partition | sed -n 1p)" \
		"$(awk 'BEGIN { printf "%.17g", 30000 + 3 * log(2) }')"
	assert_close "$(synstruct partition neg.h5 | member log_partition)" \
		"$(awk 'BEGIN { printf "%.17g", -30000 + 3 * log(2) }')"
	assert_close "$(synstruct entropy neg.h5 | member entropy)" "$(awk 'BEGIN { printf "%.17g", 3 * log(2) }')" 1e-9
	assert_close_lists "$(synstruct marginals neg.h5 | member marginals)" \
		"[[[0.5,0.5],[0,0]],[[0.25,0.25],[0.25,0.25]],[[0.25,0.25],[0.25,0.25]]]" 1e-9
}

@test "argmax score is the sum of the potentials along its labels; entropy = log Z - sum mu theta (1e-6: float32 input)" {
	examples
	h5get tagging.h5 log_potentials > lp.txt
	# results in float64, to compare them to 1e-9
	synstruct argmax --dtype float64 -o a.h5 tagging.h5
	synstruct marginals --dtype float64 -o m.h5 tagging.h5
	synstruct partition --dtype float64 -o z.h5 tagging.h5
	synstruct entropy --dtype float64 -o e.h5 tagging.h5
	# score: theta[b, i, y[i-1], y[i]] with y[-1] = 0, over i < len
	h5get a.h5 labels | paste -d' ' - - - - - - > labels.txt
	run awk '
		FILENAME == "lp.txt" { th[FNR - 1] = $1; next }
		FILENAME == "labels.txt" { b = FNR - 1; prev = 0; s = 0
			for (i = 0; i < 6; i++) { y = $(i + 1); if (y < 0) break
				s += th[b * 96 + i * 16 + prev * 4 + y]; prev = y }
			printf "%.17g\n", s }' lp.txt labels.txt
	assert_close_lists "$output" "$(h5get a.h5 score)" 1e-9
	# entropy from log Z and the marginals (float32 potentials, read as doubles)
	run awk '
		FILENAME == "lp.txt" { th[FNR - 1] = $1; next }
		FILENAME == "-" { mu = $1; if (mu != 0) dot[int((FNR - 1) / 96)] += mu * th[FNR - 1] }
		END { for (b = 0; b < 3; b++) printf "%.17g\n", dot[b] }' lp.txt - < <(h5get m.h5 marginals)
	local dots=$output
	assert_close_lists "$(paste <(h5get z.h5 log_partition) <(printf '%s\n' "$dots") | awk '{ printf "%.17g\n", $1 - $2 }')" \
		"$(h5get e.h5 entropy)" 1e-6
}

# ---- log-prob ---------------------------------------------------------------------------

@test "log-prob of the argmax equals score - log_partition" {
	examples
	local f
	for f in tagging.h5 hmm.h5; do
		synstruct argmax --dtype float64 -o a.h5 "$f"
		synstruct partition --dtype float64 -o z.h5 "$f"
		run --separate-stderr synstruct log-prob --dtype float64 "$f" a.h5
		assert_success
		assert_close_lists "$(member log_prob <<<"$output")" \
			"$(paste <(h5get a.h5 score) <(h5get z.h5 log_partition) | awk '{ printf "%.17g\n", $1 - $2 }')"
		synstruct log-prob -o l.h5 "$f" a.h5
		synstruct partition -o z.h5 "$f"
		assert_equal "$(h5get -s l.h5 log_prob)" "$(h5get -s z.h5 log_partition)"
	done
}

@test "log-prob of samples (a leading sample axis) equals the samples' log_prob" {
	examples
	local f
	for f in tagging.h5 hmm.h5; do
		synstruct sample -n 6 --seed 8 -o s.h5 "$f"
		synstruct log-prob -o l.h5 "$f" s.h5
		assert_equal "$(h5get -s l.h5 log_prob)" "$(h5get -s s.h5 log_prob)"
		assert_close_lists "$(h5get l.h5 log_prob)" "$(h5get s.h5 log_prob)"
		run synstruct log-prob "$f" s.h5
		assert_close_lists "$(member log_prob <<<"${lines[1]}")" \
			"$(synstruct sample -n 6 --seed 8 "$f" | sed -n 2p | member log_prob)"
	done
	# no sample is more probable than the argmax (log_prob [50, 3])
	synstruct argmax -o a.h5 tagging.h5
	synstruct log-prob -o l.h5 tagging.h5 a.h5
	synstruct sample -n 50 --seed 1 -o s.h5 tagging.h5
	h5get l.h5 log_prob | tr '\n' ' ' > best.txt
	h5get s.h5 log_prob | awk -v best="$(cat best.txt)" '
		BEGIN { split(best, b, " ") }
		{ e = (NR - 1) % 3 + 1; if ($1 > b[e] + 1e-12) { print "sample " NR ": " $1 " above the argmax " b[e]; bad = 1 } }
		END { exit bad }'
}

@test "log-prob of hand-written events, from argmax and with --dataset samples" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 1 7 9  0.5 -0.5 1 0
EOF
	# labels (1, 0) as argmax; (0, 0) and (1, 1) as samples
	mk ev.h5 <<'EOF'
dataset argmax int32 [2, 2, 2] = 0 1 0 0  0 0 1 0
dataset samples float32 [2, 2, 2, 2] = 1 0 0 0  1 0 0 0    0 1 0 0  0 0 0 1
EOF
	local z
	z=$(awk 'BEGIN { printf "%.17g", log(exp(0.5) + exp(-0.5) + exp(2) + exp(1)) }')
	run synstruct log-prob in.h5 ev.h5
	assert_close "$(member log_prob <<<"$output")" "$(awk -v z="$z" 'BEGIN { printf "%.17g", 2 - z }')"
	run synstruct log-prob -d samples in.h5 ev.h5
	assert_close_lists "$(member log_prob <<<"$output")" "$(awk -v z="$z" 'BEGIN { printf "%.17g %.17g", 0.5 - z, 1 - z }')"
}

@test "log-prob of gold labels: compact decodes of any integer type, padding ignored, booleans as dense events" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 2, 2] = 0 1 7 9  0.5 -0.5 1 0  2 -1 0.25 3
                                              0 1 7 9  0.5 -0.5 1 0  2 -1 0.25 3
dataset lengths int32 [2] = 3 2
EOF
	# Gold sequences (1, 0, 0) and (0, 1): scores 1 + 1 + 2 = 4 and 0 - 0.5.
	# Element 1's third label is padding: any value is ignored.
	mk gold.h5 <<'EOF'
dataset labels int8 [2, 3] = 1 0 0  0 1 -100
dataset gold uint8 [2, 3] = 1 0 0  0 1 9
dataset onehot bool [2, 3, 2, 2] = 0 1 0 0  0 0 1 0  1 0 0 0
                                   1 0 0 0  0 1 0 0  0 0 0 0
EOF
	local z want
	z=$(synstruct partition --dtype float64 in.h5 | member log_partition | tr '\n' ' ')
	want=$(awk -v z="$z" 'BEGIN { split(z, Z, " "); printf "%.17g %.17g", 4 - Z[1], -0.5 - Z[2] }')
	run --separate-stderr synstruct log-prob in.h5 gold.h5
	assert_success
	assert_close_lists "$(member log_prob <<<"$output")" "$want"
	run synstruct log-prob -d gold in.h5 gold.h5
	assert_close_lists "$(member log_prob <<<"$output")" "$want"
	run synstruct log-prob -d onehot in.h5 gold.h5
	assert_close_lists "$(member log_prob <<<"$output")" "$want"
	# a sequence that is -1 everywhere is the empty structure
	mk none.h5 <<'EOF'
dataset labels int32 [2, 3] = -1 -1 -1  0 1 0
EOF
	run synstruct log-prob -q in.h5 none.h5
	assert_equal "$(member log_prob <<<"${lines[0]}")" '"-inf"'
	# labels out of range name the file, dataset and element
	mk bad.h5 <<'EOF'
dataset labels int64 [2, 3] = 1 0 0  0 2 0
EOF
	expect_error "synstruct: error: 'bad.h5': dataset 'labels', batch element [1]: labels holds 2 at [1], outside [0, 2)" log-prob in.h5 bad.h5
	mk float.h5 <<'EOF'
dataset labels float64 [2, 3] = 1 0 0  0 1 0
EOF
	expect_error "synstruct: error: 'float.h5': dataset 'labels' is not integer; compact decodes such as 'labels' must be" log-prob in.h5 float.h5
}

@test "log-prob reads argmax and sample outputs with or without --events, and stdin for one of its inputs" {
	examples
	synstruct sample -n 3 --seed 4 -o s.h5 hmm.h5
	synstruct sample -n 3 --seed 4 --events -o se.h5 hmm.h5
	assert_equal "$(synstruct log-prob hmm.h5 s.h5)" "$(synstruct log-prob hmm.h5 se.h5)"
	assert_equal "$(synstruct log-prob -d labels hmm.h5 se.h5)" "$(synstruct log-prob hmm.h5 se.h5)"
	assert_equal "$(synstruct log-prob hmm.h5 - < s.h5)" "$(synstruct log-prob hmm.h5 s.h5)"
	assert_equal "$(synstruct log-prob - s.h5 < hmm.h5)" "$(synstruct log-prob hmm.h5 s.h5)"
	expect_usage "synstruct: error: INPUT and EVENTS cannot both be standard input; see 'synstruct log-prob --help'" log-prob - -
}

# ---- --group and --structure ------------------------------------------------------------

@test "--group reads the datasets and attributes from a group, falling back to the root" {
	mk in.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] fill 0
group a
dataset log_potentials float64 [2, 2, 2] = 0 1 7 9  0.5 -0.5 1 0
group /
group b
attr structure string hmm
dataset init_logits float64 [2] = 0.3 -0.7
dataset transition_logits float64 [2, 2] = 1 2 3 4
dataset emission_logits float64 [2, 3] = 0.1 0.2 0.3  -1 0 1
dataset observations int32 [1] = 2
EOF
	mk plain.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 1 7 9  0.5 -0.5 1 0
EOF
	run --separate-stderr synstruct partition --group a in.h5
	assert_success
	assert_output "$(synstruct partition plain.h5)"
	run synstruct partition in.h5
	assert_output '{"index":[],"log_partition":1.3862943611198906}'
	# the group's own structure attribute wins over the root's
	run --separate-stderr synstruct partition -g b in.h5
	assert_success
	assert_close "$(member log_partition <<<"$output")" "-0.80445811051946181"
	run --separate-stderr synstruct argmax -g /a -o a.h5 in.h5
	assert_success
	assert_equal "$(h5get -a a.h5 structure)" linear-chain
}

@test "--structure overrides the file's structure attribute" {
	mk in.h5 <<'EOF'
attr structure string hmm
dataset log_potentials float64 [2, 2, 2] = 0 1 7 9  0.5 -0.5 1 0
EOF
	mk plain.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 1 7 9  0.5 -0.5 1 0
EOF
	run -1 --separate-stderr synstruct partition in.h5
	assert_equal "$stderr" "synstruct: error: 'in.h5': no dataset 'init_logits'; hmm needs it"
	run --separate-stderr synstruct partition --structure linear-chain in.h5
	assert_success
	assert_output "$(synstruct partition plain.h5)"
	synstruct argmax -s linear-chain -o a.h5 in.h5
	assert_equal "$(h5get -a a.h5 structure)" linear-chain
	# and the other way round
	run -1 --separate-stderr synstruct partition -s hmm plain.h5
	assert_equal "$stderr" "synstruct: error: 'plain.h5': no dataset 'init_logits'; hmm needs it"
}
