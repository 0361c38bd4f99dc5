/**
 * Hostile key lookups (docs/security.md "Keys"): a flood of random kids costs at most one JWKS fetch per
 * `min_refresh_interval`, never one per token (the faulty IdP's hit counter proves it); a bad
 * signature on a known kid never refetches; kids shaped like paths or URLs are only ever
 * compared, never fetched; and a flood does not keep a legitimately rotated key out once the
 * floor has passed.
 */
import t from 'tap';
import { http } from '../support/http.js';
import { randomKid, rsaKey } from '../support/keys.js';
import { faultyIssuerYaml, startFaultyIdp } from '../support/faulty-idp.js';
import { forge, rsaSigner } from '../support/tokens.js';
import { assertStillUp, auditLine, bearer, eventually, startCanary, startEnv } from './support.js';

const attacker = rsaKey();

t.test('flood of random kids with a long floor: at most one refetch, legitimate tokens unaffected', async (t) => {
  const idp = await startFaultyIdp();
  t.teardown(() => idp.close());
  const canary = await startCanary(t);
  const env = await startEnv(t, { issuers: faultyIssuerYaml(idp, { minRefresh: '1h', refresh: '1h' }) });
  const now = Math.floor(Date.now() / 1000);
  const forged = (kid: string): string => forge({ alg: 'RS256', kid }, { iss: idp.url, sub: 'x', aud: 'api', exp: now + 300 }, rsaSigner(attacker));
  const before = { ...idp.hits };

  const kids = [
    ...Array.from({ length: 300 }, () => randomKid()),
    '../../jwks',
    '/moved',
    `${canary.url}/jwks`,
    '%2e%2e%2fmoved',
    'x'.repeat(2000),
  ];
  const statuses: number[] = [];
  const ids: string[] = [];
  for (let i = 0; i < kids.length; i += 50) {
    const batch = await Promise.all(kids.slice(i, i + 50).map((kid) => http(`${env.sidecar.url}/x`, { headers: bearer(forged(kid)) })));
    for (const res of batch) {
      statuses.push(res.status);
      ids.push(String(res.headers['x-request-id']));
    }
  }
  t.same([...new Set(statuses)], [401], 'every flooded token is 401');
  t.equal((await auditLine(env, ids[0]))?.reason, 'unknown_kid');
  t.equal((await auditLine(env, ids.at(-1)))?.reason, 'unknown_kid');
  t.ok(idp.hits.jwks - before.jwks <= 1, 'at most one JWKS refetch for the whole flood (the start-up fetch opens the floor)');
  t.equal(idp.hits.discovery - before.discovery, 0, 'no rediscovery');
  t.equal(idp.hits.redirected, 0, 'no path named by a kid was requested');
  t.equal(canary.hits(), 0, 'no URL named by a kid was fetched');
  t.equal(env.upstream.requests().length, 0);

  const good = await http(`${env.sidecar.url}/x`, { headers: bearer(await idp.token()) });
  t.equal(good.status, 200, 'a token with the published kid still passes');

  const jwksBefore = idp.hits.jwks;
  const valid = await idp.token({ sub: 'other' });
  const [h64, p64] = valid.split('.');
  const badSig = `${h64}.${p64}.${forge({ alg: 'RS256' }, {}, rsaSigner(attacker)).split('.')[2]}`;
  for (let i = 0; i < 20; i++) {
    const res = await http(`${env.sidecar.url}/x`, { headers: bearer(badSig) });
    t.equal(res.status, 401);
    if (i === 0) t.equal((await auditLine(env, res.headers['x-request-id']))?.reason, 'bad_signature');
  }
  t.equal(idp.hits.jwks, jwksBefore, 'a bad signature on a known kid never refetches');
  await assertStillUp(t, env);
});

t.test('flood while the IdP rotates: the new kid is admitted once the floor passes, fetches stay few', async (t) => {
  const idp = await startFaultyIdp();
  t.teardown(() => idp.close());
  const env = await startEnv(t, { issuers: faultyIssuerYaml(idp, { minRefresh: '1s', refresh: '1h' }) });
  const now = Math.floor(Date.now() / 1000);
  const before = idp.hits.jwks;
  const rotated = idp.rotate();
  const fresh = await idp.token({}, rotated);

  let flooding = true;
  let flooded = 0;
  const flood = (async () => {
    while (flooding) {
      const tokens = Array.from({ length: 25 }, () => forge({ alg: 'RS256', kid: randomKid() }, { iss: idp.url, sub: 'x', aud: 'api', exp: now + 300 }, rsaSigner(attacker)));
      await Promise.all(tokens.map((tok) => http(`${env.sidecar.url}/x`, { headers: bearer(tok) })));
      flooded += tokens.length;
    }
  })();
  const admitted = await eventually(async () => (await http(`${env.sidecar.url}/x`, { headers: bearer(fresh) })).status === 200);
  await eventually(() => flooded >= 200);
  flooding = false;
  await flood;

  t.ok(admitted, 'the rotated key was admitted during the flood');
  const fetches = idp.hits.jwks - before;
  t.ok(fetches >= 1 && fetches * 20 < flooded, `${fetches} fetches for ${flooded} flooded tokens`);
  t.equal(env.upstream.requests().length, 1, 'only the legitimate request reached the upstream');
});
