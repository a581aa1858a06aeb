// Limits around authentication, over real HTTP: failed tokens per client are limited (429 with
// Retry-After), the session cookie is Secure behind a declared HTTPS proxy and only then, forged
// X-Forwarded-* headers from an undeclared peer change nothing, and grants name a valid workspace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveServeConfig } from '../../src/cli/config.js';
import { eventually, startTestServer, type TestServer } from '../support/server.js';

const LIMIT = 5;
const WINDOW_SECONDS = 3;

let trusting: TestServer;
let plain: TestServer;

before(async () => {
  const limits = { WSM_AUTH_FAILURE_LIMIT: String(LIMIT), WSM_AUTH_FAILURE_WINDOW_SECONDS: String(WINDOW_SECONDS) };
  // The tests connect from 127.0.0.1: declared as the proxy, X-Forwarded-For names the client.
  trusting = await startTestServer({ env: { ...limits, WSM_TRUSTED_PROXIES: '127.0.0.1' } });
  plain = await startTestServer({ env: limits });
});
after(async () => {
  await trusting?.close();
  await plain?.close();
});

const wrong = (srv: TestServer, headers: Record<string, string> = {}) => srv.request('GET', '/api/workspaces', { token: 'wsm_guess', headers });

describe('failed authentication is limited per client', () => {
  test('after the limit of 401s a client gets 429 with Retry-After, even with a valid token, until the window ends', async () => {
    const client = { 'x-forwarded-for': '198.51.100.1' };
    const viewer = await trusting.token('viewer');
    // Successful requests are never counted.
    for (let i = 0; i < LIMIT * 3; i++) assert.equal((await trusting.request('GET', '/api/workspaces', { token: viewer, headers: client })).status, 200);
    for (let i = 0; i < LIMIT; i++) assert.equal((await wrong(trusting, client)).status, 401, `failure ${i + 1}`);

    const limited = await wrong(trusting, client);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.type, 'too_many_requests');
    assert.equal(limited.body.error.code, 429);
    assert.match(limited.body.error.message, /Too many failed authentications from 198\.51\.100\.1/);
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= WINDOW_SECONDS, `Retry-After ${limited.headers.get('retry-after')}`);

    // A lucky guess would look like this: refused too, so the limit cannot be used as an oracle.
    assert.equal((await trusting.request('GET', '/api/workspaces', { token: viewer, headers: client })).status, 429);
    const signIn = await trusting.request('POST', '/api/session', { token: null, body: { token: viewer }, headers: client });
    assert.equal(signIn.status, 429);
    // Routes that declare themselves public stay open: readiness, the API document, the console page
    // (whose answer depends on a build having made its assets: only that it is not refused counts here).
    for (const path of ['/api/status', '/api/openapi.json']) {
      assert.equal((await trusting.request('GET', path, { token: null, headers: client })).status, 200, path);
    }
    assert.notEqual((await trusting.request('GET', '/apps/workspaces', { token: null, headers: client })).status, 429);
    // An API path no route serves is limited like one that exists, so it cannot be used to probe.
    assert.equal((await trusting.request('GET', '/api/no-such-route', { token: viewer, headers: client })).status, 429);

    // Another client is not affected.
    assert.equal((await trusting.request('GET', '/api/workspaces', { token: viewer, headers: { 'x-forwarded-for': '198.51.100.2' } })).status, 200);

    // Once the window has passed, the valid token works again (429s do not extend the window).
    await eventually(async () => (await trusting.request('GET', '/api/workspaces', { token: viewer, headers: client })).status === 200, (WINDOW_SECONDS + 5) * 1000, 'the window to end');
  });

  test('sign-in with wrong tokens counts as failed authentication', async () => {
    const client = { 'x-forwarded-for': '198.51.100.3' };
    for (let i = 0; i < LIMIT; i++) {
      const res = await trusting.request('POST', '/api/session', { token: null, body: { token: `wrong-${i}` }, headers: client });
      assert.equal(res.status, 401);
    }
    assert.equal((await trusting.request('POST', '/api/session', { token: null, body: { token: 'wrong' }, headers: client })).status, 429);
  });

  test('without declared proxies, a forged X-Forwarded-For does not escape the limit', async () => {
    for (let i = 0; i < LIMIT; i++) assert.equal((await wrong(plain, { 'x-forwarded-for': `203.0.113.${i}` })).status, 401);
    const res = await wrong(plain, { 'x-forwarded-for': '203.0.113.200' });
    assert.equal(res.status, 429);
    assert.match(res.body.error.message, /from 127\.0\.0\.1/);
    // The tests below use this server from the same address.
    await eventually(async () => (await plain.request('GET', '/api/workspaces')).status === 200, (WINDOW_SECONDS + 5) * 1000, 'the window to end');
  });
});

