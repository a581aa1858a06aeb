// The Kubernetes runtime: a workspace is a StatefulSet (one pod, one PVC), a Service, an optional hooks
// ConfigMap, and optionally a path on a shared Ingress. Every call converges the cluster towards the workspace.
import type { KubeConfig, V1ConfigMap, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { DEFAULT_IMAGE, LABEL_INSTALLATION } from '../../core/defaults.js';
import type { ClusterType } from '../../core/types.js';
import type { ExecResult, HttpAnswer, ObservedInstance, PostStartRecord, RemoveOptions, Runtime, RuntimeWorkspace } from '../../core/runtime.js';
import { isConflict, KubeApi } from './api.js';
import { defaultNamespace, loadKubeConfig } from './config.js';
import { execInPod } from './exec.js';
import { addIngressPath, ingressUrl, removeIngressPath, type IngressPathType } from './ingress.js';
import {
  buildHooksConfigMap,
  buildService,
  buildStatefulSet,
  GENERATION_ANNOTATION,
  HASH_ANNOTATION,
  hooksData,
  MANAGED_BY,
  MAGE_PORT,
  names,
  objectLabels,
  PRE_START_TIMEOUT_SECONDS,
  serviceType,
  type ManifestDefaults,
  type ServiceType,
} from './manifests.js';
import { proxyGet, readPostStartRecord } from './pod-access.js';
import { describeInstance } from './status.js';
import { checkOurs, isOurs } from './ownership.js';
import { WorkspaceWatcher, type WatchLogger } from './watch.js';

export interface KubernetesLogger extends WatchLogger {
  info(obj: object, msg?: string): void;
}

export interface KubernetesRuntimeOptions {
  /** A ready configuration (tests); otherwise `kubeconfigPath`, else KUBECONFIG / in-cluster. */
  kubeConfig?: KubeConfig;
  kubeconfigPath?: string;
  context?: string;
  /** Default namespace: this, else the in-cluster namespace file, else the context's, else `default`. */
  namespace?: string;
  serviceType?: ServiceType;
  storageClassName?: string;
  serviceAccountName?: string;
  imagePullSecrets?: string[];
  ingressName?: string;
  ingressClassName?: string;
  ingressPathType?: IngressPathType;
  defaultImage?: string;
  /** How long a pre-start script may run before the init container is failed. */
  preStartTimeoutSeconds?: number;
  /** Bound of each post-start step in the postStart hook (the container is not Running before it ends). */
  postStartTimeoutSeconds?: number;
  requestTimeoutMs?: number;
  /** This installation's id ('default' when not given): objects of another installation are never touched. */
  installation?: string;
  /** First and longest wait between watch reconnects. */
  watchRetryMs?: { initial: number; max: number };
  logger?: KubernetesLogger;
}

/** Bounded retries of read-modify-write on 409 Conflict. */
const CONFLICT_RETRIES = 5;

export class KubernetesRuntime implements Runtime {
  readonly clusterType: ClusterType = 'k8s';
  readonly supportsIngress = true;
  readonly namespace: string;
  private readonly kc: KubeConfig;
  private readonly api: KubeApi;
  private readonly defaults: ManifestDefaults & { installation: string };
  private readonly namespaces = new Set<string>();
  private watcher: WorkspaceWatcher | undefined;

  constructor(private readonly options: KubernetesRuntimeOptions = {}) {
    this.kc = loadKubeConfig(options);
    this.namespace = defaultNamespace(this.kc, options.namespace);
    this.namespaces.add(this.namespace);
    this.api = new KubeApi(this.kc, options.requestTimeoutMs ?? 30_000);
    this.defaults = {
      serviceType: options.serviceType ?? 'ClusterIP',
      storageClassName: options.storageClassName,
      serviceAccountName: options.serviceAccountName,
      imagePullSecrets: options.imagePullSecrets,
      preStartTimeoutSeconds: options.preStartTimeoutSeconds,
      postStartTimeoutSeconds: options.postStartTimeoutSeconds,
      installation: options.installation ?? 'default',
    };
  }

  private ns(ws: RuntimeWorkspace): string {
    const ns = ws.namespace ?? this.namespace;
    if (!this.namespaces.has(ns)) {
      this.namespaces.add(ns);
      this.watcher?.addNamespace(ns);
    }
    return ns;
  }

  private ingressName(ws: RuntimeWorkspace): string {
    return ws.ingress.name ?? this.options.ingressName ?? 'wsm-ingress';
  }

  /** The workspace with the runtime's default image when it names none. */
  private resolved(ws: RuntimeWorkspace): RuntimeWorkspace {
    return ws.image ? ws : { ...ws, image: this.options.defaultImage ?? DEFAULT_IMAGE };
  }

  async apply(input: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    signal?.throwIfAborted();
    const ws = this.resolved(input);
    const ns = this.ns(ws);
    // The hooks go first: the pod mounts them and must not start without them.
    await this.ensureHooks(ws, ns);
    await this.ensureStatefulSet(ws, ns);
    await this.ensureService(ws, ns);
    if (ws.ingress.enabled) {
      await addIngressPath(this.api, ns, ws.name, {
        ingressName: this.ingressName(ws),
        ingressClassName: this.options.ingressClassName,
        pathType: this.options.ingressPathType ?? 'ImplementationSpecific',
      });
    }
    return this.observe(ws);
  }

  private async ensureHooks(ws: RuntimeWorkspace, namespace: string): Promise<void> {
    const name = names.hooks(ws.name);
    const target = { verb: 'update', resource: `configmap ${name}`, namespace };
    const data = hooksData(ws);
    if (!data) {
      // Read before deleting: most workspaces have no hooks, and a reconcile should not be a stream of failed writes.
      const stale = await this.api.read({ ...target, verb: 'get' }, (o) => this.api.core.readNamespacedConfigMap({ name, namespace }, o));
      checkOurs(stale, 'configmap', this.defaults.installation);
      if (stale) await this.api.deleteIfExists({ ...target, verb: 'delete' }, (o) => this.api.core.deleteNamespacedConfigMap({ name, namespace }, o));
      return;
    }
    for (let attempt = 1; ; attempt++) {
      const current = await this.api.read({ ...target, verb: 'get' }, (o) => this.api.core.readNamespacedConfigMap({ name, namespace }, o));
      checkOurs(current, 'configmap', this.defaults.installation);
      try {
        if (!current) {
          const body = buildHooksConfigMap(ws, namespace, data, this.defaults.installation);
          await this.api.call({ ...target, verb: 'create' }, (o) => this.api.core.createNamespacedConfigMap({ namespace, body }, o));
        } else if (JSON.stringify(current.data ?? {}) !== JSON.stringify(data)) {
          const body: V1ConfigMap = { ...current, data };
          await this.api.call(target, (o) => this.api.core.replaceNamespacedConfigMap({ name, namespace, body }, o));
        }
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
  }

  private async ensureStatefulSet(ws: RuntimeWorkspace, namespace: string): Promise<void> {
    const name = names.statefulSet(ws.name);
    const target = { verb: 'update', resource: `statefulset ${name}`, namespace };
    const desired = buildStatefulSet(ws, namespace, this.defaults);
    const wantHash = desired.metadata!.annotations![HASH_ANNOTATION]!;
    const wantReplicas = desired.spec!.replicas!;
    let current: V1StatefulSet | undefined;
    for (let attempt = 1; ; attempt++) {
      current = await this.api.read({ ...target, verb: 'get' }, (o) => this.api.apps.readNamespacedStatefulSet({ name, namespace }, o));
      checkOurs(current, 'statefulset', this.defaults.installation);
      try {
        if (!current) {
          await this.api.call({ ...target, verb: 'create' }, (o) => this.api.apps.createNamespacedStatefulSet({ namespace, body: desired }, o));
          this.options.logger?.info({ workspace: ws.name, namespace }, 'created statefulset');
          return;
        }
        const annotations = current.metadata?.annotations ?? {};
        const templateChanged = annotations[HASH_ANNOTATION] !== wantHash;
        const retention = desired.spec!.persistentVolumeClaimRetentionPolicy!;
        const stale =
          templateChanged ||
          annotations[GENERATION_ANNOTATION] !== String(ws.generation) ||
          JSON.stringify(current.spec?.persistentVolumeClaimRetentionPolicy) !== JSON.stringify(retention);
        if (stale) {
          // A replace guarded by resourceVersion: the whole pod template is ours, so removed env vars,
          // volumes or pod-level keys really disappear (a strategic merge would keep them).
          const body: V1StatefulSet = {
            ...current,
            metadata: { ...current.metadata, labels: { ...current.metadata?.labels, ...objectLabels(ws.name, this.defaults.installation) }, annotations: { ...annotations, ...desired.metadata!.annotations } },
            spec: { ...current.spec!, persistentVolumeClaimRetentionPolicy: retention, ...(templateChanged ? { template: desired.spec!.template } : {}) },
          };
          current = await this.api.call(target, (o) => this.api.apps.replaceNamespacedStatefulSet({ name, namespace, body }, o));
          if (templateChanged) this.options.logger?.info({ workspace: ws.name, namespace }, 'updated pod template; the pod rolls');
        }
        break;
      } catch (err) {
        if (!isConflict(err) || attempt >= CONFLICT_RETRIES) throw err;
      }
    }
    if ((current.spec?.replicas ?? 1) !== wantReplicas) {
      await this.api.patch({ verb: 'scale', resource: `statefulset ${name}`, namespace }, 'merge', (o) =>
        this.api.apps.patchNamespacedStatefulSetScale({ name, namespace, body: { spec: { replicas: wantReplicas } } }, o),
      );
    }
  }

  private async ensureService(ws: RuntimeWorkspace, namespace: string): Promise<void> {
    const name = names.service(ws.name);
    const target = { verb: 'get', resource: `service ${name}`, namespace };
    const body = buildService(ws, namespace, this.defaults);
    const current = await this.api.read(target, (o) => this.api.core.readNamespacedService({ name, namespace }, o));
    checkOurs(current, 'service', this.defaults.installation);
    if (!current) {
      try {
        await this.api.call({ ...target, verb: 'create' }, (o) => this.api.core.createNamespacedService({ namespace, body }, o));
      } catch (err) {
        if (!isConflict(err)) throw err; // created meanwhile: fine
      }
      return;
    }
    const want = body.spec!.ports![0]!;
    const have = current.spec?.ports?.[0];
    if (current.spec?.type !== serviceType(ws, this.defaults) || String(have?.targetPort) !== String(want.targetPort) || have?.port !== MAGE_PORT) {
      await this.api.patch({ ...target, verb: 'patch' }, 'merge', (o) =>
        this.api.core.patchNamespacedService({ name, namespace, body: { spec: { type: body.spec!.type, ports: [want] } } }, o),
      );
    }
  }

  async remove(input: RuntimeWorkspace, options: RemoveOptions, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const ws = this.resolved(input);
    const namespace = this.ns(ws);
    const api = this.api;
    const target = (resource: string) => ({ verb: 'delete', resource, namespace });
    await removeIngressPath(api, namespace, ws.name, this.ingressName(ws));
    // Another installation's objects of these names stay; so does the claim, which holds its data.
    const sts = names.statefulSet(ws.name);
    const foundSts = await api.read({ verb: 'get', resource: `statefulset ${sts}`, namespace }, (o) => api.apps.readNamespacedStatefulSet({ name: sts, namespace }, o));
    const stsOurs = foundSts === undefined || isOurs(foundSts.metadata, this.defaults.installation);
    if (foundSts && stsOurs) await api.deleteIfExists(target(`statefulset ${sts}`), (o) => api.apps.deleteNamespacedStatefulSet({ name: sts, namespace, propagationPolicy: 'Background' }, o));
    const svc = names.service(ws.name);
    const foundSvc = await api.read({ verb: 'get', resource: `service ${svc}`, namespace }, (o) => api.core.readNamespacedService({ name: svc, namespace }, o));
    if (foundSvc && isOurs(foundSvc.metadata, this.defaults.installation)) await api.deleteIfExists(target(`service ${svc}`), (o) => api.core.deleteNamespacedService({ name: svc, namespace }, o));
    const cm = names.hooks(ws.name);
    const foundCm = await api.read({ verb: 'get', resource: `configmap ${cm}`, namespace }, (o) => api.core.readNamespacedConfigMap({ name: cm, namespace }, o));
    if (foundCm && isOurs(foundCm.metadata, this.defaults.installation)) await api.deleteIfExists(target(`configmap ${cm}`), (o) => api.core.deleteNamespacedConfigMap({ name: cm, namespace }, o));
    if (stsOurs && (options.deleteVolume || ws.storage.retention_policy === 'Delete')) {
      const claim = names.claim(ws.name);
      await api.deleteIfExists(target(`persistentvolumeclaim ${claim}`), (o) => api.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace }, o));
    }
  }

  async observe(input: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    signal?.throwIfAborted();
    const ws = this.resolved(input);
    const namespace = this.ns(ws);
    const api = this.api;
    const name = ws.name;
    const [sts, pods, svc, ing] = await Promise.all([
      api.read({ verb: 'get', resource: `statefulset ${name}`, namespace }, (o) => api.apps.readNamespacedStatefulSet({ name, namespace }, o)),
      api.call({ verb: 'list', resource: 'pods', namespace }, (o) => api.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` }, o)),
      api.read({ verb: 'get', resource: `service ${names.service(name)}`, namespace }, (o) => api.core.readNamespacedService({ name: names.service(name), namespace }, o)),
      ws.ingress.enabled
        ? api.read({ verb: 'get', resource: `ingress ${this.ingressName(ws)}`, namespace }, (o) => api.net.readNamespacedIngress({ name: this.ingressName(ws), namespace }, o))
        : Promise.resolve(undefined),
    ]);
    checkOurs(sts, 'statefulset', this.defaults.installation);
    const pod: V1Pod | undefined = pods.items.find((p) => p.metadata?.name === names.pod(name)) ?? pods.items[0];
    const observed = describeInstance(name, sts, pod, svc, this.options.preStartTimeoutSeconds ?? PRE_START_TIMEOUT_SECONDS);
    const url = sts ? ingressUrl(ing, name) : undefined;
    return url ? { ...observed, url } : observed;
  }

  async listInstances(): Promise<string[]> {
    const found = new Set<string>();
    for (const namespace of this.namespaces) {
      const list = await this.api.call({ verb: 'list', resource: 'statefulsets', namespace }, (o) =>
        this.api.apps.listNamespacedStatefulSet({ namespace, labelSelector: `${MANAGED_BY}=wsm,${LABEL_INSTALLATION}=${this.defaults.installation}` }, o),
      );
      for (const sts of list.items) {
        const app = sts.metadata?.labels?.app;
        if (app) found.add(app);
      }
    }
    return [...found].sort();
  }

  watch(onChange: (name: string) => void): () => void {
    const watcher = new WorkspaceWatcher(this.kc, this.api, onChange, this.options.logger, this.options.watchRetryMs ?? { initial: 1000, max: 30_000 });
    for (const ns of this.namespaces) watcher.addNamespace(ns);
    this.watcher = watcher;
    return () => {
      watcher.stop();
      if (this.watcher === watcher) this.watcher = undefined;
    };
  }

  async exec(ws: RuntimeWorkspace, command: string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
    signal?.throwIfAborted();
    return execInPod(this.kc, this.ns(ws), names.pod(ws.name), names.container(ws.name), command, timeoutMs);
  }

  /** What the postStart hook of the current container recorded (its file, or the kubelet's failure event). */
  async readPostStart(input: RuntimeWorkspace, signal?: AbortSignal): Promise<PostStartRecord | undefined> {
    signal?.throwIfAborted();
    const ws = this.resolved(input);
    return readPostStartRecord(this.api, this.ns(ws), names.pod(ws.name), names.container(ws.name));
  }

  /** Through the API server's pod proxy: the control plane need not reach pod or ClusterIP addresses. */
  async httpGet(input: RuntimeWorkspace, path: string, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
    signal?.throwIfAborted();
    const ws = this.resolved(input);
    return proxyGet(this.kc, this.ns(ws), names.pod(ws.name), ws.container.port ?? MAGE_PORT, path, timeoutMs);
  }

  async close(): Promise<void> {
    this.watcher?.stop();
    this.watcher = undefined;
  }
}
