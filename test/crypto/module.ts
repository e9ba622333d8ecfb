// Compiles test/fixtures/crypto.ts (assembly/lib/crypto behind ArrayBuffer exports) with the
// incremental GC runtime and wraps it for node: tests and bench/crypto.ts share it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compileAs, repoRoot } from '../harness/fixtures.ts';

export function compileCrypto(optimizeLevel = 3): Promise<Uint8Array> {
  const sources = ['test/fixtures/crypto.ts', ...readdirSync(join(repoRoot, 'assembly/lib/crypto')).map((f) => `assembly/lib/crypto/${f}`)];
  return compileAs(sources, `.tmp/crypto/crypto-O${optimizeLevel}.wasm`, [
    '--config',
    'test/fixtures/asconfig.json',
    '--runtime',
    'incremental',
    '--exportRuntime',
    '--optimizeLevel',
    String(optimizeLevel),
    '--shrinkLevel',
    '0',
  ]);
}

export const HASH = { 'SHA-256': 0, 'SHA-384': 1, 'SHA-512': 2 } as const;
export type HashName = keyof typeof HASH;
export const CURVE = { P256: 0, P384: 1 } as const;

type Ptr = number;
interface Exports {
  memory: WebAssembly.Memory;
  __new(size: number, id: number): Ptr;
  __pin(ptr: Ptr): Ptr;
  __unpin(ptr: Ptr): void;
  __collect(): void;
  hash(alg: number, data: Ptr): Ptr;
  rsaPkcs1(alg: number, n: Ptr, e: Ptr, msg: Ptr, sig: Ptr): number;
  rsaPss(alg: number, n: Ptr, e: Ptr, msg: Ptr, sig: Ptr): number;
  ecdsa(curve: number, x: Ptr, y: Ptr, msg: Ptr, sig: Ptr, alg: number): number;
  onCurve(curve: number, x: Ptr, y: Ptr): number;
  rsaSpki(n: Ptr, e: Ptr): Ptr;
  ecSpki(curve: number, x: Ptr, y: Ptr): Ptr;
  p1363ToDer(sig: Ptr): Ptr;
}

export class CryptoModule {
  constructor(readonly x: Exports) {}

  static async load(optimizeLevel = 3): Promise<CryptoModule> {
    const bytes = await compileCrypto(optimizeLevel);
    let mem: WebAssembly.Memory | undefined;
    const text = (p: number) => {
      if (!p || !mem) return '';
      const len = new Uint32Array(mem.buffer, p - 4, 1)[0]!;
      return Buffer.from(new Uint8Array(mem.buffer, p, len)).toString('utf16le');
    };
    const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes), {
      env: {
        abort(msg: number, file: number, line: number, col: number) {
          throw new Error(`crypto module aborted: ${text(msg)} at ${text(file)}:${line}:${col}`);
        },
        seed: () => 0,
        trace: () => {},
      },
    });
    const x = instance.exports as unknown as Exports;
    mem = x.memory;
    return new CryptoModule(x);
  }

  /** Copies bytes into a new pinned ArrayBuffer (class id 1) in the module. */
  buffer(bytes: Uint8Array): Ptr {
    const p = this.x.__pin(this.x.__new(bytes.length, 1));
    new Uint8Array(this.x.memory.buffer, p, bytes.length).set(bytes);
    return p;
  }

  read(p: Ptr): Uint8Array | null {
    if (!p) return null;
    const len = new Uint32Array(this.x.memory.buffer, p - 4, 1)[0]!;
    return new Uint8Array(this.x.memory.buffer, p, len).slice();
  }

  /** Runs f with pinned copies of `inputs`, unpinning them afterwards. */
  with<T>(inputs: Uint8Array[], f: (...ptrs: Ptr[]) => T): T {
    const ptrs = inputs.map((b) => this.buffer(b));
    try {
      return f(...ptrs);
    } finally {
      for (const p of ptrs) this.x.__unpin(p);
    }
  }

  hash(alg: HashName, data: Uint8Array): Uint8Array {
    return this.with([data], (d) => this.read(this.x.hash(HASH[alg], d!))!);
  }
  rsaPkcs1(alg: HashName, n: Uint8Array, e: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    return this.with([n, e, msg, sig], (np, ep, mp, sp) => this.x.rsaPkcs1(HASH[alg], np!, ep!, mp!, sp!) === 1);
  }
  rsaPss(alg: HashName, n: Uint8Array, e: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    return this.with([n, e, msg, sig], (np, ep, mp, sp) => this.x.rsaPss(HASH[alg], np!, ep!, mp!, sp!) === 1);
  }
  ecdsa(curve: keyof typeof CURVE, x: Uint8Array, y: Uint8Array, msg: Uint8Array, sig: Uint8Array, alg: HashName): boolean {
    return this.with([x, y, msg, sig], (xp, yp, mp, sp) => this.x.ecdsa(CURVE[curve], xp!, yp!, mp!, sp!, HASH[alg]) === 1);
  }
  onCurve(curve: keyof typeof CURVE, x: Uint8Array, y: Uint8Array): boolean {
    return this.with([x, y], (xp, yp) => this.x.onCurve(CURVE[curve], xp!, yp!) === 1);
  }
  rsaSpki(n: Uint8Array, e: Uint8Array): Uint8Array {
    return this.with([n, e], (np, ep) => this.read(this.x.rsaSpki(np!, ep!))!);
  }
  ecSpki(curve: keyof typeof CURVE, x: Uint8Array, y: Uint8Array): Uint8Array | null {
    return this.with([x, y], (xp, yp) => this.read(this.x.ecSpki(CURVE[curve], xp!, yp!)));
  }
  p1363ToDer(sig: Uint8Array): Uint8Array | null {
    return this.with([sig], (sp) => this.read(this.x.p1363ToDer(sp!)));
  }
  memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
