import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createDockerClient, dockerOptionsFromEnv, remoteEngineHost } from '../../../src/runtimes/docker/connection.js';

describe('DOCKER_HOST handling', () => {
  test('reads the docker CLI variables', () => {
    assert.deepEqual(dockerOptionsFromEnv({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' }), {
      dockerHost: 'tcp://h:2376',
      tlsVerify: true,
      certPath: '/c',
    });
    assert.deepEqual(dockerOptionsFromEnv({ DOCKER_TLS_VERIFY: '0' }), { dockerHost: undefined, tlsVerify: false, certPath: undefined });
  });

  test('unix sockets and tcp addresses become dockerode connections', () => {
    const local = createDockerClient({}).modem as unknown as { socketPath: string };
    assert.equal(local.socketPath, '/var/run/docker.sock');
    const sock = createDockerClient({ dockerHost: 'unix:///tmp/d.sock' }).modem as unknown as { socketPath: string };
    assert.equal(sock.socketPath, '/tmp/d.sock');
    const tcp = createDockerClient({ dockerHost: 'tcp://10.0.0.5:2375' }).modem as unknown as { host: string; port: string; protocol: string };
    assert.deepEqual([tcp.host, String(tcp.port), tcp.protocol], ['10.0.0.5', '2375', 'http']);
    const tls = createDockerClient({ dockerHost: 'tcp://10.0.0.5:2376' }).modem as unknown as { protocol: string };
    assert.equal(tls.protocol, 'https');
    assert.throws(() => createDockerClient({ dockerHost: 'ftp://x' }), /unsupported scheme/);
  });

  test('published ports of a remote engine are on its host', () => {
    assert.equal(remoteEngineHost('tcp://docker.example:2376'), 'docker.example');
    assert.equal(remoteEngineHost('unix:///var/run/docker.sock'), undefined);
    assert.equal(remoteEngineHost(undefined), undefined);
  });
});
