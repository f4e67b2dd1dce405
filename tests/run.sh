#!/bin/sh
# run.sh - runs every test and ends with "N passed, N failed".
#
# The C unit tests (build/unit) and the Bats files (tests/bats/*.bats) both
# print TAP; this counts their "ok" and "not ok" lines.
set -u
cd "$(dirname "$0")/.." || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

echo "# unit tests"
build/unit | tee -a "$log" || status=1
echo "# command-line tests"
bats --tap tests/bats | tee -a "$log" || status=1

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
