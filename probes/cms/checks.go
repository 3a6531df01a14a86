package cms

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/plural"
	"github.com/sfbex/sfbex_exporter/internal/support"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Components of sfbex_integration_check: which server's settings a check reads.
const (
	ComponentSfB      = "sfb"
	ComponentExchange = "exchange"
)

// Deployment says which seed steps apply (seeds 000 and 001): the Exchange
// Online hosting provider only with mailboxes in Exchange Online (or when
// one is configured), partner and trusted applications, OWA and the
// Exchange Auth certificate only with Exchange on-premises, the Office 365
// auth server only in a Skype for Business hybrid.
type Deployment struct {
	Lync, Exchange estate.Mode
	Cloud          estate.Cloud
}

// Check is one verifiable seed step, judged on one or more snapshots.
type Check struct {
	Component string `json:"component"`
	Check     string `json:"check"`
	Pass      bool   `json:"pass"`
	// Setting names the cmdlet and property read.
	Setting string `json:"setting"`
	// Explanation says in plain words what the step is for.
	Explanation string `json:"explanation"`
	// Problem says what is wrong; empty when Pass.
	Problem string `json:"problem,omitempty"`
	// Fix is the cmdlet that sets it right.
	Fix      string          `json:"fix"`
	Severity probes.Severity `json:"severity"`
	// Sources are the snapshots judged; Failing those that fail.
	Sources []string `json:"sources"`
	Failing []string `json:"failing,omitempty"`
}

// Exchange and Skype for Business service principals (domain-facts §3).
const (
	exchangeAppID = "00000002-0000-0ff1-ce00-000000000000"
	sfbAppID      = "00000004-0000-0ff1-ce00-000000000000"
)

// ExpectedProxyFqdn is the Exchange Online Access Edge for a cloud (seed
// 002, domain-facts §7); "" where Microsoft documents none (DoD).
func ExpectedProxyFqdn(c estate.Cloud) string { return estate.CloudHosts(c)[estate.HostExap] }

// checker collects the checks of one snapshot.
type checker struct {
	source string
	out    []Check
}

func (c *checker) add(component, name string, pass bool, sev probes.Severity, setting, explanation, problem, fix string) {
	ch := Check{Component: component, Check: name, Pass: pass, Setting: setting, Explanation: explanation, Fix: fix, Severity: sev, Sources: []string{c.source}}
	if !pass {
		ch.Problem, ch.Failing = problem, []string{c.source}
	}
	c.out = append(c.out, ch)
}

func hostOf(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

func eqFold(t Text, s string) bool { return strings.EqualFold(strings.TrimSpace(string(t)), s) }

// exchangeOnlineProvider finds the Exchange Online hosting provider: by its
// ProxyFqdn, else by the identity seed 002 gives it.
func exchangeOnlineProvider(hps []HostingProvider) *HostingProvider {
	for i := range hps {
		f := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(string(hps[i].ProxyFqdn))), ".")
		if estate.CloudOf(estate.HostExap, f) != "" {
			return &hps[i]
		}
	}
	for i := range hps {
		if strings.Contains(strings.ToLower(string(hps[i].Identity)), "exchange online") {
			return &hps[i]
		}
	}
	return nil
}

