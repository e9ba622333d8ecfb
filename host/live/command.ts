// `asmesh envoy --istio DIR --watch`: a live sidecar (sidecar.ts) until Ctrl-C, one line per event.
import { EXIT_INTERNAL, EXIT_OK } from '../cli/errors.ts';
import { LiveSidecar, type LiveOptions } from './sidecar.ts';

export { checkLiveOptions } from './sidecar.ts';

export async function watchCommand(opts: Omit<LiveOptions, 'log'>, print: (s: string) => void): Promise<number> {
  const stamp = () => new Date().toISOString().slice(11, 23);
  const sidecar = await LiveSidecar.start({ ...opts, log: (l) => print(`${stamp()} ${l}\n`) });
  print(`Envoy ready (pid ${sidecar.envoy.pid}), live from ${opts.istioDir}\n  admin: ${sidecar.envoy.adminUrl}\n`);
  for (const [name, url] of Object.entries(sidecar.envoy.listeners)) print(`  listener ${name}: ${new URL(url).host}\n`);
  if (sidecar.certificate)
    print(`  certificate serial ${sidecar.certificate.serial}, renewed at ${sidecar.certificate.renewAt.toISOString()}\n`);
  print(`  xDS files: ${sidecar.xdsDir}\nwatching ${opts.istioDir}; Ctrl-C to stop\n`);
  return new Promise<number>((res) => {
    const stop = () => void sidecar.stop().then(() => res(EXIT_OK));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    sidecar.envoy.child.once('exit', (code) => {
      print(`Envoy exited (code ${code})\n`);
      res(EXIT_INTERNAL);
    });
  });
}
