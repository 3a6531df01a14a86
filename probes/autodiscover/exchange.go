// Package autodiscover checks how clients find Exchange and Skype for
// Business web services: Exchange autodiscover by every method a client
// tries, in its order, with an optional authenticated POX and SOAP request
// that learns the EWS URLs (exchange.go); Skype for Business' own
// ExchangeAutodiscoverUrl (sfb.go); and Lync autodiscover through
// lyncdiscover and lyncdiscoverinternal (lyncdiscover.go).
package autodiscover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
	"github.com/sfbex/sfbex_exporter/probes/ews"
)

// Method is one way a client finds Exchange autodiscover; it is the
// `method` label.
type Method string

const (
	Root         Method = "root"              // https://<d>/autodiscover/autodiscover.xml
	Host         Method = "autodiscover_host" // https://autodiscover.<d>/autodiscover/autodiscover.xml
	HTTPRedirect Method = "http_redirect"     // http://autodiscover.<d>/… answering a redirect to https
	SRV          Method = "srv"               // _autodiscover._tcp.<d> SRV, then https://<target>/…
)

// Methods lists the methods in the order Outlook tries them after the
// Active Directory SCP (MS-OXDISCO 3.1.5).
var Methods = []Method{Root, Host, HTTPRedirect, SRV}

// LyncMethods are the only methods a Lync / Skype for Business client
// without Outlook tries, in its order (seed 004).
var LyncMethods = []Method{Host, SRV}

// Clients, as the `client` label shows them.
const (
	ClientOutlook = "outlook"
	ClientLync    = "lync"
)

const (
	xmlPath = "/autodiscover/autodiscover.xml"
	svcPath = "/autodiscover/autodiscover.svc"
	// maxAnswerRedirects bounds redirectUrl answers followed for the probe
	// mailbox.
	maxAnswerRedirects = 3
)

// Config is what the Exchange autodiscover probe of one email domain needs.
type Config struct {
	Domain string
	// Exchange is where Exchange lives: when not on-premises, redirects to
	// Microsoft 365 hosts are expected and the autodiscover.<d> HTTPS
	// method may legitimately fail.
	Exchange     estate.Mode
	Resolvers    []estate.Resolver // for the SRV method; external views are asked first
	QueryTimeout time.Duration
	Web          *webclient.Options
	// RequestTimeout bounds one request; MaxBody one body.
	RequestTimeout time.Duration
	MaxBody        int64
	// RedirectHosts are hosts outside Domain that redirects may lead to and
	// that may receive the probe credentials.
	RedirectHosts []string
	// Credentials and Mailbox enable the authenticated POX and SOAP
	// requests; nil Credentials leaves them out.
	Credentials *httpprobe.Credentials
	Mailbox     string
	// SFBURL is Skype for Business' ExchangeAutodiscoverUrl
	// (Get-CsOAuthConfiguration), checked with this domain; "" for none.
	SFBURL string
}

// Prober checks one email domain. It remembers the last definitive SRV
// answer (a failed lookup shows it, marked stale) and the EWS URLs
// autodiscover last returned, which the EWS family probes.
type Prober struct {
	cfg Config

	// runMu serialises runs: the scheduler's, and the one EWSURLs starts
	// when the EWS check comes first.
	runMu sync.Mutex

	mu      sync.Mutex
	lastSRV *MethodResult
	// lastMethod is each method's latest finished result, shown (stale)
	// when a run gives up on the method.
	lastMethod map[Method]MethodResult
	learned    []EWSURL
	learnedAt  time.Time
	lastNote   string // why the latest run learned no EWS URL
	ran        bool   // a run has completed
}

// NewProber returns a prober for cfg.
func NewProber(cfg Config) *Prober {
	cfg.Domain = strings.ToLower(cfg.Domain)
	return &Prober{cfg: cfg}
}

// Result is one run's view of a domain's Exchange autodiscover.
type Result struct {
	Domain  string         `json:"domain"`
	Methods []MethodResult `json:"methods"`
	// Outlook and Lync are the methods each client ends on ("" when none
	// works).
	Outlook Method `json:"outlook_ends_on"`
	Lync    Method `json:"lync_ends_on"`
	// Requests are the authenticated POX and SOAP requests, when
	// credentials are configured and a method works.
	Requests []RequestResult `json:"requests,omitempty"`
	// EWS are the EWS URLs autodiscover returned: this run's, or the last
	// ones known when EWSStale.
	EWS          []EWSURL   `json:"ews_urls,omitempty"`
	EWSStale     bool       `json:"ews_urls_stale,omitempty"`
	EWSLearnedAt *time.Time `json:"ews_urls_learned_at,omitempty"`
	// SFB is the check of Skype for Business' ExchangeAutodiscoverUrl.
	SFB *SFBResult `json:"sfb_exchange_autodiscover_url,omitempty"`

	credentialsNote string
	findings        []probes.Finding
}

