package cms

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/probestest"
)

// TestExchangeVersion: the file version of ExSetup.exe in Learn's long
// format ("15.02.2562.017", zero-padded) is the build; Get-ExchangeServer's
// AdminDisplayVersion ("Version 15.2 (Build 2562.17)", the form
// `Get-ExchangeServer | Format-List Name,Edition,AdminDisplayVersion`
// prints) only where the file version is missing or unreadable. The
// product is the build's row of the lifecycle table.
func TestExchangeVersion(t *testing.T) {
	for _, tc := range []struct {
		name, exsetup, adv   string
		build, product, from string
	}{
		{"subscription edition RTM, long format", "15.02.2562.017", "Version 15.2 (Build 2562.17)", "15.2.2562.17", "exchange_se", ExSetupSource},
		{"short format too", "15.2.2562.17", "", "15.2.2562.17", "exchange_se", ExSetupSource},
		{"2016 CU23", "15.01.2507.006", "Version 15.1 (Build 2507.6)", "15.1.2507.6", "exchange_2016", ExSetupSource},
		{"2019 CU14", "15.02.1544.004", "Version 15.2 (Build 1544.4)", "15.2.1544.4", "exchange_2019", ExSetupSource},
		{"the file version wins", "15.02.2562.017", "Version 15.2 (Build 1544.4)", "15.2.2562.17", "exchange_se", ExSetupSource},
		{"no file version: AdminDisplayVersion", "", "Version 15.2 (Build 2562.17)", "15.2.2562.17", "exchange_se", AdminDisplayVersionSource},
		{"an unreadable file version: AdminDisplayVersion", "n/a", "Version 15.0 (Build 1497.2)", "15.0.1497.2", "exchange_2013", AdminDisplayVersionSource},
		{"2010: outside the table", "14.03.0123.004", "", "14.3.123.4", "unknown", ExSetupSource},
	} {
		d := &ExchangeData{}
		if tc.exsetup != "" {
			d.ExSetup = List[ExSetupFile]{{FileVersion: Text(tc.exsetup)}}
		}
		if tc.adv != "" {
			d.ExchangeServer = List[ExServer]{{Name: "EX01", Edition: "Standard", AdminDisplayVersion: Text(tc.adv)}}
		}
		v, ok := exchangeVersion(d)
		if !ok || v.Build != tc.build || v.Product != tc.product || v.From != tc.from {
			t.Errorf("%s: %+v %v, want %s %s from %s", tc.name, v, ok, tc.build, tc.product, tc.from)
		}
	}
	for _, adv := range []string{"", "Version 15.2", "15.2 (Build 2562.17)", "Version 15.2 (Build 2562.17) SU"} {
		if v, ok := exchangeVersion(&ExchangeData{ExchangeServer: List[ExServer]{{AdminDisplayVersion: Text(adv)}}}); ok {
			t.Errorf("a build from AdminDisplayVersion %q: %+v", adv, v)
		}
	}
	if v, ok := exchangeVersion(&ExchangeData{}); ok {
		t.Errorf("a build from nothing: %+v", v)
	}
}

// TestExchangeServerSupported: judged wherever the Exchange snapshot is,
// out of support after the product's last day; no verdict without a build.
func TestExchangeServerSupported(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	judge := func(exsetup string, dep Deployment, at time.Time) (Check, bool) {
		d := &ExchangeData{}
		if exsetup != "" {
			d.ExSetup = List[ExSetupFile]{{FileVersion: Text(exsetup)}}
		}
		for _, c := range exchangeChecks("exchange-ex01", d, dep, at, 60) {
			if c.Check == "server_supported" {
				return c, true
			}
		}
		return Check{}, false
	}
	if c, ok := judge("15.02.2562.017", hybridOnPrem, now); !ok || !c.Pass || c.Component != ComponentExchange {
		t.Errorf("subscription edition: %+v %v", c, ok)
	}
	c, ok := judge("15.01.2507.006", hybridOnPrem, now)
	if !ok || c.Pass || !strings.Contains(c.Problem, "Exchange Server 2016 (build 15.1.2507.6), out of support since 2025-10-14") ||
		!strings.Contains(c.Fix, "Exchange Server Subscription Edition") || c.Severity != probes.Warning {
		t.Errorf("2016: %+v %v", c, ok)
	}
	// Its last day is still supported.
	if c, ok := judge("15.01.2507.006", hybridOnPrem, time.Date(2025, 10, 14, 23, 0, 0, 0, time.UTC)); !ok || !c.Pass {
		t.Errorf("2016 on its last day: %+v %v", c, ok)
	}
	if _, ok := judge("14.03.0123.004", hybridOnPrem, now); ok {
		t.Error("judged a build outside the table")
	}
	if _, ok := judge("", hybridOnPrem, now); ok {
		t.Error("judged without a build")
	}
	if _, ok := judge("15.01.2507.006", Deployment{estate.OnPrem, estate.Online, estate.Worldwide}, now); ok {
		t.Error("judged where the Exchange snapshot is not (mailboxes in Exchange Online)")
	}
}

