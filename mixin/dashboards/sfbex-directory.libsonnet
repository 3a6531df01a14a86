function(config)
  local lib = (import 'lib.libsonnet')(config);
  local panel = lib.panel, q = lib.target;
  lib.dashboard(
    uid='sfbex-directory',
    title='Skype for Business ↔ Exchange — directory',
    description='SIP address and email address in Active Directory (seed steps 2–3): SIP proxy-address coverage per domain over time, users missing mail, address problems, and the LDAP scan.',
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
      panel('stat', 2, 'SIP proxy-address coverage', 'Per domain: share of SIP-enabled users whose proxyAddresses holds SIP:<their SIP address> (seed step 2). Amber below 95 % (SFBEX_LDAP_MIN_COVERAGE_RATIO default), red below 80 %. "other" counts SIP addresses outside the configured domains.', [0, 1, 8, 4]) + {
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
          q('sfbex_directory_sip_proxyaddress_coverage_ratio{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{domain}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 3, 'SIP-enabled users', 'Users the scan counted as SIP-enabled and active, per domain.', [8, 1, 8, 4]) + {
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
          textMode: 'auto',
        },
        targets: [
          q('sfbex_directory_users{job=~"$job",instance=~"$instance",domain=~"$domain",state="enabled"}', '{{domain}}', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('stat', 4, 'Directory scan', "Age of the last complete directory scan; a failed scan keeps the last complete one's figures (sfbex_probe_stale{probe=\"directory\"}).", [16, 1, 8, 4]) + {
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
                  value: 3600,
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
          q('max(time() - sfbex_probe_last_success_timestamp_seconds{job=~"$job",instance=~"$instance",probe="directory"})', '', 'A') + {
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 5, 'Coverage per domain over time', '', [0, 5, 24, 1]) + {
        panels: [
        ],
      },
      panel('timeseries', 6, 'SIP proxy-address coverage over time', 'Share of SIP-enabled users with the SIP proxy address, per domain, over time: a step down is usually an email address policy rewriting proxyAddresses.', [0, 6, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'percentunit',
          },
        },
        targets: [
          q('sfbex_directory_sip_proxyaddress_coverage_ratio{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{domain}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 7, 'Users missing an attribute', 'SIP-enabled users without the SIP proxy address or without mail, per domain.', [12, 6, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('sfbex_directory_users_missing_attribute{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{attribute}} {{domain}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 8, 'Users per state', 'Users with a SIP address per domain and state (enabled, sip_disabled, account_disabled).', [0, 14, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('sfbex_directory_users{job=~"$job",instance=~"$instance",domain=~"$domain"}', '{{state}} {{domain}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('table', 9, 'Address problems per domain', 'Per domain: users whose primary SMTP address differs from the SIP address, SIP addresses not in the form sip:user@domain, and SIP addresses held by more than one user.', [12, 14, 12, 8]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
          overrides: [
            {
              matcher: {
                id: 'byName',
                options: 'SIP ≠ SMTP',
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
                options: 'Invalid',
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
                options: 'Duplicates',
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
                'Value #A': 'SIP ≠ SMTP',
                'Value #B': 'Invalid',
                'Value #C': 'Duplicates',
              },
            },
          },
        ],
        targets: [
          q('sfbex_directory_sip_smtp_mismatch{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'A') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_directory_sip_address_invalid{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'B') + {
            format: 'table',
            instant: true,
            range: false,
          },
          q('sfbex_directory_sip_address_duplicates{job=~"$job",instance=~"$instance",domain=~"$domain"}', '', 'C') + {
            format: 'table',
            instant: true,
            range: false,
          },
        ],
      },
      panel('row', 10, 'Scan', '', [0, 22, 24, 1]) + {
        panels: [
        ],
      },
      panel('timeseries', 11, 'Scan duration', 'Duration of the last complete LDAP scan (paged search over SIP-enabled users).', [0, 23, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 's',
          },
        },
        targets: [
          q('sfbex_directory_scan_duration_seconds{job=~"$job",instance=~"$instance"}', '{{instance}}', 'A') + {
            instant: false,
            range: true,
          },
        ],
      },
      panel('timeseries', 12, 'Entries and pages read', 'Entries and pages the last complete scan read.', [12, 23, 12, 7]) + {
        fieldConfig+: {
          defaults+: {
            unit: 'none',
          },
        },
        targets: [
          q('sfbex_directory_scan_entries{job=~"$job",instance=~"$instance"}', 'entries {{instance}}', 'A') + {
            instant: false,
            range: true,
          },
          q('sfbex_directory_scan_pages{job=~"$job",instance=~"$instance"}', 'pages {{instance}}', 'B') + {
            instant: false,
            range: true,
          },
        ],
      },
    ],
  )
