// Follows what wsm manages in each namespace it uses, and says which workspace changed: StatefulSets,
// Services and ConfigMaps of this installation (labelled managed-by=wsm and with its installation), Pods
// (labelled managed-by=wsm: the pod template carries no installation label, so another installation's
// pod of the same name only gets this workspace looked at, which then reports the NameConflict), and
// Ingresses (any: a shared Ingress may be an operator's or several installations'; a path `/<name>` to
// `<name>-service` names the workspace). A Service or
// ConfigMap deleted, or a path removed, outside wsm thus gets the workspace looked at, and repaired, at once.
import type { KubeConfig, KubernetesObject, V1Ingress } from '@kubernetes/client-node';
import type { KubeApi } from './api.js';
import { ListWatch, type ListWatchLogger, type ListWatchOptions } from './list-watch.js';
import { MANAGED_BY, names } from './manifests.js';
import { ownedSelector } from './ownership.js';

export type WatchLogger = ListWatchLogger;

export interface WatchTiming {
  /** First and longest wait between reconnects. */
  retryMs: { initial: number; max: number };
  /** A watch silent (no event, no bookmark) for this long is restarted. */
  silenceMs: number;
  /** How long the API server keeps each watch before it is resumed. */
  timeoutSeconds: number;
  /** Hears each watch restarted for a failure, a silence or an expired position (metrics). */
  onRestart?: (reason: 'lost' | 'silent' | 'gone') => void;
}

const POD_SELECTOR = `${MANAGED_BY}=wsm`;

const byAppLabel = (obj: KubernetesObject): string[] => {
  const app = obj.metadata?.labels?.app;
  return app ? [app] : [];
};

/** Workspaces routed by an Ingress: paths `/<name>` whose backend is `<name>-service`. */
export function workspacesOnIngress(obj: KubernetesObject): string[] {
  const out: string[] = [];
  for (const rule of (obj as V1Ingress).spec?.rules ?? []) {
    for (const p of rule.http?.paths ?? []) {
      const name = p.path?.startsWith('/') ? p.path.slice(1) : undefined;
      if (name && p.backend?.service?.name === names.service(name)) out.push(name);
    }
  }
  return out;
}

export class WorkspaceWatcher {
  private readonly watches: ListWatch[] = [];
  private readonly namespaces = new Set<string>();
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly api: KubeApi,
    private readonly installation: string,
    private readonly onChange: (name: string) => void,
    private readonly logger: WatchLogger | undefined,
    private readonly timing: WatchTiming,
  ) {}

  /** Starts following a namespace (once). */
  addNamespace(namespace: string): void {
    if (this.stopped || this.namespaces.has(namespace)) return;
    this.namespaces.add(namespace);
    const api = this.api;
    const labelSelector = ownedSelector(this.installation);
    const o = () => api.options();
    this.follow(`/apis/apps/v1/namespaces/${namespace}/statefulsets`, () => api.apps.listNamespacedStatefulSet({ namespace, labelSelector }, o()), byAppLabel, labelSelector);
    this.follow(`/api/v1/namespaces/${namespace}/pods`, () => api.core.listNamespacedPod({ namespace, labelSelector: POD_SELECTOR }, o()), byAppLabel, POD_SELECTOR);
    this.follow(`/api/v1/namespaces/${namespace}/services`, () => api.core.listNamespacedService({ namespace, labelSelector }, o()), byAppLabel, labelSelector);
    this.follow(`/api/v1/namespaces/${namespace}/configmaps`, () => api.core.listNamespacedConfigMap({ namespace, labelSelector }, o()), byAppLabel, labelSelector);
    this.follow(`/apis/networking.k8s.io/v1/namespaces/${namespace}/ingresses`, () => api.net.listNamespacedIngress({ namespace }, o()), workspacesOnIngress);
  }

  private follow(path: string, list: () => Promise<unknown>, namesOf: (obj: KubernetesObject) => string[], labelSelector?: string): void {
    const watch = new ListWatch({
      kc: this.kc,
      path,
      labelSelector,
      list: list as ListWatchOptions['list'],
      namesOf,
      onChange: this.onChange,
      logger: this.logger,
      ...this.timing,
    });
    this.watches.push(watch);
    watch.start();
  }

  /** Watch requests started so far, over all resources (tests read it). */
  get watchesStarted(): number {
    return this.watches.reduce((n, w) => n + w.watchesStarted, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.stop();
    this.watches.length = 0;
  }
}
