// Guessing tokens through the workspace proxy is limited as through the API: past the limit of failed
// authentications a client gets 429 with Retry-After, even with a valid token.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/server.js';
import { proxyGet, startProxiedServer } from './helpers.js';

let server: TestServer & { proxyUrl: string };

before(async () => {
  server = await startProxiedServer({ env: { WSM_AUTH_FAILURE_LIMIT: '3', WSM_AUTH_FAILURE_WINDOW_SECONDS: '600' } });
});
after(async () => {
  await server?.close();
});

test('three wrong tokens through the proxy, then even the right one is answered 429', async () => {
  for (let i = 0; i < 3; i++) {
    const res = await proxyGet(`${server.proxyUrl}/some-ws/`, { 'OAUTH-TOKEN': `wsm_wrong_${i}` });
    assert.equal(res.status, 401);
  }
  const limited = await proxyGet(`${server.proxyUrl}/some-ws/`, { 'OAUTH-TOKEN': server.adminToken });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.match(limited.json().error.message, /Too many failed authentications/);
});
