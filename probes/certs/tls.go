package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// Endpoint is a TLS endpoint clients or partners connect to.
type Endpoint struct {
	Host string
	Port int
	// Origins say where the endpoint comes from: a record of a domain
	// ("autodiscover", "lyncdiscover", "_sip._tls", ...) or "configured".
	Origins []Origin
	// Names the leaf certificate must cover: the names clients use.
	Names []string
	// Addrs are the addresses DNS gave for an SRV target; they are dialled
	// when no connect-to override applies, so the probe reaches what the
	// configured resolvers point to.
	Addrs []string
}

// Key is "host:port", the endpoint label.
func (e Endpoint) Key() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// SRVSpec is an SRV record to follow to its targets and ports.
type SRVSpec struct {
	Record string // "_sip._tls" or "_sipfederationtls._tcp"
	Domain string
	// Names the leaf must cover besides the SRV target (sip.<d> for _sip._tls).
	Names []string
}

// FQDN is the record's full name.
func (s SRVSpec) FQDN() string { return s.Record + "." + s.Domain }

// TLSConfig configures the TLS endpoint probe.
type TLSConfig struct {
	Endpoints []Endpoint
	SRV       []SRVSpec
	// Resolvers answer the SRV lookups (the external views: the records
	// serve external clients and federation partners).
	Resolvers    []estate.Resolver
	QueryTimeout time.Duration
	Web          *webclient.Options
	Limits       Thresholds
	// HandshakeTimeout bounds one connection and handshake (default 10s).
	HandshakeTimeout time.Duration
	// MaxParallel bounds concurrent handshakes (default 8).
	MaxParallel int
	Now         func() time.Time
}

// TLSProber handshakes with every endpoint and reports their certificates.
// It keeps the last chain each endpoint presented and the last definitive
// SRV answers, so a failed handshake or lookup shows the last known
// certificates, marked stale, instead of none.
type TLSProber struct {
	cfg TLSConfig

	mu       sync.Mutex
	lastSRV  map[[2]string][]Endpoint // (record fqdn, resolver) -> targets
	lastSeen map[string]*handshake    // endpoint key -> last successful handshake
}

type handshake struct {
	chain   []*x509.Certificate
	version string
	addr    string
	at      time.Time
	note    string // why the handshake ended early, when it did after the certificate
}

