/**
 * npm run load-test:calls — concurrent phone calls with real media against a runtime (docs/testing.md
 * §Load tests): for every call, the Telnyx simulator sends a signed
 * `call.initiated`, receives the runtime's `answer` on its Call Control API, sends `call.answered`,
 * connects the media WebSocket from the answer's stream_url and streams the caller's audio in real
 * time (silence, or with --speech the bundled caller utterances, each after the agent has answered
 * the previous one), plays back and acknowledges (marks) what the runtime sends, and hangs up after
 * --duration seconds (`call.hangup`).
 *
 * Two ways to run it:
 * - **spawned runtime** (default when --host is localhost and nothing answers on --port, or with
 *   --spawn-runtime): starts a private redis-server, the stand-ins (STT/TTS/brain), the simulator
 *   and the runtime (src/main.ts via tsx, child process) with matching env, seeds the tenant.
 * - **your runtime** (something answers on --host:--port, or --no-spawn): the simulator's Call
 *   Control API and the stand-ins listen on fixed ports (--sim-port, +1, +2, +3) with a fixed signing
 *   key; the script prints the env your runtime needs and seeds the tenant when it can reach the
 *   runtime's Redis (--redis-url or REDIS_URL), else prints the redis-cli commands.
 *
 * Reports call setup latency (call.initiated → answer), media connect time, frames sent and
 * decoded by the runtime (/metrics media_frames_total), marks, transcripts and replies per call
 * (--speech), turn latency, the runtime's CPU and RSS (/metrics process_cpu_seconds_total,
 * process_resident_memory_bytes); exits 1 when fewer than 90 % of the calls succeeded.
 *
 * Usage: npm run load-test:calls -- [--host localhost] [--port 3000] [--calls 10] [--duration 30]
 *          [--ramp 5] [--token T] [--codec PCMU|PCMA|G722|OPUS|L16] [--speech] [--playback stream|url]
 *          [--spawn-runtime | --no-spawn] [--sim-port 4010] [--redis-url URL] [--metrics-token T]
 *          [--did +15551230000] [--json results.json] [--runtime-env KEY=VALUE]...
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PRODUCTION_SECRET_MIN_LENGTH } from '../src/lib/production-checks';
import { closeRedis, createRedis } from '../src/lib/redis';
import { freePort, startRedisServer, type RedisServerHandle } from './sim/redis-server';
import { DEMO_CALLER, DEMO_DID, DEMO_TENANT_ID, demoTenantConfig } from './sim/script';
import { SIM_CODECS, TelnyxSimulator, type CallerStep, type SimCall, type SimCodec } from './sim/simulator';
import { loadBundledSpeech, SPEECH_RATE } from './sim/speech';
import { startStandIns, type StandIns } from './sim/stand-ins';
import { metricValue, scrape, type Sample } from './lib/metrics';
import { spawnRuntime, type RuntimeProcess } from './lib/runtime-process';
import { fmtSummary, summarize } from './lib/stats';

const MIN_SUCCESS = 0.9;
/** Fixed signing key for runtimes started by the user (the printed TELNYX_PUBLIC_KEY stays valid across runs). */
const SIM_KEY_SEED = createHash('sha256').update('veralux load-test:calls simulator key').digest('hex');

class LoadTestError extends Error {}

