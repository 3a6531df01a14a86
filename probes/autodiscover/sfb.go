package autodiscover

import (
	"context"
	"net/url"
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
)

// SFBResult checks Skype for Business' ExchangeAutodiscoverUrl
// (Set-CsOAuthConfiguration), which the server uses to find EWS for the
// unified contact store, archiving and conversation history.
type SFBResult struct {
	URL string `json:"url"`
	// SVC: the URL points at autodiscover.svc, as it must (seed 003), not
	// at autodiscover.xml.
	SVC bool `json:"svc"`
	// Up: the URL answers as the SOAP service does: 401 with a challenge,
	// or a 2xx with a SOAP answer or a WSDL (not a web page, an empty body
	// or other bytes).
	Up bool `json:"up"`
	// OAuth: the answer offers a Bearer challenge, which the server-to-
	// server requests of Skype for Business need.
	OAuth   bool              `json:"oauth"`
	Attempt httpprobe.Attempt `json:"attempt"`
	// Unfinished: the request did not finish within its share of the run.
	Unfinished bool `json:"unfinished,omitempty"`
}

func (p *Prober) sfb(ctx context.Context) *SFBResult {
	r := &SFBResult{URL: p.cfg.SFBURL}
	u, err := url.Parse(p.cfg.SFBURL)
	if err == nil {
		r.SVC = strings.HasSuffix(strings.TrimRight(strings.ToLower(u.Path), "/"), svcPath)
	}
	host := ""
	if u != nil {
		host = u.Hostname()
	}
	a, prefix := httpprobe.Do(ctx, p.cfg.Web, httpprobe.Request{
		URL: p.cfg.SFBURL, FollowRedirects: true, AllowHost: p.allowFunc(host),
		Timeout: p.cfg.RequestTimeout, MaxBody: p.cfg.MaxBody, Keep: httpprobe.SOAPPrefix,
	})
	httpprobe.CheckSOAPAnswer(&a, prefix)
	r.Attempt, r.Up = a, a.Outcome.Reachable()
	_, r.OAuth = httpprobe.Find(a.Challenges, "Bearer")
	return r
}
