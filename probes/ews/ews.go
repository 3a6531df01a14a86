// Package ews checks Exchange Web Services endpoints the way Skype for
// Business reaches them: status, latency, TLS, and the authentication
// schemes offered, above all the OAuth (Bearer) challenge that Skype for
// Business' server-to-server requests need (MS-XOAUTH 3.2.5.4).
package ews

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/support"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Config is how EWS endpoints are probed.
type Config struct {
	// ExpectOAuth: a missing Bearer challenge is a finding (Exchange 2013
	// and later, on-premises or online; Exchange 2010 has no OAuth).
	ExpectOAuth    bool
	Web            *webclient.Options
	RequestTimeout time.Duration
	MaxBody        int64
	// Credentials, when set (the probe account), sign in to read the
	// Exchange build from EWS's ServerVersionInfo header.
	Credentials *httpprobe.Credentials
}

// MaxLearned bounds the learned URLs probed per domain (they are label
// values).
const MaxLearned = 8

// Endpoint is one EWS URL's state.
type Endpoint struct {
	URL string `json:"url"`
	// Up: EWS answered as a live service: 401 with a challenge, or a 2xx
	// carrying a SOAP answer or a WSDL. Any other 2xx (a web page, an empty
	// body, random bytes, a body longer than the limit) is not EWS.
	Up      bool              `json:"up"`
	Attempt httpprobe.Attempt `json:"attempt"`
	// Schemes are the offered authentication schemes, lower-cased, with
	// unknown ones as "other" (they are label values).
	Schemes []string `json:"schemes"`
	// OAuth: a Bearer challenge is offered.
	OAuth            bool     `json:"oauth"`
	ClientID         string   `json:"client_id,omitempty"`
	TrustedIssuers   []string `json:"trusted_issuers,omitempty"`
	TokenTypes       []string `json:"token_types,omitempty"`
	AuthorizationURI string   `json:"authorization_uri,omitempty"` // hybrid modern authentication
	// OWAVersion is the X-OWA-Version header of /owa/ on the same host
	// (the full Exchange build, e.g. 15.2.2562.17); empty when absent or
	// for a Microsoft 365 host.
	OWAVersion string `json:"owa_version,omitempty"`
	// ServerVersion is the build in the ServerVersionInfo header of a
	// signed-in EWS answer (e.g. 15.2.2562.17); VersionNote says why it
	// is empty when the probe account was used.
	ServerVersion string `json:"server_version,omitempty"`
	VersionNote   string `json:"version_note,omitempty"`
	// PolicyReason is the X-EWS-Policy-Reason of a 403: EWS answered and
	// refuses by the tenant's or the user's EWS policy (Exchange Online).
	PolicyReason string `json:"policy_reason,omitempty"`
}

// PolicyReasonHeader is the header Exchange Online sets on a request its
// EWS access policy blocks (Learn "Control access to EWS in Exchange").
const PolicyReasonHeader = "X-EWS-Policy-Reason"

// The two documented reasons, verbatim.
const (
	ReasonDisabled = "EWS is disabled for this user or tenant"
	ReasonBlocked  = "EWS is blocked by policy for this user or tenant"
)

// PolicyKind is the reason as the `reason` label shows it: disabled,
// blocked_by_policy, or other for an undocumented text.
func PolicyKind(reason string) string {
	switch strings.ToLower(strings.TrimRight(strings.TrimSpace(reason), ".")) {
	case strings.ToLower(ReasonDisabled):
		return "disabled"
	case strings.ToLower(ReasonBlocked):
		return "blocked_by_policy"
	}
	return "other"
}

// Result is one run over one or more EWS URLs.
type Result struct {
	// Domain is the email domain whose autodiscover returned the URLs; ""
	// for a URL from SFBEX_EWS_URLS.
	Domain      string     `json:"domain"`
	ExpectOAuth bool       `json:"expect_oauth"`
	Endpoints   []Endpoint `json:"endpoints"`
	// LearnedAt and LearnedStale say when autodiscover last returned the
	// URLs and whether its latest run did not.
	LearnedAt    *time.Time `json:"learned_at,omitempty"`
	LearnedStale bool       `json:"learned_stale,omitempty"`
	findings     []probes.Finding
}

// Findings implements probes.Result.
func (r *Result) Findings() []probes.Finding { return r.findings }

// ProbeURL probes one configured EWS URL.
func ProbeURL(ctx context.Context, cfg Config, u string) (probes.Result, error) {
	return probe(ctx, cfg, &Result{ExpectOAuth: cfg.ExpectOAuth}, []string{u})
}

// Discovered is what one domain's autodiscover returned of EWS.
type Discovered struct {
	URLs  []string  // unique, in the order autodiscover gave them
	At    time.Time // when they were last returned; zero if never
	Stale bool      // the latest run did not return them again
	Note  string    // why the latest run returned none
}

