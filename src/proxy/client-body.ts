/**
 * `client_body_timeout` for every request of the main listener: a request body that sends
 * nothing for that long, while portcullis is ready to read it, is a stalled client.
 *
 * The watch counts the bytes arriving on the connection (the socket's `data` events, which
 * the HTTP parser consumes anyway), so it never switches the request stream into flowing mode
 * and never takes a byte from whoever reads the body later. Pauses that are portcullis' doing
 * (the connection paused because nobody reads yet, an upstream that reads slowly) are not the
 * client's fault and restart the wait. On a stall, the request's owner decides: the proxy
 * registers itself (it aborts the upstream request, freeing its connection, and answers 408
 * through the normal path, audited); any other request is answered 408 here, or its
 * connection is closed when its answer already started. Both close the connection, whose
 * remaining body is never read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const owners = new WeakMap<IncomingMessage, () => void>();

/** The proxy takes over the stall of `req`; the returned function hands it back. */
export function onClientBodyStall(req: IncomingMessage, handle: () => void): () => void {
  owners.set(req, handle);
  return () => void owners.delete(req);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
}

/** Watches `req` until its body is complete; `answer` sends the 408 of a request nobody owns. */
export function guardClientBody(req: IncomingMessage, res: ServerResponse, ms: number, answer: (res: ServerResponse) => void): void {
  if (!hasBody(req) || req.complete) return;
  const socket = req.socket;
  const stop = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    req.off('end', stop);
    req.off('close', stop);
  };
  const timer = setTimeout(function check() {
    if (req.complete) return stop();
    if (socket.isPaused() || req.isPaused()) return void timer.refresh();
    stop();
    res.shouldKeepAlive = false;
    const owner = owners.get(req);
    if (owner) owner();
    else if (!res.headersSent) answer(res);
    else socket.destroy();
  }, ms);
  const onData = (): void => void timer.refresh();
  socket.on('data', onData);
  req.once('end', stop);
  req.once('close', stop);
}
