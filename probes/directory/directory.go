// Package directory scans Active Directory over LDAP for the attributes the
// Skype for Business / Exchange integration needs of every user (seed 000/001
// steps 2 and 3, seed 004): SIP:<address> in proxyAddresses, mail, and a
// primary SMTP address equal to the SIP address.
//
// The scan pages through the users (≤ 1000 a page, as AD serves them) and
// streams each page: memory holds counters, a bounded sample of offenders
// and one hash per SIP address, whatever the number of users. A scan that
// fails part-way returns no result, so the collector keeps the last
// complete figures, marked stale: coverage never drops because a scan broke.
package directory

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/go-ldap/ldap/v3"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/plural"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

// DefaultFilter selects user objects with a SIP address. Contacts and
// computers have no objectClass user or no SIP address.
const DefaultFilter = "(&(objectClass=user)(msRTCSIP-PrimaryUserAddress=*))"

// DisabledClause excludes disabled accounts with AD's bit-and matching rule
// (LDAP_MATCHING_RULE_BIT_AND, userAccountControl bit 2).
const DisabledClause = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"

// Attributes the scan reads.
var Attributes = []string{"msRTCSIP-PrimaryUserAddress", "proxyAddresses", "mail", "userAccountControl", "msRTCSIP-UserEnabled"}

// Config configures a scan.
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// BindDN is the service account: a DN or user@domain for a simple
	// bind, DOMAIN\user for NTLM.
	BindDN   string
	Password config.Secret
	// NTLM binds with NTLM instead of a simple bind.
	NTLM   bool
	BaseDN string
	// Filter selects the users; DefaultFilter when empty.
	Filter string
	// IncludeDisabled scans disabled accounts too (and counts them apart)
	// instead of excluding them with DisabledClause, for servers that do
	// not know the bit-and rule.
	IncludeDisabled bool
	// PageSize is the paged-results page size, 1..1000 (AD's MaxPageSize).
	PageSize int
	// SIPDomains are the domain label values; other domains count as Other.
	SIPDomains []string
	// MinCoverage: below this share of users with the SIP proxy address (or
	// with mail) a domain is a warning; above it offenders are listed as info.
	MinCoverage float64
	// SampleSize bounds the offenders kept per kind.
	SampleSize int
	// Web supplies the TLS settings (SFBEX_CA_FILE, SFBEX_TLS_INSECURE_HOSTS)
	// and SFBEX_CONNECT_TO.
	Web *webclient.Options
}

// Prober scans one directory.
type Prober struct {
	cfg        Config
	host, addr string
	ldaps      bool
	filter     string
}

// NewProber checks cfg.
func NewProber(cfg Config) (*Prober, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "ldap" && u.Scheme != "ldaps") {
		return nil, fmt.Errorf("%q is not an ldap:// or ldaps:// URL", cfg.URL)
	}
	p := &Prober{cfg: cfg, host: strings.ToLower(u.Hostname()), ldaps: u.Scheme == "ldaps"}
	port := u.Port()
	if port == "" {
		port = map[bool]string{true: "636", false: "389"}[p.ldaps]
	}
	p.addr = net.JoinHostPort(p.host, port)
	if p.cfg.Filter == "" {
		p.cfg.Filter = DefaultFilter
	}
	if _, err := ldap.CompileFilter(p.cfg.Filter); err != nil {
		return nil, fmt.Errorf("filter %q: %v", p.cfg.Filter, err)
	}
	p.filter = p.cfg.Filter
	if !cfg.IncludeDisabled {
		p.filter = "(&" + p.cfg.Filter + DisabledClause + ")"
	}
	if p.cfg.PageSize <= 0 || p.cfg.PageSize > 1000 {
		p.cfg.PageSize = 1000
	}
	if p.cfg.SampleSize <= 0 {
		p.cfg.SampleSize = 10
	}
	if p.cfg.Web == nil {
		p.cfg.Web = &webclient.Options{}
	}
	if p.cfg.BaseDN == "" {
		return nil, errors.New("no base DN")
	}
	return p, nil
}

// Filter is the filter the scan sends.
func (p *Prober) Filter() string { return p.filter }

