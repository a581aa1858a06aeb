import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_LIFECYCLE, mergeLifecycleConfig, parseLifecycleConfig } from '../../src/core/lifecycle.js';
import type { LifecycleConfig } from '../../src/core/types.js';

const ok = (input: unknown) => {
  const r = parseLifecycleConfig(input);
  assert.deepEqual(r.errors, []);
  return r.patch;
};

describe('parseLifecycleConfig', () => {
  test("Mage's documented structure", () => {
    const patch = ok({
      termination_policy: { enable_auto_termination: true, max_idle_seconds: 1800 },
      pre_start_script_path: '/path/to/script.sh',
      post_start: { command: ['echo', 'Workspace started'], hook_path: '/path/to/hook.sh' },
    });
    assert.deepEqual(patch, {
      termination_policy: { enable_auto_termination: true, max_idle_seconds: 1800 },
      pre_start_script_path: '/path/to/script.sh',
      post_start: { command: ['echo', 'Workspace started'], hook_path: '/path/to/hook.sh' },
    });
  });

  test('post_start.command as one string is split as a shell would', () => {
    assert.deepEqual(ok({ post_start: { command: `sh -c 'echo "started"'`, fail_on_error: true } }).post_start, {
      command: ['sh', '-c', 'echo "started"'],
      fail_on_error: true,
    });
  });

  test('null and undefined are an empty patch; null removes a path or post_start', () => {
    assert.deepEqual(ok(null), {});
    assert.deepEqual(ok({ pre_start_script_path: null, post_start: null }), { pre_start_script_path: null, post_start: null });
  });

  test('wrong types and ranges name the field and what is allowed', () => {
    const cases: [unknown, string, RegExp][] = [
      ['{}', 'lifecycle_config', /must be an object/],
      [{ termination_policy: { max_idle_seconds: -1 } }, 'lifecycle_config.termination_policy.max_idle_seconds', /from 0 to 31536000/],
      [{ termination_policy: { max_idle_seconds: 1.5 } }, 'lifecycle_config.termination_policy.max_idle_seconds', /whole number/],
      [{ termination_policy: { max_idle_seconds: 31536001 } }, 'lifecycle_config.termination_policy.max_idle_seconds', /a year/],
      [{ termination_policy: { max_idle_seconds: '60' } }, 'lifecycle_config.termination_policy.max_idle_seconds', /not the string "60"/],
      [{ termination_policy: { enable_auto_termination: 'yes' } }, 'lifecycle_config.termination_policy.enable_auto_termination', /true or false/],
      [{ termination_policy: { idle: 5 } }, 'lifecycle_config.termination_policy.idle', /enable_auto_termination and max_idle_seconds/],
      [{ termination_policy: null }, 'lifecycle_config.termination_policy', /must be an object/],
      [{ pre_start_script_path: '' }, 'lifecycle_config.pre_start_script_path', /path of a script/],
      [{ pre_start_script_path: 'a\0b' }, 'lifecycle_config.pre_start_script_path', /path of a script/],
      [{ post_start: { command: [] } }, 'lifecycle_config.post_start.command', /must name a program/],
      [{ post_start: { command: ['ok', 3] } }, 'lifecycle_config.post_start.command[1]', /must be a string/],
      [{ post_start: { command: 'echo "x' } }, 'lifecycle_config.post_start.command', /double quote/],
      [{ post_start: { hook_path: 5 } }, 'lifecycle_config.post_start.hook_path', /path of a script/],
      [{ post_start: { fail_on_error: 1 } }, 'lifecycle_config.post_start.fail_on_error', /true or false/],
      [{ post_start: { when: 'now' } }, 'lifecycle_config.post_start.when', /command, hook_path, fail_on_error/],
      [{ on_stop: 'x' }, 'lifecycle_config.on_stop', /termination_policy, pre_start_script_path, post_start, pre_stop, schedule/],
      [{ pre_stop: 'x' }, 'lifecycle_config.pre_stop', /command, hook_path, timeout_seconds/],
      [{ pre_stop: { timeout_seconds: 3601 } }, 'lifecycle_config.pre_stop.timeout_seconds', /1 to 3600/],
      [{ pre_stop: { command: [] } }, 'lifecycle_config.pre_stop.command', /must name a program/],
      [{ schedule: { autostart: 'daily' } }, 'lifecycle_config.schedule.autostart', /5 fields/],
    ];
    for (const [input, field, message] of cases) {
      const { errors } = parseLifecycleConfig(input);
      assert.equal(errors.length, 1, JSON.stringify(input));
      assert.equal(errors[0]!.field, field);
      assert.match(errors[0]!.message, message);
    }
  });
});

describe('mergeLifecycleConfig', () => {
  const current: LifecycleConfig = {
    termination_policy: { enable_auto_termination: true, max_idle_seconds: 600 },
    pre_start_script_path: 'pre.sh',
    post_start: { command: ['echo', 'hi'], hook_path: 'post.sh' },
  };

  test('the default is no auto-termination', () => {
    assert.deepEqual(DEFAULT_LIFECYCLE, { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 } });
  });

  test('termination_policy merges key by key', () => {
    const merged = mergeLifecycleConfig(current, ok({ termination_policy: { max_idle_seconds: 60 } }));
    assert.deepEqual(merged.termination_policy, { enable_auto_termination: true, max_idle_seconds: 60 });
    assert.equal(merged.pre_start_script_path, 'pre.sh');
  });

  test('post_start merges key by key; null removes a key or all of it', () => {
    assert.deepEqual(mergeLifecycleConfig(current, ok({ post_start: { command: null, fail_on_error: true } })).post_start, {
      hook_path: 'post.sh',
      fail_on_error: true,
    });
    assert.equal(mergeLifecycleConfig(current, ok({ post_start: null })).post_start, undefined);
    assert.equal(mergeLifecycleConfig(current, ok({ post_start: { command: null, hook_path: null } })).post_start, undefined);
  });

  test('null removes the pre-start script', () => {
    const merged = mergeLifecycleConfig(current, ok({ pre_start_script_path: null }));
    assert.equal('pre_start_script_path' in merged, false);
  });

  test('merging is idempotent and leaves its inputs alone', () => {
    const patchArb = fc.record(
      {
        termination_policy: fc.record({ enable_auto_termination: fc.boolean(), max_idle_seconds: fc.nat(31536000) }, { requiredKeys: [], noNullPrototype: true }),
        pre_start_script_path: fc.option(fc.constantFrom('a.sh', 'b/c.sh'), { nil: null }),
        post_start: fc.option(fc.record({ command: fc.option(fc.array(fc.string(), { minLength: 1 }), { nil: null }), hook_path: fc.option(fc.constantFrom('h.sh'), { nil: null }), fail_on_error: fc.boolean() }, { requiredKeys: [], noNullPrototype: true }), { nil: null }),
      },
      { requiredKeys: [], noNullPrototype: true },
    );
    fc.assert(
      fc.property(patchArb, patchArb, (p1, p2) => {
        const base = mergeLifecycleConfig(DEFAULT_LIFECYCLE, p1);
        const before = structuredClone(base);
        const once = mergeLifecycleConfig(base, p2);
        assert.deepEqual(mergeLifecycleConfig(once, p2), once);
        assert.deepEqual(base, before);
      }),
    );
  });
});