interface Options {
  host: string;
  port: number;
  portGiven: boolean;
  calls: number;
  durationSec: number;
  rampSec: number;
  token?: string;
  codec: SimCodec;
  speech: boolean;
  playback: 'stream' | 'url';
  spawn: 'auto' | 'yes' | 'no';
  simPort: number;
  redisUrl?: string;
  metricsToken?: string;
  did: string;
  json?: string;
  /** Extra KEY=VALUE for a spawned runtime (e.g. VAD_MODE=energy). */
  runtimeEnv: Record<string, string>;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string', default: 'localhost' },
      port: { type: 'string' },
      calls: { type: 'string', default: '10' },
      duration: { type: 'string', default: '30' },
      ramp: { type: 'string', default: '5' },
      token: { type: 'string' },
      codec: { type: 'string', default: 'PCMU' },
      speech: { type: 'boolean', default: false },
      playback: { type: 'string', default: 'stream' },
      'spawn-runtime': { type: 'boolean', default: false },
      'no-spawn': { type: 'boolean', default: false },
      'sim-port': { type: 'string', default: '4010' },
      'redis-url': { type: 'string' },
      'metrics-token': { type: 'string' },
      did: { type: 'string', default: DEMO_DID },
      json: { type: 'string' },
      'runtime-env': { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'npm run load-test:calls -- [--host localhost] [--port 3000] [--calls 10] [--duration 30] [--ramp 5] [--token T]\n' +
        '  [--codec PCMU|PCMA|G722|OPUS|L16] [--speech] [--playback stream|url] [--spawn-runtime|--no-spawn]\n' +
        '  [--sim-port 4010] [--redis-url URL] [--metrics-token T] [--did +E164] [--json FILE] [--runtime-env KEY=VALUE]...',
    );
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) throw new LoadTestError(`--${name} must be ${min}..${max}, got ${v}`);
    return n;
  };
  const codec = String(values.codec).toUpperCase() as SimCodec;
  if (!SIM_CODECS.includes(codec)) throw new LoadTestError(`--codec must be one of ${SIM_CODECS.join(', ')}`);
  if (values.playback !== 'stream' && values.playback !== 'url') throw new LoadTestError('--playback must be stream or url');
  if (values['spawn-runtime'] && values['no-spawn']) throw new LoadTestError('--spawn-runtime and --no-spawn exclude each other');
  return {
    host: values.host,
    port: num('port', values.port ?? '3000', 0, 65535),
    portGiven: values.port !== undefined,
    calls: Math.round(num('calls', values.calls, 1, 5000)),
    durationSec: num('duration', values.duration, 1, 3600),
    rampSec: num('ramp', values.ramp, 0, 3600),
    token: values.token ?? process.env.MEDIA_STREAM_TOKEN ?? undefined,
    codec,
    speech: values.speech,
    playback: values.playback,
    spawn: values['spawn-runtime'] ? 'yes' : values['no-spawn'] ? 'no' : 'auto',
    simPort: num('sim-port', values['sim-port'], 1, 65532),
    redisUrl: values['redis-url'] ?? process.env.REDIS_URL ?? undefined,
    metricsToken: values['metrics-token'] ?? process.env.METRICS_TOKEN ?? undefined,
    did: values.did,
    json: values.json,
    runtimeEnv: Object.fromEntries(
      (values['runtime-env'] ?? []).map((kv) => {
        const i = kv.indexOf('=');
        if (i <= 0) throw new LoadTestError(`--runtime-env needs KEY=VALUE, got ${kv}`);
        return [kv.slice(0, i), kv.slice(i + 1)];
      }),
    ),
  };
}

const isLocal = (host: string) => ['localhost', '127.0.0.1', '::1', '[::1]'].includes(host);

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1500) });
    return true;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

interface CallResult {
  n: number;
  id?: string;
  ok: boolean;
  failure?: string;
  setupMs?: number;
  mediaConnectMs?: number;
  framesSent: number;
  framesSkipped: number;
  marksReceived: number;
  marksEchoed: number;
  agentAudioMs: number;
  endedBy?: string;
  utterancesSpoken: number;
  utterancesExpected: number;
  transcripts: { transcript: string; expected?: string; reply: string }[];
  waitTimeouts: number;
}

/** Everything started here, stopped in reverse order; the child PIDs are also killed on any exit. */
const closers: { name: string; close: () => Promise<unknown> }[] = [];
let runtime: RuntimeProcess | undefined;
let redisServer: RedisServerHandle | undefined;
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    for (const c of closers.reverse()) await Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 15_000))]);
  })());
