#!/usr/bin/env bash
# Builds the release artifacts from the committed tree (a clean checkout of HEAD) into dist/:
#
#   sfbex_exporter-VERSION.linux-amd64.tar.gz   the agent, README, docs, systemd unit and env file
#   sfbex_exporter-VERSION.linux-arm64.tar.gz
#   sfbex_exporter-VERSION.oci.tar               the container image (linux/amd64 and linux/arm64), built by buildah
#   sfbex-exporter-CHARTVERSION.tgz             the Helm chart
#   sfbex-mixin-VERSION.tar.gz                  the monitoring mixin (Jsonnet) with its rendered rules and dashboards
#   SHA256SUMS
#
#   scripts/release.sh                 # VERSION from `git describe --tags --always`
#   VERSION=1.2.0 scripts/release.sh   # a release: tag the commit first
#
# A checkout with uncommitted changes is refused (ALLOW_DIRTY=1 builds HEAD anyway: the changes
# are not in the artifacts). IMAGE_BUILD: "full" runs the whole Dockerfile (pulls its build
# image), "binary" builds its final stage from the binary built here (as test/container does,
# for machines that cannot pull), "auto" (default) tries full, then binary. Needs go, git, tar,
# buildah; helm is built by scripts/helm.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

step() { printf '\n==> %s\n' "$*"; }

if [[ -n "$(git status --porcelain)" && "${ALLOW_DIRTY:-}" != 1 ]]; then
	echo "release: the checkout has uncommitted changes; commit them (or ALLOW_DIRTY=1 to build HEAD without them)" >&2
	exit 1
