// Scraping a test server's /metrics as Prometheus would, and reading what moved between two scrapes.
import assert from 'node:assert/strict';
import { parsePrometheusText, sumOf, type Scrape } from '../support/prom-text.js';
import { eventually, type TestServer } from '../support/server.js';

export const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

export async function scrape(baseUrl: string, token: string | undefined = METRICS_TOKEN): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(text);
}

/** Waits until `series` has grown by `by` since `before` (a counter moves once the store write it follows is done), and checks it did not grow more. */
export async function grownBy(server: Pick<TestServer, 'url'>, before: Scrape, series: string, labels: Record<string, string>, by: number): Promise<Scrape> {
  const start = sumOf(before, series, labels);
  const after = await eventually(async () => {
    const now = await scrape(server.url);
    return sumOf(now, series, labels) - start >= by ? now : undefined;
  }, 20_000, `${series}${JSON.stringify(labels)} to grow by ${by}`);
  assert.equal(sumOf(after, series, labels) - start, by, `${series}${JSON.stringify(labels)} grew by exactly ${by}`);
  return after;
}

export function delta(before: Scrape, after: Scrape, series: string, labels: Record<string, string> = {}): number {
  return sumOf(after, series, labels) - sumOf(before, series, labels);
}
