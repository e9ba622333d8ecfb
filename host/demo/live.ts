// The demo's live part: under steady keep-alive load through service_a, the Istio YAML every sidecar
// watches is edited (canary 95/5 -> 50/50 -> 0/100, a DENY policy) and the service_b sidecars'
// certificates are renewed; per step: the measured split, the time until Envoy applied it, the
// failed requests (errors, resets, 5xx: none expected). The files are put back at the end.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { Load, withinBinomial } from '../live/load.ts';
import type { ApplyReport, LiveSidecar } from '../live/sidecar.ts';
import { until } from '../until.ts';
import type { Check } from './demo.ts';
import type { Mesh } from './mesh.ts';

/** Requests per measured split (binomial bound, 4.5 sd). */
const WINDOW = 300;

const VS = 'virtualservice.yaml';
const DENY = 'live-deny.yaml';
const denyBeta = `# Added by the demo's live part: GET /info/beta is denied from now on.
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-beta
  namespace: default
spec:
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/info/beta"]
`;

/** The demo VirtualService with the canary route's weights set. */
function canary(text: string, v1: number, v2: number): string {
  const out = text.replace(
    /(subset: v1\n\s+weight: )\d+(\n\s+- destination:\n\s+host: service_b\n\s+subset: v2\n\s+weight: )\d+/,
    `$1${v1}$2${v2}`,
  );
  if (out === text && !text.includes(`weight: ${v1}`)) throw new Error(`${VS}: the canary route's weights not found`);
  return out;
}