// MethodResult is one method's outcome.
type MethodResult struct {
	Method Method `json:"method"`
	// Up: the method leads to an autodiscover endpoint that answers
	// (2xx autodiscover XML, or 401 with a challenge).
	Up      bool              `json:"up"`
	Attempt httpprobe.Attempt `json:"attempt"`
	// Endpoint is the https autodiscover.xml URL that answered.
	Endpoint  string `json:"endpoint,omitempty"`
	SRVTarget string `json:"srv_target,omitempty"`
	Resolver  string `json:"resolver,omitempty"`
	// Stale: the SRV lookup failed, or the method did not finish within
	// its share of the run, and this comes from an earlier run.
	Stale bool `json:"stale,omitempty"`
	// Unfinished: the method did not finish within its share of the run,
	// so nothing is known about it (the run's error names it).
	Unfinished bool `json:"unfinished,omitempty"`
}

// RequestResult is one authenticated autodiscover request.
type RequestResult struct {
	Protocol string `json:"protocol"` // pox or soap
	// OK: the answer held at least one EWS URL.
	OK              bool              `json:"ok"`
	Attempt         httpprobe.Attempt `json:"attempt"`
	Redirects       int               `json:"redirects,omitempty"` // redirectUrl answers followed
	Problem         string            `json:"problem,omitempty"`
	InternalEWS     string            `json:"internal_ews_url,omitempty"`
	ExternalEWS     string            `json:"external_ews_url,omitempty"`
	ExchangeVersion string            `json:"exchange_version,omitempty"`
	// Unfinished: the request did not finish within its share of the run.
	Unfinished bool `json:"unfinished,omitempty"`

	severity probes.Severity
	fix      string
}

// EWSURL is an EWS URL autodiscover returned.
type EWSURL struct {
	URL      string `json:"url"`
	Role     string `json:"role"`     // internal or external
	Protocol string `json:"protocol"` // pox or soap
}

// Findings implements probes.Result.
func (r *Result) Findings() []probes.Finding { return r.findings }

// Method returns the result of method m.
func (r *Result) Method(m Method) *MethodResult {
	for i := range r.Methods {
		if r.Methods[i].Method == m {
			return &r.Methods[i]
		}
	}
	return nil
}

// EndsOn returns the method client ends on, or "".
func (r *Result) EndsOn(client string) Method {
	if client == ClientLync {
		return r.Lync
	}
	return r.Outlook
}

// Probe tries every method at once, then asks the endpoint a Skype for
// Business client ends on (or else Outlook's) for the EWS URLs with the
// probe credentials. Answers of any kind are findings about the estate;
// the error reports what the agent could not learn: an SRV lookup without
// a definitive answer, or credentials the server rejected.
func (p *Prober) Probe(ctx context.Context) (probes.Result, error) {
	p.runMu.Lock()
	defer p.runMu.Unlock()
	return p.probe(ctx)
}

