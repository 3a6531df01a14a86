package sip

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Outcome is how one OPTIONS exchange with a target ended.
type Outcome string

const (
	Answered    Outcome = "answered"    // a final SIP answer with a status
	Unreachable Outcome = "unreachable" // no TCP connection
	TLSFailed   Outcome = "tls_failed"  // TCP up, the TLS session failed or was refused
	NoAnswer    Outcome = "no_answer"   // TLS up, OPTIONS sent, not a byte back within the deadline
	Incomplete  Outcome = "incomplete"  // some bytes back, but no whole answer by the deadline or before the peer closed
	Closed      Outcome = "closed"      // the peer closed the connection without answering
	Malformed   Outcome = "malformed"   // what came back is not a SIP answer to the request
)

// Outcomes lists every Outcome, for the sfbex_sip_outcome state set.
var Outcomes = []Outcome{Answered, Unreachable, TLSFailed, NoAnswer, Incomplete, Closed, Malformed}

// Answer is a final SIP answer to OPTIONS.
type Answer struct {
	Status int    `json:"status"`
	Reason string `json:"reason"`
	// Server is the Server header (RTC/7.0 for Skype for Business 2019 and
	// SE), or the User-Agent header when a server sends that instead.
	Server string `json:"server,omitempty"`
	// Product is the product family Server names (see Product).
	Product     string       `json:"product,omitempty"`
	Diagnostics *Diagnostics `json:"ms_diagnostics,omitempty"`
	// Note says what was unusual in an answer that still counts (no
	// Content-Length on a stream transport).
	Note string `json:"note,omitempty"`
}

// readError is what readAnswer learned when no answer came.
type readError struct {
	outcome Outcome
	err     error
}

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

// readAnswer reads the final answer to the OPTIONS request with callID
// from r, which has a deadline. It reads at most limit bytes in all
// (provisional answers and CRLF keep-alives included), so what a peer
// sends costs at most limit bytes of memory. It hands sipgo's parser a
// message only once its header section is whole (up to the blank line
// that ends it): the parser then sees every folded header line with what
// follows it, and the verdict does not depend on how the peer's bytes
// were split into reads.
func readAnswer(r io.Reader, callID string, limit int) (*Answer, error) {
	parser := sip.NewParser()
	parser.MaxMessageLength = limit
	buf := make([]byte, 0, min(limit, 4096))
	chunk := make([]byte, 2048)
	total := 0
	searched := 0 // buf[:searched] holds no blank line: a trickle costs one pass
	var first startLine
	for {
		n, rerr := r.Read(chunk[:min(len(chunk), limit+1-total)])
		if n > 0 {
			total += n
			if err := first.scan(chunk[:n]); err != nil {
				return nil, &readError{Malformed, err}
			}
			buf = append(buf, chunk[:n]...)
			for {
				// CRLFs before a start line are keep-alives (RFC 5626 4.4.1).
				for len(buf) >= 2 && buf[0] == '\r' && buf[1] == '\n' {
					buf, searched = buf[2:], 0
				}
				from := max(0, searched-3)
				if !bytes.Contains(buf[from:], []byte("\r\n\r\n")) {
					searched = len(buf)
					break // the header section is not whole yet
				}
				msg, used, perr := parser.Parse(buf, true)
				if errors.Is(perr, sip.ErrParseReadBodyIncomplete) && msg != nil && msg.ContentLength() != nil {
					break // the body is still coming
				}
				if errors.Is(perr, sip.ErrParseReadBodyIncomplete) {
					// No Content-Length: the body's end is unknown, but the
					// headers are whole; an OPTIONS answer needs no body.
					if res, ok := msg.(*sip.Response); ok && res.StatusCode >= 200 {
						a, err := judge(res, callID)
						if a != nil {
							a.Note = "the answer has no Content-Length, which SIP over TLS requires (RFC 3261 18.3)"
						}
						return a, err
					}
				}
				if perr != nil {
					if errors.Is(perr, sip.ErrMessageTooLarge) {
						return nil, &readError{Malformed, fmt.Errorf("the answer is larger than %d bytes (SFBEX_SIP_MAX_ANSWER_BYTES)", limit)}
					}
					return nil, &readError{Malformed, fmt.Errorf("not a SIP answer: %v", perr)}
				}
				res, ok := msg.(*sip.Response)
				if !ok {
					what := "a SIP request"
					if req, ok := msg.(*sip.Request); ok {
						what = "a SIP " + string(req.Method) + " request"
					}
					return nil, &readError{Malformed, fmt.Errorf("the peer sent %s instead of an answer", clip(what))}
				}
				if res.StatusCode >= 200 {
					return judge(res, callID)
				}
				// A provisional answer: the final one follows; what has
				// arrived of it is checked as its own start.
				buf, searched = buf[used:], 0
				first = startLine{}
				if err := first.scan(buf); err != nil {
					return nil, &readError{Malformed, err}
				}
			}
			if total > limit {
				return nil, &readError{Malformed, fmt.Errorf("more than %d bytes without a whole SIP answer (SFBEX_SIP_MAX_ANSWER_BYTES)", limit)}
			}
		}
		if rerr != nil {
			return nil, classifyRead(rerr, total)
		}
	}
}

