// Modules built with the proxy-wasm Rust SDK (test/fixtures/rust/: the SDK's published examples
// rewritten by us, and a raw-ABI probe that logs every host call's answer), each scenario's log
// lines compared with what Envoy 1.40 logged. Rebuild the modules: node scripts/build-rust-fixtures.mjs.
import { join } from 'node:path';
import { repoRoot } from '../../host/envoy/install.ts';
import type { GrpcHandler } from '../../host/upstream/grpc.ts';
import type { Scenario } from './types.ts';

const wasmDir = join(repoRoot, 'test/fixtures/rust/wasm');
const probe = (config = '') => [{ name: 'probe', config }];
const example = (name: string) => [{ name: 'sdk-examples', config: name }];
const ALL = /^(probe|sdk-examples): (?!vm_start|vm started|configure)/;

export const scenarios: Scenario[] = [
  {
    name: 'probe: GET, no body',
    wasmDir,
    filters: probe(),
    steps: [{ request: { path: '/get' }, expect: { status: 200, servedBy: 'service_b' } }],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=1',
        'probe: maps h0=0/6 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_headers eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_body size=217 eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/217',
        'probe: response_body size=0 eos=1',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: log',
        'probe: maps h0=0/7 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'probe: POST with a body',
    wasmDir,
    filters: probe(),
    steps: [{ request: { method: 'POST', path: '/post', body: 'hello' }, expect: { status: 200, servedBy: 'service_b' } }],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=0',
        'probe: maps h0=0/7 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: request_body size=5 eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/5 b1=0/0',
        'probe: request_body size=0 eos=1',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_headers eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_body size=245 eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/245',
        'probe: response_body size=0 eos=1',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: log',
        'probe: maps h0=0/8 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'probe: StopIteration on request headers with a body following, continued by an http call',
    wasmDir,
    filters: probe(),
    steps: [
      {
        request: { method: 'POST', path: '/post', body: 'hello', headers: { 'x-probe': 'stop-headers' } },
        expect: { status: 200, servedBy: 'service_b' },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=0',
        'probe: maps h0=0/8 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: call rc=0',
        'probe: http_call_response headers=true body=true trailers=0',
        'probe: continue rc=0/0',
        'probe: request_body size=5 eos=1',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/5 b1=0/0',
        'probe: response_headers eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_body size=270 eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/270',
        'probe: response_body size=0 eos=1',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: log',
        'probe: maps h0=0/9 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'sdk auth example: POST waits for the callout before its body',
    wasmDir,
    filters: example('auth'),
    steps: [{ request: { method: 'POST', path: '/post', body: 'hello' }, expect: { status: 200, servedBy: 'service_b' } }],
    logLines: {
      match: ALL,
      expect: [
        'sdk-examples: request headers /post eos=false',
        'sdk-examples: call answered 200 (157 body bytes)',
        'sdk-examples: request body 5 bytes eos=true',
        'sdk-examples: response headers 200 eos=false',
        'sdk-examples: response body 245 bytes eos=false',
        'sdk-examples: response body 0 bytes eos=true',
        'sdk-examples: log /post 200',
      ],
    },
  },
];

const more: Scenario[] = [
  {
    name: 'probe: StopIterationAndBuffer on request body chunks until end of stream',
    wasmDir,
    filters: probe(),
    steps: [
      {
        request: { method: 'POST', path: '/post', body: 'hello', headers: { 'x-probe': 'buffer-body' } },
        expect: { status: 200, servedBy: 'service_b' },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=0',
        'probe: maps h0=0/8 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: request_body size=5 eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/5 b1=0/0',
        'probe: request_body size=5 eos=1',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/5 b1=0/0',
        'probe: response_headers eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_body size=269 eos=0',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/269',
        'probe: response_body size=0 eos=1',
        'probe: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: log',
        'probe: maps h0=0/9 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'probe: local reply with a body and a content-type of its own',
    wasmDir,
    filters: probe(),
    steps: [
      {
        request: {
          path: '/r',
          headers: {
            'x-probe': 'reply',
            'x-probe-status': '403',
            'x-probe-body': 'denied',
            'x-probe-header': 'content-type=application/json',
          },
        },
        expect: { status: 403, body: 'denied', responseHeaders: { 'content-type': 'application/json', 'content-length': '6' } },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=1',
        'probe: maps h0=0/10 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: send_local_response rc=0',
        'probe: response_headers eos=0',
        'probe: maps h0=0/10 h1=0/0 h2=0/3 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_body size=6 eos=1',
        'probe: maps h0=0/10 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/6',
        'probe: log',
        'probe: maps h0=0/10 h1=0/0 h2=0/5 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'probe: local reply without a body',
    wasmDir,
    filters: probe(),
    steps: [{ request: { path: '/r', headers: { 'x-probe': 'reply', 'x-probe-status': '204' } }, expect: { status: 204, body: '' } }],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=1',
        'probe: maps h0=0/8 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: send_local_response rc=0',
        'probe: response_headers eos=1',
        'probe: maps h0=0/8 h1=0/0 h2=0/1 h3=0/0 b0=0/0 b1=0/0',
        'probe: log',
        'probe: maps h0=0/8 h1=0/0 h2=0/3 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'probe: local reply with a gRPC status',
    wasmDir,
    filters: probe(),
    steps: [
      {
        request: { path: '/r', headers: { 'x-probe': 'reply', 'x-probe-status': '200', 'x-probe-grpc': '7', 'x-probe-body': 'nope' } },
        expect: { status: 200 },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=1',
        'probe: maps h0=0/10 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: send_local_response rc=0',
        'probe: response_headers eos=0',
        'probe: maps h0=0/10 h1=0/0 h2=0/3 h3=0/0 b0=0/0 b1=0/0',
        'probe: response_body size=4 eos=1',
        'probe: maps h0=0/10 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/4',
        'probe: log',
        'probe: maps h0=0/10 h1=0/0 h2=0/5 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    // Envoy's log phase reads the maps (pairs, values) but neither sizes nor writes them: the size and
    // write calls answer BadArgument there (measured; the harness answered sizes and wrote until
    // 2026-12-07). So telemetry's byte counts come from request.total_size / response.total_size.
    name: 'probe: header map sizes in each phase',
    wasmDir,
    filters: probe(),
    steps: [{ request: { path: '/get', headers: { 'x-probe': 'sizes' } }, expect: { status: 200 } }],
    logLines: {
      match: /^probe: (sizes|late_replace)/,
      expect: [
        'probe: sizes h0=0/130 h1=2/0 h2=2/0 h3=2/0',
        'probe: sizes h0=2/0 h1=2/0 h2=0/158 h3=2/0',
        'probe: sizes h0=2/0 h1=2/0 h2=2/0 h3=2/0',
        'probe: late_replace h0=2 h2=2',
      ],
    },
  },
  {
    // How Envoy's header map orders and joins a filter's edits (HeaderMapImpl): a replace moves the
    // header to the end (a pseudo-header to the end of the pseudo-headers), an add of a present inline
    // header (content-type) joins it with ','. The harness replaced in place and never joined until
    // 2026-12-07 (host/harness/header-edits.ts).
    name: 'probe: header edits in map order',
    wasmDir,
    filters: probe(),
    steps: [
      {
        request: {
          path: '/get',
          headers: [
            ['x-e-dup', 'a'],
            ['x-e-mid', 'm'],
            ['x-e-dup', 'b'],
            ['content-type', 'text/plain'],
            ['x-e-gone', 'g1'],
            ['x-e-gone', 'g2'],
            ['x-probe', 'edits'],
          ],
        },
        expect: { status: 200 },
      },
    ],
    logLines: {
      match: /^probe: edits/,
      expect: [
        'probe: edits replace=0 add=0 add=0 add=0 add=0 replace=0 remove=0 :authority=service_b :method=GET :scheme=http ' +
          ':path=/edited x-e-mid=m content-type=text/plain,x x-e-dup=c x-e-mid=n x-e-new=1 x-e-upper=u',
      ],
    },
  },
  {
    name: 'probe: attributes in each phase',
    wasmDir,
    filters: probe(
      'request.path\nrequest.url_path\nrequest.method\nrequest.host\nrequest.scheme\nrequest.protocol\nrequest.headers.x-a\nresponse.code\nresponse.headers.x-served-by\nnode.id\nplugin_name\nplugin_root_id\nplugin_vm_id\nhost\nrequest.size\nresponse.code_details',
    ),
    steps: [{ request: { method: 'POST', path: '/p?q=1', body: 'abc', headers: { 'x-a': '1' } }, expect: { status: 200 } }],
    logLines: {
      match: /prop/,
      expect: [
        'probe: request_headers prop request.path rc=0 /p?q=1',
        'probe: request_headers prop request.url_path rc=0 /p',
        'probe: request_headers prop request.method rc=0 POST',
        'probe: request_headers prop request.host rc=0 service_b',
        'probe: request_headers prop request.scheme rc=0 http',
        'probe: request_headers prop request.protocol rc=0 HTTP/1.1',
        'probe: request_headers prop request.headers.x-a rc=0 1',
        'probe: request_headers prop response.code rc=1 ',
        'probe: request_headers prop response.headers.x-served-by rc=1 ',
        'probe: request_headers prop node.id rc=1 ',
        'probe: request_headers prop plugin_name rc=0 probe',
        'probe: request_headers prop plugin_root_id rc=0 probe',
        'probe: request_headers prop plugin_vm_id rc=0 probe',
        'probe: request_headers prop host rc=1 ',
        'probe: request_headers prop request.size rc=0 i64:3',
        'probe: request_headers prop response.code_details rc=1 ',
        'probe: response_headers prop request.path rc=1 ',
        'probe: response_headers prop request.url_path rc=1 ',
        'probe: response_headers prop request.method rc=1 ',
        'probe: response_headers prop request.host rc=1 ',
        'probe: response_headers prop request.scheme rc=1 ',
        'probe: response_headers prop request.protocol rc=0 HTTP/1.1',
        'probe: response_headers prop request.headers.x-a rc=1 ',
        'probe: response_headers prop response.code rc=0 i64:200',
        'probe: response_headers prop response.headers.x-served-by rc=0 service_b',
        'probe: response_headers prop node.id rc=1 ',
        'probe: response_headers prop plugin_name rc=0 probe',
        'probe: response_headers prop plugin_root_id rc=0 probe',
        'probe: response_headers prop plugin_vm_id rc=0 probe',
        'probe: response_headers prop host rc=1 ',
        'probe: response_headers prop request.size rc=0 i64:3',
        'probe: response_headers prop response.code_details rc=0 via_upstream',
        'probe: log prop request.path rc=0 /p?q=1',
        'probe: log prop request.url_path rc=0 /p',
        'probe: log prop request.method rc=0 POST',
        'probe: log prop request.host rc=0 service_b',
        'probe: log prop request.scheme rc=0 http',
        'probe: log prop request.protocol rc=0 HTTP/1.1',
        'probe: log prop request.headers.x-a rc=0 1',
        'probe: log prop response.code rc=0 i64:200',
        'probe: log prop response.headers.x-served-by rc=0 service_b',
        'probe: log prop node.id rc=1 ',
        'probe: log prop plugin_name rc=0 probe',
        'probe: log prop plugin_root_id rc=0 probe',
        'probe: log prop plugin_vm_id rc=0 probe',
        'probe: log prop host rc=1 ',
        'probe: log prop request.size rc=0 i64:3',
        'probe: log prop response.code_details rc=0 via_upstream',
      ],
    },
  },
  {
    name: 'probe built for ABI 0.2.0 (as Go-SDK modules export) loads and runs',
    wasmDir,
    filters: [{ name: 'probe-abi-0-2-0', config: '' }],
    steps: [{ request: { path: '/get' }, expect: { status: 200, servedBy: 'service_b' } }],
    logLines: {
      match: /^probe-abi-0-2-0: (?!vm_start|configure)/,
      expect: [
        'probe-abi-0-2-0: request_headers eos=1',
        'probe-abi-0-2-0: maps h0=0/6 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe-abi-0-2-0: response_headers eos=0',
        'probe-abi-0-2-0: maps h0=0/0 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
        'probe-abi-0-2-0: response_body size=217 eos=0',
        'probe-abi-0-2-0: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/217',
        'probe-abi-0-2-0: response_body size=0 eos=1',
        'probe-abi-0-2-0: maps h0=0/0 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe-abi-0-2-0: log',
        'probe-abi-0-2-0: maps h0=0/7 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'sdk headers example: adds x-powered-by; /hello answers itself',
    wasmDir,
    filters: example('headers'),
    steps: [
      { request: { path: '/get' }, expect: { status: 200, responseHeaders: { 'x-powered-by': 'proxy-wasm' } } },
      {
        request: { path: '/hello' },
        expect: { status: 200, body: 'Hello, World!\n', responseHeaders: { 'powered-by': 'proxy-wasm', 'x-powered-by': 'proxy-wasm' } },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'sdk-examples: request headers /get eos=true',
        'sdk-examples: response headers 200 eos=false',
        'sdk-examples: response body 217 bytes eos=false',
        'sdk-examples: response body 0 bytes eos=true',
        'sdk-examples: log /get 200',
        'sdk-examples: request headers /hello eos=true',
        'sdk-examples: response headers 200 eos=false',
        'sdk-examples: response body 14 bytes eos=true',
        'sdk-examples: log /hello 200',
      ],
    },
  },
  {
    name: 'sdk body example: the response body is buffered to its end and redacted',
    wasmDir,
    filters: example('body'),
    steps: [
      {
        request: { method: 'POST', path: '/p', body: 'a secret' },
        expect: { status: 200, body: /^Original message body \(\d+ bytes\) redacted\.\n$/ },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'sdk-examples: request headers /p eos=false',
        'sdk-examples: request body 8 bytes eos=false',
        'sdk-examples: request body 0 bytes eos=true',
        'sdk-examples: response headers 200 eos=false',
        'sdk-examples: response body 245 bytes eos=false',
        'sdk-examples: response body 245 bytes eos=true',
        'sdk-examples: log /p 200',
      ],
    },
  },
  {
    name: 'sdk auth example: a refused callout answers 403 and the body never reaches the filter',
    wasmDir,
    filters: example('auth'),
    routes: [{ cluster: 'outbound|80||service_b', path: '/deny', status: 401, body: 'no' }],
    steps: [
      {
        request: { method: 'POST', path: '/post', body: 'hello', headers: { 'x-auth-path': '/deny' } },
        expect: { status: 403, body: 'Access forbidden.\n', servedBy: null },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'sdk-examples: request headers /post eos=false',
        'sdk-examples: call answered 401 (2 body bytes)',
        'sdk-examples: response headers 403 eos=false',
        'sdk-examples: response body 18 bytes eos=true',
        'sdk-examples: log /post 403',
      ],
    },
  },
];
scenarios.push(...more);

scenarios.push(
  {
    name: 'probe: local reply with a gRPC status to a gRPC request',
    wasmDir,
    filters: probe(),
    steps: [
      {
        request: {
          method: 'POST',
          path: '/pkg.Svc/Call',
          body: 'x',
          headers: {
            'content-type': 'application/grpc',
            'x-probe': 'reply',
            'x-probe-status': '403',
            'x-probe-grpc': '7',
            'x-probe-body': 'nope',
          },
        },
        expect: {
          status: 200,
          body: '',
          responseHeaders: { 'content-type': 'application/grpc', 'grpc-status': '7', 'grpc-message': 'nope' },
        },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=0',
        'probe: maps h0=0/12 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: send_local_response rc=0',
        'probe: response_headers eos=1',
        'probe: maps h0=0/12 h1=0/0 h2=0/4 h3=0/0 b0=0/0 b1=0/0',
        'probe: log',
        'probe: maps h0=0/12 h1=0/0 h2=0/7 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
  {
    name: 'probe: local reply 403 without a body: content-length 0',
    wasmDir,
    filters: probe(),
    steps: [
      {
        request: { path: '/r', headers: { 'x-probe': 'reply', 'x-probe-status': '403' } },
        expect: { status: 403, body: '', responseHeaders: { 'content-length': '0', 'content-type': null } },
      },
    ],
    logLines: {
      match: ALL,
      expect: [
        'probe: request_headers eos=1',
        'probe: maps h0=0/8 h1=0/0 h2=0/0 h3=0/0 b0=0/0 b1=0/0',
        'probe: send_local_response rc=0',
        'probe: response_headers eos=1',
        'probe: maps h0=0/8 h1=0/0 h2=0/1 h3=0/0 b0=0/0 b1=0/0',
        'probe: log',
        'probe: maps h0=0/8 h1=0/0 h2=0/3 h3=0/0 b0=0/0 b1=0/0',
      ],
    },
  },
);

const starts = (vms: number) => Array.from({ length: vms }, () => ['sdk-examples: vm started', 'sdk-examples: configured: auth']).flat();
scenarios.push(
  {
    name: 'sdk example: one worker is three VMs (base, main thread, worker), each started and configured',
    wasmDir,
    filters: example('auth'),
    steps: [{ request: { path: '/get' }, expect: { status: 200 } }],
    logLines: { match: /: (vm started|configured)/, expect: starts(3) },
  },
  {
    name: 'sdk example: two workers are four VMs',
    wasmDir,
    filters: example('auth'),
    workers: 2,
    steps: [{ request: { path: '/get' }, expect: { status: 200 } }],
    // The workers start at once: their lines interleave.
    logLines: { match: /: (vm started|configured)/, expect: starts(4), unordered: true },
  },
);

scenarios.push({
  name: 'probe: a trap answers 503 and the failed VM answers every later request 503 too (fail closed)',
  wasmDir,
  filters: probe(),
  steps: [
    { request: { path: '/t', headers: { 'x-probe': 'trap' } }, expect: { status: 503, servedBy: null } },
    { request: { path: '/after' }, expect: { status: 503, servedBy: null } },
  ],
  logLines: { match: /^probe: request_headers/, expect: ['probe: request_headers eos=1'] },
});

/** probe.Echo/Chat: echoes each message, with metadata both ways; x-probe-meta `fail` answers NOT_FOUND trailers-only. */
const grpcEcho: GrpcHandler = (req) =>
  req.metadata.some(([k, v]) => k === 'x-probe-meta' && v === 'fail')
    ? { status: 5, statusMessage: 'no such chat' }
    : {
        initialMetadata: { 'x-server': 's1' },
        messages: req.messages.map((m) => `echo:${Buffer.from(m).toString()}`),
        trailingMetadata: { 'x-trailer': 't1' },
      };
const streamStep = (how: string) => ({
  request: { path: `/${how}`, headers: { 'x-stream': how } },
  expect: { status: 200, servedBy: 'service_b' },
});
scenarios.push({
  name: 'sdk stream example: a gRPC stream ended by a send, by proxy_grpc_close, cancelled, to an unknown cluster, failed by the server',
  wasmDir,
  filters: example('stream'),
  grpcClusters: { grpc: grpcEcho },
  steps: ['end', 'close', 'cancel', 'nope', 'fail'].map(streamStep),
  logLines: {
    match: /sdk-examples: (stream|request headers|log)/,
    mask: [[/service-time=\d+/, 'service-time=N']],
    expect: [
      'sdk-examples: request headers /end eos=true',
      'sdk-examples: stream initial metadata 5: :status=200 content-type=application/grpc x-server=s1 x-envoy-upstream-service-time=N',
      'sdk-examples: stream message 8 bytes: echo:one',
      'sdk-examples: stream message 8 bytes: echo:two',
      'sdk-examples: stream trailing metadata 2: grpc-status=0 x-trailer=t1',
      'sdk-examples: stream closed 0 (status 0 via_upstream)',
      'sdk-examples: log /end 200',
      'sdk-examples: request headers /close eos=true',
      'sdk-examples: stream initial metadata 5: :status=200 content-type=application/grpc x-server=s1 x-envoy-upstream-service-time=N',
      'sdk-examples: stream message 8 bytes: echo:one',
      'sdk-examples: stream message 8 bytes: echo:two',
      'sdk-examples: stream trailing metadata 2: grpc-status=0 x-trailer=t1',
      'sdk-examples: stream closed 0 (status 0 via_upstream)',
      'sdk-examples: log /close 200',
      // Cancelled: no callback follows.
      'sdk-examples: request headers /cancel eos=true',
      'sdk-examples: stream cancelled',
      'sdk-examples: log /cancel 200',
      'sdk-examples: request headers /nope eos=true',
      'sdk-examples: stream open failed: ParseFailure',
      'sdk-examples: log /nope 200',
      // Trailers-only: empty initial metadata, the response headers as trailing metadata.
      'sdk-examples: request headers /fail eos=true',
      'sdk-examples: stream initial metadata 0: ',
      'sdk-examples: stream trailing metadata 6: :status=200 content-type=application/grpc grpc-status=5 grpc-message=no such chat x-envoy-upstream-service-time=N',
      'sdk-examples: stream closed 5 (status 5 no such chat{via_upstream})',
      'sdk-examples: log /fail 200',
    ],
  },
});

const grpcAuth = (req: { message: Uint8Array }) =>
  Buffer.from(req.message).toString() === '/deny' ? { status: 7, statusMessage: 'denied' } : { message: 'ok' };
scenarios.push(
  {
    name: 'sdk grpc example: a gRPC call answered OK lets the request through, a failure status answers 403',
    wasmDir,
    filters: example('grpc'),
    grpcClusters: { grpc: grpcAuth },
    steps: [
      { request: { method: 'POST', path: '/allow', body: 'hi' }, expect: { status: 200, servedBy: 'service_b' } },
      { request: { path: '/deny' }, expect: { status: 403, body: 'Access forbidden.\n' } },
    ],
    logLines: {
      match: ALL,
      expect: [
        'sdk-examples: request headers /allow eos=false',
        'sdk-examples: grpc answered 0 (2 bytes: ok)',
        'sdk-examples: request body 2 bytes eos=true',
        'sdk-examples: response headers 200 eos=false',
        'sdk-examples: response body 243 bytes eos=false',
        'sdk-examples: response body 0 bytes eos=true',
        'sdk-examples: log /allow 200',
        'sdk-examples: request headers /deny eos=true',
        'sdk-examples: grpc answered 7 (0 bytes: )',
        'sdk-examples: response headers 403 eos=false',
        'sdk-examples: response body 18 bytes eos=true',
        'sdk-examples: log /deny 403',
      ],
    },
  },
  {
    name: 'probe: gRPC calls: an unknown cluster is ParseFailure, a cluster that does not speak gRPC fails INTERNAL',
    wasmDir,
    filters: probe(),
    steps: [
      { request: { path: '/a', headers: { 'x-probe': 'grpc', 'x-probe-cluster': 'nope' } }, expect: { status: 200 } },
      { request: { path: '/b', headers: { 'x-probe': 'grpc', 'x-probe-cluster': 'outbound|80||service_b' } }, expect: { status: 200 } },
    ],
    logLines: {
      match: /: (call|grpc_|continue)/,
      expect: ['probe: call rc=4', 'probe: call rc=0', 'probe: grpc_close status=13', 'probe: continue rc=0/0'],
    },
  },
);

const derived = [
  'source.address',
  'source.port',
  'destination.address',
  'destination.port',
  'connection.id',
  'connection.mtls',
  'connection.requested_server_name',
  'request.time',
  'request.duration',
  'request.total_size',
  'response.size',
  'response.total_size',
  'upstream.address',
  'upstream.port',
  'response.flags',
  'response.grpc_status',
  'xds.cluster_name',
  'xds.route_name',
  'xds.cluster_metadata',
  'xds.listener_direction',
  'request.id',
  'request.useragent',
  'connection.uri_san_peer_certificate',
  'upstream.transport_failure_reason',
  'request.headers.host',
  'request.headers.:authority',
  'xds.node.id',
  'xds.node.cluster',
];
scenarios.push({
  name: 'probe: attributes Envoy derives from the stream',
  wasmDir,
  filters: probe(derived.join('\n')),
  steps: [{ request: { method: 'POST', path: '/p', body: 'abc', headers: { 'user-agent': 'ua' } }, expect: { status: 200 } }],
  // Ports, times and ids differ per run: only that they are there is compared.
  logLines: {
    match: /^probe: log prop/,
    expect: [
      'probe: log prop source.address rc=0 *',
      'probe: log prop source.port rc=0 *',
      'probe: log prop destination.address rc=0 *',
      'probe: log prop destination.port rc=0 *',
      'probe: log prop connection.id rc=0 *',
      'probe: log prop connection.mtls rc=0 hex:00',
      'probe: log prop connection.requested_server_name rc=0 ',
      'probe: log prop request.time rc=0 *',
      'probe: log prop request.duration rc=0 *',
      'probe: log prop request.total_size rc=0 i64:182',
      'probe: log prop response.size rc=0 i64:258',
      'probe: log prop response.total_size rc=0 *',
      'probe: log prop upstream.address rc=0 *',
      'probe: log prop upstream.port rc=0 *',
      'probe: log prop response.flags rc=0 i64:0',
      'probe: log prop response.grpc_status rc=0 i64:2',
      'probe: log prop xds.cluster_name rc=0 outbound|80||service_b',
      'probe: log prop xds.route_name rc=0 ',
      'probe: log prop xds.cluster_metadata rc=0 ',
      'probe: log prop xds.listener_direction rc=0 i64:0',
      'probe: log prop request.id rc=0 *',
      'probe: log prop request.useragent rc=0 ua',
      'probe: log prop connection.uri_san_peer_certificate rc=1 ',
      'probe: log prop upstream.transport_failure_reason rc=0 ',
      'probe: log prop request.headers.host rc=0 service_b',
      'probe: log prop request.headers.:authority rc=0 service_b',
      'probe: log prop xds.node.id rc=0 sidecar~10.0.0.1~client.default~default.svc.cluster.local',
      'probe: log prop xds.node.cluster rc=0 client.default',
    ],
    mask: [
      [
        / (source\.address|source\.port|destination\.address|destination\.port|connection\.id|request\.time|request\.duration|upstream\.address|upstream\.port|request\.id|response\.total_size) rc=0 .*/,
        ' $1 rc=0 *',
      ],
    ],
  },
});
