package dns

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

func TestDomainRecords(t *testing.T) {
	t.Parallel()
	type rec struct {
		name, fqdn, typ string
		lync            bool
	}
	sipRecs := []rec{
		{RecLyncdiscoverInternal, "lyncdiscoverinternal.contoso.com.", "A", true},
		{RecLyncdiscover, "lyncdiscover.contoso.com.", "A", true},
		{RecSIPInternalTLS, "_sipinternaltls._tcp.contoso.com.", "SRV", true},
		{RecSIPTLS, "_sip._tls.contoso.com.", "SRV", true},
		{RecSIP, "sip.contoso.com.", "A", true},
		{RecSIPFederationTLS, "_sipfederationtls._tcp.contoso.com.", "SRV", true},
	}
	emailRecs := []rec{
		{RecAutodiscover, "autodiscover.contoso.com.", "A", false},
		{RecAutodiscoverSRV, "_autodiscover._tcp.contoso.com.", "SRV", false},
	}
	tests := []struct {
		name       string
		domain     string
		sip, email bool
		skip       map[string]bool
		want       []rec
	}{
		{"sip only", "contoso.com", true, false, nil, sipRecs},
		{"email only", "contoso.com", false, true, nil, emailRecs},
		{"both, in client lookup order", "contoso.com", true, true, nil, append(slices.Clone(sipRecs), emailRecs...)},
		{"neither", "contoso.com", false, false, nil, nil},
		{"case and trailing dot", "Contoso.COM.", false, true, nil, emailRecs},
		{"skip", "contoso.com", true, true, map[string]bool{RecLyncdiscoverInternal: true, RecAutodiscoverSRV: true, "unknown": true},
			append(slices.Clone(sipRecs[1:]), emailRecs[0])},
		{"skip everything", "contoso.com", true, true, skipAllBut(), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DomainRecords(tc.domain, tc.sip, tc.email, tc.skip)
			if len(got) != len(tc.want) {
				t.Fatalf("%d records %v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Name != w.name || g.FQDN != w.fqdn || g.TypeName() != w.typ || g.Lync != w.lync || g.Domain != "contoso.com" {
					t.Errorf("record %d = %+v (%s), want %+v", i, g, g.TypeName(), w)
				}
				if want := strings.TrimSuffix(w.fqdn, ".") + " " + w.typ; g.String() != want {
					t.Errorf("String() = %q, want %q", g.String(), want)
				}
			}
		})
	}
	// Every record the probe knows is in AllRecords, and the other way round.
	var names []string
	for _, r := range DomainRecords("contoso.com", true, true, nil) {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, AllRecords) {
		t.Errorf("DomainRecords names %v, AllRecords %v", names, AllRecords)
	}
}

