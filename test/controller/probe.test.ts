import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_PROBE, parseTime, probeSettingsFromEnv, probeVia, probeWorkspace, readProbeBody } from '../../src/controller/probe.js';

const fields = DEFAULT_PROBE.fields;

describe('readProbeBody', () => {
  test("Mage's answer: the later of user request and scheduler activity, and the active runs", () => {
    const r = readProbeBody({ statuses: [{ last_user_request: '2026-01-01T10:00:00', last_scheduler_activity: '2026-01-01T11:00:00+00:00', active_pipeline_run_count: 2 }] }, fields);
    assert.deepEqual(r, { ok: true, lastActivityMs: Date.parse('2026-01-01T11:00:00Z'), activeRuns: 2 });
  });

  test('missing times are no activity; a flat object is read too', () => {
    assert.deepEqual(readProbeBody({ last_user_request: null, active_pipeline_run_count: 0 }, fields), { ok: true, lastActivityMs: undefined, activeRuns: 0 });
  });

  test('nonsense is an error that names the field, never activity', () => {
    const bad = readProbeBody({ statuses: [{ last_user_request: 'yesterday' }] }, fields);
    assert.equal(bad.ok, false);
    assert.match((bad as { error: string }).error, /last_user_request/);
    assert.equal(readProbeBody([1, 2], fields).ok, true);
    assert.equal(readProbeBody('text', fields).ok, false);
    assert.equal(readProbeBody({ active_pipeline_run_count: 'many' }, fields).ok, false);
  });

  test('custom field paths', () => {
    const r = readProbeBody({ data: { seen: 1_700_000_000, busy: 0 } }, { last_user_request: 'data.seen', last_scheduler_activity: 'data.none', active_pipeline_run_count: 'data.busy' });
    assert.deepEqual(r, { ok: true, lastActivityMs: 1_700_000_000_000, activeRuns: 0 });
  });

  test('parseTime: zoned, unzoned (UTC), epoch seconds and milliseconds', () => {
    assert.equal(parseTime('2026-01-01T00:00:00'), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(parseTime('2026-01-01T02:00:00+02:00'), Date.parse('2026-01-01T00:00:00Z'));
    assert.equal(parseTime(1_700_000_000), 1_700_000_000_000);
    assert.equal(parseTime(1_700_000_000_123), 1_700_000_000_123);
    assert.equal(parseTime(null), undefined);
    assert.equal(parseTime({}), 'invalid');
  });
});

describe('probeWorkspace', () => {
  let server: http.Server;
  let address: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url?.startsWith('/api/statuses')) {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ statuses: [{ last_user_request: '2026-01-01T00:00:00Z', active_pipeline_run_count: 0 }] }));
      } else if (req.url === '/slow') {
        res.write('{'); // and never more
      } else if (req.url === '/html') {
        res.end('<html>');
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test('reads the default path', async () => {
    assert.deepEqual(await probeWorkspace(address, DEFAULT_PROBE), { ok: true, lastActivityMs: Date.parse('2026-01-01T00:00:00Z'), activeRuns: 0 });
  });

  test('failures are results, bounded by the timeout', async () => {
    const slow = await probeWorkspace(address, { ...DEFAULT_PROBE, path: '/slow', timeoutMs: 300 });
    assert.equal(slow.ok, false);
    assert.match((slow as { error: string }).error, /within 300 ms/);
    assert.match((await probeWorkspace(address, { ...DEFAULT_PROBE, path: '/nope' }) as { error: string }).error, /HTTP 404/);
    assert.match((await probeWorkspace(address, { ...DEFAULT_PROBE, path: '/html' }) as { error: string }).error, /JSON/);
    const refused = await probeWorkspace('127.0.0.1:1', DEFAULT_PROBE);
    assert.equal(refused.ok, false);
  });
});

describe('probeSettingsFromEnv', () => {
  test('defaults, a global override and one per cluster type', () => {
    const s = probeSettingsFromEnv(
      { WSM_PROBE_PATH: '/status', WSM_PROBE_DOCKER_PATH: '', WSM_PROBE_FIELDS: '{"active_pipeline_run_count":"runs"}', WSM_PROBE_TIMEOUT_SECONDS: '2' },
      ['local', 'docker', 'k8s'],
    );
    assert.equal(s.get('local')!.path, '/status');
    assert.equal(s.get('docker')!.path, '', 'empty turns it off for docker');
    assert.equal(s.get('k8s')!.fields.active_pipeline_run_count, 'runs');
    assert.equal(s.get('k8s')!.fields.last_user_request, DEFAULT_PROBE.fields.last_user_request);
    assert.equal(s.get('local')!.timeoutMs, 2000);
    assert.deepEqual(probeSettingsFromEnv({}, ['local']).get('local'), DEFAULT_PROBE);
    assert.throws(() => probeSettingsFromEnv({ WSM_PROBE_FIELDS: '{' }, ['local']), /WSM_PROBE_FIELDS/);
  });
});

describe('probeVia (through the runtime, e.g. the Kubernetes pod proxy)', () => {
  const settings = { ...DEFAULT_PROBE, timeoutMs: 300 };
  test('reads the answer like a direct probe, and turns every failure into a result naming the target', async () => {
    const paths: string[] = [];
    const ok = await probeVia(async (path) => {
      paths.push(path);
      return { status: 200, body: JSON.stringify({ statuses: [{ last_user_request: '2026-01-01T00:00:00', active_pipeline_run_count: 2 }] }) };
    }, 'workspace w', settings);
    assert.deepEqual(ok, { ok: true, lastActivityMs: Date.parse('2026-01-01T00:00:00Z'), activeRuns: 2 });
    assert.deepEqual(paths, ['/api/statuses?_format=with_activity_details']);
    const down = await probeVia(async () => ({ status: 503, body: 'no endpoints' }), 'workspace w', settings);
    assert.deepEqual(down, { ok: false, error: '/api/statuses?_format=with_activity_details of workspace w answered HTTP 503' });
    const broken = await probeVia(async () => Promise.reject(new Error('socket hang up')), 'workspace w', settings);
    assert.match((broken as { error: string }).error, /of workspace w: socket hang up$/);
    const never = await probeVia(() => new Promise(() => undefined), 'workspace w', settings);
    assert.match((never as { error: string }).error, /no answer from .* within 300 ms/);
  });
});
