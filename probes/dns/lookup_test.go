package dns

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// testQueryTimeout keeps timeouts fast: a silent resolver costs two of
// them per name (one UDP retry).
const testQueryTimeout = 200 * time.Millisecond

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// lookupWith asks f for name through a fresh client (one probe run).
func lookupWith(t *testing.T, f *fakeResolver, name string, qtype uint16) Answer {
	t.Helper()
	c := newClient(estate.Resolver{Name: "test", Addr: f.Addr}, testQueryTimeout)
	return c.lookup(testContext(t), Record{Name: "test", FQDN: mdns.Fqdn(name), Type: qtype})
}

func TestLookupOutcomes(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t,
		"sip.contoso.com. 300 IN A 10.0.0.2",
		"sip.contoso.com. 300 IN A 10.0.0.1",
		"txt.contoso.com. 300 IN TXT \"v=spf1 -all\"",
	)
	f.update(func(f *fakeResolver) {
		f.rcodes["servfail.contoso.com."] = mdns.RcodeServerFailure
		f.rcodes["refused.contoso.com."] = mdns.RcodeRefused
		f.rcodes["notimp.contoso.com."] = mdns.RcodeNotImplemented
		f.silent["silent.contoso.com."] = true
	})
	mismatch := newFakeResolver(t, "sip.contoso.com. 300 IN A 10.0.0.1")
	mismatch.update(func(f *fakeResolver) { f.wrongQuestion = true })

	tests := []struct {
		name   string
		srv    *fakeResolver
		qname  string
		qtype  uint16
		want   Outcome
		addrs  []string
		detail []string // fragments the Detail must contain; none: Detail must be empty
	}{
		{"noerror with data", f, "sip.contoso.com", mdns.TypeA, NoError, []string{"10.0.0.1", "10.0.0.2"}, nil},
		{"name in other case", f, "SIP.Contoso.COM", mdns.TypeA, NoError, []string{"10.0.0.1", "10.0.0.2"}, nil},
		{"nxdomain", f, "nope.contoso.com", mdns.TypeA, NXDomain, nil, nil},
		{"nodata A", f, "txt.contoso.com", mdns.TypeA, NoData, nil, nil},
		{"nodata SRV", f, "sip.contoso.com", mdns.TypeSRV, NoData, nil, nil},
		{"servfail", f, "servfail.contoso.com", mdns.TypeA, ServFail, nil, []string{"SERVFAIL", "servfail.contoso.com", "test ("}},
		{"servfail SRV", f, "servfail.contoso.com", mdns.TypeSRV, ServFail, nil, []string{"SERVFAIL"}},
		{"refused", f, "refused.contoso.com", mdns.TypeA, Refused, nil, []string{"REFUSED", "refused.contoso.com"}},
		{"other rcode", f, "notimp.contoso.com", mdns.TypeA, Error, nil, []string{"NOTIMP"}},
		{"timeout", f, "silent.contoso.com", mdns.TypeA, Timeout, nil, []string{"no answer", "silent.contoso.com", "in time"}},
		{"timeout SRV", f, "silent.contoso.com", mdns.TypeSRV, Timeout, nil, []string{"no answer"}},
		{"mismatched question", mismatch, "sip.contoso.com", mdns.TypeA, Error, nil, []string{"does not match", "sip.contoso.com"}},
	}
	seen := map[Outcome]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			a := lookupWith(t, tc.srv, tc.qname, tc.qtype)
			seen[a.Outcome] = true
			if a.Outcome != tc.want {
				t.Fatalf("outcome %q (detail %q), want %q", a.Outcome, a.Detail, tc.want)
			}
			if !slices.Equal(a.Addresses, tc.addrs) {
				t.Errorf("addresses %v, want %v", a.Addresses, tc.addrs)
			}
			if len(tc.detail) == 0 && a.Detail != "" {
				t.Errorf("unexpected detail %q", a.Detail)
			}
			for _, d := range tc.detail {
				if !strings.Contains(a.Detail, d) {
					t.Errorf("detail %q does not mention %q", a.Detail, d)
				}
			}
			if got, want := a.Present(), tc.want == NoError; got != want {
				t.Errorf("Present() = %v, want %v", got, want)
			}
			if got, want := a.Outcome.Definitive(), tc.want == NoError || tc.want == NXDomain || tc.want == NoData; got != want {
				t.Errorf("Definitive() = %v, want %v", got, want)
			}
			if a.Duration <= 0 || a.Duration > time.Since(start) || a.At.Before(start) {
				t.Errorf("duration %v / at %v not measured around the lookup", a.Duration, a.At)
			}
			if a.Fingerprint() == 0 && a.Present() {
				t.Error("present answer with fingerprint 0")
			}
			if !a.Present() && a.Fingerprint() != 0 {
				t.Errorf("absent or failed answer with fingerprint %d", a.Fingerprint())
			}
		})
	}
	for _, o := range Outcomes {
		if !seen[o] {
			t.Errorf("no test case ends in outcome %q", o)
		}
	}
}