func (p *Prober) probe(ctx context.Context) (probes.Result, error) {
	res := &Result{Domain: p.cfg.Domain, Methods: make([]MethodResult, len(Methods))}
	// The methods (and the Skype for Business URL) share the run, each
	// with its own part of it, so that one that hangs cannot keep the
	// others from being recorded; with credentials, half the run is kept
	// for the authenticated requests that follow.
	mctx, cancel := ctx, context.CancelFunc(func() {})
	if dl, ok := ctx.Deadline(); ok && p.cfg.Credentials != nil {
		mctx, cancel = context.WithDeadline(ctx, time.Now().Add(time.Until(dl)/2))
	}
	n := len(Methods)
	if p.cfg.SFBURL != "" {
		n++
	}
	errs := make([]error, n)
	probes.Walk(mctx, n, n, 0, func(wctx context.Context, i int, share time.Duration) {
		if i < len(Methods) {
			mr := p.method(wctx, Methods[i])
			errs[i] = p.unfinished(wctx, ctx, share, &mr.Attempt, &mr.Unfinished, fmt.Sprintf("autodiscover method %s (%s)", mr.Method, mr.Attempt.URL))
			res.Methods[i] = mr
			return
		}
		res.SFB = p.sfb(wctx)
		errs[i] = p.unfinished(wctx, ctx, share, &res.SFB.Attempt, &res.SFB.Unfinished, "Skype for Business ExchangeAutodiscoverUrl "+res.SFB.URL)
	})
	cancel()
	if err := runEnded(ctx, p.cfg.Domain); err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(res.Methods, func(mr MethodResult) bool { return !mr.Unfinished }) {
		// Not one method answered or failed on its own: nothing is known.
		return nil, probes.WithFix(fmt.Errorf("no autodiscover method for %s finished within its share of the run: %w", p.cfg.Domain, errors.Join(errs...)),
			"Raise SFBEX_HTTP_TIMEOUT, or lower SFBEX_HTTP_REQUEST_TIMEOUT so that every request fits in the run.")
	}

	p.keepMethods(res)
	if err := p.keepSRV(res.Method(SRV)); err != nil {
		errs = append(errs, err)
	}
	res.Outlook = firstUp(res, Methods)
	res.Lync = firstUp(res, LyncMethods)
	if p.cfg.Credentials != nil {
		errs = append(errs, p.authenticated(ctx, res)...)
		if err := runEnded(ctx, p.cfg.Domain); err != nil {
			return nil, err
		}
	}
	p.judge(res)
	judgeBuilds(res, time.Now(), func(sev probes.Severity, subject, problem, fix string) {
		res.findings = append(res.findings, probes.Finding{Severity: sev, Subject: subject, Problem: problem, Fix: fix})
	})
	p.mu.Lock()
	p.ran = true
	p.mu.Unlock()
	return res, errors.Join(errs...)
}

func runEnded(ctx context.Context, domain string) error {
	if err := ctx.Err(); err != nil {
		return probes.WithFix(fmt.Errorf("the Exchange autodiscover run for %s did not finish: %w", domain, err),
			"Raise SFBEX_HTTP_TIMEOUT, or lower SFBEX_HTTP_REQUEST_TIMEOUT so that every request fits in the run.")
	}
	return nil
}

// unfinished checks whether a member of the run timed out within its
// share (wctx) rather than on its own request timeout: then nothing is
// known about it, the attempt says why, and the error names it.
func (p *Prober) unfinished(wctx, run context.Context, share time.Duration, a *httpprobe.Attempt, flag *bool, what string) error {
	if a.Outcome != httpprobe.Timeout {
		return nil
	}
	err := probes.MemberErr(wctx, run, share, errors.New(a.Detail))
	if err == nil {
		return nil
	}
	*flag = true
	a.Detail = fmt.Sprintf("not finished within its share of the run (%s)", share.Round(time.Millisecond))
	return fmt.Errorf("%s: %w", what, err)
}

func firstUp(res *Result, order []Method) Method {
	for _, m := range order {
		if mr := res.Method(m); mr != nil && mr.Up {
			return m
		}
	}
	return ""
}

// keepMethods remembers each method's latest finished result, and shows
// it, marked stale, in place of a method the run gave up on; a method never
// finished stays unfinished (unknown).
func (p *Prober) keepMethods(res *Result) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastMethod == nil {
		p.lastMethod = map[Method]MethodResult{}
	}
	for i := range res.Methods {
		mr := &res.Methods[i]
		last, known := p.lastMethod[mr.Method]
		switch {
		case !mr.Unfinished:
			p.lastMethod[mr.Method] = *mr
		case known:
			last.Stale = true
			*mr = last
		}
	}
}

// keepSRV remembers a definitive SRV outcome, or shows the last one,
// marked stale, when the lookup failed.
func (p *Prober) keepSRV(mr *MethodResult) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if mr.Unfinished || mr.Stale {
		return nil // not this run's answer; keepMethods said what is shown
	}
	if mr.Attempt.Outcome != httpprobe.LookupError {
		keep := *mr
		p.lastSRV = &keep
		return nil
	}
	detail := mr.Attempt.Detail
	if p.lastSRV != nil {
		*mr = *p.lastSRV
		mr.Stale = true
	}
	return probes.WithFix(fmt.Errorf("_autodiscover._tcp.%s SRV: no resolver gave a definitive answer (%s)", p.cfg.Domain, detail),
		"Check that the agent can query the resolvers in SFBEX_DNS_RESOLVERS (the dns check shows the same lookups).")
}

