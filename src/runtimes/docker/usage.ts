// A container's cumulative CPU time and network bytes, from one non-streaming stats read.
import type Docker from 'dockerode';
import type { UsageSample } from '../../core/usage.js';
import { isNotFound } from './errors.js';

interface StatsBody {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
}

export async function containerUsage(docker: Docker, containerName: string, signal?: AbortSignal): Promise<UsageSample | undefined> {
  let stats: StatsBody;
  try {
    // one-shot: answer at once instead of waiting for a second CPU reading (engine API 1.41+).
    const options = { stream: false, 'one-shot': true, ...(signal ? { abortSignal: signal } : {}) } as { stream: false };
    stats = (await docker.getContainer(containerName).stats(options)) as StatsBody;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const total = stats.cpu_stats?.cpu_usage?.total_usage;
  // A stopped container answers with zeroed counters and no read time worth having.
  if (!total) return undefined;
  const networks = Object.values(stats.networks ?? {});
  const at = stats.read ? Date.parse(stats.read) : NaN;
  return {
    at: Number.isFinite(at) ? at : Date.now(),
    cpu_seconds: total / 1e9,
    net_bytes: networks.length > 0 ? networks.reduce((sum, n) => sum + (n.rx_bytes ?? 0) + (n.tx_bytes ?? 0), 0) : undefined,
  };
}
