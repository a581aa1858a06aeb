// The use cases behind every request that changes a workspace: validate, write the change of spec
// or desired state in one transaction with its operation and audit event, then answer once the
// runtime has taken it. The reconciler hears of the change from the store's change feed; nothing
// here knows the controller.
import { randomUUID } from 'node:crypto';
import { selectInheritedEnv } from '../core/env.js';
import { timeOrderedId } from '../core/ids.js';
import { notFound, validationError, WsmError, type FieldError } from '../core/errors.js';
import { parseActionRequest, parseCreateRequest, type ActionRequest, type PatchRequest } from '../core/requests.js';
import { planChange, type ChangePlan } from '../core/change-plan.js';
import { checkWithEngine, type EngineDryRun } from './engine-check.js';
import { applyPatch, buildSpec, specEquals } from '../core/spec.js';
import { bindRootErrors, configAccessErrors, type ConfigAccess } from '../core/container-config-access.js';
import type { ContainerConfigPatch } from '../core/container-config-check.js';
import { specLimitErrors } from '../core/limits.js';
import type { ActivitySource, AuditEvent, AutoStopFigures, ClusterType, ContainerConfig, DesiredState, LifecycleConfig, ObservedState, OperationAction, OperationRecord, WorkspaceRecord, WorkspaceSpec } from '../core/types.js';
import type { Store, StoreOps } from '../store/store.js';
import { checkHookPath } from '../lib/hook-scripts.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';
import type { ScheduleStep } from '../core/schedule.js';
import type { DormancyStep } from '../core/dormancy.js';
import { OperationWaiter, type OperationWait } from './operation-waiter.js';

/** The actor of stops the idle culler makes. */
export const AUTO_TERMINATION_ACTOR = 'auto-termination';
/** The actor of the starts and stops a workspace's schedule makes. */
export const SCHEDULE_ACTOR = 'schedule';
/** The actor of the warnings and deletions of dormant workspaces. */
export const DORMANCY_ACTOR = 'dormancy';

export interface ActionContext {
  actor: string;
  requestId?: string;
  /** The ETag the client sent in If-Match, without quotes. */
  ifMatch?: string;
  /** Which container_config keys the caller may change (core/container-config-access.ts); editor when not said. */
  configAccess?: ConfigAccess;
  /** Ends the wait for the runtime early (the client went away, the server is closing); the change stays written. */
  signal?: AbortSignal;
  /**
   * Written in the transaction that writes the request's operation, so that it holds exactly when the
   * change does: the request's Idempotency-Key learns which operation the request made.
   */
  writeAlongside?: (tx: StoreOps, op: OperationRecord) => Promise<void>;
}

export interface ActionResult {
  workspace: WorkspaceRecord;
  operation?: OperationRecord;
  /** A patch's plan: what it does (or, in a dry run, would do) on the workspace's runtime. */
  plan?: ChangePlan;
  /** Set for a dry run: `workspace` is then what the patch would make of the workspace. */
  dryRun?: boolean;
  /** In a dry run, the workspace as it stays. */
  unchanged?: WorkspaceRecord;
}

export interface ActionOptions {
  /** The cluster types this server runs, its default first. */
  clusterTypes: readonly ClusterType[];
  /** The cluster types whose runtime can add a workspace to an Ingress. */
  ingressClusterTypes: readonly ClusterType[];
  hooksDir: string;
  /** How long a request waits for the runtime to accept its change before answering. */
  actionWaitMs: number;
  /** The image of workspaces whose container_config names none (when the cluster settings name none). */
  defaultImage: string;
  /** Host path prefixes a workspace may bind (--docker-allowed-bind-roots); none when absent. */
  allowedBindRoots?: readonly string[];
  /** Local workspaces run as users of their own (wsm runs as root): their editors may set what they run. */
  localIsolated?: boolean;
  /** Per cluster type, the engine's own dry run that a patch's dry run also asks (Kubernetes' dryRun=All). */
  engineDryRun?: Partial<Record<ClusterType, EngineDryRun>>;
}

/** Where heartbeats go: activity is written debounced by whoever keeps it (the controller's recorder). */
export interface ActivitySink {
  record(name: string, source: ActivitySource): Promise<void>;
}

