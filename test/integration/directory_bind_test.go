package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/directory"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// NTLM user name of slapdBindDN: slapd maps it to CN=svc-sfbex under the
// suffix (see infra.Slapd).
const slapdNTLMUser = `CONTOSO\svc-sfbex`

// bindScan scans slapd with cfg as given (no default bind DN) under a
// deadline.
func bindScan(t *testing.T, cfg directory.Config, deadline time.Duration) (*directory.Result, error) {
	t.Helper()
	cfg.BaseDN, cfg.SIPDomains, cfg.MinCoverage = slapdSuffix, []string{"contoso.test"}, 0.95
	p, err := directory.NewProber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	r, err := p.Probe(ctx)
	if err != nil {
		if r != nil {
			t.Errorf("a failed scan returned a result: %+v", r)
		}
		return nil, err
	}
	return r.(*directory.Result), nil
}

// wantFailure checks that err names the cause and its fix says what to do,
// and that neither holds a password.
func wantFailure(t *testing.T, name string, err error, inErr, inFix []string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: the scan succeeded", name)
		return
	}
	fix := probes.FixOf(err)
	for _, w := range inErr {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error lacks %q:\n%v", name, w, err)
		}
	}
	for _, w := range inFix {
		if !strings.Contains(fix, w) {
			t.Errorf("%s: fix lacks %q:\n%s\n(error: %v)", name, w, fix, err)
		}
	}
	for _, secret := range []string{slapdPassword, "Wr0ng-Secret-Value"} {
		if strings.Contains(err.Error()+fix, secret) {
			t.Errorf("%s: a password in %v / %s", name, err, fix)
		}
	}
}

// SFBEX_LDAP_AUTH=ntlm against a server that offers NTLM over SASL, as
// Samba does (slapd with Cyrus SASL's NTLM plugin): the right password
// scans, a wrong one is refused with its own hint. go-ldap's NTLMBind
// (Sicily) never worked there.
func TestSlapdNTLMOverSASL(t *testing.T) {
	infra.RequireSASLNTLM(t)
	pool, cert, key := ldapTestPKI(t, t.TempDir())
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(30)), CertFile: cert, KeyFile: key})
	for _, c := range []struct {
		name string
		cfg  directory.Config
	}{
		{"plain", directory.Config{URL: s.URL}},
		{"StartTLS", directory.Config{URL: s.URL, StartTLS: true, Web: &webclient.Options{RootCAs: pool}}},
		{"ldaps", directory.Config{URL: s.LDAPSURL, Web: &webclient.Options{RootCAs: pool}}},
	} {
		cfg := c.cfg
		cfg.NTLM, cfg.BindDN, cfg.Password = true, slapdNTLMUser, slapdPassword
		r, err := bindScan(t, cfg, 30*time.Second)
		if err != nil {
			t.Errorf("%s: NTLM with the right password: %v / %s", c.name, err, probes.FixOf(err))
			continue
		}
		if d := stats(r, "contoso.test"); d.Users != 30 || r.Pages != 1 {
			t.Errorf("%s: %+v in %d pages", c.name, d, r.Pages)
		}
	}
	_, err := bindScan(t, directory.Config{URL: s.URL, NTLM: true, BindDN: slapdNTLMUser, Password: "Wr0ng-Secret-Value"}, 30*time.Second)
	wantFailure(t, "NTLM, wrong password", err,
		[]string{"refused the NTLM bind over SASL NTLM", `"CONTOSO\\svc-sfbex"`, "invalid credentials", "incorrect NTLMv2 response"},
		[]string{"SFBEX_LDAP_BIND_DN", "DOMAIN\\user", "SFBEX_LDAP_PASSWORD"})

	// An account slapd does not know (slapd answers 80, "other").
	_, err = bindScan(t, directory.Config{URL: s.URL, NTLM: true, BindDN: `CONTOSO\nobody`, Password: slapdPassword}, 30*time.Second)
	wantFailure(t, "NTLM, unknown user", err, []string{"refused the NTLM bind over SASL NTLM", "nobody"}, []string{"SFBEX_LDAP_BIND_DN"})
}

// A server that offers SASL mechanisms but no NTLM (slapd with
// "noactive", which leaves SCRAM only): the error lists what it offers and what
// the agent speaks.
func TestSlapdWithoutNTLMSaysWhatItOffers(t *testing.T) {
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3)),
		Global: "sasl-secprops noanonymous,noplain,noactive"})
	_, err := bindScan(t, directory.Config{URL: s.URL, NTLM: true, BindDN: slapdNTLMUser, Password: slapdPassword}, 30*time.Second)
	wantFailure(t, "no NTLM offered", err,
		[]string{"offers no NTLM bind", "its SASL mechanisms are", "SCRAM-SHA-256", "NTLM over SASL (NTLM or GSS-SPNEGO) and Sicily"},
		[]string{"SFBEX_LDAP_AUTH=simple"})
}

