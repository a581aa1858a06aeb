// One resource followed informer-style: list, then watch from the list's resourceVersion, resuming from
// the last version seen when a watch ends, and listing again after 410 Gone. Beyond the client's own
// informer it notices a watch that stopped delivering without closing (a proxy or load balancer that
// kept the connection but lost the stream): the API server sends a bookmark at least about once a
// minute (allowWatchBookmarks), so a watch silent for longer than `silenceMs` is abandoned and started
// again. Names of the workspaces concerned go to `onChange`, including on a re-list, where what changed
// in between is unknown.
import { Watch, type KubeConfig, type KubernetesObject, type KubernetesListObject } from '@kubernetes/client-node';
import { Backoff } from '../../lib/backoff.js';

export interface ListWatchLogger {
  warn(obj: object, msg?: string): void;
}

export interface ListWatchOptions {
  kc: KubeConfig;
  /** The collection's URL path, e.g. /api/v1/namespaces/team/pods. */
  path: string;
  labelSelector?: string;
  list(): Promise<KubernetesListObject<KubernetesObject>>;
  /** The workspaces an object concerns. */
  namesOf(obj: KubernetesObject): string[];
  onChange(name: string): void;
  logger?: ListWatchLogger;
  retryMs: { initial: number; max: number };
  /** A watch that delivers nothing (not even a bookmark) for this long is restarted. */
  silenceMs: number;
  /** Asks the server to end each watch after this long (it is then resumed): no watch lives forever. */
  timeoutSeconds: number;
  /** Hears each restart that was not the server's routine end of a watch (metrics). */
  onRestart?: (reason: 'lost' | 'silent' | 'gone') => void;
}

type Ending = { kind: 'closed'; delivered: boolean } | { kind: 'gone' } | { kind: 'silent' } | { kind: 'failed'; error: unknown };

export class ListWatch {
  private stopped = false;
  private resourceVersion = '';
  /** Names per object key, so a deleted object or a changed Ingress still names who it concerned. */
  private readonly known = new Map<string, string[]>();
  private abortWatch: (() => void) | undefined;
  private sleeping: { timer: NodeJS.Timeout; wake: () => void } | undefined;
  /** How many watches were started (tests read it). */
  watchesStarted = 0;

  constructor(private readonly o: ListWatchOptions) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abortWatch?.();
    if (this.sleeping) {
      clearTimeout(this.sleeping.timer);
      this.sleeping.wake();
    }
  }

  private async run(): Promise<void> {
    // Jittered, so the watches of one runtime (and of several) do not all reconnect in the same instant.
    const backoff = new Backoff({ baseMs: this.o.retryMs.initial, maxMs: this.o.retryMs.max, jitter: 0.2 });
    while (!this.stopped) {
      let ending: Ending;
      try {
        if (!this.resourceVersion) await this.relist();
        ending = await this.watchOnce();
      } catch (error) {
        ending = { kind: 'failed', error };
      }
      if (this.stopped) return;
      if (ending.kind === 'gone') {
        this.o.onRestart?.('gone');
        this.resourceVersion = '';
        continue;
      }
      if (ending.kind === 'closed' && ending.delivered) {
        backoff.reset();
        continue;
      }
      if (ending.kind === 'closed') {
        // Ended before anything came (not even a bookmark): reconnecting at once could spin.
        await this.sleep(backoff.next());
        continue;
      }
      const delay = ending.kind === 'silent' ? 0 : backoff.next();
      this.o.onRestart?.(ending.kind === 'silent' ? 'silent' : 'lost');
      const why = ending.kind === 'silent' ? `no event or bookmark for ${this.o.silenceMs} ms` : String((ending.error as Error)?.message ?? ending.error);
      this.o.logger?.warn({ path: this.o.path, err: why, retryInMs: delay }, ending.kind === 'silent' ? 'kubernetes watch went silent; restarting it' : 'kubernetes watch failed; reconnecting');
      await this.sleep(delay);
    }
  }

  private async relist(): Promise<void> {
    const list = await this.o.list();
    const before = new Set([...this.known.values()].flat());
    this.known.clear();
    for (const obj of list.items) this.remember(obj);
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    // What changed while nobody watched is unknown: every workspace seen before or now is looked at.
    for (const name of new Set([...before, ...[...this.known.values()].flat()])) this.o.onChange(name);
  }

  private key(obj: KubernetesObject): string {
    return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
  }

  private remember(obj: KubernetesObject): string[] {
    const names = this.o.namesOf(obj);
    const previous = this.known.get(this.key(obj)) ?? [];
    this.known.set(this.key(obj), names);
    return [...new Set([...previous, ...names])];
  }

  /** One watch request, until it ends; resolves with how it ended. */
  private watchOnce(): Promise<Ending> {
    return new Promise<Ending>((resolve) => {
      let ended = false;
      let delivered = false;
      let controller: AbortController | undefined;
      let silence: NodeJS.Timeout | undefined;
      const end = (ending: Ending) => {
        if (ended) return;
        ended = true;
        clearTimeout(silence);
        this.abortWatch = undefined;
        controller?.abort();
        resolve(ending);
      };
      const alive = () => {
        clearTimeout(silence);
        silence = setTimeout(() => end({ kind: 'silent' }), this.o.silenceMs);
      };
      this.abortWatch = () => end({ kind: 'closed', delivered: true });
      alive();
      this.watchesStarted++;
      const query: Record<string, string | number | boolean> = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.o.timeoutSeconds,
      };
      if (this.o.labelSelector) query.labelSelector = this.o.labelSelector;
      new Watch(this.o.kc)
        .watch(
          this.o.path,
          query,
          (type: string, obj: KubernetesObject & { code?: number }) => {
            alive();
            delivered = true;
            if (type === 'ERROR') {
              end(obj.code === 410 ? { kind: 'gone' } : { kind: 'failed', error: new Error(`watch error: ${JSON.stringify(obj)}`) });
              return;
            }
            const rv = obj.metadata?.resourceVersion;
            if (rv) this.resourceVersion = rv;
            if (type === 'BOOKMARK') return;
            const names = this.remember(obj);
            if (type === 'DELETED') this.known.delete(this.key(obj));
            for (const name of names) this.o.onChange(name);
          },
          (err: unknown) => {
            const code = (err as { statusCode?: number; code?: number } | null)?.statusCode ?? (err as { code?: number } | null)?.code;
            if (code === 410) end({ kind: 'gone' });
            else if (err && (err as Error).name !== 'AbortError') end({ kind: 'failed', error: err });
            else end({ kind: 'closed', delivered });
          },
        )
        .then((c) => {
          controller = c;
          if (ended) c.abort();
        })
        .catch((error: unknown) => end({ kind: 'failed', error }));
    });
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping = undefined;
        resolve();
      };
      this.sleeping = { timer: setTimeout(wake, ms), wake };
    });
  }
}
