package dns

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Test helpers for the prober.

func newTestProber(t *testing.T, cfg Config) *Prober {
	t.Helper()
	if cfg.QueryTimeout == 0 {
		cfg.QueryTimeout = testQueryTimeout
	}
	if cfg.Cloud == "" {
		cfg.Cloud = estate.Worldwide
	}
	p, err := NewProber(cfg)
	if err != nil {
		t.Fatalf("NewProber: %v", err)
	}
	return p
}

// probeOnce runs the prober once; the Result must never be nil.
func probeOnce(t *testing.T, p *Prober) (*Result, error) {
	t.Helper()
	r, err := p.Probe(testContext(t))
	if r == nil {
		t.Fatalf("Probe returned a nil Result (error %v)", err)
	}
	res, ok := r.(*Result)
	if !ok {
		t.Fatalf("Probe returned %T, want *Result", r)
	}
	return res, err
}

// skipAllBut skips every record except names, to keep a test to the point.
func skipAllBut(names ...string) map[string]bool {
	skip := map[string]bool{}
	for _, n := range AllRecords {
		if !slices.Contains(names, n) {
			skip[n] = true
		}
	}
	return skip
}

func (r *Result) record(t *testing.T, record, resolver string) RecordResult {
	t.Helper()
	for _, rr := range r.Records {
		if rr.Record == record && rr.Resolver == resolver {
			return rr
		}
	}
	t.Fatalf("no result for %s via %s", record, resolver)
	return RecordResult{}
}

// wantFinding fails unless a finding of sev has exactly subject and a
// problem containing frag.
func (r *Result) wantFinding(t *testing.T, sev probes.Severity, subject, frag string) {
	t.Helper()
	for _, f := range r.Findings() {
		if f.Severity == sev && f.Subject == subject && strings.Contains(f.Problem, frag) {
			if f.Fix == "" {
				t.Errorf("finding %s has no fix", f)
			}
			return
		}
	}
	t.Errorf("no %s finding about %q saying %q; findings:\n%s", sev, subject, frag, findingsText(r.Findings()))
}

func findingsText(fs []probes.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.String() + "\n")
	}
	return b.String()
}

func subjects(fs []probes.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Subject)
	}
	sort.Strings(out)
	return out
}

// Microsoft 365 (worldwide) records of contoso.com, domain-facts §1.
var onlineZone = []string{
	"lyncdiscover.contoso.com. IN CNAME webdir.online.lync.com.",
	"sip.contoso.com. IN CNAME sipdir.online.lync.com.",
	"_sip._tls.contoso.com. IN SRV 100 1 443 sipdir.online.lync.com.",
	"_sipfederationtls._tcp.contoso.com. IN SRV 100 1 5061 sipfed.online.lync.com.",
	"autodiscover.contoso.com. IN CNAME autodiscover.outlook.com.",
	"webdir.online.lync.com. IN A 52.112.0.1",
	"sipdir.online.lync.com. IN A 52.112.0.2",
	"sipfed.online.lync.com. IN A 52.112.0.3",
	"autodiscover.outlook.com. IN A 52.96.0.1",
}

// An on-premises estate's two views (split-brain DNS).
var onpremInternalZone = []string{
	"lyncdiscoverinternal.contoso.com. IN CNAME pool01.contoso.com.",
	"_sipinternaltls._tcp.contoso.com. IN SRV 0 0 5061 pool01.contoso.com.",
	"_sipfederationtls._tcp.contoso.com. IN SRV 0 0 5061 sip.contoso.com.",
	"sip.contoso.com. IN A 10.0.0.10",
	"pool01.contoso.com. IN A 10.0.0.20",
}

var onpremExternalZone = []string{
	"lyncdiscover.contoso.com. IN CNAME webext.contoso.com.",
	"webext.contoso.com. IN A 192.0.2.20",
	"sip.contoso.com. IN A 192.0.2.10",
	"_sip._tls.contoso.com. IN SRV 0 0 443 sip.contoso.com.",
	"_sipfederationtls._tcp.contoso.com. IN SRV 0 0 5061 sip.contoso.com.",
}

