#!/usr/bin/env bash
# The project's test command: scripts/test.sh [go test flags...]
#
# 1. Installs the real servers the integration tests start (bind9, slapd,
#    Prometheus, buildah, blackbox_exporter) from Debian when they are missing
#    and we are root. Not root: prints what to install and goes on; the tests
#    that need a missing server then skip (or fail when CI=true).
# 2. gofmt -l (fails on any unformatted file), go vet ./..., staticcheck ./...
#    (installed at a pinned version when missing; fails on any finding),
#    go test ./...
#
# Extra arguments go to `go test` after the package list, e.g.
#   scripts/test.sh -run TestNamed -v
# TEST_PACKAGES overrides the package list (default ./...), e.g.
#   TEST_PACKAGES=./test/... scripts/test.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
step() { printf '\n==> %s\n' "$*"; }

t_all=$(now)

# command the tests run -> Debian package that provides it
declare -A PKG_OF=(
	[named]=bind9
	[named-checkconf]=bind9
	[named-checkzone]=bind9
	[dig]=bind9-dnsutils
	[slapd]=slapd
	[slapadd]=slapd
	[ldapsearch]=ldap-utils
	[promtool]=prometheus
	[prometheus]=prometheus
	[buildah]=buildah
	[prometheus-blackbox-exporter]=prometheus-blackbox-exporter
	[kamailio]=kamailio
	[systemd-analyze]=systemd
)
# libsasl2-modules: Cyrus SASL's NTLM plugin, for slapd's SASL NTLM binds
# (libsasl2-2 only recommends it, and recommends are not installed here)
# kamailio-tls-modules: Kamailio's tls.so, for the SIP-over-TLS integration tests
# systemd: systemd-analyze, to verify the shipped unit
PACKAGES=(bind9 bind9-dnsutils slapd ldap-utils libsasl2-modules prometheus buildah prometheus-blackbox-exporter kamailio kamailio-tls-modules systemd)
# init service names of the packages above that run a daemon
declare -A SERVICES_OF=(
	[bind9]=named
	[slapd]=slapd
	[prometheus]=prometheus
	[prometheus-blackbox-exporter]=prometheus-blackbox-exporter
)

have() {
	# Non-root PATHs often lack /usr/sbin, where named and slapd live.
	PATH="$PATH:/usr/sbin:/usr/bin:/sbin:/bin" command -v "$1" >/dev/null 2>&1
}

pkg_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

stop_service() {
	local svc=$1
	if [[ -d /run/systemd/system ]] && have systemctl; then
		if systemctl is-active --quiet "$svc" 2>/dev/null; then
			echo "stopping service $svc (started by its package)"
			systemctl stop "$svc" || true
		fi
	elif [[ -x "/etc/init.d/$svc" ]]; then
		if "/etc/init.d/$svc" status >/dev/null 2>&1; then
			echo "stopping service $svc (started by its package)"
			"/etc/init.d/$svc" stop || true
		fi
	fi
}

