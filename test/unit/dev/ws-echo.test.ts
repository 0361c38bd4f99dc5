import { connect } from 'node:net';
import type { Socket } from 'node:net';
import t from 'tap';
import { acceptKey, decodeFrame, encodeFrame, OPCODE } from '../../../src/dev/ws-echo.js';
import { startEchoUpstream } from '../../../src/dev/echo-upstream.js';

function masked(opcode: number, payload: Buffer, fin = true): Buffer {
  const plain = encodeFrame(opcode, payload, fin);
  const headerLength = plain.length - payload.length;
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const header = Buffer.from(plain.subarray(0, headerLength));
  header.writeUInt8(header.readUInt8(1) | 0x80, 1);
  const body = Buffer.from(payload.map((b, i) => b ^ mask.readUInt8(i % 4)));
  return Buffer.concat([header, mask, body]);
}

t.test('acceptKey follows RFC 6455 section 1.3', async (t) => {
  t.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

t.test('decodeFrame', async (t) => {
  const big = Buffer.alloc(10);
  big.writeUInt8(0x82, 0);
  big.writeUInt8(0xff, 1);
  big.writeBigUInt64BE(2n ** 32n, 2);
  const rows = [
    { description: 'masked text frame', input: masked(OPCODE.text, Buffer.from('hi')), expected: { kind: 'frame', fin: true, opcode: 1, payload: Buffer.from('hi'), size: 8 } },
    { description: 'non-final continuation', input: masked(OPCODE.continuation, Buffer.from('x'), false), expected: { kind: 'frame', fin: false, opcode: 0, payload: Buffer.from('x'), size: 7 } },
    { description: 'one byte is incomplete', input: Buffer.from([0x81]), expected: { kind: 'incomplete' } },
    { description: 'missing payload is incomplete', input: masked(OPCODE.text, Buffer.from('hello')).subarray(0, 8), expected: { kind: 'incomplete' } },
    { description: '16-bit length needs its bytes', input: Buffer.from([0x81, 0xfe, 0x01]), expected: { kind: 'incomplete' } },
    { description: 'unmasked client frame is a protocol error', input: encodeFrame(OPCODE.text, Buffer.from('hi')), expected: { kind: 'error', closeCode: 1002 } },
    { description: 'reserved bits are a protocol error', input: Buffer.from([0xc1, 0x80, 0, 0, 0, 0]), expected: { kind: 'error', closeCode: 1002 } },
    { description: 'frames over 1 MiB are too big', input: big, expected: { kind: 'error', closeCode: 1009 } },
  ];
  for (const row of rows) t.same(decodeFrame(row.input), row.expected, row.description);
});

t.test('raw sockets: fragments echo, protocol errors close', async (t) => {
  const upstream = await startEchoUpstream();
  t.teardown(() => upstream.close());
  const { port } = new URL(upstream.url);

  async function open(): Promise<{ socket: Socket; read: (bytes: number) => Promise<Buffer> }> {
    const socket = connect(Number(port), '127.0.0.1');
    let buffered = Buffer.alloc(0);
    let wake: (() => void) | undefined;
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      wake?.();
    });
    const read = async (bytes: number): Promise<Buffer> => {
      while (buffered.length < bytes) await new Promise<void>((resolve) => (wake = resolve));
      const out = buffered.subarray(0, bytes);
      buffered = buffered.subarray(bytes);
      return out;
    };
    socket.write(
      'GET /raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    const expected = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';
    t.equal((await read(expected.length)).toString(), expected, 'handshake answer');
    return { socket, read };
  }

  const a = await open();
  a.socket.write(Buffer.concat([masked(OPCODE.text, Buffer.from('ab'), false), masked(OPCODE.continuation, Buffer.from('cd'))]));
  t.same([...(await a.read(4))], [0x01, 2, 0x61, 0x62], 'first fragment echoed without FIN');
  t.same([...(await a.read(4))], [0x80, 2, 0x63, 0x64], 'last fragment echoed with FIN');
  a.socket.write(masked(OPCODE.close, Buffer.from([0x03, 0xe8])));
  t.same([...(await a.read(4))], [0x88, 2, 0x03, 0xe8], 'close answered with the same code');
  a.socket.destroy();

  const b = await open();
  b.socket.write(encodeFrame(OPCODE.text, Buffer.from('unmasked')));
  t.same([...(await b.read(4))], [0x88, 2, 0x03, 0xea], 'unmasked frame closes with 1002');
  b.socket.destroy();
});
