// Wake on request: a request for a stopped workspace whose lifecycle_config.wake_on_request is on
// resumes it, and the request is held until the workspace accepts connections. However many requests
// arrive at once, one resume is made per workspace (they all wait on the same wake); each request waits
// at most the wake timeout, and past a cap on held requests the next ones are refused at once, so a
// stopped workspace cannot pile up unbounded work. The idea is the KEDA HTTP add-on's interceptor.
import { WsmError } from '../core/errors.js';
import type { WorkspaceRecord } from '../core/types.js';
import type { Logger } from '../lib/logger.js';
import type { Store } from '../store/store.js';
import { roleAtLeast, roleOn, type Principal } from '../server/auth.js';
import { directUpstream, type Upstream, type UpstreamOf } from './upstream.js';

export interface WakeSettings {
  /** How long one request is held for a waking workspace before a 503. */
  timeoutMs: number;
  /** Requests held at once per workspace; the next ones get a 503 at once. */
  maxHeld: number;
  /** The longest wait between looks at a waking workspace (the first looks come sooner). */
  pollMs: number;
  /** Whether a workspace whose lifecycle_config leaves wake_on_request unset is woken (the cluster's default). */
  wakeByDefault: boolean;
}

/** The first wait between looks at a woken workspace; it doubles up to `pollMs`. */
const FIRST_LOOK_MS = 5;

export const DEFAULT_WAKE_SETTINGS: WakeSettings = { timeoutMs: 120_000, maxHeld: 100, pollMs: 100, wakeByDefault: false };

/** The one call a wake makes: a resume, as the API's PUT would make it. */
export type Resume = (name: string, actor: string) => Promise<unknown>;

/** Where a request goes, and how long it waited for a cold start (undefined: the workspace was up). */
export interface Destination {
  upstream: Upstream;
  waitedMs?: number;
}

/** A 503 that carries when to ask again and whether the workspace is on its way up. */
export class NotYet extends WsmError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    readonly starting: boolean,
  ) {
    super('service_unavailable', message);
  }
}

/** The role a request needs to wake a workspace: the one a resume needs. */
const WAKE_ROLE = 'editor';
/** How long a connection test waits for the workspace's port. */
const CONNECT_TIMEOUT_MS = 500;

