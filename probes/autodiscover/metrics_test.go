package autodiscover

import (
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/ews"
)

func httpResults() (*Result, *LyncResult, *ews.Result) {
	up := func(m Method, status int, o httpprobe.Outcome) MethodResult {
		return MethodResult{Method: m, Up: o.Reachable(), Attempt: httpprobe.Attempt{Status: status, Outcome: o, Duration: 20 * time.Millisecond}}
	}
	ad := &Result{
		Domain: "contoso.com",
		Methods: []MethodResult{
			up(Root, 503, httpprobe.ServerError),
			up(Host, 401, httpprobe.Challenged),
			up(HTTPRedirect, 302, httpprobe.WrongRedirect),
			{Method: SRV, Attempt: httpprobe.Attempt{Outcome: httpprobe.NoRecord}},
		},
		Outlook: Host, Lync: Host,
		Requests: []RequestResult{
			{Protocol: "pox", OK: true, Attempt: httpprobe.Attempt{Status: 200, Outcome: httpprobe.OK}},
			{Protocol: "soap", OK: false, Attempt: httpprobe.Attempt{Status: 500, Outcome: httpprobe.ServerError}},
		},
		EWS: []EWSURL{
			{URL: "https://mail.contoso.com/EWS/Exchange.asmx", Role: "internal", Protocol: "pox"},
			{URL: "https://mail.contoso.com/EWS/Exchange.asmx", Role: "external", Protocol: "pox"},
		},
		SFB: &SFBResult{URL: "https://autodiscover.contoso.com/autodiscover/autodiscover.xml", SVC: false, Up: true, OAuth: true},
	}
	lync := &LyncResult{Domain: "contoso.com", Views: []ViewResult{
		{View: Internal, Up: true, Outcome: httpprobe.Challenged, Status: 200, OAuth: true, Pool: "pool01.contoso.com"},
		{View: External, Up: false, Outcome: httpprobe.Unexpected, Status: 200},
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

func TestHTTPFamiliesRender(t *testing.T) {
	ad, lync, e := httpResults()
	// The same EWS URL from SFBEX_EWS_URLS must not collide with the learned one.
	fixed := &ews.Result{ExpectOAuth: true, Endpoints: []ews.Endpoint{{URL: e.Endpoints[0].URL, Attempt: httpprobe.Attempt{Outcome: httpprobe.Timeout}, Schemes: []string{}}}}
	checks := []*probes.Check{
		{Probe: "autodiscover", Target: "contoso.com", Interval: time.Minute, Timeout: time.Second},
		{Probe: "lyncdiscover", Target: "contoso.com", Interval: time.Minute, Timeout: time.Second},
		{Probe: "ews", Target: "contoso.com", Interval: time.Minute, Timeout: time.Second},
		{Probe: "ews", Target: e.Endpoints[0].URL, Interval: time.Minute, Timeout: time.Second},
	}
	s := collector.NewStore(checks)
	now := time.Now()
	s.Record(checks[0].ID(), collector.Run{Start: now, Duration: time.Millisecond, Result: ad})
	s.Record(checks[1].ID(), collector.Run{Start: now, Duration: time.Millisecond, Result: lync})
	s.Record(checks[2].ID(), collector.Run{Start: now, Duration: time.Millisecond, Result: e})
	s.Record(checks[3].ID(), collector.Run{Start: now, Duration: time.Millisecond, Result: fixed})
	reg := promtest.Registry(collector.NewCollector(s))
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather (duplicates or inconsistent labels?): %v", err)
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"sfbex_autodiscover_method_up", map[string]string{"domain": "contoso.com", "method": "root"}, 0},
		{"sfbex_autodiscover_method_up", map[string]string{"domain": "contoso.com", "method": "autodiscover_host"}, 1},
		{"sfbex_autodiscover_method_status_code", map[string]string{"method": "root"}, 503},
		{"sfbex_autodiscover_method_outcome", map[string]string{"method": "http_redirect", "outcome": "wrong_redirect"}, 1},
		{"sfbex_autodiscover_method_outcome", map[string]string{"method": "srv", "outcome": "no_record"}, 1},
		{"sfbex_autodiscover_method_duration_seconds", map[string]string{"method": "root"}, 0.02},
		{"sfbex_autodiscover_client_method", map[string]string{"client": "outlook", "method": "autodiscover_host"}, 1},
		{"sfbex_autodiscover_client_method", map[string]string{"client": "outlook", "method": "root"}, 0},
		{"sfbex_autodiscover_client_method", map[string]string{"client": "lync", "method": "srv"}, 0},
		{"sfbex_autodiscover_client_found", map[string]string{"client": "lync"}, 1},
		{"sfbex_autodiscover_request_success", map[string]string{"protocol": "pox"}, 1},
		{"sfbex_autodiscover_request_success", map[string]string{"protocol": "soap"}, 0},
		{"sfbex_autodiscover_request_status_code", map[string]string{"protocol": "soap"}, 500},
		{"sfbex_autodiscover_ews_url_info", map[string]string{"role": "external", "url": "https://mail.contoso.com/EWS/Exchange.asmx"}, 1},
		{"sfbex_autodiscover_ews_urls_stale", map[string]string{"domain": "contoso.com"}, 0},
		{"sfbex_sfb_exchange_autodiscover_url_svc", map[string]string{"url": ad.SFB.URL}, 0},
		{"sfbex_sfb_exchange_autodiscover_url_up", map[string]string{"url": ad.SFB.URL}, 1},
		{"sfbex_lyncdiscover_up", map[string]string{"view": "external"}, 0},
		{"sfbex_lyncdiscover_up", map[string]string{"view": "internal"}, 1},
		{"sfbex_lyncdiscover_outcome", map[string]string{"view": "external", "outcome": "unexpected_response"}, 1},
		{"sfbex_lyncdiscover_pool_info", map[string]string{"view": "internal", "pool": "pool01.contoso.com"}, 1},
		{"sfbex_lyncdiscover_oauth_challenge", map[string]string{"view": "external"}, 0},
		{"sfbex_ews_up", map[string]string{"domain": "contoso.com"}, 1},
		{"sfbex_ews_up", map[string]string{"domain": ""}, 0},
		{"sfbex_ews_outcome", map[string]string{"domain": "", "outcome": "timeout"}, 1},
		{"sfbex_ews_oauth_challenge", map[string]string{"domain": "contoso.com"}, 1},
		{"sfbex_ews_oauth_expected", map[string]string{"domain": ""}, 1},
		{"sfbex_ews_oauth_authorization_uri_present", map[string]string{"domain": "contoso.com"}, 1},
		{"sfbex_ews_auth_scheme_offered", map[string]string{"scheme": "negotiate"}, 1},
		{"sfbex_ews_oauth_trusted_issuer_info", map[string]string{"issuer": "00000001-0000-0000-c000-000000000000@*"}, 1},
		{"sfbex_ews_status_code", map[string]string{"domain": "contoso.com"}, 401},
	} {
		got, ok := promtest.Lookup(t, reg, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// Nothing is known about the schemes of an EWS that did not answer.
	if _, ok := promtest.Lookup(t, reg, "sfbex_ews_oauth_challenge", map[string]string{"domain": ""}); ok {
		t.Error("sfbex_ews_oauth_challenge exposed for an EWS that did not answer: a false zero")
	}
	if _, ok := promtest.Lookup(t, reg, "sfbex_lyncdiscover_pool_info", map[string]string{"view": "external"}); ok {
		t.Error("pool info without a pool")
	}
}
