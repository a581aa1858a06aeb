// --wait: polls an operation until it succeeds or fails. On a terminal one line on stderr shows where
// it is (the operation's state, the workspace's status, the time so far), rewritten in place; piped,
// nothing is said on the way, so scripts get only the outcome.
import type { ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';

export interface OperationView {
  id: string;
  workspace?: string;
  action: string;
  actor?: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed';
  error: string | null;
  attempts: number;
  details: Record<string, unknown> | null;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
}

const settled = (op: OperationView) => op.state === 'succeeded' || op.state === 'failed';

/** The progress line; a no-op off a terminal. */
class ProgressLine {
  private shown = false;
  constructor(private readonly stream: NodeJS.WriteStream, private readonly on: boolean) {}
  show(text: string): void {
    if (!this.on) return;
    this.stream.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }
  done(): void {
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}

export async function follow(client: ApiClient, op: OperationView, label: string, timeoutSeconds: number, workspacePath?: string, intervalMs = 500): Promise<OperationView> {
  const start = Date.now();
  const line = new ProgressLine(process.stderr, Boolean(process.stderr.isTTY));
  // The workspace's status is the phase a person wants to see; it costs a request, so only on a terminal.
  const phaseOf = async (): Promise<string | undefined> => {
    if (!process.stderr.isTTY || !workspacePath) return undefined;
    const answer = await client.request<{ workspace: { instance: { status: string } } }>('GET', workspacePath).catch(() => undefined);
    return answer?.workspace.instance.status;
  };
  let current = op;
  try {
    for (;;) {
      if (settled(current)) return current;
      const phase = await phaseOf();
      const retrying = current.error ? ` (retrying: ${current.error})` : '';
      line.show(`${label}: ${current.state}${phase ? `, workspace ${phase}` : ''}${retrying}, ${Math.round((Date.now() - start) / 1000)}s`);
      if (Date.now() - start > timeoutSeconds * 1000) {
        throw new CliError(`${label}: still ${current.state} after ${timeoutSeconds}s; the operation ${current.id} goes on (see \`wsm workspaces logs\`)`, EXIT.failed);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
      current = (await client.request<{ operation: OperationView }>('GET', `/api/operations/${encodeURIComponent(current.id)}`)).operation;
    }
  } finally {
    line.done();
  }
}
