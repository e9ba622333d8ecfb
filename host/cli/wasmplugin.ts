// `asmesh wasmplugin`: Istio WasmPlugin resources (extensions.istio.io/v1alpha1) that mount asmesh's filters in
// Istio sidecars, each filter's pluginConfig being the configuration `asmesh translate` gives it on that side
// (read back from the bootstrap translate renders, so the two never differ).
import { stringify } from 'yaml';
import { InputError } from './errors.ts';
import { parseRef, formatRef } from './oci.ts';
import { clusterName, translate, type TranslateOptions } from './translate.ts';
import { asmeshFilterName, connectionManagers, wasmPluginOptions } from '../envoy/config.ts';
import { chainOrder, filterManifest, type ListenerSide } from '../../filters/manifest.ts';
import type { JsonObject } from './istio.ts';
import { CLUSTER_HEADER } from '../../assembly/lib/contracts.ts';

export const WASMPLUGIN_USAGE = `Usage: asmesh wasmplugin FILE.yaml... --image FILTER=REF@sha256:HEX... [options]

Writes the Istio WasmPlugin resources (extensions.istio.io/v1alpha1) that mount asmesh's filters in
Istio sidecars: url oci://REF, sha256 (the image digest 'asmesh image' prints), phase from the
filter manifest, pluginName (the root id), pluginConfig = what 'asmesh translate' configures for
the workload on that side (match mode CLIENT for outbound, SERVER for inbound; one resource
when both sides agree), failStrategy FAIL_CLOSE, a selector on the workload's labels.
  --image FILTER=REF       the pushed image of a filter (repeatable; one per mounted filter), pinned
                           by digest: HOST/REPO:TAG@sha256:HEX or HOST/REPO@sha256:HEX
  --namespace NS           the workload's namespace, and the resources' (default "default")
  --app NAME --version V   selector matchLabels app / version (and the workload's labels for translate)
  --workload NAME          the workload name (resource names; default: --app)
  --service-account SA     workload service account
  --filters a,b            mount only these filters (as translate)
  -o, --out FILE           write the YAML there (default: stdout)
  -h, --help               this help`;

export interface WasmPluginOptions {
  images: string[];
  workload: NonNullable<TranslateOptions['workload']>;
  filters?: TranslateOptions['filters'];
}

const MODE: Record<ListenerSide, string> = { outbound: 'CLIENT', inbound: 'SERVER' };

/** A Kubernetes object name (RFC 1123 subdomain) from a workload name: `service_a` -> `service-a`. */
function k8sName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .slice(0, 253);
}

/** Parses `--image FILTER=REF@sha256:HEX` values into filter -> {url, sha256}. */
function images(values: string[]): Map<string, { url: string; sha256: string }> {
  const out = new Map<string, { url: string; sha256: string }>();
  for (const v of values) {
    const i = v.indexOf('=');
    const ref = i > 0 ? parseRef(v.slice(i + 1)) : null;
    if (i <= 0 || !ref) throw new InputError(`--image: ${JSON.stringify(v)} is not FILTER=HOST[:PORT]/REPO[:TAG]@sha256:HEX`);
    if (!ref.digest)
      throw new InputError(
        `--image: ${v.slice(0, i)}: ${v.slice(i + 1)} names no digest (pin it: REF@sha256:..., as 'asmesh image' prints)`,
      );
    // A tagged reference keeps its tag in the url (readable, and what Istio pulls); sha256 pins the content.
    const url = `oci://${formatRef(ref.tag !== undefined ? { ...ref, digest: undefined } : ref)}`;
    out.set(v.slice(0, i), { url, sha256: ref.digest.slice('sha256:'.length) });
  }
  return out;
}

/** Each mounted asmesh filter's configuration per listener side, from translate's bootstrap. */
function sideConfigs(envoy: JsonObject): Map<string, Map<ListenerSide, unknown>> {
  const out = new Map<string, Map<ListenerSide, unknown>>();
  for (const hcm of connectionManagers(envoy)) {
    const side = hcm.stat_prefix as ListenerSide;
    for (const entry of hcm.http_filters as JsonObject[]) {
      const name = asmeshFilterName(entry);
      if (name === null) continue;
      const value = wasmPluginOptions((entry.typed_config as JsonObject).config as JsonObject).config;
      if (!out.has(name)) out.set(name, new Map());
      out.get(name)!.set(side, JSON.parse(value));
    }
  }
  return out;
}

/**
 * JWKS fetches go to a cluster named by the URI's authority in asmesh's bootstrap; an Istio sidecar names
 * it `outbound|PORT||HOST` (a ServiceEntry for the host gives it), so the pluginConfig names that one.
 */