// Learned probes the EWS URLs that one domain's autodiscover returned.
type Learned struct {
	Domain string
	Config Config
	// Source returns the URLs; before autodiscover's first run it runs it.
	Source func(ctx context.Context) (Discovered, error)
}

// Probe probes every learned URL. Before autodiscover has returned any,
// the result says so in an informational finding: the autodiscover check
// shows the cause, and EWS is not known to be down.
func (l *Learned) Probe(ctx context.Context) (probes.Result, error) {
	src, err := l.Source(ctx)
	if err != nil {
		return nil, probes.WithFix(err, "Before the autodiscover check of "+l.Domain+" has run, the EWS check runs it to learn the URLs, within its own deadline; if this repeats, raise SFBEX_HTTP_TIMEOUT.")
	}
	res := &Result{Domain: l.Domain, ExpectOAuth: l.Config.ExpectOAuth, LearnedStale: src.Stale}
	if !src.At.IsZero() {
		at := src.At
		res.LearnedAt = &at
	}
	if len(src.URLs) == 0 {
		why := src.Note
		if why == "" {
			why = "no run has returned one"
		}
		res.findings = append(res.findings, probes.Finding{
			Severity: probes.Info,
			Subject:  "EWS of " + l.Domain,
			Problem:  "no EWS URL to probe yet: autodiscover has not returned one (" + why + ")",
			Fix:      "See the autodiscover check of " + l.Domain + "; or list the EWS URLs in SFBEX_EWS_URLS.",
		})
		return res, nil
	}
	return probe(ctx, l.Config, res, src.URLs[:min(len(src.URLs), MaxLearned)])
}

func probe(ctx context.Context, cfg Config, res *Result, urls []string) (probes.Result, error) {
	res.Endpoints = make([]Endpoint, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.Endpoints[i] = probeEndpoint(ctx, cfg, u)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, probes.WithFix(fmt.Errorf("EWS probe did not finish: %w", err),
			"Raise SFBEX_HTTP_TIMEOUT, or lower SFBEX_HTTP_REQUEST_TIMEOUT so that every request fits in the run.")
	}
	for i := range res.Endpoints {
		res.judge(&res.Endpoints[i])
	}
	return res, nil
}

// probeEndpoint sends what a client sends first: an unauthenticated GET,
// which Exchange answers with 401 and its challenges. Only the start of the
// body is kept: it tells a SOAP answer from anything else, and the rest, up
// to MaxBody, is read only to learn whether it ends there.
func probeEndpoint(ctx context.Context, cfg Config, u string) Endpoint {
	a, prefix := httpprobe.Do(ctx, cfg.Web, httpprobe.Request{
		URL: u, FollowRedirects: true, Timeout: cfg.RequestTimeout, MaxBody: cfg.MaxBody, Keep: httpprobe.SOAPPrefix,
		KeepHeaders: []string{PolicyReasonHeader},
	})
	httpprobe.CheckSOAPAnswer(&a, prefix)
	ep := Endpoint{URL: u, Attempt: a, Up: a.Outcome.Reachable(), Schemes: []string{}}
	// A bare 403 proves nothing; with the policy header it is EWS itself
	// answering, and refusing by policy (Learn "Control access to EWS").
	if reason := a.Headers[http.CanonicalHeaderKey(PolicyReasonHeader)]; a.Status == http.StatusForbidden && reason != "" {
		ep.PolicyReason, ep.Up = reason, true
		ep.Attempt.Outcome = httpprobe.PolicyBlocked
		ep.Attempt.Detail = PolicyReasonHeader + ": " + reason
	}
	if a.Status != 0 {
		ep.OWAVersion = owaVersion(ctx, cfg, u)
	}
	if cfg.Credentials != nil && a.Status == http.StatusUnauthorized {
		ep.ServerVersion, ep.VersionNote = serverVersion(ctx, cfg, u)
	}
	for _, c := range a.Challenges {
		if s := SchemeLabel(c.Scheme); !slices.Contains(ep.Schemes, s) {
			ep.Schemes = append(ep.Schemes, s)
		}
	}
	if b, ok := httpprobe.Find(a.Challenges, "Bearer"); ok {
		ep.OAuth = true
		ep.ClientID = b.Param("client_id")
		ep.TrustedIssuers = splitList(b.Param("trusted_issuers"), ",")
		ep.TokenTypes = splitList(b.Param("token_types"), " ")
		ep.AuthorizationURI = b.Param("authorization_uri")
	}
	return ep
}

