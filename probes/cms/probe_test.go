package cms

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
)

var testNow = time.Date(2023, 11, 14, 22, 20, 0, 0, time.UTC)

func newTestProber(t *testing.T, path string, dep Deployment, now *time.Time) *Prober {
	t.Helper()
	p, err := NewProber(Config{Path: path, Deployment: dep, SnapshotMaxAge: 30 * time.Minute, ReplicaStaleAfter: 10 * time.Minute,
		OAuthRenewDays: 60, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func copyTestdata(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), readTestdata(t, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func checkStates(r *Result) map[string]bool {
	m := map[string]bool{}
	for _, c := range r.Checks {
		m[c.Component+"/"+c.Check] = c.Pass
	}
	return m
}

func failing(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if !v {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

var hybridOnPrem = Deployment{Lync: estate.Hybrid, Exchange: estate.OnPrem, Cloud: estate.Worldwide}

func TestHealthyExamplesPassEveryCheck(t *testing.T) {
	dir := t.TempDir()
	copyTestdata(t, dir, "sfb-ps7.json", "exchange-ps7.json")
	now := testNow
	res, err := newTestProber(t, dir, hybridOnPrem, &now).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := res.(*Result)
	m := checkStates(r)
	want := []string{"exchange/auth_next_certificate_staged", "exchange/owa_im_enabled", "exchange/owa_im_type_ocs", "exchange/partner_application_sfb", "exchange/server_supported",
		"sfb/access_edge_allow_federated_users", "sfb/hosting_provider_enabled", "sfb/hosting_provider_hosts_ocs_users", "sfb/hosting_provider_is_local",
		"sfb/hosting_provider_present", "sfb/hosting_provider_proxy_fqdn", "sfb/hosting_provider_shared_address_space", "sfb/hosting_provider_verification_level",
		"sfb/hybrid_app_minimum_build", "sfb/oauth_exchange_autodiscover_url", "sfb/oauth_server_office365", "sfb/oauth_token_issuer_roll_staged",
		"sfb/partner_application_exchange", "sfb/server_supported", "sfb/teams_provider_autodiscover_url", "sfb/teams_provider_enabled",
		"sfb/teams_provider_hosts_ocs_users", "sfb/teams_provider_present", "sfb/teams_provider_proxy_fqdn", "sfb/teams_provider_shared_address_space",
		"sfb/tenant_shared_sip_address_space", "sfb/trusted_application_owa"}
	got := slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(got, want) || len(failing(m)) != 0 {
		t.Fatalf("checks %v, failing %v", got, failing(m))
	}
	// The only finding is the cmdlet the Exchange example could not run.
	if fs := r.Findings(); len(fs) != 1 || !strings.Contains(fs[0].Subject, "Get-AuthServer") {
		t.Fatalf("findings: %v", fs)
	}
	if len(r.Replicas) != 2 || len(r.Sources) != 2 {
		t.Fatalf("replicas %v sources %v", r.Replicas, r.Sources)
	}
}

func TestBrokenExamplesFailTheirChecks(t *testing.T) {
	dir := t.TempDir()
	copyTestdata(t, dir, "sfb-ps51.json", "exchange-ps51.json")
	now := time.UnixMilli(1700000200000)
	res, err := newTestProber(t, dir, hybridOnPrem, &now).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r := res.(*Result)
	// FE02 runs Skype for Business Server 2019 7.0.2046.530, below the
	// dedicated hybrid application's 7.0.2046.553 (in support in 2023).
	want := []string{"exchange/auth_next_certificate_staged", "exchange/owa_im_enabled", "exchange/owa_im_type_ocs",
		"sfb/hybrid_app_minimum_build", "sfb/oauth_exchange_autodiscover_url", "sfb/partner_application_exchange", "sfb/teams_provider_present"}
	if got := failing(checkStates(r)); !slices.Equal(got, want) {
		t.Fatalf("failing %v, want %v", got, want)
	}
	var subjects []string
	for _, f := range r.Findings() {
		subjects = append(subjects, f.Subject)
		if f.Fix == "" {
			t.Errorf("finding without a fix: %v", f)
		}
	}
	joined := strings.Join(subjects, "\n")
	// edge01's update was created 30 minutes before the snapshot: behind longer than 10m.
	if !strings.Contains(joined, "CMS replica edge01.contoso.com") {
		t.Errorf("no replica finding in %s", joined)
	}
	for _, f := range r.Findings() {
		if strings.Contains(f.Subject, "oauth_exchange_autodiscover_url") && (!strings.Contains(f.Problem, "autodiscover.xml") || !strings.Contains(f.Fix, "Set-CsOAuthConfiguration")) {
			t.Errorf("autodiscover finding does not name the setting and cmdlet: %+v", f)
		}
	}
}

func TestChecksFollowTheDeployment(t *testing.T) {
	dir := t.TempDir()
	copyTestdata(t, dir, "sfb-ps7.json", "exchange-ps7.json")
	now := testNow
	for _, tc := range []struct {
		dep        Deployment
		has, hasnt []string
	}{
		// On-premises only: no Office 365 auth server; the configured
		// Exchange Online provider is still judged.
		{Deployment{estate.OnPrem, estate.OnPrem, estate.Worldwide}, []string{"sfb/partner_application_exchange", "sfb/hosting_provider_proxy_fqdn"}, []string{"sfb/oauth_server_office365"}},
		// Exchange Online: no on-premises OWA, partner application or Auth certificate.
		{Deployment{estate.OnPrem, estate.Online, estate.Worldwide}, []string{"sfb/hosting_provider_shared_address_space"}, []string{"exchange/owa_im_enabled", "sfb/partner_application_exchange", "sfb/trusted_application_owa", "exchange/auth_next_certificate_staged"}},
		// Skype for Business Online: nothing on-premises to judge.
		{Deployment{estate.Online, estate.OnPrem, estate.Worldwide}, nil, []string{"sfb/access_edge_allow_federated_users", "exchange/partner_application_sfb"}},
	} {
		r, err := newTestProber(t, dir, tc.dep, &now).Probe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		m := checkStates(r.(*Result))
		for _, c := range tc.has {
			if _, ok := m[c]; !ok {
				t.Errorf("%+v: no %s", tc.dep, c)
			}
		}
		for _, c := range tc.hasnt {
			if _, ok := m[c]; ok {
				t.Errorf("%+v: has %s", tc.dep, c)
			}
		}
		if f := failing(m); len(f) != 0 {
			t.Errorf("%+v: healthy example fails %v", tc.dep, f)
		}
	}
	// 21Vianet and GCC High want their own ProxyFqdn for each provider,
	// and webdir of their own cloud; DoD documents no Exchange Online
	// ProxyFqdn, so there is no verdict on it, only on the Teams provider.
	for c, want := range map[estate.Cloud][]string{
		estate.China:   {"sfb/hosting_provider_proxy_fqdn", "sfb/teams_provider_autodiscover_url", "sfb/teams_provider_proxy_fqdn"},
		estate.GCCHigh: {"sfb/hosting_provider_proxy_fqdn", "sfb/teams_provider_autodiscover_url", "sfb/teams_provider_proxy_fqdn"},
		estate.DoD:     {"sfb/teams_provider_autodiscover_url", "sfb/teams_provider_proxy_fqdn"},
	} {
		r, _ := newTestProber(t, dir, Deployment{estate.Hybrid, estate.Hybrid, c}, &now).Probe(context.Background())
		m := checkStates(r.(*Result))
		if f := failing(m); !slices.Equal(f, want) {
			t.Errorf("%s: failing %v, want %v", c, f, want)
		}
		if _, ok := m["sfb/hosting_provider_proxy_fqdn"]; ok == (c == estate.DoD) {
			t.Errorf("%s: hosting_provider_proxy_fqdn judged: %v", c, ok)
		}
	}
	// A GCC High snapshot (the provider on exap.um.office365.us) is found
	// as the Exchange Online provider and passes in GCC High.
	gcc := strings.Replace(string(readTestdata(t, "sfb-ps7.json")), `"Identity": "Exchange Online"`, `"Identity": "EXO GCC High"`, 1)
	gcc = strings.Replace(gcc, `exap.um.outlook.com`, `exap.um.office365.us`, 1)
	d3 := t.TempDir()
	os.WriteFile(filepath.Join(d3, "a.json"), []byte(gcc), 0o644)
	r, _ := newTestProber(t, d3, Deployment{estate.Hybrid, estate.Online, estate.GCCHigh}, &now).Probe(context.Background())
	if m := checkStates(r.(*Result)); !m["sfb/hosting_provider_present"] || !m["sfb/hosting_provider_proxy_fqdn"] {
		t.Errorf("gcchigh: %v", m)
	}
	// Exchange Online without the hosting provider: the step fails.
	noHP := strings.Replace(string(readTestdata(t, "sfb-ps7.json")), `"Identity": "Exchange Online"`, `"Identity": "Other"`, 1)
	noHP = strings.Replace(noHP, `exap.um.outlook.com`, `sip.fabrikam.com`, 1)
	d2 := t.TempDir()
	os.WriteFile(filepath.Join(d2, "a.json"), []byte(noHP), 0o644)
	r, _ = newTestProber(t, d2, Deployment{estate.OnPrem, estate.Online, estate.Worldwide}, &now).Probe(context.Background())
	if f := failing(checkStates(r.(*Result))); !slices.Equal(f, []string{"sfb/hosting_provider_present"}) {
		t.Errorf("no provider: failing %v", f)
	}
}

func TestBadSnapshotKeepsTheLastGoodOneStale(t *testing.T) {
	dir := t.TempDir()
	copyTestdata(t, dir, "sfb-ps7.json")
	now := testNow
	p := newTestProber(t, dir, hybridOnPrem, &now)
	if _, err := p.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "sfb-ps7.json"), []byte(`{"SnapshotVersion":"1", "Timest`), 0o644)
	res, err := p.Probe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "sfb-ps7.json") || !strings.Contains(probes.FixOf(err), "last good snapshot of sfb-fe01.contoso.com") {
		t.Fatalf("error %v / fix %q", err, probes.FixOf(err))
	}
	r := res.(*Result)
	if len(r.Sources) != 1 || !r.Sources[0].Stale || len(r.Checks) == 0 || len(r.InvalidFiles) != 1 {
		t.Fatalf("sources %+v checks %d invalid %v", r.Sources, len(r.Checks), r.InvalidFiles)
	}
	// A file that never parsed: an error, and nothing made up.
	d2 := t.TempDir()
	os.WriteFile(filepath.Join(d2, "x.json"), []byte("<html>"), 0o644)
	if res, err := newTestProber(t, d2, hybridOnPrem, &now).Probe(context.Background()); err == nil || res != nil {
		t.Fatalf("%v %v", res, err)
	}
	// A missing path.
	if res, err := newTestProber(t, filepath.Join(d2, "nope"), hybridOnPrem, &now).Probe(context.Background()); err == nil || res != nil || probes.FixOf(err) == "" {
		t.Fatalf("%v %v", res, err)
	}
}

func TestNewestSnapshotOfASourceWins(t *testing.T) {
	dir := t.TempDir()
	old := strings.Replace(string(readTestdata(t, "sfb-ps7.json")), `"AllowFederatedUsers": true`, `"AllowFederatedUsers": false`, 1)
	old = strings.Replace(old, "2023-11-14T22:13:20.1234567Z", "2023-11-14T20:00:00Z", 1)
	os.WriteFile(filepath.Join(dir, "old.json"), []byte(old), 0o644)
	copyTestdata(t, dir, "sfb-ps7.json")
	now := testNow
	r, err := newTestProber(t, dir, hybridOnPrem, &now).Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f := failing(checkStates(r.(*Result))); len(f) != 0 || len(r.(*Result).Sources) != 1 {
		t.Fatalf("the older snapshot won: %v", f)
	}
}

func TestSnapshotAgeAndReplicaTracking(t *testing.T) {
	dir := t.TempDir()
	base := string(readTestdata(t, "sfb-ps7.json"))
	write := func(ts string, edgeUpToDate bool) {
		s := strings.Replace(base, "2023-11-14T22:13:20.1234567Z", ts, 1)
		// No LastUpdateCreation: only consecutive snapshots tell how long.
		edge := "\"ReplicaFqdn\": \"edge01.contoso.com\",\r\n        \"ProductVersion\": \"7.0.2046.0\",\r\n        \"UpToDate\": true,\r\n" +
			"        \"LastUpdateCreation\": \"2023-11-14T22:01:00.2030000Z\",\r\n        \"LastStatusReport\": \"2023-11-14T22:01:40.0910000Z\""
		if !strings.Contains(s, edge) {
			t.Fatal("sfb-ps7.json changed: edge01 not found")
		}
		s = strings.Replace(s, edge, fmt.Sprintf(`"ReplicaFqdn": "edge01.contoso.com", "UpToDate": %v, "LastUpdateCreation": null, "LastStatusReport": null`, edgeUpToDate), 1)
		if err := os.WriteFile(filepath.Join(dir, "fe.json"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	now := testNow
	p := newTestProber(t, dir, hybridOnPrem, &now)
	find := func(sub string) bool {
		res, err := p.Probe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings() {
			if strings.Contains(f.Subject, sub) {
				return true
			}
		}
		return false
	}
	write("2023-11-14T22:00:00Z", false)
	if find("CMS replica edge01") {
		t.Fatal("a replica just seen behind is already a finding")
	}
	write("2023-11-14T22:05:00Z", false)
	if find("CMS replica edge01") {
		t.Fatal("5 minutes behind is a finding")
	}
	write("2023-11-14T22:11:00Z", false)
	if !find("CMS replica edge01") {
		t.Fatal("11 minutes behind over consecutive snapshots is not a finding")
	}
	write("2023-11-14T22:12:00Z", true)
	if find("CMS replica edge01") {
		t.Fatal("caught up but still a finding")
	}
	write("2023-11-14T22:13:00Z", false)
	if find("CMS replica edge01") {
		t.Fatal("the clock did not restart after catching up")
	}
	now = testNow.Add(time.Hour)
	if !find("CMS snapshot sfb-fe01.contoso.com") {
		t.Fatal("an hour-old snapshot is not a finding")
	}
}

// The OAuthTokenIssuer roll, per Front End: outside the renewal window a
// lone certificate is fine; inside it a second, later certificate (staged
// with Set-CsCertificate -Roll) must be there; in the last 48 hours, or
// expired, it is critical.
func TestOAuthTokenIssuerRoll(t *testing.T) {
	now := testNow
	cert := func(th string, days int) Certificate {
		return Certificate{Thumbprint: Text(th), Subject: "CN=contoso.com", Use: "OAuthTokenIssuer", NotAfter: Time{Time: now.AddDate(0, 0, days)}}
	}
	for _, tc := range []struct {
		name  string
		certs []Certificate
		pass  bool
		sev   probes.Severity
		text  string
	}{
		{"a year left", []Certificate{cert("AA", 365)}, true, probes.Warning, ""},
		{"20 days, none staged", []Certificate{cert("AA", 20)}, false, probes.Warning, "expires in 20 days"},
		{"20 days, roll staged", []Certificate{cert("BB", 730), cert("AA", 20)}, true, probes.Warning, ""},
		{"one day left", []Certificate{cert("AA", 1)}, false, probes.Critical, "expires in 1 day"},
		{"expired", []Certificate{cert("AA", -3)}, false, probes.Critical, "expired on"},
	} {
		c := &checker{source: "sfb-fe01"}
		tokenIssuerRoll(c, tc.certs, now, 60)
		if len(c.out) != 1 {
			t.Fatalf("%s: %+v", tc.name, c.out)
		}
		ch := c.out[0]
		if ch.Pass != tc.pass || ch.Severity != tc.sev || !strings.Contains(ch.Problem, tc.text) || !strings.Contains(ch.Fix, "-Roll") {
			t.Errorf("%s: %+v", tc.name, ch)
		}
	}
	c := &checker{}
	tokenIssuerRoll(c, nil, now, 60)
	if len(c.out) != 0 {
		t.Error("a verdict without a certificate")
	}
}