// Probe scans the directory. It returns (nil, err) unless the scan read
// every page.
//
// Every bind and search goes through the scan's own LDAP client
// (ldapwire.go): simple and anonymous binds, and NTLM over SASL or Sicily,
// whichever the server offers.
func (p *Prober) Probe(ctx context.Context) (probes.Result, error) {
	start := time.Now()
	t := newTally(p.cfg.SIPDomains, p.cfg.SampleSize)
	t.includeAll = p.cfg.IncludeDisabled
	res := &Result{Server: p.cfg.URL, BaseDN: p.cfg.BaseDN, Filter: p.filter, PageSize: p.cfg.PageSize,
		MinCoverage: p.cfg.MinCoverage, IncludeDisabled: p.cfg.IncludeDisabled}
	if err := p.probeWire(ctx, t, res); err != nil {
		return nil, err
	}
	res.ScanDuration = time.Since(start)
	res.finish(t)
	return res, nil
}

// probeWire connects, binds and scans.
func (p *Prober) probeWire(ctx context.Context, t *tally, res *Result) error {
	raw, conn, err := p.dial(ctx)
	if err != nil {
		return err
	}
	w := newWireConn(raw, conn)
	defer w.Close()
	// A deadline or cancel closes the connection, which ends any read.
	stop := context.AfterFunc(ctx, func() { w.Close() })
	defer stop()
	if !p.ldaps && p.cfg.StartTLS {
		if err := w.startTLS(p.cfg.Web.TLSConfig(p.host)); err != nil {
			return p.phaseErr(ctx, "StartTLS", err)
		}
	}
	if err := p.bind(ctx, w); err != nil {
		return err
	}
	if err := p.scanWire(ctx, w, t, res); err != nil {
		return p.ctxErr(ctx, err)
	}
	return nil
}

// bind authenticates as configured.
func (p *Prober) bind(ctx context.Context, w *wireConn) error {
	if p.cfg.NTLM {
		return p.ntlmBind(ctx, w)
	}
	if p.cfg.BindDN != "" && p.cfg.Password == "" {
		// An unauthenticated bind (RFC 4513 5.1.2) would "succeed" on some
		// servers without checking anything.
		return probes.WithFix(fmt.Errorf("no password for the bind as %q", p.cfg.BindDN),
			"Set SFBEX_LDAP_PASSWORD or SFBEX_LDAP_PASSWORD_FILE, or leave SFBEX_LDAP_BIND_DN empty for an anonymous bind.")
	}
	what := "simple bind"
	if p.cfg.BindDN == "" {
		what = "anonymous bind"
	}
	if err := w.simpleBind(p.cfg.BindDN, p.cfg.Password.Reveal()); err != nil {
		return p.bindErr(ctx, what, err)
	}
	return nil
}

// Root DSE attributes that say which binds a server offers.
const (
	attrSASLMechs    = "supportedSASLMechanisms"
	attrCapabilities = "supportedCapabilities"
	// oidADCapability (LDAP_CAP_ACTIVE_DIRECTORY_OID) is announced by
	// Windows domain controllers, which speak Sicily, and by Samba.
	oidADCapability = "1.2.840.113556.1.4.800"
)

// chooseNTLM picks how to send NTLM to a server with this root DSE: SASL
// NTLM where offered (Samba, OpenLDAP with Cyrus SASL), else Sicily on
// Active Directory (Windows offers no SASL NTLM, but always Sicily), else
// raw NTLMSSP in GSS-SPNEGO. It returns 0 when the server offers none.
func chooseNTLM(mechs, caps []string) ntlmMethod {
	has := func(list []string, v string) bool {
		return slices.ContainsFunc(list, func(s string) bool { return strings.EqualFold(s, v) })
	}
	switch {
	case has(mechs, "NTLM"):
		return ntlmSASL
	case has(caps, oidADCapability):
		return ntlmSicily
	case has(mechs, "GSS-SPNEGO"):
		return ntlmSPNEGO
	}
	return 0
}

