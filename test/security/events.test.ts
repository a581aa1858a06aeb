// /api/events against a real server over HTTP: a stream does not outlive its token or its grant,
// a client that reads slowly cannot make the server hold unbounded memory, a reconnecting client
// gets exactly what it missed (or a reset), and one token cannot open streams without limit.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { eventually, localContainerConfig, request, startTestServer, type TestServer } from '../support/server.js';
import { readSse, type SseEvent } from '../support/sse.js';

const MAX_STREAMS = 3;
const REPLAY_EVENTS = 30;
let srv: TestServer;

before(async () => {
  srv = await startTestServer({ env: { WSM_EVENTS_MAX_STREAMS_PER_TOKEN: String(MAX_STREAMS), WSM_EVENTS_REPLAY_EVENTS: String(REPLAY_EVENTS) } });
});
after(async () => {
  await srv?.close();
});

/** An open stream: its events as they arrive, and whether the server ended it. */
async function listen(baseUrl: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/events`, { headers, signal: controller.signal });
  const events: SseEvent[] = [];
  let lastId: string | undefined;
  let endedByServer = false;
  const reading = (async () => {
    if (!res.ok) return;
    const how = await readSse(res, (id, event) => {
      if (id !== undefined) lastId = id;
      if (event) events.push(event);
    });
    // A stream broken by our own close() was not ended by the server; one reset by it was.
    endedByServer = how === 'ended' || !controller.signal.aborted;
  })();
  return {
    res,
    events,
    get lastId() {
      return lastId;
    },
    get ended() {
      return endedByServer;
    },
    async waitFor(match: (e: SseEvent) => boolean, what: string, timeoutMs = 20_000) {
      return eventually(async () => events.find(match), timeoutMs, `${what} (got ${events.map(describeEvent).join(', ')})`);
    },
    async waitForEnd(what: string, timeoutMs = 10_000) {
      await eventually(async () => endedByServer, timeoutMs, `${what} (got ${events.map(describeEvent).join(', ')})`);
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}

function describeEvent(e: SseEvent): string {
  return `${e.event}:${e.data.name ?? e.data.workspace ?? ''}:${e.data.instance?.status ?? e.data.state ?? e.data.error?.type ?? ''}`;
}

/** Ids are `<server boot>-<sequence number>`. */
const seqOf = (id: string) => Number(id.split('-')[1]);

/** Which workspace an event is about. */
const about = (e: SseEvent) => e.data.name ?? e.data.workspace;

async function createWorkspace(name: string, containerConfig = localContainerConfig()) {
  const res = await srv.request('POST', '/api/workspaces', { body: { workspace: { name, container_config: containerConfig } } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  // Settled: running and its port answering (Listening changes within a second or so of the start).
  await eventually(async () => {
    const ws = (await srv.request('GET', `/api/workspaces/${name}`)).body.workspace;
    return ws.instance.status === 'RUNNING' && ws.conditions.some((c: { type: string; status: string }) => c.type === 'Listening' && c.status === 'True');
  }, 20_000, `${name} running and listening`);
  await srv.server.controller.drained();
}

async function createToken(body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const res = await srv.request('POST', '/api/tokens', { body: { name: 'events-test', ...body } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.token;
}

async function act(name: string, action: 'stop' | 'resume') {
  const res = await srv.request('PUT', `/api/workspaces/${name}`, { body: { workspace: { action } } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.operation.id as string;
}

describe('a stream ends with its token', () => {
  test('revoking the token ends the stream, and no change made after it is delivered', async () => {
    await createWorkspace('rv1');
    const token = await createToken({ role: 'viewer' });
    const watcher = await listen(srv.url, { 'OAUTH-TOKEN': srv.adminToken });
    const stream = await listen(srv.url, { 'OAUTH-TOKEN': token.secret });
    try {
      assert.equal(stream.res.status, 200);
      // The stream delivers while the token is good.
      await act('rv1', 'stop');
      await stream.waitFor((e) => e.event === 'workspace' && e.data.name === 'rv1' && e.data.instance.status === 'STOPPED', 'rv1 STOPPED');
      await srv.server.controller.drained();
      const seenBefore = stream.events.length;

      const revoked = await srv.request('DELETE', `/api/tokens/${token.id}`);
      assert.equal(revoked.status, 200);
      const resumeOp = await act('rv1', 'resume');
      await watcher.waitFor((e) => e.event === 'operation' && e.data.id === resumeOp && e.data.state === 'succeeded', 'the resume, seen by an owner');
      await stream.waitForEnd('the revoked stream to end');
      const afterRevoke = stream.events.slice(seenBefore);
      assert.deepEqual(afterRevoke.map((e) => e.event), ['auth'], 'only the auth event follows the revocation');
      assert.equal(afterRevoke[0]!.data.error.type, 'invalid_oauth_token');
      // Reconnecting with it is refused.
      const again = await fetch(`${srv.url}/api/events`, { headers: { 'OAUTH-TOKEN': token.secret } });
      assert.equal(again.status, 401);
      await again.body?.cancel();
    } finally {
      await stream.close();
      await watcher.close();
    }
  });

  test('an expiring token ends the stream at its expiry, and a change after it is not delivered', async () => {
    await createWorkspace('ex1');
    const token = await createToken({ role: 'viewer', expires_in_seconds: 2 });
    const expiresAt = Date.parse((await srv.request('GET', '/api/tokens')).body.tokens.find((t: { id: string }) => t.id === token.id).expires_at);
    const stream = await listen(srv.url, { 'OAUTH-TOKEN': token.secret });
    try {
      assert.equal(stream.res.status, 200);
      await eventually(async () => Date.now() > expiresAt, 10_000, 'the expiry');
      await act('ex1', 'stop');
      await stream.waitForEnd('the expired stream to end', 10_000);
      const late = stream.events.filter((e) => e.at > expiresAt);
      assert.deepEqual(late.map((e) => e.event), ['auth']);
      assert.equal(late[0]!.data.error.type, 'expired_oauth_token');
      assert.deepEqual(stream.events.filter((e) => about(e) === 'ex1'), []);
    } finally {
      await stream.close();
    }
  });

  test('removing a grant stops the events of that workspace at once', async () => {
    await createWorkspace('gr-home');
    await createWorkspace('gr-other');
    const token = await createToken({ role: 'viewer', workspace: 'gr-home' });
    const granted = await srv.request('PUT', `/api/tokens/${token.id}/grants/gr-other`, { body: { role: 'viewer' } });
    assert.equal(granted.status, 200);
    const stream = await listen(srv.url, { 'OAUTH-TOKEN': token.secret });
    try {
      await act('gr-other', 'stop');
      await stream.waitFor((e) => e.event === 'workspace' && e.data.name === 'gr-other' && e.data.instance.status === 'STOPPED', 'gr-other STOPPED under the grant');
      await srv.server.controller.drained();
      const seenBefore = stream.events.length;

      const removed = await srv.request('DELETE', `/api/tokens/${token.id}/grants/gr-other`);
      assert.equal(removed.status, 200);
      await act('gr-other', 'resume');
      await srv.server.controller.drained();
      // A change of the workspace it still has, made after: its events come, the other's did not.
      await act('gr-home', 'stop');
      await stream.waitFor((e) => e.event === 'workspace' && e.data.name === 'gr-home' && e.data.instance.status === 'STOPPED', 'gr-home STOPPED');
      assert.deepEqual(stream.events.slice(seenBefore).filter((e) => about(e) === 'gr-other').map(describeEvent), []);
      assert.equal(stream.ended, false);
    } finally {
      await stream.close();
    }
  });
});

describe('Last-Event-ID', () => {
  test('a client that reconnects gets exactly the events it missed, in order, and only those it may see', async () => {
    await createWorkspace('rp-mine');
    await createWorkspace('rp-theirs');
    const scoped = await createToken({ role: 'viewer', workspace: 'rp-mine' });
    const everything = await listen(srv.url, { 'OAUTH-TOKEN': srv.adminToken });
    const first = await listen(srv.url, { 'OAUTH-TOKEN': scoped.secret });
    try {
      await eventually(async () => first.lastId, 5_000, 'the first id');
      const lastSeen = first.lastId!;
      await first.close();

      const ops = [await act('rp-theirs', 'stop'), await act('rp-mine', 'stop')];
      for (const op of ops) await everything.waitFor((e) => e.event === 'operation' && e.data.id === op && e.data.state === 'succeeded', `operation ${op}`);
      await srv.server.controller.drained();
      const missed = everything.events.filter((e) => seqOf(e.id!) > seqOf(lastSeen) && about(e) === 'rp-mine');
      assert.ok(missed.length >= 2, `some events of rp-mine were missed: ${missed.map(describeEvent).join(', ')}`);

      const back = await listen(srv.url, { 'OAUTH-TOKEN': scoped.secret, 'Last-Event-ID': lastSeen });
      try {
        await back.waitFor((e) => e.id === missed.at(-1)!.id, 'the last missed event');
        const replayed = back.events.slice(0, missed.length);
        assert.deepEqual(replayed.map((e) => e.id), missed.map((e) => e.id));
        assert.deepEqual(
          replayed.map((e) => [e.event, e.data]),
          missed.map((e) => [e.event, e.event === 'workspace' ? { ...e.data, access: 'viewer' } : e.data]),
        );
        assert.deepEqual(back.events.filter((e) => about(e) === 'rp-theirs'), []);
      } finally {
        await back.close();
      }
    } finally {
      await first.close();
      await everything.close();
    }
  });

  test('an id older than the replay window, or one this server never gave, gets a reset event', async () => {
    await createWorkspace('rp-busy');
    const first = await listen(srv.url, { 'OAUTH-TOKEN': srv.adminToken });
    await eventually(async () => first.lastId, 5_000, 'the first id');
    const old = first.lastId!;
    try {
      // Each stop and resume records several events; this is more than the window holds.
      for (let i = 0; i < REPLAY_EVENTS / 2; i++) {
        await act('rp-busy', i % 2 === 0 ? 'stop' : 'resume');
        await srv.server.controller.drained();
      }
      const count = first.events.length;
      assert.ok(count > REPLAY_EVENTS, `${count} events, more than the window of ${REPLAY_EVENTS}`);
    } finally {
      await first.close();
    }
    for (const lastEventId of [old, 'not-an-id', '00000000-5']) {
      const back = await listen(srv.url, { 'OAUTH-TOKEN': srv.adminToken, 'Last-Event-ID': lastEventId });
      try {
        const reset = await back.waitFor((e) => e.event === 'reset', `a reset for ${lastEventId}`);
        assert.equal(back.events[0], reset, 'the reset comes first');
        assert.match(reset.data.reason, /reload/);
        assert.ok(reset.id, 'the reset carries the id to resume from');
      } finally {
        await back.close();
      }
    }
  });
});

describe('streams per token', () => {
  test('past WSM_EVENTS_MAX_STREAMS_PER_TOKEN a token gets a 429; closing one frees its place', async () => {
    const token = await createToken({ role: 'viewer' });
    const streams = [];
    for (let i = 0; i < MAX_STREAMS; i++) streams.push(await listen(srv.url, { 'OAUTH-TOKEN': token.secret }));
    try {
      assert.deepEqual(streams.map((s) => s.res.status), Array(MAX_STREAMS).fill(200));
      const refused = await fetch(`${srv.url}/api/events`, { headers: { 'OAUTH-TOKEN': token.secret } });
      if (refused.status !== 429) await refused.body?.cancel();
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get('retry-after'), '5');
      const body = (await refused.json()) as { error: { type: string; message: string } };
      assert.equal(body.error.type, 'too_many_requests');
      assert.match(body.error.message, new RegExp(`${MAX_STREAMS} open event streams.*WSM_EVENTS_MAX_STREAMS_PER_TOKEN`));
      // Another token is not affected.
      const other = await listen(srv.url, { 'OAUTH-TOKEN': (await createToken({ role: 'viewer' })).secret });
      assert.equal(other.res.status, 200);
      await other.close();

      await streams.pop()!.close();
      const reopened = await eventually(async () => {
        const s = await listen(srv.url, { 'OAUTH-TOKEN': token.secret });
        if (s.res.status === 200) return s;
        await s.close();
        return undefined;
      }, 10_000, 'a stream to open once one was closed');
      streams.push(reopened);
    } finally {
      for (const s of streams) await s.close();
    }
  });
});

// Memory is measured in a server process of its own.
describe('slow readers', () => {
  const SLOW_CLIENTS = 50;
  const ACTIONS = 60;
  /** A value of 75 KB; four of them make a 300 KB container_config (one env value may not exceed 128 KB on Linux). */
  const bigValue = (seed: number) => String(seed).padEnd(75 * 1024, 'x');
  let child: ChildProcess | undefined;
  let dataDir: string | undefined;

  after(async () => {
    child?.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
  }

  /** A raw HTTP client that reads the response head and then nothing more. */
  async function slowClient(url: URL, token: string): Promise<{ socket: Socket; closed: Promise<void> }> {
    const socket = connect(Number(url.port), url.hostname);
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(`GET /api/events HTTP/1.1\r\nHost: ${url.host}\r\nOAUTH-TOKEN: ${token}\r\n\r\n`);
    const head = await new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    assert.match(head, /^HTTP\/1\.1 200 /);
    socket.pause();
    return { socket, closed };
  }

  test('clients that never read are disconnected, the server stays within bounds, and the memory is released', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'wsm-events-memory-'));
    const admin = 'events-memory-admin';
    child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/security/fixtures/events-server.ts', dataDir], {
      env: { ...process.env, WSM_ADMIN_TOKEN: admin, WSM_EVENTS_MAX_STREAMS_PER_TOKEN: String(SLOW_CLIENTS), WSM_STOP_GRACE_SECONDS: '1' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const nextLine = async () => JSON.parse((await lines.next()).value as string);
    const { url: baseUrl, pid } = (await nextLine()) as { url: string; pid: number };
    const memory = async () => {
      child!.stdin!.write('memory\n');
      const m = (await nextLine()) as NodeJS.MemoryUsage;
      return m.heapUsed + m.arrayBuffers;
    };
    const api = (method: string, path: string, body?: unknown) => request(baseUrl, method, path, { token: admin, body });

    // The environment may hold at most 128 KiB (a process could not start with more): the rest of the
    // 300 KB rides in annotations, which every event carries all the same.
    const annotations = [2, 3, 4].map((i) => `  big-${i}: "${bigValue(i)}"`).join('\n');
    const bulk = `env:\n  - name: BIG_1\n    value: "${bigValue(1)}"\nannotations:\n${annotations}`;
    const created = await api('POST', '/api/workspaces', { workspace: { name: 'big', container_config: localContainerConfig(bulk) } });
    assert.equal(created.status, 201, JSON.stringify(created.body).slice(0, 500));
    assert.ok(created.body.workspace.container_config.length > 300_000);
    assert.equal((await api('PUT', '/api/workspaces/big', { workspace: { action: 'stop' } })).status, 200);

    // The slow clients use every stream their token may have: a new one is refused while they are connected.
    const token = await api('POST', '/api/tokens', { role: 'viewer', name: 'slow' });
    const slowToken = token.body.token.secret as string;
    /** How many streams the slow clients' token could open now (closed again at once). */
    const freeSlots = async () => {
      const opened = [];
      try {
        while (opened.length < SLOW_CLIENTS) {
          const res = await fetch(`${baseUrl}/api/events`, { headers: { 'OAUTH-TOKEN': slowToken } });
          opened.push(res);
          if (res.status !== 200) break;
        }
        return opened.filter((r) => r.status === 200).length;
      } finally {
        for (const res of opened) await res.body?.cancel();
      }
    };

    const patch = async (i: number) => {
      const patched = await api('PUT', '/api/workspaces/big', {
        workspace: { action: 'patch', container_config: `env:\n  - name: BIG_1\n    value: "${bigValue(100 + i)}"` },
      });
      assert.equal(patched.status, 200);
      return patched.body.operation.id as string;
    };
    // The same actions with no stream open first: what the rest of the server keeps of them (the
    // store's records) is not the event streams' doing.
    const quietBefore = await memory();
    for (let i = 0; i < ACTIONS; i++) await patch(i);
    const quietGrowth = (await memory()) - quietBefore;

    const baselineRssKb = await statusKb(pid, 'VmRSS');
    const baselineMemory = await memory();
    const url = new URL(baseUrl);
    const slow = [];
    for (let i = 0; i < SLOW_CLIENTS; i++) slow.push(await slowClient(url, slowToken));
    assert.equal(await freeSlots(), 0);
    const reader = await listen(baseUrl, { 'OAUTH-TOKEN': admin });

    let lastOperation = '';
    for (let i = 0; i < ACTIONS; i++) {
      lastOperation = await patch(ACTIONS + i);
      // Stops early, before the machine runs out of memory, if the server does not bound it.
      const grownMb = ((await statusKb(pid, 'VmRSS')) - baselineRssKb) / 1024;
      assert.ok(grownMb < 400, `after ${i + 1} actions the server grew by ${grownMb.toFixed(0)} MB`);
    }
    // A client that reads keeps up and stays connected.
    await reader.waitFor((e) => e.event === 'operation' && e.data.id === lastOperation && e.data.state === 'succeeded', 'the last patch, by the reading client');
    assert.equal(reader.ended, false);

    const peakMb = ((await statusKb(pid, 'VmHWM')) - baselineRssKb) / 1024;
    assert.ok(peakMb < 200, `the server's peak memory grew by ${peakMb.toFixed(0)} MB over ${(baselineRssKb / 1024).toFixed(0)} MB`);

    // The server drops the clients that fell behind (their places free up), and once they read
    // again they find the connection gone.
    await eventually(async () => (await freeSlots()) === SLOW_CLIENTS, 60_000, 'the server to drop every client that read nothing');
    for (const { socket } of slow) socket.resume();
    const deadline = new Promise((_, reject) => setTimeout(() => reject(new Error('slow clients still connected after 30 s')), 30_000).unref());
    await Promise.race([Promise.all(slow.map((s) => s.closed)), deadline]);
    await reader.close();

    // What may stay: the replay window (16 MiB by default), kept for a minute after the last stream
    // closed. Eventually: a socket's last buffers go with the next turns of the server's event loop.
    let leftMb = Infinity;
    await eventually(async () => {
      leftMb = ((await memory()) - baselineMemory - quietGrowth) / 1024 / 1024;
      return leftMb < 32;
    }, 20_000, 'the memory to be released').catch(() => {});
    assert.ok(leftMb < 32, `${leftMb.toFixed(0)} MB of heap and buffers still held after every client left, beyond the ${(quietGrowth / 1024 / 1024).toFixed(0)} MB the same actions leave with no stream`);
  });
});
