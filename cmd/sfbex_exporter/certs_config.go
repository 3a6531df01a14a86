package main

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/certs"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// CertSettings configures the certificate checks.
type CertSettings struct {
	// Metadata URLs per publisher; a URL is in one list only.
	ExchangeURLs, SFBURLs, OtherURLs []string
	// Endpoints are the SFBEX_TLS_ENDPOINTS.
	Endpoints []certs.Endpoint
	// Skip lists derived TLS endpoints not to check, by record name.
	Skip              map[string]bool
	Files             []string
	Password          certs.Secret
	Interval, Timeout time.Duration
	Limits            certs.Thresholds
}

// tlsRecords are the records TLS endpoints are derived from, the values
// SFBEX_TLS_SKIP_ENDPOINTS accepts (with "all").
var tlsRecords = []string{dns.RecAutodiscover, dns.RecLyncdiscover, dns.RecLyncdiscoverInternal, dns.RecSIPTLS, dns.RecSIPFederationTLS, "ews"}

// certSettings checks and parses the certificate variables.
func (s *Settings) certSettings(c *Config) error {
	cs := &s.Certs
	cs.Skip = map[string]bool{}
	var err error
	if cs.SFBURLs, err = metadataURLs("SFBEX_SFB_METADATA_URLS", c.SFBMetadataURLs, "https://pool01.contoso.com/metadata/json/1"); err != nil {
		return err
	}
	if cs.OtherURLs, err = metadataURLs("SFBEX_AUTH_METADATA_URLS", c.AuthMetadataURLs, "https://accounts.accesscontrol.windows.net/contoso.com/metadata/json/1"); err != nil {
		return err
	}
	if c.ExchangeMetadataURLs != nil {
		if cs.ExchangeURLs, err = metadataURLs("SFBEX_EXCHANGE_METADATA_URLS", c.ExchangeMetadataURLs, "https://mail.contoso.com/autodiscover/metadata/json/1"); err != nil {
			return err
		}
	} else if s.Exchange != estate.Online {
		// Exchange publishes the document on its Autodiscover virtual
		// directory: derive it from each email domain's autodiscover host.
		for _, d := range s.EmailDomains {
			u := "https://autodiscover." + d + "/autodiscover/metadata/json/1"
			if !slices.Contains(cs.ExchangeURLs, u) && !slices.Contains(cs.SFBURLs, u) && !slices.Contains(cs.OtherURLs, u) {
				cs.ExchangeURLs = append(cs.ExchangeURLs, u)
			}
		}
	}
	lists := []struct {
		name string
		urls []string
	}{{"SFBEX_EXCHANGE_METADATA_URLS", cs.ExchangeURLs}, {"SFBEX_SFB_METADATA_URLS", cs.SFBURLs}, {"SFBEX_AUTH_METADATA_URLS", cs.OtherURLs}}
	for i, a := range lists {
		for _, b := range lists[i+1:] {
			for _, u := range a.urls {
				if slices.Contains(b.urls, u) {
					return fmt.Errorf("%s and %s both list %s: keep it in the one that names its publisher", a.name, b.name, u)
				}
			}
		}
	}

	for _, item := range c.TLSEndpoints {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		host, port, err := net.SplitHostPort(item)
		p, perr := strconv.Atoi(port)
		if err != nil || perr != nil || p < 1 || p > 65535 || !validHost(host) {
			return fmt.Errorf("SFBEX_TLS_ENDPOINTS: %q is not host:port; e.g. SFBEX_TLS_ENDPOINTS=edge-int.contoso.com:5061,mail.contoso.com:443", item)
		}
		host = strings.TrimSuffix(strings.ToLower(host), ".")
		cs.Endpoints = append(cs.Endpoints, certs.Endpoint{Host: host, Port: p, Origins: []certs.Origin{{Service: "configured"}}, Names: []string{host}})
	}
	for _, r := range c.TLSSkipEndpoints {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if r != "all" && !slices.Contains(tlsRecords, r) {
			return fmt.Errorf("SFBEX_TLS_SKIP_ENDPOINTS: %q is not a derived endpoint; use some of %s, or all; e.g. SFBEX_TLS_SKIP_ENDPOINTS=lyncdiscoverinternal", r, strings.Join(tlsRecords, ","))
		}
		cs.Skip[r] = true
	}

	for _, g := range c.CertFiles {
		g = strings.TrimSpace(g)
		if g == "" {
			continue
		}
		if _, err := filepath.Match(g, ""); err != nil {
			return fmt.Errorf("SFBEX_CERT_FILES: %q is not a valid glob pattern (%v); e.g. SFBEX_CERT_FILES=/etc/sfbex/certs/*.pfx,/etc/sfbex/certs/*.pem", g, err)
		}
		cs.Files = append(cs.Files, g)
	}
	// The password is never echoed, not even in an error.
	cs.Password = certs.Secret(c.CertFilesPassword)

	if c.CertInterval <= 0 {
		return fmt.Errorf("SFBEX_CERT_INTERVAL=%s must be positive; e.g. SFBEX_CERT_INTERVAL=1h", c.CertInterval)
	}
	if c.CertTimeout <= 0 || c.CertTimeout > c.CertInterval {
		return fmt.Errorf("SFBEX_CERT_TIMEOUT=%s must be positive and at most SFBEX_CERT_INTERVAL=%s; e.g. SFBEX_CERT_TIMEOUT=30s", c.CertTimeout, c.CertInterval)
	}
	cs.Interval, cs.Timeout = c.CertInterval, c.CertTimeout
	for _, d := range []struct {
		name string
		v    int
		eg   string
	}{{"SFBEX_CERT_WARN_DAYS", c.CertWarnDays, "30"}, {"SFBEX_CERT_CRITICAL_DAYS", c.CertCriticalDays, "14"},
		{"SFBEX_OAUTH_RENEW_DAYS", c.OAuthRenewDays, "60"}, {"SFBEX_OAUTH_NEXT_MIN_DAYS", c.OAuthNextMinDays, "120"}} {
		if d.v < 1 || d.v > 3650 {
			return fmt.Errorf("%s=%d must be a number of days from 1 to 3650; e.g. %s=%s", d.name, d.v, d.name, d.eg)
		}
	}
	if c.CertCriticalDays > c.CertWarnDays {
		return fmt.Errorf("SFBEX_CERT_CRITICAL_DAYS=%d is more than SFBEX_CERT_WARN_DAYS=%d: the warning would never come first; e.g. SFBEX_CERT_CRITICAL_DAYS=14", c.CertCriticalDays, c.CertWarnDays)
	}
	if c.CertCriticalDays > c.OAuthRenewDays {
		return fmt.Errorf("SFBEX_CERT_CRITICAL_DAYS=%d is more than SFBEX_OAUTH_RENEW_DAYS=%d; e.g. SFBEX_OAUTH_RENEW_DAYS=60", c.CertCriticalDays, c.OAuthRenewDays)
	}
	cs.Limits = certs.Thresholds{
		WarnDays: c.CertWarnDays, CriticalDays: c.CertCriticalDays,
		OAuthRenewDays: c.OAuthRenewDays, OAuthNextMinDays: c.OAuthNextMinDays, MinRSABits: 2048,
	}
	return nil
}

