package sip

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/probes"
)

// peers names who connects to a service's targets, for findings.
func peers(service string) string {
	switch service {
	case Federation:
		return "federation partners and Microsoft 365 (Exchange Online for OWA IM)"
	case Clients:
		return "remote Skype for Business clients"
	case Internal:
		return "internal Skype for Business clients"
	}
	return "its peers"
}

// impact says what a target that does not answer costs.
func impact(service string) string {
	switch service {
	case Federation:
		return "federation partners and Exchange Online (OWA IM) cannot reach your users through it"
	case Clients:
		return "remote clients cannot sign in through it"
	case Internal:
		return "internal clients cannot sign in to this pool"
	}
	return "nothing that relies on it gets through"
}

func subject(service string, t *TargetResult) string {
	s := "SIP " + t.Target + " (" + service
	if d := strings.Join(t.Domains, ", "); d != "" {
		s += ": " + d
	}
	return s + ")"
}

// fix says what to do about an exchange that got no answer.
func (p *Prober) fix(t Target, ex *Exchange) string {
	k := t.Key()
	switch ex.Outcome {
	case Unreachable:
		return fmt.Sprintf("Check that %s is reachable on TCP %d from the agent (firewall, the SRV record's target and port, SFBEX_CONNECT_TO) and that the Access Edge (or Front End) service runs; until it answers, its last answer is shown, marked stale; see docs/runbooks.md#sip-not-answering.", t.Host, t.Port)
	case TLSFailed:
		if ex.TLS != nil && ex.TLS.ClientCertRequested && !ex.TLS.ClientCertSent {
			return fmt.Sprintf("%s asks for a client certificate (mutual TLS, as federation uses) and ended the session without one: give the agent a certificate its CA chain trusts with SFBEX_SIP_CLIENT_CERT (PEM or PFX); see docs/runbooks.md#sip-not-answering.", k)
		}
		if isTimeout(ex.Err) {
			return fmt.Sprintf("%s accepts TCP but does not complete the TLS handshake in time: the service is hung or overloaded, or a device in the path holds the connection; check the server and the load balancer; see docs/runbooks.md#sip-not-answering.", k)
		}
		if ex.TLS != nil && ex.TLS.ClientCertSent {
			return fmt.Sprintf("%s refused the session after the agent presented its client certificate (SFBEX_SIP_CLIENT_CERT): check that the server trusts the certificate's CA and that it is valid; see docs/runbooks.md#sip-not-answering.", k)
		}
		return fmt.Sprintf("%s accepts TCP but the TLS handshake fails: check that it serves TLS 1.2 or later with a certificate bound to the service (Set-CsCertificate on the Edge); see docs/runbooks.md#sip-not-answering.", k)
	case NoAnswer, Closed:
		return fmt.Sprintf("TLS to %s completes but nothing answers SIP: the Access Edge (or Front End) service is stopped or hung behind a load balancer or reverse proxy that completes TLS itself; check the RTCSRV service on the Edge and the load balancer's pool health; see docs/runbooks.md#sip-not-answering.", k)
	case Incomplete:
		return fmt.Sprintf("%s sends part of an answer and stops: check the server's health and anything in the path that inspects SIP (a firewall's SIP helper); see docs/runbooks.md#sip-not-answering.", k)
	}
	return fmt.Sprintf("What %s sends back is not a SIP answer: check that the port is the SIP service's and not another service's, and anything in the path that rewrites SIP; see docs/runbooks.md#sip-not-answering.", k)
}

