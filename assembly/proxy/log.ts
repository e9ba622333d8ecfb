// Host logging and time.
import { proxy_log, proxy_get_log_level, proxy_get_current_time_nanoseconds } from './hostcalls';
import { LogLevel } from './enums';
import { RETURN_U64 } from './memory';

export function log(level: LogLevel, message: string): void {
  const bytes = String.UTF8.encode(message);
  proxy_log(level, changetype<usize>(bytes), bytes.byteLength);
}

export function logTrace(message: string): void {
  log(LogLevel.Trace, message);
}
export function logDebug(message: string): void {
  log(LogLevel.Debug, message);
}
export function logInfo(message: string): void {
  log(LogLevel.Info, message);
}
export function logWarn(message: string): void {
  log(LogLevel.Warn, message);
}
export function logError(message: string): void {
  log(LogLevel.Error, message);
}
export function logCritical(message: string): void {
  log(LogLevel.Critical, message);
}

/** The host's current log level: skip building expensive messages below it. */
export function logLevel(): LogLevel {
  store<u32>(RETURN_U64, <u32>LogLevel.Info);
  proxy_get_log_level(RETURN_U64);
  return <LogLevel>load<u32>(RETURN_U64);
}

/** Wall-clock time from the host, in nanoseconds since the Unix epoch. */
export function currentTimeNanoseconds(): u64 {
  store<u64>(RETURN_U64, 0);
  proxy_get_current_time_nanoseconds(RETURN_U64);
  return load<u64>(RETURN_U64);
}

export function currentTimeMilliseconds(): u64 {
  return currentTimeNanoseconds() / 1_000_000;
}
