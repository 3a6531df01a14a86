function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  lib.dashboard(
    uid='sfbex-agent',
    title='Skype for Business ↔ Exchange — agent',
    description="The agent's own health: checks, probe durations, failures and stale data, scrape cost, memory and CPU.",
    time='now-6h',
    refresh='1m',
    variables=[
      lib.variable('domain', 'Domain', 'label_values(sfbex_dns_record_required{job=~"$job", instance=~"$instance"}, domain)'),
    ],
    panels=[
      panel('row', 1, 'Agent', '', [0, 0, 24, 1]) + {
        panels: [
        ],
      },
      panel('stat', 2, 'Scraped', "Prometheus' up for each selected agent.", [0, 1, 4, 4]) + {
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
      panel('stat', 3, 'Checks failing', 'Checks whose latest run returned an error (sfbex_probe_success 0).', [4, 1, 4, 4]) + {
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
      panel('stat', 4, 'Checks with stale data', 'Checks whose data is partly from an earlier run because the latest one failed (sfbex_probe_stale).', [8, 1, 4, 4]) + {
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
          q('sum(sfbex_probe_stale{job=~"$job",instance=~"$instance"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 5, 'Uptime', 'Time since the agent process started; counters restart from 0 with it.', [12, 1, 4, 4]) + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-blue',
                  value: null,
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
          q('min(time() - process_start_time_seconds{job=~"$job",instance=~"$instance"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 6, 'Version', 'sfbex_exporter version per agent (build info).', [16, 1, 4, 4]) + {
        fieldConfig+: {
          defaults+: {
            mappings: [],
            thresholds+: {
              steps: [
                {
                  color: 'dark-blue',
                  value: null,
                },
              ],
            },
            unit: 'none',
          },
        },
        options+: {
          colorMode: 'value',
          textMode: 'name',
        },
        targets: [
          q('count by (version) (sfbex_exporter_build_info{job=~"$job",instance=~"$instance"})', '{{version}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 7, 'Lab mode', 'LAB when an agent runs its built-in simulated estate (--lab): its data is not a real deployment.', [20, 1, 4, 4]) + {
        fieldConfig+: {
          defaults+: {
            mappings: [
              {
                options: {
                  '0': {
                    index: 0,
                    text: 'real',
                  },
                  '1': {
                    index: 1,
                    text: 'LAB',
                  },
                },
                type: 'value',
              },
            ],
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
          q('max(sfbex_lab_mode{job=~"$job",instance=~"$instance"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 8, 'Per check', '', [0, 5, 24, 1]) + {
        panels: [
        ],
      },
      panel('table', 9, 'Checks', "Every check (probe family and target): latest run succeeded, stale, age of the data shown, the interval it should run at, and the latest run's duration.", [0, 6, 14, 8]) + {
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
            {
              matcher: {
                id: 'byName',
                options: 'Interval',
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
                'Value #B': 'Stale',
                'Value #C': 'Data age',
                'Value #D': 'Interval',
                'Value #E': 'Duration',
              },
            },
          },
        ],
        targets: [
          q('sfbex_probe_success{job=~"$job",instance=~"$instance"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_probe_stale{job=~"$job",instance=~"$instance"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('time() - sfbex_probe_last_success_timestamp_seconds{job=~"$job",instance=~"$instance"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_probe_interval_seconds{job=~"$job",instance=~"$instance"}', '', 'D') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_probe_duration_seconds{job=~"$job",instance=~"$instance"}', '', 'E') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('timeseries', 10, 'Findings per check', "Problems with the estate each check's current result shows, by severity (what sfbex_exporter check prints).", [14, 6, 10, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('sum by (probe, target, severity) (sfbex_probe_findings{job=~"$job",instance=~"$instance"})', '{{probe}}/{{target}} {{severity}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 11, 'Probe duration', "Wall time of each check's latest run; a DNS run near SFBEX_DNS_TIMEOUT is about to fail.", [0, 14, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('sfbex_probe_duration_seconds{job=~"$job",instance=~"$instance"}', '{{probe}}/{{target}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 12, 'Failed runs', 'Failed runs per check in each interval (increase of sfbex_probe_failures_total).', [12, 14, 6, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('increase(sfbex_probe_failures_total{job=~"$job",instance=~"$instance"}[$__rate_interval])', '{{probe}}/{{target}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 13, 'Runs per second', 'How often each check actually runs.', [18, 14, 6, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'ops',
          },
        },
        targets: [
          q('rate(sfbex_probe_runs_total{job=~"$job",instance=~"$instance"}[$__rate_interval])', '{{probe}}/{{target}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 14, 'Data age', 'Time since each check last succeeded, against three intervals (the stale threshold).', [0, 22, 24, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('time() - sfbex_probe_last_success_timestamp_seconds{job=~"$job",instance=~"$instance"}', '{{probe}}/{{target}}', 'A') + {
            instant: false,
            range: true,
          },
          q('max(3 * sfbex_probe_interval_seconds{job=~"$job",instance=~"$instance"})', '3 × longest interval', 'B') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('row', 15, 'Scrape cost and process', '', [0, 29, 24, 1]) + {
        panels: [
        ],
      },
      panel('timeseries', 16, 'Scrape duration', 'How long Prometheus takes to scrape the agent (scrape_duration_seconds). A scrape only serves stored results, so this should stay in milliseconds.', [0, 30, 8, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('scrape_duration_seconds{job=~"$job",instance=~"$instance"}', '{{instance}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 17, 'Samples per scrape', 'Series the agent exposes per scrape (scrape_samples_scraped): grows with domains, resolvers and certificates.', [8, 30, 8, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('scrape_samples_scraped{job=~"$job",instance=~"$instance"}', '{{instance}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 18, 'CPU', 'CPU time the agent uses per second (1 = one core).', [16, 30, 8, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'percentunit',
          },
        },
        targets: [
          q('rate(process_cpu_seconds_total{job=~"$job",instance=~"$instance"}[$__rate_interval])', '{{instance}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 19, 'Memory', 'Resident memory of the process and the Go heap in use.', [0, 37, 8, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'bytes',
          },
        },
        targets: [
          q('process_resident_memory_bytes{job=~"$job",instance=~"$instance"}', 'resident {{instance}}', 'A') + {
            instant: false,
            range: true,
          },
          q('go_memstats_heap_inuse_bytes{job=~"$job",instance=~"$instance"}', 'heap in use {{instance}}', 'B') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 20, 'Goroutines and threads', 'Goroutines and OS threads: a steady climb is a leak.', [8, 37, 8, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('go_goroutines{job=~"$job",instance=~"$instance"}', 'goroutines {{instance}}', 'A') + {
            instant: false,
            range: true,
          },
          q('go_threads{job=~"$job",instance=~"$instance"}', 'threads {{instance}}', 'B') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 21, 'Open file descriptors', 'Open file descriptors against the limit.', [16, 37, 8, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('process_open_fds{job=~"$job",instance=~"$instance"}', 'open {{instance}}', 'A') + {
            instant: false,
            range: true,
          },
          q('process_max_fds{job=~"$job",instance=~"$instance"}', 'max {{instance}}', 'B') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 22, 'GC pause time', 'Time spent in garbage collection pauses per second.', [0, 44, 24, 6]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'percentunit',
          },
        },
        targets: [
          q('rate(go_gc_duration_seconds_sum{job=~"$job",instance=~"$instance"}[$__rate_interval])', '{{instance}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
    ],
  )
