/**
 * bench:media — media ingest capacity (docs/design.md §Bars: ≥ 500 concurrent PCMU calls on one process,
 * 2 cores, event-loop delay p99 ≤ 20 ms, no frame lost, ≤ 1 MB RSS per call).
 *
 * Part 1 (in this process, time-boxed): µs per 20 ms frame of every codec decoder, of each front-end
 * stage (8k→16k resample, high-pass, energy VAD, Silero VAD on speech and on silence, endpointer)
 * and of the whole per-frame session path (JSON parse + base64 + PCMU + pipeline).
 *
 * Part 2 (three processes): this process starts a private redis-server, a fake Whisper (answers at
 * once) and a fake Kokoro; it forks
 *   - the RUNTIME (scripts/bench/media-runtime.ts): one real startRuntime, VAD_MODE silero by default;
 *   - the LOAD GENERATOR (scripts/bench/media-loadgen.ts): fake Telnyx Call Control API + N simulated
 *     calls, each: signed call.initiated → answer → call.answered → WebSocket to stream_url → start
 *     → real-time 20 ms PCMU frames (speech fixture + pauses over line noise), drift-free pacing.
 * Calls ramp in steps; each step is held `--hold` s. Per step, measured IN the runtime process:
 * event-loop delay (monitorEventLoopDelay, reset at the step start), CPU, ELU, RSS; frames sent by
 * the generator vs frames the runtime decoded (media_frames_total{outcome="decoded"}), compared
 * exactly after pausing the streams until the counter settles.
 *
 * Callers SPEAK: the loop is two espeak-ng utterances with pauses, ~50 % speech (--extra-silence-ms
 * 1000 after them); the generator counts each utterance it sent whole (calls start outside speech),
 * the runtime counts finals (stt_utterances_total{outcome="final"}); after pausing the streams each
 * step compares the two: finals ≤ spoken, and ≥ spoken minus those that ended < 1.7 s of audio before
 * the pause (their end-of-turn wait may still be running).
 * Runtime CPU per call-second is read from /proc (the runtime process, every thread).
 *
 * Usage: npm run bench:media -- [--steps 100,200,300,500] [--hold 15] [--vad silero|energy]
 *   [--chunk-ms 1000] [--conversation] [--micro-ms 250] [--no-micro] [--no-load] [--stop-on-fail] [--profile] [--max-seconds 420]
 *   --chunk-ms tenant stt.chunkMs (partial cadence; a large value ≈ finals only, to isolate STT cost)
 *   --conversation  let the conversation layer answer (brain + TTS + playback) instead of the
 *              default ingest-only counting listener
 *   --floor ws|parse  diagnostic: a bare ws server (count only / + JSON.parse + base64) instead of
 *              the runtime: the per-frame cost of Node + ws on this machine
 *   --stop-on-fail  stop the ramp at the first failing step (default: run every step, for the cost table)
 *   --profile  CPU-profile the runtime during every hold (inspector; adds overhead) and print the
 *              top costs; profiles are kept in the OS temp dir.
 *   --media-workers N  the runtime's MEDIA_WORKERS (default: its own default, one per core but one)
 *   --runtime-node-flags='…'  extra Node flags for the runtime child (the = form: a value starting with --
 *              is not read as one), e.g. --runtime-node-flags='--cpu-prof --cpu-prof-dir=DIR'
 *              (a V8 profile per thread, the front-end workers included, written when the runtime exits)
 *   --json FILE  also write the BENCH_RESULT object (steps, maxCalls, pass) to FILE
 * Loopback only; stops by itself (hard stop at --max-seconds); kills only the processes it started.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedSileroModel } from '../../src/media/vad/silero-model';
import { EnergyVad } from '../../src/media/vad/energy-vad';
import { SileroVad } from '../../src/media/vad/silero-vad';
import { createRedis, closeRedis } from '../../src/lib/redis';
import { startFakeKokoro, type FakeKokoro } from '../../tests/fakes/fake-kokoro';
import { startFakeWhisper, type FakeWhisper } from '../../tests/fakes/fake-whisper';
import { startRedisServer, type RedisServerHandle } from '../../tests/support/redis-server';
import { generateTestKeyPair } from '../../tests/support/telnyx-signing';
import { testEnv } from '../../tests/support/test-config';
import { tenantDoc } from '../../tests/support/call-harness';
import { codecBenchmarks, frontEndBenchmarks, loadSilero, sessionBenchmark, type MicroResult } from './media-micro';
import { printProfile, summarizeProfile, type ProfileSummary } from './media-profile';
import { parseArgs } from '../lib/stats';

const args = parseArgs(process.argv.slice(2));
const STEPS = (args.steps ?? '100,200,300,500').split(',').map(Number).filter((n) => n > 0);
const HOLD_S = Number(args.hold ?? 15);
const VAD = (args.vad ?? 'silero') as 'silero' | 'energy';
const MICRO_MS = Number(args['micro-ms'] ?? 250);
const MAX_SECONDS = Number(args['max-seconds'] ?? 420);
/** Silence added to the caller loop after the two fixture utterances: 1 s makes the loop ~50 % speech. */
const EXTRA_SILENCE_MS = Number(args['extra-silence-ms'] ?? 1000);
const RESOLUTION_MS = 10;
/** Tenant stt.chunkMs: cadence of partial transcripts during speech (each re-sends the utterance so far). */
const CHUNK_MS = Number(args['chunk-ms'] ?? 1000);
/** Default: ingest only (caller input → counting listener). --conversation: the real conversation layer answers (brain + fake Kokoro TTS + playback). */
const CONVERSATION = Boolean(args.conversation);
/** --floor ws|parse: replace the runtime by a bare ws server (transport cost floor, diagnostic). */
const FLOOR = args.floor === 'ws' || args.floor === 'parse' ? args.floor : undefined;
/** --runtime-node-flags '…': extra Node flags for the runtime child (e.g. '--cpu-prof --cpu-prof-dir=DIR': one profile per thread, workers included). */
const RUNTIME_NODE_FLAGS = (args['runtime-node-flags'] ?? '').split(' ').filter(Boolean);
const BAR = { loopP99Ms: 20, rssPerCallMb: 1, targetCalls: 500, cpuMsPerCallSec: 3 };
if (VAD !== 'silero' && VAD !== 'energy') throw new Error('--vad must be silero or energy');

