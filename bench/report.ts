// What a scenario hands back, and how it is printed: each figure beside its target with PASS/MISS.
import { cpus, loadavg, totalmem } from 'node:os';

export interface Row {
  measure: string;
  figure: string;
  target?: string;
  /** undefined: no target, or not measured. */
  pass?: boolean;
}

export interface ScenarioReport {
  name: string;
  title: string;
  /** What was measured, on what: printed above the table. */
  setup: string[];
  rows: Row[];
  /** Raw numbers for the JSON file. */
  figures: Record<string, unknown>;
}

export function machine() {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
  };
}

export function header(): string {
  const m = machine();
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  return `wsm benchmarks: ${m.date}\nmachine: ${m.cores} cores (${m.cpu}), ${m.memoryGb} GB, ${m.platform}, Node ${m.node}; load average at start ${load}\n`;
}

export function ms(value: number): string {
  return `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
}

export function verdict(pass: boolean | undefined): string {
  return pass === undefined ? '' : pass ? 'PASS' : 'MISS';
}

export function formatReport(report: ScenarioReport): string {
  const lines = [`== ${report.name}: ${report.title}`, ...report.setup.map((s) => `   ${s}`), ''];
  const head: Row = { measure: 'measure', figure: 'figure', target: 'target' };
  const all = [head, ...report.rows];
  const w = [
    Math.max(...all.map((r) => r.measure.length)),
    Math.max(...all.map((r) => r.figure.length)),
    Math.max(...all.map((r) => (r.target ?? '').length)),
  ];
  for (const [i, r] of all.entries()) {
    const result = i === 0 ? 'result' : verdict(r.pass);
    lines.push(`   ${r.measure.padEnd(w[0]!)}  ${r.figure.padStart(w[1]!)}  ${(r.target ?? '').padEnd(w[2]!)}  ${result}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A scenario that could not run here, with the reason. */
export function notMeasured(name: string, title: string, reason: string, measures: string[]): ScenarioReport {
  return {
    name,
    title,
    setup: [`NOT MEASURED: ${reason}`],
    rows: measures.map((m) => ({ measure: m, figure: 'not measured' })),
    figures: { notMeasured: reason },
  };
}
