// Who may change which container_config key, and which host paths may be bound: the rule is data in
// core, the docs show the same table, and path prefixes cannot be walked around.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import fc from 'fast-check';
import { bindRootErrors, configAccessErrors, KEY_ACCESS } from '../../src/core/container-config-access.js';
import { ALLOWED_KEYS, mergeContainerConfig, parseContainerConfig } from '../../src/core/container-config.js';
import { isCanonicalHostPath, isUnderRoots, parseBindRoots } from '../../src/core/host-paths.js';
import type { ClusterType, ContainerConfig } from '../../src/core/types.js';

/** The image image_tag retags when a config names none (the server's default). */
const DEFAULT_IMAGE = 'mageai/mageai:latest';

const patchOf = (yaml: string) => {
  const { patch, errors } = parseContainerConfig(yaml);
  assert.deepEqual(errors, []);
  return patch;
};
const denied = (clusterType: ClusterType, current: ContainerConfig, yaml: string) => {
  const patch = patchOf(yaml);
  return configAccessErrors(clusterType, 'editor', current, mergeContainerConfig(current, patch, DEFAULT_IMAGE), patch).map((e) => e.field);
};

describe('which role may change which key', () => {
  test('every key has a rule for every cluster type', () => {
    assert.deepEqual(Object.keys(KEY_ACCESS).sort(), [...ALLOWED_KEYS].sort());
  });

  test('docs/security.md shows exactly the rule', () => {
    const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
    const section = doc.split('## What each role may set in container_config, per runtime')[1]!.split('\n## ')[0]!;
    const rows = section.split('\n').filter((l) => l.startsWith('| `'));
    const fromDocs = Object.fromEntries(rows.map((row) => {
      const [key, docker, k8s, local, localIsolated, why] = row.split('|').slice(1, 7).map((c) => c.trim());
      const rule = { access: { docker, k8s, local }, ...(localIsolated !== local ? { localIsolated } : {}), why };
      return [key!.replaceAll('`', ''), rule];
    }));
    assert.deepEqual(fromDocs, JSON.parse(JSON.stringify(KEY_ACCESS)));
  });

  test('an editor may not bind host paths, other volumes, host ports, labels or scheduling', () => {
    assert.deepEqual(denied('docker', {}, 'volumes:\n  /:\n    bind: /host\n    mode: rw\n'), ['container_config.volumes']);
    assert.deepEqual(denied('docker', {}, 'volumes:\n  wsm-other-data:\n    bind: /other\n'), ['container_config.volumes']);
    assert.deepEqual(denied('docker', {}, 'host_port: 22\nlabels: {traefik.enable: "true"}'), ['container_config.host_port', 'container_config.labels']);
    assert.deepEqual(denied('k8s', {}, 'tolerations: [{operator: Exists}]\nservice_type: NodePort'), ['container_config.tolerations', 'container_config.service_type']);
  });

  test('an editor may change what stays in the container, and may send owner keys unchanged or remove nothing', () => {
    const current: ContainerConfig = { image: 'busybox:1', volumes: { '/srv/data': { bind: '/data', mode: 'ro' } }, labels: { team: 'a' } };
    assert.deepEqual(denied('docker', current, 'image_tag: "2"\nenv:\n  - {name: A, value: b}\nresources: {limits: {cpu: 1}}\ncommand: [sh]'), []);
    assert.deepEqual(denied('docker', current, 'volumes:\n  /srv/data: {bind: /data, mode: ro}\nlabels: {team: a}\nenv: [{name: A, value: b}]'), []);
    assert.deepEqual(denied('docker', current, 'volumes: null'), ['container_config.volumes'], 'removing a bind is a change too');
    assert.deepEqual(denied('docker', current, 'labels: {team: b}'), ['container_config.labels']);
  });

  test('on local, what the host process runs is the owner\'s unless it runs as a user of its own', () => {
    assert.deepEqual(denied('local', {}, 'command: [sh]\nenv: [{name: A, value: b}]'), ['container_config.command', 'container_config.env']);
    assert.deepEqual(denied('local', {}, 'environment: {LD_PRELOAD: /tmp/x.so}'), ['container_config.env'], 'environment is folded into env');
    assert.deepEqual(denied('docker', {}, 'command: [sh]\nenv: [{name: A, value: b}]'), []);
    const isolated = (yaml: string) => {
      const patch = patchOf(yaml);
      return configAccessErrors('local', 'editor', {}, mergeContainerConfig({}, patch, DEFAULT_IMAGE), patch, true).map((e) => e.field);
    };
    assert.deepEqual(isolated('command: [sh]\nenv: [{name: A, value: b}]\nworking_dir: /tmp'), []);
    assert.deepEqual(isolated('port: 22\nhost_port: 80'), ['container_config.port', 'container_config.host_port'], 'ports stay the host\'s');
  });

  test('an owner may change every key', () => {
    const patch = patchOf('volumes:\n  /:\n    bind: /host\nhost_port: 22\nlabels: {a: b}\ncommand: [sh]');
    for (const type of ['docker', 'k8s', 'local'] as const) assert.deepEqual(configAccessErrors(type, 'owner', {}, mergeContainerConfig({}, patch, DEFAULT_IMAGE), patch), []);
  });
});

describe('host paths a bind may use', () => {
  test('nothing by default, for every caller; named volumes are not host paths', () => {
    assert.deepEqual(bindRootErrors({ volumes: { '/': { bind: '/host', mode: 'rw' } } }, []).map((e) => e.field), ['container_config.volumes["/"]']);
    assert.deepEqual(bindRootErrors({ volumes: { 'some-volume': { bind: '/v', mode: 'rw' } } }, []), []);
  });

  test('a root covers itself and what is below it, not a sibling with the same prefix', () => {
    const roots = parseBindRoots('/srv/shared, /data/teams/,');
    assert.deepEqual(roots, ['/srv/shared', '/data/teams']);
    for (const ok of ['/srv/shared', '/srv/shared/x', '/data/teams/a/b']) assert.ok(isUnderRoots(ok, roots), ok);
    for (const bad of ['/srv/sharedx', '/srv', '/', '/srv/shared/../../etc', '/data/team', 'srv/shared/x']) assert.ok(!isUnderRoots(bad, roots), bad);
    assert.throws(() => parseBindRoots('relative/dir'), /not an absolute path/);
  });

  test('property: a path with . or .. segments is never accepted, and what is accepted stays under a root after normalising', () => {
    const segment = fc.constantFrom('a', 'b', 'ab', '.', '..', '', 'a.b');
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const path = `/${segments.join('/')}`;
        const roots = ['/a/b'];
        if (isCanonicalHostPath(path)) assert.ok(!segments.some((s) => s === '.' || s === '..' || s === '') || path === '/', path);
        const errors = bindRootErrors({ volumes: { [path]: { bind: '/x', mode: 'rw' } } }, roots);
        const normalized = posix.normalize(path).replace(/(.)\/$/, '$1');
        const under = normalized === '/a/b' || normalized.startsWith('/a/b/');
        assert.equal(errors.length === 0, under, `${path} -> ${normalized}`);
      }),
      { numRuns: 500 },
    );
  });
});
