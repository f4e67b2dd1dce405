#!/usr/bin/env bats
# --grad (SPEC §7, issue 11): beside the result of partition, log-prob,
# entropy, cross-entropy and kl, grad_<dataset> (grad_p_ and grad_q_ for
# two inputs) for every floating input dataset, in that dataset's shape,
# summed over the elements that share an entry. The numbers are checked
# against brute-force enumeration in awk (below), never against synstruct's
# own output, except where two of synstruct's outputs must agree (the
# marginals; a shared dataset's sum and the elements' shares; thread
# counts).

load common

# brute MODE [VAR=VALUE...] < STRUCTURES: exact answers by enumeration.
# Each line of STRUCTURES is one structure y, as the coefficients of its
# score in the potentials θ (0-based flat indices): "j:w j:w ..." means
# score(y) = Σ w·θ[j] (an empty line is the empty structure). Variables:
# theta (and theta_q) the potentials, space-separated; T the temperature
# (default 1); gold a structure line (log-prob). With c_j(y) the
# coefficient of θ[j] in y and p ∝ exp(score / T), prints one number a
# line, %.17g:
#   partition  log Z, then d log Z/dθ_j = E[c_j] / T
#   log-prob   log p(gold), then (c_j(gold) - E[c_j]) / T
#   entropy    H, then dH/dθ_j = -Cov(c_j, score) / T^2
#   ce         H(p, q), then dH/dθ_p = -Cov_p(c_j, score_q) / T^2, then
#              dH/dθ_q = (E_q[c_j] - E_p[c_j]) / T
#   kl         KL(p || q), then Cov_p(c_j, score_p - score_q) / T^2, then
#              (E_q[c_j] - E_p[c_j]) / T
brute() {
	local mode=$1
	shift
	awk -v mode="$mode" "${@/#/-v}" '
	function lse(v, n,    m, k, z) {
		m = -1e308
		for (k = 1; k <= n; k++) if (v[k] > m) m = v[k]
		z = 0
		for (k = 1; k <= n; k++) z += exp(v[k] - m)
		return m + log(z)
	}
	function score(line, th,    f, n, k, a, s) {
		n = split(line, f, " ")
		s = 0
		for (k = 1; k <= n; k++) {
			split(f[k], a, ":")
			s += a[2] * th[a[1] + 1]
		}
		return s
	}
	function coef(line, y,    f, n, k, a) {
		n = split(line, f, " ")
		for (k = 1; k <= n; k++) {
			split(f[k], a, ":")
			c[y, a[1] + 1] += a[2]
		}
	}
	# p[y] (and the log-normaliser) of the potentials th
	function dist(th, p,    y, v, z) {
		for (y = 1; y <= ny; y++) v[y] = score(line[y], th) / T
		z = lse(v, ny)
		for (y = 1; y <= ny; y++) p[y] = exp(v[y] - z)
		return z
	}
	function mean(p, j,    y, e) {
		e = 0
		for (y = 1; y <= ny; y++) e += p[y] * c[y, j]
		return e
	}
	# Cov_p(c_j, x)
	function cov(p, x, j,    y, e, ex, exj) {
		e = ex = exj = 0
		for (y = 1; y <= ny; y++) {
			e += p[y] * c[y, j]
			ex += p[y] * x[y]
			exj += p[y] * c[y, j] * x[y]
		}
		return exj - e * ex
	}
	{ line[++ny] = $0; coef($0, ny) }
	END {
		if (T == "") T = 1
		N = split(theta, th, " ")
		split(theta_q, tq, " ")
		lz = dist(th, p)
		for (y = 1; y <= ny; y++) s[y] = score(line[y], th)
		if (mode == "partition") {
			printf "%.17g\n", lz
			for (j = 1; j <= N; j++) printf "%.17g\n", mean(p, j) / T
		} else if (mode == "log-prob") {
			coef(gold, 0)
			printf "%.17g\n", score(gold, th) / T - lz
			for (j = 1; j <= N; j++)
				printf "%.17g\n", (c[0, j] - mean(p, j)) / T
		} else if (mode == "entropy") {
			h = 0
			for (y = 1; y <= ny; y++) if (p[y] > 0) h -= p[y] * log(p[y])
			printf "%.17g\n", h
			for (j = 1; j <= N; j++) printf "%.17g\n", -cov(p, s, j) / T / T
		} else {
			lzq = dist(tq, q)
			for (y = 1; y <= ny; y++) sq[y] = score(line[y], tq)
			r = 0
			for (y = 1; y <= ny; y++) {
				r -= p[y] * (sq[y] / T - lzq)
				if (mode == "kl") r += p[y] * (s[y] / T - lz)
				d[y] = (mode == "kl" ? s[y] : 0) - sq[y]
			}
			printf "%.17g\n", r
			for (j = 1; j <= N; j++) printf "%.17g\n", cov(p, d, j) / T / T
			for (j = 1; j <= N; j++) printf "%.17g\n", (mean(q, j) - mean(p, j)) / T
		}
	}'
}

