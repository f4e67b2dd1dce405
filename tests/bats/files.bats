#!/usr/bin/env bats
# files.bats - output destinations, refused outputs, signals and the progress
# line (SPEC §6).
#
# Tests that write to a system path (/dev/null, /dev/full, /dev/stdout) first
# write to a private equivalent in the test's directory (a device node made
# with mknod when running as root, a link to /proc/self/fd/1), so that a
# broken build replaces that one and fails before it reaches the system's.

load common

# no_temps: no temporary file (the output's *.tmp-*, a copy of standard
# input) is left in the test's directory.
no_temps() {
	assert_equal "$(find . -name '*.tmp-*' -o -name 'synstruct-stdin-*')" ""
}

# wait_for CMD: runs the shell command CMD until it succeeds, for up to 20 s.
wait_for() {
	local i
	for ((i = 0; i < 400; i++)); do
		eval "$1" && return 0
		sleep 0.05
	done
	fail "timed out waiting for: $1"
}

# same_h5 A B: the two HDF5 files hold the same datasets with the same values.
same_h5() {
	assert_equal "$(h5get -l "$1")" "$(h5get -l "$2")"
	local d
	for d in $(h5get -l "$2"); do
		assert_equal "$(h5get "$1" "$d")" "$(h5get "$2" "$d")"
	done
}

# need_default_signal: a background job of a script starts with SIGINT
# ignored, and synstruct keeps ignored signals ignored (as under nohup);
# 'env --default-signal' (coreutils 8.31) gives the job the default back.
need_default_signal() {
	env --default-signal=INT true 2> /dev/null ||
		skip "env --default-signal (coreutils 8.31 or later) is not available"
}

# A run of several seconds that reports progress after each chunk:
# projective trees of 400 nodes, two elements per chunk.
long_fixture() {
	mk long.h5 <<'EOF'
attr structure string spanning-tree
attr projective int 1
dataset log_potentials float64 [40, 400, 400] random 1 -2 2
EOF
}
long_run=(marginals -j 1 --max-memory 64M)

# ---- regular files and symbolic links ------------------------------------------

@test "-o a symbolic link: the file it ends at gets the output, the link stays a link" {
	examples
	synstruct argmax -o want.h5 hmm.h5
	synstruct argmax hmm.h5 > want.jsonl
	mkdir real sub
	# a link to a file that does not exist yet, then to one that does
	ln -s real/out.h5 link.h5
	synstruct argmax -o link.h5 hmm.h5
	[ -L link.h5 ] || fail "link.h5 is no longer a symbolic link"
	assert_equal "$(readlink link.h5)" real/out.h5
	same_h5 real/out.h5 want.h5
	echo old > real/out.h5
	synstruct argmax -o link.h5 hmm.h5
	[ -L link.h5 ]
	same_h5 real/out.h5 want.h5
	# a chain of links, relative to each link's own directory
	ln -s ../real/out.jsonl sub/link.jsonl
	ln -s sub/link.jsonl chain.jsonl
	synstruct argmax -o chain.jsonl hmm.h5
	[ -L chain.jsonl ] && [ -L sub/link.jsonl ]
	cmp real/out.jsonl want.jsonl
	# a failed run leaves the target as it was
	mk bad.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 nan 0 0  0 0 0 0
EOF
	cp real/out.jsonl before.jsonl
	run -1 synstruct partition -o chain.jsonl bad.h5
	cmp real/out.jsonl before.jsonl
	[ -L chain.jsonl ]
	no_temps
}

@test "-o keeps the mode of the file it replaces" {
	examples
	synstruct partition -o out.jsonl tagging.h5
	chmod 640 out.jsonl
	synstruct partition -o out.jsonl hmm.h5
	assert_equal "$(stat -c %a out.jsonl)" 640
	assert_equal "$(jsonq -n out.jsonl)" 2
}

# ---- files that are not regular -------------------------------------------------