// startLine watches the bytes of a message's start line as they arrive
// and refuses control bytes, which no SIP status line holds, so that
// binary garbage is called what it is at once instead of waiting for a
// line end that may never come. It sees the stream byte by byte, so how
// the peer's bytes are split does not change its verdict.
type startLine struct {
	begun, done bool // past the CRLFs a stream may send first; past the line end
}

func (l *startLine) scan(chunk []byte) error {
	for _, c := range chunk {
		switch {
		case l.done:
			return nil
		case !l.begun && (c == '\r' || c == '\n'):
			continue
		case c == '\n':
			l.done = true
		case (c < 0x20 || c == 0x7f) && c != '\r' && c != '\t':
			return fmt.Errorf("not a SIP answer: the first line holds the control byte 0x%02x", c)
		}
		l.begun = true
	}
	return nil
}

// classifyRead names how a read that ended without an answer ended.
func classifyRead(err error, got int) error {
	var op *net.OpError
	switch {
	case errors.As(err, &op) && op.Op == "remote error":
		// A TLS alert after the handshake: under TLS 1.3 a server that
		// refuses the client certificate says so here.
		return &readError{TLSFailed, fmt.Errorf("the server ended the TLS session: %v", op.Err)}
	case errors.Is(err, os.ErrDeadlineExceeded) && got == 0:
		return &readError{NoAnswer, errors.New("no answer within the deadline")}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &readError{Incomplete, fmt.Errorf("%d bytes came back but no whole SIP answer within the deadline", got)}
	case got > 0:
		return &readError{Incomplete, fmt.Errorf("the peer closed the connection after %d bytes, before a whole SIP answer (%v)", got, err)}
	}
	return &readError{Closed, fmt.Errorf("the peer closed the connection without answering (%v)", err)}
}

// judge checks that res answers our request and extracts what it says.
func judge(res *sip.Response, callID string) (*Answer, error) {
	if res.StatusCode < 100 || res.StatusCode > 699 {
		return nil, &readError{Malformed, fmt.Errorf("not a SIP answer: status %d is outside 100-699", res.StatusCode)}
	}
	if id := res.CallID(); id == nil || id.Value() != callID {
		return nil, &readError{Malformed, fmt.Errorf("the answer (%d %s) is for another request: its Call-ID is not ours", res.StatusCode, clip(res.Reason))}
	}
	a := &Answer{Status: res.StatusCode, Reason: clip(res.Reason)}
	if h := res.GetHeader("Server"); h != nil {
		a.Server = clip(h.Value())
	} else if h := res.GetHeader("User-Agent"); h != nil {
		a.Server = clip(h.Value())
	}
	a.Product = Product(a.Server)
	if h := res.GetHeader("ms-diagnostics"); h != nil {
		a.Diagnostics = ParseDiagnostics(h.Value())
	}
	return a, nil
}

// clip bounds text a server sends.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Diagnostics is an ms-diagnostics header: the numeric code Microsoft's
// servers give for why they answered as they did, and its reason.
type Diagnostics struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	// Source is the server that produced the diagnostics, when it says.
	Source string `json:"source,omitempty"`
}

var (
	diagCodeRe   = regexp.MustCompile(`^\s*(\d{1,6})\s*(;|$)`)
	diagReasonRe = regexp.MustCompile(`(?i)(?:^|;)\s*reason\s*=\s*"([^"]*)"`)
	diagSourceRe = regexp.MustCompile(`(?i)(?:^|;)\s*source\s*=\s*"?([^";]*)"?`)
)

// ParseDiagnostics reads `1034;reason="…";source="…"`; nil when the value
// does not start with a code.
func ParseDiagnostics(v string) *Diagnostics {
	m := diagCodeRe.FindStringSubmatch(v)
	if m == nil {
		return nil
	}
	code, _ := strconv.Atoi(m[1])
	d := &Diagnostics{Code: code}
	if r := diagReasonRe.FindStringSubmatch(v); r != nil {
		d.Reason = clip(r[1])
	}
	if s := diagSourceRe.FindStringSubmatch(v); s != nil {
		d.Source = clip(strings.TrimSpace(s[1]))
	}
	return d
}

// Product families by the Server header Microsoft's SIP servers send
// (domain-facts §7): the major version of RTC/x.y.
var products = []struct {
	prefix, label, name, endOfSupport string
}{
	{"RTC/7.", "sfb2019_or_se", "Skype for Business Server 2019 or Subscription Edition", ""},
	{"RTC/6.", "sfb2015", "Skype for Business Server 2015", "ended on 2025-10-14"},
	{"RTC/5.", "lync2013", "Lync Server 2013", "ended on 2023-04-11"},
	{"RTC/4.", "lync2010", "Lync Server 2010", "ended before Lync Server 2013's"},
	{"RTC/3.", "ocs2007", "Office Communications Server 2007 or 2007 R2", "ended before Lync Server 2013's"},
}

// Product names the product family behind a Server header: one of the
// labels above, "other" for another server, "" for none.
func Product(server string) string {
	if server == "" {
		return ""
	}
	for _, p := range products {
		if strings.HasPrefix(strings.ToUpper(server), p.prefix) {
			return p.label
		}
	}
	return "other"
}

// productInfo returns the name and end of support of a product label.
func productInfo(label string) (name, endOfSupport string) {
	for _, p := range products {
		if p.label == label {
			return p.name, p.endOfSupport
		}
	}
	return "", ""
}
