package certs

import (
	"context"
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/probes"
)

const exchangeSP = "00000002-0000-0ff1-ce00-000000000000"

func TestAssignRoles(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	c := func(name string, from, to float64) OAuthCert {
		return OAuthCert{Cert: Cert{SubjectCN: name, NotBefore: now.Add(days_(from)), NotAfter: now.Add(days_(to))}}
	}
	for _, tc := range []struct {
		name  string
		certs []OAuthCert
		want  string // "name=role ..." current first, then by expiry
	}{
		{"one", []OAuthCert{c("a", -100, 100)}, "a=current"},
		{"current and staged next", []OAuthCert{c("next", -1, 1800), c("cur", -1500, 300)}, "cur=current next=next"},
		{"next not valid yet", []OAuthCert{c("cur", -1500, 300), c("next", 10, 1800)}, "cur=current next=next"},
		{"expired beside a valid one", []OAuthCert{c("old", -1800, -5), c("cur", -10, 1800)}, "cur=current old=previous"},
		{"only expired", []OAuthCert{c("old", -1800, -50), c("older", -1900, -100)}, "old=current older=previous"},
		{"expired with a future one", []OAuthCert{c("old", -1800, -5), c("future", 5, 1800)}, "old=current future=next"},
		{"all in the future", []OAuthCert{c("b", 20, 1800), c("a", 5, 900)}, "a=current b=next"},
		{"three valid", []OAuthCert{c("c", -1, 1000), c("a", -1, 100), c("b", -1, 500)}, "a=current b=other c=next"},
		{"two certificates expiring together", []OAuthCert{c("a", -1, 100), c("b", -2, 100)}, "a=current b=other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			AssignRoles(tc.certs, now)
			var got []string
			for _, c := range tc.certs {
				got = append(got, c.SubjectCN+"="+c.Role)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %s, want %s", strings.Join(got, " "), tc.want)
			}
		})
	}
}

// exchangeProber probes one Exchange document served by a test server.
func exchangeProber(t *testing.T, server Server, limits Thresholds, domains ...string) (*OAuthProber, *docServer, string) {
	t.Helper()
	d := newDocServer(t)
	u := "https://mail.contoso.test/autodiscover/metadata/json/1"
	p, err := NewOAuthProber(OAuthConfig{Server: server, URLs: []string{u}, Domains: domains, Limits: limits,
		Web: webFor(map[string]*httptest.Server{"mail.contoso.test": d.srv})})
	if err != nil {
		t.Fatal(err)
	}
	return p, d, u
}

func probeOAuth(t *testing.T, p *OAuthProber) (*OAuthResult, error) {
	t.Helper()
	r, err := p.Probe(context.Background())
	if r == nil {
		t.Fatalf("no result (err %v)", err)
	}
	return r.(*OAuthResult), err
}

func findingsText(fs []probes.Finding) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.String())
	}
	return strings.Join(out, "\n")
}

// wantFindings checks the findings: each want is "severity: substring";
// nothing else may be there.
func wantFindings(t *testing.T, fs []probes.Finding, want ...string) {
	t.Helper()
	if len(fs) != len(want) {
		t.Fatalf("%d findings, want %d:\n%s", len(fs), len(want), findingsText(fs))
	}
	for _, w := range want {
		sev, sub, _ := strings.Cut(w, ": ")
		found := false
		for _, f := range fs {
			if f.Severity.String() == sev && strings.Contains(f.Subject+": "+f.Problem, sub) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s finding saying %q in:\n%s", sev, sub, findingsText(fs))
		}
	}
}

func exAuth(t *testing.T, key string, fromDays, toDays float64) *testCert {
	now := time.Now()
	c, _ := mint(t, nil, spec{subject: cn("Microsoft Exchange Server Auth Certificate"), key: key,
		notBefore: now.Add(days_(fromDays)), notAfter: now.Add(days_(toDays))})
	return &testCert{c}
}

type testCert struct{ c *x509.Certificate }

