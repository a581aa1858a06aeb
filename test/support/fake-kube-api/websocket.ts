// The server side of a WebSocket, just enough for exec: the handshake with a channel subprotocol, binary
// frames to the client, and a close. What the client sends (only its close frame here) is read and dropped.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface ServerSocket {
  protocol: string;
  send(data: Buffer): void;
  close(): void;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Completes the upgrade with the first of `protocols` the client offers; undefined (and a 400) if none. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, protocols: string[]): ServerSocket | undefined {
  const key = req.headers['sec-websocket-key'];
  const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const protocol = protocols.find((p) => offered.includes(p));
  if (!key || !protocol) {
    socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
    return undefined;
  }
  const accept = createHash('sha1').update(`${key}${GUID}`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  return {
    protocol,
    send: (data) => void (socket.writable && socket.write(frame(0x2, data))),
    close: () => {
      if (!socket.writable) return;
      const code = Buffer.alloc(2);
      code.writeUInt16BE(1000);
      socket.end(frame(0x8, code));
    },
  };
}
