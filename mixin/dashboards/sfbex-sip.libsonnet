// SIP to the Edge and the pool (probes/sip). Its panels are plain Grafana JSON kept in
// sfbex-sip-panels.libsonnet; the dashboard around them (variables, links, settings) is the shared one.
function(config)
  local lib = (import 'lib.libsonnet')(config);
  local own = import 'sfbex-sip-panels.libsonnet';
  lib.dashboard(
    uid='sfbex-sip',
    title='Skype for Business ↔ Exchange — SIP to the Edge',
    description=own.description,
    time='now-7d',
    refresh='1m',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
    ],
    panels=own.panels,
  )
