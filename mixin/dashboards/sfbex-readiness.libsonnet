// The 2026 readiness of a Skype for Business / Exchange estate (issue 14): the Exchange Online EWS
// shutdown, EWS policy blocks, the builds and their support lifecycle, the dedicated hybrid
// applications and the OAuthTokenIssuer roll. The wall display's "2026 readiness" row opens it.
function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  local tiles = (import 'sfbex-readiness-tiles.libsonnet')(lib, [3, 4, 9, 13], 0, 5);
  local tile(i, x, y) = tiles.tiles[i] { gridPos+: { x: x, y: y } };
  local sel = 'job=~"$job",instance=~"$instance"';
  // The agent serves docs/runbooks.md itself; an importer's https base replaces it.
  local runbook(anchor, text) = '[%s](%s#%s)' % [text, std.strReplace(config.runbookURLBase, '{{ $labels.instance }}', '${instance}'), anchor];
  local table(id, title, description, pos, targets, rename, overrides=[], exclude={}, sortBy=[]) =
    panel('table', id, title, description, pos) + {
      fieldConfig+: {
        defaults+: { unit: 'none' },
        overrides: overrides,
      },
      options+: { sortBy: sortBy },
      transformations: (if std.length(targets) > 1 then [{ id: 'merge', options: {} }] else []) + [
        {
          id: 'organize',
          options: {
            excludeByName: { Time: true, instance: true, job: true, __name__: true } + exclude,
            indexByName: {},
            renameByName: rename,
          },
        },
      ],
      targets: [
        q(targets[i], '', std.char(65 + i)) + {
          format: 'table',
          instant: true,
          range: false,
        }
        for i in std.range(0, std.length(targets) - 1)
      ],
    };
  // Two queries merged into one table join on the labels they share: `max by` keeps exactly those
  // (no __name__, which differs between them).
  // A column of Unix times in milliseconds, as dates.
  local dateColumn(name) = {
    matcher: { id: 'byName', options: name },
    properties: [{ id: 'unit', value: 'dateTimeAsIso' }],
  };
  // A column of days left, coloured: red below `red`, amber below `amber`.
  local daysColumn(name, red, amber) = {
    matcher: { id: 'byName', options: name },
    properties: [
      { id: 'unit', value: 'none' },
      { id: 'decimals', value: 0 },
      { id: 'custom.cellOptions', value: { type: 'color-text' } },
      { id: 'color', value: { mode: 'thresholds' } },
      {
        id: 'thresholds',
        value: {
          mode: 'absolute',
          steps: [
            { color: 'red', value: null },
            { color: 'orange', value: red },
            { color: 'green', value: amber },
          ],
        },
      },
    ],
  };
  local passFail(name) = {
    matcher: { id: 'byName', options: name },
    properties: [
      { id: 'unit', value: 'none' },
      {
        id: 'mappings',
        value: [{
          options: {
            '0': { index: 0, text: 'FAIL' },
            '1': { index: 1, text: 'pass' },
          },
          type: 'value',
        }],
      },
      { id: 'custom.cellOptions', value: { type: 'color-text' } },
      { id: 'color', value: { mode: 'thresholds' } },
      {
        id: 'thresholds',
        value: {
          mode: 'absolute',
          steps: [
            { color: 'red', value: null },
            { color: 'green', value: 1 },
          ],
        },
      },
    ],
  };
  lib.dashboard(
    uid='sfbex-readiness',
    title='Skype for Business / Exchange: 2026 readiness',
    description='What the estate needs before Exchange Online switches EWS off (2027-04-01): the EWS dependencies and days left, EWS policy blocks, Exchange and Skype for Business builds and their end of support, the dedicated hybrid applications and providers, the OAuthTokenIssuer roll.',
    time='now-7d',
    refresh='5m',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
    ],
    panels=[
      panel('text', 1, 'What changes, and when', '', [0, 0, 24, 6]) + {
        options: {
          mode: 'markdown',
          content: std.join('\n', [
            '### What changes, and when',
            '**Since 2025-10-14** Skype for Business Server 2015 and 2019, Exchange Server 2016 and 2019 are out of support (Lync Server 2013 and Exchange 2013 since 2023-04-11): move to the Subscription Editions. Skype for Business reaches Exchange Online through its own Entra application from builds 6.0.9319.881 (2015), 7.0.2046.553 (2019) and 7.0.2046.820 (SE); Exchange hybrid through its dedicated application (setting override ExchangeOnpremAsThirdPartyAppId).',
            "**Since 2026-10-01** Exchange Online blocks EWS in every tenant that never set EwsEnabled: requests get 403 with X-EWS-Policy-Reason. Set-OrganizationConfig -EwsEnabled $true, and allow the integration's applications with -EwsAllowedAppIDs (it replaces the list).",
            "**On 2027-04-01** Exchange Online switches EWS off for good, with no exceptions: what Skype for Business Server does over EWS with Exchange Online mailboxes (conversation history, unified contact store, photos, archiving) and Exchange hybrid's EWS features stop. No Microsoft statement exempts Skype for Business Server. Exchange on-premises is not affected.",
            'Runbooks (pick one instance: each agent serves them): %s' % std.join(' · ', [
              runbook('ews-online-shutdown', 'EWS online shutdown'),
              runbook('ews-blocked-by-policy', 'EWS blocked by policy'),
              runbook('server-out-of-support', 'Server out of support'),
              runbook('sfbteams_provider_', 'Hosting provider to Microsoft 365'),
              runbook('sfboauth_token_issuer_roll_staged', 'OAuthTokenIssuer roll'),
            ]),
          ]),
        },
      },
      panel('row', 2, 'Exchange Online EWS: blocked since 2026-10-01 without EwsEnabled, off on 2027-04-01', '', [0, 6, 24, 1]) + {
        panels: [
        ],
      },
      tile(0, 0, 7),
      tile(1, 6, 7),
      table(5, 'EWS dependencies', 'Each dependency of the estate on EWS in Exchange Online (sfb_server_exchange_online: Skype for Business Server with mailboxes in Exchange Online, by the configuration or because autodiscover points to Microsoft 365; exchange_hybrid: an Exchange hybrid), when EWS is switched off and the days left. Empty when there is none.', [12, 7, 12, 5], [
        'sfbex_ews_online_shutdown_timestamp_seconds{%s} * 1000' % sel,
        '(sfbex_ews_online_shutdown_timestamp_seconds{%s} - time()) / 86400' % sel,
      ], { dependency: 'Dependency', 'Value #A': 'EWS switched off', 'Value #B': 'Days left' }, [
        dateColumn('EWS switched off'),
        daysColumn('Days left', 30, 180),
      ], sortBy=[{ desc: false, displayName: 'Days left' }]),
      table(6, 'EWS policy blocks', 'EWS URLs that answer 403 with X-EWS-Policy-Reason: disabled is "EWS is disabled for this user or tenant" (EwsEnabled False), blocked_by_policy is "EWS is blocked by policy for this user or tenant" (the app or user agent is not allowed), other is a text Microsoft has not documented. Alert: SfbexEWSBlockedByPolicy.', [0, 12, 12, 6], [
        'sfbex_ews_policy_blocked{%s,domain=~"$domain"} == 1' % sel,
      ], { domain: 'Domain', url: 'EWS URL', reason: 'Reason' }, exclude={ Value: true }),
      table(7, 'Readiness checks', 'The settings snapshot checks of the 2026 concerns (component/check): the dedicated hybrid applications, the Exchange Online EWS settings (EwsEnabled, the allowed apps), the hosting provider to Microsoft 365, the shared SIP address space, the OAuthTokenIssuer roll, whether the Skype for Business servers are in support. Absent when no snapshot shows the setting or it does not apply; docs/metrics.md lists what each reads.', [12, 12, 12, 6], [
        'sfbex_integration_check{%s,%s} or sfbex_integration_check{%s,component="exchange_online"} or sfbex_integration_check{%s,check="server_supported"}' % [sel, tiles.checks, sel, sel],
      ], { component: 'Component', check: 'Check', Value: 'Result' }, [passFail('Result')], sortBy=[{ desc: false, displayName: 'Result' }]),
      panel('row', 8, 'Versions and support lifecycle (docs/lifecycle.md)', '', [0, 18, 24, 1]) + {
        panels: [
        ],
      },
      tile(2, 0, 19),
      // The snapshot's servers belong to no email domain: they show whatever domain is picked.
      table(10, 'Exchange builds', "The Exchange build each server shows and where it was read (from outside, per domain: soap, pox: the autodiscover answers; owa: X-OWA-Version on /owa/; ews: EWS's ServerVersionInfo; snapshot: the server's own settings snapshot, ExSetup.exe's file version or else AdminDisplayVersion, no domain), its product and when its support ends (empty for the Subscription Edition, under the Modern Lifecycle).", [6, 19, 18, 5], [
        'max by (domain, server, protocol, build, product) (sfbex_exchange_build_info{%s,domain=~"$domain"}) or label_replace(max by (server, build, product) (sfbex_exchange_server_build_info{%s}), "protocol", "snapshot", "", "")' % [sel, sel],
        'max by (domain, server, protocol, build, product) (sfbex_exchange_support_end_timestamp_seconds{%s,domain=~"$domain"}) * 1000 or label_replace(max by (server, product) (sfbex_exchange_server_support_end_timestamp_seconds{%s}) * 1000, "protocol", "snapshot", "", "")' % [sel, sel],
      ], { domain: 'Domain', server: 'Server', protocol: 'Read from', build: 'Build', product: 'Product', 'Value #B': 'Support ends' }, [
        dateColumn('Support ends'),
      ], exclude={ 'Value #A': true }),
      table(11, 'Skype for Business builds', 'The Skype for Business Server build each server reports in the settings snapshot (Get-CsServerPatchVersion), its product and when its support ends (empty for the Subscription Edition). The dedicated hybrid application needs at least 6.0.9319.881 (2015), 7.0.2046.553 (2019), 7.0.2046.820 (SE).', [0, 24, 24, 5], [
        'max by (server, product, build) (sfbex_sfb_build_info{%s})' % sel,
        'max by (server, product) (sfbex_sfb_support_end_timestamp_seconds{%s}) * 1000' % sel,
      ], { server: 'Server', build: 'Build', product: 'Product', 'Value #B': 'Support ends' }, [
        dateColumn('Support ends'),
      ], exclude={ 'Value #A': true }),
      panel('row', 12, 'Dedicated hybrid applications, providers and the OAuthTokenIssuer roll', '', [0, 29, 24, 1]) + {
        panels: [
        ],
      },
      tile(3, 0, 30),
      table(14, 'OAuthTokenIssuer certificates', "Days left on each Front End's OAuthTokenIssuer certificates (Get-CsCertificate -Type OAuthTokenIssuer in the settings snapshot): role current and, once Set-CsCertificate -Roll staged it, the next one. Red below 14 days, amber below 60 (SFBEX_OAUTH_RENEW_DAYS).", [6, 30, 9, 5], [
        '(sfbex_sfb_oauth_token_issuer_not_after_timestamp_seconds{%s} - time()) / 86400' % sel,
      ], { server: 'Server', role: 'Role', Value: 'Days left' }, [daysColumn('Days left', 14, 60)], sortBy=[{ desc: false, displayName: 'Days left' }]),
      table(15, 'OAuthTokenIssuer roll takes effect', 'When the rolled OAuthTokenIssuer certificate staged with Set-CsCertificate -Roll -EffectiveDate takes over, per Front End; it must be at least 24 hours before the current one expires. Empty when no roll is staged.', [15, 30, 9, 5], [
        'sfbex_sfb_oauth_token_issuer_roll_effective_timestamp_seconds{%s} * 1000' % sel,
      ], { server: 'Server', Value: 'Takes effect' }, [dateColumn('Takes effect')]),
    ],
  )
