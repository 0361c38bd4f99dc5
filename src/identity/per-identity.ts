/**
 * A value derived from an identity (and whether the route forwards the token), built once per
 * identity object: a cached verdict hands the same identity to every hit, so what is derived
 * from it is derived once per verdict, not per request. Weakly held: a value lives as long as
 * its verdict.
 */
import type { Identity } from './types.js';

export function perIdentity<T extends object>(build: (identity: Identity, forwardToken: boolean) => T): (identity: Identity, forwardToken: boolean) => T {
  const built = [new WeakMap<Identity, T>(), new WeakMap<Identity, T>()] as const;
  return (identity, forwardToken) => {
    const memo = built[forwardToken ? 1 : 0];
    let value = memo.get(identity);
    if (value === undefined) memo.set(identity, (value = build(identity, forwardToken)));
    return value;
  };
}
