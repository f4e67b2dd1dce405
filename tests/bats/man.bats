#!/usr/bin/env bats
# man.bats - the manual pages: lint-clean, one per command, naming every
# option of the command's --help, and with examples that run.

load common

# text PAGE: the roff source with font escapes dropped and \- as -.
text() {
	sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' -e 's/\\e/\\/g' "$1"
}

@test "every page passes mandoc -T lint -W warning with no output" {
	local page n=0
	for page in "$ROOT"/man/*.[1-9]; do
		run mandoc -T lint -W warning "$page"
		[ "$status" -eq 0 ] || fail "mandoc failed on $page: $output"
		assert_output ""
		n=$((n + 1))
	done
	[ "$n" -ge 9 ]
}

@test "there is a page synstruct-COMMAND.1 for every command of synstruct --help" {
	local c n=0 all
	all=$(commands)
	for c in $all; do
		[ -f "$ROOT/man/synstruct-$c.1" ] || fail "no man/synstruct-$c.1"
		[[ $(text "$ROOT/man/synstruct-$c.1" | head -n 1) == ".TH SYNSTRUCT-${c^^} 1 "* ]] ||
			fail "man/synstruct-$c.1 does not start with .TH SYNSTRUCT-${c^^} 1"
		n=$((n + 1))
	done
	[ "$n" -ge 6 ] || fail "synstruct --help lists only $n commands"
	# and no page for a command that does not exist
	local page name
	for page in "$ROOT"/man/synstruct-*.1; do
		name=${page##*/synstruct-}
		name=${name%.1}
		grep -qx -- "$name" <<<"$all" || fail "$page documents no command of synstruct --help"
	done
}

@test "the overview, file and structure pages exist and name every command page" {
	[ -f "$ROOT/man/synstruct.1" ]
	[ -f "$ROOT/man/synstruct-files.5" ]
	[ -f "$ROOT/man/synstruct-structures.7" ]
	local c
	for c in $(commands); do
		text "$ROOT/man/synstruct.1" | grep -q "synstruct-$c" ||
			fail "synstruct(1) does not refer to synstruct-$c(1)"
	done
}

@test "the pages carry the version of synstruct --version" {
	local version page
	version=$(synstruct --version | head -n 1)
	for page in "$ROOT"/man/*.[1-9]; do
		grep -q "^\.TH .* \"$version\"" "$page" || fail "$page: .TH does not say \"$version\""
	done
}

@test "each command's page names every option (long and short) of COMMAND --help" {
	local c line txt n failed=""
	local option_re='^ +(-([a-zA-Z]), )? *(--[a-z][a-z-]*)'
	for c in $(commands); do
		txt=$(text "$ROOT/man/synstruct-$c.1")
		n=0
		while IFS= read -r line; do
			[[ $line =~ $option_re ]] || continue
			local short=${BASH_REMATCH[2]} long=${BASH_REMATCH[3]}
			n=$((n + 1))
			[[ $txt =~ (^|[^a-z-])$long([^a-z-]|$) ]] || failed+="synstruct-$c.1 does not name $long"$'\n'
			if [ -n "$short" ]; then
				[[ $txt =~ (^|[^a-zA-Z-])-$short([^a-zA-Z-]|$) ]] || failed+="synstruct-$c.1 does not name -$short"$'\n'
			fi
		done < <(synstruct "$c" --help)
		[ "$n" -ge 9 ] || failed+="found only $n options in 'synstruct $c --help'"$'\n'
	done
	[ -z "$failed" ] || fail "$failed"
}

@test "the EXAMPLES of every page run successfully" {
	local page cmd n=0 failed=""
	# every example input (tagging.h5, hmm.h5 and any other the Makefile builds)
	cp "$ROOT"/build/examples/*.h5 .
	for page in "$ROOT"/man/*.[1-9]; do
		while IFS= read -r cmd; do
			n=$((n + 1))
			run bash -c "$cmd"
			[ "$status" -eq 0 ] || failed+="${page##*/}: '$cmd' exited $status: ${lines[0]}"$'\n'
		done < <(awk '/^\.EX/ { on = 1; next } /^\.EE/ { on = 0 } on && /^\$ / { print substr($0, 3) }' "$page" |
			sed -e 's/\\-/-/g' -e 's/\\e/\\/g')
	done
	[ "$n" -ge 10 ] || fail "found only $n examples"
	[ -z "$failed" ] || fail "$failed"
}
