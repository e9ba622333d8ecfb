// A minimal OCI distribution API client (distribution-spec "push"): blobs by monolithic upload (POST then PUT
// with ?digest=), then the manifest by tag. Plain HTTP only when asked (--insecure, a loopback registry).
// Authentication as docker, skopeo and Istio's fetcher do it: a 401 names a scheme in WWW-Authenticate;
// Basic gets the credentials, Bearer (Docker's token protocol) gets a token from the named realm for the
// repository's pull,push scope (with the credentials, or anonymously), then the request is sent again.
import { formatRef, type Image, type ImageRef } from './oci.ts';
import type { Credentials } from './registry-auth.ts';

export class RegistryError extends Error {}

export interface PushOptions {
  /** Plain HTTP instead of HTTPS. */
  insecure?: boolean;
  /** For a registry that asks (Basic, or the Bearer token realm). */
  credentials?: Credentials;
}

/** Pushes the image to `ref` (its tag, else its digest, else `latest`); returns the digest the registry reports. */
export async function pushImage(image: Image, ref: ImageRef, opts: PushOptions = {}): Promise<string> {
  if (ref.digest && ref.digest !== image.digest)
    throw new RegistryError(`${formatRef(ref)}: the image's digest is ${image.digest}, not the one in the reference`);
  const base = `${opts.insecure ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}`;
  const session = new Session(ref, opts.credentials);
  for (const [digest, data] of image.blobs) {
    const head = await session.call('HEAD', `${base}/blobs/${digest}`);
    if (head.status === 200) continue;
    const start = await session.call('POST', `${base}/blobs/uploads/`, { 'content-length': '0' });
    await expect(start, 202, 'starting a blob upload', session);
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`${ref.registry}: blob upload started without a Location header`);
    const url = new URL(location, base);
    url.searchParams.set('digest', digest);
    const put = await session.call('PUT', url.href, { 'content-type': 'application/octet-stream' }, data);
    await expect(put, 201, `uploading blob ${digest}`, session);
  }
  const reference = ref.tag ?? ref.digest ?? 'latest';
  const put = await session.call('PUT', `${base}/manifests/${reference}`, { 'content-type': image.mediaType }, image.manifest);
  await expect(put, 201, 'putting the manifest', session);
  const reported = put.headers.get('docker-content-digest');
  if (reported && reported !== image.digest)
    throw new RegistryError(`${ref.registry}: the registry reports digest ${reported} for a manifest whose sha256 is ${image.digest}`);
  return image.digest;
}

/** One push's requests: the Authorization answer to the registry's first challenge, reused for the rest. */
class Session {
  private authorization: string | undefined;
  /** Why the last challenge could not be answered (no credentials, a refused token request). */
  refusal = '';

  constructor(
    private readonly ref: ImageRef,
    private readonly credentials: Credentials | undefined,
  ) {}

  async call(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
    const send = () => request(method, url, this.authorization ? { ...headers, authorization: this.authorization } : headers, body);
    const first = await send();
    if (first.status !== 401) return first;
    const answer = await this.answer(first.headers.get('www-authenticate') ?? '');
    if (!answer || answer === this.authorization) return first;
    this.authorization = answer;
    const second = await send();
    if (second.status === 401 && !this.credentials) this.refusal = 'the registry wants credentials (an anonymous token was not enough)';
    return second;
  }

  /** The Authorization header for a challenge, or undefined (and `refusal` says why). */
  private async answer(challenge: string): Promise<string | undefined> {
    const parsed = parseChallenge(challenge);
    const basic =
      this.credentials && `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}`;
    if (parsed?.scheme === 'basic') {
      if (!basic) this.refusal = 'the registry wants credentials';
      return basic;
    }
    if (parsed?.scheme !== 'bearer' || !parsed.params.realm) {
      this.refusal = `unsupported challenge ${JSON.stringify(challenge)}`;
      return undefined;
    }
    const realm = new URL(parsed.params.realm);
    if (parsed.params.service) realm.searchParams.set('service', parsed.params.service);
    realm.searchParams.set('scope', `repository:${this.ref.repository}:pull,push`);
    const r = await request('GET', realm.href, basic ? { authorization: basic } : {});
    if (r.status !== 200) {
      this.refusal = `the token realm ${realm.origin}${realm.pathname} answered HTTP ${r.status}${basic ? '' : ' (no credentials given)'}`;
      return undefined;
    }
    const token = ((await r.json().catch(() => ({}))) as { token?: string; access_token?: string }) ?? {};
    const value = token.token ?? token.access_token;
    if (!value) this.refusal = `the token realm ${realm.origin}${realm.pathname} answered without a token`;
    return value ? `Bearer ${value}` : undefined;
  }
}

/** `Scheme k="v", k2=v2` → the scheme (lower case) and its parameters. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } | null {
  const m = /^\s*([A-Za-z][\w-]*)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g))
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme: m[1].toLowerCase(), params };
}

async function request(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<Response> {
  try {
    return await fetch(url, { method, headers, body, redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new RegistryError(`${new URL(url).host}: cannot reach the registry: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}

async function expect(r: Response, status: number, what: string, session: Session): Promise<void> {
  if (r.status === status) return;
  if (r.status === 401 || r.status === 403) {
    const challenge = r.headers.get('www-authenticate');
    const why = session.refusal ? `: ${session.refusal}` : r.status === 401 ? ': the credentials were refused' : ': access denied';
    throw new RegistryError(
      `${new URL(r.url).host}: ${what}: HTTP ${r.status}${challenge ? ` (${challenge})` : ''}${why}; give --creds USER:PASS or ` +
        'log in (docker login / skopeo login write the auth file asmesh reads)',
    );
  }
  throw new RegistryError(`${new URL(r.url).host}: ${what}: HTTP ${r.status}${await registryErrors(r)}`);
}

/** The distribution API's error body `{"errors": [{"code", "message"}]}`, as `: CODE message; ...`. */
async function registryErrors(r: Response): Promise<string> {
  try {
    const body = (await r.json()) as { errors?: { code?: string; message?: string }[] };
    const errors = (body.errors ?? []).map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).filter((e) => e);
    return errors.length ? `: ${errors.join('; ')}` : '';
  } catch {
    return '';
  }
}
