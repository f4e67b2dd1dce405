# common.bash - shared setup for the command-line tests of synstruct.
#
# Each .bats file starts with
#     load common
# which puts build/ (or $SS_BUILD) and its tools/ on PATH, loads bats-support and
# bats-assert, and makes every test run in its own empty directory
# (BATS_TEST_TMPDIR). Fixtures are written there at test time from inline
# h5mk text:
#     mk in.h5 <<'EOF'
#     attr structure string linear-chain
#     dataset log_potentials float64 [2, 3, 2, 2] random 1 -2 2
#     EOF

bats_require_minimum_version 1.5.0

# Bats runs every test in a fresh process that sources this file again, and
# loading bats-support and bats-assert there costs more than most tests take.
# So they are loaded where they are missing, and setup_file (below) exports
# their functions, which the test processes of the file then inherit.
if ! declare -F assert_equal > /dev/null; then
	bats_load_library bats-support
	bats_load_library bats-assert
fi

setup_file() {
	# shellcheck disable=SC2046
	export -f $(declare -F | awk '$3 ~ /^(assert|refute|fail$|batslib_)/ { print $3 }')
}

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
# The structures in the order of the table in lib/structure.c, as the
# "unknown structure" message lists them.
STRUCTURE_LIST="linear-chain, hmm, spanning-tree, semi-markov, ctc, tree-crf, monotone-alignment, alignment, pcfg or td-pcfg"
# The build under test: build/, or another (make SANITIZE=... check sets it).
BUILD="$ROOT/${SS_BUILD:-build}"
PATH="$BUILD:$BUILD/tools:$PATH"
export PATH
# The thread count is chosen per test; an inherited OMP_NUM_THREADS must not
# change what a test sees. Idle OpenMP threads sleep instead of spinning: the
# suite starts synstruct hundreds of times, each with a thread per core.
unset OMP_NUM_THREADS
export OMP_WAIT_POLICY=passive

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
}

# mk OUT.h5: builds OUT.h5 from the h5mk text on standard input.
mk() {
	h5mk - "$1" || {
		echo "h5mk could not build $1" >&2
		return 1
	}
}

# examples: copies the bundled example inputs into the current directory.
examples() {
	cp "$BUILD/examples/tagging.h5" "$BUILD/examples/hmm.h5" .
}

# assert_close GOT WANT [TOL]: |GOT - WANT| <= TOL * max(1, |WANT|)
# (default TOL 1e-12). Both are non-empty numbers as text ("-inf", "nan"
# allowed: they must then be equal as strings).
assert_close() {
	local got=$1 want=$2 tol=${3:-1e-12}
	[[ -n $got && -n $want ]] || {
		fail "assert_close: empty value (got '$got', want '$want')"
		return 1
	}
	case "$got$want" in
	*inf* | *nan*)
		[ "$got" = "$want" ] && return 0
		fail "expected $want, got $got"
		return 1
		;;
	esac
	awk -v g="$got" -v w="$want" -v t="$tol" 'BEGIN {
		d = g - w; if (d < 0) d = -d
		s = w < 0 ? -w : w; if (s < 1) s = 1
		exit !(d <= t * s)
	}' || {
		fail "expected $want (to $tol), got $got"
		return 1
	}
}

