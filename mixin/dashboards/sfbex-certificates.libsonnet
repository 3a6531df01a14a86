function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  lib.dashboard(
    uid='sfbex-certificates',
    title='Skype for Business ↔ Exchange — certificates',
    description='Every OAuth (auth metadata), TLS (endpoint) and file certificate with the days it has left; OAuth current and next; TLS verification per endpoint.',
    time='now-7d',
    refresh='5m',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
    ],
    panels=[
      panel('row', 1, 'Summary', '', [0, 0, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 2, 'OAuth current certificate, days left', 'Days left on the current signing certificate of each auth metadata document (Exchange, Skype for Business pools, others). Red below 14, amber below 60.', [0, 1, 8, 4]) + {
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
          q('(sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",kind="oauth",role="current"} - time()) / 86400 * on(instance, job, source) group_left(server) sfbex_oauth_metadata_info{job=~"$job",instance=~"$instance"}', '{{server}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 3, 'TLS, fewest days left', 'Days left on the leaf or intermediate that expires first, over every TLS endpoint. Red below 14, amber below 30.', [8, 1, 4, 4]) + {
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
      panel('stat', 4, 'Expiring within 30 days', 'Certificates (any kind; TLS roots excluded) with fewer than 30 days left, expired ones included.', [12, 1, 4, 4]) + {
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
          q('count((sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",role!="root"} - time()) / 86400 < 30) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 5, 'Sources failing', 'Metadata documents, endpoints and files the latest attempt could not read; their certificates show the last successful attempt.', [16, 1, 4, 4]) + {
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
          q('count(sfbex_cert_source_up{job=~"$job",instance=~"$instance"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 6, 'TLS verification failing', 'Endpoints whose chain does not verify against the trusted roots for the host name, now.', [20, 1, 4, 4]) + {
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
      panel('row', 7, 'Every certificate', '', [0, 5, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 8, 'Every certificate, days left', 'Every certificate every source shows, fewest days first: kind (oauth, tls, file), where it was seen, its role (current/next/previous for OAuth, position in the chain for TLS), subject, issuer, serial and thumbprint as Windows shows them.', [0, 6, 24, 12]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Days left',
              },
              properties: [
                {
                  id: 'decimals',
                  value: 0,
                },
                {
                  id: 'custom.cellOptions',
                  value: {
                    type: 'color-background',
                  },
                },
                {
                  id: 'thresholds',
                  value: {
                    mode: 'absolute',
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
                },
              ],
            },
          ],
        },
        options+: {
          sortBy: [
            {
              desc: false,
              displayName: 'Days left',
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
              indexByName: {
                Value: 0,
              },
              renameByName: {
                Value: 'Days left',
              },
            },
          },
        ],
        targets: [
          q('sort((sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance"} - time()) / 86400 * on(instance, job, kind, source, role, subject_cn, serial) group_left(issuer_cn, thumbprint, key_algorithm) sfbex_cert_info{job=~"$job",instance=~"$instance"})', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 9, 'OAuth (server-to-server)', '', [0, 18, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 10, 'OAuth certificates: current and next', 'Each certificate in each auth metadata document with its role, days left, key size and whether the published x5t matches (absent when the document publishes no keyinfo).', [0, 19, 14, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Days left',
              },
              properties: [
                {
                  id: 'unit',
                  value: 'suffix: days',
                },
              ],
            },
            {
              matcher: {
                id: 'byName',
                options: 'Key bits',
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
              displayName: 'Days left',
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
                'Value #A': 'Days left',
                'Value #B': 'Key bits',
              },
            },
          },
        ],
        targets: [
          q('(sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",kind="oauth"} - time()) / 86400', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_cert_key_size{job=~"$job",instance=~"$instance",kind="oauth"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 11, 'Auth metadata documents', 'Per document: signing certificates published (0 is critical), whether a next certificate is staged, and the realm and issuer it publishes.', [14, 19, 10, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Signing certificates',
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
                options: 'Next staged',
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
                          text: 'none',
                        },
                        '1': {
                          index: 1,
                          text: 'staged',
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
                'Value #A': 'Signing certificates',
                'Value #B': 'Next staged',
              },
            },
          },
        ],
        targets: [
          q('sfbex_oauth_signing_certificates{job=~"$job",instance=~"$instance"} * on(instance, job, source) group_left(server, realm) sfbex_oauth_metadata_info{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_oauth_next_certificate_present{job=~"$job",instance=~"$instance"} * on(instance, job, source) group_left(server, realm) sfbex_oauth_metadata_info{job=~"$job",instance=~"$instance"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('timeseries', 12, 'OAuth days left over time', 'Days left on the current and next OAuth certificates: a renewal shows as a jump up, a staged next certificate as a second line above.', [0, 27, 14, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('(sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",kind="oauth",role=~"current|next"} - time()) / 86400', '{{role}} {{subject_cn}} ({{source}})', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('table', 13, 'x5t and Subject checks', 'x5t: the published key hash matches the certificate. SIP domain in Subject: the Skype for Business certificate names a SIP domain (seed 003).', [14, 27, 10, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'x5t matches',
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
                options: 'SIP domain in Subject',
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
                'Value #A': 'x5t matches',
                'Value #B': 'SIP domain in Subject',
              },
            },
          },
        ],
        targets: [
          q('sfbex_oauth_cert_x5t_matches{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_cert_subject_has_sip_domain{job=~"$job",instance=~"$instance"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 14, 'TLS per endpoint', '', [0, 34, 24, 1]) + {
        panels: [
        ],
      },
      panel('bargauge', 15, 'Leaf certificate days left per endpoint', "Days left on each endpoint's leaf certificate. Red below 14, amber below 30.", [0, 35, 8, 9]) + {
        targets: [
          q('min by (source) ((sfbex_cert_not_after_timestamp_seconds{job=~"$job",instance=~"$instance",kind="tls",role="leaf"} - time()) / 86400)', '{{source}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 16, 'Verification result', "The verdict for each endpoint's chain now: ok, expired, not_yet_valid, name_mismatch, unknown_authority, incompatible_usage, invalid or other.", [8, 35, 8, 9]) + {
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
              displayName: 'reason',
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
          q('sfbex_tls_verify_result{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 17, 'Names covered', 'Per endpoint and name clients use there: whether the leaf certificate covers it (wildcards matched as TLS does).', [16, 35, 8, 9]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Covered',
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
        options+: {
          sortBy: [
            {
              desc: false,
              displayName: 'Covered',
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
                Value: 'Covered',
              },
            },
          },
        ],
        targets: [
          q('sfbex_tls_cert_covers_name{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 18, 'Endpoints and where they come from', 'Each TLS endpoint with the record or setting it was found through (autodiscover, lyncdiscover, _sip._tls, _sipfederationtls._tcp, ews, configured) and the domain.', [0, 44, 12, 7]) + {
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
          q('sfbex_tls_endpoint_info{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 19, 'Sources', 'Every metadata document, endpoint and file: up now, stale (the certificates shown come from an earlier attempt) and the age of the data shown.', [12, 44, 12, 7]) + {
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
            {
              matcher: {
                id: 'byName',
                options: 'Data age',
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
                'Value #A': 'Up',
                'Value #B': 'Stale',
                'Value #C': 'Data age',
              },
            },
          },
        ],
        targets: [
          q('sfbex_cert_source_up{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_cert_source_stale{job=~"$job",instance=~"$instance"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('time() - sfbex_cert_source_last_success_timestamp_seconds{job=~"$job",instance=~"$instance"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
    ],
  )