/** What a workspace shows between its creation and the reconciler's first look. */
function initialObserved(now: string): ObservedState {
  return {
    status: 'PENDING',
    observed_generation: 0,
    conditions: [{ type: 'Ready', status: 'False', reason: 'Creating', last_transition_time: now }],
    updated_at: now,
  };
}

export class WorkspaceActions {
  private readonly locks = new KeyedMutex();
  private readonly waiter: OperationWaiter;

  constructor(
    private readonly store: Store,
    private readonly activity: ActivitySink,
    private readonly options: ActionOptions,
  ) {
    this.waiter = new OperationWaiter(store.changes);
  }

  /** Requests waiting for their operation now (each wait ends by its answer, its timeout or its signal). */
  get waiting(): number {
    return this.waiter.watching;
  }

  async create(body: unknown, ctx: ActionContext): Promise<ActionResult> {
    const { clusterTypes } = this.options;
    const parsed = parseCreateRequest(body, { defaultClusterType: clusterTypes[0] ?? 'local' });
    if (parsed.errors.length > 0) throw validationError(parsed.errors);
    const req = parsed.value;
    if (!clusterTypes.includes(req.cluster_type)) {
      throw validationError([{ field: 'cluster_type', message: `cluster type ${req.cluster_type} is not configured on this server; available: ${clusterTypes.join(', ')}` }]);
    }
    const { inheritedEnv, defaultImage } = await this.clusterDefaults();
    const spec = buildSpec(req, { inheritedEnv, defaultImage });
    this.checkContainer(req.cluster_type, ctx, {}, spec.container, req.container_config);
    this.checkLimits(req.cluster_type, spec);
    await this.checkScripts(spec.lifecycle);
    // The lock covers the write only: a request waiting for its runtime does not hold up the next one.
    const watch = await this.locks.run(req.name, async () => {
      const now = new Date().toISOString();
      const ws: WorkspaceRecord = {
        name: req.name,
        uid: randomUUID(),
        cluster_type: req.cluster_type,
        project_uuid: randomUUID().replaceAll('-', ''),
        spec,
        desired_state: 'running',
        generation: 1,
        resource_version: 1,
        observed: initialObserved(now),
        // A schedule acts on its times from now on, not on those before the workspace was made.
        activity: { last_activity_at: now, last_activity_source: 'api', ...(spec.lifecycle.schedule ? { schedule_checked_at: now } : {}) },
        created_at: now,
        updated_at: now,
      };
      const op = this.operation(ws, 'create', ctx, body, 'running');
      return this.written(op, ctx, async (tx) => {
        await tx.insertWorkspace(ws);
        await tx.insertOperation(op);
        await tx.appendAudit(this.audit(ctx, 'create', ws.name, 0, 1, 'ok'));
      });
    });
    return this.handOver(req.name, watch, ctx);
  }

