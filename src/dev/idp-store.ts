/**
 * In-memory storage adapter of the development IdP.
 *
 * Enforces: one store shared by every Provider instance of one IdP, so sessions, grants and
 * refresh tokens survive a key rotation (which restarts the provider); expiry on read; revoking
 * a grant removes every token issued under it; the `Client` model is answered from live client
 * metadata, so redirect URIs added at run time apply to the next request. Nothing is persisted.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  readonly payload: AdapterPayload;
  /** Milliseconds since the epoch; Infinity when the model gave no lifetime. */
  readonly expiresAt: number;
}

export interface IdpStore {
  /** The `adapter` option of the provider configuration. */
  readonly adapterFor: (model: string) => Adapter;
}

export function createIdpStore(clientMetadata: (clientId: string) => AdapterPayload | undefined): IdpStore {
  const entries = new Map<string, Entry>();
  const byUid = new Map<string, string>();
  const byUserCode = new Map<string, string>();
  const byGrant = new Map<string, Set<string>>();

  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  };

  const remove = (key: string): void => {
    const entry = entries.get(key);
    entries.delete(key);
    const grantId = entry?.payload.grantId;
    if (grantId !== undefined) byGrant.get(grantId)?.delete(key);
  };

  const clientAdapter: Adapter = {
    upsert: () => Promise.reject(new Error('clients of the development IdP are fixed')),
    find: (id) => Promise.resolve(clientMetadata(id)),
    findByUserCode: () => Promise.resolve(undefined),
    findByUid: () => Promise.resolve(undefined),
    consume: () => Promise.resolve(),
    destroy: () => Promise.resolve(),
    revokeByGrantId: () => Promise.resolve(),
  };

  const modelAdapter = (model: string): Adapter => {
    const keyOf = (id: string): string => `${model}:${id}`;
    const find = (id: string): Promise<AdapterPayload | undefined> => Promise.resolve(live(keyOf(id))?.payload);
    const findIndexed = (index: Map<string, string>, value: string): Promise<AdapterPayload | undefined> => {
      const id = index.get(value);
      return id === undefined ? Promise.resolve(undefined) : find(id);
    };
    return {
      upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        remove(key);
        const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
        entries.set(key, { payload, expiresAt });
        if (payload.grantId !== undefined) {
          const members = byGrant.get(payload.grantId) ?? new Set<string>();
          members.add(key);
          byGrant.set(payload.grantId, members);
        }
        if (model === 'Session' && payload.uid !== undefined) byUid.set(payload.uid, id);
        if (payload.userCode !== undefined) byUserCode.set(payload.userCode, id);
        return Promise.resolve();
      },
      find,
      findByUid: (uid) => findIndexed(byUid, uid),
      findByUserCode: (userCode) => findIndexed(byUserCode, userCode),
      consume(id) {
        const entry = live(keyOf(id));
        if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
        return Promise.resolve();
      },
      destroy(id) {
        remove(keyOf(id));
        return Promise.resolve();
      },
      revokeByGrantId(grantId) {
        for (const key of byGrant.get(grantId) ?? []) entries.delete(key);
        byGrant.delete(grantId);
        return Promise.resolve();
      },
    };
  };

  return {
    adapterFor: (model) => (model === 'Client' ? clientAdapter : modelAdapter(model)),
  };
}
