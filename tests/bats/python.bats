#!/usr/bin/env bats
# python.bats - inputs as h5py writes them (SPEC §1 "Values"): string
# attributes of every form, float16, every integer type, big-endian data,
# options as Python and numpy bools and ints; and the README's Python
# example. The fixtures under tests/fixtures/ were written by
# scripts/make-fixtures.py with h5py, together with expected.jsonl, the
# answers it computed by brute-force enumeration; these tests need no
# Python, except the ones that run it and say so when they skip.

load common

FIX="$ROOT/tests/fixtures"
PYTHON=/usr/bin/python3

# expect CASE KEY: the value of KEY in case CASE of expected.jsonl, as jsonq
# prints it ("" where the case has no KEY).
expect() {
	local line
	line=$(grep -F "{\"case\":\"$1\"," "$FIX/expected.jsonl") ||
		fail "expected.jsonl has no case '$1'"
	jsonq - "$2" <<<"$line" 2>/dev/null || true
}

# cases REGEX: the case names of expected.jsonl that match REGEX.
cases() {
	jsonq "$FIX/expected.jsonl" case | grep -E "$1"
}

# group_args CASE: sets args to -g GROUP for a case in a group.
group_args() {
	local group
	group=$(expect "$1" group)
	args=()
	[ -z "$group" ] || args=(-g "$group")
}

# check_case CASE: copies the case's file here, then log Z, the entropy,
# the best score and the compact decode agree with expected.jsonl (to its
# tolerance; the decode exactly), with nothing on standard error but the
# case's warning.
check_case() {
	local c=$1 file tol decode warning command
	file=$(expect "$c" file)
	tol=$(expect "$c" tol)
	warning=$(expect "$c" warning)
	group_args "$c"
	cp "$FIX/$file" .
	for command in partition entropy argmax; do
		run --separate-stderr synstruct $command "${args[@]}" "$file"
		[ "$status" -eq 0 ] || fail "$c: synstruct $command: $stderr"
		[ "$stderr" = "$warning" ] || fail "$c: synstruct $command: stderr '$stderr'"
		case $command in
		partition)
			assert_close_lists "$(member log_partition <<<"$output")" "$(expect "$c" log_partition)" "$tol" ||
				fail "$c: log_partition"
			;;
		entropy)
			assert_close_lists "$(member entropy <<<"$output")" "$(expect "$c" entropy)" "$tol" ||
				fail "$c: entropy"
			;;
		argmax)
			assert_close_lists "$(member score <<<"$output")" "$(expect "$c" score)" "$tol" ||
				fail "$c: score"
			decode=labels
			[ -n "$(expect "$c" heads)" ] && decode=heads
			assert_equal "$(jsonq - "$decode" <<<"$output" | flat)" "$(expect "$c" "$decode" | flat)"
			;;
		esac
	done
}

# check_error CASE: synstruct refuses the case's file with exactly its error.
check_error() {
	local file
	file=$(expect "$1" file)
	group_args "$1"
	cp -f "$FIX/$file" .
	expect_error "$(expect "$1" error)" partition "${args[@]}" "$file"
}

# has_h5py: whether /usr/bin/python3 can import h5py and numpy.
has_h5py() {
	[ -x "$PYTHON" ] && "$PYTHON" -c 'import h5py, numpy' 2>/dev/null
}

# readme_block: the README's ```python block after "From Python:".
readme_block() {
	awk '/^From Python:$/ { want = 1; next }
	     want && /^```python$/ { on = 1; next }
	     on && /^```$/ { exit }
	     on { print }' "$ROOT/README.md"
}

@test "fixtures: the files and expected.jsonl are there and small" {
	local f total=0 size
	for f in string-attrs chain-float chain-float-bad hmm-ints int-range tree-options \
		chain chain-argmax-bool gold-decodes readme-tagging; do
		[ -f "$FIX/$f.h5" ] || fail "no tests/fixtures/$f.h5"
		size=$(stat -c %s "$FIX/$f.h5")
		[ "$size" -le 32768 ] || fail "$f.h5 is $size bytes"
		total=$((total + size))
	done
	[ "$total" -le 150000 ] || fail "the fixtures take $total bytes"
	jsonq "$FIX/expected.jsonl"
	[ "$(jsonq -n "$FIX/expected.jsonl")" -ge 40 ]
}

@test "string attributes: vlen UTF-8 (h5py's str), vlen ASCII, np.bytes_, fixed UTF-8, a list of one" {
	local c n=0
	for c in $(cases '^string-attrs\.h5(/[a-z0-9_]+)?$' | grep -v /bad); do
		check_case "$c"
		n=$((n + 1))
	done
	[ "$n" -eq 6 ]
}

@test "string attributes: an integer or two strings are not a structure name" {
	check_error string-attrs.h5/bad_int
	check_error string-attrs.h5/bad_two
}

@test "float16, float32 and float64 potentials in either byte order: -inf exact, NaN where unused" {
	local c n=0
	for c in $(cases '^chain-float\.h5/'); do
		check_case "$c"
		n=$((n + 1))
	done
	[ "$n" -eq 6 ]
}

@test "NaN or +inf in a used float16 entry is bad input" {
	check_error chain-float-bad.h5/f16_nan
	check_error chain-float-bad.h5/f16_pinf
}

