// fast-check generators of valid container configs and patches, shared by the property tests.
// Objects always get Object.prototype, as JSON and YAML input does.
import fc from 'fast-check';
import type { ContainerConfig, EnvVar } from '../../src/core/types.js';
import type { ContainerConfigPatch } from '../../src/core/container-config.js';

export const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,8}$/);
// Any text but NUL, which no process environment can carry.
export const envValue = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !s.includes('\0'));
export const envList = fc.uniqueArray(fc.record({ name: envName, value: envValue }, { noNullPrototype: true }), { selector: (v: EnvVar) => v.name, maxLength: 6 });
// Within each resource's bounds (core/limits.ts): cores, bytes, a count.
const QUANTITIES: Record<string, string[]> = {
  cpu: ['500m', '1', '0.5', '2', '1e1'],
  memory: ['2Gi', '512Mi', '1e9', '64Mi'],
  'ephemeral-storage': ['1e3', '0', '10Gi', '100k'],
  'nvidia.com/gpu': ['1', '2', '0'],
};
const resourceName = fc.constantFrom('cpu', 'memory', 'ephemeral-storage', 'nvidia.com/gpu');
const resourceEntry = resourceName.chain((name) => fc.tuple(fc.constant(name), fc.constantFrom(...QUANTITIES[name]!)));
const quantities = fc
  .uniqueArray(resourceEntry, { minLength: 1, maxLength: 3, selector: ([name]) => name })
  .map((entries) => Object.fromEntries(entries));
const quantityOrNull = fc
  .uniqueArray(resourceEntry.chain(([name, q]) => fc.constantFrom<[string, string | null]>([name, q], [name, null])), { maxLength: 3, selector: ([name]) => name })
  .map((entries) => Object.fromEntries(entries));
const image = fc
  .tuple(fc.constantFrom('', 'localhost:5000/', 'registry.example.com/'), fc.stringMatching(/^[a-z0-9]{1,6}(\/[a-z0-9]{1,6})?$/), fc.constantFrom('', ':latest', ':1.2', ':v2-rc'))
  .map(([registry, path, tag]) => `${registry}${path}${tag}`);
const word = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0'));
const absPath = fc.stringMatching(/^(\/[a-z0-9_.-]{1,8}){1,3}$/);
/** Host paths as the API takes them: no '.' or '..' segments. */
const hostPath = fc.stringMatching(/^(\/[a-z0-9_-][a-z0-9_.-]{0,7}){1,3}$/);
const labelKey = fc.stringMatching(/^[a-z][a-z0-9-]{0,6}[a-z0-9]$/).filter((k) => !['app', 'dev-instance'].includes(k));
const labelValue = fc.stringMatching(/^[A-Za-z0-9]([A-Za-z0-9._-]{0,6}[A-Za-z0-9])?$/);

export const containerConfig: fc.Arbitrary<ContainerConfig> = fc.record(
  {
    image,
    env: envList.filter((l) => l.length > 0),
    resources: fc.record({ limits: quantities, requests: quantities }, { requiredKeys: [], noNullPrototype: true }).filter((r) => Object.keys(r).length > 0),
    command: fc.array(word, { minLength: 1, maxLength: 4 }),
    args: fc.array(word, { maxLength: 4 }),
    working_dir: absPath,
    port: fc.integer({ min: 1, max: 65535 }),
    host_port: fc.integer({ min: 0, max: 65535 }),
    restart_policy: fc.constantFrom('no', 'always', 'unless-stopped', 'on-failure', 'never'),
    image_pull_policy: fc.constantFrom('Always', 'IfNotPresent', 'Never'),
    image_pull_secrets: fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/), { maxLength: 2 }),
    volumes: fc.dictionary(hostPath, fc.record({ bind: absPath, mode: fc.constantFrom('rw' as const, 'ro' as const) }, { noNullPrototype: true }), { maxKeys: 2, noNullPrototype: true }),
    public_url: fc.constantFrom('http://localhost:6789', 'https://mage.example.com/ws-1'),
    service_type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'),
    nodeSelector: fc.dictionary(labelKey, labelValue, { maxKeys: 2, noNullPrototype: true }),
    tolerations: fc.array(fc.record({ key: labelKey, operator: fc.constantFrom('Exists', 'Equal'), effect: fc.constantFrom('NoSchedule', 'NoExecute') }, { noNullPrototype: true }), { maxLength: 2 }),
    labels: fc.dictionary(labelKey, labelValue, { maxKeys: 2, noNullPrototype: true }),
    annotations: fc.dictionary(labelKey, word, { maxKeys: 2, noNullPrototype: true }),
  },
  { requiredKeys: [], noNullPrototype: true },
);

export const containerPatch: fc.Arbitrary<ContainerConfigPatch> = fc
  .record(
    {
      base: containerConfig,
      image_tag: fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,6}$/),
      unset_env: fc.uniqueArray(envName, { maxLength: 3 }),
      resources: fc.record({ limits: quantityOrNull }, { requiredKeys: [], noNullPrototype: true }),
      unset_keys: fc.uniqueArray(fc.constantFrom('command' as const, 'working_dir' as const, 'labels' as const, 'image' as const), { maxLength: 2 }),
    },
    { requiredKeys: ['base'], noNullPrototype: true },
  )
  .map(({ base, ...extra }) => {
    const patch: ContainerConfigPatch = { ...base, ...extra };
    // One patch never both sets and unsets a name (the parser refuses that).
    if (patch.unset_env && patch.env) patch.unset_env = patch.unset_env.filter((n) => !patch.env!.some((v) => v.name === n));
    return patch;
  });
