// cli/explain.ts: a denial's detail names what was found next to what the config expects, for
// every reason `verify` can meet, and never quotes the token.
import t from 'tap';
import { explainDenial } from '../../../src/cli/explain.js';
import type { Denial } from '../../../src/cli/explain.js';
import { loadConfigText } from '../../../src/config/index.js';
import type { RuntimeConfig } from '../../../src/config/index.js';
import { forge } from '../../support/tokens.js';

const loaded = loadConfigText(
  `issuers:
  - name: kc
    issuer: https://kc.example.com
    audiences: [api]
  - name: other
    issuer: https://other.example
    audiences: [api]
routes:
  - name: admin
    match: { path: /admin }
    require: { roles: [admin], groups: [/ops], scopes: [read, write], claims: { org: [acme, beta] }, email_verified: true }
    issuers: [other]
  - name: x
    match: { path: / }
    issuers: [kc]
`,
  'c.yaml',
  {},
);
if (!loaded.ok) throw new Error(`fixture config invalid: ${loaded.problems.map((p) => p.message).join('; ')}`);
const config: RuntimeConfig = loaded.config;
const admin = config.routes[0]!;
const claims = { iss: 'https://kc.example.com', sub: 'u1', aud: 'account', exp: 1_000, scope: 'read', org: 'evil', email_verified: false };
const token = forge({ alg: 'HS256', kid: 'k1' }, claims);
const identity = { user: 'u1', groups: ['/dev'], roles: ['user'], claims };
const none = new Map<string, string>();

t.test('each reason says what was found and what was expected', async (t) => {
  const rows: Array<[string, Omit<Denial, 'keyFailures'> & { keyFailures?: Map<string, string> }, string]> = [
    ['audience', { reason: 'bad_audience' }, 'aud: ["account"], expected one of ["api"]'],
    ['issuer', { reason: 'untrusted_issuer' }, 'iss: "https://kc.example.com", expected one of ["https://kc.example.com","https://other.example"]'],
    ['route issuer', { reason: 'untrusted_issuer', requirement: 'issuer', route: admin, identity }, 'issuer: "kc", expected one of ["other"]'],
    ['alg', { reason: 'alg_not_allowed' }, 'alg: "HS256", expected one of ["RS256"]'],
    ['kid', { reason: 'unknown_kid' }, 'kid: "k1", not published by issuer "kc"'],
    ['roles', { reason: 'insufficient_scope', requirement: 'roles', route: admin, identity }, 'roles: ["user"], expected one of ["admin"]'],
    ['groups', { reason: 'insufficient_scope', requirement: 'groups', route: admin, identity }, 'groups: ["/dev"], expected one of ["/ops"]'],
    ['scopes', { reason: 'insufficient_scope', requirement: 'scopes', route: admin, identity }, 'scopes: ["read"], expected all of ["read","write"]'],
    ['claims', { reason: 'insufficient_scope', requirement: 'claims', claim: 'org', route: admin, identity }, 'org: "evil", expected one of ["acme","beta"]'],
    ['email', { reason: 'insufficient_scope', requirement: 'email_verified', route: admin, identity }, 'email_verified: false, expected true'],
    ['405', { reason: 'method_not_allowed', allow: ['GET', 'HEAD'] }, 'method not accepted on this path; allowed: GET, HEAD'],
    ['keys', { reason: 'auth_unavailable', keyFailures: new Map([['kc', 'discovery: ECONNREFUSED']]) }, 'keys of issuer "kc" could not be loaded (discovery: ECONNREFUSED); check that the IdP is reachable'],
    ['verifier detail', { reason: 'malformed', detail: 'exp not a finite number' }, 'exp not a finite number'],
  ];
  for (const [desc, denial, want] of rows) {
    const detail = explainDenial(token, config, { keyFailures: none, ...denial });
    t.equal(detail, want, desc);
    t.notOk(detail.includes(token.split('.')[1]!), `${desc}: no part of the token`);
  }
  t.match(explainDenial(token, config, { reason: 'expired', keyFailures: none }), /^exp: 1000 \(1970-01-01T00:16:40\.000Z\), now \d+ \(.+\), clock skew 30s$/);
  t.match(explainDenial('garbage', config, { reason: 'not_found', keyFailures: none }), /^No route matches/, 'other reasons: the public description');
});
