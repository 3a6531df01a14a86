package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/autodiscover"
)

func httpCheckIDs(checks []*probes.Check, probes ...string) []string {
	var out []string
	for _, c := range checks {
		if slices.Contains(probes, c.Probe) {
			out = append(out, c.ID())
		}
	}
	return out
}

func TestHTTPSettingsAndChecks(t *testing.T) {
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "internal=10.0.0.10:53,external=1.1.1.1:53"}
	load := func(extra map[string]string) (*Settings, []*probes.Check) {
		t.Helper()
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		setEnv(t, env)
		s, err := LoadSettings()
		if err != nil {
			t.Fatal(err)
		}
		checks, err := buildChecks(s)
		if err != nil {
			t.Fatal(err)
		}
		return s, checks
	}

	s, checks := load(nil)
	h := s.HTTP
	if h.Interval != time.Minute || h.Timeout != 30*time.Second || h.RequestTimeout != 10*time.Second || h.MaxBody != 1<<20 || s.Web.MaxRedirects != 5 || !h.ExpectOAuth || h.Credentials != nil {
		t.Fatalf("defaults %+v, redirects %d", h, s.Web.MaxRedirects)
	}
	if !slices.Equal(h.LyncViews, []autodiscover.View{autodiscover.Internal, autodiscover.External}) {
		t.Fatalf("views %v: an internal resolver should add lyncdiscoverinternal", h.LyncViews)
	}
	if got := httpCheckIDs(checks, "autodiscover", "lyncdiscover", "ews"); !slices.Equal(got, []string{"autodiscover/contoso.com", "lyncdiscover/contoso.com"}) {
		t.Fatalf("checks %v: no EWS check without URLs or a probe account", got)
	}

	base["SFBEX_DNS_RESOLVERS"] = "external=1.1.1.1:53"
	if s, _ = load(nil); !slices.Equal(s.HTTP.LyncViews, []autodiscover.View{autodiscover.External}) {
		t.Fatalf("views without an internal resolver: %v", s.HTTP.LyncViews)
	}
	if _, checks = load(map[string]string{"SFBEX_LYNCDISCOVER_VIEWS": "none"}); len(httpCheckIDs(checks, "lyncdiscover")) != 0 {
		t.Fatal("SFBEX_LYNCDISCOVER_VIEWS=none left a lyncdiscover check")
	}

	s, checks = load(map[string]string{
		"SFBEX_EMAIL_DOMAINS":                 "contoso.com,mail.fabrikam.com",
		"SFBEX_AUTODISCOVER_USER":             "probe@contoso.com",
		"SFBEX_AUTODISCOVER_PASSWORD":         "Secret-4711",
		"SFBEX_AUTODISCOVER_AUTH":             "NTLM",
		"SFBEX_EWS_URLS":                      "https://mail.contoso.com/EWS/Exchange.asmx, https://MAIL.contoso.com/EWS/Exchange.asmx",
		"SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL": "https://autodiscover.mail.fabrikam.com/autodiscover/autodiscover.svc",
		"SFBEX_HTTP_MAX_REDIRECTS":            "2",
		"SFBEX_EWS_EXPECT_OAUTH":              "false",
	})
	if s.HTTP.Credentials == nil || s.HTTP.Credentials.Mode != "ntlm" || s.HTTP.Mailbox != "probe@contoso.com" || s.Web.MaxRedirects != 2 || s.HTTP.ExpectOAuth {
		t.Fatalf("settings %+v", s.HTTP)
	}
	want := []string{"autodiscover/contoso.com", "autodiscover/mail.fabrikam.com", "lyncdiscover/contoso.com",
		"ews/https://mail.contoso.com/EWS/Exchange.asmx", "ews/contoso.com", "ews/mail.fabrikam.com"}
	if got := httpCheckIDs(checks, "autodiscover", "lyncdiscover", "ews"); !slices.Equal(got, want) {
		t.Fatalf("checks\n got %v\nwant %v", got, want)
	}
	if d := sfbURLDomain(s.HTTP.SFBURL, s.EmailDomains); d != "mail.fabrikam.com" {
		t.Fatalf("the SFB URL goes with %q", d)
	}
	if d := sfbURLDomain("https://autodiscover.other.org/autodiscover/autodiscover.svc", s.EmailDomains); d != "contoso.com" {
		t.Fatalf("a URL outside every domain goes with %q, want the first", d)
	}
	if strings.Contains(s.HTTP.Credentials.String(), "Secret-4711") {
		t.Fatal("credentials print their password")
	}
}

