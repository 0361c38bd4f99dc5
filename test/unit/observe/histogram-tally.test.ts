// Holds observe/histogram-tally.ts to prom-client: the same observations fed to the metrics'
// duration histograms and to plain prom-client Histograms give the same exposition text, the
// same JSON entries, and the same cluster aggregate of two workers' JSON.
import t from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { AUTH_BUCKETS, UPSTREAM_BUCKETS, createMetrics, statusClass } from '../../../src/observe/metrics.js';
import type { Metrics } from '../../../src/observe/metrics.js';

const AUTH = 'portcullis_auth_duration_seconds';
const UPSTREAM = 'portcullis_upstream_duration_seconds';

const seconds = (bounds: readonly number[]) =>
  fc.oneof(
    fc.constantFrom(...bounds, 0, -0, 1e308, Number.MAX_VALUE, Number.MIN_VALUE),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.double({ min: 0, max: 100, noNaN: true }),
  );
const authObs = fc.record({ kind: fc.constant('auth' as const), decision: fc.constantFrom('allowed', 'denied', 'public'), v: seconds(AUTH_BUCKETS) });
const upstreamObs = fc.record({
  kind: fc.constant('upstream' as const),
  route: fc.constantFrom('api', 'admin', 'login'),
  status: fc.constantFrom(0, 101, 200, 204, 302, 404, 503, 99, 600),
  v: seconds(UPSTREAM_BUCKETS),
});
const observations = fc.array(fc.oneof(authObs, upstreamObs), { maxLength: 60 });
type Obs = typeof observations extends fc.Arbitrary<infer A> ? A : never;

/** Plain prom-client Histograms with the name, help, labels and buckets of the metrics' own. */
async function reference(m: Metrics) {
  const registry = new Registry();
  const help = async (name: string) => (await m.registry.getSingleMetric(name)!.get()).help;
  const auth = new Histogram({ name: AUTH, help: await help(AUTH), labelNames: ['decision'], buckets: [...AUTH_BUCKETS], registers: [registry] });
  const upstream = new Histogram({ name: UPSTREAM, help: await help(UPSTREAM), labelNames: ['route', 'status_class'], buckets: [...UPSTREAM_BUCKETS], registers: [registry] });
  return { registry, auth, upstream };
}

async function feed(obs: Obs) {
  const m = createMetrics({ tokenSeriesLimit: 10, defaultMetrics: false });
  const ref = await reference(m);
  for (const o of obs) {
    if (o.kind === 'auth') {
      m.authDuration(o.decision, o.v);
      ref.auth.observe({ decision: o.decision }, o.v);
    } else {
      m.upstreamDuration(o.route, o.status, o.v);
      ref.upstream.observe({ route: o.route, status_class: statusClass(o.status) }, o.v);
    }
  }
  return { ours: m.registry, theirs: ref.registry };
}

const durations = async (r: Registry) => (await r.getMetricsAsJSON()).filter((x) => x.name === AUTH || x.name === UPSTREAM);

void t.test('the duration histograms expose exactly what prom-client Histograms would', async (t) => {
  await fc.assert(
    fc.asyncProperty(observations, async (obs) => {
      const { ours, theirs } = await feed(obs);
      for (const name of [AUTH, UPSTREAM]) {
        if ((await ours.getSingleMetricAsString(name)) !== (await theirs.getSingleMetricAsString(name))) return false;
      }
      const [a, b] = [await durations(ours), await durations(theirs)];
      return a.length === 2 && isDeepStrictEqual(a, b) && JSON.stringify(a) === JSON.stringify(b);
    }),
    { numRuns: 200 },
  );
  t.pass('200 random runs agree');
});

void t.test('two workers aggregate as prom-client Histograms do', async (t) => {
  await fc.assert(
    fc.asyncProperty(observations, observations, async (one, two) => {
      const [w1, w2] = [await feed(one), await feed(two)];
      const ours = AggregatorRegistry.aggregate([await durations(w1.ours), await durations(w2.ours)]);
      const theirs = AggregatorRegistry.aggregate([await durations(w1.theirs), await durations(w2.theirs)]);
      return (await ours.metrics()) === (await theirs.metrics());
    }),
    { numRuns: 100 },
  );
  t.pass('100 random pairs agree');
});

void t.test('a series appears with its first observation, and reset forgets every series', async (t) => {
  const { ours, theirs } = await feed([{ kind: 'auth', decision: 'denied', v: 0.001 }, { kind: 'auth', decision: 'allowed', v: 0.5 }]);
  t.equal(await ours.getSingleMetricAsString(AUTH), await theirs.getSingleMetricAsString(AUTH), 'series in order of first observation');
  t.match(await ours.getSingleMetricAsString(AUTH), /decision="denied"[^]*decision="allowed"/);
  ours.resetMetrics();
  theirs.resetMetrics();
  t.same(await durations(ours), await durations(theirs), 'no series after reset');
  t.same((await durations(ours))[0]?.values, []);
});

void t.test('a value that is not a finite number is refused, as by prom-client', async (t) => {
  const m = createMetrics({ tokenSeriesLimit: 10, defaultMetrics: false });
  const ref = await reference(m);
  for (const v of [NaN, Infinity, -Infinity]) {
    t.throws(() => ref.auth.observe({ decision: 'allowed' }, v), TypeError);
    t.throws(() => m.authDuration('allowed', v), TypeError);
  }
  t.same(await durations(m.registry), await durations(ref.registry), 'nothing counted');
});
