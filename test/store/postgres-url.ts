// The PostgreSQL server the store tests run on besides SQLite: WSM_TEST_DATABASE_URL
// (scripts/ci/start-postgres.sh starts one and prints the variable). Without it the PostgreSQL tests
// are skipped on a developer's machine; in CI they fail, so that a missing server never passes as green.
import { test } from 'node:test';
import assert from 'node:assert/strict';

/** True when the CI variable is set to anything but an empty string, "0" or "false". */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** The URL, else undefined after adding a skipped test (a failing one in CI) named after `what`. */
export function postgresTestUrl(what: string): string | undefined {
  const url = process.env.WSM_TEST_DATABASE_URL;
  if (url !== undefined && url !== '') return url;
  const why = 'WSM_TEST_DATABASE_URL is not set; run scripts/ci/start-postgres.sh';
  if (inCi()) {
    test(`PostgreSQL: ${what}`, () => assert.fail(`${why}: CI must run the store tests on PostgreSQL too`));
  } else {
    test(`PostgreSQL: ${what}`, { skip: why }, () => {});
  }
  return undefined;
}
