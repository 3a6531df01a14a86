// The SIP tiles of the overview's first row (probes/sip): federation Edge answering, targets not
// answering, error answers, certificates, slowest answer. Each opens the SIP dashboard.
[
  {
    datasource: {
      type: 'prometheus',
      uid: '${datasource}',
    },
    description: '1 when every federation target (_sipfederationtls._tcp) answers SIP OPTIONS over TLS, 0 when one does not, whatever its certificate. Alert: SfbexSIPNotAnswering.',
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
      w: 5,
      x: 0,
      y: 5,
    },
    id: 36,
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
    links: [
      {
        title: 'Open the SIP dashboard',
        url: '/d/sfbex-sip/sfbex-sip?${__url_time_range}&${job:queryparam}&${instance:queryparam}&${domain:queryparam}',
      },
    ],
  },
  {
    datasource: {
      type: 'prometheus',
      uid: '${datasource}',
    },
    description: 'Edge and pool targets (federation, clients, internal, configured) that give no SIP answer: refused, TLS failed, closed, silent, partial or garbage. Alert: SfbexSIPNotAnswering.',
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
      w: 5,
      x: 5,
      y: 5,
    },
    id: 37,
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
    title: 'SIP targets not answering',
    type: 'stat',
    links: [
      {
        title: 'Open the SIP dashboard',
        url: '/d/sfbex-sip/sfbex-sip?${__url_time_range}&${job:queryparam}&${instance:queryparam}&${domain:queryparam}',
      },
    ],
  },
  {
    datasource: {
      type: 'prometheus',
      uid: '${datasource}',
    },
    description: 'Targets whose last answer to OPTIONS has a status outside SFBEX_SIP_ACCEPT_STATUS (403, 504, …). Alert: SfbexSIPAnswerError (after 10 minutes).',
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
      w: 5,
      x: 10,
      y: 5,
    },
    id: 38,
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
    title: 'SIP error answers',
    type: 'stat',
    links: [
      {
        title: 'Open the SIP dashboard',
        url: '/d/sfbex-sip/sfbex-sip?${__url_time_range}&${job:queryparam}&${instance:queryparam}&${domain:queryparam}',
      },
    ],
  },
  {
    datasource: {
      type: 'prometheus',
      uid: '${datasource}',
    },
    description: 'Targets whose SIP certificate does not verify for the name peers connect to (the SRV target). Alert: SfbexSIPCertificateNotAccepted.',
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
      w: 5,
      x: 15,
      y: 5,
    },
    id: 39,
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
    title: 'SIP certs not accepted',
    type: 'stat',
    links: [
      {
        title: 'Open the SIP dashboard',
        url: '/d/sfbex-sip/sfbex-sip?${__url_time_range}&${job:queryparam}&${instance:queryparam}&${domain:queryparam}',
      },
    ],
  },
  {
    datasource: {
      type: 'prometheus',
      uid: '${datasource}',
    },
    description: 'Longest time from sending OPTIONS to the whole answer, over every target. Amber from 1 s, red from 3 s: federation partners time out.',
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
              color: 'dark-orange',
              value: 1,
            },
            {
              color: 'dark-red',
              value: 3,
            },
          ],
        },
        unit: 's',
      },
      overrides: [],
    },
    gridPos: {
      h: 4,
      w: 4,
      x: 20,
      y: 5,
    },
    id: 40,
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
        expr: 'max(sfbex_sip_rtt_seconds{job=~"$job",instance=~"$instance",domain=~"$domain"})',
        instant: true,
        legendFormat: '',
        range: false,
        refId: 'A',
      },
    ],
    title: 'Slowest SIP answer',
    type: 'stat',
    links: [
      {
        title: 'Open the SIP dashboard',
        url: '/d/sfbex-sip/sfbex-sip?${__url_time_range}&${job:queryparam}&${instance:queryparam}&${domain:queryparam}',
      },
    ],
  },
]
