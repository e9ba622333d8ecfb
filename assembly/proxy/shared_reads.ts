// mesh.wasm only (headers.ts calls this where ASMESH_COMPOSITE is defined): while the composite runs
// its parts on one callback (shareHeaderReads), a part's snapshot of a map is the one an earlier part
// read, with the parts' writes since applied as Envoy applies them (PairsIndex.edited): one host read
// of the request headers per callback instead of one per part. A write whose result the copy cannot
// know, or that the host refused, drops the copy, and the next snapshot reads the host again.
// The globals are @lazy (compiled only where used, so no other filter carries them): not TypeScript
// syntax, hence this file's place in .prettierignore.
import { WasmResult } from './enums';
import { HeaderEdit, PairsIndex } from './pairs';

@lazy let sharing = false;
@lazy let sharedType: i32 = -1;
@lazy let shared: PairsIndex | null = null;
// The last write, applied when a part reads the map again (the last part's writes never are).
@lazy let pendingEdit: i32 = -1;
@lazy let pendingName: ArrayBuffer = new ArrayBuffer(0);
@lazy let pendingValue: ArrayBuffer = new ArrayBuffer(0);

/** Starts (true) or ends (false) one callback's shared reads; either way drops the copy. */
export function shareHeaderReads(on: bool): void {
  if (!isDefined(ASMESH_COMPOSITE)) ERROR('shareHeaderReads needs the build option --use ASMESH_COMPOSITE=1');
  sharing = on;
  shared = null;
  pendingEdit = -1;
}

/** The shared copy of map `mapType`, or null. */
export function sharedRead(mapType: i32): PairsIndex | null {
  if (sharedType != mapType) return null;
  applyPending();
  return shared;
}

function applyPending(): void {
  const copy = shared;
  if (copy === null || pendingEdit < 0) return;
  shared = copy.edited(<HeaderEdit>pendingEdit, pendingName, pendingValue);
  pendingEdit = -1;
}

/** A host read of map `mapType`: kept for the next parts while sharing. */
export function keepRead(mapType: i32, index: PairsIndex): void {
  if (!sharing || index.bad) return;
  shared = index;
  sharedType = mapType;
  pendingEdit = -1;
}

/**
 * A write of map `mapType` (`result`: the host's answer): kept to apply to the copy at the next read
 * (the buffers are the SDK caller's, unchanged until the callback ends), or the copy dropped.
 */
export function noteWrite(mapType: i32, result: WasmResult, edit: HeaderEdit, name: ArrayBuffer, value: ArrayBuffer): void {
  if (shared === null || sharedType != mapType) return;
  if (result != WasmResult.Ok) {
    shared = null;
    pendingEdit = -1;
    return;
  }
  applyPending();
  pendingEdit = edit;
  pendingName = name;
  pendingValue = value;
}

/** A write that replaced the whole map `mapType`: the copy dropped. */
export function dropRead(mapType: i32): void {
  if (sharedType == mapType) {
    shared = null;
    pendingEdit = -1;
  }
}
