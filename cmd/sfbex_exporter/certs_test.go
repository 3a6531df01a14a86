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
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
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