func (p *Prober) method(ctx context.Context, m Method) MethodResult {
	d := p.cfg.Domain
	switch m {
	case Root:
		return p.httpsMethod(ctx, m, "https://"+d+xmlPath, "")
	case Host:
		return p.httpsMethod(ctx, m, "https://autodiscover."+d+xmlPath, "")
	case HTTPRedirect:
		return p.redirectMethod(ctx)
	default:
		return p.srvMethod(ctx)
	}
}

// httpsMethod GETs an autodiscover.xml URL without credentials, following
// redirects within the allowed hosts. Exchange answers 401 with its
// challenges; a 200 must be autodiscover XML, not a web site.
func (p *Prober) httpsMethod(ctx context.Context, m Method, u, alsoAllow string) MethodResult {
	a, body := httpprobe.Do(ctx, p.cfg.Web, httpprobe.Request{
		URL: u, FollowRedirects: true, AllowHost: p.allowFunc(alsoAllow),
		Timeout: p.cfg.RequestTimeout, MaxBody: p.cfg.MaxBody, Looks: webclient.LooksXML,
	})
	final := u
	if a.FinalURL != "" {
		final = a.FinalURL
	}
	if a.Outcome == httpprobe.OK {
		if isHTML(a.ContentType, body) {
			a.Outcome = httpprobe.Unexpected
			a.Detail = fmt.Sprintf("answers HTTP %d with a web page (%s), not Exchange autodiscover", a.Status, a.ContentType)
		} else if _, err := ParsePOX(body); err != nil {
			a.Outcome = httpprobe.Unexpected
			a.Detail = fmt.Sprintf("answers HTTP %d that is not Exchange autodiscover: %v", a.Status, err)
		}
	}
	if a.Outcome.Reachable() && !isXMLPath(final) {
		a.Outcome = httpprobe.WrongRedirect
		a.Detail = "redirected to " + final + ", which is not an autodiscover.xml URL"
	}
	mr := MethodResult{Method: m, Attempt: a, Up: a.Outcome.Reachable()}
	if mr.Up {
		mr.Endpoint = final
	}
	return mr
}

// redirectMethod: an unauthenticated GET on http://autodiscover.<d>/…
// must answer with a redirect to an https autodiscover.xml URL on an
// allowed host, which must answer. A wrong target is never contacted.
func (p *Prober) redirectMethod(ctx context.Context) MethodResult {
	start := "http://autodiscover." + p.cfg.Domain + xmlPath
	a, _ := httpprobe.Do(ctx, p.cfg.Web, httpprobe.Request{URL: start, Timeout: p.cfg.RequestTimeout, MaxBody: p.cfg.MaxBody})
	mr := MethodResult{Method: HTTPRedirect, Attempt: a}
	switch {
	case a.Outcome != httpprobe.Redirect && a.Status != 0:
		mr.Attempt.Outcome = httpprobe.NoRedirect
		mr.Attempt.Detail = fmt.Sprintf("answers HTTP %d instead of a redirect to an https autodiscover URL", a.Status)
		return mr
	case a.Outcome != httpprobe.Redirect:
		return mr // no answer: the attempt says why
	}
	base, _ := url.Parse(start)
	target, err := base.Parse(a.Location)
	switch {
	case err != nil || a.Location == "":
		mr.Attempt.Outcome, mr.Attempt.Detail = httpprobe.Unexpected, fmt.Sprintf("answers HTTP %d without a usable Location header", a.Status)
		return mr
	case target.Scheme != "https":
		mr.Attempt.Outcome = httpprobe.InsecureRedirect
		mr.Attempt.Detail = "redirects to " + target.Redacted() + ", which is not https: clients refuse it"
		return mr
	case !p.allowed(target.Hostname(), ""):
		mr.Attempt.Outcome = httpprobe.WrongRedirect
		mr.Attempt.Detail = fmt.Sprintf("redirects to %s, a host outside %s%s: Outlook warns users, and the agent does not follow it",
			target.Redacted(), p.cfg.Domain, p.onlineNote())
		return mr
	case !isXMLPath(target.String()):
		mr.Attempt.Outcome = httpprobe.WrongRedirect
		mr.Attempt.Detail = "redirects to " + target.Redacted() + ", which is not an autodiscover.xml URL"
		return mr
	}
	t := p.httpsMethod(ctx, HTTPRedirect, target.String(), "")
	if !t.Up {
		t.Attempt.Detail = strings.TrimSuffix("at the redirect target "+target.Redacted()+": "+t.Attempt.Detail, ": ")
	}
	t.Attempt.Redirects = append([]string{target.Redacted()}, t.Attempt.Redirects...)
	if t.Attempt.FinalURL == "" {
		t.Attempt.FinalURL = target.Redacted()
	}
	t.Attempt.URL = start
	t.Attempt.Duration += a.Duration
	return t
}

