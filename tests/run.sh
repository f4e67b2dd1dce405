#!/bin/sh
# run.sh - runs every test and ends with "N passed, N failed".
#
# The C unit tests (build/unit) and the Bats files (tests/bats/*.bats) both
# print TAP; this counts their "ok" and "not ok" lines. B names another
# build directory (make SANITIZE=... check sets it).
set -u
cd "$(dirname "$0")/.." || exit 1
B=${B:-build}
SS_BUILD=$B
export SS_BUILD

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

# The unit tests once per instruction set this CPU runs (lib/isa.c). A
# unit binary that dies (a sanitizer report, a crash) counts as a failure.
for isa in $("$B/unit" --isas); do
	echo "# unit tests ($isa)"
	{ SYNSTRUCT_ISA=$isa "$B/unit"; echo $? > "$log.unit"; } | tee -a "$log"
	unit_status=$(cat "$log.unit")
	rm -f "$log.unit"
	if [ "$unit_status" -ne 0 ]; then
		echo "not ok - SYNSTRUCT_ISA=$isa $B/unit exited with status $unit_status" | tee -a "$log"
		status=1
	fi
done
echo "# command-line tests"
bats --tap tests/bats | tee -a "$log" || status=1

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
