// The HTTP client of the CLI: the API's URL and token from flags or the environment, JSON in
// and out, server-sent events, and every failure turned into a CliError with the API's message and
// exit code.
import { resolveToken, type ResolvedToken, type TokenFlags } from './credentials.js';
import { CliError, EXIT, exitCodeForStatus } from './errors.js';
import { readEvents, type ServerEvent } from './sse.js';

export const DEFAULT_URL = 'http://127.0.0.1:6789';

export interface ConnectionFlags extends TokenFlags {
  url?: string;
}

interface ApiErrorBody {
  error?: { code?: number; type?: string; message?: string; errors?: { field: string; message: string }[] };
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly token?: ResolvedToken;

  constructor(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env) {
    this.baseUrl = (flags.url ?? env.WSM_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]/.test(this.baseUrl)) throw new CliError(`--url/WSM_URL must start with http:// or https:// (got "${this.baseUrl}")`, EXIT.usage);
    this.token = resolveToken(flags, this.baseUrl, env);
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return this.token ? { ...extra, 'OAUTH-TOKEN': this.token.secret } : extra;
  }

  private async send(method: string, path: string, init: { headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<Response> {
    try {
      return await fetch(this.baseUrl + path, { method, headers: this.headers(init.headers), body: init.body, signal: init.signal });
    } catch (err) {
      if (init.signal?.aborted) throw err;
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
      throw new CliError(`cannot reach the wsm server at ${this.baseUrl} (${cause}); set --url or WSM_URL`, EXIT.unreachable);
    }
  }

  private async failure(res: Response): Promise<CliError> {
    let e: ApiErrorBody['error'];
    try {
      e = (JSON.parse(await res.text()) as ApiErrorBody).error;
    } catch {
      e = undefined;
    }
    const message = e?.message ?? `the server answered ${res.status} ${res.statusText}`;
    const details = (e?.errors ?? []).filter((f) => !message.startsWith(`${f.field}: `) || (e?.errors?.length ?? 0) > 1).map((f) => `${f.field}: ${f.message}`);
    let hint = '';
    if (res.status === 401) {
      hint = this.token
        ? ` (the token from ${this.token.source} was refused)`
        : ' (give a token with --token, WSM_TOKEN or --token-file; on the server\'s machine the CLI reads the owner token wsm wrote to <data-dir>/owner-token at first start)';
    }
    return new CliError(message + hint, exitCodeForStatus(res.status), details);
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.send(method, path, { headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
    if (!res.ok) throw await this.failure(res);
    const text = await res.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new CliError(`the server at ${this.baseUrl} answered ${method} ${path} with something that is not JSON`, EXIT.unreachable);
    }
  }

  /**
   * The server's event stream (GET /api/events) from now on. The first item is `connected`: from then
   * on no change is missed, so a caller reads the current state after it, not before.
   */
  async *events(signal: AbortSignal, lastEventId?: string): AsyncGenerator<ServerEvent> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const res = await this.send('GET', '/api/events', { headers, signal });
    if (!res.ok) throw await this.failure(res);
    yield* readEvents(res, signal);
  }
}
