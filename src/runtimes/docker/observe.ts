// What a container's inspect data means as a workspace instance status.
import type Docker from 'dockerode';
import type { ObservedInstance, RuntimeWorkspace } from '../../core/runtime.js';
import { describeTermination, terminationOf } from '../../core/termination.js';
import { GENERATION_LABEL, HASH_LABEL, containerName, workspacePort } from './spec.js';

export interface PreStartFailure {
  exitCode: number;
  message: string;
}

export interface ObserveContext {
  /** Where published ports can be reached. */
  advertiseAddress: string;
  /** The hash the workspace's current spec gives; a container with it runs the current generation. */
  currentHash: string;
  /** The failure recorded by the pre-start wrapper, read from a stopped container. */
  preStartFailure?: PreStartFailure;
  /** The container runs but its pre-start script has not finished yet. */
  preStartRunning?: boolean;
  /** The last lines of an ended container's log. */
  logTail?: string;
}

export function publishedPort(info: Docker.ContainerInspectInfo, port: number): string | undefined {
  const bindings = info.NetworkSettings?.Ports?.[`${port}/tcp`];
  return bindings?.find((b) => b.HostPort)?.HostPort;
}

function generationOf(info: Docker.ContainerInspectInfo, ws: RuntimeWorkspace, currentHash: string): number | undefined {
  const labels = info.Config?.Labels ?? {};
  // Labels cannot change after create: a spec change that leaves the container as it is (say, an
  // idle timeout) is still "applied" when the container's hash matches the current spec.
  if (labels[HASH_LABEL] === currentHash) return ws.generation;
  const n = Number(labels[GENERATION_LABEL]);
  return Number.isInteger(n) ? n : undefined;
}

export function missingInstance(ws: RuntimeWorkspace): ObservedInstance {
  return {
    status: 'UNAVAILABLE',
    instance_type: 'docker',
    message: `container ${containerName(ws.name)} not found`,
    conditions: [{ type: 'Ready', status: 'False', reason: 'ContainerMissing', message: `container ${containerName(ws.name)} not found` }],
  };
}

export function toObserved(info: Docker.ContainerInspectInfo, ws: RuntimeWorkspace, ctx: ObserveContext): ObservedInstance {
  const state = info.State;
  const base: ObservedInstance = {
    status: 'UNKNOWN',
    generation: generationOf(info, ws, ctx.currentHash),
    instance_type: 'docker',
    instance_name: info.Name?.replace(/^\//, '') || containerName(ws.name),
  };

  switch (state.Status) {
    case 'running': {
      if (ctx.preStartRunning) {
        return {
          ...base,
          status: 'PENDING',
          message: 'the pre-start script is running',
          conditions: [{ type: 'PreStart', status: 'Unknown', reason: 'Running', message: 'the pre-start script is running' }],
        };
      }
      const port = publishedPort(info, workspacePort(ws));
      const ip = port ? `${ctx.advertiseAddress}:${port}` : undefined;
      return {
        ...base,
        status: 'RUNNING',
        ip,
        url: ws.container.public_url ?? (port ? `http://${ctx.advertiseAddress}:${port}` : undefined),
        conditions: [{ type: 'Ready', status: 'True', reason: 'Running' }],
      };
    }
    case 'restarting': {
      const failure = ctx.preStartFailure;
      const message = failure?.message ?? `restarting after exit code ${state.ExitCode}`;
      return {
        ...base,
        status: 'PENDING',
        exit_code: state.ExitCode,
        message,
        conditions: [
          failure
            ? { type: 'PreStartFailed', status: 'True', reason: 'PreStartFailed', message }
            : { type: 'Ready', status: 'False', reason: 'Restarting', message },
        ],
      };
    }
    case 'exited':
    case 'dead': {
      const finished = state.FinishedAt && !state.FinishedAt.startsWith('0001-') ? new Date(state.FinishedAt).toISOString() : new Date().toISOString();
      if (ws.desired === 'stopped') {
        return { ...base, status: 'STOPPED', exit_code: state.ExitCode, conditions: [{ type: 'Ready', status: 'False', reason: 'Stopped' }] };
      }
      const failure = ctx.preStartFailure;
      if (failure) {
        return {
          ...base,
          status: 'FAILED',
          exit_code: failure.exitCode,
          message: failure.message,
          conditions: [{ type: 'PreStartFailed', status: 'True', reason: 'PreStartFailed', message: failure.message }],
          termination: terminationOf({ exit_code: failure.exitCode, finished_at: finished, log_tail: failure.message, reason: 'PreStartFailed' }),
        };
      }
      const termination = terminationOf({ exit_code: state.ExitCode, oom_killed: state.OOMKilled, finished_at: finished, log_tail: ctx.logTail });
      const message = describeTermination(termination);
      return {
        ...base,
        status: 'FAILED',
        exit_code: state.ExitCode,
        message,
        conditions: [{ type: 'Ready', status: 'False', reason: termination.reason, message }],
        termination,
      };
    }
    case 'created':
      return ws.desired === 'stopped'
        ? { ...base, status: 'STOPPED', conditions: [{ type: 'Ready', status: 'False', reason: 'Stopped' }] }
        : { ...base, status: 'PENDING', message: 'container created, not started', conditions: [{ type: 'Ready', status: 'False', reason: 'Created' }] };
    case 'removing':
      return { ...base, status: 'DELETING', conditions: [{ type: 'Ready', status: 'False', reason: 'Removing' }] };
    case 'paused':
      return {
        ...base,
        status: 'UNKNOWN',
        message: 'container is paused',
        conditions: [{ type: 'Ready', status: 'False', reason: 'Paused', message: 'container is paused' }],
      };
    default:
      return { ...base, message: `container state ${state.Status}` };
  }
}
