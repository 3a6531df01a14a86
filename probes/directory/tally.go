package directory

import (
	"hash/maphash"
	"strconv"
	"strings"
)

// Other is the domain label of SIP addresses outside the configured SIP
// domains, so the label stays bounded whatever the directory holds.
const Other = "other"

// Sample kinds: what is wrong with one user.
const (
	KindNoSIPProxy   = "no_sip_proxyaddress"
	KindNoMail       = "no_mail"
	KindMismatch     = "sip_smtp_mismatch"
	KindInvalid      = "invalid_sip_address"
	KindDuplicate    = "duplicate_sip_address"
	KindDisabledUser = "disabled_account_sip_enabled"
)

// kinds in the order findings and details list them.
var kinds = []string{KindNoSIPProxy, KindNoMail, KindDuplicate, KindInvalid, KindMismatch, KindDisabledUser}

// DomainStats are the figures of one SIP domain (or Other).
type DomainStats struct {
	Domain string `json:"domain"`
	// Users are SIP-enabled user accounts: the ones the other figures are about.
	Users int `json:"users"`
	// SIPDisabled hold a SIP address with msRTCSIP-UserEnabled FALSE.
	SIPDisabled int `json:"sip_disabled"`
	// AccountDisabled are disabled accounts that are SIP-enabled (seen only
	// when disabled accounts are included).
	AccountDisabled int `json:"account_disabled"`
	// WithSIPProxy have SIP:<their address> in proxyAddresses.
	WithSIPProxy int `json:"with_sip_proxyaddress"`
	MissingMail  int `json:"missing_mail"`
	// Mismatch have a primary SMTP address other than their SIP address.
	Mismatch int `json:"sip_smtp_mismatch"`
	// Invalid have a msRTCSIP-PrimaryUserAddress that is not sip:user@domain.
	Invalid int `json:"invalid_sip_address"`
	// Duplicates are SIP addresses more than one user holds.
	Duplicates int `json:"duplicate_sip_addresses"`
}

// Coverage is WithSIPProxy / Users, and ok=false when there are no users.
func (d DomainStats) Coverage() (float64, bool) {
	if d.Users == 0 {
		return 0, false
	}
	return float64(d.WithSIPProxy) / float64(d.Users), true
}

// MailCoverage is the share of users with mail.
func (d DomainStats) MailCoverage() (float64, bool) {
	if d.Users == 0 {
		return 0, false
	}
	return float64(d.Users-d.MissingMail) / float64(d.Users), true
}

// Sample is one offender, for an admin to act on. It never reaches metrics.
type Sample struct {
	Kind   string `json:"kind"`
	Domain string `json:"domain"`
	DN     string `json:"dn"`
	Detail string `json:"detail"`
}

// user is what a scan needs of one entry.
type user struct {
	dn             string
	sip            string   // msRTCSIP-PrimaryUserAddress
	proxies        []string // proxyAddresses
	mail           string
	uac            string // userAccountControl
	sipUserEnabled string // msRTCSIP-UserEnabled: TRUE, FALSE or ""
}

// tally accumulates a scan. Its memory is the per-domain counters, the
// bounded samples and one 8-byte hash per distinct SIP address (for the
// duplicate check): no strings per user.
type tally struct {
	domains    map[string]*DomainStats
	order      []string
	sampleMax  int
	samples    map[string][]Sample
	counts     map[string]int // offenders per kind, also past the sample
	seed       maphash.Seed
	seen       map[uint64]uint8 // address hash -> holders (saturating)
	includeAll bool             // disabled accounts are in the scan
}

func newTally(sipDomains []string, sampleMax int) *tally {
	t := &tally{
		domains:   map[string]*DomainStats{},
		sampleMax: sampleMax,
		samples:   map[string][]Sample{},
		counts:    map[string]int{},
		seed:      maphash.MakeSeed(),
		seen:      map[uint64]uint8{},
	}
	for _, d := range append(append([]string{}, sipDomains...), Other) {
		d = strings.ToLower(d)
		if _, ok := t.domains[d]; !ok {
			t.domains[d] = &DomainStats{Domain: d}
			t.order = append(t.order, d)
		}
	}
	return t
}

