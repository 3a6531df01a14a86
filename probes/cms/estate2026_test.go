package cms

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/internal/support"
	"github.com/sfbex/sfbex_exporter/probes/probestest"
)

// Get-CsServerVersion's line for Skype for Business Server 2019, as
// Microsoft's own troubleshooting tool shows it in its tests.
const line2019 = "Skype for Business Server 2019 (7.0.2046.0): Volume license key installed."

func patch(product string, rows ...string) []PatchVersion {
	var out []PatchVersion
	for i := 0; i < len(rows); i += 2 {
		out = append(out, PatchVersion{ComponentName: Text("Skype for Business Server " + product + ", " + rows[i]), Version: Text(rows[i+1])})
	}
	return out
}

// TestSfBVersion: the build is the Core Components row's version (the
// highest of all rows without one); the product comes from the build's
// range, except that Get-CsServerVersion's name decides between 2019 and
// Subscription Edition, which share 7.0.2046.x.
func TestSfBVersion(t *testing.T) {
	for _, tc := range []struct {
		name           string
		line           string
		rows           []PatchVersion
		build, product string
	}{
		{"2015", "Skype for Business Server 2015 (6.0.9319.0): Volume license key installed.", patch("2015", "Core Components", "6.0.9319.881", "Web Components Server", "6.0.9319.881"), "6.0.9319.881", "sfb_2015"},
		{"2019", line2019, patch("2019", "Core Components", "7.0.2046.553", "Core Management Server", "7.0.2046.123"), "7.0.2046.553", "sfb_2019"},
		{"core components over a newer other component", line2019, patch("2019", "Web Components Server", "7.0.2046.553", "Core Components", "7.0.2046.530"), "7.0.2046.530", "sfb_2019"},
		{"no core components row: the highest", line2019, patch("2019", "Web Components Server", "7.0.2046.396", "Core Management Server", "7.0.2046.553"), "7.0.2046.553", "sfb_2019"},
		{"subscription edition by name and range", "Skype for Business Server Subscription Edition (7.0.2046.0): Volume license key installed.", patch("Subscription Edition", "Core Components", "7.0.2046.820"), "7.0.2046.820", "sfb_se"},
		{"the name wins over the range", line2019, patch("2019", "Core Components", "7.0.2046.820"), "7.0.2046.820", "sfb_2019"},
		{"no name: the range", "", patch("2019", "Core Components", "7.0.2046.820"), "7.0.2046.820", "sfb_se"},
		{"lync 2013", "Lync Server 2013 (5.0.8308.0): Volume license key installed.", patch("2013", "Core Components", "5.0.8308.1001"), "5.0.8308.1001", "lync_2013"},
		{"outside the table", "", patch("2010", "Core Components", "4.0.7577.0"), "4.0.7577.0", "unknown"},
	} {
		d := &SfBData{PatchVersions: tc.rows}
		if tc.line != "" {
			d.ServerVersion = List[ServerVersion]{{Product: Text(tc.line)}}
		}
		v, ok := sfbVersion(d)
		if !ok || v.Build != tc.build || v.Product != tc.product {
			t.Errorf("%s: %+v %v, want %s %s", tc.name, v, ok, tc.build, tc.product)
		}
	}
	// Get-CsServerVersion alone gives the release, not the patch level:
	// no build, nothing judged.
	if v, ok := sfbVersion(&SfBData{ServerVersion: List[ServerVersion]{{Product: line2019}}}); ok {
		t.Errorf("a build from Get-CsServerVersion: %+v", v)
	}
	if v, ok := sfbVersion(&SfBData{PatchVersions: []PatchVersion{{ComponentName: "x", Version: "n/a"}}}); ok {
		t.Errorf("a build from no version: %+v", v)
	}
}

