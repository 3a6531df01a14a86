package main

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/web"
	"github.com/sfbex/sfbex_exporter/lab"
	"github.com/sfbex/sfbex_exporter/probes"
)

// labViews runs every check once against the lab with the faults on and
// returns the views, the status page, the API and the metrics.
func httpLabViews(t *testing.T, faults ...string) ([]web.CheckView, string) {
	t.Helper()
	l, err := startLab("", faults)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := configure(config.Map(l.Env(5 * time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	checks := a.Checks
	store := collector.NewStore(checks)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	collector.RunOnce(ctx, store, checks, a.MaxConcurrent)

	var out strings.Builder
	rec := httptest.NewRecorder()
	web.StatusPage(store, web.PageInfo{Lab: true}).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	out.WriteString(rec.Body.String())
	rec = httptest.NewRecorder()
	web.APIChecks(store).ServeHTTP(rec, httptest.NewRequest("GET", "/api/checks", nil))
	out.WriteString(rec.Body.String())
	rec = httptest.NewRecorder()
	collector.Handler(store, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics answered %d: %s", rec.Code, rec.Body.String())
	}
	out.WriteString(rec.Body.String())
	web.WriteReport(&out, web.Views(store.Entries()), true)
	if pw := l.ProbePassword(); pw == "" || strings.Contains(out.String(), pw) {
		t.Fatalf("the lab probe password (%q) shows on the page, in the API, the metrics or the report", pw)
	}
	return web.Views(store.Entries()), out.String()
}

func failingViews(views []web.CheckView) []string {
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
	l, err := startLab("", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := configure(config.Map(l.Env(5 * time.Second)))
	if err != nil {
		t.Fatal(err)
	}
	checks := a.Checks
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
	for _, v := range web.Views(store.Entries()) {
		if v.Failed() {
			t.Errorf("%s failed: %s %v", v.ID, v.Error, v.Findings)
		}
		if v.Probe == "ews" && (v.Result == nil || len(v.Details) < 2) {
			t.Errorf("the EWS check probed nothing: %v", v.Details)
		}
	}
	if d := time.Since(start); d > a.Web.Timeout {
		t.Errorf("took %v: the EWS check waited for its deadline", d)
	}
}