function istioJwksClusters(authz: JsonObject, warnings: string[]): JsonObject {
  const jwtRules = ((authz.jwtRules as JsonObject[] | undefined) ?? []).map((rule) => {
    const asm = (rule.asmesh ?? {}) as JsonObject;
    if (typeof rule.jwksUri !== 'string' || typeof asm.jwksCluster === 'string') return rule;
    const u = new URL(rule.jwksUri);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    const cluster = clusterName(u.hostname, '', port);
    warnings.push(
      `authz fetches ${rule.jwksUri} through Istio's cluster ${cluster}: the mesh needs a ServiceEntry for ${u.hostname}` +
        (u.protocol === 'https:' ? ' and a DestinationRule with tls.mode SIMPLE (TLS origination)' : ''),
    );
    return { ...rule, asmesh: { ...asm, jwksCluster: cluster } };
  });
  return { ...authz, jwtRules };
}

export function wasmPlugins(files: { name: string; text: string }[], o: WasmPluginOptions): { yaml: string; warnings: string[] } {
  const refs = images(o.images);
  const result = translate(files, { workload: o.workload, filters: o.filters });
  if (result.virtualServices.length > 1)
    throw new InputError(
      `wasmplugin: ${result.virtualServices.length} VirtualServices apply to this workload; a steering WasmPlugin per VirtualService is not supported (give one VirtualService)`,
    );
  const warnings = [...result.warnings];
  const configs = sideConfigs(result.envoy);
  for (const name of refs.keys())
    if (!configs.has(name))
      throw new InputError(`--image: ${name} is not a filter translate mounts here (${[...configs.keys()].join(', ')})`);
  const labels: Record<string, string> = {};
  if (o.workload.app) labels.app = o.workload.app;
  if (o.workload.version) labels.version = o.workload.version;
  if (!Object.keys(labels).length)
    warnings.push(`no --app or --version: the WasmPlugins select every workload in namespace ${o.workload.namespace ?? 'default'}`);
  const workload = k8sName(o.workload.name ?? o.workload.app ?? 'workload');

  if (configs.has('steering'))
    warnings.push(
      `steering picks a cluster by writing ${CLUSTER_HEADER}; Istio's routes do not read it (asmesh's bootstrap's ` +
        `cluster_header route does), so in an Istio sidecar give the route cluster_header: ${CLUSTER_HEADER} (EnvoyFilter) or let Istio's own VirtualService routing apply`,
    );
  const plugins: { name: string; phase: string; sides: ListenerSide[]; config: unknown }[] = [];
  for (const { name } of chainOrder([...configs.keys()].map((name) => ({ name })))) {
    const bySide = [...configs.get(name)!];
    const same = bySide.every(([, c]) => JSON.stringify(c) === JSON.stringify(bySide[0][1]));
    const groups = same ? [{ sides: bySide.map(([s]) => s), config: bySide[0][1] }] : bySide.map(([s, c]) => ({ sides: [s], config: c }));
    for (const g of groups) {
      const config = name === 'authz' ? istioJwksClusters(g.config as JsonObject, warnings) : g.config;
      plugins.push({ name, phase: filterManifest(name)?.wasmPluginPhase ?? 'UNSPECIFIED_PHASE', sides: g.sides, config });
    }
  }
  const docs = plugins.map((p, i) => {
    const image = refs.get(p.name);
    if (!image) throw new InputError(`--image ${p.name}=REF@sha256:... is missing (translate mounts ${[...configs.keys()].join(', ')})`);
    // Istio orders plugins of one phase by priority, highest first: keep asmesh's chain order where two share a phase and side.
    const rivals = plugins.filter((q) => q.phase === p.phase && q.sides.some((s) => p.sides.includes(s)));
    const split = plugins.filter((q) => q.name === p.name).length > 1;
    return {
      apiVersion: 'extensions.istio.io/v1alpha1',
      kind: 'WasmPlugin',
      metadata: {
        name: `asmesh-${workload}-${p.name}${split ? `-${p.sides.join('-')}` : ''}`,
        namespace: o.workload.namespace ?? 'default',
      },
      spec: {
        ...(Object.keys(labels).length ? { selector: { matchLabels: labels } } : {}),
        url: image.url,
        sha256: image.sha256,
        imagePullPolicy: 'IfNotPresent',
        pluginName: p.name,
        phase: p.phase,
        ...(rivals.length > 1 ? { priority: (plugins.length - i) * 10 } : {}),
        failStrategy: 'FAIL_CLOSE',
        type: 'HTTP',
        match: [{ mode: p.sides.length > 1 ? 'CLIENT_AND_SERVER' : MODE[p.sides[0]] }],
        pluginConfig: p.config,
      },
    };
  });
  return { yaml: docs.map((d) => stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n'), warnings };
}
