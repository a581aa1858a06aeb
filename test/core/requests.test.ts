import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseActionRequest, parseCreateRequest } from '../../src/core/requests.js';

const create = (body: unknown) => parseCreateRequest(body, { defaultClusterType: 'docker' });
const fields = (errors: { field: string }[]) => errors.map((e) => e.field);

describe('parseCreateRequest', () => {
  test('a name alone gets Mage-like defaults', () => {
    const { value, errors } = create({ name: 'ws1' });
    assert.deepEqual(errors, []);
    assert.deepEqual(value, {
      name: 'ws1',
      cluster_type: 'docker',
      container_config: {},
      lifecycle_config: {},
      storage: { access_mode: 'ReadWriteMany', request_size: '2Gi', retention_policy: 'Retain', mount_path: '/home/src' },
    });
  });

  test('every field', () => {
    const { value, errors } = create({
      name: 'ws1',
      cluster_type: 'K8S',
      container_config: 'image: busybox:1\nenv:\n  - name: A\n    value: b\n',
      lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 900 } },
      namespace: 'team-a',
      service_account_name: 'mage-user',
      storage_class_name: 'fast.ssd',
      storage_access_mode: 'ReadWriteOnce',
      storage_request_size: 10,
      pvc_retention_policy: 'Delete',
      ingress_name: 'shared-ingress',
      mount_path: '/home/src/',
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(value, {
      name: 'ws1',
      cluster_type: 'k8s',
      container_config: { image: 'busybox:1', env: [{ name: 'A', value: 'b' }] },
      lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 900 } },
      namespace: 'team-a',
      service_account_name: 'mage-user',
      ingress_name: 'shared-ingress',
      storage: { class_name: 'fast.ssd', access_mode: 'ReadWriteOnce', request_size: '10Gi', retention_policy: 'Delete', mount_path: '/home/src' },
    });
  });

  test('container_config may be an object; null fields mean "not given"', () => {
    const { value, errors } = create({ name: 'ws1', container_config: { port: 8080 }, namespace: null, lifecycle_config: null });
    assert.deepEqual(errors, []);
    assert.deepEqual(value.container_config, { port: 8080 });
    assert.equal(value.namespace, undefined);
  });

  test('storage_request_size: a number of GB, digits, or a quantity', () => {
    assert.equal(create({ name: 'a', storage_request_size: '5' }).value.storage.request_size, '5Gi');
    assert.equal(create({ name: 'a', storage_request_size: 0.5 }).value.storage.request_size, '0.5Gi');
    assert.equal(create({ name: 'a', storage_request_size: '500Mi' }).value.storage.request_size, '500Mi');
    for (const bad of [0, -1, '0', 'big', true, '0Gi']) {
      const { errors } = create({ name: 'a', storage_request_size: bad });
      assert.deepEqual(fields(errors), ['storage_request_size'], String(bad));
      assert.match(errors[0]!.message, /number of GB greater than 0/);
    }
  });

  test('unknown fields, wrong types and bad values are each named', () => {
    const { errors } = create({
      name: 'Bad_Name',
      cluster_type: 'ecs',
      project_type: 'main',
      namespace: 'Not Valid',
      storage_access_mode: 'ReadWriteAll',
      pvc_retention_policy: 'Keep',
      service_account_name: 7,
      mount_path: 'relative',
      container_config: 'port: nope',
      lifecycle_config: { termination_policy: { max_idle_seconds: 'soon' } },
    });
    assert.deepEqual(fields(errors).sort(), [
      'cluster_type',
      'container_config.port',
      'lifecycle_config.termination_policy.max_idle_seconds',
      'mount_path',
      'name',
      'namespace',
      'project_type',
      'pvc_retention_policy',
      'service_account_name',
      'storage_access_mode',
    ]);
    const byField = Object.fromEntries(errors.map((e) => [e.field, e.message]));
    assert.match(byField.cluster_type!, /local, docker or k8s/);
    assert.match(byField.project_type!, /is not a field of a new workspace/);
    assert.match(byField.storage_access_mode!, /ReadWriteOnce, ReadWriteMany or ReadOnlyMany/);
    assert.match(byField.service_account_name!, /not the number 7/);
  });

  test('a missing name and a body that is not an object', () => {
    assert.deepEqual(fields(create({}).errors), ['name']);
    assert.deepEqual(fields(create('ws1').errors), ['workspace']);
  });
});

describe('parseActionRequest', () => {
  test('stop, resume and add_to_ingress take nothing but the action (name and cluster_type are ignored)', () => {
    for (const action of ['stop', 'resume', 'add_to_ingress'] as const) {
      assert.deepEqual(parseActionRequest({ action, name: 'ws1', cluster_type: 'k8s' }), { value: { action }, errors: [] });
    }
  });

  test('patch carries its parsed configs', () => {
    const { value, errors } = parseActionRequest({
      action: 'patch',
      container_config: 'image_tag: 2026.06.16\nenv:\n  - name: ENV\n    value: test',
      lifecycle_config: { pre_start_script_path: 'pre.sh' },
      update_workspace_settings: true,
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(value, {
      action: 'patch',
      container_config: { image_tag: '2026.06.16', env: [{ name: 'ENV', value: 'test' }] },
      lifecycle_config: { pre_start_script_path: 'pre.sh' },
      update_workspace_settings: true,
      dry_run: false,
    });
  });

  test('dry_run is a boolean that only patch takes', () => {
    const dry = parseActionRequest({ action: 'patch', dry_run: true }).value;
    assert.equal(dry.action === 'patch' && dry.dry_run, true);
    assert.deepEqual(fields(parseActionRequest({ action: 'patch', dry_run: 'yes' }).errors), ['dry_run']);
    assert.deepEqual(fields(parseActionRequest({ action: 'stop', dry_run: true }).errors), ['dry_run']);
  });

  test('a missing or unknown action lists the actions', () => {
    for (const body of [{}, { action: 'restart' }, { action: 3 }]) {
      const { errors } = parseActionRequest(body);
      assert.deepEqual(fields(errors), ['action']);
      assert.match(errors[0]!.message, /stop, resume, patch or add_to_ingress/);
    }
  });

  test('a field the action does not take is named', () => {
    const { errors } = parseActionRequest({ action: 'stop', container_config: 'env: []' });
    assert.deepEqual(fields(errors), ['container_config']);
    assert.match(errors[0]!.message, /only taken by the patch action, not by stop/);
  });

  test('unknown fields and wrong types are named', () => {
    const { errors } = parseActionRequest({ action: 'patch', update_workspace_settings: 'yes', force: true, container_config: 'bogus: 1' });
    assert.deepEqual(fields(errors).sort(), ['container_config.bogus', 'force', 'update_workspace_settings']);
  });
});