// ntlmBind reads the root DSE to learn which NTLM binds the server offers,
// and binds with the one chooseNTLM picks.
func (p *Prober) ntlmBind(ctx context.Context, w *wireConn) error {
	if p.cfg.Password == "" {
		return probes.WithFix(fmt.Errorf("no password for the NTLM bind as %q", p.cfg.BindDN),
			"Set SFBEX_LDAP_PASSWORD or SFBEX_LDAP_PASSWORD_FILE.")
	}
	dse, err := w.rootDSE([]string{attrSASLMechs, attrCapabilities})
	var le *ldap.Error
	if err != nil && (!errors.As(err, &le) || le.ResultCode >= ldap.ErrorNetwork) {
		return p.phaseErr(ctx, "root DSE read before the NTLM bind", err)
	}
	mechs, caps := dse[attrSASLMechs], dse[attrCapabilities]
	m := chooseNTLM(mechs, caps)
	what := ""
	if m == 0 && (err != nil || len(mechs)+len(caps) == 0) {
		// The server hides its root DSE: try the standard way.
		m, what = ntlmSASL, " (tried because the server's root DSE lists no SASL mechanisms to anonymous clients)"
	}
	if m == 0 {
		offered := "none"
		if len(mechs) > 0 {
			offered = strings.Join(mechs, ", ")
		}
		fix := "Use SFBEX_LDAP_AUTH=simple with StartTLS or ldaps://, or enable an NTLM SASL mechanism on the server (OpenLDAP: Cyrus SASL's NTLM plugin from libsasl2-modules)."
		if !p.encrypted() {
			// Servers with a minimum security strength list weak mechanisms
			// only on encrypted connections.
			fix = "This connection is not encrypted, and servers may offer NTLM only over TLS: try SFBEX_LDAP_STARTTLS=true or ldaps://. Otherwise: " + fix
		}
		return probes.WithFix(fmt.Errorf("the directory server %s offers no NTLM bind: its SASL mechanisms are %s, and it does not announce Active Directory (no Sicily bind); the agent speaks NTLM over SASL (NTLM or GSS-SPNEGO) and Sicily", p.addr, offered), fix)
	}
	if err := w.ntlmBind(m, p.cfg.BindDN, p.cfg.Password.Reveal()); err != nil {
		return p.bindErr(ctx, "NTLM bind over "+m.String()+what, err)
	}
	return nil
}

// ctxErr explains a failure caused by the run's deadline.
func (p *Prober) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return probes.WithFix(fmt.Errorf("directory scan of %s stopped: %w (%v)", p.addr, ctx.Err(), p.cfg.Password.Scrub(err.Error())),
			"The scan did not finish within SFBEX_LDAP_TIMEOUT: raise it, or narrow SFBEX_LDAP_BASE_DN / SFBEX_LDAP_FILTER. The last complete figures stay, marked stale.")
	}
	return err
}

// dialTimeout bounds the TCP connect and the ldaps:// handshake.
const dialTimeout = 15 * time.Second

// dial connects to the server, with TLS for ldaps://. raw is the TCP
// connection, conn what to speak LDAP over.
func (p *Prober) dial(ctx context.Context) (raw, conn net.Conn, err error) {
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	raw, err = p.cfg.Web.DialContext(dctx, "tcp", p.addr)
	if err != nil {
		return nil, nil, p.dialErr(ctx, dctx, err)
	}
	if !p.ldaps {
		return raw, raw, nil
	}
	tc := tls.Client(raw, p.cfg.Web.TLSConfig(p.host))
	if err := tc.HandshakeContext(dctx); err != nil {
		raw.Close()
		if ctx.Err() == nil && dctx.Err() != nil {
			err = fmt.Errorf("no TLS answer within %s: %w", dialTimeout, err)
		}
		return nil, nil, p.phaseErr(ctx, "TLS handshake", err)
	}
	return raw, tc, nil
}

