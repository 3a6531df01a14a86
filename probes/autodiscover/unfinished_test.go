package autodiscover

import (
	"errors"
	"testing"
	"time"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/httpprobe"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
)

// A member the run gave up on is unknown: it has no series, rather than a
// false "down".
func TestUnfinishedMembersHaveNoSeries(t *testing.T) {
	c := &probes.Check{Probe: "autodiscover", Target: "contoso.test", Interval: time.Minute, Timeout: time.Second}
	l := &probes.Check{Probe: "lyncdiscover", Target: "contoso.test", Interval: time.Minute, Timeout: time.Second}
	s := collector.NewStore([]*probes.Check{c, l})
	reg := promtest.Registry(collector.NewCollector(s))
	s.Record(c.ID(), collector.Run{Result: &Result{Domain: "contoso.test", Methods: []MethodResult{
		{Method: Root, Unfinished: true, Attempt: httpprobe.Attempt{Outcome: httpprobe.Timeout}},
		{Method: Host, Up: true, Attempt: httpprobe.Attempt{Outcome: httpprobe.Challenged}},
	}}, Err: errors.New("autodiscover method root: timed out")})
	s.Record(l.ID(), collector.Run{Result: &LyncResult{Domain: "contoso.test", Views: []ViewResult{
		{View: External, Unfinished: true, Outcome: httpprobe.Timeout},
		{View: Internal, Up: true, Outcome: httpprobe.Challenged},
	}}, Err: errors.New("lyncdiscover external view: timed out")})
	if v := promtest.Value(t, reg, "sfbex_autodiscover_method_up", map[string]string{"method": "autodiscover_host"}); v != 1 {
		t.Errorf("autodiscover_host up = %v", v)
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_autodiscover_method_up", map[string]string{"method": "root"}); ok {
		t.Errorf("the unfinished root method has a series: %v", v)
	}
	if v := promtest.Value(t, reg, "sfbex_lyncdiscover_up", map[string]string{"view": "internal"}); v != 1 {
		t.Errorf("internal up = %v", v)
	}
	if v, ok := promtest.Lookup(t, reg, "sfbex_lyncdiscover_up", map[string]string{"view": "external"}); ok {
		t.Errorf("the unfinished external view has a series: %v", v)
	}
	for _, e := range s.Entries() {
		if e.State() != collector.StatePartial {
			t.Errorf("%s: state %s, want partial", e.Check.ID(), e.State())
		}
	}
}