func replace(zone []string, from, to string) []string {
	out := slices.Clone(zone)
	i := slices.Index(out, from)
	if i < 0 {
		panic("no line " + from)
	}
	if to == "" {
		return slices.Delete(out, i, i+1)
	}
	out[i] = to
	return out
}

func TestNewProber(t *testing.T) {
	t.Parallel()
	if _, err := NewProber(Config{Domain: "contoso.com", SIP: true}); err == nil {
		t.Error("NewProber without resolvers: no error")
	}
	p, err := NewProber(Config{Domain: "Contoso.com", SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem, Cloud: estate.Worldwide,
		Resolvers: []estate.Resolver{{Name: "a", Addr: "127.0.0.1:1"}}, Skip: map[string]bool{RecSIP: true}})
	if err != nil {
		t.Fatal(err)
	}
	if p.cfg.QueryTimeout != 2*time.Second {
		t.Errorf("default query timeout %v, want 2s", p.cfg.QueryTimeout)
	}
	if n := len(p.Records()); n != len(AllRecords)-1 {
		t.Errorf("%d records, want %d (all but the skipped one)", n, len(AllRecords)-1)
	}
}

// TestProberDrift is the probe's core promise: drift is counted only
// between two definitive answers, and a failed lookup keeps the last known
// answer, marked stale.
func TestProberDrift(t *testing.T) {
	t.Parallel()
	const x, y = "sip.contoso.com. IN A 192.0.2.10", "sip.contoso.com. IN A 192.0.2.11"
	f := newFakeResolver(t, x)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", f, false)},
		Skip:      skipAllBut(RecSIP),
	})
	type want struct {
		changes   uint64
		stale     bool
		latest    Outcome
		current   Outcome
		addresses []string
		err       string // fragment of the error; "" for no error
		fix       string // fragment of the attached advice
	}
	check := func(run string, w want) *Result {
		t.Helper()
		res, err := probeOnce(t, p)
		if len(res.Records) != 1 {
			t.Fatalf("%s: %d records, want 1", run, len(res.Records))
		}
		rr := res.Records[0]
		if rr.Record != RecSIP || rr.Resolver != "external" || rr.FQDN != "sip.contoso.com" || rr.Type != "A" {
			t.Errorf("%s: record %s %s %s via %s", run, rr.Record, rr.FQDN, rr.Type, rr.Resolver)
		}
		if rr.Changes != w.changes {
			t.Errorf("%s: Changes=%d, want %d", run, rr.Changes, w.changes)
		}
		if rr.Stale != w.stale {
			t.Errorf("%s: Stale=%v, want %v", run, rr.Stale, w.stale)
		}
		if rr.Latest.Outcome != w.latest {
			t.Errorf("%s: Latest %q, want %q", run, rr.Latest.Outcome, w.latest)
		}
		if rr.Current == nil {
			t.Fatalf("%s: Current is nil", run)
		}
		if rr.Current.Outcome != w.current || !slices.Equal(rr.Current.Addresses, w.addresses) {
			t.Errorf("%s: Current %s, want %s %v", run, rr.Current.Summary(), w.current, w.addresses)
		}
		switch {
		case w.err == "" && err != nil:
			t.Errorf("%s: error %v", run, err)
		case w.err != "" && err == nil:
			t.Errorf("%s: no error, want one about %q", run, w.err)
		case w.err != "":
			if !strings.Contains(err.Error(), w.err) || !strings.Contains(err.Error(), "sip.contoso.com A via external") {
				t.Errorf("%s: error %q does not name the lookup and say %q", run, err, w.err)
			}
			if fix := probes.FixOf(err); !strings.Contains(fix, w.fix) {
				t.Errorf("%s: advice %q does not say %q", run, fix, w.fix)
			}
		}
		return res
	}

	r1 := check("run 1 (X)", want{0, false, NoError, NoError, []string{"192.0.2.10"}, "", ""})
	if fs := r1.Findings(); len(fs) != 0 {
		t.Errorf("run 1: findings %v", fs)
	}
	fp1 := r1.Records[0].Current.Fingerprint()

	f.set(t, y)
	r2 := check("run 2 (Y)", want{1, false, NoError, NoError, []string{"192.0.2.11"}, "", ""})
	if r2.Records[0].Current.Fingerprint() == fp1 {
		t.Error("run 2: fingerprint did not change with the data")
	}

	f.update(func(f *fakeResolver) { f.silentAll = true })
	r3 := check("run 3 (timeout)", want{1, true, Timeout, NoError, []string{"192.0.2.11"}, "no answer", "reachable"})
	if e := r3.Records[0].Expected; e == nil || !*e {
		t.Errorf("run 3: Expected %v, want true from the last known answer", ptrStr(e))
	}
	if d := strings.Join(r3.Details(), "\n"); !strings.Contains(d, "192.0.2.11") || !strings.Contains(d, "[stale: latest lookup timeout]") || !strings.Contains(d, "[changed 1 time]") {
		t.Errorf("run 3: details %q", d)
	}

	f.update(func(f *fakeResolver) { f.silentAll = false })
	check("run 4 (Y again)", want{1, false, NoError, NoError, []string{"192.0.2.11"}, "", ""})

	f.set(t) // the record is removed: a change
	r5 := check("run 5 (NXDOMAIN)", want{2, false, NXDomain, NXDomain, nil, "", ""})
	r5.wantFinding(t, probes.Critical, "sip.contoso.com A (resolver external)", "is missing")

	f.update(func(f *fakeResolver) { f.rcodes["sip.contoso.com."] = mdns.RcodeServerFailure })
	r6 := check("run 6 (SERVFAIL)", want{2, true, ServFail, NXDomain, nil, "SERVFAIL", "forwarders"})
	r6.wantFinding(t, probes.Critical, "sip.contoso.com A (resolver external)", "is missing")

	f.update(func(f *fakeResolver) { delete(f.rcodes, "sip.contoso.com.") })
	f.set(t, x)
	check("run 7 (X again)", want{3, false, NoError, NoError, []string{"192.0.2.10"}, "", ""})

	// Earlier results are snapshots: later runs do not rewrite them.
	if c := r1.Records[0]; c.Changes != 0 || !slices.Equal(c.Current.Addresses, []string{"192.0.2.10"}) || c.Current.Fingerprint() != fp1 {
		t.Errorf("run 1's result changed afterwards: %+v", c)
	}
	if c := r3.Records[0]; c.Changes != 1 || !c.Stale || !slices.Equal(c.Current.Addresses, []string{"192.0.2.11"}) {
		t.Errorf("run 3's result changed afterwards: %+v", c)
	}
}

