/**
 * Redis Sentinel failover with real processes on loopback: a redis-server primary + replica and three
 * sentinels, the runtime in process (configured with REDIS_SENTINELS only), the Telnyx simulator and the
 * STT/TTS/brain stand-ins. Mid-call the primary is SIGKILLed; the sentinels promote the replica
 * (+switch-master, observed by subscription). Then: /health/ready is 503 during the outage and 200 within
 * 10 s of the promotion; webhooks posted during the outage got 503 or 200 and every 200 was processed;
 * the call's next turn is transcribed, answered by the brain and heard; capacity goes back to zero.
 */
import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/lib/config';
import { closeRedis, createRedis, redisTarget } from '../../src/lib/redis';
import { startRuntime, type Runtime } from '../../src/runtime';
import { QUEUE_NAMES } from '../../src/jobs/queue-names';
import { eventJobId } from '../../src/jobs/events/event-ingest';
import { freePort } from '../../scripts/sim/redis-server';
import { startSentinelGroup, type SentinelGroup } from '../../scripts/sim/redis-sentinel';
import { CALLER_LINES, CONFIRM_REPLY, DEMO_DID, DEMO_TENANT_ID, demoTenantConfig } from '../../scripts/sim/script';
import { makeEvent, signEd25519 } from '../../scripts/sim/signing';
import { pausedCaller } from '../../scripts/sim/paused-caller';
import { TelnyxSimulator } from '../../scripts/sim/simulator';
import { startStandIns, type StandIns } from '../../scripts/sim/stand-ins';
import { http, waitUntil } from '../support/call-harness';
import { runScript, script as scriptPath, TSX } from '../support/run-script';
import { memoryLogger, testEnv } from '../support/test-config';

/** What the issue asks for: ready again within 10 s of the promotion. */
const READY_AGAIN_MAX_MS = 10_000;

