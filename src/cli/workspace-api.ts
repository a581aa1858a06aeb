// The workspace reads the commands share: every page of the list, and one workspace or none.
import type { ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';
import type { WorkspaceView } from './workspace-view.js';

export const workspacePath = (name: string) => `/api/workspaces/${encodeURIComponent(name)}`;

/** Every page of the list; `query` holds the filters. */
export async function listWorkspaces(client: ApiClient, query = new URLSearchParams()): Promise<WorkspaceView[]> {
  const q = new URLSearchParams(query);
  q.set('limit', '1000');
  const all: WorkspaceView[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    q.set('offset', String(offset));
    const page: { workspaces: WorkspaceView[]; metadata: { next_offset: number | null } } = await client.request('GET', `/api/workspaces?${q}`);
    all.push(...page.workspaces);
    offset = page.metadata.next_offset;
  }
  return all;
}

/** The workspace as it is now; null when there is none of that name. */
export async function findWorkspace(client: ApiClient, name: string): Promise<WorkspaceView | null> {
  try {
    return (await client.request<{ workspace: WorkspaceView }>('GET', workspacePath(name))).workspace;
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.notFound) return null;
    throw err;
  }
}
