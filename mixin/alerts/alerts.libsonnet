// The alerts. docs/runbooks.md explains each one; its anchors are the runbook() arguments.
// Every metric selector carries _config.sfbexSelector; thresholds are the sfbex:threshold:*
// series of rules/rules.libsonnet; durations are the 'for' fields.
{
  prometheusAlerts+:: {
    local runbook(anchor) = '%s#%s' % [$._config.runbookURLBase, anchor],
    groups+: [
      {
        name: 'sfbex-agent',
        rules: [
          {
            alert: 'SfbexAgentDown',
            // Down, or gone: scraped within agentMissingWindow and not now. A Prometheus that
            // never scraped an agent with this selector stays silent (absent() alone would fire).
            expr: |||
              up{%(sfbexSelector)s} == 0
              or (absent(up{%(sfbexSelector)s}) and on() count(max_over_time(up{%(sfbexSelector)s}[%(agentMissingWindow)s])) > 0)
            ||| % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'sfbex_exporter is down or not scraped',
              description: 'Prometheus has not scraped the sfbex job for 5 minutes ({{ $labels.instance }}): nothing about the Skype for Business / Exchange integration is being watched.',
              runbook_url: runbook('agent-down'),
            },
          },
          {
            alert: 'SfbexProbeFailing',
            // threshold: 3 failed runs in 30 minutes. A single failed run stays silent.
            expr: 'increase(sfbex_probe_failures_total{%(sfbexSelector)s}[30m]) >= 3 and sfbex_probe_success{%(sfbexSelector)s} == 0' % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Check {{ $labels.probe }}/{{ $labels.target }} keeps failing',
              description: '{{ $value | humanize }} failed runs of {{ $labels.probe }} for {{ $labels.target }} in the last 30 minutes; its metrics keep the last good data, if it ever had any. The status page says why.',
              runbook_url: runbook('probe-failing'),
            },
          },
          {
            alert: 'SfbexProbeNoData',
            // threshold: no data for 15 minutes. A check that has never returned data has no last
            // success, so SfbexProbeDataStale cannot see it, and with a long interval (certificates: 1h)
            // it does not fail often enough for SfbexProbeFailing.
            expr: 'sfbex_probe_state{%(sfbexSelector)s,state="failed"} == 1' % $._config,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Check {{ $labels.probe }}/{{ $labels.target }} has no data',
              description: 'No run of {{ $labels.probe }} for {{ $labels.target }} has returned any data since the agent started: nothing about it is known. The status page says why.',
              runbook_url: runbook('probe-no-data'),
            },
          },
          {
            alert: 'SfbexProbeDataStale',
            // threshold: no success for 3 intervals (and at least 10 minutes).
            expr: '(time() - sfbex_probe_last_success_timestamp_seconds{%(sfbexSelector)s}) > clamp_min(3 * sfbex_probe_interval_seconds{%(sfbexSelector)s}, 600)' % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Data for {{ $labels.probe }}/{{ $labels.target }} is stale',
              description: 'The last successful run of {{ $labels.probe }} for {{ $labels.target }} was {{ $value | humanizeDuration }} ago.',
              runbook_url: runbook('probe-failing'),
            },
          },
        ],
      },
      {
        name: 'sfbex-dns',
        rules: [
          {
            alert: 'SfbexDNSRecordMissing',
            expr: 'sfbex_dns_record_present{%(sfbexSelector)s} == 0 and sfbex_dns_record_required{%(sfbexSelector)s} == 1' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'DNS record {{ $labels.record }}.{{ $labels.domain }} ({{ $labels.type }}) is missing via {{ $labels.resolver }}',
              description: 'The deployment needs {{ $labels.record }}.{{ $labels.domain }} {{ $labels.type }}, and resolver {{ $labels.resolver }} says it does not exist.',
              runbook_url: runbook('dns-record-missing'),
            },
          },
          {
            alert: 'SfbexDNSRecordNotAsExpected',
            expr: 'sfbex_dns_record_expected{%(sfbexSelector)s} == 0 and sfbex_dns_record_present{%(sfbexSelector)s} == 1' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'DNS record {{ $labels.record }}.{{ $labels.domain }} points to the wrong place via {{ $labels.resolver }}',
              description: '{{ $labels.record }}.{{ $labels.domain }} {{ $labels.type }} via {{ $labels.resolver }} does not match SFBEX_DNS_EXPECT or the deployment mode; the status page quotes the answer.',
              runbook_url: runbook('dns-record-not-as-expected'),
            },
          },
          {
            alert: 'SfbexDNSDrift',
            expr: 'increase(sfbex_dns_answer_changes_total{%(sfbexSelector)s}[1h]) > 0' % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'DNS answer for {{ $labels.record }}.{{ $labels.domain }} changed via {{ $labels.resolver }}',
              description: '{{ $labels.record }}.{{ $labels.domain }} {{ $labels.type }} changed {{ $value | humanize }} times in the last hour between two successful lookups through {{ $labels.resolver }}.',
              runbook_url: runbook('dns-drift'),
            },
          },
          {
            alert: 'SfbexDNSRecordsOnBothSides',
            expr: 'sfbex_dns_deployment_consistent{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Lync/Skype DNS records of {{ $labels.domain }} point to both Microsoft 365 and on-premises',
              description: 'Some discovery or federation records of {{ $labels.domain }} point to Microsoft 365 and others on-premises (seed 001 step 1); sfbex_dns_records_by_side shows how many on each side.',
              runbook_url: runbook('dns-records-on-both-sides'),
            },
          },
          {
            alert: 'SfbexDNSViewsDisagree',
            expr: 'sfbex_dns_views_agree{%(sfbexSelector)s} == 0' % $._config,
            'for': '10m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Internal and external DNS disagree on {{ $labels.record }}.{{ $labels.domain }}',
              description: 'The resolvers give different answers for {{ $labels.record }}.{{ $labels.domain }} {{ $labels.type }}, a record that must look the same inside and outside.',
              runbook_url: runbook('dns-views-disagree'),
            },
          },
          {
            alert: 'SfbexDNSLookupsFailing',
            expr: 'sfbex_dns_answer_stale{%(sfbexSelector)s} == 1' % $._config,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Resolver {{ $labels.resolver }} cannot answer for {{ $labels.record }}.{{ $labels.domain }}',
              description: 'Lookups of {{ $labels.record }}.{{ $labels.domain }} {{ $labels.type }} through {{ $labels.resolver }} have failed for 15 minutes; the agent shows the last definitive answer.',
              runbook_url: runbook('dns-lookups-failing'),
            },
          },
        ],
      },
      {
        name: 'sfbex-autodiscover-ews',
        rules: [
          {
            alert: 'SfbexAutodiscoverUnreachable',
            expr: 'sfbex_autodiscover_client_found{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Exchange autodiscover for {{ $labels.domain }} fails by every method {{ $labels.client }} clients try',
              description: 'No autodiscover method works for {{ $labels.domain }} the way {{ $labels.client }} clients look: they cannot find EWS (free/busy, conversation history, contact photos, unified contact store).',
              runbook_url: runbook('exchange-autodiscover-down'),
            },
          },
          {
            alert: 'SfbexAutodiscoverMethodFailing',
            expr: 'sfbex_autodiscover_method_up{%(sfbexSelector)s} == 0 unless on(instance, job, domain) (sfbex_autodiscover_client_found{%(sfbexSelector)s} == 0)' % $._config,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Autodiscover method {{ $labels.method }} fails for {{ $labels.domain }}',
              description: 'The {{ $labels.method }} autodiscover method for {{ $labels.domain }} fails while another still works: clients that reach this method first are slowed down or misdirected.',
              runbook_url: runbook('autodiscover-method-failing'),
            },
          },
          {
            alert: 'SfbexSfBExchangeAutodiscoverUrlBroken',
            expr: 'sfbex_sfb_exchange_autodiscover_url_up{%(sfbexSelector)s} == 0 or sfbex_sfb_exchange_autodiscover_url_svc{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: "Skype for Business' ExchangeAutodiscoverUrl {{ $labels.url }} is wrong or does not answer",
              description: 'Set-CsOAuthConfiguration -ExchangeAutodiscoverUrl must point at autodiscover.svc and answer (seed 003); {{ $labels.url }} does not, so Skype for Business Server cannot find Exchange.',
              runbook_url: runbook('skype-for-business-exchangeautodiscoverurl'),
            },
          },
          {
            alert: 'SfbexLyncdiscoverBroken',
            expr: 'sfbex_lyncdiscover_up{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'lyncdiscover for {{ $labels.domain }} ({{ $labels.view }} view) is broken',
              description: 'Lync/Skype autodiscover for {{ $labels.domain }} through the {{ $labels.view }} view does not lead to a web ticket service: clients there cannot sign in automatically.',
              runbook_url: runbook('lync-autodiscover-down'),
            },
          },
          {
            alert: 'SfbexEWSUnreachable',
            expr: 'sfbex_ews_up{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'EWS {{ $labels.url }} is down, or something else answers there',
              description: 'EWS at {{ $labels.url }} ({{ $labels.domain }}) does not answer as Exchange does (no answer, an error, or a 200 with a web page, an empty body or other bytes instead of 401 with its challenges; sfbex_ews_outcome says which): Skype for Business loses free/busy, conversation history, contact photos and the unified contact store.',
              runbook_url: runbook('ews-down'),
            },
          },
          {
            alert: 'SfbexEWSNoOAuth',
            expr: 'sfbex_ews_oauth_challenge{%(sfbexSelector)s} == 0 and sfbex_ews_oauth_expected{%(sfbexSelector)s} == 1 and sfbex_ews_up{%(sfbexSelector)s} == 1' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'EWS {{ $labels.url }} does not offer OAuth',
              description: "EWS at {{ $labels.url }} answers without a Bearer challenge: Skype for Business Server's server-to-server OAuth requests (unified contact store, archiving, OWA IM) fail.",
              runbook_url: runbook('ews-without-oauth'),
            },
          },
          {
            alert: 'SfbexEWSBlockedByPolicy',
            expr: 'sfbex_ews_policy_blocked{%(sfbexSelector)s} == 1' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'EWS {{ $labels.url }} refuses by policy ({{ $labels.reason }})',
              description: 'EWS at {{ $labels.url }} ({{ $labels.domain }}) answers 403 with X-EWS-Policy-Reason ({{ $labels.reason }}: disabled is "EWS is disabled for this user or tenant", blocked_by_policy is "EWS is blocked by policy for this user or tenant"): the tenant\'s or the user\'s EWS policy blocks it. Skype for Business and Exchange hybrid lose what they reach over EWS. EWS in Exchange Online is switched off for good on 2027-04-01.',
              runbook_url: runbook('ews-blocked-by-policy'),
            },
          },
          {
            alert: 'SfbexExchangeOutOfSupport',
            // Two views: from outside, one alert per domain (the server names an answer shows vary
            // by protocol); from an Exchange server's own settings snapshot, one per server.
            expr: '(max without (protocol, server) (sfbex_exchange_support_end_timestamp_seconds{%(sfbexSelector)s}) < time()) or (sfbex_exchange_server_support_end_timestamp_seconds{%(sfbexSelector)s} < time())' % $._config,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ if $labels.server }}Exchange server {{ $labels.server }}{{ else }}Exchange of {{ $labels.domain }}{{ end }} runs {{ $labels.product }}, out of support',
              description: '{{ if $labels.server }}The settings snapshot of Exchange server {{ $labels.server }} shows a build of {{ $labels.product }} (ExSetup.exe, Get-ExchangeServer; sfbex_exchange_server_build_info){{ else }}An Exchange server of {{ $labels.domain }} shows a build of {{ $labels.product }} (autodiscover answers, X-OWA-Version; sfbex_exchange_build_info names the servers){{ end }}, whose support has ended (docs/lifecycle.md): no security updates. Move to Exchange Server Subscription Edition.',
              runbook_url: runbook('server-out-of-support'),
            },
          },
          {
            alert: 'SfbexSkypeServerOutOfSupport',
            expr: 'max without (server) (sfbex_sfb_support_end_timestamp_seconds{%(sfbexSelector)s}) < time()' % $._config,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Skype for Business Front Ends run {{ $labels.product }}, out of support',
              description: "A Front End's settings snapshot shows a build of {{ $labels.product }} (Get-CsServerPatchVersion; sfbex_sfb_build_info names the servers), whose support has ended (docs/lifecycle.md): no security updates or fixes. Move to Skype for Business Server Subscription Edition.",
              runbook_url: runbook('skype-for-business-server-out-of-support'),
            },
          },
          {
            alert: 'SfbexSkypeHybridAppBuildTooOld',
            expr: 'sfbex_integration_check{%(sfbexSelector)s,component="sfb",check="hybrid_app_minimum_build"} == 0' % $._config,
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'A Skype for Business server is too old for the dedicated hybrid application',
              description: 'A Front End that reaches Exchange Online runs a build below the first that can use a dedicated Entra hybrid application (KB5065372; SFBEX_SFB_HYBRID_APP_MIN_BUILDS): since the shared service principal was blocked it loses archiving, calendar presence and contact photos in Exchange Online. The status page names the server and its build.',
              runbook_url: runbook('skype-for-business-build-too-old-for-the-dedicated-hybrid-application'),
            },
          },
          {
            alert: 'SfbexEWSOnlineShutdownNear',
            expr: '(sfbex_ews_online_shutdown_timestamp_seconds{%(sfbexSelector)s} - time()) / 86400 < 180' % $._config,
            'for': '5m',
            labels: { severity: 'warning' },
            annotations: {
              summary: '{{ $value | printf "%.0f" }} days until Exchange Online switches EWS off ({{ $labels.dependency }})',
              description: 'The estate depends on EWS in Exchange Online ({{ $labels.dependency }}: sfb_server_exchange_online is Skype for Business Server with mailboxes in Exchange Online, exchange_hybrid is an Exchange hybrid), and Exchange Online switches EWS off for good in {{ $value | printf "%.0f" }} days (negative: already off). What uses it stops: conversation history, the unified contact store, contact photos, archiving, hybrid free/busy.',
              runbook_url: runbook('ews-online-shutdown'),
            },
          },
        ],
      },
      {
        name: 'sfbex-certificates',
        rules: [
          {
            alert: 'SfbexOAuthCertificateExpiring',
            expr: |||
              (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="oauth",role="current"} - time()) / 86400 < scalar(sfbex:threshold:oauth_cert_warning_days)
              and (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="oauth",role="current"} - time()) / 86400 >= scalar(sfbex:threshold:oauth_cert_critical_days)
            ||| % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'OAuth certificate {{ $labels.subject_cn }} expires in {{ $value | printf "%.0f" }} days',
              description: 'The server-to-server OAuth certificate {{ $labels.subject_cn }} (serial {{ $labels.serial }}) published at {{ $labels.source }} expires in {{ $value | printf "%.0f" }} days; when it does, OWA IM, EWS access from Skype for Business and hybrid break.',
              runbook_url: runbook('oauth-certificate-expiring'),
            },
          },
          {
            alert: 'SfbexOAuthCertificateExpiring',
            expr: |||
              (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="oauth",role="current"} - time()) / 86400 < scalar(sfbex:threshold:oauth_cert_critical_days)
              and (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="oauth",role="current"} - time()) > 0
            ||| % $._config,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'OAuth certificate {{ $labels.subject_cn }} expires in {{ $value | printf "%.0f" }} days',
              description: 'The server-to-server OAuth certificate {{ $labels.subject_cn }} (serial {{ $labels.serial }}) published at {{ $labels.source }} expires in {{ $value | printf "%.0f" }} days; when it does, OWA IM, EWS access from Skype for Business and hybrid break.',
              runbook_url: runbook('oauth-certificate-expiring'),
            },
          },
          {
            alert: 'SfbexOAuthCertificateExpired',
            expr: 'time() - sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="oauth",role="current"} >= 0' % $._config,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'OAuth certificate {{ $labels.subject_cn }} has expired',
              description: 'The server-to-server OAuth certificate {{ $labels.subject_cn }} (serial {{ $labels.serial }}) published at {{ $labels.source }} expired {{ $value | humanizeDuration }} ago: OWA/ECP sign-in loops, EWS and OAuth to Skype for Business fail, hybrid is broken.',
              runbook_url: runbook('oauth-certificate-expiring'),
            },
          },
          {
            alert: 'SfbexOAuthNextCertificateMissing',
            expr: |||
              (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="oauth",role="current"} - time()) / 86400 < scalar(sfbex:threshold:oauth_next_cert_days)
              and (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="oauth",role="current"} - time()) > 0
              and on(instance, job, source) sfbex_oauth_next_certificate_present{%(sfbexSelector)s} == 0
              and on(instance, job, source) sfbex_oauth_metadata_info{%(sfbexSelector)s,server="exchange"}
            ||| % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'No next Exchange Auth Certificate is staged, {{ $value | printf "%.0f" }} days before the current one expires',
              description: '{{ $labels.source }} publishes no next signing certificate and the current one ({{ $labels.subject_cn }}, serial {{ $labels.serial }}) expires in {{ $value | printf "%.0f" }} days: stage one with Set-AuthConfig -NewCertificateThumbprint.',
              runbook_url: runbook('oauth-next-certificate'),
            },
          },
          {
            alert: 'SfbexOAuthCertificateWeakKey',
            expr: 'sfbex_cert_key_size{%(sfbexSelector)s,kind="oauth"} < 2048' % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'OAuth certificate {{ $labels.subject_cn }} has a {{ $value }}-bit key',
              description: 'Skype for Business requires an OAuthTokenIssuer certificate of at least 2048 bits (seed 003); {{ $labels.source }} publishes {{ $labels.subject_cn }} with {{ $value }} bits.',
              runbook_url: runbook('oauth-certificate-requirements'),
            },
          },
          {
            alert: 'SfbexOAuthCertificateWithoutSIPDomain',
            expr: 'sfbex_cert_subject_has_sip_domain{%(sfbexSelector)s} == 0' % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'OAuth certificate {{ $labels.subject_cn }} does not name a SIP domain',
              description: "Skype for Business requires the SIP domain in the OAuthTokenIssuer certificate's Subject (seed 003); {{ $labels.source }} publishes CN={{ $labels.subject_cn }}.",
              runbook_url: runbook('oauth-certificate-requirements'),
            },
          },
          {
            alert: 'SfbexOAuthPoolsDisagree',
            expr: 'sfbex_oauth_pools_same_certificate{%(sfbexSelector)s} == 0' % $._config,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Front End pools publish different OAuthTokenIssuer certificates',
              description: 'Every Front End must use the same OAuthTokenIssuer certificate (seed 003); the pools in SFBEX_SFB_METADATA_URLS publish different ones.',
              runbook_url: runbook('oauth-certificate-differs-between-pools'),
            },
          },
          {
            alert: 'SfbexTLSCertificateExpiring',
            expr: |||
              (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="tls",role!="root"} - time()) / 86400 < scalar(sfbex:threshold:tls_cert_warning_days)
              and (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="tls",role!="root"} - time()) / 86400 >= scalar(sfbex:threshold:tls_cert_critical_days)
            ||| % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'TLS certificate {{ $labels.subject_cn }} of {{ $labels.source }} expires in {{ $value | printf "%.0f" }} days',
              description: 'The {{ $labels.role }} certificate {{ $labels.subject_cn }} (serial {{ $labels.serial }}) presented by {{ $labels.source }} expires in {{ $value | printf "%.0f" }} days.',
              runbook_url: runbook('tls-certificate-expiring'),
            },
          },
          {
            alert: 'SfbexTLSCertificateExpiring',
            expr: |||
              (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="tls",role!="root"} - time()) / 86400 < scalar(sfbex:threshold:tls_cert_critical_days)
              and (sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="tls",role!="root"} - time()) > 0
            ||| % $._config,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'TLS certificate {{ $labels.subject_cn }} of {{ $labels.source }} expires in {{ $value | printf "%.0f" }} days',
              description: 'The {{ $labels.role }} certificate {{ $labels.subject_cn }} (serial {{ $labels.serial }}) presented by {{ $labels.source }} expires in {{ $value | printf "%.0f" }} days.',
              runbook_url: runbook('tls-certificate-expiring'),
            },
          },
          {
            alert: 'SfbexTLSCertificateExpired',
            expr: 'time() - sfbex_cert_not_after_timestamp_seconds{%(sfbexSelector)s,kind="tls",role!="root"} >= 0' % $._config,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'TLS certificate {{ $labels.subject_cn }} of {{ $labels.source }} has expired',
              description: '{{ $labels.source }} presents the {{ $labels.role }} certificate {{ $labels.subject_cn }} (serial {{ $labels.serial }}), expired {{ $value | humanizeDuration }} ago: clients and federation partners refuse the connection.',
              runbook_url: runbook('tls-certificate-expiring'),
            },
          },
          {
            alert: 'SfbexTLSCertificateNameMismatch',
            expr: 'sfbex_tls_cert_covers_name{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'The certificate of {{ $labels.endpoint }} does not cover {{ $labels.name }}',
              description: 'Clients connect to {{ $labels.endpoint }} as {{ $labels.name }}, and its certificate does not cover that name: they refuse the connection.',
              runbook_url: runbook('tls-certificate-name-mismatch'),
            },
          },
          {
            alert: 'SfbexTLSCertificateUntrusted',
            // Expired certificates and wrong names have their own alerts.
            expr: 'sfbex_tls_verify_ok{%(sfbexSelector)s} == 0 unless on(instance, job, endpoint) (sfbex_tls_verify_result{%(sfbexSelector)s,reason=~"expired|name_mismatch"} == 1)' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'The certificate of {{ $labels.endpoint }} is not trusted',
              description: "The certificate chain {{ $labels.endpoint }} presents does not verify against the agent's trust store (sfbex_tls_verify_result says why): clients without that CA refuse the connection.",
              runbook_url: runbook('tls-certificate-not-trusted'),
            },
          },
          {
            alert: 'SfbexAuthMetadataUnreachable',
            expr: 'sfbex_cert_source_up{%(sfbexSelector)s,kind="oauth"} == 0' % $._config,
            'for': '15m',
            labels: { severity: 'warning' },
            annotations: {
              summary: 'Auth metadata {{ $labels.source }} cannot be read',
              description: 'The agent cannot fetch or parse {{ $labels.source }}; it shows the last certificates it read, and partner servers that need the document cannot refresh their trust either.',
              runbook_url: runbook('auth-metadata-unreadable'),
            },
          },
        ],
      },
      {
        name: 'sfbex-sip',
        rules: [
          {
            alert: 'SfbexSIPNotAnswering',
            expr: 'sfbex_sip_up{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: '{{ $labels.target }} ({{ $labels.service }}{{ with $labels.domain }}, {{ . }}{{ end }}) does not answer SIP',
              description: 'SIP OPTIONS over TLS to {{ $labels.target }} have got no SIP answer for 5 minutes (sfbex_sip_outcome says how each ended: unreachable, tls_failed, closed, no_answer, incomplete, malformed). For service federation, partners and Exchange Online (OWA IM) cannot reach your users; for clients, remote users cannot sign in; for internal, clients cannot sign in to the pool.',
              runbook_url: runbook('sip-not-answering'),
            },
          },
          {
            alert: 'SfbexSIPAnswerError',
            // threshold: the for: duration, how long an error answer may last.
            expr: 'sfbex_sip_status_accepted{%(sfbexSelector)s} == 0 and on(instance, job, domain, service, target) sfbex_sip_up{%(sfbexSelector)s} == 1' % $._config,
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: '{{ $labels.target }} ({{ $labels.service }}) answers SIP OPTIONS with an error',
              description: "{{ $labels.target }} has answered OPTIONS with status {{ with printf \"sfbex_sip_status_code{target='%s',service='%s'}\" $labels.target $labels.service | query }}{{ . | first | value }}{{ end }} for 10 minutes, a status SFBEX_SIP_ACCEPT_STATUS does not accept; sfbex_sip_ms_diagnostics_info and the status page give the ms-diagnostics code and reason and what they point at.",
              runbook_url: runbook('sip-answering-with-an-error'),
            },
          },
          {
            alert: 'SfbexSIPCertificateNotAccepted',
            expr: 'sfbex_sip_tls_verify_ok{%(sfbexSelector)s} == 0' % $._config,
            'for': '5m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'The SIP certificate of {{ $labels.target }} ({{ $labels.service }}) is not accepted for its name',
              description: 'The certificate {{ $labels.target }} presents for SIP does not verify for the name peers connect to (sfbex_sip_tls_verify_result says why): federation partners, Microsoft 365 or clients refuse the TLS session.',
              runbook_url: runbook('sip-certificate-not-accepted'),
            },
          },
        ],
      },
      {
        name: 'sfbex-directory',
        rules: [
          {
            alert: 'SfbexSIPProxyAddressCoverageLow',
            expr: 'sfbex_directory_sip_proxyaddress_coverage_ratio{%(sfbexSelector)s} < scalar(sfbex:threshold:sip_proxyaddress_coverage_ratio)' % $._config,
            'for': '30m',
            labels: { severity: 'warning' },
            annotations: {
              summary: "Only {{ $value | humanizePercentage }} of {{ $labels.domain }}'s SIP users have their SIP address in proxyAddresses",
              description: "Exchange finds a user's SIP address in proxyAddresses (seed 001 step 2); for {{ $labels.domain }} only {{ $value | humanizePercentage }} of SIP-enabled users have it, so the others get no IM or presence in OWA. The status page lists examples.",
              runbook_url: runbook('users-without-the-sip-proxy-address'),
            },
          },
          {
            alert: 'SfbexSIPProxyAddressCoverageFalling',
            expr: 'max_over_time(sfbex_directory_sip_proxyaddress_coverage_ratio{%(sfbexSelector)s}[1h]) - sfbex_directory_sip_proxyaddress_coverage_ratio{%(sfbexSelector)s} > scalar(sfbex:threshold:sip_proxyaddress_coverage_drop_ratio)' % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'SIP proxy-address coverage of {{ $labels.domain }} fell by {{ $value | humanizePercentage }} within an hour',
              description: "The share of {{ $labels.domain }}'s SIP-enabled users with SIP: in proxyAddresses fell by {{ $value | humanizePercentage }} within the last hour: a provisioning script or sync rule is probably stripping it.",
              runbook_url: runbook('users-without-the-sip-proxy-address'),
            },
          },
          {
            alert: 'SfbexUsersWithoutMailRising',
            expr: 'sfbex_directory_users_missing_attribute{%(sfbexSelector)s,attribute="mail"} - min_over_time(sfbex_directory_users_missing_attribute{%(sfbexSelector)s,attribute="mail"}[1h]) > 0' % $._config,
            'for': '15m',
            labels: { severity: 'info' },
            annotations: {
              summary: 'More SIP users of {{ $labels.domain }} lack a mail attribute',
              description: '{{ $value | humanize }} more SIP-enabled users of {{ $labels.domain }} have no mail attribute than an hour ago: Skype for Business cannot find their mailbox, so EWS features (conversation history, unified contact store) fail for them (seed 001 step 3).',
              runbook_url: runbook('users-without-mail'),
            },
          },
        ],
      },
      {
        name: 'sfbex-cms',
        rules: [
          {
            alert: 'SfbexCMSReplicaNotUpToDate',
            expr: '(time() - sfbex_cms_replica_behind_since_timestamp_seconds{%(sfbexSelector)s} > scalar(sfbex:threshold:cms_replica_behind_seconds)) and on(instance, job, replica) sfbex_cms_replica_up_to_date{%(sfbexSelector)s} == 0' % $._config,
            labels: { severity: 'critical' },
            annotations: {
              summary: 'CMS replica {{ $labels.replica }} has been behind for {{ $value | humanizeDuration }}',
              description: "{{ $labels.replica }} has not applied the Central Management Store's changes for {{ $value | humanizeDuration }} (Get-CsManagementStoreReplicationStatus UpToDate=False): it runs an old configuration, e.g. without the hosting provider or federation settings.",
              runbook_url: runbook('cms-replica-not-up-to-date'),
            },
          },
          {
            alert: 'SfbexCMSSnapshotStale',
            expr: 'time() - sfbex_cms_snapshot_timestamp_seconds{%(sfbexSelector)s} > scalar(sfbex:threshold:cms_snapshot_max_age_seconds)' % $._config,
            labels: { severity: 'warning' },
            annotations: {
              summary: 'The settings snapshot from {{ $labels.source }} is {{ $value | humanizeDuration }} old',
              description: 'The scheduled export on {{ $labels.source }} has not delivered a snapshot for {{ $value | humanizeDuration }}: replication and integration settings shown for it are out of date.',
              runbook_url: runbook('cms-snapshot-too-old'),
            },
          },
          {
            alert: 'SfbexIntegrationCheckFailing',
            // Checks with an alert of their own are left out, so each fires once: the Exchange Online
            // EWS checks, the dedicated hybrid app, the Front End's and the Exchange server's support
            // (sfb/ and exchange/server_supported) and the Front End's minimum build.
            expr: 'sfbex_integration_check{%(sfbexSelector)s, component!="exchange_online", check!~"hybrid_dedicated_app|server_supported|hybrid_app_minimum_build"} == 0' % $._config,
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Integration setting {{ $labels.component }}/{{ $labels.check }} is wrong',
              description: 'The {{ $labels.component }} setting {{ $labels.check }} does not match what the integration needs (seed documents); the status page names the value found and the cmdlet that fixes it.',
              runbook_url: runbook('cms-and-integration-settings'),
            },
          },
          {
            alert: 'SfbexExchangeOnlineEWSDisabled',
            expr: 'sfbex_integration_check{%(sfbexSelector)s, component="exchange_online", check="ews_enabled"} == 0' % $._config,
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'EWS is off in the Exchange Online organisation',
              description: 'Get-OrganizationConfig shows EwsEnabled False or never set (blocked since 2026-10-01): Skype for Business Server and Exchange hybrid cannot reach the Exchange Online mailboxes over EWS until 2027-04-01, when EWS goes off for good anyway.',
              runbook_url: runbook('exchange-online-ews-disabled'),
            },
          },
          {
            alert: 'SfbexExchangeOnlineEWSAppNotAllowed',
            expr: 'sfbex_integration_check{%(sfbexSelector)s, component="exchange_online", check="ews_app_allowed"} == 0' % $._config,
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'An integration application is missing from the Exchange Online EWS allow list',
              description: 'EwsAllowedAppIDs lacks an application ID of SFBEX_EXO_EWS_REQUIRED_APP_IDS: Exchange Online refuses its EWS requests (EWS is blocked by policy for this user or tenant).',
              runbook_url: runbook('exchange-online-ews-app-not-allowed'),
            },
          },
          {
            alert: 'SfbexExchangeOnlineEWSUserAgentBlocked',
            expr: 'sfbex_integration_check{%(sfbexSelector)s, component="exchange_online", check="ews_access_policy"} == 0' % $._config,
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: "Exchange Online's EWS user-agent policy blocks the integration",
              description: 'EwsApplicationAccessPolicy with EwsAllowList or EwsBlockList refuses a user agent of SFBEX_EXO_EWS_USER_AGENTS: Exchange Online refuses those EWS requests.',
              runbook_url: runbook('exchange-online-ews-user-agent-blocked'),
            },
          },
          {
            alert: 'SfbexExchangeHybridAppNotDedicated',
            expr: 'sfbex_integration_check{%(sfbexSelector)s, component="exchange", check="hybrid_dedicated_app"} == 0' % $._config,
            'for': '10m',
            labels: { severity: 'critical' },
            annotations: {
              summary: 'Exchange hybrid does not use its dedicated application',
              description: 'No setting override Global/ExchangeOnpremAsThirdPartyAppId with Enabled=true: Exchange hybrid uses the shared Exchange Online service principal, whose EWS access Microsoft blocked on 2025-10-31 (free/busy, MailTips).',
              runbook_url: runbook('exchange-hybrid-dedicated-app'),
            },
          },
        ],
      },
    ],
  },
}