@test "-o a character device writes into it and leaves it a device (/dev/null as root)" {
	examples
	if [ "$(id -u)" = 0 ] && mknod null c 1 3 2> /dev/null && mknod null.h5 c 1 3; then
		synstruct argmax -o null hmm.h5
		synstruct argmax -o null.h5 hmm.h5
		synstruct argmax -f hdf5 -o null hmm.h5
		[ -c null ] && [ -c null.h5 ] || fail "a private /dev/null is no longer a character device"
	fi
	local f
	for f in jsonl hdf5; do
		run --separate-stderr synstruct argmax -f $f -o /dev/null hmm.h5
		assert_success
		assert_output ""
		assert_equal "$stderr" ""
		[ -c /dev/null ] || fail "/dev/null is no longer a character device"
	done
	assert_equal "$(compgen -G '/dev/null.tmp-*')" ""
	no_temps
}

@test "-o /dev/full: exit 1, one error line, and it stays a device" {
	examples
	if [ "$(id -u)" = 0 ] && mknod full c 1 7 2> /dev/null; then
		run -1 --separate-stderr synstruct argmax -o full hmm.h5
		assert_equal "$stderr" "synstruct: error: 'full': cannot write: No space left on device"
		[ -c full ] || fail "a private /dev/full is no longer a character device"
	fi
	run -1 --separate-stderr synstruct argmax -f hdf5 -o /dev/full hmm.h5
	assert_output ""
	assert_equal "$stderr" "synstruct: error: '/dev/full': cannot write: No space left on device"
	[ -c /dev/full ]
	no_temps
}

@test "-o a FIFO: its reader receives the output; after a failed run, nothing and the end" {
	examples
	synstruct argmax hmm.h5 > want.jsonl
	synstruct argmax -o want.h5 hmm.h5
	mkfifo fifo fifo.h5
	timeout 20 cat fifo > got.jsonl 3>&- &
	synstruct argmax -o fifo hmm.h5
	wait $!
	cmp got.jsonl want.jsonl
	timeout 20 cat fifo.h5 > got.h5 3>&- &
	synstruct argmax -o fifo.h5 hmm.h5
	wait $!
	same_h5 got.h5 want.h5
	[ -p fifo ] && [ -p fifo.h5 ] || fail "a FIFO was replaced"
	# a failed run writes nothing, and the waiting reader sees the end
	mk bad.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [2, 2, 2] = 0 nan 0 0  0 0 0 0
EOF
	timeout 20 cat fifo > failed.out 3>&- &
	sleep 0.3 # for cat to open the FIFO
	run -1 synstruct partition -o fifo bad.h5
	wait $!
	assert_equal "$(wc -c < failed.out)" 0
	[ -p fifo ]
	no_temps
}

@test "-o /dev/stdout is standard output: JSON Lines and HDF5, to a file, a pipe and an appended file" {
	examples
	synstruct argmax hmm.h5 > want.jsonl
	synstruct argmax -o want.h5 hmm.h5
	# first a private link to standard output
	ln -s /proc/self/fd/1 stdout
	synstruct argmax -o stdout hmm.h5 > a.jsonl
	cmp a.jsonl want.jsonl
	[ -L stdout ] || fail "the link to standard output was replaced"
	local type
	type=$(stat -c %F /dev/stdout)
	synstruct argmax -o /dev/stdout hmm.h5 > b.jsonl
	cmp b.jsonl want.jsonl
	synstruct argmax -f hdf5 -o /dev/stdout hmm.h5 > b.h5
	same_h5 b.h5 want.h5
	synstruct argmax -o /dev/stdout hmm.h5 | cat > c.jsonl
	cmp c.jsonl want.jsonl
	# the file standard output appends to is written, not replaced
	echo first > log.jsonl
	synstruct argmax -o /dev/stdout hmm.h5 >> log.jsonl
	assert_equal "$(cat log.jsonl)" "$(printf 'first\n%s' "$(cat want.jsonl)")"
	assert_equal "$(stat -c %F /dev/stdout)" "$type"
	no_temps
}

@test "-o >(cmd) and -o /dev/fd/N: a process substitution and a descriptor receive the output" {
	examples
	synstruct argmax hmm.h5 > want.jsonl
	synstruct argmax -o want.h5 hmm.h5
	synstruct argmax -o >(cat > ps.jsonl) hmm.h5
	wait $!
	cmp ps.jsonl want.jsonl
	synstruct argmax -f hdf5 -o >(cat > ps.h5) hmm.h5
	wait $!
	same_h5 ps.h5 want.h5
	# a descriptor open on a regular file: written at its end, as the
	# shell's descriptor would be, and never renamed over
	{
		echo first >&5
		synstruct argmax -o /dev/fd/5 hmm.h5
	} 5> fd.jsonl
	assert_equal "$(cat fd.jsonl)" "$(printf 'first\n%s' "$(cat want.jsonl)")"
	no_temps
}

