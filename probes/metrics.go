package probes

import (
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Gauge, Counter and Bool build the constant series a result renders in
// its family's metrics.go (AppendMetrics). Rendering happens once, when a
// result arrives; a scrape only sends what was rendered.

// Sample is one series a result renders: a light prometheus.Metric (a
// client_golang const metric costs ~0.6 KB and a registry to print) that
// the store writes as a line of text directly (collector/exposition.go).
// Its labels are checked when it is written: a wrong count or invalid
// UTF-8 makes the check's metrics fail with an error naming it.
type Sample struct {
	desc   *prometheus.Desc
	typ    prometheus.ValueType
	value  float64
	labels []string
}

// Desc implements prometheus.Metric.
func (s *Sample) Desc() *prometheus.Desc { return s.desc }

// Write implements prometheus.Metric, for registries.
func (s *Sample) Write(out *dto.Metric) error {
	m, err := prometheus.NewConstMetric(s.desc, s.typ, s.value, s.labels...)
	if err != nil {
		return err
	}
	return m.Write(out)
}

// Type, Value and Labels are what the store writes.
func (s *Sample) Type() prometheus.ValueType { return s.typ }
func (s *Sample) Value() float64             { return s.value }
func (s *Sample) Labels() []string           { return s.labels }

// Gauge is one gauge sample of d. The labels are kept as given, not
// copied (a copy per series was a quarter of what rendering a DNS result
// allocated): pass them as arguments, or a slice whose elements nothing
// changes afterwards (append(l, x) to a slice with spare capacity would).
func Gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return &Sample{desc: d, typ: prometheus.GaugeValue, value: v, labels: labels}
}

// Counter is one counter sample of d; its labels as Gauge's.
func Counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return &Sample{desc: d, typ: prometheus.CounterValue, value: v, labels: labels}
}

// Bool is 1 for true and 0 for false.
func Bool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// maxLabelRunes bounds label values taken from what a server sends
// (certificate names, snapshot fields).
const maxLabelRunes = 128

// Clip bounds a label value taken from what a server sends.
func Clip(s string) string {
	if utf8.RuneCountInString(s) <= maxLabelRunes {
		return s
	}
	return string([]rune(s)[:maxLabelRunes])
}