func TestExchangeCurrentAndNextRules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		keys   func(t *testing.T) []mdKey
		limits Thresholds
		want   []string
	}{
		{"healthy: 400 days and a staged next", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1400, 400).c), signing(exAuth(t, "rsa2048b", -1, 1825).c)}
		}, Thresholds{}, nil},
		{"no next, plenty of time: not a finding", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1400, 400).c)}
		}, Thresholds{}, nil},
		{"no next inside the renewal window", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1780, 45).c)}
		}, Thresholds{}, []string{"warning: no next certificate is staged"}},
		{"renewal window is configurable", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1780, 45).c)}
		}, Thresholds{OAuthRenewDays: 30}, nil},
		{"inside the window with a next staged: info", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1780, 45).c), signing(exAuth(t, "rsa2048b", -1, 1825).c)}
		}, Thresholds{}, []string{"info: is staged"}},
		{"10 days with a next staged: confirm the switch", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1800, 10).c), signing(exAuth(t, "rsa2048b", -1, 1825).c)}
		}, Thresholds{}, []string{"warning: cannot show when the server switches"}},
		{"10 days and nothing staged", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1800, 10).c)}
		}, Thresholds{}, []string{"critical: expires in 10 days"}},
		{"expired and nothing else", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1830, -3).c)}
		}, Thresholds{}, []string{"critical: expired on"}},
		{"expired beside a valid one", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1830, -3).c), signing(exAuth(t, "rsa2048b", -1, 1825).c)}
		}, Thresholds{}, []string{"warning: still published beside the current certificate"}},
		{"next that would not last", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", -1400, 40).c), signing(exAuth(t, "rsa2048b", -300, 100).c)}
		}, Thresholds{}, []string{"warning: staged next certificate expires in 100 days", "info: is staged"}},
		{"not valid yet", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa2048a", 2, 1825).c)}
		}, Thresholds{}, []string{"warning: is not valid until"}},
		{"wrong x5t", func(t *testing.T) []mdKey {
			k := signing(exAuth(t, "rsa2048a", -1, 1825).c)
			bad := "bm90LXRoZS1oYXNo"
			k.x5t = &bad
			return []mdKey{k}
		}, Thresholds{}, []string{"warning: is not the certificate's SHA-1"}},
		{"small key", func(t *testing.T) []mdKey {
			return []mdKey{signing(exAuth(t, "rsa1024", -1, 1825).c)}
		}, Thresholds{}, []string{"warning: 1024-bit RSA key"}},
		{"no signing certificate", func(t *testing.T) []mdKey { return nil }, Thresholds{}, []string{"critical: publishes no signing certificate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, d, _ := exchangeProber(t, Exchange, tc.limits)
			d.set(200, metadataJSON(t, exchangeSP, tc.keys(t)...))
			r, err := probeOAuth(t, p)
			if err != nil {
				t.Fatal(err)
			}
			wantFindings(t, r.Findings(), tc.want...)
		})
	}
}

func TestNextPresentAndRolesInTheResult(t *testing.T) {
	p, d, u := exchangeProber(t, Exchange, Thresholds{})
	cur, next := exAuth(t, "rsa2048a", -1400, 400).c, exAuth(t, "rsa2048b", -1, 1825).c
	d.set(200, metadataJSON(t, exchangeSP, signing(next), signing(cur)))
	r, _ := probeOAuth(t, p)
	doc := r.Documents[0]
	if doc.URL != u || !doc.Up || doc.Stale || !doc.NextPresent || len(doc.Certs) != 2 {
		t.Fatalf("%+v", doc)
	}
	if doc.Certs[0].Role != RoleCurrent || doc.Certs[0].Thumbprint != Describe(cur).Thumbprint || doc.Certs[1].Role != RoleNext {
		t.Fatalf("roles %+v", doc.Certs)
	}
	if doc.Realm != "contoso.test" || doc.ServiceName != exchangeSP {
		t.Fatalf("%+v", doc)
	}
	d.set(200, metadataJSON(t, exchangeSP, signing(cur)))
	r, _ = probeOAuth(t, p)
	if r.Documents[0].NextPresent {
		t.Fatal("next present after it was withdrawn")
	}
}

