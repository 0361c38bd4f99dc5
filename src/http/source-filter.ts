/**
 * Who may call the forward-auth endpoint (`forward_auth.trusted_sources`), compiled once per
 * config.
 */
import { addressMatcher } from './client-address.js';

/** Matches a caller address against `forward_auth.trusted_sources`; empty means everyone. */
export function createSourceFilter(sources: readonly string[]): (ip: string) => boolean {
  return sources.length === 0 ? () => true : addressMatcher(sources);
}
