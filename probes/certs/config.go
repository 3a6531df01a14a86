package certs

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// Family checks the server-to-server OAuth certificates in auth metadata
// (one check per publisher), the TLS certificates of every endpoint
// clients and partners use (one check), and certificate files (one check).
var Family = probes.Family{Name: "certs", Vars: &Vars{}, Checks: Checks}

// Vars are the certificate family's variables (docs/configuration.md#certificates).
type Vars struct {
	ExchangeMetadataURLs []string      `env:"SFBEX_EXCHANGE_METADATA_URLS"`
	SFBMetadataURLs      []string      `env:"SFBEX_SFB_METADATA_URLS"`
	AuthMetadataURLs     []string      `env:"SFBEX_AUTH_METADATA_URLS"`
	TLSEndpoints         []string      `env:"SFBEX_TLS_ENDPOINTS"`
	TLSSkipEndpoints     []string      `env:"SFBEX_TLS_SKIP_ENDPOINTS"`
	CertFiles            []string      `env:"SFBEX_CERT_FILES"`
	CertFilesPassword    config.Secret `env:"SFBEX_CERT_FILES_PASSWORD"`
	Interval             time.Duration `env:"SFBEX_CERT_INTERVAL, default=1h"`
	Timeout              time.Duration `env:"SFBEX_CERT_TIMEOUT, default=30s"`
	WarnDays             int           `env:"SFBEX_CERT_WARN_DAYS, default=30"`
	CriticalDays         int           `env:"SFBEX_CERT_CRITICAL_DAYS, default=14"`
	OAuthRenewDays       int           `env:"SFBEX_OAUTH_RENEW_DAYS, default=60"`
	OAuthNextMinDays     int           `env:"SFBEX_OAUTH_NEXT_MIN_DAYS, default=120"`
	// Read to derive TLS endpoints: EWS hosts are endpoints too.
	EWSURLs []string `env:"SFBEX_EWS_URLS"`
}

// TLSRecords are the records TLS endpoints are derived from, the values
// SFBEX_TLS_SKIP_ENDPOINTS accepts (with "all").
var TLSRecords = []string{dns.RecAutodiscover, dns.RecLyncdiscover, dns.RecLyncdiscoverInternal, dns.RecSIPTLS, dns.RecSIPFederationTLS, "ews"}

// settings is the family's configuration, checked.
type settings struct {
	exchangeURLs, sfbURLs, otherURLs []string
	endpoints                        []Endpoint
	skip                             map[string]bool // derived endpoints not to check, by record
	files                            []string
	password                         config.Secret
	interval, timeout                time.Duration
	limits                           Thresholds
	ewsURLs                          []string
}

// LoadThresholds reads the day thresholds (the CMS family judges the
// Exchange Auth Certificate in its snapshots with the same renewal window).
func LoadThresholds(src config.Source) (Thresholds, error) {
	var v Vars
	if err := config.Load(src, &v); err != nil {
		return Thresholds{}, err
	}
	return v.thresholds()
}

func (v *Vars) thresholds() (Thresholds, error) {
	for _, d := range []struct {
		name string
		v    int
		eg   string
	}{{"SFBEX_CERT_WARN_DAYS", v.WarnDays, "30"}, {"SFBEX_CERT_CRITICAL_DAYS", v.CriticalDays, "14"},
		{"SFBEX_OAUTH_RENEW_DAYS", v.OAuthRenewDays, "60"}, {"SFBEX_OAUTH_NEXT_MIN_DAYS", v.OAuthNextMinDays, "120"}} {
		if err := config.Range(d.name, d.v, 1, 3650, d.eg); err != nil {
			return Thresholds{}, err
		}
	}
	if v.CriticalDays > v.WarnDays {
		return Thresholds{}, fmt.Errorf("SFBEX_CERT_CRITICAL_DAYS=%d is more than SFBEX_CERT_WARN_DAYS=%d: the warning would never come first; e.g. SFBEX_CERT_CRITICAL_DAYS=14", v.CriticalDays, v.WarnDays)
	}
	if v.CriticalDays > v.OAuthRenewDays {
		return Thresholds{}, fmt.Errorf("SFBEX_CERT_CRITICAL_DAYS=%d is more than SFBEX_OAUTH_RENEW_DAYS=%d; e.g. SFBEX_OAUTH_RENEW_DAYS=60", v.CriticalDays, v.OAuthRenewDays)
	}
	return Thresholds{WarnDays: v.WarnDays, CriticalDays: v.CriticalDays, OAuthRenewDays: v.OAuthRenewDays, OAuthNextMinDays: v.OAuthNextMinDays, MinRSABits: 2048}, nil
}

