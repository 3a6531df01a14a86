package lab

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// The CMS part of the lab (probes/cms): a feed that writes, every lab
// interval, the snapshot a Front End's scheduled export would write under
// Windows PowerShell 5.1 and the one an Exchange server's would write under
// PowerShell 7, in the script's shape (UTF-8 without BOM, CRLF, dates as
// invariant round-trip text in UTC, arrays kept; the byte-exact layouts
// are in probes/cms/testdata). The healthy lab passes every integration
// check; each settings fault turns exactly its own check red.

// cmsFeed writes the lab's snapshots.
type cmsFeed struct {
	dir      string
	mu       sync.Mutex
	interval time.Duration
	reset    chan time.Duration
	stopped  bool // cms-snapshot-stale: the feed has written its last files
}

func (l *Lab) startCMS(tmp string) error {
	dir, release, err := claimCMSDir(cmsRoot(), tmp)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.closers = append(l.closers, release)
	l.mu.Unlock()
	f := &cmsFeed{dir: dir, interval: 15 * time.Second, reset: make(chan time.Duration, 1)}
	l.cms = f
	if err := f.write(l, time.Now()); err != nil {
		return err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(f.interval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case d := <-f.reset:
				t.Reset(d)
			case now := <-t.C:
				_ = f.write(l, now)
			}
		}
	}()
	l.onChange(func() { _ = f.write(l, time.Now()) })
	l.mu.Lock()
	l.closers = append(l.closers, func() { close(stop); <-done })
	l.mu.Unlock()
	return nil
}

// cmsEnv points the agent at the feed and sets short thresholds, so the
// replication and staleness faults show within a lab interval.
func (l *Lab) cmsEnv(interval time.Duration) map[string]string {
	if l.cms == nil {
		return nil
	}
	select {
	case l.cms.reset <- interval:
	default:
	}
	return map[string]string{
		// The lab's dedicated Skype for Business and Exchange hybrid
		// applications, and the user agent its EWS requests carry.
		"SFBEX_EXO_EWS_REQUIRED_APP_IDS": labSfBHybridAppID + "," + labExchangeHybridAppID,
		"SFBEX_EXO_EWS_USER_AGENTS":      labEWSUserAgent,
		"SFBEX_CMS_SNAPSHOT_PATH":        l.cms.dir,
		"SFBEX_CMS_INTERVAL":             interval.String(),
		"SFBEX_CMS_TIMEOUT":              min(interval, 10*time.Second).String(),
		"SFBEX_CMS_SNAPSHOT_MAX_AGE":     (3 * interval).String(),
		"SFBEX_CMS_REPLICA_STALE_AFTER":  "1m",
	}
}

// CMSSnapshotDir is where the lab's feed writes.
func (l *Lab) CMSSnapshotDir() string { return l.cms.dir }

// The lab's Entra applications (Learn's example IDs) and user agent.
const (
	labSfBHybridAppID      = "11111111-2222-3333-4444-555555555555"
	labExchangeHybridAppID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	labEWSUserAgent        = "LabSfBServer/7.0"
)

// exchangeEnvironment is Connect-ExchangeOnline's -ExchangeEnvironmentName
// for a cloud.
var exchangeEnvironment = map[estate.Cloud]string{estate.Worldwide: "O365Default", estate.GCCHigh: "O365USGovGCCHigh", estate.DoD: "O365USGovDoD", estate.China: "O365China"}

// exchangeOnline is the Exchange Online part of the Exchange snapshot,
// where the integration uses Exchange Online mailboxes (the lifecycle
// family's EWS dependencies); nil elsewhere, as the script writes none
// without its Exchange Online parameters.
func (l *Lab) exchangeOnline() map[string]any {
	if sfb, hybrid := estate.EWSOnline(l.variant.lync(), l.variant.exchange()); !sfb && !hybrid {
		return nil
	}
	var enabled any = true
	if l.On("exo-ews-disabled") {
		enabled = nil
	}
	allow := []any{"OWA/*", "LabSfBServer/*"}
	if l.On("exo-ews-user-agent-blocked") {
		allow = []any{"OWA/*"}
	}
	ids := labSfBHybridAppID + "," + labExchangeHybridAppID
	if l.On("exo-ews-app-not-allowed") {
		ids = labExchangeHybridAppID
	}
	return map[string]any{
		"Organization": "contoso.onmicrosoft.com", "Environment": exchangeEnvironment[l.variant.Cloud],
		"OrganizationConfig":       []any{map[string]any{"EwsApplicationAccessPolicy": "EnforceAllowList", "EwsEnabled": enabled, "EwsAllowList": allow, "EwsBlockList": []any{}}},
		"EwsOperationAccessPolicy": []any{map[string]any{"EwsAllowedAppIDs": []any{ids}}},
	}
}