func (p *Prober) onlineNote() string {
	if p.cfg.Exchange == estate.OnPrem {
		return ""
	}
	return " and not a Microsoft 365 host"
}

// srvMethod looks _autodiscover._tcp.<d> up through the resolvers,
// external views first (the SRV record is the fallback of clients outside;
// internal clients use the SCP), and tries the best target.
func (p *Prober) srvMethod(ctx context.Context) MethodResult {
	name := "_autodiscover._tcp." + p.cfg.Domain
	resolvers := slices.Clone(p.cfg.Resolvers)
	slices.SortStableFunc(resolvers, func(a, b estate.Resolver) int {
		switch {
		case a.Internal == b.Internal:
			return 0
		case !a.Internal:
			return -1
		}
		return 1
	})
	var failures []string
	for _, r := range resolvers {
		ans := dns.Resolve(ctx, r, name, mdns.TypeSRV, p.cfg.QueryTimeout)
		if !ans.Outcome.Definitive() {
			failures = append(failures, fmt.Sprintf("%s: %s %s", r.Name, ans.Outcome, ans.Detail))
			continue
		}
		var best *dns.SRV
		for i := range ans.SRVs {
			if ans.SRVs[i].Target != "" {
				best = &ans.SRVs[i]
				break
			}
		}
		if !ans.Present() || best == nil {
			return MethodResult{Method: SRV, Resolver: r.Name, Attempt: httpprobe.Attempt{
				URL: "dns:" + name, Outcome: httpprobe.NoRecord, Duration: ans.Duration,
				Detail: fmt.Sprintf("%s has no SRV record (resolver %s)", name, r.Name),
			}}
		}
		hostPort := net.JoinHostPort(best.Target, strconv.Itoa(int(best.Port)))
		u := "https://" + hostPort + xmlPath
		if best.Port == 443 {
			u = "https://" + best.Target + xmlPath
		}
		mr := p.httpsMethod(ctx, SRV, u, best.Target)
		mr.SRVTarget, mr.Resolver = hostPort, r.Name
		mr.Attempt.Duration += ans.Duration
		return mr
	}
	return MethodResult{Method: SRV, Attempt: httpprobe.Attempt{
		URL: "dns:" + name, Outcome: httpprobe.LookupError, Detail: strings.Join(failures, "; "),
	}}
}

// allowed reports whether host may be redirected to and may receive the
// probe credentials: the domain and its subdomains, the configured
// redirect hosts, Microsoft 365 when Exchange is not (only) on-premises,
// and also (the SRV target, which the admin's DNS names).
func (p *Prober) allowed(host, also string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	d := p.cfg.Domain
	switch {
	case h == d || strings.HasSuffix(h, "."+d):
		return true
	case also != "" && strings.EqualFold(h, also):
		return true
	case slices.ContainsFunc(p.cfg.RedirectHosts, func(r string) bool { return strings.EqualFold(r, h) }):
		return true
	}
	return p.cfg.Exchange != estate.OnPrem && estate.IsOnlineHost(h)
}

func (p *Prober) allowFunc(also string) func(string) bool {
	return func(h string) bool { return p.allowed(h, also) }
}

func isXMLPath(u string) bool {
	pu, err := url.Parse(u)
	return err == nil && strings.HasSuffix(strings.ToLower(pu.Path), xmlPath)
}

// svcURL turns an autodiscover.xml endpoint into its autodiscover.svc.
func svcURL(xmlURL string) string {
	u, err := url.Parse(xmlURL)
	if err != nil {
		return xmlURL
	}
	u.Path = u.Path[:len(u.Path)-len(xmlPath)] + svcPath
	u.RawQuery = ""
	return u.String()
}