# assert_close_lists GOT WANT [TOL]: two whitespace- or comma-separated lists
# of numbers (brackets ignored), equal in length, pairwise close.
assert_close_lists() {
	local got want tol=${3:-1e-12}
	got=$(printf '%s\n' "$1" | tr -d '[]' | tr ', ' '\n\n' | sed '/^$/d')
	want=$(printf '%s\n' "$2" | tr -d '[]' | tr ', ' '\n\n' | sed '/^$/d')
	[[ -n $got && -n $want ]] || {
		fail "assert_close_lists: empty list (got '$1', want '$2')"
		return 1
	}
	paste <(printf '%s\n' "$got") <(printf '%s\n' "$want") | awk -v t="$tol" '
		NF != 2 { bad = "lengths differ"; exit }
		$1 == "nan" || $2 == "nan" || $1 ~ /inf/ || $2 ~ /inf/ {
			if ($1 != $2) { bad = "value " NR ": " $1 " vs " $2; exit }
			next
		}
		{
			d = $1 - $2; if (d < 0) d = -d
			s = $2 < 0 ? -$2 : $2; if (s < 1) s = 1
			if (d > t * s) { bad = "value " NR ": " $1 " vs " $2; exit }
		}
		END { if (bad != "") { print bad; exit 1 } }' >&2 || {
		fail "lists differ (tolerance $tol)"
		return 1
	}
}

# flat: JSON arrays (nested, from member or jsonq) to one value per line, for
# comparisons with h5get, which prints one value per line.
flat() {
	tr -d '[]"' | tr ',' '\n' | sed '/^$/d'
}

# member NAME: the raw text of member NAME of each JSON Lines object on
# standard input, exactly as synstruct printed it (jsonq reprints numbers
# as %.17g).
member() {
	sed -E "s/.*\"$1\":([^:]*)(,\"[a-z_]+\":.*|\}$)/\1/"
}

# float32_round: numbers one per line, each rounded to float32 and printed
# as %.17g of that float, as h5get prints float32 datasets.
float32_round() {
	jsonq -f32
}

# num17: numbers one per line (also -inf, inf, nan) to %.17g of the double
# they parse to, as h5get prints them (cJSON's strtod through jsonq; mawk's
# own number parsing is not exact).
num17() {
	sed -e 's/^\(-\{0,1\}inf\|nan\)$/"&"/' -e 's/.*/{"v":&}/' | jsonq - v
}

# expect_error WANT CMD [ARGS...]: runs synstruct CMD ARGS twice, first to
# standard output, then with '-o out.N/out.h5' (N counts the calls). Both must
# exit 1, print nothing on standard output and exactly one line on standard
# error, the same both times, and leave the fresh directory out.N empty (no
# output, no temporary file).
# WANT is that line, or '~REGEX' to match it against an extended regular
# expression. Leaves the line in $err.
expect_error() {
	local want=$1 cmd=$2
	shift 2
	run -1 --separate-stderr synstruct "$cmd" "$@"
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	err=$stderr
	if [[ $want == '~'* ]]; then
		[[ $err =~ ${want:1} ]] || fail "stderr '$err' does not match '${want:1}'"
	else
		assert_equal "$err" "$want"
	fi
	local dir=out.$((++expect_error_calls)) left
	mkdir "$dir"
	run -1 --separate-stderr synstruct "$cmd" -o "$dir/out.h5" "$@"
	assert_equal "$output" ""
	assert_equal "$stderr" "$err"
	left=$(shopt -s nullglob dotglob; files=("$dir"/*); echo "${files[*]}")
	assert_equal "$left" ""
}
expect_error_calls=0

# expect_usage WANT CMD...: synstruct CMD... exits 2 with nothing on standard
# output and exactly the line WANT (or '~REGEX') on standard error.
expect_usage() {
	local want=$1
	shift
	run -2 --separate-stderr synstruct "$@"
	assert_equal "$output" ""
	assert_equal "${#stderr_lines[@]}" 1
	if [[ $want == '~'* ]]; then
		[[ $stderr =~ ${want:1} ]] || fail "stderr '$stderr' does not match '${want:1}'"
	else
		assert_equal "$stderr" "$want"
	fi
}

# result COMMAND: the name of COMMAND's main result (SPEC §4).
result() {
	case $1 in
	partition) echo log_partition ;;
	sample) echo samples ;;
	log-prob) echo log_prob ;;
	*) echo "$1" ;;
	esac
}

# commands: the command names that 'synstruct --help' lists.
commands() {
	synstruct --help | awk '/^commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'
}