func TestModeRule(t *testing.T) {
	t.Parallel()
	recs := map[string]Record{}
	for _, r := range DomainRecords("contoso.com", true, true, nil) {
		recs[r.Name] = r
	}
	type key struct {
		rec      string
		internal bool
	}
	onprem := map[key]Rule{
		{RecLyncdiscoverInternal, true}:  {Required: true, NotOnline: true},
		{RecLyncdiscoverInternal, false}: {NotOnline: true},
		{RecSIPInternalTLS, true}:        {Required: true, NotOnline: true, Port: 5061, TargetInDomain: true},
		{RecSIPInternalTLS, false}:       {NotOnline: true, Port: 5061, TargetInDomain: true},
		{RecLyncdiscover, true}:          {NotOnline: true},
		{RecLyncdiscover, false}:         {Required: true, NotOnline: true},
		{RecSIP, false}:                  {Required: true, NotOnline: true},
		{RecSIPTLS, true}:                {NotOnline: true, Port: 443},
		{RecSIPTLS, false}:               {Required: true, NotOnline: true, Port: 443},
		{RecSIPFederationTLS, false}:     {Required: true, NotOnline: true, Port: 5061},
		{RecAutodiscover, true}:          {NotOnline: true},
		{RecAutodiscover, false}:         {Required: true, NotOnline: true},
		{RecAutodiscoverSRV, false}:      {Port: 443},
	}
	for k, want := range onprem {
		for _, lync := range []estate.Mode{estate.OnPrem, estate.Hybrid} {
			got := ModeRule(recs[k.rec], lync, estate.OnPrem, estate.Worldwide, k.internal)
			got.Source = ""
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s internal=%v: %+v, want %+v", lync, k.rec, k.internal, got, want)
			}
		}
	}
	clouds := map[estate.Cloud][3]string{
		estate.Worldwide: {"cname:webdir.online.lync.com", "srv:100 1 443 sipdir.online.lync.com", "cname:autodiscover.outlook.com"},
		estate.GCCHigh:   {"cname:webdir.online.gov.skypeforbusiness.us", "srv:100 1 443 sipdir.online.gov.skypeforbusiness.us", "cname:autodiscover.office365.us"},
		estate.DoD:       {"cname:webdir.online.dod.skypeforbusiness.us", "srv:100 1 443 sipdir.online.dod.skypeforbusiness.us", "cname:autodiscover-dod.office365.us"},
		estate.China:     {"cname:webdir.online.partner.lync.cn", "srv:100 1 443 sipdir.online.partner.lync.cn", "cname:autodiscover.partner.outlook.cn"},
	}
	for cloud, want := range clouds {
		for _, internal := range []bool{true, false} {
			if r := ModeRule(recs[RecLyncdiscover], estate.Online, estate.Online, cloud, internal); !r.Required || !slices.Equal(r.Values, want[:1]) {
				t.Errorf("%s lyncdiscover: %+v", cloud, r)
			}
			if r := ModeRule(recs[RecSIPTLS], estate.Online, estate.Online, cloud, internal); !r.Required || !slices.Equal(r.Values, want[1:2]) {
				t.Errorf("%s _sip._tls: %+v", cloud, r)
			}
			if r := ModeRule(recs[RecAutodiscover], estate.Online, estate.Online, cloud, internal); !r.Required || !slices.Equal(r.Values, want[2:]) {
				t.Errorf("%s autodiscover: %+v", cloud, r)
			}
			for _, leftover := range []string{RecLyncdiscoverInternal, RecSIPInternalTLS} {
				if r := ModeRule(recs[leftover], estate.Online, estate.Online, cloud, internal); !r.Absent || r.Required {
					t.Errorf("%s %s online: %+v, want absent", cloud, leftover, r)
				}
			}
		}
	}
	// The sides are independent: Skype online, Exchange on-premises.
	if r := ModeRule(recs[RecAutodiscover], estate.Online, estate.OnPrem, estate.Worldwide, false); len(r.Values) != 0 || !r.NotOnline || !r.Required {
		t.Errorf("autodiscover, exchange onprem: %+v", r)
	}
	if r := ModeRule(recs[RecSIP], estate.OnPrem, estate.Online, estate.Worldwide, false); len(r.Values) != 0 || !r.NotOnline {
		t.Errorf("sip, lync onprem: %+v", r)
	}
	for _, k := range []string{RecSIP, RecAutodiscover} {
		if r := ModeRule(recs[k], estate.Online, estate.Online, estate.Worldwide, false); r.Source == "" || r.Empty() {
			t.Errorf("%s: rule %+v has no source or asks nothing", k, r)
		}
	}
}

func TestDefaultAgreeRecords(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		lync, exchange estate.Mode
		want           []string
	}{
		{estate.OnPrem, estate.OnPrem, []string{RecSIPFederationTLS}},
		{estate.Hybrid, estate.OnPrem, []string{RecSIPFederationTLS}},
		{estate.OnPrem, estate.Online, []string{RecSIPFederationTLS, RecAutodiscover}},
		{estate.Online, estate.Online, []string{RecLyncdiscover, RecSIP, RecSIPTLS, RecSIPFederationTLS, RecAutodiscover}},
	} {
		if got := DefaultAgreeRecords(c.lync, c.exchange); !slices.Equal(got, c.want) {
			t.Errorf("DefaultAgreeRecords(%s, %s) = %v, want %v", c.lync, c.exchange, got, c.want)
		}
	}
}

