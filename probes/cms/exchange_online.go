package cms

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/plural"
	"github.com/sfbex/sfbex_exporter/probes"
)

// maxFixIDs bounds the allowed IDs a fix repeats.
const maxFixIDs = 20

// ComponentExchangeOnline is the component of the checks on the Exchange
// Online part of a snapshot.
const ComponentExchangeOnline = "exchange_online"

// EWSConfig is what the Exchange Online EWS checks need besides the
// snapshot (docs/configuration.md#cms-snapshots).
type EWSConfig struct {
	// RequiredAppIDs are the application IDs that must be in the
	// EwsAllowedAppIDs allow list (SFBEX_EXO_EWS_REQUIRED_APP_IDS), lower
	// case; none: the check is left out.
	RequiredAppIDs []string
	// UserAgents are the user agents the integration's EWS requests carry
	// (SFBEX_EXO_EWS_USER_AGENTS); none: the user-agent policy check is
	// left out. Microsoft documents none of them.
	UserAgents []string
	// Shutdown is the day EWS in Exchange Online goes off for good
	// (SFBEX_EWS_ONLINE_SHUTDOWN_DATE, shared with the lifecycle family).
	Shutdown time.Time
}

// exoApplies: the EWS checks apply where the configuration says Skype for
// Business Server or Exchange on-premises works with Exchange Online
// mailboxes, the dependencies the lifecycle family counts down.
func exoApplies(dep Deployment) bool {
	sfb, hybrid := estate.EWSOnline(dep.Lync, dep.Exchange)
	return sfb || hybrid
}

// shutdownNote says that even a passing EWS setting only lasts until the
// shutdown.
func (e EWSConfig) shutdownNote(now time.Time) string {
	day := e.Shutdown.Format(time.DateOnly)
	left := int(e.Shutdown.Sub(now).Hours() / 24)
	if left < 0 {
		return fmt.Sprintf("Exchange Online switched EWS off for good on %s, whatever this setting says (docs/runbooks.md#ews-online-shutdown).", day)
	}
	return fmt.Sprintf("Even when it passes, it only lasts until %s (%s left), when Exchange Online switches EWS off for good (docs/runbooks.md#ews-online-shutdown).", day, plural.Count(left, "day", "days"))
}

// exchangeOnlineChecks judges the Exchange Online part of a snapshot
// (domain-facts §7; Learn "Control access to EWS in Exchange").
func exchangeOnlineChecks(source string, d *ExchangeOnlineData, dep Deployment, ews EWSConfig, now time.Time) []Check {
	if d == nil || !exoApplies(dep) {
		return nil
	}
	c := &checker{source: source}
	note := " " + ews.shutdownNote(now)
	var oc *ExoOrganizationConfig
	if len(d.OrganizationConfig) > 0 {
		oc = &d.OrganizationConfig[0]
	}
	if oc != nil {
		problem := "EwsEnabled is not set: since 2026-10-01 Exchange Online treats a tenant that never set it as False and refuses every EWS request (403, X-EWS-Policy-Reason: EWS is disabled for this user or tenant), so Skype for Business Server and Exchange hybrid lose the Exchange Online mailboxes"
		if oc.EwsEnabled.Known {
			problem = "EwsEnabled is False: Exchange Online refuses every EWS request (403, X-EWS-Policy-Reason: EWS is disabled for this user or tenant), so Skype for Business Server and Exchange hybrid lose the Exchange Online mailboxes"
		}
		c.add(ComponentExchangeOnline, "ews_enabled", oc.EwsEnabled.Known && oc.EwsEnabled.Value, probes.Critical,
			"Get-OrganizationConfig EwsEnabled",
			"Skype for Business Server (conversation history, unified contact store, photos, archiving) and Exchange hybrid reach Exchange Online mailboxes over EWS, which needs EwsEnabled True; unset means blocked since 2026-10-01."+note,
			problem,
			"Set-OrganizationConfig -EwsEnabled $true, with the integration's application IDs in -EwsAllowedAppIDs (changes take up to 24 hours)")
	}
	if len(ews.RequiredAppIDs) > 0 && oc != nil && oc.EwsEnabled.Known && oc.EwsEnabled.Value && len(d.EwsOperationAccessPolicy) > 0 {
		allowed := d.EwsOperationAccessPolicy[0].AppIDs()
		var missing []string
		for _, id := range ews.RequiredAppIDs {
			if !slices.Contains(allowed, id) {
				missing = append(missing, id)
			}
		}
		// Set-OrganizationConfig -EwsAllowedAppIDs replaces the list: the
		// fix keeps what is there (named up to a point: the list is the
		// tenant's, and a fix must stay readable).
		keep := strings.Join(allowed, ",")
		if len(allowed) > maxFixIDs {
			keep = fmt.Sprintf("<the %d IDs already there>", len(allowed))
		}
		if keep != "" {
			keep += ","
		}
		c.add(ComponentExchangeOnline, "ews_app_allowed", len(missing) == 0, probes.Critical,
			"Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy EwsAllowedAppIDs",
			"With EwsEnabled True only the application IDs in EwsAllowedAppIDs can use EWS in Exchange Online; the dedicated Skype for Business and Exchange hybrid applications (SFBEX_EXO_EWS_REQUIRED_APP_IDS) must be in it."+note,
			fmt.Sprintf("EwsAllowedAppIDs lacks %s (it holds %s): Exchange Online refuses their EWS requests (403, X-EWS-Policy-Reason: EWS is blocked by policy for this user or tenant)",
				strings.Join(missing, ", "), plural.Count(len(allowed), "ID", "IDs")),
			fmt.Sprintf(`Set-OrganizationConfig -EwsAllowedAppIDs "%s%s" (the list is replaced, so it keeps the IDs already there; changes take up to 24 hours)`, keep, strings.Join(missing, ",")))
	}
	if len(ews.UserAgents) > 0 && oc != nil {
		userAgentPolicy(c, oc, ews.UserAgents, note)
	}
	return c.out
}