func TestLookupTimeoutRetriesUDPOnce(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t)
	f.update(func(f *fakeResolver) { f.silentAll = true })
	start := time.Now()
	a := lookupWith(t, f, "sip.contoso.com", mdns.TypeA)
	if a.Outcome != Timeout {
		t.Fatalf("outcome %q (%s), want timeout", a.Outcome, a.Detail)
	}
	if n := f.count("sip.contoso.com", mdns.TypeA, "udp"); n != 2 {
		t.Errorf("%d UDP queries, want 2 (one retry)", n)
	}
	if n := f.count("sip.contoso.com", mdns.TypeA, "tcp"); n != 0 {
		t.Errorf("%d TCP queries, want none", n)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("lookup took %v with a %v query timeout", d, testQueryTimeout)
	}
}

func TestLookupRunDeadlineBoundsQueries(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t)
	f.update(func(f *fakeResolver) { f.silentAll = true })
	// A generous query timeout: the run's deadline must cut it short and
	// stop the retry.
	c := newClient(estate.Resolver{Name: "test", Addr: f.Addr}, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	a := c.lookup(ctx, Record{FQDN: "sip.contoso.com.", Type: mdns.TypeA})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("lookup took %v past a 150ms run deadline", d)
	}
	if a.Outcome != Timeout {
		t.Errorf("outcome %q (%s), want timeout", a.Outcome, a.Detail)
	}
	if n := f.count("sip.contoso.com", mdns.TypeA, ""); n != 1 {
		t.Errorf("%d queries after the run's deadline passed, want 1 (no retry)", n)
	}
}

func TestLookupTCPFallback(t *testing.T) {
	t.Parallel()
	recs := []string{
		"pool.contoso.com. 300 IN A 10.0.0.3",
		"pool.contoso.com. 300 IN A 10.0.0.1",
		"pool.contoso.com. 300 IN A 10.0.0.2",
		"_sipinternaltls._tcp.contoso.com. 300 IN SRV 0 0 5061 fe1.contoso.com.",
		"_sipinternaltls._tcp.contoso.com. 300 IN SRV 0 0 5061 fe2.contoso.com.",
		"fe1.contoso.com. 300 IN A 10.0.1.1",
		"fe2.contoso.com. 300 IN A 10.0.1.2",
	}
	tc := newFakeResolver(t, recs...)
	tc.update(func(f *fakeResolver) { f.truncateUDP = true })
	plain := newFakeResolver(t, recs...)

	a := lookupWith(t, tc, "pool.contoso.com", mdns.TypeA)
	if a.Outcome != NoError || !a.TCP {
		t.Fatalf("outcome %q tcp=%v, want noerror over TCP", a.Outcome, a.TCP)
	}
	if want := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}; !slices.Equal(a.Addresses, want) {
		t.Errorf("addresses %v, want the full set %v", a.Addresses, want)
	}
	if u, c := tc.count("pool.contoso.com", mdns.TypeA, "udp"), tc.count("pool.contoso.com", mdns.TypeA, "tcp"); u != 1 || c != 1 {
		t.Errorf("%d UDP and %d TCP queries, want 1 and 1", u, c)
	}

	s := lookupWith(t, tc, "_sipinternaltls._tcp.contoso.com", mdns.TypeSRV)
	if s.Outcome != NoError || !s.TCP || len(s.SRVs) != 2 {
		t.Fatalf("SRV over truncated UDP: outcome %q tcp=%v srvs=%v, want 2 records over TCP", s.Outcome, s.TCP, s.SRVs)
	}

	p := lookupWith(t, plain, "pool.contoso.com", mdns.TypeA)
	if p.TCP || len(p.Addresses) != 3 {
		t.Errorf("untruncated answer: tcp=%v addresses=%v, want UDP with 3 addresses", p.TCP, p.Addresses)
	}
	if a.Fingerprint() != p.Fingerprint() {
		t.Error("the transport changed the fingerprint")
	}
}

