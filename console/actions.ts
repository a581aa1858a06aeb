// The workspace actions, each shown as a notice that follows its operation to its outcome.
import { ApiError, api, wsPath } from './api.js';
import { ACTION_VERB } from './format.js';
import { notify, type Notice } from './notices.js';
import { publish, subscribe } from './state.js';
import type { Operation, Workspace } from './types.js';

const following = new Map<string, { notice: Notice; label: string }>();

// The stream may report an operation settled before the request that started it has answered.
const recent = new Map<string, Operation>();

subscribe(({ operation }) => {
  if (!operation) return;
  recent.set(operation.id, operation);
  if (recent.size > 200) recent.delete(recent.keys().next().value!);
  settle(operation);
});

function settle(op: Operation): void {
  const f = following.get(op.id);
  if (!f) return;
  if (op.state === 'succeeded') {
    f.notice.update(`${f.label}: done.`, 'ok');
    following.delete(op.id);
  } else if (op.state === 'failed') {
    f.notice.update(`${f.label} failed: ${op.error ?? 'no reason given'}`, 'bad');
    following.delete(op.id);
  } else if (op.error) {
    f.notice.update(`${f.label}: retrying (${op.error})`, 'busy');
  }
}

interface ActionAnswer {
  workspace: Workspace;
  operation: Operation | null;
}

/**
 * Sends an action and follows it. Returns the answer, or throws the ApiError after showing it;
 * callers that show errors in place (the YAML editor) pass quiet.
 */
export async function runAction(name: string, action: string, body: Record<string, unknown> = {}, opts: { quiet?: boolean; query?: string } = {}): Promise<ActionAnswer> {
  const [ing, ed] = ACTION_VERB[action] ?? [action, action];
  const label = `${ing} ${name}`;
  const notice = notify(`${label}…`, 'busy');
  try {
    const answer =
      action === 'delete'
        ? await api<ActionAnswer>('DELETE', `${wsPath(name)}${opts.query ?? ''}`)
        : action === 'create'
          ? await api<ActionAnswer>('POST', '/api/workspaces', { workspace: { name, ...body } })
          : await api<ActionAnswer>('PUT', wsPath(name), { workspace: { action, ...body } });
    publish({ workspace: answer.workspace });
    const op = answer.operation;
    if (op) {
      following.set(op.id, { notice, label: `${capital(action)} ${name}` });
      notice.update(`${label}… (${op.state})`, 'busy');
      settle(op);
      const seen = recent.get(op.id);
      if (seen) settle(seen);
    } else {
      notice.update(`${name} ${ed}.`, 'ok');
    }
    return answer;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // A form that shows the errors next to its fields says it better than a notice.
    if (opts.quiet && err instanceof ApiError && err.status === 400) notice.remove();
    else notice.update(`${label} failed: ${message}`, 'bad');
    if (err instanceof ApiError) throw err;
    throw new ApiError(0, 'error', message);
  }
}

const capital = (action: string) => {
  const words = action.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
};