# ---- refused outputs ------------------------------------------------------------

@test "-o naming an input is refused (exit 2) and the input stays as it was" {
	examples
	local sum
	sum=$(cksum < hmm.h5)
	expect_usage "synstruct: error: 'hmm.h5': the output would overwrite the input 'hmm.h5'" argmax -o hmm.h5 hmm.h5
	expect_usage "synstruct: error: './hmm.h5': the output would overwrite the input 'hmm.h5'" partition -f jsonl -o ./hmm.h5 hmm.h5
	# through a symbolic link, either way, and a hard link
	ln -s hmm.h5 link.h5
	ln hmm.h5 hard.h5
	expect_usage "synstruct: error: 'link.h5': the output would overwrite the input 'hmm.h5'" argmax -o link.h5 hmm.h5
	expect_usage "synstruct: error: 'hmm.h5': the output would overwrite the input 'link.h5'" argmax -o hmm.h5 link.h5
	expect_usage "synstruct: error: 'hard.h5': the output would overwrite the input 'hmm.h5'" argmax -o hard.h5 hmm.h5
	assert_equal "$(cksum < hmm.h5)" "$sum"
	[ -L link.h5 ]
	# log-prob's EVENTS too
	synstruct argmax -o ev.h5 hmm.h5
	sum=$(cksum < ev.h5)
	expect_usage "synstruct: error: 'ev.h5': the output would overwrite the events file 'ev.h5'" log-prob -o ev.h5 hmm.h5 ev.h5
	expect_usage "synstruct: error: 'hmm.h5': the output would overwrite the input 'hmm.h5'" log-prob -o hmm.h5 hmm.h5 ev.h5
	assert_equal "$(cksum < ev.h5)" "$sum"
	no_temps
}

@test "-o naming a directory is refused (exit 2) before the input is read" {
	examples
	mkdir dir
	ln -s dir dirlink
	expect_usage "synstruct: error: 'dir': is a directory; -o needs a file" partition -o dir tagging.h5
	expect_usage "synstruct: error: '.': is a directory; -o needs a file" partition -o . tagging.h5
	expect_usage "synstruct: error: 'dirlink': is a directory; -o needs a file" partition -o dirlink tagging.h5
	expect_usage "synstruct: error: '/tmp': is a directory; -o needs a file" partition -o /tmp tagging.h5
	# not read: a missing input, or standard input that never ends
	expect_usage "synstruct: error: 'dir': is a directory; -o needs a file" partition -o dir missing.h5
	run -2 --separate-stderr timeout 20 bash -c 'synstruct partition -o dir - < /dev/zero'
	assert_equal "$stderr" "synstruct: error: 'dir': is a directory; -o needs a file"
	assert_equal "$(ls -A dir)" ""
}

@test "-o in a directory that does not exist or cannot be written: exit 1 before the input is read" {
	examples
	run -1 --separate-stderr synstruct partition -o missing/dir/x.h5 tagging.h5
	assert_output ""
	assert_equal "$stderr" "synstruct: error: 'missing/dir/x.h5': cannot create: No such file or directory"
	[ ! -e missing ]
	# a link to a file in a missing directory
	ln -s nowhere/x.jsonl dangling.jsonl
	run -1 --separate-stderr synstruct partition -o dangling.jsonl tagging.h5
	assert_equal "$stderr" "synstruct: error: 'dangling.jsonl': cannot create: No such file or directory"
	# standard input, empty here, is not read: its error would be another
	run -1 --separate-stderr bash -c 'synstruct partition -o missing/x.h5 - < /dev/null'
	assert_equal "$stderr" "synstruct: error: 'missing/x.h5': cannot create: No such file or directory"
	if [ "$(id -u)" != 0 ]; then
		mkdir ro
		chmod 555 ro
		run -1 --separate-stderr synstruct partition -o ro/x.h5 tagging.h5
		assert_equal "$stderr" "synstruct: error: 'ro/x.h5': cannot create: Permission denied"
	fi
	run -1 --separate-stderr synstruct partition -o /proc/synstruct-test.h5 tagging.h5
	[[ $stderr == "synstruct: error: '/proc/synstruct-test.h5': cannot create: "* ]]
	no_temps
}

