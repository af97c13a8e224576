/**
 * The hostile-input suite: starts the real runtime as a child process (private Redis, the simulator
 * and STT/TTS/brain stand-ins, all on loopback), warms it up with a normal call, then runs each group
 * of attacks and after each one checks: the process is alive, `/health/live` answers (latency of
 * three probes), RSS growth since the warm-up, and that a normal call still gets transcribed.
 * Used by `npm run bench:hostile` (prints the table) and by tests/integration/hostile-input.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeRedis, createRedis } from '../../src/lib/redis';
import { freePort, startRedisServer, type RedisServerHandle } from '../sim/redis-server';
import { CALLER_LINES, DEMO_DID, DEMO_TENANT_ID, demoTenantConfig } from '../sim/script';
import { generateTestKeyPair } from '../sim/signing';
import { TelnyxSimulator, type CallerStep } from '../sim/simulator';
import { loadBundledSpeech, SPEECH_RATE } from '../sim/speech';
import { startStandIns, type StandIns } from '../sim/stand-ins';
import { spawnRuntime, type RuntimeProcess } from '../lib/runtime-process';
import {
  adminBruteForce,
  audioEscapes,
  holdSlowHeaders,
  labelFlood,
  malformedRequests,
  statusCounts,
  upgradeTargets,
  webhookBombs,
  webrtcOfferFlood,
  type HttpTarget,
  type Outcome,
} from './attacks-http';
import { mediaCorpus } from './attacks-media';

export interface GroupResult {
  group: string;
  outcomes: Outcome[];
  /** Answers that are neither a 4xx, a WS close code nor a closed connection (5xx, timeouts). */
  bad: Outcome[];
  alive: boolean;
  healthMs: number[];
  rssDeltaMb: number;
  callTranscribed: boolean;
  /** Extra numbers a group measures (label series, slow connections held). */
  notes: string;
}

export interface HostileReport {
  baselineRssMb: number;
  groups: GroupResult[];
}

const METRICS_TOKEN = randomBytes(24).toString('hex');
const HEALTH_TIMEOUT_MS = 2_000;
const SLOW_CONNECTIONS = 200;
const MUTANT_FRAMES = 1_000;
const LABEL_REQUESTS = 300;
const ADMIN_GUESSES = 30;
/** The burst that, before browser calls had their own admission, took a tenant's phone line. */
const FAKE_OFFERS = 61;
const ADMIN_USER = 'admin';
const PAGE_ORIGIN = 'https://shop.example.com';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function healthMs(base: string): Promise<number> {
  const t0 = performance.now();
  try {
    const res = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
    await res.arrayBuffer();
    return res.status === 200 ? performance.now() - t0 : Infinity;
  } catch {
    return Infinity;
  }
}

/**
 * Acceptable answers to hostile input: a dropped connection, a WebSocket close code (1000–4999), a 4xx,
 * or (unless `only4xx`) a 2xx/3xx for odd-but-legal requests. Never a 5xx, never silence (timeout).
 */
function acceptable(o: Outcome, only4xx: boolean): boolean {
  if (o.answer === 'closed') return true;
  if (o.answer === 'timeout') return false;
  if (o.answer >= 1000) return o.answer < 5000;
  return only4xx ? o.answer >= 400 && o.answer < 500 : o.answer < 500;
}

