/**
 * A small runtime fleet on loopback for the failover scenarios and their tests: N runtime child
 * processes (src/main.ts, stream playback, PCMU) on one Redis, behind the loopback load balancer
 * (scripts/sim/load-balancer.ts) that is also their PUBLIC_BASE_URL, with the Telnyx simulator and
 * the speech stand-ins. Every process it starts is stopped by close(), by PID.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { spawnRuntime, type RuntimeProcess } from '../lib/runtime-process';
import { startLoadBalancer, type LoadBalancer } from '../sim/load-balancer';
import { freePort } from '../sim/redis-server';
import { DEMO_DID, DEMO_TENANT_ID, demoTenantConfig } from '../sim/script';
import { TelnyxSimulator } from '../sim/simulator';
import { startStandIns, type StandIns } from '../sim/stand-ins';

export interface FleetOptions {
  redisUrl: string;
  instances?: number;
  /** Extra runtime env (every instance). */
  env?: Record<string, string>;
  /** Where the instances' logs go (default: a temp dir removed by close()). */
  logDir?: string;
}

export interface FleetInstance {
  name: string;
  process: RuntimeProcess;
  url: string;
}

export interface Fleet {
  sim: TelnyxSimulator;
  stand: StandIns;
  lb: LoadBalancer;
  instances: FleetInstance[];
  redis: Redis;
  prefixes: { cap: string; state: string; queue: string; tenantmap: string };
  /** The instance the load balancer sent a call's latest media stream to. */
  instanceOf(callControlId: string): FleetInstance | undefined;
  /** Capacity slots held right now (global leases of this fleet's prefix). */
  slotsHeld(): Promise<number>;
  /** Starts one more instance (same settings), ready and behind the load balancer (e.g. a deploy's replacement). */
  addInstance(): Promise<FleetInstance>;
  close(): Promise<void>;
}

export async function startFleet(o: FleetOptions): Promise<Fleet> {
  const id = randomBytes(4).toString('hex');
  const prefixes = { cap: `f${id}:cap`, state: `f${id}:state`, queue: `f${id}:bull`, tenantmap: `f${id}:tenantmap` };
  const ownLogDir = o.logDir ? undefined : mkdtempSync(path.join(os.tmpdir(), 'veralux-fleet-'));
  const logDir = o.logDir ?? ownLogDir!;
  const audioDir = mkdtempSync(path.join(os.tmpdir(), 'veralux-fleet-audio-'));
  const started: { stand?: StandIns; sim?: TelnyxSimulator; lb?: LoadBalancer; redis?: Redis; instances: FleetInstance[] } = { instances: [] };
  const close = async () => {
    await Promise.all(started.instances.map((i) => i.process.stop(5000).catch(() => i.process.killNow())));
    await started.sim?.close();
    await started.lb?.close();
    await started.stand?.close();
    if (started.redis) await closeRedis(started.redis);
    rmSync(audioDir, { recursive: true, force: true });
    if (ownLogDir) rmSync(ownLogDir, { recursive: true, force: true });
  };
  try {
    started.stand = await startStandIns({ tts: 'tone', toneMsPerChar: 15, brainTokenDelayMs: 1 });
    const stand = started.stand;
    started.lb = await startLoadBalancer([], { checkEveryMs: 200 });
    const lb = started.lb;
    started.sim = await TelnyxSimulator.start({ webhookUrl: `${lb.url}/v1/telnyx/webhook` });
    const sim = started.sim;
    started.redis = createRedis(o.redisUrl, 'request');
    const redis = started.redis;
    await redis.set(`${prefixes.tenantmap}:did:${DEMO_DID}`, DEMO_TENANT_ID);
    await redis.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(demoTenantConfig()));

    const launch = async (name: string): Promise<FleetInstance> => {
      const port = await freePort();
      const proc = spawnRuntime({
        logFile: path.join(logDir, `instance-${name}.log`),
        env: {
          NODE_ENV: 'development',
          PORT: String(port),
          LOG_LEVEL: 'info',
          REDIS_URL: o.redisUrl,
          TELNYX_API_BASE_URL: sim.apiBaseUrl,
          TELNYX_API_KEY: sim.apiKey,
          TELNYX_PUBLIC_KEY: sim.publicKeyB64,
          TELNYX_STREAM_CODEC: 'PCMU',
          MEDIA_STREAM_TOKEN: 'fleet-media-token',
          PUBLIC_BASE_URL: lb.url,
          AUDIO_PUBLIC_BASE_URL: `${lb.url}/audio`,
          AUDIO_STORAGE_DIR: path.join(audioDir, name),
          PLAYBACK_MODE: 'stream',
          WHISPER_URL: stand.whisper.transcriptionsUrl,
          KOKORO_URL: stand.kokoro.speechUrl,
          BRAIN_URL: stand.brain.url,
          STT_SILENCE_MS: '500',
          DEAD_AIR_MS: '30000',
          VAD_MODE: 'energy',
          CAPACITY_TTL_SECONDS: '60',
          GLOBAL_CONCURRENCY_CAP: '100',
          TENANT_CONCURRENCY_CAP_DEFAULT: '20',
          TENANT_CALLS_PER_MIN_CAP_DEFAULT: '120',
          STT_CHUNK_MS: '1000',
          TENANT_URL_ALLOWED_HOSTS: '127.0.0.1',
          TENANTMAP_PREFIX: prefixes.tenantmap,
          CAP_PREFIX: prefixes.cap,
          QUEUE_PREFIX: prefixes.queue,
          STATE_PREFIX: prefixes.state,
          DRAIN_TIMEOUT_MS: '30000',
          // The load balancer checks readiness every 200 ms.
          DRAIN_HANDOFF_DELAY_MS: '600',
          ...o.env,
        },
      });
      const inst = { name, process: proc, url: proc.url };
      started.instances.push(inst);
      return inst;
    };
    const ready = (i: FleetInstance) =>
      i.process.waitReady(60_000).catch((err: unknown) => {
        throw new Error(`instance ${i.name}: ${(err as Error).message}\n${i.process.tail(15).join('\n')}`);
      });
    const n = o.instances ?? 2;
    const first: FleetInstance[] = [];
    for (let i = 0; i < n; i += 1) first.push(await launch(String.fromCharCode(65 + i)));
    await Promise.all(first.map(ready));
    lb.setBackends(started.instances.map((i) => i.url));
    await lb.checkNow();
    const byOrigin = new Map(started.instances.map((i) => [new URL(i.url).origin, i]));
    return {
      sim,
      stand,
      lb,
      instances: started.instances,
      redis,
      prefixes,
      instanceOf(callControlId) {
        const path = `/v1/telnyx/media/${encodeURIComponent(callControlId)}`;
        const last = [...lb.upgrades].reverse().find((u) => u.path.startsWith(path));
        return last ? byOrigin.get(last.backend) : undefined;
      },
      async slotsHeld() {
        return redis.zcard(`${prefixes.cap}:global:leases`);
      },
      async addInstance() {
        const inst = await launch(String.fromCharCode(65 + started.instances.length));
        await ready(inst);
        byOrigin.set(new URL(inst.url).origin, inst);
        // A stopped instance stays listed: the load balancer's readiness checks skip it.
        lb.setBackends(started.instances.map((i) => i.url));
        await lb.checkNow();
        return inst;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