# chain_structures N T LEN: the tag sequences of a linear chain of LEN
# positions (of N) over T tags, as brute's lines: [0, 0, y0] and
# [i, y(i-1), y(i)], flat in [N, T, T].
chain_structures() {
	awk -v n="$1" -v t="$2" -v len="$3" 'BEGIN {
		total = 1
		for (i = 0; i < len; i++) total *= t
		for (k = 0; k < total; k++) {
			x = k
			for (i = len - 1; i >= 0; i--) { y[i] = x % t; x = int(x / t) }
			out = ""
			for (i = 0; i < len; i++)
				out = out sprintf("%s%d:1", i ? " " : "",
						  i ? i * t * t + y[i - 1] * t + y[i] : y[0])
			print out
		}
	}'
}

# hmm_brute T V OBS INIT TRANS EMIS: log p(x) of an hmm and its gradients in
# the raw logits (log-softmax normalised over their last axis), by
# enumerating the state sequences: d/d init[c] = P(y0 = c) - π[c];
# d/d trans[a, c] = E[n(a, c)] - E[n(a, .)] A[a, c]; d/d emis[c, v] =
# E[m(c, v)] - E[m(c, .)] B[c, v] (n: transitions, m: emissions). Prints
# log p(x), then t + t·t + t·V gradients, %.17g.
hmm_brute() {
	awk -v t="$1" -v V="$2" -v obs="$3" -v init="$4" -v trans="$5" -v emis="$6" '
	function norm(v, off, n,    m, k, z) {
		m = -1e308
		for (k = 0; k < n; k++) if (v[off + k] > m) m = v[off + k]
		z = 0
		for (k = 0; k < n; k++) z += exp(v[off + k] - m)
		for (k = 0; k < n; k++) v[off + k] -= m + log(z)
	}
	BEGIN {
		len = split(obs, x, " ")
		split(init, l, " "); split(trans, a, " "); split(emis, b, " ")
		norm(l, 1, t)
		for (r = 0; r < t; r++) { norm(a, 1 + r * t, t); norm(b, 1 + r * V, V) }
		total = 1
		for (i = 0; i < len; i++) total *= t
		m = -1e308
		for (k = 0; k < total; k++) {
			z = k
			for (i = len - 1; i >= 0; i--) { y[k, i] = z % t; z = int(z / t) }
			s[k] = l[1 + y[k, 0]]
			for (i = 0; i < len; i++) {
				s[k] += b[1 + y[k, i] * V + x[i + 1]]
				if (i) s[k] += a[1 + y[k, i - 1] * t + y[k, i]]
			}
			if (s[k] > m) m = s[k]
		}
		z = 0
		for (k = 0; k < total; k++) z += exp(s[k] - m)
		lz = m + log(z)
		for (k = 0; k < total; k++) {
			p = exp(s[k] - lz)
			gi[y[k, 0]] += p
			for (i = 0; i < len; i++) {
				ge[y[k, i], x[i + 1]] += p
				ce[y[k, i]] += p
				if (i) { gt[y[k, i - 1], y[k, i]] += p; ct[y[k, i - 1]] += p }
			}
		}
		printf "%.17g\n", lz
		for (c = 0; c < t; c++) printf "%.17g\n", gi[c] - exp(l[1 + c])
		for (r = 0; r < t; r++) for (c = 0; c < t; c++)
			printf "%.17g\n", gt[r, c] - ct[r] * exp(a[1 + r * t + c])
		for (r = 0; r < t; r++) for (v = 0; v < V; v++)
			printf "%.17g\n", ge[r, v] - ce[r] * exp(b[1 + r * V + v])
	}'
}

# rows FROM TO: lines FROM..TO of standard input
rows() {
	sed -n "$1,$2p"
}

# sum_lists: the element-wise sum of whitespace-separated lists, one list
# per line of standard input
sum_lists() {
	awk '{ for (k = 1; k <= NF; k++) s[k] += $k; if (NF > n) n = NF }
	     END { for (k = 1; k <= n; k++) printf "%.17g\n", s[k] }'
}

# zeros: how many of the numbers on standard input (one a line) are 0 (or -0)
zeros() {
	awk '$1 + 0 == 0 { n++ } END { print n + 0 }'
}

# sum_lists_rows: each line's fields summed, one sum a line
sum_lists_rows() {
	awk '{ s = 0; for (k = 1; k <= NF; k++) s += $k; printf "%.17g\n", s }'
}

