#!/usr/bin/env bash
# Builds the agent the way releases and the container image do:
#
#   scripts/build.sh OUT                  # a static binary for GOOS/GOARCH (default: this machine)
#   GOOS=linux GOARCH=arm64 scripts/build.sh dist/sfbex_exporter-linux-arm64
#
# Stamps what `--version` and sfbex_exporter_build_info report through -ldflags into
# github.com/prometheus/common/version:
#   VERSION     default: `git describe --tags --always --dirty` in a checkout, else empty
#   REVISION    default: `git rev-parse HEAD` (+ "-modified" with uncommitted changes), else empty
#   BRANCH      default: the checked-out branch, else empty
#   BUILD_DATE  default: the commit's time (so one commit builds the same binary), else empty
# An empty value is left to the agent, which falls back to Go's VCS stamp, then to dev/unknown.
set -euo pipefail

out=${1:?usage: scripts/build.sh OUT}
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if git rev-parse --git-dir >/dev/null 2>&1; then
	: "${VERSION:=$(git describe --tags --always --dirty 2>/dev/null || true)}"
	if [[ -z "${REVISION:-}" ]]; then
		REVISION=$(git rev-parse HEAD)
		git diff --quiet HEAD -- 2>/dev/null || REVISION+=-modified
	fi
	: "${BRANCH:=$(git rev-parse --abbrev-ref HEAD 2>/dev/null || true)}"
	: "${BUILD_DATE:=$(git show -s --format=%cI HEAD 2>/dev/null || true)}"
fi

pkg=github.com/prometheus/common/version
ldflags="-s -w"
ldflags+=" -X $pkg.Version=${VERSION:-}"
ldflags+=" -X $pkg.Revision=${REVISION:-}"
ldflags+=" -X $pkg.Branch=${BRANCH:-}"
ldflags+=" -X $pkg.BuildDate=${BUILD_DATE:-}"

CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out" ./cmd/sfbex_exporter
