#!/usr/bin/env bats
# cli.bats - usage, help, version and exit statuses (SPEC §2).

load common

# ---- help and version ---------------------------------------------------------

@test "--help prints the usage and every command to stdout and exits 0" {
	run --separate-stderr synstruct --help
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "usage: synstruct COMMAND [OPTIONS] INPUT"
	for c in partition marginals argmax sample entropy log-prob; do
		assert_line --regexp "^  $c +[a-z]"
	done
	for s in linear-chain hmm; do
		assert_line --regexp "^  $s +[a-z]"
	done
}

@test "-h prints the same as --help" {
	run synstruct --help
	local want=$output
	run --separate-stderr synstruct -h
	assert_success
	assert_equal "$stderr" ""
	assert_output "$want"
}

@test "no arguments: the usage on stderr, nothing on stdout, exit 2" {
	run -2 --separate-stderr synstruct
	assert_output ""
	[[ ${stderr_lines[0]} == "usage: synstruct COMMAND [OPTIONS] INPUT" ]]
}

@test "COMMAND --help prints the command's usage and options and exits 0" {
	local c
	for c in $(commands); do
		run --separate-stderr synstruct "$c" --help
		assert_success
		assert_equal "$stderr" ""
		case $c in
		log-prob) assert_line --index 0 "usage: synstruct log-prob [OPTIONS] INPUT EVENTS" ;;
		cross-entropy | kl) assert_line --index 0 "usage: synstruct $c [OPTIONS] P Q" ;;
		*) assert_line --index 0 "usage: synstruct $c [OPTIONS] INPUT" ;;
		esac
		assert_line "options:"
		assert_line --regexp '^  -o, --output PATH +'
		assert_line --regexp '^  -h, --help +'
		assert_line "see synstruct-$c(1)"
	done
}

@test "COMMAND -h prints the help even with other arguments, and reads nothing" {
	run --separate-stderr synstruct partition -h does-not-exist.h5
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "usage: synstruct partition [OPTIONS] INPUT"
}

@test "sample --help lists --num-samples and --seed; log-prob --help lists --dataset" {
	run synstruct sample --help
	assert_line --regexp '^  -n, --num-samples S +'
	assert_line --regexp '^      --seed N +'
	run synstruct log-prob --help
	assert_line --regexp '^  -d, --dataset NAME +'
	run synstruct partition --help
	refute_line --regexp -- '--seed|--num-samples|--dataset'
}

@test "--version prints 'synstruct 0.1.0' and the build configuration" {
	run --separate-stderr synstruct --version
	assert_success
	assert_equal "$stderr" ""
	assert_line --index 0 "synstruct 0.1.0"
	assert_line --regexp '^openmp [0-9]+, [0-9]+ threads$'
	assert_line --regexp '^hdf5 [0-9]+\.[0-9]+\.[0-9]+ \(built with [0-9]+\.[0-9]+\.[0-9]+\)$'
	assert_line --regexp '^cjson [0-9]+\.[0-9]+\.[0-9]+$'
	assert_line --regexp '^isa (scalar|avx2|avx512|neon) \(built: .*\)$'
}

@test "SYNSTRUCT_ISA chooses the instruction set; every one this machine runs gives the same answers" {
	examples
	local isa ran=0 runs="" want
	want=$(SYNSTRUCT_ISA= synstruct marginals -f jsonl hmm.h5 | jsonq - marginals | flat)
	for isa in scalar avx2 avx512 neon; do
		run --separate-stderr env SYNSTRUCT_ISA=$isa synstruct --version
		if [ "$status" -ne 0 ]; then
			assert_equal "$status" 2
			[[ $stderr == "synstruct: error: SYNSTRUCT_ISA: instruction set '$isa' is not "*"; this machine runs "* ]] ||
				fail "unexpected error: $stderr"
			continue
		fi
		[[ $output == *"isa $isa (built:"* ]] || fail "--version does not name $isa: $output"
		assert_close_lists "$(SYNSTRUCT_ISA=$isa synstruct marginals -f jsonl hmm.h5 | jsonq - marginals | flat)" "$want" 1e-12
		runs="$runs${runs:+, }$isa"
		ran=$((ran + 1))
	done
	[ "$ran" -ge 1 ] || fail "no instruction set runs here"
	run --separate-stderr env SYNSTRUCT_ISA=sse9 synstruct partition hmm.h5
	assert_equal "$status" 2
	assert_equal "$stderr" "synstruct: error: SYNSTRUCT_ISA: instruction set 'sse9' is not built in; this machine runs $runs"
}

