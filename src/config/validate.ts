/**
 * The schema pass: ajv checks a document against `ConfigSchema` with every error collected
 * (`allErrors`), fills in the defaults, and each ajv error becomes a finding that says what is
 * wrong and what to do. Messages never quote the offending value (it may be a secret).
 */
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { parseDuration } from './duration.js';
import type { Finding, Segment } from './locate.js';
import { ConfigSchema } from './schema.js';
import type { ConfigDoc, FormatName } from './schema.js';

const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

const FORMATS: Record<FormatName, { test: (s: string) => boolean; message: string }> = {
  duration: {
    test: (s) => parseDuration(s) !== undefined,
    message: 'invalid duration; write e.g. 500ms, 30s, 10m, 24h, 1h30m or a number of seconds',
  },
  listen: {
    test: (s) => Number(LISTEN.exec(s)?.[3] ?? NaN) <= 65535,
    message: 'invalid listen address; write host:port, e.g. 0.0.0.0:8080 or [::1]:8080',
  },
  header: {
    test: (s) => /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(s),
    message: 'invalid header name; use letters, digits and dashes, e.g. x-forwarded-user',
  },
};

// coerceTypes: a number or boolean where text is expected is read as text (a numeric secret
// from the environment stays a valid client_secret), and "true"/"3" where the schema wants them.
const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, allowUnionTypes: true, coerceTypes: true });
for (const [name, { test }] of Object.entries(FORMATS)) ajv.addFormat(name, { type: 'string', validate: test });
const check = ajv.compile<ConfigDoc>(ConfigSchema);

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'a boolean (true or false)',
  null: 'empty (~)',
};

function kindOf(data: unknown): string {
  if (data === null) return 'an empty value';
  if (Array.isArray(data)) return 'a list';
  return typeof data === 'object' ? 'a mapping' : `a ${typeof data}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/** `unknown key; did you mean "roles"?` when a known key is within two edits. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const [best] = known
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k) }))
    .filter(({ d }) => d <= 2)
    .sort((x, y) => x.d - y.d);
  return best ? `unknown key; did you mean "${best.k}"?` : 'unknown key; remove it or check the spelling';
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'type': {
      const want = ([] as string[]).concat(p.type as string).map((t) => TYPE_NAMES[t] ?? t);
      const hint = e.data === null && want.includes('a mapping') ? ' (write {} for an empty mapping)' : '';
      return `must be ${want.join(' or ')}, not ${kindOf(e.data)}; change the value${hint}`;
    }
    case 'enum':
      return `invalid value; use one of: ${(p.allowedValues as string[]).join(', ')}`;
    case 'format':
      return FORMATS[p.format as FormatName].message;
    case 'minimum':
      if ((e.parentSchema as { format?: string }).format === 'duration') return FORMATS.duration.message;
      return `must be at least ${String(p.limit)}; raise the value`;
    case 'maximum':
      return `must be at most ${String(p.limit)}; lower the value`;
    case 'minLength':
      return 'must not be empty; write a value or remove the key';
    case 'minItems':
      return 'must not be an empty list; add an entry or remove the key';
    default:
      return `${e.message ?? 'invalid value'}; fix the value`;
  }
}

function toFinding(e: ErrorObject): Finding {
  const path: Segment[] = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    const key = String(p.additionalProperty);
    const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
    return { path: [...path, key], message: unknownKeyMessage(key, known), atKey: true };
  }
  if (e.keyword === 'required') {
    const key = String(p.missingProperty);
    return { path, message: `missing required key "${key}"; add ${key}: to this mapping` };
  }
  return { path, message: describe(e) };
}

/** Validates `data` and fills in its defaults in place. */
export function validateSchema(data: unknown): { ok: true; doc: ConfigDoc } | { ok: false; findings: Finding[] } {
  return check(data) ? { ok: true, doc: data } : { ok: false, findings: (check.errors ?? []).map(toFinding) };
}
