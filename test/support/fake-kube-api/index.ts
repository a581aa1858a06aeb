// A fake Kubernetes API server for tests: real HTTP on 127.0.0.1, objects in memory, a simulated cluster,
// and hooks to inject failures, go offline, and change things behind the client's back.
import { KubeConfig } from '@kubernetes/client-node';
import { FakeCluster, type PodHook } from './controller.js';
import { RESOURCES } from './resources.js';
import { FakeApiHttp, type ExecHandler, type InjectedResponse, type InvalidWrite, type ProxyHandler, type RecordedRequest } from './server.js';
import { ObjectStore, type KubeObject } from './store.js';
import { semanticProblems } from './rules.js';
import { validateObject } from './validate.js';

export type { PodHook, PodOutcome } from './controller.js';
export type { ExecHandler, ExecOutcome, InjectedResponse, InvalidWrite, ProxyAnswer, ProxyHandler, RecordedRequest } from './server.js';
export type { KubeObject } from './store.js';

export interface FakeKubeApiOptions {
  /** How long the simulated cluster takes to act (pod scheduling, readiness). */
  tickMs?: number;
  /** How many events a watch can resume from. */
  historyLimit?: number;
  /** How often a watch asked with allowWatchBookmarks gets a bookmark (the real server: about once a minute). */
  bookmarkMs?: number;
}

export class FakeKubeApi {
  private readonly store: ObjectStore;
  private readonly http: FakeApiHttp;
  private readonly cluster: FakeCluster;

  private constructor(options: FakeKubeApiOptions) {
    this.store = new ObjectStore(options.historyLimit ?? 500);
    this.http = new FakeApiHttp(this.store);
    this.http.bookmarkMs = options.bookmarkMs ?? 1000;
    this.cluster = new FakeCluster(this.store, options.tickMs ?? 20);
    this.setExecHandler(undefined);
  }

  static async start(options: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(options);
    await api.http.start(0);
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.http.port}`;
  }

  /** A client configuration pointing at this server, with `namespace` as the context's namespace. */
  kubeConfig(namespace = 'default'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'tester', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Every request received, oldest first. */
  get requests(): RecordedRequest[] {
    return this.http.requests;
  }

  /** Writes rejected because the object failed schema validation; a correct client causes none. */
  get invalidWrites(): InvalidWrite[] {
    return this.http.invalid;
  }

  /** The next `responses.length` requests matching `method`/`path` get these answers instead. */
  failNext(match: { method?: string; path: string | RegExp }, ...responses: InjectedResponse[]): void {
    this.http.inject({ ...match, responses });
  }

  /** The StatefulSet controller's pod creations are refused with this message (a quota, an admission policy) while it returns one. */
  refusePodCreation(refusal: ((sts: KubeObject) => string | undefined) | undefined): void {
    this.cluster.refuseCreation(refusal);
  }

  /** Decides what the simulated kubelet does with new pods (undefined: by image markers). */
  setPodHook(hook: PodHook | undefined): void {
    this.cluster.podHook = hook;
  }

  /**
   * Answers exec in pods: `handler` first; otherwise `cat <file>` reads the container's /tmp (where the
   * simulated kubelet ran the postStart hook), and anything else is not found (exit 127).
   */
  setExecHandler(handler: ExecHandler | undefined): void {
    this.http.execHandler = (pod, container, command) => {
      const custom = handler?.(pod, container, command);
      if (custom) return custom;
      if (command[0] !== 'cat' || command.length !== 2) return undefined;
      const text = this.cluster.sandboxes.readFile(pod, command[1]!);
      return text === undefined ? { stderr: `cat: ${command[1]}: No such file or directory\n`, exitCode: 1 } : { stdout: text, exitCode: 0 };
    };
  }

  /** Answers GETs through the pod proxy (/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/...); none: 503. */
  setProxyHandler(handler: ProxyHandler | undefined): void {
    this.http.proxyHandler = handler;
  }

  /** The watches open now stop delivering (events and bookmarks) without closing; new ones work. */
  stallWatches(): void {
    this.http.stallWatches();
  }

  /** Takes the API server offline: connections drop and new ones are refused. */
  async stop(): Promise<void> {
    await this.http.stop();
  }

  /** Brings it back on the same port, with the same objects. */
  async restart(): Promise<void> {
    await this.http.start(this.http.port);
  }

  async close(): Promise<void> {
    this.cluster.close();
    await this.http.stop();
  }

  get(plural: string, namespace: string, name: string): KubeObject | undefined {
    return this.store.get(plural, namespace, name);
  }

  list(plural: string, namespace?: string, labelSelector?: string): KubeObject[] {
    return this.store.list(plural, namespace, labelSelector);
  }

  /** Stores an object directly (e.g. a pre-existing Ingress), validated like a client write. */
  put(plural: string, obj: KubeObject): KubeObject {
    const resource = RESOURCES.find((r) => r.plural === plural);
    if (!resource) throw new Error(`unknown resource ${plural}`);
    const typed = { apiVersion: resource.apiVersion, kind: resource.kind, ...obj };
    const problems = [...validateObject(resource.kind, typed), ...semanticProblems(plural, typed as Record<string, any>)];
    if (problems.length > 0) throw new Error(`invalid ${resource.kind}: ${problems.join('; ')}`);
    const existing = this.store.get(plural, obj.metadata.namespace, obj.metadata.name);
    return existing ? this.store.update(plural, typed) : this.store.create(plural, typed);
  }

  /** Deletes an object behind the client's back. */
  remove(plural: string, namespace: string, name: string): void {
    this.store.delete(plural, namespace, name);
  }

  /** Drops the watch event history, so resuming watches get 410 Gone. */
  compactHistory(): void {
    this.store.compact();
  }
}
