#!/usr/bin/env bats
# td-pcfg on the command line: a hand-computed grammar, the two-part
# marginals (marginals and marginals_tags), count, the commands it refuses,
# bad lengths and values, JSON Lines, thread counts.
#
# The grammar: one nonterminal S (symbol 0), one preterminal P (symbol 1),
# rank 2, emission uniform (each word 1/2). U[S] = (1/3, 2/3); Left[0] =
# (1/2, 1/2), Left[1] = (3/4, 1/4); Right[0] = (1/4, 3/4), Right[1] =
# (1/2, 1/2) over (S, P). p(S -> Y Z) = Σ_r U[r] Left[r, Y] Right[r, Z]:
# SS 7/24, SP 9/24, PS 3/24, PP 5/24. Over 3 words, tree A = ((w0 w1) w2)
# has p = 9/24 * 5/24 / 8 and tree B = (w0 (w1 w2)) 3/24 * 5/24 / 8:
# Z = 5/384, p(A) = 3/4. Over 2 words: S -> P P only, Z = 5/24 / 4 = 5/96.
# Ranks: of a span P P, r = 0 with 1/3 * 1/2 * 3/4 = 1/8 against r = 1
# with 2/3 * 1/4 * 1/2 = 1/12: 3/5 and 2/5; of the top span of A (S P),
# 1/8 against 1/4, of B (P S) 1/24 against 1/12: 1/3 and 2/3 either way.

load common

grammar() {
	mk g.h5 <<EOF2
attr structure string td-pcfg
dataset root float64 [1] = 0
dataset nt_to_rank float64 [1, 2] = 0 0.69314718055994531
dataset rank_to_left_nt float64 [2, 2] = 0 0 1.0986122886681098 0
dataset rank_to_right_nt float64 [2, 2] = 0 1.0986122886681098 0 0
dataset emission float64 [1, 2] = 0 0
dataset word_ids int64 [2, 3] = 0 1 0 1 1 -1
dataset lengths int64 [2] = 3 2
EOF2
}

# The pcfg of the composed rules, log Σ_r U Left Right, computed here.
composed() {
	local rule
	rule=$(awk 'BEGIN {
		u[0] = 1 / 3; u[1] = 2 / 3
		l[0, 0] = 1 / 2; l[0, 1] = 1 / 2; l[1, 0] = 3 / 4; l[1, 1] = 1 / 4
		r[0, 0] = 1 / 4; r[0, 1] = 3 / 4; r[1, 0] = 1 / 2; r[1, 1] = 1 / 2
		for (y = 0; y < 2; y++)
			for (z = 0; z < 2; z++) {
				p = 0
				for (k = 0; k < 2; k++)
					p += u[k] * l[k, y] * r[k, z]
				printf "%.17g ", log(p)
			}
	}')
	mk p.h5 <<EOF2
attr structure string pcfg
dataset root float64 [1] = 0
dataset rule float64 [1, 2, 2] = $rule
dataset emission float64 [1, 2] = 0 0
dataset word_ids int64 [2, 3] = 0 1 0 1 1 -1
dataset lengths int64 [2] = 3 2
EOF2
}

@test "td-pcfg: partition of a hand-computed grammar: log(5/384) and log(5/96), the composed pcfg's" {
	grammar
	composed
	run synstruct partition g.h5
	assert_success
	assert_close "$(member log_partition <<<"${lines[0]}")" "$(awk 'BEGIN { printf "%.17g", log(5 / 384) }')"
	assert_close "$(member log_partition <<<"${lines[1]}")" "$(awk 'BEGIN { printf "%.17g", log(5 / 96) }')"
	synstruct partition -o td.h5 g.h5
	synstruct partition -o pcfg.h5 p.h5
	assert_close_lists "$(h5get td.h5 log_partition)" "$(h5get pcfg.h5 log_partition)"
}

@test "td-pcfg: marginals writes marginals [*b, n, n, r] and marginals_tags" {
	grammar
	run synstruct marginals -o m.h5 g.h5
	assert_success
	assert_equal "$(h5get -s m.h5 marginals)" "$(printf '[2, 3, 3, 2]\nfloat64')"
	assert_equal "$(h5get -s m.h5 marginals_tags)" "$(printf '[2, 3, 1]\nfloat64')"
	# element 0: span (0,1) in A (3/4) by rank 3/5, 2/5; (0,2) 1/3, 2/3;
	# (1,2) in B (1/4) by 3/5, 2/5. Element 1: (0,1) 3/5, 2/5.
	assert_close_lists "$(h5get m.h5 marginals | head -18)" \
		"0 0 0.45 0.3 0.33333333333333333 0.66666666666666667 0 0 0 0 0.15 0.1 0 0 0 0 0 0"
	assert_close_lists "$(h5get m.h5 marginals | tail -18)" \
		"0 0 0.6 0.4 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
	assert_close_lists "$(h5get m.h5 marginals_tags)" "1 1 1 1 1 0"
	# no rule_counts: the counts of a td-pcfg are not asked for
	run h5get -s m.h5 rule_counts
	assert_failure
}

