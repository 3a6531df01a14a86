package dns

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	mdns "github.com/miekg/dns"
)

func TestFingerprintIgnoresOrderAndTTL(t *testing.T) {
	t.Parallel()
	one := newFakeResolver(t,
		"sip.contoso.com. 300 IN A 192.0.2.1",
		"sip.contoso.com. 300 IN A 192.0.2.10",
		"sip.contoso.com. 300 IN A 192.0.2.9",
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 10 50 5061 edge1.contoso.com.",
		"_sipfederationtls._tcp.contoso.com. 300 IN SRV 20 0 5061 edge2.contoso.com.",
		"edge1.contoso.com. 300 IN A 192.0.2.1",
		"edge2.contoso.com. 300 IN A 192.0.2.2",
	)
	// Same data, other order, other TTLs, other case, and SRV targets that
	// resolve elsewhere (their own A records are checked as records).
	two := newFakeResolver(t,
		"sip.contoso.com. 5 IN A 192.0.2.9",
		"SIP.contoso.com. 86400 IN A 192.0.2.1",
		"sip.contoso.com. 60 IN A 192.0.2.10",
		"_sipfederationtls._tcp.contoso.com. 1 IN SRV 20 0 5061 EDGE2.contoso.com.",
		"_sipfederationtls._tcp.contoso.com. 7200 IN SRV 10 50 5061 edge1.contoso.com.",
		"edge1.contoso.com. 300 IN A 198.51.100.1",
		"edge2.contoso.com. 300 IN A 198.51.100.2",
	)
	for _, q := range []struct {
		name  string
		qtype uint16
	}{{"sip.contoso.com", mdns.TypeA}, {"_sipfederationtls._tcp.contoso.com", mdns.TypeSRV}} {
		a, b := lookupWith(t, one, q.name, q.qtype), lookupWith(t, two, q.name, q.qtype)
		if a.Outcome != NoError || b.Outcome != NoError {
			t.Fatalf("%s: outcomes %q, %q", q.name, a.Outcome, b.Outcome)
		}
		if a.Fingerprint() != b.Fingerprint() {
			t.Errorf("%s: fingerprints %d and %d differ for the same data (%s / %s)", q.name, a.Fingerprint(), b.Fingerprint(), a.Summary(), b.Summary())
		}
		if a.Summary() != b.Summary() {
			t.Errorf("%s: summaries differ: %q / %q", q.name, a.Summary(), b.Summary())
		}
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	base := Answer{Outcome: NoError, Addresses: []string{"192.0.2.1", "192.0.2.2"}}
	srv := Answer{Outcome: NoError, SRVs: []SRV{{Priority: 0, Weight: 0, Port: 5061, Target: "sip.contoso.com", Addresses: []string{"192.0.2.1"}}}}
	cname := Answer{Outcome: NoError, CNAMEs: []string{"webdir.online.lync.com"}, Addresses: []string{"52.112.0.1"}}
	differ := map[string][2]Answer{
		"address":        {base, {Outcome: NoError, Addresses: []string{"192.0.2.1", "192.0.2.3"}}},
		"address added":  {base, {Outcome: NoError, Addresses: []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}}},
		"address gone":   {base, {Outcome: NoError, Addresses: []string{"192.0.2.1"}}},
		"cname target":   {cname, {Outcome: NoError, CNAMEs: []string{"webext.contoso.com"}, Addresses: []string{"52.112.0.1"}}},
		"cname vs plain": {cname, {Outcome: NoError, Addresses: []string{"52.112.0.1"}}},
		"srv port":       {srv, {Outcome: NoError, SRVs: []SRV{{Port: 443, Target: "sip.contoso.com"}}}},
		"srv priority":   {srv, {Outcome: NoError, SRVs: []SRV{{Priority: 10, Port: 5061, Target: "sip.contoso.com"}}}},
		"srv weight":     {srv, {Outcome: NoError, SRVs: []SRV{{Weight: 1, Port: 5061, Target: "sip.contoso.com"}}}},
		"srv target":     {srv, {Outcome: NoError, SRVs: []SRV{{Port: 5061, Target: "sip2.contoso.com"}}}},
		"present/absent": {base, {Outcome: NXDomain}},
	}
	for name, p := range differ {
		if p[0].Fingerprint() == p[1].Fingerprint() {
			t.Errorf("%s: %s and %s share fingerprint %d", name, p[0].Summary(), p[1].Summary(), p[0].Fingerprint())
		}
	}
	same := map[string][2]Answer{
		// The addresses behind an alias belong to its target (Microsoft 365's
		// rotate): the record itself did not change. Dangling targets show in
		// sfbex_dns_answer_addresses and a finding instead.
		"addresses behind a cname": {cname, {Outcome: NoError, CNAMEs: []string{"webdir.online.lync.com"}, Addresses: []string{"52.112.0.9", "52.112.0.10"}}},
		"dangling/full":            {{Outcome: NoError, CNAMEs: []string{"gone.contoso.com"}}, {Outcome: NoError, CNAMEs: []string{"gone.contoso.com"}, Addresses: []string{"192.0.2.1"}}},
		"srv target addresses":     {srv, {Outcome: NoError, SRVs: []SRV{{Port: 5061, Target: "sip.contoso.com", Addresses: []string{"198.51.100.7"}}}}},
		"detail, timing, tcp":      {base, {Outcome: NoError, Addresses: []string{"192.0.2.1", "192.0.2.2"}, TCP: true, Duration: 5, Detail: "x"}},
	}
	for name, p := range same {
		if p[0].Fingerprint() != p[1].Fingerprint() {
			t.Errorf("%s: fingerprints differ", name)
		}
	}
	for _, o := range Outcomes {
		if o == NoError {
			continue
		}
		// Whatever data a non-answer carries, it has no fingerprint.
		a := Answer{Outcome: o, Addresses: []string{"192.0.2.1"}, CNAMEs: []string{"x.contoso.com"}}
		if fp := a.Fingerprint(); fp != 0 {
			t.Errorf("%s: fingerprint %d, want 0", o, fp)
		}
	}
	if fp := (&Answer{Outcome: NoError}).Fingerprint(); fp == 0 {
		t.Error("an empty but present answer has fingerprint 0, the absent value")
	}
}

