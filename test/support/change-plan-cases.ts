// One patch per field a change plan covers, sent through the real HTTP API; after each, what the runtime
// really did (a new process, container or pod template, or none) is held to the plan the patch answered
// with. Each runtime's test gives how it tells its instance apart and the effect it expects per field.
import assert from 'node:assert/strict';
import { writeFile, chmod } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestServer } from './server.js';

export type Effect = 'none' | 'live' | 'deferred' | 'restart' | 'recreate';

export interface PlanCase {
  /** The field the plan must name. */
  field: string;
  container_config?: string;
  lifecycle_config?: Record<string, unknown>;
  update_workspace_settings?: boolean;
  /** Done before the patch (e.g. change the cluster settings whose env update_workspace_settings copies). */
  before?: (srv: TestServer) => Promise<void>;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The cases every runtime goes through, in order; each changes one field from the state the previous left. */
export async function planCases(srv: TestServer, extra: { command: string; args: string; workingDir: string; volume: string }): Promise<PlanCase[]> {
  await writeFile(join(srv.hooksDir, 'plan-pre.sh'), '#!/bin/sh\necho pre-start ran\n');
  await chmod(join(srv.hooksDir, 'plan-pre.sh'), 0o755);
  return [
    { field: 'container_config.image', container_config: 'image: wsm-test/busybox:2' },
    { field: 'container_config.env', container_config: 'env:\n  - name: PLAN_A\n    value: "1"' },
    {
      field: 'inherited_env',
      update_workspace_settings: true,
      before: async (s) => {
        const res = await s.request('PUT', '/api/cluster_settings', { body: { cluster_settings: { env: [{ name: 'PLAN_CLUSTER', value: 'x' }] } } });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      },
    },
    { field: 'container_config.resources', container_config: 'resources:\n  limits:\n    memory: 96Mi' },
    { field: 'container_config.command', container_config: `command: ${extra.command}` },
    { field: 'container_config.args', container_config: `args: ${extra.args}` },
    { field: 'container_config.working_dir', container_config: `working_dir: ${extra.workingDir}` },
    { field: 'container_config.port', container_config: `port: ${await freePort()}` },
    { field: 'container_config.host_port', container_config: `host_port: ${await freePort()}` },
    { field: 'container_config.restart_policy', container_config: 'restart_policy: unless-stopped' },
    { field: 'container_config.start_timeout_seconds', container_config: 'start_timeout_seconds: 900' },
    { field: 'container_config.image_pull_policy', container_config: 'image_pull_policy: Never' },
    { field: 'container_config.image_pull_secrets', container_config: 'image_pull_secrets: [plan-regcred]' },
    { field: 'container_config.volumes', container_config: `volumes:\n  ${extra.volume}:\n    bind: /plan-extra\n    mode: rw` },
    { field: 'container_config.public_url', container_config: 'public_url: http://plan.example.test/ws' },
    { field: 'container_config.service_type', container_config: 'service_type: NodePort' },
    { field: 'container_config.nodeSelector', container_config: 'nodeSelector:\n  pool: plan' },
    { field: 'container_config.tolerations', container_config: 'tolerations:\n  - key: plan\n    operator: Exists\n    effect: NoSchedule' },
    { field: 'container_config.affinity', container_config: 'affinity:\n  podAntiAffinity: {}' },
    { field: 'container_config.labels', container_config: 'labels:\n  plan: "yes"' },
    { field: 'container_config.annotations', container_config: 'annotations:\n  plan: "yes"' },
    { field: 'lifecycle_config.termination_policy', lifecycle_config: { termination_policy: { enable_auto_termination: true, max_idle_seconds: 86400 } } },
    { field: 'lifecycle_config.pre_start_script_path', lifecycle_config: { pre_start_script_path: 'plan-pre.sh' } },
    { field: 'lifecycle_config.post_start', lifecycle_config: { post_start: { command: ['true'] } } },
  ];
}

export interface RunOptions {
  srv: TestServer;
  name: string;
  cases: PlanCase[];
  /** The effect the runtime is expected to have per field (every case's field must be in it). */
  expected: Record<string, Effect>;
  /** What tells one process / container / pod template from the next; read once the operation settled. */
  identity: () => Promise<string>;
  /** Extra checks of what a field's change did, after it settled. */
  after?: (field: string) => Promise<void>;
}

async function settle(srv: TestServer, id: string): Promise<any> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const res = await srv.request('GET', `/api/operations/${id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const op = res.body.operation;
    if (op.state === 'succeeded') return op;
    assert.notEqual(op.state, 'failed', `operation ${id} failed: ${op.error}`);
    assert.ok(Date.now() < deadline, `operation ${id} still ${op.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs every case; returns the fields in the order they ran (a test can assert it covered them all). */
export async function runPlanCases(o: RunOptions): Promise<string[]> {
  const done: string[] = [];
  for (const c of o.cases) {
    await c.before?.(o.srv);
    const before = await o.identity();
    const workspace = { action: 'patch', container_config: c.container_config, lifecycle_config: c.lifecycle_config, update_workspace_settings: c.update_workspace_settings };
    const res = await o.srv.request('PUT', `/api/workspaces/${o.name}`, { body: { workspace } });
    assert.equal(res.status, 200, `${c.field}: ${JSON.stringify(res.body)}`);
    const plan = res.body.plan;
    assert.deepEqual(plan.changes.map((x: any) => x.field), [c.field], `${c.field}: the plan names that field alone: ${JSON.stringify(plan)}`);
    assert.equal(plan.changes[0].effect, o.expected[c.field], `${c.field}: ${JSON.stringify(plan.changes[0])}`);
    const op = await settle(o.srv, res.body.operation.id);
    assert.deepEqual(op.details?.plan, plan, `${c.field}: the operation records the plan it followed`);
    const after = await o.identity();
    assert.equal(after !== before, plan.interrupts, `${c.field}: the plan said ${plan.effect} (interrupts: ${plan.interrupts}); the instance ${after !== before ? 'was replaced' : 'stayed'} (${before} -> ${after})`);
    await o.after?.(c.field);
    done.push(c.field);
  }
  return done;
}
