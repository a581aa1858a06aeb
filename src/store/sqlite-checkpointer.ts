// Checkpoints the SQLite write-ahead log on a worker thread. SQLite otherwise checkpoints inside
// whichever write crosses 1,000 WAL pages, on the calling thread: better-sqlite3 is synchronous, so that
// write (copying pages back and syncing the file) stalls the event loop for tens of milliseconds, and
// the average write costs over twice what it does without (measured with bench/, see docs/performance.md).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker looks at the WAL, and the size past which it checkpoints. */
const INTERVAL_MS = 200;
const WAL_BYTES = 1024 * 1024;
/**
 * A passive checkpoint never completes while writes keep coming, and SQLite only starts the WAL
 * afresh after one that completed: under sustained writes the file would grow without end. Past this
 * many frames (32 MB of 4 KB pages) the worker makes writers wait for one checkpoint that restarts the log (a rare pause, the
 * price SQLite's own checkpointing pays every 4 MB).
 */
const WAL_RESTART_FRAMES = 8_192;

// Plain CommonJS evaluated in the worker, so it needs no TypeScript loader there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const tick = () => {
  let size = 0;
  try { size = statSync(workerData.path + '-wal').size; } catch {}
  if (size <= workerData.walBytes) return;
  try {
    // PASSIVE never waits for readers or writers; what it cannot copy now is copied next tick.
    db.pragma('busy_timeout = 0');
    const [{ log }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (log > workerData.restartFrames) {
      db.pragma('busy_timeout = 5000');
      db.pragma('wal_checkpoint(TRUNCATE)');
    }
  } catch {}
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); process.exit(0); });
`;

export interface Checkpointer {
  /** Settles once the worker has closed its connection and exited, so the files can be removed. */
  stop(): Promise<void>;
}

/**
 * Starts the worker for the database at path. onFailure runs if it stops on its own (say it could
 * not open the file), so the caller can give checkpointing back to SQLite.
 */
export function startCheckpointer(path: string, onFailure: (error: unknown) => void): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: INTERVAL_MS, walBytes: WAL_BYTES, restartFrames: WAL_RESTART_FRAMES } });
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.unref();
  worker.on('error', (error) => {
    if (!stopping) onFailure(error);
  });
  worker.on('exit', (code) => {
    if (!stopping) onFailure(new Error(`the checkpoint worker exited with code ${code}`));
  });
  return {
    stop() {
      if (!stopping) {
        stopping = true;
        // Unreferenced, the worker would not keep the process alive for the caller awaiting its exit.
        worker.ref();
        worker.postMessage('stop');
      }
      return exited;
    },
  };
}
