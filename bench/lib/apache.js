/**
 * The peer: Apache httpd with mod_auth_openidc as an OAuth 2.0 resource server, validating the
 * run's RS256 bearer token locally against the same public key (PEM, `OIDCOAuthVerifyCertFiles`)
 * and proxying to the same upstream with mod_proxy_http. One event-MPM child with two threads per
 * load connection (with exactly one, the child reached MaxRequestWorkers and dropped keep-alive
 * connections: ~1 % of the answers were socket errors), pooled upstream connections retired
 * after 10 s idle (the upstream closes idle ones after 30 s; between interleaved rounds a pooled
 * connection would otherwise be reused after the upstream closed it). Started in the foreground
 * from a config written to the run's temp folder; its CPU is the parent's plus the child's.
 */
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnServer, waitForPort } from './servers.js';

const MODULES = '/usr/lib/apache2/modules';
const BINARY = '/usr/sbin/apache2';

/** Why Apache with mod_auth_openidc cannot run here, or undefined when it can. */
export function apacheUnavailable() {
  for (const file of [BINARY, join(MODULES, 'mod_auth_openidc.so'), join(MODULES, 'mod_proxy_http.so')]) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      return `${file} missing (apt-get install -y apache2 libapache2-mod-auth-openidc)`;
    }
  }
  return undefined;
}

function config({ dir, port, upstream, kid, connections }) {
  const user = process.getuid?.() === 0 ? 'User www-data\nGroup www-data\n' : '';
  const load = (name, file) => `LoadModule ${name} ${MODULES}/${file}`;
  return `ServerRoot ${dir}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${dir}/httpd.pid
DefaultRuntimeDir ${dir}
Mutex file:${dir} default
ErrorLog ${dir}/error.log
LogLevel warn
${user}${load('mpm_event_module', 'mod_mpm_event.so')}
${load('authn_core_module', 'mod_authn_core.so')}
${load('authz_core_module', 'mod_authz_core.so')}
${load('authz_user_module', 'mod_authz_user.so')}
${load('proxy_module', 'mod_proxy.so')}
${load('proxy_http_module', 'mod_proxy_http.so')}
${load('auth_openidc_module', 'mod_auth_openidc.so')}
StartServers 1
ServerLimit 1
ThreadLimit ${2 * connections}
ThreadsPerChild ${2 * connections}
MaxRequestWorkers ${2 * connections}
MinSpareThreads 1
MaxSpareThreads ${2 * connections}
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 30
OIDCOAuthVerifyCertFiles ${kid}#${dir}/public.pem
OIDCOAuthRemoteUserClaim sub
<Location />
  AuthType oauth20
  Require valid-user
</Location>
ProxyPass / ${upstream}/ keepalive=On ttl=10
ProxyPassReverse / ${upstream}/
`;
}

/** Starts httpd in `dir`; `publicPem` is the RS256 key, `kid` its key id. */
export async function startApache({ dir, cpus, upstream, publicPem, kid, connections }) {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  writeFileSync(join(dir, 'public.pem'), publicPem, { mode: 0o644 });
  const port = await freePort();
  writeFileSync(join(dir, 'httpd.conf'), config({ dir, port, upstream, kid, connections }));
  const server = await spawnServer({ name: 'apache-openidc', command: BINARY, args: ['-d', dir, '-f', join(dir, 'httpd.conf'), '-D', 'FOREGROUND'], cpus });
  try {
    await waitForPort(server, port);
  } catch (err) {
    const log = join(dir, 'error.log');
    throw new Error(`${/** @type {Error} */ (err).message}\n${existsSync(log) ? readFileSync(log, 'utf8') : ''}`);
  }
  return { ...server, url: `http://127.0.0.1:${port}` };
}