// sfbChecks judges a Skype for Business snapshot.
func sfbChecks(source string, d *SfBData, dep Deployment, now time.Time, renewDays int, minBuilds map[string]support.Build) []Check {
	if dep.Lync.InCloud() {
		return nil // no on-premises Skype for Business to configure
	}
	c := &checker{source: source}
	var hp *HostingProvider
	if d.HostingProviders != nil {
		hp = exchangeOnlineProvider(d.HostingProviders)
	}
	exchangeOnline := dep.Exchange != estate.OnPrem

	// Seed 002 / 000 step 4: shared SIP address space.
	if len(d.AccessEdgeConfiguration) > 0 && d.AccessEdgeConfiguration[0].AllowFederatedUsers.Known &&
		(exchangeOnline || dep.Lync == estate.Hybrid || hp != nil) {
		c.add(ComponentSfB, "access_edge_allow_federated_users", d.AccessEdgeConfiguration[0].AllowFederatedUsers.Value, probes.Critical,
			"Get-CsAccessEdgeConfiguration AllowFederatedUsers",
			"Users must be allowed to talk to federated domains; the shared SIP address space with Exchange Online (and Skype for Business Online) rides on it.",
			"AllowFederatedUsers is False: the Edge refuses the shared SIP address space, so OWA IM and presence with Exchange Online (and hybrid users) stop working",
			"Set-CsAccessEdgeConfiguration -AllowFederatedUsers $True")
	}

	// Seed 002 / 000 step 5: the Exchange Online hosting provider.
	proxy := ExpectedProxyFqdn(dep.Cloud)
	newHP := fmt.Sprintf(`New-CsHostingProvider -Identity "Exchange Online" -Enabled $True -EnabledSharedAddressSpace $True -HostsOCSUsers $False -ProxyFqdn "%s" -IsLocal $False -VerificationLevel UseSourceVerification`, proxy)
	if d.HostingProviders != nil && hp == nil && exchangeOnline {
		c.add(ComponentSfB, "hosting_provider_present", false, probes.Critical, "Get-CsHostingProvider",
			"Skype for Business trusts Exchange Online's Access Edge only through a hosting provider for it.",
			"no Exchange Online hosting provider: with mailboxes in Exchange Online, OWA cannot sign in to IM and presence", newHP)
	}
	if hp != nil {
		id := string(hp.Identity)
		set := func(prop string) string { return fmt.Sprintf("Set-CsHostingProvider -Identity %q -%s", id, prop) }
		c.add(ComponentSfB, "hosting_provider_present", true, probes.Critical, "Get-CsHostingProvider", "Skype for Business trusts Exchange Online's Access Edge only through a hosting provider for it.", "", newHP)
		type boolProp struct {
			check, prop string
			v           Bool
			want        bool
			why         string
		}
		for _, p := range []boolProp{
			{"hosting_provider_enabled", "Enabled", hp.Enabled, true, "the connection to the hosting provider must be enabled"},
			{"hosting_provider_shared_address_space", "EnabledSharedAddressSpace", hp.EnabledSharedAddressSpace, true, "the hosting provider must be used for the shared SIP address space"},
			{"hosting_provider_hosts_ocs_users", "HostsOCSUsers", hp.HostsOCSUsers, false, "Exchange Online hosts no Skype for Business users, so HostsOCSUsers must be False"},
			{"hosting_provider_is_local", "IsLocal", hp.IsLocal, false, "Exchange Online's proxy is not in your topology, so IsLocal must be False"},
		} {
			if !p.v.Known {
				continue
			}
			c.add(ComponentSfB, p.check, p.v.Value == p.want, probes.Critical, "Get-CsHostingProvider "+p.prop,
				"Seed 002: "+p.why+".",
				fmt.Sprintf("hosting provider %q has %s=%v, want %v: %s", id, p.prop, p.v.Value, p.want, p.why),
				set(fmt.Sprintf("%s $%v", p.prop, p.want)))
		}
		if vl := hp.VerificationLevel; vl != "" && !vl.Numeric() {
			c.add(ComponentSfB, "hosting_provider_verification_level", eqFold(vl, "UseSourceVerification"), probes.Critical,
				"Get-CsHostingProvider VerificationLevel",
				"Seed 002: messages from Exchange Online carry their own verification level; UseSourceVerification accepts them, anything else rejects them as unverifiable.",
				fmt.Sprintf("hosting provider %q has VerificationLevel=%s, want UseSourceVerification", id, clipText(string(vl), 40)),
				set("VerificationLevel UseSourceVerification"))
		}
		if proxy != "" && hp.ProxyFqdn != "" {
			got := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(string(hp.ProxyFqdn))), ".")
			c.add(ComponentSfB, "hosting_provider_proxy_fqdn", got == proxy, probes.Critical,
				"Get-CsHostingProvider ProxyFqdn",
				"Seed 002: ProxyFqdn is the Exchange Online Access Edge the Edge trusts ("+proxy+" in the "+string(dep.Cloud)+" cloud, SFBEX_CLOUD).",
				fmt.Sprintf("hosting provider %q has ProxyFqdn=%s, want %s", id, clipText(got, 80), proxy),
				set(fmt.Sprintf("ProxyFqdn %q", proxy)))
		}
	}

	if dep.Exchange != estate.Online {
		// Seed 003: Skype for Business finds Exchange through autodiscover.svc.
		if len(d.OAuthConfiguration) > 0 {
			u := strings.TrimSpace(string(d.OAuthConfiguration[0].ExchangeAutodiscoverUrl))
			pass := strings.HasSuffix(strings.ToLower(strings.SplitN(u, "?", 2)[0]), "/autodiscover/autodiscover.svc")
			problem := fmt.Sprintf("ExchangeAutodiscoverUrl is %q, not the autodiscover service (…/autodiscover/autodiscover.svc)", clipText(u, 120))
			if u == "" {
				problem = "ExchangeAutodiscoverUrl is empty: Skype for Business cannot find Exchange for server-to-server authentication"
			} else if strings.HasSuffix(strings.ToLower(u), ".xml") {
				problem = fmt.Sprintf("ExchangeAutodiscoverUrl %q points at the XML file autodiscover.xml instead of the service autodiscover.svc", clipText(u, 120))
			}
			c.add(ComponentSfB, "oauth_exchange_autodiscover_url", pass, probes.Warning,
				"Get-CsOAuthConfiguration ExchangeAutodiscoverUrl",
				"Seed 003: Skype for Business locates Exchange for server-to-server authentication (conversation history, UCS, meetings in OWA) through the autodiscover service, autodiscover.svc.",
				problem, `Set-CsOAuthConfiguration -ExchangeAutodiscoverUrl "https://autodiscover.<domain>/autodiscover/autodiscover.svc"`)
		}
		// Seed 001 step 4: Exchange as a partner application.
		if d.PartnerApplications != nil {
			found, enabled := false, false
			for _, a := range d.PartnerApplications {
				if eqFold(a.ApplicationIdentifier, exchangeAppID) || eqFold(a.Identity, "Exchange") ||
					strings.Contains(strings.ToLower(string(a.MetadataUrl)), "/autodiscover/metadata/json/1") {
					found = true
					enabled = enabled || !a.Enabled.Known || a.Enabled.Value
				}
			}
			problem := "Exchange is not a partner application: Skype for Business rejects Exchange's server-to-server tokens (archiving, UCS, OWA meetings)"
			if found {
				problem = "the Exchange partner application is disabled"
			}
			c.add(ComponentSfB, "partner_application_exchange", found && enabled, probes.Warning,
				"Get-CsPartnerApplication",
				"Seed 001 step 4: Skype for Business and Exchange must each list the other as a partner application for OAuth.",
				problem, `New-CsPartnerApplication -Identity Exchange -ApplicationTrustLevel Full -MetadataUrl "https://autodiscover.<domain>/autodiscover/metadata/json/1"`)
		}
		// Seed 001 step 5: OWA as a trusted application.
		if d.TrustedApplications != nil {
			found := slices.ContainsFunc(d.TrustedApplications, func(a TrustedApp) bool {
				return strings.Contains(strings.ToLower(string(a.ApplicationId)+" "+string(a.Identity)), "outlookwebapp")
			})
			c.add(ComponentSfB, "trusted_application_owa", found, probes.Warning,
				"Get-CsTrustedApplication",
				"Seed 001 step 5: Outlook Web App must be a trusted application so that OWA can sign users in to IM and presence.",
				"Outlook Web App is not a trusted application: OWA cannot connect to Skype for Business for IM and presence",
				"New-CsTrustedApplicationPool -Identity <mail server FQDN> -Registrar <pool FQDN> -Site <site> -RequiresReplication $False; New-CsTrustedApplication -ApplicationId OutlookWebApp -TrustedApplicationPoolFqdn <mail server FQDN> -Port 5199; Enable-CsTopology")
		}
	}

	// Seed 000 step 7 / 001 step 6: hybrid trusts the Office 365 auth service.
	if dep.Lync == estate.Hybrid && d.OAuthServers != nil {
		found := slices.ContainsFunc(d.OAuthServers, func(s OAuthServer) bool {
			return strings.HasPrefix(hostOf(string(s.MetadataUrl)), "accounts.accesscontrol.")
		})
		c.add(ComponentSfB, "oauth_server_office365", found, probes.Warning,
			"Get-CsOAuthServer",
			"Seed 000 step 7: in a hybrid deployment Skype for Business must trust the Office 365 authentication service, so that Exchange Online can schedule online meetings.",
			"no OAuth server with the Office 365 metadata URL (https://accounts.accesscontrol.…/<tenant>/metadata/json/1): Skype for Business does not trust connections from Exchange Online",
			`New-CsOAuthServer -Identity microsoft.sts -MetadataUrl "https://accounts.accesscontrol.windows.net/<tenant>/metadata/json/1"`)
	}
	if d.HostingProviders != nil {
		teamsProvider(c, d.HostingProviders, dep)
	}
	// The tenant's side of the shared SIP address space (Teams part of
	// the snapshot, when the script was given a tenant).
	if tf := d.TenantFederationConfiguration; dep.Lync == estate.Hybrid && len(tf) > 0 && tf[0].SharedSipAddressSpace.Known {
		c.add(ComponentSfB, "tenant_shared_sip_address_space", tf[0].SharedSipAddressSpace.Value, probes.Critical,
			"Get-CsTenantFederationConfiguration SharedSipAddressSpace",
			"A hybrid with Teams shares the SIP domains between the users on-premises and those in Microsoft 365; the tenant must say so too, not only the on-premises hosting provider (\"configure federation with Skype for Business Online\").",
			"the Teams tenant has SharedSipAddressSpace=False: Microsoft 365 treats the shared SIP domains as its own, so users moved to Teams and users on-premises cannot reach each other",
			"Set-CsTenantFederationConfiguration -SharedSipAddressSpace $true (Microsoft Teams PowerShell)")
	}
	if v, ok := sfbVersion(d); ok && v.known {
		versionChecks(c, v, now, minBuilds, exchangeOnline || dep.Lync == estate.Hybrid)
	}
	tokenIssuerRoll(c, d.OAuthTokenIssuerCertificates, now, renewDays)
	return c.out
}

