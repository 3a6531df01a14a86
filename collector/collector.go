// Package collector runs checks on their intervals, keeps their latest and
// last good results, and serves their metrics: each result renders
// its own series (probes/<family>/metrics.go), once, when it arrives.
package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Meta metrics, one set per check.
var (
	probeLabels = []string{"probe", "target"}

	probeSuccessDesc = prometheus.NewDesc("sfbex_probe_success",
		"1 if the check's latest run completed without error, 0 if not.", probeLabels, nil)
	probeDurationDesc = prometheus.NewDesc("sfbex_probe_duration_seconds",
		"How long the check's latest run took.", probeLabels, nil)
	probeLastSuccessDesc = prometheus.NewDesc("sfbex_probe_last_success_timestamp_seconds",
		"When the check last completed without error (Unix time).", probeLabels, nil)
	probeStaleDesc = prometheus.NewDesc("sfbex_probe_stale",
		"1 if the latest run failed and an earlier run had returned data, so some of the check's data is older than the latest run; 0 when there is no data at all.", probeLabels, nil)
	probeStateDesc = prometheus.NewDesc("sfbex_probe_state",
		"1 for the check's state (critical, failed, stale, partial, warning, ok), 0 for the others: the state the status page, /api/checks and `sfbex_exporter check` show.", []string{"probe", "target", "state"}, nil)
	probeRunsDesc = prometheus.NewDesc("sfbex_probe_runs_total",
		"Runs of the check since the agent started.", probeLabels, nil)
	probeFailuresDesc = prometheus.NewDesc("sfbex_probe_failures_total",
		"Runs of the check that returned an error since the agent started.", probeLabels, nil)
	probeIntervalDesc = prometheus.NewDesc("sfbex_probe_interval_seconds",
		"How often the check runs; with sfbex_probe_last_success_timestamp_seconds it tells whether data is stale.", probeLabels, nil)
	probeFindingsDesc = prometheus.NewDesc("sfbex_probe_findings",
		"Problems with the estate the check's latest result shows, by severity.", []string{"probe", "target", "severity"}, nil)
)

// Collector exposes the store's contents to a prometheus.Registry, for
// tests and for programs that embed the store: it renders every entry
// again at each collection. The agent serves Handler instead, which sends
// the series encoded when each result arrived; a test holds the two to
// the same series (TestHandlerServesValidExposition).
type Collector struct {
	store *Store
}

// NewCollector returns a collector over store.
func NewCollector(store *Store) *Collector { return &Collector{store: store} }

// Describe sends nothing: the series depend on what the probes find, so
// the collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.store
	s.mu.RLock()
	var ms []prometheus.Metric
	for _, id := range s.order {
		ms = s.render(s.entries[id], ms)
	}
	s.mu.RUnlock()
	for _, m := range ms {
		ch <- m
	}
}

// renderEntry turns an entry into metrics, appended to ms: the meta
// metrics every check has, then its family's.
func renderEntry(e *Entry, ms []prometheus.Metric) []prometheus.Metric {
	if e.Runs == 0 {
		return ms
	}
	p, t := e.Check.Probe, e.Check.Target
	ms = append(ms,
		probes.Gauge(probeSuccessDesc, probes.Bool(e.Latest.Err == nil), p, t),
		probes.Gauge(probeDurationDesc, e.Latest.Duration.Seconds(), p, t),
		probes.Gauge(probeIntervalDesc, e.Check.Interval.Seconds(), p, t),
		probes.Gauge(probeStaleDesc, probes.Bool(e.Stale), p, t),
		probes.Counter(probeRunsDesc, float64(e.Runs), p, t),
		probes.Counter(probeFailuresDesc, float64(e.Failures), p, t),
	)
	state := e.State()
	for _, s := range States {
		if s != StatePending {
			ms = append(ms, probes.Gauge(probeStateDesc, probes.Bool(s == state), p, t, string(s)))
		}
	}
	if !e.LastSuccess.IsZero() {
		ms = append(ms, probes.Gauge(probeLastSuccessDesc, float64(e.LastSuccess.UnixMilli())/1000, p, t))
	}
	if e.Shown == nil {
		return ms
	}
	counts := map[string]int{"warning": 0, "critical": 0}
	for _, f := range e.Shown.Findings() {
		counts[f.Severity.String()]++
	}
	for _, sev := range []string{"warning", "critical", "info"} {
		if n, ok := counts[sev]; ok {
			ms = append(ms, probes.Gauge(probeFindingsDesc, float64(n), p, t, sev))
		}
	}
	return e.Shown.AppendMetrics(ms)
}
