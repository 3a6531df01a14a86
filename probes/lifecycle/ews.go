package lifecycle

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/probes"
	"github.com/sfbex/sfbex_exporter/probes/dns"
)

// Dependency is one part of the estate that reaches Exchange Online
// mailboxes over EWS.
type Dependency struct {
	Name string `json:"dependency"` // the `dependency` label
	// What stops working when EWS in Exchange Online is off.
	What string `json:"what"`
}

// The dependencies the configuration can imply.
var (
	DepSfBServer = Dependency{"sfb_server_exchange_online",
		"Skype for Business Server reaches its users' Exchange Online mailboxes over EWS: server-side conversation history, the unified contact store, contact photos, archiving to the mailbox and meeting data. " +
			"No Microsoft statement exempts it from the shutdown: treat it as at risk"}
	DepExchangeHybrid = Dependency{"exchange_hybrid",
		"Exchange on-premises in a hybrid reaches Exchange Online over EWS: cross-premises free/busy, MailTips and the other hybrid features that still use EWS (from the May 2026 hotfix Microsoft Graph can replace EWS in most hybrid scenarios)"}
)

// EWSDependencies derives the dependencies from the deployment: Skype for
// Business Server (on-premises or hybrid) with mailboxes in Exchange Online
// (online or hybrid), and an Exchange hybrid.
func EWSDependencies(lync, exchange estate.Mode) []Dependency {
	var out []Dependency
	sfb, hybrid := estate.EWSOnline(lync, exchange)
	if sfb {
		out = append(out, DepSfBServer)
	}
	if hybrid {
		out = append(out, DepExchangeHybrid)
	}
	return out
}

// EWSProber counts the days to the shutdown. Besides the configuration it
// asks DNS: an email domain whose public autodiscover record points to
// Microsoft 365 has mailboxes in Exchange Online, whatever
// SFBEX_EXCHANGE_DEPLOYMENT says.
type EWSProber struct {
	Deps     []Dependency // from the configuration
	Lync     estate.Mode
	Shutdown time.Time // 00:00 UTC of the day EWS is switched off
	WarnDays int
	Now      func() time.Time
	// Evidence: the email domains and the views to ask.
	EmailDomains []string
	Resolvers    []estate.Resolver
	QueryTimeout time.Duration

	mu     sync.Mutex
	online map[string]string // domain -> the Microsoft 365 answer last seen ("" when on-premises)
}

// EWSResult is one run's view.
type EWSResult struct {
	Dependencies []Dependency `json:"dependencies"`
	// Evidence lists the autodiscover records that point to Microsoft 365.
	Evidence []string  `json:"evidence,omitempty"`
	Shutdown time.Time `json:"shutdown"`
	DaysLeft int       `json:"days_left"` // whole days, negative after the shutdown
	WarnDays int       `json:"warn_days"`
}

// Probe implements the check. A lookup without a definitive answer keeps
// what the domain's last definitive answer showed.
func (p *EWSProber) Probe(ctx context.Context) (probes.Result, error) {
	left := p.Shutdown.Sub(p.Now())
	r := &EWSResult{Dependencies: slices.Clone(p.Deps), Shutdown: p.Shutdown, DaysLeft: int(math.Floor(left.Hours() / 24)), WarnDays: p.WarnDays}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.online == nil {
		p.online = map[string]string{}
	}
	var failed []string
	for _, d := range p.EmailDomains {
		name := "autodiscover." + d
		definitive, seen := false, ""
		for _, res := range p.Resolvers {
			a := dns.Resolve(ctx, res, name, mdns.TypeA, p.QueryTimeout)
			if !a.Outcome.Definitive() {
				continue
			}
			definitive = true
			if a.Side() == "online" {
				seen = fmt.Sprintf("%s via %s: %s", name, res.Name, a.Summary())
				break
			}
		}
		if definitive {
			p.online[d] = seen
		} else {
			failed = append(failed, name)
		}
		if ev := p.online[d]; ev != "" {
			r.Evidence = append(r.Evidence, ev)
		}
	}
	if len(r.Evidence) > 0 && !p.Lync.InCloud() && !slices.Contains(r.Dependencies, DepSfBServer) {
		r.Dependencies = append([]Dependency{DepSfBServer}, r.Dependencies...)
	}
	if len(failed) > 0 {
		return r, probes.WithFix(fmt.Errorf("no definitive DNS answer for %s", strings.Join(failed, ", ")),
			"See the dns check of the domain; the last definitive answer is kept.")
	}
	return r, nil
}

// Findings: each dependency, a warning within SFBEX_EWS_ONLINE_SHUTDOWN_WARN_DAYS
// of the shutdown and critical after it; info before.
func (r *EWSResult) Findings() []probes.Finding {
	var out []probes.Finding
	day := r.Shutdown.Format(time.DateOnly)
	for _, d := range r.Dependencies {
		sev, when := probes.Info, fmt.Sprintf("%d days left", r.DaysLeft)
		switch {
		case r.DaysLeft < 0:
			sev, when = probes.Critical, fmt.Sprintf("switched off %d days ago", -r.DaysLeft)
		case r.DaysLeft <= r.WarnDays:
			sev = probes.Warning
		}
		out = append(out, probes.Finding{
			Severity: sev,
			Subject:  "EWS in Exchange Online (" + d.Name + ")",
			Problem:  fmt.Sprintf("Exchange Online switches EWS off for good on %s (%s): %s", day, when, d.What),
			Fix:      Fix(d),
		})
	}
	return out
}

// Fix says what to do before the shutdown.
func Fix(d Dependency) string {
	switch d.Name {
	case DepSfBServer.Name:
		return "Move the users to Teams, or their mailboxes back to Exchange on-premises (not affected by the shutdown); until then keep EWS allowed: Set-OrganizationConfig -EwsEnabled $true and the dedicated Skype for Business hybrid application's ID in -EwsAllowedAppIDs. See docs/runbooks.md#ews-online-shutdown."
	case DepExchangeHybrid.Name:
		return "Install the Exchange Server hotfix that lets the dedicated hybrid application use Microsoft Graph (May 2026 or later) and switch it on, or finish the move to Exchange Online; keep the dedicated hybrid app's ID in -EwsAllowedAppIDs until then. See docs/runbooks.md#ews-online-shutdown."
	}
	return "See docs/runbooks.md#ews-online-shutdown."
}

// Details says what the configuration implies.
func (r *EWSResult) Details() []string {
	if len(r.Dependencies) == 0 {
		return []string{"no EWS dependency on Exchange Online in this deployment (SFBEX_DEPLOYMENT, SFBEX_EXCHANGE_DEPLOYMENT, the public autodiscover records)"}
	}
	var out []string
	for _, e := range r.Evidence {
		out = append(out, "mailboxes in Exchange Online: "+e)
	}
	for _, d := range r.Dependencies {
		out = append(out, fmt.Sprintf("EWS dependency %s: %d days left until %s", d.Name, r.DaysLeft, r.Shutdown.Format(time.DateOnly)))
	}
	return out
}
