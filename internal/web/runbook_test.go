package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/docs"
	"github.com/sfbex/sfbex_exporter/probes"
)

// A check that is not ok links to its runbook section, a finding's
// reference to docs/runbooks.md#x opens the agent's own copy, and the
// header links to the references.
func TestStatusPageLinksRunbooksAndReferences(t *testing.T) {
	a := &probes.Check{Probe: "ews", Target: "https://mail.contoso.test/EWS/Exchange.asmx", Interval: time.Minute, Timeout: time.Second}
	b := &probes.Check{Probe: "directory", Target: "ldap://dc01", Interval: time.Minute, Timeout: time.Second}
	s := collector.NewStore([]*probes.Check{a, b})
	s.Record(a.ID(), collector.Run{Start: time.Now(), Err: errors.New("connection refused")})
	s.Record(b.ID(), collector.Run{Start: time.Now(), Result: &fakeResult{findings: []probes.Finding{
		{Severity: probes.Warning, Subject: "3 users", Problem: "have no mail", Fix: "Set mail <x>. See docs/runbooks.md#directory"}}}})
	rec := httptest.NewRecorder()
	StatusPage(s, PageInfo{Version: "test"}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`<a href="/runbooks#ews-down">runbook</a>`,
		`<a href="/runbooks#directory">runbook</a>`,
		`Set mail &lt;x&gt;. See <a href="/runbooks#directory">docs/runbooks.md#directory</a>`,
		`<a href="/runbooks">runbooks</a>`,
		`<a href="/docs/metrics">`,
		`<a href="/docs/configuration">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %s", want)
		}
	}
}

// Every section the status page links to exists on the served runbooks.
func TestRunbookSectionsExist(t *testing.T) {
	rec := httptest.NewRecorder()
	docs.Handler(docs.Pages[0]).ServeHTTP(rec, httptest.NewRequest("GET", "/runbooks", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /runbooks: %d", rec.Code)
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bid="([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
		ids[m[1]] = true
	}
	probesNames := []string{"unknown-probe"}
	for p := range runbookSection {
		probesNames = append(probesNames, p)
	}
	for _, p := range probesNames {
		_, anchor, _ := strings.Cut(RunbookFor(p), "#")
		if !ids[anchor] {
			t.Errorf("probe %s links to /runbooks#%s, which is not a section", p, anchor)
		}
	}
}
