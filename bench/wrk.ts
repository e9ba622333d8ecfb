// wrk (Debian package) as bench:envoy's load generator: one thread pinned to a CPU (taskset), keep-alive
// connections, each request from a Lua script (end-user alternating jason/alice, a bearer token from a
// file, cycling). Asynchronous, so Envoy's log pipes keep draining meanwhile.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WrkRun {
  requests: number;
  seconds: number;
  rps: number;
  /** Non-2xx/3xx answers and socket errors. */
  errors: number;
}

export function haveWrk(): boolean {
  return spawnSync('sh', ['-c', 'command -v wrk']).status === 0;
}

const SCRIPT = `
local tokens, peer, host, path = {}, "", "", "/"
function init(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  peer, host, path = args[2], args[3], args[4]
end
local i = 0
function request()
  i = i + 1
  local user = (i % 2 == 0) and "jason" or "alice"
  return wrk.format("GET", path, { ["Host"] = host, ["end-user"] = user, ["authorization"] = "Bearer " .. tokens[(i % #tokens) + 1], ["x-asmesh-peer"] = peer })
end
`;

/** Writes the Lua script and a token file under `dir`; returns what wrkRun needs. */
export function wrkRequests(dir: string, name: string, tokens: string[], peer: string, host: string, path: string): string[] {
  const script = join(dir, 'requests.lua');
  writeFileSync(script, SCRIPT);
  const file = join(dir, `${name}.tokens`);
  writeFileSync(file, tokens.join('\n') + '\n');
  return ['-s', script, '--', file, peer, host, path];
}

/** wrk -t1 against `url` for `seconds`, pinned to `cpu`. */
export async function wrkRun(url: string, seconds: number, connections: number, cpu: number, request: string[]): Promise<WrkRun> {
  const args = ['-c', String(cpu), 'wrk', '-t', '1', '-c', String(connections), '-d', `${seconds}s`, '--latency'];
  // wrk wants the URL before the script's `--` arguments.
  const at = request.indexOf('--');
  const child = spawn('taskset', [...args, ...request.slice(0, at), url, ...request.slice(at)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const m = /(\d+) requests in ([\d.]+)(m?s)/.exec(out);
  if (code !== 0 || m === null) throw new Error(`wrk failed (exit ${code}):\n${out}`);
  const requests = Number(m[1]);
  const secs = Number(m[2]) / (m[3] === 'ms' ? 1000 : 1);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0);
  return { requests, seconds: secs, rps: requests / secs, errors: non2xx + socketErrors };
}