describe('Redis Sentinel failover mid-call', () => {
  let group: SentinelGroup;
  let stand: StandIns;
  let sim: TelnyxSimulator;
  let rt: Runtime;
  let redis: Redis;
  let events: Queue;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    group = await startSentinelGroup();
    stand = await startStandIns({ tts: 'tone', toneMsPerChar: 20, brainTokenDelayMs: 1 });
    const port = await freePort();
    // Telnyx redelivers a webhook that got a 5xx; enough attempts to outlast a failover.
    sim = await TelnyxSimulator.start({ webhookUrl: `http://127.0.0.1:${port}/v1/telnyx/webhook`, webhookRetries: 8 });
    env = testEnv({
      ...group.env,
      // The host of REDIS_URL is not used with sentinels: point it nowhere to prove it.
      REDIS_URL: 'redis://127.0.0.1:1/0',
      PORT: String(port),
      TELNYX_API_BASE_URL: sim.apiBaseUrl,
      TELNYX_API_KEY: sim.apiKey,
      TELNYX_PUBLIC_KEY: sim.publicKeyB64,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
      PLAYBACK_MODE: 'stream',
      WHISPER_URL: stand.whisper.transcriptionsUrl,
      KOKORO_URL: stand.kokoro.speechUrl,
      BRAIN_URL: stand.brain.url,
      STT_SILENCE_MS: '500',
      DEAD_AIR_MS: '30000',
    });
    const config = loadConfig(env);
    rt = await startRuntime(config, memoryLogger('warn').logger, { defaultMetrics: false });
    redis = createRedis(redisTarget(config), 'bullmq');
    events = new Queue(QUEUE_NAMES.events, { connection: redis, prefix: config.QUEUE_PREFIX });
    events.on('error', () => undefined);
    await redis.set(`${env.TENANTMAP_PREFIX}:did:${DEMO_DID}`, DEMO_TENANT_ID);
    await redis.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(demoTenantConfig()));
  }, 60_000);

  afterAll(async () => {
    await sim?.close();
    await rt?.close();
    await events?.close();
    if (redis) await closeRedis(redis);
    await stand?.close();
    await group?.destroy();
  });

  /** A signed webhook for a call that does not exist: processing it is a no-op that completes. */
  async function postStrayEvent(): Promise<{ id: string; status: number }> {
    const id = randomUUID();
    const event = makeEvent('call.hangup', { call_control_id: `v3:${randomUUID()}`, hangup_cause: 'normal_clearing' }, { id });
    const raw = Buffer.from(JSON.stringify(event));
    const res = await http.post(`${rt.url}/v1/telnyx/webhook`, raw, { headers: { 'content-type': 'application/json', ...signEd25519(raw, sim.keys.privateKey) } });
    return { id, status: res.status };
  }

  it('promotes the replica, answers 503 (never a lost 200) meanwhile, is ready again within 10 s, and the next turn works', async () => {
    let firstTurnDone!: () => void;
    const firstTurn = new Promise<void>((r) => (firstTurnDone = r));
    // The caller waits on the line (silence) while Redis fails over.
    const gate = { open: false };
    const call = await sim.placeCall({ to: DEMO_DID, callerAudio: { script: pausedCaller(gate, firstTurnDone, { quietMs: 500, timeoutMs: 20_000 }) } });
    await firstTurn;
    expect(stand.brainReplies).toHaveLength(1);

    // --- the primary dies ---------------------------------------------------------------------
    const promoted = group.nextSwitch(30_000);
    const killedAt = performance.now();
    await group.primary.kill('SIGKILL');

    // Webhooks keep arriving during the outage; readiness is watched throughout.
    const posted: { id: string; status: number }[] = [];
    const readyStatuses: { at: number; status: number }[] = [];
    let stop = false;
    const pump = (async () => {
      while (!stop) {
        posted.push(await postStrayEvent());
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const watch = (async () => {
      while (!stop) {
        const res = await http.get(`${rt.url}/health/ready`);
        readyStatuses.push({ at: performance.now(), status: res.status });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const sw = await promoted;
    expect(sw.port).toBe(group.replica.port);
    await waitUntil(() => readyStatuses.some((r) => r.at > sw.at && r.status === 200), READY_AGAIN_MAX_MS + 5000, 25);
    const readyAt = readyStatuses.find((r) => r.at > sw.at && r.status === 200)!.at;
    // A few webhooks after readiness came back, so the pump has seen both sides.
    const after = posted.length;
    await waitUntil(() => posted.length >= after + 3, 10_000, 25);
    stop = true;
    await Promise.all([pump, watch]);

    const failoverMs = Math.round(sw.at - killedAt);
    const readyAgainMs = Math.round(readyAt - sw.at);
    const count = (s: number) => posted.filter((p) => p.status === s).length;
    console.log(
      `sentinel failover: primary kill → promotion ${failoverMs} ms; /health/ready 200 ${readyAgainMs} ms after promotion; ` +
        `webhooks during the outage: ${posted.length} (200: ${count(200)}, 503: ${count(503)})`,
    );
    expect(readyStatuses.some((r) => r.at < sw.at && r.status === 503)).toBe(true);
    expect(readyAgainMs).toBeLessThanOrEqual(READY_AGAIN_MAX_MS);
    expect(posted.every((p) => p.status === 200 || p.status === 503)).toBe(true);
    expect(count(503)).toBeGreaterThan(0);
    expect(count(200)).toBeGreaterThan(0);

    // --- the call goes on ---------------------------------------------------------------------
    gate.open = true;
    await call.ended;
    expect(call.endedBy).toBe('caller');
    expect(stand.brainReplies.map((r) => r.transcript)).toEqual([CALLER_LINES[0], CALLER_LINES[2]]);
    expect(stand.brainReplies[1]!.reply).toBe(CONFIRM_REPLY);
    expect(stand.kokoro.requests.map((r) => String(r.body.input)).join(' ')).toContain(CONFIRM_REPLY);
    expect(call.waitTimeouts).toBe(0);
    expect(call.unexpectedCloses).toEqual([]);
    // The simulator redelivered what got a 503 until it was taken.
    expect(call.webhookFailures).toBe(0);

    // Every webhook answered 200 was processed (on the new primary).
    const ok = posted.filter((p) => p.status === 200);
    await waitUntil(async () => {
      const states = await Promise.all(ok.map(async (p) => (await events.getJob(eventJobId(p.id)))?.getState()));
      return states.every((s) => s === 'completed');
    }, 15_000, 100);

    // Capacity: the call's lease was released through the Lua scripts on the promoted replica.
    await waitUntil(async () => (await rt.capacity.usage(DEMO_TENANT_ID)).tenant === 0, 10_000);
    expect(await rt.capacity.usage(DEMO_TENANT_ID)).toMatchObject({ global: 0, tenant: 0 });
    await waitUntil(() => rt.liveCalls!.size === 0, 5000);
  }, 120_000);

  it('the tenant tool finds the promoted primary through the sentinels too', async () => {
    const vars = { REDIS_URL: env.REDIS_URL, REDIS_SENTINELS: env.REDIS_SENTINELS, REDIS_SENTINEL_NAME: env.REDIS_SENTINEL_NAME, TENANTMAP_PREFIX: env.TENANTMAP_PREFIX };
    const r = await runScript(TSX, [scriptPath('tenant.ts'), 'show', DEMO_DID], { env: vars });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(DEMO_TENANT_ID);
  }, 60_000);

  it('re-sends a Lua script the primary no longer has (NOSCRIPT after SCRIPT FLUSH)', async () => {
    await redis.call('SCRIPT', 'FLUSH');
    const limits = { globalMax: 5, tenantMax: 5, tenantPerMinute: 5 };
    const got = await rt.capacity.acquire('nosc-call', 'nosc-tenant', limits, 10_000);
    expect(got).toMatchObject({ ok: true });
    expect(await rt.capacity.release('nosc-call', 'nosc-tenant')).toBe(true);
  });
});