# Two chains of n = 2 positions over t = 2 tags, lengths 2 and 1. Element
# 0's four sequences (y0, y1) score θ[0, 0, y0] + θ[1, y0, y1]: (0, 0) 1.5,
# (0, 1) 0, (1, 0) 4, (1, 1) 5; row [0, 1, :] is never read. Element 1 reads
# only [0, 0, :].
TH0="1 2 5 7 0.5 -1 2 3"
TH1="0.25 -0.5 9 9 1 2 3 4"
chain_file() {
	mk chain.h5 <<EOF
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] = $TH0 $TH1
dataset lengths int32 [2] = 2 1
EOF
}

@test "partition --grad of a linear chain (n = 2, t = 2): the marginals, by hand and as 'marginals' writes them" {
	chain_file
	run --separate-stderr synstruct partition --grad -o g.h5 chain.h5
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(h5get -l g.h5 | tr '\n' ' ')" "grad_log_potentials log_partition "
	assert_equal "$(h5get -s g.h5 grad_log_potentials)" "$(printf '[2, 2, 2, 2]\nfloat64')"
	assert_equal "$(h5get -a g.h5 grad)" 1
	# by hand: Z = e^1.5 + 1 + e^4 + e^5; μ[0, 0, 0] = (e^1.5 + 1) / Z,
	# μ[1, 1, 1] = e^5 / Z, ...
	local want0 want1
	want0=$(awk 'BEGIN { z = exp(1.5) + 1 + exp(4) + exp(5)
		printf "%.17g %.17g 0 0 %.17g %.17g %.17g %.17g", (exp(1.5) + 1) / z,
			(exp(4) + exp(5)) / z, exp(1.5) / z, 1 / z, exp(4) / z, exp(5) / z }')
	want1=$(awk 'BEGIN { z = exp(0.25) + exp(-0.5)
		printf "%.17g %.17g 0 0 0 0 0 0", exp(0.25) / z, exp(-0.5) / z }')
	assert_close_lists "$(h5get g.h5 grad_log_potentials)" "$want0 $want1"
	# the same by enumeration, and log Z
	assert_close_lists "$(h5get g.h5 log_partition | head -n 1) $(h5get g.h5 grad_log_potentials | rows 1 8)" \
		"$(chain_structures 2 2 2 | brute partition theta="$TH0")"
	assert_close_lists "$(h5get g.h5 grad_log_potentials | rows 9 16)" \
		"$(chain_structures 2 2 1 | brute partition theta="$TH1" | rows 2 9)"
	# ∂ log Z / ∂θ = μ: the marginals command's numbers
	synstruct marginals -o m.h5 chain.h5
	assert_close_lists "$(h5get g.h5 grad_log_potentials)" "$(h5get m.h5 marginals)" 1e-15
	# the result itself is the plain command's
	synstruct partition -o p.h5 chain.h5
	assert_equal "$(h5get g.h5 log_partition)" "$(h5get p.h5 log_partition)"
}

@test "log-prob --grad is the event minus the marginals" {
	chain_file
	# gold (1, 0) for element 0; (0) for element 1, whose padding is ignored
	mk gold.h5 <<'EOF'
dataset labels int32 [2, 2] = 1 0  0 -1
EOF
	run --separate-stderr synstruct log-prob --grad -o g.h5 chain.h5 gold.h5
	assert_success
	assert_equal "$(h5get -s g.h5 log_prob)" "$(printf '[2]\nfloat64')"
	assert_equal "$(h5get -s g.h5 grad_log_potentials)" "$(printf '[2, 2, 2, 2]\nfloat64')"
	local got0 got1
	got0="$(h5get g.h5 log_prob | rows 1 1) $(h5get g.h5 grad_log_potentials | rows 1 8)"
	got1="$(h5get g.h5 log_prob | rows 2 2) $(h5get g.h5 grad_log_potentials | rows 9 16)"
	assert_close_lists "$got0" "$(chain_structures 2 2 2 | brute log-prob theta="$TH0" gold="1:1 6:1")"
	assert_close_lists "$got1" "$(chain_structures 2 2 1 | brute log-prob theta="$TH1" gold="0:1")"
	# by hand, element 1: event [1, 0] at [0, 0, :] minus softmax(0.25, -0.5)
	assert_close_lists "$(h5get g.h5 grad_log_potentials | rows 9 10)" \
		"$(awk 'BEGIN { z = exp(0.25) + exp(-0.5); printf "%.17g %.17g", 1 - exp(0.25) / z, -exp(-0.5) / z }')"
}

