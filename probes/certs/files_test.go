package certs

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/probes"
)

const pfxPassword = "Pfx-Pa55word!"

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func pemOf(cs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range cs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func probeFiles(t *testing.T, p *FilesProber) (*FilesResult, error) {
	t.Helper()
	r, err := p.Probe(context.Background())
	if r == nil {
		t.Fatalf("no result: %v", err)
	}
	return r.(*FilesResult), err
}

func TestCertFileFormats(t *testing.T) {
	dir := t.TempDir()
	ca, caI := mint(t, nil, spec{subject: cn("Contoso Root"), ca: true, key: "ec2"})
	leaf, _ := mint(t, caI, spec{subject: cn("contoso.test"), key: "rsa2048a"})
	key := testKeys()["rsa2048a"]
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// PEM with a key in the middle, as exports often are.
	writeFile(t, filepath.Join(dir, "oauth.pem"), append(append(pemOf(leaf), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...), pemOf(ca)...))
	writeFile(t, filepath.Join(dir, "oauth.cer"), leaf.Raw)
	for name, enc := range map[string]*pkcs12.Encoder{"modern.pfx": pkcs12.Modern, "legacy.pfx": pkcs12.LegacyDES, "pbmac1.pfx": pkcs12.Modern2026} {
		b, err := enc.WithRand(rand.Reader).Encode(key, leaf, []*x509.Certificate{ca}, pfxPassword)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	ts, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca}, pfxPassword)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "truststore.p12"), ts)

	p, err := NewFilesProber(FilesConfig{Patterns: []string{filepath.Join(dir, "*.p*"), filepath.Join(dir, "*.cer"), filepath.Join(dir, "*.pem")}, Password: pfxPassword})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeFiles(t, p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range r.Files {
		var roles []string
		for _, c := range f.Certs {
			roles = append(roles, c.Role+":"+c.SubjectCN)
		}
		got[filepath.Base(f.Path)] = f.Format + " " + strings.Join(roles, ",")
		if !f.Up || f.Stale {
			t.Errorf("%s: %+v", f.Path, f)
		}
	}
	want := map[string]string{
		"oauth.pem":      "pem leaf:contoso.test,ca:Contoso Root",
		"oauth.cer":      "der leaf:contoso.test",
		"modern.pfx":     "pfx leaf:contoso.test,ca:Contoso Root",
		"legacy.pfx":     "pfx leaf:contoso.test,ca:Contoso Root",
		"pbmac1.pfx":     "pfx leaf:contoso.test,ca:Contoso Root",
		"truststore.p12": "pfx ca:Contoso Root",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("files %v", got)
	}
	if r.Patterns[0].Matched != 5 || r.Patterns[1].Matched != 1 || r.Patterns[2].Matched != 1 {
		t.Errorf("patterns %+v", r.Patterns)
	}
	wantFindings(t, r.Findings())
}

// The password must not leak: not in errors, results, details or JSON.
func TestWrongPFXPasswordSaysWhatToDoAndLeaksNothing(t *testing.T) {
	dir := t.TempDir()
	leaf, _ := mint(t, nil, spec{subject: cn("contoso.test"), key: "rsa2048a"})
	b, err := pkcs12.Modern.Encode(testKeys()["rsa2048a"], leaf, nil, "the-right-one")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "oauth.pfx")
	writeFile(t, path, b)
	p, err := NewFilesProber(FilesConfig{Patterns: []string{path}, Password: pfxPassword})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeFiles(t, p)
	if err == nil || !strings.Contains(err.Error(), "PFX password is wrong") || !strings.Contains(probes.FixOf(err), "SFBEX_CERT_FILES_PASSWORD") {
		t.Fatalf("error %v, fix %q", err, probes.FixOf(err))
	}
	js, jerr := json.Marshal(r)
	if jerr != nil || !strings.Contains(string(js), "oauth.pfx") {
		t.Fatalf("the result's JSON (%v): %s", jerr, js)
	}
	for _, text := range []string{err.Error(), probes.FixOf(err), string(js), strings.Join(r.Details(), "\n"), findingsText(r.Findings())} {
		if strings.Contains(text, pfxPassword) || strings.Contains(text, "the-right-one") {
			t.Fatalf("a password leaked: %s", text)
		}
	}
	if r.Files[0].Known || len(r.Files[0].Certs) != 0 {
		t.Fatalf("%+v", r.Files[0])
	}
}

