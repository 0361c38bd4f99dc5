/**
 * `portcullis verify -c FILE [TOKEN|-]`: verifies one token exactly as `serve` would (same key
 * stores, same checks) and prints `{ decision, reason, issuer, claims, identity }` as JSON on
 * stdout. Exit 0 when valid, 1 when not (or when the config is invalid), 2 without a token.
 * The token itself is never printed.
 */
import { text } from 'node:stream/consumers';
import { decodeJwt } from 'jose';
import { formatProblem, loadConfigFile } from '../config/index.js';
import { identityFromClaims } from '../identity/claims.js';
import { buildVerification } from '../state/runtime-state.js';

async function readToken(arg: string | undefined): Promise<string | undefined> {
  if (arg === '-') return (await text(process.stdin)).trim();
  return arg?.trim();
}

function unverifiedClaims(token: string): Record<string, unknown> | null {
  try {
    return decodeJwt(token);
  } catch {
    return null;
  }
}

export async function runVerify(file: string, tokenArg: string | undefined, out = process.stdout): Promise<number> {
  const token = await readToken(tokenArg);
  if (!token) {
    process.stderr.write('error: no token; pass it as an argument or "-" to read standard input\n');
    return 2;
  }
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return 1;
  }
  const { config } = loaded;
  const { stores, verifier } = buildVerification(config.issuers, 1);
  try {
    await Promise.all([...stores.values()].map((s) => s.start()));
    const result = await verifier.verify(token);
    if (!result.ok) {
      out.write(
        `${JSON.stringify({ decision: 'denied', reason: result.reason, unverified_claims: unverifiedClaims(token) }, null, 2)}\n`,
      );
      return 1;
    }
    const issuer = config.issuers.find((i) => i.name === result.token.issuer);
    const claims = result.token.claims;
    const identity = issuer ? identityFromClaims(claims, issuer.claims, issuer.issuer) : undefined;
    out.write(
      `${JSON.stringify({ decision: 'allowed', reason: null, issuer: result.token.issuer, claims, identity }, null, 2)}\n`,
    );
    return 0;
  } finally {
    for (const store of stores.values()) store.close();
  }
}
