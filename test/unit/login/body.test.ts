import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bodyKind, readLoginBody } from '../../../src/login/body.js';

const server = createServer((req, res) => {
  readLoginBody(req).then(
    (result) => {
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify(result));
    },
    () => res.destroy(),
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

async function post(contentType: string | undefined, body: string): Promise<unknown> {
  const headers: Record<string, string> = contentType === undefined ? {} : { 'content-type': contentType };
  const res = await fetch(url, { method: 'POST', headers, body });
  return res.json();
}

const OK = { ok: true, username: 'alice', password: 'pw' };
const BAD = { ok: false, reason: 'invalid_request' };
const BIG = { ok: false, reason: 'payload_too_large' };
const long = 'x'.repeat(1025);

const rows: ReadonlyArray<readonly [string, string | undefined, string, unknown]> = [
  ['JSON object', 'application/json', '{"username":"alice","password":"pw"}', OK],
  ['JSON with charset', 'application/json; charset=utf-8', '{"username":"alice","password":"pw"}', OK],
  ['form-encoded', 'application/x-www-form-urlencoded', 'username=alice&password=pw', OK],
  ['form content type in upper case', 'Application/X-WWW-Form-Urlencoded', 'username=alice&password=pw', OK],
  ['fields of 1024 chars', 'application/json', JSON.stringify({ username: 'u'.repeat(1024), password: 'p'.repeat(1024) }), { ok: true, username: 'u'.repeat(1024), password: 'p'.repeat(1024) }],
  ['text/plain refused', 'text/plain', '{"username":"alice","password":"pw"}', BAD],
  ['multipart refused', 'multipart/form-data; boundary=x', '--x--', BAD],
  ['no content type refused', undefined, '{"username":"alice","password":"pw"}', BAD],
  ['invalid JSON', 'application/json', '{"username":', BAD],
  ['JSON array', 'application/json', '["alice","pw"]', BAD],
  ['JSON null', 'application/json', 'null', BAD],
  ['missing password', 'application/json', '{"username":"alice"}', BAD],
  ['empty username', 'application/json', '{"username":"","password":"pw"}', BAD],
  ['non-string password', 'application/json', '{"username":"alice","password":123}', BAD],
  ['username over 1024 chars', 'application/json', JSON.stringify({ username: long, password: 'pw' }), BAD],
  ['password over 1024 chars', 'application/json', JSON.stringify({ username: 'alice', password: long }), BAD],
  ['form field given twice', 'application/x-www-form-urlencoded', 'username=alice&username=bob&password=pw', BAD],
  ['form missing username', 'application/x-www-form-urlencoded', 'password=pw', BAD],
  ['body over 16 KiB', 'application/json', JSON.stringify({ username: 'alice', password: 'pw', pad: 'x'.repeat(16 * 1024) }), BIG],
];

for (const [description, contentType, body, expected] of rows) {
  t.test(description, async (t) => t.same(await post(contentType, body), expected));
}

t.test('over the cap without Content-Length (chunked): reading stops', async (t) => {
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"username":"alice","password":"'));
      controller.enqueue(new Uint8Array(20 * 1024).fill(0x61));
      controller.close();
    },
  });
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chunks, duplex: 'half' });
  t.same(await res.json(), BIG);
});

t.test('invalid UTF-8 is refused', async (t) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0xff, 0x7d]) });
  t.same(await res.json(), BAD);
});

t.test('bodyKind', async (t) => {
  t.equal(bodyKind('application/json'), 'json');
  t.equal(bodyKind('application/x-www-form-urlencoded;charset=UTF-8'), 'form');
  t.equal(bodyKind('application/jsonx'), undefined);
  t.equal(bodyKind(undefined), undefined);
});
