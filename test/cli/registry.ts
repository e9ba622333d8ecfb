// A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1:<ephemeral port>,
// its config and storage in a temporary directory, stopped and removed by stop().
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../host/until.ts';

export interface Registry {
  /** host:port */
  host: string;
  logs(): string;
  stop(): Promise<void>;
}

/** The path of a Debian tool, or null (`docker-registry`, `skopeo`). */
export function debianTool(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export async function startRegistry(): Promise<Registry> {
  const bin = debianTool('docker-registry');
  if (!bin) throw new Error('docker-registry is not installed (apt-get install docker-registry; .ci/run installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'asmesh-registry-'));
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: info }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }`,
      'http: { addr: "127.0.0.1:0", secret: asmesh-test }',
      '',
    ].join('\n'),
  );
  const child = spawn(bin, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stdout!.on('data', (d) => log.push(String(d)));
  child.stderr!.on('data', (d) => log.push(String(d)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // distribution logs the bound address ("listening on 127.0.0.1:PORT") once it accepts connections.
    const host = await until(
      () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}:\n${log.join('')}`);
        return /listening on (127\.0\.0\.1:\d+)/.exec(log.join(''))?.[1];
      },
      20_000,
      () => `docker-registry to listen:\n${log.join('')}`,
    );
    await until(
      () =>
        fetch(`http://${host}/v2/`).then(
          (r) => r.status === 200,
          () => false,
        ),
      10_000,
      'the registry to answer /v2/',
    );
    return { host, logs: () => log.join(''), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
