// The objects a workspace is made of on Kubernetes, named as Mage names them (DESIGN.md section 4).
import { createHash } from 'node:crypto';
import type { V1ConfigMap, V1Container, V1PodTemplateSpec, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { LABEL_INSTALLATION } from '../../core/defaults.js';
import type { RuntimeWorkspace } from '../../core/runtime.js';
import { POST_START_RESULT_PATH, POST_START_WRAPPER, POST_START_WRAPPER_KEY } from './post-start.js';

export const MAGE_PORT = 6789;
export const DATA_VOLUME = 'mage-data';
export const HOOKS_VOLUME = 'wsm-hooks';
export const HOOKS_MOUNT = '/app/hooks';
export const PRE_START_CONTAINER = 'pre-start';
export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const HASH_ANNOTATION = 'wsm/config-hash';
export const GENERATION_ANNOTATION = 'wsm/generation';
/** Default bound for a pre-start script, so a hung script fails the pod visibly instead of hanging it. */
export const PRE_START_TIMEOUT_SECONDS = 600;
/** Default bound of each post-start step (the kubelet keeps the container from Running until the hook ends). */
export const POST_START_TIMEOUT_SECONDS = 300;

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

/** Cluster-wide defaults the runtime was configured with. */
export interface ManifestDefaults {
  serviceType: ServiceType;
  storageClassName?: string;
  serviceAccountName?: string;
  imagePullSecrets?: string[];
  preStartTimeoutSeconds?: number;
  postStartTimeoutSeconds?: number;
  /** This installation's id, labelled on the StatefulSet, Service and ConfigMap it makes. */
  installation?: string;
}

export const names = {
  statefulSet: (ws: string) => ws,
  service: (ws: string) => `${ws}-service`,
  hooks: (ws: string) => `${ws}-hooks`,
  container: (ws: string) => `${ws}-container`,
  pod: (ws: string) => `${ws}-0`,
  claim: (ws: string) => `${DATA_VOLUME}-${ws}-0`,
};

export function labels(name: string): Record<string, string> {
  return { app: name, 'dev-instance': '1', [MANAGED_BY]: 'wsm' };
}

/**
 * The labels of the objects themselves: also the installation that made them. Not on the pod template
 * (it would roll every pod once) nor the claim template (immutable in a StatefulSet).
 */
export function objectLabels(name: string, installation: string | undefined): Record<string, string> {
  return installation === undefined ? labels(name) : { ...labels(name), [LABEL_INSTALLATION]: installation };
}

/** POSIX shell quoting, so a command list survives being joined into one `sh -c` string. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** ConfigMap data for the workspace's hook scripts; undefined when it has none. */
export function hooksData(ws: RuntimeWorkspace): Record<string, string> | undefined {
  const data: Record<string, string> = {};
  if (ws.hooks.pre_start) data['pre-start'] = ws.hooks.pre_start.content.toString('utf8');
  if (ws.hooks.post_start) data['post-start'] = ws.hooks.post_start.content.toString('utf8');
  if (hasPostStart(ws)) data[POST_START_WRAPPER_KEY] = POST_START_WRAPPER;
  return Object.keys(data).length > 0 ? data : undefined;
}

export function buildHooksConfigMap(ws: RuntimeWorkspace, namespace: string, data: Record<string, string>, installation?: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: names.hooks(ws.name), namespace, labels: objectLabels(ws.name, installation) },
    data,
  };
}

function hasPostStart(ws: RuntimeWorkspace): boolean {
  return Boolean(ws.lifecycle.post_start?.command?.length || ws.hooks.post_start);
}

/**
 * The postStart hook: the wrapper from the hooks ConfigMap runs the command, then the hook script, and
 * records both (see post-start.ts). As in Mage, a failure is only a warning (the wrapper exits 0) unless
 * post_start.fail_on_error is set: then it exits non-zero and Kubernetes kills the container.
 */
function postStartCommand(ws: RuntimeWorkspace, defaults: ManifestDefaults): string[] | undefined {
  if (!hasPostStart(ws)) return undefined;
  const command = ws.lifecycle.post_start?.command;
  return [
    '/bin/sh',
    `${HOOKS_MOUNT}/${POST_START_WRAPPER_KEY}`,
    ws.lifecycle.post_start?.fail_on_error ? '1' : '0',
    command?.length ? command.map(shellQuote).join(' ') : '',
    ws.hooks.post_start ? `${HOOKS_MOUNT}/post-start` : '',
    String(defaults.postStartTimeoutSeconds ?? POST_START_TIMEOUT_SECONDS),
    POST_START_RESULT_PATH,
    // As on Docker and local: by default at once, beside the entrypoint; with wait_for_port, once the port answers.
    ws.lifecycle.post_start?.wait_for_port ? String(ws.container.port ?? MAGE_PORT) : '0',
  ];
}

