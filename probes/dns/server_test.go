package dns

import (
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/loopback"
)

// fakeResolver is an in-process DNS server on 127.0.0.1 that answers from
// the zone it holds, over UDP and TCP on one port. By default it behaves
// like a recursive resolver: it follows CNAMEs inside its zone and answers
// NXDOMAIN, with the chain, when the chain's end does not exist (RFC 6604).
// Its zone and switches may change between queries; it counts every query.
type fakeResolver struct {
	Addr string

	mu   sync.Mutex
	zone map[string][]mdns.RR // owner (lower case FQDN) → records, in answer order
	// rcodes forces a response code for a name.
	rcodes map[string]int
	// silent names get no answer at all; silentAll silences the server.
	silent    map[string]bool
	silentAll bool
	// dropFirst names get no answer to their first n queries.
	dropFirst map[string]int
	// stopAtCNAME answers like an authoritative server for another zone:
	// the CNAME only, without following it.
	stopAtCNAME bool
	// truncateUDP answers UDP queries with the TC bit and at most one record.
	truncateUDP bool
	// wrongQuestion answers with a question for another name.
	wrongQuestion bool
	queries       map[queryKey]int
	// udpClients counts UDP queries per client address (source port).
	udpClients map[string]int
}

type queryKey struct {
	name  string // lower case FQDN
	qtype uint16
	net   string // "udp" or "tcp"
}

// newFakeResolver starts a server holding records (zone-file lines with
// absolute or relative-to-root names) and stops it when the test ends.
func newFakeResolver(t testing.TB, records ...string) *fakeResolver {
	t.Helper()
	f := &fakeResolver{
		rcodes:     map[string]int{},
		silent:     map[string]bool{},
		queries:    map[queryKey]int{},
		udpClients: map[string]int{},
	}
	f.set(t, records...)
	f.Addr = serveDNS(t, f)
	return f
}

// serveDNS serves h on a free loopback port over UDP and TCP alike and
// returns host:port; the servers shut down in t.Cleanup.
func serveDNS(t testing.TB, h mdns.Handler) string {
	t.Helper()
	pc, ln, err := loopback.ListenPair()
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan error, 1)
		go func() { done <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("dns server on %s: %v", addr, err)
		}
		t.Cleanup(func() {
			_ = srv.Shutdown()
			<-done
		})
	}
	return addr
}

func parseRRs(t testing.TB, records ...string) []mdns.RR {
	t.Helper()
	var out []mdns.RR
	for _, line := range records {
		zp := mdns.NewZoneParser(strings.NewReader(line), ".", "")
		rr, ok := zp.Next()
		if err := zp.Err(); err != nil || !ok {
			t.Fatalf("bad test record %q: %v", line, err)
		}
		out = append(out, rr)
	}
	return out
}

// set replaces the zone.
func (f *fakeResolver) set(t testing.TB, records ...string) {
	t.Helper()
	zone := map[string][]mdns.RR{}
	for _, rr := range parseRRs(t, records...) {
		k := strings.ToLower(rr.Header().Name)
		zone[k] = append(zone[k], rr)
	}
	f.mu.Lock()
	f.zone = zone
	f.mu.Unlock()
}

// add adds records to the zone.
func (f *fakeResolver) add(t testing.TB, records ...string) {
	t.Helper()
	rrs := parseRRs(t, records...)
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, rr := range rrs {
		k := strings.ToLower(rr.Header().Name)
		f.zone[k] = append(f.zone[k], rr)
	}
}

// update runs fn with the server's switches locked.
func (f *fakeResolver) update(fn func(f *fakeResolver)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// count returns how many queries for name and qtype arrived, over both
// transports (net "") or one.
func (f *fakeResolver) count(name string, qtype uint16, netw string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	name = mdns.Fqdn(strings.ToLower(name))
	n := 0
	for k, c := range f.queries {
		if k.name == name && k.qtype == qtype && (netw == "" || k.net == netw) {
			n += c
		}
	}
	return n
}

// sockets returns how many UDP client sockets (source addresses) asked.
func (f *fakeResolver) sockets() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.udpClients)
}

func (f *fakeResolver) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	if w.LocalAddr().Network() == "udp" {
		f.mu.Lock()
		f.udpClients[w.RemoteAddr().String()]++
		f.mu.Unlock()
	}
	m := f.reply(w.LocalAddr().Network(), r)
	if m != nil {
		_ = w.WriteMsg(m)
	}
}

// reply builds the answer to r, or nil for no answer.
func (f *fakeResolver) reply(netw string, r *mdns.Msg) *mdns.Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := new(mdns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		m.Rcode = mdns.RcodeFormatError
		return m
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	f.queries[queryKey{name, q.Qtype, netw}]++
	if f.silentAll || f.silent[name] {
		return nil
	}
	if f.dropFirst[name] > 0 {
		f.dropFirst[name]--
		return nil
	}
	if rc, ok := f.rcodes[name]; ok {
		m.Rcode = rc
		return m
	}
	cur := name
	for hop := 0; hop < 16; hop++ {
		rrs, ok := f.zone[cur]
		if !ok {
			m.Rcode = mdns.RcodeNameError
			break
		}
		next := ""
		for _, rr := range rrs {
			switch rr.Header().Rrtype {
			case q.Qtype:
				m.Answer = append(m.Answer, mdns.Copy(rr))
			case mdns.TypeCNAME:
				m.Answer = append(m.Answer, mdns.Copy(rr))
				next = strings.ToLower(rr.(*mdns.CNAME).Target)
			}
		}
		if next == "" || q.Qtype == mdns.TypeCNAME || f.stopAtCNAME {
			break
		}
		cur = next
	}
	if f.truncateUDP && netw == "udp" && len(m.Answer) > 1 {
		m.Truncated = true
		m.Answer = m.Answer[:1]
	}
	if f.wrongQuestion {
		m.Question[0].Name = "wrong." + q.Name
	}
	return m
}

// resolverFor names a fake resolver for a Config.
func resolverFor(name string, f *fakeResolver, internal bool) estate.Resolver {
	return estate.Resolver{Name: name, Addr: f.Addr, Internal: internal}
}
