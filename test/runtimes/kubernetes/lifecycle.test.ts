// The Kubernetes runtime's lifecycle parts against the fake API server over HTTP and WebSocket: exec,
// the pod proxy, post-start records (file and kubelet event) and pre-start failures; and the post-start
// wrapper itself under both a GNU and a busybox shell.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { POST_START_WRAPPER, recordFromEvent } from '../../../src/runtimes/kubernetes/post-start.js';
import { applyUntil, assertNoInvalidWrites, eventually, harness, workspace, type Harness } from './helpers.js';

const lifecycle = (post_start: Record<string, unknown>) => ({ termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 }, post_start });

describe('Kubernetes lifecycle through the API server', () => {
  let h: Harness;
  before(async () => {
    h = await harness({ preStartTimeoutSeconds: 30 });
  });
  after(async () => {
    assertNoInvalidWrites(h.fake);
    await h.close();
  });

  test('exec runs over the exec WebSocket: output of both streams and the exit code', async () => {
    const ws = workspace('execme');
    await applyUntil(h.runtime, ws, 'RUNNING');
    h.fake.setExecHandler((pod, container, command) =>
      pod.metadata.name === 'execme-0' && container === 'execme-container' && command.join(' ') === 'sh -c exit 5' ? { stdout: 'out\n', stderr: 'err\n', exitCode: 5 } : undefined,
    );
    try {
      const failed = await h.runtime.exec(ws, ['sh', '-c', 'exit 5'], 5_000);
      assert.equal(failed.exit_code, 5);
      assert.equal(failed.timed_out, false);
      assert.match(failed.output, /out\n/);
      assert.match(failed.output, /err\n/);
      const missing = await h.runtime.exec(ws, ['nope'], 5_000);
      assert.equal(missing.exit_code, 127);
      assert.match(missing.output, /executable file not found/);
    } finally {
      h.fake.setExecHandler(undefined);
    }
  });

  test('httpGet reaches the pod through the pod proxy, with its path and query; a pod that does not answer is a 503', async () => {
    const ws = workspace('proxied', { container: { port: 8080 } });
    await applyUntil(h.runtime, ws, 'RUNNING');
    h.fake.setProxyHandler((pod, port, path) => (pod.metadata.name === 'proxied-0' && port === 8080 ? { status: 200, body: JSON.stringify({ path }) } : undefined));
    try {
      const answer = await h.runtime.httpGet(ws, '/api/statuses?_format=with_activity_details', 5_000);
      assert.equal(answer.status, 200);
      assert.deepEqual(JSON.parse(answer.body), { path: '/api/statuses?_format=with_activity_details' });
      const last = h.fake.requests.at(-1)!;
      assert.equal(last.path, '/api/v1/namespaces/team/pods/proxied-0:8080/proxy/api/statuses');
      h.fake.setProxyHandler(undefined);
      const down = await h.runtime.httpGet(ws, '/', 5_000);
      assert.equal(down.status, 503);
      assert.match(down.body, /connection refused/);
    } finally {
      h.fake.setProxyHandler(undefined);
    }
  });

  test('httpGet ends when its signal aborts, with the signal\'s reason, long before its own timeout', async () => {
    const ws = workspace('abandoned');
    await applyUntil(h.runtime, ws, 'RUNNING');
    h.fake.failNext({ method: 'GET', path: '/api/v1/namespaces/team/pods/abandoned-0:6789/proxy/' }, { hang: true });
    const caller = new AbortController();
    const asked = h.runtime.httpGet(ws, '/', 600_000, caller.signal);
    await eventually(() => h.fake.requests.some((r) => r.path === '/api/v1/namespaces/team/pods/abandoned-0:6789/proxy/'), 'the proxied request to arrive');
    caller.abort(new Error('the reconcile deadline passed'));
    await assert.rejects(asked, /the reconcile deadline passed/);
  });

  test('readPostStart: nothing before a run; the record the hook left while the container runs', async () => {
    const ws = workspace('poststart', { lifecycle: lifecycle({ command: ['sh', '-c', 'echo "a\tb \\\\ \\"c\\""; exit 0'] }) });
    assert.equal(await h.runtime.readPostStart(ws), undefined, 'no pod, no record');
    await applyUntil(h.runtime, ws, 'RUNNING');
    const record = await h.runtime.readPostStart(ws);
    assert.ok(record);
    assert.equal(record.ok, true);
    assert.deepEqual(record.steps.map((s) => [s.step, s.exit_code, s.timed_out]), [['command', 0, false]]);
    assert.equal(record.steps[0]!.output, 'a b \\ "c"');
    assert.ok(Date.parse(record.finished_at) >= Date.parse(record.started_at));
    assert.equal((await h.runtime.readPostStart(ws))?.run_id, record.run_id, 'the same run reads the same');
  });

  test('readPostStart with fail_on_error: the container was killed, the record comes from the FailedPostStartHook event', async () => {
    const ws = workspace('postfatal', { lifecycle: lifecycle({ command: ['sh', '-c', 'echo "schema v3 missing"; exit 6'], fail_on_error: true }) });
    const observed = await eventually(async () => {
      const o = await h.runtime.apply(ws);
      return o.conditions?.some((c) => c.reason === 'CrashLoopBackOff') ? o : undefined;
    }, 'the container to crash-loop');
    assert.equal(observed.status, 'FAILED', 'nothing runs while the kubelet backs off');
    const record = await h.runtime.readPostStart(ws);
    assert.ok(record);
    assert.equal(record.ok, false);
    assert.equal(record.fail_on_error, true);
    assert.deepEqual(record.steps.map((s) => [s.step, s.exit_code, s.output]), [['command', 6, 'schema v3 missing']]);
    // The events of the pod, of that reason only (a look at a StatefulSet without its pod lists its FailedCreate events too).
    const listed = h.fake.requests.filter((r) => r.path === '/api/v1/namespaces/team/events').map((r) => r.query.fieldSelector ?? '');
    assert.ok(listed.some((selector) => /^involvedObject\.uid=[^,]+,reason=FailedPostStartHook$/.test(selector)), JSON.stringify(listed));
  });

  test('a pre-start run killed by busybox timeout (143) at the limit is PreStartTimedOut; one killed early is not', async () => {
    const hooks = { pre_start: { path: 'p.sh', content: Buffer.from('sleep 600') } };
    h.fake.setPodHook((pod) =>
      pod.metadata.name === 'late-0'
        ? { kind: 'init-failed', container: 'pre-start', exitCode: 143, logs: 'Terminated\n', restarting: false, durationSeconds: 30 }
        : pod.metadata.name === 'killed-0'
          ? { kind: 'init-failed', container: 'pre-start', exitCode: 143, restarting: false, durationSeconds: 2 }
          : undefined,
    );
    try {
      const late = await applyUntil(h.runtime, workspace('late', { hooks }), 'FAILED');
      assert.equal(late.exit_code, 143);
      assert.equal(late.conditions?.find((c) => c.type === 'PreStartFailed')?.reason, 'PreStartTimedOut');
      assert.match(late.message ?? '', /timed out after 30 s\): Terminated$/);
      const killed = await applyUntil(h.runtime, workspace('killed', { hooks }), 'FAILED');
      const c = killed.conditions?.find((x) => x.type === 'PreStartFailed');
      assert.equal(c?.reason, 'PreStartFailed');
      assert.equal(c?.message, 'pre-start script exited with code 143: Error');
    } finally {
      h.fake.setPodHook(undefined);
    }
  });
});