// scanWire reads every page with the fast client, streaming entries into t.
func (p *Prober) scanWire(ctx context.Context, w *wireConn, t *tally, res *Result) error {
	u := &user{}
	var e entry
	h := pageHandler{
		entry: func(e *entry) {
			res.Entries++
			// The strings alias the read buffer: t.add copies what it keeps.
			u.dn = unsafeString(e.dn)
			u.sip = firstValue(e.vals[attrSIP])
			u.mail = firstValue(e.vals[attrMail])
			u.uac = firstValue(e.vals[attrUAC])
			u.sipUserEnabled = strings.ToUpper(firstValue(e.vals[attrSIPEnabled]))
			u.proxies = u.proxies[:0]
			for _, v := range e.vals[attrProxies] {
				u.proxies = append(u.proxies, unsafeString(v))
			}
			t.add(u)
		},
		reference: func() { res.Referrals++ },
	}
	var cookie []byte
	for {
		filter, err := ldap.CompileFilter(p.filter)
		if err != nil {
			return fmt.Errorf("filter %q: %v", p.filter, err)
		}
		next, gotControl, err := w.searchPage(p.cfg.BaseDN, filter, Attributes, uint32(p.cfg.PageSize), cookie, &e, h)
		if err != nil {
			return p.searchErr(err, res)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res.Pages++
		// Without a paging control the server ignored paging and sent
		// everything: the done message arrived, so the scan is complete.
		if !gotControl || len(next) == 0 {
			return nil
		}
		cookie = next
	}
}

// Indexes into Attributes (keep the two in the same order).
const (
	attrSIP = iota
	attrProxies
	attrMail
	attrUAC
	attrSIPEnabled
)

func firstValue(v [][]byte) string {
	if len(v) == 0 {
		return ""
	}
	return unsafeString(v[0])
}

// unsafeString views b as a string without copying; it is valid only while
// b is not reused.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (p *Prober) searchErr(err error, res *Result) error {
	msg := p.cfg.Password.Scrub(err.Error())
	where := "after " + plural.Count(res.Entries, "entry", "entries") + " in " + plural.Count(res.Pages, "page", "pages")
	anonymous := p.cfg.BindDN == "" && !p.cfg.NTLM
	switch {
	case anonymous && (strings.Contains(msg, "000004DC") || ldap.IsErrorWithCode(err, ldap.LDAPResultUnwillingToPerform) ||
		ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired) || ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights)):
		// AD: operationsError "000004DC … a successful bind must be
		// completed"; OpenLDAP "require authc": unwillingToPerform.
		return probes.WithFix(fmt.Errorf("the directory server %s refused the search without a bind (anonymous) %s: %s", p.addr, where, msg),
			"The server does not let anonymous clients search: set SFBEX_LDAP_BIND_DN and SFBEX_LDAP_PASSWORD(_FILE) to a read-only service account.")
	case ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded):
		return probes.WithFix(fmt.Errorf("the directory server %s stopped the search at its size limit %s: %s", p.addr, where, msg),
			"The server caps the total a paged search may return: lift the limit for the service account (AD: MaxResultSetSize; OpenLDAP: size.prtotal=unlimited), or narrow SFBEX_LDAP_BASE_DN.")
	case ldap.IsErrorWithCode(err, ldap.LDAPResultAdminLimitExceeded):
		return probes.WithFix(fmt.Errorf("the directory server %s refused the page size %d: %s", p.addr, p.cfg.PageSize, msg),
			"Lower SFBEX_LDAP_PAGE_SIZE to the server's maximum page size (AD: MaxPageSize, 1000 by default).")
	case ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
		return probes.WithFix(fmt.Errorf("the base DN %q does not exist on %s: %s", p.cfg.BaseDN, p.addr, msg),
			"Set SFBEX_LDAP_BASE_DN to the domain's DN, e.g. DC=contoso,DC=com, or the OU holding the users.")
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInappropriateMatching), ldap.IsErrorWithCode(err, ldap.LDAPResultProtocolError) && strings.Contains(p.filter, "1.2.840.113556.1.4.803"):
		return probes.WithFix(fmt.Errorf("the directory server %s does not accept the filter %s: %s", p.addr, p.filter, msg),
			"The server does not know AD's bit-and rule: set SFBEX_LDAP_DISABLED_ACCOUNTS=include, which counts disabled accounts apart instead.")
	}
	return probes.WithFix(fmt.Errorf("the directory search on %s failed %s: %s", p.addr, where, msg),
		"Check that the domain controller is up and reachable; the last complete figures stay, marked stale.")
}
