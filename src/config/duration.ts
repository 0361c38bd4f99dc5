/**
 * Durations in the config (docs/configuration.md): `500ms`, `30s`, `10m`, `24h`, `1d`, combinations in
 * descending order (`1h30m`, `1d12h`), or bare numbers meaning seconds. Negative, empty,
 * non-finite and unordered values are refused, so a typo never becomes a zero timeout.
 */

/** Milliseconds per unit, in the order the units must appear: d, h, m, s, ms. */
const UNITS_MS = [86_400_000, 3_600_000, 60_000, 1000, 1] as const;
const NUMBER = String.raw`\d+(?:\.\d+)?`;
const BARE = new RegExp(`^${NUMBER}$`);
const COMBINED = new RegExp(
  `^(?:(${NUMBER})d)?(?:(${NUMBER})h)?(?:(${NUMBER})m)?(?:(${NUMBER})s)?(?:(${NUMBER})ms)?$`,
);

/** Milliseconds for a duration value, or undefined when it is not a valid duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') {
    return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  }
  const text = value.trim();
  if (BARE.test(text)) return parseDuration(Number(text));
  const parts = COMBINED.exec(text);
  if (text === '' || parts === null) return undefined;
  let total = 0;
  UNITS_MS.forEach((unit, i) => {
    const part = parts[i + 1];
    if (part !== undefined) total += Number(part) * unit;
  });
  return Number.isFinite(total) ? total : undefined;
}
