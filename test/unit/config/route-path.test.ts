import t from 'tap';
import { normalizeRoutePath } from '../../../src/config/route-path.js';

t.test('normal forms', async (t) => {
  const rows: ReadonlyArray<readonly [string, string]> = [
    ['/api', '/api'],
    ['/café/payroll', '/caf%C3%A9/payroll'],
    ['/日本', '/%E6%97%A5%E6%9C%AC'],
    ['/%7euser/%41dmin', '/~user/Admin'],
    ['/a%c3%a9', '/a%C3%A9'],
    ['/api//v1/', '/api/v1/'],
  ];
  for (const [raw, normal] of rows) t.same(normalizeRoutePath(raw), { ok: true, path: normal }, raw);
});

t.test('refused', async (t) => {
  const rows: ReadonlyArray<readonly [string, RegExp]> = [
    ['/api/./internal', /write \/api\/internal$/],
    ['/api/%2E%2e/x', /write \/x$/],
    ['/a/..', /write \/$/],
    ['/admin;x', /never match/],
    ['/a%2fb', /never match/],
    ['/a%5Cb', /never match/],
    ['/a\\b', /never match/],
    ['/a%00', /never match/],
    ['/a\0', /control characters/],
    ['/a?b', /without "\?"/],
    ['/a b', /spaces/],
    ['/a%zz', /malformed/],
    ['/..', /climbs above/],
  ];
  for (const [raw, message] of rows) {
    const result = normalizeRoutePath(raw);
    t.equal(result.ok, false, raw);
    if (!result.ok) t.match(result.message, message, `${raw}: message`);
  }
});
