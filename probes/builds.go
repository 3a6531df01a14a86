package probes

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/internal/support"
)

// The Exchange build series: the autodiscover family (SOAP, POX answers)
// and the EWS check (X-OWA-Version on /owa/, ServerVersionInfo) both write them, with the
// protocol that showed the build. See docs/metrics.md#autodiscover.
var (
	exBuildInfoDesc = prometheus.NewDesc("sfbex_exchange_build_info",
		"The Exchange build a server showed (protocol soap: autodiscover ServerVersionInfo; pox: autodiscover ServerVersion; owa: X-OWA-Version on /owa/; ews: EWS ServerVersionInfo of a signed-in request), and its product from the lifecycle table (docs/lifecycle.md; unknown outside it). Always 1.",
		[]string{"domain", "protocol", "server", "build", "product"}, nil)
	exSupportEndDesc = prometheus.NewDesc("sfbex_exchange_support_end_timestamp_seconds",
		"When support of the Exchange product that server runs ends (Unix time, 00:00 UTC of the day after the last day of support); absent for a product under the Modern Lifecycle Policy (Subscription Edition).",
		[]string{"domain", "protocol", "server", "product"}, nil)
)

// ExchangeBuildMetrics appends the build series of one server's answer.
func ExchangeBuildMetrics(ms []prometheus.Metric, domain, protocol, server, build string) []prometheus.Metric {
	product := "unknown"
	var p support.Product
	if b, err := support.Parse(build); err == nil {
		var ok bool
		if p, ok = support.Identify(support.Exchange, b); ok {
			product = p.ID
		}
	}
	ms = append(ms, Gauge(exBuildInfoDesc, 1, domain, protocol, server, build, product))
	if product != "unknown" && !p.EndOfSupport.IsZero() {
		ms = append(ms, Gauge(exSupportEndDesc, float64(p.EndOfSupport.AddDate(0, 0, 1).Unix()), domain, protocol, server, product))
	}
	return ms
}