func TestLookupCNAMEChain(t *testing.T) {
	t.Parallel()
	zone := []string{
		"lyncdiscover.contoso.com. 300 IN CNAME Alias.Example.NET.",
		"alias.example.net. 300 IN CNAME webdir.online.lync.com.",
		"webdir.online.lync.com. 300 IN A 52.112.0.2",
		"webdir.online.lync.com. 300 IN A 52.112.0.1",
	}
	for _, style := range []string{"recursive", "authoritative"} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			f := newFakeResolver(t, zone...)
			f.update(func(f *fakeResolver) { f.stopAtCNAME = style == "authoritative" })
			a := lookupWith(t, f, "lyncdiscover.contoso.com", mdns.TypeA)
			if a.Outcome != NoError || a.Detail != "" {
				t.Fatalf("outcome %q detail %q, want noerror", a.Outcome, a.Detail)
			}
			if want := []string{"alias.example.net", "webdir.online.lync.com"}; !slices.Equal(a.CNAMEs, want) {
				t.Errorf("chain %v, want %v", a.CNAMEs, want)
			}
			if want := []string{"52.112.0.1", "52.112.0.2"}; !slices.Equal(a.Addresses, want) {
				t.Errorf("addresses %v, want %v", a.Addresses, want)
			}
			if a.Side() != "online" {
				t.Errorf("side %q, want online", a.Side())
			}
			// A resolver that returns the chain is asked once; one that
			// stops at each CNAME is asked for every link.
			want := map[string]int{"recursive": 0, "authoritative": 1}[style]
			for _, n := range []string{"alias.example.net", "webdir.online.lync.com"} {
				if got := f.count(n, mdns.TypeA, ""); got != want {
					t.Errorf("%d queries for %s, want %d", got, n, want)
				}
			}
		})
	}
}

func TestLookupDanglingCNAME(t *testing.T) {
	t.Parallel()
	for _, style := range []string{"recursive", "authoritative"} {
		t.Run(style+" target nxdomain", func(t *testing.T) {
			t.Parallel()
			f := newFakeResolver(t,
				"lyncdiscover.contoso.com. 300 IN CNAME webext.contoso.com.",
				"webext.contoso.com. 300 IN CNAME gone.contoso.com.",
			)
			f.update(func(f *fakeResolver) { f.stopAtCNAME = style == "authoritative" })
			a := lookupWith(t, f, "lyncdiscover.contoso.com", mdns.TypeA)
			if a.Outcome != NoError || !a.Present() {
				t.Fatalf("outcome %q (%s), want the record present (it exists, its target does not)", a.Outcome, a.Detail)
			}
			if want := []string{"webext.contoso.com", "gone.contoso.com"}; !slices.Equal(a.CNAMEs, want) {
				t.Errorf("chain %v, want %v", a.CNAMEs, want)
			}
			if len(a.Addresses) != 0 {
				t.Errorf("addresses %v, want none", a.Addresses)
			}
			if !strings.Contains(a.Detail, "gone.contoso.com") || !strings.Contains(a.Detail, "does not exist") {
				t.Errorf("detail %q does not name the missing target", a.Detail)
			}
			if a.Fingerprint() == 0 {
				t.Error("a dangling CNAME is present: its fingerprint must not be 0")
			}
		})
		t.Run(style+" target nodata", func(t *testing.T) {
			t.Parallel()
			f := newFakeResolver(t,
				"lyncdiscover.contoso.com. 300 IN CNAME webext.contoso.com.",
				"webext.contoso.com. 300 IN TXT \"no address here\"",
			)
			f.update(func(f *fakeResolver) { f.stopAtCNAME = style == "authoritative" })
			a := lookupWith(t, f, "lyncdiscover.contoso.com", mdns.TypeA)
			if a.Outcome != NoError || !slices.Equal(a.CNAMEs, []string{"webext.contoso.com"}) {
				t.Fatalf("outcome %q chain %v, want noerror with the CNAME", a.Outcome, a.CNAMEs)
			}
			if !strings.Contains(a.Detail, "webext.contoso.com has no A record") {
				t.Errorf("detail %q, want it to say the target has no A record", a.Detail)
			}
		})
	}
}