function podTemplate(ws: RuntimeWorkspace, defaults: ManifestDefaults): V1PodTemplateSpec {
  const c = ws.container;
  const port = c.port ?? MAGE_PORT;
  const hasHooks = hooksData(ws) !== undefined;
  const volumeMounts = [{ name: DATA_VOLUME, mountPath: ws.storage.mount_path }];
  if (hasHooks) volumeMounts.push({ name: HOOKS_VOLUME, mountPath: HOOKS_MOUNT });
  const env = ws.env.map((e) => ({ name: e.name, value: e.value }));
  const postStart = postStartCommand(ws, defaults);
  const main: V1Container = {
    name: names.container(ws.name),
    image: ws.image,
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env,
    volumeMounts,
    ...(c.resources ? { resources: { ...(c.resources.limits ? { limits: c.resources.limits } : {}), ...(c.resources.requests ? { requests: c.resources.requests } : {}) } } : {}),
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
    ...(c.working_dir ? { workingDir: c.working_dir } : {}),
    ...(c.image_pull_policy ? { imagePullPolicy: c.image_pull_policy } : {}),
    ...(postStart ? { lifecycle: { postStart: { exec: { command: postStart } } } } : {}),
  };
  const initContainers: V1Container[] = [];
  if (ws.hooks.pre_start) {
    initContainers.push({
      name: PRE_START_CONTAINER,
      image: ws.image,
      command: ['/bin/sh', '-c', `timeout ${defaults.preStartTimeoutSeconds ?? PRE_START_TIMEOUT_SECONDS} ${HOOKS_MOUNT}/pre-start`],
      // The kubelet then puts the script's last output lines into state.terminated.message.
      terminationMessagePolicy: 'FallbackToLogsOnError',
      env,
      volumeMounts,
      ...(c.image_pull_policy ? { imagePullPolicy: c.image_pull_policy } : {}),
      ...(c.working_dir ? { workingDir: c.working_dir } : {}),
    });
  }
  const pullSecrets = c.image_pull_secrets ?? defaults.imagePullSecrets;
  const serviceAccountName = ws.service_account_name ?? defaults.serviceAccountName;
  return {
    metadata: {
      labels: { ...(c.labels ?? {}), ...labels(ws.name) },
      annotations: { ...(c.annotations ?? {}) },
    },
    spec: {
      ...(serviceAccountName ? { serviceAccountName } : {}),
      ...(pullSecrets?.length ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {}),
      ...(c.nodeSelector ? { nodeSelector: c.nodeSelector } : {}),
      ...(c.tolerations ? { tolerations: c.tolerations as never } : {}),
      ...(c.affinity ? { affinity: c.affinity as never } : {}),
      ...(initContainers.length ? { initContainers } : {}),
      containers: [main],
      ...(hasHooks ? { volumes: [{ name: HOOKS_VOLUME, configMap: { name: names.hooks(ws.name), defaultMode: 0o755 } }] } : {}),
    },
  };
}

/** The pod template with its config hash: the hash covers the template and the hook scripts' contents. */
export function buildPodTemplate(ws: RuntimeWorkspace, defaults: ManifestDefaults): { template: V1PodTemplateSpec; hash: string } {
  const template = podTemplate(ws, defaults);
  const hash = createHash('sha256')
    .update(JSON.stringify({ template, hooks: hooksData(ws) ?? null }))
    .digest('hex')
    .slice(0, 16);
  template.metadata!.annotations![HASH_ANNOTATION] = hash;
  return { template, hash };
}

export function buildStatefulSet(ws: RuntimeWorkspace, namespace: string, defaults: ManifestDefaults): V1StatefulSet {
  const { template, hash } = buildPodTemplate(ws, defaults);
  const storageClassName = ws.storage.class_name ?? defaults.storageClassName;
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: {
      name: names.statefulSet(ws.name),
      namespace,
      labels: objectLabels(ws.name, defaults.installation),
      annotations: { [HASH_ANNOTATION]: hash, [GENERATION_ANNOTATION]: String(ws.generation) },
    },
    spec: {
      replicas: ws.desired === 'running' ? 1 : 0,
      serviceName: names.service(ws.name),
      selector: { matchLabels: { app: ws.name } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: ws.storage.retention_policy, whenScaled: 'Retain' },
      template,
      volumeClaimTemplates: [
        {
          metadata: { name: DATA_VOLUME, labels: labels(ws.name) },
          spec: {
            accessModes: [ws.storage.access_mode],
            ...(storageClassName ? { storageClassName } : {}),
            resources: { requests: { storage: ws.storage.request_size } },
          },
        },
      ],
    },
  };
}

export function serviceType(ws: RuntimeWorkspace, defaults: ManifestDefaults): ServiceType {
  return ws.container.service_type ?? defaults.serviceType;
}

export function buildService(ws: RuntimeWorkspace, namespace: string, defaults: ManifestDefaults): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: names.service(ws.name), namespace, labels: objectLabels(ws.name, defaults.installation) },
    spec: {
      type: serviceType(ws, defaults),
      selector: { app: ws.name },
      ports: [{ name: 'http', port: MAGE_PORT, targetPort: (ws.container.port ?? MAGE_PORT) as never, protocol: 'TCP' }],
    },
  };
}