process.on('exit', () => {
  runtime?.killNow();
  if (redisServer && redisServer.pid > 0) {
    try {
      process.kill(redisServer.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error('\ninterrupted: hanging up and stopping what the load test started');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // Everything is bounded: ramp + duration + generous setup/teardown.
  const hardLimitMs = (o.rampSec + o.durationSec + 180) * 1000;
  const hardLimit = setTimeout(() => {
    console.error(`load test did not finish within ${hardLimitMs / 1000} s: giving up`);
    void cleanup().finally(() => process.exit(1));
  }, hardLimitMs);
  hardLimit.unref();

  const probeUrl = `http://${o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host}:${o.port}`;
  const present = await answers(`${probeUrl}/health/live`);
  const spawn = o.spawn === 'yes' || (o.spawn === 'auto' && !present && isLocal(o.host));
  if (!spawn && !present) throw new LoadTestError(`no runtime answers at ${probeUrl} (start one, or run with --spawn-runtime)`);

  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  const speech = loadBundledSpeech();
  let stand: StandIns;
  let sim: TelnyxSimulator;
  let runtimeUrl: string;
  const tenantDoc = { ...demoTenantConfig({ did: o.did, maxConcurrent: o.calls + 10, perMinute: o.calls * 2 + 60 }) };
  // Every caller turn goes to the brain (whose requests show the transcript per call): no quick replies.
  delete tenantDoc.quickReplies;

  // A spawned runtime runs in production mode, which requires a metrics token: it gets a fresh one.
  const spawnedMetricsToken = randomBytes(16).toString('hex');
  const metricsToken = spawn ? spawnedMetricsToken : o.metricsToken;
  if (spawn) {
    try {
      redisServer = await startRedisServer();
    } catch (err) {
      throw new LoadTestError(`${(err as Error).message} (sudo apt-get install -y redis-server)`);
    }
    const rs = redisServer;
    closers.push({ name: 'redis', close: () => rs.destroy() });
    stand = await startStandIns({ tts: 'auto', brainTokenDelayMs: 10, maxRecorded: 50, prewarm: true });
    const st = stand;
    closers.push({ name: 'stand-ins', close: () => st.close() });
    const port = o.portGiven && o.port !== 0 && (await portFree(o.port)) ? o.port : await freePort();
    sim = await TelnyxSimulator.start({ webhookUrl: `http://127.0.0.1:${port}/v1/telnyx/webhook`, maxRecordedCommands: 50_000, mediaToken: o.token });
    const sm = sim;
    closers.push({ name: 'simulator', close: () => sm.close() });
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'veralux-load-'));
    closers.push({ name: 'temp dir', close: async () => rmSync(tmp, { recursive: true, force: true }) });
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      PORT: String(port),
      LOG_LEVEL: 'info',
      TELNYX_API_KEY: sim.apiKey,
      TELNYX_PUBLIC_KEY: sim.publicKeyB64,
      TELNYX_API_BASE_URL: sim.apiBaseUrl,
      TELNYX_STREAM_CODEC: o.codec,
      MEDIA_STREAM_TOKEN: o.token && o.token.length >= PRODUCTION_SECRET_MIN_LENGTH ? o.token : randomBytes(16).toString('hex'),
      // Production requires it; the sampler below scrapes with it.
      METRICS_TOKEN: spawnedMetricsToken,
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
      AUDIO_STORAGE_DIR: path.join(tmp, 'audio'),
      PLAYBACK_MODE: o.playback,
      WHISPER_URL: stand.whisper.transcriptionsUrl,
      KOKORO_URL: stand.kokoro.speechUrl,
      BRAIN_URL: stand.brain.url,
      STT_CHUNK_MS: '1000',
      STT_SILENCE_MS: '600',
      // Silent callers would hear "Are you still there?" and be hung up after ~34 s: let them last --duration.
      DEAD_AIR_MS: String(o.speech ? 15_000 : Math.round(o.durationSec * 1000 + 30_000)),
      REDIS_URL: rs.url,
      GLOBAL_CONCURRENCY_CAP: String(Math.max(500, o.calls * 2)),
      TENANT_CONCURRENCY_CAP_DEFAULT: String(o.calls + 10),
      TENANT_CALLS_PER_MIN_CAP_DEFAULT: String(o.calls * 2 + 60),
      CAPACITY_TTL_SECONDS: '60',
      ...o.runtimeEnv,
    };
    const logFile = path.join(os.tmpdir(), `veralux-load-runtime-${process.pid}.log`);
    runtime = spawnRuntime({ env, logFile, onLog: (l) => onRuntimeLog(l) });
    const rt = runtime;
    closers.push({ name: 'runtime', close: () => rt.stop() });
    await rt.waitReady(60_000);
    runtimeUrl = rt.url;
    const redis = createRedis(rs.url, 'request');
    await redis.set(`tenantmap:did:${o.did}`, DEMO_TENANT_ID);
    await redis.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(tenantDoc));
    await closeRedis(redis);
    console.log(`runtime: spawned ${rt.url} (pid ${rt.pid}, log ${logFile}), private Redis ${rs.url}, stand-ins: STT (bundled utterances only), brain (scripted), TTS (${stand.tts})`);
  } else {
    runtimeUrl = probeUrl;
    const host = '127.0.0.1';
    stand = await startStandIns({ tts: 'auto', host, ports: { whisper: o.simPort + 1, kokoro: o.simPort + 2, brain: o.simPort + 3 }, maxRecorded: 50, prewarm: true }).catch((err: unknown) => {
      throw new LoadTestError(`cannot listen on ports ${o.simPort + 1}..${o.simPort + 3} (--sim-port): ${(err as Error).message}`);
    });
    const st = stand;
    closers.push({ name: 'stand-ins', close: () => st.close() });
    sim = await TelnyxSimulator.start({
      webhookUrl: `${probeUrl}/v1/telnyx/webhook`,
      keySeedHex: SIM_KEY_SEED,
      hmacSecret: process.env.TELNYX_WEBHOOK_SECRET || undefined,
      host,
      port: o.simPort,
      runtimeOrigin: probeUrl,
      mediaToken: o.token,
      maxRecordedCommands: 50_000,
    }).catch((err: unknown) => {
      throw new LoadTestError(`cannot listen on port ${o.simPort} (--sim-port): ${(err as Error).message}`);
    });
    const sm = sim;
    closers.push({ name: 'simulator', close: () => sm.close() });
    console.log(`runtime: yours at ${probeUrl}. It must run with (the simulator and stand-ins listen on these now):`);
    console.log(
      [
        `  TELNYX_API_BASE_URL=${sim.apiBaseUrl}`,
        `  TELNYX_API_KEY=${sim.apiKey}`,
        `  TELNYX_PUBLIC_KEY=${sim.publicKeyB64}`,
        `  TELNYX_STREAM_CODEC=${o.codec}`,
        `  WHISPER_URL=${stand.whisper.transcriptionsUrl}`,
        `  KOKORO_URL=${stand.kokoro.speechUrl}`,
        `  BRAIN_URL=${stand.brain.url}`,
        `  PUBLIC_BASE_URL / AUDIO_PUBLIC_BASE_URL: any (the simulator connects to ${probeUrl} whatever host they name)`,
      ].join('\n'),
    );
    if (o.redisUrl) {
      const redis = createRedis(o.redisUrl, 'request');
      try {
        await redis.set(`tenantmap:did:${o.did}`, DEMO_TENANT_ID);
        await redis.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(tenantDoc));
        console.log(`tenant: seeded ${DEMO_TENANT_ID} on ${o.did} in ${o.redisUrl} (default TENANTMAP_PREFIX "tenantmap")`);
      } finally {
        await closeRedis(redis);
      }
    } else {
      console.log(`tenant: not seeded (no --redis-url / REDIS_URL). Seed it in the runtime's Redis:`);
      console.log(`  redis-cli set tenantmap:did:${o.did} ${DEMO_TENANT_ID}`);
      console.log(`  redis-cli set tenantcfg:${DEMO_TENANT_ID} '${JSON.stringify(tenantDoc)}'`);
    }
  }

  // --- runtime observation ---------------------------------------------------------------------
  const turnLogs: Record<string, unknown>[] = [];
  function onRuntimeLog(l: Record<string, unknown>): void {
    if (l.msg === 'turn' && l.source === 'speech') turnLogs.push(l);
  }
  const samples: { at: number; cpu: number; rss: number; active: number; sessions: number; lag: number }[] = [];
  let scrapeErrors = 0;
  const read = async (): Promise<Sample[] | undefined> => {
    try {
      return await scrape(runtimeUrl, metricsToken);
    } catch {
      scrapeErrors += 1;
      return undefined;
    }
  };
  const before = await read();
  if (!before) console.log(`warning: ${runtimeUrl}/metrics is not readable (METRICS_TOKEN? --metrics-token): no CPU/RSS/frame numbers`);
  const sampler = setInterval(() => {
    void read().then((m) => {
      if (!m) return;
      samples.push({
        at: performance.now(),
        cpu: metricValue(m, 'process_cpu_seconds_total'),
        rss: metricValue(m, 'process_resident_memory_bytes'),
        active: metricValue(m, 'active_calls'),
        sessions: metricValue(m, 'media_sessions'),
        lag: metricValue(m, 'nodejs_eventloop_lag_p99_seconds'),
      });
    });
  }, 1000);
  closers.push({ name: 'sampler', close: async () => clearInterval(sampler) });

  // --- the calls ---------------------------------------------------------------------------------
  const durationMs = o.durationSec * 1000;
  /**
   * With --speech: greeting, then utterance after utterance, each once the agent has answered and
   * been quiet for a human-like 0.6–1.6 s (random per turn, so calls drift apart as real ones do),
   * while they fit before the hangup.
   */
  function* speechScript(): Generator<CallerStep> {
    const start = performance.now();
    const think = () => ({ waitForAgent: { quietMs: 600 + Math.round(Math.random() * 1000), timeoutMs: 15_000 } });
    yield think();
    for (let i = 0; ; i += 1) {
      const u = speech.utterances[i % speech.utterances.length]!;
      // Room for the utterance plus endpointing and STT before the hangup.
      if (performance.now() - start + u.durationMs + 2500 > durationMs) break;
      yield { say: u.pcm, sampleRate: SPEECH_RATE, index: u.index, text: u.text };
      yield think();
    }
    for (;;) yield { silenceMs: 1000 };
  }

  console.log(
    `load-test:calls: ${o.calls} calls × ${o.durationSec} s, ramp ${o.rampSec} s, codec ${o.codec}, ${o.speech ? 'speech (bundled caller utterances)' : 'silence'}` +
      `${spawn ? `, ${o.playback} playback` : ''} → ${runtimeUrl}`,
  );
  const simCalls: (SimCall | undefined)[] = new Array(o.calls).fill(undefined);
  const failures: (string | undefined)[] = new Array(o.calls).fill(undefined);
  let placed = 0;
  let answered = 0;
  let ended = 0;
  const progress = setInterval(() => {
    const s = samples.at(-1);
    const prev = samples.at(-6);
    const cpu = s && prev ? (((s.cpu - prev.cpu) / ((s.at - prev.at) / 1000)) * 100).toFixed(0) : '?';
    console.log(
      `  t=${elapsed().toFixed(0).padStart(3)} s  placed ${placed}  answered ${answered}  ended ${ended}  failed ${failures.filter(Boolean).length}` +
        (s ? `  | runtime active_calls ${s.active}, media_sessions ${s.sessions}, CPU ${cpu} %, RSS ${(s.rss / 1e6).toFixed(0)} MB, lag p99 ${(s.lag * 1000).toFixed(0)} ms` : ''),
    );
  }, 5000);
  closers.push({ name: 'progress', close: async () => clearInterval(progress) });

  const gap = o.calls > 1 ? (o.rampSec * 1000) / o.calls : 0;
  const callsStartedAt = performance.now();
  const genCpu0 = process.cpuUsage();
  await Promise.all(
    Array.from({ length: o.calls }, async (_, i) => {
      await new Promise((r) => setTimeout(r, i * gap));
      if (interrupted) return;
      placed += 1;
      try {
        const call = await sim.placeCall({
          to: o.did,
          from: DEMO_CALLER,
          codec: o.codec,
          callerAudio: o.speech ? { script: speechScript() } : undefined,
          maxDurationMs: durationMs,
          answerTimeoutMs: 15_000,
        });
        simCalls[i] = call;
        answered += 1;
        if (!call.media) failures[i] = 'answered without a media stream (refused?)';
        await call.ended;
      } catch (err) {
        failures[i] = (err as Error).message;
      } finally {
        ended += 1;
      }
    }),
  );
  const callsDoneAt = performance.now();
  const genCpu = process.cpuUsage(genCpu0);
  clearInterval(progress);

  // Let the runtime finish the hangups, then read the counters.
  const settleUntil = Date.now() + 15_000;
  let after = await read();
  while (after && (metricValue(after, 'active_calls') > 0 || metricValue(after, 'media_sessions') > 0) && Date.now() < settleUntil) {
    await new Promise((r) => setTimeout(r, 250));
    after = await read();
  }
  clearInterval(sampler);
  eld.disable();

  // --- results ---------------------------------------------------------------------------------
  const results: CallResult[] = simCalls.map((c, i) => {
    const brain = c ? stand.brainReplies.filter((b) => b.callControlId === c.id) : [];
    const spoken = c ? c.utterances.filter((u) => u.endAt !== undefined) : [];
    // Utterances that ended early enough before the hangup to be endpointed and transcribed.
    const expected = c ? spoken.filter((u) => c.endedAt === undefined || u.endAt! < c.endedAt - 1500) : [];
    const transcripts = brain.map((b, k) => ({ transcript: b.transcript, expected: spoken[k]?.text, reply: b.reply }));
    let failure = failures[i];
    if (!failure && c) {
      if (c.unexpectedCloses.length) failure = `media stream closed by the runtime: ${c.unexpectedCloses.map((x) => `${x.code} ${x.reason}`).join(', ')}`;
      else if (c.mediaErrors.length) failure = `media error: ${c.mediaErrors[0]}`;
      else if (c.webhookFailures) failure = `${c.webhookFailures} webhook(s) not acknowledged`;
      else if (c.endedBy === 'runtime' && o.speech) failure = 'hung up by the runtime';
      else if (o.speech && transcripts.filter((t, k) => k < expected.length && t.transcript === expected[k]!.text).length < expected.length) {
        failure = `${transcripts.length} transcripts for ${expected.length} utterances`;
      } else if (o.speech && c.waitTimeouts > 0) failure = `no reply within 15 s (${c.waitTimeouts}×)`;
    }
    return {
      n: i + 1,
      id: c?.id,
      ok: !failure && !!c,
      failure: failure ?? (c ? undefined : 'not placed'),
      setupMs: c?.setupMs,
      mediaConnectMs: c?.mediaConnectMs,
      framesSent: c?.framesSent ?? 0,
      framesSkipped: c?.framesSkipped ?? 0,
      marksReceived: c?.marksReceived ?? 0,
      marksEchoed: c?.marksEchoed ?? 0,
      agentAudioMs: c?.agentAudioMs ?? 0,
      endedBy: c?.endedBy,
      utterancesSpoken: spoken.length,
      utterancesExpected: expected.length,
      transcripts,
      waitTimeouts: c?.waitTimeouts ?? 0,
    };
  });

  const ok = results.filter((r) => r.ok).length;
  const rate = ok / o.calls;
  const sum = (f: (r: CallResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const framesSent = sum((r) => r.framesSent);
  const d = (name: string, labels: Record<string, string> = {}) => (before && after ? metricValue(after, name, labels) - metricValue(before, name, labels) : NaN);
  console.log('\nResults');
  console.log(
    `  calls          ${o.calls} placed, ${results.filter((r) => r.setupMs !== undefined).length} answered, ` +
      `${results.filter((r) => r.mediaConnectMs !== undefined).length} media connected, ${results.filter((r) => r.endedBy === 'caller').length} hung up by the caller after ${o.durationSec} s, ` +
      `${results.filter((r) => r.endedBy === 'runtime').length} by the runtime`,
  );
  console.log(`  success        ${ok}/${o.calls} (${(rate * 100).toFixed(1)} %, needs ≥ ${MIN_SUCCESS * 100} %)`);
  console.log(`  call setup     call.initiated sent → answer received   ${fmtSummary(summarize(results.flatMap((r) => (r.setupMs !== undefined ? [r.setupMs] : []))))}`);
  console.log(`  media connect  answer received → WebSocket open          ${fmtSummary(summarize(results.flatMap((r) => (r.mediaConnectMs !== undefined ? [r.mediaConnectMs] : []))))}`);
  const decoded = d('media_frames_total', { outcome: 'decoded' });
  console.log(
    `  frames         sent ${framesSent} (20 ms each), decoded by the runtime ${Number.isNaN(decoded) ? 'n/a' : decoded}` +
      ` (/metrics media_frames_total{outcome="decoded"} delta${spawn ? '' : '; other traffic counts too'})` +
      `; gap_filled ${d('media_frames_total', { outcome: 'gap_filled' })}, late ${d('media_frames_total', { outcome: 'late' })}, ` +
      `decode_failed ${d('media_frames_total', { outcome: 'decode_failed' })}, invalid ${d('media_frames_total', { outcome: 'invalid' })}; ` +
      `not sent in time by this generator ${sum((r) => r.framesSkipped)}`,
  );
  console.log(
    `  VAD            frames inferred ${d('vad_frames_total', { outcome: 'inferred' })}, gated ${d('vad_frames_total', { outcome: 'gated' })}, ` +
      `dropped unscored (overload) ${d('vad_frames_total', { outcome: 'dropped' })} (/metrics vad_frames_total, counted as streams end)`,
  );
  console.log(
    `  agent audio    ${(sum((r) => r.agentAudioMs) / 1000).toFixed(0)} s received; marks received ${sum((r) => r.marksReceived)}, echoed once played ${sum((r) => r.marksEchoed)}`,
  );
  if (o.speech) {
    const exp = sum((r) => r.utterancesExpected);
    const got = results.reduce((n, r) => n + r.transcripts.filter((t, k) => k < r.utterancesExpected && t.transcript === t.expected).length, 0);
    console.log(
      `  speech         utterances spoken ${sum((r) => r.utterancesSpoken)}, due a transcript ${exp}, transcribed exactly ${got} (${exp ? ((got / exp) * 100).toFixed(1) : '100'} %); ` +
        `brain replies ${sum((r) => r.transcripts.length)}; agent silent > 15 s after an utterance: ${sum((r) => r.waitTimeouts)}`,
    );
    if (turnLogs.length) {
      const stage = (k: string) => summarize(turnLogs.flatMap((l) => (typeof l[k] === 'number' ? [l[k]] : [])));
      console.log(`  turn latency   from end of caller speech (incl. 600 ms endpointing), runtime 'turn' log lines:`);
      console.log(`                 brain first token       ${fmtSummary(stage('brainFirstTokenMs'))}`);
      console.log(`                 first segment synthesized ${fmtSummary(stage('firstSegmentMs'))}`);
      console.log(`                 first audio             ${fmtSummary(stage('firstAudioMs'))}`);
    } else if (after) {
      const c = d('turn_latency_seconds_count', { stage: 'first_audio' });
      const s = d('turn_latency_seconds_sum', { stage: 'first_audio' });
      if (c > 0) console.log(`  turn latency   first audio after end of caller speech: mean ${((s / c) * 1000).toFixed(0)} ms over ${c} turns (/metrics)`);
    }
  }
  const during = samples.filter((s) => s.at >= callsStartedAt && s.at <= callsDoneAt);
  if (during.length >= 2) {
    const first = during[0]!;
    const last = during.at(-1)!;
    const peakActive = Math.max(...during.map((s) => s.active));
    const busy = during.filter((s) => s.active >= peakActive * 0.95);
    const cpuPct = (a: typeof first, b: typeof first) => ((b.cpu - a.cpu) / ((b.at - a.at) / 1000)) * 100;
    const rss0 = samples[0]!.rss;
    const rssPeak = Math.max(...during.map((s) => s.rss));
    console.log(
      `  runtime        CPU ${cpuPct(first, last).toFixed(0)} % of one core on average` +
        `${busy.length >= 2 ? `, ${cpuPct(busy[0]!, busy.at(-1)!).toFixed(0)} % with all ${peakActive} calls up` : ''}` +
        ` (process_cpu_seconds_total); RSS ${(rss0 / 1e6).toFixed(0)} MB before → peak ${(rssPeak / 1e6).toFixed(0)} MB` +
        ` (${peakActive > 0 ? ((rssPeak - rss0) / 1e6 / peakActive).toFixed(2) : '?'} MB per call; process_resident_memory_bytes); ` +
        `event-loop lag p99 max ${(Math.max(...during.map((s) => s.lag)) * 1000).toFixed(0)} ms; active_calls peak ${peakActive}`,
    );
  }
  if (after) {
    console.log(`  after          active_calls ${metricValue(after, 'active_calls')}, media_sessions ${metricValue(after, 'media_sessions')} (should be 0)`);
  }
  const genPct = ((genCpu.user + genCpu.system) / 1000 / (callsDoneAt - callsStartedAt)) * 100;
  console.log(
    `  generator      this process (simulator + stand-ins): CPU ${genPct.toFixed(0)} % of one core, event-loop delay p99 ${(eld.percentile(99) / 1e6).toFixed(1)} ms, ` +
      `max ${(eld.max / 1e6).toFixed(0)} ms; ${os.cpus().length} CPU cores on this machine${scrapeErrors ? `; /metrics scrape errors ${scrapeErrors}` : ''}`,
  );

  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    const reasons = new Map<string, number>();
    for (const r of failed) reasons.set(r.failure ?? '?', (reasons.get(r.failure ?? '?') ?? 0) + 1);
    console.log('  failures       ' + [...reasons].map(([k, v]) => `${v}× ${k}`).join('\n                 '));
    if (!spawn) {
      const all = (re: RegExp) => failed.every((r) => re.test(r.failure ?? ''));
      if (all(/refused: 401/)) console.log('  hint           401 = the runtime rejects the signature: start it with TELNYX_PUBLIC_KEY shown above');
      else if (all(/no answer/)) {
        console.log(`  hint           the runtime never sent \`answer\` to ${sim.apiBaseUrl}: start it with the env shown above and seed the tenant (--redis-url)`);
      }
    }
  }
  if (o.speech) {
    console.log('\nPer call (first 5; --json for all):');
    for (const r of results.slice(0, 5)) {
      console.log(`  call ${r.n}: ${r.ok ? 'ok' : `FAILED (${r.failure})`}, setup ${r.setupMs?.toFixed(0) ?? '-'} ms, frames ${r.framesSent}, marks ${r.marksEchoed}/${r.marksReceived}`);
      for (const t of r.transcripts) console.log(`      "${t.transcript}" ${t.transcript === t.expected ? '✓' : `≠ "${t.expected}"`} → "${t.reply.slice(0, 70)}${t.reply.length > 70 ? '…' : ''}"`);
    }
  }
  if (o.json) {
    writeFileSync(o.json, JSON.stringify({ options: o, success: rate, results }, null, 2));
    console.log(`\nper-call results: ${o.json}`);
  }

  if (runtime) {
    const code = await runtime.stop();
    closers.splice(closers.findIndex((c) => c.name === 'runtime'), 1);
    console.log(`\nspawned runtime stopped (exit code ${code})`);
  }
  await cleanup();
  clearTimeout(hardLimit);
  if (o.calls > 0 && rate < MIN_SUCCESS) {
    console.error(`FAILED: ${(rate * 100).toFixed(1)} % of calls succeeded (< ${MIN_SUCCESS * 100} %)`);
    process.exit(1);
  }
  console.log(`OK: ${(rate * 100).toFixed(1)} % of calls succeeded`);
  process.exit(0);
}

main().catch(async (err: unknown) => {
  console.error(`load-test:calls failed: ${err instanceof LoadTestError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (runtime) for (const l of runtime.tail(10)) console.error(`  runtime: ${l.slice(0, 300)}`);
  await cleanup();
  process.exit(1);
});
