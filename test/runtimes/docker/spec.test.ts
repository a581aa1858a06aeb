import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configHash, createOptions, type ContainerSettings } from '../../../src/runtimes/docker/spec.js';
import { PRE_START_PATH } from '../../../src/runtimes/docker/prestart.js';
import { testWorkspace } from '../../support/docker.js';

const settings: ContainerSettings = { hostAddress: '127.0.0.1', restartPolicy: 'no', preStartTimeoutSeconds: 300, extraLabels: {}, allowedBindRoots: ['/srv'], installation: 'test' };
const image = { entrypoint: ['/entry'], cmd: ['serve', '--port', '6789'] };

describe('container create options', () => {
  test('names, labels, volume, port and env', () => {
    const ws = testWorkspace('alpha', { generation: 4, env: [{ name: 'A', value: 'x=y' }] });
    const o = createOptions(ws, settings, 'h1', image);
    assert.equal(o.name, 'wsm-alpha');
    assert.deepEqual(o.Env, ['A=x=y']);
    assert.equal(o.Labels?.app, 'alpha');
    assert.equal(o.Labels?.['dev-instance'], '1');
    assert.equal(o.Labels?.['app.kubernetes.io/managed-by'], 'wsm');
    assert.equal(o.Labels?.['wsm.workspace'], 'alpha');
    assert.equal(o.Labels?.['wsm.config-hash'], 'h1');
    assert.equal(o.Labels?.['wsm.generation'], '4');
    assert.deepEqual(o.HostConfig?.Binds, ['wsm-alpha-data:/home/src']);
    assert.deepEqual(o.HostConfig?.PortBindings, { '6789/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    assert.equal(o.Entrypoint, undefined, 'the image entrypoint stays when command is not set');
    assert.equal(o.Cmd, undefined);
  });

  test('Kubernetes command/args semantics, resources, binds, host port, working dir', () => {
    const ws = testWorkspace('beta', {
      container: {
        command: ['/bin/app'],
        args: ['--x'],
        resources: { limits: { memory: '64Mi', cpu: '500m' }, requests: { memory: '32Mi', cpu: '250m' } },
        volumes: { '/srv/data': { bind: '/data', mode: 'ro' } },
        host_port: 18080,
        port: 8080,
        working_dir: '/work',
        restart_policy: 'unless-stopped',
      },
    });
    const o = createOptions(ws, settings, 'h', image);
    assert.deepEqual(o.Entrypoint, ['/bin/app']);
    assert.deepEqual(o.Cmd, ['--x']);
    assert.equal(o.HostConfig?.Memory, 64 * 2 ** 20);
    assert.equal(o.HostConfig?.MemorySwap, 64 * 2 ** 20);
    assert.equal(o.HostConfig?.MemoryReservation, 32 * 2 ** 20);
    assert.equal(o.HostConfig?.CpuQuota, 50_000);
    assert.equal(o.HostConfig?.CpuPeriod, 100_000);
    assert.equal(o.HostConfig?.CpuShares, 256);
    assert.deepEqual(o.HostConfig?.Binds, ['wsm-beta-data:/home/src', '/srv/data:/data:ro']);
    assert.deepEqual(o.HostConfig?.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] });
    assert.equal(o.WorkingDir, '/work');
    // The workspace's restart_policy is wsm's to carry out: the engine never restarts by itself.
    assert.deepEqual(o.HostConfig?.RestartPolicy, { Name: '' });
  });

  test('a host path outside the allowed roots is refused, not bound; a CPU limit past the engine is a quota that never binds', () => {
    const bind = (host: string, roots: string[] | undefined = ['/srv']) =>
      createOptions(testWorkspace('gamma', { container: { volumes: { [host]: { bind: '/data', mode: 'rw' } } } }), { ...settings, allowedBindRoots: roots }, 'h', image);
    assert.throws(() => bind('/'), /not allowed/);
    assert.throws(() => bind('/srvx/data'), /not allowed/, '/srv does not cover /srvx');
    assert.throws(() => bind('/srv/data', []), /not allowed/, 'no roots: no host path');
    assert.throws(() => createOptions(testWorkspace('g', { container: { volumes: { '/srv/data': { bind: '/d', mode: 'ro' } } } }), { ...settings, allowedBindRoots: undefined }, 'h', image), /not allowed/, 'roots not given: none');
    assert.deepEqual(bind('/srv/data').HostConfig?.Binds, ['wsm-gamma-data:/home/src', '/srv/data:/data:rw']);
    assert.deepEqual(bind('other-volume').HostConfig?.Binds, ['wsm-gamma-data:/home/src', 'other-volume:/data:rw'], 'a named volume is not a host path');
    const many = createOptions(testWorkspace('delta', { container: { resources: { limits: { cpu: '256' } } } }), settings, 'h', image);
    assert.equal(many.HostConfig?.CpuQuota, 25_600_000);
    assert.equal(many.HostConfig?.NanoCpus, undefined);
  });

  test('a pre-start hook wraps the main command, taken from the image when config does not set it', () => {
    const hooks = { pre_start: { path: 'p.sh', content: Buffer.from('#!/bin/sh\n') } };
    const plain = createOptions(testWorkspace('g', { hooks }), settings, 'h', image);
    assert.equal(plain.Entrypoint?.[0], '/bin/sh');
    assert.ok(plain.Entrypoint?.[2]?.includes(PRE_START_PATH));
    assert.deepEqual(plain.Entrypoint?.slice(3), ['sh', '/entry', 'serve', '--port', '6789']);
    assert.deepEqual(plain.Cmd, []);

    const argsOnly = createOptions(testWorkspace('g', { hooks, container: { args: ['a'] } }), settings, 'h', image);
    assert.deepEqual(argsOnly.Entrypoint?.slice(3), ['sh', '/entry', 'a']);
    const commandOnly = createOptions(testWorkspace('g', { hooks, container: { command: ['/c'] } }), settings, 'h', image);
    assert.deepEqual(commandOnly.Entrypoint?.slice(3), ['sh', '/c'], 'command drops the image CMD');
  });
});

describe('config hash', () => {
  test('ignores generation, lifecycle and env order; sees every container-shaping input', () => {
    const base = testWorkspace('h', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] });
    const h = configHash(base, settings);
    assert.equal(configHash({ ...base, generation: 9, desired: 'stopped' }, settings), h);
    assert.equal(configHash({ ...base, env: [...base.env].reverse() }, settings), h);
    assert.equal(
      configHash({ ...base, lifecycle: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 60 } } }, settings),
      h,
    );
    const changed = [
      { ...base, image: 'other:1' },
      { ...base, env: [{ name: 'A', value: '2' }] },
      { ...base, container: { args: ['x'] } },
      { ...base, container: { resources: { limits: { memory: '1Gi' } } } },
      { ...base, container: { host_port: 9999 } },
      { ...base, storage: { ...base.storage, mount_path: '/data' } },
      { ...base, hooks: { pre_start: { path: 'p', content: Buffer.from('a') } } },
    ];
    for (const ws of changed) assert.notEqual(configHash(ws, settings), h);
    const hookA = { ...base, hooks: { pre_start: { path: 'p', content: Buffer.from('a') } } };
    const hookB = { ...base, hooks: { pre_start: { path: 'p', content: Buffer.from('b') } } };
    assert.notEqual(configHash(hookA, settings), configHash(hookB, settings), 'a changed script recreates');
    assert.notEqual(configHash(base, { ...settings, restartPolicy: 'always' }), h);
  });
});