describe('the post-start wrapper', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsm-wrapper-'));
  const wrapper = join(dir, 'run');
  writeFileSync(wrapper, POST_START_WRAPPER);
  const hook = join(dir, 'hook');
  writeFileSync(hook, '#!/bin/sh\nfor i in $(seq 1 30); do echo "line $i"; done\nexit 3\n', { mode: 0o755 });
  const shells = [['/bin/sh'], ['busybox', 'sh']].filter(([cmd]) => spawnSync(cmd!, ['-c', 'true']).status === 0);

  for (const shell of shells) {
    test(`under ${shell.join(' ')}: last 20 lines, exit code, warning mode exits 0, fail_on_error exits with the code`, () => {
      const result = join(dir, `result-${shell.length}.json`);
      const run = (fail: string, cmd: string, hookPath: string, limit = '5') => spawnSync(shell[0]!, [...shell.slice(1), wrapper, fail, cmd, hookPath, limit, result], { encoding: 'utf8' });
      const warn = run('0', 'echo ready', hook);
      assert.equal(warn.status, 0);
      const record = JSON.parse(readFileSync(result, 'utf8'));
      assert.equal(record.ok, false);
      assert.deepEqual(record.steps.map((s: any) => [s.step, s.exit_code]), [['command', 0], ['hook', 3]]);
      const lines = record.steps[1].output.split('\n');
      assert.deepEqual([lines.length, lines[0], lines.at(-1)], [20, 'line 11', 'line 30']);
      // The record is also printed, for the kubelet's event when the container is killed.
      assert.ok(warn.stdout.startsWith('wsm-post-start-result: {'));

      const fatal = run('1', 'echo about to fail; exit 7', hook);
      assert.equal(fatal.status, 7);
      const fromEvent = recordFromEvent(`... exited with 7: ${fatal.stdout}, message: "..."`, 'run', new Date().toISOString());
      assert.deepEqual(fromEvent.steps.map((s) => [s.step, s.exit_code, s.output]), [['command', 7, 'about to fail']], 'the hook does not run after a failed command');

      const slow = run('0', 'sleep 5', '', '1');
      assert.equal(slow.status, 0);
      const timed = JSON.parse(readFileSync(result, 'utf8'));
      assert.equal(timed.steps[0].timed_out, true);
    });
  }

  for (const shell of shells) {
    test(`under ${shell.join(' ')}: with a port (wait_for_port) the command runs once the port answers; without, at once`, async () => {
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const p = (probe.address() as { port: number }).port;
          probe.close(() => resolve(p));
        });
      });
      const marker = join(dir, `listening-${shell.length}-${port}`);
      const result = join(dir, `port-${shell.length}.json`);
      const check = `test -f ${marker} && echo saw the port`;
      // The default: the command runs before anything listens (as a postStart hook beside the entrypoint).
      const early = spawnSync(shell[0]!, [...shell.slice(1), wrapper, '0', check, '', '10', result, '0'], { encoding: 'utf8' });
      assert.equal(early.status, 0);
      assert.equal(JSON.parse(readFileSync(result, 'utf8')).steps[0].exit_code, 1, 'ran at once');
      // A server that starts listening 1.5 s from now, in another process (spawnSync blocks this one).
      const server = spawn(process.execPath, ['-e', `setTimeout(() => require('net').createServer((s) => s.end()).listen(${port}, '127.0.0.1', () => require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')), 1500); setTimeout(() => process.exit(0), 20000)`]);
      try {
        const waited = await new Promise<{ status: number | null }>((resolve) => {
          const child = spawn(shell[0]!, [...shell.slice(1), wrapper, '0', check, '', '10', result, String(port)]);
          child.on('exit', (status) => resolve({ status }));
        });
        assert.equal(waited.status, 0);
        const record = JSON.parse(readFileSync(result, 'utf8'));
        assert.deepEqual(record.steps.map((x: any) => [x.step, x.exit_code, x.output]), [['command', 0, 'saw the port']]);
      } finally {
        server.kill();
      }
    });
  }

  test('a record the kubelet quotes twice on one line (no newline after it) is still read', () => {
    const record = '{"ok":false,"fail_on_error":true,"started_ms":1,"finished_ms":2,"steps":[{"step":"command","exit_code":2,"duration_ms":1,"timed_out":false,"output":"migration failed"}]}';
    const message = `... exited with 2: wsm-post-start-result: ${record}, message: ${JSON.stringify(`wsm-post-start-result: ${record}`)}`;
    const r = recordFromEvent(message, 'r', '2026-01-01T00:00:00.000Z');
    assert.deepEqual(r.steps.map((s) => [s.step, s.exit_code, s.output]), [['command', 2, 'migration failed']]);
  });

  test('a kubelet message without a readable record still gives the exit code and what it said', () => {
    const r = recordFromEvent("Exec lifecycle hook ([/bin/sh x]) failed - error: command '/bin/sh x' exited with 126: /bin/sh: x: Permission denied", 'r', '2026-01-01T00:00:00.000Z');
    assert.equal(r.ok, false);
    assert.equal(r.steps[0]!.exit_code, 126);
    assert.match(r.steps[0]!.output, /Permission denied/);
  });
});
