// The module instance: links the imports Envoy provides, refuses modules that need others, and
// calls the module's exports with the current context set, as proxy-wasm-cpp-host does.
import { WasmResult } from './abi.ts';
import type { HostState } from './state.ts';
import { ProcExit } from './wasi.ts';

export type ImportTable = Record<string, Record<string, (...args: never[]) => unknown>>;

/** A callback trapped (or called proc_exit): the VM is failed from then on, as in Envoy. */
export class VmFailure extends Error {}

const ABI_VERSIONS = ['0.2.1', '0.2.0'] as const;

export class Vm {
  failed = false;
  abiVersion: (typeof ABI_VERSIONS)[number] | null = null;
  private depth = 0;
  private exports!: Record<string, unknown>;
  constructor(readonly host: HostState) {}

  async instantiate(wasm: Uint8Array, imports: ImportTable): Promise<void> {
    const module = await WebAssembly.compile(wasm);
    const missing = WebAssembly.Module.imports(module)
      .filter((i) => i.kind !== 'function' || imports[i.module]?.[i.name] === undefined)
      .map((i) => `${i.module}.${i.name} (${i.kind})`);
    if (missing.length > 0) {
      throw new Error(
        `Failed to load Wasm module due to a missing import: ${missing.join(', ')} (Envoy links only env.proxy_* and its WASI subset)`,
      );
    }
    const exportNames = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    // Envoy 1.40 (cpp-host) loads modules marked 0.2.1 or 0.2.0 (every Go-SDK module); both link the
    // same imports here, and cpp-host calls the same callbacks for both.
    this.abiVersion = ABI_VERSIONS.find((v) => exportNames.has(`proxy_abi_version_${v.replaceAll('.', '_')}`)) ?? null;
    if (this.abiVersion === null) {
      throw new Error(
        `Wasm module exports none of ${ABI_VERSIONS.map((v) => `proxy_abi_version_${v.replaceAll('.', '_')}`).join(', ')}: Envoy 1.40 would refuse it`,
      );
    }
    const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
    this.exports = instance.exports as Record<string, unknown>;
    const memory = this.exports['memory'];
    if (!(memory instanceof WebAssembly.Memory)) throw new Error('Wasm module does not export its memory');
    this.host.mem.memory = memory;
    const allocate = (this.exports['proxy_on_memory_allocate'] ?? this.exports['malloc']) as ((n: number) => number) | undefined;
    if (allocate === undefined) throw new Error('Wasm module exports neither proxy_on_memory_allocate nor malloc');
    this.host.mem.allocate = allocate;
    const start = this.exports['_initialize'] ?? this.exports['_start'];
    if (typeof start === 'function') this.run(() => (start as () => void)(), 0, '_initialize');
  }

  has(name: string): boolean {
    return typeof this.exports[name] === 'function';
  }

  /** Calls an export for `contextId`; answers undefined when the module does not export it. */
  call(name: string, contextId: number, ...args: (number | bigint)[]): number | undefined {
    const fn = this.exports[name] as ((...a: (number | bigint)[]) => unknown) | undefined;
    if (typeof fn !== 'function') return undefined;
    const result = this.run(() => fn(contextId, ...args), contextId, name);
    return typeof result === 'number' ? result >>> 0 : result === undefined ? undefined : Number(result);
  }

  private run(fn: () => unknown, contextId: number, name: string): unknown {
    if (this.failed) throw new VmFailure('Wasm VM failed earlier');
    const { host } = this;
    const savedCurrent = host.currentContextId,
      savedEffective = host.effectiveContextId;
    host.currentContextId = contextId;
    host.effectiveContextId = 0;
    this.depth++;
    let result: unknown;
    try {
      result = fn();
    } catch (error) {
      if (error instanceof WebAssembly.RuntimeError || error instanceof ProcExit) {
        this.failed = true;
        host.logs.push({ level: 'critical', message: `Function: ${name} failed: ${error.message}`, contextId });
        throw new VmFailure(`${name} trapped: ${error.message}`);
      }
      throw error;
    } finally {
      this.depth--;
      host.currentContextId = savedCurrent;
      host.effectiveContextId = savedEffective;
    }
    if (this.depth === 0) this.drainAfterCallback();
    return result;
  }

  private drainAfterCallback(): void {
    const queue = this.host.afterCallback;
    while (queue.length > 0 && !this.failed) {
      try {
        queue.shift()!();
      } catch (error) {
        // A later callback's trap fails the VM; the callback that queued it already returned.
        if (!(error instanceof VmFailure)) throw error;
      }
    }
  }
}

export const OK = WasmResult.Ok;