// versionChecks judges a Front End's build against the lifecycle table
// (docs/lifecycle.md): in support, and, where Skype for Business Server
// reaches Exchange Online (mailboxes there, or a hybrid), at or above the
// minimum build for the dedicated hybrid application (KB5065372, a
// secondary source: SFBEX_SFB_HYBRID_APP_MIN_BUILDS). Whether the
// application is configured is not checked: Microsoft documents nothing
// the Skype for Business cmdlets show of it.
func versionChecks(c *checker, v SfBVersion, now time.Time, minBuilds map[string]support.Build, exchangeOnline bool) {
	p := v.product
	end := ""
	if !p.EndOfSupport.IsZero() {
		end = p.EndOfSupport.Format("2006-01-02")
	}
	c.add(ComponentSfB, "server_supported", p.Supported(now), probes.Warning,
		"Get-CsServerPatchVersion, Get-CsServerVersion",
		"Microsoft supports Skype for Business Server 2015 and 2019 until 2025-10-14 and Lync Server 2013 until 2023-04-11; Subscription Edition is supported while it gets updates (docs/lifecycle.md).",
		fmt.Sprintf("the server runs %s (build %s), out of support since %s: no security updates or fixes", p.Name, v.Build, end),
		"Move to Skype for Business Server Subscription Edition (an in-place upgrade from 2019, side by side from 2015 and Lync Server 2013), then install its latest cumulative update")
	if !exchangeOnline {
		return
	}
	min, ok := minBuilds[p.ID]
	problem := fmt.Sprintf("the server runs %s build %s, older than %s, the first build that can use a dedicated hybrid application: Skype for Business Server cannot reach Exchange Online (archiving, calendar presence, contact photos) since the shared service principal was blocked", p.Name, v.Build, min)
	if !ok {
		problem = fmt.Sprintf("the server runs %s (build %s), for which no build can use a dedicated hybrid application: Skype for Business Server cannot reach Exchange Online since the shared service principal was blocked", p.Name, v.Build)
	}
	c.add(ComponentSfB, "hybrid_app_minimum_build", ok && !v.build.Less(min), probes.Critical,
		"Get-CsServerPatchVersion",
		"Skype for Business Server reaches Exchange Online through its own Entra application since the August 2025 hotfixes (KB5065372; deadline 2025-10-15), which need at least 6.0.9319.881 (2015), 7.0.2046.553 (2019) or 7.0.2046.820 (Subscription Edition) (SFBEX_SFB_HYBRID_APP_MIN_BUILDS).",
		problem,
		"Install the latest cumulative update on every server of the pool (SkypeServerUpdateInstaller.exe), then run ConfigureSkypeforBusinessHybridApplication.ps1 as the KB describes")
}

