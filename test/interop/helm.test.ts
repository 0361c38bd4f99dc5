/**
 * The Helm chart deploy/helm/portcullis, with a real Helm v3 and kubeconform (built by
 * scripts/install-helm.sh) and the Kubernetes JSON schemas of the PyPI package
 * kubernetes-validate: `helm lint --strict` and `helm template` with the default values and
 * each example values file, kubeconform -strict on the output (and on deploy/kubernetes),
 * `portcullis check` (the built CLI) on the config the chart renders, with the environment its
 * Secret gives the container, and the wiring kubeconform cannot see: probes on the admin port
 * the config listens on, the drain timing, the checksum, the alerts' metric names.
 * Without the tools this file fails: the chart must be proven, not skipped.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { createMetrics } from '../../src/observe/metrics.js';
import { runCli } from '../support/sidecar.js';
import { findTool, missingTool, toolCache } from '../support/tools.js';

const CHART = resolve(import.meta.dirname, '../../deploy/helm/portcullis');
const MANIFESTS = resolve(import.meta.dirname, '../../deploy/kubernetes');
const KUBERNETES_VERSION = '1.37.0';
/** Kinds of the Prometheus Operator: no schema here, checked by this file instead. */
const CRDS = ['ServiceMonitor', 'PrometheusRule'];
const REQUIRED_VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

type Doc = Record<string, unknown>;

function get(value: unknown, ...keys: Array<string | number>): unknown {
  return keys.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);
}
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const seconds = (value: unknown): number => Number(/^(\d+)s$/.exec(str(value))?.[1] ?? Number.NaN);

interface Ran {
  readonly code: number | null;
  readonly out: string;
}

