package dns

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
)

func TestParseExpectationsGood(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []Expectation
	}{
		{"empty", "", nil},
		{"only commas and blanks", " , ,, ", nil},
		{"A", "lyncdiscoverinternal.contoso.com/A=10.0.0.5",
			[]Expectation{{Name: "lyncdiscoverinternal.contoso.com", Type: "A", Values: []string{"a:10.0.0.5"}}}},
		{"CNAME", "sip.contoso.com/CNAME=sipdir.online.lync.com",
			[]Expectation{{Name: "sip.contoso.com", Type: "CNAME", Values: []string{"cname:sipdir.online.lync.com"}}}},
		{"SRV two fields", "_sip._tls.contoso.com/SRV=443 sip.contoso.com",
			[]Expectation{{Name: "_sip._tls.contoso.com", Type: "SRV", Values: []string{"srv:443 sip.contoso.com"}}}},
		{"SRV four fields", "_sip._tls.contoso.com/SRV=100 1 443 sipdir.online.lync.com",
			[]Expectation{{Name: "_sip._tls.contoso.com", Type: "SRV", Values: []string{"srv:100 1 443 sipdir.online.lync.com"}}}},
		{"SRV extra spaces, case, trailing dot", "_sip._tls.contoso.com/SRV=100\t 1   443  SipDir.Online.Lync.com.",
			[]Expectation{{Name: "_sip._tls.contoso.com", Type: "SRV", Values: []string{"srv:100 1 443 sipdir.online.lync.com"}}}},
		{"SRV port 65535 and target dot", "_x._tcp.contoso.com/SRV=0 0 65535 .",
			[]Expectation{{Name: "_x._tcp.contoso.com", Type: "SRV", Values: []string{"srv:0 0 65535 "}}}},
		{"absent", "lyncdiscoverinternal.contoso.com/A=absent",
			[]Expectation{{Name: "lyncdiscoverinternal.contoso.com", Type: "A", Absent: true}}},
		{"absent any case", "lyncdiscoverinternal.contoso.com/A= ABSENT ",
			[]Expectation{{Name: "lyncdiscoverinternal.contoso.com", Type: "A", Absent: true}}},
		{"present", "_autodiscover._tcp.contoso.com/SRV=Present",
			[]Expectation{{Name: "_autodiscover._tcp.contoso.com", Type: "SRV", Present: true}}},
		{"present with a value", "sip.contoso.com/A=present|10.0.0.1",
			[]Expectation{{Name: "sip.contoso.com", Type: "A", Present: true, Values: []string{"a:10.0.0.1"}}}},
		{"resolver", "internal@lyncdiscoverinternal.contoso.com/A=10.0.0.5",
			[]Expectation{{Resolver: "internal", Name: "lyncdiscoverinternal.contoso.com", Type: "A", Values: []string{"a:10.0.0.5"}}}},
		{"several values", "sip.contoso.com/A=10.0.0.1|10.0.0.2 | 10.0.0.3",
			[]Expectation{{Name: "sip.contoso.com", Type: "A", Values: []string{"a:10.0.0.1", "a:10.0.0.2", "a:10.0.0.3"}}}},
		{"whitespace everywhere", "  internal @ Sip.Contoso.COM. / cname = SipDir.Online.Lync.Com. | Other.Example.  ",
			[]Expectation{{Resolver: "internal", Name: "sip.contoso.com", Type: "CNAME", Values: []string{"cname:sipdir.online.lync.com", "cname:other.example"}}}},
		{"type any case", "sip.contoso.com/a=10.0.0.1,_sip._tls.contoso.com/Srv=443 sip.contoso.com",
			[]Expectation{
				{Name: "sip.contoso.com", Type: "A", Values: []string{"a:10.0.0.1"}},
				{Name: "_sip._tls.contoso.com", Type: "SRV", Values: []string{"srv:443 sip.contoso.com"}},
			}},
		{"several items, blanks between", "external@sip.contoso.com/A=192.0.2.1, ,internal@sip.contoso.com/A=10.0.0.1,",
			[]Expectation{
				{Resolver: "external", Name: "sip.contoso.com", Type: "A", Values: []string{"a:192.0.2.1"}},
				{Resolver: "internal", Name: "sip.contoso.com", Type: "A", Values: []string{"a:10.0.0.1"}},
			}},
		{"syntax example", strings.Split(strings.Split(ExpectSyntax, `e.g. "`)[1], `"`)[0],
			[]Expectation{
				{Name: "sip.contoso.com", Type: "CNAME", Values: []string{"cname:sipdir.online.lync.com"}},
				{Resolver: "internal", Name: "lyncdiscoverinternal.contoso.com", Type: "A", Values: []string{"a:10.0.0.5"}},
				{Name: "_sip._tls.contoso.com", Type: "SRV", Values: []string{"srv:443 sip.contoso.com"}},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseExpectations(tc.in)
			if err != nil {
				t.Fatalf("ParseExpectations(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseExpectations(%q)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseExpectationsBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		item string // the offending item, as the error must quote it
		why  string // a fragment of the reason
	}{
		{"no =", "sip.contoso.com/CNAME", "sip.contoso.com/CNAME", "no '='"},
		{"no type", "sip.contoso.com=1.2.3.4", "sip.contoso.com=1.2.3.4", "no record type"},
		{"bad type", "sip.contoso.com/MX=mail.contoso.com", "sip.contoso.com/MX=mail.contoso.com", `"MX" is not A, CNAME or SRV`},
		{"empty type", "sip.contoso.com/=1.2.3.4", "sip.contoso.com/=1.2.3.4", "is not A, CNAME or SRV"},
		{"bad IP", "sip.contoso.com/A=10.0.0.300", "sip.contoso.com/A=10.0.0.300", `"10.0.0.300" is not an IPv4 address`},
		{"host for A", "sip.contoso.com/A=sip.contoso.com", "sip.contoso.com/A=sip.contoso.com", "not an IPv4 address"},
		{"IPv6 for A", "sip.contoso.com/A=2001:db8::1", "sip.contoso.com/A=2001:db8::1", `"2001:db8::1" is not an IPv4 address`},
		{"mapped IPv6 for A", "sip.contoso.com/A=::ffff:10.0.0.1", "sip.contoso.com/A=::ffff:10.0.0.1", "not an IPv4 address"},
		{"SRV one field", "_sip._tls.contoso.com/SRV=sip.contoso.com", "_sip._tls.contoso.com/SRV=sip.contoso.com", "must be"},
		{"SRV three fields", "_sip._tls.contoso.com/SRV=1 443 sip.contoso.com", "_sip._tls.contoso.com/SRV=1 443 sip.contoso.com", "must be"},
		{"SRV five fields", "_sip._tls.contoso.com/SRV=1 1 1 443 sip.contoso.com", "_sip._tls.contoso.com/SRV=1 1 1 443 sip.contoso.com", "must be"},
		{"SRV port > 65535", "_sip._tls.contoso.com/SRV=65536 sip.contoso.com", "_sip._tls.contoso.com/SRV=65536 sip.contoso.com", `"65536" is not a number from 0 to 65535`},
		{"SRV priority not a number", "_sip._tls.contoso.com/SRV=high 1 443 sip.contoso.com", "_sip._tls.contoso.com/SRV=high 1 443 sip.contoso.com", `"high" is not a number`},
		{"SRV negative weight", "_sip._tls.contoso.com/SRV=0 -1 443 sip.contoso.com", "_sip._tls.contoso.com/SRV=0 -1 443 sip.contoso.com", `"-1" is not a number`},
		{"CNAME with space", "sip.contoso.com/CNAME=sipdir online", "sip.contoso.com/CNAME=sipdir online", "is not a host name"},
		{"absent with a value", "sip.contoso.com/A=absent|10.0.0.1", "sip.contoso.com/A=absent|10.0.0.1", `"absent" cannot be combined`},
		{"value then absent", "sip.contoso.com/A=10.0.0.1|absent", "sip.contoso.com/A=10.0.0.1|absent", `"absent" cannot be combined`},
		{"absent and present", "sip.contoso.com/A=absent|present", "sip.contoso.com/A=absent|present", `"absent" cannot be combined`},
		{"empty resolver", "@sip.contoso.com/A=10.0.0.1", "@sip.contoso.com/A=10.0.0.1", "empty resolver"},
		{"blank resolver", " \t@sip.contoso.com/A=10.0.0.1", "@sip.contoso.com/A=10.0.0.1", "empty resolver"},
		{"empty name", "/A=10.0.0.1", "/A=10.0.0.1", "empty record name"},
		{"dot as name", "internal@./A=10.0.0.1", "internal@./A=10.0.0.1", "empty record name"},
		{"empty value", "sip.contoso.com/A=", "sip.contoso.com/A=", "empty value"},
		{"empty value among several", "sip.contoso.com/A=10.0.0.1||10.0.0.2", "sip.contoso.com/A=10.0.0.1||10.0.0.2", "empty value"},
		{"bad item after a good one", "sip.contoso.com/A=10.0.0.1, lyncdiscover.contoso.com/A=nope", "lyncdiscover.contoso.com/A=nope", `"nope" is not an IPv4 address`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseExpectations(tc.in)
			if err == nil {
				t.Fatalf("ParseExpectations(%q) = %#v, want an error", tc.in, got)
			}
			if got != nil {
				t.Errorf("a failed parse returned expectations %#v", got)
			}
			msg := err.Error()
			if !strings.Contains(msg, strconv.Quote(tc.item)) {
				t.Errorf("error %q does not quote the offending item %q", msg, tc.item)
			}
			if !strings.Contains(msg, tc.why) {
				t.Errorf("error %q does not say %q", msg, tc.why)
			}
			if !strings.Contains(msg, ExpectSyntax) {
				t.Errorf("error %q does not show the syntax", msg)
			}
		})
	}
}

func TestRuleFrom(t *testing.T) {
	t.Parallel()
	internalTLS := Rule{Required: true, NotOnline: true, Port: 5061, TargetInDomain: true, Source: "deployment onprem"}
	lyncdiscover := Rule{Required: true, NotOnline: true, Source: "deployment onprem"}
	online := Rule{Required: true, Values: []string{"cname:webdir.online.lync.com"}, Source: "deployment online, worldwide"}
	tests := []struct {
		name string
		e    Expectation
		mode Rule
		want Rule
	}{
		{"values replace the mode's, keep structure", Expectation{Values: []string{"srv:5061 pool01.contoso.com"}}, internalTLS,
			Rule{Required: true, Values: []string{"srv:5061 pool01.contoso.com"}, Port: 5061, TargetInDomain: true, Source: "SFBEX_DNS_EXPECT"}},
		{"values replace mode values", Expectation{Values: []string{"cname:lync.contoso.com"}}, online,
			Rule{Required: true, Values: []string{"cname:lync.contoso.com"}, Source: "SFBEX_DNS_EXPECT"}},
		{"absent drops everything", Expectation{Absent: true}, internalTLS,
			Rule{Absent: true, Source: "SFBEX_DNS_EXPECT"}},
		{"absent over online values", Expectation{Absent: true}, online,
			Rule{Absent: true, Source: "SFBEX_DNS_EXPECT"}},
		{"present keeps not-online", Expectation{Present: true}, Rule{NotOnline: true, Source: "deployment onprem"},
			Rule{Required: true, NotOnline: true, Source: "SFBEX_DNS_EXPECT"}},
		{"present keeps port", Expectation{Present: true}, Rule{Port: 443, Source: "MS-OXDISCO"},
			Rule{Required: true, Port: 443, Source: "SFBEX_DNS_EXPECT"}},
		{"present drops online values", Expectation{Present: true}, online,
			Rule{Required: true, Source: "SFBEX_DNS_EXPECT"}},
		{"present with values", Expectation{Present: true, Values: []string{"a:10.0.0.1"}}, lyncdiscover,
			Rule{Required: true, Values: []string{"a:10.0.0.1"}, Source: "SFBEX_DNS_EXPECT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ruleFrom(tc.e, tc.mode); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ruleFrom\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	t.Parallel()
	recA := Record{Name: RecLyncdiscover, FQDN: "lyncdiscover.contoso.com.", Type: mdns.TypeA, Lync: true, Domain: "contoso.com"}
	recSRV := Record{Name: RecSIPInternalTLS, FQDN: "_sipinternaltls._tcp.contoso.com.", Type: mdns.TypeSRV, Lync: true, Domain: "contoso.com"}
	webdir := &Answer{Outcome: NoError, CNAMEs: []string{"webdir.online.lync.com"}, Addresses: []string{"52.112.0.1"}}
	webext := &Answer{Outcome: NoError, CNAMEs: []string{"webext.contoso.com"}, Addresses: []string{"192.0.2.20"}}
	nx := &Answer{Outcome: NXDomain}
	nodata := &Answer{Outcome: NoData}
	srv := func(port uint16, targets ...string) *Answer {
		a := &Answer{Outcome: NoError}
		for _, t := range targets {
			a.SRVs = append(a.SRVs, SRV{Port: port, Target: t, Addresses: []string{"10.0.0.1"}})
		}
		return a
	}
	type want struct {
		sev  probes.Severity
		frag string
	}
	tests := []struct {
		name string
		rec  Record
		rule Rule
		a    *Answer
		want []want
	}{
		{"empty rule", recA, Rule{}, webdir, nil},
		{"absent and absent", recA, Rule{Absent: true}, nx, nil},
		{"absent and nodata", recA, Rule{Absent: true}, nodata, nil},
		{"absent but present", recA, Rule{Absent: true, Source: "deployment online, worldwide"}, webext,
			[]want{{probes.Critical, "exists (CNAME webext.contoso.com, A 192.0.2.20) but must not (deployment online, worldwide)"}}},
		{"required and missing", recA, Rule{Required: true, Source: "deployment onprem"}, nx,
			[]want{{probes.Critical, "is missing: does not exist (NXDOMAIN) (required by deployment onprem)"}}},
		{"required and nodata", recA, Rule{Required: true, Source: "x"}, nodata, []want{{probes.Critical, "is missing"}}},
		{"required, values, missing: one finding", recA, Rule{Required: true, Values: []string{"cname:webdir.online.lync.com"}}, nx,
			[]want{{probes.Critical, "is missing"}}},
		{"optional and missing", recA, Rule{NotOnline: true, Port: 443}, nx, nil},
		{"value matches", recA, Rule{Required: true, Values: []string{"cname:webdir.online.lync.com"}}, webdir, nil},
		{"value matches an address", recA, Rule{Values: []string{"a:10.9.9.9", "a:52.112.0.1"}}, webdir, nil},
		{"value differs", recA, Rule{Required: true, Values: []string{"cname:webdir.online.lync.com"}, Source: "deployment online, worldwide"}, webext,
			[]want{{probes.Critical, "points to CNAME webext.contoso.com, A 192.0.2.20, expected cname:webdir.online.lync.com (deployment online, worldwide)"}}},
		{"not online and online", recA, Rule{NotOnline: true, Source: "deployment onprem"}, webdir,
			[]want{{probes.Critical, "points to Microsoft 365 (CNAME webdir.online.lync.com, A 52.112.0.1) but the deployment is onprem"}}},
		{"not online and onprem", recA, Rule{NotOnline: true}, webext, nil},
		{"SRV port ok", recSRV, Rule{Port: 5061}, srv(5061, "pool01.contoso.com"), nil},
		{"SRV port wrong, per record", recSRV, Rule{Port: 5061}, srv(443, "pool01.contoso.com", "pool02.contoso.com"),
			[]want{{probes.Warning, "pool01.contoso.com uses port 443; clients expect 5061"}, {probes.Warning, "pool02.contoso.com uses port 443"}}},
		{"SRV target in domain", recSRV, Rule{TargetInDomain: true}, srv(5061, "pool01.contoso.com", "contoso.com"), nil},
		{"SRV target outside the domain", recSRV, Rule{TargetInDomain: true}, srv(5061, "pool01.fabrikam.com"),
			[]want{{probes.Warning, "SRV target pool01.fabrikam.com is outside the SIP domain contoso.com"}}},
		{"SRV target only ends like the domain", recSRV, Rule{TargetInDomain: true}, srv(5061, "poolcontoso.com"),
			[]want{{probes.Warning, "poolcontoso.com is outside the SIP domain"}}},
		{"dangling target", recA, Rule{}, &Answer{Outcome: NoError, CNAMEs: []string{"gone.contoso.com"}, Detail: "CNAME target gone.contoso.com does not exist"},
			[]want{{probes.Warning, "CNAME target gone.contoso.com does not exist"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs := judge(tc.rec, tc.rule, tc.a)
			if len(vs) != len(tc.want) {
				t.Fatalf("%d violations %+v, want %d", len(vs), vs, len(tc.want))
			}
			for i, w := range tc.want {
				if vs[i].severity != w.sev || !strings.Contains(vs[i].problem, w.frag) {
					t.Errorf("violation %d = %s %q, want %s containing %q", i, vs[i].severity, vs[i].problem, w.sev, w.frag)
				}
				if vs[i].fix == "" {
					t.Errorf("violation %d has no fix", i)
				}
			}
		})
	}
}

// TestExpectationOverridesMode runs the probe with SFBEX_DNS_EXPECT
// entries against a mode that asks something else.
func TestExpectationOverridesMode(t *testing.T) {
	t.Parallel()
	internal := newFakeResolver(t,
		"lyncdiscoverinternal.contoso.com. IN CNAME pool01.contoso.com.",
		"pool01.contoso.com. IN A 10.0.0.10",
		"_sipinternaltls._tcp.contoso.com. IN SRV 0 0 5061 pool01.contoso.com.",
	)
	external := newFakeResolver(t,
		"lyncdiscover.contoso.com. IN CNAME webext.contoso.com.",
		"webext.contoso.com. IN A 192.0.2.20",
	)
	exp, err := ParseExpectations(
		// The internal record is being retired: it must be gone now.
		"internal@lyncdiscoverinternal.contoso.com/A=absent," +
			// Only through the external resolver, and a CNAME the mode knows nothing of.
			"external@lyncdiscover.contoso.com/CNAME=webext2.contoso.com," +
			// For another domain: ignored.
			"lyncdiscover.fabrikam.com/A=absent")
	if err != nil {
		t.Fatal(err)
	}
	p := newTestProber(t, Config{
		Domain: "contoso.com", SIP: true, Lync: estate.OnPrem, Exchange: estate.OnPrem,
		Resolvers: []estate.Resolver{resolverFor("internal", internal, true), resolverFor("external", external, false)},
		Expect:    exp,
		Skip:      skipAllBut(RecLyncdiscoverInternal, RecLyncdiscover),
	})
	res, _ := probeOnce(t, p)

	rInt := res.record(t, RecLyncdiscoverInternal, "internal")
	if !rInt.Rule.Absent || rInt.Rule.Source != "SFBEX_DNS_EXPECT" || rInt.Expected == nil || *rInt.Expected {
		t.Errorf("internal lyncdiscoverinternal: rule %+v expected %v, want an absent rule that fails", rInt.Rule, ptrStr(rInt.Expected))
	}
	res.wantFinding(t, probes.Critical, "lyncdiscoverinternal.contoso.com A (resolver internal)", "must not")
	// Through the external resolver the mode's rule stands: not required there.
	if rExt := res.record(t, RecLyncdiscoverInternal, "external"); rExt.Rule.Absent || rExt.Rule.Required || rExt.Rule.Source == "SFBEX_DNS_EXPECT" {
		t.Errorf("external lyncdiscoverinternal: a resolver-scoped expectation leaked: %+v", rExt.Rule)
	}

	lExt := res.record(t, RecLyncdiscover, "external")
	if lExt.Expected == nil || *lExt.Expected {
		t.Errorf("external lyncdiscover: expected %v, want false (webext, not webext2)", ptrStr(lExt.Expected))
	}
	res.wantFinding(t, probes.Critical, "lyncdiscover.contoso.com A (resolver external)", "expected cname:webext2.contoso.com (SFBEX_DNS_EXPECT)")
	// Internal lyncdiscover keeps the mode rule: optional, so no finding.
	if lInt := res.record(t, RecLyncdiscover, "internal"); lInt.Rule.Required || lInt.Rule.Source != "deployment onprem" {
		t.Errorf("internal lyncdiscover rule %+v, want the mode's", lInt.Rule)
	}
	if n := len(res.Findings()); n != 2 {
		t.Errorf("%d findings, want 2: %v", n, res.Findings())
	}

	// The admin corrects the record: the expectation now holds.
	external.set(t,
		"lyncdiscover.contoso.com. IN CNAME webext2.contoso.com.",
		"webext2.contoso.com. IN A 192.0.2.21",
	)
	internal.set(t, "pool01.contoso.com. IN A 10.0.0.10")
	res, err = probeOnce(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if fs := res.Findings(); len(fs) != 0 {
		t.Errorf("findings after the fix: %v", fs)
	}
	for _, rr := range res.Records {
		if rr.Rule.Source == "SFBEX_DNS_EXPECT" && (rr.Expected == nil || !*rr.Expected) {
			t.Errorf("%s via %s: expected %v, want true", rr.Record, rr.Resolver, ptrStr(rr.Expected))
		}
	}
}

func ptrStr(b *bool) string {
	if b == nil {
		return "nil"
	}
	return strconv.FormatBool(*b)
}
