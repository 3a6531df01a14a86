function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  lib.dashboard(
    uid='sfbex-autodiscover-ews',
    title='Skype for Business ↔ Exchange — autodiscover, EWS, lyncdiscover',
    description='Exchange autodiscover by every method per domain and the path each client takes, EWS status, latency and authentication schemes, lyncdiscover per view.',
    time='now-6h',
    refresh='1m',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
    ],
    panels=[
      panel('row', 1, 'Summary', '', [0, 0, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 2, 'Client finds autodiscover', 'Per client (outlook, lync): 1 when the client ends on a working autodiscover endpoint for every selected domain.', [0, 1, 6, 4]) + {
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
          q('min by (client) (sfbex_autodiscover_client_found{job=~"$job",instance=~"$instance",domain=~"$domain"})', '{{client}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 3, 'Skype for Business ExchangeAutodiscoverUrl', "1 when Skype for Business' ExchangeAutodiscoverUrl (SFBEX_SFB_EXCHANGE_AUTODISCOVER_URL) ends in autodiscover.svc and answers.", [6, 1, 5, 4]) + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'BROKEN',
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
          q('min(sfbex_sfb_exchange_autodiscover_url_up{job=~"$job",instance=~"$instance"} * sfbex_sfb_exchange_autodiscover_url_svc{job=~"$job",instance=~"$instance"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 4, 'EWS up', 'Per EWS URL: 1 when it answers as Exchange does (401 with a challenge, or 2xx).', [11, 1, 4, 4]) + {
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
      panel('stat', 5, 'EWS offers OAuth', '1 when every EWS URL offers a Bearer challenge (or OAuth is not expected there).', [15, 1, 4, 4]) + {
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
      panel('stat', 6, 'lyncdiscover', 'Per view: 1 when discovery answers the _links JSON and the user link answers with a challenge.', [19, 1, 5, 4]) + {
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
      panel('row', 7, 'Exchange autodiscover: methods per domain', '', [0, 5, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 8, 'Methods', 'Every way a client finds autodiscover, per domain: up, the final HTTP status (0 without an answer), how long it took and whether the SRV data is from an earlier run.', [0, 6, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Up',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'down',
                        },
                        '1': {
                          index: 1,
                          text: 'up',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'HTTP status',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'Duration',
              },
              properties: [
                {
                  id: 'unit',
                  value: 's',
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'Stale',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'fresh',
                        },
                        '1': {
                          index: 1,
                          text: 'STALE',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'merge',
            options: {},
          },
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                'Value #A': 'Up',
                'Value #B': 'HTTP status',
                'Value #C': 'Duration',
                'Value #D': 'Stale',
              },
            },
          },
        ],
        targets: [
          q('sfbex_autodiscover_method_up{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_autodiscover_method_status_code{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_autodiscover_method_duration_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_autodiscover_method_stale{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'D') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 9, 'Method outcome', "How each method's latest attempt ended: ok and challenge are healthy; wrong_redirect, no_record, tls_error… say what broke.", [12, 6, 6, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'n',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                Value: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'n',
              },
            },
          },
        ],
        targets: [
          q('sfbex_autodiscover_method_outcome{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 10, 'Client path', 'Per client, the methods it tries and the one it ends on (1): Outlook tries root, autodiscover_host, http_redirect, srv; Skype for Business autodiscover_host, then srv.', [18, 6, 6, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Ends here',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'tried',
                        },
                        '1': {
                          index: 1,
                          text: 'ends here',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
        options+: {
          sortBy: [
            {
              desc: true,
              displayName: 'Ends here',
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'Ends here',
              },
            },
          },
        ],
        targets: [
          q('sfbex_autodiscover_client_method{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('timeseries', 11, 'Method duration', 'Time each autodiscover method took, redirects and SRV lookup included.', [0, 14, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('sfbex_autodiscover_method_duration_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{method}} {{domain}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('table', 12, 'Authenticated requests', 'With a probe account: per protocol (POX, SOAP) whether the request returned an EWS URL, its final status and duration (NTLM handshake included).', [12, 14, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Success',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'no',
                        },
                        '1': {
                          index: 1,
                          text: 'yes',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'HTTP status',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'Duration',
              },
              properties: [
                {
                  id: 'unit',
                  value: 's',
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'merge',
            options: {},
          },
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                'Value #A': 'Success',
                'Value #B': 'HTTP status',
                'Value #C': 'Duration',
              },
            },
          },
        ],
        targets: [
          q('sfbex_autodiscover_request_success{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_autodiscover_request_status_code{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_autodiscover_request_duration_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 13, 'EWS URLs from autodiscover', 'The EWS URLs the authenticated requests returned, per protocol and role (internal, external).', [0, 21, 24, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'n',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                Value: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'n',
              },
            },
          },
        ],
        targets: [
          q('sfbex_autodiscover_ews_url_info{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 14, 'EWS', '', [0, 27, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 15, 'EWS endpoints', 'Per EWS URL: up, HTTP status, whether it offers the Bearer (OAuth) challenge, whether OAuth is expected, and whether the challenge carries authorization_uri (hybrid modern authentication).', [0, 28, 14, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Up',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'down',
                        },
                        '1': {
                          index: 1,
                          text: 'up',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'HTTP status',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'OAuth challenge',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'no',
                        },
                        '1': {
                          index: 1,
                          text: 'yes',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'OAuth expected',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'not expected',
                        },
                        '1': {
                          index: 1,
                          text: 'expected',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'authorization_uri',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'no',
                        },
                        '1': {
                          index: 1,
                          text: 'yes',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'merge',
            options: {},
          },
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                'Value #A': 'Up',
                'Value #B': 'HTTP status',
                'Value #C': 'OAuth challenge',
                'Value #D': 'OAuth expected',
                'Value #E': 'authorization_uri',
              },
            },
          },
        ],
        targets: [
          q('sfbex_ews_up{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_ews_status_code{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_ews_oauth_challenge{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_ews_oauth_expected{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'D') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_ews_oauth_authorization_uri_present{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'E') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 16, 'Authentication schemes offered', 'One row per scheme each EWS URL offers in its 401 (bearer, negotiate, ntlm, basic…).', [14, 28, 10, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'n',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
          ],
        },
        options+: {
          sortBy: [
            {
              desc: false,
              displayName: 'scheme',
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                Value: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'n',
              },
            },
          },
        ],
        targets: [
          q('sfbex_ews_auth_scheme_offered{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('timeseries', 17, 'EWS latency', 'Connection, TLS handshake and answer of the unauthenticated EWS request, on a fresh connection each run.', [0, 34, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('sfbex_ews_request_duration_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{url}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('state-timeline', 18, 'EWS up over time', 'Per EWS URL over time: green while it answers as Exchange does, red while it does not.', [12, 34, 6, 7]) + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'down',
                  },
                  '1': {
                    index: 1,
                    text: 'up',
                  },
                },
                type: 'value',
              },
            ],
          },
        },
        targets: [
          q('sfbex_ews_up{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{url}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('table', 19, 'Trusted issuers', "Entries of the Bearer challenge's trusted_issuers per EWS URL (00000001-…@* is Microsoft 365's ACS).", [18, 34, 6, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'n',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                Value: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'n',
              },
            },
          },
        ],
        targets: [
          q('sfbex_ews_oauth_trusted_issuer_info{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 20, 'Lync autodiscover (lyncdiscover)', '', [0, 41, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 21, 'Views', 'Per SIP domain and view (external: lyncdiscover, internal: lyncdiscoverinternal): up, MsRtcOAuth challenge on the user link, first HTTP status and redirect links followed.', [0, 42, 12, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Up',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'down',
                        },
                        '1': {
                          index: 1,
                          text: 'up',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'MsRtcOAuth',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
                {
                  id: 'mappings',
                  value: [
                    {
                      options: {
                        '0': {
                          index: 0,
                          text: 'no',
                        },
                        '1': {
                          index: 1,
                          text: 'yes',
                        },
                      },
                      type: 'value',
                    },
                  ],
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-text',
                  },
                },
                {
                  id: 'color',
                  value: {
                    mode: 'thresholds',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
                    steps: [
                      {
                        color: 'red',
                        value: null,
                      },
                      {
                        color: 'green',
                        value: 1,
                      },
                    ],
                  },
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'HTTP status',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'Redirects',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'merge',
            options: {},
          },
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                'Value #A': 'Up',
                'Value #B': 'MsRtcOAuth',
                'Value #C': 'HTTP status',
                'Value #D': 'Redirects',
              },
            },
          },
        ],
        targets: [
          q('sfbex_lyncdiscover_up{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_lyncdiscover_oauth_challenge{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_lyncdiscover_status_code{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_lyncdiscover_redirect_links{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'D') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 22, 'Pool per view', "The pool each view's user link leads to; internal and external differ when a reverse proxy publishes the pool under another name.", [12, 42, 6, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'n',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                Value: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'n',
              },
            },
          },
        ],
        targets: [
          q('sfbex_lyncdiscover_pool_info{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 23, 'Outcome per view', 'The outcome of the request that decided: challenge is healthy.', [18, 42, 6, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'n',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'none',
                },
              ],
            },
          ],
        },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                Value: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'n',
              },
            },
          },
        ],
        targets: [
          q('sfbex_lyncdiscover_outcome{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('timeseries', 24, 'lyncdiscover duration', 'Whole discovery per view, redirects and user link included.', [0, 48, 24, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('sfbex_lyncdiscover_duration_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{view}} {{domain}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
    ],
  )