const children: ChildProcess[] = [];
let redis: RedisServerHandle | undefined;
const killChildren = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill('SIGKILL');
};
const hardStop = setTimeout(() => {
  console.error(`bench:media: hard stop after ${MAX_SECONDS} s`);
  killChildren();
  void redis?.destroy().finally(() => process.exit(2));
  setTimeout(() => process.exit(2), 2000).unref();
}, MAX_SECONDS * 1000);
hardStop.unref();
process.on('exit', killChildren);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killChildren();
    void redis?.destroy().finally(() => process.exit(130));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const mb = (b: number) => b / 1024 / 1024;

// ---------------------------------------------------------------- part 1: micro-benchmarks

function printRows(rows: MicroResult[]): void {
  for (const r of rows) console.log(`  ${r.name.padEnd(66)} ${Number.isFinite(r.us) ? r.us.toFixed(2).padStart(8) : '     n/a'} µs/20ms  ${r.note ?? ''}`);
}

async function micro(): Promise<Record<string, number>> {
  console.log(`\n1. per-frame costs (in-process, ~${MICRO_MS} ms per row, median of blocks; µs per 20 ms of audio)`);
  console.log(' codecs (decode):');
  const codecs = codecBenchmarks(MICRO_MS);
  printRows(codecs);
  const model = await loadSilero();
  console.log(' front end (16 kHz after the resampler; Silero: wall time incl. inference, per call-frame):');
  const fe = await frontEndBenchmarks(MICRO_MS, model);
  printRows(fe);
  console.log(' whole session path (message bytes → StreamTransport → MediaSession → SpeechPipeline, instant fake STT):');
  const sess: MicroResult[] = [];
  sess.push(await sessionBenchmark(() => new EnergyVad(), 100, MICRO_MS * 2, 'energy VAD'));
  if (model) sess.push(await sessionBenchmark(() => new SileroVad(model), 100, MICRO_MS * 2, 'Silero VAD'));
  printRows(sess);
  const perSession = sess.at(-1)!.us;
  console.log(`  → at 500 calls (25,000 frames/s) the session path alone needs ${f1((perSession * 25_000) / 1e4)} % of one core (before WebSocket/TCP)`);
  const out: Record<string, number> = {};
  for (const r of [...codecs, ...fe, ...sess]) out[r.name] = Math.round(r.us * 100) / 100;
  return out;
}