func TestProberFirstRunFails(t *testing.T) {
	t.Parallel()
	f := newFakeResolver(t)
	f.update(func(f *fakeResolver) { f.rcodes["sip.contoso.com."] = mdns.RcodeRefused })
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", f, false)},
		Skip:      skipAllBut(RecSIP),
	})
	res, err := probeOnce(t, p)
	if err == nil || !strings.Contains(probes.FixOf(err), "allow-query") {
		t.Errorf("error %v / advice %q, want a REFUSED error with advice", err, probes.FixOf(err))
	}
	rr := res.Records[0]
	if rr.Current != nil || rr.Stale || rr.Changes != 0 || rr.Expected != nil || rr.Latest.Outcome != Refused {
		t.Errorf("nothing known yet, but got current=%v stale=%v changes=%d expected=%s latest=%s",
			rr.Current, rr.Stale, rr.Changes, ptrStr(rr.Expected), rr.Latest.Outcome)
	}
	if fs := res.Findings(); len(fs) != 0 {
		t.Errorf("findings without any definitive answer: %v", fs)
	}
	if res.Consistent != nil {
		t.Errorf("Consistent=%v with nothing seen, want nil", *res.Consistent)
	}
}

// TestProberPartialFailure: one resolver failing does not hide the other's
// fresh answers, and the error names only the failed lookups.
func TestProberPartialFailure(t *testing.T) {
	t.Parallel()
	good := newFakeResolver(t, onpremExternalZone...)
	bad := newFakeResolver(t)
	bad.update(func(f *fakeResolver) { f.rcodes["sip.contoso.com."] = mdns.RcodeServerFailure })
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", good, false), resolverFor("other", bad, false)},
		Skip:      skipAllBut(RecSIP, RecLyncdiscover),
	})
	res, err := probeOnce(t, p)
	if err == nil {
		t.Fatal("no error with a failing resolver")
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 1 || !strings.Contains(err.Error(), "sip.contoso.com A via other") {
		t.Errorf("error %q, want exactly the one failed lookup", err)
	}
	if rr := res.record(t, RecSIP, "external"); rr.Latest.Outcome != NoError || rr.Stale {
		t.Errorf("healthy resolver: latest %s stale %v", rr.Latest.Outcome, rr.Stale)
	}
	if rr := res.record(t, RecLyncdiscover, "other"); rr.Latest.Outcome != NXDomain {
		t.Errorf("lyncdiscover via other: %s, want nxdomain", rr.Latest.Outcome)
	}
}

