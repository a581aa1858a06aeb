// The proxy's settings: off unless a port is given, its own port, and clear refusals naming the setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, resolveServeConfig } from '../../src/cli/config.js';

test('the proxy is off by default, and on with --proxy-port or WSM_PROXY_PORT, on the API\'s host unless told', () => {
  assert.equal(resolveServeConfig({}, {}).proxy.port, undefined);
  const flagged = resolveServeConfig({ host: '0.0.0.0', proxyPort: '6790' }, {}).proxy;
  assert.equal(flagged.port, 6790);
  assert.equal(flagged.host, '0.0.0.0');
  assert.equal(resolveServeConfig({}, { WSM_PROXY_PORT: '7000', WSM_PROXY_HOST: '10.0.0.5' }).proxy.host, '10.0.0.5');
  const wake = resolveServeConfig({}, { WSM_PROXY_WAKE_TIMEOUT_SECONDS: '30', WSM_PROXY_WAKE_MAX_HELD: '5' }).proxy.wake;
  assert.equal(wake.timeoutMs, 30_000);
  assert.equal(wake.maxHeld, 5);
  assert.equal(resolveServeConfig({}, {}).proxy.wake.timeoutMs, 120_000);
  // A response's headers may take an hour by default; 0 is no limit.
  assert.equal(resolveServeConfig({}, {}).proxy.headersTimeoutMs, 3_600_000);
  assert.equal(resolveServeConfig({}, { WSM_PROXY_HEADERS_TIMEOUT_SECONDS: '0' }).proxy.headersTimeoutMs, 0);
  assert.equal(resolveServeConfig({}, { WSM_PROXY_HEADERS_TIMEOUT_SECONDS: '90' }).proxy.headersTimeoutMs, 90_000);
});

test('bad proxy settings are refused, naming the setting and what is allowed', () => {
  const refused = (flags: Record<string, string>, env: Record<string, string>, pattern: RegExp) =>
    assert.throws(() => resolveServeConfig(flags, env), (err: Error) => err instanceof ConfigError && pattern.test(err.message));
  refused({ proxyPort: '6789' }, {}, /--proxy-port\/WSM_PROXY_PORT must differ from the API's port \(6789\)/);
  refused({ proxyPort: 'x' }, {}, /--proxy-port\/WSM_PROXY_PORT must be a whole number from 0 to 65535/);
  refused({}, { WSM_PROXY_PUBLIC_URL: 'ftp://h' }, /WSM_PROXY_PUBLIC_URL must be an http:\/\/ or https:\/\/ URL/);
  refused({}, { WSM_PUBLIC_URL: 'https://h/?q=1' }, /WSM_PUBLIC_URL must be a base URL without \?query/);
  refused({}, { WSM_PROXY_WAKE_TIMEOUT_SECONDS: '0' }, /WSM_PROXY_WAKE_TIMEOUT_SECONDS must be a whole number from 1 to 3600/);
  refused({}, { WSM_PROXY_WAKE_MAX_HELD: '-1' }, /WSM_PROXY_WAKE_MAX_HELD/);
  refused({}, { WSM_PROXY_HEADERS_TIMEOUT_SECONDS: '1.5' }, /WSM_PROXY_HEADERS_TIMEOUT_SECONDS must be a whole number from 0 to 86400 \(got "1.5"\)/);
});

test('the API\'s own origin is refused unless --unsafe-proxy-on-api-origin says so; with it the proxy has no port of its own', () => {
  const refused = (flags: Record<string, string | boolean>, env: Record<string, string>, pattern: RegExp) =>
    assert.throws(() => resolveServeConfig(flags, env), (err: Error) => err instanceof ConfigError && pattern.test(err.message), JSON.stringify({ flags, env }));
  refused({ port: '7000', proxyPort: '7000' }, {}, /must differ from the API's port \(7000\).*--unsafe-proxy-on-api-origin/);
  refused({}, { WSM_PUBLIC_URL: 'https://wsm.example.com', WSM_PROXY_PUBLIC_URL: 'https://wsm.example.com/ws' }, /WSM_PROXY_PUBLIC_URL must be another origin than WSM_PUBLIC_URL \(both https:\/\/wsm\.example\.com\).*--unsafe-proxy-on-api-origin/);
  const unsafe = resolveServeConfig({ unsafeProxyOnApiOrigin: true }, {}).proxy;
  assert.equal(unsafe.enabled, true);
  assert.equal(unsafe.onApiOrigin, true);
  assert.equal(unsafe.port, undefined);
  assert.equal(resolveServeConfig({ port: '7000', proxyPort: '7000' }, { WSM_UNSAFE_PROXY_ON_API_ORIGIN: 'true' }).proxy.onApiOrigin, true);
  refused({ unsafeProxyOnApiOrigin: true, proxyPort: '7001' }, {}, /leave --proxy-port\/WSM_PROXY_PORT unset/);
  refused({ unsafeProxyOnApiOrigin: true, proxyHostDomain: 'ws.example.com' }, {}, /choose one/);
  refused({}, { WSM_UNSAFE_PROXY_ON_API_ORIGIN: 'yes' }, /WSM_UNSAFE_PROXY_ON_API_ORIGIN must be true or false/);
});

test('host routing: a DNS name as domain, and a public URL on that domain', () => {
  const host = resolveServeConfig({ proxyPort: '6790', proxyHostDomain: 'ws.example.com' }, {}).proxy;
  assert.deepEqual(host.routing, { mode: 'host', domain: 'ws.example.com' });
  assert.deepEqual(resolveServeConfig({ proxyPort: '6790' }, {}).proxy.routing, { mode: 'path' });
  assert.throws(() => resolveServeConfig({ proxyHostDomain: 'WS.example.com' }, {}), /--proxy-host-domain\/WSM_PROXY_HOST_DOMAIN must be a lower-case DNS name/);
  // A workspace named "wsm" would be served at the API's own host name.
  assert.throws(() => resolveServeConfig({ proxyPort: '6790', proxyHostDomain: 'example.com' }, { WSM_PUBLIC_URL: 'https://wsm.example.com' }), /must not contain the API's host name \(wsm\.example\.com\)/);
  assert.equal(resolveServeConfig({ proxyPort: '6790', proxyHostDomain: 'ws.example.com' }, { WSM_PUBLIC_URL: 'https://wsm.example.com' }).proxy.routing.mode, 'host');
  assert.throws(() => resolveServeConfig({}, { WSM_PROXY_HOST_DOMAIN: 'ws.example.com', WSM_PROXY_PUBLIC_URL: 'https://other.example.com' }), /WSM_PROXY_PUBLIC_URL's host name must be --proxy-host-domain/);
});

test('the cluster default for wake_on_request: off unless --wake-on-request-default or WSM_WAKE_ON_REQUEST_DEFAULT says true', () => {
  assert.equal(resolveServeConfig({}, {}).proxy.wake.wakeByDefault, false);
  assert.equal(resolveServeConfig({ wakeOnRequestDefault: 'true' }, {}).proxy.wake.wakeByDefault, true);
  assert.equal(resolveServeConfig({}, { WSM_WAKE_ON_REQUEST_DEFAULT: '1' }).proxy.wake.wakeByDefault, true);
  assert.throws(() => resolveServeConfig({}, { WSM_WAKE_ON_REQUEST_DEFAULT: 'sometimes' }), /--wake-on-request-default\/WSM_WAKE_ON_REQUEST_DEFAULT must be true or false \(got "sometimes"\)/);
});