// ---------------------------------------------------------------- part 2: capacity

type AnyMsg = { type: string; [k: string]: unknown };

function forkTs(file: string, name: string, nodeFlags: string[] = []): ChildProcess {
  const child = fork(path.join(__dirname, file), [], {
    execArgv: ['--import', 'tsx', ...nodeFlags],
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  child.on('exit', (code, sig) => {
    if (code !== 0 && !stopping) console.error(`bench:media: ${name} exited (code ${code}, signal ${sig})`);
  });
  children.push(child);
  return child;
}

let stopping = false;

/** Asks a child to stop and waits for it to exit (SIGKILL after 8 s). */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
    }, 8000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.send({ cmd: 'stop' });
  });
}

/** A child's answer; generous by default: an overloaded runtime answers late, and that is a measurement. */
function request<T extends AnyMsg>(child: ChildProcess, msg: object | undefined, type: string, timeoutMs = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      child.off('message', on);
      reject(new Error(`timeout waiting for "${type}"`));
    }, timeoutMs);
    const on = (m: AnyMsg) => {
      if (m.type === 'error') {
        clearTimeout(t);
        child.off('message', on);
        reject(new Error(String(m.message)));
      } else if (m.type === type) {
        clearTimeout(t);
        child.off('message', on);
        resolve(m as T);
      }
    };
    child.on('message', on);
    if (msg) child.send(msg);
  });
}

interface RtSample extends AnyMsg {
  wallMs: number;
  eld: { count: number; p50: number; p99: number; max: number; mean: number; resolutionMs: number };
  cpuPct: number;
  eluPct: number;
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  sessions: number;
  frames: Record<string, number>;
  stt: Record<string, number>;
  logLines: number;
  heard: Record<string, number>;
  utterances: Record<string, number>;
}
interface GenStats extends AnyMsg {
  sent: number;
  spoken: number;
  pending: number;
  open: number;
  closedUnexpectedly: number;
  setupFailures: number;
  lateMs: { p50: number; p99: number; max: number; n: number };
  maxBuffered: number;
  burst: number;
  eldP99: number;
  mediaIn: number;
  marksEchoed: number;
  cpu: { user: number; system: number };
}

interface StepResult {
  calls: number;
  connected: number;
  setupP95Ms: number;
  loopDelayMs: { p50: number; p99: number; max: number };
  loopDelayRawP99Ms: number;
  cpuPct: number;
  /** Runtime CPU time per received frame (all threads): the efficiency figure, least sensitive to neighbours. */
  cpuUsPerFrame: number;
  eluPct: number;
  genCpuPct: number;
  rssMb: number;
  rssPerCallKb: number;
  heapMb: number;
  /** ArrayBuffers (audio, sockets) at the step's end: where RSS beyond the JS heap lives. */
  arrayBuffersMb: number;
  framesSent: number;
  framesReceived: number;
  lost: number;
  /** Frames sent but not yet decoded when the hold ended, as ms of audio per call: how far ingest lags real time. */
  behindMsPerCall: number;
  gapFilled: number;
  invalid: number;
  genLateP99Ms: number;
  sttRequests: number;
  procCpuPct: Record<string, number>;
  /** Runtime process CPU (all threads, /proc) per call per second of the hold. */
  cpuMsPerCallSec: number;
  /** The runtime's main thread alone (/proc/PID/task/PID), per call per second. */
  mainCpuMsPerCallSec: number;
  /** Caller utterances completed so far (generator) vs finals delivered (runtime), cumulative at the step's end. */
  spoken: number;
  /** Of `spoken`, utterances that ended < 1.7 s of audio before the streams were paused (final may not be due yet). */
  pending: number;
  finals: number;
  closed: number;
  pass: boolean;
  why: string[];
  profile?: ProfileSummary;
}