func TestLookupCNAMELoopIsBounded(t *testing.T) {
	t.Parallel()
	for _, style := range []string{"recursive", "authoritative"} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			f := newFakeResolver(t,
				"lyncdiscover.contoso.com. 300 IN CNAME a.contoso.com.",
				"a.contoso.com. 300 IN CNAME b.contoso.com.",
				"b.contoso.com. 300 IN CNAME a.contoso.com.",
			)
			f.update(func(f *fakeResolver) { f.stopAtCNAME = style == "authoritative" })
			done := make(chan Answer, 1)
			go func() { done <- lookupWith(t, f, "lyncdiscover.contoso.com", mdns.TypeA) }()
			var a Answer
			select {
			case a = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("lookup of a CNAME loop did not end")
			}
			if a.Outcome != Error || a.Outcome.Definitive() {
				t.Fatalf("outcome %q, want error", a.Outcome)
			}
			if !strings.Contains(a.Detail, "longer than") || !strings.Contains(a.Detail, "lyncdiscover.contoso.com") {
				t.Errorf("detail %q does not explain the loop", a.Detail)
			}
			if len(a.CNAMEs) != maxCNAMEHops {
				t.Errorf("chain of %d links, want it cut at %d", len(a.CNAMEs), maxCNAMEHops)
			}
			total := f.count("lyncdiscover.contoso.com", mdns.TypeA, "") + f.count("a.contoso.com", mdns.TypeA, "") + f.count("b.contoso.com", mdns.TypeA, "")
			if total > maxCNAMEHops+1 {
				t.Errorf("%d queries for a loop, want at most %d", total, maxCNAMEHops+1)
			}
		})
	}
}

func TestLookupCNAMEChainLimit(t *testing.T) {
	t.Parallel()
	// chain(n) is a chain of n CNAMEs from c0 ending at an address.
	chain := func(n int) []string {
		var z []string
		for i := range n {
			z = append(z, "c"+strconv.Itoa(i)+".contoso.com. 300 IN CNAME c"+strconv.Itoa(i+1)+".contoso.com.")
		}
		return append(z, "c"+strconv.Itoa(n)+".contoso.com. 300 IN A 10.0.0.9")
	}
	for _, style := range []string{"recursive", "authoritative"} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			ok := newFakeResolver(t, chain(maxCNAMEHops)...)
			long := newFakeResolver(t, chain(maxCNAMEHops+1)...)
			for _, f := range []*fakeResolver{ok, long} {
				f.update(func(f *fakeResolver) { f.stopAtCNAME = style == "authoritative" })
			}
			if a := lookupWith(t, ok, "c0.contoso.com", mdns.TypeA); a.Outcome != NoError || len(a.CNAMEs) != maxCNAMEHops || !slices.Equal(a.Addresses, []string{"10.0.0.9"}) {
				t.Errorf("chain of %d links: outcome %q, %d links, addresses %v; want it followed to the end", maxCNAMEHops, a.Outcome, len(a.CNAMEs), a.Addresses)
			}
			if a := lookupWith(t, long, "c0.contoso.com", mdns.TypeA); a.Outcome != Error {
				t.Errorf("chain of %d links: outcome %q, want error", maxCNAMEHops+1, a.Outcome)
			}
		})
	}
}

