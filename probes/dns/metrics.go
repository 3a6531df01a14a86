package dns

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// DNS metrics. See docs/metrics.md#dns.
var (
	dnsRecordLabels = []string{"domain", "record", "type", "resolver"}

	dnsRecordPresentDesc = prometheus.NewDesc("sfbex_dns_record_present",
		"1 if the record exists through this resolver, 0 if the last definitive answer was NXDOMAIN or NODATA.", dnsRecordLabels, nil)
	dnsLookupOutcomeDesc = prometheus.NewDesc("sfbex_dns_lookup_outcome",
		"The latest lookup's outcome, as a label: noerror, nxdomain, nodata, servfail, refused, timeout or error. Always 1.",
		append(dnsRecordLabels, "outcome"), nil)
	dnsLookupDurationDesc = prometheus.NewDesc("sfbex_dns_lookup_duration_seconds",
		"How long the latest lookup took, including CNAME and SRV target resolution.", dnsRecordLabels, nil)
	dnsFingerprintDesc = prometheus.NewDesc("sfbex_dns_answer_fingerprint",
		"A 52-bit hash of the last definitive answer (CNAME chain, addresses or SRV records; 0 when absent). Use changes() to see drift.", dnsRecordLabels, nil)
	dnsChangesDesc = prometheus.NewDesc("sfbex_dns_answer_changes_total",
		"Changes of the answer between two definitive answers since the agent started; failed lookups do not count.", dnsRecordLabels, nil)
	dnsAnswerStaleDesc = prometheus.NewDesc("sfbex_dns_answer_stale",
		"1 if the latest lookup failed and the other series show the last definitive answer.", dnsRecordLabels, nil)
	dnsAddressesDesc = prometheus.NewDesc("sfbex_dns_answer_addresses",
		"IPv4 addresses the record finally resolves to (for SRV: all targets' addresses).", dnsRecordLabels, nil)
	dnsRequiredDesc = prometheus.NewDesc("sfbex_dns_record_required",
		"1 if the deployment mode or SFBEX_DNS_EXPECT requires the record through this resolver.", dnsRecordLabels, nil)
	dnsExpectedDesc = prometheus.NewDesc("sfbex_dns_record_expected",
		"1 if the record matches what the deployment mode and SFBEX_DNS_EXPECT ask of it, 0 if not. Absent when nothing is asked.", dnsRecordLabels, nil)
	dnsConsistentDesc = prometheus.NewDesc("sfbex_dns_deployment_consistent",
		"1 if all Lync/Skype discovery and federation records, through every resolver, point to one side (all Microsoft 365 or all on-premises).", []string{"domain"}, nil)
	dnsSideDesc = prometheus.NewDesc("sfbex_dns_records_by_side",
		"Present Lync/Skype records per resolver pointing to Microsoft 365 (online) or on-premises (onprem).", []string{"domain", "resolver", "side"}, nil)
	dnsViewsAgreeDesc = prometheus.NewDesc("sfbex_dns_views_agree",
		"1 if every resolver gives the same answer for a record that must look the same inside and outside.", []string{"domain", "record", "type"}, nil)
)

func (r *Result) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	for i := range r.Records {
		rr := &r.Records[i]
		l := []string{r.Domain, rr.Record, rr.Type, rr.Resolver}
		ms = append(ms,
			probes.Gauge(dnsLookupOutcomeDesc, 1, append(l, string(rr.Latest.Outcome))...),
			probes.Gauge(dnsLookupDurationDesc, rr.Latest.Duration.Seconds(), l...),
			probes.Counter(dnsChangesDesc, float64(rr.Changes), l...),
			probes.Gauge(dnsAnswerStaleDesc, probes.Bool(rr.Stale), l...),
			probes.Gauge(dnsRequiredDesc, probes.Bool(rr.Rule.Required), l...),
		)
		if rr.Current != nil {
			ms = append(ms,
				probes.Gauge(dnsRecordPresentDesc, probes.Bool(rr.Current.Present()), l...),
				probes.Gauge(dnsFingerprintDesc, float64(rr.Current.Fingerprint()), l...),
				probes.Gauge(dnsAddressesDesc, float64(rr.Current.AddressCount()), l...),
			)
		}
		if rr.Expected != nil {
			ms = append(ms, probes.Gauge(dnsExpectedDesc, probes.Bool(*rr.Expected), l...))
		}
	}
	if r.Consistent != nil {
		ms = append(ms, probes.Gauge(dnsConsistentDesc, probes.Bool(*r.Consistent), r.Domain))
	}
	for _, s := range r.Sides {
		ms = append(ms, probes.Gauge(dnsSideDesc, float64(s.Count), r.Domain, s.Resolver, s.Side))
	}
	for _, a := range r.Agreement {
		ms = append(ms, probes.Gauge(dnsViewsAgreeDesc, probes.Bool(a.Agree), r.Domain, a.Record, a.Type))
	}
	return ms
}
