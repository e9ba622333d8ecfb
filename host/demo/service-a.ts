// service_a for docker compose: forwards every request to its sidecar for host service_b.
//   node --import tsx host/demo/service-a.ts <port> <sidecar host:port>
import { startServiceA } from './mesh.ts';

const [port, sidecar] = process.argv.slice(2);
const m = /^(.+):(\d+)$/.exec(sidecar ?? '');
if (!port || !m) {
  console.error('usage: service-a.ts <port> <sidecar host:port>');
  process.exit(2);
}
const server = await startServiceA(Number(port), () => Number(m[2]), m[1], '0.0.0.0');
console.log(`service_a listening on :${port}, calling service_b through ${sidecar}`);
const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
