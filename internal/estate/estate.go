// Package estate is the deployment model every probe family shares: where
// the Skype for Business / Lync side and the Exchange side live (on
// premises, online, hybrid), which Microsoft 365 cloud serves the online
// side and which hosts belong to it, and the named DNS views (resolvers) the
// agent looks through.
package estate

import (
	"errors"
	"fmt"
	"strings"
)

// Mode is where a deployment's services live.
type Mode string

const (
	OnPrem Mode = "onprem"
	Online Mode = "online"
	Hybrid Mode = "hybrid"
	// TeamsOnly is a tenant in TeamsOnly mode with no user left on
	// Skype for Business Server: the Skype for Business records point to
	// Microsoft 365 as the decommission guidance lists them (Learn
	// "decommission: manage DNS entries"). It describes the Skype for
	// Business side only.
	TeamsOnly Mode = "teamsonly"
)

// ParseMode accepts onprem, online, hybrid or teamsonly (any case; "-" and
// "_" ignored, so teams-only works too).
func ParseMode(s string) (Mode, error) {
	n := strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	switch m := Mode(n); m {
	case OnPrem, Online, Hybrid, TeamsOnly:
		return m, nil
	}
	return "", fmt.Errorf("unknown deployment mode %q: use onprem, online, hybrid or teamsonly", s)
}

// InCloud reports whether Microsoft 365 serves every user of this side:
// online, or (for Skype for Business) Teams-only. Nothing on-premises is
// then expected to serve clients.
func (m Mode) InCloud() bool { return m == Online || m == TeamsOnly }

// EWSOnline says which parts of an estate reach Exchange Online mailboxes
// over EWS (domain-facts §7): Skype for Business Server (on-premises or
// hybrid) with mailboxes in Exchange Online (online or hybrid), and an
// Exchange hybrid. The lifecycle family counts down to the EWS shutdown
// for them; the snapshots' Exchange Online checks apply to them.
func EWSOnline(lync, exchange Mode) (sfbServer, exchangeHybrid bool) {
	return !lync.InCloud() && (exchange == Online || exchange == Hybrid), exchange == Hybrid
}

// Cloud is the Microsoft 365 instance an online deployment uses.
type Cloud string

const (
	Worldwide Cloud = "worldwide" // also GCC (moderate), which uses the worldwide endpoints
	GCCHigh   Cloud = "gcchigh"
	DoD       Cloud = "dod"
	China     Cloud = "china" // operated by 21Vianet
)

// Clouds lists every cloud the agent knows, in the order the docs show them.
var Clouds = []Cloud{Worldwide, GCCHigh, DoD, China}

// ErrGermany refuses Microsoft Cloud Germany, which no longer exists.
var ErrGermany = errors.New("germany: Microsoft Cloud Germany closed on 2021-10-29 and its tenants were moved to the worldwide cloud " +
	"(Office 365 services in the German datacenter regions use the worldwide endpoints): use worldwide")

// ParseCloud accepts worldwide, gcc (an alias of worldwide: GCC moderate
// uses the worldwide endpoints), gcchigh, dod or china (any case; "-", "_"
// and spaces are ignored, so gcc-high works too).
func ParseCloud(s string) (Cloud, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.NewReplacer("-", "", "_", "", " ", "").Replace(n)
	switch c := Cloud(n); c {
	case Worldwide, GCCHigh, DoD, China:
		return c, nil
	case "gcc":
		return Worldwide, nil
	case "germany", "de", "blackforest":
		return "", ErrGermany
	}
	return "", fmt.Errorf("unknown cloud %q: use worldwide (also for GCC), gcchigh, dod or china", s)
}

// Service keys of CloudHosts.
const (
	HostLyncdiscover = "lyncdiscover" // lyncdiscover CNAME (webdir)
	HostSIP          = "sip"          // sip CNAME, _sip._tls target (sipdir)
	HostSIPFed       = "sipfed"       // _sipfederationtls._tcp target, Teams hosting provider ProxyFqdn
	HostAutodiscover = "autodiscover" // autodiscover CNAME
	HostExap         = "exap"         // Exchange Online hosting provider ProxyFqdn
)

// cloudHosts are the Microsoft 365 targets of each record, per cloud
// (domain-facts §7: microsoft-365-docs "DNS records for Office 365 GCC
// High" / "… DoD", OfficeDocs-SkypeForBusiness "Outlook Web App
// integration"). DoD documents no Exchange Online ProxyFqdn: "" means
// nothing is judged. An admin can override any DNS value with
// SFBEX_DNS_EXPECT.
var cloudHosts = map[Cloud]map[string]string{
	Worldwide: {HostLyncdiscover: "webdir.online.lync.com", HostSIP: "sipdir.online.lync.com", HostSIPFed: "sipfed.online.lync.com",
		HostAutodiscover: "autodiscover.outlook.com", HostExap: "exap.um.outlook.com"},
	GCCHigh: {HostLyncdiscover: "webdir.online.gov.skypeforbusiness.us", HostSIP: "sipdir.online.gov.skypeforbusiness.us", HostSIPFed: "sipfed.online.gov.skypeforbusiness.us",
		HostAutodiscover: "autodiscover.office365.us", HostExap: "exap.um.office365.us"},
	DoD: {HostLyncdiscover: "webdir.online.dod.skypeforbusiness.us", HostSIP: "sipdir.online.dod.skypeforbusiness.us", HostSIPFed: "sipfed.online.dod.skypeforbusiness.us",
		HostAutodiscover: "autodiscover-dod.office365.us", HostExap: ""},
	China: {HostLyncdiscover: "webdir.online.partner.lync.cn", HostSIP: "sipdir.online.partner.lync.cn", HostSIPFed: "sipfed.online.partner.lync.cn",
		HostAutodiscover: "autodiscover.partner.outlook.cn", HostExap: "exap.um.partner.outlook.cn"},
}

// onlineSuffixes mark a host as Microsoft 365, whatever the cloud. The
// German ones stay: a record still pointing to the closed Microsoft Cloud
// Germany points to Microsoft 365, not on-premises.
var onlineSuffixes = []string{
	".online.lync.com", ".outlook.com", ".office365.com", // worldwide, GCC
	".online.gov.skypeforbusiness.us", ".online.dod.skypeforbusiness.us", ".office365.us", // GCC High, DoD
	".partner.lync.cn", ".partner.outlook.cn", // 21Vianet
	".online.skype.de", ".online.lync.de", ".office.de", // Microsoft Cloud Germany (closed 2021)
}

// IsOnlineHost reports whether host (any case, trailing dot or not) belongs
// to Microsoft 365, in any cloud.
func IsOnlineHost(host string) bool {
	h := "." + strings.TrimSuffix(strings.ToLower(host), ".")
	for _, s := range onlineSuffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// CloudHosts returns the Microsoft 365 hosts of each service (the Host*
// keys) in cloud. The map is shared: read it, do not change it.
func CloudHosts(cloud Cloud) map[string]string { return cloudHosts[cloud] }

// CloudOf returns the cloud whose service key names host ("" when none).
func CloudOf(key, host string) Cloud {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(host)), ".")
	for _, c := range Clouds {
		if v := cloudHosts[c][key]; v != "" && v == h {
			return c
		}
	}
	return ""
}

// Resolver is a named DNS server: one view of the estate's DNS.
type Resolver struct {
	Name     string
	Addr     string // host:port
	Internal bool   // answers with the internal view (SFBEX_DNS_INTERNAL_RESOLVERS)
}

func (r Resolver) String() string { return fmt.Sprintf("%s (%s)", r.Name, r.Addr) }
