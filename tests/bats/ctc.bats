#!/usr/bin/env bats
# ctc.bats - CTC alignments through the command line (SPEC §1-§4, issue 9):
# every command against an enumeration written in awk, hand-worked values,
# --blank-id, the path and tokens decodes, padding, bad input, infeasible
# labels, JSON Lines input and thread counts.

load common

# ctc_brute V N T BLANK L LABELS LOGITS: enumerates every row sequence of
# one element (frames T of N, labels LABELS: the L' used ones, space
# separated; LOGITS: N*V values), keeps the CTC alignments and prints
#   logz X / count X / entropy X / max X / marg M (the [2L+1, N] layout)
# from the log-softmax of each frame, independently of synstruct.
ctc_brute() {
	awk -v V="$1" -v n="$2" -v T="$3" -v blank="$4" -v L="$5" -v lab="$6" \
		-v x="$7" 'BEGIN {
		split(x, X, " ")
		nl = split(lab, LB, " ")
		Sp = 2 * nl + 1; S = 2 * L + 1
		for (t = 0; t < T; t++) {
			m = X[t * V + 1]
			for (v = 1; v < V; v++) if (X[t * V + v + 1] > m) m = X[t * V + v + 1]
			z = 0
			for (v = 0; v < V; v++) z += exp(X[t * V + v + 1] - m)
			for (v = 0; v < V; v++) lp[t, v] = X[t * V + v + 1] - m - log(z)
		}
		for (s = 0; s < Sp; s++) id[s] = s % 2 == 0 ? blank : LB[(s - 1) / 2 + 1]
		total = 1
		for (t = 0; t < T; t++) total *= Sp
		k = 0
		for (code = 0; code < total; code++) {
			c = code
			for (t = 0; t < T; t++) { r[t] = c % Sp; c = int(c / Sp) }
			if (T > 0 && (r[0] > 1 || r[T - 1] < Sp - 2)) continue
			ok = 1
			for (t = 1; t < T && ok; t++) {
				d = r[t] - r[t - 1]
				if (d < 0 || d > 2) ok = 0
				if (d == 2 && (r[t] % 2 == 0 || id[r[t]] == id[r[t] - 2])) ok = 0
			}
			if (!ok || (T == 0 && nl > 0)) continue
			sc = 0
			for (t = 0; t < T; t++) { sc += lp[t, id[r[t]]]; R[k, t] = r[t] }
			score[k++] = sc
		}
		if (k == 0) { print "logz -inf"; exit }
		mx = score[0]
		for (i = 1; i < k; i++) if (score[i] > mx) mx = score[i]
		z = 0
		for (i = 0; i < k; i++) z += exp(score[i] - mx)
		logz = mx + log(z)
		h = 0
		for (i = 0; i < k; i++) {
			p = exp(score[i] - logz)
			h -= p * (score[i] - logz)
			for (t = 0; t < T; t++) mu[R[i, t], t] += p
		}
		printf "logz %.17g\ncount %.17g\nentropy %.17g\nmax %.17g\nmarg", logz, log(k), h, mx
		for (s = 0; s < S; s++) for (t = 0; t < n; t++) printf " %.17g", mu[s, t] + 0
		printf "\n"
	}'
}

# field NAME: the value(s) of line NAME of ctc_brute's output.
field() {
	awk -v f="$1" '$1 == f { $1 = ""; print substr($0, 2) }'
}

# A batch of three: labels "1 2" over 4 frames, "2 2" (a repeat: the blank
# between is needed) over 3 frames of 4, and "1" over 2 frames; blank 0.
batch_fixture() {
	mk in.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [3, 4, 3] random 21 -2 2
dataset labels int64 [3, 2] = 1 2 2 2 1 -1
dataset input_lengths int64 [3] = 4 3 2
dataset label_lengths int32 [3] = 2 2 1
EOF
	h5get in.h5 log_potentials > lp.txt
}

# logits K: the 12 logits of element K of lp.txt, space separated.
logits() {
	sed -n "$(($1 * 12 + 1)),$((($1 + 1) * 12))p" lp.txt | tr '\n' ' '
}

@test "ctc: partition, marginals, entropy, count and argmax score of a batch equal an awk enumeration" {
	batch_fixture
	local k T=(4 3 2) LAB=("1 2" "2 2" "1") ref
	synstruct partition in.h5 > z.jsonl
	synstruct marginals in.h5 > m.jsonl
	synstruct entropy in.h5 > h.jsonl
	synstruct count in.h5 > c.jsonl
	synstruct argmax in.h5 > a.jsonl
	for k in 0 1 2; do
		ref=$(ctc_brute 3 4 "${T[k]}" 0 2 "${LAB[k]}" "$(logits "$k")")
		assert_close "$(sed -n "$((k + 1))p" z.jsonl | member log_partition)" "$(field logz <<<"$ref")" 1e-9
		assert_close_lists "$(sed -n "$((k + 1))p" m.jsonl | member marginals)" "$(field marg <<<"$ref")" 1e-9
		assert_close "$(sed -n "$((k + 1))p" h.jsonl | member entropy)" "$(field entropy <<<"$ref")" 1e-9
		assert_close "$(sed -n "$((k + 1))p" c.jsonl | member log_count)" "$(field count <<<"$ref")" 1e-9
		assert_close "$(sed -n "$((k + 1))p" a.jsonl | member score)" "$(field max <<<"$ref")" 1e-9
	done
	# marginals [3, 2L+1, n] in HDF5
	synstruct marginals -o m.h5 in.h5
	assert_equal "$(h5get -s m.h5 marginals)" "$(printf '[3, 5, 4]\nfloat64')"
}

