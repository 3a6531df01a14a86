// sfbex_exporter's monitoring mixin: alerts, recording rules and Grafana dashboards.
// kube-prometheus and other importers use this file; `go generate ./...` in this directory
// renders it into the repository's alerts/, dashboards/ and Helm chart files.
(import 'config.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