install_packages() {
	local t0 created_policy=0 pkg svc
	local -a fresh=()
	t0=$(now)
	for pkg in "${PACKAGES[@]}"; do
		pkg_installed "$pkg" || fresh+=("$pkg")
	done

	step "apt-get update"
	apt-get update -q

	# Fail early and clearly when this machine's sources lack a package.
	local missing_in_apt=() policy candidate
	for pkg in "${PACKAGES[@]}"; do
		policy=$(apt-cache policy "$pkg")
		candidate=$(awk '$1 == "Candidate:" { print $2 }' <<<"$policy")
		if [[ -z "$candidate" || "$candidate" == "(none)" ]]; then
			missing_in_apt+=("$pkg")
		else
			echo "  $pkg $candidate"
		fi
	done
	if ((${#missing_in_apt[@]})); then
		echo "apt cannot find: ${missing_in_apt[*]} (is this Debian 12 with the main component?)" >&2
		exit 1
	fi

	echo "slapd slapd/no_configuration boolean true" | debconf-set-selections

	# Keep the packages' services from starting on their default ports
	# (53, 389, 9090, 9115): the tests run their own instances on loopback.
	if [[ ! -e /usr/sbin/policy-rc.d ]]; then
		printf '#!/bin/sh\n# written by sfbex_exporter scripts/test.sh for the install only\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 0755 /usr/sbin/policy-rc.d
		created_policy=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi

	step "apt-get install ${PACKAGES[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

	if ((created_policy)); then
		rm -f /usr/sbin/policy-rc.d
		trap - EXIT
	fi

	# Whatever started anyway (an existing policy-rc.d that allows it), stop:
	# only the services of packages this run installed.
	for pkg in "${fresh[@]}"; do
		svc=${SERVICES_OF[$pkg]:-}
		if [[ -n "$svc" ]]; then
			stop_service "$svc"
		fi
	done
	echo "installed in $(since "$t0")"
}

step "checking the servers the integration tests use"
missing_cmds=()
missing_pkgs=()
for cmd in "${!PKG_OF[@]}"; do
	if ! have "$cmd"; then
		missing_cmds+=("$cmd")
		pkg=${PKG_OF[$cmd]}
		[[ " ${missing_pkgs[*]-} " == *" $pkg "* ]] || missing_pkgs+=("$pkg")
	fi
done
# a module, not a command: Kamailio's TLS transport
if have kamailio && ! compgen -G '/usr/lib/*/kamailio/modules/tls.so' >/dev/null; then
	missing_cmds+=(kamailio/tls.so)
	missing_pkgs+=(kamailio-tls-modules)
fi
# a library, not a command: slapd's NTLM plugin
if ! compgen -G '/usr/lib/*/sasl2/libntlm.so*' >/dev/null; then
	missing_cmds+=(libntlm.so)
	missing_pkgs+=(libsasl2-modules)
fi
if ((${#missing_cmds[@]} == 0)); then
	echo "all present"
elif [[ $EUID -eq 0 ]]; then
	echo "missing: ${missing_cmds[*]}"
	install_packages
else
	echo "missing: ${missing_cmds[*]}"
	echo "Not root, so not installing. To run every integration test, install:"
	echo "  sudo apt-get install --no-install-recommends ${missing_pkgs[*]}"
	echo "(or run this script as root). Tests that need them will skip; with CI=true they fail."
fi

if ! have go; then
	echo "go not found: install Go (see go.mod for the version) from https://go.dev/dl/" >&2
	exit 1
fi
go version

step "PowerShell syntax checker (scripts/ps-syntax)"
# The export script cannot run here; probes/cms TestExportScriptSyntax parses
# it with the tree-sitter PowerShell grammar. npm installs the versions pinned
# in scripts/ps-syntax/package-lock.json (WebAssembly only: no native build,
# no download from GitHub) into a cache outside the repository.
export SFBEX_PS_SYNTAX_DIR="${SFBEX_PS_SYNTAX_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sfbex/ps-syntax}"
if ! have node || ! have npm; then
	echo "node or npm not found: the syntax check skips (fails with CI=true); install Node.js 18 or later with npm"
elif cmp -s scripts/ps-syntax/package-lock.json "$SFBEX_PS_SYNTAX_DIR/package-lock.json" &&
	[[ -f "$SFBEX_PS_SYNTAX_DIR/node_modules/web-tree-sitter/package.json" ]]; then
	echo "present in $SFBEX_PS_SYNTAX_DIR"
else
	t0=$(now)
	mkdir -p "$SFBEX_PS_SYNTAX_DIR"
	cp scripts/ps-syntax/package.json scripts/ps-syntax/package-lock.json "$SFBEX_PS_SYNTAX_DIR/"
	if (cd "$SFBEX_PS_SYNTAX_DIR" && npm ci --ignore-scripts --no-audit --no-fund); then
		echo "installed in $SFBEX_PS_SYNTAX_DIR ($(since "$t0"))"
	else
		echo "npm ci failed: the syntax check skips (fails with CI=true)"
	fi
fi

step "gofmt -l"
t0=$(now)
unformatted=$(find . \( -name .git -o -name vendor -o -name testdata -o -name '[._]?*' \) -prune -o \
	-type f -name '*.go' -print0 | xargs -0r gofmt -l)
if [[ -n "$unformatted" ]]; then
	echo "not gofmt'ed (run: gofmt -w <file>):" >&2
	echo "$unformatted" >&2
	exit 1
fi
echo "ok ($(since "$t0"))"

step "go vet ./..."
t0=$(now)
go vet ./...
echo "ok ($(since "$t0"))"

# staticcheck at a pinned version, installed by `go install pkg@version` into
# a cache directory of its own: it resolves its dependencies apart from this
# module, so go.mod and go.sum stay as they are and nothing else to keep.
STATICCHECK_VERSION=v0.8.2
step "staticcheck ${STATICCHECK_VERSION} ./..."
t0=$(now)
staticcheck_dir="${XDG_CACHE_HOME:-$HOME/.cache}/sfbex_exporter/staticcheck-${STATICCHECK_VERSION}"
if [[ ! -x "$staticcheck_dir/staticcheck" ]]; then
	echo "installing honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION} into $staticcheck_dir"
	GOBIN="$staticcheck_dir" go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi
"$staticcheck_dir/staticcheck" ./...
echo "ok ($(since "$t0"))"

# The Windows service code (internal/winsvc/windows.go) compiles only for
# Windows: build the agent, vet and staticcheck every package it is made of
# for windows/amd64. test/... and alerts/ are left out: they are tests that
# drive Linux servers (bind9, slapd, Prometheus) and never run on Windows.
step "windows/amd64: go build, go vet, staticcheck"
t0=$(now)
GOOS=windows GOARCH=amd64 go build -o /dev/null ./cmd/sfbex_exporter
mapfile -t win_pkgs < <(GOOS=windows GOARCH=amd64 go list ./... | grep -v -e '/test/' -e '/alerts$')
GOOS=windows GOARCH=amd64 go vet "${win_pkgs[@]}"
GOOS=windows GOARCH=amd64 "$staticcheck_dir/staticcheck" "${win_pkgs[@]}"
echo "ok ($(since "$t0"))"

step "mixin/: the rules and dashboards are what it renders (its own Go module)"
t0=$(now)
(cd mixin && go vet ./... && go test -count=1 ./...)
echo "ok ($(since "$t0"))"

step "Helm chart: helm lint --strict, helm template decoded strictly, promtool (test/helm, own Go module)"
t0=$(now)
# helm v4 is built once from the Go module proxy into a cache (about 6 minutes cold on 2 cores).
if helm_bin=$(bash scripts/helm.sh); then
	export SFBEX_HELM="$helm_bin"
else
	echo "could not build helm: the chart tests skip (fail with CI=true)"
fi
(cd test/helm && go vet ./... && go test -count=1 ./...)
echo "ok ($(since "$t0"))"

step "go test ${TEST_PACKAGES:-./...} $*"
t0=$(now)
rc=0
# shellcheck disable=SC2086 # TEST_PACKAGES may list several packages
go test -count=1 -timeout 25m ${TEST_PACKAGES:-./...} "$@" || rc=$?
echo "go test: rc=$rc ($(since "$t0"))"

echo
echo "total $(since "$t_all")"
exit "$rc"