func TestConfigurationErrorsNeverShowThePassword(t *testing.T) {
	const secret = "Secret-4711-do-not-show"
	for _, env := range []map[string]string{
		{"SFBEX_AUTODISCOVER_PASSWORD": secret},
		{"SFBEX_AUTODISCOVER_PASSWORD": secret, "SFBEX_AUTODISCOVER_USER": "probe"},
		{"SFBEX_AUTODISCOVER_PASSWORD": secret, "SFBEX_AUTODISCOVER_USER": `CONTOSO\probe`},
		{"SFBEX_AUTODISCOVER_PASSWORD": secret, "SFBEX_AUTODISCOVER_USER": "p@contoso.com", "SFBEX_AUTODISCOVER_AUTH": "x"},
	} {
		env["SFBEX_SIP_DOMAINS"] = "contoso.com"
		env["SFBEX_DNS_RESOLVERS"] = "ext=127.0.0.1:53"
		setEnv(t, env)
		_, err := LoadSettings()
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("%v: error %v", env, err)
		}
	}
}

// labViews runs every check once against the lab with the faults on and
// returns the views, the status page, the API and the metrics.
func httpLabViews(t *testing.T, faults ...string) ([]collector.CheckView, string) {
	t.Helper()
	clearEnv(t)
	l, err := startLab(faults, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	checks, err := buildChecks(s)
	if err != nil {
		t.Fatal(err)
	}
	store := collector.NewStore(checks)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	collector.RunOnce(ctx, store, checks, s.MaxConcurrentProbes)

	var out strings.Builder
	rec := httptest.NewRecorder()
	collector.StatusPage(store, collector.PageInfo{Lab: true}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	out.WriteString(rec.Body.String())
	rec = httptest.NewRecorder()
	collector.APIChecks(store).ServeHTTP(rec, httptest.NewRequest("GET", "/api/checks", nil))
	out.WriteString(rec.Body.String())
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.NewCollector(store))
	rec = httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics answered %d: %s", rec.Code, rec.Body.String())
	}
	out.WriteString(rec.Body.String())
	collector.WriteReport(&out, collector.Views(store.Entries()), true)
	if pw := l.ProbePassword(); pw == "" || strings.Contains(out.String(), pw) {
		t.Fatalf("the lab probe password (%q) shows on the page, in the API, the metrics or the report", pw)
	}
	return collector.Views(store.Entries()), out.String()
}

func failingViews(views []collector.CheckView) []string {
	var out []string
	for _, v := range views {
		if v.Failed() {
			out = append(out, v.ID)
		}
	}
	return out
}

func TestLabHTTPFamiliesHealthy(t *testing.T) {
	views, all := httpLabViews(t)
	if f := failingViews(views); len(f) != 0 {
		t.Fatalf("failing on a healthy lab: %v", f)
	}
	for _, want := range []string{
		`sfbex_autodiscover_method_up{domain="contoso.test",method="root"} 1`,
		`sfbex_autodiscover_method_up{domain="contoso.test",method="autodiscover_host"} 1`,
		`sfbex_autodiscover_method_up{domain="contoso.test",method="http_redirect"} 1`,
		`sfbex_autodiscover_method_up{domain="contoso.test",method="srv"} 1`,
		`sfbex_autodiscover_client_method{client="lync",domain="contoso.test",method="autodiscover_host"} 1`,
		`sfbex_autodiscover_request_success{domain="contoso.test",protocol="pox"} 1`,
		`sfbex_autodiscover_request_success{domain="contoso.test",protocol="soap"} 1`,
		`sfbex_autodiscover_ews_url_info{domain="contoso.test",protocol="soap",role="internal",url="https://mail.contoso.test/EWS/Exchange.asmx"} 1`,
		`sfbex_sfb_exchange_autodiscover_url_svc{url="https://autodiscover.contoso.test/autodiscover/autodiscover.svc"} 1`,
		`sfbex_lyncdiscover_up{domain="contoso.test",view="internal"} 1`,
		`sfbex_lyncdiscover_pool_info{domain="contoso.test",pool="webext.contoso.test",view="external"} 1`,
		`sfbex_ews_up{domain="contoso.test",url="https://mail.contoso.test/EWS/Exchange.asmx"} 1`,
		`sfbex_ews_oauth_challenge{domain="contoso.test",url="https://mail.contoso.test/EWS/Exchange.asmx"} 1`,
		`(auth ntlm)`, // the lab checks the NTLM response for real
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %s", want)
		}
	}
}