func TestProberOnlineHealthy(t *testing.T) {
	t.Parallel()
	internal := newFakeResolver(t, onlineZone...)
	external := newFakeResolver(t, onlineZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Email: true, Lync: estate.Online, Exchange: estate.Online,
		Resolvers:   []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
		AgreeRecord: DefaultAgreeRecords(estate.Online, estate.Online),
	})
	res, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if fs := res.Findings(); len(fs) != 0 {
		t.Errorf("a healthy online estate has findings:\n%s", findingsText(fs))
	}
	if res.Consistent == nil || !*res.Consistent {
		t.Errorf("Consistent=%v, want true", res.Consistent)
	}
	if n := len(res.Records); n != 2*len(AllRecords) {
		t.Errorf("%d record results, want %d", n, 2*len(AllRecords))
	}
	for _, rr := range res.Records {
		if rr.Rule.Empty() {
			t.Errorf("%s via %s: the online mode asks nothing of it", rr.Record, rr.Resolver)
			continue
		}
		if rr.Expected == nil || !*rr.Expected {
			t.Errorf("%s via %s: Expected %s (%s)", rr.Record, rr.Resolver, ptrStr(rr.Expected), rr.Current.Summary())
		}
	}
	wantSides := []SideCount{{"internal", "online", 4}, {"internal", "onprem", 0}, {"external", "online", 4}, {"external", "onprem", 0}}
	if !slices.Equal(res.Sides, wantSides) {
		t.Errorf("sides %+v, want %+v", res.Sides, wantSides)
	}
	var agreed []string
	for _, a := range res.Agreement {
		if !a.Agree || len(a.Views) != 2 {
			t.Errorf("agreement %+v", a)
		}
		agreed = append(agreed, a.Record)
	}
	want := slices.Clone(DefaultAgreeRecords(estate.Online, estate.Online))
	sort.Strings(want)
	if !slices.Equal(agreed, want) {
		t.Errorf("agreement on %v, want %v", agreed, want)
	}
}

func TestProberOnlineLeftoverInternal(t *testing.T) {
	t.Parallel()
	zone := append(slices.Clone(onlineZone),
		"lyncdiscoverinternal.contoso.com. IN CNAME pool01.contoso.com.",
		"pool01.contoso.com. IN A 10.0.0.20")
	internal := newFakeResolver(t, zone...)
	external := newFakeResolver(t, onlineZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.Online, Exchange: estate.Online,
		Resolvers: []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
	})
	res, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	res.wantFinding(t, probes.Critical, "lyncdiscoverinternal.contoso.com A (resolver internal)", "but must not (deployment online, worldwide)")
	// The leftover also points on-premises while the rest is online.
	res.wantFinding(t, probes.Critical, "Lync/Skype DNS records of contoso.com", "lyncdiscoverinternal via internal")
	if res.Consistent == nil || *res.Consistent {
		t.Errorf("Consistent=%v, want false", res.Consistent)
	}
	if got, want := subjects(res.Findings()), []string{"Lync/Skype DNS records of contoso.com", "lyncdiscoverinternal.contoso.com A (resolver internal)"}; !slices.Equal(got, want) {
		t.Errorf("findings about %v, want %v", got, want)
	}
	if !probes.Failing(res.Findings()) {
		t.Error("findings do not fail the check")
	}
}

