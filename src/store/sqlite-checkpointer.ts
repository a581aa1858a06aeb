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
 * The log only starts afresh when a write begins with every frame copied back, and under sustained
 * writes a checkpoint running beside them never copies the frames committed while it ran: the log
 * grew without end (past 200 MB in a 10 s benchmark), each page lookup searched more of it, and the
 * file kept growing into new blocks. Past this many frames (64 MB of 4 KB pages) the worker asks the
 * server for a quiet moment: the server holds its connection idle (requests queue for a few
 * milliseconds), the worker copies what is left, and the next write starts the log at its beginning.
 */
const RESTART_FRAMES = 16_384;
/**
 * Should a quiet moment not come (no server answering, or a reader it cannot see holding an old
 * snapshot), past this many frames the worker makes writers wait for a checkpoint that empties the log.
 */
const WAL_FORCE_FRAMES = 65_536;
/**
 * The size the WAL file is cut back to when the log starts afresh (set on the main connection): above
 * what it reaches between restarts, so that the file is reused rather than cut and grown again.
 */
export const WAL_SIZE_LIMIT_BYTES = 128 * 1024 * 1024;
/** How long the server holds its connection for the worker's last copy at most. */
const QUIET_TIMEOUT_MS = 2_000;

// Plain CommonJS evaluated in the worker, so it needs no TypeScript loader there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { closeSync, fsyncSync, openSync, readSync } = require('node:fs');
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
// While the server holds its connection for us (or we wait for it to), the timer does nothing.
let quiesceAsked = false;
const checkpoint = () => {
  // PASSIVE never waits for readers or writers; what it cannot copy now is copied next tick.
  db.pragma('busy_timeout = 0');
  return db.pragma('wal_checkpoint(PASSIVE)')[0];
};
// A checkpoint flushes the log file to disk before copying and the database file after. The server's
// commits are not flushed (synchronous NORMAL), nor are the copies of a checkpoint that leaves frames
// behind, so a quiet moment's checkpoint flushed everything written since the last flush: 14 ms on
// average under full load, which every request waited through. Flushed here beforehand, what is left
// to flush in the quiet moment is a few milliseconds' worth (about 6 ms in all, measured). Best effort:
// the checkpoint flushes anyway.
const flushFiles = () => {
  for (const file of [workerData.path + '-wal', workerData.path]) {
    let fd;
    try {
      fd = openSync(file, 'r+');
      fsyncSync(fd);
    } catch {
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
};
const tick = () => {
  const frames = logFrames();
  if (quiesceAsked || frames <= workerData.checkpointFrames) return;
  try {
    const restarting = workerData.canQuiesce && frames > workerData.restartFrames;
    if (restarting) flushFiles();
    const { checkpointed } = checkpoint();
    // SQLite reports the log's length as the checkpoint found it; what writes added meanwhile is
    // only in the header.
    const log = logFrames();
    if (log > checkpointed && restarting) {
      // Frames came in while it copied, as they always do under steady writes: ask for a quiet moment.
      flushFiles();
      quiesceAsked = true;
      parentPort.postMessage('quiesce');
    } else if (log > checkpointed && log > workerData.forceFrames) {
      db.pragma('busy_timeout = 5000');
      db.pragma('wal_checkpoint(TRUNCATE)');
    }
  } catch {}
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message === 'quiet') {
    // Nothing writes now: this copies every frame, and the next write starts the log afresh.
    try { checkpoint(); } catch {}
    quiesceAsked = false;
    parentPort.postMessage('copied');
    return;
  }
  clearInterval(timer);
  db.close();
  process.exit(0);
});
`;

export interface Checkpointer {
  /** Settles once the worker has closed its connection and exited, so the files can be removed. */
  stop(): Promise<void>;
}

/** The worker's thresholds; the defaults above suit a server, tests use smaller ones. */
export interface WalTuning {
  intervalMs: number;
  checkpointFrames: number;
  restartFrames: number;
}

export interface CheckpointerOptions {
  tuning?: Partial<WalTuning>;
  /** Told how long each quiet moment held the server's connection (tests and diagnostics). */
  onQuietMoment?(heldMs: number): void;
  /** Runs if the worker stops on its own (say it could not open the file), so the caller can give checkpointing back to SQLite. */
  onFailure(error: unknown): void;
  /**
   * Runs `copy` while the server's connection is idle (no statement runs and no transaction is open)
   * and keeps it so until `copy` settles. Without it the log restarts only when writes pause.
   */
  whileIdle?(copy: () => Promise<void>): Promise<void>;
}

/** Starts the worker for the database at path. */
export function startCheckpointer(path: string, options: CheckpointerOptions): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      path,
      driver,
      intervalMs: INTERVAL_MS,
      checkpointFrames: CHECKPOINT_FRAMES,
      restartFrames: RESTART_FRAMES,
      ...options.tuning,
      forceFrames: WAL_FORCE_FRAMES,
      canQuiesce: options.whileIdle !== undefined,
    },
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.unref();
  worker.on('error', (error) => {
    if (!stopping) options.onFailure(error);
  });
  worker.on('exit', (code) => {
    if (!stopping) options.onFailure(new Error(`the checkpoint worker exited with code ${code}`));
  });
  worker.on('message', (message) => {
    if (message !== 'quiesce' || options.whileIdle === undefined) return;
    let heldSince = 0;
    void options.whileIdle(() => {
      if (stopping) return Promise.resolve();
      heldSince = performance.now();
      return new Promise<void>((resolve) => {
        // Bounded: a worker that died or hangs must not hold the server's connection.
        const timer = setTimeout(done, QUIET_TIMEOUT_MS);
        function done() {
          clearTimeout(timer);
          worker.off('message', onCopied);
          worker.off('exit', done);
          resolve();
        }
        function onCopied(reply: unknown) {
          if (reply === 'copied') done();
        }
        worker.on('message', onCopied);
        worker.once('exit', done);
        worker.postMessage('quiet');
      });
    }).then(
      () => {
        if (heldSince > 0) options.onQuietMoment?.(performance.now() - heldSince);
      },
      () => {},
    );
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
