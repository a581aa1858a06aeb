// Reaching into a workspace's pod through the API server, for a control plane that may not reach pod
// or ClusterIP addresses: the pod proxy (the idle probe) and exec plus events (post-start records).
import http from 'node:http';
import https from 'node:https';
import type { CoreV1Event, KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { HttpAnswer, PostStartRecord } from '../../core/runtime.js';
import type { KubeApi } from './api.js';
import { execInPod } from './exec.js';
import { FAILED_POST_START_EVENT, parseRecord, POST_START_RESULT_PATH, recordFromEvent } from './post-start.js';

const MAX_BODY = 1024 * 1024;
const READ_TIMEOUT_MS = 10_000;

/** GET `path` on `port` of the pod, through /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy. */
export async function proxyGet(kc: KubeConfig, namespace: string, pod: string, port: number, path: string, timeoutMs: number, signal?: AbortSignal): Promise<HttpAnswer> {
  signal?.throwIfAborted();
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig names no cluster');
  const rel = path.startsWith('/') ? path : `/${path}`;
  const url = new URL(`${cluster.server.replace(/\/+$/, '')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${port}/proxy${rel}`);
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let done = false;
    const finish = (err: Error | undefined, answer?: HttpAnswer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', aborted);
      if (err) reject(err);
      else resolve(answer!);
    };
    // A deadline for the whole exchange, not only for idle sockets: a trickling answer must not hold a slot.
    const timer = setTimeout(() => {
      req.destroy();
      finish(new Error(`no answer from pod ${namespace}/${pod} through the API server within ${timeoutMs} ms`));
    }, timeoutMs);
    const req = client.request(url, { ...opts, method: 'GET', headers: { ...(opts.headers ?? {}), accept: 'application/json, */*' } }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          req.destroy();
          finish(new Error(`the answer of pod ${namespace}/${pod} is larger than 1 MiB`));
        } else chunks.push(c);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => finish(err));
    });
    const aborted = () => {
      req.destroy();
      finish(signal!.reason instanceof Error ? signal!.reason : new Error(String(signal!.reason)));
    };
    signal?.addEventListener('abort', aborted, { once: true });
    req.on('error', (err) => finish(new Error(`API server proxy to pod ${namespace}/${pod}: ${err.message}`)));
    req.end();
  });
}

export function eventTime(e: CoreV1Event): number {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  const ms = t === undefined ? NaN : new Date(t as Date | string).getTime();
  return Number.isNaN(ms) ? 0 : ms;
}

/**
 * The record of the postStart run of the pod's current container: the wrapper's file while the
 * container runs, else (the kubelet killed it: fail_on_error) the newest FailedPostStartHook event of
 * this pod. Undefined when neither exists yet.
 */
export async function readPostStartRecord(api: KubeApi, namespace: string, podName: string, container: string, signal?: AbortSignal): Promise<PostStartRecord | undefined> {
  const pod: V1Pod | undefined = await api.read({ verb: 'get', resource: `pod ${podName}`, namespace }, (o) => api.core.readNamespacedPod({ name: podName, namespace }, o));
  const uid = pod?.metadata?.uid;
  if (!pod || !uid || pod.metadata?.deletionTimestamp) return undefined;
  const main = pod.status?.containerStatuses?.find((s) => s.name === container);
  if (main?.state?.running) {
    const r = await execInPod(api.kc, namespace, podName, container, ['cat', POST_START_RESULT_PATH], READ_TIMEOUT_MS, signal);
    const record = r.exit_code === 0 ? parseRecord(r.output, `${uid}/${main.restartCount ?? 0}`) : undefined;
    if (record) return record;
  }
  const events = await api.call({ verb: 'list', resource: 'events', namespace }, (o) =>
    api.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.uid=${uid},reason=${FAILED_POST_START_EVENT}` }, o),
  );
  const newest = events.items
    .filter((e) => e.involvedObject?.uid === uid && e.reason === FAILED_POST_START_EVENT)
    .sort((a, b) => eventTime(b) - eventTime(a))[0];
  if (!newest) return undefined;
  const at = new Date(eventTime(newest) || Date.now()).toISOString();
  return recordFromEvent(newest.message ?? '', `${uid}/failed/${newest.metadata?.uid ?? ''}/${newest.count ?? 1}`, at);
}
