/**
 * The request id (every response carries `X-Request-Id`).
 *
 * Enforces: a client-sent id is kept only when it is one value of 1 to 128 characters from
 * `[A-Za-z0-9._:-]`, so it can go into headers, JSON bodies and log lines without escaping or
 * injection; anything else (missing, repeated, too long, other characters) gets a fresh UUID.
 */

import { randomUUID } from 'node:crypto';

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && SANE_ID.test(header)) return header;
  return randomUUID();
}
