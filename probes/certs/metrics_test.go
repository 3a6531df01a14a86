package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/internal/web"
	"github.com/sfbex/sfbex_exporter/probes"
)

func renderedCert(cn, serial string, notAfter time.Time) Cert {
	return Cert{SubjectCN: cn, IssuerCN: cn, Serial: serial, Thumbprint: strings.Repeat(serial[:1], 40),
		NotBefore: notAfter.AddDate(-5, 0, 0), NotAfter: notAfter, KeyAlgorithm: "RSA", KeyBits: 2048, SelfSigned: true}
}

func TestOAuthRendering(t *testing.T) {
	c := &probes.Check{Probe: "oauth", Target: "exchange", Interval: time.Hour, Timeout: time.Minute}
	s := collector.NewStore([]*probes.Check{c})
	reg := promtest.Registry(collector.NewCollector(s))
	notAfter := time.Unix(1_900_000_000, 0)
	yes, no := true, false
	u := "https://autodiscover.contoso.test/autodiscover/metadata/json/1"
	res := &OAuthResult{Server: SfB, Documents: []Document{{
		URL: u, Server: SfB, Up: true, Known: true, FetchedAt: time.Unix(1_800_000_000, 0),
		Realm: "contoso.test", Issuer: "00000004@contoso.test", ServiceName: "00000004", NextPresent: true,
		Certs: []OAuthCert{
			{Cert: renderedCert("contoso.test", "A1", notAfter), Role: RoleCurrent, X5TMatches: &yes, SubjectHasSIPDomain: &yes},
			{Cert: renderedCert("contoso.test", "B2", notAfter.AddDate(2, 0, 0)), Role: RoleNext, X5TMatches: &no, SubjectHasSIPDomain: &no},
		},
	}}, PoolsConsistent: &no}
	s.Record(c.ID(), collector.Run{Start: time.Now(), Result: res})
	cur := map[string]string{"kind": "oauth", "source": u, "role": "current", "subject_cn": "contoso.test", "serial": "A1"}
	for name, want := range map[string]float64{
		"sfbex_cert_not_after_timestamp_seconds": 1_900_000_000,
		"sfbex_cert_key_size":                    2048,
		"sfbex_cert_subject_has_sip_domain":      1,
		"sfbex_oauth_cert_x5t_matches":           1,
		"sfbex_cert_info":                        1,
	} {
		if v, ok := promtest.Lookup(t, reg, name, cur); !ok || v != want {
			t.Errorf("%s = %v (%v), want %v", name, v, ok, want)
		}
	}
	next := map[string]string{"role": "next", "serial": "B2"}
	if v := promtest.Value(t, reg, "sfbex_oauth_cert_x5t_matches", next); v != 0 {
		t.Error("x5t mismatch not 0")
	}
	if v := promtest.Value(t, reg, "sfbex_cert_subject_has_sip_domain", next); v != 0 {
		t.Error("SIP domain absence not 0")
	}
	for name, want := range map[string]float64{
		"sfbex_oauth_next_certificate_present":             1,
		"sfbex_oauth_signing_certificates":                 2,
		"sfbex_cert_source_up":                             1,
		"sfbex_cert_source_stale":                          0,
		"sfbex_cert_source_last_success_timestamp_seconds": 1_800_000_000,
	} {
		if v, ok := promtest.Lookup(t, reg, name, map[string]string{"source": u}); !ok || v != want {
			t.Errorf("%s = %v (%v), want %v", name, v, ok, want)
		}
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_oauth_metadata_info", map[string]string{"server": "sfb", "realm": "contoso.test", "service_name": "00000004"}); !ok || v != 1 {
		t.Error("no metadata info")
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_oauth_pools_same_certificate", nil); !ok || v != 0 {
		t.Error("pools consistency not 0")
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %+v", p)
	}
}

// A failed run keeps not-after and next-present: no false zero.
func TestOAuthStaleDocumentKeepsItsSeries(t *testing.T) {
	c := &probes.Check{Probe: "oauth", Target: "exchange", Interval: time.Hour, Timeout: time.Minute}
	s := collector.NewStore([]*probes.Check{c})
	reg := promtest.Registry(collector.NewCollector(s))
	u := "https://x/metadata/json/1"
	notAfter := time.Unix(1_900_000_000, 0)
	doc := Document{URL: u, Known: true, Up: false, Stale: true, Error: "HTTP 500", NextPresent: true,
		Certs: []OAuthCert{{Cert: renderedCert("a", "A1", notAfter), Role: RoleCurrent}, {Cert: renderedCert("a", "B2", notAfter), Role: RoleNext}}}
	s.Record(c.ID(), collector.Run{Start: time.Now(), Result: &OAuthResult{Documents: []Document{doc}}, Err: probes.WithFix(io.EOF, "x")})
	if v, ok := promtest.Lookup(t, reg, "sfbex_cert_not_after_timestamp_seconds", map[string]string{"serial": "A1"}); !ok || v != 1_900_000_000 {
		t.Errorf("not-after %v %v", v, ok)
	}
	if v := promtest.Value(t, reg, "sfbex_oauth_next_certificate_present", nil); v != 1 {
		t.Error("next present dropped")
	}
	if v := promtest.Value(t, reg, "sfbex_cert_source_stale", nil); v != 1 {
		t.Error("not stale")
	}
	if v := promtest.Value(t, reg, "sfbex_cert_source_up", nil); v != 0 {
		t.Error("up")
	}
	// Never fetched: up=0, and no certificate or next-present series at all.
	s.Record(c.ID(), collector.Run{Start: time.Now(), Result: &OAuthResult{Documents: []Document{{URL: u, Error: "refused"}}}, Err: io.EOF})
	for _, name := range []string{"sfbex_cert_not_after_timestamp_seconds", "sfbex_oauth_next_certificate_present", "sfbex_cert_source_last_success_timestamp_seconds"} {
		if _, ok := promtest.Lookup(t, reg, name, nil); ok {
			t.Errorf("%s exposed for a document never fetched", name)
		}
	}
}

