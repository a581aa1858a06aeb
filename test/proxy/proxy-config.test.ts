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
});