# ---- exit status 0 ------------------------------------------------------------

@test "success: exit 0, results on stdout, nothing on stderr" {
	examples
	local c
	for c in partition marginals argmax sample entropy; do
		run --separate-stderr synstruct "$c" tagging.h5
		assert_success
		assert_equal "$stderr" ""
		assert_equal "${#lines[@]}" 3
	done
	synstruct argmax -o a.h5 tagging.h5
	run --separate-stderr synstruct log-prob tagging.h5 a.h5
	assert_success
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 3
}

@test "long options, --opt=value and options after INPUT are accepted" {
	examples
	run synstruct partition tagging.h5
	local want=$output
	run --separate-stderr synstruct partition --threads 2 --quiet --structure linear-chain --format jsonl --output - tagging.h5
	assert_success
	assert_output "$want"
	run --separate-stderr synstruct partition --threads=2 --max-memory=64M tagging.h5
	assert_success
	assert_output "$want"
	run --separate-stderr synstruct partition tagging.h5 -j 1
	assert_success
	assert_output "$want"
}

@test "the largest --seed, 2^64 - 1, is accepted" {
	examples
	run --separate-stderr synstruct sample --seed 18446744073709551615 tagging.h5
	assert_success
	assert_equal "${#lines[@]}" 3
}

@test "--max-memory accepts plain bytes and the suffixes K, M, G, T" {
	examples
	local m
	for m in 1000000 100K 64M 1G 1T; do
		run --separate-stderr synstruct partition --max-memory "$m" tagging.h5
		assert_success
	done
}

# ---- exit status 2: bad usage -------------------------------------------------

@test "unknown command, or an option in place of one: exit 2, one error line" {
	expect_usage "synstruct: error: unknown command 'frobnicate'; see 'synstruct --help'" frobnicate in.h5
	expect_usage "synstruct: error: unknown command '--bogus'; see 'synstruct --help'" --bogus
}

@test "unknown options, long and short, and options of another command: exit 2" {
	expect_usage "synstruct: error: unknown option '--frob'; see 'synstruct partition --help'" partition --frob in.h5
	expect_usage "synstruct: error: unknown option '-Z'; see 'synstruct marginals --help'" marginals -Z in.h5
	expect_usage "synstruct: error: unknown option '--seed'; see 'synstruct partition --help'" partition --seed 3 in.h5
	expect_usage "synstruct: error: unknown option '-n'; see 'synstruct partition --help'" partition -n 3 in.h5
	expect_usage "synstruct: error: unknown option '--dataset'; see 'synstruct argmax --help'" argmax --dataset x in.h5
}

@test "missing INPUT or EVENTS, an extra operand, an option without its value: exit 2" {
	local c
	for c in partition marginals argmax sample entropy log-prob; do
		expect_usage "synstruct: error: missing INPUT file; see 'synstruct $c --help'" "$c"
	done
	expect_usage "synstruct: error: missing EVENTS file; see 'synstruct log-prob --help'" log-prob in.h5
	expect_usage "synstruct: error: unexpected argument 'b.h5'; see 'synstruct partition --help'" partition a.h5 b.h5
	expect_usage "synstruct: error: option '-o' needs a value; see 'synstruct partition --help'" partition -o
}

@test "bad --num-samples values: exit 2, one error line each" {
	local v
	for v in 0 -1 abc 1.5 "" 3x; do
		expect_usage "synstruct: error: '--num-samples' needs an integer in [1, 2147483647], not '$v'; see 'synstruct sample --help'" sample -n "$v" in.h5
	done
	expect_usage "synstruct: error: '--num-samples' needs an integer in [1, 2147483647], not '0'; see 'synstruct sample --help'" sample --num-samples=0 in.h5
}

