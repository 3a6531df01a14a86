package cms

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sfbex/sfbex_exporter/probes"
)

// CMS replication and integration settings. See
// docs/metrics.md#cms-and-integration-settings. source is the shell and
// server a snapshot comes from (sfb-fe01.contoso.com); replica a CMS
// replica's FQDN: both bounded by the estate, no user data.
var (
	cmsSnapshotTSDesc = prometheus.NewDesc("sfbex_cms_snapshot_timestamp_seconds",
		"When the newest good snapshot of the source was taken (Unix time, by the server's clock). time() - x is its age.", []string{"source"}, nil)
	cmsSnapshotStaleDesc = prometheus.NewDesc("sfbex_cms_snapshot_stale",
		"1 if the source's newest snapshot file is invalid and the series show its last good snapshot, 0 if not.", []string{"source"}, nil)
	cmsSnapshotInfoDesc = prometheus.NewDesc("sfbex_cms_snapshot_info",
		"Where and how the snapshot was taken: shell (SkypeForBusiness, Exchange), PowerShell version and export script version. Always 1.",
		[]string{"source", "shell", "powershell_version", "script_version"}, nil)
	cmsInvalidDesc = prometheus.NewDesc("sfbex_cms_snapshot_invalid_files",
		"Snapshot files under SFBEX_CMS_SNAPSHOT_PATH that could not be read in the latest run; the status page names them and why.", nil, nil)
	cmsCmdletErrorDesc = prometheus.NewDesc("sfbex_cms_snapshot_cmdlet_failed",
		"1 for each cmdlet the export script could not run on the source; the checks needing its output are absent.", []string{"source", "cmdlet"}, nil)

	cmsReplicaUpDesc = prometheus.NewDesc("sfbex_cms_replica_up_to_date",
		"1 if the CMS replica is up to date (Get-CsManagementStoreReplicationStatus UpToDate), 0 if not.", []string{"replica"}, nil)
	cmsReplicaUpdateDesc = prometheus.NewDesc("sfbex_cms_replica_last_update_creation_timestamp_seconds",
		"When the replica's latest replication update was created (LastUpdateCreation, Unix time).", []string{"replica"}, nil)
	cmsReplicaReportDesc = prometheus.NewDesc("sfbex_cms_replica_last_status_report_timestamp_seconds",
		"When the replica last reported its status (LastStatusReport, Unix time). Absent where the snapshot has none.", []string{"replica"}, nil)
	cmsReplicaBehindDesc = prometheus.NewDesc("sfbex_cms_replica_behind_since_timestamp_seconds",
		"Since when the replica has been out of date, from consecutive snapshots and LastUpdateCreation (Unix time). Absent while up to date.", []string{"replica"}, nil)

	// The Front Ends' versions and OAuthTokenIssuer certificates
	// (docs/lifecycle.md). server is the Front End's FQDN.
	sfbBuildInfoDesc = prometheus.NewDesc("sfbex_sfb_build_info",
		"The Skype for Business Server build a Front End's snapshot shows (Get-CsServerPatchVersion, the Core Components row) and its product from the lifecycle table (docs/lifecycle.md; Get-CsServerVersion's name decides between 2019 and Subscription Edition; unknown outside the table). Always 1.",
		[]string{"server", "product", "build"}, nil)
	sfbSupportEndDesc = prometheus.NewDesc("sfbex_sfb_support_end_timestamp_seconds",
		"When support of the Skype for Business / Lync Server product a Front End runs ends (Unix time, 00:00 UTC of the day after the last day of support); absent for Subscription Edition (Modern Lifecycle Policy) and unknown builds.",
		[]string{"server", "product"}, nil)
	sfbTokenIssuerNotAfterDesc = prometheus.NewDesc("sfbex_sfb_oauth_token_issuer_not_after_timestamp_seconds",
		"When a Front End's OAuthTokenIssuer certificate expires (Get-CsCertificate -Type OAuthTokenIssuer NotAfter, Unix time): role current is the one in use, next the rolled one staged with Set-CsCertificate -Roll (absent when none is staged).",
		[]string{"server", "role"}, nil)
	sfbRollEffectiveDesc = prometheus.NewDesc("sfbex_sfb_oauth_token_issuer_roll_effective_timestamp_seconds",
		"When a Front End's staged OAuthTokenIssuer certificate takes over (Set-CsCertificate -Roll -EffectiveDate, Unix time); it must be at least 24 hours before the current one's expiry. Absent when no roll is staged or the snapshot does not show the date.",
		[]string{"server"}, nil)

	// The Exchange servers' builds (docs/lifecycle.md). server is the
	// Exchange server's FQDN.
	exchangeServerBuildInfoDesc = prometheus.NewDesc("sfbex_exchange_server_build_info",
		"The Exchange Server build an Exchange server's snapshot shows (the file version of ExSetup.exe, security updates included; Get-ExchangeServer's AdminDisplayVersion, the cumulative update only, where the snapshot has no file version) and its product from the lifecycle table (docs/lifecycle.md; unknown outside the table). Always 1.",
		[]string{"server", "product", "build"}, nil)
	exchangeServerSupportEndDesc = prometheus.NewDesc("sfbex_exchange_server_support_end_timestamp_seconds",
		"When support of the Exchange Server product an Exchange server's snapshot shows ends (Unix time, 00:00 UTC of the day after the last day of support); absent for Subscription Edition (Modern Lifecycle Policy) and unknown builds.",
		[]string{"server", "product"}, nil)

	integrationCheckDesc = prometheus.NewDesc("sfbex_integration_check",
		"1 if the seed step is configured as documented, 0 if not; absent when no snapshot shows it or it does not apply to the deployment. component: sfb, exchange or exchange_online.",
		[]string{"component", "check"}, nil)
)