@test "td-pcfg: count is of derivations: 2 trees x 2 ranks per span of 3 words, 2 ranks of 2 words" {
	grammar
	run synstruct count g.h5
	assert_success
	assert_close "$(member log_count <<<"${lines[0]}")" "$(awk 'BEGIN { printf "%.17g", log(8) }')"
	assert_close "$(member log_count <<<"${lines[1]}")" "$(awk 'BEGIN { printf "%.17g", log(2) }')"
}

@test "td-pcfg: argmax, sample, entropy, log-prob and kl refuse, naming the commands that work" {
	grammar
	for cmd in argmax sample entropy; do
		run synstruct "$cmd" g.h5
		assert_failure 1
		assert_output --partial "td-pcfg does not support $cmd: "
		assert_output --partial "the rank variables make them differ from the tree distribution; td-pcfg supports partition, marginals, count"
	done
	run synstruct log-prob g.h5 g.h5
	assert_failure 1
	assert_output --partial "does not determine the nonterminals"
	for cmd in kl cross-entropy; do
		run synstruct "$cmd" g.h5 g.h5
		assert_failure 1
		assert_output --partial "td-pcfg supports partition, marginals, count"
	done
}

@test "td-pcfg: a sentence of one word, NaN in nt_to_rank and a rank mismatch are bad input" {
	mk b.h5 <<'EOF2'
attr structure string td-pcfg
dataset root float64 [1] = 0
dataset nt_to_rank float64 [1, 1] = 0
dataset rank_to_left_nt float64 [1, 2] = 0 0
dataset rank_to_right_nt float64 [1, 2] = 0 0
dataset preterminal_scores float64 [2, 1] = 0 0
dataset lengths int64 [] = 1
EOF2
	run synstruct partition b.h5
	assert_failure 1
	assert_output --partial "'b.h5': dataset 'lengths' holds 1; a td-pcfg needs sentences of at least 2 words"
	mk n.h5 <<'EOF2'
attr structure string td-pcfg
dataset root float64 [1] = 0
dataset nt_to_rank float64 [1, 2] = 0 nan
dataset rank_to_left_nt float64 [2, 2] = 0 0 0 0
dataset rank_to_right_nt float64 [2, 2] = 0 0 0 0
dataset preterminal_scores float64 [2, 1] = 0 0
EOF2
	run synstruct partition n.h5
	assert_failure 1
	assert_output --partial "'n.h5': dataset 'nt_to_rank'"
	mk w.h5 <<'EOF2'
attr structure string td-pcfg
dataset root float64 [1] = 0
dataset nt_to_rank float64 [1, 2] = 0 0
dataset rank_to_left_nt float64 [3, 2] fill 0
dataset rank_to_right_nt float64 [2, 2] fill 0
dataset preterminal_scores float64 [2, 1] = 0 0
EOF2
	run synstruct partition w.h5
	assert_failure 1
	assert_output --partial "dataset 'rank_to_left_nt' has shape [3, 2]; td-pcfg needs [*b, r, nt+pt] with r = 2"
}

@test "td-pcfg: JSON Lines input of one element, marginals with tags" {
	printf '%s\n' '{"structure": "td-pcfg", "root": [0], "nt_to_rank": [[0, 0.69314718055994531]], "rank_to_left_nt": [[0, 0], [1.0986122886681098, 0]], "rank_to_right_nt": [[0, 1.0986122886681098], [0, 0]], "emission": [[0, 0]], "word_ids": [0, 1, 0]}' > g.jsonl
	run synstruct partition g.jsonl
	assert_success
	assert_close "$(member log_partition <<<"$output")" "$(awk 'BEGIN { printf "%.17g", log(5 / 384) }')"
	run synstruct marginals g.jsonl
	assert_success
	assert_close_lists "$(jsonq - marginals_tags <<<"$output")" "1 1 1"
	assert_close_lists "$(jsonq - marginals <<<"$output")" \
		"0 0 0.45 0.3 0.33333333333333333 0.66666666666666667 0 0 0 0 0.15 0.1 0 0 0 0 0 0"
}

@test "td-pcfg: the same bytes at -j 1 and -j 2" {
	mk r.h5 <<'EOF2'
attr structure string td-pcfg
dataset root float64 [6, 2] random 1
dataset nt_to_rank float64 [6, 2, 3] random 2
dataset rank_to_left_nt float64 [6, 3, 4] random 3
dataset rank_to_right_nt float64 [6, 3, 4] random 4
dataset preterminal_scores float64 [6, 5, 2] random 5
dataset lengths int64 [6] = 5 2 3 4 5 2
EOF2
	for cmd in partition marginals count; do
		synstruct "$cmd" -j 1 -o one.h5 r.h5
		synstruct "$cmd" -j 2 -o two.h5 r.h5
		cmp one.h5 two.h5
	done
}
