/**
 * The runtime state built from one compiled config: route matcher, key stores, verifier and the
 * ordered authenticator chain. `serve` holds one reference and swaps it whole on SIGHUP
 * (pomerium's state swap); a request keeps the state it started with.
 */
import type { IssuerConfig, RuntimeConfig } from '../config/types.js';
import { createJwtAuthenticator } from '../authn/jwt.js';
import type { JwtAuthenticator } from '../authn/jwt.js';
import { loadPlugin } from '../authn/plugin-loader.js';
import type { Authenticator } from '../authn/types.js';
import { compileRoutes } from '../pipeline/match-route.js';
import type { RouteMatcher } from '../pipeline/match-route.js';
import { createKeyStore, createVerifier } from '../verify/index.js';
import type { KeyStore, Verifier } from '../verify/index.js';
import type { KeyStoreEvents } from '../verify/types.js';

export type ChainEntry =
  | { readonly kind: 'jwt'; readonly jwt: JwtAuthenticator }
  | { readonly kind: 'plugin'; readonly authenticator: Authenticator };

export interface RuntimeState {
  readonly config: RuntimeConfig;
  readonly routes: RouteMatcher;
  readonly stores: ReadonlyMap<string, KeyStore>;
  readonly verifier: Verifier;
  readonly chain: readonly ChainEntry[];
  /** Every issuer's keys are loaded. */
  isReady(): boolean;
  /** Stops background refreshes and closes plug-ins. */
  close(): Promise<void>;
}

export interface StateDeps {
  readonly events?: KeyStoreEvents;
  readonly pluginLog?: (message: string, fields?: Record<string, string | number | boolean>) => void;
}

/** Key stores and the verifier alone: what `verify` and `check --online` need. */
export function buildVerification(
  issuers: readonly IssuerConfig[],
  cacheSize: number,
  events?: KeyStoreEvents,
): { stores: Map<string, KeyStore>; verifier: Verifier } {
  const stores = new Map<string, KeyStore>(
    issuers.map((issuer) => [issuer.name, createKeyStore(issuer, events ? { events } : {})]),
  );
  return { stores, verifier: createVerifier(issuers, stores, { cacheSize }) };
}

export async function buildState(config: RuntimeConfig, deps: StateDeps = {}): Promise<RuntimeState> {
  const { stores, verifier } = buildVerification(config.issuers, config.cache.verifiedTokens, deps.events);
  const log = deps.pluginLog ?? (() => undefined);
  const chain: ChainEntry[] = [];
  try {
    for (const [index, entry] of config.authenticators.entries()) {
      if (entry.type === 'jwt') {
        chain.push({ kind: 'jwt', jwt: createJwtAuthenticator(verifier, config.issuers) });
      } else {
        const authenticator = await loadPlugin(index, entry.path, entry.options, config.file, log);
        chain.push({ kind: 'plugin', authenticator });
      }
    }
  } catch (err) {
    await closeChain(chain);
    throw err;
  }
  await Promise.all([...stores.values()].map((store) => store.start()));
  return {
    config,
    routes: compileRoutes(config.routes),
    stores,
    verifier,
    chain,
    isReady: () => [...stores.values()].every((store) => store.isReady()),
    async close() {
      for (const store of stores.values()) store.close();
      await closeChain(chain);
    },
  };
}

async function closeChain(chain: readonly ChainEntry[]): Promise<void> {
  for (const entry of chain) {
    if (entry.kind === 'plugin') await entry.authenticator.close?.();
  }
}