// authenticated asks the endpoint a client ends on for the EWS URLs, by
// POX and SOAP, and updates what the EWS family probes.
func (p *Prober) authenticated(ctx context.Context, res *Result) []error {
	m := res.Lync
	if m == "" {
		m = res.Outlook
	}
	var endpoint string
	if m != "" {
		endpoint = res.Method(m).Endpoint
	}
	u, err := url.Parse(endpoint)
	switch {
	case m == "":
		p.keepLearned(res, nil, "no autodiscover method works, so the probe mailbox could not be asked")
		return nil
	case err != nil || !isXMLPath(endpoint):
		p.keepLearned(res, nil, "the endpoint "+endpoint+" is not an autodiscover.xml URL")
		return nil
	case !p.allowed(u.Hostname(), ""):
		res.credentialsNote = fmt.Sprintf("clients end on %s (%s), outside %s: the agent sends the probe credentials only to %s, its subdomains and SFBEX_AUTODISCOVER_REDIRECT_HOSTS",
			u.Hostname(), m, p.cfg.Domain, p.cfg.Domain)
		p.keepLearned(res, nil, res.credentialsNote)
		return nil
	}
	reqs := make([]RequestResult, 2)
	errs := make([]error, 2)
	probes.Walk(ctx, 2, 2, 0, func(wctx context.Context, i int, share time.Duration) {
		if i == 0 {
			reqs[0] = p.pox(wctx, endpoint)
		} else {
			reqs[1] = p.soap(wctx, svcURL(endpoint))
		}
		rr := &reqs[i]
		if errs[i] = p.unfinished(wctx, ctx, share, &rr.Attempt, &rr.Unfinished, strings.ToUpper(rr.Protocol)+" autodiscover at "+rr.Attempt.URL); errs[i] != nil {
			rr.OK, rr.Problem, rr.severity, rr.fix = false, rr.Attempt.Summary(), probes.Info, "" // the run's error says it
		}
	})
	res.Requests = reqs

	var learned []EWSURL
	for _, rr := range reqs {
		for _, e := range []EWSURL{{rr.InternalEWS, "internal", rr.Protocol}, {rr.ExternalEWS, "external", rr.Protocol}} {
			if e.URL != "" && isHTTPS(e.URL) {
				learned = append(learned, e)
			}
		}
		if rr.Attempt.Outcome == httpprobe.AuthRejected {
			errs = append(errs, probes.WithFix(
				fmt.Errorf("%s autodiscover at %s: %s", strings.ToUpper(rr.Protocol), rr.Attempt.URL, rr.Attempt.Detail),
				"Check SFBEX_AUTODISCOVER_USER and SFBEX_AUTODISCOVER_PASSWORD: sign in to OWA with them, and look for a locked account or an expired or changed password (Get-ADUser <user> -Properties LockedOut,PasswordExpired)."))
		}
	}
	note := ""
	if len(learned) == 0 {
		note = "the authenticated requests returned no EWS URL"
	}
	p.keepLearned(res, learned, note)
	return errs
}

// keepLearned records this run's EWS URLs, or shows the last ones known,
// marked stale.
func (p *Prober) keepLearned(res *Result, learned []EWSURL, note string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(learned) > 0 {
		p.learned, p.learnedAt, p.lastNote = learned, time.Now(), ""
	} else {
		p.lastNote = note
	}
	res.EWS = p.learned
	res.EWSStale = len(learned) == 0 && len(p.learned) > 0
	if !p.learnedAt.IsZero() {
		at := p.learnedAt
		res.EWSLearnedAt = &at
	}
}

func (p *Prober) hasRun() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ran
}

func isHTTPS(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != ""
}

