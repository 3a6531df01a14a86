// Package dns checks the DNS records that Skype for Business / Lync clients,
// federation partners and Exchange clients use to find their servers
// (domain-facts §1), through several named resolvers, against what the
// deployment mode implies and what the admin expects.
package dns

import (
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/estate"
)

// Record names, as the `record` label shows them.
const (
	RecLyncdiscover         = "lyncdiscover"
	RecLyncdiscoverInternal = "lyncdiscoverinternal"
	RecSIP                  = "sip"
	RecSIPTLS               = "_sip._tls"
	RecSIPFederationTLS     = "_sipfederationtls._tcp"
	RecSIPInternalTLS       = "_sipinternaltls._tcp"
	RecAutodiscover         = "autodiscover"
	RecAutodiscoverSRV      = "_autodiscover._tcp"
)

// AllRecords lists every record name the probe knows, in client lookup order.
var AllRecords = []string{
	RecLyncdiscoverInternal, RecLyncdiscover, RecSIPInternalTLS, RecSIPTLS, RecSIP,
	RecSIPFederationTLS, RecAutodiscover, RecAutodiscoverSRV,
}

// Record is one DNS name the probe looks up for a domain.
type Record struct {
	Name   string // record name as labelled, e.g. "_sip._tls"
	FQDN   string // e.g. "_sip._tls.contoso.com."
	Type   uint16 // mdns.TypeA or mdns.TypeSRV
	Lync   bool   // a Lync/Skype discovery or federation record (seed 001 step 1: all on one side)
	Domain string
}

// TypeName is the record type as labelled ("A", "SRV").
func (r Record) TypeName() string { return mdns.TypeToString[r.Type] }

func (r Record) String() string { return strings.TrimSuffix(r.FQDN, ".") + " " + r.TypeName() }

// DomainRecords derives the records to check for domain: the Lync/Skype
// records when it is a SIP domain, the autodiscover records when it is an
// email domain. Names in skip are left out.
func DomainRecords(domain string, sip, email bool, skip map[string]bool) []Record {
	d := mdns.Fqdn(strings.ToLower(domain))
	var out []Record
	add := func(name string, t uint16, lync bool) {
		if skip[name] {
			return
		}
		out = append(out, Record{Name: name, FQDN: name + "." + d, Type: t, Lync: lync, Domain: strings.TrimSuffix(d, ".")})
	}
	if sip {
		add(RecLyncdiscoverInternal, mdns.TypeA, true)
		add(RecLyncdiscover, mdns.TypeA, true)
		add(RecSIPInternalTLS, mdns.TypeSRV, true)
		add(RecSIPTLS, mdns.TypeSRV, true)
		add(RecSIP, mdns.TypeA, true)
		add(RecSIPFederationTLS, mdns.TypeSRV, true)
	}
	if email {
		add(RecAutodiscover, mdns.TypeA, false)
		add(RecAutodiscoverSRV, mdns.TypeSRV, false)
	}
	return out
}

// Rule is what a record must look like through one resolver.
type Rule struct {
	// Required: the record must exist.
	Required bool
	// Absent: the record must not exist.
	Absent bool
	// Values: when set, the answer must contain one of these (see Answer.Values
	// for the form: "cname:host", "a:addr", "srv:prio weight port target" or
	// "srv:port target").
	Values []string
	// NotOnline: the record must not point to Microsoft 365.
	NotOnline bool
	// Port: for SRV records, the port every record must use (0: any).
	Port uint16
	// TargetInDomain: SRV targets must lie in the record's domain
	// (strict domain matching for _sipinternaltls._tcp).
	TargetInDomain bool
	// Source says where the rule comes from, for the status page.
	Source string
}

// Empty reports whether the rule asks nothing.
func (r Rule) Empty() bool {
	return !r.Required && !r.Absent && len(r.Values) == 0 && !r.NotOnline && r.Port == 0 && !r.TargetInDomain
}

