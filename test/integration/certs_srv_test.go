// Package integration tests probes against real servers that the tests
// start on loopback (test/infra): here bind9 serving the SRV records the
// certificate probe follows.
package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/certs"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

type testPKI struct {
	ca   *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPKI(t *testing.T) *testPKI {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Fabrikam Test Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &testPKI{ca: ca, key: key, pool: pool}
}

func (p *testPKI) issue(t *testing.T, serial int64, name string, notBefore, notAfter time.Time) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: notBefore, NotAfter: notAfter, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, key.Public(), p.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der, p.ca.Raw}, PrivateKey: key, Leaf: leaf}
}

// serveTLS completes TLS handshakes with cert on a free loopback port, the
// way an Edge's federation listener does before SIP starts.
func serveTLS(t *testing.T, cert tls.Certificate) int {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if tc, ok := c.(*tls.Conn); ok && tc.Handshake() == nil {
					_, _ = tc.Read(make([]byte, 1))
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func zone(serial, port int) string {
	return fmt.Sprintf(`$ORIGIN fabrikam.test.
$TTL 60
@	IN SOA ns1 hostmaster %d 3600 600 86400 60
@	IN NS ns1
ns1	IN A 127.0.0.1
edge	IN A 127.0.0.1
edge2	IN A 127.0.0.1
_sipfederationtls._tcp	IN SRV 100 1 %d %s
`, serial, port, map[bool]string{true: "edge", false: "edge2"}[serial == 1])
}

// The probe follows a real SRV record served by bind9 to the target and
// port it names, and reports the certificate the listener there presents;
// when the record moves, the probe follows it.
func TestTLSProbeFollowsSRVRecordFromBind9(t *testing.T) {
	infra.Require(t, "named")
	pki := newPKI(t)
	now := time.Now()
	good := pki.issue(t, 501, "edge.fabrikam.test", now.Add(-time.Hour), now.AddDate(1, 0, 0))
	port := serveTLS(t, good)
	named := infra.StartNamed(t, map[string]string{"fabrikam.test": zone(1, port)})

	p, err := certs.NewTLSProber(certs.TLSConfig{
		SRV:       []certs.SRVSpec{{Record: "_sipfederationtls._tcp", Domain: "fabrikam.test"}},
		Resolvers: []estate.Resolver{{Name: "bind9", Addr: named.Addr}},
		Web:       &webclient.Options{RootCAs: pki.pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	check := &probes.Check{Probe: "tls", Target: "endpoints", Interval: time.Minute, Timeout: 10 * time.Second, Run: p.Probe}
	store := collector.NewStore([]*probes.Check{check})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collector.NewCollector(store))

	collector.RunOnce(context.Background(), store, []*probes.Check{check}, 1)
	e := store.Entries()[0]
	if e.Latest.Err != nil {
		t.Fatal(e.Latest.Err)
	}
	res := e.Shown.(*certs.TLSResult)
	endpoint := "edge.fabrikam.test:" + strconv.Itoa(port)
	if len(res.Endpoints) != 1 {
		t.Fatalf("endpoints %+v", res.Endpoints)
	}
	er := res.Endpoints[0]
	if er.Endpoint != endpoint || er.Address != "127.0.0.1:"+strconv.Itoa(port) || !er.Verify.OK {
		t.Fatalf("did not follow the SRV record to the listener: %+v", er)
	}
	if er.Origins[0] != (certs.Origin{Service: "_sipfederationtls._tcp", Domain: "fabrikam.test"}) {
		t.Fatalf("origins %+v", er.Origins)
	}
	if er.Chain[0].Serial != "1F5" || !er.Chain[0].NotAfter.Equal(good.Leaf.NotAfter) || er.Chain[1].SubjectCN != "Fabrikam Test Root" {
		t.Fatalf("not the listener's certificate: %+v", er.Chain)
	}
	if v := promtest.Value(t, reg, "sfbex_cert_not_after_timestamp_seconds", map[string]string{"source": endpoint, "role": "leaf", "serial": "1F5"}); v != float64(good.Leaf.NotAfter.Unix()) {
		t.Fatalf("not-after metric %v", v)
	}

	// The record moves to another target and port, whose certificate has
	// expired: the probe follows it and says so.
	expired := pki.issue(t, 502, "edge2.fabrikam.test", now.AddDate(-1, 0, 0), now.Add(-48*time.Hour))
	port2 := serveTLS(t, expired)
	named.SetZone(t, "fabrikam.test", zone(2, port2))
	collector.RunOnce(context.Background(), store, []*probes.Check{check}, 1)
	e = store.Entries()[0]
	res = e.Shown.(*certs.TLSResult)
	if len(res.Endpoints) != 1 || res.Endpoints[0].Endpoint != "edge2.fabrikam.test:"+strconv.Itoa(port2) {
		t.Fatalf("did not follow the moved record: %+v", res.Endpoints)
	}
	if r := res.Endpoints[0].Verify.Reason; r != "expired" {
		t.Fatalf("verify reason %q", r)
	}
	var found bool
	for _, f := range res.Findings() {
		found = found || strings.Contains(f.Problem, `leaf certificate "edge2.fabrikam.test" expired`)
	}
	if !found {
		t.Fatalf("no finding about the expired certificate: %+v", res.Findings())
	}
	if v := promtest.Value(t, reg, "sfbex_tls_verify_ok", map[string]string{"endpoint": "edge2.fabrikam.test:" + strconv.Itoa(port2)}); v != 0 {
		t.Fatalf("verify_ok %v", v)
	}
}
