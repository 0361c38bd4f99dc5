// The example alert rules (deploy/prometheus/alerts.yaml): every expr parses with the PromQL
// grammar Prometheus' own UI uses (@prometheus-io/lezer-promql), and every metric it names is
// one portcullis exports (read from the metrics registry, histogram suffixes included).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import t from 'tap';
import { parse } from 'yaml';
import { createMetrics } from '../../../src/observe/metrics.js';

const FILE = fileURLToPath(new URL('../../../deploy/prometheus/alerts.yaml', import.meta.url));

interface Rule {
  alert?: string;
  expr?: unknown;
}

/** Every series name the registry exposes (a histogram as its _bucket, _count and _sum). */
async function exported(): Promise<Set<string>> {
  const metrics = await createMetrics({ tokenSeriesLimit: 1 }).registry.getMetricsAsJSON();
  return new Set(metrics.flatMap((m) => (String(m.type) === 'histogram' ? ['_bucket', '_count', '_sum'].map((s) => `${m.name}${s}`) : [m.name])));
}

/** Parse errors and the metric names of the vector selectors of one PromQL expression. */
function read(expr: string): { errors: string[]; metrics: string[] } {
  const errors: string[] = [];
  const metrics: string[] = [];
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) errors.push(`parse error at ${node.from}`);
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') metrics.push(expr.slice(node.from, node.to));
    },
  });
  return { errors, metrics };
}

t.test('the parser finds errors and metric names (the check can fail)', async (t) => {
  t.same(read('sum(rate(foo_total{a="b"}[5m])) / bar').metrics, ['foo_total', 'bar']);
  t.ok(read('sum(rate(foo_total[5m]) /').errors.length > 0, 'a broken expression is an error');
});

t.test('every alert expr parses and names only metrics portcullis exports', async (t) => {
  const doc = parse(readFileSync(FILE, 'utf8')) as { groups: Array<{ name: string; rules: Rule[] }> };
  const names = await exported();
  const rules = doc.groups.flatMap((g) => g.rules);
  t.ok(rules.length >= 7, 'readiness, auth_unavailable, refresh errors, key age, audit errors and drops, upstream 5xx');
  const used = new Set<string>();
  for (const rule of rules) {
    t.type(rule.expr, 'string', `${rule.alert}: has an expr`);
    const { errors, metrics } = read(String(rule.expr));
    t.same(errors, [], `${rule.alert}: parses`);
    t.ok(metrics.length > 0, `${rule.alert}: reads a metric`);
    for (const name of metrics) {
      t.ok(names.has(name), `${rule.alert}: ${name} is exported`);
      used.add(name);
    }
  }
  for (const name of ['portcullis_jwks_keys', 'portcullis_requests_total', 'portcullis_jwks_refresh_total', 'portcullis_jwks_last_success_timestamp_seconds', 'portcullis_audit_write_errors_total', 'portcullis_audit_dropped_total', 'portcullis_upstream_duration_seconds_count']) {
    t.ok(used.has(name), `an alert watches ${name}`);
  }
});
