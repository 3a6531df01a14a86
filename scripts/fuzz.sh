#!/usr/bin/env bash
# Runs every fuzz target of the project for a fixed time each:
#   scripts/fuzz.sh            # 60 s per target
#   FUZZTIME=5m scripts/fuzz.sh
# New inputs that fail are written by `go test` under the package's
# testdata/fuzz/<FuzzName>/; commit them with the fix, so that every later
# `go test ./...` (and CI) replays them as ordinary tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
fuzztime=${FUZZTIME:-60s}
failed=0
while IFS=: read -r file name; do
	pkg=./$(dirname "$file")
	echo "==> $pkg $name ($fuzztime)"
	# -fuzzminimizetime keeps a slow shrink from eating the whole budget.
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 10s "$pkg"; then
		failed=$((failed + 1))
	fi
done < <(grep -rhoE --include='*_test.go' '^func (Fuzz[A-Za-z0-9_]+)' . -H | sed -E 's/^\.\///; s/:func /:/' | sort -u)
echo "fuzz targets failed: $failed"
exit "$failed"
