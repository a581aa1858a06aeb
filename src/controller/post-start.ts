// Post-start on Docker and local, run by the controller (Kubernetes runs it as the container's
// postStart hook and the controller only reads its record: post-start-engine.ts): once a start has been observed RUNNING and the workspace answers, the command and
// then the hook script run inside it through runtime.exec. The run happens outside the reconcile
// worker (it may take minutes) and its result is applied by the next reconcile, the one writer of
// observed state, so results and status changes never overwrite each other.
//
// A start is marked in the stored conditions (PostStart, status Unknown, reason Pending) in the same
// write that records RUNNING, so a control plane that restarts mid-way runs it again (at least once).
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import type { ExecResult, PostStartStepRecord, Runtime, RuntimeWorkspace } from '../core/runtime.js';
import type { Condition, ObservedState, OperationRecord, WorkspaceRecord } from '../core/types.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../lib/logger.js';

export const POST_START = 'PostStart';
export const POST_START_FAILED = 'PostStartFailed';
/** Reasons of the PostStartFailed condition: only a warning, or the workspace was stopped and failed. */
export const WARNING = 'Warning';
export const WORKSPACE_FAILED = 'WorkspaceFailed';

const TAIL_LINES = 20;
const TAIL_CHARS = 2_000;
/** How long past its own timeout an exec may run before it is cancelled (the engine no longer answers). */
const EXEC_BACKSTOP_MS = 10_000;

export type StepResult = PostStartStepRecord;

export interface PostStartResult {
  ok: boolean;
  steps: StepResult[];
  fail_on_error: boolean;
  started_at: string;
  finished_at: string;
}

export function lastLines(output: string): string {
  const lines = output.replace(/\s+$/, '').split('\n').slice(-TAIL_LINES).join('\n');
  return lines.length > TAIL_CHARS ? `…${lines.slice(-TAIL_CHARS)}` : lines;
}

export function wantsPostStart(ws: WorkspaceRecord): boolean {
  const post = ws.spec.lifecycle.post_start;
  return Boolean(post?.command?.length || post?.hook_path);
}

// The hook's bytes travel as an argument and are written to a temporary file there, so a script
// with a shebang (Python, say) runs as itself, on a local process and in a container alike, with no
// copy step and nothing of the control plane's filesystem shared.
const RUN_HOOK = 'f=$(mktemp) || exit 127; printf %s "$1" >"$f"; chmod 700 "$f"; "$f"; c=$?; rm -f "$f"; exit $c';

export function hookCommand(content: Buffer): string[] {
  return ['/bin/sh', '-c', RUN_HOOK, 'wsm-post-start', content.toString('utf8')];
}

function describeStep(s: StepResult): string {
  const what = s.step === 'command' ? 'post-start command' : 'post-start hook';
  const how = s.timed_out ? `timed out after ${(s.duration_ms / 1000).toFixed(1)} s` : `exited with code ${s.exit_code} after ${(s.duration_ms / 1000).toFixed(1)} s`;
  const tail = lastLines(s.output);
  return `${what} ${how}${tail ? `: ${tail}` : ''}`;
}

/** The condition a finished run leaves on the workspace. */
export function resultCondition(result: PostStartResult): Omit<Condition, 'last_transition_time'> {
  if (result.ok) {
    const took = result.steps.reduce((n, s) => n + s.duration_ms, 0);
    return { type: POST_START, status: 'True', reason: 'Succeeded', message: `post-start finished in ${(took / 1000).toFixed(1)} s` };
  }
  const failed = result.steps.find((s) => s.exit_code !== 0 || s.timed_out)!;
  const consequence = result.fail_on_error ? 'the workspace was stopped (post_start.fail_on_error is true)' : 'the workspace keeps running (a warning: post_start.fail_on_error is false)';
  return {
    type: POST_START_FAILED,
    status: 'True',
    reason: result.fail_on_error ? WORKSPACE_FAILED : WARNING,
    message: `${describeStep(failed)}; ${consequence}`,
  };
}

export function isPostStartCondition(c: { type: string }): boolean {
  return c.type === POST_START || c.type === POST_START_FAILED;
}

