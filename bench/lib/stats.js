/**
 * The two statistics of the bench: the median (every figure of a row is the median of its
 * rounds) and the paired ratio (a target ratio is the median over rounds of the subject's round
 * r over its reference's round r, the two measured within a minute or two of each other).
 */

/**
 * The median of `values` (the mean of the middle two for an even count).
 * @param {readonly number[]} values
 * @returns {number}
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? /** @type {number} */ (sorted[mid]) : (/** @type {number} */ (sorted[mid - 1]) + /** @type {number} */ (sorted[mid])) / 2;
}

/**
 * Round r of `subject` over round r of `reference` for every round, and their median. Both
 * lists come from the same interleaved run, so they have one figure per round each.
 * @param {readonly number[]} subject
 * @param {readonly number[]} reference
 * @returns {{ ratio: number, perRound: number[] }}
 */
export function pairedRatio(subject, reference) {
  if (subject.length !== reference.length || subject.length === 0) {
    throw new Error(`paired ratio over ${subject.length} and ${reference.length} rounds: both need the same number, at least one`);
  }
  const perRound = subject.map((value, r) => value / /** @type {number} */ (reference[r]));
  return { ratio: median(perRound), perRound };
}
