// Answers to GET /api/workspaces kept as UTF-8 text, by query and caller. Rendering a page of 100
// (presenting, serialising ~120 KB, encoding it) cost most of the request; the store still reads every
// page from the database (the count and the page's rows by uid and revision), and a kept answer is used
// only when that read returned the very same records and total it was rendered from. The store hands
// out one frozen record object per (uid, revision) of a row (store/record-cache.ts), so the same
// objects mean the same rows as the database holds now, whichever replica wrote them. The idle
// seconds, the one figure that changes with the clock, are written in at each answer.
import { randomInt } from 'node:crypto';
import type { WorkspaceRecord } from '../core/types.js';
import { isDeepFrozen } from '../lib/deep-freeze.js';
import { idleSeconds, lastActivityMs } from './presenter.js';

/** About a hundred pages of 100 workspaces. */
const KEPT_BYTES_LIMIT = 16 * 1024 * 1024;

/**
 * Stands for a workspace's idle seconds in the text being kept. Random per process, so no stored value
 * can imitate it; as a negative integer it passes the response schema's serialiser unchanged.
 */
export const IDLE_MARK = -(2 ** 52) - randomInt(2 ** 40);
const MARKED_FIELD = `"idle_seconds":${IDLE_MARK}`;
const FIELD = '"idle_seconds":';
/** Enough for any idle seconds a parseable time gives (at most 13 digits). */
const DIGITS_MAX = 16;
/** Answer buffers kept for reuse: about as many as answers in flight at once. */
const SPARE_BUFFERS = 64;
const BUFFER_STEP = 16 * 1024;

/** An answer's bytes; `release` hands them back once they have been written (never before). */
export interface KeptAnswer {
  bytes: Buffer;
  release(): void;
}

export interface ListedPage {
  total: number;
  workspaces: readonly WorkspaceRecord[];
}

interface KeptPage {
  total: number;
  records: readonly WorkspaceRecord[];
  /** The answer without its idle seconds ... */
  text: Buffer;
  /** ... which go at these byte offsets, one per workspace that has a last activity, in order. */
  cuts: number[];
  lasts: number[];
}

export class KeptListPages {
  private readonly pages = new Map<string, KeptPage>();
  private bytes = 0;
  /**
   * A fresh ~120 KB buffer per answer is freed only when the garbage collector gets to it, which it
   * does after tens of MB of them: the server's resident memory grew by ~70 MB under load.
   */
  private readonly spare: Buffer[] = [];

  constructor(private readonly limitBytes = KEPT_BYTES_LIMIT) {}

  /** The answer kept under `key` if it was rendered from exactly this page, with the idle seconds at `now`. */
  answer(key: string, page: ListedPage, now: number): KeptAnswer | undefined {
    const kept = this.pages.get(key);
    if (kept === undefined || kept.total !== page.total || kept.records.length !== page.workspaces.length) return undefined;
    for (let i = 0; i < kept.records.length; i++) if (kept.records[i] !== page.workspaces[i]) return undefined;
    return this.fill(kept, now);
  }

  /**
   * Keeps `text`, the answer to `page` rendered with IDLE_MARK as every known idle seconds figure, and
   * returns it with the real figures at `now`. Undefined when it cannot be kept (records that are not
   * the store's frozen ones, or marks that do not match the page): answer without keeping then.
   */
  keep(key: string, page: ListedPage, text: string, now: number): KeptAnswer | undefined {
    if (!page.workspaces.every((ws) => isDeepFrozen(ws))) return undefined;
    const lasts = page.workspaces.map(lastActivityMs).filter((ms): ms is number => ms !== undefined);
    const parts = text.split(MARKED_FIELD);
    if (parts.length !== lasts.length + 1) return undefined;
    const cuts: number[] = [];
    let at = 0;
    for (const part of parts.slice(0, -1)) {
      at += Buffer.byteLength(part) + FIELD.length;
      cuts.push(at);
    }
    const kept: KeptPage = { total: page.total, records: [...page.workspaces], text: Buffer.from(parts.join(FIELD)), cuts, lasts };
    this.drop(key);
    this.pages.set(key, kept);
    this.bytes += kept.text.length;
    for (const oldest of this.pages.keys()) {
      if (this.bytes <= this.limitBytes) break;
      this.drop(oldest);
    }
    return this.fill(kept, now);
  }

  private fill(kept: KeptPage, now: number): KeptAnswer {
    const size = kept.text.length + kept.cuts.length * DIGITS_MAX;
    const at = this.spare.findIndex((b) => b.length >= size);
    const buffer = at >= 0 ? this.spare.splice(at, 1)[0]! : Buffer.allocUnsafeSlow(Math.ceil(size / BUFFER_STEP) * BUFFER_STEP);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
    };
    return { bytes: fillInto(buffer, kept, now), release };
  }

  private drop(key: string): void {
    const kept = this.pages.get(key);
    if (kept === undefined) return;
    this.pages.delete(key);
    this.bytes -= kept.text.length;
  }

  get size(): number {
    return this.pages.size;
  }
}

function fillInto(out: Buffer, kept: KeptPage, now: number): Buffer {
  let from = 0;
  let at = 0;
  for (let i = 0; i < kept.cuts.length; i++) {
    const cut = kept.cuts[i]!;
    at += kept.text.copy(out, at, from, cut);
    at += out.write(String(idleSeconds(kept.lasts[i]!, now)), at, 'latin1');
    from = cut;
  }
  at += kept.text.copy(out, at, from);
  return out.subarray(0, at);
}