describe('the session cookie behind a proxy', () => {
  const signIn = (srv: TestServer, headers: Record<string, string>) => srv.request('POST', '/api/session', { token: null, body: { token: srv.adminToken }, headers });

  test('is Secure when a declared proxy says the client used HTTPS', async () => {
    const res = await signIn(trusting, { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.20' });
    assert.equal(res.status, 200);
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^oauth_token=/);
    assert.match(cookie, /; Secure(;|$)/);
    assert.match(cookie, /HttpOnly/);
  });

  test('is not Secure over plain HTTP', async () => {
    const res = await signIn(trusting, { 'x-forwarded-proto': 'http', 'x-forwarded-for': '198.51.100.21' });
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.headers.get('set-cookie') ?? '', /Secure/);
  });

  test('a forged X-Forwarded-Proto from an undeclared peer is ignored', async () => {
    const res = await signIn(plain, { 'x-forwarded-proto': 'https' });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('set-cookie') ?? '', /^oauth_token=/);
    assert.doesNotMatch(res.headers.get('set-cookie') ?? '', /Secure/);
  });
});

describe('the origin a cookie-signed write must come from, behind a proxy', () => {
  const proxied = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'wsm.example.com', origin: 'https://wsm.example.com' };
  const write = async (srv: TestServer, headers: Record<string, string>) => {
    const session = await srv.request('POST', '/api/session', { token: null, body: { token: srv.adminToken }, headers: { 'x-forwarded-for': '198.51.100.30' } });
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0]!;
    return srv.request('PUT', '/api/cluster_settings', { token: null, body: { cluster_settings: {} }, headers: { cookie, ...headers } });
  };

  test('is the public one a declared proxy reports', async () => {
    const res = await write(trusting, { ...proxied, 'x-forwarded-for': '198.51.100.30' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test('is not what an undeclared peer claims', async () => {
    const res = await write(plain, proxied);
    assert.equal(res.status, 403);
    assert.equal(res.body.error.type, 'csrf_rejected');
  });
});

describe('configuration', () => {
  const resolve = (env: Record<string, string>, flags = {}) => resolveServeConfig(flags, env);

  test('trusted proxies: addresses, CIDR ranges and named ranges; the flag wins over the variable', () => {
    assert.deepEqual(resolve({}).trustedProxies, []);
    assert.deepEqual(resolve({ WSM_TRUSTED_PROXIES: '10.0.0.1, 10.1.0.0/16,loopback,fd00::/8' }).trustedProxies, ['10.0.0.1', '10.1.0.0/16', 'loopback', 'fd00::/8']);
    assert.deepEqual(resolve({ WSM_TRUSTED_PROXIES: '10.0.0.1' }, { trustedProxies: '192.0.2.1' }).trustedProxies, ['192.0.2.1']);
    for (const bad of ['*', 'true', 'proxy.example.com', '10.0.0.0/33', '10.0.0.1/8/1']) {
      assert.throws(() => resolve({ WSM_TRUSTED_PROXIES: `10.0.0.1,${bad}` }), (err: Error) => err instanceof ConfigError && err.message.includes('WSM_TRUSTED_PROXIES') && err.message.includes(bad), bad);
    }
  });

  test('the failed-authentication limit: 30 a minute by default, 0 turns it off, nonsense is refused', () => {
    const defaults = resolve({});
    assert.equal(defaults.authFailureLimit, 30);
    assert.equal(defaults.authFailureWindowSeconds, 60);
    assert.equal(resolve({ WSM_AUTH_FAILURE_LIMIT: '0' }).authFailureLimit, 0);
    assert.throws(() => resolve({ WSM_AUTH_FAILURE_LIMIT: '-1' }), /WSM_AUTH_FAILURE_LIMIT/);
    assert.throws(() => resolve({ WSM_AUTH_FAILURE_WINDOW_SECONDS: '0' }), /WSM_AUTH_FAILURE_WINDOW_SECONDS/);
  });
});

describe('grants', () => {
  test('a grant on an invalid workspace name is a 400 naming the field, and is not stored', async () => {
    const created = await plain.request('POST', '/api/tokens', { body: { role: 'viewer', name: 'grantee' } });
    assert.equal(created.status, 201);
    const id = created.body.token.id as string;
    const res = await plain.request('PUT', `/api/tokens/${id}/grants/${encodeURIComponent('../../NOT A NAME')}`, { body: { role: 'editor' } });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.type, 'validation_error');
    assert.deepEqual(res.body.error.errors.map((e: { field: string }) => e.field), ['workspace']);
    assert.deepEqual(await plain.server.store.listGrants(id), []);
    const good = await plain.request('PUT', `/api/tokens/${id}/grants/some-workspace`, { body: { role: 'editor' } });
    assert.equal(good.status, 200);
  });

  test('a token lifetime past ten years is a 400 naming expires_in_seconds', async () => {
    const res = await plain.request('POST', '/api/tokens', { body: { role: 'viewer', expires_in_seconds: 10 * 365 * 86400 + 1 } });
    assert.equal(res.status, 400);
    assert.deepEqual(res.body.error.errors, [{ field: 'expires_in_seconds', message: 'must be at most 315360000' }]);
  });
});
