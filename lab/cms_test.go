package lab

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes/cms"
)

// Each CMS fault turns exactly its own check or finding red, with the
// setting and the fixing cmdlet named.
func TestCMSFaultsTurnExactlyTheirCheckRed(t *testing.T) {
	l, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct {
		fault, subject, fix string
	}{
		{"", "", ""},
		{"cms-replica-stale", "CMS replica edge01.contoso.test", "Invoke-CsManagementStoreReplication"},
		{"cms-snapshot-stale", "CMS snapshot ", "Start-ScheduledTask"},
		{"hosting-provider-wrong", "sfb/hosting_provider_shared_address_space", "Set-CsHostingProvider"},
		{"hosting-provider-wrong-cloud", "sfb/hosting_provider_proxy_fqdn", `-ProxyFqdn "exap.um.outlook.com"`},
		{"sfb-oauth-roll-missing", "sfb/oauth_token_issuer_roll_staged", "Set-CsCertificate -Type OAuthTokenIssuer -Thumbprint <new thumbprint> -Roll"},
		{"sfb-out-of-support", "sfb/server_supported", "Subscription Edition"},
		// 2019 is out of support too: both checks, each with its own alert.
		{"sfb-hybrid-app-build-too-old", "sfb/hybrid_app_minimum_build,sfb/server_supported", "ConfigureSkypeforBusinessHybridApplication.ps1"},
		{"oauth-roll-late", "sfb/oauth_token_issuer_roll_staged", "-Roll -EffectiveDate <at least 24 hours before"},
		{"tenant-shared-sip-off", "sfb/tenant_shared_sip_address_space", "Set-CsTenantFederationConfiguration -SharedSipAddressSpace $true"},
		{"teams-provider-wrong", "sfb/teams_provider_hosts_ocs_users", `Set-CsHostingProvider -Identity "LyncOnline" -HostsOCSUsers $True`},
		{"federation-disabled", "sfb/access_edge_allow_federated_users", "Set-CsAccessEdgeConfiguration -AllowFederatedUsers $True"},
		{"oauth-autodiscover-xml", "sfb/oauth_exchange_autodiscover_url", "Set-CsOAuthConfiguration"},
		{"partner-app-missing", "sfb/partner_application_exchange", "New-CsPartnerApplication"},
		{"owa-im-disabled", "exchange/owa_im_enabled", "Set-OwaVirtualDirectory"},
		{"next-cert-not-staged", "exchange/auth_next_certificate_staged", "Set-AuthConfig -NewCertificateThumbprint"},
		// The Exchange server's own snapshot shows the 2016 build its web answers show.
		{"exchange-out-of-support", "exchange/server_supported", "Move to Exchange Server Subscription Edition"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			if tc.fault != "" {
				l.Set(tc.fault, true)
				defer l.Set(tc.fault, false)
			}
			p, err := cms.NewProber(cms.Config{Path: l.CMSSnapshotDir(), Deployment: cms.Deployment{Lync: estate.Hybrid, Exchange: estate.OnPrem, Cloud: estate.Worldwide},
				SnapshotMaxAge: 45 * time.Second, ReplicaStaleAfter: time.Minute, OAuthRenewDays: 60})
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Probe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r := res.(*cms.Result)
			if len(r.Sources) != 2 || len(r.Replicas) != 2 || len(r.Checks) < 14 {
				t.Fatalf("sources %d replicas %d checks %d", len(r.Sources), len(r.Replicas), len(r.Checks))
			}
			build, product := "15.2.2562.17", "exchange_se"
			if tc.fault == "exchange-out-of-support" {
				build, product = "15.1.2507.6", "exchange_2016"
			}
			if len(r.ExchangeServers) != 1 || r.ExchangeServers[0].Server != "ex01.contoso.test" || r.ExchangeServers[0].Version.Build != build ||
				r.ExchangeServers[0].Version.Product != product || r.ExchangeServers[0].Version.From != cms.ExSetupSource {
				t.Errorf("Exchange servers %+v, want ex01.contoso.test %s %s from ExSetup.exe", r.ExchangeServers, build, product)
			}
			fs := r.Findings()
			if tc.fault == "" {
				if len(fs) != 0 {
					t.Fatalf("healthy lab: %v", fs)
				}
				return
			}
			var failed []string
			for _, c := range r.Checks {
				if !c.Pass {
					failed = append(failed, c.Component+"/"+c.Check)
				}
			}
			if strings.Contains(tc.subject, "/") && !slices.Equal(failed, strings.Split(tc.subject, ",")) {
				t.Errorf("failing checks %v, want only %s", failed, tc.subject)
			}
			if !strings.Contains(tc.subject, "/") && len(failed) != 0 {
				t.Errorf("failing checks %v, want none", failed)
			}
			want := 1
			if tc.fault == "cms-snapshot-stale" {
				want = 2 // both sources
			}
			want = max(want, len(failed))
			first, _, _ := strings.Cut(tc.subject, ",")
			if len(fs) != want || !strings.Contains(fs[0].Subject, first) || !strings.Contains(fs[0].Fix, tc.fix) {
				t.Fatalf("findings %v", fs)
			}
		})
	}
}