func TestProberOnPremPointingOnline(t *testing.T) {
	t.Parallel()
	internal := newFakeResolver(t, onpremInternalZone...)
	external := newFakeResolver(t, replace(onpremExternalZone,
		"lyncdiscover.contoso.com. IN CNAME webext.contoso.com.",
		"lyncdiscover.contoso.com. IN CNAME webdir.online.lync.com.")...)
	// The resolver can reach Microsoft 365's name.
	external.add(t, "webdir.online.lync.com. IN A 52.112.0.1")
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers:   []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
		AgreeRecord: DefaultAgreeRecords(estate.OnPrem, estate.OnPrem),
	})
	res, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	res.wantFinding(t, probes.Critical, "lyncdiscover.contoso.com A (resolver external)", "points to Microsoft 365 (CNAME webdir.online.lync.com")
	res.wantFinding(t, probes.Critical, "Lync/Skype DNS records of contoso.com", "Microsoft 365 (lyncdiscover via external)")
	if res.Consistent == nil || *res.Consistent {
		t.Errorf("Consistent=%v, want false", res.Consistent)
	}
	if rr := res.record(t, RecLyncdiscover, "external"); rr.Expected == nil || *rr.Expected || !rr.Rule.NotOnline {
		t.Errorf("lyncdiscover via external: expected %s rule %+v", ptrStr(rr.Expected), rr.Rule)
	}
	if !slices.Contains(res.Sides, SideCount{"external", "online", 1}) || !slices.Contains(res.Sides, SideCount{"external", "onprem", 3}) ||
		!slices.Contains(res.Sides, SideCount{"internal", "onprem", 4}) {
		t.Errorf("sides %+v", res.Sides)
	}
	if n := len(res.Findings()); n != 2 {
		t.Errorf("%d findings, want 2:\n%s", n, findingsText(res.Findings()))
	}

	// Back on-premises: healthy, consistent, and no drift confusion.
	external.set(t, onpremExternalZone...)
	res, err = probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if fs := res.Findings(); len(fs) != 0 {
		t.Errorf("healthy on-premises estate has findings:\n%s", findingsText(fs))
	}
	if res.Consistent == nil || !*res.Consistent {
		t.Errorf("Consistent=%v, want true", res.Consistent)
	}
	if rr := res.record(t, RecLyncdiscover, "external"); rr.Changes != 1 {
		t.Errorf("lyncdiscover via external: %d changes, want 1", rr.Changes)
	}
}

// TestProberRequiredPerView: on-premises, each view must carry its own
// records, and only those.
func TestProberRequiredPerView(t *testing.T) {
	t.Parallel()
	internal := newFakeResolver(t)
	external := newFakeResolver(t)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
	})
	res, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"_sip._tls.contoso.com SRV (resolver external)",
		"_sipfederationtls._tcp.contoso.com SRV (resolver external)",
		"_sipinternaltls._tcp.contoso.com SRV (resolver internal)",
		"autodiscover.contoso.com A (resolver external)",
		"lyncdiscover.contoso.com A (resolver external)",
		"lyncdiscoverinternal.contoso.com A (resolver internal)",
		"sip.contoso.com A (resolver external)",
	}
	if got := subjects(res.Findings()); !slices.Equal(got, want) {
		t.Errorf("missing-record findings about\n %v\nwant\n %v", got, want)
	}
	for _, f := range res.Findings() {
		if f.Severity != probes.Critical || !strings.Contains(f.Problem, "is missing") {
			t.Errorf("finding %s, want critical 'is missing'", f)
		}
	}
	// Nothing present, so nothing points anywhere, consistently.
	if res.Consistent == nil || !*res.Consistent {
		t.Errorf("Consistent=%v, want true with every record absent", res.Consistent)
	}

	// The internal view alone is fixed: its findings go, the external ones stay.
	internal.set(t, onpremInternalZone...)
	res, _ = probeOnce(t, p)
	for _, s := range subjects(res.Findings()) {
		if strings.Contains(s, "resolver internal") {
			t.Errorf("finding about the fixed internal view: %s", s)
		}
	}
	if n := len(res.Findings()); n != 5 {
		t.Errorf("%d findings, want the 5 external ones:\n%s", n, findingsText(res.Findings()))
	}
}

