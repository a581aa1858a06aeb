// How readiness learns whether an engine answers: a cheap request per engine (Docker's /_ping, one
// StatefulSet listed on Kubernetes), bounded in time. An engine away is reported, never unready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReadinessChecker } from '../../src/metrics/readiness.js';
import type { Runtime } from '../../src/core/runtime.js';
import type { ClusterType } from '../../src/core/types.js';
import { DockerRuntime } from '../../src/runtimes/docker/index.js';
import { dockerSkipReason } from '../support/docker.js';
import { harness } from '../runtimes/kubernetes/helpers.js';

const storeReady = { unreadyReason: async () => undefined };

test('Kubernetes: reachable while the API server answers, reported unreachable once it is gone, ready throughout', async () => {
  const h = await harness();
  try {
    const checker = () => new ReadinessChecker(storeReady, new Map<ClusterType, Runtime>([['k8s', h.runtime]]), { timeoutMs: 2_000, reuseMs: 0 });
    const from = h.fake.requests.length;
    assert.deepEqual(await checker().check(), { ready: true, runtimes: { k8s: { reachable: true } } });
    const asked = h.fake.requests.slice(from);
    assert.equal(asked.length, 1, 'one request');
    assert.match(asked[0]!.path, /\/statefulsets$/);
    assert.equal(asked[0]!.query.limit, '1', 'at most one object listed, whatever the number of workspaces');
    await h.fake.stop();
    const down = await checker().check();
    assert.equal(down.ready, true);
    assert.equal(down.runtimes.k8s?.reachable, false);
    assert.ok(down.runtimes.k8s?.error, 'the error is shown');
  } finally {
    await h.close();
  }
});

test('Docker: the real engine answers its ping', { skip: dockerSkipReason() }, async () => {
  const docker = new DockerRuntime({ installation: 'pingtest' });
  try {
    const answer = await new ReadinessChecker(storeReady, new Map<ClusterType, Runtime>([['docker', docker]])).check();
    assert.deepEqual(answer.runtimes.docker, { reachable: true });
  } finally {
    await docker.close();
  }
});
