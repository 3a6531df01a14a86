package dns

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseExpectations: SFBEX_DNS_EXPECT comes from an admin; no input
// may panic, and whatever parses must be usable by the prober.
func FuzzParseExpectations(f *testing.F) {
	for _, s := range []string{
		"",
		"sip.contoso.com/CNAME=sipdir.online.lync.com",
		"internal@lyncdiscoverinternal.contoso.com/A=10.0.0.5|10.0.0.6",
		"_sip._tls.contoso.com/SRV=100 1 443 sipdir.online.lync.com.,_x._tcp.contoso.com/srv=443 .",
		"lyncdiscoverinternal.contoso.com/A=absent",
		"x/A=absent|present",
		"@x/A=1.2.3.4",
		"x/SRV=70000 y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ParseExpectations(s)
		if err != nil {
			if es != nil {
				t.Errorf("error %v with expectations %#v", err, es)
			}
			return
		}
		for _, e := range es {
			if e.Name == "" {
				t.Errorf("%q: expectation with an empty name: %#v", s, e)
			}
			prefix := map[string]string{"A": "a:", "CNAME": "cname:", "SRV": "srv:"}[e.Type]
			if prefix == "" {
				t.Fatalf("%q: expectation with type %q", s, e.Type)
			}
			if e.Absent && (e.Present || len(e.Values) > 0) {
				t.Errorf("%q: absent combined with other values: %#v", s, e)
			}
			if !e.Absent && !e.Present && len(e.Values) == 0 {
				t.Errorf("%q: expectation that asks nothing: %#v", s, e)
			}
			if e.Resolver != strings.TrimSpace(e.Resolver) || !strings.Contains(s, "@") && e.Resolver != "" {
				t.Errorf("%q: resolver %q", s, e.Resolver)
			}
			for _, v := range e.Values {
				rest, ok := strings.CutPrefix(v, prefix)
				if !ok {
					t.Errorf("%q: %s value %q lacks %q", s, e.Type, v, prefix)
					continue
				}
				switch e.Type {
				case "A":
					if ip, err := netip.ParseAddr(rest); err != nil || !ip.Is4() || ip.String() != rest {
						t.Errorf("%q: A value %q is not a canonical IPv4 address", s, v)
					}
				case "SRV":
					fs := strings.Split(rest, " ")
					if len(fs) != 2 && len(fs) != 4 {
						t.Errorf("%q: SRV value %q has %d fields", s, v, len(fs))
						continue
					}
					for _, n := range fs[:len(fs)-1] {
						if _, err := strconv.ParseUint(n, 10, 16); err != nil {
							t.Errorf("%q: SRV value %q has a bad number %q", s, v, n)
						}
					}
				}
			}
		}
	})
}
