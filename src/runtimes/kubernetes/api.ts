// The official client's APIs behind one call wrapper: per-request timeouts, patch content types, and the
// mapping of API failures onto what the controller understands (permanent vs retryable).
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  NetworkingV1Api,
  PatchStrategy,
  Observable,
  type ConfigurationOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { PermanentRuntimeError } from '../../core/runtime.js';

type CallOptions = ConfigurationOptions;

/** How long after the API server was last unreachable a 403 is taken for its RBAC caches still loading. */
const RBAC_WARMUP_MS = 60_000;

/** A 403 because the bound Role was not found: what a restarted API server answers until its RBAC cache is synced. */
const RBAC_NOT_SYNCED = /RBAC: (cluster)?role\.rbac\.authorization\.k8s\.io "[^"]+" not found/;

/** What a failed call was doing, for messages a person can act on. */
export interface CallTarget {
  verb: string;
  resource: string;
  namespace: string;
}

/** A failure the API server answered with a status; 404s and 409s are handled by callers. */
export class KubeStatusError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'KubeStatusError';
  }
}

function statusOf(err: unknown): { code: number; message?: string; reason?: string } | undefined {
  if (!(err instanceof ApiException)) return undefined;
  let body: unknown = err.body;
  const raw = err.body as unknown;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw);
    } catch {
      return { code: err.code, message: raw };
    }
  }
  const status = body as { message?: string; reason?: string } | undefined;
  return { code: err.code, message: status?.message, reason: status?.reason };
}

/** The caller cancelled the call (its AbortSignal fired): neither the API server's answer nor a timeout. */
export class RuntimeCancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeCancelledError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeStatusError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeStatusError && err.code === 409;
}

interface Clients {
  apps: AppsV1Api;
  core: CoreV1Api;
  net: NetworkingV1Api;
}

export class KubeApi {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly net: NetworkingV1Api;

  /**
   * `signal`, when given, cancels every request made through this instance (the caller gave up, or the
   * runtime is closing); each request also has its own deadline of `timeoutMs`.
   */
  constructor(
    readonly kc: KubeConfig,
    private readonly timeoutMs: number,
    readonly signal?: AbortSignal,
    clients?: Clients,
    /** Shared by the instances made with withSignal: when the API server was last unreachable. */
    private readonly health: { unreachableAt: number } = { unreachableAt: -Infinity },
  ) {
    this.apps = clients?.apps ?? kc.makeApiClient(AppsV1Api);
    this.core = clients?.core ?? kc.makeApiClient(CoreV1Api);
    this.net = clients?.net ?? kc.makeApiClient(NetworkingV1Api);
  }

  /** The same clients, with requests also cancelled by `signal`. */
  withSignal(signal: AbortSignal | undefined): KubeApi {
    if (!signal) return this;
    return new KubeApi(this.kc, this.timeoutMs, this.signal ? AbortSignal.any([this.signal, signal]) : signal, this, this.health);
  }

  /** Options for one request: a deadline, cancellation, and the content type of a patch. */
  options(patch?: 'merge' | 'strategic' | 'json'): CallOptions {
    const timeoutMs = this.timeoutMs;
    const cancel = this.signal;
    const contentType =
      patch === 'merge' ? PatchStrategy.MergePatch : patch === 'strategic' ? PatchStrategy.StrategicMergePatch : patch === 'json' ? PatchStrategy.JsonPatch : undefined;
    return {
      middleware: [
        {
          pre: (ctx) => {
            const deadline = AbortSignal.timeout(timeoutMs);
            ctx.setSignal(cancel ? AbortSignal.any([cancel, deadline]) : deadline);
            if (contentType) ctx.setHeaderParam('Content-Type', contentType);
            return new Observable(Promise.resolve(ctx));
          },
          post: (res) => new Observable(Promise.resolve(res)),
        },
      ],
      middlewareMergeStrategy: 'append',
    };
  }

  /**
   * Runs one API call. 403 and 422 become PermanentRuntimeErrors (a person must act), other statuses a
   * KubeStatusError, and transport failures (refused, reset, timed out) a plain Error the controller retries.
   */
  async call<T>(target: CallTarget, fn: (options: CallOptions) => Promise<T>): Promise<T> {
    try {
      return await fn(this.options());
    } catch (err) {
      throw this.translate(target, err);
    }
  }

  /** Like call, for a patch with the given content type. */
  async patch<T>(target: CallTarget, kind: 'merge' | 'strategic' | 'json', fn: (options: CallOptions) => Promise<T>): Promise<T> {
    try {
      return await fn(this.options(kind));
    } catch (err) {
      throw this.translate(target, err);
    }
  }

  /** A read that answers undefined for a missing object. */
  async read<T>(target: CallTarget, fn: (options: CallOptions) => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(target, fn);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** A delete that succeeds when the object is already gone. */
  async deleteIfExists(target: CallTarget, fn: (options: CallOptions) => Promise<unknown>): Promise<void> {
    await this.read(target, fn);
  }

  /** What a failed call becomes: see call(). */
  translate(target: CallTarget, err: unknown): Error {
    const what = `${target.verb} ${target.resource} in namespace ${target.namespace}`;
    const status = statusOf(err);
    if (status) {
      const detail = status.message ?? `HTTP ${status.code}`;
      const sinceOutageMs = Date.now() - this.health.unreachableAt;
      if (status.code === 403 && (RBAC_NOT_SYNCED.test(detail) || sinceOutageMs < RBAC_WARMUP_MS)) {
        // A restarted API server refuses everything until its RBAC caches are filled: retried like an
        // outage. If the Role really is gone, the retries say so until it is back.
        return new KubeStatusError(`Kubernetes refused to ${what}: ${detail}. If this lasts, check that the wsm Role and RoleBinding exist.`, 403, status.reason);
      }
      if (status.code === 403) {
        return new PermanentRuntimeError(`Kubernetes refused to ${what}: ${detail}. Grant the wsm service account this permission.`, 'Forbidden');
      }
      if (status.code === 422) return new PermanentRuntimeError(`Kubernetes rejected ${what}: ${detail}`, 'Invalid');
      return new KubeStatusError(`Kubernetes API failed to ${what}: ${detail}`, status.code, status.reason);
    }
    const e = err as Error & { code?: string; type?: string };
    if (!this.signal?.aborted) this.health.unreachableAt = Date.now();
    if (this.signal?.aborted) return new RuntimeCancelledError(`Cancelled while trying to ${what}: ${String(this.signal.reason?.message ?? this.signal.reason ?? 'aborted')}`);
    const reason = e.name === 'AbortError' || e.type === 'aborted' ? `timed out after ${this.timeoutMs} ms` : (e.code ?? e.message);
    return new Error(`Kubernetes API unreachable while trying to ${what}: ${reason}`);
  }
}
