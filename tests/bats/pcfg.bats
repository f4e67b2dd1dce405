#!/usr/bin/env bats
# pcfg on the command line: a hand-computed grammar, the two-part events
# (<name> and <name>_tags), rule_counts, spans, log-prob read back, bad
# lengths, JSON Lines, thread counts.
#
# The grammar: one nonterminal S (symbol 0), one preterminal P (symbol 1),
# two words, emission uniform (each word 1/2). rule[S] = [0, log 2, 0, 0]
# over (Y, Z) = SS, SP, PS, PP: p(S -> S P) = 2/5, the others 1/5. Over
# 3 words, tree A = ((w0 w1) w2) has p = 2/5 * 1/5 * 1/8 = 2/200 and
# tree B = (w0 (w1 w2)) 1/5 * 1/5 * 1/8 = 1/200: Z = 3/200, p(A) = 2/3.
# Over 2 words: S -> P P only, Z = 1/5 * 1/4 = 1/20.

load common

grammar() {
	mk g.h5 <<EOF2
attr structure string pcfg
dataset root float64 [1] = 0
dataset rule float64 [1, 2, 2] = 0 0.69314718055994531 0 0
dataset emission float64 [1, 2] = 0 0
dataset word_ids int64 [2, 3] = 0 1 0 1 1 -1
dataset lengths int64 [2] = 3 2
EOF2
}

@test "pcfg: partition of a hand-computed grammar: log(3/200) and log(1/20)" {
	grammar
	run synstruct partition g.h5
	assert_success
	assert_close "$(member log_partition <<<"${lines[0]}")" "$(awk 'BEGIN { printf "%.17g", log(3 / 200) }')"
	assert_close "$(member log_partition <<<"${lines[1]}")" "$(awk 'BEGIN { printf "%.17g", log(1 / 20) }')"
}

@test "pcfg: marginals writes marginals, marginals_tags and rule_counts" {
	grammar
	run synstruct marginals -o m.h5 g.h5
	assert_success
	assert_equal "$(h5get -s m.h5 marginals)" "$(printf '[2, 3, 3, 1]\nfloat64')"
	assert_equal "$(h5get -s m.h5 marginals_tags)" "$(printf '[2, 3, 1]\nfloat64')"
	assert_equal "$(h5get -s m.h5 rule_counts)" "$(printf '[2, 1, 2, 2]\nfloat64')"
	# element 0: spans (0,1) 2/3, (0,2) 1, (1,2) 1/3; every word tagged P
	assert_close_lists "$(h5get m.h5 marginals | head -9)" \
		"0 0.66666666666666667 1 0 0 0.33333333333333333 0 0 0"
	assert_close_lists "$(h5get m.h5 marginals_tags)" "1 1 1 1 1 0"
	# S -> S P 2/3, S -> P S 1/3, S -> P P once; element 1: S -> P P once
	assert_close_lists "$(h5get m.h5 rule_counts)" \
		"0 0.66666666666666667 0.33333333333333333 1 0 0 0 1"
}

@test "pcfg: argmax spans in pre-order, -1 padding; --events writes argmax_tags" {
	grammar
	run synstruct argmax g.h5
	assert_success
	assert_equal "$(jsonq - spans <<<"${lines[0]}")" "[[0,2,0],[0,1,0],[0,0,0],[1,1,0],[2,2,0]]"
	assert_equal "$(jsonq - spans <<<"${lines[1]}")" "[[0,1,0],[0,0,0],[1,1,0],[-1,-1,-1],[-1,-1,-1]]"
	assert_close "$(member score <<<"${lines[0]}")" "$(awk 'BEGIN { printf "%.17g", log(2 / 200) }')"
	run synstruct argmax --events -o a.h5 g.h5
	assert_success
	assert_equal "$(h5get -s a.h5 argmax)" "$(printf '[2, 3, 3, 1]\nuint8')"
	assert_equal "$(h5get -s a.h5 argmax_tags)" "$(printf '[2, 3, 1]\nuint8')"
	assert_equal "$(h5get a.h5 argmax_tags | tr '\n' ' ')" "1 1 1 1 1 0 "
}