fi
VERSION=${VERSION:-$(git describe --tags --always)}
VERSION=${VERSION#v}
REVISION=$(git rev-parse HEAD)
BRANCH=$(git rev-parse --abbrev-ref HEAD)
BUILD_DATE=$(git show -s --format=%cI HEAD)
epoch=$(git show -s --format=%ct HEAD)
# Helm wants SemVer: a version that is not one (an untagged commit) becomes a pre-release of 0.0.0.
if [[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$ ]]; then
	CHART_VERSION=$VERSION
else
	CHART_VERSION=0.0.0-$VERSION
fi
dist=${DIST:-$repo/dist}
export VERSION REVISION BRANCH BUILD_DATE

src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
git archive --format=tar HEAD | tar -x -C "$src"
rm -rf "$dist"
mkdir -p "$dist"
echo "release $VERSION (chart $CHART_VERSION) of $REVISION ($BUILD_DATE) into $dist"

# Reproducible archives: fixed order, owner and times.
tarball() { # tarball OUT DIR NAME...
	local out=$1 dir=$2
	shift 2
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$dir" -czf "$out" "$@"
}

step "the mixin's outputs are up to date"
(cd "$src/mixin" && go test -count=1 -run TestGeneratedFilesUpToDate .)

step "linux binaries"
for arch in amd64 arm64; do
	name=sfbex_exporter-$VERSION.linux-$arch
	stage="$src/stage/$name"
	mkdir -p "$stage/docs" "$stage/systemd"
	(cd "$src" && GOOS=linux GOARCH=$arch scripts/build.sh "$stage/sfbex_exporter")
	cp "$src/README.md" "$stage/"
	cp "$src"/docs/*.md "$stage/docs/"
	cp "$src"/deploy/systemd/* "$stage/systemd/"
	tarball "$dist/$name.tar.gz" "$src/stage" "$name"
	echo "$name.tar.gz"
done

build_windows() {
	# windows/amd64: the service binary in a zip with its install script (scripts/release-windows.sh
	# says why a zip and not an MSI).
	VERSION="$VERSION" REVISION="$REVISION" bash "$repo/scripts/release-windows.sh" "$dist"
}
step "windows"
build_windows

step "container image (buildah)"
store=$(mktemp -d)
bah() { buildah --storage-driver vfs --root "$store/root" --runroot "$store/run" "$@"; }
image_full() {
	bah bud --isolation chroot --platform linux/amd64 --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
		--build-arg BUILD_DATE="$BUILD_DATE" -t "localhost/sfbex_exporter:$VERSION-amd64" -f "$src/Dockerfile" "$src" &&
		bah bud --isolation chroot --platform linux/arm64 --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
			--build-arg BUILD_DATE="$BUILD_DATE" -t "localhost/sfbex_exporter:$VERSION-arm64" -f "$src/Dockerfile" "$src"
}
image_from_binary() {
	# The Dockerfile's final stage, its COPY --from=build lines pointed at the binaries built above.
	local arch ctx
	for arch in amd64 arm64; do
		ctx="$src/image-$arch"
		mkdir -p "$ctx/docs"
		tar -xzf "$dist/sfbex_exporter-$VERSION.linux-$arch.tar.gz" -C "$ctx" --strip-components=1 "sfbex_exporter-$VERSION.linux-$arch/sfbex_exporter"
		cp /etc/ssl/certs/ca-certificates.crt "$ctx/"
		cp "$src"/docs/*.md "$ctx/docs/"
		cp "$src/README.md" "$ctx/"
		awk '/^FROM scratch AS final$/ { p = 1 } p' "$src/Dockerfile" |
			sed -e 's#^COPY --from=build /out/sfbex_exporter #COPY sfbex_exporter #' \
				-e 's#^COPY --from=build /etc/ssl/certs/ca-certificates.crt #COPY ca-certificates.crt #' >"$ctx/Dockerfile"
		if grep -q -e '--from=' "$ctx/Dockerfile" || ! grep -q '^FROM scratch AS final$' "$ctx/Dockerfile"; then
			echo "release: the Dockerfile's final stage copies something this script does not know" >&2
			return 1
		fi
		bah bud --isolation chroot --platform "linux/$arch" --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
			--build-arg BUILD_DATE="$BUILD_DATE" -t "localhost/sfbex_exporter:$VERSION-$arch" "$ctx"
	done
}
case ${IMAGE_BUILD:-auto} in
full) image_full ;;
binary) image_from_binary ;;
auto)
	if timeout 120 buildah --storage-driver vfs --root "$store/root" --runroot "$store/run" pull -q docker.io/library/golang:1.26-bookworm >/dev/null 2>&1; then
		image_full
	else
		echo "cannot pull docker.io/library/golang:1.26-bookworm: building the final stage from the binaries built here"
		image_from_binary
	fi
	;;
*)
	echo "release: IMAGE_BUILD=$IMAGE_BUILD: want full, binary or auto" >&2
	exit 1
	;;
esac
bah manifest create "localhost/sfbex_exporter:$VERSION" >/dev/null
for arch in amd64 arm64; do
	bah manifest add "localhost/sfbex_exporter:$VERSION" "localhost/sfbex_exporter:$VERSION-$arch" >/dev/null
done
bah manifest push --all "localhost/sfbex_exporter:$VERSION" "oci-archive:$dist/sfbex_exporter-$VERSION.oci.tar:$VERSION" >/dev/null
chmod -R u+w "$store" 2>/dev/null || true
rm -rf "$store"
echo "sfbex_exporter-$VERSION.oci.tar (load with: skopeo copy oci-archive:sfbex_exporter-$VERSION.oci.tar docker://REGISTRY/sfbex_exporter:$VERSION --all)"

step "Helm chart"
helm=$(bash "$repo/scripts/helm.sh")
"$helm" lint --strict "$src/deploy/helm/sfbex-exporter"
"$helm" package "$src/deploy/helm/sfbex-exporter" --version "$CHART_VERSION" --app-version "$VERSION" -d "$dist"

step "mixin"
mkdir -p "$src/stage/sfbex-mixin"
(cd "$src/mixin" && cp -r --parents jsonnetfile.json mixin.libsonnet config.libsonnet alerts rules dashboards "$src/stage/sfbex-mixin/")
mkdir -p "$src/stage/sfbex-mixin/rendered/dashboards"
cp "$src/alerts/sfbex.rules.yml" "$src/stage/sfbex-mixin/rendered/"
cp "$src"/dashboards/*.json "$src/stage/sfbex-mixin/rendered/dashboards/"
tarball "$dist/sfbex-mixin-$VERSION.tar.gz" "$src/stage" sfbex-mixin
echo "sfbex-mixin-$VERSION.tar.gz"

step "checksums"
(cd "$dist" && sha256sum -- * >SHA256SUMS && cat SHA256SUMS)