func TestLookupSRV(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t,
		// Served out of order: the answer must come back sorted.
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 20 0 5061 edge2.contoso.com.",
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 10 10 5061 Edge1.Contoso.COM.",
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 10 50 5061 edge3.contoso.com.",
		"edge1.contoso.com. 300 IN A 192.0.2.1",
		"edge2.contoso.com. 300 IN A 192.0.2.2",
		"edge3.contoso.com. 300 IN CNAME edge1.contoso.com.",
		"_sip._tls.contoso.com. 300 IN SRV 0 0 443 gone.contoso.com.",
		"_sip._tls.contoso.com. 300 IN SRV 0 0 443 edge1.contoso.com.",
		"_autodiscover._tcp.contoso.com. 300 IN SRV 0 0 0 .",
		"_sipinternaltls._tcp.contoso.com. 300 IN CNAME elsewhere.contoso.com.",
		"elsewhere.contoso.com. 300 IN TXT \"no service\"",
	)

	a := lookupWith(t, f, "_sipfederationtls._tcp.contoso.com", mdns.TypeSRV)
	if a.Outcome != NoError || a.Detail != "" {
		t.Fatalf("outcome %q detail %q", a.Outcome, a.Detail)
	}
	want := []SRV{
		{Priority: 10, Weight: 50, Port: 5061, Target: "edge3.contoso.com", Addresses: []string{"192.0.2.1"}},
		{Priority: 10, Weight: 10, Port: 5061, Target: "edge1.contoso.com", Addresses: []string{"192.0.2.1"}},
		{Priority: 20, Weight: 0, Port: 5061, Target: "edge2.contoso.com", Addresses: []string{"192.0.2.2"}},
	}
	if !slices.EqualFunc(a.SRVs, want, srvEqual) {
		t.Errorf("SRVs %+v, want %+v", a.SRVs, want)
	}
	if a.AddressCount() != 3 {
		t.Errorf("AddressCount %d, want 3", a.AddressCount())
	}
	if a.Side() != "onprem" {
		t.Errorf("side %q, want onprem", a.Side())
	}

	d := lookupWith(t, f, "_sip._tls.contoso.com", mdns.TypeSRV)
	if d.Outcome != NoError || !strings.Contains(d.Detail, "gone.contoso.com") || strings.Contains(d.Detail, "edge1") {
		t.Errorf("dangling SRV target: outcome %q detail %q, want noerror naming only gone.contoso.com", d.Outcome, d.Detail)
	}

	dot := lookupWith(t, f, "_autodiscover._tcp.contoso.com", mdns.TypeSRV)
	if dot.Outcome != NoError || dot.Detail != "" || len(dot.SRVs) != 1 || dot.SRVs[0].Target != "" {
		t.Errorf(`target "." (service not offered): outcome %q detail %q srvs %+v`, dot.Outcome, dot.Detail, dot.SRVs)
	}

	cn := lookupWith(t, f, "_sipinternaltls._tcp.contoso.com", mdns.TypeSRV)
	if cn.Outcome != NoError || !slices.Equal(cn.CNAMEs, []string{"elsewhere.contoso.com"}) || !strings.Contains(cn.Detail, "no service records") {
		t.Errorf("SRV name that is a bare CNAME: outcome %q chain %v detail %q", cn.Outcome, cn.CNAMEs, cn.Detail)
	}
}

func srvEqual(a, b SRV) bool {
	return a.Priority == b.Priority && a.Weight == b.Weight && a.Port == b.Port && a.Target == b.Target && slices.Equal(a.Addresses, b.Addresses)
}

func TestLookupSRVSharedTargetResolvedOncePerRun(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t,
		"_sip._tls.contoso.com. 300 IN SRV 0 0 443 sip.contoso.com.",
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 0 0 5061 sip.contoso.com.",
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 10 0 5062 sip.contoso.com.",
		"sip.contoso.com. 300 IN A 192.0.2.10",
	)
	run := func() {
		c := newClient(estate.Resolver{Name: "test", Addr: f.Addr}, testQueryTimeout)
		ctx := testContext(t)
		for _, n := range []string{"_sip._tls.contoso.com.", "_sipfederationtls._tcp.contoso.com."} {
			a := c.lookup(ctx, Record{FQDN: n, Type: mdns.TypeSRV})
			if a.Outcome != NoError || a.AddressCount() != len(a.SRVs) {
				t.Fatalf("%s: outcome %q srvs %+v", n, a.Outcome, a.SRVs)
			}
		}
	}
	run()
	if n := f.count("sip.contoso.com", mdns.TypeA, ""); n != 1 {
		t.Errorf("target shared by three SRV records asked %d times in one run, want 1", n)
	}
	run()
	if n := f.count("sip.contoso.com", mdns.TypeA, ""); n != 2 {
		t.Errorf("after a second run the target was asked %d times, want 2 (the cache lasts one run)", n)
	}
}

