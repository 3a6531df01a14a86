// The four "2026 readiness" stats (issue 14: EWS shutdown, policy blocks, support lifecycle,
// dedicated hybrid apps): the wall display's row and the top of the readiness dashboard show the
// same tiles, so they cannot disagree. ids and y are the caller's; link is added to each tile.
function(lib, ids, y, h, link={})
  local panel = lib.panel, q = lib.target;
  local sel = 'job=~"$job",instance=~"$instance"';
  // The settings checks of the dedicated hybrid apps, the hosting provider to Microsoft 365, the
  // shared SIP address space and the OAuthTokenIssuer roll. The Exchange Online EWS checks
  // (component exchange_online) count on the EWS tile instead, so one failing setting turns one
  // tile red. Names another part of issue 14 may still be adding match nothing until then.
  local checks = 'check=~"%s"' % std.join('|', [
    'hybrid_app_minimum_build',
    'hybrid_dedicated_app',
    'teams_provider_.*',
    'oauth_token_issuer_roll_staged',
    'tenant_shared_sip_address_space',
  ]);
  local stat(id, title, description, x, w, mappings, steps, unit, expr) =
    panel('stat', id, title, description, [x, y, w, h]) + link + {
      fieldConfig+: {
        defaults+: {
          decimals: 0,
          mappings: mappings,
          thresholds+: { steps: steps },
          unit: unit,
        },
      },
      options+: {
        colorMode: 'background',
        textMode: 'auto',
      },
      targets: [
        q(expr, '', 'A') + {
          instant: true,
          range: false,
        },
      ],
    };
  // Grafana shows a special null mapping when a query returns nothing (and noValue as the text).
  local whenAbsent(text, color) = {
    options: {
      match: 'null',
      result: { color: color, index: 0, text: text },
    },
    type: 'special',
  };
  local okAtZero(warn) = [
    { color: 'dark-green', value: null },
    { color: warn, value: 1 },
  ];
  {
    checks:: checks,
    tiles: [
      stat(ids[0], 'Exchange Online EWS off in', 'Days until Exchange Online switches EWS off for good (2027-04-01, SFBEX_EWS_ONLINE_SHUTDOWN_DATE), the fewest over the dependencies the agent found: Skype for Business Server with mailboxes in Exchange Online, Exchange hybrid. Amber inside 180 days, when SfbexEWSOnlineShutdownNear fires; red inside 30; EWS OFF after the date. NO DEPENDENCY when the configuration and autodiscover show none (on-premises Exchange is not affected).', 0, 6, [
        {
          options: {
            // Open below: EWS is off once the date has passed.
            to: 0,
            result: { color: 'dark-red', index: 1, text: 'EWS OFF' },
          },
          type: 'range',
        },
        whenAbsent('NO DEPENDENCY', 'dark-green'),
      ], [
        { color: 'dark-red', value: null },
        { color: 'dark-orange', value: 30 },
        { color: 'dark-green', value: 180 },
      ], 'suffix: days', 'min((sfbex_ews_online_shutdown_timestamp_seconds{%s} - time()) / 86400)' % sel) + {
        fieldConfig+: { defaults+: { noValue: 'NO DEPENDENCY' } },
      },
      stat(ids[1], 'EWS blocked by policy', 'EWS URLs that answer 403 with X-EWS-Policy-Reason (Exchange Online refuses EWS: EwsEnabled never set since 2026-10-01, or an allow list without the app; alert SfbexEWSBlockedByPolicy), plus the failing Exchange Online settings checks of the snapshot (EwsEnabled, the apps allowed) when it is exported.', 6, 6, [], okAtZero('dark-red'), 'none', |||
        (count(sfbex_ews_policy_blocked{%(sel)s,domain=~"$domain"} == 1) or vector(0))
        + (count(sfbex_integration_check{%(sel)s,component="exchange_online"} == 0) or vector(0))
      ||| % { sel: sel }),
      stat(ids[2], 'Out of support', "Products past their end of support (docs/lifecycle.md: Exchange and Skype for Business Server 2015/2016/2019 since 2025-10-14, 2013 since 2023-04-11): each Exchange product a domain's servers show (autodiscover answers, X-OWA-Version; counted per domain and product as SfbexExchangeOutOfSupport fires, since the host names that answer are often one server), plus each Exchange and Skype for Business server of the settings snapshot (one per server, as the alerts fire). Amber: no security updates; move to the Subscription Edition. The readiness dashboard names the servers.", 12, 6, [], okAtZero('dark-orange'), 'none', |||
        (count(count by (domain, product) (sfbex_exchange_support_end_timestamp_seconds{%(sel)s,domain=~"$domain"} < time())) or vector(0))
        + (count(count by (server, product) (sfbex_exchange_server_support_end_timestamp_seconds{%(sel)s} < time())) or vector(0))
        + (count(count by (server, product) (sfbex_sfb_support_end_timestamp_seconds{%(sel)s} < time())) or vector(0))
      ||| % { sel: sel }),
      stat(ids[3], 'Hybrid apps and providers', 'Failing checks of the settings snapshot for 2026: the dedicated hybrid applications (Skype for Business minimum build, Exchange ExchangeOnpremAsThirdPartyAppId), the hosting provider to Microsoft 365, the shared SIP address space, the staged OAuthTokenIssuer roll (the Exchange Online EWS settings count on the EWS tile). NOT JUDGED when no snapshot shows any of them.', 18, 6, [
        whenAbsent('NOT JUDGED', 'dark-blue'),
      ], okAtZero('dark-red'), 'none', |||
        count(sfbex_integration_check{%(sel)s,%(checks)s} == 0)
        or 0 * count(sfbex_integration_check{%(sel)s,%(checks)s})
      ||| % { sel: sel, checks: checks }) + {
        fieldConfig+: { defaults+: { noValue: 'NOT JUDGED' } },
      },
    ],
  }
