package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
)

// The lab answers on loopback only, so these run the real command end to end.

func TestCheckOnHealthyLabExitsZero(t *testing.T) {
	clearEnv(t)
	if code := run([]string{"check", "--lab", "--log.level=error"}); code != 0 {
		t.Fatalf("check --lab exited %d on a healthy lab", code)
	}
}

func TestCheckWithEachLabFaultExitsNonZero(t *testing.T) {
	for _, f := range []string{"dns-drift", "dns-missing", "dns-mixed", "dns-split"} {
		t.Run(f, func(t *testing.T) {
			clearEnv(t)
			if code := run([]string{"check", "--lab", "--lab.fault=" + f, "--log.level=error"}); code != 1 {
				t.Fatalf("check --lab --lab.fault=%s exited %d, want 1", f, code)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	clearEnv(t)
	for _, args := range [][]string{
		{"check"},                              // nothing configured
		{"check", "--lab.fault=dns-drift"},     // fault without --lab
		{"check", "--lab", "--lab.fault=nope"}, // unknown fault: cannot start the lab
		{"--no-such-flag"},
	} {
		if code := run(args); code == 0 {
			t.Errorf("run(%v) exited 0", args)
		}
	}
}

// A burst of scrapers beyond the limit waits for a slot; none is turned away.
func TestQueuedMakesRequestsWaitInsteadOfFailing(t *testing.T) {
	release := make(chan struct{})
	var inside, peak atomic.Int32
	h := queued(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inside.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		inside.Add(-1)
		w.Write([]byte("ok"))
	}), 2)
	srv := httptest.NewServer(h)
	defer srv.Close()
	codes := make(chan int, 6)
	for range 6 {
		go func() {
			resp, err := http.Get(srv.URL)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	for inside.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range 6 {
		if c := <-codes; c != 200 {
			t.Errorf("status %d, want 200", c)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("%d requests inside at once, want 2", p)
	}
}

// clearEnv removes every SFBEX_* variable for the test's duration: run()
// reads the process environment, as the agent does.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SFBEX_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// setEnv sets exactly the SFBEX_* variables of env for the test's duration.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// The agent serves its runbooks and references, so an alert's
// runbook_url (http://<instance>/runbooks#…) opens on the agent itself.
func TestAgentServesRunbooksAndReferences(t *testing.T) {
	a := &agent{Routes: map[string]http.Handler{}}
	store := collector.NewStore(nil)
	srv := httptest.NewServer(newMux(store, newRegistry(store, false), a, nil))
	defer srv.Close()
	for path, want := range map[string]string{
		"/runbooks":           `id="agent-down"`,
		"/docs/metrics":       `id="sfbex_probe_state"`,
		"/docs/configuration": `id="sfbex_ca_file"`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, want 200 and %s", path, resp.StatusCode, want)
		}
	}
}
