import type http from 'node:http';

/** Listens on host:port (default 127.0.0.1:0); rejects on EADDRINUSE and friends instead of crashing. */
export function listen(server: http.Server, host = '127.0.0.1', port = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Stops a stand-in server: cancels its pending reply timers, drops open connections, then closes. */
export function closeServer(server: http.Server, timers: Set<NodeJS.Timeout>): Promise<void> {
  for (const t of timers) clearTimeout(t);
  timers.clear();
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
}
