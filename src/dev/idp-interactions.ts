/**
 * Interaction routes of the development IdP (what the provider's quick-start devInteractions
 * would do, but checking passwords): `GET /interaction/:uid`, `POST /interaction/:uid/login`,
 * `GET /interaction/:uid/abort`.
 *
 * Enforces: sign-in only with a demo user's username and password (a wrong password and an
 * unknown user get the same message); consent is granted automatically for what the client asked
 * (the client is first-party); the interaction cookie must belong to the uid in the path; form
 * bodies are capped; error pages carry no request data and no password.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Interaction, Provider } from 'oidc-provider';
import { loginPage, plainPage } from './idp-pages.js';
import { checkPassword } from './users.js';
import type { DevUser } from './users.js';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/;
const MAX_FORM_BYTES = 16 * 1024;
const LOGIN_FAILED = 'Invalid username or password.';

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(html),
  });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Grants what the consent prompt reports missing and returns the grant id. */
async function grantConsent(provider: Provider, interaction: Interaction): Promise<string> {
  const missing = interaction.prompt.details;
  const accountId = interaction.session?.accountId ?? '';
  const clientId = String(interaction.params.client_id);
  const existing = interaction.grantId === undefined ? undefined : await provider.Grant.find(interaction.grantId);
  const grant = existing ?? new provider.Grant({ accountId, clientId });
  const scopes = stringList(missing.missingOIDCScope);
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  const claims = stringList(missing.missingOIDCClaims);
  if (claims.length > 0) grant.addOIDCClaims(claims);
  const resourceScopes = missing.missingResourceScopes;
  if (typeof resourceScopes === 'object' && resourceScopes !== null) {
    for (const [indicator, list] of Object.entries(resourceScopes)) {
      grant.addResourceScope(indicator, stringList(list).join(' '));
    }
  }
  return grant.save();
}

async function route(
  provider: Provider,
  users: readonly DevUser[],
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  action: string | undefined,
): Promise<void> {
  const interaction = await provider.interactionDetails(req, res);
  if (interaction.uid !== uid) {
    send(res, 400, plainPage('Sign-in failed', 'This sign-in page is stale; start the login again.'));
    return;
  }
  const clientId = String(interaction.params.client_id);
  const page = (error?: string, login?: string): string =>
    loginPage({ uid, clientId, usernames: users.map((u) => u.username), ...(error ? { error } : {}), ...(login ? { login } : {}) });

  if (action === 'abort') {
    const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  } else if (action === 'login' && req.method === 'POST' && interaction.prompt.name === 'login') {
    const form = await readForm(req);
    if (form === undefined) {
      send(res, 413, plainPage('Sign-in failed', 'The form is too large.'));
      return;
    }
    const login = form.get('login') ?? '';
    const user = checkPassword(users, login, form.get('password') ?? '');
    if (user === undefined) {
      send(res, 200, page(LOGIN_FAILED, login));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.id } }, { mergeWithLastSubmission: false });
  } else if (action === undefined && req.method === 'GET' && interaction.prompt.name === 'login') {
    const hint = interaction.params.login_hint;
    send(res, 200, page(undefined, typeof hint === 'string' ? hint : undefined));
  } else if (action === undefined && req.method === 'GET' && interaction.prompt.name === 'consent') {
    const grantId = await grantConsent(provider, interaction);
    await provider.interactionFinished(req, res, { consent: { grantId } });
  } else {
    send(res, 400, plainPage('Sign-in failed', 'This step is not available here; start the login again.'));
  }
}

/** True when the path is one of the interaction routes answered by `handleInteraction`. */
export function isInteractionPath(pathname: string): boolean {
  return ROUTE.test(pathname);
}

export async function handleInteraction(
  provider: Provider,
  users: readonly DevUser[],
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  const uid = ROUTE.exec(pathname)?.[1];
  if (uid === undefined) {
    send(res, 404, plainPage('Not found', 'No such sign-in step.'));
    return;
  }
  try {
    await route(provider, users, req, res, uid, ROUTE.exec(pathname)?.[2]);
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const expired = err instanceof Error && err.name === 'SessionNotFound';
    const message = expired ? 'The sign-in session is missing or expired; start the login again.' : 'The sign-in failed.';
    send(res, expired ? 400 : 500, plainPage('Sign-in failed', message));
  }
}
