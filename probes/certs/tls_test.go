package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/loopback"
	"github.com/sfbex/sfbex_exporter/probes"
)

// pki is a root, an intermediate, and leaves issued by the intermediate.
type pki struct {
	root, inter *x509.Certificate
	rootI       *issuer
	interI      *issuer
	pool        *x509.CertPool
}

func newPKI(t *testing.T, interNotAfter time.Time) *pki {
	p := &pki{}
	p.root, p.rootI = mint(t, nil, spec{subject: cn("Contoso Root"), ca: true, key: "ec2", notAfter: time.Now().AddDate(10, 0, 0)})
	p.inter, p.interI = mint(t, p.rootI, spec{subject: cn("Contoso Issuing CA"), ca: true, key: "ec3", notAfter: interNotAfter})
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.root)
	return p
}

func (p *pki) leaf(t *testing.T, names []string, notBefore, notAfter time.Time) *tls.Certificate {
	c, _ := mint(t, p.interI, spec{subject: cn(names[0]), names: names, key: "ec1", notBefore: notBefore, notAfter: notAfter})
	return chainOf(c, "ec1", p.inter, p.root)
}

// swappable serves whatever certificate was set last.
type swappable struct {
	p atomic.Pointer[tls.Certificate]
}

func (s *swappable) get() *tls.Certificate { return s.p.Load() }

func endpointFor(host string, port int, names ...string) Endpoint {
	if len(names) == 0 {
		names = []string{host}
	}
	return Endpoint{Host: host, Port: port, Origins: []Origin{{Service: "configured"}}, Names: names}
}

func probeTLS(t *testing.T, p *TLSProber) (*TLSResult, error) {
	t.Helper()
	r, err := p.Probe(context.Background())
	if r == nil {
		t.Fatalf("no result: %v", err)
	}
	return r.(*TLSResult), err
}

