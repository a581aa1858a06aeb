// The little of a logger that wsm's components call: pino's shape, so the server's pino logger (or a
// child of it) is passed in as it is, and a test can pass a recorder.
export interface Logger {
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  debug?(obj: unknown, msg?: string): void;
}