// owaVersion asks /owa/ of the EWS host for its X-OWA-Version header, as
// an anonymous browser would (the answer is a redirect to the sign-in
// page, which carries the header). Exchange Online's build is not ours.
func owaVersion(ctx context.Context, cfg Config, ewsURL string) string {
	u, err := url.Parse(ewsURL)
	if err != nil || estate.IsOnlineHost(u.Hostname()) {
		return ""
	}
	a, _ := httpprobe.Do(ctx, cfg.Web, httpprobe.Request{
		URL: u.Scheme + "://" + u.Host + "/owa/", Timeout: cfg.RequestTimeout, MaxBody: 64 << 10, Keep: 1, KeepHeaders: []string{"X-OWA-Version"},
	})
	v := a.Headers["X-Owa-Version"]
	if _, err := support.Parse(v); err != nil {
		return ""
	}
	return v
}

// knownSchemes are the scheme label values; anything else is "other".
var knownSchemes = []string{"basic", "bearer", "negotiate", "ntlm", "digest", "kerberos", "msrtcoauth"}

// SchemeLabel returns the scheme as the `scheme` label shows it.
func SchemeLabel(s string) string {
	s = strings.ToLower(s)
	if slices.Contains(knownSchemes, s) {
		return s
	}
	return "other"
}

// splitList splits a parameter's list, bounded and without duplicates:
// issuers are label values.
func splitList(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" && len(out) < 8 && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (r *Result) judge(ep *Endpoint) {
	subject := "EWS " + ep.URL
	if !ep.Up {
		r.findings = append(r.findings, probes.Finding{
			Severity: probes.Critical, Subject: subject,
			Problem: "EWS does not answer as a live service: " + ep.Attempt.Summary() +
				"; Skype for Business loses free/busy, conversation history, contact photos and the unified contact store",
			Fix: downFix(ep),
		})
		return
	}
	if ep.PolicyReason != "" {
		r.findings = append(r.findings, probes.Finding{
			Severity: probes.Critical, Subject: subject,
			Problem: fmt.Sprintf("EWS refuses by policy: HTTP 403 with %s: %q; Skype for Business and Exchange hybrid lose what they reach over EWS (conversation history, unified contact store, photos, free/busy, archiving)",
				PolicyReasonHeader, ep.PolicyReason),
			Fix: PolicyFix(ep.PolicyReason),
		})
		return // behind a policy block the challenges say nothing about OAuth
	}
	judged := map[string]bool{}
	for _, v := range []struct{ source, build string }{{"X-OWA-Version", ep.OWAVersion}, {"EWS ServerVersionInfo", ep.ServerVersion}} {
		b, err := support.Parse(v.build)
		if err != nil {
			continue
		}
		if p, ok := support.Identify(support.Exchange, b); ok && !p.Supported(time.Now()) && !judged[p.ID] {
			judged[p.ID] = true
			r.findings = append(r.findings, probes.Finding{
				Severity: probes.Warning, Subject: subject,
				Problem: fmt.Sprintf("the Exchange server behind it runs %s (%s %s), out of support since %s: no security updates",
					p.Name, v.source, v.build, p.EndOfSupport.Format(time.DateOnly)),
				Fix: "Move to Exchange Server Subscription Edition (15.2.2562 or later); docs/lifecycle.md lists the products and their support dates.",
			})
		}
	}
	if r.ExpectOAuth && !ep.OAuth {
		offered := "no scheme"
		if len(ep.Attempt.Challenges) > 0 {
			var s []string
			for _, c := range ep.Attempt.Challenges {
				s = append(s, c.Scheme)
			}
			offered = strings.Join(s, ", ")
		}
		r.findings = append(r.findings, probes.Finding{
			Severity: probes.Critical, Subject: subject,
			Problem: "EWS offers no OAuth (Bearer) challenge, only " + offered +
				": Skype for Business Server's OAuth requests (unified contact store, archiving, conversation history) fail",
			Fix: "Enable OAuth on the EWS virtual directory: Set-WebServicesVirtualDirectory -Identity '<server>\\EWS (Default Web Site)' -OAuthAuthentication $true, then check Get-AuthConfig and Get-PartnerApplication; for Exchange 2010, which has no OAuth, set SFBEX_EWS_EXPECT_OAUTH=false.",
		})
	}
}