// judge turns the targets into findings.
func (r *Result) judge(service string, s *Settings, now time.Time) {
	add := func(sev probes.Severity, subj, problem, fix string) {
		r.findings = append(r.findings, probes.Finding{Severity: sev, Subject: subj, Problem: problem, Fix: fix})
	}
	for i := range r.Targets {
		t := &r.Targets[i]
		subj := subject(service, t)
		if t.Outcome != Answered {
			problem := fmt.Sprintf("does not answer SIP OPTIONS (%s): %s; %s", t.Outcome, t.Error, impact(service))
			add(probes.Critical, subj, problem, t.fix)
		}
		if a := t.Answer; a != nil && !r.Accepted(t) {
			when := ""
			if t.Stale {
				when = " (last answer, " + t.AnswerAt.UTC().Format(time.RFC3339) + ")"
			}
			sev := probes.Warning
			if a.Status >= 500 {
				sev = probes.Critical
			}
			problem := fmt.Sprintf("answers OPTIONS with %d %s%s", a.Status, a.Reason, when)
			if d := a.Diagnostics; d != nil {
				problem += fmt.Sprintf(", ms-diagnostics %d %q", d.Code, d.Reason)
				if d.Source != "" {
					problem += " from " + d.Source
				}
			}
			add(sev, subj, problem+": "+meaning(service, a), advice(service, a, s))
		}
		if f := t.TLS; f != nil && !f.VerifyOK {
			switch {
			case f.Skipped:
				add(probes.Info, subj, "its certificate does not verify for "+f.Name+" ("+f.VerifyReason+"), but SFBEX_TLS_INSECURE_HOSTS turns verification off for it",
					"Remove the host from SFBEX_TLS_INSECURE_HOSTS once peers trust its certificate.")
			default:
				add(probes.Critical, subj, fmt.Sprintf("its certificate (CN=%s, names %s) is not accepted for %s, the name peers connect to (%s): %s; %s refuse the TLS session",
					f.LeafSubject, strings.Join(f.LeafNames, " "), f.Name, f.VerifyReason, f.VerifyError, peers(service)),
					fmt.Sprintf("Bind a certificate to the SIP service whose names include %s, from a CA the peers trust (public CA on the Access Edge external interface: Set-CsCertificate -Type AccessEdgeExternal), and current; see docs/runbooks.md#sip-certificate-not-accepted.", f.Name))
			}
		}
		if a := t.Answer; a != nil {
			if name, eos := productInfo(a.Product); eos != "" {
				add(probes.Warning, subj, fmt.Sprintf("answers as %s (Server: %s), whose support %s", name, a.Server, eos),
					"Plan the move to Skype for Business Server Subscription Edition (or Teams); out-of-support servers get no security fixes.")
			}
		}
	}
}

// meaning says what an error answer means for the service's peers.
func meaning(service string, a *Answer) string {
	switch {
	case a.Status == 403:
		return "the server refuses the request; requests of " + peers(service) + " that its rules match get the same refusal"
	case a.Status == 504 || a.Status == 408:
		return "the server could not reach the next hop in time (another Edge, the pool behind it, or the partner's server)"
	case a.Status == 503:
		return "the server is up but not serving: starting, overloaded, or its next hop is down"
	case a.Status >= 500:
		return "the server fails the request"
	case a.Status == 401 || a.Status == 407:
		return "the server wants authentication: it is not the service peers expect on this port"
	}
	return "the status is not one SFBEX_SIP_ACCEPT_STATUS accepts"
}