func TestProberSRVStructure(t *testing.T) {
	t.Parallel()
	internal := newFakeResolver(t, replace(onpremInternalZone,
		"_sipinternaltls._tcp.contoso.com. IN SRV 0 0 5061 pool01.contoso.com.",
		"_sipinternaltls._tcp.contoso.com. IN SRV 0 0 5061 pool01.fabrikam.com.")...)
	internal.add(t, "pool01.fabrikam.com. IN A 10.1.0.20")
	external := newFakeResolver(t, replace(onpremExternalZone,
		"_sip._tls.contoso.com. IN SRV 0 0 443 sip.contoso.com.",
		"_sip._tls.contoso.com. IN SRV 0 0 5061 sip.contoso.com.")...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
	})
	res, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	res.wantFinding(t, probes.Warning, "_sip._tls.contoso.com SRV (resolver external)", "SRV target sip.contoso.com uses port 5061; clients expect 443")
	res.wantFinding(t, probes.Warning, "_sipinternaltls._tcp.contoso.com SRV (resolver internal)", "pool01.fabrikam.com is outside the SIP domain contoso.com")
	if n := len(res.Findings()); n != 2 {
		t.Errorf("%d findings, want 2:\n%s", n, findingsText(res.Findings()))
	}
	for _, f := range res.Findings() {
		if f.Severity != probes.Warning {
			t.Errorf("finding %s, want a warning", f)
		}
	}
	if !probes.Failing(res.Findings()) {
		t.Error("warnings do not fail the check")
	}
}

func TestProberDanglingCNAMEWarns(t *testing.T) {
	t.Parallel()
	external := newFakeResolver(t, replace(onpremExternalZone, "webext.contoso.com. IN A 192.0.2.20", "")...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", external, false)},
		Skip:      skipAllBut(RecLyncdiscover),
	})
	res, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	res.wantFinding(t, probes.Warning, "lyncdiscover.contoso.com A (resolver external)", "CNAME target webext.contoso.com does not exist")
	if n := len(res.Findings()); n != 1 {
		t.Errorf("%d findings, want 1 (present, so not missing):\n%s", n, findingsText(res.Findings()))
	}
}

func TestProberSRVSharedTargetOncePerRun(t *testing.T) {
	t.Parallel()
	external := newFakeResolver(t, onpremExternalZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", external, false)},
		Skip:      skipAllBut(RecSIPTLS, RecSIPFederationTLS),
	})
	for run := 1; run <= 2; run++ {
		res, err := probeOnce(t, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, rr := range res.Records {
			if rr.Latest.AddressCount() != 1 {
				t.Errorf("%s: target addresses %+v", rr.Record, rr.Latest.SRVs)
			}
		}
		if n := external.count("sip.contoso.com", mdns.TypeA, ""); n != run {
			t.Errorf("after run %d, sip.contoso.com (target of two SRV records) was asked %d times, want %d", run, n, run)
		}
	}
}

// A run asks each resolver all its questions on one UDP socket: a socket
// per query was a third of a lookup's CPU at 10,000 domains (issue 17).
func TestProberOneSocketPerResolverAndRun(t *testing.T) {
	t.Parallel()
	external := newFakeResolver(t, onpremExternalZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", external, false)},
	})
	for run := 1; run <= 2; run++ {
		if _, err := probeOnce(t, p); err != nil {
			t.Fatal(err)
		}
		if n := external.sockets(); n != run {
			t.Errorf("after run %d the resolver saw queries from %d sockets, want %d (one per run)", run, n, run)
		}
	}
}