// A document that fails must not drop the certificates or report the next
// certificate missing: the last good one is shown, marked stale.
func TestFailedFetchKeepsTheLastGoodDocument(t *testing.T) {
	p, d, u := exchangeProber(t, Exchange, Thresholds{})
	cur, next := exAuth(t, "rsa2048a", -1400, 400).c, exAuth(t, "rsa2048b", -1, 1825).c
	d.set(200, metadataJSON(t, exchangeSP, signing(cur), signing(next)))
	good, err := probeOAuth(t, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		status int
		body   string
		want   string
	}{
		{500, "oops", "HTTP 500"},
		{200, "<html>login</html>", "not an auth metadata document"},
		{200, `{"keys":[{"usage":"signing","keyvalue":{"value":"QUJD"}}]}`, "not a certificate"},
		{200, `{"realm":"x"}`, `no "keys"`},
	} {
		d.set(bad.status, []byte(bad.body))
		r, err := probeOAuth(t, p)
		if err == nil || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), u) {
			t.Fatalf("%s: error %v", bad.want, err)
		}
		if probes.FixOf(err) == "" {
			t.Errorf("%s: no advice", bad.want)
		}
		doc := r.Documents[0]
		if doc.Up || !doc.Stale || !doc.Known || !doc.NextPresent || len(doc.Certs) != 2 || doc.FetchedAt != good.Documents[0].FetchedAt {
			t.Fatalf("%s: the last good document is not shown as stale: %+v", bad.want, doc)
		}
		if doc.Certs[0].NotAfter != good.Documents[0].Certs[0].NotAfter {
			t.Fatalf("not-after changed")
		}
		if len(r.Findings()) != 0 {
			t.Fatalf("a failed fetch made findings: %s", findingsText(r.Findings()))
		}
	}
	d.set(200, metadataJSON(t, exchangeSP, signing(cur), signing(next)))
	if r, err := probeOAuth(t, p); err != nil || r.Documents[0].Stale {
		t.Fatalf("no recovery: %v %+v", err, r.Documents[0])
	}
}

