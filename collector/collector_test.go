package collector

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// fakeResult is a result with fixed findings.
type fakeResult struct{ findings []probes.Finding }

func (f *fakeResult) Findings() []probes.Finding { return f.findings }

func (f *fakeResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric { return ms }

// metricValues returns the values of the series of name whose labels
// include labels (gauges, counters and untyped alike).
func metricValues(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) []float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				out = append(out, m.GetGauge().GetValue())
			case m.Counter != nil:
				out = append(out, m.GetCounter().GetValue())
			case m.Untyped != nil:
				out = append(out, m.GetUntyped().GetValue())
			default:
				t.Fatalf("%s is a %s, not a single value", name, mf.GetType())
			}
		}
	}
	return out
}

// metric returns the value of the one series of name whose labels include
// labels. The test fails when there is none (an absent series is not a 0)
// or several (the labels do not say which).
func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	vals := metricValues(t, reg, name, labels)
	if len(vals) != 1 {
		t.Fatalf("%s %v: %d series %v, want exactly one", name, labels, len(vals), vals)
	}
	return vals[0]
}

// metricAbsent fails the test when a series of name whose labels include
// labels is exposed; why says why it must not be.
func metricAbsent(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string, why string) {
	t.Helper()
	if vals := metricValues(t, reg, name, labels); len(vals) > 0 {
		t.Errorf("%s %v = %v exposed: %s", name, labels, vals, why)
	}
}

// metricValue returns the value of the first series of name whose labels
// include labels, and whether there is one: check ok, or use metric.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	vals := metricValues(t, reg, name, labels)
	if len(vals) == 0 {
		return 0, false
	}
	return vals[0], true
}

func newReg(s *Store) *prometheus.Registry {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(s))
	return reg
}

