package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes/dns"
	"github.com/sfbex/sfbex_exporter/test/infra"
)

// contosoZone returns contoso.test with the on-premises records, the external
// view by default; serial must grow with every change.
func contosoZone(serial int, sipAddr, fedTarget string, extra ...string) string {
	return fmt.Sprintf(`$TTL 60
@ IN SOA ns.contoso.test. hostmaster.contoso.test. %d 60 60 600 60
@ IN NS ns.contoso.test.
ns IN A 127.0.0.1
lyncdiscover IN CNAME webext
webext IN A 127.0.1.20
sip IN A %s
_sip._tls IN SRV 0 0 443 sip
_sipfederationtls._tcp IN SRV 0 0 5061 %s
edge-old IN A 127.0.1.12
autodiscover IN CNAME mail
mail IN A 127.0.1.30
%s
`, serial, sipAddr, fedTarget, strings.Join(extra, "\n"))
}

func probe(t *testing.T, p *dns.Prober) (*dns.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := p.Probe(ctx)
	if r == nil {
		t.Fatalf("no result (error %v)", err)
	}
	return r.(*dns.Result), err
}

func record(t *testing.T, res *dns.Result, name, resolver string) dns.RecordResult {
	t.Helper()
	for _, rr := range res.Records {
		if rr.Record == name && rr.Resolver == resolver {
			return rr
		}
	}
	t.Fatalf("no %s via %s in the result", name, resolver)
	return dns.RecordResult{}
}

