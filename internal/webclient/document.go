package webclient

import (
	"bytes"
	"errors"
	"io"
)

// sniffBytes is how much of a body tells whether it can be the document a
// parser wants: enough for a BOM, an XML declaration and a doctype.
const sniffBytes = 1024

// ReadDocument reads a body a parser needs whole, up to limit bytes, but
// only when its start looks like that document (looks). A body that does
// not — a web page, random bytes, an endless stream of something else — is
// read on to learn its length without being kept, so memory stays that of
// its first bytes whatever the limit; the first bytes are returned (for the
// error the parser gives and the finding that shows them) with refused set.
// n is the number of bytes read, at most limit.
func ReadDocument(r io.Reader, limit int64, looks func(prefix []byte) bool) (body []byte, n int64, truncated, refused bool, err error) {
	head := make([]byte, min(sniffBytes, limit))
	k, err := io.ReadFull(r, head)
	head = head[:k]
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return head, int64(k), false, !looks(head), nil // the whole body
	case err != nil:
		return head, int64(k), false, false, err
	}
	if !looks(head) {
		rest, err := io.Copy(io.Discard, io.LimitReader(r, limit-int64(k)+1))
		n = int64(k) + rest
		return head, min(n, limit), n > limit, true, err
	}
	var buf bytes.Buffer
	buf.Write(head)
	_, err = buf.ReadFrom(io.LimitReader(r, limit-int64(k)+1))
	body = buf.Bytes()
	if int64(len(body)) > limit {
		return body[:limit], limit, true, false, err
	}
	return body, int64(len(body)), false, false, err
}

// firstChar skips byte order marks, white space and the zero bytes of
// UTF-16 and returns the first character that says what the text is, or 0.
func firstChar(b []byte) byte {
	for _, bom := range [][]byte{{0xEF, 0xBB, 0xBF}, {0xFF, 0xFE}, {0xFE, 0xFF}} {
		if bytes.HasPrefix(b, bom) {
			b = b[len(bom):]
			break
		}
	}
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', 0:
			continue
		}
		return c
	}
	return 0
}

// LooksJSON reports whether a body starts like a JSON object or array
// (auth metadata, lyncdiscover), in UTF-8 or UTF-16.
func LooksJSON(prefix []byte) bool {
	c := firstChar(prefix)
	return c == '{' || c == '['
}

// LooksXML reports whether a body starts like an XML document that is not
// a web page (autodiscover POX and SOAP), in UTF-8 or UTF-16.
func LooksXML(prefix []byte) bool {
	if firstChar(prefix) != '<' {
		return false
	}
	// Drop UTF-16's zero bytes to look for an HTML doctype or root.
	t := bytes.ToLower(bytes.ReplaceAll(prefix, []byte{0}, nil))
	for _, html := range [][]byte{[]byte("<!doctype html"), []byte("<html")} {
		if i := bytes.Index(t, html); i >= 0 && !bytes.Contains(t[:i], []byte("<autodiscover")) {
			return false
		}
	}
	return true
}
