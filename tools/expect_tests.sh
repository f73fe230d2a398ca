#!/usr/bin/env bash
# Runs a cargo test command that selects tests by name and fails unless at
# least MIN tests ran and passed: a misspelled or renamed test otherwise
# gives "0 passed ... filtered out" and exit 0.
#
#   tools/expect_tests.sh MIN cargo test ... -- --exact name
set -euo pipefail
min=$1; shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$@" 2>&1 | tee "$out" || status=$?
[ "$status" = 0 ] || exit "$status"
passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$out" | awk '{n += $1} END {print n + 0}')
if [ "$passed" -lt "$min" ]; then
  echo "expect_tests.sh: $passed tests passed, at least $min expected: a test was renamed or the filter is wrong" >&2
  exit 1
fi
echo "expect_tests.sh: $passed tests passed (at least $min expected)"
