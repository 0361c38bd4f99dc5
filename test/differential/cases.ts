/**
 * The request targets of the differential suite: a fast-check arbitrary of plain records (so
 * fast-check shrinks them field by field: fewer mutations, simpler method and host) and their
 * rendering to the bytes sent on a raw socket, where nothing normalises them first.
 *
 * A case is a base path of the routes config, mutated by case variants of a segment,
 * percent-encoded letters, look-alike and overlong encodings of letters, encoded and odd
 * separators (`%2F`, `\`, `%5C`, `/./`, doubled slashes), inserted segments (`.`, `..`, their
 * encodings, `;params`, non-ASCII raw and encoded, overlong and invalid UTF-8), segment
 * suffixes and trailing text — sent with a method, a Host, an absolute-form prefix or not, and
 * the user's token or none.
 */
import fc from 'fast-check';

/** Base paths, as segments; the first ones are the areas worth reaching. */
export const BASES: readonly (readonly string[])[] = [
  ['admin', 'users'],
  ['reports', 'q1'],
  ['api', 'internal', 'keys'],
  ['public', 'secret'],
  ['admin'],
  ['reports'],
  ['api', 'internal'],
  ['public'],
  ['other'],
  [],
];

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'get'] as const;
export const HOSTS = [
  'app.example.test',
  'admin.example.test',
  'ADMIN.EXAMPLE.TEST',
  'Admin.Example.Test:8443',
  'admin.example.test.',
  'www.example.test:80',
  '127.0.0.1',
  null,
] as const;
export const ABSOLUTE = [null, 'http://app.example.test', 'http://admin.example.test', 'HTTP://Admin.Example.Test:80', 'https://admin.example.test'] as const;
export const TOKENS = ['user', 'none'] as const;

const CASE_STYLES = ['upper', 'title', 'alternate', 'last-upper'] as const;
const SEPARATORS = ['//', '\\', '%2F', '%2f', '%5C', '%5c', '/./', '/%2E/', '/%2e/', '/x/../', '/%2E%2E/', '/.%2E/', '///'] as const;
const SEGMENTS = [
  '.', '..', '%2E', '%2e', '%2E%2E', '.%2e', '..;', ';', ';x=1', '%3B', 'x;/..', '%C3%A9', 'é', 'ü%C3%BC',
  '%C0%AE', '%C0%AE%C0%AE', '%C0%AF', '%E0%80%AF', '%C1%9C', '%FF', '%C3', '%ED%A0%80', '%00', '%25', '~', '%7E',
  'public', 'public/..', 'PUBLIC/..', 'admin', 'ADMIN',
] as const;
const SUFFIXES = [';x=1', ';', '%3B', '%3Bx=1', ';jsessionid=1', '.', '%2E', '..', '%20', '%09', '~', '%2F', '%5C', '\\', '%C0%AF', 'é', '%C3%A9', '%00', '.json', '/', '%23'] as const;
const TRAILING = ['/', '//', '/.', '/..', '/%2E', '/%2e%2e', '?x=1', '?/admin', '?..', '#f', ';', '%2F', '\\', '/;', '%20', '.'] as const;
const LOOKALIKE_FORMS = ['raw', 'escaped'] as const;
const HEX_CASES = ['upper', 'lower'] as const;

export type Mutation =
  | { readonly kind: 'case'; readonly seg: number; readonly style: (typeof CASE_STYLES)[number] }
  | { readonly kind: 'escape-letter'; readonly seg: number; readonly char: number; readonly hex: (typeof HEX_CASES)[number] }
  | { readonly kind: 'lookalike'; readonly seg: number; readonly char: number; readonly form: (typeof LOOKALIKE_FORMS)[number] }
  | { readonly kind: 'overlong-letter'; readonly seg: number; readonly char: number }
  | { readonly kind: 'separator'; readonly at: number; readonly sep: (typeof SEPARATORS)[number] }
  | { readonly kind: 'segment'; readonly at: number; readonly text: (typeof SEGMENTS)[number] }
  | { readonly kind: 'suffix'; readonly seg: number; readonly text: (typeof SUFFIXES)[number] }
  | { readonly kind: 'trailing'; readonly text: (typeof TRAILING)[number] };

export interface GeneratedCase {
  readonly base: number;
  readonly mutations: readonly Mutation[];
  readonly method: (typeof METHODS)[number];
  readonly host: (typeof HOSTS)[number];
  readonly absolute: (typeof ABSOLUTE)[number];
  readonly token: (typeof TOKENS)[number];
}

/** Whose token a request carries: generated cases never use `admin` (the baseline does). */
export type TokenName = (typeof TOKENS)[number] | 'admin';

/** What goes on the wire: the corpus stores these. `target` is sent as UTF-8. */
export interface WireRequest {
  readonly method: string;
  readonly target: string;
  readonly host: string | null;
  readonly token: TokenName;
}

const index = fc.nat({ max: 7 });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('case' as const), seg: index, style: fc.constantFrom(...CASE_STYLES) }) },
  fc.record({ kind: fc.constant('escape-letter' as const), seg: index, char: index, hex: fc.constantFrom(...HEX_CASES) }),
  fc.record({ kind: fc.constant('lookalike' as const), seg: index, char: index, form: fc.constantFrom(...LOOKALIKE_FORMS) }),
  fc.record({ kind: fc.constant('overlong-letter' as const), seg: index, char: index }),
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('separator' as const), at: index, sep: fc.constantFrom(...SEPARATORS) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('segment' as const), at: index, text: fc.constantFrom(...SEGMENTS) }) },
  fc.record({ kind: fc.constant('suffix' as const), seg: index, text: fc.constantFrom(...SUFFIXES) }),
  fc.record({ kind: fc.constant('trailing' as const), text: fc.constantFrom(...TRAILING) }),
);

