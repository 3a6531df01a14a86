package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int64
		auto  bool
		err   string
	}{
		{in: "auto", auto: true},
		{in: "AUTO", auto: true},
		{in: "off"},
		{in: "0"},
		{in: "256MiB", limit: 256 << 20},
		{in: "1.5GiB", limit: 3 << 29},
		{in: "300 MB", limit: 300e6},
		{in: "64000000", limit: 64e6},
		{in: "8MiB", err: "below 16MiB"},
		{in: "lots", err: `SFBEX_MEMORY_LIMIT="lots" is not auto, off or a size`},
		{in: "-5MiB", err: "is not auto"},
	} {
		limit, auto, err := parseMemoryLimit(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || limit != tc.limit || auto != tc.auto {
			t.Errorf("%q: %d %v %v, want %d %v", tc.in, limit, auto, err, tc.limit, tc.auto)
		}
	}
}

// By default the limit grows with the estate: a base, each DNS check's
// share (records × resolvers) and more for the other checks.
func TestMemoryLimitDerivedFromTheEstate(t *testing.T) {
	domains := func(n int) string {
		var d []string
		for i := range n {
			d = append(d, fmt.Sprintf("d%04d.test", i))
		}
		return strings.Join(d, ",")
	}
	limit := func(env map[string]string) int64 {
		t.Helper()
		a, err := load(env)
		if err != nil {
			t.Fatal(err)
		}
		if !a.MemoryLimitAuto {
			t.Fatal("the default limit is not derived")
		}
		return a.MemoryLimit
	}
	fleet := func(n int) map[string]string {
		return map[string]string{
			"SFBEX_SIP_DOMAINS": domains(n), "SFBEX_EMAIL_DOMAINS": domains(n),
			"SFBEX_DNS_RESOLVERS":         "internal=127.0.0.1:53,external=127.0.0.2:53",
			"SFBEX_AUTODISCOVER_EXCHANGE": "false", "SFBEX_LYNCDISCOVER_VIEWS": "", "SFBEX_TLS_SKIP_ENDPOINTS": "all",
			"SFBEX_EXCHANGE_METADATA_URLS": "", "SFBEX_SIP_ENABLED": "false",
		}
	}
	small, large := limit(fleet(500)), limit(fleet(1000))
	if per := (large - small) / 500; per != 22<<10 {
		t.Errorf("%d bytes per domain through 2 resolvers, want 22 KiB", per)
	}
	// The fleet benchmark's 48 MiB at 1,000 domains: the limit plus ~11 MiB
	// of the binary's pages and what the runtime keeps outside it.
	if large > 35<<20 {
		t.Errorf("1,000 domains: %d MiB, want at most 35", large>>20)
	}
	env := fleet(1000)
	env["SFBEX_MEMORY_LIMIT"] = "512MiB"
	if a, err := load(env); err != nil || a.MemoryLimit != 512<<20 || a.MemoryLimitAuto {
		t.Errorf("SFBEX_MEMORY_LIMIT=512MiB: %v %v", a, err)
	}
	env["SFBEX_MEMORY_LIMIT"] = "much"
	if _, err := load(env); err == nil || !strings.Contains(err.Error(), "e.g. SFBEX_MEMORY_LIMIT=256MiB") {
		t.Errorf("SFBEX_MEMORY_LIMIT=much: %v", err)
	}
}