// NewTLSProber returns a prober for cfg.
func NewTLSProber(cfg TLSConfig) (*TLSProber, error) {
	if len(cfg.Endpoints) == 0 && len(cfg.SRV) == 0 {
		return nil, errors.New("no TLS endpoint to check")
	}
	if len(cfg.SRV) > 0 && len(cfg.Resolvers) == 0 {
		return nil, errors.New("SRV records to follow but no resolver")
	}
	if cfg.Web == nil {
		cfg.Web = &webclient.Options{}
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	if cfg.MaxParallel <= 0 {
		cfg.MaxParallel = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return &TLSProber{cfg: cfg, lastSRV: map[[2]string][]Endpoint{}, lastSeen: map[string]*handshake{}}, nil
}

// TLSResult is one run over every endpoint.
type TLSResult struct {
	Endpoints []EndpointResult `json:"endpoints"`
	findings  []probes.Finding
}

// Findings implements probes.Result.
func (r *TLSResult) Findings() []probes.Finding { return r.findings }

// Origin is where an endpoint comes from.
type Origin struct {
	Service string `json:"service"`
	Domain  string `json:"domain,omitempty"`
}

// EndpointResult is what is known about one endpoint.
type EndpointResult struct {
	Endpoint string   `json:"endpoint"`
	Origins  []Origin `json:"origins"`
	// Up: the latest handshake succeeded.
	Up bool `json:"up"`
	// Known: some handshake succeeded, now or earlier (then Stale).
	Known     bool      `json:"known"`
	Stale     bool      `json:"stale"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
	// Address is where the probe connected (a connect-to override or an
	// address from DNS).
	Address    string `json:"address,omitempty"`
	TLSVersion string `json:"tls_version,omitempty"`
	// HandshakeNote says why the handshake ended after the server's
	// certificate (a federation port that requires a client certificate).
	HandshakeNote string       `json:"handshake_note,omitempty"`
	Chain         []ChainCert  `json:"chain"`
	Verify        Verification `json:"verify"`
	Names         []NameCheck  `json:"names"`
}

// ChainCert is a certificate the endpoint presented.
type ChainCert struct {
	Cert
	Role string `json:"role"` // leaf, intermediate or root
}

// Verification is the verdict on the chain, reached after the handshake
// so that the facts are reported whatever it is.
type Verification struct {
	OK bool `json:"ok"`
	// Reason: ok, expired, not_yet_valid, name_mismatch, unknown_authority,
	// incompatible_usage, invalid or other (a bounded label value).
	Reason string `json:"reason"`
	Error  string `json:"error,omitempty"`
	// Skipped: the admin turned verification off for the host
	// (SFBEX_TLS_INSECURE_HOSTS); the verdict is still computed.
	Skipped bool `json:"skipped,omitempty"`
}

// VerifyReasons lists every Verification.Reason value.
var VerifyReasons = []string{"ok", "expired", "not_yet_valid", "name_mismatch", "unknown_authority", "incompatible_usage", "invalid", "other"}

// NameCheck says whether the leaf covers a name clients use.
type NameCheck struct {
	Name    string `json:"name"`
	Covered bool   `json:"covered"`
}

// Probe follows the SRV records, handshakes with every endpoint and judges
// the certificates. The error lists lookups and handshakes that failed.
func (p *TLSProber) Probe(ctx context.Context) (probes.Result, error) {
	var errs []error
	endpoints, srvErrs := p.endpoints(ctx)
	errs = append(errs, srvErrs...)

	// Each endpoint gets its share of the run, so a few that hang cannot
	// leave the ones queued behind them without a handshake.
	shakes := make([]*handshake, len(endpoints))
	herrs := make([]error, len(endpoints))
	probes.Walk(ctx, len(endpoints), p.cfg.MaxParallel, p.cfg.HandshakeTimeout, func(mctx context.Context, i int, share time.Duration) {
		shakes[i], herrs[i] = p.handshake(mctx, endpoints[i])
		herrs[i] = probes.MemberErr(mctx, ctx, share, herrs[i])
	})

	now := p.cfg.Now()
	res := &TLSResult{}
	p.mu.Lock()
	keep := map[string]bool{}
	for i, ep := range endpoints {
		key := ep.Key()
		keep[key] = true
		er := EndpointResult{Endpoint: key, Origins: ep.Origins}
		if herrs[i] == nil {
			p.lastSeen[key] = shakes[i]
			er.Up = true
		} else {
			er.Error = herrs[i].Error()
			errs = append(errs, probes.WithFix(fmt.Errorf("%s: %w", key, herrs[i]), handshakeFix(ep, herrs[i])))
		}
		if h := p.lastSeen[key]; h != nil {
			er.Known, er.Stale, er.CheckedAt, er.Address, er.TLSVersion, er.HandshakeNote = true, !er.Up, h.at, h.addr, h.version, h.note
			p.fill(&er, ep, h, now)
		}
		res.Endpoints = append(res.Endpoints, er)
	}
	for key := range p.lastSeen { // endpoints DNS no longer gives
		if !keep[key] {
			delete(p.lastSeen, key)
		}
	}
	p.mu.Unlock()
	p.judge(res, endpoints, now)
	return res, errors.Join(errs...)
}

// endpoints returns the configured endpoints and the SRV targets, merged
// by host:port, in a stable order.
func (p *TLSProber) endpoints(ctx context.Context) ([]Endpoint, []error) {
	var errs []error
	all := slices.Clone(p.cfg.Endpoints)
	type job struct {
		spec SRVSpec
		res  estate.Resolver
	}
	var jobs []job
	for _, s := range p.cfg.SRV {
		for _, r := range p.cfg.Resolvers {
			jobs = append(jobs, job{s, r})
		}
	}
	answers := make([]dns.Answer, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = dns.Resolve(ctx, j.res, j.spec.FQDN(), mdns.TypeSRV, p.cfg.QueryTimeout)
		}()
	}
	wg.Wait()
	p.mu.Lock()
	for i, j := range jobs {
		a := answers[i]
		key := [2]string{j.spec.FQDN(), j.res.Name}
		if a.Outcome.Definitive() {
			var eps []Endpoint
			for _, s := range a.SRVs {
				if s.Target == "" || s.Target == "." || s.Port == 0 {
					continue // "service not available here"
				}
				names := append([]string{s.Target}, j.spec.Names...)
				eps = append(eps, Endpoint{Host: s.Target, Port: int(s.Port), Origins: []Origin{{j.spec.Record, j.spec.Domain}}, Names: names, Addrs: s.Addresses})
			}
			p.lastSRV[key] = eps
		} else {
			errs = append(errs, probes.WithFix(fmt.Errorf("SRV %s via %s: %s", j.spec.FQDN(), j.res.Name, a.Detail),
				fmt.Sprintf("Check resolver %s (the dns check shows the same lookup); until it answers, the endpoints of its last answer are checked.", j.res)))
		}
		all = append(all, p.lastSRV[key]...)
	}
	p.mu.Unlock()
	return mergeEndpoints(all), errs
}

// mergeEndpoints joins endpoints with the same host:port: their names and
// addresses are united, their origins listed.
func mergeEndpoints(in []Endpoint) []Endpoint {
	byKey := map[string]*Endpoint{}
	var order []string
	for _, ep := range in {
		ep.Host = strings.TrimSuffix(strings.ToLower(ep.Host), ".")
		key := ep.Key()
		m, ok := byKey[key]
		if !ok {
			c := ep
			c.Origins, c.Names, c.Addrs = nil, nil, nil
			byKey[key], m = &c, &c
			order = append(order, key)
		}
		for _, o := range ep.Origins {
			if !slices.Contains(m.Origins, o) {
				m.Origins = append(m.Origins, o)
			}
		}
		for _, n := range ep.Names {
			n = strings.TrimSuffix(strings.ToLower(n), ".")
			if n != "" && !slices.Contains(m.Names, n) {
				m.Names = append(m.Names, n)
			}
		}
		for _, a := range ep.Addrs {
			if !slices.Contains(m.Addrs, a) {
				m.Addrs = append(m.Addrs, a)
			}
		}
	}
	sort.Strings(order)
	out := make([]Endpoint, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out
}

// handshake connects and completes a TLS handshake without verifying, so
// that an expired, untrusted or misnamed certificate is still seen.
func (p *TLSProber) handshake(ctx context.Context, ep Endpoint) (*handshake, error) {
	raw, addr, err := p.dial(ctx, ep)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	cfg := p.cfg.Web.TLSConfig(ep.Host)
	cfg.InsecureSkipVerify = true //nolint:gosec // verified after the handshake, in fill, so that facts are reported whatever the verdict
	// Keep the chain as soon as it arrives: an Edge's federation port asks
	// for a client certificate and may end a TLS 1.2 handshake after
	// sending its own, which is all the probe needs.
	var presented []*x509.Certificate
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		for _, r := range raw {
			if c, err := x509.ParseCertificate(r); err == nil {
				presented = append(presented, c)
			}
		}
		return nil
	}
	conn := tls.Client(raw, cfg)
	herr := conn.HandshakeContext(ctx)
	st := conn.ConnectionState()
	_ = conn.Close()
	h := &handshake{chain: st.PeerCertificates, addr: addr, at: p.cfg.Now()}
	if st.Version != 0 {
		h.version = tls.VersionName(st.Version)
	}
	if len(h.chain) == 0 {
		h.chain = presented
	}
	switch {
	case herr != nil && len(h.chain) == 0:
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, herr)
	case herr != nil:
		h.note = "the handshake ended after the server's certificate: " + herr.Error()
	case len(h.chain) == 0:
		return nil, fmt.Errorf("%s presented no certificate", addr)
	}
	return h, nil
}

// dial connects where a client would: a connect-to override if there is
// one, else the SRV target's addresses from the configured resolvers, else
// the host name through the system resolver.
func (p *TLSProber) dial(ctx context.Context, ep Endpoint) (net.Conn, string, error) {
	return p.cfg.Web.DialTarget(ctx, ep.Key(), ep.Addrs, ep.Port)
}

func handshakeFix(ep Endpoint, err error) string {
	if strings.Contains(err.Error(), "TLS handshake") {
		return fmt.Sprintf("%s accepts connections but the TLS handshake fails: check that it serves TLS 1.2 or later on port %d and has a certificate bound (netsh http show sslcert on Windows); see docs/runbooks.md#tls-endpoint-unreachable.", ep.Host, ep.Port)
	}
	if slices.ContainsFunc(ep.Origins, func(o Origin) bool { return strings.HasPrefix(o.Service, "_") }) {
		return fmt.Sprintf("Check that the agent can reach %s on TCP %d (firewall, the SRV record's target and port); until it answers, its last known certificates are shown; see docs/runbooks.md#tls-endpoint-unreachable.", ep.Host, ep.Port)
	}
	return fmt.Sprintf("Check that the agent can reach %s on TCP %d (DNS, firewall, SFBEX_CONNECT_TO); until it answers, its last known certificates are shown; see docs/runbooks.md#tls-endpoint-unreachable.", ep.Host, ep.Port)
}

// fill describes and verifies the chain h presented, at now.
func (p *TLSProber) fill(er *EndpointResult, ep Endpoint, h *handshake, now time.Time) {
	seen := map[string]bool{}
	for i, c := range h.chain {
		d := Describe(c)
		if seen[d.Thumbprint] {
			continue // some servers send a certificate twice
		}
		seen[d.Thumbprint] = true
		role := "intermediate"
		switch {
		case i == 0:
			role = "leaf"
		case d.SelfSigned && c.IsCA:
			role = "root"
		}
		er.Chain = append(er.Chain, ChainCert{Cert: d, Role: role})
	}
	leaf := h.chain[0]
	inter := x509.NewCertPool()
	for _, c := range h.chain[1:] {
		inter.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: p.cfg.Web.RootCAs, Intermediates: inter, DNSName: ep.Host, CurrentTime: now})
	er.Verify = Verification{OK: err == nil, Reason: VerifyReason(err, h.chain, now), Skipped: p.cfg.Web.Insecure(ep.Host)}
	if err != nil {
		er.Verify.Error = err.Error()
	}
	for _, n := range ep.Names {
		er.Names = append(er.Names, NameCheck{Name: n, Covered: leaf.VerifyHostname(n) == nil})
	}
}

// VerifyReason names why a chain did not verify (x509's error), as the
// reason label of the TLS and SIP families shows it.
func VerifyReason(err error, chain []*x509.Certificate, now time.Time) string {
	if err == nil {
		return "ok"
	}
	var inv x509.CertificateInvalidError
	var host x509.HostnameError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		for _, c := range chain {
			if now.Before(c.NotBefore) {
				return "not_yet_valid"
			}
		}
		return "expired"
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		return "incompatible_usage"
	case errors.As(err, &inv):
		return "invalid"
	case errors.As(err, &host):
		return "name_mismatch"
	case errors.As(err, &ua):
		return "unknown_authority"
	}
	return "other"
}

// judge turns the endpoints into findings.
func (p *TLSProber) judge(res *TLSResult, eps []Endpoint, now time.Time) {
	lim := p.cfg.Limits
	add := func(sev probes.Severity, subject, problem, fix string) {
		res.findings = append(res.findings, probes.Finding{Severity: sev, Subject: subject, Problem: problem, Fix: fix})
	}
	for i := range res.Endpoints {
		er := &res.Endpoints[i]
		if !er.Known {
			continue
		}
		ep := eps[i]
		subject := "TLS certificate of " + er.Endpoint + " (" + describeOrigins(er.Origins) + ")"
		var missing []string
		for _, n := range er.Names {
			if !n.Covered {
				missing = append(missing, n.Name)
			}
		}
		if len(missing) > 0 {
			add(probes.Critical, subject, fmt.Sprintf("the certificate (CN=%s, names %s) does not cover %s, which clients use: they refuse the connection", er.Chain[0].SubjectCN, strings.Join(er.Chain[0].DNSNames, " "), strings.Join(missing, ", ")),
				fmt.Sprintf("Issue a certificate whose subject alternative names include %s and bind it to %s (Edge: Set-CsCertificate -Type AccessEdgeExternal; reverse proxy and Exchange: the listener or IIS binding); see docs/runbooks.md#tls-certificate-name-mismatch.", strings.Join(missing, ", "), ep.Key()))
		}
		switch r := er.Verify.Reason; {
		case er.Verify.OK, r == "expired", r == "not_yet_valid", r == "name_mismatch":
			// expiry and names are findings of their own
		case er.Verify.Skipped:
			add(probes.Info, subject, "does not verify ("+r+"), but SFBEX_TLS_INSECURE_HOSTS turns verification off for "+ep.Host, "Remove the host from SFBEX_TLS_INSECURE_HOSTS once clients trust its certificate.")
		case r == "unknown_authority":
			add(probes.Warning, subject, "is not issued by a CA the agent trusts: "+er.Verify.Error,
				"If your clients and partners trust this CA, add its certificate to SFBEX_CA_FILE; otherwise replace the certificate with one from a CA they trust (a public CA for the Edge and the reverse proxy); see docs/runbooks.md#tls-certificate-not-trusted.")
		default:
			add(probes.Warning, subject, "does not verify ("+r+"): "+er.Verify.Error, "Replace the certificate with one valid for TLS server authentication; see docs/runbooks.md#tls-certificate-not-trusted.")
		}
		for _, c := range er.Chain {
			if c.Role == "root" {
				continue // clients use their own copy of the root
			}
			what := "the " + c.Role + " certificate " + strconv.Quote(c.SubjectCN)
			left := c.DaysLeft(now)
			fix := fmt.Sprintf("Renew the certificate of %s and bind the new one; see docs/runbooks.md#tls-certificate-expiring.", ep.Key())
			if c.Role == "intermediate" {
				fix = fmt.Sprintf("Install the CA's current intermediate certificate on %s, or renew the certificate under a current chain; see docs/runbooks.md#tls-certificate-expiring.", ep.Key())
			}
			switch {
			case c.Expired(now):
				add(probes.Critical, subject, fmt.Sprintf("%s expired on %s: clients refuse the connection", what, day(c.NotAfter)), fix)
			case c.NotYetValid(now):
				add(probes.Critical, subject, fmt.Sprintf("%s is not valid until %s", what, day(c.NotBefore)), fix)
			case left < float64(lim.CriticalDays):
				add(probes.Critical, subject, fmt.Sprintf("%s expires in %s (%s)", what, days(left), day(c.NotAfter)), fix)
			case left < float64(lim.WarnDays):
				add(probes.Warning, subject, fmt.Sprintf("%s expires in %s (%s)", what, days(left), day(c.NotAfter)), fix)
			}
		}
	}
}

func describeOrigins(os []Origin) string {
	var parts []string
	for _, o := range os {
		switch {
		case o.Domain == "":
			parts = append(parts, o.Service)
		case strings.HasPrefix(o.Service, "_"):
			parts = append(parts, "SRV "+o.Service+"."+o.Domain)
		default:
			parts = append(parts, o.Service+"."+o.Domain)
		}
	}
	return strings.Join(parts, ", ")
}

// Details lists every endpoint and its chain, with days left counted now.
func (r *TLSResult) Details() []string {
	now := time.Now()
	var out []string
	for _, er := range r.Endpoints {
		line := er.Endpoint + " (" + describeOrigins(er.Origins) + ")"
		if !er.Known {
			out = append(out, line+": never reached: "+er.Error)
			continue
		}
		if er.Stale {
			line += fmt.Sprintf(" [stale: showing the handshake of %s; latest: %s]", er.CheckedAt.UTC().Format(time.RFC3339), er.Error)
		}
		line += " via " + er.Address
		if er.TLSVersion != "" {
			line += ", " + er.TLSVersion
		}
		line += ": "
		switch {
		case er.Verify.OK:
			line += "verified"
		case er.Verify.Skipped:
			line += "NOT VERIFIED (" + er.Verify.Reason + ", verification off for this host)"
		default:
			line += "NOT VERIFIED (" + er.Verify.Reason + ")"
		}
		var names []string
		for _, n := range er.Names {
			if n.Covered {
				names = append(names, n.Name+" covered")
			} else {
				names = append(names, n.Name+" NOT COVERED")
			}
		}
		if len(names) > 0 {
			line += "; " + strings.Join(names, ", ")
		}
		if er.HandshakeNote != "" {
			line += " (" + er.HandshakeNote + ")"
		}
		out = append(out, line)
		for _, c := range er.Chain {
			out = append(out, "  "+c.Role+": "+c.Line(now))
		}
	}
	return out
}
