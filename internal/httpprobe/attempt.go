// Package httpprobe holds what the HTTP probe families (Exchange and Lync
// autodiscover, EWS) share: one request as a probe sees it (an Attempt
// with its outcome in a word and in a sentence), the WWW-Authenticate
// parser, and requests authenticated with Basic or NTLM. Every request goes
// through internal/webclient.
package httpprobe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

// Outcome says in one word how an HTTP attempt ended. It is a metric label,
// so the set is fixed.
type Outcome string

const (
	OK               Outcome = "ok"                  // 2xx
	Challenged       Outcome = "challenge"           // 401 with an authentication challenge: reachable
	Redirect         Outcome = "redirect"            // 3xx, not followed
	ClientError      Outcome = "client_error"        // 4xx, or 401 without a challenge
	ServerError      Outcome = "server_error"        // 5xx
	Unexpected       Outcome = "unexpected_response" // an answer, but not what the endpoint should give
	WebPage          Outcome = "web_page"            // 2xx with a web page (HTML) where a service answer belongs
	EmptyBody        Outcome = "empty_body"          // 2xx with an empty body where a service answer belongs
	BodyTooLarge     Outcome = "body_too_large"      // 2xx with a body longer than SFBEX_HTTP_MAX_BODY_BYTES, cut off there
	TLSError         Outcome = "tls_error"           // handshake or certificate verification failed
	Timeout          Outcome = "timeout"             // no answer within the request timeout
	ConnectError     Outcome = "connect_error"       // TCP connection refused or unreachable
	NameError        Outcome = "dns_error"           // the host name does not resolve
	WrongRedirect    Outcome = "wrong_redirect"      // redirected to a host or path clients must not use
	InsecureRedirect Outcome = "insecure_redirect"   // redirected from https to http, or to a non-https URL
	TooManyRedirects Outcome = "too_many_redirects"  // more redirects than SFBEX_HTTP_MAX_REDIRECTS
	NoRedirect       Outcome = "no_redirect"         // the HTTP redirect method answered without a redirect
	NoRecord         Outcome = "no_record"           // the SRV record does not exist
	LookupError      Outcome = "lookup_error"        // the SRV lookup got no definitive answer
	AuthNotOffered   Outcome = "auth_not_offered"    // the server offers none of the schemes the agent may use
	AuthRejected     Outcome = "auth_rejected"       // 401 after sending credentials
	PolicyBlocked    Outcome = "policy_blocked"      // 403 with X-EWS-Policy-Reason: EWS answered, and refuses by policy
	Error            Outcome = "error"               // anything else
)

// Outcomes lists every outcome, for documentation and tests.
var Outcomes = []Outcome{OK, Challenged, Redirect, ClientError, ServerError, Unexpected, WebPage, EmptyBody, BodyTooLarge, TLSError, Timeout,
	ConnectError, NameError, WrongRedirect, InsecureRedirect, TooManyRedirects, NoRedirect, NoRecord,
	LookupError, AuthNotOffered, AuthRejected, Error}

// Reachable reports whether the endpoint answered as a live service does:
// 2xx, or 401 with a challenge.
func (o Outcome) Reachable() bool { return o == OK || o == Challenged }

// Attempt is one HTTP exchange (with the redirects it followed) as a probe
// saw it. It never holds credentials.
type Attempt struct {
	URL       string   `json:"url"`
	FinalURL  string   `json:"final_url,omitempty"` // after redirects, when it differs
	Redirects []string `json:"redirects,omitempty"`
	Status    int      `json:"status,omitempty"`
	// Location is the Location header of a redirect that was not followed.
	Location string  `json:"location,omitempty"`
	Outcome  Outcome `json:"outcome"`
	// Detail says what happened in a sentence when it was not a plain
	// success, e.g. "certificate is valid for mail.contoso.com, not …".
	Detail      string        `json:"detail,omitempty"`
	Duration    time.Duration `json:"duration_ns"`
	ContentType string        `json:"content_type,omitempty"`
	Challenges  []Challenge   `json:"challenges,omitempty"`
	TLS         *TLSInfo      `json:"tls,omitempty"`
	Truncated   bool          `json:"truncated,omitempty"` // the body was longer than the limit
	// BodySize is how much of the body was read: all of it, or the limit
	// when Truncated.
	BodySize int64 `json:"body_bytes,omitempty"`
	// Scheme is the authentication scheme used, for authenticated requests.
	Scheme string `json:"auth_scheme,omitempty"`
	// Headers are the response headers the request asked to keep
	// (Request.KeepHeaders), by canonical name; each value printable and at
	// most MaxHeaderValue bytes.
	Headers map[string]string `json:"headers,omitempty"`
}

