package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/winsvc"
)

// eventLog records events like the Windows Event Log.
type eventLog struct {
	mu     sync.Mutex
	events []string
}

func (e *eventLog) add(kind, m string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, kind+": "+m)
	return nil
}
func (e *eventLog) Info(_ uint32, m string) error    { return e.add("info", m) }
func (e *eventLog) Warning(_ uint32, m string) error { return e.add("warning", m) }
func (e *eventLog) Error(_ uint32, m string) error   { return e.add("error", m) }

func (e *eventLog) has(s string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.ContainsFunc(e.events, func(ev string) bool { return strings.Contains(ev, s) })
}

// manager is the service manager: it sends requests and records states.
type manager struct {
	reqs   chan winsvc.Request
	states chan winsvc.Status
}

func (m *manager) Requests() <-chan winsvc.Request { return m.reqs }
func (m *manager) Report(s winsvc.Status)          { m.states <- s }

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The agent as a service: it starts, logs to the Event Log and the file,
// and a stop request ends it cleanly with exit code 0.
func TestServiceStartsLogsAndStopsCleanly(t *testing.T) {
	clearEnv(t)
	logFile := filepath.Join(t.TempDir(), "sfbex_exporter.log")
	events := &eventLog{}
	m := &manager{reqs: make(chan winsvc.Request), states: make(chan winsvc.Status, 8)}
	exit := make(chan uint32, 1)
	go func() {
		exit <- winsvc.Run(m, func(ctx context.Context) int {
			return runIn(runEnv{ctx: ctx, stderr: winsvc.ErrorWriter(events), eventLog: events},
				[]string{"--lab", "--web.listen-address=127.0.0.1:0", "--log.file=" + logFile})
		})
	}()
	waitUntil(t, "the start event", func() bool { return events.has("sfbex_exporter started") })
	m.reqs <- winsvc.Stop
	if code := <-exit; code != 0 {
		t.Fatalf("stopped with exit code %d, want 0; events %q", code, events.events)
	}
	var got []winsvc.State
	for len(m.states) > 0 {
		got = append(got, (<-m.states).State)
	}
	if want := []winsvc.State{winsvc.StartPending, winsvc.Running, winsvc.StopPending, winsvc.Stopped}; !slices.Equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if !events.has("warning: ") || !events.has("LAB MODE") || !events.has("shutting down") {
		t.Errorf("the Event Log lacks the lab warning or the shutdown: %q", events.events)
	}
	b, err := os.ReadFile(logFile)
	if err != nil || !bytes.Contains(b, []byte("sfbex_exporter started")) || !bytes.Contains(b, []byte("shutting down")) {
		t.Errorf("log file: %v\n%s", err, b)
	}
}

// A service whose configuration is bad stops with exit code 2 and says why
// in the Event Log (a service has no console).
func TestServiceWithBadConfigurationSaysWhyInTheEventLog(t *testing.T) {
	clearEnv(t)
	t.Setenv("SFBEX_SIP_DOMAINS", "contoso.com")
	t.Setenv("SFBEX_DNS_INTERVAL", "often")
	events := &eventLog{}
	m := &manager{reqs: make(chan winsvc.Request), states: make(chan winsvc.Status, 8)}
	code := winsvc.Run(m, func(ctx context.Context) int {
		return runIn(runEnv{ctx: ctx, stderr: winsvc.ErrorWriter(events), eventLog: events}, nil)
	})
	if code != 2 || !events.has(`error: sfbex_exporter: configuration: SFBEX_DNS_INTERVAL="often"`) {
		t.Fatalf("exit %d, events %q", code, events.events)
	}
}

func TestInstallRefusesOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("installs a real service on Windows")
	}
	for _, cmd := range []string{"install", "uninstall"} {
		var stderr bytes.Buffer
		if code := runIn(runEnv{stderr: &stderr}, []string{cmd}); code != 1 || !strings.Contains(stderr.String(), "Windows only") {
			t.Errorf("%s: exit %d, %q", cmd, code, stderr.String())
		}
	}
}

func TestServiceArgs(t *testing.T) {
	got := serviceArgs(defaultServiceConfig, defaultServiceLog, []string{"--web.listen-address=:9727"})
	want := []string{`--config.file=C:\ProgramData\sfbex_exporter\sfbex_exporter.conf`, `--log.file=C:\ProgramData\sfbex_exporter\sfbex_exporter.log`, "--web.listen-address=:9727"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLogFileRotates(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.log")
	r, err := openRotating(p, 100)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	line := []byte(strings.Repeat("x", 39) + "\n")
	for range 7 { // 280 bytes: rotates twice, keeps one previous file
		if _, err := r.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	cur, _ := os.Stat(p)
	prev, _ := os.Stat(p + ".1")
	if cur == nil || prev == nil || cur.Size() != 40 || prev.Size() != 80 {
		t.Fatalf("current %v, previous %v", cur, prev)
	}
	if _, err := os.Stat(p + ".2"); err == nil {
		t.Error("kept more than one previous file")
	}
}

// On Linux the agent refuses to schedule the settings export instead of
// silently not running it.
func TestExportScheduleRefusedOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs the export on Windows")
	}
	clearEnv(t)
	t.Setenv("SFBEX_SIP_DOMAINS", "contoso.com")
	t.Setenv("SFBEX_EXPORT_SCRIPT", `C:\Program Files\sfbex_exporter\Export-SfbexSnapshot.ps1`)
	t.Setenv("SFBEX_EXPORT_OUTPUT_FOLDER", `C:\ProgramData\sfbex_exporter\snapshots`)
	var stderr bytes.Buffer
	if code := runIn(runEnv{stderr: &stderr}, []string{"check"}); code != 2 || !strings.Contains(stderr.String(), "only on Windows") {
		t.Fatalf("exit %d, %q", code, stderr.String())
	}
}
