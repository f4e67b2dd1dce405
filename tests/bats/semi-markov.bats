#!/usr/bin/env bats
# semi-markov.bats - the semi-Markov CRF through the command line (SPEC §1-§4):
# every command against a brute-force enumeration in awk, a hand-worked case,
# the compact decodes segments and labels with -1 padding, log-prob of the
# segments, m = 1 equals linear-chain, bad input, JSON Lines, threads.

load common

# brute N M T LEN: reads the values of log_potentials [N, M, T, T] (one a
# line, as h5get prints them) and enumerates every segmentation of 0 .. LEN-1
# into labelled segments of at most M positions, written independently of
# synstruct. Prints "logz", "max", "entropy", "count" lines, then "mu" lines
# (the marginals, row-major).
brute() {
	awk -v n="$1" -v m="$2" -v t="$3" -v len="$4" '
	function rec(start, prev, score, path,    w, c, k) {
		if (start == len) { S[ns] = score; P[ns] = path; ns++; return }
		for (w = 1; w <= m && start + w <= len; w++)
			for (c = 0; c < t; c++) {
				k = (((start + w - 1) * m + w - 1) * t + prev) * t + c
				rec(start + w, c, score + v[k], path " " k)
			}
	}
	{ v[NR - 1] = $1 + 0 }
	END {
		ns = 0; rec(0, 0, 0, "")
		mx = S[0]; for (s = 1; s < ns; s++) if (S[s] > mx) mx = S[s]
		z = 0; for (s = 0; s < ns; s++) z += exp(S[s] - mx)
		logz = mx + log(z); h = 0
		for (s = 0; s < ns; s++) {
			p = exp(S[s] - logz); h += p * (logz - S[s])
			cnt = split(P[s], ks, " ")
			for (q = 1; q <= cnt; q++) mu[ks[q]] += p
		}
		printf "logz %.17g\nmax %.17g\nentropy %.17g\ncount %.17g\n", logz, mx, h, log(ns)
		for (k = 0; k < n * m * t * t; k++) printf "mu %.17g\n", mu[k] + 0
	}'
}

# want NAME: the brute-force value(s) NAME from ref.txt.
want() {
	awk -v k="$1" '$1 == k { print $2 }' ref.txt
}

@test "semi-markov: partition, marginals, argmax, entropy and count equal brute force" {
	mk in.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [4, 3, 2, 2] random 7 -2 2
EOF
	h5get in.h5 log_potentials | brute 4 3 2 4 > ref.txt
	assert_close "$(synstruct partition in.h5 | member log_partition)" "$(want logz)"
	assert_close "$(synstruct entropy in.h5 | member entropy)" "$(want entropy)"
	assert_close "$(synstruct count in.h5 | member log_count)" "$(want count)"
	# 7 segmentations of 4 positions into segments of at most 3: 52 labellings
	assert_close "$(want count)" "$(awk 'BEGIN { printf "%.17g", log(52) }')"
	assert_close "$(synstruct argmax in.h5 | member score)" "$(want max)"
	assert_close_lists "$(synstruct marginals in.h5 | member marginals | flat)" "$(want mu)"
	# HDF5 output: the event's shape and the decodes' shapes and types
	synstruct argmax --events -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[4, 3, 2, 2]\nuint8')"
	assert_equal "$(h5get -s a.h5 segments)" "$(printf '[4, 3]\nint32')"
	assert_equal "$(h5get -s a.h5 labels)" "$(printf '[4]\nint32')"
}