// metadataURLs checks a list of auth metadata URLs: absolute https URLs,
// each once.
func metadataURLs(variable string, in []string, example string) ([]string, error) {
	var out []string
	for _, raw := range in {
		raw = strings.TrimSpace(raw)
		if raw == "" || raw == "none" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || !validHost(u.Hostname()) {
			return nil, fmt.Errorf("%s: %q is not an https URL; e.g. %s=%s", variable, raw, variable, example)
		}
		u.Host = strings.ToLower(u.Host)
		if s := u.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// validHost accepts a DNS name or an IP address.
func validHost(h string) bool {
	if net.ParseIP(strings.Trim(h, "[]")) != nil {
		return true
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if len(l) > 63 || !hostLabelRe.MatchString(l) && !(strings.HasPrefix(l, "_") && hostLabelRe.MatchString(l[1:])) {
			return false
		}
	}
	return true
}

// certChecks builds the certificate checks: one per group of metadata
// documents (exchange, sfb, other), one over every TLS endpoint (merged,
// so an Edge several SIP domains share is one endpoint), one over every
// certificate file.
func certChecks(s *Settings) ([]*probes.Check, error) {
	cs := &s.Certs
	var checks []*probes.Check
	add := func(probe, target string, run func() (*probes.Check, error)) error {
		c, err := run()
		if err != nil {
			return fmt.Errorf("%s check %s: %w", probe, target, err)
		}
		c.Probe, c.Target, c.Interval, c.Timeout = probe, target, cs.Interval, cs.Timeout
		checks = append(checks, c)
		return nil
	}
	for _, g := range []struct {
		server certs.Server
		urls   []string
	}{{certs.Exchange, cs.ExchangeURLs}, {certs.SfB, cs.SFBURLs}, {certs.Other, cs.OtherURLs}} {
		if len(g.urls) == 0 {
			continue
		}
		err := add("oauth", string(g.server), func() (*probes.Check, error) {
			p, err := certs.NewOAuthProber(certs.OAuthConfig{Server: g.server, URLs: g.urls, Domains: s.SIPDomains, Web: &s.Web, Limits: cs.Limits})
			if err != nil {
				return nil, err
			}
			return &probes.Check{Run: p.Probe}, nil
		})
		if err != nil {
			return nil, err
		}
	}

	endpoints, srvs := derivedTLS(s)
	endpoints = append(endpoints, cs.Endpoints...)
	if len(endpoints) > 0 || len(srvs) > 0 {
		// The SRV records serve external clients and federation partners:
		// follow them through the external views.
		var resolvers []estate.Resolver
		for _, r := range s.Resolvers {
			if !r.Internal {
				resolvers = append(resolvers, r)
			}
		}
		if len(resolvers) == 0 {
			resolvers = s.Resolvers
		}
		err := add("tls", "endpoints", func() (*probes.Check, error) {
			p, err := certs.NewTLSProber(certs.TLSConfig{
				Endpoints: endpoints, SRV: srvs, Resolvers: resolvers, QueryTimeout: s.DNSQueryTimeout,
				Web: &s.Web, Limits: cs.Limits, HandshakeTimeout: min(10*time.Second, cs.Timeout),
			})
			if err != nil {
				return nil, err
			}
			return &probes.Check{Run: p.Probe}, nil
		})
		if err != nil {
			return nil, err
		}
	}

	if len(cs.Files) > 0 {
		err := add("certfiles", strings.Join(cs.Files, ","), func() (*probes.Check, error) {
			p, err := certs.NewFilesProber(certs.FilesConfig{Patterns: cs.Files, Password: cs.Password, Limits: cs.Limits})
			if err != nil {
				return nil, err
			}
			return &probes.Check{Run: p.Probe}, nil
		})
		if err != nil {
			return nil, err
		}
	}
	return checks, nil
}

// derivedTLS lists the endpoints clients use, derived from the domains:
// autodiscover.<email domain>, lyncdiscover and lyncdiscoverinternal.<SIP
// domain>, the Access Edge through _sip._tls and _sipfederationtls._tcp,
// and the hosts of SFBEX_EWS_URLS. Microsoft 365's own endpoints are left
// out, as are records skipped in SFBEX_TLS_SKIP_ENDPOINTS or
// SFBEX_DNS_SKIP_RECORDS.
func derivedTLS(s *Settings) ([]certs.Endpoint, []certs.SRVSpec) {
	cs := &s.Certs
	skip := func(rec string) bool { return cs.Skip["all"] || cs.Skip[rec] || s.Skip[rec] }
	var eps []certs.Endpoint
	var srvs []certs.SRVSpec
	host := func(rec, d string) {
		if !skip(rec) {
			h := rec + "." + d
			eps = append(eps, certs.Endpoint{Host: h, Port: 443, Origins: []certs.Origin{{Service: rec, Domain: d}}, Names: []string{h}})
		}
	}
	if s.Exchange != estate.Online {
		for _, d := range s.EmailDomains {
			host(dns.RecAutodiscover, d)
		}
	}
	if !skip("ews") {
		for _, raw := range s.HTTP.EWSURLs {
			u, err := url.Parse(raw)
			if err != nil || u.Hostname() == "" {
				continue // checked by SFBEX_EWS_URLS's own validation
			}
			port := 443
			if p, err := strconv.Atoi(u.Port()); err == nil {
				port = p
			}
			h := strings.ToLower(u.Hostname())
			eps = append(eps, certs.Endpoint{Host: h, Port: port, Origins: []certs.Origin{{Service: "ews"}}, Names: []string{h}})
		}
	}
	if s.Lync != estate.Online {
		for _, d := range s.SIPDomains {
			host(dns.RecLyncdiscover, d)
			host(dns.RecLyncdiscoverInternal, d)
			if !skip(dns.RecSIPTLS) {
				srvs = append(srvs, certs.SRVSpec{Record: dns.RecSIPTLS, Domain: d, Names: []string{"sip." + d}})
			}
			if !skip(dns.RecSIPFederationTLS) {
				srvs = append(srvs, certs.SRVSpec{Record: dns.RecSIPFederationTLS, Domain: d})
			}
		}
	}
	return eps, srvs
}