// A query that times out on the run's socket does not spoil the next ones:
// the late reply's ID tells it apart, and the socket stays usable.
func TestProberSocketSurvivesATimeout(t *testing.T) {
	t.Parallel()
	external := newFakeResolver(t, onpremExternalZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", external, false)},
		Skip:      skipAllBut(RecSIPFederationTLS, RecSIPTLS),
	})
	// The run's first question gets no answer the first time it is asked.
	external.update(func(f *fakeResolver) { f.dropFirst = map[string]int{"_sipfederationtls._tcp.contoso.com.": 1} })
	res, err := probeOnce(t, p)
	if err != nil {
		t.Fatalf("the retry after a timeout should succeed: %v", err)
	}
	for _, rr := range res.Records {
		if rr.Latest.Outcome != NoError || len(rr.Latest.SRVs) != 1 {
			t.Errorf("%s: %s %+v", rr.Record, rr.Latest.Outcome, rr.Latest.SRVs)
		}
	}
	if n := external.sockets(); n != 1 {
		t.Errorf("queries came from %d sockets, want 1", n)
	}
}

func TestProberSRVTargetTimeoutIsStaleNotDrift(t *testing.T) {
	t.Parallel()
	external := newFakeResolver(t, onpremExternalZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", external, false)},
		Skip:      skipAllBut(RecSIPFederationTLS),
	})
	if _, err := probeOnce(t, p); err != nil {
		t.Fatal(err)
	}
	external.update(func(f *fakeResolver) { f.silent["sip.contoso.com."] = true })
	res, err := probeOnce(t, p)
	if err == nil || !strings.Contains(err.Error(), "resolving SRV target") {
		t.Errorf("error %v, want one about the SRV target", err)
	}
	rr := res.Records[0]
	if !rr.Stale || rr.Changes != 0 || rr.Latest.Outcome != Timeout || rr.Current == nil || len(rr.Current.SRVs) != 1 {
		t.Errorf("stale=%v changes=%d latest=%s current=%v, want the last full answer, stale, no change", rr.Stale, rr.Changes, rr.Latest.Outcome, rr.Current)
	}
}

