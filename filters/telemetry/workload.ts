// This proxy's workload, read from Envoy's node metadata: the HTTP and the TCP telemetry filters' `local`.
import { getProperty, getPropertyString } from '../../assembly/proxy';
import { PeerInfo, firstPresent, CANONICAL_NAME_LABELS, CANONICAL_REVISION_LABELS } from './peer';

function orEmpty(s: string | null): string {
  return s === null ? '' : s!;
}

function labelValues(base: string[], names: string[]): (string | null)[] {
  const out = new Array<string | null>(names.length);
  for (let i = 0; i < names.length; i++) out[i] = getPropertyString(base.concat(['LABELS', names[i]]));
  return out;
}

/** This proxy's workload from Envoy's node metadata (Istio's WORKLOAD_NAME, NAMESPACE, LABELS, CLUSTER_ID). */
export function localWorkload(): PeerInfo {
  const p = new PeerInfo();
  let base = ['xds', 'node', 'metadata'];
  if (getProperty(base) === null) base = ['node', 'metadata'];
  p.workload = orEmpty(getPropertyString(base.concat(['WORKLOAD_NAME'])));
  p.namespace = orEmpty(getPropertyString(base.concat(['NAMESPACE'])));
  p.app = orEmpty(getPropertyString(base.concat(['LABELS', 'app'])));
  if (p.app.length == 0) p.app = orEmpty(getPropertyString(base.concat(['LABELS', 'app.kubernetes.io/name'])));
  p.version = orEmpty(getPropertyString(base.concat(['LABELS', 'version'])));
  if (p.version.length == 0) p.version = orEmpty(getPropertyString(base.concat(['LABELS', 'app.kubernetes.io/version'])));
  p.cluster = orEmpty(getPropertyString(base.concat(['CLUSTER_ID'])));
  // Istio's injector labels the pod with these (its stats filter reads them from LABELS); a plain
  // Envoy's node metadata may lack them, so apply Istio's fallbacks here.
  p.canonicalService = firstPresent(labelValues(base, CANONICAL_NAME_LABELS), p.workload);
  p.canonicalRevision = firstPresent(labelValues(base, CANONICAL_REVISION_LABELS), 'latest');
  return p;
}
