{
  description: 'SIP OPTIONS over TLS to every federation (_sipfederationtls._tcp), remote client (_sip._tls) and pool (_sipinternaltls._tcp) target and the configured ones: outcome, status, ms-diagnostics, Server product, round trip, certificate for SIP, mutual TLS.',
  panels: [
    {
      collapsed: false,
      gridPos: {
        h: 1,
        w: 24,
        x: 0,
        y: 0,
      },
      id: 1,
      panels: [],
      title: 'Summary',
      type: 'row',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: '1 when every federation target answers SIP OPTIONS over TLS (any status), 0 when one does not. Alert: SfbexSIPNotAnswering.',
      fieldConfig: {
        defaults: {
          color: {
            mode: 'thresholds',
          },
          mappings: [
            {
              options: {
                '0': {
                  index: 0,
                  text: 'NO',
                },
                '1': {
                  index: 1,
                  text: 'YES',
                },
              },
              type: 'value',
            },
          ],
          thresholds: {
            mode: 'absolute',
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
        overrides: [],
      },
      gridPos: {
        h: 4,
        w: 6,
        x: 0,
        y: 1,
      },
      id: 2,
      options: {
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'center',
        orientation: 'auto',
        reduceOptions: {
          calcs: [
            'lastNotNull',
          ],
          fields: '',
          values: false,
        },
        showPercentChange: false,
        textMode: 'auto',
        wideLayout: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'min(sfbex_sip_up{job=~"$job",instance=~"$instance",domain=~"$domain",service="federation"})',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
        },
      ],
      title: 'Federation Edge answers SIP',
      type: 'stat',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: 'Targets with no SIP answer in the latest run; sfbex_sip_outcome says why. Alert: SfbexSIPNotAnswering.',
      fieldConfig: {
        defaults: {
          color: {
            mode: 'thresholds',
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
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
        overrides: [],
      },
      gridPos: {
        h: 4,
        w: 6,
        x: 6,
        y: 1,
      },
      id: 3,
      options: {
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'center',
        orientation: 'auto',
        reduceOptions: {
          calcs: [
            'lastNotNull',
          ],
          fields: '',
          values: false,
        },
        showPercentChange: false,
        textMode: 'auto',
        wideLayout: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'count(sfbex_sip_up{job=~"$job",instance=~"$instance",domain=~"$domain"} == 0) or vector(0)',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
        },
      ],
      title: 'Targets not answering',
      type: 'stat',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: "Targets whose last answer's status is not in SFBEX_SIP_ACCEPT_STATUS. Alert: SfbexSIPAnswerError.",
      fieldConfig: {
        defaults: {
          color: {
            mode: 'thresholds',
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
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
        overrides: [],
      },
      gridPos: {
        h: 4,
        w: 6,
        x: 12,
        y: 1,
      },
      id: 4,
      options: {
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'center',
        orientation: 'auto',
        reduceOptions: {
          calcs: [
            'lastNotNull',
          ],
          fields: '',
          values: false,
        },
        showPercentChange: false,
        textMode: 'auto',
        wideLayout: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'count(sfbex_sip_status_accepted{job=~"$job",instance=~"$instance",domain=~"$domain"} == 0) or vector(0)',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
        },
      ],
      title: 'Error answers',
      type: 'stat',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: "Targets whose SIP certificate does not verify for the SRV target's name. Alert: SfbexSIPCertificateNotAccepted.",
      fieldConfig: {
        defaults: {
          color: {
            mode: 'thresholds',
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
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
        overrides: [],
      },
      gridPos: {
        h: 4,
        w: 6,
        x: 18,
        y: 1,
      },
      id: 5,
      options: {
        colorMode: 'background',
        graphMode: 'none',
        justifyMode: 'center',
        orientation: 'auto',
        reduceOptions: {
          calcs: [
            'lastNotNull',
          ],
          fields: '',
          values: false,
        },
        showPercentChange: false,
        textMode: 'auto',
        wideLayout: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'count(sfbex_sip_tls_verify_ok{job=~"$job",instance=~"$instance",domain=~"$domain"} == 0) or vector(0)',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
        },
      ],
      title: 'Certificates not accepted',
      type: 'stat',
    },
    {
      collapsed: false,
      gridPos: {
        h: 1,
        w: 24,
        x: 0,
        y: 5,
      },
      id: 6,
      panels: [],
      title: 'Targets',
      type: 'row',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: 'Per target and the domain whose record leads there: how the latest exchange ended (answered, unreachable, tls_failed, no_answer, incomplete, closed, malformed). The status page has the error and what to do.',
      fieldConfig: {
        defaults: {
          custom: {
            align: 'auto',
            cellOptions: {
              type: 'auto',
            },
            inspect: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 'none',
        },
        overrides: [],
      },
      gridPos: {
        h: 8,
        w: 12,
        x: 0,
        y: 6,
      },
      id: 7,
      options: {
        cellHeight: 'sm',
        footer: {
          countRows: false,
          fields: '',
          reducer: [
            'sum',
          ],
          show: false,
        },
        showHeader: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_outcome{job=~"$job",instance=~"$instance",domain=~"$domain"} == 1',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
          format: 'table',
        },
      ],
      title: 'Outcome of the latest OPTIONS',
      transformations: [
        {
          id: 'organize',
          options: {
            excludeByName: {
              Time: true,
              __name__: true,
              job: true,
              instance: true,
              Value: true,
            },
            indexByName: {},
            renameByName: {
              outcome: 'outcome',
            },
          },
        },
      ],
      type: 'table',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: "Status code of the last answer to OPTIONS per target, and stale = 1 when that answer is an earlier run's (the target does not answer now: it is kept, never zeroed).",
      fieldConfig: {
        defaults: {
          custom: {
            align: 'auto',
            cellOptions: {
              type: 'auto',
            },
            inspect: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 'none',
        },
        overrides: [],
      },
      gridPos: {
        h: 8,
        w: 12,
        x: 12,
        y: 6,
      },
      id: 8,
      options: {
        cellHeight: 'sm',
        footer: {
          countRows: false,
          fields: '',
          reducer: [
            'sum',
          ],
          show: false,
        },
        showHeader: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_status_code{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          format: 'table',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
        },
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_answer_stale{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          format: 'table',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'B',
        },
      ],
      title: 'Last answer',
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
              __name__: true,
              job: true,
              instance: true,
            },
            indexByName: {},
            renameByName: {
              'Value #A': 'status',
              'Value #B': 'stale',
            },
          },
        },
      ],
      type: 'table',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: 'The Server header of the last answer and the product family it names: RTC/7.x is Skype for Business Server 2019 or Subscription Edition, RTC/6.x 2015 (out of support), RTC/5.x Lync Server 2013.',
      fieldConfig: {
        defaults: {
          custom: {
            align: 'auto',
            cellOptions: {
              type: 'auto',
            },
            inspect: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 'none',
        },
        overrides: [],
      },
      gridPos: {
        h: 7,
        w: 12,
        x: 0,
        y: 14,
      },
      id: 9,
      options: {
        cellHeight: 'sm',
        footer: {
          countRows: false,
          fields: '',
          reducer: [
            'sum',
          ],
          show: false,
        },
        showHeader: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_server_info{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
          format: 'table',
        },
      ],
      title: 'Server and product',
      transformations: [
        {
          id: 'organize',
          options: {
            excludeByName: {
              Time: true,
              __name__: true,
              job: true,
              instance: true,
              Value: true,
            },
            indexByName: {},
            renameByName: {},
          },
        },
      ],
      type: 'table',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: "The ms-diagnostics code and reason Microsoft's servers put in an answer; runbook 'SIP answering with an error' says what the reason's words point at.",
      fieldConfig: {
        defaults: {
          custom: {
            align: 'auto',
            cellOptions: {
              type: 'auto',
            },
            inspect: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 'none',
        },
        overrides: [],
      },
      gridPos: {
        h: 7,
        w: 12,
        x: 12,
        y: 14,
      },
      id: 10,
      options: {
        cellHeight: 'sm',
        footer: {
          countRows: false,
          fields: '',
          reducer: [
            'sum',
          ],
          show: false,
        },
        showHeader: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_ms_diagnostics_info{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
          format: 'table',
        },
      ],
      title: 'ms-diagnostics of the last answers',
      transformations: [
        {
          id: 'organize',
          options: {
            excludeByName: {
              Time: true,
              __name__: true,
              job: true,
              instance: true,
              Value: true,
            },
            indexByName: {},
            renameByName: {},
          },
        },
      ],
      type: 'table',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: "Per target: the certificate's verdict for the name peers connect to (ok, name_mismatch, expired, not_yet_valid, unknown_authority, other); whether the server asked for a client certificate (federation's mutual TLS, 1) and whether the agent presented SFBEX_SIP_CLIENT_CERT (1).",
      fieldConfig: {
        defaults: {
          custom: {
            align: 'auto',
            cellOptions: {
              type: 'auto',
            },
            inspect: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 'none',
        },
        overrides: [],
      },
      gridPos: {
        h: 7,
        w: 24,
        x: 0,
        y: 21,
      },
      id: 11,
      options: {
        cellHeight: 'sm',
        footer: {
          countRows: false,
          fields: '',
          reducer: [
            'sum',
          ],
          show: false,
        },
        showHeader: true,
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_tls_verify_result{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          format: 'table',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'A',
        },
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_tls_client_cert_requested{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          format: 'table',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'B',
        },
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_tls_client_cert_sent{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          format: 'table',
          instant: true,
          legendFormat: '',
          range: false,
          refId: 'C',
        },
      ],
      title: 'Certificate and mutual TLS',
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
              __name__: true,
              job: true,
              instance: true,
              'Value #A': true,
            },
            indexByName: {},
            renameByName: {
              reason: 'verdict',
              'Value #B': 'client certificate asked',
              'Value #C': 'client certificate presented',
            },
          },
        },
      ],
      type: 'table',
    },
    {
      collapsed: false,
      gridPos: {
        h: 1,
        w: 24,
        x: 0,
        y: 28,
      },
      id: 12,
      panels: [],
      title: 'Over time',
      type: 'row',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: "From sending OPTIONS to the whole final answer, per target (the last answer's, held while a target does not answer).",
      fieldConfig: {
        defaults: {
          color: {
            mode: 'palette-classic',
          },
          custom: {
            drawStyle: 'line',
            fillOpacity: 0,
            lineWidth: 1,
            showPoints: 'never',
            spanNulls: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 's',
        },
        overrides: [],
      },
      gridPos: {
        h: 8,
        w: 12,
        x: 0,
        y: 29,
      },
      id: 13,
      options: {
        legend: {
          displayMode: 'list',
          placement: 'bottom',
          showLegend: true,
        },
        tooltip: {
          mode: 'multi',
          sort: 'none',
        },
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_rtt_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          instant: false,
          legendFormat: '{{service}} {{target}}',
          range: true,
          refId: 'A',
        },
      ],
      title: 'Round trip of OPTIONS',
      type: 'timeseries',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: 'Duration of the TLS handshake to each target.',
      fieldConfig: {
        defaults: {
          color: {
            mode: 'palette-classic',
          },
          custom: {
            drawStyle: 'line',
            fillOpacity: 0,
            lineWidth: 1,
            showPoints: 'never',
            spanNulls: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 's',
        },
        overrides: [],
      },
      gridPos: {
        h: 8,
        w: 12,
        x: 12,
        y: 29,
      },
      id: 14,
      options: {
        legend: {
          displayMode: 'list',
          placement: 'bottom',
          showLegend: true,
        },
        tooltip: {
          mode: 'multi',
          sort: 'none',
        },
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_tls_handshake_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          instant: false,
          legendFormat: '{{service}} {{target}}',
          range: true,
          refId: 'A',
        },
      ],
      title: 'TLS handshake',
      type: 'timeseries',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: '1 while a target answers SIP, 0 while it does not.',
      fieldConfig: {
        defaults: {
          color: {
            mode: 'palette-classic',
          },
          custom: {
            drawStyle: 'line',
            fillOpacity: 0,
            lineWidth: 1,
            showPoints: 'never',
            spanNulls: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 'none',
        },
        overrides: [],
      },
      gridPos: {
        h: 8,
        w: 12,
        x: 0,
        y: 37,
      },
      id: 15,
      options: {
        legend: {
          displayMode: 'list',
          placement: 'bottom',
          showLegend: true,
        },
        tooltip: {
          mode: 'multi',
          sort: 'none',
        },
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_up{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          instant: false,
          legendFormat: '{{service}} {{target}}',
          range: true,
          refId: 'A',
        },
      ],
      title: 'Answering',
      type: 'timeseries',
    },
    {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      description: 'Status of the last answer per target: a step from 200 to 403 or 504 is when the Edge began refusing or could not reach its next hop.',
      fieldConfig: {
        defaults: {
          color: {
            mode: 'palette-classic',
          },
          custom: {
            drawStyle: 'line',
            fillOpacity: 0,
            lineWidth: 1,
            showPoints: 'never',
            spanNulls: false,
          },
          mappings: [],
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
          unit: 'none',
        },
        overrides: [],
      },
      gridPos: {
        h: 8,
        w: 12,
        x: 12,
        y: 37,
      },
      id: 16,
      options: {
        legend: {
          displayMode: 'list',
          placement: 'bottom',
          showLegend: true,
        },
        tooltip: {
          mode: 'multi',
          sort: 'none',
        },
      },
      targets: [
        {
          datasource: {
            type: 'prometheus',
            uid: '${datasource}',
          },
          editorMode: 'code',
          expr: 'sfbex_sip_status_code{job=~"$job",instance=~"$instance",domain=~"$domain"}',
          instant: false,
          legendFormat: '{{service}} {{target}}',
          range: true,
          refId: 'A',
        },
      ],
      title: 'Status code',
      type: 'timeseries',
    },
  ],
}
