package lab

import (
	"fmt"
	"strings"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// Variant is one shape of the lab estate: the cloud its online side lives
// in and where each side is deployed. Every variant is healthy until a
// fault is switched on: `check --lab --lab.variant=NAME` passes.
type Variant struct {
	Name        string
	Description string
	Cloud       estate.Cloud
	Lync        estate.Mode // SFBEX_DEPLOYMENT; "" is hybrid
	Exchange    estate.Mode // SFBEX_EXCHANGE_DEPLOYMENT; "" is onprem
}

// exchange is the variant's Exchange side.
func (v Variant) exchange() estate.Mode {
	if v.Exchange == "" {
		return estate.OnPrem
	}
	return v.Exchange
}

// lync is the variant's Skype for Business side.
func (v Variant) lync() estate.Mode {
	if v.Lync == "" {
		return estate.Hybrid
	}
	return v.Lync
}

// Variants lists the lab's shapes; the first is the default.
var Variants = []Variant{
	{"hybrid", "Skype for Business Server in a hybrid with the worldwide Microsoft 365 cloud, Exchange on-premises (the default)", estate.Worldwide, estate.Hybrid, estate.OnPrem},
	{"gcchigh", "the default estate in the GCC High cloud: the Exchange Online hosting provider on exap.um.office365.us, the Microsoft 365 names of GCC High", estate.GCCHigh, estate.Hybrid, estate.OnPrem},
	{"dod", "the default estate in the DoD cloud (Microsoft documents no Exchange Online ProxyFqdn for it: the lab keeps the GCC High one, which the agent does not judge there)", estate.DoD, estate.Hybrid, estate.OnPrem},
	{"teamsonly", "a Teams-only tenant (SFBEX_DEPLOYMENT=teamsonly) with Exchange still on-premises: lyncdiscover, sip, _sip._tls and _sipfederationtls._tcp point to Microsoft 365 in both views, no internal Skype for Business record is left; the servers are still there, being decommissioned", estate.Worldwide, estate.TeamsOnly, estate.OnPrem},
	{"exchange-online", "Skype for Business Server on-premises with the mailboxes in Exchange Online (SFBEX_DEPLOYMENT=onprem, SFBEX_EXCHANGE_DEPLOYMENT=online): autodiscover points to autodiscover.outlook.com, the Exchange Online hosting provider carries OWA IM; the agent states the EWS dependency and the days left until Exchange Online switches EWS off; the snapshot carries the Exchange Online EWS settings", estate.Worldwide, estate.OnPrem, estate.Online},
	{"exchange-hybrid", "the default estate with Exchange in a hybrid (SFBEX_EXCHANGE_DEPLOYMENT=hybrid): autodiscover stays on-premises, the Exchange snapshot shows the dedicated hybrid application's setting override and the Exchange Online EWS settings; the agent states both EWS dependencies (Skype for Business Server and Exchange hybrid) and the days left", estate.Worldwide, estate.Hybrid, estate.Hybrid},
}

// VariantFaults names, for each fault that needs a shape other than the
// default, the variant that shows it (the default lab has no Exchange
// Online mailboxes and no Exchange hybrid).
var VariantFaults = map[string]string{
	"exo-ews-disabled":           "exchange-hybrid",
	"exo-ews-app-not-allowed":    "exchange-hybrid",
	"exo-ews-user-agent-blocked": "exchange-hybrid",
	"exchange-hybrid-app-shared": "exchange-hybrid",
}

// VariantNames lists every variant's name.
func VariantNames() []string {
	var out []string
	for _, v := range Variants {
		out = append(out, v.Name)
	}
	return out
}

// VariantNamed finds a variant; "" is the default.
func VariantNamed(name string) (Variant, error) {
	if name == "" {
		return Variants[0], nil
	}
	for _, v := range Variants {
		if v.Name == name {
			return v, nil
		}
	}
	return Variant{}, fmt.Errorf("unknown lab variant %q; known variants: %s", name, strings.Join(VariantNames(), ", "))
}

// Variant returns the shape the lab runs.
func (l *Lab) Variant() Variant { return l.variant }

// onlineHost is the Microsoft 365 host of a service in the lab's cloud.
func (l *Lab) onlineHost(key string) string {
	h := estate.CloudHosts(l.variant.Cloud)[key]
	if h == "" && key == estate.HostExap {
		h = estate.CloudHosts(estate.GCCHigh)[key]
	}
	return h
}