// userAgentPolicy judges EwsApplicationAccessPolicy against the configured
// user agents: EnforceAllowList must match each in EwsAllowList,
// EnforceBlockList none in EwsBlockList; no policy passes. The lists hold
// user agent strings where * stands for anything ("OWA/*").
func userAgentPolicy(c *checker, oc *ExoOrganizationConfig, agents []string, note string) {
	pol := strings.TrimSpace(string(oc.EwsApplicationAccessPolicy))
	if oc.EwsApplicationAccessPolicy.Numeric() {
		return // an enum as a number cannot be judged by name
	}
	var bad []string
	var fix string
	switch {
	case pol == "":
	case strings.EqualFold(pol, "EnforceAllowList"):
		for _, a := range agents {
			if !slices.ContainsFunc(oc.EwsAllowList, func(p Text) bool { return userAgentMatch(string(p), a) }) {
				bad = append(bad, a)
			}
		}
		var keep []string
		for _, p := range oc.EwsAllowList {
			keep = append(keep, string(p))
		}
		fix = fmt.Sprintf(`Set-OrganizationConfig -EwsAllowList @{Add="%s"} (keep -EwsApplicationAccessPolicy EnforceAllowList; the list holds %s now)`, strings.Join(bad, `","`), plural.Count(len(keep), "entry", "entries"))
	case strings.EqualFold(pol, "EnforceBlockList"):
		for _, a := range agents {
			for _, p := range oc.EwsBlockList {
				if userAgentMatch(string(p), a) {
					bad = append(bad, fmt.Sprintf("%s (blocked by %q)", a, clipText(string(p), 80)))
					fix = fmt.Sprintf(`Set-OrganizationConfig -EwsBlockList @{Remove="%s"}`, clipText(string(p), 80))
					break
				}
			}
		}
	default:
		return
	}
	problem := "the user-agent policy EnforceAllowList does not allow " + strings.Join(bad, ", ")
	if strings.EqualFold(pol, "EnforceBlockList") {
		problem = "the user-agent policy EnforceBlockList blocks " + strings.Join(bad, ", ")
	}
	if fix == "" {
		fix = "Set-OrganizationConfig -EwsApplicationAccessPolicy EnforceAllowList -EwsAllowList @{Add=\"<user agent>\"}"
	}
	c.add(ComponentExchangeOnline, "ews_access_policy", len(bad) == 0, probes.Critical,
		"Get-OrganizationConfig EwsApplicationAccessPolicy, EwsAllowList, EwsBlockList",
		"Exchange Online checks every EWS request against both the application ID allow list and the user-agent policy (EwsApplicationAccessPolicy with EwsAllowList or EwsBlockList); the integration's user agents (SFBEX_EXO_EWS_USER_AGENTS) must pass it."+note,
		problem+": Exchange Online refuses those EWS requests (403, X-EWS-Policy-Reason: EWS is blocked by policy for this user or tenant)",
		fix)
}

