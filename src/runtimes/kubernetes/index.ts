// The Kubernetes runtime: a workspace is a StatefulSet (one pod, one PVC), a Service, an optional hooks
// ConfigMap, and optionally a path on a shared Ingress. Every call converges the cluster towards the workspace.
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { ClusterType } from '../../core/types.js';
import type { ExecResult, HttpAnswer, ObservedInstance, PostStartRecord, RemoveOptions, Runtime, RuntimeWorkspace, WatchRestartReason } from '../../core/runtime.js';
import { KubeApi } from './api.js';
import { defaultNamespace, loadKubeConfig } from './config.js';
import { execInPod } from './exec.js';
import { addIngressPath, ingressUrl, removeIngressPath, type IngressPathType, type IngressSettings } from './ingress.js';
import { MAGE_PORT, names, PRE_START_TIMEOUT_SECONDS, type ServiceType } from './manifests.js';
import { ensureHooks, ensureService, ensureStatefulSet, type OwnedDefaults } from './objects.js';
import { dryRunApply } from './dry-run.js';
import { repairDrift, type Seen } from './repair.js';
import { proxyGet, readPostStartRecord } from './pod-access.js';
import { describeInstance } from './status.js';
import { podCreateFailure } from './create-failure.js';
import { checkOurs, isOurs, ownedSelector } from './ownership.js';
import { WorkspaceWatcher, type WatchLogger } from './watch.js';

/** One read of a workspace's objects; `createFailure` when its pod is wanted, missing and refused. */
type Looked = Seen & { pods: V1Pod[]; createFailure?: string };

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
  /** How long a pre-start script may run before the init container is failed. */
  preStartTimeoutSeconds?: number;
  /** Bound of each post-start step in the postStart hook (the container is not Running before it ends). */
  postStartTimeoutSeconds?: number;
  requestTimeoutMs?: number;
  /** This installation's id ('default' when not given): objects of another installation are never touched. */
  installation?: string;
  /** First and longest wait between watch reconnects. */
  watchRetryMs?: { initial: number; max: number };
  /**
   * A watch that delivered nothing, not even a bookmark, for this long is restarted (default 150 s: the API
   * server sends a bookmark about once a minute).
   */
  watchSilenceMs?: number;
  /** The API server ends each watch after this long, and it is resumed (default 300). */
  watchTimeoutSeconds?: number;
  logger?: KubernetesLogger;
}

export class KubernetesRuntime implements Runtime {
  readonly clusterType: ClusterType = 'k8s';
  readonly supportsIngress = true;
  readonly namespace: string;
  private readonly kc: KubeConfig;
  private readonly api: KubeApi;
  private readonly defaults: OwnedDefaults;
  private readonly namespaces = new Set<string>();
  private watcher: WorkspaceWatcher | undefined;
  /** Aborted by close(): requests still under way then end at once. */
  private readonly closing = new AbortController();
  /** The last repair per `namespace/name`, as reported in the `Repaired` condition. */
  private readonly repairs = new Map<string, string>();

