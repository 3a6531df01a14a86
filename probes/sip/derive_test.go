package sip

import (
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

// zoneDNS is an in-process DNS server answering from a map that a test
// changes between runs; fail makes it answer SERVFAIL.
type zoneDNS struct {
	addr string
	mu   sync.Mutex
	zone map[string][]string
	fail bool
}

func startZoneDNS(t *testing.T) *zoneDNS {
	t.Helper()
	d := &zoneDNS{zone: map[string][]string{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d.addr = pc.LocalAddr().String()
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		d.mu.Lock()
		defer d.mu.Unlock()
		q := r.Question[0]
		rrs, ok := d.zone[strings.ToLower(q.Name)]
		switch {
		case d.fail:
			m.Rcode = mdns.RcodeServerFailure
		case !ok:
			m.Rcode = mdns.RcodeNameError
		}
		for _, text := range rrs {
			if rr, err := mdns.NewRR(q.Name + " 60 IN " + text); err == nil && rr.Header().Rrtype == q.Qtype && !d.fail {
				m.Answer = append(m.Answer, rr)
			}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return d
}

func (d *zoneDNS) set(name string, rrs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.zone[mdns.Fqdn(name)] = rrs
}

// TestDerivedTargets: two SIP domains whose federation records lead to
// the same Edge cost one connection per run, and the Edge's series carry
// both domains; a record pointing to Microsoft 365 is noted, not probed;
// a lookup that fails keeps the last answer's target.
func TestDerivedTargets(t *testing.T) {
	var conns atomic.Int64
	pr := startPeer(t, serverConfig(t, "sip.contoso.test"), func(c *tls.Conn) {
		conns.Add(1)
		answerWith(200, "OK", "Server: RTC/7.0")(c)
	})
	_, portText, _ := net.SplitHostPort(pr.addr)
	d := startZoneDNS(t)
	d.set("_sipfederationtls._tcp.contoso.test", "SRV 0 0 "+portText+" sip.contoso.test.")
	d.set("_sipfederationtls._tcp.fabrikam.test", "SRV 0 0 "+portText+" sip.contoso.test.")
	d.set("_sipfederationtls._tcp.online.test", "SRV 100 1 5061 sipfed.online.lync.com.")
	d.set("sip.contoso.test", "A 127.0.0.1")

	s := &Settings{RequestTimeout: time.Second, MaxAnswerBytes: 65536, From: "sfbex-probe@contoso.test", Accept: []int{200}}
	p, err := NewProber(Config{Service: Federation, Settings: s, Web: &webclient.Options{RootCAs: roots(t)},
		Domains: []string{"contoso.test", "fabrikam.test", "online.test"}, QueryTimeout: time.Second,
		Resolvers: []estate.Resolver{{Name: "external", Addr: d.addr}}})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := run(t, p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Targets) != 1 || conns.Load() != 1 {
		t.Fatalf("targets %+v, %d connections: want one target, one connection", res.Targets, conns.Load())
	}
	tr := res.Targets[0]
	if tr.Target != "sip.contoso.test:"+portText || strings.Join(tr.Domains, ",") != "contoso.test,fabrikam.test" || tr.Address != "127.0.0.1:"+portText || tr.Outcome != Answered {
		t.Fatalf("target %+v", tr)
	}
	if n := strings.Join(res.Notes, "\n"); !strings.Contains(n, "sipfed.online.lync.com:5061, in Microsoft 365: not probed") {
		t.Fatalf("notes %q", n)
	}
	m := metrics(t, res)
	for _, dom := range []string{"contoso.test", "fabrikam.test"} {
		if m[`sfbex_sip_up{domain="`+dom+`",service="federation",target="sip.contoso.test:`+portText+`"}`] != 1 {
			t.Errorf("no sfbex_sip_up for %s", dom)
		}
	}

	// The resolver fails: the last answer's target is still checked.
	d.mu.Lock()
	d.fail = true
	d.mu.Unlock()
	res, _, err = run(t, p, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "SRV _sipfederationtls._tcp.contoso.test via external") {
		t.Fatalf("error %v", err)
	}
	if len(res.Targets) != 1 || res.Targets[0].Outcome != Answered || conns.Load() != 2 {
		t.Fatalf("with the resolver failing: %+v, %d connections", res.Targets, conns.Load())
	}
}
