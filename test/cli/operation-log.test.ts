// `wsm ws logs` as text: what a person reads for an operation that ran hooks or failed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { operationLog } from '../../src/cli/operation-log.js';
import type { OperationView } from '../../src/cli/follow.js';

const base = { attempts: 1, error: null, details: null, actor: 'token:ci' };

test('operations read oldest first, with their time taken, error, and hook output as lines', () => {
  const ops: OperationView[] = [
    {
      ...base,
      id: 'b',
      action: 'resume',
      state: 'failed',
      attempts: 3,
      error: 'the post-start command failed',
      created_at: '2026-12-07T10:00:05.000Z',
      started_at: '2026-12-07T10:00:05.500Z',
      finished_at: '2026-12-07T10:00:07.000Z',
      details: { post_start: { ok: false, steps: [{ step: 'command', exit_code: 2, duration_ms: 1200, timed_out: false, output: 'loading\nno such table: users\n' }] }, note: { retried: true } },
    },
    { ...base, id: 'a', action: 'create', state: 'succeeded', created_at: '2026-12-07T10:00:00.123Z', started_at: '2026-12-07T10:00:00.200Z', finished_at: '2026-12-07T10:00:01.400Z' },
  ];
  assert.equal(
    operationLog(ops),
    [
      '2026-12-07 10:00:00Z  create succeeded in 1.2s  by token:ci',
      '2026-12-07 10:00:05Z  resume failed in 1.5s, 3 attempts  by token:ci',
      '    error: the post-start command failed',
      '    post-start command exited 2 after 1.2s',
      '      | loading',
      '      | no such table: users',
      '    note:',
      '      retried: true',
      '',
    ].join('\n'),
  );
});

test('an operation still going has no duration', () => {
  assert.equal(operationLog([{ ...base, id: 'c', action: 'stop', state: 'running', created_at: '2026-12-07T10:00:00Z', started_at: '2026-12-07T10:00:00Z' }]), '2026-12-07 10:00:00Z  stop running  by token:ci\n');
});