// Drift is counted when bind9 reloads a changed zone, and not when bind9 is
// gone: the last definitive answer stays, marked stale.
func TestDNSProbeAgainstBind9DriftAndOutage(t *testing.T) {
	infra.Require(t, "named", "named-checkconf", "named-checkzone")
	named := infra.StartNamed(t, map[string]string{"contoso.test": contosoZone(1, "127.0.1.10", "sip")})
	expect, err := dns.ParseExpectations("sip.contoso.test/A=127.0.1.10")
	if err != nil {
		t.Fatal(err)
	}
	p, err := dns.NewProber(dns.Config{
		Domain: "contoso.test", SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem, Cloud: estate.Worldwide,
		Resolvers: []estate.Resolver{{Name: "external", Addr: named.Addr}}, Expect: expect, QueryTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}

	res, err := probe(t, p)
	if err != nil {
		t.Fatalf("healthy zone: %v", err)
	}
	for _, name := range []string{dns.RecLyncdiscover, dns.RecSIP, dns.RecSIPTLS, dns.RecSIPFederationTLS, dns.RecAutodiscover} {
		rr := record(t, res, name, "external")
		if !rr.Current.Present() || rr.Expected == nil || !*rr.Expected {
			t.Errorf("%s: %s, expected=%v, problems %v", name, rr.Current.Summary(), rr.Expected, rr.Problems)
		}
	}
	if rr := record(t, res, dns.RecLyncdiscoverInternal, "external"); rr.Current.Outcome != dns.NXDomain {
		t.Errorf("lyncdiscoverinternal via bind9: %s, want NXDOMAIN", rr.Current.Outcome)
	}
	if rr := record(t, res, dns.RecSIPTLS, "external"); len(rr.Current.SRVs) != 1 || strings.Join(rr.Current.SRVs[0].Addresses, ",") != "127.0.1.10" {
		t.Errorf("_sip._tls target not resolved: %+v", rr.Current.SRVs)
	}
	if len(res.Findings()) != 0 {
		t.Errorf("healthy zone has findings: %v", res.Findings())
	}
	before := record(t, res, dns.RecSIP, "external").Current.Fingerprint()

	// Drift: the sip record moves; bind9 reloads the zone.
	named.SetZone(t, "contoso.test", contosoZone(2, "127.0.1.11", "sip"))
	res, _ = probe(t, p)
	sip := record(t, res, dns.RecSIP, "external")
	if sip.Changes != 1 || sip.Current.Fingerprint() == before || *sip.Expected {
		t.Fatalf("after the move: changes %d, fingerprint same %v, expected %v", sip.Changes, sip.Current.Fingerprint() == before, *sip.Expected)
	}
	if other := record(t, res, dns.RecLyncdiscover, "external"); other.Changes != 0 {
		t.Errorf("lyncdiscover counted %d changes; it did not change", other.Changes)
	}

	// Outage: bind9 stops. Nothing definitive: the last answers stay, stale,
	// and no drift is counted.
	named.Stop()
	res, err = probe(t, p)
	if err == nil {
		t.Fatal("no error while the resolver is down")
	}
	sip = record(t, res, dns.RecSIP, "external")
	if sip.Latest.Outcome.Definitive() || !sip.Stale || sip.Changes != 1 || !sip.Current.Present() {
		t.Fatalf("during the outage: outcome %s stale %v changes %d present %v", sip.Latest.Outcome, sip.Stale, sip.Changes, sip.Current.Present())
	}

	// Back with the same data: still one change.
	named.Restart(t)
	res, err = probe(t, p)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if sip = record(t, res, dns.RecSIP, "external"); sip.Changes != 1 || sip.Stale {
		t.Fatalf("after restart: changes %d stale %v", sip.Changes, sip.Stale)
	}
}

// Two bind9 instances as the internal and external views: the federation
// record must look the same through both.
func TestDNSProbeAgainstTwoBind9ViewsSplitBrain(t *testing.T) {
	infra.Require(t, "named", "named-checkconf", "named-checkzone")
	internalZone := contosoZone(1, "127.0.2.10", "sip",
		"lyncdiscoverinternal IN CNAME pool01", "pool01 IN A 127.0.2.10", "_sipinternaltls._tcp IN SRV 0 0 5061 pool01")
	internal := infra.StartNamed(t, map[string]string{"contoso.test": internalZone})
	external := infra.StartNamed(t, map[string]string{"contoso.test": contosoZone(1, "127.0.1.10", "sip")})
	p, err := dns.NewProber(dns.Config{
		Domain: "contoso.test", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem, Cloud: estate.Worldwide,
		Resolvers: []estate.Resolver{
			{Name: "internal", Addr: internal.Addr, Internal: true},
			{Name: "external", Addr: external.Addr},
		},
		AgreeRecord:  dns.DefaultAgreeRecords(estate.OnPrem, estate.OnPrem),
		QueryTimeout: 500 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := probe(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Agreement) != 1 || !res.Agreement[0].Agree {
		t.Fatalf("agreement %+v, want _sipfederationtls._tcp agreeing", res.Agreement)
	}
	if len(res.Findings()) != 0 {
		t.Fatalf("healthy split-brain has findings: %v", res.Findings())
	}

	// The internal zone gets a stale copy of the federation record.
	internal.SetZone(t, "contoso.test", contosoZone(3, "127.0.2.10", "edge-old",
		"lyncdiscoverinternal IN CNAME pool01", "pool01 IN A 127.0.2.10", "_sipinternaltls._tcp IN SRV 0 0 5061 pool01"))
	res, _ = probe(t, p)
	if len(res.Agreement) != 1 || res.Agreement[0].Agree {
		t.Fatalf("agreement %+v, want a disagreement", res.Agreement)
	}
	found := false
	for _, f := range res.Findings() {
		found = found || strings.Contains(f.Problem, "the DNS views disagree") && strings.Contains(f.Problem, "edge-old.contoso.test")
	}
	if !found {
		t.Fatalf("no finding naming both answers: %v", res.Findings())
	}

	// lyncdiscoverinternal disappears from the internal view only.
	internal.SetZone(t, "contoso.test", contosoZone(4, "127.0.2.10", "sip", "pool01 IN A 127.0.2.10", "_sipinternaltls._tcp IN SRV 0 0 5061 pool01"))
	res, _ = probe(t, p)
	rr := record(t, res, dns.RecLyncdiscoverInternal, "internal")
	if rr.Current.Present() || rr.Expected == nil || *rr.Expected {
		t.Fatalf("missing lyncdiscoverinternal: present %v expected %v", rr.Current.Present(), rr.Expected)
	}
	if ext := record(t, res, dns.RecLyncdiscoverInternal, "external"); ext.Rule.Required {
		t.Error("lyncdiscoverinternal is required through the external resolver")
	}
}

// A real UDP answer too large for 1232 bytes comes back truncated; the
// probe asks again over TCP and gets every address.
func TestDNSProbeAgainstBind9TruncationFallsBackToTCP(t *testing.T) {
	infra.Require(t, "named", "named-checkconf", "named-checkzone")
	var many []string
	for i := 1; i <= 90; i++ { // bind9 refuses more than 100; 90 is past 1232 bytes
		many = append(many, fmt.Sprintf("sip IN A 127.0.3.%d", i))
	}
	z := strings.Replace(contosoZone(1, "127.0.3.200", "sip"), "sip IN A 127.0.3.200\n", strings.Join(many, "\n")+"\n", 1)
	named := infra.StartNamed(t, map[string]string{"contoso.test": z})
	a := dns.Resolve(context.Background(), estate.Resolver{Name: "external", Addr: named.Addr}, "sip.contoso.test", 1 /* A */, time.Second)
	if a.Outcome != dns.NoError || !a.TCP || len(a.Addresses) != 90 {
		t.Fatalf("outcome %s tcp %v addresses %d, want noerror over TCP with 90", a.Outcome, a.TCP, len(a.Addresses))
	}
	// A zone bind9 does not serve, with recursion off, is REFUSED: not an
	// answer about the record.
	r := dns.Resolve(context.Background(), estate.Resolver{Name: "external", Addr: named.Addr}, "sip.fabrikam.test", 1, time.Second)
	if r.Outcome != dns.Refused || r.Outcome.Definitive() {
		t.Fatalf("outcome for an unserved zone: %s", r.Outcome)
	}
}