@test "HDF5 to a terminal is refused (exit 2); JSON Lines to a terminal are written" {
	command -v script > /dev/null || skip "script (util-linux) is needed to give the run a terminal"
	examples
	local s="$ROOT/build/synstruct"
	local want="synstruct: error: '-': will not write HDF5 to a terminal; redirect standard output or name a file with -o"
	run script -qec "$s partition -f hdf5 tagging.h5" /dev/null
	assert_equal "$status" 2
	assert_equal "$(tr -d '\r' <<<"$output")" "$want"
	# a link to standard output, then /dev/stdout itself
	ln -s /proc/self/fd/1 stdout.h5
	run script -qec "$s partition -o stdout.h5 tagging.h5" /dev/null
	assert_equal "$status" 2
	assert_equal "$(tr -d '\r' <<<"$output")" "${want/"'-'"/"'stdout.h5'"}"
	run script -qec "$s partition -f hdf5 -o /dev/stdout tagging.h5" /dev/null
	assert_equal "$status" 2
	assert_equal "$(tr -d '\r' <<<"$output")" "${want/"'-'"/"'/dev/stdout'"}"
	[ -L stdout.h5 ]
	# refused before the input is read
	run script -qec "$s partition -f hdf5 missing.h5" /dev/null
	assert_equal "$status" 2
	# JSON Lines are fine
	run script -qec "$s partition tagging.h5" /dev/null
	assert_equal "$status" 0
	assert_equal "$(tr -d '\r' <<<"$output" | jsonq -n -)" 3
	no_temps
}

@test "HDF5 extensions are recognised in any case: .h5 .H5 .hdf5 .HDF5 .hdf .HDF .he5 .He5" {
	examples
	synstruct argmax -o want.h5 hmm.h5
	local o
	for o in a.h5 B.H5 c.hdf5 D.HDF5 e.hdf F.HDF g.he5 H.He5; do
		synstruct argmax -o "$o" hmm.h5
		assert_equal "$(head -c 4 "$o" | od -An -c | tr -d ' ')" '211HDF'
		same_h5 "$o" want.h5
	done
	# anything else is JSON Lines, unless --format says otherwise
	for o in x.h5x y.json z.txt w; do
		synstruct argmax -o "$o" hmm.h5
		assert_equal "$(jsonq -n "$o")" 2
	done
	synstruct argmax -f hdf5 -o x.txt hmm.h5
	same_h5 x.txt want.h5
	synstruct argmax -f jsonl -o X.H5 hmm.h5
	assert_equal "$(jsonq -n X.H5)" 2
}

# ---- signals -----------------------------------------------------------------------

@test "SIGINT, SIGTERM, SIGHUP, SIGPIPE during the computation: no temporary file, the old output kept, exit 128 + N" {
	need_default_signal
	long_fixture
	local sig out pid status
	for sig in INT TERM HUP PIPE; do
		for out in out.h5 out.jsonl; do
			echo "old $out" > "$out"
			cp "$out" before
			# no err of the run before for wait_for to see
			rm -f err
			env --default-signal="$sig" synstruct "${long_run[@]}" --progress -o "$out" long.h5 2> err 3>&- &
			pid=$!
			# the first chunk is done: the computation is under way
			wait_for 'grep -q elements err'
			kill -"$sig" "$pid"
			status=0
			wait "$pid" || status=$?
			assert_equal "$status" $((128 + $(kill -l "$sig")))
			cmp "$out" before
			no_temps
			# the progress line was blanked: stderr ends with a carriage return
			assert_equal "$(tail -c 1 err | od -An -tx1 | tr -d ' ')" 0d
		done
	done
}