export async function runLive(mesh: Mesh, progress: (s: string) => void): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => {
    checks.push(c);
    progress(`${c.ok === null ? 'SKIP' : c.ok ? 'PASS' : 'FAIL'} ${c.group}: ${c.name}: ${c.detail}`);
  };
  const lives = [mesh.sidecars.a.live, mesh.sidecars.v1.live, mesh.sidecars.v2.live];
  const pids = lives.map((l) => l.envoy.pid);
  const original = readFileSync(join(mesh.istioDir, VS), 'utf8');
  const save = (name: string, text: string | null) => {
    const path = join(mesh.istioDir, name);
    if (text === null) rmSync(path, { force: true });
    else {
      writeFileSync(`${path}.swp`, text);
      renameSync(`${path}.swp`, path);
    }
  };
  /** Edits the directory; waits for every sidecar to apply it; `ms`: from the save until `which` had it applied. */
  const edit = async (name: string, text: string | null, which: LiveSidecar): Promise<{ ms: number; report: ApplyReport }> => {
    const counts = lives.map((l) => l.reports.length);
    const mine = counts[lives.indexOf(which)]!;
    const at = Date.now();
    save(name, text);
    // The watcher's debounce, translate, the pre-check and Envoy's update_success, as the watcher reports it.
    const report = await until(() => which.reports.length > mine && which.reports.at(-1), 20_000, `${name} applied`, 2);
    const ms = Date.now() - at;
    await until(() => lives.every((l, i) => l.reports.length > counts[i]!), 20_000, `every sidecar to apply ${name}`);
    return { ms, report };
  };

  const token = mesh.issuer.token({}, 3 * 3600);
  // One client: the DestinationRule allows service_a's sidecar 1 connection (1 request each) + 1 pending per subset.
  const load = new Load({
    url: mesh.serviceA,
    host: 'service_b',
    paths: ['/info', '/info/beta'],
    concurrency: 1,
    headers: { authorization: `Bearer ${token}` },
  });
  try {
    progress(`live: steady load through service_a (a keep-alive client); editing ${mesh.istioDir}`);
    let failedBefore = 0;
    const failedSince = () => {
      const n = load.failures().length;
      const d = n - failedBefore;
      failedBefore = n;
      return d;
    };
    for (const [w1, w2] of [
      [95, 5],
      [50, 50],
      [0, 100],
    ] as const) {
      let applied = 'as started';
      let ok = true;
      if (w1 !== 95) {
        const e = await edit(VS, canary(original, w1, w2), mesh.sidecars.a.live);
        ok = e.report.ok;
        applied = `applied in ${e.ms} ms (${e.report.applied.map((a) => `${a.kind} ${a.name}`).join(', ') || e.report.errors.join('; ')})`;
      }
      // Workers take a new filter configuration just after the main thread's update_success.
      const from = Date.now() + 100;
      const window = (await load.collect(from, WINDOW * 2)).filter((s) => s.path === '/info');
      const v2 = window.filter((s) => s.servedBy === 'service_b/v2').length;
      const other = window.filter((s) => !s.servedBy.startsWith('service_b/')).length;
      const failed = failedSince();
      add({
        group: 'live',
        name: `canary ${w1}/${w2} under load`,
        ok: ok && other === 0 && failed === 0 && withinBinomial(v2, window.length, w2 / 100),
        detail: `v2 ${v2} of ${window.length} (${((v2 / window.length) * 100).toFixed(1)}%); ${applied}; failed requests ${failed}`,
      });
    }

    // A policy change: DENY GET /info/beta, taking effect on service_b's sidecars.
    const beforeDeny = await load.collect(Date.now(), 20);
    const allowed = beforeDeny.filter((s) => s.path === '/info/beta' && s.status === 200).length;
    const at = Date.now();
    const e = await edit(DENY, denyBeta, mesh.sidecars.v2.live);
    const first = await until(
      () => load.samples.find((s) => s.start >= at && s.path === '/info/beta' && s.status === 403),
      10_000,
      'a 403',
    );
    const after = await load.collect(first.end + 200, 100);
    const beta = after.filter((s) => s.path === '/info/beta');
    const info = after.filter((s) => s.path === '/info');
    const failed = failedSince();
    add({
      group: 'live',
      name: 'DENY /info/beta (AuthorizationPolicy added) under load',
      ok: e.report.ok && allowed > 0 && beta.every((s) => s.status === 403) && info.every((s) => s.status === 200) && failed === 0,
      detail: `applied in ${e.ms} ms, first 403 ${first.end - at} ms after the save; then /info/beta ${beta.filter((s) => s.status === 403).length}/${beta.length} 403, /info ${info.filter((s) => s.status === 200).length}/${info.length} 200; failed requests ${failed}`,
    });

    // Certificates: service_b's sidecars get new ones mid-load (SDS); every new handshake sees them.
    const b = [mesh.sidecars.v1, mesh.sidecars.v2];
    const old = b.map((s) => s.live.certificate!.serial);
    const renewed = await Promise.all(b.map((s) => s.live.renewCertificate('demo: certificate rotation')));
    await load.collect(Date.now(), 100);
    const seen = await Promise.all(b.map((s) => peerSerial(s.inbound, mesh.identities.service_a!)));
    const now = b.map((s) => s.live.certificate!.serial);
    const failedCert = failedSince();
    add({
      group: 'live',
      name: 'workload certificates of service_b v1 and v2 rotated under load',
      ok: renewed.every((r) => r.ok) && seen.every((v, i) => v === now[i] && v !== old[i]) && failedCert === 0,
      detail: `${b.map((s, i) => `${s.name} ${old[i]} -> ${seen[i]} (peer sees it)`).join(', ')}; applied in ${renewed.map((r) => `${r.ms} ms`).join(', ')}; failed requests ${failedCert}`,
    });

    // Back to the files as the demo started (95/5, no DENY), so the running mesh is as the README says.
    await edit(DENY, null, mesh.sidecars.v2.live);
    await edit(VS, original, mesh.sidecars.a.live);
    await load.collect(Date.now(), 20);
    const total = failedSince();
    add({
      group: 'live',
      name: 'no restart, every request answered',
      ok: lives.every((l, i) => l.envoy.pid === pids[i]) && load.failures().length === 0 && total === 0,
      detail: `Envoy pids unchanged (${pids.join(', ')}); ${load.samples.length} requests under load, ${load.failures().length} failed`,
    });
  } finally {
    await load.stop();
  }
  return checks;
}

/** The serial of the certificate a sidecar's inbound listener presents on a new mTLS handshake. */
function peerSerial(port: number, id: { cert: string; key: string; ca: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, cert: id.cert, key: id.key, ca: id.ca, checkServerIdentity: () => undefined }, () => {
      const raw = s.getPeerCertificate(true).raw;
      s.end();
      resolve(new X509Certificate(raw).serialNumber);
    });
    s.on('error', reject);
  });
}
