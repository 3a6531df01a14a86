// Package lifecycle states what the estate depends on that Microsoft is
// retiring, and when: the Exchange Online EWS shutdown (domain-facts §7).
// Its one check derives the dependencies from the configured deployment
// and from the public autodiscover records, and counts the days.
package lifecycle

import (
	"fmt"
	"time"

	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Family is the lifecycle family: one check, target "ews-online".
var Family = probes.Family{Name: "lifecycle", Vars: &Vars{}, Checks: Checks}

// Vars are the lifecycle family's variables (docs/configuration.md#lifecycle).
type Vars struct {
	// The dates come from secondary summaries of Microsoft posts: settable.
	EWSShutdown string        `env:"SFBEX_EWS_ONLINE_SHUTDOWN_DATE, default=2027-04-01"`
	WarnDays    int           `env:"SFBEX_EWS_ONLINE_SHUTDOWN_WARN_DAYS, default=180"`
	Interval    time.Duration `env:"SFBEX_LIFECYCLE_INTERVAL, default=1h"`
}

// Checks builds the EWS shutdown check. It always runs: an estate without
// the dependency shows none, which is itself worth knowing.
func Checks(env *probes.Env) ([]*probes.Check, error) {
	var v Vars
	if err := config.Load(env.Vars, &v); err != nil {
		return nil, err
	}
	day, err := time.Parse(time.DateOnly, v.EWSShutdown)
	if err != nil {
		return nil, fmt.Errorf("SFBEX_EWS_ONLINE_SHUTDOWN_DATE=%q is not a date (YYYY-MM-DD); e.g. SFBEX_EWS_ONLINE_SHUTDOWN_DATE=2027-04-01", v.EWSShutdown)
	}
	if v.WarnDays < 0 {
		return nil, fmt.Errorf("SFBEX_EWS_ONLINE_SHUTDOWN_WARN_DAYS=%d must be 0 or more; e.g. SFBEX_EWS_ONLINE_SHUTDOWN_WARN_DAYS=180", v.WarnDays)
	}
	if err := config.Positive("SFBEX_LIFECYCLE_INTERVAL", v.Interval, "1h"); err != nil {
		return nil, err
	}
	e := env.Estate
	p := &EWSProber{Deps: EWSDependencies(e.Lync, e.Exchange), Lync: e.Lync, Shutdown: day, WarnDays: v.WarnDays, Now: time.Now,
		EmailDomains: e.EmailDomains, Resolvers: e.ExternalResolvers(), QueryTimeout: e.QueryTimeout}
	return []*probes.Check{{Probe: "lifecycle", Target: "ews-online", Interval: v.Interval, Timeout: 20 * time.Second, Run: p.Probe}}, nil
}