@test "log-prob --grad of events with a sample axis: [S, *b, n, t, t], each sample its own" {
	chain_file
	mk s.h5 <<'EOF'
dataset labels int32 [3, 2, 2] = 0 0  1 -1   1 1  0 -1   0 1  1 -1
EOF
	synstruct log-prob --grad -o g.h5 chain.h5 s.h5
	assert_equal "$(h5get -s g.h5 log_prob)" "$(printf '[3, 2]\nfloat64')"
	assert_equal "$(h5get -s g.h5 grad_log_potentials)" "$(printf '[3, 2, 2, 2, 2]\nfloat64')"
	local -a gold0=("0:1 4:1" "1:1 7:1" "0:1 5:1") gold1=("1:1" "0:1" "1:1")
	local s got want
	for s in 0 1 2; do
		got="$(h5get g.h5 log_prob | rows $((2 * s + 1)) $((2 * s + 1)))"
		got+=" $(h5get g.h5 grad_log_potentials | rows $((16 * s + 1)) $((16 * s + 8)))"
		want=$(chain_structures 2 2 2 | brute log-prob theta="$TH0" gold="${gold0[s]}")
		assert_close_lists "$got" "$want"
		got="$(h5get g.h5 log_prob | rows $((2 * s + 2)) $((2 * s + 2)))"
		got+=" $(h5get g.h5 grad_log_potentials | rows $((16 * s + 9)) $((16 * s + 16)))"
		want=$(chain_structures 2 2 1 | brute log-prob theta="$TH1" gold="${gold1[s]}")
		assert_close_lists "$got" "$want"
	done
	# JSON Lines: a list of S arrays per line
	run synstruct log-prob --grad chain.h5 s.h5
	assert_close_lists "$(jsonq - grad_log_potentials.2.1.0.0 <<<"$output" | head -n 1)
		$(jsonq - grad_log_potentials.2.1.0.1 <<<"$output" | head -n 1)" \
		"$(h5get g.h5 grad_log_potentials | rows 37 38)" 0
}

@test "entropy --grad is -Cov(event, score), by brute force (n = 3, t = 3, lengths 3 and 2)" {
	local th0="0 1 -1 5 5 5 5 5 5  0.5 -0.25 2 1 0 -1 0.75 1.5 -2  1 -1 0.5 0 2 -0.5 0.25 -1.5 1"
	local th1="1 0.5 0 7 7 7 7 7 7  -1 2 0.5 0.25 1 -0.75 0 -2 1.25  9 9 9 9 9 9 9 9 9"
	mk e.h5 <<EOF
attr structure string linear-chain
dataset log_potentials float64 [2, 3, 3, 3] = $th0 $th1
dataset lengths int64 [2] = 3 2
EOF
	run --separate-stderr synstruct entropy --grad -o g.h5 e.h5
	assert_success
	assert_equal "$(h5get -s g.h5 grad_log_potentials)" "$(printf '[2, 3, 3, 3]\nfloat64')"
	assert_close_lists "$(h5get g.h5 entropy | rows 1 1) $(h5get g.h5 grad_log_potentials | rows 1 27)" \
		"$(chain_structures 3 3 3 | brute entropy theta="$th0")" 1e-9
	assert_close_lists "$(h5get g.h5 entropy | rows 2 2) $(h5get g.h5 grad_log_potentials | rows 28 54)" \
		"$(chain_structures 3 3 2 | brute entropy theta="$th1")" 1e-9
	# entries never read are 0: rows 1.. at position 0, position 2 of element 1
	assert_equal "$(h5get g.h5 grad_log_potentials | rows 4 9 | zeros)" 6
	assert_equal "$(h5get g.h5 grad_log_potentials | rows 46 54 | zeros)" 9
}

@test "kl and cross-entropy --grad: grad_p_ and grad_q_ in the inputs' shapes; grad_q = μ_q - μ_p, grad_p by brute force" {
	local tp="0 1 7 9 0.5 -0.5 1 0" tq="1 -1 3 3 2 0.25 -1 0.5"
	mk p.h5 <<EOF
attr structure string linear-chain
dataset log_potentials float64 [1, 2, 2, 2] = $tp
EOF
	mk q.h5 <<EOF
attr structure string linear-chain
dataset log_potentials float64 [1, 2, 2, 2] = $tq
EOF
	local c r
	for c in kl cross-entropy; do
		r=$(result "$c" | tr - _)
		run --separate-stderr synstruct "$c" --grad -o g.h5 p.h5 q.h5
		assert_success
		assert_equal "$(h5get -l g.h5 | tr '\n' ' ')" \
			"$(printf '%s\n' grad_p_log_potentials grad_q_log_potentials "$r" | sort | tr '\n' ' ')"
		assert_equal "$(h5get -s g.h5 grad_p_log_potentials)" "$(printf '[1, 2, 2, 2]\nfloat64')"
		assert_equal "$(h5get -s g.h5 grad_q_log_potentials)" "$(printf '[1, 2, 2, 2]\nfloat64')"
		assert_close_lists "$(h5get g.h5 "$r") $(h5get g.h5 grad_p_log_potentials) $(h5get g.h5 grad_q_log_potentials)" \
			"$(chain_structures 2 2 2 | brute "${c/cross-entropy/ce}" theta="$tp" theta_q="$tq")" 1e-9
		# grad_q = μ_q - μ_p, from the marginals command
		synstruct marginals -o mp.h5 p.h5
		synstruct marginals -o mq.h5 q.h5
		assert_close_lists "$(h5get g.h5 grad_q_log_potentials)" \
			"$(paste <(h5get mq.h5 marginals) <(h5get mp.h5 marginals) | awk '{ printf "%.17g\n", $1 - $2 }')" 1e-12
	done
	# JSON Lines: both gradients on the line
	run synstruct kl --grad p.h5 q.h5
	assert_output --regexp '^\{"index":\[0\],"kl":[^,]*,"grad_p_log_potentials":\[\[\[.*\]\]\],"grad_q_log_potentials":\[\[\[.*\]\]\]\}$'
}

