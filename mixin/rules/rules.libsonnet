// The recording rules: one series per threshold, so every alert reads its number from one place.
{
  prometheusRules+:: {
    local t = $._config.thresholds,
    local record(name, value) = { record: 'sfbex:threshold:' + name, expr: 'vector(%g)' % value },
    groups+: [
      {
        name: 'sfbex-thresholds',
        rules: [
          record('oauth_cert_warning_days', t.oauthCertWarningDays),
          record('oauth_cert_critical_days', t.oauthCertCriticalDays),
          record('tls_cert_warning_days', t.tlsCertWarningDays),
          record('tls_cert_critical_days', t.tlsCertCriticalDays),
          record('oauth_next_cert_days', t.oauthNextCertDays),
          record('sip_proxyaddress_coverage_ratio', t.sipProxyAddressCoverageRatio),
          record('cms_replica_behind_seconds', t.cmsReplicaBehindSeconds),
          record('cms_snapshot_max_age_seconds', t.cmsSnapshotMaxAgeSeconds),
          record('sip_proxyaddress_coverage_drop_ratio', t.sipProxyAddressCoverageDropRatio),
        ],
      },
    ],
  },
}
