// Where /metrics is served and who may read it: never on the API port without a metrics token; with
// one, 401 without it (API tokens do not count) and the text with it; on --metrics-port without a
// token unless one is set. /healthz and /readyz answer on both ports, /api/status as before.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveServeConfig } from '../../src/cli/config.js';
import { eventually, startTestServer, type TestServer } from '../support/server.js';
import { parsePrometheusText, sumOf } from '../support/prom-text.js';
import { METRICS_TOKEN, scrape } from './helpers.js';

const servers: TestServer[] = [];
async function server(env: Record<string, string>): Promise<TestServer> {
  const s = await startTestServer({ env });
  servers.push(s);
  return s;
}

after(async () => {
  for (const s of servers) await s.close();
});

describe('GET /metrics', () => {
  test('without a metrics token and without a metrics port, it is not served at all', async () => {
    const s = await server({});
    const res = await fetch(`${s.url}/metrics`, { headers: { 'OAUTH-TOKEN': s.adminToken } });
    assert.equal(res.status, 404);
    assert.equal(s.server.metricsUrl, undefined);
  });

  test('with a metrics token: 401 without it, with a wrong one or with an owner API token; the text with it', async () => {
    const s = await server({ WSM_METRICS_TOKEN: METRICS_TOKEN });
    for (const headers of <Record<string, string>[]>[{}, { authorization: 'Bearer wrong-token-wrong-token' }, { authorization: `Bearer ${s.adminToken}` }, { 'OAUTH-TOKEN': s.adminToken }, { authorization: `Basic ${METRICS_TOKEN}` }]) {
      const res = await fetch(`${s.url}/metrics`, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      const body = await res.json();
      assert.equal(body.error.type, 'invalid_oauth_token');
      assert.match(body.error.message, /WSM_METRICS_TOKEN/);
    }
    const scraped = await scrape(s.url);
    assert.equal(sumOf(scraped, 'wsm_build_info'), 1);
    assert.ok(sumOf(scraped, 'process_cpu_user_seconds_total') > 0, 'Node process metrics are there');
    assert.ok(scraped.families.has('nodejs_eventloop_lag_seconds'));
    assert.equal(scraped.families.get('wsm_http_request_duration_seconds')?.type, 'histogram');
    assert.equal(scraped.families.get('wsm_operations_started_total')?.type, 'counter');
    // The 401s above were timed under the route template, the failed ones apart.
    assert.equal(sumOf(scraped, 'wsm_http_request_duration_seconds_count', { route: '/metrics', status_class: '4xx' }), 5);
  });

  test('an open event stream is one SSE client and one request in flight until it closes; it is not timed', async () => {
    const s = await server({ WSM_METRICS_TOKEN: METRICS_TOKEN });
    const before = await scrape(s.url);
    assert.equal(sumOf(before, 'wsm_sse_clients'), 0);
    const aborter = new AbortController();
    const stream = await fetch(`${s.url}/api/events`, { headers: { 'OAUTH-TOKEN': s.adminToken }, signal: aborter.signal });
    assert.equal(stream.status, 200);
    const open = await scrape(s.url);
    assert.equal(sumOf(open, 'wsm_sse_clients'), 1);
    assert.equal(sumOf(open, 'wsm_http_requests_in_flight'), 2, 'the stream and this scrape');
    aborter.abort();
    const closed = await eventually(async () => {
      const now = await scrape(s.url);
      return sumOf(now, 'wsm_sse_clients') === 0 ? now : undefined;
    }, 10_000, 'the stream to be counted closed');
    assert.equal(sumOf(closed, 'wsm_http_requests_in_flight'), 1, 'only this scrape');
    assert.equal(sumOf(closed, 'wsm_http_request_duration_seconds_count', { route: '/api/events' }), 0, 'a stream\'s lifetime is not a latency');
  });

  test('on --metrics-port without a token: served there, and not on the API port', async () => {
    const s = await server({ WSM_METRICS_PORT: '0' });
    assert.ok(s.server.metricsUrl, 'the metrics port is open');
    assert.notEqual(s.server.metricsUrl, s.url);
    assert.equal((await fetch(`${s.url}/metrics`)).status, 404);
    const res = await fetch(`${s.server.metricsUrl}/metrics`);
    assert.equal(res.status, 200);
    const scraped = parsePrometheusText(await res.text());
    assert.equal(sumOf(scraped, 'wsm_build_info'), 1);
    assert.equal((await fetch(`${s.server.metricsUrl}/api/workspaces`)).status, 404, 'the API is not on the metrics port');
    const health = await fetch(`${s.server.metricsUrl}/healthz`);
    assert.deepEqual(await health.json(), { status: 'alive' });
    const ready = await fetch(`${s.server.metricsUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).status, 'ready');
  });

  test('on --metrics-port with a token: the token is needed there too', async () => {
    const s = await server({ WSM_METRICS_PORT: '0', WSM_METRICS_TOKEN: METRICS_TOKEN });
    assert.equal((await fetch(`${s.server.metricsUrl}/metrics`)).status, 401);
    await scrape(s.server.metricsUrl!);
    await scrape(s.url);
  });

  test('a metrics token too short to be secret, or a bad port, is refused at start', () => {
    assert.throws(() => resolveServeConfig({}, { WSM_METRICS_TOKEN: 'short' }), (err: Error) => err instanceof ConfigError && /WSM_METRICS_TOKEN must be at least 16/.test(err.message));
    assert.throws(() => resolveServeConfig({ metricsPort: '70000' }, {}), (err: Error) => err instanceof ConfigError && /--metrics-port\/WSM_METRICS_PORT/.test(err.message));
    assert.throws(() => resolveServeConfig({}, { WSM_METRICS_WORKSPACE_LABELS: 'yes' }), (err: Error) => err instanceof ConfigError && /WSM_METRICS_WORKSPACE_LABELS must be true or false/.test(err.message));
  });
});

describe('health', () => {
  test('/healthz and /readyz without auth, /api/status unchanged', async () => {
    const s = await server({});
    const health = await fetch(`${s.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'alive' });
    const ready = await fetch(`${s.url}/readyz`);
    assert.equal(ready.status, 200);
    const body = await ready.json();
    assert.equal(body.status, 'ready');
    assert.equal(body.reason, undefined);
    assert.deepEqual(body.runtimes.local, { reachable: true });
    const status = await fetch(`${s.url}/api/status`);
    assert.equal(status.status, 200);
    assert.equal((await status.json()).status, 'ok');
  });
});