// settingOverrides: an Exchange hybrid has switched its dedicated
// application on (Learn "deploy dedicated Exchange hybrid app").
func (l *Lab) settingOverrides() []any {
	if l.variant.exchange() != estate.Hybrid || l.On("exchange-hybrid-app-shared") {
		return []any{}
	}
	return []any{map[string]any{"Name": "EnableExchangeHybrid3PAppFeature", "ComponentName": "Global", "SectionName": "ExchangeOnpremAsThirdPartyAppId",
		"Parameters": []any{"Enabled=true"}, "Server": []any{}}}
}

// psDate is a date the two shells write differently.
type psDate time.Time

// write renders both snapshots as of now. With cms-snapshot-stale the
// feed has stopped: it leaves the files it last wrote, dated an hour back.
func (f *cmsFeed) write(l *Lab, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if l.On("cms-snapshot-stale") {
		if _, err := os.Stat(filepath.Join(f.dir, "sfb-fe01.contoso.test.json")); err == nil && f.stopped {
			return nil
		}
		f.stopped = true
		now = now.Add(-time.Hour)
	} else {
		f.stopped = false
	}
	fe, ex := labSnapshots(l, now)
	if err := writeAtomic(f.dir, "sfb-fe01.contoso.test.json", renderPS51(fe)); err != nil {
		return err
	}
	return writeAtomic(f.dir, "exchange-ex01.contoso.test.json", renderPS7(ex))
}

