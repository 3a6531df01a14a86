// Jsonnet imports need literal paths: one line per dashboard.
{
  'sfbex-overview': import 'sfbex-overview.libsonnet',
  'sfbex-dns': import 'sfbex-dns.libsonnet',
  'sfbex-directory': import 'sfbex-directory.libsonnet',
  'sfbex-cms': import 'sfbex-cms.libsonnet',
  'sfbex-autodiscover-ews': import 'sfbex-autodiscover-ews.libsonnet',
  'sfbex-certificates': import 'sfbex-certificates.libsonnet',
  'sfbex-agent': import 'sfbex-agent.libsonnet',
  'sfbex-sip': import 'sfbex-sip.libsonnet',
  'sfbex-readiness': import 'sfbex-readiness.libsonnet',
}
