package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/directory"
)

// DirectorySettings configures the directory scan (probes/directory).
// Enabled only when SFBEX_LDAP_URL is set.
type DirectorySettings struct {
	Config            directory.Config
	Interval, Timeout time.Duration
}

// directorySettings checks and parses the SFBEX_LDAP_* variables.
func (s *Settings) directorySettings(c *Config) error {
	raw := strings.TrimSpace(c.LDAPURL)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" || !validHost(u.Hostname()) || u.User != nil || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("SFBEX_LDAP_URL=%q is not ldap://host[:port] or ldaps://host[:port]; e.g. SFBEX_LDAP_URL=ldap://dc01.contoso.com (StartTLS) or ldaps://dc01.contoso.com:636", raw)
	}
	cfg := directory.Config{
		URL: u.Scheme + "://" + strings.ToLower(u.Host), StartTLS: c.LDAPStartTLS && u.Scheme == "ldap",
		BindDN: strings.TrimSpace(c.LDAPBindDN), Password: directory.Secret(c.LDAPPassword),
		BaseDN: strings.TrimSpace(c.LDAPBaseDN), Filter: strings.TrimSpace(c.LDAPFilter),
		PageSize: c.LDAPPageSize, SIPDomains: s.SIPDomains, MinCoverage: c.LDAPMinCoverage, SampleSize: 10, Web: &s.Web,
	}
	if cfg.BaseDN == "" {
		return fmt.Errorf("SFBEX_LDAP_BASE_DN is not set but SFBEX_LDAP_URL is: name where the users are; e.g. SFBEX_LDAP_BASE_DN=DC=contoso,DC=com")
	}
	if _, err := ldap.ParseDN(cfg.BaseDN); err != nil {
		return fmt.Errorf("SFBEX_LDAP_BASE_DN=%q is not a DN (%v); e.g. SFBEX_LDAP_BASE_DN=DC=contoso,DC=com", cfg.BaseDN, err)
	}
	if cfg.BindDN == "" && c.LDAPPassword != "" {
		return fmt.Errorf("SFBEX_LDAP_PASSWORD is set without SFBEX_LDAP_BIND_DN; e.g. SFBEX_LDAP_BIND_DN=svc-sfbex@contoso.com")
	}
	if cfg.BindDN != "" && c.LDAPPassword == "" {
		return fmt.Errorf("SFBEX_LDAP_BIND_DN=%q has no password: set SFBEX_LDAP_PASSWORD or SFBEX_LDAP_PASSWORD_FILE, e.g. SFBEX_LDAP_PASSWORD_FILE=/run/secrets/ldap-password", cfg.BindDN)
	}
	switch strings.ToLower(strings.TrimSpace(c.LDAPAuth)) {
	case "simple":
	case "ntlm":
		cfg.NTLM = true
	default:
		return fmt.Errorf("SFBEX_LDAP_AUTH=%q is not simple or ntlm; e.g. SFBEX_LDAP_AUTH=ntlm with SFBEX_LDAP_BIND_DN=CONTOSO\\svc-sfbex", c.LDAPAuth)
	}
	if cfg.Filter != "" {
		if _, err := ldap.CompileFilter(cfg.Filter); err != nil {
			return fmt.Errorf("SFBEX_LDAP_FILTER=%q is not an LDAP filter (%v); e.g. SFBEX_LDAP_FILTER=%s", cfg.Filter, err, directory.DefaultFilter)
		}
	}
	switch strings.ToLower(strings.TrimSpace(c.LDAPDisabled)) {
	case "exclude":
	case "include":
		cfg.IncludeDisabled = true
	default:
		return fmt.Errorf("SFBEX_LDAP_DISABLED_ACCOUNTS=%q is not exclude or include; e.g. SFBEX_LDAP_DISABLED_ACCOUNTS=include for a server without AD's bit-and rule", c.LDAPDisabled)
	}
	if c.LDAPPageSize < 1 || c.LDAPPageSize > 1000 {
		return fmt.Errorf("SFBEX_LDAP_PAGE_SIZE=%d must be from 1 to 1000 (AD's MaxPageSize); e.g. SFBEX_LDAP_PAGE_SIZE=1000", c.LDAPPageSize)
	}
	if c.LDAPMinCoverage < 0 || c.LDAPMinCoverage > 1 {
		return fmt.Errorf("SFBEX_LDAP_MIN_COVERAGE_RATIO=%g must be from 0 to 1; e.g. SFBEX_LDAP_MIN_COVERAGE_RATIO=0.95", c.LDAPMinCoverage)
	}
	if c.LDAPInterval <= 0 {
		return fmt.Errorf("SFBEX_LDAP_INTERVAL=%s must be positive; e.g. SFBEX_LDAP_INTERVAL=15m", c.LDAPInterval)
	}
	if c.LDAPTimeout <= 0 || c.LDAPTimeout > c.LDAPInterval {
		return fmt.Errorf("SFBEX_LDAP_TIMEOUT=%s must be positive and at most SFBEX_LDAP_INTERVAL=%s; e.g. SFBEX_LDAP_TIMEOUT=5m", c.LDAPTimeout, c.LDAPInterval)
	}
	if _, err := directory.NewProber(cfg); err != nil {
		return fmt.Errorf("SFBEX_LDAP_*: %v", err)
	}
	s.Directory = &DirectorySettings{Config: cfg, Interval: c.LDAPInterval, Timeout: c.LDAPTimeout}
	return nil
}

// directoryChecks builds the directory scan, if configured.
func directoryChecks(s *Settings) ([]*probes.Check, error) {
	if s.Directory == nil {
		return nil, nil
	}
	p, err := directory.NewProber(s.Directory.Config)
	if err != nil {
		return nil, fmt.Errorf("directory check: %w", err)
	}
	return []*probes.Check{{
		Probe: "directory", Target: s.Directory.Config.URL + "/" + s.Directory.Config.BaseDN,
		Interval: s.Directory.Interval, Timeout: s.Directory.Timeout, Run: p.Probe,
	}}, nil
}