// oneEndpoint probes host:443 routed to a listener presenting cert.
func oneEndpoint(t *testing.T, pk *pki, cert *tls.Certificate, ep Endpoint, insecure ...string) *TLSResult {
	t.Helper()
	var sw swappable
	sw.p.Store(cert)
	addr := tlsListener(t, sw.get)
	web := &webOptions{RootCAs: pk.pool, ConnectTo: map[string]string{ep.Key(): addr}, InsecureHosts: insecure}
	p, err := NewTLSProber(TLSConfig{Endpoints: []Endpoint{ep}, Web: web})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeTLS(t, p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestTLSHealthyEndpointReportsTheWholeChain(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.AddDate(5, 0, 0))
	r := oneEndpoint(t, pk, pk.leaf(t, []string{"autodiscover.contoso.test", "mail.contoso.test"}, now.Add(-time.Hour), now.AddDate(1, 0, 0)),
		Endpoint{Host: "autodiscover.contoso.test", Port: 443, Origins: []Origin{{"autodiscover", "contoso.test"}}, Names: []string{"autodiscover.contoso.test"}})
	wantFindings(t, r.Findings())
	er := r.Endpoints[0]
	if !er.Up || !er.Known || er.Stale || !er.Verify.OK || er.Verify.Reason != "ok" || er.TLSVersion == "" {
		t.Fatalf("%+v", er)
	}
	var roles []string
	for _, c := range er.Chain {
		roles = append(roles, c.Role+":"+c.SubjectCN)
	}
	if strings.Join(roles, ",") != "leaf:autodiscover.contoso.test,intermediate:Contoso Issuing CA,root:Contoso Root" {
		t.Fatalf("chain %v", roles)
	}
	if len(er.Names) != 1 || !er.Names[0].Covered {
		t.Fatalf("names %+v", er.Names)
	}
}

// Facts are reported whatever the verdict; the verdict is its own field.
func TestTLSVerdicts(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.AddDate(5, 0, 0))
	selfSigned, _ := mint(t, nil, spec{subject: cn("sip.contoso.test"), names: []string{"sip.contoso.test"}, key: "ec1"})
	for _, tc := range []struct {
		name     string
		cert     *tls.Certificate
		ep       Endpoint
		insecure []string
		reason   string
		covered  map[string]bool
		want     []string
	}{
		{"expired leaf", pk.leaf(t, []string{"sip.contoso.test"}, now.AddDate(-1, 0, 0), now.Add(-days_(2))),
			endpointFor("sip.contoso.test", 5061), nil, "expired", map[string]bool{"sip.contoso.test": true},
			[]string{"critical: leaf certificate \"sip.contoso.test\" expired on"}},
		{"not yet valid", pk.leaf(t, []string{"sip.contoso.test"}, now.Add(days_(1)), now.AddDate(1, 0, 0)),
			endpointFor("sip.contoso.test", 5061), nil, "not_yet_valid", nil,
			[]string{"critical: is not valid until"}},
		{"untrusted", chainOf(selfSigned, "ec1"), endpointFor("sip.contoso.test", 5061), nil, "unknown_authority", map[string]bool{"sip.contoso.test": true},
			[]string{"warning: not issued by a CA the agent trusts"}},
		{"untrusted but verification off", chainOf(selfSigned, "ec1"), endpointFor("sip.contoso.test", 5061), []string{"SIP.contoso.test"}, "unknown_authority", nil,
			[]string{"info: SFBEX_TLS_INSECURE_HOSTS"}},
		{"wrong name", pk.leaf(t, []string{"edge01.contoso.test"}, now.Add(-time.Hour), now.AddDate(1, 0, 0)),
			endpointFor("sip.contoso.test", 443, "sip.contoso.test"), nil, "name_mismatch", map[string]bool{"sip.contoso.test": false},
			[]string{"critical: does not cover sip.contoso.test"}},
		{"wildcard covers one label only", pk.leaf(t, []string{"*.contoso.test"}, now.Add(-time.Hour), now.AddDate(1, 0, 0)),
			endpointFor("sip.contoso.test", 443, "sip.contoso.test", "lyncdiscover.contoso.test", "a.b.contoso.test", "contoso.test"), nil, "ok",
			map[string]bool{"sip.contoso.test": true, "lyncdiscover.contoso.test": true, "a.b.contoso.test": false, "contoso.test": false},
			[]string{"critical: does not cover a.b.contoso.test, contoso.test"}},
		{"leaf expiring soon", pk.leaf(t, []string{"sip.contoso.test"}, now.AddDate(-1, 0, 0), now.Add(days_(20))),
			endpointFor("sip.contoso.test", 443), nil, "ok", nil, []string{"warning: expires in 20 days"}},
		{"leaf expiring very soon", pk.leaf(t, []string{"sip.contoso.test"}, now.AddDate(-1, 0, 0), now.Add(days_(5))),
			endpointFor("sip.contoso.test", 443), nil, "ok", nil, []string{"critical: expires in 5 days"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := oneEndpoint(t, pk, tc.cert, tc.ep, tc.insecure...)
			er := r.Endpoints[0]
			if !er.Known || len(er.Chain) == 0 || er.Chain[0].NotAfter.IsZero() {
				t.Fatalf("no facts reported: %+v", er)
			}
			if er.Chain[0].Thumbprint != Describe(tc.cert.Leaf).Thumbprint {
				t.Fatal("reported another certificate")
			}
			if er.Verify.Reason != tc.reason || er.Verify.OK != (tc.reason == "ok") {
				t.Errorf("verify %+v, want %s", er.Verify, tc.reason)
			}
			if er.Verify.Skipped != (len(tc.insecure) > 0) {
				t.Errorf("skipped = %v", er.Verify.Skipped)
			}
			for _, n := range er.Names {
				if want, ok := tc.covered[n.Name]; ok && want != n.Covered {
					t.Errorf("%s covered = %v, want %v", n.Name, n.Covered, want)
				}
			}
			wantFindings(t, r.Findings(), tc.want...)
		})
	}
}

