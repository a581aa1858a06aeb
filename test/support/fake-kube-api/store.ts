// In-memory object storage with the API server's bookkeeping: uid, creationTimestamp, a global resourceVersion
// bumped on every write, generation bumped on spec changes, and a bounded event history for watches.
import { randomUUID } from 'node:crypto';
import { parseLabelSelector } from './selectors.js';

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata: Record<string, unknown> & {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    uid?: string;
    generation?: number;
    deletionTimestamp?: string;
  };
  spec?: unknown;
  status?: unknown;
};

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  type: WatchEventType;
  plural: string;
  object: KubeObject;
}

type Listener = (event: StoredEvent) => void;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** JSON with object keys sorted: two objects that mean the same compare equal (the server ignores key order). */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export class ObjectStore {
  private readonly objects = new Map<string, KubeObject>();
  private history: StoredEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private rv = 100;
  /** The oldest resourceVersion a watch can still resume from. */
  private compactedAt = 100;

  constructor(private readonly historyLimit = 500) {}

  private key(plural: string, namespace: string | undefined, name: string): string {
    return `${plural}/${namespace ?? ''}/${name}`;
  }

  get resourceVersion(): number {
    return this.rv;
  }

  get(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.objects.get(this.key(plural, namespace, name));
    return found ? clone(found) : undefined;
  }

  list(plural: string, namespace?: string, labelSelector?: string): KubeObject[] {
    const matches = parseLabelSelector(labelSelector);
    const prefix = namespace === undefined ? `${plural}/` : `${plural}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && matches(o.metadata.labels ?? {}))
      .map(([, o]) => clone(o))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  }

  /** Stores a new object, filling in what the server owns. The caller has checked it does not exist. */
  create(plural: string, obj: KubeObject): KubeObject {
    const stored = clone(obj);
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp = new Date().toISOString();
    if (stored.spec !== undefined) stored.metadata.generation = 1;
    return this.write(plural, stored, 'ADDED');
  }

  /** Replaces an existing object; generation moves when the spec changed. */
  update(plural: string, obj: KubeObject): KubeObject {
    const old = this.objects.get(this.key(plural, obj.metadata.namespace, obj.metadata.name));
    if (!old) throw new Error(`update of missing ${plural} ${obj.metadata.name}`);
    const stored = clone(obj);
    stored.metadata.uid = old.metadata.uid;
    stored.metadata.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata.generation !== undefined) {
      const changed = canonical(old.spec) !== canonical(stored.spec);
      stored.metadata.generation = old.metadata.generation + (changed ? 1 : 0);
    }
    return this.write(plural, stored, 'MODIFIED');
  }

  delete(plural: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const k = this.key(plural, namespace, name);
    const old = this.objects.get(k);
    if (!old) return undefined;
    this.objects.delete(k);
    this.rv++;
    const gone = clone(old);
    gone.metadata.resourceVersion = String(this.rv);
    this.record({ rv: this.rv, type: 'DELETED', plural, object: gone });
    return clone(gone);
  }

  private write(plural: string, obj: KubeObject, type: WatchEventType): KubeObject {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    this.objects.set(this.key(plural, obj.metadata.namespace, obj.metadata.name), obj);
    this.record({ rv: this.rv, type, plural, object: clone(obj) });
    return clone(obj);
  }

  private record(event: StoredEvent): void {
    this.history.push(event);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.splice(0, this.history.length - this.historyLimit);
      this.compactedAt = dropped[dropped.length - 1]!.rv;
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Forgets the event history, so watches from any earlier resourceVersion get 410 Gone. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }

  /** Events after `rv`, or undefined when that point has been compacted away (410 Gone). */
  eventsSince(rv: number): StoredEvent[] | undefined {
    if (rv < this.compactedAt) return undefined;
    return this.history.filter((e) => e.rv > rv).map((e) => ({ ...e, object: clone(e.object) }));
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
