#!/usr/bin/env bash
# Fuzzes every Fuzz target of the module, one after another, each for
# $FUZZTIME (default 30s), and prints the executions per target. Stops at
# the first crash: Go writes the failing input to the target's
# testdata/fuzz/<Target>/ folder, where it becomes a regression seed once
# committed. Targets are found in the source, not with `go test -list`,
# which would run the TestMain of packages that start the emulators.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZTIME="${FUZZTIME:-30s}"
cd "$REPO_ROOT"

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
summary=()
while IFS=: read -r file fn; do
	pkg="./$(dirname "$file")"
	target="${fn#func }"
	echo "== $pkg $target ($FUZZTIME)"
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"; then
		echo "FAIL: $target crashed; the input is under $pkg/testdata/fuzz/$target/" >&2
		exit 1
	fi
	execs="$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
	summary+=("$(printf '%-34s %-22s %12s' "$pkg" "$target" "${execs:-?}")")
done < <(git ls-files --cached --others --exclude-standard '*_test.go' | xargs grep -Ho '^func Fuzz[A-Za-z0-9_]*' | sort)

echo
printf '%-34s %-22s %12s\n' package target "executions ($FUZZTIME)"
printf '%s\n' "${summary[@]}"
