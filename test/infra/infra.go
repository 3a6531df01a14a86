// Package infra starts real servers (bind9 named, the agent binary) for
// integration tests, on 127.0.0.1 high ports, and stops them by PID.
//
// Servers come from Debian packages that scripts/test.sh installs when run
// as root. A test calls Require first: it skips when a server is missing,
// or fails when CI=true, so CI can never silently skip an integration test.
//
// Every start registers a t.Cleanup that stops the process by its PID
// (SIGTERM, then SIGKILL after a grace period) and, when the test failed,
// logs the process's captured stdout/stderr.
//
//	func TestMain(m *testing.M) { os.Exit(infra.Main(m)) } // one agent build per package
//
//	func TestDrift(t *testing.T) {
//		ns := infra.StartNamed(t, map[string]string{"contoso.test": zone(1)})
//		agent := infra.StartAgent(t, infra.BuildAgent(t), nil,
//			[]string{"SFBEX_SIP_DOMAINS=contoso.test", "SFBEX_DNS_RESOLVERS=local=" + ns.Addr})
//		ns.SetZone(t, "contoso.test", zone(2)) // new text, higher SOA serial
//		// ... poll agent.URL + "/metrics"
//	}
package infra

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// debianPackage names the Debian package that provides each server or
// tool the tests use, for Require's message.
var debianPackage = map[string]string{
	"named":                        "bind9",
	"named-checkconf":              "bind9-utils (pulled in by bind9)",
	"named-checkzone":              "bind9-utils (pulled in by bind9)",
	"dig":                          "bind9-dnsutils",
	"slapd":                        "slapd",
	"slapadd":                      "slapd",
	"slaptest":                     "slapd",
	"ldapsearch":                   "ldap-utils",
	"ldapadd":                      "ldap-utils",
	"ldapmodify":                   "ldap-utils",
	"prometheus":                   "prometheus",
	"promtool":                     "prometheus",
	"buildah":                      "buildah",
	"prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
	"sipp":                         "sip-tester",
	"kamailio":                     "kamailio (with kamailio-tls-modules)",
}

// extraDirs are searched after PATH: a non-root PATH often lacks /usr/sbin,
// where named and slapd live.
var extraDirs = []string{"/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// LookPath finds an executable in PATH, then in /usr/sbin, /usr/bin, /sbin
// and /bin. It returns an absolute path.
func LookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			return abs, nil
		}
		return p, nil
	}
	for _, dir := range extraDirs {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH or %s", name, strings.Join(extraDirs, ", "))
}

// InCI reports whether the tests run in CI (env CI=true), where a missing
// server is a failure, not a skip.
func InCI() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Require checks that each binary can be found (see LookPath). When one is
// missing the test fails if CI=true and is skipped otherwise; the message
// names the Debian package and scripts/test.sh, which installs it as root.
func Require(t testing.TB, binaries ...string) {
	t.Helper()
	var missing, pkgs []string
	seen := map[string]bool{}
	for _, b := range binaries {
		if _, err := LookPath(b); err == nil {
			continue
		}
		missing = append(missing, b)
		pkg, ok := debianPackage[b]
		if !ok {
			pkg = "the Debian package providing " + b
		}
		if !seen[pkg] {
			seen[pkg] = true
			pkgs = append(pkgs, pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	sort.Strings(pkgs)
	msg := fmt.Sprintf("missing %s (Debian: %s); run scripts/test.sh as root to install it",
		strings.Join(missing, ", "), strings.Join(pkgs, ", "))
	if names := pkgNames(pkgs); len(names) > 0 {
		msg += ", or apt-get install --no-install-recommends " + strings.Join(names, " ")
	}
	if InCI() {
		t.Fatalf("CI=true: %s", msg)
		return
	}
	t.Skipf("%s", msg)
}

// pkgNames strips the explanations from debianPackage values.
func pkgNames(pkgs []string) []string {
	out := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		if i := strings.IndexByte(p, ' '); i > 0 && !strings.HasPrefix(p, "the ") {
			p = p[:i]
		}
		if strings.HasPrefix(p, "the ") {
			continue
		}
		out = append(out, p)
	}
	return out
}

// ModuleRoot returns the directory holding the module's go.mod, found by
// walking up from the working directory (a package directory under go test).
func ModuleRoot(t testing.TB) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("ModuleRoot: %v", err)
	}
	return root
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or any parent")
		}
		dir = parent
	}
}
