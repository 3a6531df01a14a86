#!/usr/bin/env bash
# Builds the Windows release artifact from a clean checkout of HEAD (only
# committed files: `git archive`), for scripts/release.sh or by hand:
#
#   scripts/release-windows.sh [OUTDIR]        (default: dist/)
#
# VERSION (default: git describe), REVISION (default: the commit) and
# SOURCE_DATE_EPOCH (default: the commit's time) are stamped into the binary;
# the zip is reproducible for one commit and Go version.
#
# Output: OUTDIR/sfbex_exporter-VERSION.windows-amd64.zip and its .sha256,
# holding sfbex_exporter.exe, Install-SfbexExporter.ps1 (install, upgrade,
# -Uninstall), Export-SfbexSnapshot.ps1 and sfbex_exporter.conf.example.
# A zip with an install script rather than an MSI: Debian 12's msitools has
# no wixl (it is a separate package), an MSI adds a second description of
# the same install steps, and an admin can read the script before running it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-$root/dist}")
cd "$root"

VERSION=${VERSION:-$(git describe --tags --always 2>/dev/null || echo dev)}
REVISION=${REVISION:-$(git rev-parse HEAD)}
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}
build_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
name="sfbex_exporter-${VERSION}.windows-amd64"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$tmp/$name" "$out"
git archive --format=tar HEAD | tar -x -C "$tmp/src"

pkg=github.com/prometheus/common/version
(cd "$tmp/src" && CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -trimpath -buildvcs=false \
	-ldflags "-s -w -X $pkg.Version=$VERSION -X $pkg.Revision=$REVISION -X $pkg.BuildDate=$build_date -X $pkg.Branch=" \
	-o "$tmp/$name/sfbex_exporter.exe" ./cmd/sfbex_exporter)
cp "$tmp/src/scripts/windows/Install-SfbexExporter.ps1" \
	"$tmp/src/scripts/windows/sfbex_exporter.conf.example" \
	"$tmp/src/scripts/Export-SfbexSnapshot.ps1" "$tmp/$name/"

# Same bytes for the same commit: fixed times, sorted names, no extra attributes.
find "$tmp/$name" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
rm -f "$out/$name.zip"
(cd "$tmp" && find "$name" -type f | LC_ALL=C sort | TZ=UTC zip -q -X -D "$out/$name.zip" -@)
(cd "$out" && sha256sum "$name.zip" >"$name.zip.sha256")
echo "$out/$name.zip"
