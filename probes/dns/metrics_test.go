package dns

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
)

func TestDNSResultRendering(t *testing.T) {
	yes, no := true, false
	present := &Answer{Outcome: NoError, Addresses: []string{"127.0.0.1"}}
	res := &Result{
		Domain: "contoso.test",
		Records: []RecordResult{
			{Record: "sip", Type: "A", FQDN: "sip.contoso.test", Resolver: "external",
				Latest: &Answer{Outcome: Timeout, Duration: 2 * time.Second}, Current: present, Stale: true, Changes: 3,
				Rule: &Rule{Required: true}, Expected: &yes},
			{Record: "lyncdiscoverinternal", Type: "A", FQDN: "lyncdiscoverinternal.contoso.test", Resolver: "internal",
				Latest: &Answer{Outcome: NXDomain}, Current: &Answer{Outcome: NXDomain}, Rule: &Rule{Required: true}, Expected: &no},
		},
		Consistent: &no,
		Sides:      []SideCount{{Resolver: "external", Side: "online", Count: 1}},
		Agreement:  []Agreement{{Record: "_sipfederationtls._tcp", Type: "SRV", Agree: false}},
	}
	c := &probes.Check{Probe: "dns", Target: "contoso.test", Interval: time.Minute, Timeout: time.Second}
	s := collector.NewStore([]*probes.Check{c})
	s.Record(c.ID(), collector.Run{Result: res})
	reg := promtest.Registry(collector.NewCollector(s))

	ext := map[string]string{"domain": "contoso.test", "record": "sip", "type": "A", "resolver": "external"}
	internal := map[string]string{"domain": "contoso.test", "record": "lyncdiscoverinternal", "type": "A", "resolver": "internal"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"sfbex_dns_record_present", ext, 1},
		{"sfbex_dns_answer_stale", ext, 1},
		{"sfbex_dns_answer_changes_total", ext, 3},
		{"sfbex_dns_lookup_duration_seconds", ext, 2},
		{"sfbex_dns_answer_fingerprint", ext, float64(present.Fingerprint())},
		{"sfbex_dns_lookup_outcome", map[string]string{"record": "sip", "outcome": "timeout"}, 1},
		{"sfbex_dns_record_present", internal, 0},
		{"sfbex_dns_record_expected", internal, 0},
		{"sfbex_dns_record_required", internal, 1},
		{"sfbex_dns_answer_fingerprint", internal, 0},
		{"sfbex_dns_deployment_consistent", map[string]string{"domain": "contoso.test"}, 0},
		{"sfbex_dns_records_by_side", map[string]string{"resolver": "external", "side": "online"}, 1},
		{"sfbex_dns_views_agree", map[string]string{"record": "_sipfederationtls._tcp"}, 0},
	} {
		got, ok := promtest.Lookup(t, reg, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (present %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	// The pedantic registry checks every series is unique and well formed.
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Fatalf("gather: %d series, %v", n, err)
	}
}