// MaxHeaderValue bounds a kept header's value: peers choose it.
const MaxHeaderValue = 256

// TLSInfo is what the handshake showed.
type TLSInfo struct {
	Version  string    `json:"version"`
	Subject  string    `json:"subject"` // the leaf certificate's common name
	NotAfter time.Time `json:"not_after"`
	// Verified is false when verification was off for the host
	// (SFBEX_TLS_INSECURE_HOSTS).
	Verified bool `json:"verified"`
}

// Summary is the attempt in a few words for the status page.
func (a *Attempt) Summary() string {
	s := string(a.Outcome)
	if a.Status != 0 {
		s = fmt.Sprintf("HTTP %d (%s)", a.Status, a.Outcome)
	}
	if a.Detail != "" {
		s += ": " + a.Detail
	}
	return s
}

// Request is what to send.
type Request struct {
	Method string // default GET
	URL    string
	Header http.Header
	Body   []byte
	// FollowRedirects follows up to the client's redirect limit; otherwise
	// a 3xx is returned as Redirect.
	FollowRedirects bool
	// AllowHost, when set, says which hosts a redirect may lead to; any
	// other makes the attempt a WrongRedirect without contacting that host.
	AllowHost func(host string) bool
	// Timeout bounds the whole exchange, redirects and body included.
	Timeout time.Duration
	// MaxBody bounds the body read (default 1 MiB): nothing past it is
	// read, and the attempt says Truncated.
	MaxBody int64
	// Keep, when positive, bounds what Do returns of the body: the rest, up
	// to MaxBody, is read and thrown away as it arrives, so that memory does
	// not grow with MaxBody for checks that need only the start of the body.
	// Zero returns the body up to MaxBody (parsers need the document).
	Keep int64
	// Looks, when set with Keep zero, says whether the body's first bytes
	// can be the document the caller parses (webclient.LooksXML,
	// LooksJSON): a body that cannot (a web page, random bytes) is read
	// on without being kept, and Do returns its first bytes only.
	Looks func(prefix []byte) bool
	// KeepHeaders names response headers to return in Attempt.Headers
	// (e.g. X-EWS-Policy-Reason, X-OWA-Version).
	KeepHeaders []string
}

var (
	errWrongRedirect    = errors.New("redirect to a host clients must not be sent to")
	errTooManyRedirects = errors.New("too many redirects")
)

// Do sends r through a client from o and returns the attempt and the
// (bounded) body.
func Do(ctx context.Context, o *webclient.Options, r Request) (Attempt, []byte) {
	return do(ctx, o.Client(), o, r)
}

func do(ctx context.Context, client *http.Client, o *webclient.Options, r Request) (a Attempt, body []byte) {
	a.URL = r.URL
	start := time.Now()
	defer func() { a.Duration = time.Since(start) }()
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	req, err := newRequest(ctx, o, r)
	if err != nil {
		a.Outcome, a.Detail = Error, err.Error()
		return a, nil
	}
	base := client.CheckRedirect
	client.CheckRedirect = func(next *http.Request, via []*http.Request) error {
		if !r.FollowRedirects {
			return http.ErrUseLastResponse
		}
		a.Redirects = append(a.Redirects, next.URL.Redacted())
		if err := base(next, via); err != nil {
			if errors.Is(err, webclient.ErrInsecureRedirect) {
				return err
			}
			return fmt.Errorf("%w: %v", errTooManyRedirects, err)
		}
		if r.AllowHost != nil && !r.AllowHost(next.URL.Hostname()) {
			return fmt.Errorf("%w: %s", errWrongRedirect, next.URL.Redacted())
		}
		return nil
	}
	resp, err := client.Do(req)
	if err != nil {
		a.Outcome, a.Detail = Classify(err)
		return a, nil
	}
	defer resp.Body.Close()
	a.keepHeaders(resp.Header, r.KeepHeaders)
	body = a.fill(resp, o, r.MaxBody, r.Keep, r.Looks)
	return a, body
}

