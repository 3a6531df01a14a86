package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/probes/certs"
)

// captureStdout runs f and returns what it printed.
func captureStdout(t *testing.T, f func()) string {
	t.Helper()
	return capture(t, &os.Stdout, f)
}

func capture(t *testing.T, file **os.File, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := *file
	*file = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	defer func() { *file = old }()
	f()
	w.Close()
	return <-done
}

// Each certificate fault fails `check` with the finding it is about, in
// the one certificate check it concerns.
func TestCheckWithEachCertFaultShowsItsFinding(t *testing.T) {
	for _, tc := range []struct{ fault, check, want string }{
		{"oauth-expiring", "oauth        exchange", "a next certificate"},
		{"oauth-expired", "oauth        exchange", "no valid certificate is published"},
		{"oauth-next-missing", "oauth        exchange", "no next certificate is staged"},
		{"sfb-cert-1024", "oauth        sfb", "1024-bit RSA key"},
		{"sfb-cert-no-sip-domain", "oauth        sfb", "does not include the SIP domain"},
		{"edge-cert-wrong-name", "tls          endpoints", "does not cover sip.contoso.test"},
		{"tls-expired", "tls          endpoints", `leaf certificate "sip.contoso.test" expired`},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			clearEnv(t)
			var code int
			out := captureStdout(t, func() {
				code = run([]string{"check", "--lab", "--lab.fault=" + tc.fault, "--log.level=error"})
			})
			if code != 1 {
				t.Fatalf("check --lab --lab.fault=%s exited %d, want 1:\n%s", tc.fault, code, out)
			}
			if !strings.Contains(out, "[FAIL] "+tc.check) || !strings.Contains(out, tc.want) {
				t.Fatalf("the report does not fail %q saying %q:\n%s", tc.check, tc.want, out)
			}
			// The other certificate checks stay green.
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "[FAIL] ") && !strings.HasPrefix(line, "[FAIL] "+tc.check) &&
					(strings.HasPrefix(line, "[FAIL] oauth ") || strings.HasPrefix(line, "[FAIL] tls ")) {
					t.Errorf("another certificate check fails: %s", line)
				}
			}
		})
	}
}

