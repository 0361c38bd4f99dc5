// Holds bench/lib/profile.js: with interleaved rounds a sidecar's CPU profile spans the whole
// run, so only the samples inside one of its timed rounds' windows are summarised; start-up, the
// warm-up and the time between rounds are left out.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { summariseProfile } from '../../../bench/lib/profile.js';

const frame = (id: number, functionName: string, url: string) => ({
  id,
  callFrame: { functionName, scriptId: String(id), url, lineNumber: 0, columnNumber: 0 },
  children: [] as number[],
});

/**
 * A V8 `.cpuprofile` with one sample every 100 µs from 100 to 1200 (CLOCK_MONOTONIC µs): the
 * samples at 200-400 and 700-800 are in `handle` (a portcullis function), the others in `boot`
 * (Node's own JavaScript), except the one at 300, which is idle.
 */
function profileFile(dir: string) {
  const root = { ...frame(1, '(root)', ''), children: [2, 3, 4] };
  const nodes = [root, frame(2, 'handle', 'file:///app/dist/http/handle.js'), frame(3, 'boot', 'node:internal/main'), frame(4, '(idle)', '')];
  const at = Array.from({ length: 12 }, (_, i) => 100 * (i + 1));
  const samples = at.map((us) => (us === 300 ? 4 : (us >= 200 && us <= 400) || (us >= 700 && us <= 800) ? 2 : 3));
  const file = join(dir, 'x.cpuprofile');
  writeFileSync(file, JSON.stringify({ nodes, startTime: 0, endTime: 1200, samples, timeDeltas: at.map(() => 100) }));
  return file;
}

const selfMs = (summary: { top: { name: string; selfMs: number }[] }) =>
  Object.fromEntries(summary.top.map((e) => [e.name, Number(e.selfMs.toFixed(3))]));

void t.test('only the samples inside one of the windows count', async (t) => {
  const file = profileFile(t.testdir());
  const summary = summariseProfile(file, [
    { from: 200, to: 400 },
    { from: 700, to: 800 },
  ]);
  t.same(selfMs(summary), { handle: 0.4 }, 'the four busy samples of the two rounds, none between them');
  t.equal(Number(summary.busyMs.toFixed(3)), 0.4, 'the idle sample inside a window is not busy time');
  t.same(summary.origins, { portcullis: 1 });
});

void t.test('a window between samples keeps nothing; no windows keep everything', async (t) => {
  const file = profileFile(t.testdir());
  t.equal(summariseProfile(file, [{ from: 420, to: 480 }]).busyMs, 0);
  const whole = summariseProfile(file);
  t.same(selfMs(whole), { boot: 0.7, handle: 0.4 });
});
