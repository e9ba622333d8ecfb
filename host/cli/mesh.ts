// The mesh as one sidecar sees it, by the rules of Istio's pilot (istio.io/istio, read for each rule):
// which workload the sidecar fronts, which Services it calls, and which Istio resources apply to it.
// Pure: resources in, selections out; translate.ts renders them.
//
// - AuthorizationPolicy, RequestAuthentication (pilot/pkg/model/authorization.go ListAuthorizationPolicies,
//   authentication.go getConfigsForWorkload, policyattachment.go ShouldAttachPolicy): a resource in the root
//   namespace or the workload's namespace applies when its `selector.matchLabels` is a subset of the
//   workload's labels (none: all workloads of that namespace, or the mesh for the root namespace); one with
//   `targetRef(s)` never applies to a sidecar.
// - PeerAuthentication (pilot/pkg/security/authn/policy_applier.go ComposePeerAuthentication): the narrowest
//   scope wins (workload selector in the workload's namespace > namespace > root namespace), the oldest
//   (here: the first in input order) within a scope, UNSET inherits; port-level modes from the workload one.
// - Telemetry (pilot/pkg/model/telemetry.go applicableTelemetries): the root namespace's namespace-wide one,
//   then the workload namespace's, then every selector match in the workload's namespace, later overriding.
// - VirtualService (push_context.go, route.go BuildSidecarVirtualHostWrapper): those bound to `mesh` and
//   exported to the workload's namespace; hosts resolved to FQDNs in the resource's namespace; a host
//   claimed by two goes to the first (Istio: the oldest).
// - DestinationRule (push_context.go destinationRule): for a host, the most specific match among the
//   workload namespace's rules, else those the Service's namespace exports to it, else the root
//   namespace's; the rules that match it there are merged (subsets joined, first traffic policy wins).
import { isObject, type JsonObject, type Resource } from './istio.ts';

/** Istio's default root (mesh config) namespace. */
export const ROOT_NAMESPACE = 'istio-system';
export const CLUSTER_DOMAIN = 'cluster.local';

export interface MeshWorkload {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  serviceAccount: string;
  /** Container ports by name (a Service's named targetPort) and number. */
  ports: { name?: string; port: number }[];
  /** Where it came from (a Deployment/Pod document), or null when given by flags only. */
  at: string | null;
}

