// workspaceJson renders a workspace as presentWorkspace's JSON with the parts that cannot change for
// a frozen record kept between answers: it must produce exactly the same text, every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OperationRecord, Role, WorkspaceRecord } from '../../src/core/types.js';
import { presentWorkspace, workspaceJson } from '../../src/server/presenter.js';
import { containerConfig, envList } from '../core/arbitraries.js';
import { workspace } from '../store/fixtures.js';

const isoDate = fc.date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2030-01-01T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString());
// Any Unicode text: the kept renderings are UTF-8 bytes, so multi-byte characters must come out whole.
const text = fc.string({ maxLength: 12, unit: 'binary' });

const record: fc.Arbitrary<WorkspaceRecord> = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    container: containerConfig,
    inherited: envList,
    status: fc.constantFrom('PENDING', 'RUNNING', 'STOPPED', 'FAILED' as const),
    desired: fc.constantFrom('running', 'stopped' as const),
    autoStop: fc.boolean(),
    lastActivity: fc.option(fc.oneof(isoDate, isoDate, text), { nil: undefined }),
    message: fc.option(text, { nil: undefined }),
    url: fc.option(text, { nil: undefined }),
    deletion: fc.option(fc.record({ requested_at: isoDate, delete_volume: fc.boolean() }), { nil: undefined }),
    lastAutoStop: fc.option(fc.dictionary(text, fc.oneof(text, fc.integer())), { nil: undefined }),
  })
  .map((r) => {
    const base = workspace(r.name);
    return {
      ...base,
      desired_state: r.desired,
      spec: {
        ...base.spec,
        container: r.container,
        inherited_env: r.inherited,
        lifecycle: { termination_policy: { enable_auto_termination: r.autoStop, max_idle_seconds: 900 } },
      },
      observed: { ...base.observed, status: r.status, message: r.message, url: r.url },
      activity: { last_activity_at: r.lastActivity, last_activity_source: r.lastActivity ? 'api' : undefined, last_auto_stop: r.lastAutoStop },
      deletion: r.deletion,
    } as WorkspaceRecord;
  });

const operation: fc.Arbitrary<OperationRecord | undefined> = fc.option(
  fc.record({
    id: fc.uuid(),
    workspace: text,
    action: fc.constantFrom('stop', 'resume', 'patch' as const),
    actor: text,
    request: fc.constant({}),
    state: fc.constantFrom('pending', 'running', 'succeeded', 'failed' as const),
    target_generation: fc.integer({ min: 1, max: 9 }),
    target_state: fc.constantFrom('running', 'stopped' as const),
    error: fc.option(text, { nil: undefined }),
    attempts: fc.integer({ min: 0, max: 3 }),
    created_at: isoDate,
    finished_at: fc.option(isoDate, { nil: undefined }),
  }) as fc.Arbitrary<OperationRecord>,
  { nil: undefined },
);

test('workspaceJson is presentWorkspace as JSON, for kept (frozen) and passing records, at any time, for any access and last operation', () => {
  fc.assert(
    fc.property(
      record,
      operation,
      fc.constantFrom<Role | undefined>(undefined, 'viewer', 'editor', 'owner'),
      fc.constantFrom<Role | undefined>(undefined, 'viewer', 'owner'),
      fc.integer({ min: Date.parse('2020-01-01T00:00:00Z'), max: Date.parse('2031-01-01T00:00:00Z') }),
      fc.boolean(),
      (ws, lastOperation, access, otherAccess, now, frozen) => {
        if (frozen) Object.freeze(ws);
        const expected = (role: Role | undefined, at: number, op?: OperationRecord) => JSON.stringify(presentWorkspace(ws, { access: role, now: at, lastOperation: op }));
        assert.equal(workspaceJson(ws, access, now, lastOperation).toString('utf8'), expected(access, now, lastOperation));
        // Asked again, later, for someone else and without the operation: the kept parts must not carry the first answer's.
        assert.equal(workspaceJson(ws, otherAccess, now + 61_000).toString('utf8'), expected(otherAccess, now + 61_000));
      },
    ),
    { numRuns: 300 },
  );
});
