#!/usr/bin/env bats
# man.bats - the manual pages: lint-clean, one per command, documenting
# every option of the command's --help (its own options on its page, the
# options every command takes in synstruct-options(7)), and with examples
# that run.

load common

# text PAGE: the roff source with font escapes dropped and \- as -.
text() {
	sed -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' -e 's/\\e/\\/g' "$1"
}

# The page of the options that every command takes.
COMMON=synstruct-options.7

# options_section PAGE: the text of PAGE's OPTIONS section.
options_section() {
	text "$1" | awk '/^\.SH / { on = $2 == "OPTIONS"; next } on'
}

# option_tags PAGE: the items of PAGE's OPTIONS section, one tag (the line
# after .TP, such as "-o, --output PATH") a line.
option_tags() {
	options_section "$1" | awk 'tag { print; tag = 0 } /^\.TP/ { tag = 1 }'
}

# help_options COMMAND: "--long -s" (or "--long") for each option of
# synstruct COMMAND --help.
help_options() {
	local re='^ +(-([a-zA-Z]), )? *(--[a-z][a-z-]*)' line
	while IFS= read -r line; do
		[[ $line =~ $re ]] || continue
		echo "${BASH_REMATCH[3]} ${BASH_REMATCH[2]:+-${BASH_REMATCH[2]}}"
	done < <(synstruct "$1" --help)
}

# has_option TAGS OPTION: whether one of the tags names OPTION.
has_option() {
	[[ $'\n'$1$'\n' =~ [^a-zA-Z-]$2([^a-zA-Z-]) ]]
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

@test "the overview, file, structure and option pages exist and the overview names every command page" {
	[ -f "$ROOT/man/synstruct.1" ]
	[ -f "$ROOT/man/synstruct-files.5" ]
	[ -f "$ROOT/man/synstruct-structures.7" ]
	[ -f "$ROOT/man/$COMMON" ]
	text "$ROOT/man/synstruct.1" | grep -q "synstruct-options (7)" ||
		fail "synstruct(1) does not refer to synstruct-options(7)"
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

@test "every option of COMMAND --help (long and short) is an item of OPTIONS in the command's page or in synstruct-options(7)" {
	local c common own long short n failed=""
	common=$(option_tags "$ROOT/man/$COMMON")
	[ -n "$common" ] || fail "man/$COMMON has no OPTIONS items"
	for c in $(commands); do
		own=$(option_tags "$ROOT/man/synstruct-$c.1")
		options_section "$ROOT/man/synstruct-$c.1" | grep -q "synstruct-options (7)" ||
			failed+="the OPTIONS of synstruct-$c.1 do not refer to synstruct-options(7)"$'\n'
		n=0
		while read -r long short; do
			n=$((n + 1))
			has_option "$own" "$long" || has_option "$common" "$long" ||
				failed+="$long of 'synstruct $c --help' is documented neither in synstruct-$c.1 nor in $COMMON"$'\n'
			[ -z "$short" ] || has_option "$own" "$short" || has_option "$common" "$short" ||
				failed+="$short of 'synstruct $c --help' is documented neither in synstruct-$c.1 nor in $COMMON"$'\n'
		done < <(help_options "$c")
		[ "$n" -ge 9 ] || failed+="found only $n options in 'synstruct $c --help'"$'\n'
	done
	[ -z "$failed" ] || fail "$failed"
}

@test "synstruct-options(7) documents only options that every command takes, and no command's page documents them again" {
	local c common own long all=() failed=""
	common=$(option_tags "$ROOT/man/$COMMON")
	for c in $(commands); do
		all+=("$c: $(help_options "$c" | tr '\n' ' ')")
	done
	while read -r long; do
		for c in "${all[@]}"; do
			has_option "${c#*:}" "$long" ||
				failed+="$long is in $COMMON, but 'synstruct ${c%%:*} --help' does not list it"$'\n'
		done
	done < <(grep -oE -- '--[a-z][a-z-]*' <<<"$common" | sort -u)
	for c in $(commands); do
		own=$(option_tags "$ROOT/man/synstruct-$c.1")
		while read -r long; do
			has_option "$common" "$long" &&
				failed+="synstruct-$c.1 documents $long, which $COMMON documents for every command"$'\n'
		done < <(grep -oE -- '--[a-z][a-z-]*' <<<"$own" | sort -u)
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
