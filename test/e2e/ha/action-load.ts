// The clients of the replica tests: each drives one workspace through a fixed list of actions (create,
// then stop, resume and patch in rounds, then delete or stop), waiting for each operation before the
// next, and retrying a failed request on another replica with the same Idempotency-Key. What each
// action should have made the engine do is listed with it, to compare with the recording runtime's log.
import assert from 'node:assert/strict';
import { eventually, request, type TestResponse } from '../../support/server.js';
import { readCalls, type RecordedCall } from '../../support/recording-runtime.js';
import type { Cluster, Replica } from './cluster.js';
import { ADMIN } from './cluster.js';

export type Action = { method: 'POST' | 'PUT' | 'DELETE'; path: string; body?: unknown; expect: Omit<RecordedCall, 'pid' | 'name'> };

export function plan(name: string, rounds: number, lastIsDelete: boolean): Action[] {
  const actions: Action[] = [];
  let generation = 1;
  actions.push({ method: 'POST', path: '/api/workspaces', body: { workspace: { name } }, expect: { call: 'apply', generation, desired: 'running' } });
  for (let round = 1; round <= rounds; round++) {
    const put = (workspace: object) => ({ method: 'PUT' as const, path: `/api/workspaces/${name}`, body: { workspace } });
    actions.push({ ...put({ action: 'stop' }), expect: { call: 'apply', generation, desired: 'stopped' } });
    actions.push({ ...put({ action: 'resume' }), expect: { call: 'apply', generation, desired: 'running' } });
    generation += 1;
    actions.push({ ...put({ action: 'patch', container_config: `env:\n  - name: ROUND\n    value: "${round}"\n` }), expect: { call: 'apply', generation, desired: 'running' } });
  }
  actions.push(
    lastIsDelete
      ? { method: 'DELETE', path: `/api/workspaces/${name}`, expect: { call: 'remove' } }
      : { method: 'PUT', path: `/api/workspaces/${name}`, body: { workspace: { action: 'stop' } }, expect: { call: 'apply', generation, desired: 'stopped' } },
  );
  return actions;
}

export interface LoadOptions {
  workspaces: number;
  rounds: number;
  /** The replica the next request goes to. */
  pick(): Replica;
  /** Awaited before each action starts (to hold the load back). */
  beforeAction?(): Promise<unknown>;
}

export const actionsPerWorkspace = (rounds: number) => 3 * rounds + 2;
export const workspaceName = (index: number) => `ha-${index}`;
/** Even workspaces end deleted, odd ones stopped. */
const endsDeleted = (index: number) => index % 2 === 0;

export class ActionLoad {
  started = 0;
  done = 0;
  /** Requests on their way to each replica. */
  readonly inFlight = new Map<Replica, number>();

  constructor(private readonly options: LoadOptions) {}

  get total(): number {
    return this.options.workspaces * actionsPerWorkspace(this.options.rounds);
  }

