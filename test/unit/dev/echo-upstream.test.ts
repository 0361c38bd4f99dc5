import { request } from 'node:http';
import t from 'tap';
import WebSocket from 'ws';
import { startEchoUpstream } from '../../../src/dev/echo-upstream.js';

const upstream = await startEchoUpstream();
t.teardown(() => upstream.close());
t.beforeEach(() => upstream.reset());

t.test('answers with and records method, url, headers and body', async (t) => {
  const res = await fetch(`${upstream.url}/api/items?x=1`, {
    method: 'POST',
    headers: { 'x-auth-request-user': 'alice', 'content-type': 'text/plain' },
    body: 'hello',
  });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'application/json');
  const echoed = (await res.json()) as Record<string, unknown>;
  t.match(echoed, { method: 'POST', url: '/api/items?x=1', body: 'hello', headers: { 'x-auth-request-user': 'alice' } });
  const seen = upstream.requests();
  t.equal(seen.length, 1);
  t.match(seen[0], { method: 'POST', url: '/api/items?x=1', body: 'hello', headers: { 'x-auth-request-user': 'alice' } });
  upstream.reset();
  t.same(upstream.requests(), [], 'reset forgets what was seen');
});

t.test('/status/NNN answers that status', async (t) => {
  const rows = [
    { description: 'service unavailable', path: '/status/503', status: 503, json: true },
    { description: 'not found', path: '/status/404', status: 404, json: true },
    { description: 'no content has no body', path: '/status/204', status: 204, json: false },
    { description: 'out-of-range status falls back to 200', path: '/status/999', status: 200, json: true },
    { description: 'informational status falls back to 200', path: '/status/101', status: 200, json: true },
  ];
  for (const row of rows) {
    const res = await fetch(`${upstream.url}${row.path}`);
    t.equal(res.status, row.status, `${row.description}: status`);
    const text = await res.text();
    t.equal(text === '' ? undefined : (JSON.parse(text) as { url: string }).url, row.json ? row.path : undefined, `${row.description}: body`);
  }
});

t.test('/slow?ms=N answers after the delay', async (t) => {
  const res = await fetch(`${upstream.url}/slow?ms=20`);
  t.equal(res.status, 200);
  t.equal(((await res.json()) as { url: string }).url, '/slow?ms=20');
});

t.test('bodies are capped at 64 KiB', async (t) => {
  const big = 'a'.repeat(70 * 1024);
  const res = await fetch(`${upstream.url}/upload`, { method: 'PUT', body: big });
  t.equal(((await res.json()) as { body: string }).body.length, 64 * 1024);
  t.equal(upstream.requests()[0]?.body.length, 64 * 1024);
});

t.test('WebSocket upgrades echo messages and are recorded', async (t) => {
  const ws = new WebSocket(`${upstream.url.replace('http', 'ws')}/ws/chat?room=1`, { headers: { 'x-user': 'bob' } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const reply = (send: string | Buffer, binary: boolean) =>
    new Promise<{ data: Buffer; isBinary: boolean }>((resolve) => {
      ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
      ws.send(send, { binary });
    });
  const text = await reply('hello over ws', false);
  t.same({ data: text.data.toString(), isBinary: text.isBinary }, { data: 'hello over ws', isBinary: false }, 'text frame echoed');
  const large = 'x'.repeat(70_000);
  t.equal((await reply(large, false)).data.toString(), large, '64-bit length frame echoed');
  const bin = await reply(Buffer.from([1, 2, 3]), true);
  t.same({ data: [...bin.data], isBinary: bin.isBinary }, { data: [1, 2, 3], isBinary: true }, 'binary frame echoed');
  const pong = new Promise<string>((resolve) => ws.once('pong', (data: Buffer) => resolve(data.toString())));
  ws.ping('p1');
  t.equal(await pong, 'p1', 'ping answered with pong');
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  ws.close(1000);
  t.equal(await closed, 1000, 'close handshake completes with the client\'s code');
  t.match(upstream.requests()[0], { method: 'GET', url: '/ws/chat?room=1', headers: { upgrade: 'websocket', 'x-user': 'bob' } });
});

t.test('an upgrade without a WebSocket key is refused', async (t) => {
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = request(`${upstream.url}/ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.once('upgrade', () => reject(new Error('unexpected upgrade')));
    req.once('error', reject);
    req.end();
  });
  t.equal(status, 400);
});
