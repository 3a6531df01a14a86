package estate

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/sfbex/sfbex_exporter/internal/config"
)

// Estate is what the agent watches: the domains, where each side lives,
// the cloud, and the DNS views every family looks through.
type Estate struct {
	SIPDomains, EmailDomains []string
	Lync, Exchange           Mode // where the Skype/Lync side and the Exchange side live
	Cloud                    Cloud
	Resolvers                []Resolver
	QueryTimeout             time.Duration // one DNS query
	// Shard is this agent's share of the estate (SFBEX_SHARD): the domain
	// lists above hold only the domains it owns.
	Shard Shard
}

// Vars are the estate's variables.
type Vars struct {
	SIPDomains           []string      `env:"SFBEX_SIP_DOMAINS"`
	EmailDomains         []string      `env:"SFBEX_EMAIL_DOMAINS"`
	Deployment           string        `env:"SFBEX_DEPLOYMENT, default=onprem"`
	ExchangeDeployment   string        `env:"SFBEX_EXCHANGE_DEPLOYMENT"`
	Cloud                string        `env:"SFBEX_CLOUD, default=worldwide"`
	DNSResolvers         string        `env:"SFBEX_DNS_RESOLVERS"`
	DNSInternalResolvers []string      `env:"SFBEX_DNS_INTERNAL_RESOLVERS, default=internal"`
	DNSQueryTimeout      time.Duration `env:"SFBEX_DNS_QUERY_TIMEOUT, default=2s"`
	Shard                string        `env:"SFBEX_SHARD"`
}

// ErrNothingConfigured is returned when no domain is set.
var ErrNothingConfigured = errors.New("nothing to monitor: set SFBEX_SIP_DOMAINS (e.g. SFBEX_SIP_DOMAINS=contoso.com), " +
	"and SFBEX_EMAIL_DOMAINS when the email domains differ, or run `sfbex_exporter --lab` to try the agent on its simulated estate; " +
	"see docs/configuration.md")

// Load reads the estate's variables from src. Without SFBEX_DNS_RESOLVERS
// the system resolver (/etc/resolv.conf) is the one view, named "system".
func Load(src config.Source) (*Estate, error) {
	var v Vars
	if err := config.Load(src, &v); err != nil {
		return nil, err
	}
	e := &Estate{QueryTimeout: v.DNSQueryTimeout}
	if err := e.domains(&v); err != nil {
		return nil, err
	}
	if err := e.modes(&v); err != nil {
		return nil, err
	}
	if err := config.Positive("SFBEX_DNS_QUERY_TIMEOUT", v.DNSQueryTimeout, "2s"); err != nil {
		return nil, err
	}
	var err error
	internal := config.Items(v.DNSInternalResolvers)
	if e.Resolvers, err = resolvers(v.DNSResolvers, internal); err != nil {
		return nil, err
	}
	if config.IsSet(src, "SFBEX_DNS_INTERNAL_RESOLVERS") {
		for _, n := range internal {
			if !slices.ContainsFunc(e.Resolvers, func(r Resolver) bool { return r.Name == n }) {
				return nil, fmt.Errorf("SFBEX_DNS_INTERNAL_RESOLVERS: %q is not a resolver named in SFBEX_DNS_RESOLVERS; e.g. SFBEX_DNS_INTERNAL_RESOLVERS=internal with SFBEX_DNS_RESOLVERS=internal=10.0.0.10:53,external=1.1.1.1:53", n)
			}
		}
	}
	return e, nil
}

func (e *Estate) domains(v *Vars) error {
	var err error
	if e.SIPDomains, err = config.Domains("SFBEX_SIP_DOMAINS", v.SIPDomains); err != nil {
		return err
	}
	if e.EmailDomains, err = config.Domains("SFBEX_EMAIL_DOMAINS", v.EmailDomains); err != nil {
		return err
	}
	if len(e.SIPDomains) == 0 && len(e.EmailDomains) == 0 {
		return ErrNothingConfigured
	}
	if v.EmailDomains == nil { // unset, not set empty: the SIP domains are the email domains
		e.EmailDomains = e.SIPDomains
	}
	// A shard keeps its share of both lists by the domain's name, so a
	// domain that is SIP and email lands on one shard with both roles.
	if e.Shard, err = ParseShard(v.Shard); err != nil {
		return err
	}
	e.SIPDomains, e.EmailDomains = e.Shard.keep(e.SIPDomains), e.Shard.keep(e.EmailDomains)
	return nil
}