// EWSURLs returns the EWS URLs autodiscover returned. Before the prober's
// first run it runs the prober itself, so that the first EWS run has URLs
// to probe without waiting for a concurrency slot the EWS check may be
// holding.
func (p *Prober) EWSURLs(ctx context.Context) (ews.Discovered, error) {
	if !p.hasRun() {
		p.runMu.Lock()
		if !p.hasRun() {
			_, _ = p.probe(ctx)
		}
		p.runMu.Unlock()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.ran {
		return ews.Discovered{}, fmt.Errorf("the autodiscover check of %s has not completed a run: %w", p.cfg.Domain, context.Cause(ctx))
	}
	l := ews.Discovered{At: p.learnedAt, Note: p.lastNote, Stale: p.lastNote != "" && len(p.learned) > 0}
	for _, e := range p.learned {
		if !slices.ContainsFunc(l.URLs, func(u string) bool { return strings.EqualFold(u, e.URL) }) {
			l.URLs = append(l.URLs, e.URL)
		}
	}
	return l, nil
}

func (p *Prober) request(u string, body []byte, header http.Header) httpprobe.Request {
	header.Set("Content-Type", "text/xml; charset=utf-8")
	return httpprobe.Request{Method: http.MethodPost, URL: u, Header: header, Body: body,
		Timeout: p.cfg.RequestTimeout, MaxBody: p.cfg.MaxBody, Looks: webclient.LooksXML}
}

// pox posts the POX request for the probe mailbox, following redirectUrl
// answers to allowed https hosts.
func (p *Prober) pox(ctx context.Context, u string) RequestResult {
	rr := RequestResult{Protocol: "pox"}
	for {
		a, body := httpprobe.DoAuthenticated(ctx, p.cfg.Web, p.request(u, POXRequest(p.cfg.Mailbox), http.Header{}), p.cfg.Credentials)
		rr.Attempt = a
		if a.Outcome != httpprobe.OK {
			p.failedRequest(&rr)
			return rr
		}
		resp, err := ParsePOX(body)
		switch {
		case err != nil:
			rr.fail(probes.Warning, "the answer is not POX autodiscover: "+err.Error(), "Check what answers "+u+": a reverse proxy or web site may stand in front of Exchange.")
			return rr
		case resp.ErrorCode != "":
			rr.fail(probes.Warning, fmt.Sprintf("autodiscover answers error %s for the probe mailbox: %s", resp.ErrorCode, resp.ErrorMessage),
				"Set SFBEX_AUTODISCOVER_MAILBOX (or SFBEX_AUTODISCOVER_USER) to the primary SMTP address of a mailbox in this Exchange organisation; Test-OutlookWebServices -Identity <mailbox> shows the same answer.")
			return rr
		case resp.RedirectAddr:
			rr.fail(probes.Warning, "autodiscover sends the probe mailbox to another address (redirectAddr): the mailbox is hosted elsewhere (e.g. moved to Exchange Online)",
				"Use a probe mailbox hosted where Skype for Business users' mailboxes are (SFBEX_AUTODISCOVER_MAILBOX).")
			return rr
		case strings.EqualFold(resp.Action, "redirectUrl"):
			next, ok := p.followAnswer(&rr, resp.RedirectURL)
			if !ok {
				return rr
			}
			u = next
			continue
		}
		rr.InternalEWS, rr.ExternalEWS, rr.ExchangeVersion = resp.EWS("EXCH"), resp.EWS("EXPR"), resp.ExchangeVersion()
		p.checkEWS(&rr)
		return rr
	}
}

// soap asks autodiscover.svc for InternalEwsUrl and ExternalEwsUrl.
func (p *Prober) soap(ctx context.Context, u string) RequestResult {
	rr := RequestResult{Protocol: "soap"}
	for {
		h := http.Header{"SOAPAction": {`"` + soapAction + `"`}}
		a, body := httpprobe.DoAuthenticated(ctx, p.cfg.Web, p.request(u, SOAPRequest(u, p.cfg.Mailbox), h), p.cfg.Credentials)
		rr.Attempt = a
		if a.Outcome != httpprobe.OK && a.Outcome != httpprobe.ServerError {
			p.failedRequest(&rr)
			return rr
		}
		resp, err := ParseSOAP(body)
		if err != nil {
			if a.Outcome == httpprobe.ServerError {
				p.failedRequest(&rr)
				return rr
			}
			rr.fail(probes.Warning, "the answer is not SOAP autodiscover: "+err.Error(), "Check what answers "+u+": a reverse proxy or web site may stand in front of Exchange.")
			return rr
		}
		switch code := resp.Failed(); {
		case strings.EqualFold(code, "RedirectUrl"):
			next, ok := p.followAnswer(&rr, resp.RedirectTarget)
			if !ok {
				return rr
			}
			u = next
			continue
		case strings.EqualFold(code, "RedirectAddress"):
			rr.fail(probes.Warning, "autodiscover.svc sends the probe mailbox to another address (RedirectAddress): the mailbox is hosted elsewhere",
				"Use a probe mailbox hosted where Skype for Business users' mailboxes are (SFBEX_AUTODISCOVER_MAILBOX).")
			return rr
		case code != "":
			msg := resp.UserErrorMessage
			if msg == "" {
				msg = resp.ErrorMessage + resp.Fault
			}
			rr.fail(probes.Warning, fmt.Sprintf("autodiscover.svc answers %s for the probe mailbox: %s", code, msg),
				"Set SFBEX_AUTODISCOVER_MAILBOX (or SFBEX_AUTODISCOVER_USER) to the primary SMTP address of a mailbox in this Exchange organisation; Test-OutlookWebServices -Identity <mailbox> shows the same answer.")
			return rr
		}
		rr.InternalEWS, rr.ExternalEWS, rr.ExchangeVersion = resp.InternalEwsURL, resp.ExternalEwsURL, resp.ExchangeVersion
		p.checkEWS(&rr)
		return rr
	}
}

func (rr *RequestResult) fail(sev probes.Severity, problem, fix string) {
	rr.OK, rr.severity, rr.Problem, rr.fix = false, sev, problem, fix
}

// followAnswer checks a redirectUrl answer before following it.
func (p *Prober) followAnswer(rr *RequestResult, target string) (string, bool) {
	u, err := url.Parse(target)
	switch {
	case rr.Redirects >= maxAnswerRedirects:
		rr.fail(probes.Warning, fmt.Sprintf("more than %d redirectUrl answers", maxAnswerRedirects), "Check the autodiscover redirection settings; a loop sends clients in circles.")
	case err != nil || u.Scheme != "https" || u.Host == "":
		rr.fail(probes.Warning, fmt.Sprintf("autodiscover redirects the probe mailbox to %q, which is not an https URL", clip(target)), "Fix the redirect target in Exchange (an https autodiscover URL).")
	case !p.allowed(u.Hostname(), ""):
		rr.fail(probes.Warning, fmt.Sprintf("autodiscover redirects the probe mailbox to %s, outside %s: the agent sends credentials only to %s, its subdomains and SFBEX_AUTODISCOVER_REDIRECT_HOSTS",
			u.Redacted(), p.cfg.Domain, p.cfg.Domain), "Add the host to SFBEX_AUTODISCOVER_REDIRECT_HOSTS if it is yours.")
	default:
		rr.Redirects++
		return u.String(), true
	}
	return "", false
}

func (p *Prober) failedRequest(rr *RequestResult) {
	a := &rr.Attempt
	rr.Problem = a.Summary()
	switch a.Outcome {
	case httpprobe.AuthRejected:
		rr.severity = probes.Info // the run's error says it
		rr.fix = ""
	case httpprobe.AuthNotOffered:
		rr.severity = probes.Warning
		rr.fix = "Enable Windows (NTLM) or Basic authentication on the Autodiscover virtual directory (Set-AutodiscoverVirtualDirectory -WindowsAuthentication $true), or set SFBEX_AUTODISCOVER_AUTH to a scheme the server offers."
	default:
		rr.severity = probes.Critical
		rr.fix = "Autodiscover answers anonymous requests but fails for a signed-in mailbox: check the Exchange event log and the MSExchangeAutodiscoverAppPool on the server behind " + hostOf(a.URL) + "; Test-OutlookWebServices reproduces it."
	}
}

func (p *Prober) checkEWS(rr *RequestResult) {
	for _, u := range []string{rr.InternalEWS, rr.ExternalEWS} {
		if u != "" && !isHTTPS(u) {
			rr.fail(probes.Warning, "autodiscover returns the EWS URL "+clip(u)+", which is not an https URL: clients refuse it",
				"Set-WebServicesVirtualDirectory -InternalUrl/-ExternalUrl https://<host>/EWS/Exchange.asmx")
			return
		}
	}
	rr.OK = rr.InternalEWS != "" || rr.ExternalEWS != ""
	if !rr.OK {
		rr.fail(probes.Critical, "autodiscover returns no EWS URL for the probe mailbox: Skype for Business clients and servers cannot find EWS",
			"Set-WebServicesVirtualDirectory -Identity '<server>\\EWS (Default Web Site)' -InternalUrl https://mail.<domain>/EWS/Exchange.asmx -ExternalUrl https://mail.<domain>/EWS/Exchange.asmx")
	}
}

func hostOf(u string) string {
	if pu, err := url.Parse(u); err == nil {
		return pu.Host
	}
	return u
}
