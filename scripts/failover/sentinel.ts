/**
 * Scenario `sentinel`: a Redis Sentinel failover in the middle of a call. A private primary + replica +
 * three sentinels (scripts/sim/redis-sentinel.ts), the runtime as a child process (src/main.ts) configured
 * with REDIS_SENTINELS only, the Telnyx simulator and the STT/TTS/brain stand-ins. After the call's first
 * turn the primary is SIGKILLed; signed webhooks keep arriving every 100 ms and /health/ready is polled
 * every 50 ms until it is 200 again after the promotion (+switch-master, read from a sentinel); then the
 * caller speaks again. One row per run: failover time, webhook 503s, lost events (200 but never
 * processed: must be 0), ready-again latency, whether the next turn worked, slots held at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { eventJobId } from '../../src/jobs/events/event-ingest';
import { QUEUE_NAMES } from '../../src/jobs/queue-names';
import { Capacity } from '../../src/lib/capacity';
import { loadConfig } from '../../src/lib/config';
import { closeRedis, createRedis, redisTarget } from '../../src/lib/redis';
import { spawnRuntime, type RuntimeProcess } from '../lib/runtime-process';
import { startSentinelGroup } from '../sim/redis-sentinel';
import { freePort } from '../sim/redis-server';
import { CONFIRM_REPLY, DEMO_DID, DEMO_TENANT_ID, demoTenantConfig } from '../sim/script';
import { makeEvent, signEd25519 } from '../sim/signing';
import { pausedCaller } from '../sim/paused-caller';
import { TelnyxSimulator } from '../sim/simulator';
import { startStandIns } from '../sim/stand-ins';
import type { OptionValues, Scenario, ScenarioResult } from './scenario';

/** What the issue asks for: ready again within 10 s of the promotion. */
const READY_AGAIN_MAX_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, timeoutMs: number, fn: () => Promise<boolean> | boolean, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

