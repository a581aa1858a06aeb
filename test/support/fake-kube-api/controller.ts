// A tiny stand-in for the StatefulSet controller, the scheduler and the kubelet: enough for the runtime to
// observe pods coming, going, rolling and failing, and PVCs following the retention policy.
import { createHash } from 'node:crypto';
import { canonical, type KubeObject, type ObjectStore, type StoredEvent } from './store.js';

/** What the simulated kubelet does with a pod. */
export type PodOutcome =
  | { kind: 'running' }
  | { kind: 'image-pull-backoff'; message?: string }
  | { kind: 'crash-loop'; message?: string }
  | { kind: 'unschedulable'; message?: string }
  | { kind: 'init-failed'; container: string; exitCode: number; message?: string }
  | { kind: 'failed'; message?: string };

export type PodHook = (pod: KubeObject) => PodOutcome | undefined;

type Obj = Record<string, any>;

/** The default hook: outcomes chosen by markers in the image names. */
export function outcomeFromImages(pod: KubeObject): PodOutcome {
  const spec = pod.spec as Obj;
  const images = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].map((c: Obj) => String(c.image));
  const image = images.find((i) => /pull-fail|crash|unschedulable/.test(i)) ?? '';
  if (image.includes('pull-fail')) {
    return { kind: 'image-pull-backoff', message: `Back-off pulling image "${image}"` };
  }
  if (image.includes('crash')) return { kind: 'crash-loop', message: 'back-off 40s restarting failed container' };
  if (image.includes('unschedulable')) {
    return { kind: 'unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' };
  }
  return { kind: 'running' };
}

function templateHash(sts: KubeObject): string {
  const template = (sts.spec as Obj).template;
  return createHash('sha256').update(canonical(template)).digest('hex').slice(0, 10);
}

export class FakeCluster {
  private timer: NodeJS.Timeout | undefined;
  private readonly pendingPods = new Map<string, NodeJS.Timeout>();
  podHook: PodHook | undefined;

  constructor(
    private readonly store: ObjectStore,
    private readonly tickMs: number,
  ) {
    store.subscribe((e) => this.onEvent(e));
  }