@test "bad --threads values: exit 2, one error line each" {
	local v
	for v in 0 -2 x 1.5 ""; do
		expect_usage "synstruct: error: '--threads' needs an integer in [1, 4096], not '$v'; see 'synstruct partition --help'" partition -j "$v" in.h5
	done
	expect_usage "synstruct: error: '--threads' needs an integer in [1, 4096], not '0'; see 'synstruct sample --help'" sample --threads 0 in.h5
}

@test "a --threads value beyond the limit is bad usage" {
	expect_usage "synstruct: error: '--threads' needs an integer in [1, 4096], not '100000'; see 'synstruct partition --help'" partition -j 100000 in.h5
}

@test "bad --seed values: exit 2, one error line each" {
	local v
	for v in -1 abc 18446744073709551616 1e3 ""; do
		expect_usage "synstruct: error: '--seed' needs an unsigned 64-bit integer, not '$v'; see 'synstruct sample --help'" sample --seed "$v" in.h5
	done
}

@test "bad --max-memory values: exit 2, one error line each" {
	local v
	for v in 0 -5 12Q 1.5.5 K "" 1KB; do
		expect_usage "synstruct: error: '--max-memory' needs a size such as 512M or 4G, not '$v'; see 'synstruct partition --help'" partition --max-memory "$v" in.h5
	done
}

@test "unknown --structure and --format values: exit 2" {
	expect_usage "synstruct: error: unknown structure 'crf' ($STRUCTURE_LIST); see 'synstruct partition --help'" partition -s crf in.h5
	expect_usage "synstruct: error: unknown structure 'chain' ($STRUCTURE_LIST); see 'synstruct argmax --help'" argmax --structure chain in.h5
	expect_usage "synstruct: error: unknown format 'xml' (jsonl or hdf5); see 'synstruct partition --help'" partition --format xml in.h5
}

@test "bad usage is reported before the input is read" {
	# The input does not exist: usage (2) still wins over data (1).
	expect_usage "synstruct: error: '--threads' needs an integer in [1, 4096], not '0'; see 'synstruct partition --help'" partition -j 0 missing.h5
}

@test "bad usage writes no output file" {
	examples
	run -2 synstruct partition -o out.h5 -j 0 tagging.h5
	assert_equal "$(ls -A)" "$(printf 'hmm.h5\ntagging.h5')"
}

# ---- exit status 1 ------------------------------------------------------------

@test "bad data: exit 1 (a missing input file)" {
	run -1 --separate-stderr synstruct partition missing.h5
	assert_output ""
	assert_equal "$stderr" "synstruct: error: 'missing.h5': No such file or directory"
}

@test "a full standard output is an error: exit 1, one line" {
	examples
	run -1 --separate-stderr bash -c 'synstruct partition tagging.h5 > /dev/full'
	assert_equal "$stderr" "synstruct: error: cannot write to standard output"
}

@test "a full standard output with --format hdf5: exit 1, one error line" {
	examples
	run -1 --separate-stderr bash -c 'synstruct partition --format hdf5 tagging.h5 > /dev/full'
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == "synstruct: error: "* ]]
}

@test "--timing says '1 thread' and '2 threads'" {
	examples
	run --separate-stderr synstruct partition --timing -j 1 tagging.h5
	assert_success
	[[ $stderr =~ ^synstruct:\ timing:\ read\ .*,\ 1\ thread$ ]] || fail "$stderr"
	run --separate-stderr synstruct partition --timing -j 2 tagging.h5
	[[ $stderr =~ ,\ 2\ threads$ ]] || fail "$stderr"
}

@test "the 'topk' dataset that the help and the pages name is written by top-k --events" {
	examples
	run synstruct argmax --help
	assert_output --partial topk
	synstruct top-k -k 2 --events -o t.h5 tagging.h5
	h5get -s t.h5 topk
}
