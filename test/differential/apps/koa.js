/**
 * Koa 3 with @koa/router in its default settings (case-insensitive, strict off): `all` routes
 * with an optional wildcard on each area, `allowedMethods()`, a catch-all middleware last, and
 * the virtual host as the first middleware.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { AREAS, HOST_HANDLER, announce, isAdminHost, labels } from './shared.js';

function reply(ctx, handler) {
  ctx.set(labels(handler, ctx.path));
  ctx.body = handler;
}

const app = new Koa();
const router = new Router();
app.use(async (ctx, next) => (isAdminHost(ctx.get('host')) ? reply(ctx, HOST_HANDLER) : next()));
for (const [handler, prefix] of AREAS) router.all(`${prefix}{/*rest}`, (ctx) => reply(ctx, handler));
app.use(router.routes());
app.use(router.allowedMethods());
app.use((ctx) => reply(ctx, 'catchall'));

const server = app.listen(0, '127.0.0.1', () => announce(server.address().port));