// advice reads the ms-diagnostics reason words that the common federation
// diagnostics use, and says what to do. It goes by the words the server
// sent, not by a table of codes, so a code this agent does not know still
// gets advice that matches what the server said.
func advice(service string, a *Answer, s *Settings) string {
	reason := ""
	if a.Diagnostics != nil {
		reason = strings.ToLower(a.Diagnostics.Reason)
	}
	accept := make([]string, len(s.Accept))
	for i, c := range s.Accept {
		accept[i] = strconv.Itoa(c)
	}
	tail := " If this answer is what your Edge gives any unknown server, add " + strconv.Itoa(a.Status) + " to SFBEX_SIP_ACCEPT_STATUS (now " + strings.Join(accept, ",") + "); see docs/runbooks.md#sip-answering-with-an-error."
	switch {
	case strings.Contains(reason, "dns") || strings.Contains(reason, "srv"):
		return "The server could not resolve a name on its way (the partner's _sipfederationtls._tcp SRV record or the next hop's A record): check DNS from the Edge (Resolve-DnsName on the Edge's external DNS)." + tail
	case strings.Contains(reason, "tls") || strings.Contains(reason, "certificate") || strings.Contains(reason, "ssl"):
		return "The TLS session between the Edge and its next hop failed: check both certificates (names, chain, expiry) and that each side trusts the other's CA." + tail
	case strings.Contains(reason, "did not report diagnostic") || strings.Contains(reason, "previous hop"):
		return "A hop behind the answering server (a federated partner, the hosting provider such as Exchange Online, or the Front End pool) failed without saying why: check that hop's service and the Edge's connection to it (the source in ms-diagnostics names the server that answered)." + tail
	case strings.Contains(reason, "federat") || strings.Contains(reason, "not allowed") || strings.Contains(reason, "not authorized") || strings.Contains(reason, "blocked"):
		return "The Edge's federation rules refuse this peer: check Get-CsAccessEdgeConfiguration (AllowFederatedUsers, EnablePartnerDiscovery), Get-CsAllowedDomain/Get-CsBlockedDomain and the hosting providers (seed 002)." + tail
	case strings.Contains(reason, "contact") || strings.Contains(reason, "connect") || strings.Contains(reason, "unreachable") || strings.Contains(reason, "timeout") || strings.Contains(reason, "timed out"):
		return "The server could not connect to its next hop: check that the Edge reaches the Front End pool on its internal interface (TCP 5061) and the partner on the internet (TCP 5061)." + tail
	case a.Status >= 500:
		return "Check the Edge's event log (Lync Server) and the services behind it; the ms-diagnostics reason, when present, names the failing step." + tail
	}
	return "Check the Edge's federation and access settings (Get-CsAccessEdgeConfiguration, allowed and blocked domains) and its event log." + tail
}

// Details lists every target: this run's outcome, the answer shown, TLS.
func (r *Result) Details() []string {
	var out []string
	for _, t := range r.Targets {
		line := subject(r.Service, &t) + " via " + t.Address + ": "
		if t.Outcome == Answered {
			line += "answered"
		} else {
			line += strings.ToUpper(string(t.Outcome)) + ": " + t.Error
		}
		if a := t.Answer; a != nil {
			if t.Stale {
				line += fmt.Sprintf(" [stale: showing the answer of %s]", t.AnswerAt.UTC().Format(time.RFC3339))
			}
			line += fmt.Sprintf("; %d %s in %s", a.Status, a.Reason, t.RTT.Round(time.Millisecond))
			if a.Server != "" {
				line += ", Server " + a.Server
				if name, _ := productInfo(a.Product); name != "" {
					line += " (" + name + ")"
				}
			}
			if d := a.Diagnostics; d != nil {
				line += fmt.Sprintf(", ms-diagnostics %d %q", d.Code, d.Reason)
			}
			if a.Note != "" {
				line += " (" + a.Note + ")"
			}
		}
		out = append(out, line)
		if f := t.TLS; f != nil {
			tl := "  TLS"
			if f.Version != "" {
				tl = "  " + f.Version
			}
			if t.TLSStale {
				tl += " [stale]"
			}
			verdict := "verified for " + f.Name
			if !f.VerifyOK {
				verdict = "NOT VERIFIED for " + f.Name + " (" + f.VerifyReason + ")"
			}
			tl += ": " + verdict + "; leaf CN=" + f.LeafSubject + " expires " + f.LeafNotAfter.UTC().Format("2006-01-02")
			switch {
			case f.ClientCertSent:
				tl += "; client certificate asked for and presented (CN=" + f.ClientCertSubject + ")"
			case f.ClientCertRequested:
				tl += "; client certificate asked for, none configured"
			}
			out = append(out, tl)
		}
	}
	out = append(out, r.Notes...)
	return out
}
