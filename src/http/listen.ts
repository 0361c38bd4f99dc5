/** Starts a server listening and resolves once it does; rejects with the listen error (EADDRINUSE…). */
import type { Server } from 'node:net';

export function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
