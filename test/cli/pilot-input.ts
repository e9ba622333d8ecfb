// What the translate-vs-pilot tests add to the same YAML so pilot's fake discovery server builds the
// workload's sidecar as istiod would: the workload's running Pod (pilot builds inbound chains for the proxy
// an endpoint names) and the Kubernetes API server's defaulting the fake lacks.
import { parseAllDocuments, stringify } from 'yaml';

/** A running, ready Pod of the workload at `ip` with these container ports. */
export function pilotPod(name: string, labels: Record<string, string>, sa: string, ports: number[], ip = '10.0.0.1'): string {
  return `---
apiVersion: v1
kind: Pod
metadata: { name: ${name}-pod, namespace: default, labels: ${JSON.stringify(labels)} }
spec: { serviceAccountName: ${sa}, containers: [{ name: app, image: x, ports: ${JSON.stringify(ports.map((p) => ({ containerPort: p })))} }] }
status: { podIP: ${ip}, phase: Running, conditions: [{ type: Ready, status: "True" }] }
`;
}

/** The API server's defaulting: a Service port's targetPort is its port (the fake keeps 0: no inbound chain). */
export function kubeDefaults(text: string): string {
  return parseAllDocuments(text)
    .map((d) => {
      const o = d.toJS();
      if (o?.kind === 'Service') for (const p of o.spec?.ports ?? []) p.targetPort ??= p.port;
      return o === null ? '' : stringify(o);
    })
    .filter((d) => d !== '')
    .join('---\n');
}
