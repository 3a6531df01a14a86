package dns

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/plural"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Config is what the probe of one domain needs.
type Config struct {
	Domain      string
	SIP, Email  bool        // the domain is a SIP domain, an email domain, or both
	Lync        estate.Mode // where the Skype/Lync side lives
	Exchange    estate.Mode // where the Exchange side lives
	Cloud       estate.Cloud
	Resolvers   []estate.Resolver
	Expect      []Expectation // all of them; those for other domains are ignored
	AgreeRecord []string      // record names that must look the same through every resolver
	Skip        map[string]bool
	// QueryTimeout bounds one query; the run's context bounds the whole probe.
	QueryTimeout time.Duration
	// LaxDomainMatching accepts _sipinternaltls._tcp targets outside the
	// SIP domain, for clients whose policy relaxes strict domain matching.
	LaxDomainMatching bool
	// TeamsOnlySIP is SFBEX_DNS_TEAMSONLY_SIP_RECORDS: whether sip and
	// _sip._tls are required in Teams-only mode ("" means required).
	TeamsOnlySIP string
}

// Prober checks one domain's records. It remembers the last definitive
// answer per record and resolver, so that a failed lookup shows the last
// known answer (marked stale) and drift is counted only between two
// definitive answers.
type Prober struct {
	cfg     Config
	records []Record
	// rules and state hold one element per resolver and record, resolver
	// by resolver (index i*len(records)+j): slices, not maps keyed by
	// names, since a map's entries and the values behind its pointers cost
	// ~4 KB per domain at 10,000 domains (issue 17).
	rules []Rule

	mu    sync.Mutex
	state []recordState
}

type recordState struct {
	current *Answer // last definitive answer
	changes uint64
}

// NewProber derives the domain's records and rules.
func NewProber(cfg Config) (*Prober, error) {
	if len(cfg.Resolvers) == 0 {
		return nil, errors.New("no resolvers configured")
	}
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = 2 * time.Second
	}
	p := &Prober{
		cfg:     cfg,
		records: DomainRecords(cfg.Domain, cfg.SIP, cfg.Email, cfg.Skip),
	}
	p.rules = make([]Rule, len(cfg.Resolvers)*len(p.records))
	p.state = make([]recordState, len(p.rules))
	for j, rec := range p.records {
		name := normHost(rec.FQDN)
		for i, res := range cfg.Resolvers {
			mode := TeamsOnlySIP(rec, cfg.Lync, ModeRule(rec, cfg.Lync, cfg.Exchange, cfg.Cloud, res.Internal), cfg.TeamsOnlySIP)
			mode.TargetInDomain = mode.TargetInDomain && !cfg.LaxDomainMatching
			rule := mode
			// An expectation for this resolver beats one for every resolver,
			// whatever their order in SFBEX_DNS_EXPECT.
			for _, scoped := range []bool{false, true} {
				for _, e := range cfg.Expect {
					if e.Name == name && (e.Resolver == res.Name) == scoped && (scoped || e.Resolver == "") {
						rule = ruleFrom(e, mode)
					}
				}
			}
			p.rules[i*len(p.records)+j] = rule
		}
	}
	return p, nil
}

// Records lists the records the prober checks.
func (p *Prober) Records() []Record { return p.records }

// Result is one run's view of a domain.
type Result struct {
	Domain  string         `json:"domain"`
	Records []RecordResult `json:"records"`
	// Sides counts present Lync/Skype records per resolver and side.
	Sides []SideCount `json:"sides"`
	// Consistent: all Lync/Skype records, through every resolver, point to
	// one side. Nil when no such record has been seen.
	Consistent *bool `json:"consistent"`
	// Agreement compares the records that must look the same everywhere.
	Agreement []Agreement `json:"agreement"`

	findings []probes.Finding
}

// RecordResult is one record through one resolver.
type RecordResult struct {
	Record   string `json:"record"`
	Type     string `json:"type"`
	FQDN     string `json:"fqdn"`
	Resolver string `json:"resolver"`
	// Latest is this run's answer, whatever its outcome; never nil.
	Latest *Answer `json:"latest"`
	// Current is the last definitive answer: Latest itself (the same
	// pointer) when that was definitive, an earlier one otherwise, nil when
	// there never was one.
	Current *Answer `json:"current"`
	// Stale: Latest was not definitive and Current comes from an earlier run.
	Stale bool `json:"stale"`
	// Changes counts fingerprint changes between two definitive answers.
	Changes uint64 `json:"changes"`
	// Rule is the prober's, shared by every run's result.
	Rule *Rule `json:"rule"`
	// Expected: Current satisfies the rule; nil when the rule asks nothing
	// or nothing definitive is known.
	Expected *bool    `json:"expected"`
	Problems []string `json:"problems,omitempty"`
}

