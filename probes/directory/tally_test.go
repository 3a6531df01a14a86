package directory

import (
	"fmt"
	"testing"
)

func TestParseSIP(t *testing.T) {
	for _, c := range []struct {
		in, addr, domain string
		ok               bool
	}{
		{"sip:Alice@Contoso.com", "alice@contoso.com", "contoso.com", true},
		{"SIP:bob@sub.contoso.com", "bob@sub.contoso.com", "sub.contoso.com", true},
		{"alice@contoso.com", "", "contoso.com", false},
		{"sip:alice smith@contoso.com", "", "contoso.com", false},
		{"sip:@contoso.com", "", "contoso.com", false},
		{"sip:alice@contoso", "", "contoso", false},
		{"sip:a@b@contoso.com", "", "contoso.com", false},
		{"sip:alice@-x.com", "", "-x.com", false},
		{"", "", "", false},
	} {
		addr, domain, ok := parseSIP(c.in)
		if addr != c.addr || domain != c.domain || ok != c.ok {
			t.Errorf("parseSIP(%q) = %q, %q, %v; want %q, %q, %v", c.in, addr, domain, ok, c.addr, c.domain, c.ok)
		}
	}
}

func TestTallyCountsEachCase(t *testing.T) {
	tl := newTally([]string{"contoso.com"}, 2)
	for _, u := range []user{
		{dn: "CN=ok", sip: "sip:ok@contoso.com", proxies: []string{"SMTP:ok@contoso.com", "SIP:OK@Contoso.com"}, mail: "ok@contoso.com", uac: "512", sipUserEnabled: "TRUE"},
		{dn: "CN=noproxy", sip: "sip:np@contoso.com", proxies: []string{"SMTP:np@contoso.com", "smtp:sip:np@contoso.com"}, mail: "np@contoso.com"},
		{dn: "CN=nomail", sip: "sip:nm@contoso.com", proxies: []string{"sip:nm@contoso.com"}},
		// secondary smtp: does not count as primary; mail does.
		{dn: "CN=mismatch", sip: "sip:mm@contoso.com", proxies: []string{"SIP:mm@contoso.com", "smtp:mm@contoso.com", "SMTP:other@contoso.com"}, mail: "other@contoso.com"},
		{dn: "CN=dup", sip: "sip:ok@contoso.com", proxies: []string{"SIP:ok@contoso.com"}, mail: "ok@contoso.com"},
		{dn: "CN=dup2", sip: "SIP:OK@contoso.com", proxies: []string{"SIP:ok@contoso.com"}, mail: "ok@contoso.com"},
		{dn: "CN=invalid", sip: "nm2@contoso.com", mail: "x@contoso.com"},
		{dn: "CN=sipoff", sip: "sip:off@contoso.com", sipUserEnabled: "FALSE"},
		{dn: "CN=disabled", sip: "sip:dis@contoso.com", uac: "514", sipUserEnabled: "TRUE"},
		{dn: "CN=fab", sip: "sip:x@fabrikam.com", proxies: []string{"SIP:x@fabrikam.com"}, mail: "x@fabrikam.com"},
	} {
		tl.add(&u)
	}
	got := *tl.domains["contoso.com"]
	want := DomainStats{Domain: "contoso.com", Users: 7, WithSIPProxy: 5, MissingMail: 1, Mismatch: 1, Invalid: 1, Duplicates: 1, SIPDisabled: 1, AccountDisabled: 1}
	if got != want {
		t.Errorf("contoso.com:\n got %+v\nwant %+v", got, want)
	}
	if o := *tl.domains[Other]; o.Users != 1 || o.WithSIPProxy != 1 {
		t.Errorf("other: %+v", o)
	}
	if tl.counts[KindDuplicate] != 2 || len(tl.samples[KindDuplicate]) != 2 {
		t.Errorf("duplicates: %d counted, %v sampled", tl.counts[KindDuplicate], tl.samples[KindDuplicate])
	}
}

// The duplicate check keeps one small entry per address, not the address.
func TestTallyMemoryIsBounded(t *testing.T) {
	tl := newTally([]string{"contoso.com"}, 10)
	for i := range 20000 {
		tl.add(&user{dn: fmt.Sprintf("CN=u%d", i), sip: fmt.Sprintf("sip:u%d@contoso.com", i)})
	}
	if len(tl.seen) != 20000 {
		t.Fatalf("seen = %d", len(tl.seen))
	}
	for k, s := range tl.samples {
		if len(s) > 10 {
			t.Errorf("%s: %d samples kept, want at most 10", k, len(s))
		}
	}
	if tl.counts[KindNoSIPProxy] != 20000 {
		t.Errorf("counted %d offenders", tl.counts[KindNoSIPProxy])
	}
}
