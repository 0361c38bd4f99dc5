/**
 * The password-login request body (docs/login.md): `{"username","password"}` as JSON or as
 * `application/x-www-form-urlencoded`.
 *
 * Enforces: the content type is one of those two (parameters such as charset allowed), checked
 * before a byte is read; at most 16 KiB, refused from `Content-Length` at once or as soon as
 * the stream passes the cap (reading stops there); UTF-8 only; JSON must be an object; a form
 * field given twice is refused (no first-or-last ambiguity); `username` and `password` are
 * non-empty strings of at most 1024 characters. Failures are values and never echo the body.
 */
import type { IncomingMessage } from 'node:http';
import { isObject } from '../util/object.js';

export const MAX_BODY_BYTES = 16 * 1024;
export const MAX_FIELD_LENGTH = 1024;

export type BodyResult =
  | { readonly ok: true; readonly username: string; readonly password: string }
  | { readonly ok: false; readonly reason: 'invalid_request' | 'payload_too_large' };

const INVALID: BodyResult = { ok: false, reason: 'invalid_request' };
const TOO_LARGE: BodyResult = { ok: false, reason: 'payload_too_large' };

type BodyKind = 'json' | 'form';

export function bodyKind(contentType: string | undefined): BodyKind | undefined {
  const mime = contentType?.split(';')[0]?.trim().toLowerCase();
  if (mime === 'application/json') return 'json';
  if (mime === 'application/x-www-form-urlencoded') return 'form';
  return undefined;
}

/** Reads at most `cap` bytes; undefined when the body is longer (the rest is left unread). */
function readCapped(req: IncomingMessage, cap: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total > cap) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function field(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_FIELD_LENGTH ? value : undefined;
}

function fromJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function fromForm(text: string): Record<string, unknown> | undefined {
  const params = new URLSearchParams(text);
  const out: Record<string, unknown> = {};
  for (const name of ['username', 'password']) {
    const values = params.getAll(name);
    if (values.length > 1) return undefined;
    out[name] = values[0];
  }
  return out;
}

export async function readLoginBody(req: IncomingMessage, cap = MAX_BODY_BYTES): Promise<BodyResult> {
  const kind = bodyKind(req.headers['content-type']);
  if (kind === undefined) return INVALID;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > cap) return TOO_LARGE;
  const raw = await readCapped(req, cap);
  if (raw === undefined) return TOO_LARGE;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return INVALID;
  }
  const fields = kind === 'json' ? fromJson(text) : fromForm(text);
  if (fields === undefined) return INVALID;
  const username = field(fields.username);
  const password = field(fields.password);
  return username === undefined || password === undefined ? INVALID : { ok: true, username, password };
}