// Each way a real server refuses a bind gets the hint for that cause.
func TestSlapdBindRefusalsEachWithItsHint(t *testing.T) {
	for _, c := range []struct {
		name   string
		global string
		cfg    directory.Config
		inErr  []string
		inFix  []string
	}{
		{"wrong password", "", directory.Config{BindDN: slapdBindDN, Password: "Wr0ng-Secret-Value"},
			[]string{"refused the simple bind", "invalid credentials"}, []string{"SFBEX_LDAP_PASSWORD"}},
		{"anonymous bind disallowed", "disallow bind_anon", directory.Config{},
			[]string{"refused the anonymous bind as anonymous", "inappropriate authentication", "anonymous bind disallowed"},
			[]string{"refuses anonymous binds", "SFBEX_LDAP_BIND_DN"}},
		{"anonymous search refused", "require authc", directory.Config{},
			[]string{"refused the search", "authentication required"},
			[]string{"anonymous clients", "SFBEX_LDAP_BIND_DN"}},
		{"simple bind needs TLS", "security simple_bind=128", directory.Config{BindDN: slapdBindDN, Password: slapdPassword},
			[]string{"requires TLS", "confidentiality required"}, []string{"StartTLS", "ldaps://"}},
		{"simple binds disallowed", "disallow bind_simple", directory.Config{BindDN: slapdBindDN, Password: slapdPassword},
			[]string{"unwilling to perform", "simple authentication"}, []string{"SFBEX_LDAP_AUTH=ntlm"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3)), Global: c.global})
			cfg := c.cfg
			cfg.URL = s.URL
			_, err := bindScan(t, cfg, 30*time.Second)
			wantFailure(t, c.name, err, c.inErr, c.inFix)
		})
	}
}

// A server that offers NTLM only over TLS (as slapd with a minimum
// security strength, which leaves NTLM out of the mechanisms it lists on a
// plain connection): the error says so and points to TLS, where the bind
// then works.
func TestSlapdNTLMOnlyOverTLS(t *testing.T) {
	infra.RequireSASLNTLM(t)
	pool, cert, key := ldapTestPKI(t, t.TempDir())
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3)), CertFile: cert, KeyFile: key,
		Global: "sasl-secprops minssf=56"})
	_, err := bindScan(t, directory.Config{URL: s.URL, NTLM: true, BindDN: slapdNTLMUser, Password: slapdPassword}, 30*time.Second)
	wantFailure(t, "NTLM on a plain connection", err, []string{"offers no NTLM bind", "DIGEST-MD5"},
		[]string{"SFBEX_LDAP_STARTTLS=true", "ldaps://"})
	if _, err := bindScan(t, directory.Config{URL: s.URL, StartTLS: true, Web: &webclient.Options{RootCAs: pool},
		NTLM: true, BindDN: slapdNTLMUser, Password: slapdPassword}, 30*time.Second); err != nil {
		t.Errorf("NTLM over StartTLS: %v / %s", err, probes.FixOf(err))
	}
}

// A hung server (slapd stopped with SIGSTOP: the kernel accepts the
// connection, nothing answers) and the run's deadline: the error says the
// deadline ended the bind, not that the server closed the connection.
func TestSlapdHungDuringBindIsOurDeadline(t *testing.T) {
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3))})
	s.Pause(t)
	start := time.Now()
	_, err := bindScan(t, directory.Config{URL: s.URL, BindDN: slapdBindDN, Password: slapdPassword}, 500*time.Millisecond)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the scan took %v past its deadline", took)
	}
	wantFailure(t, "hung server", err, []string{"did not complete the simple bind before the run's deadline", "context deadline exceeded"},
		[]string{"did not answer", "SFBEX_LDAP_TIMEOUT"})
	if err != nil && strings.Contains(err.Error(), "closed the connection") {
		t.Errorf("our own deadline reported as the server closing: %v", err)
	}
	s.Resume()
	if _, err := bindScan(t, directory.Config{URL: s.URL, BindDN: slapdBindDN, Password: slapdPassword}, 30*time.Second); err != nil {
		t.Errorf("after SIGCONT: %v", err)
	}
}

