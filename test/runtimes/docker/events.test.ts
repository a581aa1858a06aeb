// The event follower's reconnects, driven by a stand-in for dockerode's getEvents (the real engine
// cannot be restarted under other tests' feet).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { watchEvents } from '../../../src/runtimes/docker/events.js';
import { waitFor } from '../../support/docker.js';

type Callback = (err: Error | null, stream?: NodeJS.ReadableStream) => void;

function fakeEngine() {
  const calls: { since?: number; filters: unknown }[] = [];
  const streams: PassThrough[] = [];
  let failNext = 0;
  const docker = {
    getEvents(opts: { since?: number; filters: unknown }, cb: Callback) {
      calls.push(opts);
      if (failNext > 0) {
        failNext--;
        setImmediate(() => cb(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
        return;
      }
      const s = new PassThrough();
      streams.push(s);
      setImmediate(() => cb(null, s));
    },
  } as unknown as Docker;
  return { docker, calls, streams, failWith: (n: number) => (failNext = n) };
}

const event = (name: string, action: string, time: number) =>
  JSON.stringify({ Type: 'container', Action: action, time, Actor: { Attributes: { 'wsm.workspace': name } } }) + '\n';

describe('watchEvents', () => {
  test('reports relevant container events, ignores exec events, and reconnects after the stream ends', async () => {
    const engine = fakeEngine();
    const seen: string[] = [];
    const restarts: string[] = [];
    const stop = watchEvents(engine.docker, (n) => seen.push(n), { initialBackoffMs: 10, labels: ['wsm.test-run=x'], onRestart: (why) => restarts.push(why) });
    try {
      await waitFor('first subscription', () => engine.streams[0]);
      assert.deepEqual((engine.calls[0]!.filters as { label: string[] }).label, ['app.kubernetes.io/managed-by=wsm', 'wsm.test-run=x']);
      // One event split across chunks, then an exec event that must not count.
      const line = event('a', 'die', 1000);
      engine.streams[0]!.write(line.slice(0, 10));
      engine.streams[0]!.write(line.slice(10) + event('b', 'exec_start: sh -c true', 1001));
      await waitFor('the die event', () => (seen.length ? true : undefined));
      assert.deepEqual(seen, ['a']);

      engine.failWith(2);
      engine.streams[0]!.end();
      await waitFor('a new subscription after two refused connects', () => engine.streams[1]);
      assert.equal(engine.calls.length, 4);
      assert.deepEqual(restarts, ['lost', 'lost', 'lost'], 'the end of the stream and the two refused connects, each a restart (metrics)');
      assert.equal(engine.calls[3]!.since, 1001, 'resumes from the last event seen');
      engine.streams[1]!.write(event('c', 'oom', 1002));
      await waitFor('the event on the new stream', () => (seen.includes('c') ? true : undefined));
    } finally {
      stop();
    }
    assert.equal(engine.streams[1]!.destroyed, true, 'unsubscribe closes the stream');
  });
});