  constructor(private readonly options: KubernetesRuntimeOptions = {}) {
    this.kc = loadKubeConfig(options);
    this.namespace = defaultNamespace(this.kc, options.namespace);
    this.namespaces.add(this.namespace);
    this.api = new KubeApi(this.kc, options.requestTimeoutMs ?? 30_000, this.closing.signal);
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

  /** The API for one call: cancelled by the caller's signal and by close(). */
  private apiFor(signal?: AbortSignal): KubeApi {
    return this.api.withSignal(signal);
  }

  private ingressSettings(ws: RuntimeWorkspace): IngressSettings {
    return {
      ingressName: this.ingressName(ws),
      ingressClassName: this.options.ingressClassName,
      pathType: this.options.ingressPathType ?? 'ImplementationSpecific',
    };
  }

  /** `signal` (optional, beyond the Runtime interface) cancels the call's requests. */
  async apply(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    const ns = this.ns(ws);
    const api = this.apiFor(signal);
    // The hooks go first: the pod mounts them and must not start without them.
    await ensureHooks(api, ws, ns, this.defaults.installation);
    await ensureStatefulSet(api, ws, ns, this.defaults, (msg) => this.options.logger?.info({ workspace: ws.name, namespace: ns }, msg));
    await ensureService(api, ws, ns, this.defaults);
    if (ws.ingress.enabled) await addIngressPath(api, ns, ws.name, this.ingressSettings(ws));
    return this.describe(ws, ns, await this.look(api, ws, ns));
  }

  /** What apply() would write, sent with dryRun=All: the API server validates it and keeps nothing. */
  async dryRunApply(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<string[]> {
    return dryRunApply(this.apiFor(signal), ws, this.ns(ws), this.defaults);
  }

  async remove(ws: RuntimeWorkspace, options: RemoveOptions, signal?: AbortSignal): Promise<void> {
    const namespace = this.ns(ws);
    const api = this.apiFor(signal);
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
    this.repairs.delete(`${namespace}/${ws.name}`);
  }

  /**
   * What runs now. Level-triggered: objects of the workspace deleted or edited outside wsm since the last
   * apply are put back first (repair.ts), and the last repair is reported as the condition `Repaired`.
   */
  async observe(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<ObservedInstance> {
    const namespace = this.ns(ws);
    const api = this.apiFor(signal);
    let seen = await this.look(api, ws, namespace);
    // Another installation's StatefulSet of this name is reported, never repaired.
    checkOurs(seen.sts, 'statefulset', this.defaults.installation);
    const repaired = await repairDrift(api, ws, namespace, seen, { defaults: this.defaults, ingress: ws.ingress.enabled ? this.ingressSettings(ws) : undefined });
    if (repaired.length > 0) {
      this.options.logger?.warn({ workspace: ws.name, namespace, repaired }, 'repaired objects changed outside wsm');
      this.repairs.set(`${namespace}/${ws.name}`, `${new Date().toISOString()}: ${repaired.join('; ')}`);
      seen = await this.look(api, ws, namespace);
    }
    return this.describe(ws, namespace, seen);
  }

  /** One read of everything the status is made of. */
  private async look(api: KubeApi, ws: RuntimeWorkspace, namespace: string): Promise<Looked> {
    const name = ws.name;
    const ingressName = this.ingressName(ws);
    const [sts, pods, svc, ing] = await Promise.all([
      api.read({ verb: 'get', resource: `statefulset ${name}`, namespace }, (o) => api.apps.readNamespacedStatefulSet({ name, namespace }, o)),
      api.call({ verb: 'list', resource: 'pods', namespace }, (o) => api.core.listNamespacedPod({ namespace, labelSelector: `app=${name}` }, o)),
      api.read({ verb: 'get', resource: `service ${names.service(name)}`, namespace }, (o) => api.core.readNamespacedService({ name: names.service(name), namespace }, o)),
      ws.ingress.enabled
        ? api.read({ verb: 'get', resource: `ingress ${ingressName}`, namespace }, (o) => api.net.readNamespacedIngress({ name: ingressName, namespace }, o))
        : Promise.resolve(undefined),
    ]);
    // Only while a pod is wanted and missing: the events say whether its creation is refused.
    const podWanted = sts !== undefined && (sts.spec?.replicas ?? 1) > 0 && pods.items.length === 0;
    const createFailure = podWanted ? await podCreateFailure(api, namespace, sts) : undefined;
    return { sts, svc, ing, pods: pods.items, createFailure };
  }

  private describe(ws: RuntimeWorkspace, namespace: string, seen: Looked): ObservedInstance {
    const name = ws.name;
    const pod = seen.pods.find((p) => p.metadata?.name === names.pod(name)) ?? seen.pods[0];
    const observed = describeInstance(name, seen.sts, pod, seen.svc, this.options.preStartTimeoutSeconds ?? PRE_START_TIMEOUT_SECONDS, seen.createFailure);
    const repair = this.repairs.get(`${namespace}/${name}`);
    const withRepair = repair ? { ...observed, conditions: [...(observed.conditions ?? []), { type: 'Repaired', status: 'True' as const, reason: 'DriftRepaired', message: repair }] } : observed;
    const url = seen.sts ? ingressUrl(seen.ing, name) : undefined;
    return url ? { ...withRepair, url } : withRepair;
  }

  /** One StatefulSet at most, in the default namespace: a request the Role allows that costs the API server nothing. */
  async ping(signal: AbortSignal): Promise<void> {
    const namespace = this.namespace;
    const api = this.apiFor(signal);
    await api.call({ verb: 'list', resource: 'statefulsets', namespace }, (o) =>
      api.apps.listNamespacedStatefulSet({ namespace, labelSelector: ownedSelector(this.defaults.installation), limit: 1 }, o),
    );
  }

  async listInstances(signal?: AbortSignal): Promise<string[]> {
    const found = new Set<string>();
    const api = this.apiFor(signal);
    for (const namespace of this.namespaces) {
      const list = await api.call({ verb: 'list', resource: 'statefulsets', namespace }, (o) =>
        api.apps.listNamespacedStatefulSet({ namespace, labelSelector: ownedSelector(this.defaults.installation) }, o),
      );
      for (const sts of list.items) {
        const app = sts.metadata?.labels?.app;
        if (app) found.add(app);
      }
    }
    return [...found].sort();
  }

  watch(onChange: (name: string) => void, onRestart?: (reason: WatchRestartReason) => void): () => void {
    const watcher = new WorkspaceWatcher(this.kc, this.api, this.defaults.installation, onChange, this.options.logger, {
      retryMs: this.options.watchRetryMs ?? { initial: 1000, max: 30_000 },
      silenceMs: this.options.watchSilenceMs ?? 150_000,
      timeoutSeconds: this.options.watchTimeoutSeconds ?? 300,
      onRestart,
    });
    for (const ns of this.namespaces) watcher.addNamespace(ns);
    this.watcher = watcher;
    return () => {
      watcher.stop();
      if (this.watcher === watcher) this.watcher = undefined;
    };
  }

  async exec(ws: RuntimeWorkspace, command: string[], timeoutMs: number, signal?: AbortSignal): Promise<ExecResult> {
    return execInPod(this.kc, this.ns(ws), names.pod(ws.name), names.container(ws.name), command, timeoutMs, signal);
  }

  /** What the postStart hook of the current container recorded (its file, or the kubelet's failure event). */
  async readPostStart(ws: RuntimeWorkspace, signal?: AbortSignal): Promise<PostStartRecord | undefined> {
    return readPostStartRecord(this.apiFor(signal), this.ns(ws), names.pod(ws.name), names.container(ws.name), signal);
  }

  /** Through the API server's pod proxy: the control plane need not reach pod or ClusterIP addresses. */
  async httpGet(ws: RuntimeWorkspace, path: string, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
    return proxyGet(this.kc, this.ns(ws), names.pod(ws.name), ws.container.port ?? MAGE_PORT, path, timeoutMs, signal);
  }

  async close(): Promise<void> {
    this.closing.abort(new Error('the Kubernetes runtime is closing'));
    this.watcher?.stop();
    this.watcher = undefined;
  }
}
