// The drift check's words, on inspect data shaped as the engine returns it: what a container made from
// the create options reads back as is no drift; each change is named, environment values never shown.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { driftOf, type ImageDefaults } from '../../../src/runtimes/docker/drift.js';
import { createOptions, type ContainerSettings } from '../../../src/runtimes/docker/spec.js';
import { testWorkspace } from '../../support/docker.js';

const settings: ContainerSettings = { hostAddress: '127.0.0.1', restartPolicy: 'no', preStartTimeoutSeconds: 300, extraLabels: {}, installation: 'test' };
const image: ImageDefaults = { env: ['PATH=/bin', 'LANG=C'], entrypoint: [], cmd: ['/bin/httpd', '-f'] };
const wanted = createOptions(testWorkspace('alpha', { env: [{ name: 'SECRET', value: 's3cr3t' }, { name: 'LANG', value: 'en' }] }), settings, 'h1', image);

/** What the engine reports for a container made from `options` with `image`. */
function readBack(options: Docker.ContainerCreateOptions, change: (info: any) => void = () => {}): Docker.ContainerInspectInfo {
  const env = new Map([...image.env, ...(options.Env ?? [])].map((e) => [e.split('=')[0], e]));
  const info: any = {
    Id: 'c1',
    Image: 'sha256:abc',
    Config: {
      Image: options.Image, Hostname: options.Hostname, Env: [...env.values()], Entrypoint: options.Entrypoint ?? null,
      Cmd: options.Cmd ?? image.cmd, WorkingDir: options.WorkingDir ?? '', Labels: { ...options.Labels, 'from.image': 'x' },
    },
    HostConfig: { ...options.HostConfig, RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, Memory: 0, CpuQuota: 0, CpuShares: 0, MemoryReservation: 0 },
  };
  change(info);
  return info;
}

describe('the drift check', () => {
  test('a container as wsm makes it, read back, has no drift', () => {
    assert.deepEqual(driftOf(readBack(wanted), wanted, image), []);
  });

  test('each change is named; environment values are never shown', () => {
    const drift = driftOf(readBack(wanted, (i) => {
      i.Config.Image = 'other:2';
      i.Config.Env = i.Config.Env.map((e: string) => (e.startsWith('SECRET=') ? 'SECRET=leaked' : e)).filter((e: string) => !e.startsWith('LANG=')).concat('EXTRA=1');
      i.Config.Cmd = ['sh'];
      i.HostConfig.Binds = [];
      i.HostConfig.RestartPolicy = { Name: 'always' };
      i.HostConfig.Memory = 1024;
      i.Config.Labels['wsm.config-hash'] = 'h1';
      delete i.Config.Labels.app;
    }), wanted, image);
    assert.deepEqual(drift, [
      'image other:2 instead of wsm-test/busybox:1',
      'environment variable SECRET had another value',
      'environment variable LANG was missing',
      'environment variable EXTRA had been added',
      'the command had been changed',
      'label app had been changed or removed',
      'mount wsm-alpha-data:/home/src was missing',
      'engine restart policy always instead of no',
      'memory limit 1024 instead of none',
    ]);
    assert.ok(!drift.join(' ').includes('leaked') && !drift.join(' ').includes('s3cr3t'));
  });

  test('a port published elsewhere, or not at all, is drift; the port the engine picked is not', () => {
    assert.deepEqual(driftOf(readBack(wanted, (i) => (i.HostConfig.PortBindings = { '6789/tcp': [{ HostIp: '127.0.0.1', HostPort: '32768' }] })), wanted, image), []);
    assert.deepEqual(driftOf(readBack(wanted, (i) => (i.HostConfig.PortBindings = { '6789/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }] })), wanted, image), ['port 6789/tcp was not published as wsm publishes it']);
    assert.deepEqual(driftOf(readBack(wanted, (i) => (i.HostConfig.PortBindings = {})), wanted, image), ['port 6789/tcp was not published as wsm publishes it']);
  });
});
