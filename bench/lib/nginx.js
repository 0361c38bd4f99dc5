/**
 * nginx for the benchmark, one foreground process (`daemon off; master_process off`) with every
 * path in the run's temp folder: a plain `proxy_pass` to the upstream (the reverse-proxy peer),
 * or examples/nginx/portcullis.conf with its documented addresses rewritten to the run's
 * sidecar and upstream (the `auth_request` deployment, as test/support/nginx.ts does).
 */
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { freePort, spawnServer, waitForPort } from './servers.js';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/nginx/portcullis.conf');

/** The nginx binary ($NGINX, /usr/sbin/nginx, PATH) or undefined. */
export function findNginx() {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  return [process.env.NGINX, '/usr/sbin/nginx', ...dirs.map((d) => join(d, 'nginx'))].find((file) => {
    if (!file) return false;
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function mainConfig(dir, include) {
  return `daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${include};
}
`;
}

function replaceRequired(text, from, to) {
  if (!text.includes(from)) throw new Error(`${EXAMPLE} no longer contains "${from}"; update bench/lib/nginx.js`);
  return text.replaceAll(from, to);
}

/** `proxy_pass` to `upstream` (host:port) with a keep-alive pool. */
function proxyPassConfig(port, upstream) {
  return `upstream app {
    server ${upstream};
    keepalive 64;
}
server {
    listen 127.0.0.1:${port};
    location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
    }
}
`;
}

/** The example, pointed at this run's sidecar and upstream (host:port each). */
function exampleConfig(port, sidecar, upstream) {
  let conf = readFileSync(EXAMPLE, 'utf8');
  conf = replaceRequired(conf, 'server 127.0.0.1:8080;', `server ${sidecar};`);
  conf = replaceRequired(conf, 'server 127.0.0.1:3000;', `server ${upstream};`);
  return replaceRequired(conf, 'listen 8000;', `listen 127.0.0.1:${port};`);
}

/**
 * Starts nginx in `dir` (a fresh folder). `kind` is `proxy_pass` (needs `upstream`) or
 * `auth_request` (needs `sidecar` and `upstream`). Resolves the server with its `url`.
 */
export async function startNginx({ binary, dir, cpus, kind, upstream, sidecar }) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const site = join(dir, 'site.conf');
  writeFileSync(site, kind === 'proxy_pass' ? proxyPassConfig(port, upstream) : exampleConfig(port, sidecar, upstream));
  writeFileSync(join(dir, 'nginx.conf'), mainConfig(dir, site));
  const server = await spawnServer({
    name: `nginx-${kind}`,
    command: binary,
    args: ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr'],
    cpus,
  });
  await waitForPort(server, port);
  return { ...server, url: `http://127.0.0.1:${port}` };
}