// teamsProvider judges the hosting provider to Microsoft 365 of a hybrid
// with Teams (domain-facts §7, "configure federation with Skype for
// Business Online"), found by its ProxyFqdn (sipfed.… of any cloud): it
// hosts users, shares the SIP address space and points its autodiscover
// at webdir. Its expectations differ from the Exchange Online provider's
// (HostsOCSUsers $false): each is judged against its own.
func teamsProvider(c *checker, hps []HostingProvider, dep Deployment) {
	hosts := estate.CloudHosts(dep.Cloud)
	var hp *HostingProvider
	for i := range hps {
		f := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(string(hps[i].ProxyFqdn))), ".")
		if estate.CloudOf(estate.HostSIPFed, f) != "" {
			hp = &hps[i]
		}
	}
	newHP := fmt.Sprintf(`New-CsHostingProvider -Identity LyncOnline -Enabled $True -EnabledSharedAddressSpace $True -HostsOCSUsers $True -ProxyFqdn "%s" -IsLocal $False -VerificationLevel UseSourceVerification -AutodiscoverUrl https://%s/Autodiscover/AutodiscoverService.svc/root`,
		hosts[estate.HostSIPFed], hosts[estate.HostLyncdiscover])
	if hp == nil {
		if dep.Lync == estate.Hybrid {
			c.add(ComponentSfB, "teams_provider_present", false, probes.Critical, "Get-CsHostingProvider",
				"A hybrid with Teams shares the SIP address space with Microsoft 365 through a hosting provider whose ProxyFqdn is "+hosts[estate.HostSIPFed]+".",
				"no hosting provider with ProxyFqdn "+hosts[estate.HostSIPFed]+": users moved to Teams cannot talk to users on-premises", newHP)
		}
		return
	}
	id := string(hp.Identity)
	set := func(prop string) string { return fmt.Sprintf("Set-CsHostingProvider -Identity %q -%s", id, prop) }
	c.add(ComponentSfB, "teams_provider_present", true, probes.Critical, "Get-CsHostingProvider", "The hosting provider to Microsoft 365 of a hybrid with Teams.", "", newHP)
	for _, p := range []struct {
		check, prop string
		v           Bool
		why         string
	}{
		{"teams_provider_enabled", "Enabled", hp.Enabled, "the connection to Microsoft 365 must be enabled"},
		{"teams_provider_shared_address_space", "EnabledSharedAddressSpace", hp.EnabledSharedAddressSpace, "users on-premises and in Teams share the SIP domains"},
		{"teams_provider_hosts_ocs_users", "HostsOCSUsers", hp.HostsOCSUsers, "Microsoft 365 hosts the users moved to Teams, so HostsOCSUsers must be True (unlike the Exchange Online provider)"},
	} {
		if p.v.Known {
			c.add(ComponentSfB, p.check, p.v.Value, probes.Critical, "Get-CsHostingProvider "+p.prop,
				"Hybrid with Teams: "+p.why+".",
				fmt.Sprintf("hosting provider %q (ProxyFqdn %s) has %s=False: %s", id, clipText(string(hp.ProxyFqdn), 80), p.prop, p.why),
				set(p.prop+" $True"))
		}
	}
	got := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(string(hp.ProxyFqdn))), ".")
	c.add(ComponentSfB, "teams_provider_proxy_fqdn", got == hosts[estate.HostSIPFed], probes.Critical, "Get-CsHostingProvider ProxyFqdn",
		"The Microsoft 365 federation edge of the "+string(dep.Cloud)+" cloud (SFBEX_CLOUD) is "+hosts[estate.HostSIPFed]+".",
		fmt.Sprintf("hosting provider %q has ProxyFqdn=%s, the edge of the %s cloud, want %s", id, clipText(got, 80), estate.CloudOf(estate.HostSIPFed, got), hosts[estate.HostSIPFed]),
		set(fmt.Sprintf("ProxyFqdn %q", hosts[estate.HostSIPFed])))
	if u := strings.TrimSpace(string(hp.AutodiscoverUrl)); u != "" {
		want := "https://" + hosts[estate.HostLyncdiscover] + "/Autodiscover/AutodiscoverService.svc/root"
		c.add(ComponentSfB, "teams_provider_autodiscover_url", strings.EqualFold(u, want), probes.Warning, "Get-CsHostingProvider AutodiscoverUrl",
			"Clients of users moved to Teams are sent to Microsoft 365's autodiscover, "+want+".",
			fmt.Sprintf("hosting provider %q has AutodiscoverUrl=%s, want %s", id, clipText(u, 120), want),
			set("AutodiscoverUrl "+want))
	}
}

