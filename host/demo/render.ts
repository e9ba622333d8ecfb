// `asmesh demo --render DIR`: the demo's configs for docker compose (envoy/docker-compose.yaml,
// the default services). The same translate of envoy/demo/istio/*.yaml as the local demo, with compose
// service names and fixed ports: sidecars listen on 15001 (outbound) / 15006 (inbound, mTLS) /
// 15000 (admin); apps on 8080. Writes <name>.yaml per sidecar, certs/<workload>/, jwks.json, token.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeMeshCerts } from '../cli/certs.ts';
import { repoRoot } from '../paths.ts';
import { envoyYaml } from '../envoy/config.ts';
import { Issuer } from './jwt.ts';
import { IDENTITIES, SIDECARS, demoResources, translateSidecar } from './mesh.ts';

/** Where the compose file mounts the rendered directory in every container. */
export const COMPOSE_DIR = '/demo';

export function renderCompose(dir: string, mountedAt = COMPOSE_DIR): { files: string[]; token: string } {
  mkdirSync(dir, { recursive: true });
  const certDirs = makeMeshCerts(join(dir, 'certs'), IDENTITIES);
  // Envoy's image runs as user envoy: the throwaway demo keys must be readable by it.
  for (const d of Object.values(certDirs)) chmodSync(join(d, 'key.pem'), 0o644);
  const issuer = new Issuer('https://accounts.google.com');
  const resources = demoResources(repoRoot, issuer.jwks);
  const endpoints = {
    'outbound|80|v1|service_b': { address: 'sidecar_b_v1', port: 15006 },
    'outbound|80|v2|service_b': { address: 'sidecar_b_v2', port: 15006 },
    'outbound|80||service_b': { address: 'sidecar_b_v1', port: 15006 },
  };
  const apps: Record<string, string> = { sidecar_a: 'service_a', sidecar_b_v1: 'service_b_v1', sidecar_b_v2: 'service_b_v2' };
  const files: string[] = [];
  for (const [name, wl] of Object.entries(SIDECARS)) {
    const r = translateSidecar(resources, wl, {
      adminPort: 15000,
      outboundPort: 15001,
      inboundPort: 15006,
      app: { address: apps[name], port: 8080 },
      endpoints,
      wasmDir: '/etc/asmesh/wasm',
      certDir: `${mountedAt}/certs/${wl.name}`,
    });
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, `# Rendered by asmesh demo --render from envoy/demo/istio/*.yaml for ${wl.name}\n${envoyYaml(r.envoy)}`);
    files.push(file);
  }
  const token = issuer.token({}, 24 * 3600);
  writeFileSync(join(dir, 'jwks.json'), issuer.jwks + '\n');
  writeFileSync(join(dir, 'token'), token + '\n');
  return { files, token };
}
