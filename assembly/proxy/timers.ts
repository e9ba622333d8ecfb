// One-shot timers driven by the root context's tick. The SDK sets the host tick period to the
// nearest deadline while timers are pending, and back to the root's own period afterwards.
import { proxy_set_tick_period_milliseconds } from './hostcalls';
import { currentTimeMilliseconds } from './log';

/** Fires once when its delay has passed. `contextId` (if not 0) becomes the effective context first. */
export abstract class TimerHandler {
  contextId: u32 = 0;
  abstract onTimer(): void;
}

class Timer {
  constructor(
    public dueMs: u64,
    public handler: TimerHandler,
  ) {}
}

let timers = new Array<Timer>();
let userPeriodMs: u32 = 0;
let hostPeriodMs: u32 = 0;

function applyPeriod(now: u64): void {
  let period = userPeriodMs;
  for (let i = 0; i < timers.length; i++) {
    const remaining = timers[i].dueMs > now ? <u32>min<u64>(timers[i].dueMs - now, 60_000) : 1;
    if (period == 0 || remaining < period) period = remaining;
  }
  if (period != hostPeriodMs) {
    hostPeriodMs = period;
    proxy_set_tick_period_milliseconds(period);
  }
}

/** The root context's own periodic tick (0 turns it off). */
export function setTickPeriod(periodMs: u32): void {
  userPeriodMs = periodMs;
  applyPeriod(currentTimeMilliseconds());
}

export function tickPeriod(): u32 {
  return userPeriodMs;
}

export function setTimer(delayMs: u32, handler: TimerHandler): void {
  const now = currentTimeMilliseconds();
  timers.push(new Timer(now + delayMs, handler));
  applyPeriod(now);
}

export function pendingTimerCount(): i32 {
  return timers.length;
}

/** Removes and returns the handlers that are due; re-arms the tick for the rest. */
export function takeDueTimers(): TimerHandler[] {
  const now = currentTimeMilliseconds();
  const due = new Array<TimerHandler>();
  const rest = new Array<Timer>();
  for (let i = 0; i < timers.length; i++) {
    if (timers[i].dueMs <= now) due.push(timers[i].handler);
    else rest.push(timers[i]);
  }
  timers = rest;
  applyPeriod(now);
  return due;
}