func (r *Result) AppendMetrics(ms []prometheus.Metric) []prometheus.Metric {
	ms = append(ms, probes.Gauge(cmsInvalidDesc, float64(len(r.InvalidFiles))))
	for _, s := range r.Sources {
		ms = append(ms,
			probes.Gauge(cmsSnapshotTSDesc, float64(s.Timestamp.UnixMilli())/1000, s.Name),
			probes.Gauge(cmsSnapshotStaleDesc, probes.Bool(s.Stale), s.Name),
			probes.Gauge(cmsSnapshotInfoDesc, 1, s.Name, s.Shell, probes.Clip(s.PowerShellVersion), probes.Clip(s.ScriptVersion)),
		)
		seen := map[string]bool{}
		for _, e := range s.CmdletErrors {
			if c := probes.Clip(string(e.Cmdlet)); !seen[c] {
				seen[c] = true
				ms = append(ms, probes.Gauge(cmsCmdletErrorDesc, 1, s.Name, c))
			}
		}
	}
	for _, rep := range r.Replicas {
		ms = append(ms, probes.Gauge(cmsReplicaUpDesc, probes.Bool(rep.UpToDate), rep.Fqdn))
		if rep.LastUpdateCreation != nil {
			ms = append(ms, probes.Gauge(cmsReplicaUpdateDesc, float64(rep.LastUpdateCreation.Unix()), rep.Fqdn))
		}
		if rep.LastStatusReport != nil {
			ms = append(ms, probes.Gauge(cmsReplicaReportDesc, float64(rep.LastStatusReport.Unix()), rep.Fqdn))
		}
		if rep.BehindSince != nil {
			ms = append(ms, probes.Gauge(cmsReplicaBehindDesc, float64(rep.BehindSince.Unix()), rep.Fqdn))
		}
	}
	for _, sv := range r.SfBServers {
		if v := sv.Version; v != nil {
			ms = append(ms, probes.Gauge(sfbBuildInfoDesc, 1, sv.Server, v.Product, v.Build))
			if sv.SupportEnd != nil {
				ms = append(ms, probes.Gauge(sfbSupportEndDesc, float64(sv.SupportEnd.Unix()), sv.Server, v.Product))
			}
		}
		if sv.TokenIssuerNotAfter != nil {
			ms = append(ms, probes.Gauge(sfbTokenIssuerNotAfterDesc, float64(sv.TokenIssuerNotAfter.Unix()), sv.Server, "current"))
		}
		if sv.NextNotAfter != nil {
			ms = append(ms, probes.Gauge(sfbTokenIssuerNotAfterDesc, float64(sv.NextNotAfter.Unix()), sv.Server, "next"))
		}
		if sv.RollEffective != nil {
			ms = append(ms, probes.Gauge(sfbRollEffectiveDesc, float64(sv.RollEffective.Unix()), sv.Server))
		}
	}
	for _, es := range r.ExchangeServers {
		ms = append(ms, probes.Gauge(exchangeServerBuildInfoDesc, 1, es.Server, es.Version.Product, es.Version.Build))
		if es.SupportEnd != nil {
			ms = append(ms, probes.Gauge(exchangeServerSupportEndDesc, float64(es.SupportEnd.Unix()), es.Server, es.Version.Product))
		}
	}
	for _, c := range r.Checks {
		ms = append(ms, probes.Gauge(integrationCheckDesc, probes.Bool(c.Pass), c.Component, c.Check))
	}
	return ms
}
