import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOWED_KEYS, containerConfigInputErrors, parseContainerConfig, parseContainerConfigInput } from '../../src/core/container-config.js';
import { SHAPE_KEYS } from '../../src/core/container-config-shape.js';

const ok = (yaml: string) => {
  const r = parseContainerConfig(yaml);
  assert.deepEqual(r.errors, [], yaml);
  return r.patch;
};
const errorsOf = (yaml: string) => parseContainerConfig(yaml).errors;

describe('parseContainerConfig: what is accepted', () => {
  test("Mage's documented examples", () => {
    assert.deepEqual(ok('env:\n  - name: ENV\n    value: test\n  - name: API_KEY\n    value: secret-key\n'), {
      env: [{ name: 'ENV', value: 'test' }, { name: 'API_KEY', value: 'secret-key' }],
    });
    assert.deepEqual(ok('image_tag: 2026.06.16\nenv:\n  - name: ENV\n    value: test'), {
      image_tag: '2026.06.16',
      env: [{ name: 'ENV', value: 'test' }],
    });
  });

  test('empty text, comments, {} and null are an empty patch', () => {
    for (const yaml of ['', '   \n', '# nothing\n', '{}', 'null', '~']) assert.deepEqual(ok(yaml), {}, yaml);
  });

  test('env values that YAML reads as numbers or booleans keep the text the user wrote', () => {
    const patch = ok('env:\n  - {name: A, value: 1.10}\n  - {name: B, value: true}\n  - {name: C, value: 0x1F}\n  - {name: D, value: ""}\n');
    assert.deepEqual(patch.env, [
      { name: 'A', value: '1.10' },
      { name: 'B', value: 'true' },
      { name: 'C', value: '0x1F' },
      { name: 'D', value: '' },
    ]);
  });

  test("Mage's Docker environment map (and a NAME=value list) is folded into env", () => {
    assert.deepEqual(ok('environment:\n  FOO: bar\n  PORT: 8080\n').env, [{ name: 'FOO', value: 'bar' }, { name: 'PORT', value: '8080' }]);
    assert.deepEqual(ok('environment: ["A=1=2", "B="]').env, [{ name: 'A', value: '1=2' }, { name: 'B', value: '' }]);
  });

  test('command and args: a list, or one line split as a shell would', () => {
    const patch = ok(`command: sh -c 'echo "hi there"; sleep 5'\nargs: [--port, 6789]\n`);
    assert.deepEqual(patch.command, ['sh', '-c', 'echo "hi there"; sleep 5']);
    assert.deepEqual(patch.args, ['--port', '6789']);
  });

  test('every documented key', () => {
    const patch = ok(`
image: registry.local:5000/team/mage:1.2
resources:
  limits: {cpu: 2, memory: 4Gi, nvidia.com/gpu: 1}
  requests: {cpu: 500m, ephemeral-storage: 1e3}
working_dir: /home/src
port: 6789
host_port: 0
restart_policy: unless-stopped
image_pull_policy: IfNotPresent
image_pull_secrets: [regcred, {name: other}]
volumes:
  /srv/data: {bind: /data, mode: ro}
  cache: {bind: /cache}
public_url: https://mage.example.com/ws
service_type: NodePort
nodeSelector: {disktype: ssd}
tolerations:
  - {key: gpu, operator: Exists, effect: NoSchedule, tolerationSeconds: 60}
affinity:
  nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: []}}
labels: {team: data, example.com/tier: "1"}
annotations: {note: "any text: here"}
unset_env: [OLD_VAR]
`);
    assert.deepEqual(patch, {
      image: 'registry.local:5000/team/mage:1.2',
      resources: { limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' }, requests: { cpu: '500m', 'ephemeral-storage': '1e3' } },
      working_dir: '/home/src',
      port: 6789,
      host_port: 0,
      restart_policy: 'unless-stopped',
      image_pull_policy: 'IfNotPresent',
      image_pull_secrets: ['regcred', 'other'],
      volumes: { '/srv/data': { bind: '/data', mode: 'ro' }, cache: { bind: '/cache', mode: 'rw' } },
      public_url: 'https://mage.example.com/ws',
      service_type: 'NodePort',
      nodeSelector: { disktype: 'ssd' },
      tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 60 }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      labels: { team: 'data', 'example.com/tier': '1' },
      annotations: { note: 'any text: here' },
      unset_env: ['OLD_VAR'],
    });
  });

  test('a key set to null is removed; a resource quantity set to null removes that one entry', () => {
    assert.deepEqual(ok('command: null\nworking_dir:\n'), { unset_keys: ['command', 'working_dir'] });
    assert.deepEqual(ok('resources:\n  limits:\n    cpu: null\n'), { resources: { limits: { cpu: null } } });
  });

  test('the same content as a JSON object is accepted (create may send an object)', () => {
    const r = parseContainerConfigInput({ image: 'busybox:1', env: [{ name: 'A', value: 1 }] });
    assert.deepEqual(r, { patch: { image: 'busybox:1', env: [{ name: 'A', value: '1' }] }, errors: [] });
  });
});

