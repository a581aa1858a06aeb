// The tests' Prometheus text reader must itself refuse what Prometheus refuses, or a scrape that
// "parses" proves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Registry } from 'prom-client';
import { parsePrometheusText, sumOf } from '../support/prom-text.js';

test('reads prom-client output, escaped label values included', async () => {
  const registry = new Registry();
  const c = new Counter({ name: 'x_total', help: 'x', labelNames: ['v'], registers: [registry] });
  c.labels('a "quoted"\\ value\nover lines').inc(2);
  const scrape = parsePrometheusText(await registry.metrics());
  assert.equal(sumOf(scrape, 'x_total', { v: 'a "quoted"\\ value\nover lines' }), 2);
});

test('refuses what is not the text format', () => {
  const bad: [string, RegExp][] = [
    ['x 1\n', /without a TYPE/],
    ['# TYPE x gauge\nx{a="1"} one\n', /not a number/],
    ['# TYPE x gauge\nx{a="1} 1\n', /not closed|expected/],
    ['# TYPE x gauge\nx{a="\\t"} 1\n', /bad escape/],
    ['# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n', /twice/],
    ['# TYPE x gauge\nx{1a="1"} 1\n', /not a label name/],
    ['# TYPE x gauges\n', /unknown type/],
    ['# TYPE x gauge\nx 1', /newline/],
    ['# TYPE x gauge\nx_bucket{le="1"} 1\n', /without a TYPE/],
  ];
  for (const [text, error] of bad) assert.throws(() => parsePrometheusText(text), error, JSON.stringify(text));
});
