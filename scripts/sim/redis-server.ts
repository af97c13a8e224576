/**
 * Starts a private redis-server (Debian package) on a free port with a temp dir, so tests, the demo
 * and the load test never touch a Redis they did not start. Used by the integration global setup
 * (tests/support/redis-server.ts re-exports it), by tests that stop and restart Redis, and by
 * `npm run demo` / `npm run load-test:calls`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisServerHandle {
  url: string;
  port: number;
  pid: number;
  /** False once the process has exited (its pid may then belong to another process). */
  readonly alive: boolean;
  /** Stops the process (simulated outage); `restart()` brings it back on the same port. */
  stop(): Promise<void>;
  /** Sends a signal (SIGKILL = a crash) and resolves when the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  /** Stops the process and removes its data dir. */
  destroy(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function waitForPort(port: number, timeoutMs: number, failed: () => Error | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        const err = failed();
        if (err) reject(new Error(`redis-server did not start (apt-get install -y redis-server): ${err.message}`));
        else if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port}`));
        else setTimeout(attempt, 25);
      });
    };
    attempt();
  });
}

export interface RedisServerOptions {
  port?: number;
  /** Show redis-server's own output (stdio inherited). */
  debug?: boolean;
  /** More redis-server arguments, e.g. ['--replicaof', '127.0.0.1', '6390']. */
  args?: readonly string[];
}

/** Rejects with a clear message when redis-server is not installed or does not come up. */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-redis-'));
  let child: ChildProcess;
  const launch = async () => {
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction', ...(opts.args ?? [])],
      { stdio: opts.debug ? 'inherit' : 'ignore' },
    );
    child = c;
    let spawnError: Error | undefined;
    c.on('error', (err) => {
      spawnError = err;
      console.error(`failed to start redis-server (apt-get install -y redis-server): ${err.message}`);
    });
    try {
      await waitForPort(port, 5000, () => spawnError ?? (c.exitCode !== null ? new Error(`redis-server exited with code ${c.exitCode}`) : undefined));
    } catch (err) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  };
  const kill = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  const stop = () => kill('SIGTERM');
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid ?? -1;
    },
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    stop,
    kill,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