func (t *tally) sample(kind, domain, dn, detail string) {
	t.counts[kind]++
	if len(t.samples[kind]) < t.sampleMax {
		// dn may alias the scan's read buffer (scanWire): keep a copy.
		t.samples[kind] = append(t.samples[kind], Sample{Kind: kind, Domain: domain, DN: strings.Clone(dn), Detail: detail})
	}
}

func (t *tally) domainOf(d string) *DomainStats {
	if s, ok := t.domains[strings.ToLower(d)]; ok {
		return s
	}
	return t.domains[Other]
}

// add counts one user.
func (t *tally) add(u *user) {
	addr, domain, valid := parseSIP(u.sip)
	ds := t.domainOf(domain)
	if valid {
		h := maphash.String(t.seed, addr)
		switch n := t.seen[h]; n {
		case 0:
			t.seen[h] = 1
		case 1:
			t.seen[h] = 2
			ds.Duplicates++
			t.sample(KindDuplicate, ds.Domain, u.dn, "sip:"+addr+" is also the SIP address of another user")
		default:
			t.sample(KindDuplicate, ds.Domain, u.dn, "sip:"+addr+" is also the SIP address of other users")
		}
	}
	if disabledAccount(u.uac) {
		ds.AccountDisabled++
		if u.sipUserEnabled != "FALSE" {
			t.sample(KindDisabledUser, ds.Domain, u.dn, "the account is disabled but still SIP-enabled")
		}
		return
	}
	if strings.EqualFold(u.sipUserEnabled, "FALSE") {
		ds.SIPDisabled++
		return
	}
	ds.Users++
	if !valid {
		ds.Invalid++
		t.sample(KindInvalid, ds.Domain, u.dn, "msRTCSIP-PrimaryUserAddress "+strconv.Quote(clip(u.sip, 128))+" is not sip:user@domain")
	}
	var primarySMTP string
	hasProxy := false
	for _, p := range u.proxies {
		prefix, rest, ok := strings.Cut(p, ":")
		if !ok {
			continue
		}
		// The upper-case SMTP: prefix marks the primary address.
		if prefix == "SMTP" && primarySMTP == "" {
			primarySMTP = rest
		}
		if valid && strings.EqualFold(prefix, "sip") && strings.EqualFold(rest, addr) {
			hasProxy = true
		}
	}
	if hasProxy {
		ds.WithSIPProxy++
	} else if valid {
		t.sample(KindNoSIPProxy, ds.Domain, u.dn, "proxyAddresses lacks SIP:"+addr)
	} else {
		t.sample(KindNoSIPProxy, ds.Domain, u.dn, "no SIP: proxy address can match an invalid SIP address")
	}
	if strings.TrimSpace(u.mail) == "" {
		ds.MissingMail++
		t.sample(KindNoMail, ds.Domain, u.dn, "mail is empty")
	}
	if primarySMTP == "" {
		primarySMTP = strings.TrimSpace(u.mail)
	}
	if valid && primarySMTP != "" && !strings.EqualFold(primarySMTP, addr) {
		ds.Mismatch++
		t.sample(KindMismatch, ds.Domain, u.dn, "SIP sip:"+addr+" differs from primary SMTP "+clip(primarySMTP, 128))
	}
}

// disabledAccount reports whether userAccountControl has ACCOUNTDISABLE (2).
func disabledAccount(uac string) bool {
	n, err := strconv.ParseInt(strings.TrimSpace(uac), 10, 64)
	return err == nil && n&2 != 0
}

// parseSIP splits "sip:user@domain" into the lower-cased address without
// its scheme and the domain. valid is false for anything else; domain is
// then the part after the last @, if any, so the label stays meaningful.
func parseSIP(v string) (addr, domain string, valid bool) {
	if i := strings.LastIndexByte(v, '@'); i >= 0 {
		domain = strings.ToLower(v[i+1:])
	}
	if len(v) < 4 || len(v) > 256 || !strings.EqualFold(v[:4], "sip:") {
		return "", domain, false
	}
	rest := strings.ToLower(v[4:])
	local, dom, ok := strings.Cut(rest, "@")
	if !ok || local == "" || strings.Contains(dom, "@") || !validDomain(dom) {
		return "", domain, false
	}
	for _, r := range local {
		if r <= ' ' || r == 0x7f || r == '<' || r == '>' || r == '"' || r == ':' || r == ';' {
			return "", domain, false
		}
	}
	return rest, dom, true
}

func validDomain(d string) bool {
	if len(d) == 0 || len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
