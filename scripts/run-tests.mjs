#!/usr/bin/env node
// Runs every test file under test/ with Node's test runner (through tsx), or only the files and directories given.
// Node 20's runner takes no globs, so the files are listed here. Files named *.serial.test.ts
// disturb shared machinery (they restart the Docker engine, say), so they run after the others,
// one at a time.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...findTests(path));
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out.sort();
}

function run(files, concurrency) {
  if (files.length === 0) return 0;
  const result = spawnSync(
    process.execPath,
    // A test stuck on an engine that never answers fails after ten minutes instead of holding CI, and a
    // file whose tests are done exits even if something it started still holds a socket.
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=600000', '--test-force-exit', '--test-reporter=spec', ...files],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
  );
  return result.status ?? 1;
}

const args = process.argv.slice(2);
// A directory given stands for the test files under it.
const files = args.length > 0 ? args.flatMap((a) => (statSync(a).isDirectory() ? findTests(a) : [a])) : findTests('test');
const serial = files.filter((f) => f.endsWith('.serial.test.ts'));
const parallel = files.filter((f) => !f.endsWith('.serial.test.ts'));
const concurrency = process.env.WSM_TEST_CONCURRENCY ?? '2';
const first = run(parallel, concurrency);
const second = run(serial, 1);
process.exit(first !== 0 ? first : second);
