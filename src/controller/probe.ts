// The activity probe: asks the workspace itself when a person or the scheduler last used it, Mage's
// way (GET /api/statuses?_format=with_activity_details). The path and the JSON fields are settings per
// cluster type, for images that report activity elsewhere. A probe never throws: a failure is a result.
import http from 'node:http';
import type { HttpAnswer } from '../core/runtime.js';
import type { ClusterType } from '../core/types.js';

export interface ProbeFields {
  /** Dotted paths into the JSON body; a path that does not resolve is also tried as a top-level key. */
  last_user_request: string;
  last_scheduler_activity: string;
  active_pipeline_run_count: string;
}

export interface ProbeSettings {
  /** Path and query on the workspace's address; empty turns the probe off. */
  path: string;
  fields: ProbeFields;
  timeoutMs: number;
}

export const DEFAULT_PROBE: ProbeSettings = {
  path: '/api/statuses?_format=with_activity_details',
  // Mage answers {"statuses": [{...}]}.
  fields: {
    last_user_request: 'statuses.0.last_user_request',
    last_scheduler_activity: 'statuses.0.last_scheduler_activity',
    active_pipeline_run_count: 'statuses.0.active_pipeline_run_count',
  },
  timeoutMs: 5_000,
};

export type ProbeResult =
  | { ok: true; lastActivityMs?: number; activeRuns: number }
  | { ok: false; error: string };

function lookup(body: unknown, path: string): unknown {
  let at: unknown = body;
  for (const key of path.split('.')) {
    at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined;
  }
  if (at === undefined && body !== null && typeof body === 'object') {
    const last = path.split('.').at(-1)!;
    return (body as Record<string, unknown>)[last];
  }
  return at;
}

/** ISO 8601 (a time without a zone is UTC, as Mage writes them), or epoch seconds / milliseconds. */
export function parseTime(value: unknown): number | undefined | 'invalid' {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? (value < 1e11 ? value * 1000 : value) : 'invalid';
  if (typeof value !== 'string') return 'invalid';
  if (/^\d+(\.\d+)?$/.test(value)) return parseTime(Number(value));
  const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? 'invalid' : ms;
}

/** Reads a probe answer. Pure, so the parsing is tested without a server. */
export function readProbeBody(body: unknown, fields: ProbeFields): ProbeResult {
  if (body === null || typeof body !== 'object') return { ok: false, error: 'the probe answer is not a JSON object' };
  let lastActivityMs: number | undefined;
  for (const field of [fields.last_user_request, fields.last_scheduler_activity]) {
    const t = parseTime(lookup(body, field));
    if (t === 'invalid') return { ok: false, error: `${field} in the probe answer is not a time` };
    if (t !== undefined && (lastActivityMs === undefined || t > lastActivityMs)) lastActivityMs = t;
  }
  const rawRuns = lookup(body, fields.active_pipeline_run_count);
  const activeRuns = rawRuns === undefined || rawRuns === null ? 0 : Number(rawRuns);
  if (!Number.isFinite(activeRuns) || activeRuns < 0) return { ok: false, error: `${fields.active_pipeline_run_count} in the probe answer is not a count` };
  return { ok: true, lastActivityMs, activeRuns };
}

/** A GET of a path inside the workspace made by its runtime (Kubernetes: the API server's pod proxy). */
export type WorkspaceHttpGet = (path: string, timeoutMs: number) => Promise<HttpAnswer>;

function readAnswer(answer: HttpAnswer, what: string, fields: ProbeFields): ProbeResult {
  if (answer.status !== 200) return { ok: false, error: `${what} answered HTTP ${answer.status}` };
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    return { ok: false, error: `${what} did not answer JSON` };
  }
  return readProbeBody(body, fields);
}

/**
 * The probe through the workspace's runtime, for addresses the control plane cannot reach (a pod's
 * ClusterIP). `what` names the target in errors. Never rejects, and is bounded by the probe's timeout
 * even if the runtime's request is not.
 */
export async function probeVia(get: WorkspaceHttpGet, what: string, settings: ProbeSettings): Promise<ProbeResult> {
  const path = settings.path.startsWith('/') ? settings.path : `/${settings.path}`;
  const target = `${path} of ${what}`;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `no answer from ${target} within ${settings.timeoutMs} ms` }), settings.timeoutMs);
  });
  const asked = get(path, settings.timeoutMs).then(
    (answer) => readAnswer(answer, target, settings.fields),
    (err: unknown): ProbeResult => ({ ok: false, error: `${target}: ${(err as Error).message}` }),
  );
  try {
    return await Promise.race([asked, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** GETs the probe path on `address` (host:port) and reads it. Never rejects. */
export function probeWorkspace(address: string, settings: ProbeSettings): Promise<ProbeResult> {
  const url = `http://${address}${settings.path.startsWith('/') ? '' : '/'}${settings.path}`;
  return new Promise((resolve) => {
    let done = false;
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    let req: http.ClientRequest;
    // A hard deadline for the whole exchange: a workspace that trickles bytes must not hold a slot.
    const timer = setTimeout(() => {
      req?.destroy();
      finish({ ok: false, error: `no answer from ${url} within ${settings.timeoutMs} ms` });
    }, settings.timeoutMs);
    try {
      req = http.get(url, { headers: { accept: 'application/json' }, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) {
            req.destroy();
            finish({ ok: false, error: `the answer of ${url} is larger than 1 MiB` });
          } else chunks.push(c);
        });
        res.on('end', () => finish(readAnswer({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }, url, settings.fields)));
        res.on('error', (err) => finish({ ok: false, error: `${url}: ${err.message}` }));
      });
      req.on('error', (err) => finish({ ok: false, error: `${url}: ${err.message}` }));
    } catch (err) {
      finish({ ok: false, error: `${url}: ${(err as Error).message}` });
    }
  });
}

/**
 * Probe settings per cluster type from the environment: WSM_PROBE_PATH, WSM_PROBE_FIELDS (JSON with
 * any of the three field paths), WSM_PROBE_TIMEOUT_SECONDS, each also as WSM_PROBE_<TYPE>_... (LOCAL,
 * DOCKER, K8S) to differ per cluster type. An empty path turns the probe off for that type.
 */
export function probeSettingsFromEnv(env: Record<string, string | undefined>, types: readonly ClusterType[]): Map<ClusterType, ProbeSettings> {
  const out = new Map<ClusterType, ProbeSettings>();
  for (const type of types) {
    const get = (key: string) => env[`WSM_PROBE_${type.toUpperCase()}_${key}`] ?? env[`WSM_PROBE_${key}`];
    const fieldsRaw = get('FIELDS');
    let fields = DEFAULT_PROBE.fields;
    if (fieldsRaw) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(fieldsRaw);
      } catch {
        throw new Error(`WSM_PROBE_FIELDS must be a JSON object of field paths (got ${JSON.stringify(fieldsRaw)})`);
      }
      fields = { ...fields, ...(parsed as Partial<ProbeFields>) };
    }
    const timeout = Number(get('TIMEOUT_SECONDS') ?? DEFAULT_PROBE.timeoutMs / 1000);
    if (!Number.isFinite(timeout) || timeout <= 0) throw new Error('WSM_PROBE_TIMEOUT_SECONDS must be a positive number of seconds');
    out.set(type, { path: get('PATH') ?? DEFAULT_PROBE.path, fields, timeoutMs: timeout * 1000 });
  }
  return out;
}
