// Every quantity, size and count is bounded at the API: values that would be stored and then fail in
// the runtime (Infinity CPUs, memory past int64, a 900 KB variable, 1e+308Gi volumes) are refused with
// the field named, and whatever is accepted is finite and within the documented range.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseContainerConfig, parseContainerConfigInput } from '../../src/core/container-config.js';
import { parseCreateRequest } from '../../src/core/requests.js';
import { LIMITS, resourceBound, specLimitErrors } from '../../src/core/limits.js';
import { quantityValue } from '../../src/core/quantity.js';
import { buildSpec } from '../../src/core/spec.js';
import type { WorkspaceSpec } from '../../src/core/types.js';

const errorsOf = (yaml: string) => parseContainerConfig(yaml).errors;
const onlyField = (yaml: string, field: string) => {
  const errors = errorsOf(yaml);
  assert.deepEqual(errors.map((e) => e.field), [field], `${yaml.slice(0, 80)}: ${JSON.stringify(errors).slice(0, 300)}`);
  return errors[0]!;
};

describe('resource quantities', () => {
  test('the values of the issue are refused, naming the field and the range', () => {
    assert.match(onlyField('resources:\n  limits:\n    cpu: 1e309\n', 'container_config.resources.limits.cpu').message, /from 1m to 256/);
    assert.match(onlyField('resources:\n  limits:\n    memory: 99999999999999999999999999999Ei\n', 'container_config.resources.limits.memory').message, /from 6Mi to 64Ti/);
    onlyField('resources:\n  requests:\n    cpu: .inf\n', 'container_config.resources.requests.cpu');
    onlyField('resources: {limits: {memory: 65Ti}}', 'container_config.resources.limits.memory');
    onlyField('resources: {limits: {memory: 1Mi}}', 'container_config.resources.limits.memory');
    onlyField('resources: {limits: {cpu: 257}}', 'container_config.resources.limits.cpu');
    onlyField('resources: {limits: {cpu: 0.0001}}', 'container_config.resources.limits.cpu');
    onlyField('resources: {limits: {nvidia.com/gpu: 0.5}}', 'container_config.resources.limits["nvidia.com/gpu"]');
    onlyField('resources: {limits: {nvidia.com/gpu: 1025}}', 'container_config.resources.limits["nvidia.com/gpu"]');
    onlyField('resources: {requests: {ephemeral-storage: 1e300}}', 'container_config.resources.requests["ephemeral-storage"]');
  });

  test('JSON input with a number past float range is refused too', () => {
    const { errors } = parseContainerConfigInput(JSON.parse('{"resources": {"limits": {"cpu": 1e309}}}'));
    assert.deepEqual(errors.map((e) => e.field), ['container_config.resources.limits.cpu']);
  });

  test('property: an accepted quantity is finite and within its bound, whatever was written', () => {
    const mantissa = fc.oneof(fc.nat({ max: 10 ** 6 }).map(String), fc.constantFrom('0.5', '.25', '1.', '99999999999999999999999999999', '1e309'));
    const suffix = fc.constantFrom('', 'm', 'k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'e3', 'e-3', 'e308', 'E400');
    const name = fc.constantFrom('cpu', 'memory', 'ephemeral-storage', 'hugepages-2Mi', 'nvidia.com/gpu');
    fc.assert(
      fc.property(name, mantissa, suffix, fc.constantFrom('limits', 'requests'), (n, m, s, kind) => {
        const q = /e/i.test(m) && /^[eE]/.test(s) ? m : `${m}${s}`;
        const { patch, errors } = parseContainerConfig(`resources:\n  ${kind}:\n    ${n}: "${q}"\n`);
        const accepted = patch.resources?.[kind as 'limits']?.[n];
        if (errors.length > 0) {
          assert.equal(accepted, undefined);
          assert.ok(errors.every((e) => e.field.startsWith(`container_config.resources.${kind}`)), JSON.stringify(errors));
          return;
        }
        const value = quantityValue(accepted!)!;
        const bound = resourceBound(n);
        assert.ok(Number.isFinite(value) && value >= bound.min && value <= bound.max, `${n}: ${accepted} = ${value}`);
      }),
      { numRuns: 400 },
    );
  });
});

describe('sizes and counts', () => {
  test('a 900 KB variable is refused at its value, on env and on environment', () => {
    const big = 'x'.repeat(900_000);
    assert.match(onlyField(`env:\n  - name: BIG\n    value: ${big}\n`, 'container_config.env[0].value').message, /131072 bytes/);
    onlyField(`environment:\n  BIG: ${big}\n`, 'container_config.environment.BIG');
    assert.deepEqual(errorsOf(`env:\n  - name: OK\n    value: ${'x'.repeat(LIMITS.envValueBytes - 3)}\n`), [], 'NAME=value at the limit is accepted');
  });

  test('more variables or entries than allowed', () => {
    const env = Array.from({ length: LIMITS.envVars + 1 }, (_, i) => ({ name: `V${i}`, value: '1' }));
    assert.deepEqual(parseContainerConfigInput({ env }).errors.map((e) => e.field), ['container_config.env']);
    const labels = Object.fromEntries(Array.from({ length: LIMITS.entries + 1 }, (_, i) => [`l${i}`, 'x']));
    assert.deepEqual(parseContainerConfigInput({ labels }).errors.map((e) => e.field), ['container_config.labels']);
    const annotations = { big: 'x'.repeat(LIMITS.annotationBytes) };
    assert.deepEqual(parseContainerConfigInput({ annotations }).errors.map((e) => e.field), ['container_config.annotations']);
  });

  test('tolerationSeconds, affinity weights and paths are bounded', () => {
    onlyField('tolerations: [{key: k, operator: Exists, tolerationSeconds: 1e300}]', 'container_config.tolerations[0].tolerationSeconds');
    onlyField('affinity: {nodeAffinity: {preferredDuringSchedulingIgnoredDuringExecution: [{weight: .inf}]}}', 'container_config.affinity');
    onlyField(`working_dir: /${'a'.repeat(LIMITS.pathBytes)}`, 'container_config.working_dir');
  });

  test('storage_request_size: 1e308 and past 64Ti are refused; never stored as 1e+308Gi', () => {
    const create = (size: unknown) => parseCreateRequest({ name: 'a', storage_request_size: size }, { defaultClusterType: 'docker' });
    for (const bad of [1e308, Infinity, '1e308', 65_537, '65Ti', '1e+308Gi', 0.0000001, '100Ei']) {
      assert.deepEqual(create(bad).errors.map((e) => e.field), ['storage_request_size'], String(bad));
    }
    assert.equal(create(65_536).value.storage.request_size, '65536Gi');
    assert.equal(create('64Ti').value.storage.request_size, '64Ti');
  });
});

describe('limits of the whole spec', () => {
  const spec = (container: WorkspaceSpec['container'], inherited: WorkspaceSpec['inherited_env'] = []): WorkspaceSpec =>
    ({ ...buildSpec({ name: 'a', cluster_type: 'docker', container_config: {}, lifecycle_config: {}, storage: { access_mode: 'ReadWriteOnce', request_size: '1Gi', retention_policy: 'Retain', mount_path: '/home/src' } }, { inheritedEnv: inherited, defaultImage: 'mageai/mageai:latest' }), container });

  test('env (inherited included) and command together must fit in 128 KiB', () => {
    const half = 'x'.repeat(70_000);
    assert.deepEqual(specLimitErrors('docker', spec({ env: [{ name: 'A', value: half }] })), []);
    const both = specLimitErrors('docker', spec({ env: [{ name: 'A', value: half }] }, [{ name: 'B', value: half }]));
    assert.deepEqual(both.map((e) => e.field), ['container_config.env']);
    assert.match(both[0]!.message, /131072/);
    const command = specLimitErrors('local', spec({ command: ['sh', '-c', half + half] }));
    assert.deepEqual(command.map((e) => e.field), ['container_config.command']);
    const overriding = specLimitErrors('docker', spec({ env: [{ name: 'B', value: half }] }, [{ name: 'B', value: half }]));
    assert.deepEqual(overriding, [], 'a workspace value replaces the inherited one of the same name');
  });

  test('Docker cannot limit a container to less than 10m of CPU; Kubernetes can', () => {
    const tiny = spec({ resources: { limits: { cpu: '5m' } } });
    assert.deepEqual(specLimitErrors('docker', tiny).map((e) => e.field), ['container_config.resources.limits.cpu']);
    assert.deepEqual(specLimitErrors('k8s', tiny), []);
  });
});
