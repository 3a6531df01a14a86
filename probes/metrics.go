package probes

import (
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Gauge, Counter and Bool build the constant series a result renders in
// its family's metrics.go (AppendMetrics). Rendering happens once, when a
// result arrives; a scrape only sends what was rendered.

// Gauge is one gauge sample of d.
func Gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// Counter is one counter sample of d.
func Counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
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
