// Package estate is the deployment model every probe family shares: where
// the Skype for Business / Lync side and the Exchange side live (on
// premises, online, hybrid), which Microsoft 365 cloud serves the online
// side and which hosts belong to it, and the named DNS views (resolvers) the
// agent looks through.
package estate

import (
	"fmt"
	"strings"
)

// Mode is where a deployment's services live.
type Mode string

const (
	OnPrem Mode = "onprem"
	Online Mode = "online"
	Hybrid Mode = "hybrid"
)

// ParseMode accepts onprem, online or hybrid (any case).
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case OnPrem, Online, Hybrid:
		return m, nil
	}
	return "", fmt.Errorf("unknown deployment mode %q: use onprem, online or hybrid", s)
}

// Cloud is the Microsoft 365 instance an online deployment uses.
type Cloud string

const (
	Worldwide Cloud = "worldwide"
	Germany   Cloud = "germany"
	China     Cloud = "china" // operated by 21Vianet
)

// ParseCloud accepts worldwide, germany or china (any case).
func ParseCloud(s string) (Cloud, error) {
	switch c := Cloud(strings.ToLower(strings.TrimSpace(s))); c {
	case Worldwide, Germany, China:
		return c, nil
	}
	return "", fmt.Errorf("unknown cloud %q: use worldwide, germany or china", s)
}

// cloudHosts are the Microsoft 365 targets of each record, per cloud
// (domain-facts §1). The German and 21Vianet federation targets and the
// German autodiscover target are not confirmed from a primary source; an
// admin can override any of them with SFBEX_DNS_EXPECT.
var cloudHosts = map[Cloud]map[string]string{
	Worldwide: {"lyncdiscover": "webdir.online.lync.com", "sip": "sipdir.online.lync.com", "sipfed": "sipfed.online.lync.com", "autodiscover": "autodiscover.outlook.com"},
	Germany:   {"lyncdiscover": "webdir.online.skype.de", "sip": "sipdir.online.lync.de", "sipfed": "sipfed.online.lync.de", "autodiscover": "autodiscover-outlook.office.de"},
	China:     {"lyncdiscover": "webdir.online.partner.lync.cn", "sip": "sipdir.online.partner.lync.cn", "sipfed": "sipfed.online.partner.lync.cn", "autodiscover": "autodiscover.partner.outlook.cn"},
}

// onlineSuffixes mark a host as Microsoft 365, whatever the cloud.
var onlineSuffixes = []string{
	".online.lync.com", ".online.skype.de", ".online.lync.de", ".partner.lync.cn",
	".outlook.com", ".office.de", ".partner.outlook.cn", ".office365.com",
}

// IsOnlineHost reports whether host (any case, trailing dot or not) belongs
// to Microsoft 365.
func IsOnlineHost(host string) bool {
	h := "." + strings.TrimSuffix(strings.ToLower(host), ".")
	for _, s := range onlineSuffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// CloudHosts returns the Microsoft 365 hosts the records of each service
// ("lyncdiscover", "sip", "sipfed", "autodiscover") point to in cloud. The
// map is shared: read it, do not change it.
func CloudHosts(cloud Cloud) map[string]string { return cloudHosts[cloud] }

// Resolver is a named DNS server: one view of the estate's DNS.
type Resolver struct {
	Name     string
	Addr     string // host:port
	Internal bool   // answers with the internal view (SFBEX_DNS_INTERNAL_RESOLVERS)
}

func (r Resolver) String() string { return fmt.Sprintf("%s (%s)", r.Name, r.Addr) }
