// The HTTP client of the CLI: the API's URL and token from flags or the environment, JSON in
// and out, and every failure turned into a CliError with the API's message and exit code.
import { CliError, EXIT, exitCodeForStatus } from './errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:6789';

export interface ConnectionFlags {
  url?: string;
  token?: string;
}

interface ApiErrorBody {
  error?: { code?: number; type?: string; message?: string; errors?: { field: string; message: string }[] };
}

export class ApiClient {
  readonly baseUrl: string;
  private readonly token?: string;

  constructor(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env) {
    this.baseUrl = (flags.url ?? env.WSM_URL ?? DEFAULT_URL).replace(/\/+$/, '');
    this.token = flags.token ?? env.WSM_TOKEN ?? env.WSM_ADMIN_TOKEN;
    if (!/^https?:\/\//.test(this.baseUrl)) throw new CliError(`--url/WSM_URL must start with http:// or https:// (got "${this.baseUrl}")`, EXIT.usage);
  }

  async request<T = any>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers['OAUTH-TOKEN'] = this.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
      throw new CliError(`cannot reach the wsm server at ${this.baseUrl} (${cause}); set --url or WSM_URL`, EXIT.unreachable);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const e = (parsed as ApiErrorBody | undefined)?.error;
      const message = e?.message ?? `the server answered ${res.status} ${res.statusText}`;
      const details = (e?.errors ?? []).filter((f) => !message.startsWith(`${f.field}: `) || (e?.errors?.length ?? 0) > 1).map((f) => `${f.field}: ${f.message}`);
      const hint = res.status === 401 && !this.token ? ' (give a token with --token or WSM_TOKEN)' : '';
      throw new CliError(message + hint, exitCodeForStatus(res.status), details);
    }
    return parsed as T;
  }
}