export async function runHostileSuite(opts: { log?: (line: string) => void } = {}): Promise<HostileReport> {
  const log = opts.log ?? (() => undefined);
  const closers: (() => Promise<unknown>)[] = [];
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'veralux-hostile-'));
  closers.push(async () => rmSync(tmp, { recursive: true, force: true }));
  try {
    const redis: RedisServerHandle = await startRedisServer();
    closers.unshift(() => redis.destroy());
    const stand: StandIns = await startStandIns({ tts: 'tone', toneMsPerChar: 5, brainTokenDelayMs: 1 });
    closers.unshift(() => stand.close());
    const keys = generateTestKeyPair();
    const port = await freePort();
    const sim = await TelnyxSimulator.start({ webhookUrl: `http://127.0.0.1:${port}/v1/telnyx/webhook`, keys });
    closers.unshift(() => sim.close());
    const audioDir = path.join(tmp, 'audio');
    mkdirSync(audioDir);
    const runtime: RuntimeProcess = spawnRuntime({
      env: {
        NODE_ENV: 'production',
        PORT: String(port),
        LOG_LEVEL: 'warn',
        TELNYX_API_KEY: sim.apiKey,
        TELNYX_PUBLIC_KEY: sim.publicKeyB64,
        TELNYX_API_BASE_URL: sim.apiBaseUrl,
        MEDIA_STREAM_TOKEN: randomBytes(24).toString('hex'),
        METRICS_TOKEN,
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
        AUDIO_STORAGE_DIR: audioDir,
        PLAYBACK_MODE: 'stream',
        WHISPER_URL: stand.whisper.transcriptionsUrl,
        KOKORO_URL: stand.kokoro.speechUrl,
        BRAIN_URL: stand.brain.url,
        STT_SILENCE_MS: '400',
        DEAD_AIR_MS: '60000',
        REDIS_URL: redis.url,
        CAPACITY_TTL_SECONDS: '60',
        STT_CHUNK_MS: '1000',
        GLOBAL_CONCURRENCY_CAP: '100',
        TENANT_CONCURRENCY_CAP_DEFAULT: '20',
        TENANT_CALLS_PER_MIN_CAP_DEFAULT: '200',
        ADMIN_USER,
        ADMIN_PASSWORD: randomBytes(24).toString('hex'),
        TRANSPORT_MODE: 'webrtc_hd',
        WEBRTC_ALLOWED_ORIGINS: PAGE_ORIGIN,
      },
      logFile: path.join(tmp, 'runtime.log'),
    });
    closers.unshift(() => runtime.stop());
    await runtime.waitReady(60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${runtime.tail(20).join('\n')}`);
    });
    const r = createRedis(redis.url, 'request');
    await r.set(`tenantmap:did:${DEMO_DID}`, DEMO_TENANT_ID);
    await r.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(demoTenantConfig({ maxConcurrent: 20, perMinute: 200 })));
    await closeRedis(r);

    const speech = loadBundledSpeech();
    const script: CallerStep[] = [
      { waitForAgent: { quietMs: 300 } },
      { say: speech.utterances[0]!.pcm, sampleRate: SPEECH_RATE, index: 0, text: CALLER_LINES[0] },
      { waitForAgent: { quietMs: 300, timeoutMs: 8_000 } },
    ];
    /** A normal call: the caller's line reaches the brain as its transcript. */
    const normalCall = async (): Promise<boolean> => {
      try {
        const call = await sim.placeCall({ to: DEMO_DID, codec: 'PCMU', callerAudio: { script }, maxDurationMs: 30_000 });
        await call.ended;
        return stand.brainReplies.some((b) => b.callControlId === call.id && b.transcript === CALLER_LINES[0]);
      } catch (err) {
        log(`normal call failed: ${(err as Error).message}`);
        return false;
      }
    };
    const t: HttpTarget = { host: '127.0.0.1', port };
    const base = runtime.url;
    if (!(await normalCall())) throw new Error(`the warm-up call was not transcribed; runtime log: ${runtime.tail(20).join('\n')}`);
    const baselineRssMb = rssMb(runtime.pid);
    let exited = false;
    void runtime.exited.then(() => (exited = true));

    const groups: GroupResult[] = [];
    const check = async (group: string, outcomes: Outcome[], notes = '', probe?: () => Promise<number[]>, only4xx = false): Promise<void> => {
      const probes = probe ? await probe() : [await healthMs(base), await healthMs(base), await healthMs(base)];
      const alive = !exited;
      const rssDeltaMb = alive ? rssMb(runtime.pid) - baselineRssMb : NaN;
      const callTranscribed = alive && (await normalCall());
      const res: GroupResult = { group, outcomes, bad: outcomes.filter((o) => !acceptable(o, only4xx)), alive, healthMs: probes, rssDeltaMb, callTranscribed, notes };
      groups.push(res);
      log(`${group}: ${outcomes.length} inputs, ${res.bad.length} bad answers${res.bad.length ? ` (${res.bad.map((b) => `${b.name} → ${String(b.answer)}`).join('; ')})` : ''}, alive ${alive}, health ${probes.map((p) => p.toFixed(1)).join('/')} ms, RSS ${rssDeltaMb >= 0 ? '+' : ''}${rssDeltaMb.toFixed(1)} MB, call ${callTranscribed ? 'ok' : 'FAILED'}`);
    };

    await check('upgrade targets', await upgradeTargets(t));
    await check('malformed HTTP', await malformedRequests(t));
    {
      const release = await holdSlowHeaders(t, SLOW_CONNECTIONS);
      // Probed while the slow connections are held: they must not starve anyone else.
      const probes = [await healthMs(base), await healthMs(base), await healthMs(base)];
      release();
      await check('slow headers', [], `${SLOW_CONNECTIONS} slow connections held`, async () => probes);
    }
    // Every malformed body must get a 4xx: a 5xx would make Telnyx retry it for ever.
    await check('webhook bombs', await webhookBombs(t, keys.privateKey), '', undefined, true);
    {
      const call = await sim.placeCall({ to: DEMO_DID, codec: 'PCMU', maxDurationMs: 120_000 });
      const answer = call.commands.find((c) => c.action === 'answer');
      const streamUrl = typeof answer?.body.stream_url === 'string' ? answer.body.stream_url : '';
      if (!streamUrl) throw new Error('the runtime answered without a stream_url');
      const outcomes = await mediaCorpus({ streamUrl, callControlId: call.id }, MUTANT_FRAMES, 7);
      await call.hangup().catch(() => undefined);
      await check('media frames', outcomes, `${outcomes.length} streams, ${MUTANT_FRAMES} seeded mutants`);
    }
    {
      symlinkSync('/etc/hostname', path.join(audioDir, 'hostname1.wav'));
      symlinkSync(path.join(tmp, 'runtime.log'), path.join(audioDir, 'runtimelog1.wav'));
      await check('/audio escapes', await audioEscapes(t, '/audio', ['hostname1.wav', 'runtimelog1.wav']), '', undefined, true);
    }
    {
      const outcomes = await labelFlood(t, LABEL_REQUESTS, 11);
      const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
      const series = text.split('\n').filter((l) => l.startsWith('http_request_duration_seconds_count{'));
      await check('label flood', outcomes, `${series.length} http_request_duration series`);
    }
    {
      const outcomes = await adminBruteForce(t, ADMIN_USER, ADMIN_GUESSES);
      await check('admin brute force', outcomes, statusCounts(outcomes), undefined, true);
    }
    {
      // The tenant's phone line must survive it: the check's normal call is a phone call to the same tenant.
      const outcomes = await webrtcOfferFlood(t, PAGE_ORIGIN, DEMO_TENANT_ID, FAKE_OFFERS);
      await check('webrtc offer flood', outcomes, statusCounts(outcomes), undefined, true);
    }
    return { baselineRssMb, groups };
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** The table `npm run bench:hostile` prints. */
export function formatHostileReport(r: HostileReport): string {
  const rows = [['group', 'inputs', 'non-4xx answers', 'alive', '/health/live ms (3 probes)', 'RSS Δ MB', 'call after', 'notes']];
  for (const g of r.groups) {
    rows.push([
      g.group,
      String(g.outcomes.length),
      String(g.bad.length),
      g.alive ? 'yes' : 'NO',
      g.healthMs.map((h) => (Number.isFinite(h) ? h.toFixed(1) : 'none')).join(' / '),
      `${g.rssDeltaMb >= 0 ? '+' : ''}${g.rssDeltaMb.toFixed(1)}`,
      g.callTranscribed ? 'transcribed' : 'FAILED',
      g.notes,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n') + `\nbaseline RSS after the warm-up call: ${r.baselineRssMb.toFixed(1)} MB`;
}
