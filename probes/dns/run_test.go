package dns

import (
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// A resolver that does not answer costs one query and its retry per run,
// not two per record.
func TestUnreachableResolverIsAskedOncePerRun(t *testing.T) {
	f := newFakeResolver(t)
	f.update(func(f *fakeResolver) { f.silentAll = true })
	p := newTestProber(t, Config{Domain: "contoso.test", SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("internal", f, true)}})
	res, err := probeOnce(t, p)
	if err == nil {
		t.Fatal("no error from a run where nothing answered")
	}
	total := 0
	for _, rec := range p.Records() {
		total += f.count(rec.FQDN, rec.Type, "")
	}
	if total != 2 {
		t.Fatalf("%d queries reached the silent resolver, want 2 (one query and its retry)", total)
	}
	for _, rr := range res.Records {
		if rr.Latest.Outcome != Timeout {
			t.Errorf("%s: outcome %s, want timeout", rr.FQDN, rr.Latest.Outcome)
		}
	}
}

// sip.<domain> is both a record and the SRV records' target: one query a run.
func TestSharedNameIsResolvedOncePerRun(t *testing.T) {
	f := newFakeResolver(t,
		"sip.contoso.test. 300 IN A 127.0.1.10",
		"_sip._tls.contoso.test. 300 IN SRV 0 0 443 sip.contoso.test.",
		"_sipfederationtls._tcp.contoso.test. 300 IN SRV 0 0 5061 sip.contoso.test.",
	)
	p := newTestProber(t, Config{Domain: "contoso.test", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", f, false)}})
	probeOnce(t, p)
	if n := f.count("sip.contoso.test.", mdns.TypeA, ""); n != 1 {
		t.Fatalf("sip.contoso.test A asked %d times in one run, want 1", n)
	}
	probeOnce(t, p)
	if n := f.count("sip.contoso.test.", mdns.TypeA, ""); n != 2 {
		t.Fatalf("sip.contoso.test A asked %d times in two runs, want 2 (no cache across runs)", n)
	}
}

// An expectation scoped to a resolver wins over an unscoped one, in
// whichever order SFBEX_DNS_EXPECT lists them.
func TestScopedExpectationWinsWhateverTheOrder(t *testing.T) {
	f := newFakeResolver(t, "sip.contoso.test. 300 IN A 10.0.0.1")
	for _, spec := range []string{
		"internal@sip.contoso.test/A=10.0.0.1,sip.contoso.test/A=192.0.2.1",
		"sip.contoso.test/A=192.0.2.1,internal@sip.contoso.test/A=10.0.0.1",
	} {
		exp, err := ParseExpectations(spec)
		if err != nil {
			t.Fatal(err)
		}
		p := newTestProber(t, Config{Domain: "contoso.test", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem, Expect: exp,
			Resolvers: []estate.Resolver{resolverFor("internal", f, true), resolverFor("external", f, false)}})
		res, _ := probeOnce(t, p)
		for _, rr := range res.Records {
			if rr.Record != RecSIP {
				continue
			}
			want := rr.Resolver == "internal"
			if rr.Expected == nil || *rr.Expected != want {
				t.Errorf("%q: sip via %s expected=%v, want %v", spec, rr.Resolver, rr.Expected, want)
			}
		}
	}
}
