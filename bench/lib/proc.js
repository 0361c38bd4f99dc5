/**
 * Reading a server's cost from /proc: CPU ticks (utime + stime of /proc/<pid>/stat, summed over
 * the process and every descendant, so a master/worker server counts whole), peak and current
 * RSS (VmHWM / VmRSS of /proc/<pid>/status), and CPU pinning with taskset: the load generator
 * on one core, every server on the other, when the machine has two cores or more.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Clock ticks per second of /proc's utime/stime (`getconf CLK_TCK`). */
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Fields after the `(comm)` of /proc/<pid>/stat; index 0 is field 3 (state). */
function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of one process (all its threads), in ticks; 0 once it is gone. */
function ownTicks(pid) {
  try {
    const f = statFields(pid);
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** `pid` and every live descendant (scans /proc for parent links). */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(statFields(entry)[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // the process exited while /proc was being read
    }
  }
  const tree = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = /** @type {number} */ (queue.shift());
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** CPU ticks of `pid` and its descendants. */
export function treeTicks(pid) {
  return processTree(pid).reduce((sum, p) => sum + ownTicks(p), 0);
}

export function ticksToMicros(ticks) {
  return (ticks * 1e6) / CLK_TCK;
}

/** A `Vm*:` line of /proc/<pid>/status in MiB, summed over the tree; 0 when unreadable. */
function vm(pid, field) {
  let kib = 0;
  for (const p of processTree(pid)) {
    try {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      kib += Number(match?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

export const peakRssMb = (pid) => vm(pid, 'VmHWM');
export const rssMb = (pid) => vm(pid, 'VmRSS');

/**
 * The pinning plan: `load` and `servers` are taskset CPU lists, or undefined when pinning is off
 * (one core, or taskset missing), with the reason.
 */
export function pinningPlan() {
  const cores = availableParallelism();
  const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!taskset) return { cores, load: undefined, servers: undefined, note: 'taskset not found (util-linux): no pinning' };
  if (cores < 2) return { cores, load: undefined, servers: undefined, note: 'one core: no pinning' };
  return { cores, load: '0', servers: `1-${cores - 1}`, note: `load generator on core 0, servers on cores 1-${cores - 1}` };
}

/** [command, args] prefixed with `taskset -c <cpus>` when `cpus` is set. */
export function pinned(cpus, command, args) {
  return cpus === undefined ? [command, args] : ['taskset', ['-c', cpus, command, ...args]];
}
