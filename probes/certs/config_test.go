package certs

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/probes/probestest"
)

var testBase = map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "ext=127.0.0.1:53"}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"http metadata URL", map[string]string{"SFBEX_SFB_METADATA_URLS": "http://pool01.contoso.com/metadata/json/1"}, []string{"SFBEX_SFB_METADATA_URLS", "http://pool01", "e.g. SFBEX_SFB_METADATA_URLS=https://"}},
		{"relative URL", map[string]string{"SFBEX_AUTH_METADATA_URLS": "metadata/json/1"}, []string{"SFBEX_AUTH_METADATA_URLS", "e.g."}},
		{"bad exchange URL", map[string]string{"SFBEX_EXCHANGE_METADATA_URLS": "https://"}, []string{"SFBEX_EXCHANGE_METADATA_URLS", "e.g."}},
		{"URL in two lists", map[string]string{"SFBEX_SFB_METADATA_URLS": "https://a.contoso.com/m", "SFBEX_AUTH_METADATA_URLS": "https://a.contoso.com/m"}, []string{"SFBEX_SFB_METADATA_URLS", "SFBEX_AUTH_METADATA_URLS", "both"}},
		{"endpoint without port", map[string]string{"SFBEX_TLS_ENDPOINTS": "edge.contoso.com"}, []string{"SFBEX_TLS_ENDPOINTS", `"edge.contoso.com"`, "e.g."}},
		{"endpoint bad port", map[string]string{"SFBEX_TLS_ENDPOINTS": "edge.contoso.com:70000"}, []string{"SFBEX_TLS_ENDPOINTS", "e.g."}},
		{"unknown skip", map[string]string{"SFBEX_TLS_SKIP_ENDPOINTS": "www"}, []string{"SFBEX_TLS_SKIP_ENDPOINTS", `"www"`, "e.g."}},
		{"unknown DNS skip", map[string]string{"SFBEX_DNS_SKIP_RECORDS": "www"}, []string{"SFBEX_DNS_SKIP_RECORDS", `"www"`, "e.g."}},
		{"bad glob", map[string]string{"SFBEX_CERT_FILES": "/etc/[x"}, []string{"SFBEX_CERT_FILES", "/etc/[x", "e.g."}},
		{"zero interval", map[string]string{"SFBEX_CERT_INTERVAL": "0s"}, []string{"SFBEX_CERT_INTERVAL", "e.g."}},
		{"timeout over interval", map[string]string{"SFBEX_CERT_INTERVAL": "10s", "SFBEX_CERT_TIMEOUT": "1m"}, []string{"SFBEX_CERT_TIMEOUT", "e.g."}},
		{"zero days", map[string]string{"SFBEX_CERT_WARN_DAYS": "0"}, []string{"SFBEX_CERT_WARN_DAYS=0", "e.g."}},
		{"critical over warn", map[string]string{"SFBEX_CERT_CRITICAL_DAYS": "40"}, []string{"SFBEX_CERT_CRITICAL_DAYS=40", "SFBEX_CERT_WARN_DAYS", "e.g."}},
		{"critical over renew", map[string]string{"SFBEX_CERT_WARN_DAYS": "90", "SFBEX_CERT_CRITICAL_DAYS": "70"}, []string{"SFBEX_OAUTH_RENEW_DAYS", "e.g."}},
		{"days not a number", map[string]string{"SFBEX_OAUTH_RENEW_DAYS": "sixty"}, []string{"SFBEX_OAUTH_RENEW_DAYS", "sixty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := probestest.Env(t, probestest.Merge(testBase, tc.env))
			_, err := Checks(env)
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

// checks builds the family's checks from vars and checks the schedule.
func checks(t *testing.T, vars map[string]string) ([]string, *settings) {
	t.Helper()
	env, _ := probestest.Env(t, vars)
	s, err := load(env)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := Checks(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Interval != s.interval || c.Timeout != s.timeout {
			t.Errorf("%s: interval %s timeout %s", c.ID(), c.Interval, c.Timeout)
		}
	}
	return probestest.IDs(cs), s
}

func TestChecksAreDerivedAndCanBeTurnedOff(t *testing.T) {
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_EMAIL_DOMAINS": "contoso.com,fabrikam.com", "SFBEX_DNS_RESOLVERS": "internal=127.0.0.1:53,external=127.0.0.2:53"}
	with := func(kv ...string) map[string]string { return probestest.With(base, kv...) }
	derived := func(vars map[string]string) ([]Endpoint, []SRVSpec) {
		env, _ := probestest.Env(t, vars)
		s, err := load(env)
		if err != nil {
			t.Fatal(err)
		}
		return DerivedEndpoints(env.Estate, s.skip, s.ewsURLs)
	}
	ids, s := checks(t, base)
	if strings.Join(ids, " ") != "oauth/exchange tls/endpoints" {
		t.Fatalf("checks %v", ids)
	}
	if strings.Join(s.exchangeURLs, " ") != "https://autodiscover.contoso.com/autodiscover/metadata/json/1 https://autodiscover.fabrikam.com/autodiscover/metadata/json/1" {
		t.Fatalf("derived Exchange URLs %v", s.exchangeURLs)
	}
	if s.interval != time.Hour || s.timeout != 30*time.Second || s.limits.OAuthRenewDays != 60 || s.limits.OAuthNextMinDays != 120 {
		t.Fatalf("defaults %+v", s)
	}
	eps, srvs := derived(base)
	var names []string
	for _, e := range eps {
		names = append(names, e.Key())
	}
	if strings.Join(names, " ") != "autodiscover.contoso.com:443 autodiscover.fabrikam.com:443 lyncdiscover.contoso.com:443 lyncdiscoverinternal.contoso.com:443" || len(srvs) != 2 {
		t.Fatalf("derived endpoints %v, SRV %+v", names, srvs)
	}
	if srvs[0].Record != "_sip._tls" || !slices.Contains(srvs[0].Names, "sip.contoso.com") {
		t.Fatalf("SRV %+v", srvs)
	}

	all := with("SFBEX_EXCHANGE_METADATA_URLS", "none", "SFBEX_TLS_SKIP_ENDPOINTS", "all",
		"SFBEX_SFB_METADATA_URLS", "https://pool01.contoso.com/metadata/json/1,https://pool02.contoso.com/metadata/json/1",
		"SFBEX_AUTH_METADATA_URLS", "https://accounts.accesscontrol.windows.net/contoso.com/metadata/json/1",
		"SFBEX_TLS_ENDPOINTS", "edge-int.contoso.com:5061", "SFBEX_CERT_FILES", "/etc/sfbex/*.pfx")
	ids, s = checks(t, all)
	if strings.Join(ids, " ") != "oauth/sfb oauth/other tls/endpoints certfiles//etc/sfbex/*.pfx" || len(s.exchangeURLs) != 0 {
		t.Fatalf("checks %v", ids)
	}
	if eps, srvs := derived(all); len(eps)+len(srvs) != 0 {
		t.Fatalf("skip all left %v %v", eps, srvs)
	}

	ids, _ = checks(t, with("SFBEX_EXCHANGE_DEPLOYMENT", "online", "SFBEX_DEPLOYMENT", "online"))
	if len(ids) != 0 {
		t.Fatalf("Microsoft 365's own certificates are not ours to watch: %v", ids)
	}
	eps, srvs = derived(with("SFBEX_TLS_SKIP_ENDPOINTS", "lyncdiscoverinternal,_sip._tls", "SFBEX_DNS_SKIP_RECORDS", "lyncdiscover"))
	if len(eps) != 2 || len(srvs) != 1 || srvs[0].Record != "_sipfederationtls._tcp" {
		t.Fatalf("skips ignored: %v %v", eps, srvs)
	}
	// EWS hosts come from SFBEX_EWS_URLS.
	eps, _ = derived(with("SFBEX_EWS_URLS", "https://mail.contoso.com/EWS/Exchange.asmx,https://owa.contoso.com:8443/EWS/Exchange.asmx"))
	var ews []string
	for _, e := range eps {
		if e.Origins[0].Service == "ews" {
			ews = append(ews, e.Key())
		}
	}
	if strings.Join(ews, " ") != "mail.contoso.com:443 owa.contoso.com:8443" {
		t.Fatalf("EWS endpoints %v", ews)
	}
	eps, _ = derived(with("SFBEX_EWS_URLS", "https://mail.contoso.com/EWS/Exchange.asmx", "SFBEX_TLS_SKIP_ENDPOINTS", "ews"))
	if slices.ContainsFunc(eps, func(e Endpoint) bool { return e.Origins[0].Service == "ews" }) {
		t.Fatal("ews not skipped")
	}
}
