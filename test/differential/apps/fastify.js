/**
 * Fastify 5 in its default settings (case-sensitive, no trailing-slash or duplicate-slash
 * folding): `all` routes on each area and its wildcard, the not-found handler as catch-all,
 * and the virtual host in an onRequest hook.
 */
import Fastify from 'fastify';
import { AREAS, HOST_HANDLER, announce, isAdminHost, labels } from './shared.js';

function reply(handler) {
  return (request, res) => res.headers(labels(handler, request.url.split('?')[0])).send(handler);
}

const app = Fastify();
app.addHook('onRequest', (request, res, done) => {
  if (isAdminHost(request.headers.host)) reply(HOST_HANDLER)(request, res);
  else done();
});
for (const [handler, prefix] of AREAS) {
  app.all(prefix, reply(handler));
  app.all(`${prefix}/*`, reply(handler));
}
app.setNotFoundHandler(reply('catchall'));

await app.listen({ host: '127.0.0.1', port: 0 });
announce(app.server.address().port);
