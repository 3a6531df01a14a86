package directory

import (
	"fmt"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/plural"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Result is one complete scan.
type Result struct {
	Server          string        `json:"server"`
	BaseDN          string        `json:"base_dn"`
	Filter          string        `json:"filter"`
	PageSize        int           `json:"page_size"`
	IncludeDisabled bool          `json:"include_disabled"`
	MinCoverage     float64       `json:"min_coverage_ratio"`
	Entries         int           `json:"entries"`
	Pages           int           `json:"pages"`
	Referrals       int           `json:"referrals"`
	ScanDuration    time.Duration `json:"scan_duration_ns"`
	Domains         []DomainStats `json:"domains"`
	// Offenders holds up to SampleSize users per kind; Offending counts them all.
	Offenders []Sample       `json:"offenders"`
	Offending map[string]int `json:"offending"`
	findings  []probes.Finding
}

// Findings implements probes.Result.
func (r *Result) Findings() []probes.Finding { return r.findings }

func (r *Result) finish(t *tally) {
	for _, d := range t.order {
		r.Domains = append(r.Domains, *t.domains[d])
	}
	r.Offending = map[string]int{}
	for _, k := range kinds {
		r.Offenders = append(r.Offenders, t.samples[k]...)
		if t.counts[k] > 0 {
			r.Offending[k] = t.counts[k]
		}
	}
	r.findings = r.computeFindings()
}

// Runbook anchors in docs/runbooks.md.
const runbook = "docs/runbooks.md#directory"

func (r *Result) computeFindings() []probes.Finding {
	var fs []probes.Finding
	sev := func(ratio float64) probes.Severity {
		if ratio < r.MinCoverage {
			return probes.Warning
		}
		return probes.Info
	}
	for _, d := range r.Domains {
		subject := "SIP domain " + d.Domain
		if cov, ok := d.Coverage(); ok && d.WithSIPProxy < d.Users {
			fs = append(fs, probes.Finding{Severity: sev(cov), Subject: subject + " proxyAddresses",
				Problem: fmt.Sprintf("%d of %d SIP-enabled users (%.1f%%) lack SIP:<their SIP address> in proxyAddresses: Exchange cannot find their SIP address, so Outlook Web App IM and presence fail for them (seed step 2)",
					d.Users-d.WithSIPProxy, d.Users, 100*(1-cov)),
				Fix: "Add the address: Set-ADUser <user> -Add @{proxyAddresses='SIP:user@domain'} (or Set-Mailbox -EmailAddresses @{add='SIP:user@domain'}); the details list the users. See " + runbook})
		}
		if cov, ok := d.MailCoverage(); ok && d.MissingMail > 0 {
			fs = append(fs, probes.Finding{Severity: sev(cov), Subject: subject + " mail",
				Problem: fmt.Sprintf("%d of %d SIP-enabled users have no mail attribute: Skype for Business cannot find their Exchange mailbox, so EWS integration (conversation history, free/busy, contact photos) fails for them (seed step 3)", d.MissingMail, d.Users),
				Fix:     "Set mail to the user's primary SMTP address (Set-ADUser <user> -EmailAddress user@domain, or let Exchange set it by mail-enabling the user). See " + runbook})
		}
		if d.Duplicates > 0 {
			fs = append(fs, probes.Finding{Severity: probes.Info, Subject: subject + " duplicate SIP addresses",
				Problem: plural.Count(d.Duplicates, "SIP address is", "SIP addresses are") + " held by more than one user: sign-in and routing for them go to whichever account the server finds first",
				Fix:     "Find the holders with Get-ADUser -LDAPFilter '(msRTCSIP-PrimaryUserAddress=sip:user@domain)' and give each user a unique address (Set-CsUser -SipAddress). See " + runbook})
		}
		if d.Invalid > 0 {
			fs = append(fs, probes.Finding{Severity: probes.Info, Subject: subject + " invalid SIP addresses",
				Problem: plural.Count(d.Invalid, "user has", "users have") + " a msRTCSIP-PrimaryUserAddress that is not sip:user@domain",
				Fix:     "Correct it with Set-CsUser <user> -SipAddress sip:user@domain. See " + runbook})
		}
		if d.Mismatch > 0 {
			fs = append(fs, probes.Finding{Severity: probes.Info, Subject: subject + " SIP and SMTP differ",
				Problem: plural.Count(d.Mismatch, "user has a primary SMTP address other than their SIP address", "users have a primary SMTP address other than their SIP address") + ": the Skype for Business client warns about it unless its email comparison check is off (seed 004)",
				Fix:     "Align the addresses, or turn the check off by client policy: Set-CsClientPolicy -DisableEmailComparisonCheck $true. See " + runbook})
		}
		if r.IncludeDisabled && d.AccountDisabled > 0 {
			fs = append(fs, probes.Finding{Severity: probes.Info, Subject: subject + " disabled accounts",
				Problem: plural.Count(d.AccountDisabled, "disabled account is", "disabled accounts are") + " still SIP-enabled",
				Fix:     "Disable them for Skype for Business: Disable-CsUser <user> (or Set-CsUser -Enabled $false). See " + runbook})
		}
	}
	return fs
}

// Details lists the figures per domain and the sampled offenders.
func (r *Result) Details() []string {
	out := []string{fmt.Sprintf("%s base %s: %s in %s in %s; filter %s",
		r.Server, r.BaseDN, plural.Count(r.Entries, "entry", "entries"), plural.Count(r.Pages, "page", "pages"), r.ScanDuration.Round(time.Millisecond), r.Filter)}
	for _, d := range r.Domains {
		if d.Users+d.SIPDisabled+d.AccountDisabled == 0 {
			continue
		}
		cov, _ := d.Coverage()
		out = append(out, fmt.Sprintf("%s: %s, %d with the SIP proxy address (%.1f%%), %d without mail, %d SIP≠SMTP, %d invalid, %s, %d SIP-disabled, %s",
			d.Domain, plural.Count(d.Users, "SIP-enabled user", "SIP-enabled users"), d.WithSIPProxy, 100*cov, d.MissingMail, d.Mismatch, d.Invalid,
			plural.Count(d.Duplicates, "duplicate address", "duplicate addresses"), d.SIPDisabled, plural.Count(d.AccountDisabled, "disabled account", "disabled accounts")))
	}
	for _, s := range r.Offenders {
		out = append(out, fmt.Sprintf("  %s [%s] %s: %s", s.Kind, s.Domain, s.DN, s.Detail))
	}
	for _, k := range kinds {
		shown := 0
		for _, s := range r.Offenders {
			if s.Kind == k {
				shown++
			}
		}
		if n := r.Offending[k]; n > shown {
			out = append(out, fmt.Sprintf("  %s: %d more not shown", k, n-shown))
		}
	}
	return out
}