@test "--grad with --temperature: d log Z_T/dθ = μ_T / T and d log p_T(y)/dθ = (y - μ_T) / T, by brute force" {
	chain_file
	synstruct partition --grad --temperature 0.5 -o g.h5 chain.h5
	assert_equal "$(h5get -a g.h5 temperature)" 0.5
	assert_close_lists "$(h5get g.h5 log_partition | head -n 1) $(h5get g.h5 grad_log_potentials | rows 1 8)" \
		"$(chain_structures 2 2 2 | brute partition theta="$TH0" T=0.5)"
	mk gold.h5 <<'EOF'
dataset labels int32 [2, 2] = 0 1  1 -1
EOF
	synstruct log-prob --grad --temperature 3 -o g.h5 chain.h5 gold.h5
	assert_close_lists "$(h5get g.h5 log_prob | head -n 1) $(h5get g.h5 grad_log_potentials | rows 1 8)" \
		"$(chain_structures 2 2 2 | brute log-prob theta="$TH0" T=3 gold="0:1 5:1")"
}

@test "spanning trees (3 nodes): directed grad = the arc marginals, 0 on the diagonal and column 0; undirected, half an edge's marginal on each of its two entries" {
	local th="nan 1 -0.5  nan nan 2  nan 0.25 nan"
	mk t.h5 <<EOF
attr structure string spanning-tree
dataset log_potentials float64 [3, 3] = $th
EOF
	# brute's potentials: the nans as 0 (no tree uses them)
	local th0=${th//nan/0}
	# the three trees rooted at 0: {0->1, 0->2}, {0->1, 1->2}, {0->2, 2->1}
	synstruct partition --grad -o g.h5 t.h5
	assert_equal "$(h5get -s g.h5 grad_log_potentials)" "$(printf '[3, 3]\nfloat64')"
	assert_close_lists "$(h5get g.h5 log_partition) $(h5get g.h5 grad_log_potentials)" \
		"$(printf '1:1 2:1\n1:1 5:1\n2:1 7:1\n' | brute partition theta="$th0")"
	assert_equal "$(h5get g.h5 grad_log_potentials | sed -n '1p;4p;5p;7p;9p' | zeros)" 5
	# undirected: an edge {a, b} scores (θ[a, b] + θ[b, a]) / 2
	th="0 1 -0.5  0.5 0 2  1.5 0.25 0"
	mk u.h5 <<EOF
attr structure string spanning-tree
attr directed int 0
dataset log_potentials float64 [3, 3] = $th
EOF
	synstruct entropy --grad -o g.h5 u.h5
	assert_close_lists "$(h5get g.h5 entropy) $(h5get g.h5 grad_log_potentials)" \
		"$(printf '1:0.5 3:0.5 2:0.5 6:0.5\n1:0.5 3:0.5 5:0.5 7:0.5\n2:0.5 6:0.5 5:0.5 7:0.5\n' |
			brute entropy theta="$th")" 1e-9
}

# An hmm of t = 2 states over V = 3 words, its parameters shared by two
# sentences: init_logits [t], transition_logits [t, t]; emission_logits
# per sentence [2, t, V].
INIT="0.5 -0.25"
TRANS="1 -0.5 0.25 0.75"
EMIS0="1.5 0.25 -1 -1 1 0.5"
EMIS1="0 -0.75 2 0.5 -0.5 1"
hmm_file() {
	mk hmm.h5 <<EOF
attr structure string hmm
dataset init_logits float64 [2] = $INIT
dataset transition_logits float64 [2, 2] = $TRANS
dataset emission_logits float64 [2, 2, 3] = $EMIS0 $EMIS1
dataset observations int32 [2, 3] = 0 2 1  2 2 -1
dataset lengths int32 [2] = 3 2
EOF
	mk e0.h5 <<EOF
attr structure string hmm
dataset init_logits float64 [2] = $INIT
dataset transition_logits float64 [2, 2] = $TRANS
dataset emission_logits float64 [2, 3] = $EMIS0
dataset observations int32 [3] = 0 2 1
EOF
	mk e1.h5 <<EOF
attr structure string hmm
dataset init_logits float64 [2] = $INIT
dataset transition_logits float64 [2, 2] = $TRANS
dataset emission_logits float64 [2, 3] = $EMIS1
dataset observations int32 [2] = 2 2
EOF
}