func TestTLSExpiringIntermediate(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.Add(days_(25)))
	r := oneEndpoint(t, pk, pk.leaf(t, []string{"webext.contoso.test"}, now.Add(-time.Hour), now.Add(days_(20))), endpointFor("webext.contoso.test", 443))
	wantFindings(t, r.Findings(), "warning: intermediate certificate \"Contoso Issuing CA\" expires in 25 days", "warning: leaf certificate \"webext.contoso.test\" expires in 20 days")
}

// testDNS is an in-process DNS server with a mutable zone.
type testDNS struct {
	mu   sync.Mutex
	zone map[string][]string // fqdn -> RR texts
	down bool                // SERVFAIL everything
	addr string
}

func newTestDNS(t *testing.T) *testDNS {
	d := &testDNS{zone: map[string][]string{}}
	pc, ln, err := loopback.ListenPair()
	if err != nil {
		t.Fatal(err)
	}
	d.addr = pc.LocalAddr().String()
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.down {
			m.Rcode = mdns.RcodeServerFailure
			_ = w.WriteMsg(m)
			return
		}
		q := r.Question[0]
		rrs, ok := d.zone[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = mdns.RcodeNameError
		}
		for _, text := range rrs {
			rr, err := mdns.NewRR(q.Name + " 60 IN " + text)
			if err == nil && rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		_ = w.WriteMsg(m)
	})
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return d
}

func (d *testDNS) set(name string, rrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.zone[mdns.Fqdn(name)] = rrs
}

func (d *testDNS) remove(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.zone, mdns.Fqdn(name))
}

func (d *testDNS) setDown(b bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = b
}

