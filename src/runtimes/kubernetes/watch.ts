// Follows StatefulSets and Pods that wsm manages, informer-style (list, then watch from the list's
// resourceVersion; a 410 Gone re-lists), and reconnects with backoff when the API server goes away.
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from './api.js';
import { MANAGED_BY } from './manifests.js';

export interface WatchLogger {
  warn(obj: object, msg?: string): void;
}

const SELECTOR = `${MANAGED_BY}=wsm`;

export class WorkspaceWatcher {
  private readonly informers: Informer<KubernetesObject>[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly namespaces = new Set<string>();
  private stopped = false;

  constructor(
    private readonly kc: KubeConfig,
    private readonly api: KubeApi,
    private readonly onChange: (name: string) => void,
    private readonly logger: WatchLogger | undefined,
    private readonly retryMs: { initial: number; max: number },
  ) {}

  /** Starts following a namespace (once). */
  addNamespace(namespace: string): void {
    if (this.stopped || this.namespaces.has(namespace)) return;
    this.namespaces.add(namespace);
    const api = this.api;
    this.follow(
      `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
      () => api.apps.listNamespacedStatefulSet({ namespace, labelSelector: SELECTOR }, api.options()),
      namespace,
    );
    this.follow(`/api/v1/namespaces/${namespace}/pods`, () => api.core.listNamespacedPod({ namespace, labelSelector: SELECTOR }, api.options()), namespace);
  }

  private follow(path: string, list: () => Promise<{ items: KubernetesObject[] }>, namespace: string): void {
    const informer = makeInformer(this.kc, path, list as never, SELECTOR);
    let delay = this.retryMs.initial;
    const notify = (obj: KubernetesObject) => {
      delay = this.retryMs.initial;
      const name = obj.metadata?.labels?.app;
      if (name) this.onChange(name);
    };
    informer.on('add', notify);
    informer.on('update', notify);
    informer.on('delete', notify);
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.logger?.warn({ err: String((err as Error)?.message ?? err), path, namespace, retryInMs: delay }, 'kubernetes watch failed; reconnecting');
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.stopped) void informer.start().catch(() => undefined);
      }, delay);
      this.timers.add(timer);
      delay = Math.min(delay * 2, this.retryMs.max);
    });
    this.informers.push(informer);
    void informer.start().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const informer of this.informers) void informer.stop().catch(() => undefined);
    this.informers.length = 0;
  }
}
