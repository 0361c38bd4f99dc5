import t from 'tap';
import { loadConfigText } from '../../../src/config/load.js';
import type { RuntimeConfig } from '../../../src/config/types.js';
import { deniedAnswer } from '../../../src/http/browser-redirect.js';
import type { RequestInfo } from '../../../src/http/request-info.js';

function config(mode: string, browser = true): RuntimeConfig {
  const yaml = `public_url: https://auth.example.com
issuers: [{ name: dev, issuer: https://idp.example.com, audiences: [api] }]
forward_auth: { browser_redirect: ${mode} }
login:
  client_id: c
  cookie_secret: 0123456789abcdef0123456789abcdef
${browser ? '  browser: {}\n' : ''}`;
  const loaded = loadConfigText(yaml, '/tmp/x.yaml', {});
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
}

const HTML = 'text/html,application/xhtml+xml,*/*;q=0.8';
function info(headers: Record<string, string>, method = 'GET'): RequestInfo {
  return { requestId: 'r', method, host: 'app.example.com', path: '/a/b', query: '?x=1&y=%2F', headers, clientIp: '10.0.0.1', peerIp: '10.0.0.1', trustedPeer: false, proto: 'https' };
}
const traefik = { accept: HTML, 'x-forwarded-uri': '/a/b?x=1&y=%2F', 'x-forwarded-host': 'app.example.com' };
const nginx = { accept: HTML, 'x-original-uri': '/a/b?x=1&y=%2F' };
const LOGIN = `https://auth.example.com/_auth/start?rd=${encodeURIComponent('https://app.example.com/a/b?x=1&y=%2F')}`;

t.test('forward-auth: auto, always, never', async (t) => {
  t.same(deniedAnswer(info(traefik), config('auto'), 'missing_token', 'forward_auth'), { location: LOGIN }, 'auto + X-Forwarded-*: 302 with the full original URL');
  t.notOk('location' in deniedAnswer(info(nginx), config('auto'), 'missing_token', 'forward_auth'), 'auto + X-Original-*: 401 (nginx error_page redirects)');
  t.same(deniedAnswer(info(nginx), config('always'), 'expired', 'forward_auth'), { location: LOGIN }, 'always');
  t.notOk('location' in deniedAnswer(info(traefik), config('never'), 'missing_token', 'forward_auth'), 'never');
});

t.test('only a GET from a browser, denied for lack of identity, with browser login on', async (t) => {
  const c = config('always');
  t.notOk('location' in deniedAnswer(info(traefik, 'POST'), c, 'missing_token', 'forward_auth'), 'POST');
  t.notOk('location' in deniedAnswer(info({ ...traefik, accept: 'application/json' }), c, 'missing_token', 'forward_auth'), 'API client');
  t.notOk('location' in deniedAnswer(info(traefik), c, 'insufficient_scope', 'forward_auth'), '403: signing in again would not help');
  t.notOk('location' in deniedAnswer(info(traefik), config('always', false), 'missing_token', 'forward_auth'), 'no browser login');
  t.same(deniedAnswer(info(traefik), c, 'insufficient_scope', 'forward_auth'), {
    html: { login: LOGIN.replace('https://auth.example.com', ''), logout: '/_auth/logout' },
  }, 'the 403 page offers log in again and log out');
});

t.test('proxy: rd is the path and query on this site', async (t) => {
  t.same(deniedAnswer(info({ accept: HTML }), config('never'), 'missing_token', 'proxy'), { location: `/_auth/start?rd=${encodeURIComponent('/a/b?x=1&y=%2F')}` });
  t.same(deniedAnswer(info({ accept: '*/*' }), config('never'), 'not_found', undefined), { html: undefined });
});
