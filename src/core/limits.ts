// The bounds of every number, size and count a workspace's spec may hold. A value past them would be
// stored and then fail where it is used (Docker keeps sizes in int64 and refuses a CPU quota under
// 1 ms, Linux refuses to start a process whose environment is too big with E2BIG), so the API refuses
// it first. docs/container-config.md lists them; keep the two in step.
import type { FieldError } from './errors.js';
import type { ClusterType, WorkspaceSpec } from './types.js';
import { quantityValue } from './quantity.js';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const TiB = 2 ** 40;

export interface QuantityBound {
  min: number;
  max: number;
  /** Extended resources (nvidia.com/gpu) are counted in whole units. */
  whole?: boolean;
  /** The range as a person writes it, for messages. */
  help: string;
}

export const CPU_BOUND: QuantityBound = { min: 0.001, max: 256, help: 'from 1m to 256 (cores)' };
/** Docker refuses a memory limit or reservation under 6 MB. */
export const MEMORY_BOUND: QuantityBound = { min: 6 * MiB, max: 64 * TiB, help: 'from 6Mi to 64Ti' };
/** ephemeral-storage, storage and hugepages-*: bytes. */
export const BYTES_BOUND: QuantityBound = { min: 0, max: 64 * TiB, help: 'from 0 to 64Ti' };
/** nvidia.com/gpu and every other extended resource: a count. */
export const COUNT_BOUND: QuantityBound = { min: 0, max: 1024, whole: true, help: 'a whole number from 0 to 1024' };
/** storage_request_size: the workspace's persistent volume. */
export const STORAGE_SIZE_BOUND: QuantityBound = { min: MiB, max: 64 * TiB, help: 'from 1Mi to 64Ti' };
/** Docker's CPU quota cannot be less than 1 ms in each 100 ms period. */
export const DOCKER_CPU_LIMIT_MIN = 0.01;

export const LIMITS = {
  /** Variables in a workspace's environment, inherited ones included. */
  envVars: 1000,
  /** Linux refuses a single NAME=value (or argument) longer than 128 KiB (MAX_ARG_STRLEN). */
  envValueBytes: 128 * KiB,
  /**
   * The environment (inherited and own) plus command and args, as the process that starts the
   * workspace receives them. Linux's ARG_MAX is usually 2 MiB; 128 KiB leaves room for what the
   * image and the runtime add, and is more than any workspace needs.
   */
  execBytes: 128 * KiB,
  /** Entries of labels, annotations, nodeSelector, tolerations, image_pull_secrets and volumes. */
  entries: 256,
  /** Kubernetes refuses an object whose annotations add up to more than 256 KiB. */
  annotationBytes: 256 * KiB,
  /** working_dir and the paths of volumes. */
  pathBytes: 4096,
  publicUrlBytes: 2048,
  /** affinity as JSON. */
  affinityBytes: 64 * KiB,
  /** tolerationSeconds: Kubernetes keeps it in an int64; a year is more than any eviction waits. */
  tolerationSeconds: 31_536_000,
} as const;

/** The bound of a resource by its name. */
export function resourceBound(name: string): QuantityBound {
  if (name === 'cpu') return CPU_BOUND;
  if (name === 'memory') return MEMORY_BOUND;
  if (name === 'ephemeral-storage' || name === 'storage' || name.startsWith('hugepages-')) return BYTES_BOUND;
  return COUNT_BOUND;
}

/** Why a quantity is out of its bound, or undefined when it is within. Assumes `text` is a quantity. */
export function quantityOutOfBound(text: string, bound: QuantityBound): string | undefined {
  const value = quantityValue(text);
  if (value === undefined || !Number.isFinite(value)) return `must be ${bound.help}; "${clip(text)}" is not a finite quantity.`;
  if (value < bound.min || value > bound.max) return `must be ${bound.help}, not ${clip(text)}.`;
  if (bound.whole && !Number.isInteger(value)) return `must be ${bound.help}, not ${clip(text)}.`;
  return undefined;
}

export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/**
 * The limits that only the whole spec can be held to: the environment with the inherited variables,
 * together with the command; and what depends on the cluster type. Checked on create and on every patch.
 */
export function specLimitErrors(clusterType: ClusterType, spec: WorkspaceSpec): FieldError[] {
  const errors: FieldError[] = [];
  const c = spec.container;
  // The workspace's own value of a name replaces the inherited one.
  const env = [...new Map([...spec.inherited_env, ...(c.env ?? [])].map((v) => [v.name, v.value] as const))].map(([name, value]) => ({ name, value }));
  if (env.length > LIMITS.envVars) {
    errors.push({
      field: 'container_config.env',
      message: `the workspace would have ${env.length} variables (${spec.inherited_env.length} inherited from the cluster settings); at most ${LIMITS.envVars} are allowed.`,
    });
  }
  // Each string reaches the process NUL-terminated.
  const envBytes = env.reduce((n, v) => n + byteLength(v.name) + byteLength(v.value) + 2, 0);
  const words = [...(c.command ?? []), ...(c.args ?? [])];
  const commandBytes = words.reduce((n, w) => n + byteLength(w) + 1, 0);
  if (envBytes + commandBytes > LIMITS.execBytes) {
    const field = commandBytes > envBytes ? 'container_config.command' : 'container_config.env';
    errors.push({
      field,
      message:
        `the environment (${envBytes} bytes, inherited variables included) and command and args (${commandBytes} bytes) ` +
        `add up to ${envBytes + commandBytes} bytes; at most ${LIMITS.execBytes} (128 KiB) are allowed, since a process cannot be started with more.`,
    });
  }
  const postStart = spec.lifecycle.post_start?.command ?? [];
  const postStartBytes = postStart.reduce((n, w) => n + byteLength(w) + 1, 0);
  if (postStart.length > 0 && postStartBytes + envBytes > LIMITS.execBytes) {
    errors.push({
      field: 'lifecycle_config.post_start.command',
      message: `with the environment (${envBytes} bytes) it adds up to ${postStartBytes + envBytes} bytes; at most ${LIMITS.execBytes} (128 KiB) are allowed.`,
    });
  }
  const cpuLimit = c.resources?.limits?.cpu;
  if (clusterType === 'docker' && cpuLimit !== undefined && (quantityValue(cpuLimit) ?? 0) < DOCKER_CPU_LIMIT_MIN) {
    errors.push({ field: 'container_config.resources.limits.cpu', message: `must be at least 10m on Docker (its CPU quota cannot be less than 1 ms in 100 ms), not ${cpuLimit}.` });
  }
  return errors;
}
