package infra

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// AgentPackage is the agent's main package, relative to the module root.
const AgentPackage = "./cmd/sfbex_exporter"

// build cache: one binary per package per test process, used when the
// test package's TestMain calls Main (which removes it at the end).
var buildCache struct {
	sync.Mutex
	enabled bool
	dir     string
	bins    map[string]buildResult
}

type buildResult struct {
	path string
	err  error
}

// Main runs the tests of a package that builds binaries with Build or
// BuildAgent, building each binary once for all its tests, and removes the
// binaries at the end. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(infra.Main(m)) }
//
// Without it each test builds into its own t.TempDir() (the Go build cache
// keeps that quick).
func Main(m *testing.M) int {
	buildCache.Lock()
	buildCache.enabled = true
	buildCache.bins = map[string]buildResult{}
	buildCache.Unlock()
	defer func() {
		buildCache.Lock()
		if buildCache.dir != "" {
			os.RemoveAll(buildCache.dir)
		}
		buildCache.Unlock()
	}()
	return m.Run()
}

// BuildAgent builds ./cmd/sfbex_exporter with CGO_ENABLED=0 (the static
// binary the Dockerfile ships) and returns the binary's path.
func BuildAgent(t testing.TB) string {
	t.Helper()
	return Build(t, AgentPackage)
}

// Build runs `CGO_ENABLED=0 go build -o <tmp>/<name> <pkg>` in the module
// root and returns the binary's path. pkg is relative to the module root
// ("./cmd/sfbex_exporter"). A build failure fails the test with the
// compiler's output.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	root := ModuleRoot(t)

	buildCache.Lock()
	defer buildCache.Unlock()
	if !buildCache.enabled {
		path, err := goBuild(root, pkg, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
	if r, ok := buildCache.bins[pkg]; ok {
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.path
	}
	if buildCache.dir == "" {
		dir, err := os.MkdirTemp("", "sfbex-test-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildCache.dir = dir
	}
	out, err := os.MkdirTemp(buildCache.dir, "")
	if err != nil {
		t.Fatal(err)
	}
	path, err := goBuild(root, pkg, out)
	buildCache.bins[pkg] = buildResult{path, err}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func goBuild(root, pkg, outDir string) (string, error) {
	gobin, err := exec.LookPath("go") // go test puts GOROOT/bin first in PATH
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	out := filepath.Join(outDir, filepath.Base(pkg))
	cmd := exec.Command(gobin, "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("CGO_ENABLED=0 go build -o %s %s (in %s): %v\n%s", out, pkg, root, err, b)
	}
	return out, nil
}