@test "pcfg: log-prob reads argmax + argmax_tags (HDF5 and JSON Lines), samples + samples_tags, and spans" {
	grammar
	synstruct argmax --events -o a.h5 g.h5
	synstruct argmax --events -o a.jsonl g.h5
	synstruct argmax -o s.h5 g.h5
	for f in a.h5 a.jsonl s.h5; do
		run synstruct log-prob g.h5 "$f"
		assert_success
		assert_close "$(member log_prob <<<"${lines[0]}")" "$(awk 'BEGIN { printf "%.17g", log(2 / 3) }')"
		assert_close "$(member log_prob <<<"${lines[1]}")" 0
	done
	synstruct sample --events --num-samples 4 -o x.h5 g.h5
	run synstruct log-prob -o lp.h5 g.h5 x.h5
	assert_success
	assert_close_lists "$(h5get lp.h5 log_prob)" "$(h5get x.h5 log_prob)"
	# the tags part is required beside the chart
	h5mk - n.h5 <<EOF2
dataset argmax uint8 [2, 3, 3, 1] fill 0
EOF2
	run synstruct log-prob g.h5 n.h5
	assert_failure 1
	assert_output --partial "no dataset 'argmax_tags'"
}

@test "pcfg: a sentence of one word is bad input; rule of the wrong width names 'rule'" {
	mk b.h5 <<'EOF2'
attr structure string pcfg
dataset root float64 [1] = 0
dataset rule float64 [1, 2, 2] = 0 0 0 0
dataset preterminal_scores float64 [2, 1] = 0 0
dataset lengths int64 [] = 1
EOF2
	run synstruct partition b.h5
	assert_failure 1
	assert_output --partial "'b.h5': dataset 'lengths' holds 1; a pcfg needs sentences of at least 2 words"
	mk w.h5 <<'EOF2'
attr structure string pcfg
dataset root float64 [1] = 0
dataset rule float64 [1, 3, 3] fill 0
dataset preterminal_scores float64 [2, 1] = 0 0
EOF2
	run synstruct partition w.h5
	assert_failure 1
	assert_output --partial "dataset 'rule' has shape [1, 3, 3]; pcfg needs [*b, nt, nt+pt, nt+pt] with nt+pt = 2"
}

@test "pcfg: JSON Lines input of one element, marginals with tags and counts" {
	printf '%s\n' '{"structure": "pcfg", "root": [0], "rule": [[[0, 0.69314718055994531], [0, 0]]], "emission": [[0, 0]], "word_ids": [0, 1, 0]}' > g.jsonl
	run synstruct partition g.jsonl
	assert_success
	assert_close "$(member log_partition <<<"$output")" "$(awk 'BEGIN { printf "%.17g", log(3 / 200) }')"
	run synstruct marginals g.jsonl
	assert_success
	assert_close_lists "$(jsonq - marginals_tags <<<"$output")" "1 1 1"
	assert_close_lists "$(jsonq - rule_counts <<<"$output")" "0 0.66666666666666667 0.33333333333333333 1"
}

@test "pcfg: the same bytes at -j 1 and -j 2" {
	mk r.h5 <<'EOF2'
attr structure string pcfg
dataset root float64 [6, 2] random 1
dataset rule float64 [6, 2, 4, 4] random 2
dataset preterminal_scores float64 [6, 5, 2] random 3
dataset lengths int64 [6] = 5 2 3 4 5 2
EOF2
	for cmd in partition marginals "argmax --events" "sample --events" entropy; do
		# shellcheck disable=SC2086
		synstruct $cmd -j 1 -o one.h5 r.h5
		# shellcheck disable=SC2086
		synstruct $cmd -j 2 -o two.h5 r.h5
		cmp one.h5 two.h5
	done
}