@test "semi-markov: a hand-worked case of t = 1 (three segmentations of 3 positions)" {
	# [i, j]: (0,0)=1 (0,1) unread (1,0)=2 (1,1)=4 (2,0)=0.5 (2,1)=3.
	# 1|2|3: 1 + 2 + 0.5 = 3.5; 12|3: 4 + 0.5 = 4.5; 1|23: 1 + 3 = 4.
	mk in.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [3, 2, 1, 1] = 1 nan 2 4 0.5 3
EOF
	local z
	z=$(awk 'BEGIN { printf "%.17g", log(exp(3.5) + exp(4.5) + exp(4)) }')
	assert_close "$(synstruct partition in.h5 | member log_partition)" "$z"
	run synstruct argmax in.h5
	assert_success
	assert_equal "$(member segments <<<"$output")" "[[0,1,0],[2,2,0],[-1,-1,-1]]"
	assert_equal "$(member labels <<<"$output")" "[0,0,0]"
	assert_equal "$(member score <<<"$output")" "4.5"
	# marginals: (0,0) in 1|2|3 and 1|23; (1,1) in 12|3; (2,0) in 1|2|3 and 12|3
	assert_close_lists "$(synstruct marginals in.h5 | member marginals | flat)" \
		"$(awk -v z="$z" 'BEGIN { a = exp(3.5 - z); b = exp(4.5 - z); c = exp(4 - z)
			printf "%.17g 0 %.17g %.17g %.17g %.17g", a + c, a, b, a + b, c }')"
	# the entropy of the three probabilities
	assert_close "$(synstruct entropy in.h5 | member entropy)" \
		"$(awk -v z="$z" 'BEGIN { h = 0; split("3.5 4.5 4", s, " ")
			for (k = 1; k <= 3; k++) { p = exp(s[k] - z); h -= p * log(p) }
			printf "%.17g", h }')"
}

@test "semi-markov: padding: decodes -1 past the length, length 0 has log Z = 0" {
	mk in.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [3, 3, 2, 2, 2] random 5 -1 1
dataset lengths int32 [3] = 3 1 0
EOF
	run synstruct partition in.h5
	assert_success
	assert_equal "$(member log_partition <<<"${lines[2]}")" 0
	synstruct argmax -o a.h5 in.h5
	assert_equal "$(h5get -s a.h5 segments)" "$(printf '[3, 3, 3]\nint32')"
	# element 1 (length 1): one segment (0, 0, c), then rows of -1
	assert_equal "$(h5get a.h5 segments | sed -n '10,11p;13,18p' | tr '\n' ' ')" "0 0 -1 -1 -1 -1 -1 -1 "
	assert_equal "$(h5get a.h5 labels | sed -n '5,9p' | tr '\n' ' ')" "-1 -1 -1 -1 -1 "
	# element 0 (length 3): segments cover 0 .. 2 in order
	h5get a.h5 segments | sed -n '1,9p' | tr '\n' ' ' | awk '{
		end = -1
		for (r = 0; r < 3 && $(3 * r + 1) != -1; r++) {
			if ($(3 * r + 1) != end + 1 || $(3 * r + 2) < $(3 * r + 1)) exit 1
			end = $(3 * r + 2)
		}
		exit end != 2 }'
	# the length-0 element: every decode -1; its marginals 0
	assert_equal "$(h5get a.h5 segments | sed -n '19,27p' | sort -u)" "-1"
	synstruct marginals -o m.h5 in.h5
	assert_equal "$(h5get m.h5 marginals | sed -n '49,72p' | sort -u)" "0"
	# element 1's marginals past position 0 are 0
	assert_equal "$(h5get m.h5 marginals | sed -n '33,48p' | sort -u)" "0"
}

@test "semi-markov: m = 1 equals linear-chain on the same numbers" {
	mk semi.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [2, 5, 1, 3, 3] random 3 -2 2
dataset lengths int32 [2] = 5 3
EOF
	mk chain.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 5, 3, 3] random 3 -2 2
dataset lengths int32 [2] = 5 3
EOF
	local k c name semi
	for c in partition entropy count; do
		case $c in
		partition) name=log_partition ;;
		count) name=log_count ;;
		*) name=$c ;;
		esac
		run synstruct $c semi.h5
		semi=("${lines[@]}")
		run synstruct $c chain.h5
		for k in 0 1; do
			assert_close "$(member $name <<<"${semi[k]}")" "$(member $name <<<"${lines[k]}")"
		done
	done
	assert_close_lists "$(synstruct marginals semi.h5 | member marginals | flat)" \
		"$(synstruct marginals chain.h5 | member marginals | flat)"
	assert_equal "$(synstruct argmax semi.h5 | member labels)" "$(synstruct argmax chain.h5 | member labels)"
}

