// Checkpoints the SQLite write-ahead log on a worker thread. SQLite otherwise checkpoints inside
// whichever write crosses 1,000 WAL pages, on the calling thread: better-sqlite3 is synchronous, so that
// write (copying pages back and syncing the file) stalls the event loop for tens of milliseconds, and
// the average write costs over twice what it does without (measured with bench/, see docs/performance.md).
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the worker looks at the WAL, and the length (in frames) past which it checkpoints. */
const INTERVAL_MS = 200;
const CHECKPOINT_FRAMES = 256;
/**
 * A passive checkpoint that copies every frame lets the next write start the log afresh, and one
 * almost always does: it copies faster than a single server writes. Only when one has not for this
 * many frames (256 MB of 4 KB pages; a long read holding an old snapshot can cause it) does the
 * worker make writers wait for a checkpoint that empties the log. Blocking at 32 MB, as an earlier
 * version did, paused the event loop for ~30 ms every few seconds under sustained writes.
 */
const WAL_FORCE_FRAMES = 65_536;
/** The size the WAL file is cut back to when the log starts afresh (set on the main connection). */
export const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

// Plain CommonJS evaluated in the worker, so it needs no TypeScript loader there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { closeSync, openSync, readSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
// The length of the log, from the wal-index header at the start of the -shm file (mxFrame, a
// native-order u32 at byte 16; see SQLite's walformat document). Reading it takes no lock, where
// asking SQLite would; the WAL file's size says nothing once the file is reused.
const header = Buffer.alloc(48);
const littleEndian = require('node:os').endianness() === 'LE';
const logFrames = () => {
  let fd;
  try {
    fd = openSync(workerData.path + '-shm', 'r');
    if (readSync(fd, header, 0, 48, 0) < 48) return 0;
    return littleEndian ? header.readUInt32LE(16) : header.readUInt32BE(16);
  } catch {
    return 0;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};
const tick = () => {
  if (logFrames() <= workerData.checkpointFrames) return;
  try {
    // PASSIVE never waits for readers or writers; what it cannot copy now is copied next tick.
    db.pragma('busy_timeout = 0');
    const [{ log, checkpointed }] = db.pragma('wal_checkpoint(PASSIVE)');
    if (checkpointed < log && log > workerData.forceFrames) {
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
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: INTERVAL_MS, checkpointFrames: CHECKPOINT_FRAMES, forceFrames: WAL_FORCE_FRAMES } });
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
