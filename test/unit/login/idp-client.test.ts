import t from 'tap';
import { fetchMetadata } from '../../../src/login/idp-client.js';
import { startJwksServer } from '../../support/jwks-server.js';

// An in-cluster IdP publishes plain-http endpoints on a service name; they are taken only when
// the issuer sets allow_http, as its JWKS URL is.
t.test('discovered login endpoints: https or loopback http, any http only with allow_http', async (t) => {
  const server = await startJwksServer([]);
  t.teardown(() => server.close());
  server.setDiscoveryDocument({
    issuer: server.url,
    jwks_uri: server.jwksUri,
    token_endpoint: 'http://keycloak.auth.svc:8080/token',
    authorization_endpoint: 'https://sso.example.com/auth',
    end_session_endpoint: 'http://keycloak.auth.svc:8080/logout',
    revocation_endpoint: `${server.url}/revoke`,
  });
  t.same(await fetchMetadata(server.url, 2_000, false), { ok: false, code: 'discovery_no_token_endpoint' }, 'http token endpoint refused');
  t.same(
    await fetchMetadata(server.url, 2_000, true),
    {
      ok: true,
      meta: {
        tokenEndpoint: 'http://keycloak.auth.svc:8080/token',
        authorizationEndpoint: 'https://sso.example.com/auth',
        endSessionEndpoint: 'http://keycloak.auth.svc:8080/logout',
        revocationEndpoint: `${server.url}/revoke`,
      },
    },
    'allow_http: every http endpoint taken',
  );
  server.setDiscoveryDocument({ issuer: server.url, token_endpoint: `${server.url}/token`, end_session_endpoint: 'http://keycloak.auth.svc/logout' });
  const loopback = await fetchMetadata(server.url, 2_000, false);
  t.ok(loopback.ok && loopback.meta.tokenEndpoint === `${server.url}/token` && loopback.meta.endSessionEndpoint === undefined, 'loopback http kept, other http dropped');
  t.same(await fetchMetadata(undefined, 2_000, false), { ok: false, code: 'issuer_not_configured' });
  server.setDiscoveryDocument({ issuer: 'https://other.example.com', token_endpoint: `${server.url}/token` });
  t.same(await fetchMetadata(server.url, 2_000, true), { ok: false, code: 'discovery_issuer_mismatch' });
});