func TestRuleEmpty(t *testing.T) {
	t.Parallel()
	if !(Rule{Source: "x"}).Empty() {
		t.Error("a rule with only a source is not empty")
	}
	for _, r := range []Rule{{Required: true}, {Absent: true}, {Values: []string{"a:1.2.3.4"}}, {NotOnline: true}, {Port: 443}, {TargetInDomain: true}} {
		if r.Empty() {
			t.Errorf("%+v is empty", r)
		}
	}
	if (Record{Type: mdns.TypeSRV}).TypeName() != "SRV" {
		t.Error("TypeName")
	}
}

// A Teams-only tenant's records, as Learn "decommission: manage DNS
// entries" lists them, per cloud; sip and _sip._tls optional only when
// SFBEX_DNS_TEAMSONLY_SIP_RECORDS=optional, their target still judged.
func TestTeamsOnlyRules(t *testing.T) {
	t.Parallel()
	recs := map[string]Record{}
	for _, r := range DomainRecords("contoso.com", true, true, nil) {
		recs[r.Name] = r
	}
	want := map[estate.Cloud]map[string]string{
		estate.Worldwide: {RecSIPFederationTLS: "srv:100 1 5061 sipfed.online.lync.com", RecSIPTLS: "srv:100 1 443 sipdir.online.lync.com",
			RecLyncdiscover: "cname:webdir.online.lync.com", RecSIP: "cname:sipdir.online.lync.com"},
		estate.GCCHigh: {RecSIPFederationTLS: "srv:100 1 5061 sipfed.online.gov.skypeforbusiness.us", RecSIPTLS: "srv:100 1 443 sipdir.online.gov.skypeforbusiness.us",
			RecLyncdiscover: "cname:webdir.online.gov.skypeforbusiness.us", RecSIP: "cname:sipdir.online.gov.skypeforbusiness.us"},
	}
	for cloud, w := range want {
		for _, internal := range []bool{true, false} {
			for name, value := range w {
				r := ModeRule(recs[name], estate.TeamsOnly, estate.Online, cloud, internal)
				if !r.Required || !slices.Equal(r.Values, []string{value}) || !strings.Contains(r.Source, "decommission") {
					t.Errorf("%s %s internal=%v: %+v", cloud, name, internal, r)
				}
				for _, setting := range []string{"", TeamsOnlySIPRequired, TeamsOnlySIPOptional} {
					got := TeamsOnlySIP(recs[name], estate.TeamsOnly, r, setting)
					optional := setting == TeamsOnlySIPOptional && (name == RecSIP || name == RecSIPTLS)
					if got.Required == optional || !slices.Equal(got.Values, r.Values) {
						t.Errorf("%s %s %q: %+v", cloud, name, setting, got)
					}
				}
			}
			for _, leftover := range []string{RecLyncdiscoverInternal, RecSIPInternalTLS} {
				if r := ModeRule(recs[leftover], estate.TeamsOnly, estate.Online, cloud, internal); !r.Absent {
					t.Errorf("%s %s teamsonly: %+v, want absent", cloud, leftover, r)
				}
			}
		}
	}
	// Only Teams-only is relaxed.
	r := ModeRule(recs[RecSIP], estate.Online, estate.Online, estate.Worldwide, false)
	if got := TeamsOnlySIP(recs[RecSIP], estate.Online, r, TeamsOnlySIPOptional); !got.Required {
		t.Errorf("online sip relaxed: %+v", got)
	}
	if a := DefaultAgreeRecords(estate.TeamsOnly, estate.Online); !slices.Contains(a, RecSIP) || !slices.Contains(a, RecAutodiscover) {
		t.Errorf("teamsonly agree records %v", a)
	}
}