@test "ctc: two frames, two symbols, one label: log Z by hand, and --blank-id 1" {
	# frame 0: p(0) = 1/4, p(1) = 3/4 (logits 0, log 3); frame 1 uniform
	mk in.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 2] = 0 1.0986122886681098 0 0
dataset labels int64 [1] = 1
EOF
	# (0,1) 1/4 1/2 + (1,1) 3/4 1/2 + (1,0) 3/4 1/2 = 7/8
	run synstruct partition in.h5
	assert_success
	assert_close "$(member log_partition <<<"$output")" "$(awk 'BEGIN { printf "%.17g", log(7 / 8) }')"
	# the best alignment: label in frame 0 (3/8, tied with (1,1): the first)
	run synstruct argmax --events in.h5
	assert_success
	assert_close "$(member score <<<"$output")" "$(awk 'BEGIN { printf "%.17g", log(3 / 8) }')"
	# blank 1, label 0: (1,0) 3/4 1/2 + (0,0) 1/4 1/2 + (0,1) 1/4 1/2 = 5/8
	mk b1.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 2] = 0 1.0986122886681098 0 0
dataset labels int64 [1] = 0
EOF
	run synstruct partition --blank-id 1 b1.h5
	assert_success
	assert_close "$(member log_partition <<<"$output")" "$(awk 'BEGIN { printf "%.17g", log(5 / 8) }')"
	# the attribute blank_id does the same; the flag wins over it
	mk b1attr.h5 <<'EOF'
attr structure string ctc
attr blank_id int 1
dataset log_potentials float64 [2, 2] = 0 1.0986122886681098 0 0
dataset labels int64 [1] = 0
EOF
	assert_equal "$(synstruct partition b1attr.h5)" "$(synstruct partition --blank-id 1 b1.h5)"
	run synstruct partition --blank-id 0 b1attr.h5
	assert_failure 1
	# blank_id must be below V
	expect_error "synstruct: error: 'in.h5': option 'blank_id' is 2, not below the vocabulary size V = 2" \
		partition --blank-id 2 in.h5
}

@test "ctc: path and tokens decodes, -1 in padding, events [2L+1, n]" {
	# frames favour 1, 1, blank, 2; frame 4 is padding
	mk in.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [1, 5, 3] = 0 5 0  0 5 0  5 0 0  0 0 5  nan nan nan
dataset labels int64 [1, 2] = 1 2
dataset input_lengths int64 [1] = 4
EOF
	run synstruct argmax --events in.h5
	assert_success
	assert_equal "$(member path <<<"$output")" "[1,1,0,2,-1]"
	assert_equal "$(member tokens <<<"$output")" "[1,2,-1,-1,-1]"
	assert_equal "$(member argmax <<<"$output")" "[[0,0,0,0,0],[1,1,0,0,0],[0,0,1,0,0],[0,0,0,1,0],[0,0,0,0,0]]"
	synstruct argmax --events -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 path)" "$(printf '[1, 5]\nint32')"
	assert_equal "$(h5get -s a.h5 tokens)" "$(printf '[1, 5]\nint32')"
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[1, 5, 5]\nuint8')"
	# samples: every path collapses to the labels
	run synstruct sample -n 20 --seed 4 in.h5
	assert_success
	assert_equal "$(member tokens <<<"$output" | tr -d '[]' | tr ',' '\n' | sort -u | tr '\n' ' ')" "-1 1 2 "
	# log-prob of the gold path, compact, against score - log Z
	synstruct argmax -o best.h5 in.h5
	synstruct partition in.h5 > z.jsonl
	run synstruct log-prob in.h5 best.h5
	assert_success
	assert_close "$(member log_prob <<<"$output")" \
		"$(awk -v s="$(synstruct argmax in.h5 | member score)" -v z="$(member log_partition < z.jsonl)" 'BEGIN { printf "%.17g", s - z }')" 1e-12
}

