package directory

import (
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/probestest"
)

func TestConfig(t *testing.T) {
	base := map[string]string{
		"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "internal=127.0.0.1:53",
		"SFBEX_LDAP_URL": "ldap://DC01.contoso.com", "SFBEX_LDAP_BIND_DN": "svc@contoso.com",
		"SFBEX_LDAP_PASSWORD": "Secr3t-Value", "SFBEX_LDAP_BASE_DN": "DC=contoso,DC=com",
	}
	load := func(over map[string]string) ([]*probes.Check, error) {
		env, _ := probestest.Env(t, probestest.Merge(base, over))
		return Checks(env)
	}
	checks, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].ID() != "directory/ldap://dc01.contoso.com/DC=contoso,DC=com" || checks[0].Interval.Minutes() != 15 || checks[0].Timeout.Minutes() != 5 {
		t.Fatalf("checks %v", probestest.IDs(checks))
	}
	var v Vars
	if err := config.Load(config.Map(base), &v); err != nil {
		t.Fatal(err)
	}
	d, err := v.config(base["SFBEX_LDAP_URL"])
	if err != nil || d.URL != "ldap://dc01.contoso.com" || !d.StartTLS || d.PageSize != 1000 || d.IncludeDisabled || d.NTLM {
		t.Fatalf("defaults: %+v %v", d, err)
	}
	if checks, err := load(map[string]string{"SFBEX_LDAP_URL": ""}); err != nil || len(checks) != 0 {
		t.Fatalf("without SFBEX_LDAP_URL: %v %v", probestest.IDs(checks), err)
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
