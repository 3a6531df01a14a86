// Package promtest reads series from a Prometheus gatherer in tests, so
// that a series that must exist fails the test when it is absent: an
// absent series is not a 0.
package promtest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Values returns the values of the series of name whose labels include
// labels (gauges, counters and untyped alike).
func Values(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) []float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.Gauge != nil:
				out = append(out, m.GetGauge().GetValue())
			case m.Counter != nil:
				out = append(out, m.GetCounter().GetValue())
			case m.Untyped != nil:
				out = append(out, m.GetUntyped().GetValue())
			default:
				t.Fatalf("%s is a %s, not a single value", name, mf.GetType())
			}
		}
	}
	return out
}

// Value returns the value of the one series of name whose labels include
// labels. The test fails when there is none or several (the labels do not
// say which).
func Value(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	vals := Values(t, g, name, labels)
	if len(vals) != 1 {
		t.Fatalf("%s %v: %d series %v, want exactly one", name, labels, len(vals), vals)
	}
	return vals[0]
}

// Absent fails the test when a series of name whose labels include labels
// is exposed; why says why it must not be.
func Absent(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string, why string) {
	t.Helper()
	if vals := Values(t, g, name, labels); len(vals) > 0 {
		t.Errorf("%s %v = %v exposed: %s", name, labels, vals, why)
	}
}

// Lookup returns the value of the first series of name whose labels
// include labels, and whether there is one: check ok, or use Value.
func Lookup(t testing.TB, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	vals := Values(t, g, name, labels)
	if len(vals) == 0 {
		return 0, false
	}
	return vals[0], true
}

// Registry is a pedantic registry holding cs.
func Registry(cs ...prometheus.Collector) *prometheus.Registry {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(cs...)
	return reg
}
