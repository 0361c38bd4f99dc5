// An API-key authenticator for portcullis (README "Plug-in authenticators"), loaded with:
//
//   authenticators:
//     - type: module
//       path: ./plugins/api-keys.js
//       options:
//         header: x-api-key                 # where clients send the key
//         keys:                             # SHA-256 (hex) of each key -> the identity it grants
//           9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08:
//             user: ci-bot
//             roles: [deployer]
//     - type: jwt
//
// Only hashes live in the config, so the file is no secret. A request without the header is
// "not mine" (null: the next authenticator is tried); an unknown key is denied.
import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';

/** @type {import('portcullis').AuthenticatorFactory} */
export default function createApiKeyAuthenticator(options, context) {
  const header = String(options.header ?? 'x-api-key').toLowerCase();
  const keys = new Map();
  for (const [hash, grant] of Object.entries(options.keys ?? {})) {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new TypeError(`api-keys: "${hash.slice(0, 8)}…" is not a SHA-256 hex digest`);
    keys.set(hash, grant);
  }
  context.log('api-keys loaded', { keys: keys.size, header });

  return {
    name: 'api-keys',
    async authenticate(request) {
      const presented = request.headers[header];
      if (typeof presented !== 'string' || presented === '') return null;
      const digest = createHash('sha256').update(presented).digest();
      for (const [hash, grant] of keys) {
        if (timingSafeEqual(digest, Buffer.from(hash, 'hex'))) {
          return {
            user: String(grant.user),
            username: grant.username === undefined ? undefined : String(grant.username),
            groups: Array.isArray(grant.groups) ? grant.groups.map(String) : [],
            roles: Array.isArray(grant.roles) ? grant.roles.map(String) : [],
            issuer: 'api-keys',
            claims: { sub: String(grant.user), scope: Array.isArray(grant.scopes) ? grant.scopes.join(' ') : '' },
          };
        }
      }
      throw Object.assign(new Error('unknown API key'), { code: 'invalid_credentials' });
    },
  };
}
