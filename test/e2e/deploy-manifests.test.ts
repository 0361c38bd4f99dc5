/**
 * The Kubernetes examples under deploy/kubernetes hold together. Every ConfigMap's
 * `portcullis.yaml` passes `portcullis check` (the built CLI) with exactly the secrets its
 * Deployment injects; each Deployment runs portcullis the way its config expects (the config
 * mounted where `serve -c` reads it, probes on the admin port the config listens on, non-root,
 * read-only root, no capabilities, requests and limits); a NetworkPolicy and a Service front it;
 * the forward-auth example's HPA, PDB and Ingress point at that Deployment and its endpoints.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { loadConfigText } from '../../src/config/index.js';
import type { RuntimeConfig } from '../../src/config/index.js';
import { runCli } from '../support/sidecar.js';

const ROOT = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const CONFIG_KEY = 'portcullis.yaml';
const IDENTITY_HEADERS = ['X-Auth-Request-User', 'X-Auth-Request-Email', 'X-Auth-Request-Preferred-Username', 'X-Auth-Request-Groups', 'X-Auth-Request-Roles'];
/** `${NAME}` without a default: the container must provide NAME. */
const REQUIRED_VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

interface Manifest {
  readonly file: string;
  readonly dir: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly body: unknown;
}

/** The value at `keys` below `value`, or undefined where the path does not exist. */
function get(value: unknown, ...keys: Array<string | number>): unknown {
  return keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

const files = readdirSync(ROOT, { recursive: true, encoding: 'utf8' }).filter((f) => /\.ya?ml$/.test(f)).sort();
const parseErrors: string[] = [];
const manifests: Manifest[] = files.flatMap((file) => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'));
  if (!Array.isArray(docs)) return [];
  return docs.flatMap((doc) => {
    parseErrors.push(...doc.errors.map((e) => `${file}: ${e.message}`));
    const body: unknown = doc.toJS();
    if (body === null || body === undefined) return [];
    const dir = posix.dirname(file.replaceAll('\\', '/'));
    return [{ file, dir, kind: str(get(body, 'kind')), name: str(get(body, 'metadata', 'name')), namespace: str(get(body, 'metadata', 'namespace')), body }];
  });
});
const ofKind = (kind: string, dir?: string): Manifest[] => manifests.filter((m) => m.kind === kind && (dir === undefined || m.dir === dir));

/** Dummy values for the container's env; 48 bytes each, enough for a cookie_secret. */
function dummyEnv(names: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PORTCULLIS_CONFIG: undefined };
  for (const name of names) env[name] = `dummy-${name.toLowerCase()}-`.padEnd(48, 'x');
  return env;
}

/** True when every label of `selector` is on `labels` (and there is at least one). */
function selects(selector: unknown, labels: unknown): boolean {
  const entries = Object.entries((selector ?? {}) as Record<string, unknown>);
  return entries.length > 0 && entries.every(([k, v]) => get(labels, k) === v);
}

t.test('the manifests parse and both examples are there', async (t) => {
  t.same(parseErrors, [], 'no YAML errors');
  t.same([...new Set(manifests.map((m) => m.dir))].sort(), ['forward-auth', 'sidecar']);
  for (const dir of ['sidecar', 'forward-auth']) {
    const maps = ofKind('ConfigMap', dir).filter((m) => typeof get(m.body, 'data', CONFIG_KEY) === 'string');
    t.equal(maps.length, 1, `${dir}: exactly one ConfigMap with ${CONFIG_KEY}`);
    t.equal(ofKind('Deployment', dir).length, 1, `${dir}: one Deployment`);
    const mounted = ofKind('Deployment', dir).flatMap((d) => list(get(d.body, 'spec', 'template', 'spec', 'volumes')).map((v) => get(v, 'configMap', 'name')));
    for (const m of maps) t.ok(mounted.includes(m.name), `${dir}: ConfigMap ${m.name} is mounted by the Deployment, so it is checked below`);
  }
});

