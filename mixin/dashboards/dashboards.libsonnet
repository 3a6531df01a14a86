// The Grafana dashboards, by file name.
{
  grafanaDashboards+:: {
    [name + '.json']: (import 'dashboards.jsonnet')[name]($._config)
    for name in std.objectFields(import 'dashboards.jsonnet')
  },
}
