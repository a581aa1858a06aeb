// Quiet responses through the workspace proxy, through a real `wsm serve` (in process) and a real local
// workspace: an event stream that stays silent for longer than the proxy's timeout in force still gets
// its next event (a body is never timed), while a workspace that never sends headers is given up on
// after WSM_PROXY_HEADERS_TIMEOUT_SECONDS. The setting is 1 s here so that the silence can be short.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { eventually, type TestServer } from '../support/server.js';
import { proxyGet, startProxiedServer } from './helpers.js';

const QUIET_SERVER = fileURLToPath(new URL('./fixtures/quiet-server.cjs', import.meta.url));
const name = `pq-${Math.random().toString(36).slice(2, 8)}`;
let server: TestServer & { proxyUrl: string };

/** The events of a text/event-stream answer, read until the stream ends or fails (then `error` says how). */
async function readEvents(url: string, headers: Record<string, string>): Promise<{ status: number; type: string | null; events: string[]; error?: string }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(20_000) });
  const events: string[] = [];
  let buffered = '';
  const decoder = new TextDecoder();
  const reader = res.body!.getReader();
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      buffered += decoder.decode(read.value, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        events.push(buffered.slice(0, end).replace(/^data: /, ''));
        buffered = buffered.slice(end + 2);
      }
    }
  } catch (err) {
    return { status: res.status, type: res.headers.get('content-type'), events, error: String((err as Error).cause ?? err) };
  }
  return { status: res.status, type: res.headers.get('content-type'), events };
}

describe('quiet responses through the workspace proxy', () => {
  before(async () => {
    server = await startProxiedServer({ env: { WSM_PROXY_HEADERS_TIMEOUT_SECONDS: '1' } });
    const config = `command: ${JSON.stringify([process.execPath, QUIET_SERVER])}\n`;
    const res = await server.request('POST', '/api/workspaces', { body: { workspace: { name, cluster_type: 'local', container_config: config } } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    await eventually(async () => (await proxyGet(`${server.proxyUrl}/${name}/`, { 'OAUTH-TOKEN': server.adminToken })).text === 'up', 30_000, `${name} to answer`);
  });

  after(async () => {
    await server?.close();
  });

  test('an event stream silent for longer than the timeout in force is not cut: both events arrive', async () => {
    const got = await readEvents(`${server.proxyUrl}/${name}/events?quiet_ms=2500`, { 'OAUTH-TOKEN': server.adminToken, accept: 'text/event-stream' });
    assert.deepEqual(got, { status: 200, type: 'text/event-stream', events: ['first', 'second'] });
  });

  test('headers that do not come within WSM_PROXY_HEADERS_TIMEOUT_SECONDS: 504', async () => {
    const slow = await proxyGet(`${server.proxyUrl}/${name}/late?after_ms=4000`, { 'OAUTH-TOKEN': server.adminToken });
    assert.equal(slow.status, 504, slow.text);
    // Within it, the late answer passes.
    const inTime = await proxyGet(`${server.proxyUrl}/${name}/late?after_ms=200`, { 'OAUTH-TOKEN': server.adminToken });
    assert.equal(inTime.status, 200, inTime.text);
    assert.equal(inTime.text, 'late answer');
  });
});