@test "ctc: log-prob of a hand-written path; a path that is no alignment is bad input" {
	mk in.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [3, 2] = 0 0 0 0 0 0
dataset labels int64 [2] = 1 1
EOF
	# "1 1" over 3 frames: the only alignment 1, blank, 1: log 1/8
	mk gold.h5 <<'EOF'
dataset path int32 [3] = 1 0 1
EOF
	run synstruct log-prob in.h5 gold.h5
	assert_success
	assert_close "$(member log_prob <<<"$output")" 0
	assert_close "$(synstruct partition in.h5 | member log_partition)" "$(awk 'BEGIN { printf "%.17g", log(1 / 8) }')"
	mk bad.h5 <<'EOF'
dataset path int32 [3] = 1 1 1
EOF
	run -1 --separate-stderr synstruct log-prob in.h5 bad.h5
	[[ $stderr == *"'path'"* || $stderr == *path* ]] || fail "stderr: $stderr"
	[[ $stderr == *"frame 2"* ]] || fail "stderr: $stderr"
}

@test "ctc: a label equal to the blank, or out of range, is bad input naming 'labels'" {
	mk in.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 2, 3] random 3 -1 1
dataset labels int64 [2, 2] = 1 2 2 0
EOF
	expect_error "~^synstruct: error: 'in.h5': dataset 'labels' holds 0 at \[1\], the blank id" partition in.h5
	mk range.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 3] random 3 -1 1
dataset labels int64 [2] = 1 3
EOF
	expect_error "~^synstruct: error: 'range.h5': dataset 'labels' holds 3 at \[1\], outside \[0, 3\)" partition range.h5
	# past label_lengths the labels are ignored (-1 or the blank)
	mk past.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 3] random 3 -1 1
dataset labels int64 [2] = 1 0
dataset label_lengths int64 [] = 1
EOF
	run synstruct partition past.h5
	assert_success
	# NaN in a used frame names the dataset and the index
	mk nan.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 3] = 0 0 0 0 nan 0
dataset labels int64 [1] = 1
EOF
	expect_error "~^synstruct: error: 'nan.h5': dataset 'log_potentials' holds NaN at \[1, 1\]" partition nan.h5
}

@test "ctc: labels that cannot fit give -inf with a warning, an empty argmax, exit 0" {
	# "1 1" needs 3 frames; 2 are given. No labels over no frames: log Z 0.
	mk in.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 2, 2] random 5 -1 1
dataset labels int64 [2, 2] = 1 1 1 1
dataset input_lengths int64 [2] = 2 0
dataset label_lengths int64 [2] = 2 0
EOF
	run --separate-stderr synstruct partition in.h5
	assert_success
	assert_equal "$(member log_partition <<<"${lines[0]}")" '"-inf"'
	assert_equal "$(member log_partition <<<"${lines[1]}")" 0
	[[ $stderr == *warning* ]] || fail "no warning: $stderr"
	run --separate-stderr synstruct argmax in.h5
	assert_success
	assert_equal "$(member path <<<"${lines[0]}")" "[-1,-1]"
	assert_equal "$(member tokens <<<"${lines[0]}")" "[-1,-1]"
	# a frame whose logits are all -inf leaves no alignment either
	mk dead.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [2, 2] = 0 0 -inf -inf
dataset labels int64 [1] = 1
EOF
	run --separate-stderr synstruct partition dead.h5
	assert_success
	assert_equal "$(member log_partition <<<"$output")" '"-inf"'
}

@test "ctc: JSON Lines input of one element equals the HDF5 input" {
	mk in.h5 <<'EOF'
attr structure string ctc
attr blank_id int 2
dataset log_potentials float64 [1, 3, 3] = 0.5 -1 0.25 1 0 -2 0 0.75 0.5
dataset labels int64 [1, 1] = 0
EOF
	cat > in.jsonl <<'EOF'
{"structure": "ctc", "blank_id": 2, "log_potentials": [[0.5, -1, 0.25], [1, 0, -2], [0, 0.75, 0.5]], "labels": [0]}
EOF
	local c
	for c in partition marginals argmax entropy count; do
		assert_equal "$(synstruct "$c" in.jsonl)" "$(synstruct "$c" in.h5)"
	done
	run synstruct partition in.jsonl
	assert_close "$(member log_partition <<<"$output")" \
		"$(ctc_brute 3 3 3 2 1 "0" "0.5 -1 0.25 1 0 -2 0 0.75 0.5" | field logz)" 1e-9
}

@test "ctc: the same bytes at -j 1 and -j 2; cross-entropy and kl need the same labels" {
	batch_fixture
	local c
	for c in partition marginals argmax "sample -n 3 --seed 7" entropy; do
		# shellcheck disable=SC2086
		synstruct $c -j 1 -o one.h5 in.h5
		# shellcheck disable=SC2086
		synstruct $c -j 2 -o two.h5 in.h5
		cmp one.h5 two.h5
	done
	run synstruct kl in.h5 in.h5
	assert_success
	assert_equal "$(member kl <<<"${lines[0]}")" 0
	mk other.h5 <<'EOF'
attr structure string ctc
dataset log_potentials float64 [3, 4, 3] random 22 -2 2
dataset labels int64 [3, 2] = 1 2 2 1 1 -1
dataset input_lengths int64 [3] = 4 3 2
dataset label_lengths int32 [3] = 2 2 1
EOF
	expect_error "~'labels' differ between P and Q at \[1\]" kl in.h5 other.h5
}
