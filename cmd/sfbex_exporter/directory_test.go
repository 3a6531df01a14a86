package main

import (
	"strings"
	"testing"
)

func TestDirectoryLabFaultFailsCheck(t *testing.T) {
	if code := run([]string{"check", "--lab", "--lab.fault=directory-sip-stripped", "--log.level=error"}); code != 1 {
		t.Errorf("check with directory-sip-stripped = %d, want 1", code)
	}
}

func TestDirectoryConfig(t *testing.T) {
	base := map[string]string{
		"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "internal=127.0.0.1:53",
		"SFBEX_LDAP_URL": "ldap://DC01.contoso.com", "SFBEX_LDAP_BIND_DN": "svc@contoso.com",
		"SFBEX_LDAP_PASSWORD": "Secr3t-Value", "SFBEX_LDAP_BASE_DN": "DC=contoso,DC=com",
	}
	load := func(over map[string]string) (*Settings, error) {
		clearEnv(t)
		for k, v := range base {
			t.Setenv(k, v)
		}
		for k, v := range over {
			t.Setenv(k, v)
		}
		return LoadSettings()
	}
	s, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := s.Directory
	if d == nil || d.Config.URL != "ldap://dc01.contoso.com" || !d.Config.StartTLS || d.Config.PageSize != 1000 || d.Config.IncludeDisabled || d.Interval.Minutes() != 15 {
		t.Fatalf("defaults: %+v", d)
	}
	for name, c := range map[string]struct{ key, val, want string }{
		"scheme":   {"SFBEX_LDAP_URL", "http://dc01", "SFBEX_LDAP_URL"},
		"base":     {"SFBEX_LDAP_BASE_DN", "not a dn", "SFBEX_LDAP_BASE_DN"},
		"filter":   {"SFBEX_LDAP_FILTER", "(objectClass=user", "SFBEX_LDAP_FILTER"},
		"page":     {"SFBEX_LDAP_PAGE_SIZE", "5000", "SFBEX_LDAP_PAGE_SIZE=5000"},
		"disabled": {"SFBEX_LDAP_DISABLED_ACCOUNTS", "maybe", "SFBEX_LDAP_DISABLED_ACCOUNTS"},
		"auth":     {"SFBEX_LDAP_AUTH", "kerberos", "SFBEX_LDAP_AUTH"},
		"ratio":    {"SFBEX_LDAP_MIN_COVERAGE_RATIO", "1.5", "SFBEX_LDAP_MIN_COVERAGE_RATIO"},
		"timeout":  {"SFBEX_LDAP_TIMEOUT", "1h", "SFBEX_LDAP_TIMEOUT"},
	} {
		_, err := load(map[string]string{c.key: c.val})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "e.g.") {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "Secr3t-Value") {
			t.Errorf("%s: password in %v", name, err)
		}
	}
	if _, err := load(map[string]string{"SFBEX_LDAP_PASSWORD": ""}); err == nil || !strings.Contains(err.Error(), "SFBEX_LDAP_PASSWORD_FILE") {
		t.Errorf("no password: %v", err)
	}
}
