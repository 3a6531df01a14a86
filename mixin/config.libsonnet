// What an importer may change: mix in your own values, e.g.
//   (import 'sfbex-mixin/mixin.libsonnet') + { _config+:: { sfbexSelector: 'job="sfbex-exporter"' } }
{
  _config+:: {
    // Selects the agent's series in every rule and in the dashboards' job variable. The scrape
    // job's name: "sfbex" in the README's scrape configuration and in the Helm chart.
    sfbexSelector: 'job="sfbex"',

    // Where runbook_url points: this base, '#', the section's anchor in docs/runbooks.md. The
    // default is the page the agent that raised the alert serves itself; set an https URL when
    // Alertmanager's users cannot reach the agents (or for SfbexAgentDown, whose agent is gone).
    runbookURLBase: 'http://{{ $labels.instance }}/runbooks',

    // How long an agent that stopped being scraped (the target vanished: pod deleted, service
    // discovery emptied) is still reported missing. A Prometheus that has not scraped an agent
    // within this window stays silent, so loading the rules everywhere does not page.
    agentMissingWindow: '1d',

    // The alert thresholds, recorded as sfbex:threshold:* series (one place to change a number,
    // and dashboards and ad-hoc queries can read them).
    thresholds: {
      // Days before an OAuth (server-to-server) certificate expires: warning, then critical.
      // Microsoft's MonitorExchangeAuthCertificate renews at 60 days.
      oauthCertWarningDays: 60,
      oauthCertCriticalDays: 14,
      // Days before a TLS certificate of an endpoint expires: warning, then critical.
      tlsCertWarningDays: 30,
      tlsCertCriticalDays: 14,
      // Days left on the current Exchange Auth Certificate below which a staged next one is expected.
      oauthNextCertDays: 60,
      // Share of SIP-enabled users whose proxyAddresses carry their SIP address (seed 001 step 2).
      sipProxyAddressCoverageRatio: 0.95,
      // How long an Edge or pool replica may stay behind the Central Management Store (seed 002:
      // replication "generally takes less than one minute").
      cmsReplicaBehindSeconds: 900,
      // How old the newest snapshot of a server may be; the export task runs every 5 to 15 minutes.
      cmsSnapshotMaxAgeSeconds: 1800,
      // A drop of SIP proxy-address coverage within an hour that is worth a look (0.02 = 2 points).
      sipProxyAddressCoverageDropRatio: 0.02,
    },

    // Dashboards: the tag that links them to each other, and the time zone they show.
    dashboardTags: ['sfbex'],
    dashboardTimezone: 'browser',
  },
}
