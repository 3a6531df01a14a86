// Package isolate re-runs a test binary inside a private network namespace
// that has nothing but a loopback interface, so that nothing a test starts
// (bind9, blackbox_exporter, the agent with whatever defaults it has this
// week) can reach another address: a lookup through the system resolver,
// or a dial to a public host, fails at once with "network is unreachable"
// instead of leaving the machine.
//
//	func TestMain(m *testing.M) {
//		if code, ran := isolate.Main(isolate.Prefer); ran {
//			os.Exit(code)
//		}
//		os.Exit(infra.Main(m))
//	}
//
// The parent process re-executes itself (same arguments, same working
// directory) with CLONE_NEWNET, or CLONE_NEWUSER|CLONE_NEWNET when it is not
// root, relays the child's output and exits with its status. The child
// brings "lo" up and runs the tests. Go modules the child's `go build`
// needs are downloaded by the parent first, since the child has no network.
package isolate

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Policy says what to do when no namespace can be made.
type Policy int

const (
	// Prefer isolates when the system allows it and otherwise runs the
	// tests as they are (for tests that only talk to loopback by design).
	Prefer Policy = iota
	// Require fails the run when it cannot be isolated, unless
	// SFBEX_ALLOW_NETWORK=1.
	Require
)

// envInside marks the re-executed child.
const envInside = "SFBEX_NETNS"

// Inside reports whether this process runs in the private namespace.
func Inside() bool { return os.Getenv(envInside) == "inside" }

// Main isolates the test binary. ran is true in the parent, which has run
// the tests in the child and must exit with code. In the child (and when
// the tests run unisolated) ran is false and the caller runs the tests.
//
// Packages lists what the child will build (e.g. "./cmd/sfbex_exporter"),
// so that the parent can fetch their modules while it still has network.
func Main(policy Policy, packages ...string) (code int, ran bool) {
	if Inside() {
		if err := loopbackUp(); err != nil {
			fmt.Fprintf(os.Stderr, "isolate: bringing up lo in the private network namespace: %v\n", err)
			return 1, true
		}
		return 0, false
	}
	if os.Getenv("SFBEX_ALLOW_NETWORK") == "1" {
		fmt.Fprintln(os.Stderr, "isolate: SFBEX_ALLOW_NETWORK=1: running without a private network namespace")
		return 0, false
	}
	if len(packages) > 0 {
		if err := fetchModules(packages); err != nil {
			fmt.Fprintf(os.Stderr, "isolate: %v\n", err)
			return 1, true
		}
	}
	code, err := rerun()
	if err == nil {
		return code, true
	}
	if policy == Require {
		fmt.Fprintf(os.Stderr, "isolate: cannot run the tests in a private network namespace (%v); run as root, or set SFBEX_ALLOW_NETWORK=1 to run them without one\n", err)
		return 1, true
	}
	fmt.Fprintf(os.Stderr, "isolate: no private network namespace (%v); running the tests as they are\n", err)
	return 0, false
}

// fetchModules makes sure the modules the child's builds need are in the
// module cache (the child cannot download them).
func fetchModules(packages []string) error {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go not found: %v", err)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command(gobin, append([]string{"list", "-deps", "-test=false"}, packages...)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go list -deps %v: %v\n%s", packages, err, out)
	}
	return nil
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = parent
	}
}