  async act(name: string, body: unknown, ctx: ActionContext): Promise<ActionResult> {
    const parsed = parseActionRequest(body);
    if (parsed.errors.length > 0) throw validationError(parsed.errors);
    const req = parsed.value;
    if (req.action === 'patch' && req.lifecycle_config) {
      // Validated before taking the lock: reading the hooks directory is I/O.
      const current = await this.store.getWorkspace(name);
      if (!current) throw notFound(name);
      const { defaultImage } = await this.clusterDefaults();
      await this.checkScripts(applyPatch(current.spec, req, { inheritedEnv: current.spec.inherited_env, defaultImage }).lifecycle);
    }
    // A dry run takes every check a real patch takes (so it answers the same 4xx), then stops short of the write.
    if (req.action === 'patch' && req.dry_run) return this.dryRun(name, req, ctx);
    const { watch, plan } = await this.locks.run(name, async () => {
      const { current, next, plan } = await this.prepare(name, req, ctx);
      const changed = !specEquals(current.spec, next.spec) || current.desired_state !== next.desired;
      // A new schedule acts on its times from now on: one set at noon does not stop the workspace for 08:00 past.
      const scheduleSet = next.spec.lifecycle.schedule && JSON.stringify(next.spec.lifecycle.schedule) !== JSON.stringify(current.spec.lifecycle.schedule);
      const updated: WorkspaceRecord = {
        ...current,
        spec: next.spec,
        desired_state: next.desired,
        generation: specEquals(current.spec, next.spec) ? current.generation : current.generation + 1,
        resource_version: changed ? current.resource_version + 1 : current.resource_version,
        activity: {
          ...current.activity,
          last_activity_at: new Date().toISOString(),
          last_activity_source: 'api',
          ...(scheduleSet ? { schedule_checked_at: new Date().toISOString() } : {}),
        },
        updated_at: changed ? new Date().toISOString() : current.updated_at,
      };
      const op = this.operation(updated, req.action, ctx, body, updated.desired_state);
      // The plan the change was made by stays on its operation (post-start output joins it in details later).
      if (plan) op.details = { plan };
      const watch = await this.written(op, ctx, async (tx) => {
        // replaceWorkspace leaves activity alone (it has its own writers): an action is activity.
        if (changed) await this.replace(tx, updated, current.resource_version);
        await tx.setActivity(name, updated.activity);
        await tx.insertOperation(op);
        await tx.appendAudit(this.audit(ctx, req.action, name, current.generation, updated.generation, 'ok'));
      });
      return { watch, plan };
    });
    return { ...(await this.handOver(name, watch, ctx)), plan };
  }

  /**
   * The workspace as the patch would make it and the plan, with nothing written: no operation, no audit
   * event, no activity, no runtime call except the engine's own dry run where it has one (Kubernetes).
   */
  private async dryRun(name: string, req: PatchRequest, ctx: ActionContext): Promise<ActionResult> {
    const { current, next, plan } = await this.prepare(name, req, ctx);
    const generation = specEquals(current.spec, next.spec) ? current.generation : current.generation + 1;
    const workspace: WorkspaceRecord = { ...current, spec: next.spec, generation };
    const check = this.options.engineDryRun?.[current.cluster_type];
    if (check && plan) await checkWithEngine(check, workspace, plan, ctx.signal);
    return { workspace, unchanged: current, plan, dryRun: true };
  }

  /** The checks every action takes (a real one under the workspace's lock), the state it leads to, and a patch's plan. */
  private async prepare(name: string, req: ActionRequest, ctx: ActionContext) {
    const current = await this.store.getWorkspace(name);
    if (!current) throw notFound(name);
    this.checkPrecondition(current, ctx);
    if (current.deletion) throw new WsmError('conflict', `Workspace ${name} is being deleted.`);
    if (req.action === 'add_to_ingress' && !this.options.ingressClusterTypes.includes(current.cluster_type)) {
      throw new WsmError('unsupported_action', `add_to_ingress needs a Kubernetes workspace; ${name} runs on ${current.cluster_type}.`, [
        { field: 'action', message: 'add_to_ingress is only supported on cluster type k8s' },
      ]);
    }
    const next = await this.nextState(current, req);
    let plan: ChangePlan | undefined;
    if (req.action === 'patch') {
      this.checkContainer(current.cluster_type, ctx, current.spec.container, next.spec.container, req.container_config ?? {});
      this.checkLimits(current.cluster_type, next.spec);
      plan = planChange({ clusterType: current.cluster_type, before: current.spec, after: next.spec, defaultImage: next.defaultImage ?? this.options.defaultImage, running: current.desired_state === 'running' });
    }
    return { current, next, plan };
  }

  async remove(name: string, deleteVolume: boolean, ctx: ActionContext): Promise<ActionResult> {
    const { watch, updated } = await this.locks.run(name, async () => {
      const current = await this.store.getWorkspace(name);
      if (!current) throw notFound(name);
      this.checkPrecondition(current, ctx);
      const now = new Date().toISOString();
      const updated: WorkspaceRecord = {
        ...current,
        deletion: current.deletion ?? { requested_at: now, delete_volume: deleteVolume },
        resource_version: current.resource_version + 1,
        updated_at: now,
      };
      const op = this.operation(updated, 'delete', ctx, { delete_volume: deleteVolume }, 'deleted');
      const watch = await this.written(op, ctx, async (tx) => {
        await this.replace(tx, updated, current.resource_version);
        await tx.insertOperation(op);
        await tx.appendAudit(this.audit(ctx, 'delete', name, current.generation, current.generation, 'ok'));
      });
      return { watch, updated };
    });
    return this.handOver(name, watch, ctx, updated);
  }

