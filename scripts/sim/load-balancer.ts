/**
 * A tiny loopback load balancer standing in for the one in front of a runtime fleet: HTTP requests
 * and WebSocket upgrades go round-robin to the backends whose `/health/ready` answers 200 (polled
 * every `checkEveryMs`), so a draining instance (503) stops getting new connections while its open
 * ones stay up, and a dead one is skipped. Used by the handoff tests and `npm run load-test:failover`;
 * never shipped.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface LoadBalancer {
  url: string;
  /** Backends (base URLs) that passed their last readiness check. */
  readonly ready: string[];
  /** Which backend each accepted WebSocket upgrade went to, in order (path → backend). */
  readonly upgrades: { path: string; backend: string; at: number }[];
  setBackends(urls: string[]): void;
  /** Runs the readiness checks now (tests wait on it instead of on the poll period). */
  checkNow(): Promise<void>;
  close(): Promise<void>;
}

export async function startLoadBalancer(backends: string[], opts: { checkEveryMs?: number } = {}): Promise<LoadBalancer> {
  let all = [...backends];
  let ready: string[] = [];
  // Separate turns for requests and upgrades, so media streams spread evenly whatever the webhook traffic.
  const turn = { http: 0, upgrade: 0 };
  const upgrades: LoadBalancer['upgrades'] = [];
  const sockets = new Set<net.Socket>();

  const check = async (): Promise<void> => {
    const results = await Promise.all(
      all.map(async (b) => {
        const status = await new Promise<number>((resolve) => {
          // No keep-alive: a check never holds a connection open (or the test process) past its answer.
          const req = http.get(`${b}/health/ready`, { agent: false, timeout: 1000 }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('timeout', () => req.destroy());
          req.on('error', () => resolve(0));
        });
        return status === 200 ? b : undefined;
      }),
    );
    ready = results.filter((b): b is string => b !== undefined);
  };
  const pick = (kind: keyof typeof turn): URL | undefined => {
    if (ready.length === 0) return undefined;
    const b = ready[turn[kind]++ % ready.length]!;
    return new URL(b);
  };

  const server = http.createServer((req, res) => {
    const target = pick('http');
    if (!target) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"no_backend","message":"no ready backend"}');
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' }).end('{"error":"bad_gateway","message":"backend failed"}');
      else res.destroy();
    });
    req.pipe(upstream);
  });

  server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on('error', () => undefined);
    const target = pick('upgrade');
    if (!target) {
      client.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const backend = net.connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      backend.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) backend.write(head);
      upgrades.push({ path: req.url ?? '', backend: target.origin, at: Date.now() });
      backend.pipe(client);
      client.pipe(backend);
    });
    sockets.add(client).add(backend);
    const drop = () => {
      client.destroy();
      backend.destroy();
      sockets.delete(client);
      sockets.delete(backend);
    };
    backend.on('error', drop);
    backend.on('close', drop);
    client.on('close', drop);
  });

  await check();
  const poll = setInterval(() => void check(), opts.checkEveryMs ?? 200);
  poll.unref();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get ready() {
      return [...ready];
    },
    upgrades,
    setBackends(urls) {
      all = [...urls];
    },
    checkNow: check,
    async close() {
      clearInterval(poll);
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
