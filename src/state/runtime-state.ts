/**
 * The runtime state built from one compiled config: the decision pipeline's context (routes,
 * authenticator chain, token settings), key stores, verifier, and what the terminals need
 * compiled once per config (header policy, forward-auth source filter). `serve` holds one
 * reference and swaps it whole on SIGHUP; a request keeps the state it started with.
 */
import type { IssuerConfig, RuntimeConfig } from '../config/types.js';
import { createJwtAuthenticator } from '../authn/jwt.js';
import { loadPlugin } from '../authn/plugin-loader.js';
import { createSourceFilter } from '../http/source-filter.js';
import type { ChainEntry, PipelineContext } from '../pipeline/context.js';
import { compileRoutes } from '../pipeline/match-route.js';
import { compileHeaderPolicy } from '../proxy/upstream-headers.js';
import type { HeaderPolicy } from '../proxy/upstream-headers.js';
import { createKeyStore, createVerifier } from '../verify/index.js';
import type { KeyStore, Verifier } from '../verify/index.js';
import type { KeyStoreEvents } from '../verify/types.js';

export interface RuntimeState {
  readonly config: RuntimeConfig;
  readonly pipeline: PipelineContext;
  readonly stores: ReadonlyMap<string, KeyStore>;
  readonly verifier: Verifier;
  readonly headerPolicy: HeaderPolicy;
  /** Whether a peer address may call the forward-auth endpoint. */
  trustedSource(ip: string): boolean;
  /** Lower-case host of `public_url`, if set. */
  readonly publicHost: string | undefined;
  /** Every issuer's keys are loaded. */
  isReady(): boolean;
  /**
   * Stops background refreshes and closes plug-ins; stores in `keep` (still used by another
   * state) stay open. Called by the state holder once no request uses this state (leases.ts).
   */
  close(keep?: ReadonlySet<KeyStore>): Promise<void>;
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
  reuse: ReadonlyMap<string, KeyStore> = new Map(),
): { stores: Map<string, KeyStore>; verifier: Verifier } {
  const stores = new Map<string, KeyStore>(
    issuers.map((issuer) => [issuer.name, reuse.get(issuer.name) ?? createKeyStore(issuer, events ? { events } : {})]),
  );
  return { stores, verifier: createVerifier(issuers, stores, { cacheSize }) };
}

/**
 * Key stores of issuers whose settings did not change carry over to the next state with their
 * keys, stale window and timers: a reload (or a logrotate SIGHUP) during an IdP outage keeps
 * serving the last good keys. The verified-token cache is never carried over.
 */
function reusableStores(config: RuntimeConfig, previous: RuntimeState | undefined): Map<string, KeyStore> {
  const reuse = new Map<string, KeyStore>();
  for (const issuer of config.issuers) {
    const before = previous?.config.issuers.find((i) => i.name === issuer.name);
    const store = previous?.stores.get(issuer.name);
    if (before && store && JSON.stringify(before) === JSON.stringify(issuer)) reuse.set(issuer.name, store);
  }
  return reuse;
}

export async function buildState(config: RuntimeConfig, deps: StateDeps = {}, previous?: RuntimeState): Promise<RuntimeState> {
  const reuse = reusableStores(config, previous);
  const { stores, verifier } = buildVerification(config.issuers, config.cache.verifiedTokens, deps.events, reuse);
  const fresh = [...stores.values()].filter((store) => ![...reuse.values()].includes(store));
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
    for (const store of fresh) store.close();
    throw err;
  }
  await Promise.all(fresh.map((store) => store.start()));
  return {
    config,
    pipeline: { routes: compileRoutes(config.routes), chain, tokens: config.tokens },
    stores,
    verifier,
    headerPolicy: compileHeaderPolicy({
      cookieName: config.login?.cookie.name ?? config.tokens.cookie,
      stripHeaders: config.stripHeaders,
    }),
    trustedSource: createSourceFilter(config.forwardAuth.trustedSources),
    publicHost: config.publicUrl === undefined ? undefined : new URL(config.publicUrl).host.toLowerCase(),
    isReady: () => [...stores.values()].every((store) => store.isReady()),
    async close(keep) {
      for (const store of stores.values()) if (!keep?.has(store)) store.close();
      await closeChain(chain);
    },
  };
}

/** Closes every plug-in, even after one failed; then throws naming the ones that failed. */
async function closeChain(chain: readonly ChainEntry[]): Promise<void> {
  const failed: string[] = [];
  for (const entry of chain) {
    if (entry.kind !== 'plugin') continue;
    try {
      await entry.authenticator.close?.();
    } catch {
      failed.push(entry.authenticator.name);
    }
  }
  if (failed.length > 0) {
    throw Object.assign(new Error('a plug-in failed to close'), { code: 'ERR_PLUGIN_CLOSE', authenticator: failed.join(',') });
  }
}