// SideCount is how many present Lync/Skype records a resolver sees on a side.
type SideCount struct {
	Resolver string `json:"resolver"`
	Side     string `json:"side"`
	Count    int    `json:"count"`
}

// Agreement says whether the resolvers agree on a record.
type Agreement struct {
	Record string `json:"record"`
	Type   string `json:"type"`
	Agree  bool   `json:"agree"`
	// Views lists "resolver: answer" for each resolver compared.
	Views []string `json:"views"`
}

// Findings implements probes.Result.
func (r *Result) Findings() []probes.Finding { return r.findings }

// Probe looks every record up through every resolver and judges the
// answers. The error, when not nil, lists the lookups that got no
// definitive answer; the result is still complete, with their last known
// answers marked stale.
func (p *Prober) Probe(ctx context.Context) (probes.Result, error) {
	latest := make([][]Answer, len(p.cfg.Resolvers))
	var wg sync.WaitGroup
	for i, res := range p.cfg.Resolvers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(res, p.cfg.QueryTimeout)
			defer c.close()
			answers := make([]Answer, len(p.records))
			for j, rec := range p.records {
				answers[j] = c.lookup(ctx, rec)
			}
			latest[i] = answers
		}()
	}
	wg.Wait()

	p.mu.Lock()
	defer p.mu.Unlock()
	// Sized once: appending would leave up to half the array unused in
	// every result the store keeps (issue 17).
	res := &Result{Domain: p.cfg.Domain, Records: make([]RecordResult, 0, len(p.cfg.Resolvers)*len(p.records))}
	var errs []error
	for i, resolver := range p.cfg.Resolvers {
		for j, rec := range p.records {
			a := &latest[i][j]
			k := i*len(p.records) + j
			st := &p.state[k]
			if a.Outcome.Definitive() {
				if st.current != nil && st.current.Fingerprint() != a.Fingerprint() {
					st.changes++
				}
				st.current = a
			} else {
				errs = append(errs, probes.WithFix(
					fmt.Errorf("%s via %s: %s", rec, resolver.Name, a.Detail),
					fixFor(a.Outcome, resolver)))
			}
			rr := RecordResult{
				Record: rec.Name, Type: rec.TypeName(), FQDN: normHost(rec.FQDN), Resolver: resolver.Name,
				Latest: a, Current: st.current, Stale: !a.Outcome.Definitive() && st.current != nil,
				Changes: st.changes, Rule: &p.rules[k],
			}
			p.judgeRecord(res, rec, resolver, &rr)
			res.Records = append(res.Records, rr)
		}
	}
	p.judgeSides(res)
	p.judgeAgreement(res)
	return res, errors.Join(errs...)
}

// yes and no are what RecordResult.Expected points to; never written.
var yes, no = true, false

func fixFor(o Outcome, r estate.Resolver) string {
	switch o {
	case Timeout:
		return fmt.Sprintf("Check that %s is reachable from the agent on UDP and TCP port 53, and that it is running.", r)
	case Refused:
		return fmt.Sprintf("Allow the agent's address to query %s (allow-query / recursion settings).", r)
	case ServFail:
		return fmt.Sprintf("%s could not resolve the name: check its forwarders and the zone's authoritative servers (dig @server name).", r)
	default:
		return fmt.Sprintf("Check %s and the network path to it; run dig against it to see the raw answer.", r)
	}
}

func (p *Prober) judgeRecord(res *Result, rec Record, resolver estate.Resolver, rr *RecordResult) {
	if rr.Current == nil || rr.Rule.Empty() && rr.Current.Detail == "" {
		return
	}
	vs := judge(rec, *rr.Rule, rr.Current)
	ok := len(vs) == 0
	if !rr.Rule.Empty() {
		// Shared values: a *bool per record and run adds up at 10,000 domains.
		rr.Expected = &no
		if ok {
			rr.Expected = &yes
		}
	}
	subject := fmt.Sprintf("%s (resolver %s)", rec, resolver.Name)
	for _, v := range vs {
		rr.Problems = append(rr.Problems, v.problem)
		res.findings = append(res.findings, probes.Finding{Severity: v.severity, Subject: subject, Problem: v.problem, Fix: v.fix})
	}
}

