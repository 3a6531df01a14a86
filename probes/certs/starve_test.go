package certs

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/loopback"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

// loopbackPKI is a CA and a leaf for *.contoso.test, for real HTTPS and
// TLS servers on 127.0.0.1.
type loopbackPKI struct {
	pool *x509.CertPool
	leaf tls.Certificate
	auth *x509.Certificate // an Exchange Auth Certificate, valid a year
}

func newLoopbackPKI(t *testing.T) *loopbackPKI {
	t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	mk := func(tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	caKey, leafKey, authKey := key(), key(), key()
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Loopback Test CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.AddDate(1, 0, 0), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	ca := mk(caT, caT, &caKey.PublicKey, caKey)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "*.contoso.test"}, DNSNames: []string{"*.contoso.test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	leaf := mk(leafT, ca, &leafKey.PublicKey, caKey)
	authT := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Microsoft Exchange Server Auth Certificate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	p := &loopbackPKI{pool: x509.NewCertPool(), auth: mk(authT, authT, &authKey.PublicKey, authKey)}
	p.pool.AddCert(ca)
	p.leaf = tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Raw}, PrivateKey: leafKey, Leaf: leaf}
	return p
}

// metadata is an Exchange auth metadata document publishing the auth certificate.
func (p *loopbackPKI) metadata(t *testing.T) []byte {
	sum := sha1.Sum(p.auth.Raw)
	b, err := json.Marshal(map[string]any{
		"id": "_1", "version": "1.0", "name": "Exchange", "realm": "contoso.test", "serviceName": "00000002-0000-0ff1-ce00-000000000000",
		"issuer": "00000002-0000-0ff1-ce00-000000000000@contoso.test",
		"keys": []any{map[string]any{"usage": "signing",
			"keyinfo":  map[string]string{"x5t": base64.RawURLEncoding.EncodeToString(sum[:])},
			"keyvalue": map[string]string{"type": "x509Certificate", "value": base64.StdEncoding.EncodeToString(p.auth.Raw)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hangingHTTPS is an HTTPS server that accepts requests and never answers
// them, until the test ends.
func hangingHTTPS(t *testing.T, cert tls.Certificate) *httptest.Server {
	release := make(chan struct{})
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(release) })
	return s
}

func serveHTTPS(t *testing.T, cert tls.Certificate, body []byte) *httptest.Server {
	s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// silentTLS is a peer that accepts TCP connections and never answers: a TLS
// handshake with it hangs until the client gives up.
func silentTLS(t *testing.T) string {
	t.Helper()
	ln, err := loopback.Silent()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// One hanging metadata URL among several: the others are fetched and
// recorded, the check is partial (not nothing, not "ok"), and the error
// names the hanging URL as timed out.
func TestHangingMetadataURLDoesNotStarveTheOthers(t *testing.T) {
	pk := newLoopbackPKI(t)
	doc := pk.metadata(t)
	hang := hangingHTTPS(t, pk.leaf)
	web := &webclient.Options{RootCAs: pk.pool, ConnectTo: map[string]string{"hang.contoso.test:443": hang.Listener.Addr().String()}}
	urls := []string{"https://hang.contoso.test/autodiscover/metadata/json/1"}
	for _, h := range []string{"mail1", "mail2", "mail3"} {
		s := serveHTTPS(t, pk.leaf, doc)
		web.ConnectTo[h+".contoso.test:443"] = s.Listener.Addr().String()
		urls = append(urls, "https://"+h+".contoso.test/autodiscover/metadata/json/1")
	}
	p, err := NewOAuthProber(OAuthConfig{Server: Exchange, URLs: urls, Web: web})
	if err != nil {
		t.Fatal(err)
	}
	c := &probes.Check{Probe: "oauth", Target: "exchange", Interval: time.Minute, Timeout: 3 * time.Second, Run: p.Probe}
	checkPartial(t, c, urls[0], urls[1:], func(r any) map[string]bool {
		up := map[string]bool{}
		for _, d := range r.(*OAuthResult).Documents {
			up[d.URL] = d.Up
		}
		return up
	})
}

// One TLS endpoint that never completes its handshake, ahead of the others
// in a queue one handshake wide: the others still get their handshake.
func TestHangingTLSEndpointDoesNotStarveTheOthers(t *testing.T) {
	pk := newLoopbackPKI(t)
	web := &webclient.Options{RootCAs: pk.pool, ConnectTo: map[string]string{"a-hang.contoso.test:443": silentTLS(t)}}
	eps := []Endpoint{{Host: "a-hang.contoso.test", Port: 443, Origins: []Origin{{Service: "configured"}}, Names: []string{"a-hang.contoso.test"}}}
	var fine []string
	for _, h := range []string{"b", "c", "d"} {
		s := serveHTTPS(t, pk.leaf, nil)
		host := h + ".contoso.test"
		web.ConnectTo[host+":443"] = s.Listener.Addr().String()
		eps = append(eps, Endpoint{Host: host, Port: 443, Origins: []Origin{{Service: "configured"}}, Names: []string{host}})
		fine = append(fine, host+":443")
	}
	timeout := 3 * time.Second
	// As the agent configures it: a handshake may take as long as the run.
	p, err := NewTLSProber(TLSConfig{Endpoints: eps, Web: web, HandshakeTimeout: timeout, MaxParallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := &probes.Check{Probe: "tls", Target: "endpoints", Interval: time.Minute, Timeout: timeout, Run: p.Probe}
	checkPartial(t, c, "a-hang.contoso.test:443", fine, func(r any) map[string]bool {
		up := map[string]bool{}
		for _, e := range r.(*TLSResult).Endpoints {
			up[e.Endpoint] = e.Up
		}
		return up
	})
}

// checkPartial runs c once through the store, as `check` does, and checks
// that the fine members are up, the hanging one is named as timed out, and
// the check is partial.
func checkPartial(t *testing.T, c *probes.Check, hanging string, fine []string, up func(any) map[string]bool) {
	t.Helper()
	s := collector.NewStore([]*probes.Check{c})
	collector.RunOnce(context.Background(), s, []*probes.Check{c}, 1)
	e := s.Entries()[0]
	if e.Shown == nil {
		t.Fatalf("the run recorded nothing: %v", e.Latest.Err)
	}
	got := up(e.Shown)
	for _, f := range fine {
		if !got[f] {
			t.Errorf("%s is not recorded as up: %v (error: %v)", f, got, e.Latest.Err)
		}
	}
	if got[hanging] {
		t.Errorf("the hanging %s is up", hanging)
	}
	if e.Latest.Err == nil {
		t.Fatal("no error for the hanging member")
	}
	msg := e.Latest.Err.Error()
	if !strings.Contains(msg, hanging) || !strings.Contains(msg, "timed out") {
		t.Errorf("the error does not name %s as timed out: %s", hanging, msg)
	}
	if strings.Contains(msg, "run exceeded") {
		t.Errorf("the run itself went past its deadline: %s", msg)
	}
	if st := e.State(); st != collector.StatePartial {
		t.Errorf("state = %s, want partial", st)
	}
}