// TestVersionChecks: out of support, and below the dedicated hybrid
// application's minimum where Exchange Online is reached; the minimums
// are configurable.
func TestVersionChecks(t *testing.T) {
	now := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	exo := Deployment{estate.OnPrem, estate.Online, estate.Worldwide}
	for _, tc := range []struct {
		name    string
		line    string
		build   string
		dep     Deployment
		min     map[string]support.Build
		failing []string
		text    string
	}{
		{"subscription edition", "Skype for Business Server Subscription Edition (7.0.2046.0): Volume license key installed.", "7.0.2046.820", exo, nil, nil, ""},
		{"2015 at the minimum, out of support", "", "6.0.9319.881", exo, nil, []string{"server_supported"}, "Skype for Business Server 2015 (build 6.0.9319.881), out of support since 2025-10-14"},
		{"2019 below the minimum", line2019, "7.0.2046.530", exo, nil, []string{"hybrid_app_minimum_build", "server_supported"}, "older than 7.0.2046.553"},
		{"2019 at the minimum", line2019, "7.0.2046.553", exo, nil, []string{"server_supported"}, ""},
		{"a configured minimum", line2019, "7.0.2046.553", exo, map[string]support.Build{"sfb_2019": support.MustParse("7.0.2046.600")}, []string{"hybrid_app_minimum_build", "server_supported"}, "older than 7.0.2046.600"},
		{"lync 2013: no build can", "", "5.0.8308.1001", Deployment{estate.Hybrid, estate.OnPrem, estate.Worldwide}, nil, []string{"hybrid_app_minimum_build", "server_supported"}, "no build can use a dedicated hybrid application"},
		{"on-premises only: no hybrid application", line2019, "7.0.2046.530", Deployment{estate.OnPrem, estate.OnPrem, estate.Worldwide}, nil, []string{"server_supported"}, ""},
	} {
		d := &SfBData{PatchVersions: patch("x", "Core Components", tc.build)}
		if tc.line != "" {
			d.ServerVersion = List[ServerVersion]{{Product: Text(tc.line)}}
		}
		min := tc.min
		if min == nil {
			min = support.MinHybridApp
		}
		var failing []string
		m := map[string]Check{}
		for _, c := range sfbChecks("sfb-fe01", d, tc.dep, now, 60, min) {
			m[c.Check] = c
			if !c.Pass {
				failing = append(failing, c.Check)
			}
		}
		slices.Sort(failing)
		if strings.Join(failing, ",") != strings.Join(tc.failing, ",") {
			t.Errorf("%s: failing %v, want %v", tc.name, failing, tc.failing)
		}
		if _, ok := m["hybrid_app_minimum_build"]; ok != (tc.dep.Exchange == estate.Online || tc.dep.Lync == estate.Hybrid) {
			t.Errorf("%s: hybrid_app_minimum_build judged: %v", tc.name, ok)
		}
		if tc.text != "" {
			found := false
			for _, c := range m {
				found = found || strings.Contains(c.Problem, tc.text)
			}
			if !found {
				t.Errorf("%s: no problem says %q: %+v", tc.name, tc.text, m)
			}
		}
	}
}

