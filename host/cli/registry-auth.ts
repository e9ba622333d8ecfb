// Registry credentials as the container tools find them: `--creds USER:PASS` first, else the first auth file
// that has an entry for the registry ($REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json — podman's
// and skopeo's login —, $DOCKER_CONFIG/config.json or ~/.docker/config.json — docker login's).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from './errors.ts';

export interface Credentials {
  username: string;
  password: string;
}

/** `USER:PASS` (the password may hold colons); InputError naming the flag otherwise. */
export function parseCreds(value: string): Credentials {
  const i = value.indexOf(':');
  if (i <= 0) throw new InputError('--creds: expected USER:PASS');
  return { username: value.slice(0, i), password: value.slice(i + 1) };
}

/** The auth files in the order the container tools read them. */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers/auth.json'));
  files.push(join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json'));
  return files;
}

/** The credentials for `registry` (host[:port]) from the first auth file with an entry for it, or undefined. */
export function credentialsFor(registry: string, files: string[] = authFiles()): Credentials | undefined {
  for (const file of files) {
    if (!existsSync(file)) continue;
    let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }>; credHelpers?: Record<string, string> };
    try {
      config = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new InputError(`${file}: not a registry auth file: ${(e as Error).message}`);
    }
    const keys = [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
    const entry = keys.map((k) => config.auths?.[k]).find((e) => e);
    if (entry?.auth) {
      const creds = Buffer.from(entry.auth, 'base64').toString('utf8');
      if (!creds.includes(':')) throw new InputError(`${file}: auths["${registry}"].auth: not base64 of USER:PASS`);
      return parseCreds(creds);
    }
    if (entry?.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
    const helper = config.credHelpers?.[registry];
    if (helper)
      throw new InputError(`${file}: credHelpers["${registry}"]: docker-credential-${helper} is not run by asmesh; give --creds USER:PASS`);
  }
  return undefined;
}
