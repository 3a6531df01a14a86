package directory

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// Directory metrics. See docs/metrics.md#directory. The
// domain label is a configured SIP domain or "other": never a user.
var (
	dirDomain = []string{"domain"}

	dirUsersDesc = prometheus.NewDesc("sfbex_directory_users",
		"Users with a SIP address by state: enabled (SIP-enabled, active: the other directory metrics are about them), sip_disabled (msRTCSIP-UserEnabled FALSE), account_disabled (a disabled account; only with SFBEX_LDAP_DISABLED_ACCOUNTS=include).",
		[]string{"domain", "state"}, nil)
	dirProxyUsersDesc = prometheus.NewDesc("sfbex_directory_sip_proxyaddress_users",
		"SIP-enabled users whose proxyAddresses holds SIP:<their msRTCSIP-PrimaryUserAddress> (compared case-insensitively).", dirDomain, nil)
	dirCoverageDesc = prometheus.NewDesc("sfbex_directory_sip_proxyaddress_coverage_ratio",
		"Share of SIP-enabled users whose proxyAddresses holds their SIP address (0..1). Absent for a domain without users.", dirDomain, nil)
	dirMissingDesc = prometheus.NewDesc("sfbex_directory_users_missing_attribute",
		"SIP-enabled users missing an attribute the integration needs: proxyaddress_sip (no SIP:<address> in proxyAddresses) or mail.",
		[]string{"domain", "attribute"}, nil)
	dirMismatchDesc = prometheus.NewDesc("sfbex_directory_sip_smtp_mismatch",
		"SIP-enabled users whose primary SMTP address differs from their SIP address (the client's email comparison check, seed 004).", dirDomain, nil)
	dirInvalidDesc = prometheus.NewDesc("sfbex_directory_sip_address_invalid",
		"SIP-enabled users whose msRTCSIP-PrimaryUserAddress is not sip:user@domain.", dirDomain, nil)
	dirDuplicatesDesc = prometheus.NewDesc("sfbex_directory_sip_address_duplicates",
		"SIP addresses held by more than one user.", dirDomain, nil)

	dirScanDurationDesc = prometheus.NewDesc("sfbex_directory_scan_duration_seconds",
		"How long the last complete scan took, connecting included.", nil, nil)
	dirEntriesDesc = prometheus.NewDesc("sfbex_directory_scan_entries",
		"Directory entries the last complete scan read.", nil, nil)
	dirPagesDesc = prometheus.NewDesc("sfbex_directory_scan_pages",
		"Result pages the last complete scan read.", nil, nil)
)

func (r *Result) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	for _, d := range r.Domains {
		ms = append(ms,
			probes.Gauge(dirUsersDesc, float64(d.Users), d.Domain, "enabled"),
			probes.Gauge(dirUsersDesc, float64(d.SIPDisabled), d.Domain, "sip_disabled"),
			probes.Gauge(dirProxyUsersDesc, float64(d.WithSIPProxy), d.Domain),
			probes.Gauge(dirMissingDesc, float64(d.Users-d.WithSIPProxy), d.Domain, "proxyaddress_sip"),
			probes.Gauge(dirMissingDesc, float64(d.MissingMail), d.Domain, "mail"),
			probes.Gauge(dirMismatchDesc, float64(d.Mismatch), d.Domain),
			probes.Gauge(dirInvalidDesc, float64(d.Invalid), d.Domain),
			probes.Gauge(dirDuplicatesDesc, float64(d.Duplicates), d.Domain),
		)
		if r.IncludeDisabled {
			ms = append(ms, probes.Gauge(dirUsersDesc, float64(d.AccountDisabled), d.Domain, "account_disabled"))
		}
		if cov, ok := d.Coverage(); ok {
			ms = append(ms, probes.Gauge(dirCoverageDesc, cov, d.Domain))
		}
	}
	return append(ms,
		probes.Gauge(dirScanDurationDesc, r.ScanDuration.Seconds()),
		probes.Gauge(dirEntriesDesc, float64(r.Entries)),
		probes.Gauge(dirPagesDesc, float64(r.Pages)),
	)
}
