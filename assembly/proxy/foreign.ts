// Envoy foreign functions: host features beyond the ABI (clear_route_cache, verify_signature, ...).
import { proxy_call_foreign_function } from './hostcalls';
import { WasmResult } from './enums';
import { RETURN_PTR, RETURN_SIZE, clearReturnSlots, takeReturnedBuffer } from './memory';
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

export function callForeignFunction(name: string, args: ArrayBuffer): ForeignResult {
  const nameBytes = String.UTF8.encode(name);
  clearReturnSlots();
  const status = <WasmResult>(
    proxy_call_foreign_function(
      changetype<usize>(nameBytes),
      nameBytes.byteLength,
      changetype<usize>(args),
      args.byteLength,
      RETURN_PTR,
      RETURN_SIZE,
    )
  );
  const data = status == WasmResult.Ok ? takeReturnedBuffer() : new ArrayBuffer(0);
  return new ForeignResult(status, data);
}

/**
 * Asks Envoy to select the route again after the filter changed request headers.
 * Envoy 1.33+ no longer always does it by itself. Returns false when the host lacks the function.
 */
export function clearRouteCache(): bool {
  return callForeignFunction('clear_route_cache', new ArrayBuffer(0)).ok;
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