function run(binary: string, args: string[]): Ran {
  const res = spawnSync(binary, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
  return { code: res.status, out: `${res.stdout}${res.stderr}` };
}

/** Asserts exit 0; the output is shown only when it was not. */
function succeeded(t: Test, res: Ran, what: string): void {
  t.equal(res.code, 0, what, res.code === 0 ? {} : { output: res.out });
}

/** The newest `v<k8s>-standalone-strict` folder's parent under the tool cache, or undefined. */
function findSchemas(): string | undefined {
  const fromEnv = process.env.KUBERNETES_SCHEMAS;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const dirs = readdirSync(toolCache()).filter((d) => d.startsWith('kubernetes-json-schema-')).sort();
  const dir = dirs.at(-1);
  if (dir === undefined) return undefined;
  const root = join(toolCache(), dir);
  return readdirSync(root).includes(`v${KUBERNETES_VERSION}-standalone-strict`) ? root : undefined;
}

const helm = findTool('helm');
const kubeconform = findTool('kubeconform');
let schemas: string | undefined;
try {
  schemas = findSchemas();
} catch {
  schemas = undefined;
}
if (helm === undefined || kubeconform === undefined || schemas === undefined) {
  if (helm === undefined) t.fail(missingTool('helm', 'install-helm.sh'));
  if (kubeconform === undefined) t.fail(missingTool('kubeconform', 'install-helm.sh'));
  if (schemas === undefined) t.fail(`Kubernetes ${KUBERNETES_VERSION} JSON schemas not found under ${toolCache()}; install them: bash scripts/install-helm.sh`);
} else {
  await suite(helm, kubeconform, schemas);
}

async function suite(helm: string, kubeconform: string, schemas: string): Promise<void> {
  // helm and kubeconform run a dozen times: minutes on a busy 2-core machine.
  t.setTimeout(600_000);
  t.comment(`helm ${run(helm, ['version', '--short']).out.trim()}, kubeconform ${run(kubeconform, ['-v']).out.trim()}, Kubernetes schemas ${KUBERNETES_VERSION} (${schemas})`);
  const work = mkdtempSync(join(tmpdir(), 'portcullis-helm-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const metricNames = new Set((await createMetrics({ tokenSeriesLimit: 10, defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name));

  const validate = (file: string): { code: number | null; out: string } =>
    run(kubeconform, [
      '-strict',
      '-summary',
      '-kubernetes-version',
      KUBERNETES_VERSION,
      '-schema-location',
      `${schemas}/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
      '-skip',
      CRDS.join(','),
      file,
    ]);

  const valueFiles = ['', ...readdirSync(join(CHART, 'examples')).filter((f) => f.endsWith('.yaml')).map((f) => join('examples', f))];
  t.ok(valueFiles.includes(join('examples', 'values-sidecar.yaml')) && valueFiles.includes(join('examples', 'values-forward-auth.yaml')), 'both shapes have an example');

  for (const values of valueFiles) {
    const label = values === '' ? 'default values' : values;
    const args = values === '' ? [] : ['-f', join(CHART, values)];
    await t.test(label, async (t) => {
      const lint = run(helm, ['lint', '--strict', '--kube-version', KUBERNETES_VERSION, CHART, ...args]);
      succeeded(t, lint, 'helm lint --strict');

      const rendered = run(helm, ['template', 'rel', CHART, '--namespace', 'apps', '--kube-version', KUBERNETES_VERSION, ...args]);
      succeeded(t, rendered, 'helm template');
      const file = join(work, `${label.replaceAll(/[^a-z0-9]+/gi, '-')}.yaml`);
      writeFileSync(file, rendered.out);
      const valid = validate(file);
      succeeded(t, valid, 'kubeconform -strict');
      t.match(valid.out, /Invalid: 0, Errors: 0/);

      const docs = parseAllDocuments(rendered.out).flatMap((d) => (Array.isArray(d) ? [] : [d.toJS() as Doc | null])).filter((d): d is Doc => d !== null);
      const ofKind = (kind: string): Doc[] => docs.filter((d) => d.kind === kind);
      const skipped = docs.filter((d) => CRDS.includes(str(d.kind))).length;
      t.match(valid.out, new RegExp(`Valid: ${docs.length - skipped}, `), 'every resource but the Prometheus Operator kinds was validated');

      const [configMap] = ofKind('ConfigMap');
      const configText = str(get(configMap, 'data', 'portcullis.yaml'));
      const config = parseYaml(configText) as Doc;
      const [deployment] = ofKind('Deployment');
      const pod = get(deployment, 'spec', 'template', 'spec');
      const containers = list(get(pod, 'containers'));
      const portcullis = containers.find((c) => get(c, 'name') === 'portcullis');
      t.ok(portcullis, 'a portcullis container');

      // The config: passes `portcullis check` with the environment the container gets.
      const secret = ofKind('Secret')[0];
      const fromSecret = (get(secret, 'stringData') ?? {}) as Record<string, string>;
      const env: NodeJS.ProcessEnv = { PORTCULLIS_CONFIG: undefined };
      for (const [, name] of configText.matchAll(REQUIRED_VAR)) {
        // existingSecret: the keys come from a Secret the operator creates; stand-ins here.
        env[name!] = fromSecret[name!] ?? `stand-in-${name!.toLowerCase()}-`.padEnd(64, 'x');
      }
      const envFrom = list(get(portcullis, 'envFrom')).map((e) => str(get(e, 'secretRef', 'name')));
      if (Object.keys(env).length > 1) t.equal(envFrom.length, 1, 'the secrets reach the container through envFrom');
      if (secret !== undefined) t.same(envFrom, [get(secret, 'metadata', 'name')], 'from the chart Secret');
      const configFile = join(work, `${label.replaceAll(/[^a-z0-9]+/gi, '-')}-portcullis.yaml`);
      writeFileSync(configFile, configText);
      const check = await runCli(['check', '-c', configFile], { env });
      succeeded(t, { code: check.code, out: `${check.stdout}${check.stderr}` }, 'portcullis check on the rendered config');

      // Mounted where `serve -c` reads it; a checksum of it on the pod template.
      t.same(get(portcullis, 'args'), ['serve', '-c', '/etc/portcullis/portcullis.yaml']);
      t.equal(get(deployment, 'spec', 'template', 'metadata', 'annotations', 'checksum/config'), createHash('sha256').update(configText.replace(/\n$/, '')).digest('hex'), 'checksum/config is the config');

      // Probes on the admin port the config listens on.
      const adminPort = Number(str(get(config, 'admin', 'listen')).split(':').at(-1));
      const ports = list(get(portcullis, 'ports'));
      t.equal(get(ports.find((p) => get(p, 'name') === 'admin'), 'containerPort'), adminPort);
      t.equal(get(ports.find((p) => get(p, 'name') === 'http'), 'containerPort'), Number(str(get(config, 'listen')).split(':').at(-1)));
      t.equal(get(portcullis, 'startupProbe', 'httpGet', 'port'), 'admin');
      t.equal(get(portcullis, 'readinessProbe', 'httpGet', 'path'), '/readyz');
      t.equal(get(portcullis, 'readinessProbe', 'httpGet', 'port'), 'admin');
      t.equal(get(portcullis, 'livenessProbe', 'httpGet', 'path'), '/healthz');

      // Drain: the grace period outlasts shutdown_delay + shutdown_timeout.
      const delay = seconds(get(config, 'shutdown_delay'));
      const timeout = seconds(get(config, 'shutdown_timeout'));
      t.equal(delay, 5, 'shutdown_delay: 5s');
      t.ok(Number(get(pod, 'terminationGracePeriodSeconds')) > delay + timeout, 'terminationGracePeriodSeconds > shutdown_delay + shutdown_timeout');
      t.ok(get(portcullis, 'resources', 'requests', 'cpu') && get(portcullis, 'resources', 'limits', 'memory'), 'requests and a memory limit');

      // The shape.
      const mode = str(config.mode);
      const service = ofKind('Service').find((s) => list(get(s, 'spec', 'ports')).some((p) => get(p, 'targetPort') === 'http'));
      t.ok(service, 'a Service of the http port');
      if (mode === 'proxy') {
        t.equal(containers.length, 2, 'sidecar: the application beside portcullis');
        const upstreams = list(config.routes).map((r) => str(get(r, 'upstream')));
        const app = containers.find((c) => c !== portcullis);
        const appPort = list(get(app, 'env')).find((e) => get(e, 'name') === 'PORT');
        t.ok(upstreams.every((u) => u === `http://127.0.0.1:${str(get(appPort, 'value'))}`), 'every route goes to the application in the pod');
      } else {
        t.equal(mode, 'forward_auth');
        t.equal(containers.length, 1, 'forward-auth: portcullis alone');
      }
      for (const kind of ['PodDisruptionBudget', 'NetworkPolicy', 'HorizontalPodAutoscaler']) {
        for (const doc of ofKind(kind)) {
          const target = kind === 'HorizontalPodAutoscaler' ? get(doc, 'spec', 'scaleTargetRef', 'name') : undefined;
          if (target !== undefined) t.equal(target, get(deployment, 'metadata', 'name'), 'the HPA scales the Deployment');
          else t.same(get(doc, 'spec', kind === 'NetworkPolicy' ? 'podSelector' : 'selector', 'matchLabels'), get(deployment, 'spec', 'selector', 'matchLabels'), `${kind} selects the pods`);
        }
      }
      const netpol = ofKind('NetworkPolicy')[0];
      if (netpol !== undefined) {
        const open = list(get(netpol, 'spec', 'ingress')).flatMap((rule) => list(get(rule, 'ports')).map((p) => get(p, 'port')));
        t.same(open.sort(), [Number(str(get(config, 'listen')).split(':').at(-1)), adminPort].sort(), 'only the two portcullis ports are open');
      }

      // The Prometheus Operator kinds, which no schema here covers.
      for (const monitor of ofKind('ServiceMonitor')) {
        const selector = get(monitor, 'spec', 'selector', 'matchLabels') as Record<string, string>;
        const metricsService = ofKind('Service').find((s) => Object.entries(selector).every(([k, v]) => get(s, 'metadata', 'labels', k) === v));
        t.ok(metricsService, 'the ServiceMonitor selects a Service');
        const port = str(get(list(get(monitor, 'spec', 'endpoints'))[0], 'port'));
        t.ok(list(get(metricsService, 'spec', 'ports')).some((p) => get(p, 'name') === port && get(p, 'port') === adminPort), 'on the admin port');
      }
      for (const rule of ofKind('PrometheusRule')) {
        const rules = list(get(rule, 'spec', 'groups')).flatMap((g) => list(get(g, 'rules')));
        t.ok(rules.length >= 5, 'the alerts are there');
        for (const r of rules) {
          const expr = str(get(r, 'expr'));
          t.ok(str(get(r, 'alert')) !== '' && expr !== '', 'an alert with an expression');
          for (const name of expr.match(/\bportcullis_[a-z_]+/g) ?? []) {
            t.ok(metricNames.has(name), `${str(get(r, 'alert'))}: ${name} is a metric portcullis exports`);
          }
        }
      }
    });
  }

  t.test('the plain manifests under deploy/kubernetes validate too', async (t) => {
    for (const dir of readdirSync(MANIFESTS)) {
      const res = validate(join(MANIFESTS, dir));
      succeeded(t, res, `kubeconform -strict deploy/kubernetes/${dir}`);
      t.match(res.out, /Invalid: 0, Errors: 0, Skipped: 0/);
    }
  });

  t.test('a chart-owned key in config is refused at render time', async (t) => {
    const res = run(helm, ['template', 'rel', CHART, '--kube-version', KUBERNETES_VERSION, '--set', 'config.shutdown_timeout=1s']);
    t.not(res.code, 0);
    t.match(res.out, /config\.shutdown_timeout is set by the chart/);
  });
}
