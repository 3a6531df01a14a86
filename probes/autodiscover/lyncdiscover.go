package autodiscover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/plural"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Links are the _links of a Lync autodiscover answer (domain-facts §2).
type Links struct {
	Self     string `json:"self,omitempty"`
	User     string `json:"user,omitempty"`
	XFrame   string `json:"xframe,omitempty"`
	Redirect string `json:"redirect,omitempty"`
}

// ParseLinks parses a lyncdiscover JSON answer:
// {"_links":{"self":{"href":…},"user":{"href":…},…}} or, from Microsoft
// 365, {"_links":{"redirect":{"href":…}}}. Keys are matched in any case; a
// BOM is accepted.
func ParseLinks(body []byte) (Links, error) {
	var l Links
	body = bytes.TrimPrefix(bytes.TrimSpace(body), []byte{0xEF, 0xBB, 0xBF})
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return l, fmt.Errorf("not JSON: %w", err)
	}
	raw, ok := lookupFold(top, "_links")
	if !ok {
		return l, errors.New("the JSON has no _links")
	}
	var links map[string]json.RawMessage
	if err := json.Unmarshal(raw, &links); err != nil {
		return l, fmt.Errorf("_links is not an object: %w", err)
	}
	href := func(name string) string {
		raw, ok := lookupFold(links, name)
		if !ok {
			return ""
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		h, ok := lookupFold(obj, "href")
		var s string
		if !ok || json.Unmarshal(h, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	l = Links{Self: href("self"), User: href("user"), XFrame: href("xframe"), Redirect: href("redirect")}
	if l == (Links{}) {
		return l, errors.New("_links holds no self, user or redirect link")
	}
	return l, nil
}

func lookupFold(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// View is which DNS view's discovery name is probed.
type View string

const (
	Internal View = "internal" // lyncdiscoverinternal.<d>
	External View = "external" // lyncdiscover.<d>
)

// ParseView accepts internal or external.
func ParseView(s string) (View, error) {
	switch v := View(strings.ToLower(strings.TrimSpace(s))); v {
	case Internal, External:
		return v, nil
	}
	return "", fmt.Errorf("unknown view %q: use internal or external", s)
}

// Host is the discovery name of the view for domain.
func (v View) Host(domain string) string {
	if v == Internal {
		return "lyncdiscoverinternal." + domain
	}
	return "lyncdiscover." + domain
}

// LyncConfig is what the Lync autodiscover probe of one SIP domain needs.
type LyncConfig struct {
	Domain         string
	Views          []View
	Web            *webclient.Options
	RequestTimeout time.Duration
	MaxBody        int64
	// MaxRedirects bounds the redirect links followed (HTTP redirects are
	// bounded by the web client).
	MaxRedirects int
}

// LyncResult is one run's view of a SIP domain's Lync autodiscover.
type LyncResult struct {
	Domain   string       `json:"domain"`
	Views    []ViewResult `json:"views"`
	findings []probes.Finding
}

// ViewResult is the discovery through one view's name.
type ViewResult struct {
	View View   `json:"view"`
	URL  string `json:"url"`
	// Up: the discovery answered with _links and the user link answered.
	Up      bool              `json:"up"`
	Outcome httpprobe.Outcome `json:"outcome"`
	Problem string            `json:"problem,omitempty"`
	// Steps are the requests made: discovery, redirect links, user link.
	Steps     []httpprobe.Attempt `json:"steps"`
	Redirects int                 `json:"redirects"` // redirect links followed
	Links     Links               `json:"links"`
	// OAuth: the user link answered 401 with an MsRtcOAuth challenge.
	OAuth      bool     `json:"oauth"`
	TokenURL   string   `json:"token_url,omitempty"`
	GrantTypes []string `json:"grant_types,omitempty"`
	// Pool is the web services FQDN the user link points to (through the
	// external view: the pool's published external web services name).
	Pool     string        `json:"pool,omitempty"`
	Status   int           `json:"status,omitempty"` // of the discovery request
	Duration time.Duration `json:"duration_ns"`
	// Unfinished: the view did not finish within its share of the run, so
	// nothing is known about it (the run's error names it).
	Unfinished bool `json:"unfinished,omitempty"`
}

// Findings implements probes.Result.
func (r *LyncResult) Findings() []probes.Finding { return r.findings }

// ProbeLync runs Lync autodiscover through each view, each within its own
// share of the run. Every answer, good or bad, is knowledge about the
// estate, so the run has no error unless a view did not finish within its
// share (then that view is unknown and the error names it) or the run's
// deadline ended it.
func ProbeLync(ctx context.Context, cfg LyncConfig) (probes.Result, error) {
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = 5
	}
	res := &LyncResult{Domain: cfg.Domain, Views: make([]ViewResult, len(cfg.Views))}
	// Each view gets its own share of the run: one that hangs cannot keep
	// the other from being recorded.
	errs := make([]error, len(cfg.Views))
	probes.Walk(ctx, len(cfg.Views), len(cfg.Views), 0, func(wctx context.Context, i int, share time.Duration) {
		vr := probeView(wctx, cfg, cfg.Views[i])
		if vr.Outcome == httpprobe.Timeout {
			if err := probes.MemberErr(wctx, ctx, share, errors.New(vr.Problem)); err != nil {
				vr.Unfinished = true
				vr.Problem = fmt.Sprintf("%s: not finished within its share of the run (%s)", vr.URL, share.Round(time.Millisecond))
				errs[i] = fmt.Errorf("lyncdiscover %s view (%s): %w", vr.View, vr.URL, err)
			}
		}
		res.Views[i] = vr
	})
	if err := ctx.Err(); err != nil {
		return nil, probes.WithFix(fmt.Errorf("the Lync autodiscover run for %s did not finish: %w", cfg.Domain, err),
			"Raise SFBEX_HTTP_TIMEOUT, or lower SFBEX_HTTP_REQUEST_TIMEOUT so that every request fits in the run.")
	}
	if err := errors.Join(errs...); err != nil && !slices.ContainsFunc(res.Views, func(v ViewResult) bool { return !v.Unfinished }) {
		return nil, err // no view finished: nothing is known
	}
	for i := range res.Views {
		if !res.Views[i].Unfinished { // unknown, not broken: the error names it
			res.judge(&res.Views[i])
		}
	}
	return res, errors.Join(errs...)
}

func probeView(ctx context.Context, cfg LyncConfig, v View) (vr ViewResult) {
	start := time.Now()
	vr = ViewResult{View: v, URL: "https://" + v.Host(cfg.Domain) + "/"}
	defer func() { vr.Duration = time.Since(start) }()
	seen := map[string]bool{}
	next := vr.URL
	for {
		seen[strings.ToLower(next)] = true
		a, body := httpprobe.Do(ctx, cfg.Web, httpprobe.Request{
			URL: next, Header: http.Header{"Accept": {"application/json"}},
			FollowRedirects: true, Timeout: cfg.RequestTimeout, MaxBody: cfg.MaxBody, Looks: webclient.LooksJSON,
		})
		vr.Steps = append(vr.Steps, a)
		if len(vr.Steps) == 1 {
			vr.Status = a.Status
		}
		if a.Outcome != httpprobe.OK {
			vr.Outcome, vr.Problem = a.Outcome, next+": "+a.Summary()
			return vr
		}
		links, problem := linksAnswer(next, a, body, cfg.MaxBody)
		if problem != "" {
			vr.Outcome, vr.Problem = httpprobe.Unexpected, problem
			return vr
		}
		vr.Links = links
		if links.User != "" {
			break
		}
		if links.Redirect == "" {
			vr.Outcome = httpprobe.Unexpected
			vr.Problem = next + " answers _links without a user or redirect link"
			return vr
		}
		u, err := url.Parse(links.Redirect)
		switch {
		case err != nil || u.Host == "":
			vr.Outcome, vr.Problem = httpprobe.Unexpected, fmt.Sprintf("the redirect link %q is not a URL", clip(links.Redirect))
			return vr
		case u.Scheme != "https":
			vr.Outcome, vr.Problem = httpprobe.InsecureRedirect, "the redirect link "+u.Redacted()+" is not https"
			return vr
		case seen[strings.ToLower(u.String())]:
			vr.Outcome, vr.Problem = httpprobe.TooManyRedirects, "the redirect links loop back to "+u.Redacted()
			return vr
		case vr.Redirects >= cfg.MaxRedirects:
			vr.Outcome, vr.Problem = httpprobe.TooManyRedirects, "more than "+plural.Count(cfg.MaxRedirects, "redirect link", "redirect links")
			return vr
		}
		vr.Redirects++
		next = u.String()
	}
	// The user link: unauthenticated, it must ask for a web ticket.
	u, err := url.Parse(vr.Links.User)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		vr.Outcome, vr.Problem = httpprobe.Unexpected, fmt.Sprintf("the user link %q is not an https URL", clip(vr.Links.User))
		return vr
	}
	vr.Pool = strings.ToLower(u.Hostname())
	a, body := httpprobe.Do(ctx, cfg.Web, httpprobe.Request{
		URL: u.String(), Header: http.Header{"Accept": {"application/json"}},
		FollowRedirects: true, Timeout: cfg.RequestTimeout, MaxBody: cfg.MaxBody, Looks: webclient.LooksJSON,
	})
	if a.Outcome == httpprobe.OK {
		// Unauthenticated, the user link answers 401; a 2xx must at least be
		// the service's _links JSON, not a page someone else serves.
		if _, problem := linksAnswer("it", a, body, cfg.MaxBody); problem != "" {
			a.Outcome, a.Detail = httpprobe.Unexpected, problem
		}
	}
	vr.Steps = append(vr.Steps, a)
	vr.Outcome = a.Outcome
	if !a.Outcome.Reachable() {
		vr.Problem = "the user link " + u.Redacted() + " fails: " + a.Summary()
		return vr
	}
	vr.Up = true
	if ch, ok := httpprobe.Find(a.Challenges, "MsRtcOAuth"); ok && a.Status == http.StatusUnauthorized {
		vr.OAuth = true
		vr.TokenURL = ch.Param("href")
		for _, g := range strings.Split(ch.Param("grant_type"), ",") {
			if g = strings.TrimSpace(g); g != "" && len(vr.GrantTypes) < 8 {
				vr.GrantTypes = append(vr.GrantTypes, g)
			}
		}
	}
	return vr
}

// linksAnswer checks that a 2xx answer of what (a URL, or "the user link
// <URL>") is the _links JSON of Lync autodiscover, and says what it is
// instead when not.
func linksAnswer(what string, a httpprobe.Attempt, body []byte, limit int64) (Links, string) {
	if isHTML(a.ContentType, body) {
		return Links{}, fmt.Sprintf("%s answers a web page (%s) instead of the _links JSON", what, orUnknown(a.ContentType))
	}
	links, err := ParseLinks(body)
	if err != nil {
		problem := fmt.Sprintf("%s answers %s that is not Lync autodiscover: %v; it starts %s", what, orUnknown(a.ContentType), err, httpprobe.Printable(body))
		if a.Truncated {
			problem += fmt.Sprintf(" (the body is longer than SFBEX_HTTP_MAX_BODY_BYTES=%d)", limit)
		}
		return Links{}, problem
	}
	return links, ""
}

func orUnknown(ct string) string {
	if ct == "" {
		return "a body without Content-Type"
	}
	return ct
}

func (r *LyncResult) judge(vr *ViewResult) {
	host := vr.View.Host(r.Domain)
	if !vr.Up {
		r.findings = append(r.findings, probes.Finding{
			Severity: probes.Critical,
			Subject:  fmt.Sprintf("Lync autodiscover %s (%s view)", host, vr.View),
			Problem:  vr.Problem,
			Fix:      lyncFix(vr, host),
		})
		return
	}
	if !vr.OAuth {
		offered := "no challenge"
		if last := vr.Steps[len(vr.Steps)-1]; len(last.Challenges) > 0 {
			var s []string
			for _, c := range last.Challenges {
				s = append(s, c.Scheme)
			}
			offered = strings.Join(s, ", ")
		} else if last.Status != 0 {
			offered = fmt.Sprintf("HTTP %d without a challenge", last.Status)
		}
		r.findings = append(r.findings, probes.Finding{
			Severity: probes.Warning,
			Subject:  fmt.Sprintf("Lync autodiscover %s (%s view)", host, vr.View),
			Problem:  fmt.Sprintf("the user link %s answers %s instead of 401 with an MsRtcOAuth challenge: clients cannot get a web ticket", vr.Links.User, offered),
			Fix:      "Publish the pool's web services unchanged: the reverse proxy must pass /Autodiscover/AutodiscoverService.svc/root/oauth/user and its 401 through without pre-authentication; check the WebTicket service on the pool (Get-CsWebServiceConfiguration).",
		})
	}
}

func lyncFix(vr *ViewResult, host string) string {
	switch vr.Outcome {
	case httpprobe.Unexpected:
		if vr.View == External {
			return "The reverse proxy publishes something else on " + host + ": publish https://" + host + "/ to the pool's external web services (port 4443) with the host header kept, and no web page or pre-authentication in front of it."
		}
		return "Point " + host + " at the Front End pool's internal web services (a CNAME to the pool FQDN) and check that IIS on the pool serves /Autodiscover."
	case httpprobe.TLSError:
		return "Install a certificate covering " + host + " on the server answering it (the reverse proxy externally, the Front End pool internally): the web services certificate must list " + host + " as a subject alternative name."
	case httpprobe.NameError:
		return "Create the DNS record for " + host + " (see the dns check)."
	case httpprobe.Timeout, httpprobe.ConnectError:
		return "Check that " + host + " resolves to the right server and that port 443 is open from the agent to it (firewall, reverse proxy listener)."
	case httpprobe.ServerError, httpprobe.ClientError:
		return "Check the Lync/Skype web services on the pool (the IIS site 'Skype for Business Server External Web Site' or Internal, and its application pools) and the reverse proxy's publishing rule for " + host + "."
	}
	return "Open https://" + host + "/ from a client network to see what it answers; it must return the _links JSON of the pool's autodiscover service."
}

// Details lists each view in a line or two.
func (r *LyncResult) Details() []string {
	var out []string
	for _, v := range r.Views {
		line := fmt.Sprintf("%s (%s view): ", v.URL, v.View)
		if v.Up {
			line += fmt.Sprintf("pool %s, %d redirect link(s)", v.Pool, v.Redirects)
			if v.OAuth {
				line += ", MsRtcOAuth token URL " + v.TokenURL
			} else {
				line += ", no MsRtcOAuth challenge"
			}
		} else if v.Unfinished {
			line += "unknown: " + v.Problem
		} else {
			line += "DOWN: " + v.Problem
		}
		out = append(out, line+fmt.Sprintf(" (%s)", v.Duration.Truncate(time.Millisecond)))
	}
	return out
}