func labSnapshots(l *Lab, now time.Time) (fe, ex map[string]any) {
	d := Domain
	edgeUpToDate, edgeUpdate := true, now.Add(-2*time.Minute)
	if l.On("cms-replica-stale") {
		// An update created ten minutes ago has not reached the Edge.
		edgeUpToDate, edgeUpdate = false, now.Add(-10*time.Minute)
	}
	proxy := l.onlineHost(estate.HostExap)
	if l.On("hosting-provider-wrong-cloud") { // another cloud's Access Edge, as after a tenant moved clouds
		proxy = estate.CloudHosts(estate.GCCHigh)[estate.HostExap]
		if l.variant.Cloud == estate.GCCHigh || l.variant.Cloud == estate.DoD {
			proxy = estate.CloudHosts(estate.Worldwide)[estate.HostExap]
		}
	}
	hp := map[string]any{"Identity": "Exchange Online", "Enabled": true, "EnabledSharedAddressSpace": !l.On("hosting-provider-wrong"),
		"HostsOCSUsers": false, "ProxyFqdn": proxy, "IsLocal": false, "VerificationLevel": "UseSourceVerification"}
	// The hybrid with Teams: the provider to Microsoft 365 hosts users.
	teams := map[string]any{"Identity": "LyncOnline", "Enabled": true, "EnabledSharedAddressSpace": true, "HostsOCSUsers": !l.On("teams-provider-wrong"),
		"ProxyFqdn": l.onlineHost(estate.HostSIPFed), "IsLocal": false, "VerificationLevel": "UseSourceVerification",
		"AutodiscoverUrl": "https://" + l.onlineHost(estate.HostLyncdiscover) + "/Autodiscover/AutodiscoverService.svc/root"}
	autodiscover := "https://autodiscover." + d + "/autodiscover/autodiscover.svc"
	if l.On("oauth-autodiscover-xml") {
		autodiscover = "https://autodiscover." + d + "/autodiscover/autodiscover.xml"
	}
	// The OAuthTokenIssuer certificate: a year left, or 20 days with no
	// rolled certificate staged.
	tokenIssuerNotAfter := now.AddDate(1, 0, 0)
	if l.On("sfb-oauth-roll-missing") {
		tokenIssuerNotAfter = now.AddDate(0, 0, 20)
	}
	// The Front End runs Subscription Edition RTM, at the dedicated hybrid
	// application's minimum (KB5065372), in support.
	product, build := "Skype for Business Server Subscription Edition", "7.0.2046.820"
	switch {
	case l.On("sfb-out-of-support"): // at the hybrid app's minimum, out of support since 2025-10-14
		product, build = "Skype for Business Server 2015", "6.0.9319.881"
	case l.On("sfb-hybrid-app-build-too-old"): // below 7.0.2046.553
		product, build = "Skype for Business Server 2019", "7.0.2046.530"
	}
	release := map[string]string{"Skype for Business Server 2015": "6.0.9319.0"}[product]
	if release == "" {
		release = "7.0.2046.0"
	}
	tokenIssuer := []any{map[string]any{"Thumbprint": "3A5E0E0B1C4F6A0D9E2B7C1A0F5E4D3C2B1A0F9E", "Subject": "CN=" + d, "NotAfter": psDate(tokenIssuerNotAfter), "Use": "OAuthTokenIssuer", "EffectiveDate": nil}}
	if l.On("oauth-roll-late") {
		// 20 days left, a roll staged to take effect 12 hours before the
		// current certificate expires: inside the last 24 hours.
		cur := now.AddDate(0, 0, 20)
		tokenIssuer = []any{
			map[string]any{"Thumbprint": "3A5E0E0B1C4F6A0D9E2B7C1A0F5E4D3C2B1A0F9E", "Subject": "CN=" + d, "NotAfter": psDate(cur), "Use": "OAuthTokenIssuer", "EffectiveDate": nil},
			map[string]any{"Thumbprint": "7C2B4E1D9A8F6B3C5D0E2F4A6B8C0D1E3F5A7B9C", "Subject": "CN=" + d, "NotAfter": psDate(now.AddDate(2, 0, 0)), "Use": "OAuthTokenIssuer", "EffectiveDate": psDate(cur.Add(-12 * time.Hour))},
		}
	}
	partners := []any{}
	if !l.On("partner-app-missing") {
		partners = append(partners, map[string]any{"Identity": "Exchange", "ApplicationIdentifier": "00000002-0000-0ff1-ce00-000000000000",
			"MetadataUrl": "https://autodiscover." + d + "/autodiscover/metadata/json/1", "Enabled": true})
	}
	fe = map[string]any{
		"SnapshotVersion": "1", "ScriptVersion": "1.2.0", "Culture": "en-US", "Timestamp": psDate(now), "ComputerName": "FE01", "ComputerFqdn": "fe01." + d,
		"Shell": "SkypeForBusiness", "PSVersion": "5.1.17763.5830", "PSEdition": "Desktop", "Errors": []any{},
		"SkypeForBusiness": map[string]any{
			"ReplicationStatus": []any{
				map[string]any{"ReplicaFqdn": "pool01." + d, "UpToDate": true, "LastUpdateCreation": psDate(now.Add(-2 * time.Minute)), "LastStatusReport": psDate(now.Add(-time.Minute)), "ProductVersion": "7.0.2046.0"},
				map[string]any{"ReplicaFqdn": "edge01." + d, "UpToDate": edgeUpToDate, "LastUpdateCreation": psDate(edgeUpdate), "LastStatusReport": psDate(now.Add(-90 * time.Second)), "ProductVersion": "7.0.2046.0"},
			},
			"HostingProviders":             []any{hp, teams},
			"AccessEdgeConfiguration":      []any{map[string]any{"Identity": "Global", "AllowFederatedUsers": !l.On("federation-disabled")}},
			"OAuthConfiguration":           []any{map[string]any{"Identity": "Global", "ExchangeAutodiscoverUrl": autodiscover, "Realm": d}},
			"PartnerApplications":          partners,
			"TrustedApplications":          []any{map[string]any{"Identity": "mail." + d + "/urn:application:outlookwebapp", "ApplicationId": "urn:application:outlookwebapp", "TrustedApplicationPoolFqdn": "mail." + d, "Port": 5199}},
			"OAuthServers":                 []any{map[string]any{"Identity": "microsoft.sts", "MetadataUrl": "https://accounts.accesscontrol.windows.net/" + d + "/metadata/json/1", "Realm": ""}},
			"OAuthTokenIssuerCertificates": tokenIssuer,
			"ServerVersion":                []any{map[string]any{"Product": product + " (" + release + "): Volume license key installed."}},
			"PatchVersions": []any{
				map[string]any{"ComponentName": product + ", Core Components", "Version": build},
				map[string]any{"ComponentName": product + ", Core Management Server", "Version": build},
			},
			// The Teams part: the tenant shares the SIP address space.
			"TenantFederationConfiguration": []any{map[string]any{"Identity": "Global", "SharedSipAddressSpace": !l.On("tenant-shared-sip-off")}},
		},
	}
	// The Exchange Auth certificate is inside the 60-day renewal window,
	// so the staged next certificate matters.
	auth := map[string]any{"CurrentCertificateThumbprint": "9F1E2D3C4B5A69788796A5B4C3D2E1F009182736", "PreviousCertificateThumbprint": nil,
		"NextCertificateThumbprint": "1A2B3C4D5E6F708192A3B4C5D6E7F80910213243", "NextCertificateEffectiveDate": psDate(now.AddDate(0, 0, 10)),
		"ServiceName": "00000002-0000-0ff1-ce00-000000000000", "Realm": nil}
	if l.On("next-cert-not-staged") {
		auth["NextCertificateThumbprint"], auth["NextCertificateEffectiveDate"] = nil, nil
	}
	// EX01 runs Exchange Server Subscription Edition RTM, or Exchange 2016
	// CU23 with exchange-out-of-support (as its web answers say):
	// AdminDisplayVersion and ExSetup.exe's file version in Learn's long
	// format, as the script writes them.
	adminDisplayVersion, exSetup := "Version 15.2 (Build 2562.17)", "15.02.2562.017"
	if l.On("exchange-out-of-support") {
		adminDisplayVersion, exSetup = "Version 15.1 (Build 2507.6)", "15.01.2507.006"
	}
	ex = map[string]any{
		"SnapshotVersion": "1", "ScriptVersion": "1.2.0", "Culture": "en-US", "Timestamp": psDate(now), "ComputerName": "EX01", "ComputerFqdn": "ex01." + d,
		"Shell": "Exchange", "PSVersion": "7.4.1", "PSEdition": "Core", "Errors": []any{},
		"Exchange": map[string]any{
			"AuthConfig": []any{auth},
			"AuthCertificates": []any{
				map[string]any{"Thumbprint": "9F1E2D3C4B5A69788796A5B4C3D2E1F009182736", "Subject": "CN=Microsoft Exchange Server Auth Certificate", "NotAfter": psDate(now.AddDate(0, 0, 45))},
				map[string]any{"Thumbprint": "1A2B3C4D5E6F708192A3B4C5D6E7F80910213243", "Subject": "CN=Microsoft Exchange Server Auth Certificate", "NotAfter": psDate(now.AddDate(5, 0, 0))},
			},
			"PartnerApplications":   []any{map[string]any{"Name": "LyncEnterprise-ApplicationAccount", "ApplicationIdentifier": "00000004-0000-0ff1-ce00-000000000000", "AuthMetadataUrl": "https://pool01." + d + "/metadata/json/1", "Enabled": true}},
			"AuthServers":           []any{},
			"OwaVirtualDirectories": []any{map[string]any{"Identity": `EX01\owa (Default Web Site)`, "Server": "EX01", "InstantMessagingEnabled": !l.On("owa-im-disabled"), "InstantMessagingType": "Ocs"}},
			"SettingOverrides":      l.settingOverrides(),
			"ExchangeServer":        []any{map[string]any{"Name": "EX01", "Fqdn": "ex01." + d, "Edition": "Standard", "AdminDisplayVersion": adminDisplayVersion}},
			"ExSetup":               []any{map[string]any{"FileVersion": exSetup}},
		},
	}
	if exo := l.exchangeOnline(); exo != nil {
		ex["ExchangeOnline"] = exo
	}
	return fe, ex
}

// renderPS7 writes in PowerShell 7's layout: two-space indent.
func renderPS7(v map[string]any) []byte {
	b, _ := json.MarshalIndent(shape(v), "", "  ")
	return []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))
}

// renderPS51 writes with Windows PowerShell 5.1's four-space indent.
func renderPS51(v map[string]any) []byte {
	b, _ := json.MarshalIndent(shape(v), "", "    ")
	return []byte(strings.ReplaceAll(string(b), "\n", "\r\n"))
}

// shape turns dates into what the script writes: ToString('o') in UTC.
func shape(v any) any {
	switch v := v.(type) {
	case psDate:
		return time.Time(v).UTC().Format("2006-01-02T15:04:05.0000000Z")
	case map[string]any:
		m := map[string]any{}
		for k, x := range v {
			m[k] = shape(x)
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = shape(x)
		}
		return out
	}
	return v
}

// writeAtomic writes name in dir through a temporary file and a rename, as
// the export script does, so the agent never reads half a snapshot.
func writeAtomic(dir, name string, b []byte) error {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}