@test "hmm, shared init and transition logits: gradients in the datasets' shapes, the sums over the sentences, by brute force" {
	hmm_file
	run --separate-stderr synstruct partition --grad -o g.h5 hmm.h5
	assert_success
	assert_equal "$(h5get -l g.h5 | tr '\n' ' ')" "grad_emission_logits grad_init_logits grad_transition_logits log_partition "
	assert_equal "$(h5get -s g.h5 grad_init_logits)" "$(printf '[2]\nfloat64')"
	assert_equal "$(h5get -s g.h5 grad_transition_logits)" "$(printf '[2, 2]\nfloat64')"
	assert_equal "$(h5get -s g.h5 grad_emission_logits)" "$(printf '[2, 2, 3]\nfloat64')"
	local b0 b1
	b0=$(hmm_brute 2 3 "0 2 1" "$INIT" "$TRANS" "$EMIS0")
	b1=$(hmm_brute 2 3 "2 2" "$INIT" "$TRANS" "$EMIS1")
	assert_close_lists "$(h5get g.h5 log_partition)" "$(rows 1 1 <<<"$b0") $(rows 1 1 <<<"$b1")"
	assert_close_lists "$(h5get g.h5 grad_init_logits)" \
		"$(paste <(rows 2 3 <<<"$b0") <(rows 2 3 <<<"$b1") | sum_lists_rows)"
	assert_close_lists "$(h5get g.h5 grad_transition_logits)" \
		"$(paste <(rows 4 7 <<<"$b0") <(rows 4 7 <<<"$b1") | sum_lists_rows)"
	assert_close_lists "$(h5get g.h5 grad_emission_logits)" \
		"$(rows 8 13 <<<"$b0") $(rows 8 13 <<<"$b1")"
	# each sentence alone: the shared gradients are the sums of theirs
	synstruct partition --grad -o a0.h5 e0.h5
	synstruct partition --grad -o a1.h5 e1.h5
	local d
	for d in grad_init_logits grad_transition_logits; do
		assert_equal "$(h5get -s a0.h5 "$d")" "$(h5get -s g.h5 "$d")"
		assert_close_lists "$(h5get g.h5 "$d")" \
			"$(paste <(h5get a0.h5 "$d") <(h5get a1.h5 "$d") | sum_lists_rows)" 1e-15
	done
	# JSON Lines: each line its own share, as the sentence alone gives it
	run synstruct partition --grad hmm.h5
	assert_equal "${#lines[@]}" 2
	assert_close_lists "$(jsonq - grad_transition_logits <<<"${lines[0]}")" "$(h5get a0.h5 grad_transition_logits)" 1e-15
	assert_close_lists "$(jsonq - grad_transition_logits <<<"${lines[1]}")" "$(h5get a1.h5 grad_transition_logits)" 1e-15
	assert_close_lists "$(jsonq - grad_init_logits <<<"${lines[1]}")" "$(h5get a1.h5 grad_init_logits)" 1e-15
	# observations and lengths are integers: no gradient
	refute_output --partial grad_observations
	refute_output --partial grad_lengths
}

@test "a dataset broadcast along one batch axis: its gradient is summed over that axis only" {
	# batch [2, 3]: init_logits [2, 1, t] (one per row), the rest shared
	mk b.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [2, 1, 2] = 0.5 -0.25  -1 1
dataset transition_logits float64 [2, 2] = 1 -0.5 0.25 0.75
dataset emission_logits float64 [2, 3] = 1.5 0.25 -1 -1 1 0.5
dataset observations int32 [2, 3, 2] = 0 1  2 2  1 0   0 0  2 1  1 1
EOF
	synstruct partition --grad -o g.h5 b.h5
	assert_equal "$(h5get -s g.h5 log_partition)" "$(printf '[2, 3]\nfloat64')"
	assert_equal "$(h5get -s g.h5 grad_init_logits)" "$(printf '[2, 1, 2]\nfloat64')"
	assert_equal "$(h5get -s g.h5 grad_emission_logits)" "$(printf '[2, 3]\nfloat64')"
	# by brute force, element by element
	local -a obs=("0 1" "2 2" "1 0" "0 0" "2 1" "1 1") init=("0.5 -0.25" "-1 1")
	local e all=""
	for e in 0 1 2 3 4 5; do
		all+=$(hmm_brute 2 3 "${obs[e]}" "${init[e / 3]}" "1 -0.5 0.25 0.75" "1.5 0.25 -1 -1 1 0.5" |
			tail -n +2 | tr '\n' ' ')$'\n'
	done
	# init: rows 0-2 and 3-5 summed apart; transition and emission: all six
	assert_close_lists "$(h5get g.h5 grad_init_logits)" \
		"$(rows 1 3 <<<"$all" | sum_lists | rows 1 2) $(rows 4 6 <<<"$all" | sum_lists | rows 1 2)"
	assert_close_lists "$(h5get g.h5 grad_transition_logits)" "$(sum_lists <<<"$all" | rows 3 6)"
	assert_close_lists "$(h5get g.h5 grad_emission_logits)" "$(sum_lists <<<"$all" | rows 7 12)"
}

