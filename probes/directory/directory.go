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
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unsafe"

	"github.com/go-ldap/ldap/v3"

	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/webclient"
)

// DefaultFilter selects user objects with a SIP address. Contacts and
// computers have no objectClass user or no SIP address.
const DefaultFilter = "(&(objectClass=user)(msRTCSIP-PrimaryUserAddress=*))"

// DisabledClause excludes disabled accounts with AD's bit-and matching rule
// (LDAP_MATCHING_RULE_BIT_AND, userAccountControl bit 2).
const DisabledClause = "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"

// Attributes the scan reads.
var Attributes = []string{"msRTCSIP-PrimaryUserAddress", "proxyAddresses", "mail", "userAccountControl", "msRTCSIP-UserEnabled"}

// Secret holds the bind password. It prints as [redacted] wherever it ends
// up (logs, JSON, %v).
type Secret string

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) reveal() string             { return string(s) }
func (s Secret) scrub(msg string) string    { return scrub(msg, string(s)) }
func scrub(msg, secret string) string {
	if len(secret) >= 3 {
		msg = strings.ReplaceAll(msg, secret, redacted)
	}
	return msg
}

// Config configures a scan.
type Config struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool
	// BindDN is the service account: a DN or user@domain for a simple
	// bind, DOMAIN\user for NTLM.
	BindDN   string
	Password Secret
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
// Simple and anonymous binds use the scan's own LDAP client (ldapwire.go),
// which decodes the replies in place; NTLM binds use go-ldap throughout,
// whose NTLM exchange the fast client does not implement.
func (p *Prober) Probe(ctx context.Context) (probes.Result, error) {
	start := time.Now()
	t := newTally(p.cfg.SIPDomains, p.cfg.SampleSize)
	t.includeAll = p.cfg.IncludeDisabled
	res := &Result{Server: p.cfg.URL, BaseDN: p.cfg.BaseDN, Filter: p.filter, PageSize: p.cfg.PageSize,
		MinCoverage: p.cfg.MinCoverage, IncludeDisabled: p.cfg.IncludeDisabled}
	var err error
	if p.cfg.NTLM {
		err = p.probeGoLDAP(ctx, t, res)
	} else {
		err = p.probeWire(ctx, t, res)
	}
	if err != nil {
		return nil, err
	}
	res.ScanDuration = time.Since(start)
	res.finish(t)
	return res, nil
}

// probeGoLDAP scans with go-ldap (the NTLM path).
func (p *Prober) probeGoLDAP(ctx context.Context, t *tally, res *Result) error {
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// A deadline or cancel closes the connection, which ends any read.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if err := p.bind(conn); err != nil {
		return p.ctxErr(ctx, err)
	}
	if err := p.scan(ctx, conn, t, res); err != nil {
		return p.ctxErr(ctx, err)
	}
	return nil
}

// probeWire scans with the fast client (simple and anonymous binds).
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
			return p.tlsErr(err)
		}
	}
	var berr error
	switch {
	case p.cfg.BindDN != "" && p.cfg.Password == "":
		// go-ldap refuses this unauthenticated bind on the client side.
		berr = ldap.NewError(ldap.ErrorEmptyPassword, errors.New("ldap: empty password not allowed by the client"))
	default:
		berr = w.simpleBind(p.cfg.BindDN, p.cfg.Password.reveal())
	}
	if berr != nil {
		return p.ctxErr(ctx, p.bindErr(berr))
	}
	if err := p.scanWire(ctx, w, t, res); err != nil {
		return p.ctxErr(ctx, err)
	}
	return nil
}

// ctxErr explains a failure caused by the run's deadline.
func (p *Prober) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return probes.WithFix(fmt.Errorf("directory scan of %s stopped: %w (%v)", p.addr, ctx.Err(), p.cfg.Password.scrub(err.Error())),
			"The scan did not finish within SFBEX_LDAP_TIMEOUT: raise it, or narrow SFBEX_LDAP_BASE_DN / SFBEX_LDAP_FILTER. The last complete figures stay, marked stale.")
	}
	return err
}

// dial connects to the server, with TLS for ldaps://. raw is the TCP
// connection, conn what to speak LDAP over.
func (p *Prober) dial(ctx context.Context) (raw, conn net.Conn, err error) {
	dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	raw, err = p.cfg.Web.DialContext(dctx, "tcp", p.addr)
	if err != nil {
		return nil, nil, probes.WithFix(fmt.Errorf("cannot reach the directory server %s: %v", p.addr, err),
			"Check SFBEX_LDAP_URL (host and port: 389 for ldap://, 636 for ldaps://), that the domain controller is up, and that a firewall lets the agent through.")
	}
	if !p.ldaps {
		return raw, raw, nil
	}
	tc := tls.Client(raw, p.cfg.Web.TLSConfig(p.host))
	if err := tc.HandshakeContext(dctx); err != nil {
		raw.Close()
		return nil, nil, p.tlsErr(err)
	}
	return raw, tc, nil
}

