package dns

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/sfbex/sfbex_exporter/probes"
)

// ExpectSyntax is shown with every SFBEX_DNS_EXPECT error.
const ExpectSyntax = `[resolver@]<name>/<A|CNAME|SRV>=<value>[|<value>...], comma-separated; value "absent" or "present" is allowed; ` +
	`e.g. "sip.contoso.com/CNAME=sipdir.online.lync.com,internal@lyncdiscoverinternal.contoso.com/A=10.0.0.5,_sip._tls.contoso.com/SRV=443 sip.contoso.com"`

// Expectation is one admin-configured expectation for a record.
type Expectation struct {
	Resolver string // "" means every resolver
	Name     string // lower case, no trailing dot
	Type     string // A, CNAME or SRV
	Absent   bool
	Present  bool
	Values   []string // normalised as Answer.Values
}

// ParseExpectations parses SFBEX_DNS_EXPECT.
func ParseExpectations(s string) ([]Expectation, error) {
	var out []Expectation
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		e, err := parseExpectation(item)
		if err != nil {
			return nil, fmt.Errorf("%q: %w; expected %s", item, err, ExpectSyntax)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseExpectation(item string) (Expectation, error) {
	var e Expectation
	lhs, rhs, ok := strings.Cut(item, "=")
	if !ok {
		return e, fmt.Errorf("no '='")
	}
	if res, rest, ok := strings.Cut(lhs, "@"); ok {
		e.Resolver, lhs = strings.TrimSpace(res), rest
		if e.Resolver == "" {
			return e, fmt.Errorf("empty resolver name before '@'")
		}
	}
	name, typ, ok := strings.Cut(lhs, "/")
	if !ok {
		return e, fmt.Errorf("no record type: write <name>/<A|CNAME|SRV>")
	}
	e.Name = normHost(strings.TrimSpace(name))
	if e.Name == "" {
		return e, fmt.Errorf("empty record name")
	}
	e.Type = strings.ToUpper(strings.TrimSpace(typ))
	if e.Type != "A" && e.Type != "CNAME" && e.Type != "SRV" {
		return e, fmt.Errorf("record type %q is not A, CNAME or SRV", typ)
	}
	for _, v := range strings.Split(rhs, "|") {
		v = strings.TrimSpace(v)
		switch strings.ToLower(v) {
		case "":
			return e, fmt.Errorf("empty value")
		case "absent":
			e.Absent = true
			continue
		case "present":
			e.Present = true
			continue
		}
		nv, err := normValue(e.Type, v)
		if err != nil {
			return e, err
		}
		e.Values = append(e.Values, nv)
	}
	if e.Absent && (e.Present || len(e.Values) > 0) {
		return e, fmt.Errorf("\"absent\" cannot be combined with other values")
	}
	return e, nil
}

func normValue(typ, v string) (string, error) {
	switch typ {
	case "A":
		ip, err := netip.ParseAddr(v)
		if err != nil || !ip.Is4() {
			return "", fmt.Errorf("%q is not an IPv4 address", v)
		}
		return "a:" + ip.String(), nil
	case "CNAME":
		if strings.ContainsAny(v, " /@") {
			return "", fmt.Errorf("%q is not a host name", v)
		}
		return "cname:" + normHost(v), nil
	default: // SRV: "port target" or "priority weight port target"
		f := strings.Fields(v)
		if len(f) != 2 && len(f) != 4 {
			return "", fmt.Errorf("SRV value %q must be \"<port> <target>\" or \"<priority> <weight> <port> <target>\"", v)
		}
		for _, n := range f[:len(f)-1] {
			if _, err := strconv.ParseUint(n, 10, 16); err != nil {
				return "", fmt.Errorf("SRV value %q: %q is not a number from 0 to 65535", v, n)
			}
		}
		f[len(f)-1] = normHost(f[len(f)-1])
		return "srv:" + strings.Join(f, " "), nil
	}
}

// ruleFrom turns an admin expectation into a rule, keeping the mode's
// structural checks (SRV port, target domain) and dropping what it overrides.
func ruleFrom(e Expectation, mode Rule) Rule {
	r := Rule{Port: mode.Port, TargetInDomain: mode.TargetInDomain, Source: "SFBEX_DNS_EXPECT"}
	switch {
	case e.Absent:
		r = Rule{Absent: true, Source: r.Source}
	case len(e.Values) > 0:
		r.Required, r.Values = true, e.Values
	default:
		r.Required, r.NotOnline = e.Present, mode.NotOnline
	}
	return r
}

// violation is one way an answer breaks its rule.
type violation struct {
	severity probes.Severity
	problem  string
	fix      string
}

// judge checks a definitive answer against a rule.
func judge(rec Record, rule Rule, a *Answer) []violation {
	var v []violation
	present := a.Present()
	switch {
	case rule.Absent && present:
		v = append(v, violation{probes.Critical,
			fmt.Sprintf("exists (%s) but must not (%s)", a.Summary(), rule.Source),
			fmt.Sprintf("Remove %s from this DNS view, or correct SFBEX_DEPLOYMENT / SFBEX_DNS_EXPECT if the deployment changed.", rec)})
	case rule.Required && !present:
		v = append(v, violation{probes.Critical,
			fmt.Sprintf("is missing: %s (required by %s)", a.Summary(), rule.Source),
			fmt.Sprintf("Create %s in this DNS view; see docs/runbooks.md#dns-record-missing.", rec)})
	}
	if !present {
		return v
	}
	if len(rule.Values) > 0 {
		got := a.Values()
		if !slices.ContainsFunc(rule.Values, func(want string) bool { return slices.Contains(got, want) }) {
			v = append(v, violation{probes.Critical,
				fmt.Sprintf("points to %s, expected %s (%s)", a.Summary(), strings.Join(rule.Values, " or "), rule.Source),
				"Correct the record, or update SFBEX_DNS_EXPECT if the change was intended."})
		}
	}
	if rule.NotOnline && a.Side() == "online" {
		v = append(v, violation{probes.Critical,
			fmt.Sprintf("points to Microsoft 365 (%s) but the deployment is %s", a.Summary(), strings.TrimPrefix(rule.Source, "deployment ")),
			"Point the record at the on-premises servers (seed 001 step 1: all records on one side), or set SFBEX_DEPLOYMENT=online if users moved to Microsoft 365."})
	}
	for _, s := range a.SRVs {
		if rule.Port != 0 && s.Port != rule.Port {
			v = append(v, violation{probes.Warning,
				fmt.Sprintf("SRV target %s uses port %d; clients expect %d", s.Target, s.Port, rule.Port),
				fmt.Sprintf("Set the port of %s to %d.", rec, rule.Port)})
		}
		if rule.TargetInDomain && s.Target != rec.Domain && !strings.HasSuffix(s.Target, "."+rec.Domain) {
			v = append(v, violation{probes.Warning,
				fmt.Sprintf("SRV target %s is outside the SIP domain %s; clients with strict domain matching refuse it", s.Target, rec.Domain),
				"Use a pool FQDN in the SIP domain, or relax strict domain matching in the client policy."})
		}
	}
	if a.Detail != "" {
		v = append(v, violation{probes.Warning, a.Detail, "Create the missing target record, or point the record at a name that resolves."})
	}
	return v
}