func TestLabHTTPFaultsFailExactlyTheirCheck(t *testing.T) {
	for _, tc := range []struct {
		fault, check, text string
	}{
		{"autodiscover-down", "autodiscover/contoso.test", "no autodiscover method works"},
		{"autodiscover-wrong-redirect", "autodiscover/contoso.test", "autodiscover.hosting-old.example"},
		{"ews-503", "ews/contoso.test", "HTTP 503"},
		{"ews-no-oauth", "ews/contoso.test", "no OAuth (Bearer) challenge"},
		{"ews-html", "ews/contoso.test", "HTTP 200 (web_page): answers HTTP 200 (text/html; charset=utf-8"},
		{"ews-garbage", "ews/contoso.test", "HTTP 200 (unexpected_response): answers HTTP 200 (application/octet-stream, 2048 bytes) that is not XML"},
		{"ews-endless", "ews/contoso.test", "HTTP 200 (body_too_large): answers HTTP 200 (text/xml; charset=utf-8, more than 1048576 bytes), cut off"},
		{"ews-empty", "ews/contoso.test", "HTTP 200 (empty_body)"},
		{"lyncdiscover-html", "lyncdiscover/contoso.test", "answers a web page"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			if !slices.ContainsFunc(lab.Faults, func(f lab.Fault) bool { return f.Name == tc.fault && f.Family != "" && f.Description != "" }) {
				t.Fatalf("%s is not in lab.Faults with a family and a description", tc.fault)
			}
			views, _ := httpLabViews(t, tc.fault)
			if f := failingViews(views); !slices.Equal(f, []string{tc.check}) {
				t.Fatalf("failing %v, want exactly %s", f, tc.check)
			}
			for _, v := range views {
				if v.ID != tc.check {
					continue
				}
				ok := false
				for _, f := range v.Findings {
					ok = ok || (f.Severity >= 1 && strings.Contains(f.Problem, tc.text) && f.Fix != "")
				}
				if !ok {
					t.Fatalf("no finding with %q and a fix: %+v", tc.text, v.Findings)
				}
			}
		})
	}
}

func TestCheckExitsOneForEachHTTPFault(t *testing.T) {
	for _, f := range []string{"autodiscover-down", "autodiscover-wrong-redirect", "ews-503", "ews-no-oauth", "ews-html", "ews-garbage", "ews-endless", "ews-empty", "lyncdiscover-html"} {
		t.Run(f, func(t *testing.T) {
			clearEnv(t)
			if code := run([]string{"check", "--lab", "--lab.fault=" + f, "--log.level=error"}); code != 1 {
				t.Fatalf("check --lab --lab.fault=%s exited %d, want 1", f, code)
			}
		})
	}
}

// The learned EWS check must not starve when it holds the only slot before
// the autodiscover check it learns from has run.
func TestLearnedEWSDoesNotWaitForASlot(t *testing.T) {
	clearEnv(t)
	l, err := startLab(nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	checks, err := buildChecks(s)
	if err != nil {
		t.Fatal(err)
	}
	var ordered []*probes.Check
	for _, c := range checks {
		if c.Probe == "ews" {
			ordered = append([]*probes.Check{c}, ordered...)
		} else if c.Probe == "autodiscover" {
			ordered = append(ordered, c)
		}
	}
	store := collector.NewStore(ordered)
	start := time.Now()
	collector.RunOnce(context.Background(), store, ordered, 1)
	for _, v := range collector.Views(store.Entries()) {
		if v.Failed() {
			t.Errorf("%s failed: %s %v", v.ID, v.Error, v.Findings)
		}
		if v.Probe == "ews" && (v.Result == nil || len(v.Details) < 2) {
			t.Errorf("the EWS check probed nothing: %v", v.Details)
		}
	}
	if d := time.Since(start); d > s.HTTP.Timeout {
		t.Errorf("took %v: the EWS check waited for its deadline", d)
	}
}