function waitForAnswer(address: string | undefined, deadline: number): Promise<void> {
  const match = address ? /^\[?([^\]]+)\]?:(\d+)$/.exec(address) : null;
  if (!match) return Promise.resolve();
  const [, host, port] = match;
  const once = () =>
    new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: host!, port: Number(port) });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1_000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  return (async () => {
    while (Date.now() < deadline) {
      if (await once()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
}

export interface PostStartRunnerOptions {
  /** Bound of each step, and of the wait for the workspace to answer. */
  timeoutMs: number;
}

/** Runs post-start steps, one run per workspace at a time, and keeps the results for the reconciler. */
export class PostStartRunner {
  /** The run each workspace's current start expects; a result of an older run is dropped. */
  private readonly current = new Map<string, string>();
  private readonly results = new Map<string, { runId: string; result: PostStartResult }>();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: PostStartRunnerOptions,
    private readonly onResult: (name: string) => void,
  ) {}

  running(name: string): boolean {
    return this.current.has(name) && !this.results.has(name);
  }

  /** Starts a run for the workspace's current start (any run still going for an older start is disowned). */
  start(runtime: Runtime, rws: RuntimeWorkspace, address: string | undefined): void {
    const runId = randomUUID();
    this.current.set(rws.name, runId);
    this.results.delete(rws.name);
    void this.run(runtime, rws, address).then(
      (result) => {
        if (this.current.get(rws.name) !== runId) return;
        this.results.set(rws.name, { runId, result });
        this.onResult(rws.name);
      },
      (err) => this.logger.error({ workspace: rws.name, err }, 'post-start runner failed'),
    );
  }

  /** The finished result for the current start, once; undefined while running or when none. */
  take(name: string): PostStartResult | undefined {
    const entry = this.results.get(name);
    if (!entry || this.current.get(name) !== entry.runId) return undefined;
    this.results.delete(name);
    this.current.delete(name);
    return entry.result;
  }

  forget(name: string): void {
    this.current.delete(name);
    this.results.delete(name);
  }

  private async run(runtime: Runtime, rws: RuntimeWorkspace, address: string | undefined): Promise<PostStartResult> {
    const started_at = new Date().toISOString();
    const fail_on_error = Boolean(rws.lifecycle.post_start?.fail_on_error);
    const steps: StepResult[] = [];
    await waitForAnswer(address, Date.now() + this.options.timeoutMs);
    const exec = async (step: StepResult['step'], command: string[]) => {
      const begun = Date.now();
      let r: ExecResult;
      try {
        if (!runtime.exec) throw new Error(`the ${runtime.clusterType} runtime cannot run commands in a workspace`);
        // The step's own timeout ends it as timed out; the signal is a backstop for an engine that stops answering.
        r = await runtime.exec(rws, command, this.options.timeoutMs, AbortSignal.timeout(this.options.timeoutMs + EXEC_BACKSTOP_MS));
      } catch (err) {
        r = { exit_code: -1, output: (err as Error).message, duration_ms: Date.now() - begun, timed_out: false };
      }
      const out: StepResult = { step, exit_code: r.exit_code, duration_ms: r.duration_ms, timed_out: r.timed_out, output: lastLines(r.output) };
      steps.push(out);
      return out.exit_code === 0 && !out.timed_out;
    };
    const command = rws.lifecycle.post_start?.command;
    let ok = true;
    if (command?.length) ok = await exec('command', command);
    if (ok && rws.hooks.post_start) ok = await exec('hook', hookCommand(rws.hooks.post_start.content));
    const result = { ok, steps, fail_on_error, started_at, finished_at: new Date().toISOString() };
    this.logger[ok ? 'info' : 'warn']({ workspace: rws.name, steps: steps.map((s) => ({ step: s.step, exit_code: s.exit_code, timed_out: s.timed_out, duration_ms: s.duration_ms })) }, ok ? 'post-start finished' : 'post-start failed');
    return result;
  }

  /** Writes the result into the operation that started this run (the newest start-like one). */
  async recordOnOperation(ws: Pick<WorkspaceRecord, 'uid'>, result: PostStartResult): Promise<OperationRecord | undefined> {
    const ops = await this.store.listWorkspaceOperations(ws.uid, 5);
    const op = ops.find((o) => o.target_state === 'running' && (o.action === 'create' || o.action === 'resume' || o.action === 'patch'));
    if (!op) return undefined;
    const details = { ...(op.details ?? {}), post_start: result };
    const failWorkspace = !result.ok && result.fail_on_error;
    const error = failWorkspace ? resultCondition(result).message : undefined;
    await this.store.updateOperation(op.id, failWorkspace ? { details, state: 'failed', error, finished_at: result.finished_at } : { details });
    return { ...op, details, ...(failWorkspace ? { state: 'failed' as const, error } : {}) };
  }
}

/**
 * The observed state after a reconcile, with post-start's conditions: a new start replaces them with
 * the Pending marker; otherwise they are carried over (the runtime does not know them), and a
 * workspace that post-start failed stays FAILED until it is started again.
 */
export function withPostStartConditions(
  previous: ObservedState,
  next: ObservedState,
  opts: { newStart: boolean; wanted: boolean; desiredRunning: boolean; now: string },
): ObservedState {
  const others = next.conditions.filter((c) => !isPostStartCondition(c));
  if (opts.newStart) {
    if (!opts.wanted) return { ...next, conditions: others };
    return { ...next, conditions: [...others, { type: POST_START, status: 'Unknown', reason: 'Pending', message: 'post-start runs once the workspace answers', last_transition_time: opts.now }] };
  }
  const kept = previous.conditions.filter(isPostStartCondition);
  const fatal = kept.find((c) => c.type === POST_START_FAILED && c.reason === WORKSPACE_FAILED);
  const out = { ...next, conditions: [...others, ...kept] };
  if (fatal && opts.desiredRunning && next.status !== 'RUNNING' && next.status !== 'PENDING') {
    const ready = { type: 'Ready', status: 'False' as const, reason: 'PostStartFailed', message: fatal.message, last_transition_time: opts.now };
    return { ...out, status: 'FAILED', message: fatal.message, conditions: [ready, ...out.conditions.filter((c) => c.type !== 'Ready')] };
  }
  return out;
}