func load(env *probes.Env) (*settings, error) {
	var v Vars
	if err := config.Load(env.Vars, &v); err != nil {
		return nil, err
	}
	s := &settings{skip: map[string]bool{}, password: v.CertFilesPassword}
	var err error
	if s.limits, err = v.thresholds(); err != nil {
		return nil, err
	}
	if err := s.metadataURLs(&v, env.Estate); err != nil {
		return nil, err
	}
	hps, err := config.HostPorts("SFBEX_TLS_ENDPOINTS", v.TLSEndpoints, "edge-int.contoso.com:5061,mail.contoso.com:443")
	if err != nil {
		return nil, err
	}
	for _, hp := range hps {
		s.endpoints = append(s.endpoints, Endpoint{Host: hp.Host, Port: hp.Port, Origins: []Origin{{Service: "configured"}}, Names: []string{hp.Host}})
	}
	skips, err := config.OneOf("SFBEX_TLS_SKIP_ENDPOINTS", v.TLSSkipEndpoints, append(slices.Clone(TLSRecords), "all"), dns.RecLyncdiscoverInternal)
	if err != nil {
		return nil, err
	}
	dnsSkip, err := dns.SkipRecords(env.Vars)
	if err != nil {
		return nil, err
	}
	for _, r := range skips {
		s.skip[r] = true
	}
	for r := range dnsSkip {
		s.skip[r] = true
	}
	for _, g := range config.Items(v.CertFiles) {
		if _, err := filepath.Match(g, ""); err != nil {
			return nil, config.InvalidItem("SFBEX_CERT_FILES", g, fmt.Sprintf("a valid glob pattern (%v)", err), "/etc/sfbex/certs/*.pfx,/etc/sfbex/certs/*.pem")
		}
		s.files = append(s.files, g)
	}
	if err := config.Schedule("SFBEX_CERT", v.Interval, v.Timeout); err != nil {
		return nil, err
	}
	s.interval, s.timeout = v.Interval, v.Timeout
	// Checked by the EWS family; here only their hosts matter.
	s.ewsURLs = config.Items(v.EWSURLs)
	return s, nil
}

// metadataURLs reads the three lists of auth metadata URLs. Without
// SFBEX_EXCHANGE_METADATA_URLS, Exchange on premises publishes its document
// on the Autodiscover virtual directory: derived from each email domain.
func (s *settings) metadataURLs(v *Vars, e *estate.Estate) error {
	var err error
	if s.sfbURLs, err = config.HTTPSURLs("SFBEX_SFB_METADATA_URLS", v.SFBMetadataURLs, "https://pool01.contoso.com/metadata/json/1"); err != nil {
		return err
	}
	if s.otherURLs, err = config.HTTPSURLs("SFBEX_AUTH_METADATA_URLS", v.AuthMetadataURLs, "https://accounts.accesscontrol.windows.net/contoso.com/metadata/json/1"); err != nil {
		return err
	}
	if v.ExchangeMetadataURLs != nil {
		if s.exchangeURLs, err = config.HTTPSURLs("SFBEX_EXCHANGE_METADATA_URLS", v.ExchangeMetadataURLs, "https://mail.contoso.com/autodiscover/metadata/json/1"); err != nil {
			return err
		}
	} else {
		s.exchangeURLs = ExchangeMetadataURLs(e, append(slices.Clone(s.sfbURLs), s.otherURLs...))
	}
	lists := []struct {
		name string
		urls []string
	}{{"SFBEX_EXCHANGE_METADATA_URLS", s.exchangeURLs}, {"SFBEX_SFB_METADATA_URLS", s.sfbURLs}, {"SFBEX_AUTH_METADATA_URLS", s.otherURLs}}
	for i, a := range lists {
		for _, b := range lists[i+1:] {
			for _, u := range a.urls {
				if slices.Contains(b.urls, u) {
					return fmt.Errorf("%s and %s both list %s: keep it in the one that names its publisher", a.name, b.name, u)
				}
			}
		}
	}
	return nil
}

// ExchangeMetadataURLs derives Exchange's auth metadata documents from the
// email domains' autodiscover hosts, when Exchange is on premises (or
// hybrid), leaving out URLs already listed for another publisher.
func ExchangeMetadataURLs(e *estate.Estate, listed []string) []string {
	var out []string
	if e.Exchange == estate.Online {
		return nil
	}
	for _, d := range e.EmailDomains {
		u := "https://autodiscover." + d + "/autodiscover/metadata/json/1"
		if !slices.Contains(out, u) && !slices.Contains(listed, u) {
			out = append(out, u)
		}
	}
	return out
}