  private onEvent(event: StoredEvent): void {
    if (event.plural === 'statefulsets' || event.plural === 'pods') this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.reconcileAll();
    }, this.tickMs);
  }

  close(): void {
    clearTimeout(this.timer);
    for (const t of this.pendingPods.values()) clearTimeout(t);
    this.pendingPods.clear();
  }

  private reconcileAll(): void {
    const sets = this.store.list('statefulsets');
    for (const sts of sets) this.reconcile(sts);
    // Pods and claims whose StatefulSet is gone: garbage collection and the whenDeleted policy.
    for (const pod of this.store.list('pods')) {
      const owner = (pod.metadata.ownerReferences as Obj[] | undefined)?.[0];
      if (owner && !sets.some((s) => s.metadata.uid === owner.uid)) this.deletePod(pod);
    }
    for (const pvc of this.store.list('persistentvolumeclaims')) {
      const owner = (pvc.metadata.ownerReferences as Obj[] | undefined)?.[0];
      if (owner && !sets.some((s) => s.metadata.uid === owner.uid)) {
        this.store.delete('persistentvolumeclaims', pvc.metadata.namespace, pvc.metadata.name);
      }
    }
  }

  private deletePod(pod: KubeObject): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    clearTimeout(this.pendingPods.get(key));
    this.pendingPods.delete(key);
    this.store.delete('pods', pod.metadata.namespace, pod.metadata.name);
  }

  private reconcile(sts: KubeObject): void {
    const ns = sts.metadata.namespace!;
    const spec = sts.spec as Obj;
    const replicas = spec.replicas ?? 1;
    const podName = `${sts.metadata.name}-0`;
    const hash = templateHash(sts);
    let pod = this.store.get('pods', ns, podName);
    if (replicas < 1) {
      if (pod) this.deletePod(pod);
      pod = undefined;
    } else {
      this.ensureClaims(sts);
      if (pod && pod.metadata.labels?.['controller-revision-hash'] !== hash) {
        this.deletePod(pod); // a changed template rolls the pod
        pod = undefined;
      }
      if (!pod) pod = this.createPod(sts, podName, hash);
    }
    const ready = pod ? isReady(pod) : false;
    const status = {
      observedGeneration: sts.metadata.generation,
      replicas: pod ? 1 : 0,
      readyReplicas: ready ? 1 : 0,
      availableReplicas: ready ? 1 : 0,
      currentReplicas: pod ? 1 : 0,
      updatedReplicas: pod ? 1 : 0,
      currentRevision: `${sts.metadata.name}-${hash}`,
      updateRevision: `${sts.metadata.name}-${hash}`,
    };
    if (canonical(sts.status) !== canonical(status)) {
      this.store.update('statefulsets', { ...sts, status });
    }
  }

  private ensureClaims(sts: KubeObject): void {
    const spec = sts.spec as Obj;
    const whenDeleted = spec.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
    for (const template of (spec.volumeClaimTemplates ?? []) as Obj[]) {
      const name = `${template.metadata.name}-${sts.metadata.name}-0`;
      if (this.store.get('persistentvolumeclaims', sts.metadata.namespace, name)) continue;
      this.store.create('persistentvolumeclaims', {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace: sts.metadata.namespace,
          labels: { ...(spec.selector?.matchLabels ?? {}) },
          // Kubernetes sets the owner only under whenDeleted: Delete, which is what makes the claim go.
          ...(whenDeleted === 'Delete' ? { ownerReferences: [ownerRef(sts)] } : {}),
        },
        spec: template.spec,
        status: { phase: 'Bound' },
      });
    }
  }

  private createPod(sts: KubeObject, name: string, hash: string): KubeObject {
    const template = (sts.spec as Obj).template as Obj;
    const pod = this.store.create('pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: sts.metadata.namespace,
        labels: {
          ...(template.metadata?.labels ?? {}),
          'controller-revision-hash': hash,
          'statefulset.kubernetes.io/pod-name': name,
        },
        annotations: { ...(template.metadata?.annotations ?? {}) },
        ownerReferences: [ownerRef(sts)],
      },
      spec: { ...template.spec, hostname: name, subdomain: (sts.spec as Obj).serviceName },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] },
    });
    const key = `${pod.metadata.namespace}/${name}`;
    this.pendingPods.set(
      key,
      setTimeout(() => {
        this.pendingPods.delete(key);
        const current = this.store.get('pods', pod.metadata.namespace, name);
        if (current && current.metadata.uid === pod.metadata.uid) this.settle(current);
      }, this.tickMs),
    );
    return pod;
  }

  /** Moves a pod to the state its outcome says. */
  private settle(pod: KubeObject): void {
    const outcome = this.podHook?.(pod) ?? outcomeFromImages(pod);
    const spec = pod.spec as Obj;
    const now = new Date().toISOString();
    const main = (spec.containers as Obj[]).map((c) => ({ name: c.name, image: c.image, imageID: '', restartCount: 0 }));
    const scheduled = { type: 'PodScheduled', status: 'True', lastTransitionTime: now };
    let status: Obj;
    switch (outcome.kind) {
      case 'running':
        status = {
          phase: 'Running',
          hostIP: '192.168.49.2',
          podIP: '10.244.0.15',
          startTime: now,
          conditions: [scheduled, { type: 'Ready', status: 'True', lastTransitionTime: now }],
          containerStatuses: main.map((c) => ({ ...c, ready: true, started: true, state: { running: { startedAt: now } } })),
        };
        break;
      case 'unschedulable':
        status = {
          phase: 'Pending',
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: outcome.message, lastTransitionTime: now },
          ],
        };
        break;
      case 'image-pull-backoff':
      case 'crash-loop': {
        const reason = outcome.kind === 'crash-loop' ? 'CrashLoopBackOff' : 'ImagePullBackOff';
        status = {
          phase: outcome.kind === 'crash-loop' ? 'Running' : 'Pending',
          hostIP: '192.168.49.2',
          conditions: [scheduled, { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now }],
          containerStatuses: main.map((c) => ({
            ...c,
            ready: false,
            restartCount: outcome.kind === 'crash-loop' ? 3 : 0,
            state: { waiting: { reason, message: outcome.message } },
          })),
        };
        break;
      }
      case 'init-failed':
        status = {
          phase: 'Pending',
          hostIP: '192.168.49.2',
          conditions: [scheduled, { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', lastTransitionTime: now }],
          initContainerStatuses: [
            {
              name: outcome.container,
              image: '',
              imageID: '',
              ready: false,
              restartCount: 2,
              state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } },
              lastState: { terminated: { exitCode: outcome.exitCode, reason: 'Error', message: outcome.message } },
            },
          ],
          containerStatuses: main.map((c) => ({ ...c, ready: false, state: { waiting: { reason: 'PodInitializing' } } })),
        };
        break;
      case 'failed':
        status = { phase: 'Failed', reason: 'Evicted', message: outcome.message ?? 'The node was low on resource: memory.' };
        break;
    }
    this.store.update('pods', { ...pod, status });
  }
}

function ownerRef(sts: KubeObject): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    name: sts.metadata.name,
    uid: sts.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod.status as Obj | undefined)?.conditions ?? []) as Obj[];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}
