package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

type webOptions = webclient.Options

// Keys are made once per test binary: RSA generation is slow.
var testKeys = sync.OnceValue(func() map[string]crypto.Signer {
	m := map[string]crypto.Signer{}
	for name, bits := range map[string]int{"rsa2048a": 2048, "rsa2048b": 2048, "rsa1024": 1024} {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		m[name] = k
	}
	for _, name := range []string{"ec1", "ec2", "ec3"} {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		m[name] = k
	}
	return m
})

// issuer signs test certificates.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

var serialN int64 = 1000

func nextSerial() *big.Int {
	serialN++
	return big.NewInt(serialN)
}

// spec describes a test certificate. Zero times mean "valid for a year".
type spec struct {
	subject             pkix.Name
	names               []string
	notBefore, notAfter time.Time
	key                 string // testKeys name; "" = ec1
	ca                  bool
}

// mint creates a certificate signed by parent (nil: self-signed).
func mint(t testing.TB, parent *issuer, s spec) (*x509.Certificate, *issuer) {
	t.Helper()
	if s.key == "" {
		s.key = "ec1"
	}
	key := testKeys()[s.key]
	if s.notBefore.IsZero() {
		s.notBefore = time.Now().Add(-time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = time.Now().AddDate(1, 0, 0)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(), Subject: s.subject, DNSNames: s.names,
		NotBefore: s.notBefore, NotAfter: s.notAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if s.ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		tmpl.ExtKeyUsage = nil
	}
	p, signer := tmpl, key
	if parent != nil {
		p, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, &issuer{cert: c, key: key}
}

func cn(name string) pkix.Name { return pkix.Name{CommonName: name} }

func days_(n float64) time.Duration { return time.Duration(n * 24 * float64(time.Hour)) }

// mdKey is one key of a test metadata document.
type mdKey struct {
	cert  *x509.Certificate
	usage string
	x5t   *string // nil: keyinfo absent
}

// metadataJSON builds an Exchange-shaped document.
func metadataJSON(t testing.TB, serviceName string, keys ...mdKey) []byte {
	t.Helper()
	ks := []any{}
	for _, k := range keys {
		m := map[string]any{
			"usage":    k.usage,
			"keyvalue": map[string]string{"type": "x509Certificate", "value": base64.StdEncoding.EncodeToString(k.cert.Raw)},
		}
		if k.x5t != nil {
			m["keyinfo"] = map[string]string{"x5t": *k.x5t}
		}
		ks = append(ks, m)
	}
	b, err := json.Marshal(map[string]any{
		"id": "_1", "version": "1.0", "name": "Exchange", "realm": "contoso.test", "serviceName": serviceName,
		"issuer": serviceName + "@contoso.test", "allowedAudiences": []string{serviceName + "@contoso.test"}, "keys": ks,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func signing(c *x509.Certificate) mdKey {
	x := Describe(c).X5T
	return mdKey{cert: c, usage: "signing", x5t: &x}
}

// docServer serves whatever body() returns at every path, over TLS with a
// certificate for the names metadata URLs use; clients trust it through
// the returned options.
type docServer struct {
	mu     sync.Mutex
	body   []byte
	status int
	srv    *httptest.Server
}

func (d *docServer) set(status int, body []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status, d.body = status, body
}

func newDocServer(t testing.TB) *docServer {
	t.Helper()
	d := &docServer{status: 200}
	d.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		w.WriteHeader(d.status)
		_, _ = w.Write(d.body)
	}))
	ca := webCA()
	leaf, _ := mint(t, ca, spec{subject: cn("web"), names: []string{"*.contoso.test", "acs.test"}, key: "ec3"})
	d.srv.TLS = &tls.Config{Certificates: []tls.Certificate{*chainOf(leaf, "ec3")}}
	d.srv.StartTLS()
	t.Cleanup(d.srv.Close)
	return d
}

// webCA issues the test web servers' certificates.
var webCA = sync.OnceValue(func() *issuer {
	_, iss := mint(panicTB{}, nil, spec{subject: cn("Test Web CA"), ca: true, key: "ec2"})
	return iss
})

// panicTB lets package-level helpers call mint.
type panicTB struct{ testing.TB }

func (panicTB) Helper()           {}
func (panicTB) Fatal(args ...any) { panic(args) }

// webFor trusts the web CA and routes host:443 to each test server.
func webFor(routes map[string]*httptest.Server) *webOptions {
	o := &webOptions{ConnectTo: map[string]string{}}
	pool := x509.NewCertPool()
	pool.AddCert(webCA().cert)
	for host, s := range routes {
		o.ConnectTo[host+":443"] = s.Listener.Addr().String()
	}
	o.RootCAs = pool
	return o
}

// tlsListener serves TLS handshakes with whatever certificate chain get
// returns, and nothing else.
func tlsListener(t testing.TB, get func() *tls.Certificate) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	cfg := &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return get(), nil }}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := tls.Server(c, cfg)
				_ = tc.SetDeadline(time.Now().Add(5 * time.Second))
				if tc.Handshake() == nil {
					buf := make([]byte, 1)
					_, _ = tc.Read(buf) // until the client closes
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// chainOf builds a tls.Certificate presenting leaf (with key) and extra.
func chainOf(leaf *x509.Certificate, key string, extra ...*x509.Certificate) *tls.Certificate {
	tc := &tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: testKeys()[key], Leaf: leaf}
	for _, c := range extra {
		tc.Certificate = append(tc.Certificate, c.Raw)
	}
	return tc
}