// ModeRule is the rule the deployment implies for rec through a resolver
// that sees the internal view (internal) or the external one. lync is the
// mode of the Skype/Lync side, exchange that of the Exchange side.
func ModeRule(rec Record, lync, exchange estate.Mode, cloud estate.Cloud, internal bool) Rule {
	hosts := estate.CloudHosts(cloud)
	if !rec.Lync {
		switch {
		case rec.Name == RecAutodiscover && exchange == estate.Online:
			return Rule{Required: true, Values: []string{"cname:" + hosts["autodiscover"]}, Source: "exchange deployment online, " + string(cloud)}
		case rec.Name == RecAutodiscover:
			// Internal Outlook finds Exchange through the SCP, so the record is
			// required only where clients outside see it.
			return Rule{Required: !internal, NotOnline: true, Source: "exchange deployment " + string(exchange)}
		default: // _autodiscover._tcp is a fallback: optional, but on 443 when present.
			return Rule{Port: 443, Source: "MS-OXDISCO"}
		}
	}
	if lync.InCloud() {
		src := "deployment " + string(lync) + ", " + string(cloud)
		if lync == estate.TeamsOnly {
			src += ` (Learn "decommission: manage DNS entries")`
		}
		switch rec.Name {
		case RecLyncdiscover:
			return Rule{Required: true, Values: []string{"cname:" + hosts["lyncdiscover"]}, Source: src}
		case RecSIP:
			return Rule{Required: true, Values: []string{"cname:" + hosts["sip"]}, Source: src}
		case RecSIPTLS:
			return Rule{Required: true, Values: []string{"srv:100 1 443 " + hosts["sip"]}, Source: src}
		case RecSIPFederationTLS:
			return Rule{Required: true, Values: []string{"srv:100 1 5061 " + hosts["sipfed"]}, Source: src}
		default:
			// A leftover internal record sends internal clients to a pool
			// that no longer hosts them.
			return Rule{Absent: true, Source: src}
		}
	}
	src := "deployment " + string(lync)
	switch rec.Name {
	case RecLyncdiscoverInternal, RecSIPInternalTLS:
		r := Rule{Required: internal, NotOnline: true, Source: src}
		if rec.Name == RecSIPInternalTLS {
			r.Port, r.TargetInDomain = 5061, true
		}
		return r
	case RecSIPTLS:
		return Rule{Required: !internal, NotOnline: true, Port: 443, Source: src}
	case RecSIPFederationTLS:
		return Rule{Required: !internal, NotOnline: true, Port: 5061, Source: src}
	default: // lyncdiscover, sip
		return Rule{Required: !internal, NotOnline: true, Source: src}
	}
}

// TeamsOnlySIPRequired and TeamsOnlySIPOptional are the values of
// SFBEX_DNS_TEAMSONLY_SIP_RECORDS.
const (
	TeamsOnlySIPRequired = "required"
	TeamsOnlySIPOptional = "optional"
)

// TeamsOnlySIP applies SFBEX_DNS_TEAMSONLY_SIP_RECORDS to the rule of a
// Teams-only deployment. Sources disagree on sip and _sip._tls for a
// Teams-only tenant (docs/configuration.md#teams-only-sip-and-_sip_tls):
// the decommission guidance lists them, pointing to Microsoft 365, among
// the records a switch to TeamsOnly checks; Teams clients themselves do not
// look them up. "optional" keeps the target when the record exists and
// accepts its absence.
func TeamsOnlySIP(rec Record, lync estate.Mode, rule Rule, setting string) Rule {
	if lync != estate.TeamsOnly || (rec.Name != RecSIP && rec.Name != RecSIPTLS) || setting != TeamsOnlySIPOptional {
		return rule
	}
	rule.Required = false
	rule.Source += ", optional by SFBEX_DNS_TEAMSONLY_SIP_RECORDS=optional"
	return rule
}

// DefaultAgreeRecords lists the records that must look the same through
// every resolver. Online or Teams-only, the internal zone must mirror the
// public one; on-premises the views differ on purpose, except for
// federation.
func DefaultAgreeRecords(lync, exchange estate.Mode) []string {
	var out []string
	if lync.InCloud() {
		out = append(out, RecLyncdiscover, RecSIP, RecSIPTLS, RecSIPFederationTLS)
	} else {
		out = append(out, RecSIPFederationTLS)
	}
	if exchange == estate.Online {
		out = append(out, RecAutodiscover)
	}
	return out
}
