package directory

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/probes"
)

func TestDirectoryRenderingAndStaleness(t *testing.T) {
	c := &probes.Check{Probe: "directory", Target: "ldap://dc01/DC=contoso,DC=test", Interval: time.Hour, Timeout: time.Minute}
	s := collector.NewStore([]*probes.Check{c})
	reg := promtest.Registry(collector.NewCollector(s))
	res := &Result{Entries: 1010, Pages: 2, ScanDuration: 1500 * time.Millisecond, Domains: []DomainStats{
		{Domain: "contoso.test", Users: 1000, WithSIPProxy: 800, MissingMail: 7, Mismatch: 3, Invalid: 2, Duplicates: 1, SIPDisabled: 4},
		{Domain: "other"},
	}}
	s.Record(c.ID(), collector.Run{Start: time.Now(), Result: res})
	check := func() {
		t.Helper()
		d := map[string]string{"domain": "contoso.test"}
		for name, want := range map[string]float64{
			"sfbex_directory_sip_proxyaddress_coverage_ratio": 0.8,
			"sfbex_directory_sip_proxyaddress_users":          800,
			"sfbex_directory_sip_smtp_mismatch":               3,
			"sfbex_directory_sip_address_invalid":             2,
			"sfbex_directory_sip_address_duplicates":          1,
		} {
			if v, ok := promtest.Lookup(t, reg, name, d); !ok || v != want {
				t.Errorf("%s = %v (%v), want %v", name, v, ok, want)
			}
		}
		for attr, want := range map[string]float64{"proxyaddress_sip": 200, "mail": 7} {
			if v, ok := promtest.Lookup(t, reg, "sfbex_directory_users_missing_attribute", map[string]string{"domain": "contoso.test", "attribute": attr}); !ok || v != want {
				t.Errorf("missing %s = %v (%v), want %v", attr, v, ok, want)
			}
		}
		for state, want := range map[string]float64{"enabled": 1000, "sip_disabled": 4} {
			if v, ok := promtest.Lookup(t, reg, "sfbex_directory_users", map[string]string{"domain": "contoso.test", "state": state}); !ok || v != want {
				t.Errorf("users %s = %v, want %v", state, v, want)
			}
		}
		if _, ok := promtest.Lookup(t, reg, "sfbex_directory_users", map[string]string{"state": "account_disabled"}); ok {
			t.Error("account_disabled reported although disabled accounts are excluded")
		}
		// No users: no ratio (a 0 would be a false alarm, a 1 a false all-clear).
		if _, ok := promtest.Lookup(t, reg, "sfbex_directory_sip_proxyaddress_coverage_ratio", map[string]string{"domain": "other"}); ok {
			t.Error("coverage ratio for a domain without users")
		}
		if v := promtest.Value(t, reg, "sfbex_directory_scan_pages", nil); v != 2 {
			t.Errorf("pages = %v", v)
		}
	}
	check()
	// A scan that fails halfway returns (nil, err): the figures stay, stale.
	s.Record(c.ID(), collector.Run{Start: time.Now(), Err: errors.New("connection reset")})
	check()
	if v := promtest.Value(t, reg, "sfbex_probe_stale", map[string]string{"probe": "directory"}); v != 1 {
		t.Errorf("stale = %v, want 1", v)
	}
	if v := promtest.Value(t, reg, "sfbex_probe_success", map[string]string{"probe": "directory"}); v != 0 {
		t.Errorf("success = %v, want 0", v)
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %+v", p)
	}
}
