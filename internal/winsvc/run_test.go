package winsvc

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// fakeManager records what the service reports and sends requests.
type fakeManager struct {
	reqs chan Request
	mu   sync.Mutex
	got  []Status
	seen chan Status
}

func newFake() *fakeManager {
	return &fakeManager{reqs: make(chan Request), seen: make(chan Status, 16)}
}

func (f *fakeManager) Requests() <-chan Request { return f.reqs }

func (f *fakeManager) Report(s Status) {
	f.mu.Lock()
	f.got = append(f.got, s)
	f.mu.Unlock()
	f.seen <- s
}

func (f *fakeManager) states() []State {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []State
	for _, s := range f.got {
		out = append(out, s.State)
	}
	return out
}

// waitFor blocks until the service reports state (the channel is the
// wait: no sleeps).
func (f *fakeManager) waitFor(t *testing.T, state State) Status {
	t.Helper()
	for s := range f.seen {
		if s.State == state {
			return s
		}
	}
	t.Fatalf("never reported %s", state)
	return Status{}
}

func TestStopRequestCancelsServeAndReportsStopped(t *testing.T) {
	for _, req := range []Request{Stop, Shutdown} {
		m := newFake()
		served := make(chan struct{})
		exit := make(chan uint32, 1)
		go func() {
			exit <- Run(m, func(ctx context.Context) int {
				close(served)
				<-ctx.Done() // the agent's serve returns when its context ends
				return 0
			})
		}()
		m.waitFor(t, Running)
		<-served
		m.reqs <- Interrogate
		if s := m.waitFor(t, Running); s.State != Running {
			t.Fatalf("interrogate answered %v", s)
		}
		m.reqs <- req
		m.waitFor(t, StopPending)
		if s := m.waitFor(t, Stopped); s.ExitCode != 0 {
			t.Errorf("request %d: exit code %d, want 0", req, s.ExitCode)
		}
		if code := <-exit; code != 0 {
			t.Errorf("Run returned %d", code)
		}
		want := []State{StartPending, Running, Running, StopPending, Stopped}
		if got := m.states(); !slices.Equal(got, want) {
			t.Errorf("request %d: reported %v, want %v", req, got, want)
		}
	}
}

// A serve that fails on its own (bad configuration: exit 2; the port is
// taken: exit 1) stops the service with its exit code, with no request.
func TestServeFailingStopsTheServiceWithItsCode(t *testing.T) {
	for _, code := range []int{1, 2} {
		m := newFake()
		got := Run(m, func(context.Context) int { return code })
		if got != uint32(code) {
			t.Errorf("Run returned %d, want %d", got, code)
		}
		if s := m.waitFor(t, Stopped); s.ExitCode != uint32(code) {
			t.Errorf("stopped with exit code %d, want %d", s.ExitCode, code)
		}
		if slices.Contains(m.states(), StopPending) {
			t.Errorf("reported stop pending without a stop request: %v", m.states())
		}
	}
}

// A second stop request while stopping does not cancel twice or report
// stop pending again.
func TestSecondStopWhileStopping(t *testing.T) {
	m := newFake()
	release := make(chan struct{})
	exit := make(chan uint32, 1)
	go func() {
		exit <- Run(m, func(ctx context.Context) int {
			<-ctx.Done()
			<-release // a slow shutdown
			return 0
		})
	}()
	m.waitFor(t, Running)
	m.reqs <- Stop
	m.waitFor(t, StopPending)
	m.reqs <- Stop // Run must still read requests while serve shuts down
	m.reqs <- Interrogate
	if s := m.waitFor(t, StopPending); s.State != StopPending {
		t.Fatal(s)
	}
	close(release)
	<-exit
	if n := len(slices.DeleteFunc(m.states(), func(s State) bool { return s != StopPending })); n != 2 {
		t.Errorf("stop pending reported %d times (once for the stop, once for the interrogate), want 2: %v", n, m.states())
	}
}
