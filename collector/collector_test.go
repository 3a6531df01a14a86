package collector

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
)

// fakeResult is a result with fixed findings.
type fakeResult struct{ findings []probes.Finding }

func (f *fakeResult) Findings() []probes.Finding { return f.findings }

func (f *fakeResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric { return ms }

func newReg(s *Store) *prometheus.Registry { return promtest.Registry(NewCollector(s)) }

func TestStoreKeepsLastGoodResultWhenARunLearnsNothing(t *testing.T) {
	c := &probes.Check{Probe: "fake", Target: "t1", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{c})
	reg := newReg(s)
	l := map[string]string{"probe": "fake", "target": "t1"}

	promtest.Absent(t, reg, "sfbex_probe_success", l, "no run yet: nothing is known")
	good := &fakeResult{}
	t0 := time.Unix(1_700_000_000, 0)
	s.Record(c.ID(), Run{Start: t0, Duration: time.Second, Result: good})
	if v := promtest.Value(t, reg, "sfbex_probe_success", l); v != 1 {
		t.Fatalf("success after a good run = %v, want 1", v)
	}

	s.Record(c.ID(), Run{Start: t0.Add(time.Minute), Duration: time.Second,
		Err: probes.WithFix(errors.New("resolver down"), "start it")})
	e := s.Entries()[0]
	if e.Shown != good {
		t.Fatal("a failed run without a result replaced the last good result")
	}
	if !e.Stale || e.State() != StateStale {
		t.Fatalf("stale=%v state=%q, want stale", e.Stale, e.State())
	}
	if v := promtest.Value(t, reg, "sfbex_probe_success", l); v != 0 {
		t.Fatalf("success after a failed run = %v, want 0", v)
	}
	if v := promtest.Value(t, reg, "sfbex_probe_stale", l); v != 1 {
		t.Fatalf("stale = %v, want 1", v)
	}
	if v := promtest.Value(t, reg, "sfbex_probe_last_success_timestamp_seconds", l); v != float64(t0.Add(time.Second).Unix()) {
		t.Fatalf("last success = %v, want the good run's end %d", v, t0.Add(time.Second).Unix())
	}
	if v := promtest.Value(t, reg, "sfbex_probe_failures_total", l); v != 1 {
		t.Fatalf("failures = %v, want 1", v)
	}
	if e := s.Entries()[0]; e.Latest.Err == nil || e.Latest.Err.Error() != "resolver down" || probes.FixOf(e.Latest.Err) != "start it" {
		t.Fatalf("latest error %v, fix %q", e.Latest.Err, probes.FixOf(e.Latest.Err))
	}
}

func TestEntryStates(t *testing.T) {
	c := &probes.Check{Probe: "fake", Target: "t", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{c})
	if st := s.Entries()[0].State(); st != "pending" {
		t.Fatalf("state before a run = %q", st)
	}
	s.Record(c.ID(), Run{Result: &fakeResult{findings: []probes.Finding{{Severity: probes.Info}}}})
	if st := s.Entries()[0].State(); st != "ok" {
		t.Fatalf("state with an info finding = %q, want ok", st)
	}
	s.Record(c.ID(), Run{Result: &fakeResult{findings: []probes.Finding{{Severity: probes.Warning}}}})
	if st := s.Entries()[0].State(); st != StateWarning {
		t.Fatalf("state with a warning = %q, want warning", st)
	}
	if !s.Ready() {
		t.Fatal("store not ready after every check ran")
	}
}

func TestScrapeNeverWaitsForAProbe(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	hang := &probes.Check{Probe: "fake", Target: "hangs", Interval: time.Hour, Timeout: time.Hour,
		Run: func(ctx context.Context) (probes.Result, error) {
			close(started)
			select {
			case <-release:
			case <-ctx.Done():
			}
			return &fakeResult{}, nil
		}}
	s := NewStore([]*probes.Check{hang})
	reg := newReg(s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go RunOnce(ctx, s, []*probes.Check{hang}, 1)
	<-started

	gathered := make(chan error, 1)
	go func() { _, err := reg.Gather(); gathered <- err }()
	select {
	case err := <-gathered:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a scrape waited for a probe in flight")
	}
	close(release)
}

func TestRunOnceBoundsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	var checks []*probes.Check
	for i := range 12 {
		checks = append(checks, &probes.Check{Probe: "fake", Target: string(rune('a' + i)), Interval: time.Minute, Timeout: time.Second,
			Run: func(ctx context.Context) (probes.Result, error) {
				n := inFlight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
				inFlight.Add(-1)
				return &fakeResult{}, nil
			}})
	}
	s := NewStore(checks)
	RunOnce(context.Background(), s, checks, 3)
	if p := peak.Load(); p > 3 || p < 1 {
		t.Fatalf("peak concurrency %d, want 1..3", p)
	}
	for _, e := range s.Entries() {
		if e.Runs != 1 {
			t.Fatalf("%s ran %d times, want 1", e.Check.ID(), e.Runs)
		}
	}
}

func TestRunThatIgnoresItsDeadlineIsAFailure(t *testing.T) {
	c := &probes.Check{Probe: "fake", Target: "slow", Interval: time.Minute, Timeout: 10 * time.Millisecond,
		Run: func(ctx context.Context) (probes.Result, error) {
			<-ctx.Done()
			time.Sleep(5 * time.Millisecond)
			return &fakeResult{}, nil
		}}
	s := NewStore([]*probes.Check{c})
	RunOnce(context.Background(), s, []*probes.Check{c}, 1)
	e := s.Entries()[0]
	if e.Latest.Err == nil || !strings.Contains(e.Latest.Err.Error(), "deadline") {
		t.Fatalf("err = %v, want a deadline error", e.Latest.Err)
	}
}

func TestPanickingProbeBecomesAnError(t *testing.T) {
	c := &probes.Check{Probe: "fake", Target: "panics", Interval: time.Minute, Timeout: time.Second,
		Run: func(ctx context.Context) (probes.Result, error) { panic("boom") }}
	s := NewStore([]*probes.Check{c})
	RunOnce(context.Background(), s, []*probes.Check{c}, 1)
	e := s.Entries()[0]
	if e.Latest.Err == nil || !strings.Contains(e.Latest.Err.Error(), "boom") {
		t.Fatalf("err = %v, want the panic", e.Latest.Err)
	}
}

func TestSchedulerRunsChecksRepeatedlyAndStops(t *testing.T) {
	var runs atomic.Int32
	c := &probes.Check{Probe: "fake", Target: "t", Interval: 20 * time.Millisecond, Timeout: time.Second,
		Run: func(ctx context.Context) (probes.Result, error) {
			runs.Add(1)
			return &fakeResult{}, nil
		}}
	s := NewStore([]*probes.Check{c})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { (&Scheduler{Store: s, Checks: []*probes.Check{c}, MaxConcurrent: 1}).Run(ctx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for runs.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if runs.Load() < 3 {
		t.Fatalf("ran %d times in 10 s with a 20 ms interval", runs.Load())
	}
}

func TestJitterStaysWithinTenPercent(t *testing.T) {
	for range 1000 {
		j := jitter(time.Minute)
		if j < 54*time.Second || j > 66*time.Second {
			t.Fatalf("jitter(1m) = %s", j)
		}
	}
}

// The store keeps count of its rendered metrics, so a scrape allocates
// exactly once.
func TestRenderedCountMatchesTheMetricsSent(t *testing.T) {
	a := &probes.Check{Probe: "fake", Target: "a", Interval: time.Minute, Timeout: time.Second}
	b := &probes.Check{Probe: "fake", Target: "b", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{a, b})
	for i, run := range []Run{
		{Result: &fakeResult{}},
		{Result: &fakeResult{findings: []probes.Finding{{Severity: probes.Warning}}}},
		{Err: errors.New("down")},
	} {
		s.Record(a.ID(), run)
		if i > 0 {
			s.Record(b.ID(), run)
		}
		got := s.metricsInto(nil)
		if len(got) != s.rendered || cap(got) != s.rendered {
			t.Fatalf("after run %d: %d metrics sent, cap %d, count %d", i, len(got), cap(got), s.rendered)
		}
	}
}
