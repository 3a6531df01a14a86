package autodiscover

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/probes"
)

// judge turns a run into findings. Clients try the methods in order and
// stop at the first that works, so a broken method is serious only when
// clients depend on it: all of them broken is critical, as is the Lync
// client's two methods broken (it tries no other, seed 004); a broken
// autodiscover.<d> or SRV fallback is a warning, the others information,
// except redirects to the wrong place, which are always a warning.
func (p *Prober) judge(res *Result) {
	d := p.cfg.Domain
	add := func(sev probes.Severity, subject, problem, fix string) {
		res.findings = append(res.findings, probes.Finding{Severity: sev, Subject: subject, Problem: problem, Fix: fix})
	}
	subject := "Exchange autodiscover for " + d
	// A method the run gave up on is unknown, not broken: the run's error
	// names it, and no verdict that depends on it is given.
	unfinished := func(ms ...Method) bool {
		return slices.ContainsFunc(res.Methods, func(mr MethodResult) bool {
			return mr.Unfinished && (len(ms) == 0 || slices.Contains(ms, mr.Method))
		})
	}
	saidAll := res.Outlook == "" && !unfinished()
	saidLync := res.Lync == "" && !unfinished(LyncMethods...)
	switch {
	case res.Outlook == "" && !saidAll, res.Lync == "" && !saidLync:
	case res.Outlook == "":
		var parts []string
		for _, mr := range res.Methods {
			parts = append(parts, fmt.Sprintf("%s (%s): %s", mr.Method, mr.Attempt.URL, mr.Attempt.Summary()))
		}
		add(probes.Critical, subject, "no autodiscover method works, so clients cannot find EWS: "+strings.Join(parts, "; "),
			methodFix(res.Method(Host), d)+" (docs/runbooks.md#exchange-autodiscover-down)")
	case res.Lync == "":
		h, s := res.Method(Host), res.Method(SRV)
		add(probes.Critical, subject,
			fmt.Sprintf("Skype for Business clients cannot find EWS: they try only autodiscover.%s (%s) and _autodiscover._tcp.%s (%s), not %s, where Outlook ends",
				d, h.Attempt.Summary(), d, s.Attempt.Summary(), res.Outlook),
			fmt.Sprintf("Publish https://autodiscover.%s/autodiscover/autodiscover.xml on the Exchange servers (DNS record and a certificate covering the name), or create the SRV record _autodiscover._tcp.%s 0 0 443 <Exchange host>.", d, d))
	}
	for i := range res.Methods {
		mr := &res.Methods[i]
		if mr.Up || mr.Unfinished {
			continue
		}
		o := mr.Attempt.Outcome
		msg := fmt.Sprintf("%s (%s): %s", mr.Method, mr.Attempt.URL, mr.Attempt.Summary())
		switch {
		case o == httpprobe.WrongRedirect || o == httpprobe.InsecureRedirect:
			add(probes.Warning, subject, msg, methodFix(mr, d))
		case saidAll || saidLync && slices.Contains(LyncMethods, mr.Method):
			// already said above
		case res.Outlook == "" || res.Lync == "" && slices.Contains(LyncMethods, mr.Method):
			add(probes.Warning, subject, msg+"; no other method is known to work, and some did not finish within the run", methodFix(mr, d))
		case mr.Method == Host && p.cfg.Exchange != estate.Online:
			add(probes.Warning, subject, msg+fmt.Sprintf("; Skype for Business clients fall back to %s, after a delay", res.Lync), methodFix(mr, d))
		case mr.Method == SRV && o != httpprobe.NoRecord:
			add(probes.Warning, subject, msg+fmt.Sprintf("; clients that cannot reach autodiscover.%s have no working fallback", d), methodFix(mr, d))
		case o == httpprobe.NoRecord:
		default:
			add(probes.Info, subject, msg+"; clients skip to the next method", methodFix(mr, d))
		}
	}
	for _, rr := range res.Requests {
		s := fmt.Sprintf("%s autodiscover for the probe mailbox (%s)", strings.ToUpper(rr.Protocol), rr.Attempt.URL)
		switch {
		case !rr.OK && rr.severity > probes.Info:
			add(rr.severity, s, rr.Problem, rr.fix)
		case rr.OK && (rr.InternalEWS == "" || rr.ExternalEWS == ""):
			role := "external"
			if rr.InternalEWS == "" {
				role = "internal"
			}
			add(probes.Info, s, "autodiscover returns no "+role+" EWS URL: clients on that side of the network cannot reach EWS",
				"Set-WebServicesVirtualDirectory -Identity '<server>\\EWS (Default Web Site)' -"+map[string]string{"internal": "InternalUrl", "external": "ExternalUrl"}[role]+" https://mail."+d+"/EWS/Exchange.asmx, if clients need it.")
		}
	}
	if res.credentialsNote != "" {
		add(probes.Info, subject, res.credentialsNote, "Add the host to SFBEX_AUTODISCOVER_REDIRECT_HOSTS if it is yours.")
	}
	if s := res.SFB; s != nil {
		sub := "Skype for Business ExchangeAutodiscoverUrl " + s.URL
		if !s.SVC {
			add(probes.Critical, sub, "it must point at autodiscover.svc, not autodiscover.xml or another path: Skype for Business Server cannot find EWS (seed 003)",
				"Set-CsOAuthConfiguration -ExchangeAutodiscoverUrl https://autodiscover."+d+"/autodiscover/autodiscover.svc, then set SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL to the same value.")
		}
		if !s.Up && !s.Unfinished {
			add(probes.Critical, sub, "it does not answer: "+s.Attempt.Summary(), methodFix(&MethodResult{Attempt: s.Attempt}, d))
		}
	}
}

