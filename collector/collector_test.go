package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

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

// sharedResult renders one series without the check's labels, as a
// family's bug might: two checks with it render the same series twice.
type sharedResult struct{ help string }

func (sharedResult) Findings() []probes.Finding { return nil }

func (r sharedResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	help := r.help
	if help == "" {
		help = "A series that belongs to no check."
	}
	return append(ms, probes.Gauge(prometheus.NewDesc("sfbex_fake_shared", help, nil, nil), 1))
}

// scrape asks a real HTTP server (its response writer has a ReadFrom that
// a recorder lacks) for /metrics, and returns the status and the text.
func scrape(t *testing.T, h http.Handler, gzipped bool) (int, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
	if gzipped {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	} else if gzipped && resp.StatusCode == http.StatusOK {
		t.Fatal("asked for gzip, got none")
	}
	c.CloseIdleConnections()
	return resp.StatusCode, string(body)
}

// manyResult renders enough series of one family to be compressed
// rather than stored.
type manyResult struct{ target string }

func (manyResult) Findings() []probes.Finding { return nil }

var manyDesc = prometheus.NewDesc("sfbex_fake_many", "Many series of one check.", []string{"target", "i"}, nil)

func (r manyResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	for i := range 40 {
		ms = append(ms, probes.Gauge(manyDesc, float64(i)/3, r.target, fmt.Sprint(i)))
	}
	return ms
}

// Two checks rendering the same series make the exposition invalid: the
// scrape fails loudly, as the registry made it fail, until they no
// longer do; so does one family's help differing between checks.
func TestDuplicateSeriesFailTheScrape(t *testing.T) {
	a := &probes.Check{Probe: "fake", Target: "a", Interval: time.Minute, Timeout: time.Second}
	b := &probes.Check{Probe: "fake", Target: "b", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{a, b})
	h := Handler(s, nil)
	s.Record(a.ID(), Run{Result: sharedResult{}})
	if code, body := scrape(t, h, false); code != http.StatusOK || !strings.Contains(body, "sfbex_fake_shared 1\n") {
		t.Fatalf("one owner: %d\n%s", code, body)
	}
	s.Record(b.ID(), Run{Result: sharedResult{}})
	if code, body := scrape(t, h, false); code != http.StatusInternalServerError || !strings.Contains(body, "rendered by two checks") {
		t.Fatalf("two owners: %d\n%s", code, body)
	}
	s.Record(b.ID(), Run{Result: &fakeResult{}})
	if code, _ := scrape(t, h, false); code != http.StatusOK {
		t.Fatalf("back to one owner: %d", code)
	}
	s.Record(b.ID(), Run{Result: sharedResult{help: "Another help."}})
	if code, body := scrape(t, h, false); code != http.StatusInternalServerError || !strings.Contains(body, "help or type differs") {
		t.Fatalf("help differs: %d\n%s", code, body)
	}
}

// The handler's answer, plain and gzipped, is valid exposition that
// promtool accepts, holds every family's HELP and TYPE once and the same
// series a registry gathers from the store.
func TestHandlerServesValidExposition(t *testing.T) {
	var checks []*probes.Check
	for _, target := range []string{"a", "b", "c"} {
		checks = append(checks, &probes.Check{Probe: "fake", Target: target, Interval: time.Minute, Timeout: time.Second})
	}
	s := NewStore(checks)
	s.Record("fake/a", Run{Result: &fakeResult{findings: []probes.Finding{{Severity: probes.Critical}}}})
	s.Record("fake/b", Run{Err: errors.New("down")})
	s.Record("fake/c", Run{Result: manyResult{target: "c"}})
	extra := prometheus.NewRegistry()
	extra.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "sfbex_lab_mode", Help: "Lab."}))
	h := Handler(s, extra)
	_, plain := scrape(t, h, false)
	_, gz := scrape(t, h, true)
	if plain != gz {
		t.Fatal("the gzipped answer differs from the plain one")
	}
	for _, name := range []string{"sfbex_probe_success", "sfbex_lab_mode"} {
		if n := strings.Count(plain, "# TYPE "+name+" "); n != 1 {
			t.Errorf("%s: %d TYPE lines", name, n)
		}
	}
	if !strings.Contains(plain, `sfbex_probe_success{probe="fake",target="a"} 1`) || !strings.Contains(plain, `sfbex_probe_success{probe="fake",target="b"} 0`) ||
		!strings.Contains(plain, `sfbex_fake_many{i="39",target="c"} 13`) {
		t.Fatalf("series:\n%s", plain)
	}
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(plain)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool check metrics: %v\n%s", err, out)
		}
	}
	// The same series, with the same values, as the registry gathers.
	served := map[string]bool{}
	for _, l := range strings.Split(plain, "\n") {
		if strings.HasPrefix(l, "sfbex_probe_") || strings.HasPrefix(l, "sfbex_fake_") {
			served[l] = true
		}
	}
	var buf bytes.Buffer
	mfs, err := newReg(s).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&buf, mf); err != nil {
			t.Fatal(err)
		}
	}
	gathered := 0
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(l, "sfbex_probe_") || strings.HasPrefix(l, "sfbex_fake_") {
			gathered++
			if !served[l] {
				t.Errorf("gathered but not served: %s", l)
			}
		}
	}
	if gathered != len(served) {
		t.Fatalf("the registry gathers %d series, the handler serves %d", gathered, len(served))
	}
}

// The scheduler runs many checks with MaxConcurrent workers, not a
// goroutine per check: every check runs, never twice at once, never more
// than MaxConcurrent at a time, and the goroutines do not grow with the
// number of checks.
func TestSchedulerGoroutinesDoNotGrowWithChecks(t *testing.T) {
	const n, workers = 200, 4
	var inFlight, most atomic.Int32
	running := make([]atomic.Int32, n)
	ran := make([]atomic.Int32, n)
	var checks []*probes.Check
	for i := range n {
		checks = append(checks, &probes.Check{Probe: "fake", Target: fmt.Sprint(i), Interval: 50 * time.Millisecond, Timeout: time.Second,
			Run: func(ctx context.Context) (probes.Result, error) {
				if running[i].Add(1) != 1 {
					t.Errorf("check %d runs twice at once", i)
				}
				cur := inFlight.Add(1)
				for m := most.Load(); cur > m && !most.CompareAndSwap(m, cur); m = most.Load() {
				}
				ran[i].Add(1)
				inFlight.Add(-1)
				running[i].Add(-1)
				return &fakeResult{}, nil
			}})
	}
	s := NewStore(checks)
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { (&Scheduler{Store: s, Checks: checks, MaxConcurrent: workers}).Run(ctx); close(done) }()
	deadline := time.Now().Add(60 * time.Second)
	peak := 0
	for time.Now().Before(deadline) {
		peak = max(peak, runtime.NumGoroutine()-before)
		all := true
		for i := range ran {
			if ran[i].Load() < 1 {
				all = false
				break
			}
		}
		if all {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	for i := range ran {
		if ran[i].Load() < 1 {
			total := 0
			for j := range ran {
				total += int(ran[j].Load())
			}
			t.Fatalf("check %d ran %d times in 60 s with a 50 ms interval (%d runs in all)", i, ran[i].Load(), total)
		}
	}
	if most.Load() > workers {
		t.Errorf("%d runs at once, MaxConcurrent %d", most.Load(), workers)
	}
	// The scheduler's goroutine, its workers and the test's own: not one per check.
	if peak > workers+3 {
		t.Errorf("%d goroutines more while running %d checks with %d workers", peak, n, workers)
	}
}