func TestTLSRenderingAndDuplicateCertificates(t *testing.T) {
	c := &probes.Check{Probe: "tls", Target: "endpoints", Interval: time.Hour, Timeout: time.Minute}
	s := collector.NewStore([]*probes.Check{c})
	reg := promtest.Registry(collector.NewCollector(s))
	leaf := renderedCert("edge01.contoso.test", "C3", time.Unix(1_900_000_000, 0))
	res := &TLSResult{Endpoints: []EndpointResult{{
		Endpoint: "sip.contoso.test:5061", Up: true, Known: true, CheckedAt: time.Unix(1_800_000_000, 0),
		Origins: []Origin{{Service: "_sipfederationtls._tcp", Domain: "contoso.test"}, {Service: "_sipfederationtls._tcp", Domain: "fabrikam.test"}},
		// A broken chain sending the same certificate twice in two roles
		// must not produce a duplicate series.
		Chain:  []ChainCert{{Cert: leaf, Role: "leaf"}, {Cert: leaf, Role: "intermediate"}, {Cert: leaf, Role: "intermediate"}},
		Verify: Verification{Reason: "name_mismatch"},
		Names:  []NameCheck{{Name: "sip.contoso.test", Covered: false}},
	}}}
	s.Record(c.ID(), collector.Run{Start: time.Now(), Result: res})
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	ep := map[string]string{"endpoint": "sip.contoso.test:5061"}
	if v, ok := promtest.Lookup(t, reg, "sfbex_tls_verify_ok", ep); !ok || v != 0 {
		t.Error("verify ok")
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_tls_verify_result", map[string]string{"reason": "name_mismatch"}); !ok || v != 1 {
		t.Error("verify result")
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_tls_cert_covers_name", map[string]string{"name": "sip.contoso.test"}); !ok || v != 0 {
		t.Error("covers name")
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_tls_endpoint_info", map[string]string{"domain": "fabrikam.test"}); !ok || v != 1 {
		t.Error("endpoint info")
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_cert_not_after_timestamp_seconds", map[string]string{"kind": "tls", "role": "leaf", "source": "sip.contoso.test:5061"}); !ok || v != 1_900_000_000 {
		t.Error("leaf not-after")
	}
}

// The PFX password never reaches metrics, the status page, the API or the report.
func TestPFXPasswordNeverShows(t *testing.T) {
	const password = "Zebra-Crossing-42"
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "contoso.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	for name, pw := range map[string]string{"right.pfx": password, "wrong.pfx": "another-" + password} {
		b, err := pkcs12.Modern.Encode(key, cert, nil, pw)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p, err := NewFilesProber(FilesConfig{Patterns: []string{filepath.Join(dir, "*.pfx")}, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	c := &probes.Check{Probe: "certfiles", Target: filepath.Join(dir, "*.pfx"), Interval: time.Hour, Timeout: time.Minute, Run: p.Probe}
	s := collector.NewStore([]*probes.Check{c})
	collector.RunOnce(context.Background(), s, []*probes.Check{c}, 1)
	e := s.Entries()[0]
	if e.Latest.Err == nil || e.Shown == nil {
		t.Fatalf("the wrong password went unnoticed: %+v", e)
	}
	var out []string
	for _, path := range []string{"/", "/api/checks"} {
		rec := httptest.NewRecorder()
		if path == "/" {
			web.StatusPage(s, web.PageInfo{}).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		} else {
			web.APIChecks(s).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		}
		out = append(out, rec.Body.String())
	}
	var report strings.Builder
	web.WriteReport(&report, web.Views(s.Entries()), true)
	out = append(out, report.String())
	mfs, err := promtest.Registry(collector.NewCollector(s)).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		out = append(out, mf.String())
	}
	all := strings.Join(out, "\n")
	if !strings.Contains(all, "right.pfx") || !strings.Contains(all, "PFX password is wrong") {
		t.Fatalf("the pages do not show the files:\n%s", report.String())
	}
	if strings.Contains(all, password) {
		t.Fatal("the PFX password shows on a page or in the metrics")
	}
}