export class WakeGate {
  /** The wake in progress per workspace: the first request starts it, later ones join it. */
  private readonly wakes = new Map<string, Promise<Upstream>>();
  private readonly held = new Map<string, number>();
  /** Ends every held request at shutdown: a server closing must not wait out a wake timeout. */
  private readonly closing = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly resume: Resume,
    private readonly logger: Logger,
    private readonly settings: WakeSettings = DEFAULT_WAKE_SETTINGS,
    private readonly upstreamOf: UpstreamOf = directUpstream,
  ) {}

  /** Answers every held request at once with a 503 (the server is closing); wakes already asked for go on. */
  close(): void {
    this.closing.abort();
  }

  /** Workspaces with a wake in progress now. */
  get waking(): number {
    return this.wakes.size;
  }

  /**
   * The address of a running workspace. A stopped one is woken when it may be; with `hold` the call
   * waits for it (a NotYet past the timeout or the cap), without it a NotYet says it is starting.
   */
  async destination(name: string, principal: Principal, hold: boolean): Promise<Destination> {
    const ws = await this.store.getWorkspace(name);
    if (!ws) throw new WsmError('not_found', `Workspace ${name} does not exist.`);
    const running = this.upstreamOf(ws);
    if (running && !this.wakes.has(name)) return { upstream: running };
    this.checkWakeable(ws, principal);
    const started = Date.now();
    const wake = this.wake(ws, principal);
    if (!hold) throw new NotYet(`Workspace ${name} is starting.`, 2, true);
    if (this.closing.signal.aborted) throw new NotYet('wsm is shutting down; try again shortly.', 5, false);
    const count = this.held.get(name) ?? 0;
    if (count >= this.settings.maxHeld) {
      throw new NotYet(`Workspace ${name} is starting and already has ${count} requests waiting for it (the most held at once); try again shortly.`, 5, true);
    }
    this.held.set(name, count + 1);
    let timer: NodeJS.Timeout | undefined;
    let onClose: (() => void) | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new NotYet(`Workspace ${name} did not accept connections within ${Math.round(this.settings.timeoutMs / 1000)} s of being woken; it is still starting.`, 5, true)), this.settings.timeoutMs);
        onClose = () => reject(new NotYet('wsm is shutting down; try again shortly.', 5, false));
        this.closing.signal.addEventListener('abort', onClose, { once: true });
      });
      const ready = await Promise.race([wake, timeout]);
      return { upstream: ready, waitedMs: Date.now() - started };
    } finally {
      clearTimeout(timer);
      if (onClose) this.closing.signal.removeEventListener('abort', onClose);
      const left = (this.held.get(name) ?? 1) - 1;
      if (left > 0) this.held.set(name, left);
      else this.held.delete(name);
    }
  }

  /** Refuses, with the reason a user can act on, a workspace that must not be woken by this request. */
  private checkWakeable(ws: WorkspaceRecord, principal: Principal): void {
    if (ws.deletion) throw new WsmError('conflict', `Workspace ${ws.name} is being deleted.`);
    if (ws.observed.status === 'FAILED' && ws.desired_state === 'running') {
      throw new NotYet(`Workspace ${ws.name} has failed (${ws.observed.message ?? 'no message'}); it is not restarted by requests. Fix it and resume it.`, 30, false);
    }
    if (ws.desired_state === 'running') return; // starting already: wait for it, nothing to resume
    // The workspace's own setting wins; unset, the cluster's default (--wake-on-request-default) decides.
    if (!(ws.spec.lifecycle.wake_on_request ?? this.settings.wakeByDefault)) {
      const why = ws.spec.lifecycle.wake_on_request === false ? 'its lifecycle_config.wake_on_request is off' : 'its lifecycle_config.wake_on_request is unset and the server\'s default is off';
      throw new WsmError('conflict', `Workspace ${ws.name} is stopped and ${why}: resume it (PUT /api/workspaces/${ws.name} with {"workspace":{"action":"resume"}}) or turn wake_on_request on.`);
    }
    if (!roleAtLeast(roleOn(principal, ws.name), WAKE_ROLE)) {
      throw new WsmError('unauthorized_access', `Workspace ${ws.name} is stopped; waking it needs the ${WAKE_ROLE} role on it, which the token does not have.`);
    }
  }

  private wake(ws: WorkspaceRecord, principal: Principal): Promise<Upstream> {
    let wake = this.wakes.get(ws.name);
    if (!wake) {
      wake = this.resumeAndWait(ws, principal).finally(() => this.wakes.delete(ws.name));
      // A wake nobody waits for any more (browsers got the page) must not be an unhandled rejection.
      wake.catch(() => undefined);
      this.wakes.set(ws.name, wake);
    }
    return wake;
  }

  private async resumeAndWait(ws: WorkspaceRecord, principal: Principal): Promise<Upstream> {
    if (ws.desired_state === 'stopped') {
      this.logger.info({ workspace: ws.name, actor: principal.actor }, 'waking the workspace for a request');
      try {
        await this.resume(ws.name, `${principal.actor} (woken by a request)`);
      } catch (err) {
        this.logger.warn({ workspace: ws.name, err }, 'could not wake the workspace');
        throw new NotYet(`Workspace ${ws.name} could not be woken: ${(err as Error).message}`, 10, false);
      }
    }
    const deadline = Date.now() + this.settings.timeoutMs;
    // A woken program usually listens within milliseconds of its start: look again soon, then less often.
    let delayMs = FIRST_LOOK_MS;
    while (Date.now() < deadline) {
      const now = await this.store.getWorkspace(ws.name);
      if (!now || now.uid !== ws.uid) throw new WsmError('not_found', `Workspace ${ws.name} was deleted while it was woken.`);
      if (now.observed.status === 'FAILED') throw new NotYet(`Workspace ${ws.name} failed to start: ${now.observed.message ?? 'no message'}.`, 30, false);
      if (now.desired_state === 'stopped') throw new NotYet(`Workspace ${ws.name} was stopped again while it was woken.`, 10, false);
      const upstream = this.upstreamOf(now);
      if (upstream && (await upstream.ready(CONNECT_TIMEOUT_MS))) return upstream;
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, this.settings.pollMs)));
      delayMs *= 2;
    }
    throw new NotYet(`Workspace ${ws.name} did not accept connections within ${Math.round(this.settings.timeoutMs / 1000)} s of being woken.`, 5, true);
  }
}
