/**
 * Express 4 or 5 (argv[2]: the npm alias, `express4` or `express5`) in its default settings
 * (case-insensitive routing, strict routing off): routers mounted on the areas, a route with
 * wildcards for `/reports`, and a catch-all middleware.
 */
import { AREAS, HOST_HANDLER, announce, isAdminHost, labels } from './shared.js';

const name = process.argv[2] ?? 'express5';
const { default: express } = await import(name);

function reply(handler) {
  return (req, res) => {
    res.set(labels(handler, req.originalUrl.split('?')[0])).send(handler);
  };
}

const app = express();
app.use((req, res, next) => (isAdminHost(req.headers.host) ? reply(HOST_HANDLER)(req, res) : next()));
for (const [handler, prefix] of AREAS) {
  if (handler === 'reports') {
    // A route rather than a mount: path-to-regexp 0.1 (Express 4) and 8 (Express 5) wildcards.
    app.all(name === 'express4' ? [prefix, `${prefix}/*`] : [prefix, `${prefix}/*rest`], reply(handler));
  } else {
    const router = express.Router();
    router.use(reply(handler));
    app.use(prefix, router);
  }
}
app.use(reply('catchall'));

const server = app.listen(0, '127.0.0.1', () => announce(server.address().port));
