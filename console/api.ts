// fetch() against the wsm API with the session cookie; failures become ApiError carrying the
// API's own message and field errors, which is what the page shows.
import type { FieldError } from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'unreachable', 'The wsm server cannot be reached; check that it is running.');
  }
  const text = await res.text();
  let parsed: any;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const e = parsed?.error;
    if (e && typeof e.message === 'string') throw new ApiError(res.status, String(e.type ?? 'error'), e.message, Array.isArray(e.errors) ? e.errors : []);
    throw new ApiError(res.status, 'http_error', `The server answered ${res.status} ${res.statusText}.`);
  }
  return parsed as T;
}

export const wsPath = (name: string) => `/api/workspaces/${encodeURIComponent(name)}`;
