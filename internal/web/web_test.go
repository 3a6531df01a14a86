package web

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/probes"
)

// fakeResult is a result with fixed findings.
type fakeResult struct{ findings []probes.Finding }

func (f *fakeResult) Findings() []probes.Finding { return f.findings }

func (f *fakeResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric { return ms }

func TestStatusPageAndAPIShowEveryCheck(t *testing.T) {
	a := &probes.Check{Probe: "dns", Target: "contoso.test", Interval: time.Minute, Timeout: time.Second}
	b := &probes.Check{Probe: "dns", Target: "fabrikam.test", Interval: time.Minute, Timeout: time.Second}
	s := collector.NewStore([]*probes.Check{a, b})
	s.Record(a.ID(), collector.Run{Start: time.Now(), Err: probes.WithFix(errors.New("no answer from resolver <b>"), "check the firewall")})
	s.Record(b.ID(), collector.Run{Start: time.Now(), Result: &fakeResult{findings: []probes.Finding{
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
		{Probe: "dns", Target: "b", State: collector.StateFailed, Data: collector.DataNone, Error: "boom", Fix: "do x"},
		{Probe: "dns", Target: "c", State: collector.StateCritical, Data: collector.DataLatest, Findings: []probes.Finding{{Severity: probes.Critical, Subject: "s", Problem: "p", Fix: "f"}}},
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