// judgeSides checks seed 001 step 1: the Lync/Skype records all point to
// Microsoft 365 or all to on-premises servers, through every resolver.
func (p *Prober) judgeSides(res *Result) {
	counts := map[[2]string]int{}
	where := map[string][]string{} // side -> "record via resolver"
	seen := false
	for _, rr := range res.Records {
		if rr.Current == nil || !isLyncRecord(rr.Record) {
			continue
		}
		seen = true
		side := rr.Current.Side()
		if side == "" {
			continue
		}
		counts[[2]string{rr.Resolver, side}]++
		where[side] = append(where[side], rr.Record+" via "+rr.Resolver)
	}
	for _, resolver := range p.cfg.Resolvers {
		for _, side := range []string{"online", "onprem"} {
			res.Sides = append(res.Sides, SideCount{Resolver: resolver.Name, Side: side, Count: counts[[2]string{resolver.Name, side}]})
		}
	}
	if !seen {
		return
	}
	consistent := len(where) <= 1
	res.Consistent = &consistent
	if !consistent {
		res.findings = append(res.findings, probes.Finding{
			Severity: probes.Critical,
			Subject:  "Lync/Skype DNS records of " + p.cfg.Domain,
			Problem: fmt.Sprintf("records point to both sides: Microsoft 365 (%s) and on-premises (%s)",
				strings.Join(where["online"], ", "), strings.Join(where["onprem"], ", ")),
			Fix: "Point all discovery and federation records to the same side (seed 001 step 1): all to Skype for Business Online, or all to the on-premises Edge and pools.",
		})
	}
}

func isLyncRecord(name string) bool {
	switch name {
	case RecAutodiscover, RecAutodiscoverSRV:
		return false
	}
	return true
}

// judgeAgreement compares, for each record that must look the same
// through every resolver, the last definitive answers.
func (p *Prober) judgeAgreement(res *Result) {
	if len(p.cfg.Resolvers) < 2 {
		return
	}
	byRecord := map[string][]RecordResult{}
	for _, rr := range res.Records {
		if slices.Contains(p.cfg.AgreeRecord, rr.Record) && rr.Current != nil {
			byRecord[rr.Record] = append(byRecord[rr.Record], rr)
		}
	}
	names := make([]string, 0, len(byRecord))
	for n := range byRecord {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		rrs := byRecord[name]
		if len(rrs) < 2 {
			continue
		}
		ag := Agreement{Record: name, Type: rrs[0].Type, Agree: true}
		for _, rr := range rrs {
			ag.Views = append(ag.Views, rr.Resolver+": "+rr.Current.Summary())
			if rr.Current.Fingerprint() != rrs[0].Current.Fingerprint() {
				ag.Agree = false
			}
		}
		res.Agreement = append(res.Agreement, ag)
		if !ag.Agree {
			res.findings = append(res.findings, probes.Finding{
				Severity: probes.Critical,
				Subject:  fmt.Sprintf("%s.%s %s", name, p.cfg.Domain, ag.Type),
				Problem:  "the DNS views disagree: " + strings.Join(ag.Views, "; "),
				Fix:      "Make the internal zone carry the same record as the public one (split-brain DNS), or remove the record from SFBEX_DNS_AGREE_RECORDS if the difference is intended.",
			})
		}
	}
}

// Details lists every record through every resolver in one line each.
func (r *Result) Details() []string {
	var out []string
	for _, rr := range r.Records {
		a := rr.Latest
		if rr.Current != nil {
			a = rr.Current
		}
		line := fmt.Sprintf("%s %s via %s: %s", rr.FQDN, rr.Type, rr.Resolver, a.Summary())
		if rr.Stale {
			line += fmt.Sprintf(" [stale: latest lookup %s]", rr.Latest.Outcome)
		}
		if rr.Expected != nil && !*rr.Expected {
			line += " [NOT AS EXPECTED]"
		}
		if rr.Changes > 0 {
			line += " [changed " + plural.Count(rr.Changes, "time", "times") + "]"
		}
		out = append(out, line)
	}
	for _, a := range r.Agreement {
		if !a.Agree {
			out = append(out, fmt.Sprintf("%s %s: views disagree: %s", a.Record, a.Type, strings.Join(a.Views, "; ")))
		}
	}
	return out
}