func (e *Estate) modes(v *Vars) error {
	var err error
	if e.Lync, err = ParseMode(v.Deployment); err != nil {
		return fmt.Errorf("SFBEX_DEPLOYMENT: %w; e.g. SFBEX_DEPLOYMENT=hybrid", err)
	}
	e.Exchange = e.Lync
	if e.Lync == TeamsOnly { // most Teams-only tenants have their mailboxes in Exchange Online
		e.Exchange = Online
	}
	if v.ExchangeDeployment != "" {
		if e.Exchange, err = ParseMode(v.ExchangeDeployment); err != nil {
			return fmt.Errorf("SFBEX_EXCHANGE_DEPLOYMENT: %w; e.g. SFBEX_EXCHANGE_DEPLOYMENT=online", err)
		}
		if e.Exchange == TeamsOnly {
			return errors.New("SFBEX_EXCHANGE_DEPLOYMENT: teamsonly describes the Skype for Business side (SFBEX_DEPLOYMENT); Exchange is onprem, online or hybrid; e.g. SFBEX_DEPLOYMENT=teamsonly SFBEX_EXCHANGE_DEPLOYMENT=online")
		}
	}
	if e.Cloud, err = ParseCloud(v.Cloud); err != nil {
		return fmt.Errorf("SFBEX_CLOUD: %w; e.g. SFBEX_CLOUD=worldwide", err)
	}
	return nil
}

// AllDomains lists SIP domains first, then email domains not already listed.
func (e *Estate) AllDomains() []string {
	out := slices.Clone(e.SIPDomains)
	for _, d := range e.EmailDomains {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// IsSIP and IsEmail say which kinds of domain d is.
func (e *Estate) IsSIP(d string) bool   { return slices.Contains(e.SIPDomains, d) }
func (e *Estate) IsEmail(d string) bool { return slices.Contains(e.EmailDomains, d) }

// HasInternalView reports whether some resolver answers with the internal
// view.
func (e *Estate) HasInternalView() bool {
	return slices.ContainsFunc(e.Resolvers, func(r Resolver) bool { return r.Internal })
}

// ExternalResolvers are the views outside clients and federation partners
// see; every resolver when none is external.
func (e *Estate) ExternalResolvers() []Resolver {
	var out []Resolver
	for _, r := range e.Resolvers {
		if !r.Internal {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return e.Resolvers
	}
	return out
}

var resolverNameRe = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// resolvers parses SFBEX_DNS_RESOLVERS ("name=host:port,...").
func resolvers(spec string, internal []string) ([]Resolver, error) {
	const eg = "internal=10.0.0.10:53,external=1.1.1.1:53"
	var out []Resolver
	if strings.TrimSpace(spec) == "" {
		cc, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(cc.Servers) == 0 {
			return nil, fmt.Errorf("SFBEX_DNS_RESOLVERS is not set and /etc/resolv.conf names no server: set it, e.g. SFBEX_DNS_RESOLVERS=%s", eg)
		}
		out = append(out, Resolver{Name: "system", Addr: net.JoinHostPort(cc.Servers[0], cc.Port)})
	}
	for _, item := range config.Items(strings.Split(spec, ",")) {
		name, addr, ok := strings.Cut(item, "=")
		name, addr = strings.TrimSpace(name), strings.TrimSpace(addr)
		if !ok || !resolverNameRe.MatchString(name) || addr == "" {
			return nil, config.InvalidItem("SFBEX_DNS_RESOLVERS", item, "name=host:port (names: letters, digits, - and _)", eg)
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil { // no port given: DNS's own
			host, port = strings.Trim(addr, "[]"), "53"
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 || host == "" || strings.ContainsAny(host, " /") {
			return nil, config.InvalidItem("SFBEX_DNS_RESOLVERS", item, "name=host:port with a port from 1 to 65535", eg)
		}
		if slices.ContainsFunc(out, func(r Resolver) bool { return r.Name == name }) {
			return nil, fmt.Errorf("SFBEX_DNS_RESOLVERS: the name %q is used twice; give each resolver its own name; e.g. SFBEX_DNS_RESOLVERS=%s", name, eg)
		}
		out = append(out, Resolver{Name: name, Addr: net.JoinHostPort(host, port), Internal: slices.Contains(internal, name)})
	}
	return out, nil
}