export const caseArbitrary: fc.Arbitrary<GeneratedCase> = fc.record({
  base: fc.nat({ max: BASES.length - 1 }),
  mutations: fc.array(mutation, { maxLength: 3 }),
  method: fc.constantFrom(...METHODS),
  host: fc.constantFrom(...HOSTS),
  absolute: fc.oneof({ withCrossShrink: true }, { weight: 4, arbitrary: fc.constant(null) }, fc.constantFrom(...ABSOLUTE.slice(1))),
  token: fc.constantFrom(...TOKENS),
});

/** Characters that some Unicode case mappings turn into an ASCII letter (ı→I, ſ→S, K→k). */
const LOOKALIKES: Readonly<Record<string, string>> = { i: '\u0131', s: '\u017f', k: '\u212a', I: '\u0131', S: '\u017f', K: '\u212a' };

function utf8Escaped(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
}

/** The two-byte overlong UTF-8 form of an ASCII character (`a` → `%C1%A1`). */
function overlong(ch: string): string {
  const code = ch.charCodeAt(0);
  return `%${(0xc0 | (code >> 6)).toString(16).toUpperCase()}%${(0x80 | (code & 0x3f)).toString(16).toUpperCase()}`;
}

/** Replaces the `char`-th letter (modulo the letters there are) of a plain segment. */
function replaceLetter(segment: string, char: number, replace: (letter: string) => string): string {
  const letters = [...segment.matchAll(/[A-Za-z]/g)];
  if (letters.length === 0) return segment;
  const at = letters[char % letters.length]!.index;
  return segment.slice(0, at) + replace(segment.charAt(at)) + segment.slice(at + 1);
}

function caseVariant(segment: string, style: (typeof CASE_STYLES)[number]): string {
  switch (style) {
    case 'upper':
      return segment.toUpperCase();
    case 'title':
      return segment.charAt(0).toUpperCase() + segment.slice(1);
    case 'alternate':
      return [...segment].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');
    case 'last-upper':
      return segment.slice(0, -1) + segment.slice(-1).toUpperCase();
  }
}

/** Applies one mutation to the segments and their separators (separator i precedes segment i). */
function apply(segs: string[], seps: string[], tail: string[], m: Mutation): void {
  switch (m.kind) {
    case 'case':
    case 'escape-letter':
    case 'lookalike':
    case 'overlong-letter':
    case 'suffix': {
      if (segs.length === 0) return;
      const i = m.seg % segs.length;
      const s = segs[i]!;
      if (m.kind === 'case') segs[i] = caseVariant(s, m.style);
      else if (m.kind === 'escape-letter')
        segs[i] = replaceLetter(s, m.char, (c) => {
          const hex = c.charCodeAt(0).toString(16);
          return `%${m.hex === 'upper' ? hex.toUpperCase() : hex}`;
        });
      else if (m.kind === 'lookalike')
        segs[i] = replaceLetter(s, m.char, (c) => {
          const look = LOOKALIKES[c] ?? String.fromCharCode(c.charCodeAt(0) + 0xfee0); // fullwidth form
          return m.form === 'raw' ? look : utf8Escaped(look);
        });
      else if (m.kind === 'overlong-letter') segs[i] = replaceLetter(s, m.char, overlong);
      else segs[i] = s + m.text;
      return;
    }
    case 'separator':
      if (seps.length > 0) seps[m.at % seps.length] = m.sep;
      return;
    case 'segment': {
      const at = m.at % (segs.length + 1);
      segs.splice(at, 0, m.text);
      seps.splice(at, 0, '/');
      return;
    }
    case 'trailing':
      tail.push(m.text);
      return;
  }
}

/** The path of a case: its base with every mutation applied, in order. */
export function renderPath(c: Pick<GeneratedCase, 'base' | 'mutations'>): string {
  const segs = [...(BASES[c.base] ?? [])];
  const seps = segs.map(() => '/');
  const tail: string[] = [];
  for (const m of c.mutations) apply(segs, seps, tail, m);
  const path = segs.length === 0 ? '/' : segs.map((s, i) => `${seps[i]}${s}`).join('');
  const joined = path + tail.join('');
  return joined.startsWith('/') ? joined : `/${joined}`;
}

export function toWire(c: GeneratedCase): WireRequest {
  return { method: c.method, target: `${c.absolute ?? ''}${renderPath(c)}`, host: c.host, token: c.token };
}

/** The request bytes: request line, Host (unless null), Authorization, an empty body. */
export function requestBytes(req: WireRequest, token: string | undefined): Buffer {
  const lines = [`${req.method} ${req.target} HTTP/1.1`];
  if (req.host !== null) lines.push(`Host: ${req.host}`);
  if (token !== undefined) lines.push(`Authorization: Bearer ${token}`);
  lines.push('Content-Length: 0', 'Connection: close', '', '');
  return Buffer.from(lines.join('\r\n'), 'utf8');
}

/** One line for a failure message: method, target (bytes above 0x7F escaped), host, token. */
export function describe(req: WireRequest): string {
  const target = req.target.replace(/[^\x20-\x7e]/gu, (ch) => `<${utf8Escaped(ch)}>`);
  return `${req.method} ${target} (Host: ${req.host ?? '-'}, token: ${req.token})`;
}
