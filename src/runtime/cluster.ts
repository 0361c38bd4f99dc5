/**
 * `workers: N` (N > 1): one primary process and N node:cluster workers sharing the main port.
 * Workers run the whole sidecar (pipeline, proxy, login) and report readiness; the primary
 * owns the admin port (metrics aggregated over workers with prom-client's AggregatorRegistry,
 * `/readyz` ready when every worker is), validates the file on SIGHUP before telling workers
 * to reload, drains workers on SIGTERM/SIGINT and replaces a worker that dies unexpectedly.
 * The primary also holds the failed-login counter for every worker (login/rate-limit.ts): one
 * count per `serve`, not per worker.
 */
import cluster from 'node:cluster';
import type { Worker } from 'node:cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AggregatorRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import { createAdminHandler } from '../admin/server.js';
import { listen } from '../http/listen.js';
import { formatProblem, loadConfigFile } from '../config/index.js';
import type { RuntimeConfig } from '../config/types.js';
import type { OpLog } from '../observe/log.js';
import { createRateLimiter, serveThrottle, workerThrottle } from '../login/rate-limit.js';
import type { Channel, LoginThrottle } from '../login/rate-limit.js';

/** How long a worker waits for the primary's failed-login count before refusing the attempt. */
export const THROTTLE_TIMEOUT_MS = 2_000;

interface WorkerReport {
  readonly type: 'portcullis:worker';
  readonly listen: string;
  readonly ready: boolean;
}

function isReport(message: unknown): message is WorkerReport {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'portcullis:worker';
}

/** In a worker: lets the primary aggregate this registry and learn this worker's readiness. */
export function attachWorker(registry: Registry, listen: string, isReady: () => boolean): () => void {
  AggregatorRegistry.setRegistries(registry);
  new AggregatorRegistry();
  let last: boolean | undefined;
  const report = (): void => {
    const ready = isReady();
    if (ready === last || !process.connected) return;
    last = ready;
    process.send?.({ type: 'portcullis:worker', listen, ready } satisfies WorkerReport);
  };
  report();
  const timer = setInterval(report, 500);
  timer.unref();
  return () => clearInterval(timer);
}

/** In a worker: the failed-login counter, held by the primary. */
export function throttleOfPrimary(): LoginThrottle {
  const channel: Channel = {
    send: (message) => process.connected && process.send?.(message) === true,
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  };
  return workerThrottle(channel, THROTTLE_TIMEOUT_MS);
}

/** Resolves with the first SIGTERM or SIGINT: the start of a graceful shutdown. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

export async function runPrimary(file: string, config: RuntimeConfig, log: OpLog): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const workers = new Map<Worker, { listen: string; ready: boolean }>();
  const limiter = createRateLimiter();
  let draining = false;
  let failStartup: (err: Error) => void = () => undefined;
  const startupFailed = new Promise<never>((_, reject) => (failStartup = reject));
  startupFailed.catch(() => undefined);

  const fork = (): void => {
    const worker = cluster.fork();
    workers.set(worker, { listen: '', ready: false });
    const releaseThrottle = serveThrottle(limiter, worker);
    worker.on('message', (message: unknown) => {
      if (isReport(message)) workers.set(worker, { listen: message.listen, ready: message.ready });
    });
    worker.on('exit', (code) => {
      releaseThrottle();
      const listened = workers.get(worker)?.listen !== '';
      workers.delete(worker);
      if (draining) return;
      // A worker that never listened failed at start-up (its own line is on stderr): stop.
      if (!listened) failStartup(new Error(`worker exited with code ${code} before listening`));
      else fork();
    });
  };
  for (let i = 0; i < config.workers; i++) fork();
  const stopAll = (): void => {
    draining = true;
    for (const worker of workers.keys()) worker.process.kill('SIGTERM');
  };

  const admin = createServer(
    createAdminHandler({
      render: async () => ({ contentType: aggregator.contentType, body: await aggregator.clusterMetrics() }),
      notReadyReason: () => {
        if (draining) return 'shutting down';
        const waiting = [...workers.values()].filter((w) => !w.ready).length;
        if (workers.size < config.workers || waiting > 0) return `${waiting + config.workers - workers.size} worker(s) not ready`;
        return undefined;
      },
    }),
  );
  try {
    await listen(admin, config.admin.listen.host, config.admin.listen.port);
    // Ready once every worker listens (readiness of keys is /readyz's business).
    let check: NodeJS.Timeout | undefined;
    await Promise.race([
      startupFailed,
      new Promise<void>((resolve) => {
        check = setInterval(() => {
          const all = [...workers.values()];
          if (all.length === config.workers && all.every((w) => w.listen !== '')) resolve();
        }, 50);
      }),
    ]).finally(() => clearInterval(check));
  } catch (err) {
    stopAll();
    admin.close();
    throw err;
  }
  const a = admin.address() as AddressInfo;
  const first = [...workers.values()][0]!;
  log.ready({ listen: first.listen, admin: `${a.address}:${a.port}`, workers: config.workers });

  const onHup = (): void => {
    void loadConfigFile(file).then((next) => {
      if (!next.ok) {
        log.reloadFailed({ file, problems: next.problems.map(formatProblem) });
        return;
      }
      for (const worker of workers.keys()) worker.process.kill('SIGHUP');
    });
  };
  process.on('SIGHUP', onHup);

  const signal = await stopSignal();
  process.off('SIGHUP', onHup);
  log.shuttingDown({ signal });
  const exits = [...workers.keys()].map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
  stopAll();
  await Promise.all(exits);
  await new Promise<void>((resolve) => admin.close(() => resolve()));
  log.stopped();
  return 0;
}