// PolicyFix says what to do about a policy block, by its reason.
func PolicyFix(reason string) string {
	const tail = " Changes take up to 24 hours. EWS in Exchange Online is switched off for good on 2027-04-01 whatever the settings: plan the move to Microsoft Graph (docs/runbooks.md#ews-blocked-by-policy)."
	switch PolicyKind(reason) {
	case "disabled":
		return "EWS is switched off for the tenant or the mailbox: since 2026-10-01 a tenant that never set EwsEnabled is blocked. " +
			"Check Get-OrganizationConfig | fl EwsEnabled and Get-CASMailbox <mailbox> | fl EwsEnabled; set Set-OrganizationConfig -EwsEnabled $true (and Set-CASMailbox <mailbox> -EwsEnabled $true if the mailbox has it False), " +
			"then allow the integration's applications: Set-OrganizationConfig -EwsAllowedAppIDs \"<app id>,…\" (it replaces the list; read it with Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy)." + tail
	case "blocked_by_policy":
		return "EWS is on, but the application or user agent is not allowed: check Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy (EwsAllowedAppIDs) and the older EwsApplicationAccessPolicy with EwsAllowList / EwsBlockList " +
			"(Get-OrganizationConfig and Get-CASMailbox <mailbox>); add the Skype for Business or Exchange hybrid application's ID to EwsAllowedAppIDs (Set-OrganizationConfig -EwsAllowedAppIDs replaces the list: include the existing IDs)." + tail
	}
	return "Exchange refuses EWS by a policy whose reason is not one of the documented two: read the reason, and check EwsEnabled, EwsAllowedAppIDs and EwsApplicationAccessPolicy (Get-OrganizationConfig, Get-CASMailbox)." + tail
}

func downFix(ep *Endpoint) string {
	host := ep.URL
	if u, err := url.Parse(ep.URL); err == nil {
		host = u.Host
	}
	switch ep.Attempt.Outcome {
	case httpprobe.ServerError:
		return "Check the MSExchangeServicesAppPool in IIS on the Exchange servers behind " + host + " (Get-WebAppPoolState MSExchangeServicesAppPool), the load balancer's health check of /EWS/Exchange.asmx, and Test-OutlookWebServices."
	case httpprobe.TLSError:
		return "Install a certificate covering " + host + ", issued by a CA clients trust, and assign it to IIS on the Exchange servers (Enable-ExchangeCertificate -Services IIS)."
	case httpprobe.Timeout, httpprobe.ConnectError:
		return "Check that " + host + " resolves to the Exchange servers or their load balancer, that port 443 is open from the agent, and that IIS runs."
	case httpprobe.NameError:
		return "Create the DNS record for " + host + ", or correct the EWS URL (Get-WebServicesVirtualDirectory | fl InternalUrl,ExternalUrl)."
	case httpprobe.ClientError:
		return "Check the EWS virtual directory's URL and authentication settings (Get-WebServicesVirtualDirectory) and any reverse proxy rule in front of " + host + "."
	case httpprobe.WebPage, httpprobe.EmptyBody, httpprobe.Unexpected, httpprobe.BodyTooLarge:
		return "Something other than Exchange's EWS answers " + ep.URL + " (a reverse proxy's or load balancer's page, a default web site, another server on that name): EWS answers an anonymous request with 401 and its challenges. " +
			"Check where " + host + " resolves and the publishing rule for /EWS/ (no pre-authentication or sign-in page, passed unchanged to the Exchange servers), and that the URL is the EWS virtual directory's (Get-WebServicesVirtualDirectory | fl InternalUrl,ExternalUrl)."
	}
	return "Open " + ep.URL + " from the Skype for Business servers' network; it must answer 401 with authentication challenges."
}

// Details lists each endpoint in a line.
func (r *Result) Details() []string {
	var out []string
	if r.LearnedAt != nil {
		line := "URLs returned by autodiscover of " + r.Domain + " at " + r.LearnedAt.UTC().Format(time.RFC3339)
		if r.LearnedStale {
			line += " (its latest run did not confirm them)"
		}
		out = append(out, line)
	}
	for _, ep := range r.Endpoints {
		a := ep.Attempt
		state := "DOWN"
		if ep.Up {
			state = "up"
		}
		line := fmt.Sprintf("%s: %s, %s [%s]", ep.URL, state, a.Summary(), a.Duration.Truncate(time.Millisecond))
		if a.TLS != nil {
			line += fmt.Sprintf(", %s, certificate %s until %s", a.TLS.Version, a.TLS.Subject, a.TLS.NotAfter.UTC().Format("2006-01-02"))
			if !a.TLS.Verified {
				line += " (NOT verified: SFBEX_TLS_INSECURE_HOSTS)"
			}
		}
		if ep.OWAVersion != "" {
			line += ", X-OWA-Version " + ep.OWAVersion
		}
		if ep.ServerVersion != "" {
			line += ", ServerVersionInfo " + ep.ServerVersion
		} else if ep.VersionNote != "" {
			line += ", " + ep.VersionNote
		}
		if len(a.Challenges) > 0 {
			var cs []string
			for _, c := range a.Challenges {
				cs = append(cs, c.String())
			}
			line += "; offers " + strings.Join(cs, " | ")
		}
		out = append(out, line)
	}
	return out
}