func TestFingerprintFitsFloat64(t *testing.T) {
	t.Parallel()
	var high bool
	for i := range 2000 {
		a := Answer{Outcome: NoError, Addresses: []string{fmt.Sprintf("10.%d.%d.1", i/256, i%256)}}
		if i%2 == 1 {
			a = Answer{Outcome: NoError, CNAMEs: []string{fmt.Sprintf("host%d.contoso.com", i)}}
		}
		fp := a.Fingerprint()
		if fp >= 1<<52 {
			t.Fatalf("fingerprint %#x of %s needs more than 52 bits", fp, a.Summary())
		}
		if uint64(float64(fp)) != fp {
			t.Fatalf("fingerprint %d is not exact as float64", fp)
		}
		high = high || fp >= 1<<51
	}
	if !high {
		t.Error("no fingerprint in 2000 uses bit 51: the hash is cut shorter than 52 bits")
	}
}

func TestAnswerValuesAndSummary(t *testing.T) {
	t.Parallel()
	a := Answer{Outcome: NoError, CNAMEs: []string{"webext.contoso.com"}, Addresses: []string{"192.0.2.1", "192.0.2.2"}}
	if got, want := a.Values(), []string{"cname:webext.contoso.com", "a:192.0.2.1", "a:192.0.2.2"}; !slices.Equal(got, want) {
		t.Errorf("Values %v, want %v", got, want)
	}
	if got, want := a.Summary(), "CNAME webext.contoso.com, A 192.0.2.1 192.0.2.2"; got != want {
		t.Errorf("Summary %q, want %q", got, want)
	}
	s := Answer{Outcome: NoError, SRVs: []SRV{{Priority: 100, Weight: 1, Port: 443, Target: "sipdir.online.lync.com"}}}
	if got, want := s.Values(), []string{"srv:100 1 443 sipdir.online.lync.com", "srv:443 sipdir.online.lync.com"}; !slices.Equal(got, want) {
		t.Errorf("Values %v, want %v", got, want)
	}
	if got, want := s.Summary(), "SRV 100 1 443 sipdir.online.lync.com"; got != want {
		t.Errorf("Summary %q, want %q", got, want)
	}
	for _, c := range []struct {
		a    Answer
		want string
	}{
		{Answer{Outcome: NXDomain}, "does not exist (NXDOMAIN)"},
		{Answer{Outcome: NoData}, "no record of this type (NODATA)"},
		{Answer{Outcome: Timeout, Detail: "resolver x gave no answer"}, "timeout: resolver x gave no answer"},
		{Answer{Outcome: NoError}, "exists, with no usable data"},
	} {
		if got := c.a.Summary(); got != c.want {
			t.Errorf("Summary of %s = %q, want %q", c.a.Outcome, got, c.want)
		}
	}
}

func TestAnswerSide(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		a    Answer
		want string
	}{
		{Answer{Outcome: NoError, CNAMEs: []string{"webdir.online.lync.com"}}, "online"},
		{Answer{Outcome: NoError, CNAMEs: []string{"lync.contoso.com", "webdir.online.skype.de"}}, "online"},
		{Answer{Outcome: NoError, SRVs: []SRV{{Port: 5061, Target: "sipfed.online.lync.com"}}}, "online"},
		{Answer{Outcome: NoError, CNAMEs: []string{"autodiscover.outlook.com"}}, "online"},
		{Answer{Outcome: NoError, Addresses: []string{"52.112.0.1"}}, "onprem"},
		{Answer{Outcome: NoError, CNAMEs: []string{"webext.contoso.com"}}, "onprem"},
		{Answer{Outcome: NoError, SRVs: []SRV{{Port: 5061, Target: "sip.contoso.com"}}}, "onprem"},
		{Answer{Outcome: NoError, CNAMEs: []string{"notonline.lync.com"}}, "onprem"},
		{Answer{Outcome: NXDomain}, ""},
		{Answer{Outcome: Timeout, CNAMEs: []string{"webdir.online.lync.com"}}, ""},
	} {
		if got := c.a.Side(); got != c.want {
			t.Errorf("Side of %s = %q, want %q", c.a.Summary(), got, c.want)
		}
	}
}

func TestSortAddressesNumerically(t *testing.T) {
	t.Parallel()
	a := []string{"10.0.0.10", "10.0.0.9", "9.255.255.255", "10.0.0.1"}
	sortAddresses(a)
	if want := []string{"9.255.255.255", "10.0.0.1", "10.0.0.9", "10.0.0.10"}; !slices.Equal(a, want) {
		t.Errorf("sorted %v, want %v", a, want)
	}
}

func TestAnswerJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Answer{Outcome: NXDomain})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["outcome"] != "nxdomain" {
		t.Errorf("outcome in JSON: %v", m["outcome"])
	}
	for _, k := range []string{"detail", "cnames", "addresses", "srv", "tcp"} {
		if _, ok := m[k]; ok {
			t.Errorf("empty %q is not omitted: %s", k, b)
		}
	}
}