func TestProberViewsAgreement(t *testing.T) {
	t.Parallel()
	cfg := func(internal, external *fakeResolver) Config {
		return Config{
			Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
			Resolvers:   []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
			AgreeRecord: []string{RecSIPFederationTLS},
			Skip:        skipAllBut(RecSIPFederationTLS),
		}
	}
	t.Run("same", func(t *testing.T) {
		t.Parallel()
		// Same federation record; the target's address differs by view on
		// purpose, which does not count.
		p := newTestProber(t, cfg(newFakeResolver(t, onpremInternalZone...), newFakeResolver(t, onpremExternalZone...)))
		res, err := probeOnce(t, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Agreement) != 1 || !res.Agreement[0].Agree || res.Agreement[0].Record != RecSIPFederationTLS || res.Agreement[0].Type != "SRV" {
			t.Fatalf("agreement %+v, want one that agrees", res.Agreement)
		}
		if v := res.Agreement[0].Views; len(v) != 2 || !strings.HasPrefix(v[0], "internal: SRV 0 0 5061 sip.contoso.com") || !strings.HasPrefix(v[1], "external: ") {
			t.Errorf("views %q", v)
		}
		if fs := res.Findings(); len(fs) != 0 {
			t.Errorf("findings:\n%s", findingsText(fs))
		}
	})
	t.Run("different", func(t *testing.T) {
		t.Parallel()
		internal := newFakeResolver(t, replace(onpremInternalZone,
			"_sipfederationtls._tcp.contoso.com. IN SRV 0 0 5061 sip.contoso.com.",
			"_sipfederationtls._tcp.contoso.com. IN SRV 0 0 5061 edge-old.contoso.com.")...)
		internal.add(t, "edge-old.contoso.com. IN A 10.0.0.99")
		p := newTestProber(t, cfg(internal, newFakeResolver(t, onpremExternalZone...)))
		res, err := probeOnce(t, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Agreement) != 1 || res.Agreement[0].Agree {
			t.Fatalf("agreement %+v, want a disagreement", res.Agreement)
		}
		res.wantFinding(t, probes.Critical, "_sipfederationtls._tcp.contoso.com SRV", "internal: SRV 0 0 5061 edge-old.contoso.com; external: SRV 0 0 5061 sip.contoso.com")
		if d := strings.Join(res.Details(), "\n"); !strings.Contains(d, "views disagree") {
			t.Errorf("details do not show the disagreement: %q", d)
		}
	})
	t.Run("one definitive answer", func(t *testing.T) {
		t.Parallel()
		external := newFakeResolver(t, onpremExternalZone...)
		external.update(func(f *fakeResolver) { f.silent["_sipfederationtls._tcp.contoso.com."] = true })
		internal := newFakeResolver(t, onpremInternalZone...)
		p := newTestProber(t, cfg(internal, external))
		res, err := probeOnce(t, p)
		if err == nil {
			t.Error("no error for the silent resolver")
		}
		if len(res.Agreement) != 0 {
			t.Errorf("agreement %+v from one definitive answer, want none", res.Agreement)
		}
		if fs := res.Findings(); len(fs) != 0 {
			t.Errorf("findings:\n%s", findingsText(fs))
		}
	})
	t.Run("stale answer still compared", func(t *testing.T) {
		t.Parallel()
		external := newFakeResolver(t, onpremExternalZone...)
		p := newTestProber(t, cfg(newFakeResolver(t, onpremInternalZone...), external))
		if _, err := probeOnce(t, p); err != nil {
			t.Fatal(err)
		}
		external.update(func(f *fakeResolver) { f.silentAll = true })
		res, _ := probeOnce(t, p)
		if len(res.Agreement) != 1 || !res.Agreement[0].Agree {
			t.Errorf("agreement %+v, want the last known answers compared", res.Agreement)
		}
	})
	t.Run("one resolver", func(t *testing.T) {
		t.Parallel()
		only := newFakeResolver(t, onpremInternalZone...)
		c := cfg(only, only)
		c.Resolvers = c.Resolvers[:1]
		res, err := probeOnce(t, newTestProber(t, c))
		if err != nil || len(res.Agreement) != 0 {
			t.Errorf("one resolver: agreement %+v err %v, want none", res.Agreement, err)
		}
	})
}

func TestProberConcurrentRuns(t *testing.T) {
	t.Parallel()
	internal := newFakeResolver(t, onpremInternalZone...)
	external := newFakeResolver(t, onpremExternalZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Email: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers:   []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
		AgreeRecord: DefaultAgreeRecords(estate.OnPrem, estate.OnPrem),
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, _ := p.Probe(context.Background())
			if r == nil {
				t.Error("nil result")
			}
		}()
	}
	wg.Wait()
	res, _ := probeOnce(t, p)
	for _, rr := range res.Records {
		if rr.Changes != 0 {
			t.Errorf("%s via %s: %d changes with unchanged data", rr.Record, rr.Resolver, rr.Changes)
		}
	}
}

// What a result keeps per record and resolver is small (issue 17: 16 of
// them per domain, 10,000 domains): the latest answer is the last
// definitive one itself when it is definitive, and the rule is the
// prober's, not a copy per run.
func TestResultSharesAnswersAndRules(t *testing.T) {
	t.Parallel()
	external := newFakeResolver(t, onpremExternalZone...)
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("external", external, false)},
		Skip:      skipAllBut(RecSIP, RecSIPFederationTLS),
	})
	first, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	for i, rr := range second.Records {
		if rr.Latest != rr.Current {
			t.Errorf("%s: the definitive latest answer is a copy of the current one, want the same", rr.Record)
		}
		if rr.Rule != first.Records[i].Rule {
			t.Errorf("%s: each run's result has its own copy of the rule, want the prober's", rr.Record)
		}
	}
	if n := unsafe.Sizeof(RecordResult{}); n > 144 {
		t.Errorf("a record result takes %d bytes, want at most 144", n)
	}
}
