package dns

import (
	"fmt"
	"strings"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Family checks every domain's discovery and federation records through
// every DNS view: one check per domain.
var Family = probes.Family{Name: "dns", Vars: &Vars{}, Checks: Checks}

// Vars are the DNS family's variables (docs/configuration.md#dns).
type Vars struct {
	Expect            string        `env:"SFBEX_DNS_EXPECT"`
	AgreeRecords      []string      `env:"SFBEX_DNS_AGREE_RECORDS"`
	SkipRecords       []string      `env:"SFBEX_DNS_SKIP_RECORDS"`
	Interval          time.Duration `env:"SFBEX_DNS_INTERVAL, default=1m"`
	Timeout           time.Duration `env:"SFBEX_DNS_TIMEOUT, default=20s"`
	StrictDomainMatch bool          `env:"SFBEX_DNS_STRICT_DOMAIN_MATCHING, default=true"`
	TeamsOnlySIP      string        `env:"SFBEX_DNS_TEAMSONLY_SIP_RECORDS, default=required"`
}

// SkipRecords reads SFBEX_DNS_SKIP_RECORDS: the records no family derives
// anything from (the certificate family reads it too).
func SkipRecords(src config.Source) (map[string]bool, error) {
	var v struct {
		SkipRecords []string `env:"SFBEX_DNS_SKIP_RECORDS"`
	}
	if err := config.Load(src, &v); err != nil {
		return nil, err
	}
	names, err := config.OneOf("SFBEX_DNS_SKIP_RECORDS", v.SkipRecords, AllRecords, RecLyncdiscoverInternal)
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	for _, n := range names {
		skip[n] = true
	}
	return skip, nil
}

// Checks builds one check per domain, SIP domains first.
func Checks(env *probes.Env) ([]*probes.Check, error) {
	var v Vars
	if err := config.Load(env.Vars, &v); err != nil {
		return nil, err
	}
	if err := config.Schedule("SFBEX_DNS", v.Interval, v.Timeout); err != nil {
		return nil, err
	}
	skip, err := SkipRecords(env.Vars)
	if err != nil {
		return nil, err
	}
	e := env.Estate
	agree := DefaultAgreeRecords(e.Lync, e.Exchange)
	if v.AgreeRecords != nil {
		if agree, err = config.OneOf("SFBEX_DNS_AGREE_RECORDS", v.AgreeRecords, AllRecords, RecSIPFederationTLS); err != nil {
			return nil, err
		}
	}
	if v.TeamsOnlySIP, err = config.Choice("SFBEX_DNS_TEAMSONLY_SIP_RECORDS", v.TeamsOnlySIP, []string{TeamsOnlySIPRequired, TeamsOnlySIPOptional}, TeamsOnlySIPOptional); err != nil {
		return nil, err
	}
	expect, err := ParseExpectations(v.Expect)
	if err != nil {
		return nil, fmt.Errorf("SFBEX_DNS_EXPECT: %w", err)
	}
	var checks []*probes.Check
	known := map[string]string{} // fqdn -> type, for the expectations
	for _, d := range e.AllDomains() {
		for _, r := range DomainRecords(d, e.IsSIP(d), e.IsEmail(d), skip) {
			known[strings.TrimSuffix(r.FQDN, ".")] = r.TypeName()
		}
	}
	if err := checkExpectations(expect, known, env); err != nil {
		return nil, err
	}
	for _, d := range e.AllDomains() {
		p, err := NewProber(Config{
			Domain: d, SIP: e.IsSIP(d), Email: e.IsEmail(d),
			Lync: e.Lync, Exchange: e.Exchange, Cloud: e.Cloud, Resolvers: e.Resolvers,
			Expect: expect, AgreeRecord: agree, Skip: skip, QueryTimeout: e.QueryTimeout,
			// Strict unless the admin's client policy relaxes it.
			LaxDomainMatching: !v.StrictDomainMatch,
			TeamsOnlySIP:      v.TeamsOnlySIP,
		})
		if err != nil {
			return nil, err
		}
		checks = append(checks, &probes.Check{Probe: "dns", Target: d, Interval: v.Interval, Timeout: v.Timeout, Run: p.Probe})
	}
	return checks, nil
}

// checkExpectations makes sure every SFBEX_DNS_EXPECT entry names a record
// the agent checks, a configured resolver and a type that fits the record.
func checkExpectations(expect []Expectation, known map[string]string, env *probes.Env) error {
	for _, x := range expect {
		typ, ok := known[x.Name]
		if !ok {
			return fmt.Errorf("SFBEX_DNS_EXPECT: %s is not a record the agent checks for the configured domains (e.g. sip.<domain>, _sip._tls.<domain>); syntax: %s", x.Name, ExpectSyntax)
		}
		if (typ == "SRV") != (x.Type == "SRV") {
			want := "A or CNAME"
			if typ == "SRV" {
				want = "SRV"
			}
			return fmt.Errorf("SFBEX_DNS_EXPECT: %s is looked up as %s, so its expectation must use %s; syntax: %s", x.Name, typ, want, ExpectSyntax)
		}
		if x.Resolver != "" && !hasResolver(env, x.Resolver) {
			return fmt.Errorf("SFBEX_DNS_EXPECT: resolver %q in %s@%s/%s is not in SFBEX_DNS_RESOLVERS", x.Resolver, x.Resolver, x.Name, x.Type)
		}
	}
	return nil
}

func hasResolver(env *probes.Env, name string) bool {
	for _, r := range env.Estate.Resolvers {
		if r.Name == name {
			return true
		}
	}
	return false
}
