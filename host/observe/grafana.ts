// Grafana dashboards (JSON) for the mesh, a service and a workload, over Istio's metric and label
// names (so they read an Istio mesh's Prometheus and ours alike), plus the SLO rules' series.
// `npm run gen:grafana` writes them to envoy/grafana/; test/dashboard checks the files are current
// and that every query returns data from the demo mesh's Prometheus.
export interface Panel {
  title: string;
  unit: string;
  exprs: { expr: string; legend: string }[];
}
export interface DashboardSpec {
  uid: string;
  title: string;
  /** Grafana query variables; `regex` cuts each query_result() line to the value (as Istio's dashboards do). */
  variables: { name: string; query: string; regex?: string }[];
  panels: Panel[];
}

const RATE = '$__rate_interval';
const req = (sel: string) => `istio_requests_total{${sel}}`;
const quantiles = (sel: string, by: string) =>
  [0.5, 0.9, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(istio_request_duration_milliseconds_bucket{${sel}}[${RATE}])))`,
    legend: `P${q * 100}${by ? ` {{${by}}}` : ''}`,
  }));

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'asmesh-mesh',
    title: 'asmesh / Mesh',
    variables: [],
    panels: [
      {
        title: 'Global request volume',
        unit: 'reqps',
        exprs: [{ expr: `round(sum(rate(${req('reporter="source"')}[${RATE}])), 0.001)`, legend: 'requests' }],
      },
      {
        title: 'Global success rate (non-5xx)',
        unit: 'percentunit',
        exprs: [
          {
            expr: `sum(rate(${req('reporter="source",response_code!~"5.*"')}[${RATE}])) / sum(rate(${req('reporter="source"')}[${RATE}]))`,
            legend: 'success',
          },
        ],
      },
      {
        title: '4xx and 5xx',
        unit: 'reqps',
        exprs: [
          { expr: `sum(rate(${req('reporter="source",response_code=~"4.*"')}[${RATE}])) or vector(0)`, legend: '4xx' },
          { expr: `sum(rate(${req('reporter="source",response_code=~"5.*"')}[${RATE}])) or vector(0)`, legend: '5xx' },
        ],
      },
      {
        title: 'Requests by service and workload',
        unit: 'reqps',
        exprs: [
          {
            expr: `sum by (destination_service, destination_workload, destination_workload_namespace) (rate(${req('reporter="destination"')}[${RATE}]))`,
            legend: '{{destination_service}} {{destination_workload}}.{{destination_workload_namespace}}',
          },
        ],
      },
      { title: 'Latency by workload', unit: 'ms', exprs: quantiles('reporter="destination"', 'destination_workload') },
      { title: 'SLO error budget left', unit: 'percentunit', exprs: [{ expr: 'slo:error_budget_remaining:ratio', legend: '{{slo}}' }] },
      {
        title: 'SLO burn rate (1h)',
        unit: 'none',
        exprs: [{ expr: 'slo:sli_error:ratio_rate1h / on (slo) group_left () (1 - slo:objective:ratio)', legend: '{{slo}}' }],
      },
    ],
  },
  {
    uid: 'asmesh-service',
    title: 'asmesh / Service',
    variables: [{ name: 'service', query: 'label_values(istio_requests_total{reporter="destination"}, destination_service)' }],
    panels: [
      {
        title: 'Client request volume',
        unit: 'reqps',
        exprs: [
          { expr: `round(sum(rate(${req('reporter="source",destination_service=~"$service"')}[${RATE}])), 0.001)`, legend: 'requests' },
        ],
      },
      {
        title: 'Server success rate (non-5xx)',
        unit: 'percentunit',
        exprs: [
          {
            expr: `sum(rate(${req('reporter="destination",destination_service=~"$service",response_code!~"5.*"')}[${RATE}])) / sum(rate(${req('reporter="destination",destination_service=~"$service"')}[${RATE}]))`,
            legend: 'success',
          },
        ],
      },
      {
        title: 'Requests by source and response code',
        unit: 'reqps',
        exprs: [
          {
            expr: `sum by (source_workload, source_workload_namespace, response_code) (rate(${req('reporter="destination",destination_service=~"$service"')}[${RATE}]))`,
            legend: '{{source_workload}}.{{source_workload_namespace}} {{response_code}}',
          },
        ],
      },
      { title: 'Server request duration', unit: 'ms', exprs: quantiles('reporter="destination",destination_service=~"$service"', '') },
      {
        title: 'mTLS share',
        unit: 'percentunit',
        exprs: [
          {
            expr: `sum(rate(${req('reporter="destination",destination_service=~"$service",connection_security_policy="mutual_tls"')}[${RATE}])) / sum(rate(${req('reporter="destination",destination_service=~"$service"')}[${RATE}]))`,
            legend: 'mTLS',
          },
        ],
      },
      {
        title: 'Request and response sizes (P90)',
        unit: 'bytes',
        exprs: [
          {
            expr: `histogram_quantile(0.9, sum by (le) (rate(istio_request_bytes_bucket{reporter="destination",destination_service=~"$service"}[${RATE}])))`,
            legend: 'request',
          },
          {
            expr: `histogram_quantile(0.9, sum by (le) (rate(istio_response_bytes_bucket{reporter="destination",destination_service=~"$service"}[${RATE}])))`,
            legend: 'response',
          },
        ],
      },
    ],
  },
  {
    uid: 'asmesh-workload',
    title: 'asmesh / Workload',
    variables: [
      { name: 'namespace', query: 'label_values(istio_requests_total, destination_workload_namespace)' },
      // Workloads that serve or call (service_a only calls): both label names, as Istio's workload dashboard.
      {
        name: 'workload',
        query:
          'query_result(sum by (destination_workload) (istio_requests_total{destination_workload_namespace=~"$namespace"}) or sum by (source_workload) (istio_requests_total{source_workload_namespace=~"$namespace"}))',
        regex: '/.*workload="([^"]*).*/',
      },
    ],
    panels: [
      {
        title: 'Incoming request volume',
        unit: 'reqps',
        exprs: [
          {
            expr: `round(sum(rate(${req('reporter="destination",destination_workload_namespace=~"$namespace",destination_workload=~"$workload"')}[${RATE}])), 0.001)`,
            legend: 'requests',
          },
        ],
      },
      {
        title: 'Incoming success rate (non-5xx)',
        unit: 'percentunit',
        exprs: [
          {
            expr: `sum(rate(${req('reporter="destination",destination_workload_namespace=~"$namespace",destination_workload=~"$workload",response_code!~"5.*"')}[${RATE}])) / sum(rate(${req('reporter="destination",destination_workload_namespace=~"$namespace",destination_workload=~"$workload"')}[${RATE}]))`,
            legend: 'success',
          },
        ],
      },
      {
        title: 'Incoming requests by source and response code',
        unit: 'reqps',
        exprs: [
          {
            expr: `sum by (source_workload, source_workload_namespace, response_code, connection_security_policy) (rate(${req('reporter="destination",destination_workload_namespace=~"$namespace",destination_workload=~"$workload"')}[${RATE}]))`,
            legend: '{{source_workload}} {{response_code}} {{connection_security_policy}}',
          },
        ],
      },
      {
        title: 'Incoming request duration',
        unit: 'ms',
        exprs: quantiles('reporter="destination",destination_workload_namespace=~"$namespace",destination_workload=~"$workload"', ''),
      },
      {
        title: 'Outgoing requests by destination (as the client reports)',
        unit: 'reqps',
        exprs: [
          {
            expr: `sum by (destination_service, destination_workload, response_code) (rate(${req('reporter="source",source_workload_namespace=~"$namespace",source_workload=~"$workload"')}[${RATE}]))`,
            legend: '{{destination_service}} {{destination_workload}} {{response_code}}',
          },
        ],
      },
    ],
  },
];

/** A Grafana dashboard model (schema 39) for one spec; the datasource is a variable, as Istio's. */
export function grafanaDashboard(d: DashboardSpec): Record<string, unknown> {
  const ds = { type: 'prometheus', uid: '${datasource}' };
  return {
    uid: d.uid,
    title: d.title,
    tags: ['asmesh', 'istio'],
    schemaVersion: 39,
    editable: true,
    time: { from: 'now-15m', to: 'now' },
    refresh: '10s',
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
        ...d.variables.map((v) => ({
          name: v.name,
          type: 'query',
          datasource: ds,
          query: v.query,
          ...(v.regex ? { regex: v.regex } : {}),
          refresh: 2,
          includeAll: false,
          multi: false,
          sort: 1,
        })),
      ],
    },
    panels: d.panels.map((p, i) => ({
      id: i + 1,
      type: 'timeseries',
      title: p.title,
      datasource: ds,
      gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: p.exprs.map((e, j) => ({ refId: String.fromCharCode(65 + j), datasource: ds, expr: e.expr, legendFormat: e.legend })),
    })),
  };
}

export const grafanaFile = (d: DashboardSpec) => `envoy/grafana/${d.uid}.json`;
