import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hookCommand, lastLines, resultCondition, withPostStartConditions } from '../../src/controller/post-start.js';
import type { ObservedState } from '../../src/core/types.js';

const T = '2026-01-01T00:00:00.000Z';
const observed = (status: ObservedState['status'], conditions: ObservedState['conditions'] = []): ObservedState => ({
  status,
  observed_generation: 1,
  conditions: [{ type: 'Ready', status: 'True', reason: 'Running', last_transition_time: T }, ...conditions],
  updated_at: T,
});

describe('hookCommand', () => {
  test('runs the script as itself (its shebang), with its output and exit code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsm-hook-'));
    const [cmd, ...args] = hookCommand(Buffer.from(`#!${process.execPath}\nconsole.log('from node', process.argv.length); process.exitCode = 0;\n`));
    assert.match(execFileSync(cmd!, args, { cwd: dir, encoding: 'utf8' }), /from node 2/);
    const [c2, ...a2] = hookCommand(Buffer.from('#!/bin/sh\necho "it\'s $((1+2))"; exit 7\n'));
    assert.throws(() => execFileSync(c2!, a2, { cwd: dir, encoding: 'utf8' }), (e: any) => e.status === 7 && /it's 3/.test(e.stdout));
  });
});

describe('conditions', () => {
  test('a failure names the step, the code, the duration and the last lines, and whether it is only a warning', () => {
    const steps = [{ step: 'command' as const, exit_code: 0, duration_ms: 10, timed_out: false, output: '' }, { step: 'hook' as const, exit_code: 3, duration_ms: 1500, timed_out: false, output: 'a\nb\n' }];
    const warn = resultCondition({ ok: false, steps, fail_on_error: false, started_at: T, finished_at: T });
    assert.deepEqual([warn.type, warn.reason], ['PostStartFailed', 'Warning']);
    assert.match(warn.message!, /^post-start hook exited with code 3 after 1\.5 s: a\nb; the workspace keeps running/);
    assert.equal(resultCondition({ ok: false, steps, fail_on_error: true, started_at: T, finished_at: T }).reason, 'WorkspaceFailed');
    assert.equal(resultCondition({ ok: true, steps: [], fail_on_error: false, started_at: T, finished_at: T }).type, 'PostStart');
  });

  test('lastLines keeps the end', () => {
    const many = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    assert.equal(lastLines(many).split('\n')[0], 'line 30');
  });

  test('a new start marks post-start pending; otherwise conditions carry over; a fatal failure keeps it FAILED', () => {
    const pending = withPostStartConditions(observed('STOPPED'), observed('RUNNING'), { newStart: true, wanted: true, desiredRunning: true, now: T });
    assert.equal(pending.conditions.find((c) => c.type === 'PostStart')?.reason, 'Pending');
    const none = withPostStartConditions(observed('STOPPED'), observed('RUNNING'), { newStart: true, wanted: false, desiredRunning: true, now: T });
    assert.equal(none.conditions.some((c) => c.type.startsWith('PostStart')), false);

    const fatal = { type: 'PostStartFailed', status: 'True' as const, reason: 'WorkspaceFailed', message: 'hook failed', last_transition_time: T };
    const after = withPostStartConditions(observed('FAILED', [fatal]), observed('STOPPED'), { newStart: false, wanted: true, desiredRunning: true, now: T });
    assert.equal(after.status, 'FAILED');
    assert.equal(after.message, 'hook failed');
    assert.ok(after.conditions.some((c) => c.type === 'PostStartFailed'));
    const stoppedByUser = withPostStartConditions(observed('FAILED', [fatal]), observed('STOPPED'), { newStart: false, wanted: true, desiredRunning: false, now: T });
    assert.equal(stoppedByUser.status, 'STOPPED');
  });
});
