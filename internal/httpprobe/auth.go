package httpprobe

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/go-ntlmssp"

	"github.com/sfbex/sfbex_exporter/internal/webclient"
)

// AuthMode says which schemes the agent may use with the probe account.
type AuthMode string

const (
	AuthAuto  AuthMode = "auto"  // NTLM when offered, else Basic
	AuthBasic AuthMode = "basic" // Basic only
	AuthNTLM  AuthMode = "ntlm"  // NTLM only (also inside Negotiate)
)

// ParseAuthMode accepts auto, basic or ntlm (any case).
func ParseAuthMode(s string) (AuthMode, error) {
	switch m := AuthMode(strings.ToLower(strings.TrimSpace(s))); m {
	case AuthAuto, AuthBasic, AuthNTLM:
		return m, nil
	}
	return "", fmt.Errorf("unknown authentication %q: use auto, basic or ntlm", s)
}

// Credentials are the probe account's. The password never leaves this
// type except on the wire: String, GoString and JSON hide it.
type Credentials struct {
	User     string
	Mode     AuthMode
	password string
}

// NewCredentials returns credentials for user ("u@contoso.com" or
// "CONTOSO\u").
func NewCredentials(user, password string, mode AuthMode) *Credentials {
	if mode == "" {
		mode = AuthAuto
	}
	return &Credentials{User: user, Mode: mode, password: password}
}

func (c *Credentials) String() string   { return c.User + " (password hidden)" }
func (c *Credentials) GoString() string { return c.String() }

// MarshalJSON keeps the password out of any JSON a result might embed.
func (c *Credentials) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"user":%q,"mode":%q}`, c.User, c.Mode), nil
}

// DoAuthenticated sends r with the credentials, on one kept-alive
// connection (NTLM is bound to it): first without credentials to learn the
// server's challenges, then with the scheme c.Mode allows. Redirects are
// never followed, so credentials go only to r.URL, which must be https.
func DoAuthenticated(ctx context.Context, o *webclient.Options, r Request, c *Credentials) (a Attempt, body []byte) {
	start := time.Now()
	defer func() { a.Duration = time.Since(start) }()
	if u, err := url.Parse(r.URL); err != nil || u.Scheme != "https" {
		return Attempt{URL: r.URL, Outcome: Error, Detail: "credentials are only sent over https"}, nil
	}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
		r.Timeout = 0
	}
	r.FollowRedirects = false
	client := o.SessionClient()
	defer client.CloseIdleConnections()

	a, body = do(ctx, client, o, r)
	if a.Status != http.StatusUnauthorized {
		return a, body // no credentials needed, or no answer
	}
	scheme, ok := c.pick(a.Challenges)
	if !ok {
		offered := make([]string, 0, len(a.Challenges))
		for _, ch := range a.Challenges {
			offered = append(offered, ch.Scheme)
		}
		a.Outcome = AuthNotOffered
		a.Detail = fmt.Sprintf("the server offers %s; SFBEX_AUTODISCOVER_AUTH=%s allows %s",
			orNone(strings.Join(offered, ", ")), c.Mode, c.allowed())
		return a, body
	}
	if strings.EqualFold(scheme, "Basic") {
		r2 := withAuth(r, "Basic "+base64.StdEncoding.EncodeToString([]byte(c.User+":"+c.password)))
		a, body = do(ctx, client, o, r2)
		return c.judge(a, "basic"), body
	}
	// NTLM, raw or inside Negotiate: negotiate, challenge, authenticate.
	negotiate, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		return Attempt{URL: r.URL, Outcome: Error, Detail: "building the NTLM negotiate message: " + err.Error()}, nil
	}
	a, body = do(ctx, client, o, withAuth(r, scheme+" "+base64.StdEncoding.EncodeToString(negotiate)))
	if a.Status != http.StatusUnauthorized {
		return c.judge(a, strings.ToLower(scheme)), body
	}
	ch, _ := Find(a.Challenges, scheme)
	token, err := base64.StdEncoding.DecodeString(ch.Token68)
	if err != nil || len(token) == 0 {
		a.Outcome = AuthRejected
		a.Detail = "the server did not continue the NTLM handshake (no challenge message); a load balancer that spreads one client's requests over several servers breaks NTLM"
		return a, body
	}
	authenticate, err := ntlmssp.NewAuthenticateMessage(token, c.User, c.password, nil)
	if err != nil {
		a.Outcome, a.Detail = AuthRejected, "the server's NTLM challenge cannot be answered: "+err.Error()
		return a, body
	}
	a, body = do(ctx, client, o, withAuth(r, scheme+" "+base64.StdEncoding.EncodeToString(authenticate)))
	return c.judge(a, strings.ToLower(scheme)), body
}

// pick chooses the scheme to answer with: NTLM before Negotiate before
// Basic, within what the mode allows.
func (c *Credentials) pick(cs []Challenge) (string, bool) {
	var prefs []string
	switch c.Mode {
	case AuthBasic:
		prefs = []string{"Basic"}
	case AuthNTLM:
		prefs = []string{"NTLM", "Negotiate"}
	default:
		prefs = []string{"NTLM", "Negotiate", "Basic"}
	}
	for _, p := range prefs {
		if _, ok := Find(cs, p); ok {
			return p, true
		}
	}
	return "", false
}

func (c *Credentials) allowed() string {
	switch c.Mode {
	case AuthBasic:
		return "Basic"
	case AuthNTLM:
		return "NTLM or Negotiate"
	}
	return "NTLM, Negotiate or Basic"
}

func (c *Credentials) judge(a Attempt, scheme string) Attempt {
	a.Scheme = scheme
	if a.Status == http.StatusUnauthorized {
		a.Outcome = AuthRejected
		a.Detail = "the server rejected the probe account (SFBEX_AUTODISCOVER_USER) with " + scheme
	}
	return a
}

func withAuth(r Request, value string) Request {
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Authorization", value)
	r.Header = h
	return r
}

func orNone(s string) string {
	if s == "" {
		return "no scheme"
	}
	return s
}
