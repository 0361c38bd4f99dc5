/**
 * Bounded JSON GET towards an identity provider (discovery document, JWKS).
 *
 * Enforces: one TOTAL deadline covering connect, headers and body (not an idle timeout);
 * a 1 MiB cap on the body, read incrementally and aborted beyond the cap; no redirect is
 * followed (a 3xx is an error like any status other than 200); the body is JSON.
 * Failures are values with a short detail that never holds the response body.
 */
import { request } from 'undici';
import type { Dispatcher } from 'undici';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface GetDeps {
  readonly dispatcher?: Dispatcher | undefined;
}

export type GetJsonResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly detail: string };

const OVER_CAP: GetJsonResult = { ok: false, detail: 'body over 1 MiB' };

export async function getJson(url: string, timeoutMs: number, deps: GetDeps = {}): Promise<GetJsonResult> {
  const signal = AbortSignal.timeout(timeoutMs);
  // `maxRedirections: 0` also switches off a redirect interceptor composed into a global
  // dispatcher; undici's own `request` follows none. Passed as a variable: undici 7's types
  // no longer list it.
  const options = {
    method: 'GET' as const,
    signal,
    headers: { accept: 'application/json' },
    maxRedirections: 0,
    ...(deps.dispatcher === undefined ? {} : { dispatcher: deps.dispatcher }),
  };
  try {
    const res = await request(url, options);
    if (res.statusCode !== 200) {
      discard(res.body);
      return { ok: false, detail: `HTTP ${res.statusCode}` };
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
      discard(res.body);
      return OVER_CAP;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      total += buf.length;
      if (total > MAX_BODY_BYTES) {
        discard(res.body);
        return OVER_CAP;
      }
      chunks.push(buf);
    }
    return parseJson(Buffer.concat(chunks));
  } catch (err) {
    if (signal.aborted) return { ok: false, detail: 'timeout' };
    return { ok: false, detail: networkDetail(err) };
  }
}

/**
 * Stops reading and closes the connection. undici reports a destroyed body as an 'error'
 * event; without a listener that event would crash the process.
 */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function parseJson(body: Buffer): GetJsonResult {
  try {
    const value: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
    return { ok: true, value };
  } catch {
    return { ok: false, detail: 'invalid JSON' };
  }
}

/** Only the error code (a fixed token such as ECONNREFUSED) leaves this module. */
function networkDetail(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? `network error ${code}` : 'network error';
}