@test "SIGBUS (an input file cut short under its mapping): exit 1, one error line, no temporary file, the old output kept" {
	long_fixture
	local pid status
	echo "old output" > out.h5
	cp out.h5 before
	synstruct "${long_run[@]}" --progress -o out.h5 long.h5 2> err 3>&- &
	pid=$!
	wait_for 'grep -q elements err'
	kill -BUS "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 1
	cmp out.h5 before
	no_temps
	run grep -c 'synstruct: error: an input file was cut short while it was being read' err
	assert_output 1
}

@test "inputs stored in one piece are mapped, the others read: the same bytes from contiguous, chunked, gzip, big-endian and user-block files" {
	local layout
	for layout in plain chunked gzip be userblock; do
		{
			[ "$layout" = userblock ] && echo "userblock 1024"
			echo "attr structure string linear-chain"
			case $layout in
			plain | userblock) echo "dataset log_potentials float32 [5, 6, 3, 3] random 7 -3 3"
			                   echo "dataset lengths int64 [5] = 6 0 3 1 5" ;;
			chunked) echo "dataset log_potentials float32 [5, 6, 3, 3] chunk=[2, 6, 3, 3] random 7 -3 3"
			         echo "dataset lengths int64 [5] chunk=[2] = 6 0 3 1 5" ;;
			gzip) echo "dataset log_potentials float32 [5, 6, 3, 3] gzip random 7 -3 3"
			      echo "dataset lengths int64 [5] gzip = 6 0 3 1 5" ;;
			be) echo "dataset log_potentials float32be [5, 6, 3, 3] random 7 -3 3"
			    echo "dataset lengths int64be [5] = 6 0 3 1 5" ;;
			esac
		} | mk "$layout.h5"
		# every dataset that can be mapped is (the small ones too)
		SYNSTRUCT_MAP=1 synstruct partition --max-memory 1M -o "p_$layout.h5" "$layout.h5"
		SYNSTRUCT_MAP=1 synstruct marginals --max-memory 1M -o "m_$layout.h5" "$layout.h5"
		SYNSTRUCT_MAP=1 synstruct argmax -o "a_$layout.jsonl" "$layout.h5"
	done
	# and none is: every value through H5Dread
	SYNSTRUCT_MAP=0 synstruct partition --max-memory 1M -o p_read.h5 plain.h5
	SYNSTRUCT_MAP=0 synstruct marginals --max-memory 1M -o m_read.h5 plain.h5
	SYNSTRUCT_MAP=0 synstruct argmax -o a_read.jsonl plain.h5
	for layout in chunked gzip be userblock read; do
		cmp p_plain.h5 "p_$layout.h5"
		cmp m_plain.h5 "m_$layout.h5"
		cmp a_plain.jsonl "a_$layout.jsonl"
	done
	# standard input's copy, mapped
	SYNSTRUCT_MAP=1 synstruct marginals -o m_stdin.h5 - < plain.h5
	cmp m_plain.h5 m_stdin.h5
}

@test "a mapped input's pages are let go chunk by chunk: the peak resident memory stays that of a run that reads it, not the file's size" {
	mk big.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float32 [96, 256, 32, 32] fill 0.5
EOF
	local map read
	run --separate-stderr env SYNSTRUCT_MAP=0 synstruct marginals -j 1 --max-memory 48M --timing -o out.h5 big.h5
	assert_success
	[[ $stderr =~ peak\ memory\ ([0-9]+)\.[0-9]\ MiB ]] || fail "$stderr"
	read=${BASH_REMATCH[1]}
	run --separate-stderr env SYNSTRUCT_MAP=1 synstruct marginals -j 1 --max-memory 48M --timing -o out.h5 big.h5
	assert_success
	[[ $stderr =~ peak\ memory\ ([0-9]+)\.[0-9]\ MiB ]] || fail "$stderr"
	map=${BASH_REMATCH[1]}
	# the input is 96 MiB: mapped whole and kept, it would all be
	# resident; let go, the run holds what reading it does, or less
	[ "$map" -le $((read + 16)) ] || fail "mapped: $map MiB, read: $read MiB"
}

