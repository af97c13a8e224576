/**
 * A private Redis Sentinel deployment on loopback: a primary, one replica (`--replicaof`) and three
 * sentinels (`redis-server <conf> --sentinel`, the same binary as the Debian redis-server package), each
 * on a free port with its own temp dir. Used by the Sentinel integration test and the failover scenario
 * of `npm run load-test:failover`. Sentinels run with short timeouts (down after 1 s) so a failover
 * takes a few seconds, not half a minute.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, type RedisServerHandle } from './redis-server';

export interface SentinelGroupOptions {
  /** Name of the monitored primary (default `veralux-primary`). */
  name?: string;
  /** Sentinel `down-after-milliseconds` (default 1000). */
  downAfterMs?: number;
  /** Sentinel `failover-timeout` (default 5000). */
  failoverTimeoutMs?: number;
  debug?: boolean;
}

export interface SwitchMaster {
  /** `host port` of the new primary, as announced. */
  host: string;
  port: number;
  /** performance.now() when this process received the announcement. */
  at: number;
}

export interface SentinelGroup {
  name: string;
  primary: RedisServerHandle;
  replica: RedisServerHandle;
  sentinels: { host: string; port: number }[];
  /** The runtime's variables for this group (REDIS_URL: the first primary; with the sentinels set its host is not used). */
  env: { REDIS_URL: string; REDIS_SENTINELS: string; REDIS_SENTINEL_NAME: string };
  /** Resolves on the next `+switch-master` a sentinel publishes (subscribed from the start: none is missed). */
  nextSwitch(timeoutMs: number): Promise<SwitchMaster>;
  /** Every `+switch-master` seen so far. */
  switches: SwitchMaster[];
  /** PIDs of every process of the group still running (for an exit handler). */
  pids(): number[];
  /** Stops every process (by its pid) and removes every temp dir. */
  destroy(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Polls a condition that the processes reach on their own (replication link, sentinel discovery). */
async function until(what: string, timeoutMs: number, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`sentinel group: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `SENTINEL MASTER <name>` reply (flat field/value array) as a record. */
function fields(reply: unknown): Record<string, string> {
  const arr = Array.isArray(reply) ? (reply as string[]) : [];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < arr.length; i += 2) out[arr[i]!] = arr[i + 1]!;
  return out;
}

interface SentinelProc {
  port: number;
  child: ChildProcess;
}

function startSentinel(dir: string, port: number, name: string, primaryPort: number, o: Required<Omit<SentinelGroupOptions, 'name'>>): SentinelProc {
  const conf = path.join(dir, `sentinel-${port}.conf`);
  writeFileSync(
    conf,
    [
      `port ${port}`,
      `bind ${HOST}`,
      `dir ${dir}`,
      `sentinel monitor ${name} ${HOST} ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${name} ${o.downAfterMs}`,
      `sentinel failover-timeout ${name} ${o.failoverTimeoutMs}`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const child = spawn('redis-server', [conf, '--sentinel'], { stdio: o.debug ? 'inherit' : 'ignore' });
  child.on('error', (err) => console.error(`failed to start redis-server --sentinel: ${err.message}`));
  return { port, child };
}

function stopProc(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startSentinelGroup(opts: SentinelGroupOptions = {}): Promise<SentinelGroup> {
  const name = opts.name ?? 'veralux-primary';
  const o = { downAfterMs: opts.downAfterMs ?? 1000, failoverTimeoutMs: opts.failoverTimeoutMs ?? 5000, debug: Boolean(opts.debug) };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-sentinel-'));
  const started: { primary?: RedisServerHandle; replica?: RedisServerHandle; sentinels: SentinelProc[]; probes: Redis[] } = { sentinels: [], probes: [] };
  const teardown = async () => {
    for (const p of started.probes) p.disconnect();
    await Promise.all(started.sentinels.map((s) => stopProc(s.child)));
    await Promise.all([started.primary?.destroy(), started.replica?.destroy()]);
    rmSync(dir, { recursive: true, force: true });
  };
  const probe = (port: number) => {
    const r = new Redis(port, HOST, { maxRetriesPerRequest: 1, retryStrategy: () => 100, lazyConnect: false });
    r.on('error', () => undefined);
    started.probes.push(r);
    return r;
  };
  try {
    // No delay before a diskless full sync: the replica is in sync within milliseconds.
    const primary = await startRedisServer({ debug: o.debug, args: ['--repl-diskless-sync-delay', '0'] });
    started.primary = primary;
    const replica = await startRedisServer({ debug: o.debug, args: ['--replicaof', HOST, String(primary.port), '--repl-diskless-sync-delay', '0'] });
    started.replica = replica;
    const replicaProbe = probe(replica.port);
    await until('replica in sync', 15_000, async () => /master_link_status:up/.test(await replicaProbe.info('replication')));

    const ports = [await freePort(), await freePort(), await freePort()];
    for (const port of ports) started.sentinels.push(startSentinel(dir, port, name, primary.port, o));
    const sentinelProbes = ports.map(probe);
    // Each sentinel must know the replica (to promote it) and the two other sentinels (quorum).
    await until('sentinels know the replica and each other', 20_000, async () => {
      const all = await Promise.all(sentinelProbes.map((p) => p.call('SENTINEL', 'MASTER', name)));
      return all.map(fields).every((f) => Number(f['num-slaves']) >= 1 && Number(f['num-other-sentinels']) >= 2);
    });

    const switches: SwitchMaster[] = [];
    const waiters: ((s: SwitchMaster) => void)[] = [];
    const sub = probe(ports[0]!);
    sub.on('message', (_channel: string, message: string) => {
      // "<name> <old-ip> <old-port> <new-ip> <new-port>"
      const [n, , , host, port] = message.split(' ');
      if (n !== name || !host || !port) return;
      const s = { host, port: Number(port), at: performance.now() };
      switches.push(s);
      for (const w of waiters.splice(0)) w(s);
    });
    await sub.subscribe('+switch-master');

    return {
      name,
      primary,
      replica,
      sentinels: ports.map((port) => ({ host: HOST, port })),
      env: { REDIS_URL: `redis://${HOST}:${primary.port}`, REDIS_SENTINELS: ports.map((p) => `${HOST}:${p}`).join(','), REDIS_SENTINEL_NAME: name },
      switches,
      nextSwitch(timeoutMs) {
        return new Promise<SwitchMaster>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no +switch-master within ${timeoutMs} ms`)), timeoutMs);
          waiters.push((s) => {
            clearTimeout(timer);
            resolve(s);
          });
        });
      },
      pids: () =>
        [...[primary, replica].map((r) => (r.alive ? r.pid : -1)), ...started.sentinels.map((s) => (s.child.exitCode === null && s.child.signalCode === null ? (s.child.pid ?? -1) : -1))].filter((p) => p > 0),
      destroy: teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}
