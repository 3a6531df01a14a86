function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  lib.dashboard(
    uid='sfbex-cms',
    title='Skype for Business ↔ Exchange — CMS and integration settings',
    description='Integration settings read from the CMS snapshots (hosting provider, shared SIP address space, partner applications, OWA IM, OAuth server) and Edge replication (seed steps 4–7).',
    time='now-24h',
    refresh='5m',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
    ],
    panels=[
      panel('row', 1, 'Summary', '', [0, 0, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 2, 'Settings failing', 'Integration settings checks that fail in the latest CMS snapshots.', [0, 1, 6, 4]) + {
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
      panel('stat', 3, 'CMS replicas behind', 'Replicas not up to date (Get-CsManagementStoreReplicationStatus).', [6, 1, 6, 4]) + {
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
      panel('stat', 4, 'Oldest snapshot', "Age of the oldest source's newest good snapshot; the export runs on a schedule (docs/cms-snapshots.md).", [12, 1, 6, 4]) + {
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
                  value: 7200,
                },
              ],
            },
            unit: 's',
          },
        },
        options+: {
          colorMode: 'value',
          textMode: 'auto',
        },
        targets: [
          q('max(time() - sfbex_cms_snapshot_timestamp_seconds{job=~"$job",instance=~"$instance"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 5, 'Unreadable snapshot files', 'Snapshot files that could not be read in the latest run.', [18, 1, 6, 4]) + {
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
          q('sum(sfbex_cms_snapshot_invalid_files{job=~"$job",instance=~"$instance"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 6, 'Integration settings', '', [0, 5, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 7, 'Integration checks', 'Every integration step judged from the snapshots (component/check): pass or fail. Absent when no snapshot shows it or the step does not apply to the deployment; docs/metrics.md lists what each reads.', [0, 6, 12, 12]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Result',
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
                          text: 'FAIL',
                        },
                        '1': {
                          index: 1,
                          text: 'pass',
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
              displayName: 'Result',
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
                Value: 'Result',
              },
            },
          },
        ],
        targets: [
          q('sfbex_integration_check{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('state-timeline', 8, 'Integration checks over time', 'Each integration check over time: green passing, red failing.', [12, 6, 12, 12]) + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'FAIL',
                  },
                  '1': {
                    index: 1,
                    text: 'pass',
                  },
                },
                type: 'value',
              },
            ],
          },
        },
        targets: [
          q('sfbex_integration_check{job=~"$job",instance=~"$instance"}', '{{component}}/{{check}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('row', 9, 'Edge replication', '', [0, 18, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 10, 'CMS replicas', 'Per replica: up to date, age of the last update created for it (LastUpdateCreation) and of its last status report (LastStatusReport).', [0, 19, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Up to date',
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
                options: 'Last update created',
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
                options: 'Last status report',
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
                'Value #A': 'Up to date',
                'Value #B': 'Last update created',
                'Value #C': 'Last status report',
              },
            },
          },
        ],
        targets: [
          q('sfbex_cms_replica_up_to_date{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('time() - sfbex_cms_replica_last_update_creation_timestamp_seconds{job=~"$job",instance=~"$instance"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('time() - sfbex_cms_replica_last_status_report_timestamp_seconds{job=~"$job",instance=~"$instance"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('timeseries', 11, 'Replicas behind for', "How long each out-of-date replica has been behind (absent while up to date); the agent's finding fires after SFBEX_CMS_REPLICA_STALE_AFTER.", [12, 19, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('time() - sfbex_cms_replica_behind_since_timestamp_seconds{job=~"$job",instance=~"$instance"}', '{{replica}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('row', 12, 'Snapshots', '', [0, 26, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 13, 'Snapshot sources', 'Per source (shell and server): age of the newest good snapshot and whether the newest file is invalid (stale).', [0, 27, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'Age',
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
                'Value #A': 'Age',
                'Value #B': 'Stale',
              },
            },
          },
        ],
        targets: [
          q('time() - sfbex_cms_snapshot_timestamp_seconds{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_cms_snapshot_stale{job=~"$job",instance=~"$instance"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('table', 14, 'Snapshot scripts', 'Shell, PowerShell and script version per source.', [12, 27, 12, 7]) + {
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
          q('sfbex_cms_snapshot_info{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
    ],
  )
