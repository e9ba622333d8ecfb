// OCI images of a Wasm filter in the formats Istio's Wasm image fetcher (istio/istio pkg/wasm/imagefetcher.go)
// accepts, after solo-io/wasm's spec: the *compat* variant (one tar+gzip layer holding plugin.wasm; OCI or
// Docker media types) and the *oci* artifact variant (a runtime-config layer and the raw module layer with
// custom media types). Pure: bytes in, blobs out; image.ts writes them, registry.ts pushes them.
// Every byte is deterministic (tar mtime 0, gzip without a name or time), so one module gives one digest.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  wasmConfig: 'application/vnd.module.wasm.config.v1+json',
  wasmLayer: 'application/vnd.module.wasm.content.layer.v1+wasm',
} as const;

/** compat: OCI media types (the default); docker: the same image with Docker schema 2 types; oci: solo's artifact variant. */
export const VARIANTS = ['compat', 'docker', 'oci'] as const;
export type Variant = (typeof VARIANTS)[number];

/** The file name Istio's fetcher looks for in a compat layer (filepath.Base(name) == "plugin.wasm"). */
export const PLUGIN_FILE = 'plugin.wasm';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface Image {
  variant: Variant;
  /** The manifest's bytes as pushed; its sha256 is the image digest (what WasmPlugin's sha256 holds). */
  manifest: Buffer;
  mediaType: string;
  digest: string;
  /** Config and layer blobs by digest. */
  blobs: Map<string, Buffer>;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function descriptor(mediaType: string, data: Buffer, annotations?: Record<string, string>): Descriptor {
  return { mediaType, digest: sha256(data), size: data.length, ...(annotations ? { annotations } : {}) };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** The proxy-wasm ABI versions a module exports (`proxy_abi_version_0_2_1` -> `0.2.1`); throws when `wasm` is not a module. */
export function proxyWasmAbiVersions(wasm: Buffer): string[] {
  if (wasm.length < 8 || wasm.readUInt32BE(0) !== 0x0061736d || wasm.readUInt32LE(4) !== 1)
    throw new Error('not a WebAssembly module (no \\0asm version 1 header)');
  let pos = 8;
  const leb = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= wasm.length) throw new Error('truncated WebAssembly module');
      const b = wasm[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  const versions: string[] = [];
  while (pos < wasm.length) {
    const id = wasm[pos++];
    const size = leb();
    const end = pos + size;
    if (end > wasm.length) throw new Error('truncated WebAssembly module');
    if (id === 7) {
      for (let n = leb(); n > 0; n--) {
        const len = leb();
        const name = wasm.subarray(pos, pos + len).toString('utf8');
        pos += len + 1; // name, export kind
        leb(); // index
        const m = /^proxy_abi_version_(\d+)_(\d+)_(\d+)$/.exec(name);
        if (m) versions.push(`${m[1]}.${m[2]}.${m[3]}`);
      }
    }
    pos = end;
  }
  return versions;
}

/** A ustar archive holding one regular file (mode 0644, owner 0, mtime 0). */
export function tarOneFile(name: string, data: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string) => header.write(value, offset, length, 'utf8');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  put(0, 100, name);
  put(100, 8, octal(0o644, 8));
  put(108, 8, octal(0, 8));
  put(116, 8, octal(0, 8));
  put(124, 12, octal(data.length, 12));
  put(136, 12, octal(0, 12));
  put(148, 8, ' '.repeat(8));
  put(156, 1, '0');
  put(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const b of header) sum += b;
  put(148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, padding, Buffer.alloc(1024)]);
}

/** The image of one filter module in a variant. `name` is the filter's root id (the oci variant's config lists it). */
export function buildImage(wasm: Buffer, variant: Variant, name: string): Image {
  const abi = proxyWasmAbiVersions(wasm);
  const blobs = new Map<string, Buffer>();
  const blob = (mediaType: string, data: Buffer, annotations?: Record<string, string>): Descriptor => {
    const d = descriptor(mediaType, data, annotations);
    blobs.set(d.digest, data);
    return d;
  };
  let manifest: Record<string, unknown>;
  if (variant === 'oci') {
    // solo's runtime config (spec.md): the runtime, its ABI versions, the module's root ids.
    const runtime = json({ type: 'envoy_proxy', abiVersions: abi.map((v) => `v${v}`), config: { rootIds: [name] } });
    const config = blob(MEDIA.wasmConfig, runtime);
    manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config,
      // Istio's extractOCIArtifactImage wants exactly two layers, one of them the module.
      layers: [
        { ...config, annotations: { 'org.opencontainers.image.title': 'runtime-config.json' } },
        blob(MEDIA.wasmLayer, wasm, { 'org.opencontainers.image.title': `${name}.wasm` }),
      ],
    };
  } else {
    const tar = tarOneFile(PLUGIN_FILE, wasm);
    const docker = variant === 'docker';
    const layer = blob(docker ? MEDIA.dockerLayer : MEDIA.ociLayer, gzipSync(tar, { level: 9 }));
    // A valid image config (diff_ids = the uncompressed layer), so container tools accept the image. Go's
    // GOOS/GOARCH names for a Wasm module (the OCI spec takes its platform values from Go's lists).
    const imageConfig = json({
      architecture: 'wasm',
      os: 'wasip1',
      config: {},
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    });
    const config = blob(docker ? MEDIA.dockerConfig : MEDIA.ociConfig, imageConfig);
    manifest = {
      schemaVersion: 2,
      mediaType: docker ? MEDIA.dockerManifest : MEDIA.ociManifest,
      config,
      layers: [layer],
      // spec-compat.md: an OCI-typed compat image carries this annotation (Docker manifests have none).
      ...(docker ? {} : { annotations: { 'module.wasm.image/variant': 'compat' } }),
    };
  }
  const bytes = json(manifest);
  return { variant, manifest: bytes, mediaType: manifest.mediaType as string, digest: sha256(bytes), blobs };
}

/** Writes an OCI image layout (image-spec image-layout.md) holding the image, tagged `tag`. */
export function writeLayout(dir: string, image: Image, tag: string): void {
  const blobDir = join(dir, 'blobs', 'sha256');
  mkdirSync(blobDir, { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  for (const [digest, data] of [...image.blobs, [image.digest, image.manifest] as const])
    writeFileSync(join(blobDir, digest.slice('sha256:'.length)), data);
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: [
      {
        mediaType: image.mediaType,
        digest: image.digest,
        size: image.manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
}

export interface ImageRef {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * `HOST[:PORT]/REPO[/...][:TAG][@sha256:HEX]` (Docker's reference grammar). The registry host must be
 * explicit (it names a '.' or ':' or is localhost): asmesh guesses no default registry. Null when malformed.
 */
export function parseRef(ref: string): ImageRef | null {
  let rest = ref.startsWith('oci://') ? ref.slice('oci://'.length) : ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return null;
  }
  const slash = rest.indexOf('/');
  if (slash <= 0) return null;
  const registry = rest.slice(0, slash);
  if (!/[.:]/.test(registry) && registry !== 'localhost') return null;
  if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9a-fA-F:]+\](:\d+)?$/.test(registry)) return null;
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) return null;
  }
  if (!path.split('/').every((c) => COMPONENT.test(c))) return null;
  return { registry, repository: path, ...(tag !== undefined ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export function formatRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
