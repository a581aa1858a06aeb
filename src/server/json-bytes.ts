// An answer's body assembled from UTF-8 byte chunks and integers, copied once into one Buffer.
// A page of workspaces is over 100 KB of JSON; built as a JavaScript string it was joined, flattened,
// measured twice and encoded on its way to the socket (a fifth of the list's CPU time), while most of
// its bytes are renderings kept with the records, which can be kept as bytes instead.

export class JsonBytes {
  /** Byte chunks, and integers' digits as ASCII strings (copied a character at a time). */
  private readonly chunks: (Uint8Array | string)[] = [];
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

  /** A non-negative safe integer, as its decimal digits. */
  integer(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`JsonBytes.integer: ${n} is not a non-negative safe integer`);
    const digits = String(n);
    this.chunks.push(digits);
    this.length += digits.length;
    return this;
  }

  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      if (typeof chunk === 'string') {
        // A few ASCII digits: copied here rather than through a call into Node's encoder.
        for (let i = 0; i < chunk.length; i++) out[at++] = chunk.charCodeAt(i);
      } else {
        out.set(chunk, at);
        at += chunk.length;
      }
    }
    return out;
  }
}