// Plain LDAP sent to slapd's ldaps:// port: slapd drops the connection,
// and the hint names the likely cause.
func TestSlapdPlainLDAPToTLSPort(t *testing.T) {
	_, cert, key := ldapTestPKI(t, t.TempDir())
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3)), CertFile: cert, KeyFile: key})
	_, err := bindScan(t, directory.Config{URL: "ldap://" + strings.TrimPrefix(s.LDAPSURL, "ldaps://"), BindDN: slapdBindDN, Password: slapdPassword}, 30*time.Second)
	wantFailure(t, "ldap:// to the ldaps port", err, []string{"closed the connection during the simple bind"}, []string{"636 needs ldaps://"})
}

// negativeSerialCert writes a self-signed certificate for 127.0.0.1 with a
// negative serial number, as Samba generates: Go's x509 refuses to create
// one, so a proper certificate's TBSCertificate gets the serial -1092 and
// is signed again.
func negativeSerialCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1092), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		TBS    asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &c); err != nil {
		t.Fatal(err)
	}
	// TBSCertificate ::= SEQUENCE { version [0], serialNumber INTEGER, … }
	var fields []asn1.RawValue
	for rest := c.TBS.Bytes; len(rest) > 0; {
		var f asn1.RawValue
		if rest, err = asn1.Unmarshal(rest, &f); err != nil {
			t.Fatal(err)
		}
		fields = append(fields, f)
	}
	serial, err := asn1.Marshal(big.NewInt(-1092))
	if err != nil {
		t.Fatal(err)
	}
	var body []byte
	for i, f := range fields {
		if i == 1 {
			body = append(body, serial...)
			continue
		}
		body = append(body, f.FullBytes...)
	}
	tbs, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: body})
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(tbs)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	c.TBS = asn1.RawValue{FullBytes: tbs}
	c.Sig = asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)}
	if der, err = asn1.Marshal(c); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParseCertificate(der); err == nil || !strings.Contains(err.Error(), "negative serial number") {
		t.Fatalf("the hand-made certificate parses as %v, want a negative serial number", err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "neg.pem"), filepath.Join(dir, "neg.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// Samba's self-generated certificate has a negative serial number, which
// Go refuses while parsing, before any verification: the error says so,
// SFBEX_TLS_INSECURE_HOSTS is not suggested (it does not help), and
// GODEBUG=x509negativeserial=1 gets past it, with the certificate trusted
// through SFBEX_CA_FILE.
func TestSlapdNegativeSerialCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key := negativeSerialCert(t, dir)
	s := infra.StartSlapd(t, infra.SlapdOptions{Suffix: slapdSuffix, LDIF: directoryLDIF(healthyUsers(3)), CertFile: cert, KeyFile: key})
	insecure := &webclient.Options{InsecureHosts: []string{"127.0.0.1"}}
	for _, cfg := range []directory.Config{
		{URL: s.LDAPSURL},
		{URL: s.URL, StartTLS: true},
		{URL: s.LDAPSURL, Web: insecure},
	} {
		cfg.BindDN, cfg.Password = slapdBindDN, slapdPassword
		_, err := bindScan(t, cfg, 30*time.Second)
		wantFailure(t, cfg.URL, err, []string{"TLS with the directory server", "negative serial number"},
			[]string{"negative serial number", "GODEBUG=x509negativeserial=1", "cannot help"})
		if err != nil && strings.Contains(probes.FixOf(err), "list the host in SFBEX_TLS_INSECURE_HOSTS") {
			t.Errorf("%s: suggests SFBEX_TLS_INSECURE_HOSTS, which cannot help: %s", cfg.URL, probes.FixOf(err))
		}
	}
	// The CA file holding the certificate says what is wrong with it.
	if _, err := webclient.LoadCAFile(cert); err == nil || !strings.Contains(err.Error(), "negative serial number") || strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("LoadCAFile: %v", err)
	}

	// With the documented GODEBUG setting Go parses it, and the CA file
	// trusts it (t.Setenv: GODEBUG is read again when it changes).
	t.Setenv("GODEBUG", "x509negativeserial=1")
	pool, err := webclient.LoadCAFile(cert)
	if err != nil {
		t.Fatalf("LoadCAFile with GODEBUG=x509negativeserial=1: %v", err)
	}
	for _, cfg := range []directory.Config{{URL: s.LDAPSURL}, {URL: s.URL, StartTLS: true}} {
		cfg.BindDN, cfg.Password, cfg.Web = slapdBindDN, slapdPassword, &webclient.Options{RootCAs: pool}
		if _, err := bindScan(t, cfg, 30*time.Second); err != nil {
			t.Errorf("%s with GODEBUG=x509negativeserial=1: %v", cfg.URL, err)
		}
	}
}