func TestTLSFollowsSRVRecordsToTargetAndPort(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.AddDate(5, 0, 0))
	var edge swappable
	edge.p.Store(pk.leaf(t, []string{"sip.contoso.test", "sip.fabrikam.test"}, now.Add(-time.Hour), now.AddDate(1, 0, 0)))
	addr := tlsListener(t, edge.get)
	_, portS, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portS)

	z := newTestDNS(t)
	// Two SIP domains federate through one Edge; the SRV gives its port.
	z.set("_sipfederationtls._tcp.contoso.test", "SRV 100 1 "+portS+" sip.contoso.test.")
	z.set("_sipfederationtls._tcp.fabrikam.test", "SRV 100 1 "+portS+" sip.contoso.test.")
	z.set("sip.contoso.test", "A 127.0.0.1")
	// _sip._tls does not exist for fabrikam: no endpoint, no error.
	p, err := NewTLSProber(TLSConfig{
		SRV: []SRVSpec{
			{Record: "_sipfederationtls._tcp", Domain: "contoso.test"},
			{Record: "_sipfederationtls._tcp", Domain: "fabrikam.test"},
			{Record: "_sip._tls", Domain: "fabrikam.test", Names: []string{"sip.fabrikam.test"}},
		},
		Resolvers: []estate.Resolver{{Name: "external", Addr: z.addr}},
		Web:       &webOptions{RootCAs: pk.pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeTLS(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Endpoints) != 1 {
		t.Fatalf("endpoints %+v", r.Endpoints)
	}
	er := r.Endpoints[0]
	if er.Endpoint != "sip.contoso.test:"+portS || er.Address != "127.0.0.1:"+strconv.Itoa(port) || !er.Verify.OK {
		t.Fatalf("%+v", er)
	}
	if len(er.Origins) != 2 || er.Origins[0] != (Origin{"_sipfederationtls._tcp", "contoso.test"}) || er.Origins[1] != (Origin{"_sipfederationtls._tcp", "fabrikam.test"}) {
		t.Fatalf("origins %+v", er.Origins)
	}
	wantFindings(t, r.Findings())

	// The SRV moves to a port nothing listens on: the endpoint changes, and
	// the old one is no longer reported.
	z.set("_sipfederationtls._tcp.contoso.test", "SRV 100 1 1 sip.contoso.test.")
	z.remove("_sipfederationtls._tcp.fabrikam.test")
	r, err = probeTLS(t, p)
	if err == nil || !strings.Contains(err.Error(), "sip.contoso.test:1") || !strings.Contains(probes.FixOf(err), "SRV record") {
		t.Fatalf("error %v, fix %q", err, probes.FixOf(err))
	}
	if len(r.Endpoints) != 1 || r.Endpoints[0].Endpoint != "sip.contoso.test:1" || r.Endpoints[0].Known {
		t.Fatalf("%+v", r.Endpoints)
	}
}

func TestTLSConnectToOverridesSRVAddresses(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.AddDate(5, 0, 0))
	var edge swappable
	edge.p.Store(pk.leaf(t, []string{"sip.contoso.test"}, now.Add(-time.Hour), now.AddDate(1, 0, 0)))
	addr := tlsListener(t, edge.get)
	z := newTestDNS(t)
	z.set("_sip._tls.contoso.test", "SRV 0 0 443 sip.contoso.test.")
	z.set("sip.contoso.test", "A 192.0.2.1") // TEST-NET: never dialled
	p, err := NewTLSProber(TLSConfig{
		SRV:       []SRVSpec{{Record: "_sip._tls", Domain: "contoso.test", Names: []string{"sip.contoso.test"}}},
		Resolvers: []estate.Resolver{{Name: "external", Addr: z.addr}},
		Web:       &webOptions{RootCAs: pk.pool, ConnectTo: map[string]string{"sip.contoso.test:443": addr}},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := probeTLS(t, p)
	if err != nil || r.Endpoints[0].Address != addr {
		t.Fatalf("%v %+v", err, r.Endpoints)
	}
}

// A failed handshake or lookup shows the last known certificates, stale.
func TestTLSFailuresKeepTheLastGoodChain(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.AddDate(5, 0, 0))
	var edge swappable
	cert := pk.leaf(t, []string{"sip.contoso.test"}, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	edge.p.Store(cert)
	// Serve on a held port only while "up": while "down" it refuses
	// connections, and no other program can take it in between.
	held, err := loopback.HoldTCP()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { held.Close() })
	addr := held.Addr()
	var (
		mu  sync.Mutex
		cur net.Listener
	)
	up := func() {
		mu.Lock()
		defer mu.Unlock()
		l, err := held.Listen()
		if err != nil {
			t.Fatal(err)
		}
		cur = l
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*edge.get()}})
					if tc.Handshake() == nil {
						_, _ = tc.Read(make([]byte, 1))
					}
				}()
			}
		}()
	}
	down := func() {
		mu.Lock()
		defer mu.Unlock()
		cur.Close()
	}
	up()
	t.Cleanup(down)
	_, portS, _ := net.SplitHostPort(addr)
	z := newTestDNS(t)
	z.set("_sipfederationtls._tcp.contoso.test", "SRV 0 0 "+portS+" sip.contoso.test.")
	z.set("sip.contoso.test", "A 127.0.0.1")
	p, err := NewTLSProber(TLSConfig{
		SRV:       []SRVSpec{{Record: "_sipfederationtls._tcp", Domain: "contoso.test"}},
		Resolvers: []estate.Resolver{{Name: "external", Addr: z.addr}}, QueryTimeout: 300 * time.Millisecond,
		Web: &webOptions{RootCAs: pk.pool}, HandshakeTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	good, err := probeTLS(t, p)
	if err != nil {
		t.Fatal(err)
	}
	down()
	r, err := probeTLS(t, p)
	if err == nil || !strings.Contains(probes.FixOf(err), "last known certificates") {
		t.Fatalf("error %v / %q", err, probes.FixOf(err))
	}
	er := r.Endpoints[0]
	if er.Up || !er.Stale || !er.Known || len(er.Chain) != 3 || er.Chain[0].NotAfter != good.Endpoints[0].Chain[0].NotAfter || er.CheckedAt != good.Endpoints[0].CheckedAt {
		t.Fatalf("not the last good chain, stale: %+v", er)
	}
	if !strings.Contains(strings.Join(r.Details(), "\n"), "[stale") {
		t.Error("details do not say stale")
	}
	// The resolver fails: the last SRV answer's endpoint is still checked.
	up()
	z.setDown(true)
	r, err = probeTLS(t, p)
	if err == nil || !strings.Contains(err.Error(), "SRV _sipfederationtls._tcp.contoso.test") {
		t.Fatalf("error %v", err)
	}
	if len(r.Endpoints) != 1 || !r.Endpoints[0].Up {
		t.Fatalf("endpoint lost with the resolver: %+v", r.Endpoints)
	}
}

// A federation port that demands a client certificate may end a TLS 1.2
// handshake after sending its own: the probe still reports it.
func TestTLSClientCertificateRequiredStillReportsTheChain(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.AddDate(5, 0, 0))
	cert := pk.leaf(t, []string{"sip.contoso.test"}, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{*cert}, ClientAuth: tls.RequireAnyClientCert, MaxVersion: version})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		web := &webOptions{RootCAs: pk.pool, ConnectTo: map[string]string{"sip.contoso.test:5061": ln.Addr().String()}}
		p, err := NewTLSProber(TLSConfig{Endpoints: []Endpoint{endpointFor("sip.contoso.test", 5061)}, Web: web})
		if err != nil {
			t.Fatal(err)
		}
		r, err := probeTLS(t, p)
		ln.Close()
		if err != nil {
			t.Fatalf("%s: %v", tls.VersionName(version), err)
		}
		er := r.Endpoints[0]
		if !er.Up || len(er.Chain) != 3 || er.Chain[0].SubjectCN != "sip.contoso.test" || !er.Verify.OK {
			t.Fatalf("%s: %+v", tls.VersionName(version), er)
		}
		if version == tls.VersionTLS12 && !strings.Contains(er.HandshakeNote, "ended after the server's certificate") {
			t.Errorf("TLS 1.2: note %q", er.HandshakeNote)
		}
	}
}