func TestCertFileFailuresKeepTheLastGoodCertificates(t *testing.T) {
	dir := t.TempDir()
	leaf, _ := mint(t, nil, spec{subject: cn("contoso.test"), notAfter: time.Now().Add(days_(300))})
	path := filepath.Join(dir, "oauth.pem")
	writeFile(t, path, pemOf(leaf))
	p, err := NewFilesProber(FilesConfig{Patterns: []string{filepath.Join(dir, "*")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := probeFiles(t, p); err != nil {
		t.Fatal(err)
	}
	two := pemOf(leaf, leaf)
	for _, bad := range [][]byte{[]byte("-----BEGIN CERTIFICATE-----\ntruncated"), []byte("garbage"), pemOf(leaf)[:100], two[:len(two)-40]} {
		writeFile(t, path, bad)
		r, err := probeFiles(t, p)
		if err == nil {
			t.Fatalf("%q accepted", bad)
		}
		f := r.Files[0]
		if f.Up || !f.Stale || len(f.Certs) != 1 || f.Certs[0].NotAfter.Unix() != leaf.NotAfter.Unix() {
			t.Fatalf("%q: %+v", bad, f)
		}
	}
	os.Remove(path)
	r, err := probeFiles(t, p)
	if err != nil || len(r.Files) != 0 {
		t.Fatalf("a removed file is still reported: %v %+v", err, r.Files)
	}
	wantFindings(t, r.Findings(), "warning: matches no file")
}

func TestCertFileExpiry(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for name, left := range map[string]float64{"ok": 200, "soon": 20, "very-soon": 5, "expired": -1} {
		c, _ := mint(t, nil, spec{subject: cn(name), notBefore: now.AddDate(-1, 0, 0), notAfter: now.Add(days_(left))})
		writeFile(t, filepath.Join(dir, name+".pem"), pemOf(c))
	}
	p, err := NewFilesProber(FilesConfig{Patterns: []string{filepath.Join(dir, "*.pem")}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeFiles(t, p)
	if err != nil {
		t.Fatal(err)
	}
	wantFindings(t, r.Findings(), `warning: "soon"`, `critical: "very-soon"`, `critical: "expired"`)
	if !strings.Contains(strings.Join(r.Details(), "\n"), "200 days left") {
		t.Errorf("details:\n%s", strings.Join(r.Details(), "\n"))
	}
}

func TestCertFileBounds(t *testing.T) {
	dir := t.TempDir()
	c, _ := mint(t, nil, spec{subject: cn("a")})
	for _, n := range []string{"a.pem", "b.pem", "c.pem"} {
		writeFile(t, filepath.Join(dir, n), pemOf(c))
	}
	writeFile(t, filepath.Join(dir, "big.pem"), append(pemOf(c), make([]byte, 2000)...))
	p, err := NewFilesProber(FilesConfig{Patterns: []string{filepath.Join(dir, "*.pem")}, MaxFiles: 2, MaxBytes: 1500})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeFiles(t, p)
	if err == nil || !strings.Contains(err.Error(), "more than 2 files") || len(r.Files) != 2 {
		t.Fatalf("%v %d", err, len(r.Files))
	}
	p, _ = NewFilesProber(FilesConfig{Patterns: []string{filepath.Join(dir, "big.pem")}, MaxBytes: 1500})
	if _, err := probeFiles(t, p); err == nil || !strings.Contains(err.Error(), "larger than 1500 bytes") {
		t.Fatalf("%v", err)
	}
	if _, err := NewFilesProber(FilesConfig{Patterns: []string{"[oops"}}); err == nil {
		t.Fatal("bad pattern accepted")
	}
}
