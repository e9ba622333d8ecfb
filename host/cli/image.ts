// `asmesh image FILTER.wasm -o DIR | --push REF`: the filter as an OCI image Istio's Wasm fetcher accepts.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { EXIT_INTERNAL, EXIT_OK, InputError } from './errors.ts';
import { buildImage, formatRef, parseRef, VARIANTS, writeLayout, type Image, type ImageRef, type Variant } from './oci.ts';
import { pushImage, RegistryError } from './registry.ts';
import { credentialsFor, parseCreds } from './registry-auth.ts';

export const IMAGE_USAGE = `Usage: asmesh image FILTER.wasm (-o DIR | --push REF) [--variant compat|docker|oci] [--insecure] [--creds USER:PASS]

Packs a filter module as an OCI image in a format Istio's Wasm image fetcher accepts (WasmPlugin
url: oci://REF) and prints its digest (sha256:..., WasmPlugin's sha256 without the prefix). The
image is reproducible: the same module gives the same digest.
  -o, --out DIR      write an OCI image layout into DIR (push it later, e.g. skopeo copy oci:DIR docker://REF)
  --tag TAG          the layout's tag (default: latest)
  --push REF         push to a registry over the OCI distribution API: HOST[:PORT]/REPO[:TAG] (default tag latest)
  --insecure         plain HTTP to the registry (a loopback or test registry)
  --creds USER:PASS  credentials for a registry that asks (Basic or Docker's token protocol); without it,
                     the registry's entry in $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json or
                     $DOCKER_CONFIG/config.json (~/.docker/config.json), as docker/skopeo login write them
  --variant V        compat (default): one tar+gzip layer holding plugin.wasm, OCI media types, any
                     registry and container tool takes it; docker: the same with Docker schema 2 media
                     types; oci: solo.io's Wasm artifact (application/vnd.module.wasm.* media types)
  --name NAME        the root id written in the oci variant's runtime config (default: the file's base name)
  -h, --help         this help`;

export interface ImageOptions {
  out?: string;
  tag?: string;
  push?: string;
  insecure?: boolean;
  creds?: string;
  variant?: string;
  name?: string;
}

/** Reads and checks the module, builds the image (InputError naming the file when it is not a Wasm module). */
export function imageOf(file: string, variant: Variant, name: string): Image {
  let wasm: Buffer;
  try {
    wasm = readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read the filter module: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return buildImage(wasm, variant, name);
  } catch (e) {
    throw new InputError(`${file}: ${(e as Error).message}`);
  }
}

export async function imageCommand(file: string, o: ImageOptions, write: (s: string) => void): Promise<number> {
  if ((o.out === undefined) === (o.push === undefined))
    throw new InputError('image: give one of -o DIR or --push REF (asmesh image --help)');
  const variant = (o.variant ?? 'compat') as Variant;
  if (!VARIANTS.includes(variant)) throw new InputError(`--variant: ${JSON.stringify(o.variant)} is not one of ${VARIANTS.join(', ')}`);
  let ref: ImageRef | null = null;
  if (o.push !== undefined) {
    ref = parseRef(o.push);
    if (!ref) throw new InputError(`--push: ${JSON.stringify(o.push)} is not HOST[:PORT]/REPO[:TAG] (a registry host is required)`);
  }
  if (o.tag !== undefined && !/^[\w][\w.-]{0,127}$/.test(o.tag)) throw new InputError(`--tag: ${JSON.stringify(o.tag)} is not a tag`);
  const credentials = o.creds !== undefined ? parseCreds(o.creds) : ref && credentialsFor(ref.registry);
  const image = imageOf(file, variant, o.name ?? basename(file).replace(/\.wasm$/, ''));
  if (o.out !== undefined) {
    writeLayout(o.out, image, o.tag ?? 'latest');
    process.stderr.write(`wrote an OCI image layout (${variant} variant) to ${o.out}\n`);
  } else {
    try {
      await pushImage(image, ref!, { insecure: o.insecure, credentials: credentials ?? undefined });
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
      process.stderr.write(`asmesh image: ${e.message}\n`);
      return EXIT_INTERNAL;
    }
    process.stderr.write(`pushed ${formatRef({ ...ref!, digest: undefined })}@${image.digest} (${variant} variant)\n`);
  }
  write(`${image.digest}\n`);
  return EXIT_OK;
}