func newRequest(ctx context.Context, o *webclient.Options, r Request) (*http.Request, error) {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.URL, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if o.UserAgent != "" {
		req.Header.Set("User-Agent", o.UserAgent)
	}
	return req, nil
}

// keepHeaders copies the named headers, bounded and printable.
func (a *Attempt) keepHeaders(h http.Header, names []string) {
	for _, n := range names {
		v := strings.TrimSpace(h.Get(n))
		if v == "" {
			continue
		}
		v = strings.Map(func(r rune) rune {
			if r < ' ' || r == 0x7f {
				return -1
			}
			return r
		}, v)
		if len(v) > MaxHeaderValue {
			v = strings.ToValidUTF8(v[:MaxHeaderValue], "")
		}
		if a.Headers == nil {
			a.Headers = map[string]string{}
		}
		a.Headers[http.CanonicalHeaderKey(n)] = v
	}
}

// fill records the response and reads the body.
func (a *Attempt) fill(resp *http.Response, o *webclient.Options, limit, keep int64, looks func([]byte) bool) []byte {
	a.Status = resp.StatusCode
	a.ContentType = resp.Header.Get("Content-Type")
	a.Challenges = Challenges(resp.Header)
	if u := resp.Request.URL.Redacted(); u != a.URL {
		a.FinalURL = u
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		leaf := resp.TLS.PeerCertificates[0]
		a.TLS = &TLSInfo{
			Version: tls.VersionName(resp.TLS.Version), Subject: leaf.Subject.CommonName, NotAfter: leaf.NotAfter,
			Verified: !o.Insecure(resp.Request.URL.Hostname()),
		}
	}
	if limit <= 0 {
		limit = 1 << 20
	}
	var (
		body      []byte
		truncated bool
		err       error
	)
	switch {
	case keep > 0 && keep < limit:
		body, a.BodySize, truncated, err = webclient.ReadPrefix(resp.Body, keep, limit)
	case looks != nil:
		body, a.BodySize, truncated, _, err = webclient.ReadDocument(resp.Body, limit, looks)
	default:
		body, truncated, err = webclient.ReadBody(resp.Body, limit)
		a.BodySize = int64(len(body))
	}
	a.Truncated = truncated
	a.Outcome = StatusOutcome(resp.StatusCode, a.Challenges)
	if err != nil && a.Outcome.Reachable() {
		a.Outcome, a.Detail = Classify(err)
		a.Detail = "reading the body: " + a.Detail
	}
	switch a.Outcome {
	case Redirect:
		a.Location = resp.Header.Get("Location")
		a.Detail = "redirects to " + a.Location
	case ClientError:
		if resp.StatusCode == http.StatusUnauthorized {
			a.Detail = "401 without an authentication challenge (no WWW-Authenticate header)"
		}
	}
	return body
}

// StatusOutcome classifies a status code.
func StatusOutcome(status int, challenges []Challenge) Outcome {
	switch {
	case status >= 200 && status < 300:
		return OK
	case status == http.StatusUnauthorized && len(challenges) > 0:
		return Challenged
	case status >= 300 && status < 400:
		return Redirect
	case status >= 500:
		return ServerError
	case status >= 400:
		return ClientError
	}
	return Unexpected
}

// Classify turns a transport error into an outcome and a sentence without
// the "Get <url>:" prefix (the URL is shown beside it).
func Classify(err error) (Outcome, string) {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		msg = ue.Err.Error()
	}
	var (
		dnsErr     *net.DNSError
		opErr      *net.OpError
		netErr     net.Error
		unknownCA  x509.UnknownAuthorityError
		hostErr    x509.HostnameError
		invalidErr x509.CertificateInvalidError
		verifyErr  *tls.CertificateVerificationError
		alertErr   tls.AlertError
		recordErr  tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, errWrongRedirect):
		return WrongRedirect, msg
	case errors.Is(err, webclient.ErrInsecureRedirect):
		return InsecureRedirect, msg
	case errors.Is(err, errTooManyRedirects):
		return TooManyRedirects, msg
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidErr),
		errors.As(err, &verifyErr), errors.As(err, &alertErr), errors.As(err, &recordErr):
		return TLSError, msg
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		return NameError, msg
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return Timeout, "no answer in time (" + msg + ")"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return ConnectError, msg
	case strings.Contains(msg, "tls: "):
		return TLSError, msg
	}
	return Error, msg
}
