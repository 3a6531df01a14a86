package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/autodiscover"
	"github.com/sfbex/sfbex_exporter/probes/ews"
)

func httpResults() (*autodiscover.Result, *autodiscover.LyncResult, *ews.Result) {
	up := func(m autodiscover.Method, status int, o httpprobe.Outcome) autodiscover.MethodResult {
		return autodiscover.MethodResult{Method: m, Up: o.Reachable(), Attempt: httpprobe.Attempt{Status: status, Outcome: o, Duration: 20 * time.Millisecond}}
	}
	ad := &autodiscover.Result{
		Domain: "contoso.com",
		Methods: []autodiscover.MethodResult{
			up(autodiscover.Root, 503, httpprobe.ServerError),
			up(autodiscover.Host, 401, httpprobe.Challenged),
			up(autodiscover.HTTPRedirect, 302, httpprobe.WrongRedirect),
			{Method: autodiscover.SRV, Attempt: httpprobe.Attempt{Outcome: httpprobe.NoRecord}},
		},
		Outlook: autodiscover.Host, Lync: autodiscover.Host,
		Requests: []autodiscover.RequestResult{
			{Protocol: "pox", OK: true, Attempt: httpprobe.Attempt{Status: 200, Outcome: httpprobe.OK}},
			{Protocol: "soap", OK: false, Attempt: httpprobe.Attempt{Status: 500, Outcome: httpprobe.ServerError}},
		},
		EWS: []autodiscover.EWSURL{
			{URL: "https://mail.contoso.com/EWS/Exchange.asmx", Role: "internal", Protocol: "pox"},
			{URL: "https://mail.contoso.com/EWS/Exchange.asmx", Role: "external", Protocol: "pox"},
		},
		SFB: &autodiscover.SFBResult{URL: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", SVC: false, Up: true, OAuth: true},
	}
	lync := &autodiscover.LyncResult{Domain: "contoso.com", Views: []autodiscover.ViewResult{
		{View: autodiscover.Internal, Up: true, Outcome: httpprobe.Challenged, Status: 200, OAuth: true, Pool: "pool01.contoso.com"},
		{View: autodiscover.External, Up: false, Outcome: httpprobe.Unexpected, Status: 200},
	}}
	e := &ews.Result{Domain: "contoso.com", ExpectOAuth: true, Endpoints: []ews.Endpoint{{
		URL: "https://mail.contoso.com/EWS/Exchange.asmx", Up: true, OAuth: true,
		Attempt:          httpprobe.Attempt{Status: 401, Outcome: httpprobe.Challenged, Duration: 5 * time.Millisecond},
		Schemes:          []string{"bearer", "negotiate", "ntlm"},
		TrustedIssuers:   []string{"00000001-0000-0000-c000-000000000000@*"},
		AuthorizationURI: "https://login.microsoftonline.com/common/oauth2/authorize",
	}}}
	return ad, lync, e
}

func TestHTTPFamiliesOnThePageAndAPI(t *testing.T) {
	ad, _, _ := httpResults()
	c := &probes.Check{Probe: "autodiscover", Target: "contoso.com", Interval: time.Minute, Timeout: time.Second}
	s := collector.NewStore([]*probes.Check{c})
	s.Record(c.ID(), collector.Run{Start: time.Now(), Duration: time.Millisecond, Result: ad})
	rec := httptest.NewRecorder()
	APIChecks(s).ServeHTTP(rec, httptest.NewRequest("GET", "/api/checks?id=autodiscover/contoso.com", nil))
	for _, want := range []string{`"outlook_ends_on": "autodiscover_host"`, `"method": "srv"`, `"outcome": "no_record"`, `"sfb_exchange_autodiscover_url"`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("API lacks %s:\n%s", want, rec.Body.String())
		}
	}
	rec = httptest.NewRecorder()
	StatusPage(s, PageInfo{}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if !strings.Contains(rec.Body.String(), "Outlook ends on: autodiscover_host") {
		t.Errorf("status page lacks the details:\n%s", rec.Body.String())
	}
}