describe('parseContainerConfig: what is refused, and how it is said', () => {
  test('a YAML syntax error names its line', () => {
    const [err, ...rest] = errorsOf('image: busybox\nenv:\n  - name: A\n    value: [1, 2\n');
    assert.equal(rest.length, 0);
    assert.equal(err!.field, 'container_config');
    assert.equal(typeof err!.line, 'number');
    assert.match(err!.message, new RegExp(`^line ${err!.line}: .*YAML is not valid`));
  });

  test('a duplicate key is an error at the second occurrence', () => {
    const [err] = errorsOf('image: a\nport: 1\nimage: b\n');
    assert.equal(err!.line, 3);
    assert.match(err!.message, /^line 3: Map keys must be unique/);
  });

  test('the top level must be a mapping', () => {
    for (const yaml of ['- a\n- b', 'just a string', '42']) {
      const [err] = errorsOf(yaml);
      assert.equal(err!.field, 'container_config');
      assert.match(err!.message, /must be a YAML mapping/);
    }
  });

  test('an unknown key is named with its line and the allowed keys', () => {
    const [err] = errorsOf('image: busybox\n\nimagePullPolicy: Always\n');
    assert.equal(err!.field, 'container_config.imagePullPolicy');
    assert.equal(err!.line, 3);
    assert.match(err!.message, /^line 3: is not a container_config key; the allowed keys are image, env, .*image_pull_policy/);
  });

  test('env errors name the entry and its line', () => {
    const errors = errorsOf('env:\n  - name: GOOD\n    value: x\n  - name: 9BAD\n    value: y\n  - name: NOVALUE\n  - name: X\n    valueFrom: {}\n    value: z\n');
    assert.deepEqual(
      errors.map((e) => [e.field, e.line]),
      [
        ['container_config.env[1].name', 4],
        ['container_config.env[2].value', 6],
        ['container_config.env[3].valueFrom', 8],
      ],
    );
    assert.match(errors[1]!.message, /unset_env: \[NOVALUE\] to remove/);
  });

  test('a variable set twice in one patch (env and environment alike) is refused', () => {
    const [err] = errorsOf('env:\n  - {name: A, value: "1"}\nenvironment:\n  A: "2"\n');
    assert.equal(err!.field, 'container_config.environment.A');
    assert.match(err!.message, /sets A again \(already set at container_config\.env\[0\]\)/);
  });

  test('setting and unsetting the same variable is refused', () => {
    const [err] = errorsOf('env:\n  - {name: A, value: "1"}\nunset_env: [A]\n');
    assert.match(err!.message, /which unset_env removes/);
  });

  test('bad values name the field and what is allowed', () => {
    const cases: [string, string, RegExp][] = [
      ['image: "Not An Image"', 'container_config.image', /image reference such as/],
      ['image_tag: "-x"', 'container_config.image_tag', /a tag of letters/],
      ['image_tag: null', 'container_config.image_tag', /a tag of letters/],
      ['resources: {limits: {cpu: lots}}', 'container_config.resources.limits.cpu', /Kubernetes quantity/],
      ['resources: {limits: {memory: -1Gi}}', 'container_config.resources.limits.memory', /Kubernetes quantity/],
      ['resources: {limit: {cpu: 1}}', 'container_config.resources.limit', /limits and requests/],
      ['port: 0', 'container_config.port', /from 1 to 65535/],
      ['port: "6789"', 'container_config.port', /whole number/],
      ['host_port: 70000', 'container_config.host_port', /from 0 to 65535/],
      ['restart_policy: sometimes', 'container_config.restart_policy', /no, always, unless-stopped or on-failure/],
      ['image_pull_policy: always', 'container_config.image_pull_policy', /Always, IfNotPresent or Never/],
      ['service_type: Ingress', 'container_config.service_type', /ClusterIP, NodePort or LoadBalancer/],
      ['working_dir: relative/dir', 'container_config.working_dir', /absolute path/],
      ['public_url: ftp://x', 'container_config.public_url', /http:\/\/ or https:\/\//],
      ['command: []', 'container_config.command', /must name a program/],
      ['command: "echo \'unclosed"', 'container_config.command', /single quote that is never closed/],
      ['command: [echo, [nested]]', 'container_config.command[1]', /must be a string/],
      ['volumes: {relative/path: {bind: /x}}', 'container_config.volumes["relative/path"]', /absolute host path/],
      ['volumes: {/data: {bind: /x, mode: rwx}}', 'container_config.volumes["/data"].mode', /rw or ro/],
      ['labels: {app: other}', 'container_config.labels.app', /set by wsm/],
      ['labels: {team: "not valid!"}', 'container_config.labels.team', /label value/],
      ['nodeSelector: [a]', 'container_config.nodeSelector', /mapping of names to strings/],
      ['tolerations: [{operator: Maybe}]', 'container_config.tolerations[0].operator', /Exists or Equal/],
      ['affinity: {nodeAfinity: {}}', 'container_config.affinity.nodeAfinity', /nodeAffinity, podAffinity, podAntiAffinity/],
      ['unset_env: [ok, "bad name"]', 'container_config.unset_env[1]', /variable name/],
      ['image_pull_secrets: [Bad_Name]', 'container_config.image_pull_secrets[0]', /name of a Secret/],
      ['env: {A: b}', 'container_config.env', /list of \{name, value\}/],
    ];
    for (const [yaml, field, message] of cases) {
      const errors = errorsOf(yaml);
      assert.equal(errors.length, 1, `${yaml}: ${JSON.stringify(errors)}`);
      assert.equal(errors[0]!.field, field, yaml);
      assert.match(errors[0]!.message, message, yaml);
      assert.match(errors[0]!.message, /^line 1: /, yaml);
    }
  });

  test('aliases cannot blow up into a huge value', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const errors = errorsOf(bomb.join('\n'));
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /YAML is not valid/);
  });

  test('the field prefix can be chosen', () => {
    assert.equal(parseContainerConfig('nope: 1', 'workspace.container_config').errors[0]!.field, 'workspace.container_config.nope');
  });
});

describe('the JSON shape of container_config', () => {
  test('allows exactly the keys the checks take', () => {
    assert.deepEqual([...SHAPE_KEYS].sort(), [...ALLOWED_KEYS].sort());
  });

  test('is checked on the parsed YAML first: the field at fault, its line, what is allowed there', () => {
    const errors = errorsOf('image: busybox:1\nport: "80"\ntolerations:\n  - operator: Sometimes\n');
    assert.deepEqual(errors.map((e) => [e.field, e.line]), [['container_config.port', 2], ['container_config.tolerations[0].operator', 4]]);
    assert.match(errors[0]!.message, /^line 2: must be a whole number from 1 to 65535.*not the string "80"\.$/);
    assert.match(errors[1]!.message, /Exists or Equal/);
  });

  test('a JSON object is explained the same way, naming each field', () => {
    assert.deepEqual(containerConfigInputErrors({ resources: { limits: { cpu: {} } }, env: 'A=1' }).map((e) => e.field).sort(), ['container_config.env', 'container_config.resources.limits.cpu']);
    assert.deepEqual(containerConfigInputErrors(7).map((e) => e.field), ['container_config']);
  });
});