// On the healthy lab the report shows the days left of every certificate.
func TestHealthyLabReportsEveryCertificate(t *testing.T) {
	clearEnv(t)
	var code int
	out := captureStdout(t, func() { code = run([]string{"check", "--lab", "--verbose", "--log.level=error"}) })
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"current: CN=Microsoft Exchange Server Auth Certificate", "next: CN=Microsoft Exchange Server Auth Certificate",
		"current: CN=contoso.test", "sip.contoso.test:5061 (SRV _sipfederationtls._tcp.contoso.test)",
		"sip.contoso.test:443 (SRV _sip._tls.contoso.test)", "lyncdiscover.contoso.test:443", "mail.contoso.test:443 (configured)",
		"days left",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestCertConfigurationErrorsNameTheVariable(t *testing.T) {
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "ext=127.0.0.1:53"}
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
		{"bad glob", map[string]string{"SFBEX_CERT_FILES": "/etc/[x"}, []string{"SFBEX_CERT_FILES", "/etc/[x", "e.g."}},
		{"zero interval", map[string]string{"SFBEX_CERT_INTERVAL": "0s"}, []string{"SFBEX_CERT_INTERVAL", "e.g."}},
		{"timeout over interval", map[string]string{"SFBEX_CERT_INTERVAL": "10s", "SFBEX_CERT_TIMEOUT": "1m"}, []string{"SFBEX_CERT_TIMEOUT", "e.g."}},
		{"zero days", map[string]string{"SFBEX_CERT_WARN_DAYS": "0"}, []string{"SFBEX_CERT_WARN_DAYS=0", "e.g."}},
		{"critical over warn", map[string]string{"SFBEX_CERT_CRITICAL_DAYS": "40"}, []string{"SFBEX_CERT_CRITICAL_DAYS=40", "SFBEX_CERT_WARN_DAYS", "e.g."}},
		{"critical over renew", map[string]string{"SFBEX_CERT_WARN_DAYS": "90", "SFBEX_CERT_CRITICAL_DAYS": "70"}, []string{"SFBEX_OAUTH_RENEW_DAYS", "e.g."}},
		{"days not a number", map[string]string{"SFBEX_OAUTH_RENEW_DAYS": "sixty"}, []string{"SFBEX_OAUTH_RENEW_DAYS", "sixty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tc.env {
				env[k] = v
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

func checkIDs(t *testing.T, env map[string]string) ([]string, *Settings) {
	t.Helper()
	setEnv(t, env)
	s, err := LoadSettings()
	if err != nil {
		t.Fatal(err)
	}
	checks, err := buildChecks(s)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range checks {
		if c.Probe == "oauth" || c.Probe == "tls" || c.Probe == "certfiles" {
			ids = append(ids, c.ID())
			if c.Interval != s.Certs.Interval || c.Timeout != s.Certs.Timeout {
				t.Errorf("%s: interval %s timeout %s", c.ID(), c.Interval, c.Timeout)
			}
		}
	}
	return ids, s
}

func TestCertChecksAreDerivedAndCanBeTurnedOff(t *testing.T) {
	base := map[string]string{"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_EMAIL_DOMAINS": "contoso.com,fabrikam.com", "SFBEX_DNS_RESOLVERS": "internal=127.0.0.1:53,external=127.0.0.2:53"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	ids, s := checkIDs(t, base)
	if strings.Join(ids, " ") != "oauth/exchange tls/endpoints" {
		t.Fatalf("checks %v", ids)
	}
	if strings.Join(s.Certs.ExchangeURLs, " ") != "https://autodiscover.contoso.com/autodiscover/metadata/json/1 https://autodiscover.fabrikam.com/autodiscover/metadata/json/1" {
		t.Fatalf("derived Exchange URLs %v", s.Certs.ExchangeURLs)
	}
	if s.Certs.Interval != time.Hour || s.Certs.Timeout != 30*time.Second || s.Certs.Limits.OAuthRenewDays != 60 || s.Certs.Limits.OAuthNextMinDays != 120 {
		t.Fatalf("defaults %+v", s.Certs)
	}
	eps, srvs := derivedTLS(s)
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

	ids, s = checkIDs(t, with("SFBEX_EXCHANGE_METADATA_URLS", "none", "SFBEX_TLS_SKIP_ENDPOINTS", "all",
		"SFBEX_SFB_METADATA_URLS", "https://pool01.contoso.com/metadata/json/1,https://pool02.contoso.com/metadata/json/1",
		"SFBEX_AUTH_METADATA_URLS", "https://accounts.accesscontrol.windows.net/contoso.com/metadata/json/1",
		"SFBEX_TLS_ENDPOINTS", "edge-int.contoso.com:5061", "SFBEX_CERT_FILES", "/etc/sfbex/*.pfx"))
	if strings.Join(ids, " ") != "oauth/sfb oauth/other tls/endpoints certfiles//etc/sfbex/*.pfx" || len(s.Certs.ExchangeURLs) != 0 {
		t.Fatalf("checks %v", ids)
	}
	if eps, srvs := derivedTLS(s); len(eps)+len(srvs) != 0 {
		t.Fatalf("skip all left %v %v", eps, srvs)
	}

	ids, _ = checkIDs(t, with("SFBEX_EXCHANGE_DEPLOYMENT", "online", "SFBEX_DEPLOYMENT", "online"))
	if len(ids) != 0 {
		t.Fatalf("Microsoft 365's own certificates are not ours to watch: %v", ids)
	}
	_, s = checkIDs(t, with("SFBEX_TLS_SKIP_ENDPOINTS", "lyncdiscoverinternal,_sip._tls", "SFBEX_DNS_SKIP_RECORDS", "lyncdiscover"))
	eps, srvs = derivedTLS(s)
	if len(eps) != 2 || len(srvs) != 1 || srvs[0].Record != "_sipfederationtls._tcp" {
		t.Fatalf("skips ignored: %v %v", eps, srvs)
	}
	// EWS hosts come from SFBEX_EWS_URLS.
	_, s = checkIDs(t, with("SFBEX_EWS_URLS", "https://mail.contoso.com/EWS/Exchange.asmx,https://owa.contoso.com:8443/EWS/Exchange.asmx"))
	eps, _ = derivedTLS(s)
	var ews []string
	for _, e := range eps {
		if e.Origins[0].Service == "ews" {
			ews = append(ews, e.Key())
		}
	}
	if strings.Join(ews, " ") != "mail.contoso.com:443 owa.contoso.com:8443" {
		t.Fatalf("EWS endpoints %v", ews)
	}
	_, s = checkIDs(t, with("SFBEX_EWS_URLS", "https://mail.contoso.com/EWS/Exchange.asmx", "SFBEX_TLS_SKIP_ENDPOINTS", "ews"))
	if eps, _ = derivedTLS(s); slices.ContainsFunc(eps, func(e certs.Endpoint) bool { return e.Origins[0].Service == "ews" }) {
		t.Fatal("ews not skipped")
	}
}

// The password comes from a _FILE and shows nowhere in the report.
func TestPFXPasswordFromFileOpensTheFileAndStaysHidden(t *testing.T) {
	const password = "Correct-Horse-Battery-9"
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "contoso.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(10 * 24 * time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	pfx, err := pkcs12.Modern.Encode(key, cert, nil, password)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oauth.pfx"), pfx, 0o600); err != nil {
		t.Fatal(err)
	}
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(password+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	setEnv(t, map[string]string{
		"SFBEX_SIP_DOMAINS": "contoso.com", "SFBEX_DNS_RESOLVERS": "ext=127.0.0.1:1", "SFBEX_EXCHANGE_METADATA_URLS": "none",
		"SFBEX_TLS_SKIP_ENDPOINTS": "all", "SFBEX_CERT_FILES": filepath.Join(dir, "*.pfx"), "SFBEX_CERT_FILES_PASSWORD_FILE": pwFile,
		"SFBEX_DNS_TIMEOUT": "1s", "SFBEX_DNS_QUERY_TIMEOUT": "100ms",
	})
	var code int
	var out string
	logs := capture(t, &os.Stderr, func() {
		out = captureStdout(t, func() { code = run([]string{"check", "--verbose", "--log.level=debug"}) })
	})
	if !strings.Contains(out, `certificate "contoso.com" in `+filepath.Join(dir, "oauth.pfx")+": expires in 10 days") || !strings.Contains(out, "(pfx)") {
		t.Fatalf("the PFX was not read with the password from the file (exit %d):\n%s", code, out)
	}
	if strings.Contains(out, password) || strings.Contains(logs, password) {
		t.Fatal("the report or the logs show the password")
	}
}
