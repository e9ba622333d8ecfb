// Replacements for the AssemblyScript runtime's default imports (env.abort, env.trace, env.seed),
// which Envoy does not provide. asconfig.json routes them here with --use.
import { proxy_log, wasi_random_get } from './hostcalls';
import { LogLevel } from './enums';

function logCritical(text: string): void {
  const bytes = String.UTF8.encode(text);
  proxy_log(LogLevel.Critical, changetype<usize>(bytes), bytes.byteLength);
}

/** abort(): log where and why, then trap, so the host applies its failure policy. */
export function abortHandler(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = 'asmesh: abort: ' + (message !== null ? message : '(no message)');
  if (fileName !== null) text += ' at ' + fileName + ':' + line.toString() + ':' + column.toString();
  logCritical(text);
  unreachable();
}

/** trace(): debug output goes to the host log at trace level. */
export function traceHandler(message: string, n: i32 = 0, a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0): void {
  let text = 'trace: ' + message;
  const args: f64[] = [a0, a1, a2, a3, a4];
  for (let i = 0; i < n && i < 5; i++) text += ' ' + args[i].toString();
  const bytes = String.UTF8.encode(text);
  proxy_log(LogLevel.Trace, changetype<usize>(bytes), bytes.byteLength);
}

const SEED_BUF: usize = memory.data(8);

/** seed(): Math.random's seed comes from the host's randomness (WASI random_get). */
export function seedHandler(): f64 {
  wasi_random_get(SEED_BUF, 8);
  return <f64>load<u64>(SEED_BUF);
}

/** 64 random bits from the host, for decisions that must not be predictable. */
export function randomU64(): u64 {
  wasi_random_get(SEED_BUF, 8);
  return load<u64>(SEED_BUF);
}