func TestLookupSRVTargetTimeoutIsNotDefinitive(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t,
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 0 0 5061 edge1.contoso.com.",
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 10 0 5061 edge2.contoso.com.",
		"edge1.contoso.com. 300 IN A 192.0.2.1",
	)
	f.update(func(f *fakeResolver) { f.silent["edge2.contoso.com."] = true })
	a := lookupWith(t, f, "_sipfederationtls._tcp.contoso.com", mdns.TypeSRV)
	if a.Outcome != Timeout || a.Outcome.Definitive() {
		t.Fatalf("outcome %q, want timeout: without a target the answer says nothing definite", a.Outcome)
	}
	if len(a.SRVs) != 0 || a.Fingerprint() != 0 {
		t.Errorf("a non-definitive answer carries SRVs %+v / fingerprint %d", a.SRVs, a.Fingerprint())
	}
	if !strings.Contains(a.Detail, "SRV target") || !strings.Contains(a.Detail, "edge2.contoso.com") {
		t.Errorf("detail %q does not name the target", a.Detail)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t,
		"_autodiscover._tcp.contoso.com. IN SRV 0 0 443 mail.contoso.com.",
		"mail.contoso.com. IN A 192.0.2.30",
	)
	res := estate.Resolver{Name: "external", Addr: f.Addr}
	s := Resolve(testContext(t), res, "_autodiscover._tcp.contoso.com", mdns.TypeSRV, testQueryTimeout)
	if s.Outcome != NoError || len(s.SRVs) != 1 || s.SRVs[0].Port != 443 || !slices.Equal(s.SRVs[0].Addresses, []string{"192.0.2.30"}) {
		t.Errorf("SRV: %s %+v", s.Outcome, s.SRVs)
	}
	// A name with or without the trailing dot, and the default timeout.
	a := Resolve(testContext(t), res, "mail.contoso.com.", mdns.TypeA, 0)
	if a.Outcome != NoError || !slices.Equal(a.Addresses, []string{"192.0.2.30"}) {
		t.Errorf("A: %s %v", a.Outcome, a.Addresses)
	}
}

// A run's queries are packed and its answers read in one buffer, which the
// next run reuses: reading each answer into a new 1.2 KB buffer was the
// largest share of what a DNS run allocated (issue 17).
func TestLookupBufferReused(t *testing.T) {
	f := newFakeResolver(t, "sip.contoso.com. 300 IN A 192.0.2.10", "pool.contoso.com. 300 IN A 192.0.2.11")
	c := newClient(resolverFor("r", f, false), testQueryTimeout)
	if a := c.lookup(testContext(t), Record{Name: "sip", FQDN: "sip.contoso.com.", Type: mdns.TypeA}); a.Outcome != NoError {
		t.Fatalf("first lookup: %+v", a)
	}
	buf := c.buf
	if a := c.lookup(testContext(t), Record{Name: "pool", FQDN: "pool.contoso.com.", Type: mdns.TypeA}); a.Outcome != NoError || c.buf != buf {
		t.Fatalf("second lookup: %+v, same buffer %v", a, c.buf == buf)
	}
	c.close()
	d := newClient(resolverFor("r", f, false), testQueryTimeout)
	defer d.close()
	if a := d.lookup(testContext(t), Record{Name: "sip", FQDN: "sip.contoso.com.", Type: mdns.TypeA}); a.Outcome != NoError {
		t.Fatalf("next run: %+v", a)
	}
	// Not parallel: no other test takes the buffer meanwhile.
	if d.buf != buf {
		t.Fatal("the next run did not take the freed buffer")
	}
}
