// Loaded into every test file's process by run-node-tests.mjs: appends the file's wall time (process
// start to exit, hooks and Envoy start-ups included) to $ASMESH_TEST_TIMES, one JSON line.
import { appendFileSync } from 'node:fs';

const out = process.env.ASMESH_TEST_TIMES;
if (out && process.env.NODE_TEST_CONTEXT && process.argv[1])
  process.on('exit', () => appendFileSync(out, `${JSON.stringify({ file: process.argv[1], ms: Math.round(performance.now()) })}\n`));
