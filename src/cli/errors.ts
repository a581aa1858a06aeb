// Exit codes the CLI promises to scripts, and the error that carries one to main().
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  validation: 5,
  unreachable: 6,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Field errors from the API, printed one per line under the message. */
    readonly details: string[] = [],
  ) {
    super(message);
  }
}

export function exitCodeForStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status >= 500) return EXIT.unreachable;
  return EXIT.validation;
}