// Checks builds the certificate checks: one per group of metadata
// documents (exchange, sfb, other), one over every TLS endpoint (merged,
// so an Edge several SIP domains share is one endpoint), one over every
// certificate file.
func Checks(env *probes.Env) ([]*probes.Check, error) {
	s, err := load(env)
	if err != nil {
		return nil, err
	}
	var checks []*probes.Check
	check := func(probe, target string, p interface {
		Probe(ctx context.Context) (probes.Result, error)
	}) {
		checks = append(checks, &probes.Check{Probe: probe, Target: target, Interval: s.interval, Timeout: s.timeout, Run: p.Probe})
	}
	for _, g := range []struct {
		server Server
		urls   []string
	}{{Exchange, s.exchangeURLs}, {SfB, s.sfbURLs}, {Other, s.otherURLs}} {
		if len(g.urls) == 0 {
			continue
		}
		p, err := NewOAuthProber(OAuthConfig{Server: g.server, URLs: g.urls, Domains: env.Estate.SIPDomains, Web: &env.Web.Options, Limits: s.limits})
		if err != nil {
			return nil, fmt.Errorf("oauth check %s: %w", g.server, err)
		}
		check("oauth", string(g.server), p)
	}
	endpoints, srvs := DerivedEndpoints(env.Estate, s.skip, s.ewsURLs)
	endpoints = append(endpoints, s.endpoints...)
	if len(endpoints) > 0 || len(srvs) > 0 {
		// The SRV records serve external clients and federation partners:
		// follow them through the external views.
		p, err := NewTLSProber(TLSConfig{
			Endpoints: endpoints, SRV: srvs, Resolvers: env.Estate.ExternalResolvers(), QueryTimeout: env.Estate.QueryTimeout,
			Web: &env.Web.Options, Limits: s.limits, HandshakeTimeout: min(10*time.Second, s.timeout),
		})
		if err != nil {
			return nil, fmt.Errorf("tls check endpoints: %w", err)
		}
		check("tls", "endpoints", p)
	}
	if len(s.files) > 0 {
		p, err := NewFilesProber(FilesConfig{Patterns: s.files, Password: s.password, Limits: s.limits})
		if err != nil {
			return nil, fmt.Errorf("certfiles check: %w", err)
		}
		check("certfiles", strings.Join(s.files, ","), p)
	}
	return checks, nil
}

// DerivedEndpoints lists the endpoints clients use, derived from the
// domains: autodiscover.<email domain>, lyncdiscover and
// lyncdiscoverinternal.<SIP domain>, the Access Edge through _sip._tls and
// _sipfederationtls._tcp, and the hosts of the EWS URLs. Microsoft 365's
// own endpoints are left out, as are the records in skip ("all" skips
// every one).
func DerivedEndpoints(e *estate.Estate, skip map[string]bool, ewsURLs []string) ([]Endpoint, []SRVSpec) {
	skipped := func(rec string) bool { return skip["all"] || skip[rec] }
	var eps []Endpoint
	var srvs []SRVSpec
	host := func(rec, d string) {
		if !skipped(rec) {
			h := rec + "." + d
			eps = append(eps, Endpoint{Host: h, Port: 443, Origins: []Origin{{Service: rec, Domain: d}}, Names: []string{h}})
		}
	}
	if e.Exchange != estate.Online {
		for _, d := range e.EmailDomains {
			host(dns.RecAutodiscover, d)
		}
	}
	if !skipped("ews") {
		for _, raw := range ewsURLs {
			u, err := url.Parse(raw)
			if err != nil || u.Hostname() == "" {
				continue // the EWS family refuses it with its own error
			}
			port := 443
			if p, err := strconv.Atoi(u.Port()); err == nil {
				port = p
			}
			h := strings.ToLower(u.Hostname())
			eps = append(eps, Endpoint{Host: h, Port: port, Origins: []Origin{{Service: "ews"}}, Names: []string{h}})
		}
	}
	if !e.Lync.InCloud() {
		for _, d := range e.SIPDomains {
			host(dns.RecLyncdiscover, d)
			host(dns.RecLyncdiscoverInternal, d)
			if !skipped(dns.RecSIPTLS) {
				srvs = append(srvs, SRVSpec{Record: dns.RecSIPTLS, Domain: d, Names: []string{"sip." + d}})
			}
			if !skipped(dns.RecSIPFederationTLS) {
				srvs = append(srvs, SRVSpec{Record: dns.RecSIPFederationTLS, Domain: d})
			}
		}
	}
	return eps, srvs
}
