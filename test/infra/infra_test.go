package infra

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// fakeTB records Skipf/Fatalf instead of acting on them; Fatalf ends the
// goroutine like the real one, so run the code under test with runFake.
type fakeTB struct {
	testing.TB
	mu      sync.Mutex
	skipped string
	fatal   string
}

func (f *fakeTB) Skipf(format string, args ...any) {
	f.mu.Lock()
	f.skipped = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }

// runFake runs fn(fake) in its own goroutine and waits for it.
func runFake(t *testing.T, fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestRequire(t *testing.T) {
	t.Run("present", func(t *testing.T) {
		f := runFake(t, func(tb testing.TB) { Require(tb, "sh") })
		if f.skipped != "" || f.fatal != "" {
			t.Fatalf("sh is present, got skip %q fatal %q", f.skipped, f.fatal)
		}
	})
	t.Run("missing locally skips", func(t *testing.T) {
		t.Setenv("CI", "")
		f := runFake(t, func(tb testing.TB) { Require(tb, "sh", "named-nonexistent-xyz", "slapd-nonexistent") })
		if f.fatal != "" || f.skipped == "" {
			t.Fatalf("want a skip, got skip %q fatal %q", f.skipped, f.fatal)
		}
		for _, want := range []string{"named-nonexistent-xyz", "slapd-nonexistent", "scripts/test.sh"} {
			if !strings.Contains(f.skipped, want) {
				t.Errorf("skip message %q does not mention %q", f.skipped, want)
			}
		}
	})
	t.Run("missing in CI fails", func(t *testing.T) {
		t.Setenv("CI", "true")
		f := runFake(t, func(tb testing.TB) { Require(tb, "buildah-nonexistent") })
		if f.fatal == "" || f.skipped != "" {
			t.Fatalf("want a failure, got skip %q fatal %q", f.skipped, f.fatal)
		}
	})
	t.Run("package named", func(t *testing.T) {
		t.Setenv("CI", "")
		t.Setenv("PATH", t.TempDir()) // nothing in PATH; /usr/sbin etc. still searched
		old := extraDirs
		extraDirs = nil
		defer func() { extraDirs = old }()
		f := runFake(t, func(tb testing.TB) { Require(tb, "named", "promtool") })
		for _, want := range []string{"bind9", "prometheus", "apt-get install --no-install-recommends bind9 prometheus"} {
			if !strings.Contains(f.skipped, want) {
				t.Errorf("skip message %q does not mention %q", f.skipped, want)
			}
		}
	})
}

func TestLookPathSearchesSbin(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	p, err := LookPath("sh")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(p) {
		t.Errorf("LookPath(sh) = %q, want an absolute path", p)
	}
}

func TestFreePort(t *testing.T) {
	port := FreePort(t)
	if port <= 1024 || port > 65535 {
		t.Fatalf("FreePort() = %d", port)
	}
	for _, network := range []string{"tcp4", "udp4"} {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if network == "tcp4" {
			l, err := net.Listen(network, addr)
			if err != nil {
				t.Fatalf("port %d not free for TCP: %v", port, err)
			}
			l.Close()
		} else {
			c, err := net.ListenPacket(network, addr)
			if err != nil {
				t.Fatalf("port %d not free for UDP: %v", port, err)
			}
			c.Close()
		}
	}
}

func TestModuleRoot(t *testing.T) {
	root := ModuleRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "module github.com/sfbex/sfbex_exporter") {
		t.Fatalf("%s/go.mod is not this module's", root)
	}
}

const fakeAgent = "./test/infra/testdata/fakeagent"

func TestBuildCachesPerProcess(t *testing.T) {
	a := Build(t, fakeAgent)
	b := Build(t, fakeAgent)
	if a != b {
		t.Errorf("second Build gave %s, want the cached %s", b, a)
	}
	if fi, err := os.Stat(a); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("built binary %s: %v", a, err)
	}
}

func TestStartAgent(t *testing.T) {
	bin := Build(t, fakeAgent)
	t.Setenv("SFBEX_FROM_DEVELOPER_SHELL", "leak")
	a := StartAgent(t, bin, nil, []string{"SFBEX_GIVEN=yes", "FAKE_READY_AFTER=300ms"})

	if !strings.HasPrefix(a.URL, "http://127.0.0.1:") || a.Port == 0 {
		t.Fatalf("URL %q, port %d", a.URL, a.Port)
	}
	resp, err := http.Get(a.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz after StartAgent: %s", resp.Status)
	}

	resp, err = http.Get(a.URL + "/env")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := string(body); got != "SFBEX_GIVEN=yes" {
		t.Errorf("agent's SFBEX_ environment = %q, want only SFBEX_GIVEN=yes", got)
	}

	pid := a.PID()
	a.Stop()
	a.Stop() // idempotent
	if exited, _ := a.Exited(); !exited {
		t.Fatal("agent still running after Stop")
	}
	if processAlive(pid) {
		t.Fatalf("pid %d still alive after Stop", pid)
	}
	if !strings.Contains(a.Log(), "fakeagent: shutting down") {
		t.Errorf("agent log lacks its output:\n%s", a.Log())
	}
}

func TestStartAgentFailsWhenItExits(t *testing.T) {
	bin := Build(t, fakeAgent)
	f := runFake(t, func(tb testing.TB) {
		StartAgent(tb, bin, []string{"--no-such-flag"}, nil)
	})
	if !strings.Contains(f.fatal, "exited before it was ready") {
		t.Fatalf("want a failure saying the agent exited, got %q", f.fatal)
	}
}