// tokenIssuerCerts picks the current OAuthTokenIssuer certificate (the
// one that expires first) and the staged roll (a later one), if any.
func tokenIssuerCerts(certs []Certificate) (cur, next *Certificate) {
	for i := range certs {
		x := &certs[i]
		if x.NotAfter.IsZero() || x.NotAfter.Unknown() {
			continue
		}
		if cur == nil || x.NotAfter.Before(cur.NotAfter.Time) {
			cur = x
		}
	}
	if cur == nil {
		return nil, nil
	}
	for i := range certs {
		if x := &certs[i]; x != cur && !x.NotAfter.Unknown() && x.NotAfter.After(cur.NotAfter.Time) {
			next = x
		}
	}
	return cur, next
}

// rollLeadTime is how long before the current OAuthTokenIssuer certificate
// expires the rolled one must take effect at the latest (Learn "stage AV
// and OAuth certificates"): Exchange keeps tokens longer than the A/V
// Edge's 8 hours.
const rollLeadTime = 24 * time.Hour

// tokenIssuerRoll judges the OAuthTokenIssuer certificate of one Front End
// (domain-facts §7, Learn "stage AV and OAuth certificates"): inside the
// renewal window (SFBEX_OAUTH_RENEW_DAYS, the Exchange Auth certificate's
// 60 days) a rolled certificate must be staged with Set-CsCertificate
// -Roll, and a staged one must take effect (EffectiveDate) at least 24
// hours before the current one expires, whenever it was staged. The
// snapshot lists the certificates Get-CsCertificate shows; a second one
// that outlives the current one is the staged roll. A roll without a
// readable EffectiveDate (scripts before 1.2.0) counts as staged in time.
func tokenIssuerRoll(c *checker, certs []Certificate, now time.Time, renewDays int) {
	cur, next := tokenIssuerCerts(certs)
	if cur == nil {
		return
	}
	left := cur.NotAfter.Sub(now)
	days := int(math.Floor(left.Hours() / 24))
	latest := cur.NotAfter.Add(-rollLeadTime)
	late := next != nil && !next.EffectiveDate.IsZero() && next.EffectiveDate.After(latest)
	pass := (next != nil && !late) || (next == nil && days > renewDays)
	sev := probes.Warning
	if left < 48*time.Hour {
		sev = probes.Critical // the roll must be staged 24 h ahead: the time is up
	}
	problem := fmt.Sprintf("the OAuthTokenIssuer certificate %s expires in %s (%s) and no rolled certificate is staged: when it expires, server-to-server authentication with Exchange (conversation history, UCS, OWA IM) and Microsoft 365 fails",
		clipText(string(cur.Thumbprint), 40), plural.Count(days, "day", "days"), cur.NotAfter.UTC().Format("2006-01-02"))
	switch {
	case late:
		problem = fmt.Sprintf("the rolled OAuthTokenIssuer certificate %s takes effect on %s, later than 24 hours before the current one %s expires (%s): Exchange still holds tokens signed with the old certificate when it expires, and server-to-server authentication fails until they are renewed",
			clipText(string(next.Thumbprint), 40), next.EffectiveDate.UTC().Format("2006-01-02 15:04 MST"), clipText(string(cur.Thumbprint), 40), cur.NotAfter.UTC().Format("2006-01-02 15:04 MST"))
	case days < 0:
		problem = fmt.Sprintf("the OAuthTokenIssuer certificate %s expired on %s and no other is staged: server-to-server authentication fails",
			clipText(string(cur.Thumbprint), 40), cur.NotAfter.UTC().Format("2006-01-02"))
	}
	c.add(ComponentSfB, "oauth_token_issuer_roll_staged", pass, sev,
		"Get-CsCertificate -Type OAuthTokenIssuer",
		fmt.Sprintf("Skype for Business signs server-to-server tokens with the OAuthTokenIssuer certificate; inside %d days of its expiry (SFBEX_OAUTH_RENEW_DAYS) a new one must be staged with Set-CsCertificate -Roll, taking effect (-EffectiveDate) at least 24 hours before the current one expires, on every Front End.", renewDays),
		problem,
		`Request-CsCertificate -New -Type OAuthTokenIssuer …; Set-CsCertificate -Type OAuthTokenIssuer -Thumbprint <new thumbprint> -Roll -EffectiveDate <at least 24 hours before the current certificate's NotAfter>`)
}

