// Package lab is a simulated Skype for Business / Exchange estate for
// contoso.test that runs inside the agent (`--lab`): the README's first
// command, the end-to-end tests and the dashboard previews use it. Every
// fault the alerts exist for can be switched on and off at run time.
//
// Everything listens on 127.0.0.1 only.
package lab

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// Domain is the lab's SIP and email domain.
const Domain = "contoso.test"

// Fault is one switchable problem in the lab estate.
type Fault struct {
	Name        string `json:"name"`
	Family      string `json:"family"`
	Description string `json:"description"`
}

// Faults lists every fault the lab can inject.
var Faults = []Fault{
	{"dns-drift", "dns", "the external sip.contoso.test A record moves from 127.0.1.10 to 127.0.1.11 (drift away from the expected answer)"},
	{"dns-missing", "dns", "lyncdiscoverinternal.contoso.test disappears from the internal view"},
	{"dns-mixed", "dns", "the external lyncdiscover.contoso.test points to Skype for Business Online while every other record stays on-premises"},
	{"dns-split", "dns", "the internal view's _sipfederationtls._tcp.contoso.test points to another Edge than the external view's"},
	{"oauth-expiring", "oauth", "the Exchange auth certificate in the metadata has 10 days left (the staged next certificate stays published unless oauth-next-missing is on too)"},
	{"oauth-expired", "oauth", "the Exchange auth certificate expired 3 days ago and no other certificate is published"},
	{"oauth-next-missing", "oauth", "no next Exchange auth certificate is staged while the current one is inside the 60-day renewal window (45 days left); with more time left a missing next certificate is normal, not a finding"},
	{"sfb-cert-1024", "oauth", "the Skype for Business OAuthTokenIssuer certificate has a 1024-bit RSA key"},
	{"sfb-cert-no-sip-domain", "oauth", "the Skype for Business OAuthTokenIssuer certificate's Subject is CN=sfbpool01.corp.local, without the SIP domain contoso.test"},
	{"edge-cert-wrong-name", "tls", "the Edge (sip.contoso.test:443 and :5061) presents a certificate for edge01.contoso.test and access.contoso.test, without sip.contoso.test"},
	{"tls-expired", "tls", "the Edge (sip.contoso.test:443 and :5061) presents a certificate that expired 2 days ago"},
	{"autodiscover-down", "autodiscover", "Exchange autodiscover (autodiscover.xml and autodiscover.svc on every Exchange name) answers 503, as when its application pool is stopped"},
	{"autodiscover-wrong-redirect", "autodiscover", "http://autodiscover.contoso.test/autodiscover/autodiscover.xml redirects to https://autodiscover.hosting-old.example/…, a host outside contoso.test"},
	{"ews-503", "ews", "EWS (https://mail.contoso.test/EWS/Exchange.asmx) answers 503 Service Unavailable"},
	{"ews-no-oauth", "ews", "EWS answers 401 with Negotiate and NTLM only: OAuth is off on its virtual directory, no Bearer challenge"},
	{"ews-html", "ews", "EWS answers 200 with a web page (a reverse proxy's sign-in page) instead of 401 with its challenges"},
	{"ews-garbage", "ews", "EWS answers 200 with 2 KiB of random bytes (application/octet-stream)"},
	{"ews-endless", "ews", "EWS answers 200 with a text/xml body that does not end: the start of a SOAP envelope, then padding (the lab stops after 1 GiB); the agent reads up to SFBEX_HTTP_MAX_BODY_BYTES"},
	{"ews-empty", "ews", "EWS answers 200 with an empty body"},
	{"autodiscover-online", "lifecycle", "the public autodiscover.contoso.test points to autodiscover.outlook.com, as when mailboxes moved to Exchange Online while the configuration still says Exchange on-premises: the agent states Skype for Business Server's EWS dependency on Exchange Online and the days left until its shutdown"},
	{"exchange-out-of-support", "autodiscover", "Exchange shows build 15.1.2507.6 (Exchange Server 2016 CU23, out of support since 2025-10-14) instead of 15.2.2562.17 (Subscription Edition RTM): in its autodiscover SOAP and POX answers, in X-OWA-Version on /owa/ and in EWS's ServerVersionInfo; EX01's settings snapshot shows the same build (AdminDisplayVersion Version 15.1 (Build 2507.6), ExSetup.exe 15.01.2507.006)"},
	{"ews-policy-blocked", "ews", "EWS answers 403 with X-EWS-Policy-Reason: EWS is disabled for this user or tenant, as Exchange Online does since 2026-10-01 for a tenant that never set EwsEnabled"},
	{"lyncdiscover-html", "lyncdiscover", "https://lyncdiscover.contoso.test/ answers a web page (a reverse proxy's sign-in page) instead of the _links JSON"},
	{"directory-sip-stripped", "directory", "every fifth lab user (20%) loses SIP:<address> from proxyAddresses, so SIP proxy address coverage drops from 98% to 78%"},
	{"cms-replica-stale", "cms", "the Edge's CMS replica (edge01.contoso.test) is not up to date: an update created 10 minutes ago has not reached it (the lab sets SFBEX_CMS_REPLICA_STALE_AFTER=1m)"},
	{"cms-snapshot-stale", "cms", "the scheduled snapshot export stops: the files stay as written an hour ago (the lab sets SFBEX_CMS_SNAPSHOT_MAX_AGE to three lab intervals)"},
	{"hosting-provider-wrong", "cms", "the Exchange Online hosting provider has EnabledSharedAddressSpace=False"},
	{"hosting-provider-wrong-cloud", "cms", "the Exchange Online hosting provider's ProxyFqdn is another cloud's Access Edge: exap.um.office365.us (GCC High) in the worldwide lab, exap.um.outlook.com in the GCC High one, as after a tenant moved clouds"},
	{"sfb-oauth-roll-missing", "cms", "the Front End's OAuthTokenIssuer certificate (Get-CsCertificate in the snapshot) has 20 days left and no rolled certificate is staged (Set-CsCertificate -Roll), inside the 60-day renewal window"},
	{"sfb-out-of-support", "cms", "the Front End's snapshot shows Skype for Business Server 2015 build 6.0.9319.881 (Get-CsServerPatchVersion; at the dedicated hybrid application's minimum, out of support since 2025-10-14) instead of Subscription Edition 7.0.2046.820"},
	{"sfb-hybrid-app-build-too-old", "cms", "the Front End's snapshot shows Skype for Business Server 2019 build 7.0.2046.530, below 7.0.2046.553, the first 2019 build that can use the dedicated hybrid application (and 2019 is out of support since 2025-10-14)"},
	{"oauth-roll-late", "cms", "the Front End's OAuthTokenIssuer certificate has 20 days left and its staged roll (Set-CsCertificate -Roll) takes effect 12 hours before it expires, inside the last 24 hours"},
	{"tenant-shared-sip-off", "cms", "the Teams part of the Front End's snapshot shows Get-CsTenantFederationConfiguration SharedSipAddressSpace=False"},
	{"teams-provider-wrong", "cms", "the hosting provider to Microsoft 365 (LyncOnline, ProxyFqdn sipfed.online.lync.com) has HostsOCSUsers=False, copied from the Exchange Online provider's settings"},
	{"federation-disabled", "cms", "Get-CsAccessEdgeConfiguration shows AllowFederatedUsers=False"},
	{"oauth-autodiscover-xml", "cms", "Get-CsOAuthConfiguration's ExchangeAutodiscoverUrl ends in autodiscover.xml instead of autodiscover.svc"},
	{"partner-app-missing", "cms", "Exchange is missing from Get-CsPartnerApplication on the Skype for Business side"},
	{"owa-im-disabled", "cms", "OWA's virtual directory on EX01 has InstantMessagingEnabled=False"},
	{"exo-ews-disabled", "cms", "the Exchange Online part of the Exchange snapshot shows EwsEnabled never set, blocked since 2026-10-01 (lab variants exchange-hybrid and exchange-online, where the integration uses Exchange Online mailboxes)"},
	{"exo-ews-app-not-allowed", "cms", "Exchange Online's EWS allow list (EwsAllowedAppIDs) lacks the dedicated Skype for Business hybrid application's ID 11111111-2222-3333-4444-555555555555, which the lab requires (SFBEX_EXO_EWS_REQUIRED_APP_IDS; variants exchange-hybrid and exchange-online)"},
	{"exo-ews-user-agent-blocked", "cms", "Exchange Online's EWS user-agent policy (EnforceAllowList) lists OWA/* only, not the integration's user agent LabSfBServer/7.0 (SFBEX_EXO_EWS_USER_AGENTS; variants exchange-hybrid and exchange-online)"},
	{"exchange-hybrid-app-shared", "cms", "Get-SettingOverride on EX01 shows no ExchangeOnpremAsThirdPartyAppId override: Exchange hybrid still uses the shared service principal (variant exchange-hybrid)"},
	{"next-cert-not-staged", "cms", "Get-AuthConfig shows no next certificate while the current Exchange Auth certificate (in the snapshot) has 45 days left, inside the 60-day renewal window"},
	{"directory-down", "directory", "the lab directory (LDAP) closes every connection, as a domain controller that goes down mid-scan"},
	{"sip-edge-stopped", "sip", "the Access Edge service is stopped behind a load balancer that still completes TLS: sip.contoso.test:443 and :5061 accept TLS, then close the connection without a SIP answer"},
	{"sip-federation-403", "sip", "the federation port sip.contoso.test:5061 answers OPTIONS with 403 Forbidden and an ms-diagnostics header saying the Access Edge's configuration does not allow federation with the sender"},
	{"sip-federation-504", "sip", "the federation port sip.contoso.test:5061 answers OPTIONS with 504 Server time-out and ms-diagnostics 1034 (previous hop federated peer did not report diagnostic information)"},
	{"sip-federation-cert-no-name", "sip", "the federation port sip.contoso.test:5061 presents the Edge's internal certificate (edge01.contoso.test), without sip.contoso.test, the name federation partners connect to; port 443 keeps the right one (edge-cert-wrong-name and tls-expired, which replace the Edge's certificate on both ports, take precedence)"},
}

