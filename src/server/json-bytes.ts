// An answer's body assembled from UTF-8 byte chunks and integers, copied once into one Buffer.
// A page of workspaces is over 100 KB of JSON; built as a JavaScript string it was joined, flattened,
// measured twice and encoded on its way to the socket (a fifth of the list's CPU time), while most of
// its bytes are renderings kept with the records, which can be kept as bytes instead.

export class JsonBytes {
  private readonly chunks: (Uint8Array | number)[] = [];
  private length = 0;

  /** Appends bytes as they are: the caller's chunk is copied only by toBuffer, so it must not change. */
  bytes(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this;
  }

  text(text: string): this {
    return this.bytes(Buffer.from(text));
  }

  /** A non-negative safe integer, written as its decimal digits without making a string of it. */
  integer(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`JsonBytes.integer: ${n} is not a non-negative safe integer`);
    this.chunks.push(n);
    this.length += digitCount(n);
    return this;
  }

  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      if (typeof chunk === 'number') at = writeDigits(out, at, chunk);
      else {
        out.set(chunk, at);
        at += chunk.length;
      }
    }
    return out;
  }
}

function digitCount(n: number): number {
  let digits = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    digits++;
  }
  return digits;
}

const ZERO = 0x30;

/** Writes n's digits at `at`; returns the offset after them. */
function writeDigits(out: Buffer, at: number, n: number): number {
  const end = at + digitCount(n);
  let i = end;
  do {
    out[--i] = ZERO + (n % 10);
    n = Math.floor(n / 10);
  } while (n > 0);
  return end;
}