// exchangeChecks judges an Exchange snapshot.
func exchangeChecks(source string, d *ExchangeData, dep Deployment, now time.Time, renewDays int) []Check {
	if dep.Exchange == estate.Online || dep.Lync.InCloud() {
		return nil // seed 001 steps 4–5 apply to Exchange and Skype for Business on-premises
	}
	c := &checker{source: source}
	if d.PartnerApplications != nil {
		found, enabled := false, false
		for _, a := range d.PartnerApplications {
			n := strings.ToLower(string(a.Name))
			if eqFold(a.ApplicationIdentifier, sfbAppID) || strings.HasPrefix(n, "lyncenterprise") || strings.Contains(n, "skype") {
				found = true
				enabled = enabled || !a.Enabled.Known || a.Enabled.Value
			}
		}
		problem := "Skype for Business is not a partner application in Exchange: Exchange rejects its server-to-server tokens (archiving, UCS, high-resolution photos)"
		if found {
			problem = "the Skype for Business partner application is disabled in Exchange"
		}
		c.add(ComponentExchange, "partner_application_sfb", found && enabled, probes.Warning,
			"Get-PartnerApplication",
			"Seed 001 step 4: Exchange and Skype for Business must each list the other as a partner application for OAuth.",
			problem, `& "$env:ExchangeInstallPath\Scripts\Configure-EnterprisePartnerApplication.ps1" -AuthMetadataUrl "https://<pool FQDN>/metadata/json/1" -ApplicationType Lync`)
	}
	// Seed 001 step 5: OWA IM through Skype for Business (OCS).
	var offIM, wrongType []string
	var sawIM, sawType bool
	for _, v := range d.OwaVirtualDirectories {
		id := clipText(string(v.Identity), 80)
		if v.InstantMessagingEnabled.Known {
			sawIM = true
			if !v.InstantMessagingEnabled.Value {
				offIM = append(offIM, id)
			}
		}
		if t := v.InstantMessagingType; t != "" && !t.Numeric() {
			sawType = true
			if !eqFold(t, "Ocs") {
				wrongType = append(wrongType, fmt.Sprintf("%s (%s)", id, clipText(string(t), 20)))
			}
		}
	}
	if sawIM {
		c.add(ComponentExchange, "owa_im_enabled", len(offIM) == 0, probes.Warning,
			"Get-OwaVirtualDirectory InstantMessagingEnabled",
			"Seed 001 step 5: OWA shows IM and presence only where its virtual directory has instant messaging enabled.",
			"instant messaging is off on "+strings.Join(offIM, ", ")+": OWA users get no IM or presence",
			`Set-OwaVirtualDirectory -Identity "<server>\owa (Default Web Site)" -InstantMessagingEnabled $True -InstantMessagingType OCS`)
	}
	if sawType {
		c.add(ComponentExchange, "owa_im_type_ocs", len(wrongType) == 0, probes.Warning,
			"Get-OwaVirtualDirectory InstantMessagingType",
			"Seed 001 step 5: OWA talks to Skype for Business only with InstantMessagingType OCS.",
			"InstantMessagingType is not OCS on "+strings.Join(wrongType, ", "),
			`Set-OwaVirtualDirectory -Identity "<server>\owa (Default Web Site)" -InstantMessagingType OCS`)
	}
	if v, ok := exchangeVersion(d); ok && v.known {
		exchangeSupported(c, v, now)
	}
	// Domain facts §3: the next Exchange Auth certificate must be staged
	// before the current one expires; outside the renewal window a missing
	// next certificate is normal.
	if len(d.AuthConfig) > 0 && d.AuthCertificates != nil {
		ac := d.AuthConfig[0]
		var cur *Certificate
		for i := range d.AuthCertificates {
			if ac.CurrentCertificateThumbprint != "" && eqFold(d.AuthCertificates[i].Thumbprint, string(ac.CurrentCertificateThumbprint)) {
				cur = &d.AuthCertificates[i]
			}
		}
		// An unreadable NextCertificateEffectiveDate is unknown, not "not
		// staged": the check is left out and the date is a field error.
		if cur != nil && !cur.NotAfter.IsZero() && !ac.NextCertificateEffectiveDate.Unknown() {
			left := cur.NotAfter.Sub(now)
			staged := strings.TrimSpace(string(ac.NextCertificateThumbprint)) != "" && !ac.NextCertificateEffectiveDate.IsZero()
			inTime := staged && ac.NextCertificateEffectiveDate.Before(cur.NotAfter.Time)
			pass := inTime || (!staged && left > time.Duration(renewDays)*24*time.Hour)
			days := int(left.Hours() / 24)
			problem := fmt.Sprintf("the current Exchange Auth certificate expires in %s (%s) and no next certificate is staged: when it expires, OWA sign-in loops and server-to-server authentication with Skype for Business fails", plural.Count(days, "day", "days"), cur.NotAfter.Format("2006-01-02"))
			if staged && !inTime {
				problem = fmt.Sprintf("the next Exchange Auth certificate takes effect on %s, after the current one expires (%s): there will be a gap", ac.NextCertificateEffectiveDate.Format("2006-01-02"), cur.NotAfter.Format("2006-01-02"))
			}
			c.add(ComponentExchange, "auth_next_certificate_staged", pass, probes.Warning,
				"Get-AuthConfig NextCertificateThumbprint, NextCertificateEffectiveDate",
				fmt.Sprintf("Exchange signs server-to-server tokens with the Auth certificate; a next certificate must be staged (Set-AuthConfig -NewCertificateThumbprint) before the current one expires, at the latest %d days before (SFBEX_OAUTH_RENEW_DAYS).", renewDays),
				problem,
				`New-ExchangeCertificate -KeySize 2048 -PrivateKeyExportable $true -SubjectName "cn=Microsoft Exchange Server Auth Certificate" -FriendlyName "Microsoft Exchange Server Auth Certificate" -DomainName @(); Set-AuthConfig -NewCertificateThumbprint <thumbprint> -NewCertificateEffectiveDate (Get-Date).AddDays(2)`)
		}
	}
	return c.out
}