@test "a signal while standard input is copied removes the copy and the output's temporary" {
	need_default_signal
	examples
	mkdir tmp
	mkfifo in.fifo
	local sig pid status
	for sig in INT TERM HUP PIPE; do
		cp hmm.h5 out.h5
		cp out.h5 before.h5
		# a writer that never finishes: the copy waits for the rest
		exec 8<> in.fifo
		head -c 1000 tagging.h5 >&8
		TMPDIR=$PWD/tmp env --default-signal="$sig" synstruct partition -o out.h5 - < in.fifo 3>&- 8>&- &
		pid=$!
		# shellcheck disable=SC2016
		wait_for '[ -n "$(ls -A tmp)" ] && compgen -G "out.h5.tmp-*" > /dev/null'
		kill -"$sig" "$pid"
		status=0
		wait "$pid" || status=$?
		exec 8>&-
		assert_equal "$status" $((128 + $(kill -l "$sig")))
		assert_equal "$(ls -A tmp)" ""
		cmp out.h5 before.h5
		no_temps
	done
}

@test "an ignored SIGHUP (nohup) stays ignored" {
	long_fixture
	local pid
	nohup synstruct "${long_run[@]}" --progress -o out.h5 long.h5 > /dev/null 2> err 3>&- &
	pid=$!
	wait_for 'grep -q elements err'
	kill -HUP "$pid"
	sleep 0.3
	kill -0 "$pid" || fail "SIGHUP ended a run under nohup"
	kill -TERM "$pid"
	local status=0
	wait "$pid" || status=$?
	assert_equal "$status" 143
	no_temps
}

# ---- progress ----------------------------------------------------------------------

@test "--progress: a progress line on stderr, blanked at the end, never in the output" {
	examples
	synstruct argmax hmm.h5 > plain.jsonl
	synstruct argmax -o plain.h5 hmm.h5
	run --separate-stderr synstruct argmax --progress hmm.h5
	assert_success
	assert_equal "$output" "$(cat plain.jsonl)"
	[[ $stderr =~ ^$'\r'"synstruct: 2/2 elements (100%), "[0-9.]+[kM]?"/s, 0s left"$'\r'\ +$'\r'$ ]] ||
		fail "unexpected stderr: '$stderr'"
	synstruct argmax --progress -o p.h5 hmm.h5 2> /dev/null
	cmp p.h5 plain.h5
	synstruct argmax --progress -o p.jsonl hmm.h5 2> /dev/null
	cmp p.jsonl plain.jsonl
	# -q silences warnings only when --progress asks for the line
	run --separate-stderr synstruct argmax -q --progress hmm.h5
	[[ $stderr == *"2/2 elements"* ]]
	# an error blanks the line before it is printed
	mk bad.h5 <<'EOF'
attr structure string linear-chain
dataset log_potentials float64 [40, 2, 2, 2] fill 0
dataset lengths int32 [40] = 2 2 2 2 2 2 2 2 2 2  2 2 2 2 2 2 2 2 2 2
                             2 2 2 2 2 2 2 2 2 2  2 2 2 2 2 2 2 2 2 3
EOF
	run -1 --separate-stderr synstruct partition --progress --max-memory 2K -j 1 bad.h5
	[[ $stderr == *$'\r'"synstruct: error: 'bad.h5': dataset 'lengths' holds 3, outside [0, 2] in batch element [39]" ]] ||
		fail "unexpected stderr: '$stderr'"
}

@test "no progress line by default on a stderr that is not a terminal, nor with --no-progress or -q" {
	examples
	local o
	for o in "" --no-progress "--progress --no-progress" -q; do
		# shellcheck disable=SC2086
		run --separate-stderr synstruct argmax $o hmm.h5
		assert_success
		assert_equal "$stderr" ""
	done
}

@test "on a terminal a run of more than a second shows the line; --no-progress and -q do not" {
	command -v script > /dev/null || skip "script (util-linux) is needed to give the run a terminal"
	long_fixture
	local s="$ROOT/build/synstruct ${long_run[*]}"
	run script -qec "$s -o out.h5 long.h5" /dev/null
	assert_equal "$status" 0
	[[ $output == *"/40 elements ("*"/s, "*" left"* ]] || fail "no progress line in '$output'"
	h5get -s out.h5 marginals
	# cut short after 1.5 s, past the second after which a line would show
	local o
	for o in --no-progress -q; do
		run script -qec "timeout 1.5 $s $o -o out2.h5 long.h5" /dev/null
		assert_equal "$status" 124
		assert_equal "$output" ""
	done
	no_temps
}
