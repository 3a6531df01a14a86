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

// FuzzCheckSOAPAnswer: any 2xx body gets an outcome without panic, and is
// taken as the service's own answer only when its root element is a SOAP
// envelope or a WSDL; the detail shows at most the escaped first bytes.
func FuzzCheckSOAPAnswer(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`), "text/xml", false)
	f.Add([]byte("<!DOCTYPE html><html></html>"), "text/html", false)
	f.Add([]byte("\x00\xff<"), "", true)
	f.Fuzz(func(t *testing.T, body []byte, ct string, truncated bool) {
		prefix := body[:min(len(body), SOAPPrefix)]
		a := Attempt{Status: 200, Outcome: OK, ContentType: ct, BodySize: int64(len(body)), Truncated: truncated}
		CheckSOAPAnswer(&a, prefix)
		root, isXML := xmlRoot(prefix)
		if a.Outcome == OK && (truncated || !isXML || !isSOAPRoot(root) || LooksHTML(ct, prefix)) {
			t.Fatalf("%q (%s, truncated %v) taken as a SOAP answer", body, ct, truncated)
		}
		if a.Outcome != OK && a.Detail == "" {
			t.Fatalf("%q: outcome %s without a detail", body, a.Outcome)
		}
		if len(a.Detail) > 600+len(ct) {
			t.Fatalf("detail of %d bytes: %q", len(a.Detail), a.Detail)
		}
	})
}