// exchangeSupported judges an Exchange server's build against the
// lifecycle table (docs/lifecycle.md). A build read from
// AdminDisplayVersion is the cumulative update's, which names the product
// as well as the exact build does.
func exchangeSupported(c *checker, v ExchangeVersion, now time.Time) {
	p := v.product
	end := ""
	if !p.EndOfSupport.IsZero() {
		end = p.EndOfSupport.Format("2006-01-02")
	}
	c.add(ComponentExchange, "server_supported", p.Supported(now), probes.Warning,
		"Get-ExchangeServer AdminDisplayVersion, ExSetup.exe FileVersion",
		"Microsoft supports Exchange Server 2016 and 2019 until 2025-10-14 and Exchange Server 2013 until 2023-04-11; Subscription Edition is supported while it gets updates (docs/lifecycle.md).",
		fmt.Sprintf("the server runs %s (build %s), out of support since %s: no security updates or fixes", p.Name, v.Build, end),
		"Move to Exchange Server Subscription Edition (in place from Exchange Server 2019 CU14 or later, side by side from earlier versions), then install its latest cumulative and security updates")
}

// mergeChecks folds the checks of several snapshots into one per
// component and check: it passes only where every snapshot passes.
func mergeChecks(in []Check) []Check {
	var out []Check
	idx := map[[2]string]int{}
	for _, c := range in {
		k := [2]string{c.Component, c.Check}
		i, ok := idx[k]
		if !ok {
			idx[k] = len(out)
			c.Sources, c.Failing = slices.Clone(c.Sources), slices.Clone(c.Failing)
			out = append(out, c)
			continue
		}
		m := &out[i]
		m.Sources = append(m.Sources, c.Sources...)
		m.Failing = append(m.Failing, c.Failing...)
		if m.Pass && !c.Pass {
			m.Pass, m.Problem = false, c.Problem
		}
	}
	slices.SortFunc(out, func(a, b Check) int {
		return strings.Compare(a.Component+"/"+a.Check, b.Component+"/"+b.Check)
	})
	return out
}
