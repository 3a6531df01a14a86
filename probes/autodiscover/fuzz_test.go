package autodiscover

import (
	"testing"
	"unicode/utf8"
)

// The parsers read what any server on the path sends: they must not panic,
// must stay bounded, and must not pass text longer than clip's limit to
// the status page. Seeds: testdata/fuzz/<FuzzName>.

func FuzzParsePOX(f *testing.F) {
	f.Add([]byte(exchange2016POX))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParsePOX(body)
		if err != nil {
			return
		}
		if len(r.Protocols) > 16 || len(r.ErrorMessage) > 204 {
			t.Fatalf("unbounded: %d protocols, message of %d bytes", len(r.Protocols), len(r.ErrorMessage))
		}
		_ = r.ExchangeVersion()
		_ = r.EWS("EXCH")
	})
}

func FuzzParseSOAP(f *testing.F) {
	f.Add([]byte(soapAnswer("NoError", internalEWS)))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseSOAP(body)
		if err != nil {
			return
		}
		for _, s := range []string{r.ErrorMessage, r.UserErrorMessage, r.Fault} {
			if len(s) > 204 || !utf8.ValidString(s) && len(s) > 200 {
				t.Fatalf("unbounded text %q", s)
			}
		}
		_ = r.Failed()
	})
}

func FuzzParseLinks(f *testing.F) {
	f.Add([]byte(links("webext.contoso.test")))
	f.Fuzz(func(t *testing.T, body []byte) {
		l, err := ParseLinks(body)
		if err == nil && l == (Links{}) {
			t.Fatal("accepted an answer without links")
		}
	})
}
