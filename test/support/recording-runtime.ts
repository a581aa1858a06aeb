// A runtime for tests of several replicas: it keeps each workspace's state in a file of a directory the
// replicas share (as an engine would keep it), does nothing else, and appends every call that changes
// something to `calls.log`, one JSON line with the caller's pid. A call that finds the state already
// as asked changes nothing and is not logged, as starting a running container does nothing: so the
// log shows each start, stop, recreate and removal the engine really carried out, and by whom.
import { appendFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ObservedInstance, Runtime, RuntimeWorkspace } from '../../src/core/runtime.js';
import type { ClusterType, DesiredState } from '../../src/core/types.js';

interface Kept {
  generation: number;
  desired: DesiredState;
}

export interface RecordedCall {
  pid: number;
  call: 'apply' | 'remove';
  name: string;
  generation?: number;
  desired?: DesiredState;
}

export function readCalls(dir: string): RecordedCall[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'calls.log'), 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as RecordedCall);
}

export class RecordingRuntime implements Runtime {
  readonly supportsIngress = false;

  constructor(
    private readonly dir: string,
    readonly clusterType: ClusterType = 'local',
  ) {
    mkdirSync(join(dir, 'state'), { recursive: true });
  }

  private file(name: string): string {
    return join(this.dir, 'state', `${name}.json`);
  }

  private read(name: string): Kept | undefined {
    try {
      return JSON.parse(readFileSync(this.file(name), 'utf8')) as Kept;
    } catch {
      return undefined;
    }
  }

  /** The log line first: a process killed between the two has logged a change the state may lack, never the reverse. */
  private record(call: Omit<RecordedCall, 'pid'>): void {
    appendFileSync(join(this.dir, 'calls.log'), `${JSON.stringify({ pid: process.pid, ...call })}\n`);
  }

  async apply(ws: RuntimeWorkspace, signal: AbortSignal): Promise<ObservedInstance> {
    signal.throwIfAborted();
    const kept = this.read(ws.name);
    if (kept?.generation !== ws.generation || kept.desired !== ws.desired) {
      this.record({ call: 'apply', name: ws.name, generation: ws.generation, desired: ws.desired });
      const temp = `${this.file(ws.name)}.${process.pid}`;
      writeFileSync(temp, JSON.stringify({ generation: ws.generation, desired: ws.desired }));
      renameSync(temp, this.file(ws.name));
    }
    return this.observe(ws, signal);
  }

  async observe(ws: RuntimeWorkspace, signal: AbortSignal): Promise<ObservedInstance> {
    signal.throwIfAborted();
    const kept = this.read(ws.name);
    if (!kept) return { status: 'UNAVAILABLE', message: 'not created', instance_name: ws.name };
    return { status: kept.desired === 'running' ? 'RUNNING' : 'STOPPED', generation: kept.generation, instance_name: ws.name, instance_type: 'recorded' };
  }

  async remove(ws: RuntimeWorkspace, _options: unknown, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (!this.read(ws.name)) return;
    this.record({ call: 'remove', name: ws.name });
    rmSync(this.file(ws.name), { force: true });
  }

  async close(): Promise<void> {}
}
