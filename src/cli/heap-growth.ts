// How far V8 lets the heap grow past what survived the last full collection before it collects again.
// V8 chooses up to 4x when collections are quick, which under request load took the server's heap to
// ~150 MB for ~60 MB of live data; a lower factor collects sooner and keeps resident memory lower, at a
// CPU cost inside the benchmarks' noise (figures in docs/performance.md). The flag is one V8 reads at each
// collection, so setting it after start takes effect; NODE_OPTIONS does not accept it.
import { setFlagsFromString } from 'node:v8';

/** `percent` 0 leaves V8's own choice. */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