@test "float32 inputs give float32 gradients; --dtype float64 overrides" {
	mk f.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float32 [2, 2, 2] = 1 2 5 7 0.5 -1 2 3
EOF
	synstruct partition --grad -o g.h5 f.h5
	assert_equal "$(h5get -s g.h5 grad_log_potentials)" "$(printf '[2, 2, 2]\nfloat32')"
	assert_close_lists "$(h5get g.h5 grad_log_potentials)" \
		"$(chain_structures 2 2 2 | brute partition theta="$TH0" | tail -n +2)" 1e-6
	synstruct entropy --grad --dtype float64 -o g.h5 f.h5
	assert_equal "$(h5get -s g.h5 grad_log_potentials)" "$(printf '[2, 2, 2]\nfloat64')"
	# JSON Lines prints the float32 values
	synstruct partition --grad -o g.h5 f.h5
	run synstruct partition --grad f.h5
	assert_equal "$(jsonq - grad_log_potentials <<<"$output" | flat | float32_round)" \
		"$(h5get g.h5 grad_log_potentials)"
}

@test "JSON Lines: every line carries its grad_ members, after the result; JSON Lines input too" {
	chain_file
	run --separate-stderr synstruct entropy --grad chain.h5
	assert_success
	assert_equal "${#lines[@]}" 2
	local k
	for k in 0 1; do
		[[ ${lines[k]} =~ ^\{\"index\":\[$k\],\"entropy\":[^,]+,\"grad_log_potentials\":\[\[\[ ]] ||
			fail "line $k: ${lines[k]}"
	done
	synstruct entropy --grad -o g.h5 chain.h5
	assert_close_lists "$(printf '%s\n' "${lines[@]}" | jsonq - grad_log_potentials)" \
		"$(h5get g.h5 grad_log_potentials)" 0
	# a JSON Lines input: one batch axis
	printf '%s\n' '{"structure":"linear-chain","log_potentials":[[[1,2],[5,7]],[[0.5,-1],[2,3]]],"lengths":2}' \
		'{"structure":"linear-chain","log_potentials":[[[0.25,-0.5],[9,9]],[[1,2],[3,4]]],"lengths":1}' > in.jsonl
	synstruct partition --grad -o j.h5 in.jsonl
	assert_equal "$(h5get -s j.h5 grad_log_potentials)" "$(printf '[2, 2, 2, 2]\nfloat64')"
	synstruct partition --grad -o g.h5 chain.h5
	assert_equal "$(h5get j.h5 grad_log_potentials)" "$(h5get g.h5 grad_log_potentials)"
}

@test "the same bytes at -j 1 and -j 2, and in chunks of any size (--max-memory)" {
	mk big.h5 <<'EOF'
attr structure string hmm
dataset init_logits float64 [3] random 1 -1 1
dataset transition_logits float64 [3, 3] random 2 -2 2
dataset emission_logits float64 [3, 5] random 3 -2 2
dataset observations int32 [300, 12] random 4 0 5
EOF
	local c out
	for c in partition entropy; do
		synstruct "$c" --grad -j 1 -o a.h5 big.h5
		synstruct "$c" --grad -j 2 -o b.h5 big.h5
		synstruct "$c" --grad -j 2 --max-memory 64K -o c.h5 big.h5
		cmp a.h5 b.h5
		cmp a.h5 c.h5
		synstruct "$c" --grad -j 1 -o a.jsonl big.h5
		synstruct "$c" --grad -j 2 --max-memory 64K -o b.jsonl big.h5
		cmp a.jsonl b.jsonl
	done
	synstruct sample -n 3 --seed 2 -o s.h5 big.h5
	synstruct log-prob --grad -j 1 -o a.h5 big.h5 s.h5
	synstruct log-prob --grad -j 2 --max-memory 64K -o b.h5 big.h5 s.h5
	cmp a.h5 b.h5
	assert_equal "$(h5get -s a.h5 grad_transition_logits)" "$(printf '[3, 3, 3]\nfloat64')"
}

@test "--max-memory counts the gradients" {
	mk big.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [1, 64, 32, 32] fill 0
EOF
	# one element: 512 KiB of potentials; its gradient is as large again,
	# beside the workspace of the second-order pass
	local plain
	run --separate-stderr synstruct partition -j 1 --max-memory 2M big.h5
	assert_success
	run --separate-stderr synstruct partition -j 1 --max-memory 512K big.h5
	assert_failure 1
	plain=$(sed -n 's/.* needs \([0-9.]*\) MiB, .*/\1/p' <<<"$stderr")
	run --separate-stderr synstruct partition --grad -j 1 --max-memory 2M big.h5
	assert_failure 1
	[[ $stderr =~ ^"synstruct: error: 'big.h5': one batch element needs "([0-9.]+)" MiB, more than --max-memory (2.0 MiB)"$ ]] ||
		fail "stderr: $stderr"
	awk -v g="${BASH_REMATCH[1]}" -v p="$plain" 'BEGIN { exit !(g >= p + 0.5) }' ||
		fail "--grad needs ${BASH_REMATCH[1]} MiB, not 0.5 MiB more than the plain command's $plain MiB"
}

@test "--grad on a command without gradients is bad usage (exit 2) naming those that have them; --help lists it where it applies" {
	chain_file
	local c
	for c in marginals argmax sample count top-k max-marginals info; do
		expect_usage "synstruct: error: '--grad' applies only to partition, entropy, log-prob, cross-entropy and kl; see 'synstruct $c --help'" \
			"$c" --grad chain.h5
		run synstruct "$c" --help
		refute_output --partial -- --grad
	done
	for c in partition entropy log-prob cross-entropy kl; do
		run synstruct "$c" --help
		assert_output --partial -- --grad
	done
}

@test "a failing run with --grad writes nothing and leaves no output file" {
	mk bad.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] = 1 2 0 0  0.5 -1 2 3  1 nan 0 0  0 0 0 0
EOF
	local c
	for c in partition entropy; do
		expect_error "~^synstruct: error: 'bad.h5': .* in batch element \[1\]\$" "$c" --grad bad.h5
	done
	expect_error "~^synstruct: error: 'bad.h5': .* in batch element \[1\]\$" kl --grad bad.h5 bad.h5
}

@test "an element without a structure gets zero gradients, and the warning" {
	mk none.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2, 2] = 1 2 0 0  0.5 -1 2 3  -inf -inf 0 0  0 0 0 0
EOF
	run --separate-stderr synstruct partition --grad -o g.h5 none.h5
	assert_success
	assert_equal "$stderr" "synstruct: warning: 'none.h5': no structure for 1 of 2 elements: [1]"
	assert_equal "$(h5get g.h5 grad_log_potentials | rows 9 16 | zeros)" 8
}

# readme_policy_gradient sh|python: the README's block of that language in
# "A policy-gradient step for a dependency parser".
readme_policy_gradient() {
	awk -v lang="$1" '/^### A policy-gradient step/ { in_section = 1; next }
	     in_section && !on && /^#/ { exit }
	     in_section && $0 == "```" lang { on = 1; next }
	     on && /^```$/ { exit }
	     on { print }' "$ROOT/README.md"
}

@test "the README's policy-gradient step runs as written and ends in one gradient of trees.h5's shape" {
	[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import h5py, numpy, torch' 2>/dev/null ||
		skip "/usr/bin/python3 cannot import h5py, numpy and torch"
	cp "$BUILD/examples/trees.h5" .
	readme_policy_gradient sh > step.sh
	grep -q -- 'log-prob --grad' step.sh || fail "the README's pipeline has no log-prob --grad"
	run bash step.sh
	assert_success
	assert_equal "$(h5get -s logp.h5 grad_log_potentials)" "$(printf '[8, 4, 6, 6]\nfloat32')"
	assert_equal "$(h5get -s entropy.h5 grad_log_potentials)" "$(printf '[4, 6, 6]\nfloat32')"
	# gold trees for the rewards, and the model's logits as a leaf tensor
	mk gold.h5 <<'EOF2'
dataset heads int32 [4, 6] = -1 0 1 1 0 4  -1 0 1 2 -1 -1  -1 2 0 2 3 -1  -1 3 3 0 3 3
EOF2
	{
		printf '%s\n' 'import h5py, torch' \
			'with h5py.File("trees.h5") as f:' \
			'    logits = torch.tensor(f["log_potentials"][()], requires_grad=True)'
		readme_policy_gradient python
		printf '%s\n' 'import numpy' \
			'g = h5py.File("grad.h5")["grad_log_potentials"][()]' \
			'assert g.shape == (4, 6, 6) and numpy.isfinite(g).all() and numpy.abs(g).max() > 0' \
			'assert (logits.grad.numpy() == g).all()'
	} > step.py
	run /usr/bin/python3 step.py
	assert_success
	assert_equal "$(h5get -s grad.h5 grad_log_potentials)" "$(printf '[4, 6, 6]\nfloat32')"
	# the root's column and the diagonal are never read: 0
	assert_equal "$(h5get grad.h5 grad_log_potentials | awk 'NR % 6 == 1 || int((NR - 1) / 6) % 6 == (NR - 1) % 6' | zeros)" 44
}
