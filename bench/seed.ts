// Fills a store with workspaces directly (one transaction, no HTTP), as if each had been created
// and reconciled already: desired running, observed RUNNING at its generation.
import { randomUUID } from 'node:crypto';
import { buildSpec } from '../src/core/spec.js';
import { DEFAULT_LIFECYCLE } from '../src/core/lifecycle.js';
import type { ClusterType, WorkspaceRecord } from '../src/core/types.js';
import { openStore } from '../src/store/index.js';

export function benchName(i: number): string {
  return `ws-${String(i).padStart(6, '0')}`;
}

export interface SeedOptions {
  dataDir: string;
  /** A postgres:// URL: seed that database instead of the data dir's SQLite file. */
  databaseUrl?: string;
  count: number;
  clusterType?: ClusterType;
  /** Every workspace has auto-termination on with this idle limit; the first idleDue of them are past it. */
  maxIdleSeconds?: number;
  idleDue?: number;
  /** Desired (and last observed) stopped instead of running. */
  stopped?: boolean;
}

export async function seedWorkspaces(options: SeedOptions): Promise<number> {
  const started = performance.now();
  const store = await openStore({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  const now = Date.now();
  const maxIdle = options.maxIdleSeconds ?? 3600;
  const template = buildSpec(
    {
      name: 'template',
      cluster_type: options.clusterType ?? 'local',
      container_config: { image: 'wsm-test/busybox:1', env: [{ name: 'MODE', value: 'bench' }] },
      lifecycle_config: {},
      storage: { access_mode: 'ReadWriteOnce', request_size: '1Gi', retention_policy: 'Retain', mount_path: '/home/src' },
    },
    { inheritedEnv: [], defaultImage: 'mageai/mageai:latest' },
  );
  template.lifecycle = { ...DEFAULT_LIFECYCLE, termination_policy: { enable_auto_termination: true, max_idle_seconds: maxIdle } };
  const iso = new Date(now).toISOString();
  try {
    await store.transaction(async (tx) => {
      for (let i = 0; i < options.count; i++) {
        const idle = i < (options.idleDue ?? 0) ? maxIdle * 2 : 60;
        const ws: WorkspaceRecord = {
          name: benchName(i),
          uid: randomUUID(),
          cluster_type: options.clusterType ?? 'local',
          project_uuid: `bench${String(i).padStart(27, '0')}`,
          spec: template,
          desired_state: options.stopped ? 'stopped' : 'running',
          generation: 1,
          resource_version: 1,
          observed: {
            status: options.stopped ? 'STOPPED' : 'RUNNING',
            observed_generation: 1,
            instance_name: benchName(i),
            instance_type: 'noop',
            conditions: [{ type: 'Ready', status: 'True', reason: 'Running', last_transition_time: iso }],
            updated_at: iso,
          },
          activity: { last_activity_at: new Date(now - idle * 1000).toISOString(), last_activity_source: 'api' },
          created_at: iso,
          updated_at: iso,
        };
        await tx.insertWorkspace(ws);
      }
    });
  } finally {
    await store.close();
  }
  return performance.now() - started;
}