  /** Sends until a 2xx, each try to the replica `pick` names, with the same Idempotency-Key (POST and PUT take one). */
  private async send(action: Action, key: string): Promise<TestResponse> {
    const deadline = Date.now() + 90_000;
    let uncertain = false;
    for (;;) {
      const replica = this.options.pick();
      this.inFlight.set(replica, (this.inFlight.get(replica) ?? 0) + 1);
      let res: TestResponse | undefined;
      try {
        res = await request(replica.base, action.method, action.path, { defaultToken: ADMIN, body: action.body, headers: { 'Idempotency-Key': key } });
      } catch {
        uncertain = true;
      } finally {
        this.inFlight.set(replica, this.inFlight.get(replica)! - 1);
      }
      if (res && res.status >= 200 && res.status < 300) return res;
      // A DELETE has no key: when an earlier try may have gone through, its workspace being gone is the answer.
      if (res?.status === 404 && action.method === 'DELETE' && uncertain) return res;
      if (res && res.status < 500 && res.status !== 409) assert.fail(`${action.method} ${action.path}: ${res.status} ${JSON.stringify(res.body)}`);
      if (res) uncertain = true;
      if (Date.now() > deadline) assert.fail(`${action.method} ${action.path}: no 2xx within 90 s (last ${res?.status} ${JSON.stringify(res?.body)?.slice(0, 300)})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  private async get(path: string): Promise<TestResponse | undefined> {
    return request(this.options.pick().base, 'GET', path, { defaultToken: ADMIN }).catch(() => undefined);
  }

  private async client(index: number): Promise<void> {
    const name = workspaceName(index);
    for (const [step, action] of plan(name, this.options.rounds, endsDeleted(index)).entries()) {
      await this.options.beforeAction?.();
      this.started += 1;
      const res = await this.send(action, `${name}-${step}`);
      const operation = res.body?.workspace?.last_operation;
      // Waits for each operation before the next action, so none is merged into a later one.
      if (operation) {
        let seen: unknown;
        await eventually(async () => {
          seen = (await this.get(`/api/operations/${operation.id}`))?.body?.operation;
          const state = (seen as { state?: string } | undefined)?.state;
          if (state === 'failed') assert.fail(`operation ${operation.id} of ${name} failed`);
          return state === 'succeeded';
        }, 90_000, `${name}'s operation ${operation.action} to succeed`).catch((err: Error) => {
          throw new Error(`${err.message}; the operation as last read: ${JSON.stringify(seen)}`);
        });
      }
      if (action.method === 'DELETE') await eventually(async () => (await this.get(`/api/workspaces/${name}`))?.status === 404, 90_000, `${name} to be deleted`);
      this.done += 1;
    }
  }

  run(): Promise<void> {
    return Promise.all(Array.from({ length: this.options.workspaces }, (_, i) => this.client(i))).then(() => undefined);
  }

  /**
   * Every action that got a 2xx is in the final state (read from `reader`), there is one operation per
   * action, and the engine (the recording runtime in `recordingDir`) did exactly what the actions
   * asked, in order, each once. Returns how many engine calls each pid made.
   */
  async verify(c: Cluster, reader: Replica, recordingDir: string): Promise<Map<number, number>> {
    const { workspaces, rounds } = this.options;
    assert.equal(this.done, this.total);
    for (let i = 0; i < workspaces; i++) {
      const ws = await request(reader.base, 'GET', `/api/workspaces/${workspaceName(i)}`, { defaultToken: ADMIN });
      if (endsDeleted(i)) {
        assert.equal(ws.status, 404, `${workspaceName(i)} was deleted`);
        continue;
      }
      assert.equal(ws.status, 200);
      assert.equal(ws.body.workspace.desired_state, 'stopped');
      assert.equal(ws.body.workspace.generation, 1 + rounds);
      assert.equal(ws.body.workspace.instance.status, 'STOPPED');
      assert.match(ws.body.workspace.container_config, new RegExp(`value: "?${rounds}"?`));
      // The recording engine never ends an instance by itself: a restart would be an action taken for a crash.
      assert.deepEqual([ws.body.workspace.restart_count, ws.body.workspace.last_termination], [0, null], `${workspaceName(i)} was never restarted`);
    }
    const { rows } = await c.db.query<{ workspace: string; n: string; open: string }>(
      `select workspace, count(*) as n, count(*) filter (where state <> 'succeeded') as open from operations group by workspace order by workspace`,
    );
    const expected = Array.from({ length: workspaces }, (_, i) => [workspaceName(i), actionsPerWorkspace(rounds), 0]).sort();
    assert.deepEqual(rows.map((r) => [r.workspace, Number(r.n), Number(r.open)]), expected, 'one operation per action, all succeeded');

    const calls = readCalls(recordingDir);
    for (let i = 0; i < workspaces; i++) {
      const name = workspaceName(i);
      const recorded = calls.filter((call) => call.name === name).map(({ pid: _pid, name: _name, ...call }) => call);
      assert.deepEqual(recorded, plan(name, rounds, endsDeleted(i)).map((a) => a.expect), `what the engine did to ${name}`);
    }
    const byPid = new Map<number, number>();
    for (const call of calls) byPid.set(call.pid, (byPid.get(call.pid) ?? 0) + 1);
    return byPid;
  }
}