async function status(url: string, init?: RequestInit): Promise<number> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** One failover, start to finish; everything started is stopped in `finally`. */
async function runOnce(runNo: number, log: (line: string) => void): Promise<{ row: Record<string, string | number>; problems: string[] }> {
  const closers: (() => Promise<unknown>)[] = [];
  const problems: string[] = [];
  try {
    const group = await startSentinelGroup();
    closers.push(() => group.destroy());
    // Should the process exit before `finally` (the runner's time bound, a signal), no child outlives it.
    let runtimePid = -1;
    const killChildren = () => {
      for (const pid of [runtimePid, ...group.pids()]) {
        try {
          if (pid > 0) process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    };
    process.on('exit', killChildren);
    closers.push(async () => process.off('exit', killChildren));
    const stand = await startStandIns({ tts: 'tone', toneMsPerChar: 20, brainTokenDelayMs: 1 });
    closers.push(() => stand.close());
    const port = await freePort();
    const sim = await TelnyxSimulator.start({ webhookUrl: `http://127.0.0.1:${port}/v1/telnyx/webhook`, webhookRetries: 8 });
    closers.push(() => sim.close());
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'veralux-failover-sentinel-'));
    closers.push(async () => rmSync(tmp, { recursive: true, force: true }));
    const env: Record<string, string> = {
      NODE_ENV: 'development',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      TELNYX_API_KEY: sim.apiKey,
      TELNYX_PUBLIC_KEY: sim.publicKeyB64,
      TELNYX_API_BASE_URL: sim.apiBaseUrl,
      MEDIA_STREAM_TOKEN: randomBytes(16).toString('hex'),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
      AUDIO_STORAGE_DIR: path.join(tmp, 'audio'),
      PLAYBACK_MODE: 'stream',
      WHISPER_URL: stand.whisper.transcriptionsUrl,
      KOKORO_URL: stand.kokoro.speechUrl,
      BRAIN_URL: stand.brain.url,
      STT_CHUNK_MS: '1000',
      STT_SILENCE_MS: '500',
      DEAD_AIR_MS: '30000',
      // The sentinels name the primary; REDIS_URL's host is not used with them.
      REDIS_URL: 'redis://127.0.0.1:1/0',
      REDIS_SENTINELS: group.env.REDIS_SENTINELS,
      REDIS_SENTINEL_NAME: group.env.REDIS_SENTINEL_NAME,
      GLOBAL_CONCURRENCY_CAP: '100',
      TENANT_CONCURRENCY_CAP_DEFAULT: '20',
      TENANT_CALLS_PER_MIN_CAP_DEFAULT: '120',
      CAPACITY_TTL_SECONDS: '60',
    };
    const config = loadConfig(env);
    const redis = createRedis(redisTarget(config), 'bullmq');
    closers.push(() => closeRedis(redis));
    const events = new Queue(QUEUE_NAMES.events, { connection: redis, prefix: config.QUEUE_PREFIX });
    events.on('error', () => undefined);
    closers.push(() => events.close());
    const capacity = new Capacity({ redis, prefix: config.CAP_PREFIX });
    await redis.set(`${config.TENANTMAP_PREFIX}:did:${DEMO_DID}`, DEMO_TENANT_ID);
    await redis.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(demoTenantConfig()));

    const runtime: RuntimeProcess = spawnRuntime({ env, logFile: path.join(tmp, 'runtime.log') });
    runtimePid = runtime.pid;
    closers.push(() => runtime.stop());
    await runtime.waitReady(60_000);

    let firstTurnDone!: () => void;
    const firstTurn = new Promise<void>((r) => (firstTurnDone = r));
    // The caller waits on the line (silence) while Redis fails over.
    const gate = { open: false };
    const call = await sim.placeCall({ to: DEMO_DID, callerAudio: { script: pausedCaller(gate, firstTurnDone, { quietMs: 500, timeoutMs: 20_000 }) } });
    await firstTurn;
    log(`run ${runNo}: first turn answered; SIGKILL to the primary (pid ${group.primary.pid})`);

    const promoted = group.nextSwitch(60_000);
    const killedAt = performance.now();
    await group.primary.kill('SIGKILL');

    const posted: { id: string; status: number }[] = [];
    const ready: { at: number; status: number }[] = [];
    let stop = false;
    const pump = (async () => {
      while (!stop) {
        const id = randomUUID();
        const raw = Buffer.from(JSON.stringify(makeEvent('call.hangup', { call_control_id: `v3:${randomUUID()}`, hangup_cause: 'normal_clearing' }, { id })));
        const s = await status(`${runtime.url}/v1/telnyx/webhook`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signEd25519(raw, sim.keys.privateKey) } });
        posted.push({ id, status: s });
        await sleep(100);
      }
    })();
    const watch = (async () => {
      while (!stop) {
        ready.push({ at: performance.now(), status: await status(`${runtime.url}/health/ready`) });
        await sleep(50);
      }
    })();
    const sw = await promoted;
    await until('/health/ready 200 after the promotion', READY_AGAIN_MAX_MS + 20_000, () => ready.some((r) => r.at > sw.at && r.status === 200), 25);
    const readyAt = ready.find((r) => r.at > sw.at && r.status === 200)!.at;
    const after = posted.length;
    await until('webhooks after readiness', 10_000, () => posted.length >= after + 3, 25);
    stop = true;
    await Promise.all([pump, watch]);
    log(`run ${runNo}: promoted ${group.replica.port}; ready again; caller speaks`);

    gate.open = true;
    await call.ended;
    const nextTurnOk = stand.brainReplies.length === 2 && stand.brainReplies[1]!.reply === CONFIRM_REPLY && call.waitTimeouts === 0;
    if (!nextTurnOk) problems.push(`run ${runNo}: the turn after the failover did not complete (brain replies ${stand.brainReplies.length}, wait timeouts ${call.waitTimeouts})`);

    const ok = posted.filter((p) => p.status === 200);
    let lost = ok.length;
    await until('200-answered webhooks processed', 15_000, async () => {
      const states = await Promise.all(ok.map(async (p) => (await events.getJob(eventJobId(p.id)))?.getState()));
      lost = states.filter((s) => s !== 'completed').length;
      return lost === 0;
    }, 200).catch(() => undefined);
    await until('slot released', 10_000, async () => (await capacity.usage(DEMO_TENANT_ID)).tenant === 0, 100).catch(() => undefined);
    const held = (await capacity.usage(DEMO_TENANT_ID)).tenant;

    const failoverMs = Math.round(sw.at - killedAt);
    const readyAgainMs = Math.round(readyAt - sw.at);
    const count = (s: number) => posted.filter((p) => p.status === s).length;
    const other = posted.length - count(200) - count(503);
    if (lost > 0) problems.push(`run ${runNo}: ${lost} webhook(s) answered 200 were never processed`);
    if (other > 0) problems.push(`run ${runNo}: ${other} webhook(s) got neither 200 nor 503`);
    if (readyAgainMs > READY_AGAIN_MAX_MS) problems.push(`run ${runNo}: /health/ready 200 only ${readyAgainMs} ms after the promotion`);
    if (!ready.some((r) => r.at < sw.at && r.status === 503)) problems.push(`run ${runNo}: /health/ready never said 503 during the outage`);
    if (held !== 0) problems.push(`run ${runNo}: ${held} slot(s) still held after the call`);
    if (call.webhookFailures > 0) problems.push(`run ${runNo}: ${call.webhookFailures} call webhook(s) failed for good`);
    return {
      row: {
        run: runNo,
        'kill → promotion': `${failoverMs} ms`,
        'promotion → ready 200': `${readyAgainMs} ms`,
        'webhooks during outage': posted.length,
        'answered 503': count(503),
        'answered 200': count(200),
        'lost (200, not processed)': lost,
        'next turn': nextTurnOk ? 'OK' : 'FAILED',
        'slots held at end': held,
      },
      problems,
    };
  } finally {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  }
}

export const sentinelFailover: Scenario = {
  name: 'sentinel',
  summary: 'Redis Sentinel failover mid-call (primary SIGKILLed): 503s, lost events, ready-again latency, next turn',
  options: { 'sentinel-runs': { type: 'string', default: '1' } },
  maxSeconds: (v: OptionValues) => 120 * Math.max(1, Number(v['sentinel-runs'] ?? 1)),
  async run(values, log): Promise<ScenarioResult> {
    const runs = Math.max(1, Math.min(10, Number(values['sentinel-runs'] ?? 1) || 1));
    const rows: Record<string, string | number>[] = [];
    const problems: string[] = [];
    for (let i = 1; i <= runs; i += 1) {
      const r = await runOnce(i, log);
      rows.push(r.row);
      problems.push(...r.problems);
    }
    return {
      rows,
      problems,
      notes: ['sentinels: down-after-milliseconds 1000, failover-timeout 5000; webhooks every 100 ms, /health/ready every 50 ms during the outage'],
    };
  },
};
