// The parts every sfbex dashboard shares: the data source, job and instance variables (as
// Grafana's dashboard-linter wants them), the links between the dashboards, and each panel type's
// common settings. A dashboard file says only what is its own.
function(config) {
  local ds = { type: 'prometheus', uid: '${datasource}' },

  local queryVariable(name, label, query) = {
    current: { selected: true, text: ['All'], value: ['$__all'] },
    datasource: ds,
    definition: query,
    hide: 0,
    includeAll: true,
    label: label,
    multi: true,
    name: name,
    options: [],
    query: { qryType: 1, query: query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    // Reload on a time range change: an agent added an hour ago shows up.
    refresh: 2,
    regex: '',
    sort: 1,
    type: 'query',
  },

  // A variable of a label that some series lack (e.g. domain): "All" is .* so they still show.
  variable(name, label, query):: queryVariable(name, label, query) + { allValue: '.*' },

  // job and instance: "All" is .+ (every agent), as dashboard-linter requires.
  local standardVariables = [
    {
      current: {},
      hide: 0,
      includeAll: false,
      label: 'Data source',
      multi: false,
      name: 'datasource',
      options: [],
      query: 'prometheus',
      refresh: 1,
      regex: '',
      type: 'datasource',
    },
    queryVariable('job', 'Job', 'label_values(sfbex_exporter_build_info{%s}, job)' % config.sfbexSelector) + { allValue: '.+' },
    queryVariable('instance', 'Instance', 'label_values(sfbex_exporter_build_info{job=~"$job"}, instance)') + { allValue: '.+' },
  ],

  dashboard(uid, title, description, time, refresh, variables, panels):: {
    annotations: {
      list: [{
        builtIn: 1,
        datasource: { type: 'grafana', uid: '-- Grafana --' },
        enable: true,
        hide: true,
        iconColor: 'rgba(0, 211, 255, 1)',
        name: 'Annotations & Alerts',
        type: 'dashboard',
      }],
    },
    description: description,
    // Provisioned from code: edits in Grafana would be lost at the next deployment.
    editable: false,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    links: [{
      asDropdown: true,
      icon: 'external link',
      includeVars: true,
      keepTime: true,
      tags: config.dashboardTags,
      targetBlank: false,
      title: 'sfbex dashboards',
      tooltip: '',
      type: 'dashboards',
      url: '',
    }],
    liveNow: false,
    panels: panels,
    refresh: refresh,
    schemaVersion: 39,
    tags: config.dashboardTags,
    templating: { list: standardVariables + variables },
    time: { from: time, to: 'now' },
    timepicker: {},
    timezone: config.dashboardTimezone,
    title: title,
    uid: uid,
    version: 1,
  },

  // A link from a wall-display tile to the dashboard that explains it, keeping the time range
  // and the job, instance and domain picked.
  drilldown(uid, name):: {
    links: [{
      title: 'Open the %s dashboard' % name,
      url: '/d/%s/%s?${__url_time_range}&${job:queryparam}&${instance:queryparam}&${domain:queryparam}' % [uid, uid],
    }],
  },

  local defaults = {
    bargauge: {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      fieldConfig: {
        defaults: {
          color: {
            mode: 'thresholds',
          },
          decimals: 0,
          max: 400,
          min: 0,
          thresholds: {
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
          unit: 'none',
        },
        overrides: [],
      },
      options: {
        displayMode: 'basic',
        minVizHeight: 16,
        minVizWidth: 8,
        namePlacement: 'auto',
        orientation: 'horizontal',
        reduceOptions: {
          calcs: [
            'lastNotNull',
          ],
          fields: '',
          values: false,
        },
        showUnfilled: true,
        sizing: 'auto',
        valueMode: 'color',
      },
    },
    row: {
      collapsed: false,
    },
    stat: {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      fieldConfig: {
        defaults: {
          color: {
            mode: 'thresholds',
          },
          thresholds: {
            mode: 'absolute',
          },
        },
        overrides: [],
      },
      options: {
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
        wideLayout: true,
      },
    },
    'state-timeline': {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      fieldConfig: {
        defaults: {
          color: {
            mode: 'thresholds',
          },
          custom: {
            fillOpacity: 80,
            lineWidth: 0,
          },
          thresholds: {
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
          unit: 'none',
        },
        overrides: [],
      },
      options: {
        alignValue: 'left',
        legend: {
          displayMode: 'list',
          placement: 'bottom',
          showLegend: false,
        },
        mergeValues: true,
        rowHeight: 0.9,
        showValue: 'never',
        tooltip: {
          mode: 'single',
        },
      },
    },
    table: {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      fieldConfig: {
        defaults: {
          custom: {
            align: 'auto',
            cellOptions: {
              type: 'auto',
            },
            filterable: true,
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
        },
      },
      options: {
        cellHeight: 'sm',
        footer: {
          countRows: false,
          reducer: [
            'sum',
          ],
          show: false,
        },
        showHeader: true,
      },
    },
    timeseries: {
      datasource: {
        type: 'prometheus',
        uid: '${datasource}',
      },
      fieldConfig: {
        defaults: {
          color: {
            mode: 'palette-classic',
          },
          custom: {
            drawStyle: 'line',
            fillOpacity: 10,
            lineWidth: 1,
            showPoints: 'never',
            spanNulls: false,
          },
          thresholds: {
            mode: 'absolute',
            steps: [
              {
                color: 'green',
                value: null,
              },
            ],
          },
        },
        overrides: [],
      },
      options: {
        legend: {
          calcs: [
            'lastNotNull',
            'max',
          ],
          displayMode: 'table',
          placement: 'bottom',
          showLegend: true,
        },
        tooltip: {
          mode: 'multi',
          sort: 'desc',
        },
      },
    },
  },

  panel(type, id, title, description, pos):: (if std.objectHas(defaults, type) then defaults[type] else {}) + {
    [if description != '' then 'description']: description,
    gridPos: { x: pos[0], y: pos[1], w: pos[2], h: pos[3] },
    id: id,
    title: title,
    type: type,
  },

  target(expr, legendFormat, refId):: {
    datasource: {
      type: 'prometheus',
      uid: '${datasource}',
    },
    editorMode: 'code',
  } + {
    expr: expr,
    legendFormat: legendFormat,
    refId: refId,
  },
}