const decodedOf = (s: RtSample) => s.frames.decoded ?? 0;

/** /proc/loadavg's first three fields ('n/a' elsewhere). */
function readLoadAvg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}

/** Busy and total CPU seconds of the whole machine (/proc/stat, all CPUs); NaN elsewhere. */
function systemCpuSec(): { busy: number; total: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/** CPU seconds (user+system) of a process (or, with `tid`, of one of its threads) from /proc (Linux); NaN elsewhere. */
function procCpuSec(pid: number | undefined, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

async function capacity(): Promise<{ steps: StepResult[]; idleRssMb: number; idleCpuPct: number } | undefined> {
  console.log(
    `\n2. concurrent PCMU calls on ONE runtime process (VAD_MODE=${VAD}, steps ${STEPS.join(',')}, hold ${HOLD_S} s, partials every ${CHUNK_MS} ms of speech, ${CONVERSATION ? 'conversation layer ON (agent replies via fake Kokoro)' : 'ingest only: caller input → counting listener'})`,
  );
  redis = await startRedisServer();
  // An unfinished sentence ("… for"): the end-of-turn rule waits TURN_INCOMPLETE_SILENCE_MS (1.5 s)
  // and never cuts an utterance at a comma, so each spoken utterance is exactly one final; the
  // number keeps the deduper (same text within 3 s) out of the count.
  let answered = 0;
  const whisper: FakeWhisper = await startFakeWhisper({ latencyMs: 0, respond: () => `number ${(answered += 1)} is about an appointment for` });
  const kokoro: FakeKokoro = await startFakeKokoro({ sampleRate: 8000 });
  // The fake records every WAV it gets; keep this process's memory flat.
  const trim = setInterval(() => whisper.requests.splice(0), 1000);
  const gen = forkTs('media-loadgen.ts', 'load generator');
  const ready = await request<AnyMsg>(gen, undefined, 'ready');
  const keys = generateTestKeyPair();
  const env = testEnv({
    REDIS_URL: redis.url,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    TELNYX_API_BASE_URL: String(ready.telnyxBaseUrl),
    TELNYX_API_KEY: String(ready.apiKey),
    TELNYX_PUBLIC_KEY: keys.publicKeyB64,
    KOKORO_URL: kokoro.speechUrl,
    WHISPER_URL: whisper.transcriptionsUrl,
    PUBLIC_BASE_URL: 'https://voice.example.test',
    VAD_MODE: VAD,
    GLOBAL_CONCURRENCY_CAP: '100000',
    TENANT_CONCURRENCY_CAP_DEFAULT: '100000',
    TENANT_CALLS_PER_MIN_CAP_DEFAULT: '100000',
    ...(args['media-workers'] ? { MEDIA_WORKERS: args['media-workers'] } : {}),
  });
  const rt = forkTs('media-runtime.ts', 'runtime', RUNTIME_NODE_FLAGS);
  const booted = await request<AnyMsg>(rt, { cmd: 'boot', env, resolutionMs: RESOLUTION_MS, deadlineMs: MAX_SECONDS * 1000, conversation: CONVERSATION, floor: FLOOR }, 'booted', 60_000);
  console.log(`  runtime pid ${booted.pid} at ${booted.url} (VAD ${booted.vad}); load generator pid ${gen.pid}; redis pid ${redis.pid}; ${os.cpus().length} CPUs`);
  const did = '+15557654321';
  const r = createRedis(redis.url, 'request');
  await r.set(`${env.TENANTMAP_PREFIX}:did:${did}`, 'bench-tenant');
  const tenant = tenantDoc('bench-tenant', did, {
    stt: { mode: 'whisper_http', chunkMs: CHUNK_MS, whisperUrl: whisper.transcriptionsUrl },
    tts: { mode: 'kokoro_http', kokoroUrl: kokoro.speechUrl },
  });
  await r.set('tenantcfg:bench-tenant', JSON.stringify(tenant));
  await closeRedis(r);
  const init = await request<AnyMsg>(
    gen,
    { cmd: 'init', runtimeUrl: booted.url, privateKeyPem: keys.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), did, extraSilenceMs: EXTRA_SILENCE_MS, noiseDbfs: -60, setupConcurrency: 32, floor: Boolean(FLOOR) },
    'init',
  );
  console.log(
    `  caller audio: ${(Number(init.loopMs) / 1000).toFixed(1)} s loop (2 espeak-ng utterances + pauses, ${Math.round(Number(init.voicedShare) * 100)} % speech, -60 dBFS noise), random offset outside speech and 20 ms phase per call`,
  );

  let seq = 0;
  // Generous: an overloaded runtime answers late, and that is a measurement, not a bench failure.
  const sample = () => request<RtSample>(rt, { cmd: 'sample', id: ++seq }, 'sample', 120_000);
  await sleep(1500);
  await request(rt, { cmd: 'reset' }, 'reset');
  await sleep(2000);
  const idle = await sample();
  const idleRss = idle.rss;
  console.log(`  idle: RSS ${f1(mb(idleRss))} MB, CPU ${f1(idle.cpuPct)} %, loop delay p99 ${f1(idle.eld.p99 - RESOLUTION_MS)} ms`);
  const profDir = args.profile ? mkdtempSync(path.join(os.tmpdir(), 'bench-media-prof-')) : undefined;

  const steps: StepResult[] = [];
  let lostSoFar = 0;
  for (const calls of STEPS) {
    try {
      const ramped = await request<AnyMsg>(gen, { cmd: 'ramp', calls }, 'ramped', 120_000);
      const setup = ramped.setup as { p95: number };
      if (Object.keys(ramped.errors as object).length) console.log(`  setup errors: ${JSON.stringify(ramped.errors)}`);
      await sleep(1000);
      await request(rt, { cmd: 'reset' }, 'reset');
      const mark = await request<GenStats>(gen, { cmd: 'mark' }, 'mark');
      const genCpu0 = mark.cpu;
      const procs = { runtime: rt.pid, generator: gen.pid, redis: redis.pid, 'parent (fake Whisper/Kokoro)': process.pid };
      const cpuBefore = Object.fromEntries(Object.entries(procs).map(([k, pid]) => [k, procCpuSec(pid)]));
      // The runtime's main thread alone (its tid is the pid): what the event loop itself spends,
      // CPU time actually used, so a neighbour on the cores moves it far less than loop lag.
      const mainBefore = procCpuSec(rt.pid, rt.pid);
      const sys0 = systemCpuSec();
      const before = await sample();
      if (profDir) await request(rt, { cmd: 'profile-start' }, 'profile-started');
      const holdStart = Date.now();
      let rssMax = before.rss;
      while (Date.now() - holdStart < HOLD_S * 1000) {
        await sleep(Math.min(1000, HOLD_S * 1000 - (Date.now() - holdStart)));
        if (Date.now() - holdStart < HOLD_S * 1000) rssMax = Math.max(rssMax, (await sample()).rss);
      }
      let profile: ProfileSummary | undefined;
      if (profDir) {
        const file = path.join(profDir, `runtime-${calls}.cpuprofile`);
        await request(rt, { cmd: 'profile-stop', file }, 'profile-stopped', 60_000);
        profile = summarizeProfile(file);
      }
      const end = await sample();
      rssMax = Math.max(rssMax, end.rss);
      const procCpuPct: Record<string, number> = Object.fromEntries(
        Object.entries(procs).map(([k, pid]) => [k, Math.round(((procCpuSec(pid) - cpuBefore[k]!) / (end.wallMs / 1000)) * 1000) / 10]),
      );
      const sys1 = systemCpuSec();
      const mainPct = ((procCpuSec(rt.pid, rt.pid) - mainBefore) / (end.wallMs / 1000)) * 100;
      const ours = Object.values(procCpuPct).reduce((a, b) => a + b, 0);
      // Everything else on the machine (other users' jobs): a noisy neighbour invalidates the step.
      procCpuPct.others = Math.max(0, Math.round(((sys1.busy - sys0.busy) / (end.wallMs / 1000)) * 1000) / 10 - ours);
      const paused = await request<GenStats>(gen, { cmd: 'pause' }, 'paused');
      // Let every frame in flight land, then compare totals exactly.
      let settled = await sample();
      for (let i = 0, last = -1; i < 50 && decodedOf(settled) !== paused.sent; i += 1) {
        if (decodedOf(settled) === last && i > 10) break;
        last = decodedOf(settled);
        await sleep(100);
        settled = await sample();
      }
      // Every utterance spoken more than 1.7 s of audio before the pause has its final due; wait
      // (bounded) for the transcripts in flight to land.
      for (let i = 0, last = -1; i < 30; i += 1) {
        const f = settled.utterances.final ?? 0;
        if (f >= paused.spoken || (f === last && i > 5)) break;
        last = f;
        await sleep(100);
        settled = await sample();
      }
      const lostTotal = paused.sent - decodedOf(settled);
      const lost = lostTotal - lostSoFar;
      lostSoFar = lostTotal;
      await request(gen, { cmd: 'resume' }, 'resumed');
      const genCpuPct = ((paused.cpu.user + paused.cpu.system - genCpu0.user - genCpu0.system) / 1000 / end.wallMs) * 100;
      const sentDuringHold = paused.sent - mark.sent;
      const recvDuringHold = decodedOf(end) - decodedOf(before);
      const heardDelta = (k: string) => (end.heard[k] ?? 0) - (before.heard[k] ?? 0);
      const sttReq = Object.values(end.stt).reduce((a, b) => a + b, 0) - Object.values(before.stt).reduce((a, b) => a + b, 0);
      const net = (v: number) => Math.max(0, v - RESOLUTION_MS);
      const res: StepResult = {
        calls,
        connected: paused.open,
        setupP95Ms: setup.p95,
        loopDelayMs: { p50: net(end.eld.p50), p99: net(end.eld.p99), max: net(end.eld.max) },
        loopDelayRawP99Ms: end.eld.p99,
        cpuPct: end.cpuPct,
        cpuUsPerFrame: recvDuringHold > 0 ? ((end.cpuPct / 100) * end.wallMs * 1000) / recvDuringHold : NaN,
        eluPct: end.eluPct,
        genCpuPct,
        rssMb: mb(rssMax),
        rssPerCallKb: (rssMax - idleRss) / 1024 / calls,
        heapMb: mb(end.heapUsed),
        arrayBuffersMb: mb(end.arrayBuffers),
        framesSent: sentDuringHold,
        framesReceived: recvDuringHold,
        lost,
        behindMsPerCall: ((paused.sent - decodedOf(end)) / calls) * 20,
        gapFilled: (settled.frames.gap_filled ?? 0),
        invalid: (settled.frames.invalid ?? 0) + (settled.frames.decode_failed ?? 0),
        genLateP99Ms: paused.lateMs.p99,
        sttRequests: sttReq,
        procCpuPct,
        cpuMsPerCallSec: (procCpuPct.runtime! * 10) / calls,
        mainCpuMsPerCallSec: (mainPct * 10) / calls,
        spoken: paused.spoken,
        pending: paused.pending,
        finals: settled.utterances.final ?? 0,
        closed: paused.closedUnexpectedly,
        pass: false,
        why: [],
        profile,
      };
      if (res.connected < calls) res.why.push(`only ${res.connected}/${calls} calls connected`);
      if (res.loopDelayMs.p99 > BAR.loopP99Ms) res.why.push(`loop delay p99 ${f1(res.loopDelayMs.p99)} ms > ${BAR.loopP99Ms}`);
      if (res.lost !== 0) res.why.push(`${res.lost} frames lost`);
      if (res.closed > 0) res.why.push(`${res.closed} sockets closed`);
      if (res.invalid > 0) res.why.push(`${res.invalid} invalid/undecodable frames`);
      if (res.finals > res.spoken || res.finals < res.spoken - res.pending) {
        res.why.push(`${res.finals} finals for ${res.spoken} utterances spoken (${res.pending} of them ended < 1.7 s before the pause)`);
      }
      if (!CONVERSATION && res.spoken === 0) res.why.push('no utterance completed');
      res.pass = res.why.length === 0;
      const genNote = res.genLateP99Ms > 20 ? ` [generator late p99 ${f1(res.genLateP99Ms)} ms: generator saturated]` : '';
      console.log(
        `  ${String(calls).padStart(4)} calls: loop delay p50 ${f1(res.loopDelayMs.p50)} / p99 ${f1(res.loopDelayMs.p99)} / max ${f1(res.loopDelayMs.max)} ms` +
          ` | CPU ${f1(res.cpuPct)} % (ELU ${f1(res.eluPct)} %, ${f1(res.cpuUsPerFrame)} µs CPU/frame) | main thread ${res.mainCpuMsPerCallSec.toFixed(2)} ms/call-s | RSS ${f1(res.rssMb)} MB, ${res.rssPerCallKb.toFixed(0)} KB/call (heap ${f1(res.heapMb)}, ArrayBuffers ${f1(res.arrayBuffersMb)} MB)` +
          ` | frames sent ${res.framesSent} recv ${res.framesReceived} lost ${res.lost}, ingest behind ${f1(res.behindMsPerCall)} ms` +
          ` | gen CPU ${f1(genCpuPct)} %, late p99 ${f1(res.genLateP99Ms)} ms` +
          ` | STT req ${sttReq}, finals ${CONVERSATION ? `→ conversation, agent frames back ${paused.mediaIn - mark.mediaIn}, marks ${paused.marksEchoed - mark.marksEchoed}` : heardDelta('final')} | ${res.pass ? 'PASS' : `FAIL (${res.why.join('; ')})`}${genNote}`,
      );
      console.log(`        CPU % of one core by process: ${Object.entries(procCpuPct).map(([k, v]) => `${k} ${f1(v)}`).join(', ')}${procCpuPct.others! > 25 ? '  ⚠ other load on the machine: numbers are pessimistic' : ''}`);
      if (profile) printProfile(profile, `runtime @ ${calls} calls`);
      steps.push(res);
      if (end.logLines > 0) console.log(`  (runtime logged ${end.logLines} warn+ lines so far)`);
      if (!res.pass && args['stop-on-fail']) {
        console.log('  stopping the ramp at the first failing step (--stop-on-fail)');
        break;
      }
    } catch (err) {
      // An overloaded runtime can stop answering for minutes: that ends the ramp, the table still prints.
      console.log(`  ${calls} calls: the runtime did not answer (${(err as Error).message}); stopping the ramp`);
      break;
    }
  }
  stopping = true;
  clearInterval(trim);
  await Promise.all([stopChild(rt), stopChild(gen)]);
  await whisper.close();
  await kokoro.close();
  await redis.destroy();
  redis = undefined;
  rmSync(String(env.AUDIO_STORAGE_DIR), { recursive: true, force: true });
  if (profDir) console.log(`  profiles kept in ${profDir} (npx tsx scripts/bench/media-profile.ts FILE)`);
  return { steps, idleRssMb: mb(idleRss), idleCpuPct: idle.cpuPct };
}

async function main(): Promise<void> {
  console.log(`bench:media (node ${process.version}, ${os.cpus().length} CPUs: ${os.cpus()[0]?.model ?? '?'})`);
  const microRes = args['no-micro'] ? {} : await micro();
  if (!args['no-micro']) await (await sharedSileroModel().catch(() => undefined))?.release().catch(() => undefined);
  const cap = args['no-load'] ? undefined : await capacity();
  let pass = true;
  let best = 0;
  if (cap) {
    const { steps } = cap;
    const load = readLoadAvg();
    console.log(`\n  summary (speaking callers; loop delay = monitorEventLoopDelay minus its 10 ms sampling interval; load average at the end ${load}):`);
    const ok = (b: boolean) => (b ? 'PASS' : 'FAIL');
    const rows = [
      ['calls', 'loop p99 ms (≤ 20)', 'runtime CPU ms/call-s (≤ 3)', 'main thread ms/call-s', 'CPU % (1 core = 100)', 'RSS KB/call (≤ 1024)', 'marginal KB/call', 'frames lost (0)', 'finals/spoken', 'others %', 'result'],
    ];
    for (const [i, s] of steps.entries()) {
      // RSS growth from the previous step per added call: excludes fixed warm-up growth (JIT, heap sizing).
      const prev = i > 0 ? steps[i - 1]! : { calls: 0, rssMb: cap.idleRssMb };
      const marginal = ((s.rssMb - prev.rssMb) * 1024) / (s.calls - prev.calls);
      const cpuOk = s.cpuMsPerCallSec <= BAR.cpuMsPerCallSec;
      const memOk = s.rssPerCallKb <= BAR.rssPerCallMb * 1024;
      rows.push([
        String(s.calls),
        `${f1(s.loopDelayMs.p99)} ${ok(s.loopDelayMs.p99 <= BAR.loopP99Ms)}`,
        `${s.cpuMsPerCallSec.toFixed(2)} ${ok(cpuOk)}`,
        s.mainCpuMsPerCallSec.toFixed(2),
        f1(s.procCpuPct.runtime ?? NaN),
        `${s.rssPerCallKb.toFixed(0)} ${ok(memOk)}`,
        marginal.toFixed(0),
        `${s.lost} ${ok(s.lost === 0)}`,
        `${s.finals}/${s.spoken}${s.pending ? ` (−${s.pending} due)` : ''} ${ok(s.finals <= s.spoken && s.finals >= s.spoken - s.pending && s.spoken > 0)}`,
        f1(s.procCpuPct.others ?? NaN),
        ok(s.pass && cpuOk && memOk),
      ]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const [i, r] of rows.entries()) {
      console.log(`  | ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`);
      if (i === 0) console.log(`  |${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    }
    if (steps.some((s) => (s.procCpuPct.others ?? 0) > 25)) {
      console.log('  ⚠ "others %" = CPU used by processes this bench did not start (+ kernel): above ~25 % the machine was shared and the numbers are pessimistic; rerun on a quiet box.');
    }
    best = Math.max(0, ...steps.filter((s) => s.pass).map((s) => s.calls));
    const bestStep = steps.find((s) => s.calls === best);
    const memOk = bestStep ? bestStep.rssPerCallKb <= BAR.rssPerCallMb * 1024 : false;
    pass = best >= BAR.targetCalls && memOk;
    console.log(`  max calls meeting the bar (p99 ≤ ${BAR.loopP99Ms} ms, 0 lost): ${best}  (target ≥ ${BAR.targetCalls}) → ${best >= BAR.targetCalls ? 'PASS' : 'FAIL'}`);
    console.log(`  RSS per call at ${best} calls: ${bestStep ? bestStep.rssPerCallKb.toFixed(0) : 'n/a'} KB (bar ≤ 1024 KB) → ${memOk ? 'PASS' : 'FAIL'}`);
  }
  const result = {
    bench: 'media',
    vad: VAD,
    holdS: HOLD_S,
    micro: microRes,
    idleRssMb: cap ? Math.round(cap.idleRssMb) : undefined,
    idleCpuPct: cap ? +cap.idleCpuPct.toFixed(1) : undefined,
    steps: cap?.steps.map(({ profile, why, ...s }) => ({
      ...s,
      loopDelayMs: { p50: +s.loopDelayMs.p50.toFixed(2), p99: +s.loopDelayMs.p99.toFixed(2), max: +s.loopDelayMs.max.toFixed(2) },
      cpuPct: +s.cpuPct.toFixed(1),
      cpuMsPerCallSec: +s.cpuMsPerCallSec.toFixed(2),
      mainCpuMsPerCallSec: +s.mainCpuMsPerCallSec.toFixed(2),
      cpuUsPerFrame: +s.cpuUsPerFrame.toFixed(1),
      eluPct: +s.eluPct.toFixed(1),
      genCpuPct: +s.genCpuPct.toFixed(1),
      rssMb: +s.rssMb.toFixed(1),
      rssPerCallKb: Math.round(s.rssPerCallKb),
      heapMb: +s.heapMb.toFixed(1),
      genLateP99Ms: +s.genLateP99Ms.toFixed(2),
      behindMsPerCall: +s.behindMsPerCall.toFixed(1),
      failures: why,
      topCosts: profile?.stages.slice(0, 10).map((b) => `${b.stage} ${b.pct.toFixed(1)}%`),
    })),
    maxCalls: cap ? best : undefined,
    pass: cap ? pass : undefined,
  };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  process.exit(cap && !pass ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  killChildren();
  void redis?.destroy().finally(() => process.exit(1));
  setTimeout(() => process.exit(1), 2000).unref();
});