func (p *Prober) connect(ctx context.Context) (*ldap.Conn, error) {
	_, raw, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	tlsCfg := p.cfg.Web.TLSConfig(p.host)
	conn := ldap.NewConn(raw, p.ldaps)
	conn.Start()
	conn.SetTimeout(2 * time.Minute) // one request; the run's deadline bounds the scan
	if !p.ldaps && p.cfg.StartTLS {
		if err := conn.StartTLS(tlsCfg); err != nil {
			conn.Close()
			return nil, p.tlsErr(err)
		}
	}
	return conn, nil
}

func (p *Prober) tlsErr(err error) error {
	fix := "Set SFBEX_CA_FILE to the CA that issued the domain controller's certificate, make SFBEX_LDAP_URL use a name the certificate covers, " +
		"or (not recommended) list the host in SFBEX_TLS_INSECURE_HOSTS."
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var le *ldap.Error
	switch {
	case errors.As(err, &ua), errors.As(err, &he), errors.As(err, &ci):
	case errors.As(err, &le) && le.ResultCode != ldap.ErrorNetwork:
		fix = "The server refused StartTLS: configure a certificate on it (AD: a Domain Controller certificate), use ldaps://, " +
			"or set SFBEX_LDAP_STARTTLS=false on a trusted network."
	}
	return probes.WithFix(fmt.Errorf("TLS with the directory server %s failed: %v", p.addr, err), fix)
}

func (p *Prober) bind(conn *ldap.Conn) error {
	var err error
	switch {
	case p.cfg.NTLM:
		domain, user, ok := strings.Cut(p.cfg.BindDN, `\`)
		if !ok {
			domain, user = "", p.cfg.BindDN
		}
		err = conn.NTLMBind(domain, user, p.cfg.Password.reveal())
	case p.cfg.BindDN == "" && p.cfg.Password == "":
		err = conn.UnauthenticatedBind("")
	default:
		_, err = conn.SimpleBind(&ldap.SimpleBindRequest{Username: p.cfg.BindDN, Password: p.cfg.Password.reveal()})
	}
	if err == nil {
		return nil
	}
	return p.bindErr(err)
}

// bindErr explains a failed bind.
func (p *Prober) bindErr(err error) error {
	msg := p.cfg.Password.scrub(err.Error())
	if ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		return probes.WithFix(fmt.Errorf("the directory server %s rejected the bind as %q: invalid credentials (%s)", p.addr, p.cfg.BindDN, msg),
			"Check SFBEX_LDAP_BIND_DN (a DN, or user@domain) and the password in SFBEX_LDAP_PASSWORD(_FILE); AD's data code says why: 52e wrong password, 532 password expired, 533 account disabled, 775 locked out.")
	}
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode == ldap.ErrorNetwork {
		return probes.WithFix(fmt.Errorf("the directory server %s closed the connection during the bind: %s", p.addr, msg),
			"Check that the domain controller is up and accepts LDAP from the agent (SFBEX_LDAP_URL); the last complete figures stay, marked stale.")
	}
	return probes.WithFix(fmt.Errorf("bind as %q to %s failed: %s", p.cfg.BindDN, p.addr, msg),
		"Check SFBEX_LDAP_BIND_DN and the service account; AD refuses simple binds without TLS when LDAP signing is required: use StartTLS or ldaps://.")
}

// scan reads every page, streaming entries into t.
func (p *Prober) scan(ctx context.Context, conn *ldap.Conn, t *tally, res *Result) error {
	paging := ldap.NewControlPaging(uint32(p.cfg.PageSize))
	u := &user{}
	for {
		req := ldap.NewSearchRequest(p.cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
			p.filter, Attributes, []ldap.Control{paging})
		r := conn.SearchAsync(ctx, req, 64)
		var cookie []byte
		gotControl := false
		for r.Next() {
			if e := r.Entry(); e != nil {
				res.Entries++
				u.dn = e.DN
				u.sip, u.mail, u.uac, u.sipUserEnabled, u.proxies = "", "", "", "", nil
				for _, a := range e.Attributes {
					switch strings.ToLower(a.Name) {
					case "msrtcsip-primaryuseraddress":
						u.sip = first(a.Values)
					case "proxyaddresses":
						u.proxies = a.Values
					case "mail":
						u.mail = first(a.Values)
					case "useraccountcontrol":
						u.uac = first(a.Values)
					case "msrtcsip-userenabled":
						u.sipUserEnabled = strings.ToUpper(first(a.Values))
					}
				}
				t.add(u)
				continue
			}
			if r.Referral() != "" {
				res.Referrals++
			}
			if c, ok := ldap.FindControl(r.Controls(), ldap.ControlTypePaging).(*ldap.ControlPaging); ok {
				cookie, gotControl = c.Cookie, true
			}
		}
		if err := r.Err(); err != nil {
			return p.searchErr(err, res)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res.Pages++
		if !gotControl {
			// A done message with neither error nor paging control: the
			// server ignored paging (and sent everything) or the
			// connection ended. Only the first is complete.
			if conn.IsClosing() {
				return fmt.Errorf("the connection to %s closed during page %d", p.addr, res.Pages)
			}
			return nil
		}
		if len(cookie) == 0 {
			return nil
		}
		paging.SetCookie(cookie)
	}
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

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func (p *Prober) searchErr(err error, res *Result) error {
	msg := p.cfg.Password.scrub(err.Error())
	where := "after " + probes.Count(res.Entries, "entry", "entries") + " in " + probes.Count(res.Pages, "page", "pages")
	switch {
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
