// A minimal OCI distribution API client (distribution-spec "push"): blobs by monolithic upload (POST then PUT
// with ?digest=), then the manifest by tag. Anonymous only; plain HTTP only when asked (--insecure, a
// loopback registry). A registry that asks for credentials gets a message naming another way (skopeo).
import { formatRef, type Image, type ImageRef } from './oci.ts';

export class RegistryError extends Error {}

export interface PushOptions {
  /** Plain HTTP instead of HTTPS. */
  insecure?: boolean;
}

/** Pushes the image to `ref` (its tag, else its digest, else `latest`); returns the digest the registry reports. */
export async function pushImage(image: Image, ref: ImageRef, opts: PushOptions = {}): Promise<string> {
  if (ref.digest && ref.digest !== image.digest)
    throw new RegistryError(`${formatRef(ref)}: the image's digest is ${image.digest}, not the one in the reference`);
  const base = `${opts.insecure ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}`;
  for (const [digest, data] of image.blobs) {
    const head = await call('HEAD', `${base}/blobs/${digest}`);
    if (head.status === 200) continue;
    const start = await call('POST', `${base}/blobs/uploads/`, { 'content-length': '0' });
    await expect(start, 202, 'starting a blob upload');
    const location = start.headers.get('location');
    if (!location) throw new RegistryError(`${ref.registry}: blob upload started without a Location header`);
    const url = new URL(location, base);
    url.searchParams.set('digest', digest);
    const put = await call('PUT', url.href, { 'content-type': 'application/octet-stream' }, data);
    await expect(put, 201, `uploading blob ${digest}`);
  }
  const reference = ref.tag ?? ref.digest ?? 'latest';
  const put = await call('PUT', `${base}/manifests/${reference}`, { 'content-type': image.mediaType }, image.manifest);
  await expect(put, 201, 'putting the manifest');
  const reported = put.headers.get('docker-content-digest');
  if (reported && reported !== image.digest)
    throw new RegistryError(`${ref.registry}: the registry reports digest ${reported} for a manifest whose sha256 is ${image.digest}`);
  return image.digest;
}

async function call(method: string, url: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
  try {
    return await fetch(url, { method, headers, body, redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new RegistryError(`${new URL(url).host}: cannot reach the registry: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}

async function expect(r: Response, status: number, what: string): Promise<void> {
  if (r.status === status) return;
  if (r.status === 401 || r.status === 403) {
    const challenge = r.headers.get('www-authenticate');
    throw new RegistryError(
      `${new URL(r.url).host}: ${what}: HTTP ${r.status}${challenge ? ` (${challenge})` : ''}: asmesh image pushes anonymously; ` +
        'write a layout with -o DIR and push it with `skopeo copy --dest-creds ... oci:DIR docker://REF`',
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
