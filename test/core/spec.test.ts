import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActionRequest, parseCreateRequest, type PatchRequest } from '../../src/core/requests.js';
import { applyPatch, buildSpec, specEquals } from '../../src/core/spec.js';

const clusterEnv = [{ name: 'DEV_ENV_DB', value: 'db1' }];

function created(body: Record<string, unknown>) {
  const { value, errors } = parseCreateRequest({ name: 'ws1', ...body }, { defaultClusterType: 'local' });
  assert.deepEqual(errors, []);
  return buildSpec(value, { inheritedEnv: clusterEnv, defaultImage: 'mageai/mageai:latest' });
}

function patch(body: Record<string, unknown>): PatchRequest {
  const { value, errors } = parseActionRequest({ action: 'patch', ...body });
  assert.deepEqual(errors, []);
  assert.equal(value.action, 'patch');
  return value as PatchRequest;
}

describe('buildSpec', () => {
  test('a new workspace: defaults, inherited env copied, ingress off', () => {
    assert.deepEqual(created({ ingress_name: 'shared', namespace: 'ns' }), {
      container: {},
      lifecycle: { termination_policy: { enable_auto_termination: false, max_idle_seconds: 0 } },
      storage: { access_mode: 'ReadWriteMany', request_size: '2Gi', retention_policy: 'Retain', mount_path: '/home/src' },
      ingress: { enabled: false, name: 'shared' },
      namespace: 'ns',
      inherited_env: clusterEnv,
    });
  });

  test('image_tag at create retags the default image', () => {
    assert.equal(created({ container_config: 'image_tag: v2' }).container.image, 'mageai/mageai:v2');
  });

  test('image_tag with an image at create retags that image; unset_env has nothing to remove', () => {
    const spec = created({ container_config: 'image: busybox:1\nimage_tag: "2"\nunset_env: [X]\nenv: [{name: Y, value: y}]' });
    assert.deepEqual(spec.container, { image: 'busybox:2', env: [{ name: 'Y', value: 'y' }] });
  });
});

describe('applyPatch', () => {
  const spec = created({ container_config: 'image: busybox:1\nenv: [{name: A, value: a}]', lifecycle_config: { pre_start_script_path: 'pre.sh' } });

  test('merges container and lifecycle configs', () => {
    const next = applyPatch(spec, patch({ container_config: 'image_tag: "2"\nenv: [{name: B, value: b}]', lifecycle_config: { termination_policy: { enable_auto_termination: true } } }), { inheritedEnv: [], defaultImage: 'mageai/mageai:latest' });
    assert.deepEqual(next.container, { image: 'busybox:2', env: [{ name: 'A', value: 'a' }, { name: 'B', value: 'b' }] });
    assert.deepEqual(next.lifecycle, { termination_policy: { enable_auto_termination: true, max_idle_seconds: 0 }, pre_start_script_path: 'pre.sh' });
    assert.deepEqual(next.inherited_env, clusterEnv, 'inherited env kept without update_workspace_settings');
  });

  test('update_workspace_settings re-copies the cluster env', () => {
    const fresh = [{ name: 'DEV_ENV_DB', value: 'db2' }];
    assert.deepEqual(applyPatch(spec, patch({ update_workspace_settings: true }), { inheritedEnv: fresh, defaultImage: 'mageai/mageai:latest' }).inherited_env, fresh);
  });

  test('a patch that changes nothing gives an equal spec; one that does, a different one', () => {
    assert.ok(specEquals(spec, applyPatch(spec, patch({}), { inheritedEnv: [], defaultImage: 'mageai/mageai:latest' })));
    assert.ok(specEquals(spec, applyPatch(spec, patch({ container_config: 'env: [{name: A, value: a}]' }), { inheritedEnv: [], defaultImage: 'mageai/mageai:latest' })));
    assert.ok(!specEquals(spec, applyPatch(spec, patch({ container_config: 'env: [{name: A, value: changed}]' }), { inheritedEnv: [], defaultImage: 'mageai/mageai:latest' })));
    assert.ok(!specEquals(spec, applyPatch(spec, patch({ lifecycle_config: { pre_start_script_path: null } }), { inheritedEnv: [], defaultImage: 'mageai/mageai:latest' })));
  });

  test('the input spec is not changed', () => {
    const before = structuredClone(spec);
    applyPatch(spec, patch({ container_config: 'unset_env: [A]', update_workspace_settings: true }), { inheritedEnv: [], defaultImage: 'mageai/mageai:latest' });
    assert.deepEqual(spec, before);
  });
});

describe('specEquals', () => {
  test('a key holding undefined equals a missing key; order of env matters', () => {
    const a = created({});
    assert.ok(specEquals(a, { ...a, namespace: undefined }));
    const withEnv = { ...a, container: { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] } };
    const reversed = { ...a, container: { env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] } };
    assert.ok(!specEquals(withEnv, reversed));
  });
});