func TestStoreKeepsLastGoodResultWhenARunLearnsNothing(t *testing.T) {
	c := &probes.Check{Probe: "fake", Target: "t1", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{c})
	reg := newReg(s)
	l := map[string]string{"probe": "fake", "target": "t1"}

	metricAbsent(t, reg, "sfbex_probe_success", l, "no run yet: nothing is known")
	good := &fakeResult{}
	t0 := time.Unix(1_700_000_000, 0)
	s.Record(c.ID(), Run{Start: t0, Duration: time.Second, Result: good})
	if v := metric(t, reg, "sfbex_probe_success", l); v != 1 {
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
	if v := metric(t, reg, "sfbex_probe_success", l); v != 0 {
		t.Fatalf("success after a failed run = %v, want 0", v)
	}
	if v := metric(t, reg, "sfbex_probe_stale", l); v != 1 {
		t.Fatalf("stale = %v, want 1", v)
	}
	if v := metric(t, reg, "sfbex_probe_last_success_timestamp_seconds", l); v != float64(t0.Add(time.Second).Unix()) {
		t.Fatalf("last success = %v, want the good run's end %d", v, t0.Add(time.Second).Unix())
	}
	if v := metric(t, reg, "sfbex_probe_failures_total", l); v != 1 {
		t.Fatalf("failures = %v, want 1", v)
	}
	v := Views(s.Entries())[0]
	if v.Error != "resolver down" || v.Fix != "start it" {
		t.Fatalf("view error/fix = %q/%q", v.Error, v.Fix)
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

func TestDNSResultRendering(t *testing.T) {
	yes, no := true, false
	present := &dns.Answer{Outcome: dns.NoError, Addresses: []string{"127.0.0.1"}}
	res := &dns.Result{
		Domain: "contoso.test",
		Records: []dns.RecordResult{
			{Record: "sip", Type: "A", FQDN: "sip.contoso.test", Resolver: "external",
				Latest: dns.Answer{Outcome: dns.Timeout, Duration: 2 * time.Second}, Current: present, Stale: true, Changes: 3,
				Rule: dns.Rule{Required: true}, Expected: &yes},
			{Record: "lyncdiscoverinternal", Type: "A", FQDN: "lyncdiscoverinternal.contoso.test", Resolver: "internal",
				Latest: dns.Answer{Outcome: dns.NXDomain}, Current: &dns.Answer{Outcome: dns.NXDomain}, Rule: dns.Rule{Required: true}, Expected: &no},
		},
		Consistent: &no,
		Sides:      []dns.SideCount{{Resolver: "external", Side: "online", Count: 1}},
		Agreement:  []dns.Agreement{{Record: "_sipfederationtls._tcp", Type: "SRV", Agree: false}},
	}
	c := &probes.Check{Probe: "dns", Target: "contoso.test", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{c})
	s.Record(c.ID(), Run{Result: res})
	reg := newReg(s)

	ext := map[string]string{"domain": "contoso.test", "record": "sip", "type": "A", "resolver": "external"}
	internal := map[string]string{"domain": "contoso.test", "record": "lyncdiscoverinternal", "type": "A", "resolver": "internal"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"sfbex_dns_record_present", ext, 1},
		{"sfbex_dns_answer_stale", ext, 1},
		{"sfbex_dns_answer_changes_total", ext, 3},
		{"sfbex_dns_lookup_duration_seconds", ext, 2},
		{"sfbex_dns_answer_fingerprint", ext, float64(present.Fingerprint())},
		{"sfbex_dns_lookup_outcome", map[string]string{"record": "sip", "outcome": "timeout"}, 1},
		{"sfbex_dns_record_present", internal, 0},
		{"sfbex_dns_record_expected", internal, 0},
		{"sfbex_dns_record_required", internal, 1},
		{"sfbex_dns_answer_fingerprint", internal, 0},
		{"sfbex_dns_deployment_consistent", map[string]string{"domain": "contoso.test"}, 0},
		{"sfbex_dns_records_by_side", map[string]string{"resolver": "external", "side": "online"}, 1},
		{"sfbex_dns_views_agree", map[string]string{"record": "_sipfederationtls._tcp"}, 0},
	} {
		got, ok := metricValue(t, reg, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// The pedantic registry checks every series is unique and well formed.
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Fatalf("gather: %d series, %v", n, err)
	}
}

func TestStatusPageAndAPIShowEveryCheck(t *testing.T) {
	a := &probes.Check{Probe: "dns", Target: "contoso.test", Interval: time.Minute, Timeout: time.Second}
	b := &probes.Check{Probe: "dns", Target: "fabrikam.test", Interval: time.Minute, Timeout: time.Second}
	s := NewStore([]*probes.Check{a, b})
	s.Record(a.ID(), Run{Start: time.Now(), Err: probes.WithFix(errors.New("no answer from resolver <b>"), "check the firewall")})
	s.Record(b.ID(), Run{Start: time.Now(), Result: &fakeResult{findings: []probes.Finding{
		{Severity: probes.Critical, Subject: "sip.fabrikam.test A", Problem: "is missing", Fix: "create it"}}}})

	rec := httptest.NewRecorder()
	StatusPage(s, PageInfo{Version: "test", Lab: true}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	for _, want := range []string{"LAB MODE", "contoso.test", "fabrikam.test", "no answer from resolver &lt;b&gt;", "check the firewall", "is missing", "create it", "Recent runs"} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}

	rec = httptest.NewRecorder()
	APIChecks(s).ServeHTTP(rec, httptest.NewRequest("GET", "/api/checks", nil))
	var generic []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &generic); err != nil {
		t.Fatal(err)
	}
	if len(generic) != 2 || generic[0]["state"] != "failed" || generic[1]["state"] != "critical" {
		t.Fatalf("api = %v", generic)
	}
	rec = httptest.NewRecorder()
	APIChecks(s).ServeHTTP(rec, httptest.NewRequest("GET", "/api/checks?id=dns/nope", nil))
	if rec.Code != 404 {
		t.Fatalf("unknown id: %d", rec.Code)
	}
}

func TestReportCountsFailures(t *testing.T) {
	views := []CheckView{
		{Probe: "dns", Target: "a", State: "ok"},
		{Probe: "dns", Target: "b", State: StateFailed, Data: DataNone, Error: "boom", Fix: "do x"},
		{Probe: "dns", Target: "c", State: StateCritical, Data: DataLatest, Findings: []probes.Finding{{Severity: probes.Critical, Subject: "s", Problem: "p", Fix: "f"}}},
	}
	var sb strings.Builder
	if n := WriteReport(&sb, views, false); n != 2 {
		t.Fatalf("failed = %d, want 2", n)
	}
	out := sb.String()
	for _, want := range []string{"[ OK ] dns", "[FAIL] dns", "error: boom", "what to do: do x", "critical s: p", "3 checks, 2 failed: 1 critical, 1 failed, 1 ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
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
