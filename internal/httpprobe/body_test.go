package httpprobe

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"
)

const soapFault = `<?xml version="1.0" encoding="utf-8"?>
<!-- EWS -->
<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>a:ErrorSchemaValidation</faultcode></s:Fault></s:Body></s:Envelope>`

const wsdl = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<wsdl:definitions xmlns:wsdl=\"http://schemas.xmlsoap.org/wsdl/\" targetNamespace=\"http://schemas.microsoft.com/exchange/services/2006/messages\"></wsdl:definitions>"

// TestCheckSOAPAnswer: a 2xx of a SOAP service counts only with a SOAP
// envelope or a WSDL; every other body gets its own outcome and says what
// came: status, content type, size, first bytes, cut off or not.
func TestCheckSOAPAnswer(t *testing.T) {
	random := make([]byte, 3000)
	_, _ = rand.Read(random)
	random[0] = 0x00 // never '<'
	done := make(chan struct{})
	defer close(done)
	mux := http.NewServeMux()
	serve := func(path, ct string, status int, body []byte) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			} else {
				w.Header()["Content-Type"] = nil // no sniffing: no header at all
			}
			w.WriteHeader(status)
			_, _ = w.Write(body)
		})
	}
	serve("/fault", "text/xml; charset=utf-8", 200, []byte(soapFault))
	serve("/wsdl", "text/xml", 200, []byte(wsdl))
	serve("/html", "text/html; charset=utf-8", 200, []byte("<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Welcome</body></html>"))
	serve("/xhtml", "text/xml", 200, []byte(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`))
	serve("/random", "application/octet-stream", 200, random)
	serve("/empty", "", 200, nil)
	serve("/otherxml", "text/xml", 200, []byte(`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"/>`))
	serve("/json", "application/json", 200, []byte(`{"ok":true}`))
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(soapFault[:200]))
		chunk := []byte(strings.Repeat(" ", 16<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	mux.HandleFunc("/challenge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", "NTLM")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(401)
		_, _ = w.Write([]byte("<html>401 - Unauthorized</html>"))
	})
	_, o := tlsServer(t, mux)
	const limit = 64 << 10
	for _, tc := range []struct {
		path    string
		outcome Outcome
		detail  []string
	}{
		{"/fault", OK, nil},
		{"/wsdl", OK, nil},
		{"/challenge", Challenged, nil},
		{"/html", WebPage, []string{"HTTP 200 (text/html; charset=utf-8, 84 bytes)", `starts "<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>W"…`}},
		{"/xhtml", WebPage, []string{"web page"}},
		{"/random", Unexpected, []string{"application/octet-stream, 3000 bytes", "not XML", `starts "\x00`}},
		{"/empty", EmptyBody, []string{"HTTP 200 (no Content-Type, 0 bytes) with an empty body"}},
		{"/otherxml", Unexpected, []string{`root is <Autodiscover> in namespace "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"`}},
		{"/json", Unexpected, []string{"application/json, 11 bytes", `starts "{\"ok\":true}"`}},
		{"/endless", BodyTooLarge, []string{"text/xml, more than 65536 bytes", "cut off at SFBEX_HTTP_MAX_BODY_BYTES", `starts "<?xml`}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			a, prefix := Do(context.Background(), o, Request{URL: "https://example.com" + tc.path, Timeout: 5 * time.Second, MaxBody: limit, Keep: SOAPPrefix})
			if len(prefix) > SOAPPrefix {
				t.Errorf("kept %d bytes of the body, want at most %d", len(prefix), SOAPPrefix)
			}
			CheckSOAPAnswer(&a, prefix)
			if a.Outcome != tc.outcome {
				t.Fatalf("outcome %s (%s), want %s", a.Outcome, a.Detail, tc.outcome)
			}
			if tc.detail == nil && a.Detail != "" {
				t.Errorf("detail %q, want none", a.Detail)
			}
			for _, d := range tc.detail {
				if !strings.Contains(a.Detail, d) {
					t.Errorf("detail %q does not say %q", a.Detail, d)
				}
			}
			if a.Outcome.Reachable() != (tc.outcome == OK || tc.outcome == Challenged) {
				t.Errorf("Reachable() = %v", a.Outcome.Reachable())
			}
		})
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"":                          `""`,
		"abc":                       `"abc"`,
		"\x00\xff\n\"é":             `"\x00\xff\n\"\u00e9"`,
		strings.Repeat("a", 65):     `"` + strings.Repeat("a", 64) + `"…`,
		strings.Repeat("a", 64):     `"` + strings.Repeat("a", 64) + `"`,
		"<script>alert(1)</script>": `"<script>alert(1)</script>"`,
	} {
		if got := Printable([]byte(in)); got != want {
			t.Errorf("Printable(%q) = %s, want %s", in, got, want)
		}
	}
}
