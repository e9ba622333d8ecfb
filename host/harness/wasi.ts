// The WASI subset Envoy registers (proxy-wasm-cpp-host exports.cc). Output to fd 1/2 becomes
// log lines (Envoy logs stdout at info, stderr at error); there is no file system.
import { randomFillSync } from 'node:crypto';
import type { HostState } from './state.ts';

const ERRNO_SUCCESS = 0,
  ERRNO_BADF = 8,
  ERRNO_INVAL = 28,
  ERRNO_NOSYS = 52;

export class ProcExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
  }
}

export function wasiImports(host: HostState) {
  const { mem } = host;
  const emptyList = (countPtr: number, sizePtr: number) => {
    mem.writeU32(countPtr, 0);
    mem.writeU32(sizePtr, 0);
    return ERRNO_SUCCESS;
  };
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, writtenPtr: number): number {
      if (fd !== 1 && fd !== 2) return ERRNO_BADF;
      let text = '';
      let written = 0;
      for (let i = 0; i < iovsLen; i++) {
        const header = mem.bytes(iovs + 8 * i, 8);
        const view = new DataView(header.buffer);
        const len = view.getUint32(4, true);
        text += mem.string(view.getUint32(0, true), len);
        written += len;
      }
      host.logs.push({ level: fd === 1 ? 'info' : 'error', message: text.replace(/\n$/, ''), contextId: host.contextId() });
      mem.writeU32(writtenPtr, written);
      return ERRNO_SUCCESS;
    },
    fd_read: () => ERRNO_NOSYS,
    fd_seek: () => ERRNO_NOSYS,
    fd_close: () => ERRNO_NOSYS,
    fd_fdstat_get: () => ERRNO_NOSYS,
    fd_prestat_get: () => ERRNO_BADF, // no pre-opened directories
    fd_prestat_dir_name: () => ERRNO_NOSYS,
    path_open: () => ERRNO_NOSYS,
    environ_sizes_get: emptyList,
    environ_get: () => ERRNO_SUCCESS,
    args_sizes_get: emptyList,
    args_get: () => ERRNO_SUCCESS,
    clock_time_get(clockId: number, _precision: bigint, timePtr: number): number {
      if (clockId !== 0 && clockId !== 1) return ERRNO_INVAL; // realtime and monotonic only
      mem.writeU64(timePtr, host.nowNs);
      return ERRNO_SUCCESS;
    },
    random_get(ptr: number, len: number): number {
      const bytes = new Uint8Array(len >>> 0);
      randomFillSync(bytes);
      mem.writeBytes(ptr, bytes);
      return ERRNO_SUCCESS;
    },
    proc_exit(code: number): never {
      throw new ProcExit(code);
    },
  };
}
