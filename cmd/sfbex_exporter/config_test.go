package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// clearEnv removes every SFBEX_* variable for the test's duration.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SFBEX_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	clearEnv(t)
	for k, v := range env {
		t.Setenv(k, v)
	}
}

func TestBadConfigurationNamesTheVariableAndAnExample(t *testing.T) {
	unreadable := filepath.Join(t.TempDir(), "missing-secret")
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "ext=127.0.0.1:53"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing configured", map[string]string{}, []string{"SFBEX_SIP_DOMAINS", "--lab"}},
		{"unknown deployment mode", map[string]string{"SFBEX_DEPLOYMENT": "cloud"}, []string{"SFBEX_DEPLOYMENT", `"cloud"`, "e.g. SFBEX_DEPLOYMENT="}},
		{"unknown exchange mode", map[string]string{"SFBEX_EXCHANGE_DEPLOYMENT": "x"}, []string{"SFBEX_EXCHANGE_DEPLOYMENT", "e.g."}},
		{"unknown cloud", map[string]string{"SFBEX_CLOUD": "mars"}, []string{"SFBEX_CLOUD", "mars", "e.g."}},
		{"resolver without name", map[string]string{"SFBEX_DNS_RESOLVERS": "10.0.0.1:53"}, []string{"SFBEX_DNS_RESOLVERS", "10.0.0.1:53", "e.g. SFBEX_DNS_RESOLVERS=internal="}},
		{"resolver bad port", map[string]string{"SFBEX_DNS_RESOLVERS": "int=10.0.0.1:99999"}, []string{"SFBEX_DNS_RESOLVERS", "int=10.0.0.1:99999", "e.g."}},
		{"resolver bad name", map[string]string{"SFBEX_DNS_RESOLVERS": "in ternal=10.0.0.1"}, []string{"SFBEX_DNS_RESOLVERS", "e.g."}},
		{"resolver twice", map[string]string{"SFBEX_DNS_RESOLVERS": "a=10.0.0.1,a=10.0.0.2"}, []string{"SFBEX_DNS_RESOLVERS", "twice"}},
		{"unreadable _FILE", map[string]string{"SFBEX_SIP_DOMAINS": "", "SFBEX_SIP_DOMAINS_FILE": unreadable}, []string{"SFBEX_SIP_DOMAINS_FILE", unreadable, "e.g. SFBEX_SIP_DOMAINS_FILE=/run/secrets/"}},
		{"variable and _FILE", map[string]string{"SFBEX_DNS_EXPECT": "x", "SFBEX_DNS_EXPECT_FILE": unreadable}, []string{"SFBEX_DNS_EXPECT", "only one"}},
		{"bad domain", map[string]string{"SFBEX_SIP_DOMAINS": "contoso"}, []string{"SFBEX_SIP_DOMAINS", `"contoso"`, "e.g."}},
		{"bad duration", map[string]string{"SFBEX_DNS_INTERVAL": "often"}, []string{"SFBEX_DNS_INTERVAL", "often", "e.g. SFBEX_DNS_INTERVAL=1m30s"}},
		{"timeout over interval", map[string]string{"SFBEX_DNS_INTERVAL": "10s", "SFBEX_DNS_TIMEOUT": "20s"}, []string{"SFBEX_DNS_TIMEOUT", "e.g."}},
		{"bad expectation", map[string]string{"SFBEX_DNS_EXPECT": "sip.contoso.com=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "sip.contoso.com=1.2.3.4", "e.g."}},
		{"expectation for unknown record", map[string]string{"SFBEX_DNS_EXPECT": "www.contoso.com/A=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "www.contoso.com"}},
		{"expectation type mismatch", map[string]string{"SFBEX_DNS_EXPECT": "_sip._tls.contoso.com/A=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "SRV"}},
		{"expectation unknown resolver", map[string]string{"SFBEX_DNS_EXPECT": "nope@sip.contoso.com/A=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "nope"}},
		{"unknown agree record", map[string]string{"SFBEX_DNS_AGREE_RECORDS": "www"}, []string{"SFBEX_DNS_AGREE_RECORDS", "www"}},
		{"unknown skip record", map[string]string{"SFBEX_DNS_SKIP_RECORDS": "www"}, []string{"SFBEX_DNS_SKIP_RECORDS", "www"}},
		{"unreadable CA file", map[string]string{"SFBEX_CA_FILE": unreadable}, []string{"SFBEX_CA_FILE", unreadable, "e.g. SFBEX_CA_FILE="}},
		{"bad connect-to", map[string]string{"SFBEX_CONNECT_TO": "autodiscover.contoso.com=10.0.0.1"}, []string{"SFBEX_CONNECT_TO", "e.g. SFBEX_CONNECT_TO="}},
		{"zero concurrency", map[string]string{"SFBEX_MAX_CONCURRENT_PROBES": "0"}, []string{"SFBEX_MAX_CONCURRENT_PROBES", "e.g."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			if tc.name != "nothing configured" {
				for k, v := range base {
					env[k] = v
				}
			}
			for k, v := range tc.env {
				env[k] = v
			}
			if v, ok := env["SFBEX_SIP_DOMAINS"]; ok && v == "" {
				delete(env, "SFBEX_SIP_DOMAINS")
			}
			setEnv(t, env)
			_, err := LoadSettings()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestFileVariableIsRead(t *testing.T) {
	f := filepath.Join(t.TempDir(), "domains")
	if err := os.WriteFile(f, []byte("Contoso.com, fabrikam.com.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	setEnv(t, map[string]string{"SFBEX_SIP_DOMAINS_FILE": f, "SFBEX_DNS_RESOLVERS": "ext=127.0.0.1"})
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(s.SIPDomains, ",") != "contoso.com,fabrikam.com" {
		t.Fatalf("domains %v", s.SIPDomains)
	}
	if s.Resolvers[0].Addr != "127.0.0.1:53" {
		t.Fatalf("resolver %v: port 53 should be the default", s.Resolvers[0])
	}
}

func TestDefaultsAndDerivedSettings(t *testing.T) {
	setEnv(t, map[string]string{
		"SFBEX_SIP_DOMAINS":   "contoso.com",
		"SFBEX_DNS_RESOLVERS": "internal=10.0.0.10:53, external=[2001:db8::1]:53",
	})
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if s.Lync != dns.OnPrem || s.Exchange != dns.OnPrem || s.Cloud != dns.Worldwide {
		t.Fatalf("modes %s/%s/%s", s.Lync, s.Exchange, s.Cloud)
	}
	if len(s.EmailDomains) != 1 || s.EmailDomains[0] != "contoso.com" {
		t.Fatalf("email domains should default to the SIP domains, got %v", s.EmailDomains)
	}
	if !s.Resolvers[0].Internal || s.Resolvers[1].Internal || s.Resolvers[1].Addr != "[2001:db8::1]:53" {
		t.Fatalf("resolvers %+v", s.Resolvers)
	}
	checks, err := buildChecks(s)
	if err != nil || len(checks) != 1 || checks[0].ID() != "dns/contoso.com" {
		t.Fatalf("checks %v %v", checks, err)
	}
}

func TestSystemResolverWhenNoneConfigured(t *testing.T) {
	if _, err := os.Stat("/etc/resolv.conf"); err != nil {
		t.Skip("no /etc/resolv.conf on this machine")
	}
	setEnv(t, map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com"})
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Resolvers) != 1 || s.Resolvers[0].Name != "system" {
		t.Fatalf("resolvers %+v", s.Resolvers)
	}
}