// TestExchangeServerMetrics: the build and support end of each Exchange
// server, by its FQDN, from both examples: PowerShell 7's from ExSetup.exe,
// 5.1's (whose ExSetup.exe step failed) from AdminDisplayVersion, with the
// failed section named.
func TestExchangeServerMetrics(t *testing.T) {
	dir := t.TempDir()
	copyTestdata(t, dir, "exchange-ps7.json", "exchange-ps51.json")
	now := testNow
	res, err := newTestProber(t, dir, hybridOnPrem, &now).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reg := probestest.Registry("cms", dir, res)
	if v := promtest.Value(t, reg, "sfbex_exchange_server_build_info", map[string]string{"server": "ex01.contoso.com", "product": "exchange_se", "build": "15.2.2562.17"}); v != 1 {
		t.Errorf("ex01 build info %v", v)
	}
	promtest.Absent(t, reg, "sfbex_exchange_server_support_end_timestamp_seconds", map[string]string{"server": "ex01.contoso.com"}, "Subscription Edition has no fixed end")
	if v := promtest.Value(t, reg, "sfbex_exchange_server_build_info", map[string]string{"server": "ex02.contoso.com", "product": "exchange_2019", "build": "15.2.1544.4"}); v != 1 {
		t.Errorf("ex02 build info %v", v)
	}
	if v := promtest.Value(t, reg, "sfbex_exchange_server_support_end_timestamp_seconds", map[string]string{"server": "ex02.contoso.com", "product": "exchange_2019"}); v != float64(time.Date(2025, 10, 15, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("ex02 support end %v", v)
	}
	if v := promtest.Value(t, reg, "sfbex_cms_snapshot_cmdlet_failed", map[string]string{"source": "exchange-ex02.contoso.com", "cmdlet": "Get-Command ExSetup.exe"}); v != 1 {
		t.Errorf("failed ExSetup.exe step %v", v)
	}
	f := findingWith(res.Findings(), "section Exchange.ExSetup (Get-Command ExSetup.exe)")
	if f == nil || !strings.Contains(f.Problem, "is not recognized") || !strings.Contains(f.Fix, "Run Get-Command ExSetup.exe -ErrorAction Stop") {
		t.Errorf("no finding for the failed ExSetup.exe step: %+v", res.Findings())
	}
	details := strings.Join(res.(*Result).Details(), "\n")
	for _, want := range []string{
		"exchange server ex01.contoso.com: build 15.2.2562.17 (ExSetup.exe file version), product exchange_se",
		"exchange server ex02.contoso.com: build 15.2.1544.4 (AdminDisplayVersion, the cumulative update only), product exchange_2019, support ended or ends 2025-10-14",
	} {
		if !strings.Contains(details, want) {
			t.Errorf("details lack %q:\n%s", want, details)
		}
	}
}

// TestExchangeSnapshotsBeforeTheBuild: an Exchange snapshot without the
// build sections (scripts before 1.2.0 wrote none) is read with no error
// for them, and shows no build.
func TestExchangeSnapshotsBeforeTheBuild(t *testing.T) {
	b := string(readTestdata(t, "exchange-ps7.json"))
	start, end := strings.Index(b, ","+"\r\n"+`    "ExchangeServer"`), strings.Index(b, "\r\n  },\r\n  \"Errors\"")
	if start < 0 || end < start {
		t.Fatal("exchange-ps7.json changed")
	}
	s, err := Parse([]byte(b[:start] + b[end:]))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Errors) != 1 || s.Errors[0].Section != "Exchange.AuthServers" {
		t.Errorf("errors for sections an older script does not write: %+v", s.Errors)
	}
	if _, ok := exchangeVersion(s.Exchange); ok {
		t.Error("a build from a snapshot without one")
	}
}