for (const deployment of ofKind('Deployment')) {
  const pod = get(deployment.body, 'spec', 'template', 'spec');
  const podLabels = get(deployment.body, 'spec', 'template', 'metadata', 'labels');
  const container = list(get(pod, 'containers')).find((c) => get(c, 'name') === 'portcullis');
  const args = list(get(container, 'args')).map(str);
  const configPath = args[2] ?? '';
  const mount = list(get(container, 'volumeMounts')).find((v) => str(get(v, 'mountPath')) === posix.dirname(configPath));
  const volume = list(get(pod, 'volumes')).find((v) => get(v, 'name') === get(mount, 'name'));
  const configMap = ofKind('ConfigMap').find((m) => m.name === str(get(volume, 'configMap', 'name')) && m.namespace === deployment.namespace);
  const text = str(get(configMap?.body, 'data', posix.basename(configPath)));
  const envNames = list(get(container, 'env')).filter((e) => get(e, 'valueFrom', 'secretKeyRef', 'key') !== undefined).map((e) => str(get(e, 'name')));
  const loaded = loadConfigText(text, configPath, dummyEnv(envNames));
  const config: RuntimeConfig | undefined = loaded.ok ? loaded.config : undefined;
  const portOf = (ref: unknown): number | undefined =>
    typeof ref === 'number' ? ref : (get(list(get(container, 'ports')).find((p) => get(p, 'name') === ref), 'containerPort') as number | undefined);
  const label = `${deployment.file} Deployment ${deployment.name}`;

  t.test(`${label}: the portcullis container reads its ConfigMap, which passes portcullis check`, async (t) => {
    t.ok(container, 'has a container named portcullis');
    t.same(args.slice(0, 2), ['serve', '-c']);
    t.ok(configMap, `mounts a ConfigMap at the directory of ${configPath}`);
    t.not(text, '', `the ConfigMap has the key ${posix.basename(configPath)}`);
    const wanted = [...new Set([...text.matchAll(REQUIRED_VAR)].map((m) => m[1] ?? ''))].sort();
    t.ok(wanted.length > 0, 'secrets come from ${...} substitution, not the file');
    t.same(wanted.filter((n) => !envNames.includes(n)), [], 'every ${VAR} of the config is injected from a Secret');
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-deploy-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, CONFIG_KEY);
    writeFileSync(file, text);
    const res = await runCli(['check', '-c', file], { env: dummyEnv(envNames) });
    t.equal(res.stderr, '');
    t.equal(res.stdout, `${file}: ok (${config?.issuers.length} issuer(s), ${config?.routes.length} route(s))\n`);
    t.equal(res.code, 0);
  });

  t.test(`${label}: probes, ports, security and resources match the config`, async (t) => {
    if (!config) {
      t.fail(`config does not load: ${JSON.stringify(loaded.ok ? [] : loaded.problems)}`);
      return;
    }
    t.equal(config.admin.listen.host, '0.0.0.0', 'admin listens beyond loopback, where kubelet probes reach it');
    const probes = [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz'], ['startupProbe', '/healthz']] as const;
    for (const [probe, path] of probes) {
      t.equal(get(container, probe, 'httpGet', 'path'), path, `${probe} path`);
      t.equal(portOf(get(container, probe, 'httpGet', 'port')), config.admin.listen.port, `${probe} on the admin port`);
    }
    t.equal(portOf('http'), config.listen.port, 'the http port is the main listener');
    const sc = (key: string): unknown => get(container, 'securityContext', key) ?? get(pod, 'securityContext', key);
    t.equal(sc('runAsNonRoot'), true, 'runAsNonRoot');
    t.equal(sc('runAsUser'), 10001, 'the image user');
    t.equal(get(container, 'securityContext', 'readOnlyRootFilesystem'), true, 'readOnlyRootFilesystem');
    t.equal(get(container, 'securityContext', 'allowPrivilegeEscalation'), false, 'allowPrivilegeEscalation');
    t.same(get(container, 'securityContext', 'capabilities', 'drop'), ['ALL'], 'drops every capability');
    for (const kind of ['requests', 'limits']) {
      for (const resource of ['cpu', 'memory']) t.ok(get(container, 'resources', kind, resource), `resources.${kind}.${resource}`);
    }
    const grace = Number(get(pod, 'terminationGracePeriodSeconds') ?? 30) * 1000;
    t.equal(config.shutdownDelayMs, 5_000, 'shutdown_delay: 5s, for the endpoint removal to propagate');
    t.ok(grace > config.shutdownDelayMs + config.shutdownTimeoutMs, 'the grace period outlasts shutdown_delay + shutdown_timeout');
  });

  t.test(`${label}: a NetworkPolicy and a Service front exactly the portcullis ports`, async (t) => {
    const inNs = (kind: string): Manifest[] => ofKind(kind).filter((m) => m.namespace === deployment.namespace);
    const policy = inNs('NetworkPolicy').find((p) => selects(get(p.body, 'spec', 'podSelector', 'matchLabels'), podLabels));
    t.ok(policy, 'a NetworkPolicy selects the pods');
    const rules = list(get(policy?.body, 'spec', 'ingress'));
    const ports = rules.flatMap((r) => list(get(r, 'ports')).map((p) => get(p, 'port'))).sort();
    t.same(ports, [8080, 9090], 'only the main and admin ports are admitted');
    const adminRule = rules.find((r) => list(get(r, 'ports')).some((p) => get(p, 'port') === 9090));
    t.same(list(get(adminRule, 'from')).map((f) => get(f, 'namespaceSelector', 'matchLabels')), [{ 'kubernetes.io/metadata.name': 'monitoring' }], 'admin only from monitoring');
    const service = inNs('Service').find((s) => selects(get(s.body, 'spec', 'selector'), podLabels));
    t.ok(service, 'a Service selects the pods');
    t.same(list(get(service?.body, 'spec', 'ports')).map((p) => portOf(get(p, 'targetPort'))), [config?.listen.port], 'the Service exposes only the main port');
  });

  if (config?.mode !== 'forward_auth') continue;

  t.test(`${label}: forward-auth is scaled, protected from drains and wired into ingress-nginx`, async (t) => {
    t.ok(config.forwardAuth.trustedSources.length > 0, 'trusted_sources limits who may ask');
    const hpa = ofKind('HorizontalPodAutoscaler', deployment.dir)[0];
    t.equal(get(hpa?.body, 'apiVersion'), 'autoscaling/v2');
    t.same(get(hpa?.body, 'spec', 'scaleTargetRef'), { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.name });
    t.equal(hpa?.namespace, deployment.namespace);
    t.same(list(get(hpa?.body, 'spec', 'metrics')).map((m) => [get(m, 'resource', 'name'), get(m, 'resource', 'target', 'averageUtilization')]), [['cpu', 70]]);
    const pdb = ofKind('PodDisruptionBudget', deployment.dir)[0];
    t.equal(get(pdb?.body, 'spec', 'minAvailable'), 1);
    t.ok(selects(get(pdb?.body, 'spec', 'selector', 'matchLabels'), podLabels), 'the PDB selects the pods');
    t.ok(list(get(pod, 'topologySpreadConstraints')).length > 0, 'replicas are spread');

    const annotation = (m: Manifest | undefined, key: string): string => str(get(m?.body, 'metadata', 'annotations', `nginx.ingress.kubernetes.io/${key}`));
    const ingresses = ofKind('Ingress', deployment.dir);
    const guarded = ingresses.find((i) => annotation(i, 'auth-url') !== '');
    t.ok(guarded, 'an Ingress asks portcullis');
    const authUrl = new URL(annotation(guarded, 'auth-url'));
    const service = ofKind('Service').find((s) => s.namespace === deployment.namespace && selects(get(s.body, 'spec', 'selector'), podLabels));
    t.equal(authUrl.hostname, `${service?.name}.${deployment.namespace}.svc.cluster.local`, 'auth-url names the Service');
    t.equal(Number(authUrl.port), get(service?.body, 'spec', 'ports', 0, 'port'), 'auth-url uses the Service port');
    t.equal(authUrl.pathname, config.forwardAuth.path, 'auth-url is the forward-auth path');
    t.equal(authUrl.pathname, '/_auth/verify');
    t.same(annotation(guarded, 'auth-response-headers').split(','), IDENTITY_HEADERS);
    const signin = new URL(annotation(guarded, 'auth-signin'));
    t.equal(signin.origin, config.publicUrl, 'auth-signin is on public_url');
    t.equal(signin.pathname, config.login?.browser?.startPath, 'auth-signin is the login start');

    const login = ingresses.find((i) => get(i.body, 'spec', 'rules', 0, 'host') === signin.hostname);
    t.ok(login, 'an Ingress serves the login host');
    t.equal(annotation(login, 'auth-url'), '', 'the login host is not itself behind auth-url');
    const paths = list(get(login?.body, 'spec', 'rules', 0, 'http', 'paths')).map((p) => get(p, 'path'));
    t.ok(paths.includes(config.login?.browser?.callbackPath), 'the callback is reachable');
    t.notOk(paths.some((p) => config.forwardAuth.path.startsWith(str(p))), 'the verify endpoint is not exposed');
  });
}
