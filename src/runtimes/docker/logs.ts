// The last lines a container wrote, for the termination the workspace shows after it ended.
import type Docker from 'dockerode';

const TAIL_LINES = 20;
const TAIL_CHARS = 2_000;

/**
 * Without a TTY the engine multiplexes stdout and stderr: frames of an 8-byte header (stream, three
 * zero bytes, the length big-endian) and the payload. A TTY's log is the plain bytes.
 */
export function demuxLogs(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const kind = buf[at]!;
    const size = buf.readUInt32BE(at + 4);
    if (kind > 2 || buf[at + 1] !== 0 || buf[at + 2] !== 0 || buf[at + 3] !== 0) return buf.toString('utf8');
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString('utf8');
}

export function tailOf(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n').slice(-TAIL_LINES).join('\n');
  return lines.length > TAIL_CHARS ? `…${lines.slice(-TAIL_CHARS)}` : lines;
}

/** The container's last lines, or undefined when the engine keeps none (or will not say). */
export async function containerLogTail(docker: Docker, id: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: TAIL_LINES, ...(signal ? { abortSignal: signal } : {}) })) as unknown;
    const text = Buffer.isBuffer(raw) ? demuxLogs(raw) : String(raw ?? '');
    return tailOf(text) || undefined;
  } catch {
    return undefined;
  }
}
