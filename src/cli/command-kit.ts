// What every API command shares: the connection and output flags, and the way output is printed.
import type { Command } from 'commander';
import { ApiClient } from './client.js';

export interface CommonFlags {
  url?: string;
  token?: string;
  json?: boolean;
}

export function withCommon(cmd: Command): Command {
  return cmd
    .option('--url <url>', 'the wsm API (WSM_URL, default http://127.0.0.1:6789)')
    .option('--token <token>', 'API token (WSM_TOKEN, else WSM_ADMIN_TOKEN)')
    .option('--json', 'print JSON for scripts instead of a table');
}

export const clientFor = (flags: CommonFlags) => new ApiClient(flags);

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}
