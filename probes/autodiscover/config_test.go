package autodiscover

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/probestest"
)

func httpCheckIDs(checks []*probes.Check, kinds ...string) []string {
	var out []string
	for _, c := range checks {
		if slices.Contains(kinds, c.Probe) {
			out = append(out, c.ID())
		}
	}
	return out
}

func TestConfigAndChecks(t *testing.T) {
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "internal=10.0.0.10:53,external=1.1.1.1:53"}
	// load returns the settings and the family's checks.
	load := func(extra map[string]string) (*settings, []*probes.Check, *probes.Env) {
		t.Helper()
		env, _ := probestest.Env(t, probestest.Merge(base, extra))
		s, err := load(env)
		if err != nil {
			t.Fatal(err)
		}
		checks, err := Checks(env)
		if err != nil {
			t.Fatal(err)
		}
		return s, checks, env
	}

	s, checks, env := load(nil)
	w := env.Web
	if w.Interval != time.Minute || w.Timeout != 30*time.Second || w.RequestTimeout != 10*time.Second || w.MaxBody != 1<<20 || w.MaxRedirects != 5 || !s.expectOAuth || s.credentials != nil {
		t.Fatalf("defaults %+v %+v", s, w)
	}
	for _, c := range checks {
		if c.Interval != w.Interval || c.Timeout != w.Timeout {
			t.Errorf("%s: interval %s timeout %s", c.ID(), c.Interval, c.Timeout)
		}
	}
	if !slices.Equal(s.lyncViews, []View{Internal, External}) {
		t.Fatalf("views %v: an internal resolver should add lyncdiscoverinternal", s.lyncViews)
	}
	if got := httpCheckIDs(checks, "autodiscover", "lyncdiscover", "ews"); !slices.Equal(got, []string{"autodiscover/contoso.com", "lyncdiscover/contoso.com"}) {
		t.Fatalf("checks %v: no EWS check without URLs or a probe account", got)
	}

	base["SFBEX_DNS_RESOLVERS"] = "external=1.1.1.1:53"
	if s, _, _ = load(nil); !slices.Equal(s.lyncViews, []View{External}) {
		t.Fatalf("views without an internal resolver: %v", s.lyncViews)
	}
	if _, checks, _ = load(map[string]string{"SFBEX_LYNCDISCOVER_VIEWS": "none"}); len(httpCheckIDs(checks, "lyncdiscover")) != 0 {
		t.Fatal("SFBEX_LYNCDISCOVER_VIEWS=none left a lyncdiscover check")
	}
	// Every derived check can be switched off: Exchange autodiscover per
	// email domain, and with it the EWS it would learn.
	if _, checks, _ = load(map[string]string{"SFBEX_AUTODISCOVER_EXCHANGE": "false", "SFBEX_AUTODISCOVER_USER": "probe@contoso.com",
		"SFBEX_AUTODISCOVER_PASSWORD": "Secret-4711"}); len(httpCheckIDs(checks, "autodiscover", "ews")) != 0 {
		t.Fatalf("SFBEX_AUTODISCOVER_EXCHANGE=false left %v", httpCheckIDs(checks, "autodiscover", "ews"))
	}

	s, checks, env = load(map[string]string{
		"SFBEX_EMAIL_DOMAINS":                 "contoso.com,mail.fabrikam.com",
		"SFBEX_AUTODISCOVER_USER":             "probe@contoso.com",
		"SFBEX_AUTODISCOVER_PASSWORD":         "Secret-4711",
		"SFBEX_AUTODISCOVER_AUTH":             "NTLM",
		"SFBEX_EWS_URLS":                      "https://mail.contoso.com/EWS/Exchange.asmx, https://MAIL.contoso.com/EWS/Exchange.asmx",
		"SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL": "https://autodiscover.mail.fabrikam.com/autodiscover/autodiscover.svc",
		"SFBEX_HTTP_MAX_REDIRECTS":            "2",
		"SFBEX_EWS_EXPECT_OAUTH":              "false",
	})
	if s.credentials == nil || s.credentials.Mode != "ntlm" || s.mailbox != "probe@contoso.com" || env.Web.MaxRedirects != 2 || s.expectOAuth {
		t.Fatalf("settings %+v", s)
	}
	want := []string{"autodiscover/contoso.com", "autodiscover/mail.fabrikam.com", "lyncdiscover/contoso.com",
		"ews/https://mail.contoso.com/EWS/Exchange.asmx", "ews/contoso.com", "ews/mail.fabrikam.com"}
	if got := httpCheckIDs(checks, "autodiscover", "lyncdiscover", "ews"); !slices.Equal(got, want) {
		t.Fatalf("checks\n got %v\nwant %v", got, want)
	}
	if d := SFBURLDomain(s.sfbURL, env.Estate.EmailDomains); d != "mail.fabrikam.com" {
		t.Fatalf("the SFB URL goes with %q", d)
	}
	if d := SFBURLDomain("https://autodiscover.other.org/autodiscover/autodiscover.svc", env.Estate.EmailDomains); d != "contoso.com" {
		t.Fatalf("a URL outside every domain goes with %q, want the first", d)
	}
	if strings.Contains(s.credentials.String(), "Secret-4711") {
		t.Fatal("credentials print their password")
	}
}

func TestConfigurationErrorsNeverShowThePassword(t *testing.T) {
	const secret = "Secret-4711-do-not-show"
	for _, env := range []map[string]string{
		{"SFBEX_AUTODISCOVER_PASSWORD": secret},
		{"SFBEX_AUTODISCOVER_PASSWORD": secret, "SFBEX_AUTODISCOVER_USER": "probe"},
		{"SFBEX_AUTODISCOVER_PASSWORD": secret, "SFBEX_AUTODISCOVER_USER": `CONTOSO\probe`},
		{"SFBEX_AUTODISCOVER_PASSWORD": secret, "SFBEX_AUTODISCOVER_USER": "p@contoso.com", "SFBEX_AUTODISCOVER_AUTH": "x"},
	} {
		env["SFBEX_SIP_DOMAINS"] = "contoso.com"
		env["SFBEX_DNS_RESOLVERS"] = "ext=127.0.0.1:53"
		e, _ := probestest.Env(t, env)
		_, err := Checks(e)
		if err == nil || strings.Contains(err.Error(), secret) {
			t.Fatalf("%v: error %v", env, err)
		}
	}
}