// userAgentMatch matches a user agent against an EwsAllowList or
// EwsBlockList entry, in which * stands for any characters ("OWA/*");
// case-insensitive.
func userAgentMatch(pattern, agent string) bool {
	pattern = strings.TrimSpace(pattern)
	if pattern == "" {
		return false
	}
	parts := strings.Split(pattern, "*")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	re, err := regexp.Compile("(?i)^" + strings.Join(parts, ".*") + "$")
	return err == nil && re.MatchString(strings.TrimSpace(agent))
}

// hybridApp setting override (Learn "deploy dedicated Exchange hybrid
// app"): New-SettingOverride -Name "EnableExchangeHybrid3PAppFeature"
// -Component "Global" -Section "ExchangeOnpremAsThirdPartyAppId"
// -Parameters @("Enabled=true").
const (
	hybridAppComponent = "Global"
	hybridAppSection   = "ExchangeOnpremAsThirdPartyAppId"
)

// hybridAppChecks judges whether Exchange hybrid uses its dedicated Entra
// application: a setting override of Global/ExchangeOnpremAsThirdPartyAppId
// with Enabled=true that covers this server (organisation-wide, or naming
// it), and none that says Enabled=false. The shared service principal's
// EWS access has been blocked since 2025-10-31.
func hybridAppChecks(source, computer string, d *ExchangeData, dep Deployment) []Check {
	if d == nil || d.SettingOverrides == nil || dep.Exchange != estate.Hybrid {
		return nil
	}
	c := &checker{source: source}
	host := strings.ToLower(strings.SplitN(strings.TrimSpace(computer), ".", 2)[0])
	var on, off []string
	for _, o := range d.SettingOverrides {
		if !eqFold(o.ComponentName, hybridAppComponent) || !eqFold(o.SectionName, hybridAppSection) {
			continue
		}
		if len(o.Server) > 0 && !slices.ContainsFunc(o.Server, func(s Text) bool {
			return strings.ToLower(strings.SplitN(strings.TrimSpace(string(s)), ".", 2)[0]) == host
		}) {
			continue // another server's
		}
		for _, p := range o.Parameters {
			k, v, _ := strings.Cut(string(p), "=")
			if !strings.EqualFold(strings.TrimSpace(k), "Enabled") {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "true":
				on = append(on, clipText(string(o.Name), 80))
			case "false":
				off = append(off, clipText(string(o.Name), 80))
			}
		}
	}
	problem := "no setting override " + hybridAppComponent + "/" + hybridAppSection + " with Enabled=true covers this server: Exchange hybrid still uses the shared Exchange Online service principal, whose EWS access Microsoft blocked on 2025-10-31 (free/busy, MailTips and the other rich coexistence features fail)"
	if len(off) > 0 {
		problem = "the setting override " + strings.Join(off, ", ") + " sets " + hybridAppSection + " Enabled=false: Exchange hybrid uses the shared Exchange Online service principal, whose EWS access Microsoft blocked on 2025-10-31"
	}
	c.add(ComponentExchange, "hybrid_dedicated_app", len(on) > 0 && len(off) == 0, probes.Critical,
		"Get-SettingOverride ComponentName, SectionName, Parameters",
		"Exchange hybrid must call Exchange Online as its own dedicated Entra application (ConfigureExchangeHybridApplication.ps1), switched on by the setting override "+hybridAppComponent+"/"+hybridAppSection+" Enabled=true.",
		problem,
		`Create the dedicated app with ConfigureExchangeHybridApplication.ps1 (CSS-Exchange), then New-SettingOverride -Name "EnableExchangeHybrid3PAppFeature" -Component "Global" -Section "ExchangeOnpremAsThirdPartyAppId" -Parameters @("Enabled=true") -Reason "Enable dedicated Exchange hybrid app feature"; Get-ExchangeDiagnosticInfo -Process Microsoft.Exchange.Directory.TopologyService -Component VariantConfiguration -Argument Refresh`)
	return c.out
}
