package httpprobe

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SOAPPrefix is how much of a SOAP service's body CheckSOAPAnswer needs:
// enough for an XML declaration, comments and the root element's start tag.
const SOAPPrefix = 4096

// Namespaces of the root elements a SOAP service answers with.
var soapRoots = []xml.Name{
	{Space: "http://schemas.xmlsoap.org/soap/envelope/", Local: "Envelope"}, // SOAP 1.1
	{Space: "http://www.w3.org/2003/05/soap-envelope", Local: "Envelope"},   // SOAP 1.2
	{Space: "http://schemas.xmlsoap.org/wsdl/", Local: "definitions"},       // WSDL 1.1 (?wsdl)
	{Space: "http://www.w3.org/ns/wsdl", Local: "description"},              // WSDL 2.0
}

// CheckSOAPAnswer judges a 2xx answer of a SOAP service (EWS,
// autodiscover.svc) to an anonymous GET, from the start of its body. The
// service answers such a request with 401 and its challenges; a 2xx shows
// the service itself only when it carries a SOAP envelope (a fault, say)
// or a WSDL. Anything else (a web page, an empty body, bytes that are not
// XML, a body cut off at the limit) is someone else answering: the
// attempt's outcome and detail say what was received. Other outcomes are
// left as they are.
func CheckSOAPAnswer(a *Attempt, prefix []byte) {
	if a.Outcome != OK {
		return
	}
	what := fmt.Sprintf("HTTP %d (%s, %s)", a.Status, orNoType(a.ContentType), size(a.BodySize, a.Truncated))
	root, isXML := xmlRoot(prefix)
	switch {
	case a.Truncated:
		a.Outcome = BodyTooLarge
		a.Detail = fmt.Sprintf("answers %s, cut off at SFBEX_HTTP_MAX_BODY_BYTES: a SOAP service's answer to an anonymous request is short; it starts %s",
			what, Printable(prefix))
	case a.BodySize == 0:
		a.Outcome = EmptyBody
		a.Detail = "answers " + what + " with an empty body, neither a SOAP answer nor a WSDL"
	case LooksHTML(a.ContentType, prefix) || isXML && strings.EqualFold(root.Local, "html"):
		a.Outcome = WebPage
		a.Detail = fmt.Sprintf("answers %s with a web page, neither a SOAP answer nor a WSDL; it starts %s", what, Printable(prefix))
	case isXML && isSOAPRoot(root):
		// The service itself answered.
	default:
		kind := "that is not XML"
		if isXML {
			kind = fmt.Sprintf("whose XML root is <%s> in namespace %q", root.Local, root.Space)
		}
		a.Outcome = Unexpected
		a.Detail = fmt.Sprintf("answers %s %s, neither a SOAP answer nor a WSDL; it starts %s", what, kind, Printable(prefix))
	}
}

func isSOAPRoot(n xml.Name) bool {
	for _, r := range soapRoots {
		if n == r {
			return true
		}
	}
	return false
}

// xmlRoot returns the name of the first element of b, which may be the
// start of a longer document. A UTF-8 byte order mark, an XML declaration,
// comments and a DOCTYPE may come before it.
func xmlRoot(b []byte) (xml.Name, bool) {
	d := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // only the root's name counts
	for range 64 {
		tok, err := d.Token()
		if err != nil {
			return xml.Name{}, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t.Name, true
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.Name{}, false
			}
		}
	}
	return xml.Name{}, false
}

// LooksHTML reports whether a body is a web page, by its Content-Type or
// its first bytes.
func LooksHTML(contentType string, b []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	head := strings.ToLower(string(bytes.TrimSpace(bytes.TrimPrefix(b[:min(len(b), 512)], []byte("\xef\xbb\xbf")))))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// printableBytes is how much of a body Printable shows.
const printableBytes = 64

// Printable quotes the first bytes of a body so that any byte can be shown
// in a sentence: non-ASCII and control bytes are escaped (\x00, \u00e9),
// and "…" marks that there was more.
func Printable(b []byte) string {
	if len(b) == 0 {
		return `""`
	}
	s := strconv.QuoteToASCII(string(b[:min(len(b), printableBytes)]))
	if len(b) > printableBytes {
		s += "…"
	}
	return s
}

func orNoType(ct string) string {
	if ct == "" {
		return "no Content-Type"
	}
	return ct
}

func size(n int64, truncated bool) string {
	if truncated {
		return fmt.Sprintf("more than %d bytes", n)
	}
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}
