package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/autodiscover"
	"github.com/sfbex/sfbex_exporter/probes/ews"
)

// httpChecks builds the HTTP families' checks: Exchange autodiscover per
// email domain (with Skype for Business' ExchangeAutodiscoverUrl on the
// domain it names), Lync autodiscover per SIP domain, and EWS per
// configured URL and, with a probe account, per email domain over the URLs
// its autodiscover returns.
func httpChecks(s *Settings) []*probes.Check {
	h := &s.HTTP
	web := &s.Web
	newCheck := func(probe, target string, run func(context.Context) (probes.Result, error)) *probes.Check {
		return &probes.Check{Probe: probe, Target: target, Interval: h.Interval, Timeout: h.Timeout, Run: run}
	}
	ewsCfg := ews.Config{ExpectOAuth: h.ExpectOAuth, Web: web, RequestTimeout: h.RequestTimeout, MaxBody: h.MaxBody}
	sfbDomain := sfbURLDomain(h.SFBURL, s.EmailDomains)

	var checks, ewsChecks []*probes.Check
	for _, d := range s.EmailDomains {
		cfg := autodiscover.Config{
			Domain: d, Exchange: s.Exchange, Resolvers: s.Resolvers, QueryTimeout: s.DNSQueryTimeout,
			Web: web, RequestTimeout: h.RequestTimeout, MaxBody: h.MaxBody, RedirectHosts: h.RedirectHosts,
			Credentials: h.Credentials, Mailbox: h.Mailbox,
		}
		if d == sfbDomain {
			cfg.SFBURL = h.SFBURL
		}
		p := autodiscover.NewProber(cfg)
		checks = append(checks, newCheck("autodiscover", d, p.Probe))
		if h.Credentials != nil {
			l := &ews.Learned{Domain: d, Config: ewsCfg, Source: p.EWSURLs}
			ewsChecks = append(ewsChecks, newCheck("ews", d, l.Probe))
		}
	}
	if len(h.LyncViews) > 0 {
		for _, d := range s.SIPDomains {
			cfg := autodiscover.LyncConfig{Domain: d, Views: h.LyncViews, Web: web, RequestTimeout: h.RequestTimeout, MaxBody: h.MaxBody}
			checks = append(checks, newCheck("lyncdiscover", d, func(ctx context.Context) (probes.Result, error) {
				return autodiscover.ProbeLync(ctx, cfg)
			}))
		}
	}
	for _, u := range h.EWSURLs {
		checks = append(checks, newCheck("ews", u, func(ctx context.Context) (probes.Result, error) {
			return ews.ProbeURL(ctx, ewsCfg, u)
		}))
	}
	return append(checks, ewsChecks...)
}

// sfbURLDomain picks the email domain whose check carries the Skype for
// Business URL: the most specific one its host lies in, else the first.
func sfbURLDomain(u string, domains []string) string {
	if u == "" || len(domains) == 0 {
		return ""
	}
	pu, err := url.Parse(u)
	if err != nil {
		return domains[0]
	}
	host, best := strings.ToLower(pu.Hostname()), ""
	for _, d := range domains {
		if (host == d || strings.HasSuffix(host, "."+d)) && len(d) > len(best) {
			best = d
		}
	}
	if best == "" {
		return domains[0]
	}
	return best
}
