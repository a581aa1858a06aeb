// The resolve hook of trace-imports.mjs (module hooks run on their own thread in Node 20, hence a file).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const file = process.env.WSM_TRACE_IMPORTS;
  if (file) appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}
