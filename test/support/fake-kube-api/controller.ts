// A tiny stand-in for the StatefulSet controller, the scheduler and the kubelet: enough for the runtime to
// observe pods coming, going, rolling and failing, and PVCs following the retention policy.
import { createHash, randomBytes } from 'node:crypto';
import { PodSandboxes } from './sandbox.js';
import { canonical, type KubeObject, type ObjectStore, type StoredEvent } from './store.js';

/** What the simulated kubelet does with a pod. */
export type PodOutcome =
  | { kind: 'running' }
  | { kind: 'image-pull-backoff'; message?: string }
  | { kind: 'crash-loop'; message?: string }
  | { kind: 'unschedulable'; message?: string }
  /**
   * An init container ended non-zero. `message` is what it wrote to its termination log; `logs` its
   * output, which the kubelet uses as the message only under terminationMessagePolicy
   * FallbackToLogsOnError. By default it is restarting (CrashLoopBackOff, the run in lastState);
   * `restarting: false` shows it terminated. `durationSeconds` is how long it ran.
   */
  | { kind: 'init-failed'; container: string; exitCode: number; message?: string; logs?: string; restarting?: boolean; durationSeconds?: number }
  /** The main container's postStart hook failed: the kubelet killed it and reported FailedPostStartHook. */
  | { kind: 'post-start-failed'; exitCode: number; output: string }
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
  /** Why the pod of a StatefulSet may not be created (as a quota or an admission policy refuses it), if it may not. */
  private createRefusal: ((sts: KubeObject) => string | undefined) | undefined;
  /** Where postStart exec hooks really run, per pod (the kubelet runs them before a container counts as running). */
  readonly sandboxes = new PodSandboxes();

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
    this.sandboxes.close();
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
      const refused = pod ? undefined : this.createRefusal?.(sts);
      if (refused) this.failedCreateEvent(sts, podName, refused);
      else if (!pod) pod = this.createPod(sts, podName, hash);
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
        if (current && current.metadata.uid === pod.metadata.uid) void this.settle(current);
      }, this.tickMs),
    );
    return pod;
  }

  /** Runs the postStart hook of a pod about to run: a failure becomes the post-start-failed outcome. */
  private async withPostStart(pod: KubeObject, outcome: PodOutcome): Promise<PodOutcome> {
    if (outcome.kind !== 'running') return outcome;
    const ns = pod.metadata.namespace!;
    const run = this.sandboxes.runPostStart(pod, (name) => this.store.get('configmaps', ns, name));
    if (!run) return outcome;
    const { exitCode, output } = await run;
    return exitCode === 0 ? outcome : { kind: 'post-start-failed', exitCode, output };
  }

  /** Refuses (or, with undefined, allows again) the creation of pods, and looks at every StatefulSet again. */
  refuseCreation(refusal: ((sts: KubeObject) => string | undefined) | undefined): void {
    this.createRefusal = refusal;
    this.schedule();
  }

  /** The StatefulSet controller's Warning event for a pod it could not create, worded as it words it. */
  private failedCreateEvent(sts: KubeObject, podName: string, refused: string): void {
    const ns = sts.metadata.namespace!;
    const now = new Date().toISOString();
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${sts.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: { apiVersion: 'apps/v1', kind: 'StatefulSet', name: sts.metadata.name, namespace: ns, uid: sts.metadata.uid },
      reason: 'FailedCreate',
      message: `create Pod ${podName} in StatefulSet ${sts.metadata.name} failed error: ${refused}`,
      type: 'Warning',
      source: { component: 'statefulset-controller' },
      reportingComponent: 'statefulset-controller',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  /** The kubelet's Warning event for a failed postStart hook, worded as the kubelet words it. */
  private postStartEvent(pod: KubeObject, exitCode: number, output: string): void {
    const container = ((pod.spec as Obj).containers as Obj[])[0]!;
    const command = ((container.lifecycle?.postStart?.exec?.command ?? []) as string[]).join(' ');
    const ns = pod.metadata.namespace!;
    const now = new Date().toISOString();
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, namespace: ns, uid: pod.metadata.uid, fieldPath: `spec.containers{${container.name}}` },
      reason: 'FailedPostStartHook',
      message: `Exec lifecycle hook ([${command}]) for Container "${container.name}" in Pod "${pod.metadata.name}_${ns}(${pod.metadata.uid})" failed - error: command '${command}' exited with ${exitCode}: ${output}, message: ${JSON.stringify(output)}`,
      type: 'Warning',
      source: { component: 'kubelet', host: 'node-1' },
      reportingComponent: 'kubelet',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  }

  /** Moves a pod to the state its outcome says. */
  private async settle(pod: KubeObject): Promise<void> {
    const outcome = await this.withPostStart(pod, this.podHook?.(pod) ?? outcomeFromImages(pod));
    const latest = this.store.get('pods', pod.metadata.namespace, pod.metadata.name);
    if (!latest || latest.metadata.uid !== pod.metadata.uid) return; // replaced or deleted meanwhile
    pod = latest;
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
            // As the kubelet keeps it: how the last run ended.
            ...(outcome.kind === 'crash-loop' ? { lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: now, finishedAt: now, message: 'crashed on purpose' } } } : {}),
          })),
        };
        break;
      }
      case 'init-failed': {
        const init = ((spec.initContainers ?? []) as Obj[]).find((c) => c.name === outcome.container);
        const logs = init?.terminationMessagePolicy === 'FallbackToLogsOnError' ? outcome.logs : undefined;
        const message = outcome.message ?? logs;
        const started = new Date(Date.now() - (outcome.durationSeconds ?? 1) * 1000).toISOString();
        const terminated = { exitCode: outcome.exitCode, reason: 'Error', startedAt: started, finishedAt: now, ...(message ? { message } : {}) };
        const restarting = outcome.restarting ?? true;
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
              restartCount: restarting ? 2 : 0,
              ...(restarting
                ? { state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off restarting failed container' } }, lastState: { terminated } }
                : { state: { terminated } }),
            },
          ],
          containerStatuses: main.map((c) => ({ ...c, ready: false, state: { waiting: { reason: 'PodInitializing' } } })),
        };
        break;
      }
      case 'post-start-failed':
        this.postStartEvent(pod, outcome.exitCode, outcome.output);
        status = {
          phase: 'Running',
          hostIP: '192.168.49.2',
          podIP: '10.244.0.15',
          startTime: now,
          conditions: [scheduled, { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now }],
          containerStatuses: main.map((c) => ({
            ...c,
            ready: false,
            started: false,
            restartCount: 1,
            state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${c.name} pod=${pod.metadata.name}` } },
            lastState: { terminated: { exitCode: 137, reason: 'Error', startedAt: now, finishedAt: now } },
          })),
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