func TestTLSDetails(t *testing.T) {
	now := time.Now()
	pk := newPKI(t, now.AddDate(5, 0, 0))
	r := oneEndpoint(t, pk, pk.leaf(t, []string{"edge01.contoso.test"}, now.Add(-time.Hour), now.Add(days_(100))), endpointFor("sip.contoso.test", 5061))
	text := strings.Join(r.Details(), "\n")
	for _, want := range []string{"sip.contoso.test:5061 (configured)", "NOT VERIFIED (name_mismatch)", "sip.contoso.test NOT COVERED", "leaf: CN=edge01.contoso.test", "100 days left", "intermediate: CN=Contoso Issuing CA"} {
		if !strings.Contains(text, want) {
			t.Errorf("details lack %q:\n%s", want, text)
		}
	}
}

func TestMergeEndpoints(t *testing.T) {
	eps := mergeEndpoints([]Endpoint{
		{Host: "SIP.contoso.test.", Port: 443, Origins: []Origin{{"_sip._tls", "contoso.test"}}, Names: []string{"sip.contoso.test"}, Addrs: []string{"10.0.0.1"}},
		{Host: "sip.contoso.test", Port: 443, Origins: []Origin{{"_sip._tls", "fabrikam.test"}}, Names: []string{"sip.contoso.test", "sip.fabrikam.test"}, Addrs: []string{"10.0.0.1", "10.0.0.2"}},
		{Host: "sip.contoso.test", Port: 5061, Origins: []Origin{{"_sipfederationtls._tcp", "contoso.test"}}},
	})
	if len(eps) != 2 || eps[0].Key() != "sip.contoso.test:443" || len(eps[0].Origins) != 2 || strings.Join(eps[0].Names, ",") != "sip.contoso.test,sip.fabrikam.test" || len(eps[0].Addrs) != 2 {
		t.Fatalf("%+v", eps)
	}
}
