function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  lib.dashboard(
    uid='sfbex-dns',
    title='Skype for Business ↔ Exchange — DNS',
    description='Every discovery, federation and autodiscover record per domain and resolver: present, required, as expected, drift and lookups.',
    time='now-24h',
    refresh='1m',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
      lib.variable('record', 'Record', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance", domain=~"$domain"}, record)'),
      lib.variable('resolver', 'Resolver', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance", domain=~"$domain"}, resolver)'),
    ],
    panels=[
      panel('row', 1, 'Summary', '', [0, 0, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 2, 'Records on one side', 'Per domain: 1 when every Lync/Skype record present points to one side (all Microsoft 365 or all on-premises) through every resolver.', [0, 1, 6, 4]) + {
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
          q('sfbex_dns_deployment_consistent{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{domain}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 3, 'Required records missing', 'Required records a resolver says do not exist (per record and resolver).', [6, 1, 4, 4]) + {
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
          q('count(sfbex_dns_record_present{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"} == 0 and sfbex_dns_record_required{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"} == 1) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 4, 'Not as expected', 'Records whose last definitive answer does not match what is asked of them.', [10, 1, 4, 4]) + {
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
          q('count(sfbex_dns_record_expected{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 5, 'Views disagree', 'Agreement records whose answers differ between resolvers.', [14, 1, 3, 4]) + {
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
          q('count(sfbex_dns_views_agree{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record"} == 0) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 6, 'No definitive answer', 'Latest lookups that ended in SERVFAIL, REFUSED, a timeout or an error; the record keeps its last definitive answer, marked stale.', [17, 1, 3, 4]) + {
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
          q('count(sfbex_dns_lookup_outcome{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver",outcome=~"servfail|refused|timeout|error"}) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 7, 'Answers changed in range', "Changes between two definitive answers over the dashboard's time range, all records and resolvers.", [20, 1, 4, 4]) + {
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
          q('round(sum(increase(sfbex_dns_answer_changes_total{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}[$__range]))) or vector(0)', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 8, 'Per record and resolver', '', [0, 5, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 9, 'Records: present, required, expected', 'One row per record and resolver: whether the last definitive answer says it exists, whether the deployment requires it, whether it matches what is asked of it, the IPv4 addresses a client ends up with, and whether the latest lookup failed (stale).', [0, 6, 16, 10]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Present',
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
                options: 'Required',
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
                          text: 'optional',
                        },
                        '1': {
                          index: 1,
                          text: 'required',
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
                options: 'As expected',
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
                options: 'Addresses',
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
        options+: {
          sortBy: [
            {
              desc: false,
              displayName: 'As expected',
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
                'Value #A': 'Present',
                'Value #B': 'Required',
                'Value #C': 'As expected',
                'Value #D': 'Addresses',
                'Value #E': 'Stale',
              },
            },
          },
        ],
        targets: [
          q('sfbex_dns_record_present{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_dns_record_required{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_dns_record_expected{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_dns_answer_addresses{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '', 'D') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_dns_answer_stale{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '', 'E') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 10, 'Lookup outcome', "The latest lookup's outcome per record and resolver: noerror, nxdomain and nodata are definitive; servfail, refused, timeout and error are not.", [16, 6, 8, 10]) + {
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
              desc: true,
              displayName: 'outcome',
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
          q('sfbex_dns_lookup_outcome{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 11, 'Records per side', 'Present Lync/Skype records per resolver on each side (online = Microsoft 365, onprem). All on one side is healthy.', [0, 16, 12, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Records',
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
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'Records',
              },
            },
          },
        ],
        targets: [
          q('sfbex_dns_records_by_side{job=~"$job",instance=~"$instance",domain=~"$domain",resolver=~"$resolver"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 12, 'Internal and external views agree', "Per agreement record: 1 when every resolver's last definitive answer has the same fingerprint.", [12, 16, 12, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Agree',
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
            id: 'organize',
            options: {
              excludeByName: {
                Time: true,
                instance: true,
                job: true,
              },
              indexByName: {},
              renameByName: {
                Value: 'Agree',
              },
            },
          },
        ],
        targets: [
          q('sfbex_dns_views_agree{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 13, 'Drift', '', [0, 22, 24, 1]) + {
        panels: [
        ],
      },
      panel('timeseries', 14, 'Answer changes', 'Changes between two definitive answers per record and resolver (sfbex_dns_answer_changes_total). A spike is drift: the record now answers something else.', [0, 23, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('sum by (domain, record, type, resolver) (increase(sfbex_dns_answer_changes_total{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}[$__rate_interval])) ', '{{record}}.{{domain}} {{type}} via {{resolver}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 15, 'Fingerprint changes', 'changes() of the answer fingerprint per record and resolver; unlike the counter it also sees a change across an agent restart.', [12, 23, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('changes(sfbex_dns_answer_fingerprint{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}[$__rate_interval])', '{{record}}.{{domain}} {{type}} via {{resolver}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('state-timeline', 16, 'As expected over time', 'Per record and resolver, over time: green while the answer matches what is asked of it, red while it does not.', [0, 31, 24, 8]) + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'NOT as expected',
                  },
                  '1': {
                    index: 1,
                    text: 'as expected',
                  },
                },
                type: 'value',
              },
            ],
          },
        },
        targets: [
          q('sfbex_dns_record_expected{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '{{record}}.{{domain}} {{type}} via {{resolver}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('row', 17, 'Lookups', '', [0, 39, 24, 1]) + {
        panels: [
        ],
      },
      panel('timeseries', 18, 'Lookup duration', "How long each record's latest lookup took through each resolver, CNAME chain and SRV targets included (a name already resolved in the same run shows close to 0).", [0, 40, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('sfbex_dns_lookup_duration_seconds{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"}', '{{record}}.{{domain}} via {{resolver}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 19, 'Slowest lookup per resolver', 'The slowest lookup per domain and resolver: a resolver drifting up here is about to time out.', [12, 40, 6, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('max by (domain, resolver) (sfbex_dns_lookup_duration_seconds{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"})', '{{domain}} via {{resolver}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 20, 'Lookup outcomes', 'Number of records per latest lookup outcome over time; anything but noerror/nxdomain/nodata means a resolver did not answer.', [18, 40, 6, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('count by (outcome) (sfbex_dns_lookup_outcome{job=~"$job",instance=~"$instance",domain=~"$domain",record=~"$record",resolver=~"$resolver"})', '{{outcome}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
    ],
  )
