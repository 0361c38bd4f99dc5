/**
 * Token verification and per-issuer key stores: the public face of src/verify.
 */
export { createKeyStore } from './key-store.js';
export type { GetKeyResult, KeyStore, KeyStoreDeps } from './key-store.js';
export { createVerifier } from './verifier.js';
export type { Verifier, VerifierOptions } from './verifier.js';
export { checkIssuerOnline } from './discovery.js';
export { tokenFingerprint } from './token-cache.js';
export type { KeyStoreEvents, RefreshCause, RefreshEvent, VerifiedToken, VerifyResult } from './types.js';