// TestOAuthTokenIssuerRollEffectiveDate: a staged roll must take effect
// at least 24 hours before the current certificate expires (Learn "stage
// AV and OAuth certificates"), whenever it was staged; one whose date the
// snapshot does not show counts as staged in time.
func TestOAuthTokenIssuerRollEffectiveDate(t *testing.T) {
	now := testNow
	expiry := now.AddDate(0, 0, 20)
	cur := Certificate{Thumbprint: "AA", NotAfter: Time{Time: expiry}}
	next := func(effective time.Time) Certificate {
		return Certificate{Thumbprint: "BB", NotAfter: Time{Time: now.AddDate(2, 0, 0)}, EffectiveDate: Time{Time: effective}}
	}
	for _, tc := range []struct {
		name string
		next Certificate
		pass bool
	}{
		{"two days ahead", next(expiry.Add(-48 * time.Hour)), true},
		{"exactly 24 hours ahead", next(expiry.Add(-24 * time.Hour)), true},
		{"12 hours ahead", next(expiry.Add(-12 * time.Hour)), false},
		{"after the expiry", next(expiry.Add(time.Hour)), false},
		{"no date shown", next(time.Time{}), true},
	} {
		c := &checker{source: "sfb-fe01"}
		tokenIssuerRoll(c, []Certificate{cur, tc.next}, now, 60)
		if len(c.out) != 1 || c.out[0].Pass != tc.pass {
			t.Fatalf("%s: %+v", tc.name, c.out)
		}
		if !tc.pass && (!strings.Contains(c.out[0].Problem, "later than 24 hours before") || !strings.Contains(c.out[0].Fix, "-EffectiveDate")) {
			t.Errorf("%s: %+v", tc.name, c.out[0])
		}
	}
	// Far from expiry a late roll is still wrong: it will bite.
	c := &checker{}
	far := Certificate{Thumbprint: "AA", NotAfter: Time{Time: now.AddDate(1, 0, 0)}}
	tokenIssuerRoll(c, []Certificate{far, next(far.NotAfter.Add(-time.Hour))}, now, 60)
	if len(c.out) != 1 || c.out[0].Pass {
		t.Errorf("a late roll a year ahead: %+v", c.out)
	}
}

// TestTenantSharedSipAddressSpace: judged in a hybrid when the Teams part
// of the snapshot has it; a failed connect is a section not exported,
// never a failed check.
func TestTenantSharedSipAddressSpace(t *testing.T) {
	hybrid := Deployment{estate.Hybrid, estate.OnPrem, estate.Worldwide}
	judge := func(d *SfBData, dep Deployment) (Check, bool) {
		for _, c := range sfbChecks("sfb-fe01", d, dep, testNow, 60, support.MinHybridApp) {
			if c.Check == "tenant_shared_sip_address_space" {
				return c, true
			}
		}
		return Check{}, false
	}
	off := &SfBData{TenantFederationConfiguration: List[TenantFederation]{{Identity: "Global", SharedSipAddressSpace: Bool{true, false}}}}
	if c, ok := judge(off, hybrid); !ok || c.Pass || !strings.Contains(c.Fix, "Set-CsTenantFederationConfiguration -SharedSipAddressSpace $true") {
		t.Errorf("off: %+v %v", c, ok)
	}
	on := &SfBData{TenantFederationConfiguration: List[TenantFederation]{{Identity: "Global", SharedSipAddressSpace: Bool{true, true}}}}
	if c, ok := judge(on, hybrid); !ok || !c.Pass {
		t.Errorf("on: %+v %v", c, ok)
	}
	if _, ok := judge(off, Deployment{estate.OnPrem, estate.Online, estate.Worldwide}); ok {
		t.Error("judged outside a hybrid")
	}
	if _, ok := judge(&SfBData{}, hybrid); ok {
		t.Error("judged without the Teams part")
	}

	// The PowerShell 5.1 example could not connect: a finding that names
	// the section and Connect-MicrosoftTeams, and no verdict.
	dir := t.TempDir()
	copyTestdata(t, dir, "sfb-ps51.json")
	now := time.UnixMilli(1700000200000)
	r, err := newTestProber(t, dir, hybrid, &now).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := checkStates(r.(*Result))["sfb/tenant_shared_sip_address_space"]; ok {
		t.Error("judged on a failed connect")
	}
	if f := findingWith(r.Findings(), "SkypeForBusiness.TenantFederationConfiguration (Connect-MicrosoftTeams)"); f == nil || !strings.Contains(f.Problem, "not exported") {
		t.Errorf("no finding for the failed connect: %+v", r.Findings())
	}
}