// Lab is a running simulated estate.
type Lab struct {
	mu     sync.RWMutex
	active map[string]bool

	dns     *dnsServer
	ca      *CA
	caFile  string            // the CA certificate on disk, for SFBEX_CA_FILE
	routes  map[string]string // host:port clients use -> loopback address serving it
	closers []func()

	// hooks run after a fault switches, serialised by hookMu so the last
	// one to run sees the latest state (certs.go swaps certificates).
	hooks  []func()
	hookMu sync.Mutex

	// The estate's machines (servers.go).
	Exchange, WebExt, Pool, Edge *Machine

	web *exchangeWeb // the probe account of the web services (autodiscover.go)

	ldap *ldapServer // the directory (ldap.go)

	cms *cmsFeed // the CMS snapshot feed (cms.go)

	sipClientCert string  // the agent's client certificate and key, PEM (sip.go)
	variant       Variant // the estate's shape (variant.go)
}

// Start starts every part of the default lab on loopback.
func Start() (*Lab, error) { return StartVariant(Variants[0]) }

// StartVariant starts every part of a lab of the given shape on loopback.
func StartVariant(v Variant) (*Lab, error) {
	l := &Lab{active: map[string]bool{}, routes: map[string]string{}, variant: v}
	var err error
	if l.dns, err = startDNS(l); err != nil {
		return nil, fmt.Errorf("lab: starting the DNS server: %w", err)
	}
	if l.ca, err = newCA(); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: creating the lab CA: %w", err)
	}
	dir, err := os.MkdirTemp("", "sfbex-lab-")
	if err != nil {
		l.Close()
		return nil, err
	}
	l.closers = append(l.closers, func() { os.RemoveAll(dir) })
	l.caFile = filepath.Join(dir, "lab-ca.pem")
	if err := os.WriteFile(l.caFile, l.ca.PEM, 0o644); err != nil {
		l.Close()
		return nil, err
	}
	if err := l.startMachines(); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: starting the HTTPS servers: %w", err)
	}
	if err := l.startCerts(); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: %w", err)
	}
	if err := l.startSIP(dir); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: starting the SIP servers: %w", err)
	}
	if err := l.startDirectory(dir); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: starting the LDAP directory: %w", err)
	}
	if err := l.startCMS(dir); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: starting the CMS snapshot feed: %w", err)
	}
	if err := l.startWebServices(); err != nil {
		l.Close()
		return nil, fmt.Errorf("lab: starting autodiscover, EWS and lyncdiscover: %w", err)
	}
	return l, nil
}

