function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  // Below the first row, every panel sits 4 rows lower: the SIP tiles take y 5 to 8.
  local below(p) = if p.gridPos.y >= 5 then p { gridPos+: { y: p.gridPos.y + 4 } } else p;
  // The wall fits one 1080p screen in kiosk mode: every tile is 3 grid
  // units high (a unit is 30 px plus an 8 px gap), 27 units in all. The
  // panels are written 4 (agent row: 5) high; compact maps each y to its
  // place and sets the height.
  local compactY = { '0': 0, '1': 1, '5': 4, '9': 7, '10': 8, '14': 11, '15': 12, '19': 15, '20': 16, '24': 19, '25': 20, '29': 23, '30': 24 };
  local compact(p) = p { gridPos+: { y: compactY[std.toString(p.gridPos.y)], h: if p.type == 'row' then 1 else 3 } };
  local sip = import 'sfbex-overview-sip.libsonnet';
  local readiness = (import 'sfbex-readiness-tiles.libsonnet')(lib, [42, 43, 44, 45], 21, 4, lib.drilldown('sfbex-readiness', '2026 readiness'));
  lib.dashboard(
    uid='sfbex-overview',
    title='Skype for Business ↔ Exchange — overview',
    description='Wall display: one glance tells whether the Skype for Business / Exchange integration is healthy, in the order of the integration steps.',
    time='now-6h',
    refresh='30s',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
    ],
    panels=std.map(compact, std.map(below, [
      panel('row', 1, '1 · DNS and federation — discovery and federation records, SIP to the Edge (seed step 1)', '', [0, 0, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 2, 'Records on one side', '1 when every Lync/Skype discovery and federation record of every selected domain points to one side (all Microsoft 365 or all on-premises), through every resolver; MIXED when some point to each (seed step 1). Alert: SfbexDNSRecordsOnBothSides.', [0, 1, 5, 4]) + lib.drilldown('sfbex-dns', 'DNS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'MIXED',
                  },
                  '1': {
                    index: 1,
                    text: 'ONE SIDE',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(sfbex_dns_deployment_consistent{job=~"$job",instance=~"$instance",domain=~"$domain"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 3, 'Required records missing', 'Required records (per deployment mode and SFBEX_DNS_EXPECT) that a resolver says do not exist, counted per record and resolver. Alert: SfbexDNSRecordMissing.', [5, 1, 5, 4]) + lib.drilldown('sfbex-dns', 'DNS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-red',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_dns_record_present{job=~"$job",instance=~"$instance",domain=~"$domain"} == 0 and sfbex_dns_record_required{job=~"$job",instance=~"$instance",domain=~"$domain"} == 1) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 4, 'Records not as expected', 'Records whose last definitive answer does not match what is asked of them (pinned value, Microsoft 365 target in the wrong mode, wrong SRV port, dangling target), per record and resolver. Alert: SfbexDNSRecordNotAsExpected.', [10, 1, 5, 4]) + lib.drilldown('sfbex-dns', 'DNS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-red',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_dns_record_expected{job=~"$job",instance=~"$instance",domain=~"$domain"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 5, 'Views disagree', 'Records that must look the same inside and outside (SFBEX_DNS_AGREE_RECORDS) but get different answers from the resolvers. Alert: SfbexDNSViewsDisagree.', [15, 1, 5, 4]) + lib.drilldown('sfbex-dns', 'DNS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_dns_views_agree{job=~"$job",instance=~"$instance",domain=~"$domain"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 6, 'Answers changed (1 h)', "How many times a record's answer changed between two definitive answers in the last hour, all records and resolvers added up. The window is the alert's (SfbexDNSDrift), not the dashboard's time range, so the wall and the pager agree.", [20, 1, 4, 4]) + lib.drilldown('sfbex-dns', 'DNS') + {
        fieldConfig+: {
          defaults+: {
            decimals: 0,
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('round(sum(increase(sfbex_dns_answer_changes_total{job=~"$job",instance=~"$instance",domain=~"$domain"}[1h]))) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 7, '2–3 · SIP address and email address (directory)  ·  4–5 · Shared SIP address space, hosting provider, OWA IM, Edge replication (CMS)', '', [0, 5, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 8, 'SIP proxy coverage', "Lowest share, over the selected domains, of SIP-enabled users whose proxyAddresses holds SIP:<their SIP address>: Exchange needs it to find the user's SIP address (seed step 2). Amber below 95 % (the agent's SFBEX_LDAP_MIN_COVERAGE_RATIO default, a warning), red below 80 %.", [0, 6, 3, 4]) + lib.drilldown('sfbex-directory', 'Directory') + {
        fieldConfig+: {
          defaults+: {
            decimals: 1,
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 0.8,
                },
                {
                  color: 'dark-green',
                  value: 0.95,
                },
              ],
            },
            unit: 'percentunit',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(sfbex_directory_sip_proxyaddress_coverage_ratio{job=~"$job",instance=~"$instance",domain=~"$domain"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 9, 'No SIP proxy', 'SIP-enabled users whose proxyAddresses lacks their SIP address: Outlook Web App cannot connect them to IM and presence. Blue while coverage stays above the threshold (the agent lists them as info); the status page names up to 10.', [3, 6, 3, 4]) + lib.drilldown('sfbex-directory', 'Directory') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-blue',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('sum(sfbex_directory_users_missing_attribute{job=~"$job",instance=~"$instance",domain=~"$domain",attribute="proxyaddress_sip"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 10, 'Users without mail', 'SIP-enabled users without a mail attribute: Skype for Business cannot find their Exchange mailbox (seed step 3).', [6, 6, 3, 4]) + lib.drilldown('sfbex-directory', 'Directory') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-blue',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('sum(sfbex_directory_users_missing_attribute{job=~"$job",instance=~"$instance",domain=~"$domain",attribute="mail"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 11, 'SIP ≠ primary SMTP', 'SIP-enabled users whose primary SMTP address differs from their SIP address (seed 004): autodiscover for their SIP address finds no mailbox. Invalid and duplicate SIP addresses are on the directory dashboard.', [9, 6, 3, 4]) + lib.drilldown('sfbex-directory', 'Directory') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-blue',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('sum(sfbex_directory_sip_smtp_mismatch{job=~"$job",instance=~"$instance",domain=~"$domain"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 12, 'Hosting provider', '1 when the Exchange Online hosting provider exists and is set up for a shared SIP address space (enabled, EnabledSharedAddressSpace, not HostsOCSUsers, not IsLocal, source verification, ProxyFqdn) and the Access Edge allows federated users (seed steps 4–5), as the latest CMS snapshot shows. No data where Exchange is on-premises (the step does not apply).', [12, 6, 3, 4]) + lib.drilldown('sfbex-cms', 'CMS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'WRONG',
                  },
                  '1': {
                    index: 1,
                    text: 'OK',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(sfbex_integration_check{job=~"$job",instance=~"$instance",component="sfb",check=~"hosting_provider_.*|access_edge_allow_federated_users"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 13, 'OWA IM', '1 when every OWA virtual directory has InstantMessagingEnabled True and InstantMessagingType Ocs (Get-OwaVirtualDirectory, latest Exchange snapshot).', [15, 6, 3, 4]) + lib.drilldown('sfbex-cms', 'CMS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'OFF',
                  },
                  '1': {
                    index: 1,
                    text: 'ON',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(sfbex_integration_check{job=~"$job",instance=~"$instance",component="exchange",check=~"owa_im_.*"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 14, 'Replicas behind', 'CMS replicas (Front End, Edge) that are not up to date (Get-CsManagementStoreReplicationStatus): an Edge that does not get the configuration does not know the hosting provider.', [18, 6, 3, 4]) + lib.drilldown('sfbex-cms', 'CMS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-red',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_cms_replica_up_to_date{job=~"$job",instance=~"$instance"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 15, 'Settings failing', 'Integration settings checks from the CMS snapshots that fail: partner applications, the OWA trusted application, the OAuth server, ExchangeAutodiscoverUrl, the next Auth certificate, and the ones above.', [21, 6, 3, 4]) + lib.drilldown('sfbex-cms', 'CMS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-red',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_integration_check{job=~"$job",instance=~"$instance"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 16, '3 · Autodiscover and EWS (seed step 3: EWS connectivity)', '', [0, 10, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 17, 'Outlook finds autodiscover', '1 when Outlook, trying root, autodiscover.<domain>, the HTTP redirect and the SRV record in that order, ends on a working autodiscover endpoint for every selected domain. Alert: SfbexAutodiscoverUnreachable{client="outlook"}.', [0, 11, 4, 4]) + lib.drilldown('sfbex-autodiscover-ews', 'Autodiscover and EWS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'NOT FOUND',
                  },
                  '1': {
                    index: 1,
                    text: 'FOUND',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(sfbex_autodiscover_client_found{job=~"$job",instance=~"$instance",domain=~"$domain",client="outlook"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 18, 'SfB finds autodiscover', '1 when a Skype for Business / Lync client (autodiscover.<domain>, then the SRV record) ends on a working Exchange autodiscover endpoint for every selected domain. Alert: SfbexAutodiscoverUnreachable{client="lync"}.', [4, 11, 4, 4]) + lib.drilldown('sfbex-autodiscover-ews', 'Autodiscover and EWS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'NOT FOUND',
                  },
                  '1': {
                    index: 1,
                    text: 'FOUND',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(sfbex_autodiscover_client_found{job=~"$job",instance=~"$instance",domain=~"$domain",client="lync"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 19, 'Methods down', 'Autodiscover methods (root, autodiscover_host, http_redirect, srv) that do not lead to a working endpoint, over all selected domains. One failing while another works is a warning (SfbexAutodiscoverMethodFailing).', [8, 11, 4, 4]) + lib.drilldown('sfbex-autodiscover-ews', 'Autodiscover and EWS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_autodiscover_method_up{job=~"$job",instance=~"$instance",domain=~"$domain"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 20, 'EWS up', '1 when every EWS URL answers as Exchange does (401 with a challenge, or 2xx). Alert: SfbexEWSUnreachable.', [12, 11, 4, 4]) + lib.drilldown('sfbex-autodiscover-ews', 'Autodiscover and EWS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'DOWN',
                  },
                  '1': {
                    index: 1,
                    text: 'UP',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(sfbex_ews_up{job=~"$job",instance=~"$instance",domain=~"$domain"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 21, 'EWS offers OAuth', "1 when every EWS URL that should (SFBEX_EWS_EXPECT_OAUTH) offers a Bearer challenge, which Skype for Business Server's server-to-server requests need. Alert: SfbexEWSNoOAuth.", [16, 11, 4, 4]) + lib.drilldown('sfbex-autodiscover-ews', 'Autodiscover and EWS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'NO OAUTH',
                  },
                  '1': {
                    index: 1,
                    text: 'OAUTH',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(clamp_max(sfbex_ews_oauth_challenge{job=~"$job",instance=~"$instance",domain=~"$domain"} + (1 - sfbex_ews_oauth_expected{job=~"$job",instance=~"$instance",domain=~"$domain"}), 1))', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 22, 'lyncdiscover', 'Per view (external: lyncdiscover.<domain>, internal: lyncdiscoverinternal.<domain>): 1 when discovery answers the _links JSON and the user link answers with a challenge. Alert: SfbexLyncdiscoverBroken.', [20, 11, 4, 4]) + lib.drilldown('sfbex-autodiscover-ews', 'Autodiscover and EWS') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'DOWN',
                  },
                  '1': {
                    index: 1,
                    text: 'UP',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min by (view) (sfbex_lyncdiscover_up{job=~"$job",instance=~"$instance",domain=~"$domain"})', '{{view}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 23, '6–7 · OAuth (server-to-server) and TLS certificates', '', [0, 15, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 24, 'Exchange Auth, days left', "Days left on the current Exchange Auth Certificate (the signing certificate in Exchange's auth metadata). Red below 14 days, amber below 60 (sfbex:threshold:oauth_cert_*). Alerts: SfbexOAuthCertificateExpiring, SfbexOAuthCertificateExpired.", [0, 16, 4, 4]) + lib.drilldown('sfbex-certificates', 'Certificates') + {
        fieldConfig+: {
          defaults+: {
            decimals: 0,
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 14,
                },
                {
                  color: 'dark-green',
                  value: 60,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min((sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",kind="oauth",role="current"} - time()) / 86400 and on(instance, job, source) sfbex_oauth_metadata_info{job=~"$job",instance=~"$instance",server="exchange"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 25, 'SfB OAuth, days left', 'Days left on the current OAuthTokenIssuer certificate the Skype for Business pools publish. Red below 14 days, amber below 60.', [4, 16, 4, 4]) + lib.drilldown('sfbex-certificates', 'Certificates') + {
        fieldConfig+: {
          defaults+: {
            decimals: 0,
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 14,
                },
                {
                  color: 'dark-green',
                  value: 60,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min((sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",kind="oauth",role="current"} - time()) / 86400 and on(instance, job, source) sfbex_oauth_metadata_info{job=~"$job",instance=~"$instance",server="sfb"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 26, 'Next Exchange Auth cert', "1 when Exchange's auth metadata publishes a staged next certificate (Set-AuthConfig -NewCertificateThumbprint). NONE is normal while the current one has more than 60 days left; inside that window SfbexOAuthNextCertificateMissing fires.", [8, 16, 4, 4]) + lib.drilldown('sfbex-certificates', 'Certificates') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'NONE',
                  },
                  '1': {
                    index: 1,
                    text: 'STAGED',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-blue',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('max(sfbex_oauth_next_certificate_present{job=~"$job",instance=~"$instance"} and on(instance, job, source) sfbex_oauth_metadata_info{job=~"$job",instance=~"$instance",server="exchange"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 27, 'TLS cert, fewest days left', 'Days left on the TLS leaf or intermediate certificate that expires first, over every endpoint (autodiscover, lyncdiscover, the Edge, EWS). Red below 14 days, amber below 30 (sfbex:threshold:tls_cert_*).', [12, 16, 4, 4]) + lib.drilldown('sfbex-certificates', 'Certificates') + {
        fieldConfig+: {
          defaults+: {
            decimals: 0,
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 14,
                },
                {
                  color: 'dark-green',
                  value: 30,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min((sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",kind="tls",role!="root"} - time()) / 86400)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 28, 'TLS names not covered', "Names clients use (the host, and sip.<domain> on the Edge) that the endpoint's certificate does not cover. Alert: SfbexTLSCertificateNameMismatch.", [16, 16, 4, 4]) + lib.drilldown('sfbex-certificates', 'Certificates') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-red',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_tls_cert_covers_name{job=~"$job",instance=~"$instance"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 29, 'TLS chains not verified', 'Endpoints whose chain does not verify now (expired, wrong name, unknown authority…); the certificates dashboard says why. Alerts: SfbexTLSCertificateUntrusted, …Expired, …NameMismatch.', [20, 16, 4, 4]) + lib.drilldown('sfbex-certificates', 'Certificates') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-red',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_tls_verify_ok{job=~"$job",instance=~"$instance"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 41, '2026 readiness · Exchange Online EWS shutdown (2027-04-01), support lifecycle, dedicated hybrid apps', '', [0, 20, 24, 1]) + {
        panels: [
        ],
      },
    ] + readiness.tiles + [
      panel('row', 30, 'Agent and alerts', '', [0, 25, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 31, 'Agent scraped', "Prometheus' up for the agent: DOWN means nothing above is fresh. Alert: SfbexAgentDown.", [0, 26, 4, 5]) + lib.drilldown('sfbex-agent', 'Agent') + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'DOWN',
                  },
                  '1': {
                    index: 1,
                    text: 'UP',
                  },
                },
                type: 'value',
              },
            ],
            thresholds+: {
              steps: [
                {
                  color: 'dark-red',
                  value: null,
                },
                {
                  color: 'dark-green',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('min(up{job=~"$job",instance=~"$instance"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 32, 'Checks failing', 'Checks whose latest run could not observe its target (no definitive DNS answer, fetch or handshake failed); their panels show the last good data. Alert: SfbexProbeFailing.', [4, 26, 4, 5]) + lib.drilldown('sfbex-agent', 'Agent') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(sfbex_probe_success{job=~"$job",instance=~"$instance"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 33, 'Checks with old data', 'Checks whose last success is older than three intervals (at least 10 minutes), as in SfbexProbeDataStale.', [8, 26, 4, 5]) + lib.drilldown('sfbex-agent', 'Agent') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-orange',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count((time() - sfbex_probe_last_success_timestamp_seconds{job=~"$job",instance=~"$instance"}) > clamp_min(3 * sfbex_probe_interval_seconds{job=~"$job",instance=~"$instance"}, 600)) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 34, 'Alerts firing', 'Sfbex alerts firing now for the selected agents, all severities.', [12, 26, 4, 5]) + lib.drilldown('sfbex-agent', 'Agent') + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-green',
                  value: null,
                },
                {
                  color: 'dark-red',
                  value: 1,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'background',
          textMode: 'auto',
        },
        targets: [
          q('count(ALERTS{alertname=~"Sfbex.*",alertstate="firing",job=~"$job",instance=~"$instance"}) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 35, 'Alerts firing now', 'Every Sfbex alert firing now, with its severity and how many series fire it. docs/runbooks.md has the entry for each.', [16, 26, 8, 5]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Severity',
              },
              properties: [
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-background',
                  },
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        critical: {
                          color: 'dark-red',
                          index: 0,
                        },
                        info: {
                          color: 'dark-blue',
                          index: 2,
                        },
                        warning: {
                          color: 'dark-orange',
                          index: 1,
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
              ],
            },
          ],
        },
        options+: {
          sortBy: [
            {
              desc: false,
              displayName: 'Severity',
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'Series',
                alertname: 'Alert',
                severity: 'Severity',
              },
            },
          },
        ],
        targets: [
          q('count by (alertname, severity) (ALERTS{alertname=~"Sfbex.*",alertstate="firing",job=~"$job",instance=~"$instance"})', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
    ]) + sip),
  )
