// Envoy foreign functions: host features beyond the ABI (clear_route_cache, verify_signature, ...).
import { proxy_call_foreign_function } from './hostcalls';
import { WasmResult } from './enums';
import { RETURN_PTR, RETURN_SIZE, clearReturnSlots, discardReturnedBuffer, takeReturnedBuffer } from './memory';
import { decodeVerifySignatureResult, encodeVerifySignatureArguments } from './signature';

/** Result of a foreign-function call: the host status and, when Ok, its returned bytes. */
export class ForeignResult {
  constructor(
    public status: WasmResult,
    public data: ArrayBuffer,
  ) {}
  get ok(): bool {
    return this.status == WasmResult.Ok;
  }
}

function callForeign(name: usize, nameSize: usize, args: usize, argsSize: usize): WasmResult {
  clearReturnSlots();
  return <WasmResult>proxy_call_foreign_function(name, nameSize, args, argsSize, RETURN_PTR, RETURN_SIZE);
}

export function callForeignFunction(name: string, args: ArrayBuffer): ForeignResult {
  const nameBytes = String.UTF8.encode(name);
  const status = callForeign(changetype<usize>(nameBytes), nameBytes.byteLength, changetype<usize>(args), args.byteLength);
  const data = status == WasmResult.Ok ? takeReturnedBuffer() : new ArrayBuffer(0);
  return new ForeignResult(status, data);
}

/**
 * Asks Envoy to select the route again after the filter changed request headers.
 * Envoy 1.33+ no longer always does it by itself. Returns false when the host lacks the function.
 */
export function clearRouteCache(): bool {
  // Once per steered request: the name is static bytes, nothing is allocated or copied.
  const name = memory.data<u8>([0x63, 0x6c, 0x65, 0x61, 0x72, 0x5f, 0x72, 0x6f, 0x75, 0x74, 0x65, 0x5f, 0x63, 0x61, 0x63, 0x68, 0x65]);
  const status = callForeign(name, 17, 0, 0); // 'clear_route_cache'

  discardReturnedBuffer();
  return status == WasmResult.Ok;
}

export enum SignatureCheck {
  Valid,
  Invalid,
  Unavailable,
}

/**
 * Envoy's `verify_signature` (BoringSSL): RSA PKCS#1 v1.5 or ECDSA (DER signature) over `text`,
 * `hashFunction` one of sha256, sha384, sha512; `publicKeyDer` a DER SubjectPublicKeyInfo.
 * Unavailable when the host lacks the function (then verify in Wasm).
 */
export function verifySignature(
  hashFunction: string,
  publicKeyDer: ArrayBuffer,
  signature: ArrayBuffer,
  text: ArrayBuffer,
): SignatureCheck {
  const r = callForeignFunction('verify_signature', encodeVerifySignatureArguments(hashFunction, publicKeyDer, signature, text));
  if (r.status == WasmResult.NotFound) return SignatureCheck.Unavailable;
  if (!r.ok) return SignatureCheck.Invalid;
  return decodeVerifySignatureResult(r.data) ? SignatureCheck.Valid : SignatureCheck.Invalid;
}
