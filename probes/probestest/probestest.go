// Package probestest builds the Env a family configures itself from, out of
// a map of variables, for the families' table-driven configuration tests,
// and serves a result as a scrape shows it, for their metric tests.
package probestest

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sfbex/sfbex_exporter/collector"
	"github.com/sfbex/sfbex_exporter/internal/config"
	"github.com/sfbex/sfbex_exporter/internal/estate"
	"github.com/sfbex/sfbex_exporter/internal/promtest"
	"github.com/sfbex/sfbex_exporter/internal/webclient"
	"github.com/sfbex/sfbex_exporter/probes"
)

// Env reads the estate and the web client from vars and returns the Env a
// family's Checks gets, with the routes it serves collected in Routes. A bad
// estate or web client configuration fails the test: family tests are about
// the family's own variables.
func Env(t testing.TB, vars map[string]string) (*probes.Env, map[string]http.Handler) {
	t.Helper()
	src := config.Map(vars)
	e, err := estate.Load(src)
	if err != nil {
		t.Fatalf("estate: %v", err)
	}
	w, err := webclient.Load(src, "sfbex_exporter/test")
	if err != nil {
		t.Fatalf("web client: %v", err)
	}
	routes := map[string]http.Handler{}
	return &probes.Env{Vars: src, Estate: e, Web: w, Handle: func(p string, h http.Handler) { routes[p] = h }}, routes
}

// With returns a copy of base with the pairs k1, v1, k2, v2, … set.
func With(base map[string]string, kv ...string) map[string]string {
	m := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		m[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// Merge returns a copy of base with every variable of extra set.
func Merge(base, extra map[string]string) map[string]string {
	m := With(base)
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// IDs lists the checks' IDs.
func IDs(checks []*probes.Check) []string {
	var out []string
	for _, c := range checks {
		out = append(out, c.ID())
	}
	return out
}

// Registry serves res as the agent does: recorded as one successful run of
// a check (probe and target name it) in a collector store, behind a
// pedantic registry, so a family's series are read as a scrape shows them.
func Registry(probe, target string, res probes.Result) *prometheus.Registry {
	c := &probes.Check{Probe: probe, Target: target, Interval: time.Minute, Timeout: time.Second}
	st := collector.NewStore([]*probes.Check{c})
	st.Record(c.ID(), collector.Run{Start: time.Now(), Duration: time.Millisecond, Result: res})
	return promtest.Registry(collector.NewCollector(st))
}