@test "observations and lengths of every integer type, in either byte order" {
	local c n=0
	for c in $(cases '^hmm-ints\.h5/'); do
		check_case "$c"
		n=$((n + 1))
	done
	[ "$n" -eq 14 ]
	# the same bytes out whatever the integer type
	cp "$FIX/hmm-ints.h5" .
	synstruct marginals -g int32 -o a.h5 hmm-ints.h5
	for c in int8 uint16be int64 uint64 uint64be; do
		synstruct marginals -g "$c" -o b.h5 hmm-ints.h5
		assert_equal "$(h5get b.h5 marginals)" "$(h5get a.h5 marginals)"
	done
}

@test "negative and huge integers, and datasets of the wrong kind, are refused naming the dataset" {
	local c n=0
	for c in $(cases '^int-range\.h5/'); do
		check_error "$c"
		n=$((n + 1))
	done
	[ "$n" -eq 9 ]
}

@test "options as h5py writes them: Python and numpy bools and ints, an array of one" {
	local c n=0
	for c in $(cases '^tree-options\.h5(/[a-z0-9_]+)?$' | grep -v /bad); do
		check_case "$c"
		n=$((n + 1))
	done
	[ "$n" -eq 7 ]
	# -q silences the warning about 'projectve'
	run --separate-stderr synstruct partition -q -g typo tree-options.h5
	assert_success
	assert_equal "$stderr" ""
}

@test "options that are a string, a float, a huge uint64 or two values are refused" {
	local c n=0
	for c in $(cases '^tree-options\.h5/bad'); do
		check_error "$c"
		n=$((n + 1))
	done
	[ "$n" -eq 4 ]
}

@test "the input of the event fixtures; their shapes" {
	check_case chain.h5
	assert_equal "$(h5get -s "$FIX/chain-argmax-bool.h5" argmax | head -n 1)" "[3, 4, 3, 3]"
	assert_equal "$(h5get -s "$FIX/gold-decodes.h5" labels | head -n 1)" "[3, 4]"
	assert_equal "$(h5get -s "$FIX/gold-decodes.h5" heads | head -n 1)" "[2, 5]"
	# gold labels and heads are -1 past the lengths (4 2 3 and 5 4)
	assert_equal "$(h5get "$FIX/gold-decodes.h5" labels | sed -n '7,8p;12p' | tr '\n' ' ')" "-1 -1 -1 "
	assert_equal "$(h5get "$FIX/gold-decodes.h5" heads | sed -n '1p;6p;10p' | tr '\n' ' ')" "-1 -1 -1 "
}

@test "the README's Python example: its output (a fixture) runs through synstruct" {
	check_case readme-tagging.h5
	run synstruct argmax -o best.h5 readme-tagging.h5
	assert_success
	assert_equal "$(h5get -s best.h5 labels | head -n 1)" "[3, 6]"
}

@test "the README's Python example is the one the fixture was made from" {
	local block
	block=$(readme_block)
	[ -n "$block" ] || fail "README.md has no \`\`\`python block after 'From Python:'"
	assert_equal "$(printf '%s\n' "$block" | sha256sum | cut -d' ' -f1)" \
		"$(expect readme-tagging.h5 readme_sha256)" ||
		fail "README.md's Python block changed: run /usr/bin/python3 scripts/make-fixtures.py"
}

@test "the README's Python example runs as written, and synstruct reads its file" {
	has_h5py || skip "$PYTHON cannot import h5py and numpy"
	readme_block > example.py
	run "$PYTHON" example.py
	assert_success
	[ -f tagging.h5 ] || fail "the README's example wrote no tagging.h5"
	run --separate-stderr synstruct partition tagging.h5
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 3
	assert_close_lists "$(member log_partition <<<"$output")" "$(expect readme-tagging.h5 log_partition)" 1e-5
	run --separate-stderr synstruct argmax tagging.h5
	assert_success
	assert_equal "$(jsonq - labels <<<"$output" | flat)" "$(expect readme-tagging.h5 labels | flat)"
}

@test "scripts/make-fixtures.py computes the same expected answers again" {
	has_h5py || skip "$PYTHON cannot import h5py and numpy"
	run "$PYTHON" "$ROOT/scripts/make-fixtures.py" fx
	assert_success
	cmp fx/expected.jsonl "$FIX/expected.jsonl"
	assert_equal "$(cd fx && ls)" "$(cd "$FIX" && ls)"
}

@test "log-prob of h5py's boolean argmax and of gold labels and heads agrees with brute force" {
	local c file input dataset got
	for c in chain-argmax-bool.h5 gold-decodes.h5:labels gold-decodes.h5:heads; do
		file=$(expect "$c" file)
		input=$(expect "$c" input)
		dataset=$(expect "$c" dataset)
		args=()
		[ -z "$dataset" ] || args=(-d "$dataset")
		run --separate-stderr synstruct log-prob --dtype float64 "${args[@]}" "$FIX/$input" "$FIX/$file"
		assert_success
		got=$(jsonq - log_prob <<<"$output")
		assert_close_lists "$got" "$(expect "$c" log_prob | tr -d '[]' | tr ',' '\n')" "$(expect "$c" tol)"
	done
}
