package httpprobe

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseChallenges: any pair of header values parses without panic
// into bounded, well-formed challenges that survive formatting and
// parsing again. Seeds: testdata/fuzz/FuzzParseChallenges.
func FuzzParseChallenges(f *testing.F) {
	f.Add(exchangeBearer, "Negotiate")
	f.Add(`MsRtcOAuth href=https://pool/WebTicket/oauthtoken,grant_type="a,b"`, "NTLM TlRMTVNTUAACAAAA==")
	f.Fuzz(func(t *testing.T, a, b string) {
		cs := ParseChallenges([]string{a, b})
		if len(cs) > maxChallenges {
			t.Fatalf("%d challenges", len(cs))
		}
		var out []string
		for _, c := range cs {
			if c.Scheme == "" || strings.IndexFunc(c.Scheme, func(r rune) bool { return r > 127 || !isTchar(byte(r)) }) >= 0 {
				t.Fatalf("scheme %q is not a token", c.Scheme)
			}
			if len(c.Params) > maxParams {
				t.Fatalf("%d params", len(c.Params))
			}
			for k := range c.Params {
				if k == "" || k != strings.ToLower(k) {
					t.Fatalf("param name %q", k)
				}
			}
			if strings.Contains(c.Token68, ",") {
				t.Fatalf("token68 %q holds a comma", c.Token68)
			}
			out = append(out, c.String())
		}
		if again := ParseChallenges([]string{strings.Join(out, ", ")}); !reflect.DeepEqual(again, cs) && len(cs) > 0 {
			t.Fatalf("round trip of %q, %q:\n got %#v\nwant %#v", a, b, again, cs)
		}
	})
}