  /**
   * The culler's stop. `confirm` is asked again under the workspace's lock with the record as it
   * now stands (a patch or heartbeat may have come in since the culler looked) and returns the
   * figures the stop is decided on, or undefined when it no longer is. Returns the operation, if any;
   * the reconciler hears of it from the store.
   */
  async autoStop(name: string, confirm: (ws: WorkspaceRecord) => AutoStopFigures | undefined): Promise<OperationRecord | undefined> {
    return this.locks.run(name, async () => {
      const current = await this.store.getWorkspace(name);
      if (!current || current.deletion || current.desired_state !== 'running') return undefined;
      const figures = confirm(current);
      if (!figures) return undefined;
      const now = new Date().toISOString();
      const updated: WorkspaceRecord = {
        ...current,
        desired_state: 'stopped',
        resource_version: current.resource_version + 1,
        activity: { ...current.activity, last_auto_stop: figures, ...(figures.retry ? { stop_retry: figures.retry } : {}) },
        updated_at: now,
      };
      const ctx: ActionContext = { actor: AUTO_TERMINATION_ACTOR };
      const op = this.operation(updated, 'auto_stop', ctx, figures, 'stopped');
      await this.store.transaction(async (tx) => {
        await this.replace(tx, updated, current.resource_version);
        await tx.setActivity(name, updated.activity);
        await tx.insertOperation(op);
        await tx.appendAudit({ ...this.audit(ctx, 'auto_stop', name, current.generation, current.generation, 'ok'), detail: JSON.stringify(figures) });
      });
      return op;
    });
  }

  /**
   * The schedule's start or stop. `decide` is asked under the workspace's lock with the record as it now
   * stands; its step always moves the schedule's mark on (so a time is acted on once), and changes the
   * desired state only when the workspace is not already there. Returns the operation, if any.
   */
  async scheduled(name: string, decide: (ws: WorkspaceRecord) => ScheduleStep | undefined): Promise<OperationRecord | undefined> {
    return this.locks.run(name, async () => {
      const current = await this.store.getWorkspace(name);
      if (!current || current.deletion) return undefined;
      const step = decide(current);
      if (!step) return undefined;
      const activity = { ...current.activity, schedule_checked_at: step.checked_at };
      const desired: DesiredState | undefined = step.action === 'start' ? 'running' : step.action === 'stop' ? 'stopped' : undefined;
      if (desired === undefined || desired === current.desired_state) {
        await this.store.setActivity(name, activity);
        return undefined;
      }
      const now = new Date().toISOString();
      // A stop its pre-stop may postpone keeps which try it is, for the schedule's backoff.
      if (step.retry) activity.stop_retry = step.retry;
      const updated: WorkspaceRecord = { ...current, desired_state: desired, resource_version: current.resource_version + 1, activity, updated_at: now };
      const ctx: ActionContext = { actor: SCHEDULE_ACTOR };
      const action = desired === 'running' ? 'scheduled_start' : 'scheduled_stop';
      const request = { fire_at: step.fire_at, schedule: current.spec.lifecycle.schedule, ...(step.retry ? { retry: step.retry } : {}) };
      const op = this.operation(updated, action, ctx, request, desired);
      await this.store.transaction(async (tx) => {
        await this.replace(tx, updated, current.resource_version);
        await tx.setActivity(name, activity);
        await tx.insertOperation(op);
        await tx.appendAudit({ ...this.audit(ctx, action, name, current.generation, current.generation, 'ok'), detail: JSON.stringify(request) });
      });
      return op;
    });
  }

