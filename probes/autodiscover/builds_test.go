package autodiscover

import (
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/probestest"
)

func buildsResult(versions map[string]string) *Result {
	r := &Result{Domain: "contoso.com"}
	for u, v := range versions {
		proto := "soap"
		if strings.HasSuffix(u, ".xml") {
			proto = "pox"
		}
		r.Requests = append(r.Requests, RequestResult{Protocol: proto, OK: true, ExchangeVersion: v, Attempt: httpprobe.Attempt{URL: u, Status: 200}})
	}
	return r
}

// Exchange 2016 (15.1.2507) is out of support since 2025-10-14, Exchange
// SE (15.2.2562) is not; Exchange Online's own builds are not judged.
func TestOutOfSupportExchangeBuilds(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		versions map[string]string
		want     string
	}{
		{map[string]string{"https://autodiscover.contoso.com/autodiscover/autodiscover.svc": "15.2.2562"}, ""},
		{map[string]string{"https://autodiscover.contoso.com/autodiscover/autodiscover.svc": "15.1.2507",
			"https://autodiscover.contoso.com/autodiscover/autodiscover.xml": "15.1.2507"}, "runs Exchange Server 2016 (build 15.1.2507"},
		{map[string]string{"https://mail.contoso.com/autodiscover/autodiscover.svc": "15.2.1748"}, "Exchange Server 2019"},
		{map[string]string{"https://outlook.office365.com/autodiscover/autodiscover.svc": "15.1.2507"}, ""},
		{map[string]string{"https://autodiscover.contoso.com/autodiscover/autodiscover.svc": "14.3.123"}, ""}, // Exchange 2010: not in the table
	} {
		r := buildsResult(tc.versions)
		var fs []probes.Finding
		judgeBuilds(r, now, func(sev probes.Severity, subject, problem, fix string) {
			fs = append(fs, probes.Finding{Severity: sev, Subject: subject, Problem: problem, Fix: fix})
		})
		if tc.want == "" {
			if len(fs) != 0 {
				t.Errorf("%v: findings %v", tc.versions, fs)
			}
			continue
		}
		if len(fs) != 1 || fs[0].Severity != probes.Warning || !strings.Contains(fs[0].Problem, tc.want) ||
			!strings.Contains(fs[0].Problem, "out of support since 2025-10-14") || !strings.Contains(fs[0].Fix, "Subscription Edition") {
			t.Errorf("%v: findings %+v", tc.versions, fs)
		}
	}
}

func TestExchangeBuildMetrics(t *testing.T) {
	r := buildsResult(map[string]string{"https://autodiscover.contoso.com/autodiscover/autodiscover.svc": "15.1.2507",
		"https://mail.contoso.com/autodiscover/autodiscover.xml": "15.2.2562"})
	reg := probestest.Registry("autodiscover", "contoso.com", r)
	if v := promtest.Value(t, reg, "sfbex_exchange_build_info", map[string]string{"server": "autodiscover.contoso.com", "build": "15.1.2507", "product": "exchange_2016", "protocol": "soap"}); v != 1 {
		t.Errorf("build info %v", v)
	}
	if v := promtest.Value(t, reg, "sfbex_exchange_support_end_timestamp_seconds", map[string]string{"server": "autodiscover.contoso.com", "product": "exchange_2016"}); v != float64(time.Date(2025, 10, 15, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("support end %v", v)
	}
	promtest.Absent(t, reg, "sfbex_exchange_support_end_timestamp_seconds", map[string]string{"product": "exchange_se"}, "Subscription Edition has no fixed end")
}
