// authz and telemetry in one real Envoy 1.40 chain (steering, authz, telemetry as envoy/sidecar.yaml
// orders them): a verified JWT's claim becomes a label on /stats/prometheus through filter state
// `asmesh.jwt_payload` (set by authz's VM, read by telemetry's), nested claims
// (`request.auth.claims[org][team]`) and list claims (items joined with ','), and requests authz answers itself
// (401, 403) are counted with the caller's identity from the peer header, as Istio counts them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { statsTags } from '../../filters/manifest.ts';
import { Upstreams } from '../../host/upstream/echo.ts';
import { ISSUER, jwks, makeKey, token } from '../../host/fixtures/jwt.ts';
import {
  select,
  total,
  prometheusWhen,
  peerHeader,
  checkExposition,
  NODE_PRODUCTPAGE,
  SLEEP,
  RATINGS,
  ISTIO_NAME_LINT,
  STATS_FLUSH_MS,
} from './helpers.ts';

test('Envoy: authz + telemetry: a JWT claim label on /stats/prometheus; 401/403 counted with the caller identity', async (t) => {
  const rsa = await makeKey('RS256', 'rsa-1');
  const nowSec = Math.floor(Date.now() / 1000);
  const gold = await token(rsa, {
    nowSec,
    payload: { group: 'gold-users', sub: 'alice', org: { team: 'payments', tier: { level: 2 } }, groups: ['admins', 'ops'] },
  });
  const silver = await token(rsa, { nowSec, payload: { group: 'silver', sub: 'bob', org: { team: 'search' }, groups: ['viewers'] } });
  const expired = await token(rsa, { nowSec: nowSec - 7200, expSeconds: 3600, payload: { group: 'gold-users' } });
  const custom = ['user_group', 'user_team', 'user_level', 'user_groups'];
  const rules = statsTags(custom);
  const upstreams = await Upstreams.start();
  let envoy: Envoy | null = null;
  try {
    envoy = await startEnvoy({
      statsFlushMs: STATS_FLUSH_MS,
      filters: [
        {
          name: 'authz',
          config: {
            jwtRules: [{ issuer: ISSUER, jwks: jwks(rsa) }],
            policies: [{ name: 'jwt-only', action: 'ALLOW', rules: [{ from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }] }] }],
          },
        },
        {
          name: 'telemetry',
          config: {
            accessLog: { enabled: false },
            metrics: [
              {
                overrides: [
                  {
                    tagOverrides: {
                      user_group: { value: "request.auth.claims['group']" },
                      user_team: { value: 'request.auth.claims[org][team]' },
                      user_level: { value: 'request.auth.claims.org.tier.level' },
                      user_groups: { value: "request.auth.claims['groups']" },
                    },
                  },
                ],
              },
            ],
          },
        },
      ],
      upstreams: upstreams.endpoints(),
      node: { id: 'productpage', cluster: 'productpage', metadata: NODE_PRODUCTPAGE },
      statsTags: rules,
    });
    const send = async (tok: string | null, peer: typeof SLEEP | null, status: number) => {
      const headers: Record<string, string> = { host: 'service_b' };
      if (tok !== null) headers.authorization = `Bearer ${tok}`;
      if (peer !== null) headers['x-asmesh-peer'] = peerHeader(peer);
      assert.equal((await envoy!.request('/info', { headers })).status, status);
    };
    for (let i = 0; i < 3; i++) await send(gold, SLEEP, 200);
    await send(silver, RATINGS, 200);
    for (let i = 0; i < 2; i++) await send(null, RATINGS, 403);
    await send(expired, SLEEP, 401);
    const { text, exp } = await prometheusWhen(envoy, (e) => total(e, 'istio_request_duration_milliseconds_count') === 7);
    const series = select(exp, 'istio_requests_total')
      .map((s) => `${s.labels.response_code} ${s.labels.source_workload} ${s.labels.user_group}=${s.value}`)
      .sort();
    assert.deepEqual(series, ['200 ratings-v2 silver=1', '200 sleep gold-users=3', '401 sleep unknown=1', '403 ratings-v2 unknown=2']);
    const claims = select(exp, 'istio_requests_total')
      .map((s) => `${s.labels.response_code} ${s.labels.user_team} ${s.labels.user_level} ${s.labels.user_groups}=${s.value}`)
      .sort();
    assert.deepEqual(claims, [
      '200 payments 2 admins,ops=3',
      '200 search unknown viewers=1',
      '401 unknown unknown unknown=1',
      '403 unknown unknown unknown=2',
    ]);
    const [denied] = select(exp, 'istio_requests_total', { response_code: '403' });
    assert.equal(denied!.labels.source_workload_namespace, 'test');
    assert.equal(denied!.labels.source_app, 'ratings');
    assert.equal(denied!.labels.destination_workload, 'productpage-v1');
    assert.equal(total(exp, 'istio_request_duration_milliseconds_count', { user_group: 'gold-users' }), 3);
    assert.equal(await envoy.metric('asmesh_authz_denied_total'), 2);
    assert.equal(await envoy.metric('asmesh_authz_unauthenticated_total'), 1);
    const lints = checkExposition(t, text, (l) => /^(istio|asmesh)_/.test(l));
    if (lints !== null) assert.deepEqual(lints, [ISTIO_NAME_LINT]);
  } finally {
    await envoy?.stop();
    await upstreams.close();
  }
});
