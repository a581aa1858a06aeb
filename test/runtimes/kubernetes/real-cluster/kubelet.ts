// Plays the kubelet on a control plane that has none: writes what a kubelet would report through the
// pods/status subresource (as the admin), and posts the kubelet's and the scheduler's Events.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Pod, V1PodStatus } from '@kubernetes/client-node';

/** What the kubelet reports for a pod. */
export type PodBehaviour =
  | { kind: 'ready' }
  | { kind: 'crash-loop'; restarts: number; exitCode: number }
  | { kind: 'image-pull-backoff'; image: string }
  | { kind: 'unschedulable'; message: string }
  | { kind: 'init-failed'; exitCode: number; logs: string }
  /** `output` is what the hook printed (the wsm wrapper ends its record with a newline). */
  | { kind: 'post-start-failed'; exitCode: number; output: string }
  /** Leave the pod as the API server made it (Pending, no status). */
  | { kind: 'none' };

export class TestKubelet {
  private timer: NodeJS.Timeout | undefined;
  /** The behaviour last written per pod uid. */
  private readonly written = new Map<string, string>();
  private busy: Promise<void> = Promise.resolve();

  constructor(
    private readonly core: CoreV1Api,
    private readonly namespace: string,
    public decide: (pod: V1Pod) => PodBehaviour = () => ({ kind: 'ready' }),
  ) {}

  start(): this {
    const tick = () => {
      this.busy = this.pass().catch(() => undefined);
      void this.busy.then(() => {
        if (this.timer) this.timer = setTimeout(tick, 200);
      });
    };
    this.timer = setTimeout(tick, 0);
    return this;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.busy;
  }

  /** One look at every pod of the namespace; writes a pod's status when its behaviour changed. */
  async pass(): Promise<void> {
    const pods = await this.core.listNamespacedPod({ namespace: this.namespace });
    for (const pod of pods.items) {
      if (pod.metadata?.deletionTimestamp) continue;
      const behaviour = this.decide(pod);
      const key = JSON.stringify(behaviour);
      const uid = pod.metadata!.uid!;
      if (behaviour.kind === 'none' || this.written.get(uid) === key) continue;
      await this.report(pod, behaviour);
      this.written.set(uid, key);
    }
  }

  private async report(pod: V1Pod, behaviour: Exclude<PodBehaviour, { kind: 'none' }>): Promise<void> {
    const now = new Date();
    const name = pod.metadata!.name!;
    const containers = pod.spec!.containers;
    const base = { name: '', image: '', imageID: '', restartCount: 0, ready: false };
    const scheduled = { type: 'PodScheduled', status: 'True', lastTransitionTime: now };
    const notReady = { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: now };
    let status: V1PodStatus;
    switch (behaviour.kind) {
      case 'ready':
        status = {
          phase: 'Running',
          hostIP: '127.0.0.1',
          podIP: '10.244.0.15',
          startTime: now,
          conditions: [scheduled, { type: 'Initialized', status: 'True', lastTransitionTime: now }, { type: 'ContainersReady', status: 'True', lastTransitionTime: now }, { type: 'Ready', status: 'True', lastTransitionTime: now }],
          containerStatuses: containers.map((c) => ({ ...base, name: c.name, image: c.image!, ready: true, started: true, state: { running: { startedAt: now } } })),
        };
        break;
      case 'crash-loop':
        status = {
          phase: 'Running',
          hostIP: '127.0.0.1',
          podIP: '10.244.0.15',
          startTime: now,
          conditions: [scheduled, notReady],
          containerStatuses: containers.map((c) => ({
            ...base,
            name: c.name,
            image: c.image!,
            restartCount: behaviour.restarts,
            started: false,
            state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 2m40s restarting failed container=${c.name} pod=${name}_${this.namespace}(${pod.metadata!.uid})` } },
            lastState: { terminated: { exitCode: behaviour.exitCode, reason: 'Error', startedAt: now, finishedAt: now } },
          })),
        };
        break;
      case 'image-pull-backoff':
        status = {
          phase: 'Pending',
          hostIP: '127.0.0.1',
          startTime: now,
          conditions: [scheduled, notReady],
          containerStatuses: containers.map((c) => ({ ...base, name: c.name, image: c.image!, state: { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${behaviour.image}"` } } })),
        };
        break;
      case 'unschedulable':
        status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: behaviour.message, lastTransitionTime: now }] };
        await this.event(pod, 'FailedScheduling', behaviour.message, 'default-scheduler');
        break;
      case 'init-failed': {
        const init = pod.spec!.initContainers?.[0];
        status = {
          phase: 'Pending',
          hostIP: '127.0.0.1',
          startTime: now,
          conditions: [scheduled, { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', lastTransitionTime: now }, notReady],
          initContainerStatuses: [
            {
              ...base,
              name: init!.name,
              image: init!.image!,
              // The kubelet puts the logs' tail into the message only under FallbackToLogsOnError.
              state: { terminated: { exitCode: behaviour.exitCode, reason: 'Error', startedAt: new Date(now.getTime() - 1000), finishedAt: now, ...(init!.terminationMessagePolicy === 'FallbackToLogsOnError' ? { message: behaviour.logs } : {}) } },
            },
          ],
          containerStatuses: containers.map((c) => ({ ...base, name: c.name, image: c.image!, state: { waiting: { reason: 'PodInitializing' } } })),
        };
        break;
      }
      case 'post-start-failed': {
        const c = containers[0]!;
        const command = (c.lifecycle?.postStart?.exec?.command ?? []).join(' ');
        const message = `Exec lifecycle hook ([${command}]) for Container "${c.name}" in Pod "${name}_${this.namespace}(${pod.metadata!.uid})" failed - error: command '${command}' exited with ${behaviour.exitCode}: ${behaviour.output}, message: ${JSON.stringify(behaviour.output)}`;
        await this.event(pod, 'FailedPostStartHook', message, 'kubelet', `spec.containers{${c.name}}`);
        status = {
          phase: 'Running',
          hostIP: '127.0.0.1',
          podIP: '10.244.0.15',
          startTime: now,
          conditions: [scheduled, notReady],
          containerStatuses: [
            {
              ...base,
              name: c.name,
              image: c.image!,
              restartCount: 1,
              started: false,
              state: { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${c.name} pod=${name}` } },
              lastState: { terminated: { exitCode: 137, reason: 'Error', startedAt: now, finishedAt: now } },
            },
          ],
        };
        break;
      }
    }
    const fresh = await this.core.readNamespacedPod({ name, namespace: this.namespace });
    await this.core.replaceNamespacedPodStatus({ name, namespace: this.namespace, body: { ...fresh, status } });
  }

  private async event(pod: V1Pod, reason: string, message: string, component: string, fieldPath?: string): Promise<void> {
    const now = new Date();
    await this.core.createNamespacedEvent({
      namespace: this.namespace,
      body: {
        metadata: { name: `${pod.metadata!.name}.${randomBytes(8).toString('hex')}`, namespace: this.namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name, namespace: this.namespace, uid: pod.metadata!.uid, ...(fieldPath ? { fieldPath } : {}) },
        reason,
        message,
        type: 'Warning',
        source: { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }
}