export interface MeshServicePort {
  name?: string;
  port: number;
  targetPort: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface MeshService {
  name: string;
  namespace: string;
  fqdn: string;
  ports: MeshServicePort[];
  selector: Record<string, string> | null;
  at: string;
}

/** Istio's ResolveShortnameToFQDN: a name without a dot is `<name>.<namespace>.svc.cluster.local`. */
export function resolveFqdn(host: string, namespace: string): string {
  if (host === '*' || host.includes('.')) return host;
  return `${host}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

export function matchLabels(spec: JsonObject): Record<string, string> | null {
  const sel = spec.selector;
  if (!isObject(sel) || !isObject(sel.matchLabels) || Object.keys(sel.matchLabels).length === 0) return null;
  return sel.matchLabels as Record<string, string>;
}

/** Istio labels.Instance.SubsetOf: every selector label has the same value on the workload. */
export function subsetOf(selector: Record<string, string> | null, labels: Record<string, string>): boolean {
  if (selector === null) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function hasTargetRefs(spec: JsonObject): boolean {
  return spec.targetRef !== undefined || (Array.isArray(spec.targetRefs) && spec.targetRefs.length > 0);
}

/** AuthorizationPolicy, RequestAuthentication, Telemetry with a selector: does it attach to this sidecar? */
export function attaches(r: Resource, wl: MeshWorkload, root = ROOT_NAMESPACE): boolean {
  if (r.namespace !== root && r.namespace !== wl.namespace) return false;
  if (hasTargetRefs(r.spec)) return false;
  return subsetOf(matchLabels(r.spec), wl.labels);
}

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';
export interface PeerMode {
  mode: MtlsMode;
  perPort: Map<number, MtlsMode>;
  /** The resources that decided it (for messages). */
  from: string[];
}

function modeOf(v: unknown): MtlsMode | null {
  const m = isObject(v) ? v.mode : undefined;
  return m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' ? m : null;
}

export function peerAuthentication(
  pas: Resource[],
  wl: { namespace: string; labels: Record<string, string> },
  root = ROOT_NAMESPACE,
): PeerMode {
  let mesh: Resource | undefined;
  let ns: Resource | undefined;
  let workload: Resource | undefined;
  for (const pa of pas) {
    if (pa.namespace !== root && pa.namespace !== wl.namespace) continue;
    const sel = matchLabels(pa.spec);
    if (sel === null) {
      if (pa.namespace === root) mesh ??= pa;
      else ns ??= pa;
    } else if (pa.namespace !== root && subsetOf(sel, wl.labels)) workload ??= pa;
  }
  const out: PeerMode = { mode: 'PERMISSIVE', perPort: new Map(), from: [] };
  for (const r of [mesh, ns, workload]) {
    if (!r) continue;
    const m = modeOf(r.spec.mtls);
    if (m) out.mode = m;
    out.from.push(`${r.at}: PeerAuthentication ${r.namespace}/${r.name}`);
  }
  if (workload && isObject(workload.spec.portLevelMtls)) {
    for (const [port, v] of Object.entries(workload.spec.portLevelMtls)) out.perPort.set(Number(port), modeOf(v) ?? out.mode);
  }
  return out;
}

export function modeForPort(p: PeerMode, port: number): MtlsMode {
  return p.perPort.get(port) ?? p.mode;
}

/** The Telemetry resources that apply, in override order (root, namespace, then selected). */
export function telemetries(tels: Resource[], wl: MeshWorkload, root = ROOT_NAMESPACE): Resource[] {
  const wide = (ns: string) => tels.find((t) => t.namespace === ns && matchLabels(t.spec) === null && !hasTargetRefs(t.spec));
  const out: Resource[] = [];
  const r = wide(root);
  if (r) out.push(r);
  if (wl.namespace !== root) {
    const n = wide(wl.namespace);
    if (n) out.push(n);
  }
  for (const t of tels) if (t.namespace === wl.namespace && matchLabels(t.spec) !== null && attaches(t, wl, root)) out.push(t);
  return out;
}

/** Istio exportTo: default everywhere; `.` its own namespace; `~` nowhere; else the named namespaces. */
export function exportedTo(r: Resource, namespace: string): boolean {
  const list = Array.isArray(r.spec.exportTo) ? (r.spec.exportTo as string[]) : ['*'];
  return list.some((e) => e === '*' || (e === '.' && r.namespace === namespace) || e === namespace);
}

export interface VisibleVirtualService {
  vs: Resource;
  /** Its hosts (FQDN) this sidecar routes by it: an earlier VirtualService's are not repeated. */
  hosts: string[];
}

export function virtualServices(vss: Resource[], proxyNamespace: string, warnings: string[]): VisibleVirtualService[] {
  const owner = new Map<string, Resource>();
  const out: VisibleVirtualService[] = [];
  for (const vs of vss) {
    const gateways = Array.isArray(vs.spec.gateways) ? (vs.spec.gateways as string[]) : ['mesh'];
    if (!gateways.includes('mesh') || !exportedTo(vs, proxyNamespace)) continue;
    const hosts: string[] = [];
    for (const h of (vs.spec.hosts as string[]) ?? []) {
      const fqdn = resolveFqdn(h, vs.namespace);
      const first = owner.get(fqdn);
      if (first) {
        warnings.push(
          `${vs.at}: VirtualService ${vs.namespace}/${vs.name}: host ${fqdn} is already routed by ${first.at} (${first.namespace}/${first.name}): ignored for it (Istio: the oldest wins)`,
        );
        continue;
      }
      owner.set(fqdn, vs);
      hosts.push(fqdn);
    }
    if (hosts.length) out.push({ vs, hosts });
  }
  return out;
}

/** How specifically a DestinationRule host matches a FQDN: exact > longest wildcard suffix; -1: no match. */
function hostMatch(pattern: string, fqdn: string): number {
  if (pattern === fqdn) return Number.MAX_SAFE_INTEGER;
  if (pattern === '*') return 0;
  if (pattern.startsWith('*.') && fqdn.endsWith(pattern.slice(1))) return pattern.length;
  return -1;
}

export interface MergedDestinationRule {
  host: string;
  trafficPolicy: JsonObject | undefined;
  subsets: JsonObject[];
  from: Resource[];
}

function mostSpecific(drs: Resource[], fqdn: string): Resource[] {
  let best = -1;
  let out: Resource[] = [];
  for (const dr of drs) {
    const m = hostMatch(resolveFqdn(String(dr.spec.host), dr.namespace), fqdn);
    if (m < 0 || m < best) continue;
    if (m > best) out = [];
    best = m;
    out.push(dr);
  }
  return out;
}

export function destinationRule(
  drs: Resource[],
  proxyNamespace: string,
  fqdn: string,
  serviceNamespace: string | null,
  warnings: string[],
  root = ROOT_NAMESPACE,
): MergedDestinationRule | null {
  let found: Resource[] = [];
  if (proxyNamespace !== root)
    found = mostSpecific(
      drs.filter((d) => d.namespace === proxyNamespace),
      fqdn,
    );
  else
    found = mostSpecific(
      drs.filter((d) => d.namespace === root),
      fqdn,
    );
  if (!found.length && serviceNamespace)
    found = mostSpecific(
      drs.filter((d) => d.namespace === serviceNamespace && exportedTo(d, proxyNamespace)),
      fqdn,
    );
  if (!found.length)
    found = mostSpecific(
      drs.filter((d) => d.namespace === root && exportedTo(d, proxyNamespace)),
      fqdn,
    );
  if (!found.length) return null;
  const merged: MergedDestinationRule = { host: fqdn, trafficPolicy: undefined, subsets: [], from: found };
  for (const dr of found) {
    if (dr.spec.trafficPolicy !== undefined) {
      if (merged.trafficPolicy === undefined) merged.trafficPolicy = dr.spec.trafficPolicy as JsonObject;
      else warnings.push(`${dr.at}: spec.trafficPolicy: ${fqdn} already has one from ${found[0].at}: ignored (Istio merges the first)`);
    }
    for (const s of (dr.spec.subsets as JsonObject[] | undefined) ?? []) {
      if (merged.subsets.some((x) => x.name === s.name))
        warnings.push(`${dr.at}: spec.subsets: subset ${String(s.name)} of ${fqdn} is already defined: ignored (Istio keeps the first)`);
      else merged.subsets.push(s);
    }
  }
  return merged;
}

/** Workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod) found in the input. */
export function workloadsOf(resources: Resource[]): MeshWorkload[] {
  const out: MeshWorkload[] = [];
  for (const r of resources) {
    let meta: JsonObject;
    let pod: JsonObject;
    if (r.kind === 'Pod') {
      meta = { labels: r.labels };
      pod = r.spec;
    } else if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(r.kind)) {
      const t = isObject(r.spec.template) ? r.spec.template : {};
      meta = isObject(t.metadata) ? t.metadata : {};
      pod = isObject(t.spec) ? t.spec : {};
    } else continue;
    const labels: Record<string, string> = {};
    if (isObject(meta.labels)) for (const [k, v] of Object.entries(meta.labels)) labels[k] = String(v);
    const ports: MeshWorkload['ports'] = [];
    for (const c of (pod.containers as JsonObject[] | undefined) ?? [])
      for (const p of (c.ports as JsonObject[] | undefined) ?? [])
        if (typeof p.containerPort === 'number')
          ports.push({ name: typeof p.name === 'string' ? p.name : undefined, port: p.containerPort });
    out.push({
      name: r.name,
      namespace: r.namespace,
      labels,
      serviceAccount: String(pod.serviceAccountName ?? pod.serviceAccount ?? 'default'),
      ports,
      at: r.at,
    });
  }
  return out;
}

export function servicesOf(resources: Resource[]): MeshService[] {
  return resources
    .filter((r) => r.kind === 'Service')
    .map((r) => ({
      name: r.name,
      namespace: r.namespace,
      fqdn: `${r.name}.${r.namespace}.svc.${CLUSTER_DOMAIN}`,
      ports: ((r.spec.ports as JsonObject[] | undefined) ?? []).map((p) => ({
        name: typeof p.name === 'string' ? p.name : undefined,
        port: p.port as number,
        targetPort: (p.targetPort as number | string | undefined) ?? (p.port as number),
        protocol: typeof p.protocol === 'string' ? p.protocol : undefined,
        appProtocol: typeof p.appProtocol === 'string' ? p.appProtocol : undefined,
      })),
      selector: isObject(r.spec.selector) ? (r.spec.selector as Record<string, string>) : null,
      at: r.at,
    }));
}

/** The Services whose selector picks the workload (Kubernetes: same namespace, selector subset of labels). */
export function servicesSelecting(services: MeshService[], wl: MeshWorkload): MeshService[] {
  return services.filter(
    (s) => s.namespace === wl.namespace && s.selector !== null && Object.keys(s.selector).length > 0 && subsetOf(s.selector, wl.labels),
  );
}

/** A Service port's target port on the workload (a named targetPort is looked up in its containers). */
export function targetPort(p: MeshServicePort, wl: MeshWorkload): number | null {
  if (typeof p.targetPort === 'number') return p.targetPort;
  if (/^\d+$/.test(p.targetPort)) return Number(p.targetPort);
  return wl.ports.find((x) => x.name === p.targetPort)?.port ?? null;
}
