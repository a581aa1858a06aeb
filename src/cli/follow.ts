// --wait: polls an operation until it succeeds or fails, with one progress line on stderr
// (rewritten in place on a terminal, a new line per change otherwise).
import type { ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';

export interface OperationView {
  id: string;
  workspace?: string;
  action: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed';
  error: string | null;
  attempts: number;
  details: Record<string, unknown> | null;
}

export async function follow(client: ApiClient, op: OperationView, label: string, timeoutSeconds: number, intervalMs = 500): Promise<OperationView> {
  const tty = process.stderr.isTTY;
  const start = Date.now();
  let last = '';
  const show = (o: OperationView) => {
    const line = `${label}: ${o.state}${o.error && o.state !== 'failed' ? ` (retrying: ${o.error})` : ''}`;
    const elapsed = Math.round((Date.now() - start) / 1000);
    if (tty) process.stderr.write(`\r\x1b[2K${line} ${elapsed}s`);
    // Off a terminal the outcome is printed once, on stdout; stderr gets the states on the way.
    else if (line !== last && o.state !== 'succeeded' && o.state !== 'failed') process.stderr.write(`${line}\n`);
    last = line;
  };
  let current = op;
  for (;;) {
    show(current);
    if (current.state === 'succeeded' || current.state === 'failed') break;
    if (Date.now() - start > timeoutSeconds * 1000) {
      if (tty) process.stderr.write('\n');
      throw new CliError(`${label}: still ${current.state} after ${timeoutSeconds}s; the operation ${current.id} goes on (see \`wsm workspaces logs\`)`, EXIT.failed);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
    current = (await client.request<{ operation: OperationView }>('GET', `/api/operations/${encodeURIComponent(current.id)}`)).operation;
  }
  if (tty) process.stderr.write('\n');
  return current;
}
