// A server without Kubernetes never loads the Kubernetes client: it is most of what a local or Docker
// `wsm serve` would otherwise hold in memory (docs/performance.md, "Memory and the cost of metrics").
// The built CLI runs under an import tracer; the modules it resolved are read after it answered.
import { strict as assert } from 'node:assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, startWsm, type LongRun } from '../support/built-cli.js';

const TRACER = fileURLToPath(new URL('../support/trace-imports.mjs', import.meta.url));
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wsm-lazy-k8s-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function waitUntilAnswering(url: string, server: LongRun): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/api/status`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (server.child.exitCode !== null) throw new Error(`wsm serve exited: ${server.stderr()}`);
    if (Date.now() > until) throw new Error(`wsm serve did not answer within 60 s: ${server.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('a local wsm serve answers without having loaded @kubernetes/client-node', async () => {
  const port = await freePort();
  const trace = join(dir, 'imports.txt');
  const server = startWsm(['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', join(dir, 'data'), '--cluster-type', 'local'], {
    env: { NODE_OPTIONS: `--import ${TRACER}`, WSM_TRACE_IMPORTS: trace, WSM_ADMIN_TOKEN: 'lazy-k8s-owner-token-0123456789', WSM_LOG_LEVEL: 'warn' },
  });
  try {
    await waitUntilAnswering(`http://127.0.0.1:${port}`, server);
    const listed = await fetch(`http://127.0.0.1:${port}/api/workspaces`, { headers: { 'OAUTH-TOKEN': 'lazy-k8s-owner-token-0123456789' } });
    assert.equal(listed.status, 200);
  } finally {
    await server.stop();
  }
  const loaded = (await readFile(trace, 'utf8')).split('\n');
  // The tracer saw the server's own dependencies: it works, so an absence below means something.
  assert.ok(loaded.some((url) => url.includes('/node_modules/fastify/')), 'the tracer recorded fastify');
  assert.ok(loaded.some((url) => url.includes('/dist/cli/serve.js')), 'the tracer recorded the serve command');
  const kubernetes = loaded.filter((url) => url.includes('/node_modules/@kubernetes/') || url.includes('/dist/runtimes/kubernetes/'));
  assert.equal(kubernetes.length, 0, `nothing of the Kubernetes runtime or its client is loaded; found ${kubernetes.length}, e.g. ${kubernetes.slice(0, 3).join(', ')}`);
});
