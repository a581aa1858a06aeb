// deploy/monitoring is built from the metrics wsm really exports: every series the Grafana dashboard
// and the alert rules query is a family a running server serves (a renamed metric would leave a panel
// empty and an alert silent), and the ServiceMonitor scrapes a port the Service has.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { startTestServer, type TestServer } from '../support/server.js';
import type { Scrape } from '../support/prom-text.js';
import { METRICS_TOKEN, scrape } from './helpers.js';

const DEPLOY = join(import.meta.dirname, '../../deploy');
let srv: TestServer;
let scraped: Scrape;

before(async () => {
  srv = await startTestServer({ env: { WSM_METRICS_TOKEN: METRICS_TOKEN } });
  scraped = await scrape(srv.url);
});
after(async () => {
  await srv?.close();
});

/** The metric names a PromQL expression reads (ours and Node's), each mapped to the family that serves it. */
function familiesIn(expr: string): string[] {
  const names = expr.match(/\b(wsm|process|nodejs)_[a-z0-9_]+/g) ?? [];
  return names.map((n) => n.replace(/_(bucket|sum|count)$/, ''));
}

function assertServed(where: string, expr: string): void {
  const families = familiesIn(expr);
  assert.ok(families.length > 0, `${where}: ${expr} reads no metric`);
  for (const family of families) assert.ok(scraped.families.has(family), `${where}: ${family} is not exported (in ${expr})`);
}

test('every panel of the Grafana dashboard queries metrics wsm exports', () => {
  const dashboard = JSON.parse(readFileSync(join(DEPLOY, 'monitoring/grafana-dashboard.json'), 'utf8'));
  const targets = dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => [p.title, t.expr]));
  assert.ok(targets.length >= 20, `${targets.length} queries`);
  for (const [title, expr] of targets) assertServed(`panel "${title}"`, expr);
  const titles = dashboard.panels.map((p: any) => p.title);
  for (const wanted of ['Workspaces by status', 'Start latency (request to RUNNING)', 'Operation failures', 'Reconcile queue', 'Culler stops']) assert.ok(titles.includes(wanted), wanted);
});

test('every alert rule queries metrics wsm exports', () => {
  const rules = parse(readFileSync(join(DEPLOY, 'monitoring/prometheus-rules.yaml'), 'utf8'));
  const all = rules.spec.groups.flatMap((g: any) => g.rules);
  assert.ok(all.length >= 5);
  for (const rule of all) assertServed(`alert ${rule.alert}`, rule.expr);
});

test('the ServiceMonitor scrapes the Service\'s metrics port, which the Deployment serves metrics on', () => {
  const monitor = parse(readFileSync(join(DEPLOY, 'monitoring/servicemonitor.yaml'), 'utf8'));
  const service = parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes/service.yaml'), 'utf8'))[0]!.toJS();
  const deployment = parseAllDocuments(readFileSync(join(DEPLOY, 'kubernetes/deployment.yaml'), 'utf8'))[0]!.toJS();
  for (const [k, v] of Object.entries(monitor.spec.selector.matchLabels)) assert.equal(service.metadata.labels[k], v);
  const port = service.spec.ports.find((p: any) => p.name === monitor.spec.endpoints[0].port);
  assert.ok(port, 'the Service has the port the ServiceMonitor names');
  const container = deployment.spec.template.spec.containers[0];
  const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
  assert.equal(Number(env.WSM_METRICS_PORT), port.targetPort);
  assert.equal(monitor.spec.endpoints[0].path, '/metrics');
});