  /**
   * The dormancy pass's step: `decide` is asked under the lock with the record as it now stands (it may
   * have been resumed since). A warning is kept on the workspace (an event to its watchers) and audited;
   * a deletion is written like a DELETE, without waiting for it. Returns what was done.
   */
  async dormancy(name: string, decide: (ws: WorkspaceRecord) => DormancyStep | undefined, now: () => string): Promise<DormancyStep | undefined> {
    return this.locks.run(name, async () => {
      const current = await this.store.getWorkspace(name);
      if (!current || current.deletion) return undefined;
      const step = decide(current);
      if (!step) return undefined;
      const ctx: ActionContext = { actor: DORMANCY_ACTOR };
      if (step.kind === 'warn') {
        const detail = `dormant: will be deleted at ${step.deletes_at} unless it is resumed or changed before`;
        const warnedAt = now();
        // An operation that is done when written: the event the workspace's watchers (console, `wsm ws watch`) see.
        const op: OperationRecord = {
          ...this.operation(current, 'dormant_warning', ctx, { deletes_at: step.deletes_at }, current.desired_state),
          state: 'succeeded',
          started_at: warnedAt,
          finished_at: warnedAt,
          details: { message: detail },
        };
        await this.store.transaction(async (tx) => {
          await tx.setActivity(name, { ...current.activity, dormancy_warning: { warned_at: warnedAt, deletes_at: step.deletes_at } });
          await tx.insertOperation(op);
          await tx.appendAudit({ ...this.audit(ctx, 'dormant_warning', name, current.generation, current.generation, 'ok'), detail });
        });
        return step;
      }
      const at = new Date().toISOString();
      const updated: WorkspaceRecord = { ...current, deletion: { requested_at: at, delete_volume: step.delete_volume }, resource_version: current.resource_version + 1, updated_at: at };
      const op = this.operation(updated, 'delete', ctx, { delete_volume: step.delete_volume, reason: 'dormant' }, 'deleted');
      await this.store.transaction(async (tx) => {
        await this.replace(tx, updated, current.resource_version);
        await tx.insertOperation(op);
        await tx.appendAudit({ ...this.audit(ctx, 'delete', name, current.generation, current.generation, 'ok'), detail: `dormant since before ${current.activity.dormancy_warning?.warned_at}; volume ${step.delete_volume ? 'deleted' : 'kept'}` });
      });
      return step;
    });
  }

  /** A heartbeat from the workspace (or an agent in it): activity, nothing else. */
  async heartbeat(name: string): Promise<WorkspaceRecord> {
    const ws = await this.store.getWorkspace(name);
    if (!ws || ws.deletion) throw notFound(name);
    await this.activity.record(name, 'heartbeat');
    return ws;
  }

  /** Records a rejected change, so the audit log shows attempts as well as changes. */
  async auditRejection(action: string, workspace: string | undefined, ctx: ActionContext, error: WsmError): Promise<void> {
    await this.store.appendAudit({ ...this.audit(ctx, action, workspace, undefined, undefined, 'error'), detail: `${error.status} ${error.type}: ${error.message}` });
  }

  /** The spec and desired state the action leads to; for a patch also the default image it was merged with. */
  private async nextState(current: WorkspaceRecord, req: ActionRequest): Promise<{ spec: WorkspaceSpec; desired: DesiredState; defaultImage?: string }> {
    switch (req.action) {
      case 'stop':
        return { spec: current.spec, desired: 'stopped' };
      case 'resume':
        return { spec: current.spec, desired: 'running' };
      case 'add_to_ingress':
        return { spec: { ...current.spec, ingress: { ...current.spec.ingress, enabled: true } }, desired: current.desired_state };
      case 'patch': {
        const defaults = await this.clusterDefaults();
        const inheritedEnv = req.update_workspace_settings ? defaults.inheritedEnv : current.spec.inherited_env;
        const { defaultImage } = defaults;
        return { spec: applyPatch(current.spec, req, { inheritedEnv, defaultImage }), desired: current.desired_state, defaultImage };
      }
      default:
        throw new WsmError('unsupported_action', `Unknown action.`);
    }
  }

  private async replace(tx: StoreOps, ws: WorkspaceRecord, expectedVersion: number): Promise<void> {
    if (!(await tx.replaceWorkspace(ws, expectedVersion))) {
      throw new WsmError('conflict', `Workspace ${ws.name} was changed by another request; retry with its current state.`);
    }
  }

