#!/usr/bin/env bash
# Prints the path of helm v4, building it once from the Go module proxy into a cache
# directory (helm is not in Debian 12): scripts/test.sh and scripts/release.sh use it.
#   HELM_VERSION   default v4.3.2
#   SFBEX_HELM_DIR default ${XDG_CACHE_HOME:-~/.cache}/sfbex/helm-$HELM_VERSION
set -euo pipefail
version=${HELM_VERSION:-v4.3.2}
dir=${SFBEX_HELM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sfbex/helm-$version}
if [[ ! -x "$dir/helm" ]]; then
	echo "building helm $version into $dir (once; a few minutes on a cold Go cache)" >&2
	mkdir -p "$dir"
	GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "helm.sh/helm/v4/cmd/helm@$version" >&2
fi
echo "$dir/helm"
