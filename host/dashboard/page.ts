// The dashboard page: plain HTML, CSS and JS drawing SVG, no framework. It polls /api/state
// (host/dashboard/state.ts) every 2 s and redraws: topology, per-service panels, SLOs, access log.
// Every drawn number also sits in a data- attribute at full precision, for tests and scripts.
export const PAGE = String.raw`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>asmesh dashboard</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
header { background: #1d2330; color: #fff; padding: 8px 16px; display: flex; gap: 16px; align-items: baseline; }
header h1 { font-size: 16px; margin: 0; } header span { opacity: .75; }
main { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; padding: 12px; }
section { background: #fff; border: 1px solid #dde1e7; border-radius: 6px; padding: 8px 12px; }
section h2 { font-size: 14px; margin: 4px 0 8px; } #topology-section, #logs-section { grid-column: 1 / span 2; }
.node circle { fill: #e8f0fe; stroke: #3b6fd8; stroke-width: 2; } .node text { font-weight: 600; }
.edge line { stroke: #3b6fd8; stroke-width: 2; marker-end: url(#arrow); } .edge.failing line { stroke: #d93025; }
.edge text { font-size: 11px; fill: #333; } .edge.failing text.err { fill: #d93025; font-weight: 600; }
.slo { border-left: 6px solid #1e8e3e; padding: 4px 8px; margin-bottom: 8px; } .slo.bad { border-color: #d93025; background: #fce8e6; }
.slo .state { font-weight: 700; } .slo.ok .state { color: #1e8e3e; } .slo.bad .state { color: #d93025; }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: 2px 6px; border-bottom: 1px solid #eee; white-space: nowrap; }
td.s5 { color: #d93025; font-weight: 600; } td.s4 { color: #b06000; } .panel { display: inline-block; margin: 0 12px 8px 0; vertical-align: top; }
.panel polyline { fill: none; stroke: #3b6fd8; stroke-width: 1.5; } .panel.errors polyline { stroke: #d93025; } .muted { color: #777; }
</style></head>
<body data-renders="0">
<header><h1>asmesh dashboard</h1><span id="source"></span><span id="updated"></span></header>
<main>
<section id="topology-section"><h2>Service topology <span class="muted" id="window"></span></h2>
<svg id="topology" width="1100" height="300" viewBox="0 0 1100 300"><defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#3b6fd8"/></marker></defs><g id="edges"></g><g id="nodes"></g></svg></section>
<section><h2>Services</h2><div id="services"></div></section>
<section><h2>SLOs</h2><div id="slos"></div></section>
<section id="logs-section"><h2>Access log</h2>
<label>service <select id="f-service"><option value="">all</option></select></label>
<label>status <input id="f-status" size="6" placeholder="5xx, 403"></label>
<table><thead><tr><th>time</th><th>sidecar</th><th>source → destination</th><th>request</th><th>status</th><th>ms</th><th>trace id</th></tr></thead><tbody id="logs"></tbody></table></section>
</main>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const ms = (v) => v === null ? 'n/a' : v < 10 ? v.toFixed(2) : v.toFixed(0);
const pct = (v, d = 2) => v === null ? 'n/a' : (v * 100).toFixed(d) + '%';
let last = null;

function layers(nodes, edges) {
  const layer = new Map(nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < nodes.length; i++) for (const e of edges) if (e.source !== e.destination) layer.set(e.destination, Math.max(layer.get(e.destination), Math.min(layer.get(e.source) + 1, nodes.length)));
  return layer;
}

function drawTopology(s) {
  const layer = layers(s.nodes, s.edges);
  const cols = new Map();
  for (const n of s.nodes) { const l = layer.get(n.id); cols.set(l, [...(cols.get(l) ?? []), n]); }
  const pos = new Map();
  for (const [l, ns] of cols) ns.forEach((n, i) => pos.set(n.id, { x: 90 + l * 420, y: (280 / (ns.length + 1)) * (i + 1) }));
  $('nodes').innerHTML = s.nodes.map((n) => { const p = pos.get(n.id);
    return '<g class="node" data-id="' + esc(n.id) + '" data-workload="' + esc(n.workload) + '" data-namespace="' + esc(n.namespace) + '"><circle cx="' + p.x + '" cy="' + p.y + '" r="26"/>' +
      '<text x="' + p.x + '" y="' + (p.y + 42) + '" text-anchor="middle">' + esc(n.workload) + '</text><text class="muted" x="' + p.x + '" y="' + (p.y + 55) + '" text-anchor="middle">' + esc(n.namespace) + '</text></g>'; }).join('');
  $('edges').innerHTML = s.edges.map((e) => { const a = pos.get(e.source), b = pos.get(e.destination);
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1, ux = dx / len, uy = dy / len;
    const x1 = a.x + ux * 28, y1 = a.y + uy * 28, x2 = b.x - ux * 30, y2 = b.y - uy * 30, mx = (x1 + x2) / 2, my = (y1 + y2) / 2 + (dy < 0 ? -44 : dy > 0 ? 14 : -30);
    const failing = e.errorRate > 0.05;
    const attrs = ' data-source="' + esc(e.source) + '" data-destination="' + esc(e.destination) + '" data-service="' + esc(e.service) + '" data-rps="' + e.rps + '" data-error-rate="' + e.errorRate +
      '" data-p50="' + e.p50 + '" data-p90="' + e.p90 + '" data-p99="' + e.p99 + '" data-mtls="' + e.mtls + '"';
    return '<g class="edge' + (failing ? ' failing' : '') + '"' + attrs + '><line x1="' + x1 + '" y1="' + y1 + '" x2="' + x2 + '" y2="' + y2 + '"/>' +
      '<text x="' + mx + '" y="' + my + '" text-anchor="middle"><tspan class="rps">' + e.rps.toFixed(2) + ' rps</tspan> · <tspan class="err">' + pct(e.errorRate, 1) + ' 5xx</tspan></text>' +
      '<text x="' + mx + '" y="' + (my + 13) + '" text-anchor="middle" class="lat">p50 ' + ms(e.p50) + ' · p90 ' + ms(e.p90) + ' · p99 ' + ms(e.p99) + ' ms</text>' +
      '<text x="' + mx + '" y="' + (my + 26) + '" text-anchor="middle" class="mtls">' + (e.mtls === 'mutual_tls' ? 'mTLS' : e.mtls === 'none' ? 'plaintext' : 'mixed mTLS') + '</text></g>'; }).join('');
  if (!s.nodes.length) $('nodes').innerHTML = '<text x="20" y="40" class="muted">no traffic in the last ' + esc(s.rateWindow) + '</text>';
}

function spark(points, cls, label, unit) {
  const w = 220, h = 60;
  if (!points.length) return '<div class="panel ' + cls + '"><div>' + label + '</div><svg width="' + w + '" height="' + h + '"></svg><div class="muted">no data</div></div>';
  const t0 = points[0][0], t1 = points[points.length - 1][0] || t0 + 1, max = Math.max(...points.map((p) => p[1]), 1e-9);
  const xy = points.map(([t, v]) => ((t - t0) / Math.max(t1 - t0, 1) * w).toFixed(1) + ',' + (h - v / max * (h - 4) - 2).toFixed(1)).join(' ');
  const now = points[points.length - 1][1];
  return '<div class="panel ' + cls + '"><div>' + label + ': <b>' + (unit === 'ms' ? ms(now) : now.toFixed(2)) + '</b> ' + unit + '</div><svg width="' + w + '" height="' + h + '"><polyline points="' + xy + '"/></svg></div>';
}

function drawServices(s) {
  $('services').innerHTML = s.services.map((v) => '<div class="service" data-service="' + esc(v.service) + '"><b>' + esc(v.service) + '</b><br>' +
    spark(v.rps, 'rps', 'requests', 'rps') + spark(v.errors, 'errors', '5xx', 'rps') + spark(v.p99, 'p99', 'p99', 'ms') + '</div>').join('') || '<span class="muted">no services yet</span>';
}

function drawSlos(s) {
  $('slos').innerHTML = s.slos.map((o) => {
    const bad = o.firing.length > 0 || (o.budgetLeft !== null && o.budgetLeft <= 0);
    return '<div class="slo ' + (bad ? 'bad' : 'ok') + '" data-slo="' + esc(o.slo) + '" data-firing="' + o.firing.length + '" data-sli-now="' + o.sliNow + '" data-budget-left="' + o.budgetLeft + '">' +
      '<span class="state">' + (bad ? 'BREACHING' : 'OK') + '</span> <b>' + esc(o.slo) + '</b> target ' + pct(o.target, 2) + ' over ' + esc(o.window) + '<br>' +
      'SLI (5m) <b class="sli">' + pct(o.sliNow, 2) + '</b> · error budget left <b class="budget">' + pct(o.budgetLeft, 1) + '</b><br>burn rate ' +
      Object.entries(o.burn).map(([w, v]) => w + ' <b>' + (v === null ? 'n/a' : v.toFixed(1) + 'x') + '</b>').join(' · ') +
      (o.firing.length ? '<br>firing: ' + o.firing.map((a) => '<span class="alert">' + esc(a.severity) + ' ' + esc(a.long_window) + '/' + esc(a.short_window) + ' &gt; ' + esc(a.burn_rate) + 'x</span>').join(', ') : '') + '</div>';
  }).join('') || '<span class="muted">no SLO rules loaded</span>';
}

// ?service=<workload>&status=<code|5xx> preselect the access-log filters (links, tests).
const params = new URLSearchParams(location.search);
let wantService = params.get('service') ?? '';
$('f-status').value = params.get('status') ?? '';

function drawLogs(s) {
  const sel = $('f-service'), chosen = sel.value || wantService;
  wantService = '';
  const names = [...new Set(s.logs.flatMap((l) => [l.source_workload, l.destination_workload]).filter((x) => x && x !== 'unknown'))].sort();
  sel.innerHTML = '<option value="">all</option>' + names.map((n) => '<option' + (n === chosen ? ' selected' : '') + '>' + esc(n) + '</option>').join('');
  const st = $('f-status').value.trim().toLowerCase();
  const keep = (l) => (!chosen || l.source_workload === chosen || l.destination_workload === chosen) &&
    (!st || (/^[1-5]xx$/.test(st) ? String(l.response_code)[0] === st[0] : String(l.response_code) === st));
  $('logs').innerHTML = s.logs.filter(keep).slice(-100).reverse().map((l) => '<tr class="log" data-status="' + esc(l.response_code) + '" data-flags="' + esc(l.response_flags) + '" data-sidecar="' + esc(l.sidecar) + '" data-source="' + esc(l.source_workload) + '" data-destination="' + esc(l.destination_workload) + '" data-trace-id="' + esc(l.trace_id) + '"><td>' + esc(l.start_time) + '</td><td>' + esc(l.sidecar) + '</td><td>' +
    esc(l.source_workload) + ' → ' + esc(l.destination_workload) + '</td><td>' + esc(l.method) + ' ' + esc(l.path) + '</td><td class="s' + String(l.response_code)[0] + '">' + esc(l.response_code) + '</td><td>' +
    esc(l.duration) + '</td><td><code>' + esc(l.trace_id) + '</code></td></tr>').join('');
}

function render(s) {
  last = s;
  $('source').textContent = s.note;
  $('updated').textContent = 'at ' + new Date(s.time * 1000).toISOString();
  $('window').textContent = '(rates over ' + s.rateWindow + ', reporter=destination)';
  drawTopology(s); drawServices(s); drawSlos(s); drawLogs(s);
  document.body.dataset.time = String(s.time);
  document.body.dataset.renders = String(Number(document.body.dataset.renders) + 1);
}

async function poll() {
  try { render(await (await fetch('api/state' + location.search)).json()); } catch (e) { $('updated').textContent = 'update failed: ' + e; }
  setTimeout(poll, 2000);
}
$('f-service').onchange = $('f-status').oninput = () => last && drawLogs(last);
poll();
</script></body></html>`;
