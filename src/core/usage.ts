// Resource use as an activity signal: a workspace whose own CPU or network use between two samples
// crosses a threshold is busy, whatever its other signals say (a long computation, a download).
// Thresholds keep background noise (a health check, an idle kernel) from counting as activity.

/** Cumulative counters read from the engine at one moment. */
export interface UsageSample {
  /** Milliseconds since the epoch. */
  at: number;
  /** CPU time used since the instance started, in seconds. */
  cpu_seconds?: number;
  /** Bytes received plus sent since the instance started. */
  net_bytes?: number;
}

export interface UsageThresholds {
  /** CPU seconds per second (a fraction of one core) above which the workspace is busy; 0 = off. */
  cpu_cores: number;
  /** Network bytes per second above which the workspace is busy; 0 = off. */
  net_bytes_per_second: number;
}

export const DEFAULT_USAGE_THRESHOLDS: UsageThresholds = { cpu_cores: 0.1, net_bytes_per_second: 10_240 };

export interface UsageActivity {
  source: 'cpu' | 'network';
  /** The rate seen, in the threshold's unit. */
  rate: number;
}

/**
 * Which signal, if any, the use between two samples amounts to. Counters that went down mean the
 * instance restarted in between: nothing can be concluded from that pair.
 */
export function usageActivity(prev: UsageSample, next: UsageSample, thresholds: UsageThresholds): UsageActivity | undefined {
  const seconds = (next.at - prev.at) / 1000;
  if (!(seconds > 0)) return undefined;
  const rate = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b < a ? undefined : (b - a) / seconds);
  const cpu = rate(prev.cpu_seconds, next.cpu_seconds);
  if (thresholds.cpu_cores > 0 && cpu !== undefined && cpu > thresholds.cpu_cores) return { source: 'cpu', rate: cpu };
  const net = rate(prev.net_bytes, next.net_bytes);
  if (thresholds.net_bytes_per_second > 0 && net !== undefined && net > thresholds.net_bytes_per_second) return { source: 'network', rate: net };
  return undefined;
}
