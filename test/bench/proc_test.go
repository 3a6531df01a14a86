package bench

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// server is a process this harness started (bind9 with a statistics
// channel, blackbox_exporter). It is stopped by its PID: SIGTERM, then
// SIGKILL after a grace period; the kernel kills it if the test process
// dies first (Pdeathsig).
type server struct {
	label   string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	err     error
}

func startServer(tb testing.TB, label, dir string, path string, args ...string) *server {
	tb.Helper()
	s := &server{label: label, logPath: filepath.Join(dir, label+".log"), done: make(chan struct{})}
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	s.cmd = exec.Command(path, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = f, f
	s.cmd.SysProcAttr = sysProcAttr()
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", label, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	tb.Cleanup(func() {
		s.stop()
		if tb.Failed() {
			tb.Logf("output of %s:\n%s", label, s.log())
		}
	})
	return s
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the PID, and SIGKILL after 5 s. Idempotent.
func (s *server) stop() {
	if s.exited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return
	case <-time.After(5 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

func (s *server) log() string {
	b, _ := os.ReadFile(s.logPath)
	if len(b) > 16<<10 {
		b = b[len(b)-16<<10:]
	}
	return string(b)
}

// waitHTTP polls url until it answers 200.
func (s *server) waitHTTP(url string, timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	var last string
	for {
		resp, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if s.exited() {
			return fmt.Errorf("%s exited (%v): %s", s.label, s.err, strings.TrimSpace(s.log()))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %s", s.label, timeout, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loopbackClient talks to 127.0.0.1 only: no proxy from the environment.
func loopbackClient(conns int, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{Proxy: nil, MaxIdleConns: conns, MaxIdleConnsPerHost: conns},
	}
}
