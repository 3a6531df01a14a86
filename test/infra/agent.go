package infra

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const (
	agentReadyTimeout = 20 * time.Second
	agentStopGrace    = 10 * time.Second
	agentStartTries   = 3
)

// Agent is a running agent binary. Start it with StartAgent.
type Agent struct {
	// URL is the base URL, "http://127.0.0.1:<Port>" (no trailing slash).
	URL  string
	Addr string
	Port int
	// Dir is the agent's working directory, a t.TempDir().
	Dir     string
	LogPath string

	t     testing.TB
	proc  *process
	ready time.Duration // how long waitReady waits
}

// StartAgent starts the agent binary bin with args plus
// --web.listen-address=127.0.0.1:<free port>, and waits (up to 20 s) until
// GET /readyz answers 200. Its stdout and stderr go to a file that is
// logged if the test fails; a t.Cleanup stops it by PID (SIGTERM, then
// SIGKILL after 10 s, which also fails the test: the agent must exit on
// SIGTERM).
//
// The agent gets this process's environment without any SFBEX_* variable
// (so a developer's shell cannot change a test), plus env ("NAME=value").
func StartAgent(t testing.TB, bin string, args []string, env []string) *Agent {
	t.Helper()
	return StartAgentReadyWithin(t, agentReadyTimeout, bin, args, env)
}

// StartAgentReadyWithin is StartAgent for an agent whose first round of
// checks takes longer than StartAgent waits (the fleet benchmark's
// thousands of domains).
func StartAgentReadyWithin(t testing.TB, ready time.Duration, bin string, args []string, env []string) *Agent {
	t.Helper()
	a := &Agent{t: t, Dir: t.TempDir(), ready: ready}
	a.LogPath = filepath.Join(a.Dir, "agent.log")
	logOnFailure(t, "agent", a.LogPath)
	t.Cleanup(a.Stop)

	fullEnv := append(filterEnv(os.Environ(), "SFBEX_"), env...)
	err := StartOnFreePorts(t, "agent", agentStartTries, func() (string, error) {
		a.Port = FreePort(t)
		a.Addr = fmt.Sprintf("127.0.0.1:%d", a.Port)
		a.URL = "http://" + a.Addr
		fullArgs := append(append([]string(nil), args...), "--web.listen-address="+a.Addr)
		logStart := fileSize(a.LogPath)
		p, err := startProcess("agent", a.LogPath, a.Dir, fullEnv, bin, fullArgs...)
		if err != nil {
			return "", err
		}
		a.proc = p
		if err := a.waitReady(); err != nil {
			p.stop(agentStopGrace)
			return readLogFrom(a.LogPath, logStart), err
		}
		return "", nil
	})
	if err != nil {
		t.Fatalf("StartAgent %s: %v", bin, err)
	}
	return a
}

func (a *Agent) waitReady() error {
	client := &http.Client{
		Timeout:   time.Second,
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
	}
	deadline := time.Now().Add(a.ready)
	var last string
	for {
		resp, err := client.Get(a.URL + "/readyz")
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("GET /readyz: %s %q", resp.Status, body)
		} else {
			last = err.Error()
		}
		if a.proc.exited() {
			return fmt.Errorf("agent exited before it was ready (%v); last: %s", a.proc.waitErr, last)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("agent not ready after %v: %s", a.ready, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop stops the agent by its PID: SIGTERM, then SIGKILL after 10 s (and
// the test fails, since the agent should shut down on SIGTERM). Idempotent.
func (a *Agent) Stop() {
	if a.proc == nil {
		return
	}
	if a.proc.stop(agentStopGrace) {
		a.t.Errorf("agent (pid %d) did not exit within %v of SIGTERM and was killed", a.proc.pid(), agentStopGrace)
	}
}

// PID of the agent process.
func (a *Agent) PID() int { return a.proc.pid() }

// Exited reports whether the agent process has exited, and its wait error.
func (a *Agent) Exited() (bool, error) {
	if a.proc.exited() {
		return true, a.proc.waitErr
	}
	return false, nil
}

// Log returns the agent's output so far.
func (a *Agent) Log() string { return readLog(a.LogPath, 1<<20) }