// CA returns the lab's certificate authority.
func (l *Lab) CA() *CA { return l.ca }

// Close stops every part of the lab.
func (l *Lab) Close() {
	if l.dns != nil {
		l.dns.close()
	}
	l.mu.Lock()
	closers := l.closers
	l.closers = nil
	l.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
}

// Set switches a fault on or off.
func (l *Lab) Set(name string, on bool) error {
	if !slices.ContainsFunc(Faults, func(f Fault) bool { return f.Name == name }) {
		return fmt.Errorf("unknown lab fault %q; known faults: %s", name, strings.Join(FaultNames(), ", "))
	}
	l.mu.Lock()
	if on {
		l.active[name] = true
	} else {
		delete(l.active, name)
	}
	hooks := slices.Clone(l.hooks)
	l.mu.Unlock()
	l.hookMu.Lock()
	defer l.hookMu.Unlock()
	for _, h := range hooks {
		h()
	}
	return nil
}

// onChange registers f to run after every fault switch.
func (l *Lab) onChange(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hooks = append(l.hooks, f)
}

// On reports whether a fault is switched on.
func (l *Lab) On(name string) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.active[name]
}

// Active lists the faults switched on, sorted.
func (l *Lab) Active() []string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []string
	for n := range l.active {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// FaultNames lists every fault's name.
func FaultNames() []string {
	var out []string
	for _, f := range Faults {
		out = append(out, f.Name)
	}
	return out
}

// dnsExpect pins every record of the variant to its lab answer; in
// Teams-only mode the mode's own values (Microsoft 365) are the pins.
func (l *Lab) dnsExpect() string {
	d := Domain
	var pins []string
	if l.variant.exchange() != estate.Online {
		pins = append(pins, "autodiscover."+d+"/CNAME=mail."+d)
	}
	if !l.variant.lync().InCloud() {
		pins = append([]string{
			"external@lyncdiscover." + d + "/CNAME=webext." + d,
			"internal@lyncdiscoverinternal." + d + "/CNAME=pool01." + d,
			"external@sip." + d + "/A=127.0.1.10",
			"internal@sip." + d + "/A=127.0.2.10",
			"external@_sip._tls." + d + "/SRV=443 sip." + d,
			"external@_sipfederationtls._tcp." + d + "/SRV=5061 sip." + d,
			"internal@_sipinternaltls._tcp." + d + "/SRV=5061 pool01." + d,
		}, pins...)
	}
	return strings.Join(pins, ",")
}

// Env is the agent configuration that points it at the lab, as the
// SFBEX_* environment variables an admin would set. Every check runs every
// interval.
func (l *Lab) Env(interval time.Duration) map[string]string {
	d := Domain
	timeout := min(interval, 10*time.Second).String()
	env := map[string]string{
		"SFBEX_SIP_DOMAINS":            d,
		"SFBEX_EMAIL_DOMAINS":          d,
		"SFBEX_DEPLOYMENT":             string(l.variant.lync()),
		"SFBEX_CLOUD":                  string(l.variant.Cloud),
		"SFBEX_EXCHANGE_DEPLOYMENT":    string(l.variant.exchange()),
		"SFBEX_DNS_RESOLVERS":          "internal=" + l.dns.internalAddr + ",external=" + l.dns.externalAddr,
		"SFBEX_DNS_INTERNAL_RESOLVERS": "internal",
		"SFBEX_DNS_EXPECT":             l.dnsExpect(),
		"SFBEX_DNS_INTERVAL":           interval.String(),
		"SFBEX_DNS_TIMEOUT":            timeout,
		// Certificates: the Exchange metadata URL derives from the email
		// domain (autodiscover.contoso.test); the pool's must be named.
		"SFBEX_SFB_METADATA_URLS":  "https://pool01." + d + "/metadata/json/1",
		"SFBEX_TLS_ENDPOINTS":      "mail." + d + ":443",
		"SFBEX_CERT_INTERVAL":      interval.String(),
		"SFBEX_CERT_TIMEOUT":       timeout,
		"SFBEX_LIFECYCLE_INTERVAL": interval.String(),
	}
	maps.Copy(env, l.httpEnv(interval))
	maps.Copy(env, l.directoryEnv(interval))
	maps.Copy(env, l.cmsEnv(interval))
	maps.Copy(env, l.sipEnv(interval))
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.routes) > 0 {
		// The lab's HTTPS servers listen on loopback ports; the agent reaches
		// them for the names clients use, and trusts the lab CA.
		var ct []string
		for _, from := range slices.Sorted(maps.Keys(l.routes)) {
			ct = append(ct, from+"="+l.routes[from])
		}
		env["SFBEX_CONNECT_TO"] = strings.Join(ct, ",")
		env["SFBEX_CA_FILE"] = l.caFile
	}
	return env
}
