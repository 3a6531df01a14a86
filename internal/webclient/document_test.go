package webclient

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// repeating repeats s for ever.
type repeating struct{ s []byte }

func (e repeating) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], e.s)
	}
	return n, nil
}

func TestReadDocument(t *testing.T) {
	utf16 := func(s string) []byte {
		out := []byte{0xFF, 0xFE}
		for _, c := range []byte(s) {
			out = append(out, c, 0)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		body    []byte
		looks   func([]byte) bool
		refused bool
	}{
		{"metadata JSON", []byte(`{"id":"_x","keys":[]}`), LooksJSON, false},
		{"JSON after a BOM and spaces", append([]byte{0xEF, 0xBB, 0xBF}, []byte("\r\n  [1]")...), LooksJSON, false},
		{"UTF-16 JSON", utf16(`{"a":1}`), LooksJSON, false},
		{"HTML where JSON belongs", []byte("<!DOCTYPE html><html><body>sign in</body></html>"), LooksJSON, true},
		{"autodiscover XML", []byte(`<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="x"/>`), LooksXML, false},
		{"UTF-16 XML", utf16(`<?xml version="1.0"?><Autodiscover/>`), LooksXML, false},
		{"SOAP", []byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>`), LooksXML, false},
		{"HTML where XML belongs", []byte("\n<!doctype HTML>\n<html><head><title>Sign in</title>"), LooksXML, true},
		{"XHTML where XML belongs", []byte(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">`), LooksXML, true},
		{"random bytes", []byte{0x8f, 0x03, 0xa1, 0x7e, 0x00, 0x41}, LooksXML, true},
		{"empty", nil, LooksJSON, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, n, truncated, refused, err := ReadDocument(bytes.NewReader(tc.body), 1<<20, tc.looks)
			if err != nil || refused != tc.refused || truncated || n != int64(len(tc.body)) || !bytes.Equal(body, tc.body) {
				t.Fatalf("got %q n=%d truncated=%v refused=%v err=%v, want all of it, refused=%v", body, n, truncated, refused, err, tc.refused)
			}
		})
	}
}

// A document longer than the limit is cut there, and one that is not the
// document is not kept: reading 64 MiB of a web page costs its first bytes.
func TestReadDocumentKeepsNoUnwantedBody(t *testing.T) {
	const limit = 64 << 20
	body, n, truncated, _, err := ReadDocument(io.LimitReader(repeating{[]byte(`{"k":1},`)}, limit+10), limit, LooksJSON)
	if err != nil || !truncated || n != limit || len(body) != limit {
		t.Fatalf("a long JSON document: n=%d len=%d truncated=%v err=%v", n, len(body), truncated, err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	page := repeating{[]byte(strings.Repeat("<html><body>sign in</body></html>", 30))}
	body, n, truncated, refused, err := ReadDocument(page, limit, LooksXML)
	runtime.ReadMemStats(&after)
	if err != nil || !refused || !truncated || n != limit || len(body) != sniffBytes {
		t.Fatalf("an repeating web page: n=%d kept=%d truncated=%v refused=%v err=%v", n, len(body), truncated, refused, err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("reading 64 MiB of a web page allocated %d bytes, want under 1 MiB", got)
	}
}

// The sniffers agree with the parsers' seed corpora (real-shaped answers,
// BOMs and UTF-16 included): every document is let through, only the web
// pages are refused.
func TestSniffersAgreeWithTheSeedCorpora(t *testing.T) {
	for _, g := range []struct {
		glob  string
		looks func([]byte) bool
	}{
		{"../../probes/certs/testdata/fuzz/FuzzParseMetadata/*", LooksJSON},
		{"../../probes/autodiscover/testdata/fuzz/FuzzParseLinks/*", LooksJSON},
		{"../../probes/autodiscover/testdata/fuzz/FuzzParsePOX/*", LooksXML},
		{"../../probes/autodiscover/testdata/fuzz/FuzzParseSOAP/*", LooksXML},
	} {
		files, err := filepath.Glob(g.glob)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no seeds (%v)", g.glob, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// go test fuzz v1, then one []byte("…") line.
			lines := strings.Split(string(b), "\n")
			v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if want := !strings.Contains(filepath.Base(f), "html"); g.looks([]byte(v)) != want {
				t.Errorf("%s: looks like the document = %v, want %v", f, !want, want)
			}
		}
	}
}
