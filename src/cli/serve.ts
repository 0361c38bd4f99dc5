/**
 * `portcullis serve -c FILE`: runs the sidecar until SIGTERM/SIGINT (exit 0 after draining).
 * A bad config or a port in use is fatal at start-up (exit 1, one clear line per problem on
 * stderr). SIGHUP reloads the file: a valid one is swapped in, an invalid one is refused with
 * its problems and the running config stays; the audit file is reopened either way.
 */
import { formatProblem, loadConfigFile } from '../config/index.js';
import { createOpLog } from '../observe/log.js';
import type { OpLog } from '../observe/log.js';
import { startSidecar } from '../runtime/sidecar.js';
import type { Sidecar } from '../runtime/sidecar.js';
import { VERSION } from '../version.js';
import cluster from 'node:cluster';
import { attachWorker, runPrimary, stopSignal, throttleOfPrimary } from '../runtime/cluster.js';

export interface ServeOptions {
  readonly log?: OpLog;
  /** Called once the sidecar listens (dev mode prints its tour here). */
  readonly onReady?: (sidecar: Sidecar) => void;
}

function startupError(err: unknown): string {
  const e = err as { code?: string; address?: string; port?: number; message?: string };
  if (e.code === 'EADDRINUSE') return `cannot listen on ${e.address ?? ''}:${e.port ?? ''}: address already in use`;
  if (e.code === 'EACCES') return `cannot listen on ${e.address ?? ''}:${e.port ?? ''}: permission denied`;
  return e.message ?? String(err);
}

export async function runServe(file: string, opts: ServeOptions = {}): Promise<number> {
  const log = opts.log ?? createOpLog();
  log.starting({ version: VERSION, config: file });
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    for (const p of loaded.problems) process.stderr.write(`${formatProblem(p)}\n`);
    return 1;
  }
  const clustered = loaded.config.workers > 1;
  if (clustered && cluster.isPrimary) {
    try {
      return await runPrimary(file, loaded.config, log);
    } catch (err) {
      log.fatal(startupError(err));
      return 1;
    }
  }
  let sidecar: Sidecar;
  try {
    sidecar = await startSidecar(loaded.config, clustered ? { log, admin: false, throttle: throttleOfPrimary() } : { log });
  } catch (err) {
    log.fatal(startupError(err));
    return 1;
  }
  const detach = clustered ? attachWorker(sidecar.metrics.registry, sidecar.listen, () => sidecar.isReady()) : undefined;
  if (!clustered) log.ready({ listen: sidecar.listen, admin: sidecar.admin });
  opts.onReady?.(sidecar);

  let reloading = Promise.resolve();
  const onHup = (): void => {
    reloading = reloading.then(async () => {
      sidecar.reopenAudit();
      const next = await loadConfigFile(file);
      if (!next.ok) {
        sidecar.metrics.configReload('error');
        sidecar.audit({ event: 'config_reload', decision: 'denied', reason: 'invalid_config' });
        log.reloadFailed({ file, problems: next.problems.map(formatProblem) });
        return;
      }
      try {
        await sidecar.reload(next.config);
        sidecar.metrics.configReload('ok');
        sidecar.audit({ event: 'config_reload', decision: 'allowed' });
        log.reloaded({ file });
      } catch (err) {
        sidecar.metrics.configReload('error');
        sidecar.audit({ event: 'config_reload', decision: 'denied', reason: 'invalid_config' });
        log.reloadFailed({ file, problems: [startupError(err)] });
      }
    });
  };
  process.on('SIGHUP', onHup);

  const signal = await stopSignal();
  process.off('SIGHUP', onHup);
  log.shuttingDown({ signal });
  await reloading;
  await sidecar.shutdown();
  detach?.();
  if (clustered) process.disconnect(); // the IPC channel would keep a worker alive
  else log.stopped();
  return 0;
}
