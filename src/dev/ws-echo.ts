/**
 * Minimal RFC 6455 WebSocket echo for the demo upstream, without the `ws` package.
 *
 * Enforces: the handshake is a GET with `Upgrade: websocket`, version 13 and a 16-byte key
 * (else 400); client frames must be masked (else close 1002); frames above 1 MiB close with
 * 1009; text, binary and continuation frames are echoed unmasked with their FIN bit and opcode;
 * ping gets pong; a close frame is answered with a close frame and the socket ends.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_FRAME_BYTES = 1024 * 1024;

export const OPCODE = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export function encodeFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const length = payload.length;
  const extra = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const header = Buffer.alloc(2 + extra);
  header.writeUInt8((fin ? 0x80 : 0) | opcode, 0);
  if (extra === 0) header.writeUInt8(length, 1);
  else if (extra === 2) {
    header.writeUInt8(126, 1);
    header.writeUInt16BE(length, 2);
  } else {
    header.writeUInt8(127, 1);
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  return Buffer.concat([header, payload]);
}

export type Decoded =
  | { kind: 'frame'; fin: boolean; opcode: number; payload: Buffer; size: number }
  | { kind: 'incomplete' }
  | { kind: 'error'; closeCode: 1002 | 1009 };

/** Decodes the first client frame in `buf`, unmasking its payload. */
export function decodeFrame(buf: Buffer): Decoded {
  if (buf.length < 2) return { kind: 'incomplete' };
  const first = buf.readUInt8(0);
  const second = buf.readUInt8(1);
  if ((second & 0x80) === 0 || (first & 0x70) !== 0) return { kind: 'error', closeCode: 1002 };
  let length = second & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return { kind: 'incomplete' };
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return { kind: 'incomplete' };
    const big = buf.readBigUInt64BE(2);
    if (big > BigInt(MAX_FRAME_BYTES)) return { kind: 'error', closeCode: 1009 };
    length = Number(big);
    offset = 10;
  }
  if (length > MAX_FRAME_BYTES) return { kind: 'error', closeCode: 1009 };
  if (buf.length < offset + 4 + length) return { kind: 'incomplete' };
  const mask = buf.subarray(offset, offset + 4);
  const payload = Buffer.from(buf.subarray(offset + 4, offset + 4 + length));
  for (let i = 0; i < payload.length; i += 1) payload.writeUInt8(payload.readUInt8(i) ^ mask.readUInt8(i % 4), i);
  return { kind: 'frame', fin: (first & 0x80) !== 0, opcode: first & 0x0f, payload, size: offset + 4 + length };
}

function closeWith(socket: Duplex, code: number): void {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code, 0);
  socket.end(encodeFrame(OPCODE.close, payload));
}

/** Answers the upgrade request; returns false (after a 400) when it is not a valid handshake. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const key = req.headers['sec-websocket-key'];
  const valid =
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    req.headers['sec-websocket-version'] === '13' &&
    typeof key === 'string' &&
    Buffer.from(key, 'base64').length === 16;
  if (!valid) {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return false;
  }
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
  );

  let pending = head;
  const onData = (chunk: Buffer): void => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      const decoded = decodeFrame(pending);
      if (decoded.kind === 'incomplete') return;
      if (decoded.kind === 'error') {
        socket.off('data', onData);
        closeWith(socket, decoded.closeCode);
        return;
      }
      pending = pending.subarray(decoded.size);
      if (decoded.opcode === OPCODE.close) {
        socket.off('data', onData);
        socket.end(encodeFrame(OPCODE.close, decoded.payload.subarray(0, 2)));
        return;
      }
      if (decoded.opcode === OPCODE.ping) socket.write(encodeFrame(OPCODE.pong, decoded.payload));
      else if (decoded.opcode <= OPCODE.binary) socket.write(encodeFrame(decoded.opcode, decoded.payload, decoded.fin));
    }
  };
  socket.on('data', onData);
  socket.on('error', () => socket.destroy());
  if (head.length > 0) onData(Buffer.alloc(0));
  return true;
}
