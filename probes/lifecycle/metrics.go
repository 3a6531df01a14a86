package lifecycle

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// See docs/metrics.md#lifecycle.
var ewsShutdownDesc = prometheus.NewDesc("sfbex_ews_online_shutdown_timestamp_seconds",
	"When Exchange Online switches EWS off for good (SFBEX_EWS_ONLINE_SHUTDOWN_DATE, Unix time), one series per dependency of the estate on it (sfb_server_exchange_online, exchange_hybrid); absent without one. x - time() is the time left.",
	[]string{"dependency"}, nil)

func (r *EWSResult) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	for _, d := range r.Dependencies {
		ms = append(ms, probes.Gauge(ewsShutdownDesc, float64(r.Shutdown.Unix()), d.Name))
	}
	return ms
}
