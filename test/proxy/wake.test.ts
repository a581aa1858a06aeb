// The wake gate on its own, with a store that shows the workspace stopped until the resume it was given
// finishes: many requests at once make one resume; the cap on held requests and the timeout answer 503
// with a time to retry; a FAILED workspace and a viewer are never woken.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import pino from 'pino';
import type { WorkspaceRecord } from '../../src/core/types.js';
import type { Store } from '../../src/store/store.js';
import type { Principal } from '../../src/server/auth.js';
import { NotYet, WakeGate, type WakeSettings } from '../../src/proxy/wake.js';

const owner: Principal = { actor: 'token:owner', role: 'owner', grants: new Map() };
const viewer: Principal = { actor: 'token:viewer', role: 'viewer', grants: new Map() };
const logger = pino({ level: 'silent' });
let listener: Server;
let address: string;

function workspace(desired: 'running' | 'stopped', status: 'RUNNING' | 'STOPPED' | 'FAILED', ip?: string, wake: boolean | 'unset' = true): WorkspaceRecord {
  return {
    name: 'w',
    uid: 'uid-w',
    desired_state: desired,
    spec: { lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 }, ...(wake === 'unset' ? {} : { wake_on_request: wake }) } },
    observed: { status, ip, message: status === 'FAILED' ? 'exit code 3' : undefined },
  } as unknown as WorkspaceRecord;
}

/** A store holding one workspace, and a resume that leaves it stopped until `finish()` is called. */
function slowResume(wake: boolean | 'unset' = true) {
  let current = workspace('stopped', 'STOPPED', undefined, wake);
  let calls = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const store = { getWorkspace: async () => current } as unknown as Store;
  const resume = async () => {
    calls++;
    await finished;
    current = workspace('running', 'RUNNING', address);
  };
  return { store, resume, finish, calls: () => calls };
}

const settings = (over: Partial<WakeSettings> = {}): WakeSettings => ({ timeoutMs: 20_000, maxHeld: 100, pollMs: 10, wakeByDefault: false, ...over });

async function refusal(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('the wake gate', () => {
  before(async () => {
    listener = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(listener.address() as { port: number }).port}`;
  });
  after(() => listener.close());

  test('20 requests at once while the resume is slow: one resume, all let through once it answers', async () => {
    const w = slowResume();
    const gate = new WakeGate(w.store, w.resume, logger, settings());
    const waits = Array.from({ length: 20 }, () => gate.destination('w', owner, true));
    await new Promise((resolve) => setImmediate(resolve));
    w.finish();
    const destinations = await Promise.all(waits);
    assert.equal(w.calls(), 1);
    for (const d of destinations) {
      assert.equal(d.upstream.origin, `http://${address}`);
      assert.ok(d.waitedMs !== undefined && d.waitedMs >= 0);
    }
  });

  test('past the cap on held requests the next one is refused at once with a 503 and Retry-After', async () => {
    const w = slowResume();
    const gate = new WakeGate(w.store, w.resume, logger, settings({ maxHeld: 2 }));
    const held = [gate.destination('w', owner, true), gate.destination('w', owner, true)];
    await new Promise((resolve) => setImmediate(resolve));
    const third = await refusal(gate.destination('w', owner, true));
    assert.ok(third instanceof NotYet, String(third));
    assert.equal(third.status, 503);
    assert.ok(third.retryAfterSeconds > 0);
    assert.match(third.message, /requests waiting/);
    w.finish();
    await Promise.all(held);
  });

  test('a workspace that does not come up within the timeout: 503 saying it is still starting', async () => {
    const w = slowResume();
    const gate = new WakeGate(w.store, w.resume, logger, settings({ timeoutMs: 200 }));
    const err = await refusal(gate.destination('w', owner, true));
    assert.ok(err instanceof NotYet, String(err));
    assert.equal(err.starting, true);
    assert.match(err.message, /did not accept connections/);
    w.finish();
  });

  test('closing the gate answers held requests at once, so a shutdown does not wait out the timeout', async () => {
    const w = slowResume();
    const gate = new WakeGate(w.store, w.resume, logger, settings({ timeoutMs: 600_000 }));
    const held = refusal(gate.destination('w', owner, true));
    await new Promise((resolve) => setImmediate(resolve));
    gate.close();
    const err = await held;
    assert.ok(err instanceof NotYet, String(err));
    assert.match(err.message, /shutting down/);
    w.finish();
  });

  test('a FAILED workspace is not woken, and a viewer cannot wake a stopped one', async () => {
    let calls = 0;
    const failed = new WakeGate({ getWorkspace: async () => workspace('running', 'FAILED') } as unknown as Store, async () => void calls++, logger, settings());
    const err = await refusal(failed.destination('w', owner, true));
    assert.ok(err instanceof NotYet);
    assert.match(err.message, /has failed \(exit code 3\)/);
    const w = slowResume();
    const gate = new WakeGate(w.store, w.resume, logger, settings());
    const denied = await refusal(gate.destination('w', viewer, true));
    assert.equal((denied as { status?: number }).status, 403);
    assert.equal(calls + w.calls(), 0);
  });

  test('the server\'s default decides for a workspace that leaves wake_on_request unset; its own setting wins', async () => {
    const unset = slowResume('unset');
    const byDefault = new WakeGate(unset.store, unset.resume, logger, settings({ wakeByDefault: true }));
    const held = byDefault.destination('w', owner, true);
    unset.finish();
    assert.equal((await held).upstream.origin, `http://${address}`);
    assert.equal(unset.calls(), 1);

    const off = slowResume(false);
    const refused = await refusal(new WakeGate(off.store, off.resume, logger, settings({ wakeByDefault: true })).destination('w', owner, true));
    assert.equal((refused as { status?: number }).status, 409);
    assert.match((refused as Error).message, /wake_on_request is off/);

    const unsetOff = slowResume('unset');
    const notByDefault = await refusal(new WakeGate(unsetOff.store, unsetOff.resume, logger, settings()).destination('w', owner, true));
    assert.match((notByDefault as Error).message, /unset and the server's default is off/);
    assert.equal(off.calls() + unsetOff.calls(), 0);
  });
});
