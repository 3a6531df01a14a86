package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
)

// load reads the whole configuration from env, as the agent does from the
// environment.
func load(env map[string]string) (*agent, error) { return configure(config.Map(env)) }

// check finds a check by its ID.
func check(t *testing.T, a *agent, id string) *probes.Check {
	t.Helper()
	for _, c := range a.Checks {
		if c.ID() == id {
			return c
		}
	}
	t.Fatalf("no check %s", id)
	return nil
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
		{"bad duration", map[string]string{"SFBEX_DNS_INTERVAL": "often"}, []string{"SFBEX_DNS_INTERVAL", "often", "e.g. SFBEX_DNS_INTERVAL=1m"}},
		{"timeout over interval", map[string]string{"SFBEX_DNS_INTERVAL": "10s", "SFBEX_DNS_TIMEOUT": "20s"}, []string{"SFBEX_DNS_TIMEOUT", "e.g."}},
		{"bad expectation", map[string]string{"SFBEX_DNS_EXPECT": "sip.contoso.com=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "sip.contoso.com=1.2.3.4", "e.g."}},
		{"expectation for unknown record", map[string]string{"SFBEX_DNS_EXPECT": "www.contoso.com/A=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "www.contoso.com"}},
		{"expectation type mismatch", map[string]string{"SFBEX_DNS_EXPECT": "_sip._tls.contoso.com/A=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "SRV"}},
		{"expectation unknown resolver", map[string]string{"SFBEX_DNS_EXPECT": "nope@sip.contoso.com/A=1.2.3.4"}, []string{"SFBEX_DNS_EXPECT", "nope"}},
		{"unknown agree record", map[string]string{"SFBEX_DNS_AGREE_RECORDS": "www"}, []string{"SFBEX_DNS_AGREE_RECORDS", "www"}},
		{"unknown skip record", map[string]string{"SFBEX_DNS_SKIP_RECORDS": "www"}, []string{"SFBEX_DNS_SKIP_RECORDS", "www"}},
		{"unreadable CA file", map[string]string{"SFBEX_CA_FILE": unreadable}, []string{"SFBEX_CA_FILE", unreadable, "e.g. SFBEX_CA_FILE="}},
		{"CA with a negative serial", map[string]string{"SFBEX_CA_FILE": "../../internal/webclient/testdata/negative-serial.pem"}, []string{"SFBEX_CA_FILE", "negative serial number", "GODEBUG=x509negativeserial=1"}},
		{"bad connect-to", map[string]string{"SFBEX_CONNECT_TO": "autodiscover.contoso.com=10.0.0.1"}, []string{"SFBEX_CONNECT_TO", "e.g. SFBEX_CONNECT_TO="}},
		{"unknown internal resolver", map[string]string{"SFBEX_DNS_INTERNAL_RESOLVERS": "dc1, dc2"}, []string{"SFBEX_DNS_INTERNAL_RESOLVERS", `"dc1"`, "e.g."}},
		{"HTTP timeout over interval", map[string]string{"SFBEX_HTTP_INTERVAL": "20s", "SFBEX_HTTP_TIMEOUT": "30s"}, []string{"SFBEX_HTTP_TIMEOUT=30s", "e.g. SFBEX_HTTP_TIMEOUT="}},
		{"request timeout over run timeout", map[string]string{"SFBEX_HTTP_REQUEST_TIMEOUT": "1m"}, []string{"SFBEX_HTTP_REQUEST_TIMEOUT=1m0s", "e.g. SFBEX_HTTP_REQUEST_TIMEOUT="}},
		{"zero HTTP interval", map[string]string{"SFBEX_HTTP_INTERVAL": "0s"}, []string{"SFBEX_HTTP_INTERVAL", "e.g. SFBEX_HTTP_INTERVAL=1m"}},
		{"tiny body limit", map[string]string{"SFBEX_HTTP_MAX_BODY_BYTES": "10"}, []string{"SFBEX_HTTP_MAX_BODY_BYTES=10", "e.g. SFBEX_HTTP_MAX_BODY_BYTES="}},
		{"body limit not a number", map[string]string{"SFBEX_HTTP_MAX_BODY_BYTES": "1MB"}, []string{"SFBEX_HTTP_MAX_BODY_BYTES", `"1MB"`, "e.g. SFBEX_HTTP_MAX_BODY_BYTES=1048576"}},
		{"too many redirects", map[string]string{"SFBEX_HTTP_MAX_REDIRECTS": "50"}, []string{"SFBEX_HTTP_MAX_REDIRECTS=50", "e.g."}},
		{"user without password", map[string]string{"SFBEX_AUTODISCOVER_USER": "probe@contoso.com"}, []string{"SFBEX_AUTODISCOVER_PASSWORD", "probe@contoso.com", "e.g. SFBEX_AUTODISCOVER_PASSWORD_FILE="}},
		{"password without user", map[string]string{"SFBEX_AUTODISCOVER_PASSWORD": "Secret-4711"}, []string{"SFBEX_AUTODISCOVER_USER", "e.g. SFBEX_AUTODISCOVER_USER="}},
		{"malformed user", map[string]string{"SFBEX_AUTODISCOVER_USER": "probe", "SFBEX_AUTODISCOVER_PASSWORD": "Secret-4711"}, []string{"SFBEX_AUTODISCOVER_USER", `"probe"`, "e.g."}},
		{"down-level user without mailbox", map[string]string{"SFBEX_AUTODISCOVER_USER": `CONTOSO\probe`, "SFBEX_AUTODISCOVER_PASSWORD": "Secret-4711"}, []string{"SFBEX_AUTODISCOVER_MAILBOX", "e.g. SFBEX_AUTODISCOVER_MAILBOX="}},
		{"mailbox not an address", map[string]string{"SFBEX_AUTODISCOVER_USER": `CONTOSO\probe`, "SFBEX_AUTODISCOVER_PASSWORD": "Secret-4711", "SFBEX_AUTODISCOVER_MAILBOX": "probe"}, []string{"SFBEX_AUTODISCOVER_MAILBOX", `"probe"`, "e.g."}},
		{"mailbox without account", map[string]string{"SFBEX_AUTODISCOVER_MAILBOX": "probe@contoso.com"}, []string{"SFBEX_AUTODISCOVER_MAILBOX", "SFBEX_AUTODISCOVER_USER", "e.g."}},
		{"unknown auth", map[string]string{"SFBEX_AUTODISCOVER_USER": "probe@contoso.com", "SFBEX_AUTODISCOVER_PASSWORD": "Secret-4711", "SFBEX_AUTODISCOVER_AUTH": "kerberos"}, []string{"SFBEX_AUTODISCOVER_AUTH", "kerberos", "e.g. SFBEX_AUTODISCOVER_AUTH=ntlm"}},
		{"bad redirect host", map[string]string{"SFBEX_AUTODISCOVER_REDIRECT_HOSTS": "https://x"}, []string{"SFBEX_AUTODISCOVER_REDIRECT_HOSTS", `"https://x"`, "e.g."}},
		{"SFB URL not https", map[string]string{"SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL": "http://autodiscover.contoso.com/autodiscover/autodiscover.svc"}, []string{"SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL", "http://autodiscover", "Get-CsOAuthConfiguration", "e.g."}},
		{"unknown lyncdiscover view", map[string]string{"SFBEX_LYNCDISCOVER_VIEWS": "dmz"}, []string{"SFBEX_LYNCDISCOVER_VIEWS", `"dmz"`, "e.g."}},
		{"EWS URL not https", map[string]string{"SFBEX_EWS_URLS": "mail.contoso.com/EWS/Exchange.asmx"}, []string{"SFBEX_EWS_URLS", `"mail.contoso.com/EWS/Exchange.asmx"`, "e.g. SFBEX_EWS_URLS=https://"}},
		{"EWS expect OAuth not a bool", map[string]string{"SFBEX_EWS_EXPECT_OAUTH": "sometimes"}, []string{"SFBEX_EWS_EXPECT_OAUTH", "sometimes", "e.g. SFBEX_EWS_EXPECT_OAUTH=true"}},
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
			_, err := load(env)
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

func TestOnlyPrefixedVariablesCountAndEmptyScalarsAreUnset(t *testing.T) {
	a, err := load(map[string]string{
		"SFBEX_SIP_DOMAINS":   "contoso.com",
		"SFBEX_DNS_RESOLVERS": "internal=127.0.0.1,external=127.0.0.2",
		"DEPLOYMENT":          "production", // someone else's variable
		"DNS_SKIP_RECORDS":    "sip",
		"SFBEX_DNS_INTERVAL":  "",
		"SFBEX_CLOUD":         "",
		"SFBEX_EMAIL_DOMAINS": "", // an empty list is a list: no email domains
	})
	if err != nil {
		t.Fatal(err)
	}
	if a.Estate.Lync != estate.OnPrem || a.Estate.Cloud != estate.Worldwide || check(t, a, "dns/contoso.com").Interval.String() != "1m0s" {
		t.Fatalf("unprefixed or empty variables leaked in: %s %s %s", a.Estate.Lync, a.Estate.Cloud, check(t, a, "dns/contoso.com").Interval)
	}
	if len(a.Estate.EmailDomains) != 0 {
		t.Fatalf("SFBEX_EMAIL_DOMAINS= gave %v, want none", a.Estate.EmailDomains)
	}
	for _, c := range a.Checks {
		if c.Probe == "autodiscover" {
			t.Fatalf("autodiscover check %s without an email domain", c.ID())
		}
	}
}

func TestFileVariableIsRead(t *testing.T) {
	f := filepath.Join(t.TempDir(), "domains")
	if err := os.WriteFile(f, []byte("Contoso.com, fabrikam.com.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := load(map[string]string{"SFBEX_SIP_DOMAINS_FILE": f, "SFBEX_DNS_RESOLVERS": "ext=127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.Estate.SIPDomains, ",") != "contoso.com,fabrikam.com" {
		t.Fatalf("domains %v", a.Estate.SIPDomains)
	}
	if a.Estate.Resolvers[0].Addr != "127.0.0.1:53" {
		t.Fatalf("resolver %v: port 53 should be the default", a.Estate.Resolvers[0])
	}
}

func TestDefaultsAndDerivedSettings(t *testing.T) {
	a, err := load(map[string]string{
		"SFBEX_SIP_DOMAINS":   "contoso.com",
		"SFBEX_DNS_RESOLVERS": "internal=10.0.0.10:53, external=[2001:db8::1]:53",
	})
	if err != nil {
		t.Fatal(err)
	}
	e := a.Estate
	if e.Lync != estate.OnPrem || e.Exchange != estate.OnPrem || e.Cloud != estate.Worldwide {
		t.Fatalf("modes %s/%s/%s", e.Lync, e.Exchange, e.Cloud)
	}
	if len(e.EmailDomains) != 1 || e.EmailDomains[0] != "contoso.com" {
		t.Fatalf("email domains should default to the SIP domains, got %v", e.EmailDomains)
	}
	if !e.Resolvers[0].Internal || e.Resolvers[1].Internal || e.Resolvers[1].Addr != "[2001:db8::1]:53" {
		t.Fatalf("resolvers %+v", e.Resolvers)
	}
	if a.MaxConcurrent != 16 {
		t.Fatalf("max concurrent probes %d, want the default 16", a.MaxConcurrent)
	}
	var ids []string
	for _, c := range a.Checks {
		ids = append(ids, c.ID())
	}
	want := "dns/contoso.com,oauth/exchange,tls/endpoints,autodiscover/contoso.com,lyncdiscover/contoso.com,sip/federation,sip/clients,sip/internal,lifecycle/ews-online"
	if strings.Join(ids, ",") != want {
		t.Fatalf("checks %v, want %s", ids, want)
	}
}

func TestSystemResolverWhenNoneConfigured(t *testing.T) {
	if _, err := os.Stat("/etc/resolv.conf"); err != nil {
		t.Skip("no /etc/resolv.conf on this machine")
	}
	a, err := load(map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Estate.Resolvers) != 1 || a.Estate.Resolvers[0].Name != "system" {
		t.Fatalf("resolvers %+v", a.Estate.Resolvers)
	}
}

// An empty <NAME>_FILE is unset, like every other empty variable: a template
// that renders "SFBEX_CERT_FILES_PASSWORD_FILE=" must not stop the agent.
func TestEmptyFileVariableIsUnset(t *testing.T) {
	a, err := load(map[string]string{
		"SFBEX_SIP_DOMAINS":              "contoso.com",
		"SFBEX_DNS_RESOLVERS":            "ext=127.0.0.1",
		"SFBEX_DNS_INTERVAL_FILE":        "",
		"SFBEX_CERT_FILES_PASSWORD_FILE": "",
	})
	if err != nil {
		t.Fatalf("empty _FILE variables: %v", err)
	}
	if got := check(t, a, "dns/contoso.com").Interval.String(); got != "1m0s" {
		t.Fatalf("SFBEX_DNS_INTERVAL_FILE= gave interval %s, want the default 1m0s", got)
	}
}

// An empty scalar beside its _FILE is unset too, so the file is read; an
// empty list is a value, so a list and its _FILE conflict.
func TestEmptyVariableBesideItsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "interval")
	if err := os.WriteFile(f, []byte("2m\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := load(map[string]string{
		"SFBEX_SIP_DOMAINS":       "contoso.com",
		"SFBEX_DNS_RESOLVERS":     "ext=127.0.0.1",
		"SFBEX_DNS_INTERVAL":      "",
		"SFBEX_DNS_INTERVAL_FILE": f,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := check(t, a, "dns/contoso.com").Interval.String(); got != "2m0s" {
		t.Fatalf("interval %s, want 2m0s from the file", got)
	}
	_, err = load(map[string]string{
		"SFBEX_SIP_DOMAINS":        "contoso.com",
		"SFBEX_DNS_RESOLVERS":      "ext=127.0.0.1",
		"SFBEX_EMAIL_DOMAINS":      "",
		"SFBEX_EMAIL_DOMAINS_FILE": f,
	})
	if err == nil || !strings.Contains(err.Error(), "set only one") {
		t.Fatalf("an empty list beside its _FILE: %v, want both set", err)
	}
}
