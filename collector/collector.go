package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes/autodiscover"
	"github.com/sfbex/sfbex_exporter/probes/certs"
	"github.com/sfbex/sfbex_exporter/probes/cms"
	"github.com/sfbex/sfbex_exporter/probes/directory"
	"github.com/sfbex/sfbex_exporter/probes/dns"
	"github.com/sfbex/sfbex_exporter/probes/ews"
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

// Collector exposes the store's contents. It sends metrics rendered when
// each result arrived, so a scrape costs the same whatever the probes do.
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
	for _, m := range c.store.metricsInto(nil) {
		ch <- m
	}
}

// renderEntry turns an entry into metrics: the meta metrics every check
// has, then its family's.
func renderEntry(e *Entry) []prometheus.Metric {
	if e.Runs == 0 {
		return nil
	}
	p, t := e.Check.Probe, e.Check.Target
	ms := []prometheus.Metric{
		gauge(probeSuccessDesc, boolf(e.Latest.Err == nil), p, t),
		gauge(probeDurationDesc, e.Latest.Duration.Seconds(), p, t),
		gauge(probeIntervalDesc, e.Check.Interval.Seconds(), p, t),
		gauge(probeStaleDesc, boolf(e.Stale), p, t),
		counter(probeRunsDesc, float64(e.Runs), p, t),
		counter(probeFailuresDesc, float64(e.Failures), p, t),
	}
	state := e.State()
	for _, s := range States {
		if s != StatePending {
			ms = append(ms, gauge(probeStateDesc, boolf(s == state), p, t, string(s)))
		}
	}
	if !e.LastSuccess.IsZero() {
		ms = append(ms, gauge(probeLastSuccessDesc, float64(e.LastSuccess.UnixMilli())/1000, p, t))
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
			ms = append(ms, gauge(probeFindingsDesc, float64(n), p, t, sev))
		}
	}
	switch r := e.Shown.(type) {
	case *dns.Result:
		ms = appendDNS(ms, r)
	case *autodiscover.Result:
		ms = appendAutodiscover(ms, r)
	case *autodiscover.LyncResult:
		ms = appendLyncdiscover(ms, r)
	case *ews.Result:
		ms = appendEWS(ms, r)
	case *certs.OAuthResult:
		ms = appendOAuth(ms, r)
	case *certs.TLSResult:
		ms = appendTLS(ms, r)
	case *certs.FilesResult:
		ms = appendCertFiles(ms, r)
	case *cms.Result:
		ms = appendCMS(ms, r)
	case *directory.Result:
		ms = appendDirectory(ms, r)
	}
	return ms
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

func boolf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