// The Exchange-side 2026 faults need a lab whose integration uses Exchange
// Online mailboxes: on the variants that have one, the healthy snapshot
// passes every Exchange Online check, and each fault turns exactly its own
// check red; the default lab exports no Exchange Online part.
func TestExchangeOnlineFaultsTurnExactlyTheirCheckRed(t *testing.T) {
	ews := cms.EWSConfig{RequiredAppIDs: []string{labSfBHybridAppID, labExchangeHybridAppID}, UserAgents: []string{labEWSUserAgent}, Shutdown: time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)}
	for _, name := range []string{"hybrid", "exchange-online", "exchange-hybrid"} {
		v, _ := VariantNamed(name)
		t.Run(name, func(t *testing.T) {
			l, err := StartVariant(v)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			dep := cms.Deployment{Lync: v.lync(), Exchange: v.exchange(), Cloud: v.Cloud}
			for _, tc := range []struct{ fault, check string }{
				{"", ""},
				{"exo-ews-disabled", "exchange_online/ews_enabled"},
				{"exo-ews-app-not-allowed", "exchange_online/ews_app_allowed"},
				{"exo-ews-user-agent-blocked", "exchange_online/ews_access_policy"},
				{"exchange-hybrid-app-shared", "exchange/hybrid_dedicated_app"},
			} {
				if tc.fault != "" {
					l.Set(tc.fault, true)
				}
				p, err := cms.NewProber(cms.Config{Path: l.CMSSnapshotDir(), Deployment: dep, SnapshotMaxAge: 45 * time.Second, ReplicaStaleAfter: time.Minute, OAuthRenewDays: 60, EWS: ews})
				if err != nil {
					t.Fatal(err)
				}
				res, err := p.Probe(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if tc.fault != "" {
					l.Set(tc.fault, false)
				}
				var failed, judged []string
				for _, c := range res.(*cms.Result).Checks {
					if c.Component == cms.ComponentExchangeOnline || c.Check == "hybrid_dedicated_app" {
						judged = append(judged, c.Component+"/"+c.Check)
					}
					if !c.Pass {
						failed = append(failed, c.Component+"/"+c.Check)
					}
				}
				wantJudged := map[string]int{"hybrid": 0, "exchange-online": 3, "exchange-hybrid": 4}[name]
				if tc.fault == "exo-ews-disabled" && wantJudged > 0 {
					wantJudged-- // the allow list has no effect while EWS is off
				}
				if len(judged) != wantJudged {
					t.Errorf("%s: judged %v, want %d checks", tc.fault, judged, wantJudged)
				}
				var want []string
				if tc.check != "" && slices.Contains(judged, tc.check) {
					want = []string{tc.check}
				}
				if !slices.Equal(failed, want) {
					t.Errorf("%s: failing %v, want %v", tc.fault, failed, want)
				}
			}
		})
	}
	for f, v := range VariantFaults {
		if _, err := VariantNamed(v); err != nil || !slices.ContainsFunc(Faults, func(x Fault) bool { return x.Name == f }) {
			t.Errorf("VariantFaults: %s -> %s", f, v)
		}
	}
}
