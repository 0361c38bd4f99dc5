/**
 * Registered-claim checks of a token payload, with the issuer's clock skew.
 *
 * Enforces: `exp` required and a finite number (missing: missing_claim; a string, NaN-like or
 * 1e400 = Infinity: malformed), expired at `exp <= now - skew`; `nbf` and `iat`, when present
 * (`iat` always, where required), finite and not after `now + skew` (jose leaves a future `iat`
 * alone); `sub` a non-empty string; `aud` (string or array of strings only) contains one of
 * the configured audiences when there are any. `iss` is matched earlier, when the issuer is
 * selected.
 */
import type { TokenReason } from '../errors.js';

export interface ClaimRequirements {
  readonly audiences: readonly string[];
  readonly clockSkewSec: number;
  /** `iat` must be present (ID tokens). */
  readonly requireIat?: boolean;
}

export type ClaimsResult =
  | { readonly ok: true; readonly exp: number; readonly sub: string }
  | { readonly ok: false; readonly reason: TokenReason; readonly detail: string };

type Optional = { ok: true; value: number | undefined } | { ok: false };

function deny(reason: TokenReason, detail: string): ClaimsResult {
  return { ok: false, reason, detail };
}

function numericDate(value: unknown): Optional {
  if (value === undefined) return { ok: true, value: undefined };
  return typeof value === 'number' && Number.isFinite(value) ? { ok: true, value } : { ok: false };
}

function audienceMatches(aud: unknown, audiences: readonly string[]): boolean | undefined {
  if (typeof aud === 'string') return audiences.includes(aud);
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud.some((a) => audiences.includes(a));
  return aud === undefined ? false : undefined;
}

export function checkClaims(payload: Readonly<Record<string, unknown>>, req: ClaimRequirements, nowMs: number): ClaimsResult {
  const now = nowMs / 1000;
  const skew = req.clockSkewSec;
  const { exp } = payload;
  if (exp === undefined) return deny('missing_claim', 'exp missing');
  if (req.requireIat === true && payload.iat === undefined) return deny('missing_claim', 'iat missing');
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return deny('malformed', 'exp not a finite number');
  const nbf = numericDate(payload.nbf);
  const iat = numericDate(payload.iat);
  if (!nbf.ok) return deny('malformed', 'nbf not a finite number');
  if (!iat.ok) return deny('malformed', 'iat not a finite number');
  if (exp <= now - skew) return deny('expired', 'exp passed');
  if (nbf.value !== undefined && nbf.value > now + skew) return deny('not_before', 'nbf in the future');
  if (iat.value !== undefined && iat.value > now + skew) return deny('issued_in_future', 'iat in the future');
  const { sub } = payload;
  if (typeof sub !== 'string' || sub === '') return deny('missing_claim', 'sub missing');
  if (req.audiences.length > 0) {
    const matches = audienceMatches(payload.aud, req.audiences);
    if (matches === undefined) return deny('malformed', 'aud not a string or string array');
    if (!matches) return deny('bad_audience', 'aud has none of the audiences');
  }
  return { ok: true, exp, sub };
}
