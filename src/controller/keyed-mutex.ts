// Moved to lib/keyed-mutex.ts; this re-export remains only until server/idempotency.ts imports it from there.
export { KeyedMutex } from '../lib/keyed-mutex.js';
