// Runs one echo upstream (used by envoy/docker-compose.yaml): node --import tsx host/upstream/serve.ts <identity> [port]
import { EchoServer } from './echo.ts';

const [identity, port] = process.argv.slice(2);
if (!identity) {
  console.error('usage: serve.ts <identity, e.g. service_b/v1> [port, default 8080]');
  process.exit(2);
}
const server = await EchoServer.start(identity, { host: '0.0.0.0', port: Number(port ?? 8080) });
console.log(`echo upstream ${identity} listening on ${server.url}`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
