// proxy_call_foreign_function with the functions Envoy registers that asmesh uses:
//   clear_route_cache  — re-selects the route; the harness counts it per stream.
//   verify_signature   — args: VerifySignatureArguments {1 hash_function, 2 public_key (DER
//                        SubjectPublicKeyInfo), 3 signature, 4 text}; result:
//                        VerifySignatureResult {1 result (bool), 2 error (string)}.
// A test registers more by name (PluginOptions.foreignFunctions.functions); any other name answers NotFound.
import { createPublicKey, verify } from 'node:crypto';
import { WasmResult } from './abi.ts';
import { textDecoder, textEncoder } from './memory.ts';
import { decodeMessage, encodeMessage } from './protobuf.ts';
import type { HostState } from './state.ts';

const HASHES = new Set(['sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

export function verifySignature(args: Uint8Array): { result: Uint8Array } | WasmResult {
  const fields = decodeMessage(args);
  if (fields === null) return WasmResult.ParseFailure;
  const bytes = (n: number): Uint8Array => {
    const v = fields.get(n);
    return v instanceof Uint8Array ? v : new Uint8Array(0);
  };
  const hash = textDecoder.decode(bytes(1));
  const answer = (ok: boolean, error: string) => ({
    result: encodeMessage([
      [1, ok],
      [2, textEncoder.encode(error)],
    ]),
  });
  if (!HASHES.has(hash)) return answer(false, hash + ' is not supported.');
  let ok = false;
  try {
    const key = createPublicKey({ key: Buffer.from(bytes(2)), format: 'der', type: 'spki' });
    ok = verify(hash, bytes(4), key, bytes(3));
  } catch {
    return answer(false, 'Failed to verify digest. Error code 0');
  }
  return ok ? answer(true, '') : answer(false, 'Failed to verify digest. Error code 0');
}

/** A foreign function a test registers: the argument bytes in, result bytes (or a WasmResult status) out. */
export type ForeignFunction = (args: Uint8Array) => Uint8Array | number;

export function foreignImports(host: HostState, opts: { verifySignature: boolean; functions?: Record<string, ForeignFunction> }) {
  const { mem } = host;
  return {
    proxy_call_foreign_function(
      namePtr: number,
      nameSize: number,
      argPtr: number,
      argSize: number,
      resultPtrPtr: number,
      resultSizePtr: number,
    ): number {
      const name = mem.string(namePtr, nameSize);
      const registered = opts.functions?.[name];
      if (registered !== undefined) {
        const out = registered(mem.bytes(argPtr, argSize));
        if (typeof out === 'number') return out;
        mem.copyOut(out, resultPtrPtr, resultSizePtr);
        return WasmResult.Ok;
      }
      if (name === 'clear_route_cache') {
        const stream = host.stream();
        if (stream !== null) stream.routeCacheClears++;
        return WasmResult.Ok;
      }
      if (name === 'verify_signature' && opts.verifySignature) {
        const out = verifySignature(mem.bytes(argPtr, argSize));
        if (typeof out === 'number') return out;
        mem.copyOut(out.result, resultPtrPtr, resultSizePtr);
        return WasmResult.Ok;
      }
      return WasmResult.NotFound;
    },
  };
}