  private checkPrecondition(ws: WorkspaceRecord, ctx: ActionContext): void {
    if (ctx.ifMatch === undefined || ctx.ifMatch === '*') return;
    if (ctx.ifMatch !== String(ws.resource_version)) {
      throw new WsmError('precondition_failed', `Workspace ${ws.name} has changed (its ETag is now "${ws.resource_version}", the request said "${ctx.ifMatch}").`);
    }
  }

  /** 403 for a key the caller may not change, or a host path the operator has not allowed (owners too). */
  private checkContainer(clusterType: ClusterType, ctx: ActionContext, current: ContainerConfig, next: ContainerConfig, patch: ContainerConfigPatch): void {
    const denied = configAccessErrors(clusterType, ctx.configAccess ?? 'editor', current, next, patch, this.options.localIsolated ?? false);
    if (denied.length === 0) denied.push(...bindRootErrors(next, this.options.allowedBindRoots ?? []));
    const first = denied[0];
    if (first) throw new WsmError('unauthorized_access', `${first.field}: ${first.message}`, denied);
  }

  /** 400 for a spec that would be stored and then fail to run (too much env, a CPU quota Docker refuses). */
  private checkLimits(clusterType: ClusterType, spec: WorkspaceSpec): void {
    const errors = specLimitErrors(clusterType, spec);
    if (errors.length > 0) throw validationError(errors);
  }

  private async checkScripts(lifecycle: LifecycleConfig): Promise<void> {
    const errors: FieldError[] = [];
    const check = async (field: string, path: string | undefined) => {
      if (!path) return;
      const result = await checkHookPath(this.options.hooksDir, path);
      if (!result.ok) errors.push({ field, message: result.message });
    };
    await check('lifecycle_config.pre_start_script_path', lifecycle.pre_start_script_path);
    await check('lifecycle_config.post_start.hook_path', lifecycle.post_start?.hook_path);
    await check('lifecycle_config.pre_stop.hook_path', lifecycle.pre_stop?.hook_path);
    if (errors.length > 0) throw validationError(errors);
  }

  /** The cluster env a workspace inherits now, and the image a workspace without one runs. */
  private async clusterDefaults() {
    const settings = await this.store.getClusterSettings();
    return {
      inheritedEnv: selectInheritedEnv(settings.env, settings.inherit_patterns),
      defaultImage: settings.default_image ?? this.options.defaultImage,
    };
  }

  private operation(ws: WorkspaceRecord, action: OperationAction, ctx: ActionContext, request: unknown, target: OperationRecord['target_state']): OperationRecord {
    return {
      id: timeOrderedId(),
      workspace: ws.name,
      workspace_uid: ws.uid,
      action,
      actor: ctx.actor,
      request,
      state: 'pending',
      target_generation: ws.generation,
      target_state: target,
      attempts: 0,
      created_at: new Date().toISOString(),
    };
  }

  private audit(ctx: ActionContext, action: string, workspace: string | undefined, before: number | undefined, after: number | undefined, result: AuditEvent['result']): AuditEvent {
    return {
      at: new Date().toISOString(),
      actor: ctx.actor,
      action,
      workspace,
      generation_before: before,
      generation_after: after,
      result,
      request_id: ctx.requestId,
    };
  }

  /** Runs the transaction that writes a new operation, listening for the operation's changes from before it. */
  private async written(op: OperationRecord, ctx: ActionContext, write: (tx: StoreOps) => Promise<void>): Promise<OperationWait> {
    const watch = this.waiter.watch(op);
    try {
      await this.store.transaction(async (tx) => {
        await write(tx);
        await ctx.writeAlongside?.(tx, op);
      });
    } catch (err) {
      watch.cancel();
      throw err;
    }
    return watch;
  }

  private async handOver(name: string, watch: OperationWait, ctx: ActionContext, fallback?: WorkspaceRecord): Promise<ActionResult> {
    const operation = await watch.wait(this.options.actionWaitMs, ctx.signal);
    const workspace = (await this.store.getWorkspace(name)) ?? fallback;
    if (!workspace) throw notFound(name);
    return { workspace, operation };
  }
}
