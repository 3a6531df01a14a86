package autodiscover

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/wintext"
)

// maxDepth bounds element nesting; autodiscover answers nest about six deep.
const maxDepth = 64

// walker receives an XML document as slash-joined paths of lower-cased
// local names ("autodiscover/response/account/protocol/ewsurl"), so that
// namespaces and case (which differ between Exchange versions and the
// documentation) do not matter.
type walker struct {
	start func(path string, attrs []xml.Attr)
	end   func(path string)
	text  func(path, text string)
}

// walk parses body and returns the root element's local name.
func (w walker) walk(body []byte) (root string, err error) {
	body, err = wintext.ToUTF8(body)
	if err != nil {
		return "", err
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = false
	dec.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii", "utf-16", "utf-16le", "utf-16be", "unicode":
			return in, nil // already converted to UTF-8 by wintext.ToUTF8
		}
		return nil, fmt.Errorf("unsupported XML encoding %q", label)
	}
	var stack []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			if root == "" {
				return "", errors.New("no XML element")
			}
			return root, nil
		}
		if err != nil {
			return root, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDepth {
				return root, fmt.Errorf("XML nested deeper than %d elements", maxDepth)
			}
			name := strings.ToLower(t.Name.Local)
			if root == "" {
				root = t.Name.Local
			} else if len(stack) == 0 {
				return root, errors.New("more than one root element")
			}
			stack = append(stack, name)
			text.Reset()
			if w.start != nil {
				w.start(strings.Join(stack, "/"), t.Attr)
			}
		case xml.CharData:
			if text.Len() < 8192 {
				text.Write(t)
			}
		case xml.EndElement:
			if len(stack) == 0 {
				return root, errors.New("unbalanced end element")
			}
			path := strings.Join(stack, "/")
			if w.text != nil {
				if s := strings.TrimSpace(text.String()); s != "" {
					w.text(path, s)
				}
			}
			text.Reset()
			if w.end != nil {
				w.end(path)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// escape returns s escaped for XML character data.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// isHTML reports whether a body looks like a web page rather than the XML
// or JSON an endpoint should give.
func isHTML(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "html") {
		return true
	}
	head := strings.ToLower(string(bytes.TrimSpace(body[:min(len(body), 512)])))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}