func methodFix(mr *MethodResult, d string) string {
	a := mr.Attempt
	host := hostOf(a.URL)
	switch a.Outcome {
	case httpprobe.TLSError:
		return "Install a certificate covering " + host + ", issued by a CA clients trust, on the server answering it (Exchange: Enable-ExchangeCertificate -Services IIS)."
	case httpprobe.NameError:
		return "Create the DNS record for " + host + " (the dns check shows what each resolver answers)."
	case httpprobe.Timeout, httpprobe.ConnectError:
		return "Check that " + host + " resolves to the Exchange servers or their load balancer and that port " + portOf(a.URL) + " is open from the agent."
	case httpprobe.ServerError:
		return "Check IIS and the MSExchangeAutodiscoverAppPool on the Exchange server behind " + host + " (Get-WebAppPoolState MSExchangeAutodiscoverAppPool); Test-OutlookWebServices shows what autodiscover returns."
	case httpprobe.ClientError:
		return "Check the Autodiscover virtual directory on the server behind " + host + " (Get-AutodiscoverVirtualDirectory) and any reverse proxy rule that blocks /autodiscover."
	case httpprobe.Unexpected, httpprobe.WebPage, httpprobe.EmptyBody, httpprobe.BodyTooLarge:
		return "A web site or reverse proxy answers " + host + " instead of Exchange: publish the Exchange servers' /autodiscover on it, or remove the name."
	case httpprobe.WrongRedirect, httpprobe.InsecureRedirect:
		return "Point the redirect at https://autodiscover." + d + "/autodiscover/autodiscover.xml (the IIS HTTP Redirect of the site on port 80), or add the target host to SFBEX_AUTODISCOVER_REDIRECT_HOSTS if it is yours."
	case httpprobe.NoRedirect:
		return "Make the site on port 80 of autodiscover." + d + " redirect (302) to https://autodiscover." + d + "/autodiscover/autodiscover.xml, if clients need this method."
	case httpprobe.TooManyRedirects:
		return "Remove the redirect loop in front of " + host + "."
	case httpprobe.LookupError:
		return "Check that the agent can query the resolvers in SFBEX_DNS_RESOLVERS."
	}
	return "Open " + a.URL + " from a client network to see what it answers."
}

func portOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return "443"
	}
	if p := pu.Port(); p != "" {
		return p
	}
	if pu.Scheme == "http" {
		return "80"
	}
	return "443"
}

// Details lists each method, which one each client ends on, the
// authenticated requests and the Skype for Business URL.
func (r *Result) Details() []string {
	var out []string
	for _, mr := range r.Methods {
		a := mr.Attempt
		line := fmt.Sprintf("%-17s %s", mr.Method, a.URL)
		if mr.SRVTarget != "" {
			line = fmt.Sprintf("%-17s _autodiscover._tcp.%s SRV -> %s (resolver %s) -> %s", mr.Method, r.Domain, mr.SRVTarget, mr.Resolver, a.URL)
		}
		if len(a.Redirects) > 0 {
			line += " -> " + strings.Join(a.Redirects, " -> ")
		}
		state := "DOWN"
		switch {
		case mr.Up:
			state = "up"
		case mr.Unfinished:
			state = "unknown"
		}
		line += fmt.Sprintf(": %s, %s [%s]", state, a.Summary(), a.Duration.Truncate(time.Millisecond))
		if len(a.Challenges) > 0 {
			line += " offers " + schemes(a.Challenges)
		}
		if mr.Stale {
			line += " [stale: the latest run could not try it again (SRV lookup failed, or no time left)]"
		}
		out = append(out, line)
	}
	out = append(out, fmt.Sprintf("Outlook ends on: %s; a Skype for Business client ends on: %s", orNoneMethod(r.Outlook), orNoneMethod(r.Lync)))
	for _, rr := range r.Requests {
		line := fmt.Sprintf("%s %s (auth %s): ", strings.ToUpper(rr.Protocol), rr.Attempt.URL, orDash(rr.Attempt.Scheme))
		if rr.OK {
			line += fmt.Sprintf("EWS internal %s, external %s", orDash(rr.InternalEWS), orDash(rr.ExternalEWS))
			if rr.ExchangeVersion != "" {
				line += ", Exchange " + rr.ExchangeVersion
			}
		} else {
			line += "FAILED: " + rr.Problem
		}
		out = append(out, line)
	}
	if len(r.EWS) > 0 && (r.EWSStale || len(r.Requests) == 0) && r.EWSLearnedAt != nil {
		out = append(out, fmt.Sprintf("EWS URLs last returned at %s (not confirmed by this run)", r.EWSLearnedAt.UTC().Format(time.RFC3339)))
	}
	if s := r.SFB; s != nil {
		line := "Skype for Business ExchangeAutodiscoverUrl " + s.URL + ": " + s.Attempt.Summary()
		if !s.SVC {
			line += " [NOT autodiscover.svc]"
		}
		if len(s.Attempt.Challenges) > 0 {
			line += " offers " + schemes(s.Attempt.Challenges)
		}
		out = append(out, line)
	}
	return out
}

func schemes(cs []httpprobe.Challenge) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Scheme)
	}
	return strings.Join(s, ", ")
}

func orNoneMethod(m Method) string {
	if m == "" {
		return "NONE"
	}
	return string(m)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