@test "semi-markov: log-prob of the argmax segments and samples = score - log Z" {
	mk in.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [2, 4, 2, 2, 2] random 9 -2 2
dataset lengths int32 [2] = 4 2
EOF
	synstruct argmax -o a.h5 in.h5
	run synstruct partition in.h5
	local z0 z1
	z0=$(member log_partition <<<"${lines[0]}")
	z1=$(member log_partition <<<"${lines[1]}")
	run synstruct log-prob in.h5 a.h5
	assert_success
	assert_close "$(member log_prob <<<"${lines[0]}")" \
		"$(awk -v s="$(h5get a.h5 score | sed -n 1p)" -v z="$z0" 'BEGIN { printf "%.17g", s - z }')"
	assert_close "$(member log_prob <<<"${lines[1]}")" \
		"$(awk -v s="$(h5get a.h5 score | sed -n 2p)" -v z="$z1" 'BEGIN { printf "%.17g", s - z }')"
	# samples read back as segments: the log_prob the sampler reported
	synstruct sample -n 3 --seed 4 -o s.h5 in.h5
	run synstruct log-prob -o lp.h5 in.h5 s.h5
	assert_success
	assert_close_lists "$(h5get lp.h5 log_prob | tr '\n' ' ')" "$(h5get s.h5 log_prob | tr '\n' ' ')"
}

@test "semi-markov: bad input names the file and dataset" {
	mk in.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [3, 2, 2, 2] = 0 0 nan nan  nan nan nan nan  0 0 0 0  0 0 nan 0  0 0 0 0  0 0 0 0
EOF
	# NaN only where unread: rows a = 1 of first segments ([0, 0, 1, *],
	# [1, 1, 1, 0]) and segments starting before 0 ([0, 1, *, *])
	run synstruct partition in.h5
	assert_success
	mk bad.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [3, 2, 2, 2] = 0 0 nan nan  nan nan nan nan  0 0 0 0  0 nan 0 0  0 0 0 0  0 0 0 0
EOF
	expect_error "synstruct: error: 'bad.h5': dataset 'log_potentials' holds NaN at [1, 1, 0, 1]" partition bad.h5
	mk in2.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [2, 3, 2, 2, 2] random 2 -1 1
EOF
	mk ev.h5 <<'EOF'
dataset segments int32 [2, 3, 3] = 0 1 1  2 2 0  -1 -1 -1   0 0 1  2 2 0  -1 -1 -1
EOF
	expect_error "synstruct: error: 'ev.h5': dataset 'segments', batch element [1]: segments holds 2 at [1, 0]; segment 1 must start at 1" log-prob in2.h5 ev.h5
}

@test "semi-markov: JSON Lines input of one element, and the same bytes at -j 1 and -j 2" {
	printf '%s\n' '{"structure": "semi-markov", "log_potentials": [[[[1]], [["nan"]]], [[[2]], [[4]]], [[[0.5]], [[3]]]], "lengths": 3}' > in.jsonl
	run synstruct argmax in.jsonl
	assert_success
	assert_equal "$(member segments <<<"$output")" "[[0,1,0],[2,2,0],[-1,-1,-1]]"
	assert_close "$(synstruct partition in.jsonl | member log_partition)" \
		"$(awk 'BEGIN { printf "%.17g", log(exp(3.5) + exp(4.5) + exp(4)) }')"
	mk in.h5 <<'EOF'
attr structure string semi-markov
dataset log_potentials float64 [6, 5, 3, 2, 2] random 1 -2 2
dataset lengths int32 [6] = 5 4 3 2 1 0
EOF
	local c
	for c in partition marginals argmax "sample -n 3" entropy; do
		# shellcheck disable=SC2086
		synstruct $c -j 1 -o one.h5 in.h5
		# shellcheck disable=SC2086
		synstruct $c -j 2 -o two.h5 in.h5
		cmp one.h5 two.h5
	done
}