func TestNeverFetchedDocumentHasNoCertificates(t *testing.T) {
	p, d, _ := exchangeProber(t, SfB, Thresholds{}, "contoso.test")
	d.set(404, nil)
	r, err := probeOAuth(t, p)
	if err == nil || !strings.Contains(probes.FixOf(err), "SFBEX_SFB_METADATA_URLS") {
		t.Fatalf("error %v, fix %q", err, probes.FixOf(err))
	}
	if doc := r.Documents[0]; doc.Known || len(doc.Certs) != 0 || doc.NextPresent {
		t.Fatalf("%+v", doc)
	}
	// An unreachable server.
	p2, err := NewOAuthProber(OAuthConfig{Server: Exchange, URLs: []string{"https://127.0.0.1:1/autodiscover/metadata/json/1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p2.Probe(context.Background())
	if err == nil || !strings.Contains(probes.FixOf(err), "reach 127.0.0.1:1") {
		t.Fatalf("error %v, fix %q", err, probes.FixOf(err))
	}
}

func TestOversizedDocumentIsRejected(t *testing.T) {
	d := newDocServer(t)
	p, err := NewOAuthProber(OAuthConfig{Server: Other, URLs: []string{"https://acs.test/metadata/json/1"}, BodyLimit: 100,
		Web: webFor(map[string]*httptest.Server{"acs.test": d.srv})})
	if err != nil {
		t.Fatal(err)
	}
	d.set(200, []byte(`{"keys":[]}`+strings.Repeat(" ", 200)))
	if _, err := p.Probe(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than 100 bytes") {
		t.Fatalf("%v", err)
	}
}

func TestSkypeForBusinessCertificateRequirements(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name    string
		subject string
		key     string
		domains []string
		want    []string
		has     *bool
	}{
		{"SIP domain and 2048 bits", "contoso.test", "rsa2048a", []string{"fabrikam.test", "contoso.test"}, nil, ptr(true)},
		{"pool name inside the SIP domain", "pool01.contoso.test", "rsa2048a", []string{"contoso.test"}, nil, ptr(true)},
		{"1024 bits", "contoso.test", "rsa1024", []string{"contoso.test"}, []string{"warning: 1024-bit RSA key"}, ptr(true)},
		{"no SIP domain", "sfbpool01.corp.local", "rsa2048a", []string{"contoso.test"}, []string{"warning: does not include the SIP domain"}, ptr(false)},
		{"both", "sfbpool01.corp.local", "rsa1024", []string{"contoso.test"}, []string{"warning: 1024-bit", "warning: does not include the SIP domain"}, ptr(false)},
		{"no SIP domain configured: not judged", "sfbpool01.corp.local", "rsa2048a", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, d, _ := exchangeProber(t, SfB, Thresholds{}, tc.domains...)
			c, _ := mint(t, nil, spec{subject: cn(tc.subject), key: tc.key, notBefore: now.Add(-time.Hour), notAfter: now.AddDate(2, 0, 0)})
			d.set(200, metadataJSON(t, "00000004-0000-0ff1-ce00-000000000000", mdKey{cert: c, usage: "Signing"}))
			r, err := probeOAuth(t, p)
			if err != nil {
				t.Fatal(err)
			}
			wantFindings(t, r.Findings(), tc.want...)
			got := r.Documents[0].Certs[0].SubjectHasSIPDomain
			if (got == nil) != (tc.has == nil) || got != nil && *got != *tc.has {
				t.Errorf("SubjectHasSIPDomain = %s, want %s", deref(got), deref(tc.has))
			}
		})
	}
}

func TestEveryPoolMustPublishTheSameCertificate(t *testing.T) {
	a, b := newDocServer(t), newDocServer(t)
	p, err := NewOAuthProber(OAuthConfig{Server: SfB, Domains: []string{"contoso.test"},
		URLs: []string{"https://pool01.contoso.test/metadata/json/1", "https://pool02.contoso.test/metadata/json/1"},
		Web:  webFor(map[string]*httptest.Server{"pool01.contoso.test": a.srv, "pool02.contoso.test": b.srv})})
	if err != nil {
		t.Fatal(err)
	}
	c1, _ := mint(t, nil, spec{subject: cn("contoso.test"), key: "rsa2048a"})
	c2, _ := mint(t, nil, spec{subject: cn("contoso.test"), key: "rsa2048b"})
	a.set(200, metadataJSON(t, "s", mdKey{cert: c1, usage: "signing"}))
	b.set(200, metadataJSON(t, "s", mdKey{cert: c1, usage: "signing"}))
	r, err := probeOAuth(t, p)
	if err != nil || r.PoolsConsistent == nil || !*r.PoolsConsistent {
		t.Fatalf("%v %v", err, r.PoolsConsistent)
	}
	wantFindings(t, r.Findings())
	b.set(200, metadataJSON(t, "s", mdKey{cert: c2, usage: "signing"}))
	r, _ = probeOAuth(t, p)
	if r.PoolsConsistent == nil || *r.PoolsConsistent {
		t.Fatal("pools with different certificates called consistent")
	}
	wantFindings(t, r.Findings(), "critical: the pools publish different certificates")
	if !strings.Contains(findingsText(r.Findings()), Describe(c2).Thumbprint) {
		t.Error("the finding does not name the thumbprints")
	}
	// A pool that cannot be fetched is compared with its last good document.
	b.set(503, nil)
	r, err = probeOAuth(t, p)
	if err == nil || r.PoolsConsistent == nil || *r.PoolsConsistent {
		t.Fatalf("stale pool not compared: %v %v", err, r.PoolsConsistent)
	}
}

func TestDetailsShowDaysLeftAndStaleness(t *testing.T) {
	p, d, _ := exchangeProber(t, Exchange, Thresholds{})
	d.set(200, metadataJSON(t, exchangeSP, signing(exAuth(t, "rsa2048a", -1400, 400).c)))
	probeOAuth(t, p)
	d.set(500, nil)
	r, _ := probeOAuth(t, p)
	text := strings.Join(r.Details(), "\n")
	for _, want := range []string{"current: CN=Microsoft Exchange Server Auth Certificate", "400 days left", "x5t matches", "[stale", "HTTP 500", "next staged: false"} {
		if !strings.Contains(text, want) {
			t.Errorf("details lack %q:\n%s", want, text)
		}
	}
}
