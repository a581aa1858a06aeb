// Loaded with `node --import`: records the URL of every module the process resolves, one per line, in
// the file named by WSM_TRACE_IMPORTS, so a test can see what a command loaded and what it did not.
import { register } from 'node:module';

register('./trace-imports-hooks.mjs', import.meta.url);