// TestSnapshotsBeforeTheVersions: a snapshot of script 1.1.0 (no versions,
// no Teams part, no EffectiveDate) is read as before, with no error for
// what it could not have.
func TestSnapshotsBeforeTheVersions(t *testing.T) {
	b := string(readTestdata(t, "sfb-ps7.json"))
	start, end := strings.Index(b, `,`+"\r\n"+`    "ServerVersion"`), strings.Index(b, "\r\n  },\r\n  \"Errors\"")
	if start < 0 || end < start {
		t.Fatal("sfb-ps7.json changed")
	}
	s, err := Parse([]byte(b[:start] + b[end:]))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Errors) != 0 || s.SkypeForBusiness.PatchVersions != nil {
		t.Errorf("errors for sections an older script does not write: %+v", s.Errors)
	}
}

// TestSfBMetrics: the build, support end and OAuthTokenIssuer series of
// each Front End, by its FQDN.
func TestSfBMetrics(t *testing.T) {
	dir := t.TempDir()
	copyTestdata(t, dir, "sfb-ps7.json")
	th, err := os.ReadFile(filepath.Join("testdata", "sfb-ps51-th-TH.json"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "th.json"), th, 0o644)
	now := testNow
	res, err := newTestProber(t, dir, hybridOnPrem, &now).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reg := probestest.Registry("cms", dir, res)
	if v := promtest.Value(t, reg, "sfbex_sfb_build_info", map[string]string{"server": "fe01.contoso.com", "product": "sfb_se", "build": "7.0.2046.820"}); v != 1 {
		t.Errorf("build info %v", v)
	}
	promtest.Absent(t, reg, "sfbex_sfb_support_end_timestamp_seconds", map[string]string{"server": "fe01.contoso.com"}, "Subscription Edition has no fixed end")
	if v := promtest.Value(t, reg, "sfbex_sfb_build_info", map[string]string{"server": "fe03.contoso.co.th", "product": "sfb_2019", "build": "7.0.2046.553"}); v != 1 {
		t.Errorf("build info %v", v)
	}
	if v := promtest.Value(t, reg, "sfbex_sfb_support_end_timestamp_seconds", map[string]string{"server": "fe03.contoso.co.th", "product": "sfb_2019"}); v != float64(time.Date(2025, 10, 15, 0, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("support end %v", v)
	}
	for role, want := range map[string]time.Time{"current": time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC), "next": time.Date(2027, 6, 30, 12, 0, 0, 0, time.UTC)} {
		if v := promtest.Value(t, reg, "sfbex_sfb_oauth_token_issuer_not_after_timestamp_seconds", map[string]string{"server": "fe01.contoso.com", "role": role}); v != float64(want.Unix()) {
			t.Errorf("%s not after %v", role, v)
		}
	}
	if v := promtest.Value(t, reg, "sfbex_sfb_oauth_token_issuer_roll_effective_timestamp_seconds", map[string]string{"server": "fe01.contoso.com"}); v != float64(time.Date(2025, 6, 28, 12, 0, 0, 0, time.UTC).Unix()) {
		t.Errorf("roll effective %v", v)
	}
	// The status page says the same in words.
	details := strings.Join(res.(*Result).Details(), "\n")
	for _, want := range []string{
		"server fe01.contoso.com: build 7.0.2046.820, product sfb_se",
		"server fe03.contoso.co.th: build 7.0.2046.553, product sfb_2019, support ended or ends 2025-10-14",
		"server fe01.contoso.com: OAuthTokenIssuer certificate expires 2025-06-30T12:00:00Z, rolled one staged (expires 2027-06-30T12:00:00Z, takes effect 2025-06-28T12:00:00Z)",
	} {
		if !strings.Contains(details, want) {
			t.Errorf("details lack %q:\n%s", want, details)
		}
	}
	promtest.Absent(t, reg, "sfbex_sfb_oauth_token_issuer_not_after_timestamp_seconds", map[string]string{"server": "fe03.contoso.co.th", "role": "next"}, "no roll staged")
	promtest.Absent(t, reg, "sfbex_sfb_oauth_token_issuer_roll_effective_timestamp_seconds", map[string]string{"server": "fe03.contoso.co.th"}, "no roll staged")
}
