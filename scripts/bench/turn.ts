/**
 * bench:turn — conversational latency of one runtime (docs/design.md §Bars), PLAYBACK_MODE=stream, with
 * instant fakes (Whisper, brain SSE, Kokoro answer at once):
 *
 * 1. Turn latency: end of caller speech + STT_SILENCE_MS → first agent audio on the media socket
 *    (bar p95 ≤ 40 ms). Caller speech (tests/support/speech-fixture.ts, espeak-ng) is streamed in
 *    real time, 20 ms PCMU frames paced by a drift-corrected clock, continuous silence between
 *    utterances like Telnyx. t0 = send time of the frame that completes STT_SILENCE_MS of silence
 *    after the utterance's last speech sample (fixture span); t1 = arrival of the reply's first
 *    `media` message. Also per stage (stage timestamps of both processes, see turn-runtime.ts) and
 *    the runtime's own view (turn_latency_seconds, per-turn 'turn' log lines).
 * 2. Barge-in: while the agent streams a long reply, caller speech is streamed in real time;
 *    first speech frame sent → `{"event":"clear"}` received (bar ≤ 150 ms; we hold p95 to it).
 *
 * The runtime runs alone in a forked process (turn-runtime.ts); this process runs a private
 * redis-server, the fake Telnyx API, the fakes and the callers (FakeMediaClient, playback: true:
 * marks echoed in real time). Each call has its own tenant whose whisperUrl / kokoroUrl carry a
 * per-call path prefix, so fake requests are attributed to calls.
 *
 * Usage: npm run bench:turn -- [--calls 3] [--turns 4] [--barges 4] [--silence 700]
 *        [--vad silero|energy] [--kokoro-rate 24000] [--cpu-prof DIR] [--verbose] [--json FILE]
 *   --json FILE  also write the BENCH_RESULT object (turn and barge-in latency, pass) to FILE
 * Bounded: hard deadline 170 s (the runtime process has its own); exits by itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { startRedisServer, type RedisServerHandle } from '../../tests/support/redis-server';
import type { FakeMediaClient } from '../../tests/fakes/fake-media-client';
import os from 'node:os';
import type { StageEvent } from './turn-runtime';
import { startInstantKokoro } from './instant-kokoro';
import { fmt, parseArgs, summarize } from '../lib/stats';

const hr = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const FRAME_MS = 20;
const DEADLINE_MS = 170_000;

const args = parseArgs(process.argv.slice(2));
const CALLS = Number(args.calls ?? 3);
const PLAIN_TURNS = Number(args.turns ?? 4);
const BARGES = Number(args.barges ?? 4);
const SILENCE_MS = Number(args.silence ?? 700);
const VAD = args.vad ?? 'silero';
const KOKORO_RATE = Number(args['kokoro-rate'] ?? 24000);
const PROFILE_DIR = args['cpu-prof'];
const VERBOSE = args.verbose === 'true';

let child: ChildProcess | undefined;
const parentEld = monitorEventLoopDelay({ resolution: 1 });
let redis: RedisServerHandle | undefined;

// ------------------------------------------------------------------------------------- caller line

/**
 * The caller's side of one media stream: a 20 ms PCMU frame every 20 ms (drift-corrected, like a
 * phone), silence unless an utterance is queued. Records the send time of tagged frames.
 */
class CallerLine {
  private readonly queue: { frame: Uint8Array; tag?: string }[] = [];
  private readonly t0 = performance.now();
  private n = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly sent = new Map<string, number>();
  private waiters: { tag: string; resolve: (at: number) => void }[] = [];

  constructor(
    private readonly client: FakeMediaClient,
    private readonly silence: Uint8Array,
  ) {
    this.tick();
  }

  private tick(): void {
    if (this.stopped) return;
    const item = this.queue.shift();
    this.client.sendMedia(item?.frame ?? this.silence, FRAME_MS);
    if (item?.tag) {
      const at = hr();
      this.sent.set(item.tag, at);
      for (const w of this.waiters.filter((x) => x.tag === item.tag)) w.resolve(at);
      this.waiters = this.waiters.filter((x) => x.tag !== item.tag);
    }
    this.n += 1;
    const wait = this.t0 + this.n * FRAME_MS - performance.now();
    this.timer = setTimeout(() => this.tick(), Math.max(0, wait));
  }

  /** Queues frames; `tags` maps frame index → tag. */
  say(frames: Uint8Array[], tags: Record<number, string>): void {
    frames.forEach((frame, i) => this.queue.push({ frame, tag: tags[i] }));
  }

  /** Resolves with the send time of the tagged frame. */
  sentAt(tag: string): Promise<number> {
    const at = this.sent.get(tag);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.waiters.push({ tag, resolve }));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

// ------------------------------------------------------------------------------------- samples

interface TurnSample {
  call: number;
  callId: string;
  kind: 'after_idle' | 'after_barge_in';
  /** What the brain answered: 2 short segments, or 6 segments (first short, then ~3.5 s each). */
  reply: 'short' | 'long';
  /** Utterance queued (window start for stage matching). */
  uttAt: number;
  lastSpeechAt: number;
  t0: number;
  firstMediaAt: number;
  latencyMs: number;
}

interface BargeSample {
  call: number;
  callId: string;
  firstSpeechAt: number;
  clearAt: number;
  latencyMs: number;
}

const turns: TurnSample[] = [];
const barges: BargeSample[] = [];
const failures: string[] = [];

/** Fake-side request arrivals per call (hr epoch ms). */
const arrivals = { whisper: new Map<number, number[]>(), brain: new Map<number, number[]>() };
const pushArrival = (m: Map<number, number[]>, call: number, at: number) => {
  const a = m.get(call) ?? [];
  a.push(at);
  m.set(call, a);
};
const callOfPath = (p: string) => {
  const m = /^\/c(\d+)\//.exec(p);
  return m ? Number(m[1]) : -1;
};

// ------------------------------------------------------------------------------------- IPC

function request<T extends { type: string }>(msg: object, reply: string, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const c = child!;
    const t = setTimeout(() => {
      c.off('message', on);
      c.off('exit', onExit);
      reject(new Error(`runtime process did not answer ${JSON.stringify(msg).slice(0, 40)} in time`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(t);
      c.off('message', on);
      c.off('exit', onExit);
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`runtime process exited (code ${code}) before answering`));
    };
    const on = (m: { type: string; message?: string }) => {
      if (m.type === 'error') {
        done();
        reject(new Error(`runtime process: ${m.message}`));
      } else if (m.type === reply) {
        done();
        resolve(m as unknown as T);
      }
    };
    c.on('message', on);
    c.once('exit', onExit);
    c.send(msg);
  });
}

async function stopChild(): Promise<void> {
  const c = child;
  if (!c || c.exitCode !== null || c.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      resolve();
    }, 8000);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.send({ cmd: 'stop' });
  });
}

// ------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const hardStop = setTimeout(() => {
    console.error(`bench:turn: hard deadline ${DEADLINE_MS / 1000}s reached; aborting`);
    child?.kill('SIGKILL');
    void redis?.destroy().finally(() => process.exit(2));
  }, DEADLINE_MS);
  hardStop.unref();

  redis = await startRedisServer();
  process.env.TEST_REDIS_URL = redis.url;
  // Imported after TEST_REDIS_URL is set: the harness reads it.
  const { createHarness, newCallControlId, tenantDoc } = await import('../../tests/support/call-harness');
  const { connectStream, encodedSpeech } = await import('../../tests/support/media-harness');
  const { speechFixture } = await import('../../tests/support/speech-fixture');
  const { startFakeWhisper } = await import('../../tests/fakes/fake-whisper');
  const { startFakeBrain } = await import('../../tests/fakes/fake-brain');
  const { createEncoder } = await import('../../src/media/audio/codecs');

  // --- per-call state the fakes consult
  const callIdx = new Map<string, number>();
  const nextReply: ('short' | 'long')[] = [];
  const replyNo: number[] = [];
  const sttNo: number[] = [];

  const whisper = await startFakeWhisper({
    respond: (_wav, req) => {
      const c = callOfPath(req.path);
      sttNo[c] = (sttNo[c] ?? 0) + 1;
      return `Caller ${c} request ${sttNo[c]}: could I book a table for two tonight?`;
    },
  });
  const wpush = whisper.requests.push.bind(whisper.requests);
  whisper.requests.push = (...r) => {
    for (const x of r) pushArrival(arrivals.whisper, callOfPath(x.path), hr());
    return wpush(...r);
  };
  const brain = await startFakeBrain({
    mode: 'sse',
    script: (body) => {
      const c = callIdx.get(String(body.callControlId)) ?? -1;
      pushArrival(arrivals.brain, c, hr());
      replyNo[c] = (replyNo[c] ?? 0) + 1;
      const k = replyNo[c];
      // Instant brain: the first sentence arrives whole in the first token (trailing space confirms the sentence end).
      if (nextReply[c] === 'long') {
        return {
          tokens: [
            `Okay, here is answer ${k} for call ${c}. `,
            'We are open every day from nine in the morning until late at night. ',
            'Tables for two are usually free before seven and after nine. ',
            'On weekends we recommend booking at least a day in advance. ',
            'We also have a quiet room for larger groups of up to twelve. ',
            'Would you like me to check a specific time for you?',
          ],
          tokenDelayMs: 0,
        };
      }
      return { tokens: [`Sure thing, answer ${k} for call ${c}. `, 'Anything else?'], tokenDelayMs: 0 };
    },
  });
  // Instant Kokoro: the fake's tone synthesis per request (tests/fakes/fake-kokoro.ts) blocks this
  // process for tens of ms on long replies; this one answers with a slice of one pre-made tone.
  const kokoro = await startInstantKokoro({ sampleRate: KOKORO_RATE });

  const h = await createHarness({
    GLOBAL_CONCURRENCY_CAP: '1000',
    TENANT_CONCURRENCY_CAP_DEFAULT: '1000',
    TENANT_CALLS_PER_MIN_CAP_DEFAULT: '1000',
  });
  const env: Record<string, string | undefined> = {
    ...h.env,
    PLAYBACK_MODE: 'stream',
    VAD_MODE: VAD,
    WHISPER_URL: whisper.transcriptionsUrl,
    BRAIN_URL: brain.url,
    KOKORO_URL: kokoro.speechUrl,
    TTS_SAMPLE_RATE: String(KOKORO_RATE),
    STT_SILENCE_MS: String(SILENCE_MS),
    // This bar is the runtime's own cost after the silence endpoint: the silence rule ends every turn. The
    // transcript-based end of turn (the default, turns end well before STT_SILENCE_MS) is bench:turn-taking's.
    TURN_END_MODE: 'silence',
    STT_CHUNK_MS: '1000',
    DEAD_AIR_MS: '600000',
    LOG_LEVEL: 'info',
  };

  // --- the runtime, alone in its process
  child = fork(path.join(__dirname, 'turn-runtime.ts'), [], {
    execArgv: ['--import', 'tsx', ...(args['node-flags'] ? args['node-flags'].split(' ') : [])],
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  child.on('exit', (code, sig) => {
    if (code !== 0 && code !== null) console.error(`bench:turn: runtime process exited (code ${code}, signal ${sig})`);
  });
  const booted = await request<{ type: string; url: string; pid: number; vadMode: string; vadFellBack: boolean }>(
    { cmd: 'boot', env, deadlineMs: DEADLINE_MS + 10_000, profile: Boolean(PROFILE_DIR) },
    'booted',
    60_000,
  );
  const rt = { url: booted.url } as Parameters<typeof h.send>[0];

  // --- audio
  const fx = speechFixture();
  const pcmu = encodedSpeech('PCMU', 8000);
  const enc = createEncoder('PCMU', { sampleRate: 8000 });
  const silence = Uint8Array.from(enc.encode(new Int16Array(160)));
  enc.close();
  /** Frames of one fixture utterance: `leadMs` before it, through the frame completing SILENCE_MS after it. */
  const utterance = (u: number, leadMs: number) => {
    const span = fx.utterances[u]!;
    const from = Math.max(0, Math.floor((span.startMs - leadMs) / FRAME_MS));
    const firstSpeech = Math.floor(span.startMs / FRAME_MS);
    const lastSpeech = Math.ceil(span.endMs / FRAME_MS) - 1;
    const silenceDone = Math.ceil((span.endMs + SILENCE_MS) / FRAME_MS) - 1;
    const frames = pcmu.slice(from, silenceDone + 1);
    while (frames.length < silenceDone + 1 - from) frames.push(silence); // fixture tail shorter than the silence
    return { frames, tags: { [firstSpeech - from]: 'firstSpeech', [lastSpeech - from]: 'lastSpeech', [silenceDone - from]: 'silenceDone' } as Record<number, string> };
  };
  const PLAIN_UTT = 1; // the shorter fixture utterance (~1.9 s)
  const BARGE_UTT = 1;

  console.log(
    `bench:turn: ${CALLS} calls × (${PLAIN_TURNS} plain turns + ${BARGES} barge-in cycles), PLAYBACK_MODE=stream, VAD_MODE=${booted.vadMode}` +
      `${booted.vadFellBack ? ' (FELL BACK to energy)' : ''}, STT_SILENCE_MS=${SILENCE_MS}, Kokoro ${KOKORO_RATE} Hz, PCMU 8 kHz, runtime pid ${booted.pid}`,
  );

  /** First message of `event` received after `after`, waiting up to timeoutMs. */
  const firstAfter = async (client: FakeMediaClient, event: string, after: number, timeoutMs: number): Promise<number | undefined> => {
    const deadline = performance.now() + timeoutMs;
    // client.received[].at is performance.now() of this process: convert.
    const afterPerf = after - performance.timeOrigin;
    for (;;) {
      const m = client.received.find((x) => x.event === event && x.at > afterPerf);
      if (m) return m.at + performance.timeOrigin;
      if (performance.now() > deadline) return undefined;
      await sleep(5);
    }
  };
  /** Waits until no agent media arrived for quietMs (the reply has been sent; marks echo within maxAhead). */
  const waitQuiet = async (client: FakeMediaClient, quietMs: number, timeoutMs = 30_000) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      let last: { at: number } | undefined;
      for (let i = client.received.length - 1; i >= 0 && !last; i -= 1) if (client.received[i]!.event === 'media') last = client.received[i];
      if (!last || performance.now() - last.at >= quietMs) return;
      if (performance.now() > deadline) throw new Error('agent audio never went quiet');
      await sleep(20);
    }
  };

  async function runCall(c: number): Promise<void> {
    const did = `+1555300${String(c).padStart(4, '0')}`;
    const tenant = `bench-turn-${c}`;
    await h.seedTenant(
      tenant,
      did,
      tenantDoc(tenant, did, {
        greeting: `Hello, this is bench line ${c}.`,
        stt: { mode: 'whisper_http', chunkMs: 1000, whisperUrl: `${whisper.url}/c${c}/v1/audio/transcriptions` },
        tts: { mode: 'kokoro_http', kokoroUrl: `${kokoro.url}/c${c}/v1/audio/speech` },
      }),
    );
    const callId = newCallControlId();
    callIdx.set(callId, c);
    await h.send(rt, 'call.initiated', callId, { to: did });
    const answer = await h.telnyx.waitFor((x) => x.callControlId === callId && x.action === 'answer', 10_000);
    await h.send(rt, 'call.answered', callId, { to: did });
    const client = await connectStream(rt as never, String(answer.body.stream_url), callId, { encoding: 'PCMU', sampleRate: 8000, playback: true });
    const line = new CallerLine(client, silence);
    try {
      // Greeting.
      if ((await firstAfter(client, 'media', 0, 10_000)) === undefined) throw new Error(`call ${c}: no greeting audio`);
      await waitQuiet(client, 400);
      await sleep(200);

      /** One caller utterance after which the agent is expected to answer; returns the sample. */
      const turn = async (kind: TurnSample['kind'], u: number, leadMs: number, tagPrefix: string): Promise<TurnSample | undefined> => {
        const { frames, tags } = utterance(u, leadMs);
        const named: Record<number, string> = {};
        for (const [i, t] of Object.entries(tags)) named[Number(i)] = `${tagPrefix}:${t}`;
        const uttAt = hr();
        line.say(frames, named);
        const lastSpeechAt = await line.sentAt(`${tagPrefix}:lastSpeech`);
        const t0 = await line.sentAt(`${tagPrefix}:silenceDone`);
        const firstMediaAt = await firstAfter(client, 'media', lastSpeechAt, 8000);
        if (firstMediaAt === undefined) {
          failures.push(`call ${c} ${tagPrefix}: no reply audio within 8 s`);
          return undefined;
        }
        const s: TurnSample = { call: c, callId, kind, reply: nextReply[c] ?? 'short', uttAt, lastSpeechAt, t0, firstMediaAt, latencyMs: firstMediaAt - t0 };
        turns.push(s);
        if (VERBOSE) console.log(`  call ${c} ${tagPrefix} ${kind}: ${fmt(s.latencyMs)}`);
        return s;
      };

      const plan: ('plain' | 'barge')[] = [];
      for (let i = 0; i < Math.max(PLAIN_TURNS, BARGES); i += 1) {
        if (i < PLAIN_TURNS) plan.push('plain');
        if (i < BARGES) plan.push('barge');
      }
      let step = 0;
      for (const what of plan) {
        step += 1;
        if (what === 'plain') {
          nextReply[c] = 'short';
          await turn('after_idle', PLAIN_UTT, 300, `s${step}`);
          await waitQuiet(client, 400);
          await sleep(150 + Math.random() * 200);
          continue;
        }
        // Barge-in cycle: a turn answered with a long reply, interrupted while it streams.
        nextReply[c] = 'long';
        const first = await turn('after_idle', PLAIN_UTT, 300, `s${step}`);
        if (!first) {
          await waitQuiet(client, 400);
          continue;
        }
        await sleep(700 + Math.random() * 300);
        nextReply[c] = 'short';
        const sayAt = hr();
        const { frames, tags } = utterance(BARGE_UTT, 100);
        const named: Record<number, string> = {};
        for (const [i, t] of Object.entries(tags)) named[Number(i)] = `b${step}:${t}`;
        line.say(frames, named);
        const firstSpeechAt = await line.sentAt(`b${step}:firstSpeech`);
        const clearAt = await firstAfter(client, 'clear', sayAt, 3000);
        if (clearAt === undefined) failures.push(`call ${c} b${step}: no clear within 3 s of caller speech`);
        else {
          barges.push({ call: c, callId, firstSpeechAt, clearAt, latencyMs: clearAt - firstSpeechAt });
          if (VERBOSE) console.log(`  call ${c} b${step} barge-in: ${fmt(clearAt - firstSpeechAt)}`);
        }
        // The interrupting utterance is a turn of its own: its reply's latency is a sample too.
        const lastSpeechAt = await line.sentAt(`b${step}:lastSpeech`);
        const t0 = await line.sentAt(`b${step}:silenceDone`);
        const firstMediaAt = await firstAfter(client, 'media', lastSpeechAt, 8000);
        if (firstMediaAt === undefined) failures.push(`call ${c} b${step}: no reply audio after the barge-in`);
        else {
          turns.push({ call: c, callId, kind: 'after_barge_in', reply: 'short', uttAt: sayAt, lastSpeechAt, t0, firstMediaAt, latencyMs: firstMediaAt - t0 });
          if (VERBOSE) console.log(`  call ${c} b${step} after_barge_in: ${fmt(firstMediaAt - t0)}`);
        }
        await waitQuiet(client, 400);
        await sleep(150 + Math.random() * 200);
      }
    } finally {
      line.stop();
      client.stop();
      await client.close();
      await h.send(rt, 'call.hangup', callId, { to: did, hangup_cause: 'normal_clearing' }).catch(() => undefined);
    }
  }

  const started = performance.now();
  const load0 = os.loadavg();
  parentEld.enable();
  const cycleMs = 5500;
  await Promise.all(
    Array.from({ length: CALLS }, async (_, i) => {
      await sleep((i * cycleMs) / CALLS); // stagger: turns of different calls rarely coincide
      await runCall(i + 1).catch((err: unknown) => {
        failures.push(`call ${i + 1}: ${(err as Error).message}`);
      });
    }),
  );
  const wallS = (performance.now() - started) / 1000;

  // --- runtime side
  type Dump = {
    type: string;
    events: StageEvent[];
    turnLogs: Record<string, unknown>[];
    warnings: string[];
    vadFellBack: boolean;
    silero?: Record<string, number>;
    metrics: string;
    eld: { p50: number; p99: number; max: number; mean: number };
  };
  const dump = await request<Dump>({ cmd: 'dump' }, 'dump');
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    const file = path.resolve(PROFILE_DIR, `turn-runtime-${Date.now()}.cpuprofile`);
    await request({ cmd: 'profile-stop', file }, 'profile-stopped', 30_000);
    console.log(`CPU profile of the runtime process: ${file}`);
  }

  report(dump, wallS);
  await stopChild();
  await h.close();
  await whisper.close();
  await brain.close();
  await kokoro.close();
  await redis.destroy();
  const pass = pass1 && pass2 && failures.length === 0;
  process.exit(pass ? 0 : 1);

  // ------------------------------------------------------------------------------------- report
  function report(d: Dump, wall: number): void {
    const ev = (id: string, type: StageEvent['type']) => d.events.filter((e) => e.id === id && e.type === type);
    const s = summarize(turns.map((t) => t.latencyMs));
    const line = (name: string, xs: number[]) => {
      const q = summarize(xs);
      return `  ${name.padEnd(58)} p50 ${fmt(q.p50).padStart(10)}  p95 ${fmt(q.p95).padStart(10)}  p99 ${fmt(q.p99).padStart(10)}  max ${fmt(q.max).padStart(10)}  (n=${q.n})`;
    };
    console.log(`\nload average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (${os.cpus().length} CPUs; other processes on the box skew every number)`);
    console.log(`wall ${wall.toFixed(1)} s; runtime event-loop delay p50 ${fmt(d.eld.p50)} p99 ${fmt(d.eld.p99)} max ${fmt(d.eld.max)}`);
    console.log(`bench process (callers + fakes) event-loop delay p99 ${fmt(parentEld.percentile(99) / 1e6)} max ${fmt(parentEld.max / 1e6)} (its timestamps are only as good as this)`);
    console.log(`VAD: ${booted.vadMode}${d.vadFellBack ? ' (fell back to energy!)' : ''}${d.silero ? `  VAD frames (vad_frames_total) ${JSON.stringify(d.silero)}` : ''}`);

    console.log(`\n1. end of caller speech + STT_SILENCE_MS (${SILENCE_MS} ms) → first agent media received`);
    console.log(line('all turns', turns.map((t) => t.latencyMs)));
    console.log(line('  after idle agent', turns.filter((t) => t.kind === 'after_idle').map((t) => t.latencyMs)));
    console.log(line('  after a barge-in', turns.filter((t) => t.kind === 'after_barge_in').map((t) => t.latencyMs)));
    console.log(line('  reply of 2 segments', turns.filter((t) => t.reply === 'short').map((t) => t.latencyMs)));
    console.log(line('  reply of 6 segments (long, later barged into)', turns.filter((t) => t.reply === 'long').map((t) => t.latencyMs)));
    pass1 = s.n >= 1 && s.p95 <= 40;
    console.log(`  bar p95 ≤ 40 ms: ${pass1 ? 'PASS' : 'FAIL'}`);

    // Stage breakdown per turn, from the timestamps of both processes (hr epoch ms).
    const stages: Record<string, number[]> = {};
    const add = (k: string, v: number | undefined) => {
      if (v === undefined || !Number.isFinite(v)) return;
      (stages[k] ??= []).push(v);
    };
    for (const t of turns) {
      const inWin = <T extends { at: number }>(xs: T[]) => xs.filter((e) => e.at >= t.uttAt && e.at <= t.firstMediaAt + 1);
      const fin = inWin(ev(t.callId, 'final') as Extract<StageEvent, { type: 'final' }>[]).at(-1);
      if (!fin) continue;
      const wArr = (arrivals.whisper.get(t.call) ?? []).filter((a) => a >= t.uttAt && a <= fin.at).at(-1);
      const bArr = (arrivals.brain.get(t.call) ?? []).find((a) => a >= fin.at);
      const ttsAdd = (ev(t.callId, 'ttsAdd') as Extract<StageEvent, { type: 'ttsAdd' }>[]).find((e) => e.at >= fin.at && e.index === 0);
      const kReq = kokoro.requests.find((r) => callOfPath(r.path) === t.call && r.at >= (ttsAdd?.at ?? fin.at));
      const kArr = kReq?.at;
      const ready = ttsAdd && (ev(t.callId, 'ttsReady') as Extract<StageEvent, { type: 'ttsReady' }>[]).find((e) => e.turnId === ttsAdd.turnId && e.index === 0);
      const sent = ev(t.callId, 'mediaSent').find((e) => e.at >= fin.at);
      add('a. t0 → endpoint (VAD end lag; Date.now ms)', fin.endpointAt - t.t0);
      add('   (endpoint → first media received: all but the VAD)', t.firstMediaAt - fin.endpointAt);
      add('b. t0 → Whisper request arrives', wArr !== undefined ? wArr - t.t0 : undefined);
      add('c. Whisper arrives → final to conversation', wArr !== undefined ? fin.at - wArr : undefined);
      add('d. final → brain request arrives', bArr !== undefined ? bArr - fin.at : undefined);
      add('e. brain arrives → tts queue.add() called', ttsAdd && bArr !== undefined ? ttsAdd.at - bArr : undefined);
      add('f. queue.add() (Redis round trips)', ttsAdd ? ttsAdd.doneAt - ttsAdd.at : undefined);
      add('g. add() start → Kokoro request arrives', ttsAdd && kArr !== undefined ? kArr - ttsAdd.at : undefined);
      add('h. Kokoro arrives → answered (the fake)', kReq?.answeredAt !== undefined ? kReq.answeredAt - kReq.at : undefined);
      add('i. Kokoro answered → tts_ready on call bus', ready && kReq?.answeredAt !== undefined ? ready.at - kReq.answeredAt : undefined);
      add('j. tts_ready → first media sent', ready && sent ? sent.at - ready.at : undefined);
      if (!ttsAdd) {
        // Stream mode: segments are synthesized in the runtime process (no queue, no bus).
        add('e\'. brain arrives → Kokoro request arrives (first token, segmenting)', bArr !== undefined && kArr !== undefined ? kArr - bArr : undefined);
        add('i\'. Kokoro answered → first media sent (decode, resample, encode)', kReq?.answeredAt !== undefined && sent ? sent.at - kReq.answeredAt : undefined);
      }
      add('k. media sent → received by caller', sent ? t.firstMediaAt - sent.at : undefined);
      // Finer: the TTS segment's own Redis and file operations (turn-runtime.ts op tracing).
      if (ttsAdd && ready && kReq?.answeredAt !== undefined) {
        const ops = d.events.filter((e): e is Extract<StageEvent, { type: 'op' }> => e.type === 'op');
        const get = ops.find((o) => o.op === 'get' && o.at >= ttsAdd.at && o.at <= kReq.at);
        const mine = (op: string) => ops.find((o) => o.op === op && o.what.includes(ready.fileName) && o.at >= ttsAdd.at);
        const wf = mine('writeFile');
        const rn = mine('rename');
        const set = mine('set');
        const pub = mine('publish');
        const rf = ops.find((o) => o.op === 'readFile' && o.what === ready.fileName && o.at >= ready.at);
        const sub = (k: string, a?: number, b?: number) => add(`   ${k}`, a !== undefined && b !== undefined ? b - a : undefined);
        sub('g1. add() start → worker cache GET (pickup)', ttsAdd.at, get?.at);
        sub('g2. cache GET', get?.at, get?.doneAt);
        sub('g3. GET done → Kokoro request arrives', get?.doneAt, kReq.at);
        sub('i1. answered → WAV writeFile start', kReq.answeredAt, wf?.at);
        sub('i2. writeFile', wf?.at, wf?.doneAt);
        sub('i3. rename', rn?.at, rn?.doneAt);
        sub('i4. cache SET', set?.at, set?.doneAt);
        sub('i5. PUBLISH start → tts_ready delivered', pub?.at, ready.at);
        sub('j1. tts_ready → readFile start', ready.at, rf?.at);
        sub('j2. readFile', rf?.at, rf?.doneAt);
        sub('j3. readFile done → media sent (parse, resample, encode)', rf?.doneAt, sent?.at);
      }
      add('   (VAD speech end → t0, should be ≈ STT_SILENCE_MS)', t.t0 - fin.speechEndAt);
    }
    console.log('\n  per stage (both processes, hr clock; a. uses the runtime\'s Date.now endpointAt):');
    for (const [k, xs] of Object.entries(stages)) console.log(line(k, xs));

    // The runtime's own view: per-turn log lines ('turn', ms since VAD speech end) and histograms.
    const speechTurns = d.turnLogs.filter((l) => l.source === 'speech' && typeof l.firstAudioMs === 'number');
    console.log(`\n  runtime's own view ('turn' log lines, ms since the VAD's speech end, minus STT_SILENCE_MS):`);
    for (const k of ['brainFirstTokenMs', 'firstSegmentMs', 'firstAudioMs'] as const) {
      console.log(line(k, speechTurns.filter((l) => typeof l[k] === 'number').map((l) => (l[k] as number) - SILENCE_MS)));
    }
    const hist = parseHistogram(d.metrics);
    console.log(`  turn_latency_seconds (mean; bucket-bound p95 — buckets 10/25/50/100 ms…):`);
    for (const [stage, h] of Object.entries(hist)) {
      console.log(`    ${stage.padEnd(28)} n=${h.count}  mean ${fmt((h.sum / Math.max(1, h.count)) * 1000)}  p95 ≤ ${h.p95le} s`);
    }

    console.log(`\n2. caller speech onset during agent playback → clear received`);
    const b = summarize(barges.map((x) => x.latencyMs));
    console.log(line('barge-in (first speech frame sent → clear)', barges.map((x) => x.latencyMs)));
    const bStages: Record<string, number[]> = {};
    for (const x of barges) {
      const st = d.events.find((e) => e.id === x.callId && e.type === 'speechStarted' && e.at >= x.firstSpeechAt - 50 && e.at <= x.clearAt);
      const cs = d.events.find((e) => e.id === x.callId && e.type === 'clearSent' && e.at >= x.firstSpeechAt - 50 && e.at <= x.clearAt + 1);
      if (st) (bStages['first speech frame → VAD onset (speechStarted)'] ??= []).push(st.at - x.firstSpeechAt);
      if (st && cs) (bStages['speechStarted → clear sent'] ??= []).push(cs.at - st.at);
      if (cs) (bStages['clear sent → received'] ??= []).push(x.clearAt - cs.at);
    }
    for (const [k, xs] of Object.entries(bStages)) console.log(line(k, xs));
    pass2 = b.n >= 1 && b.max <= 150;
    console.log(`  bar ≤ 150 ms (every barge-in): ${pass2 ? 'PASS' : 'FAIL'}  (p95 ${b.p95 <= 150 ? '≤' : '>'} 150 ms)`);

    if (failures.length) console.log(`\nfailures (${failures.length}):\n  ${failures.slice(0, 10).join('\n  ')}`);
    if (d.warnings.length) console.log(`\nruntime warnings (${d.warnings.length}, first 5):\n  ${d.warnings.slice(0, 5).join('\n  ')}`);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const result = {
      bench: 'turn',
      vad: d.vadFellBack ? 'energy(fallback)' : booted.vadMode,
      calls: CALLS,
      turn: { n: s.n, p50: r2(s.p50), p95: r2(s.p95), p99: r2(s.p99), max: r2(s.max), pass: pass1 },
      bargeIn: { n: b.n, p50: r2(b.p50), p95: r2(b.p95), max: r2(b.max), pass: pass2 },
      failures: failures.length,
      pass: pass1 && pass2 && failures.length === 0,
    };
    console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  }
}

let pass1 = false;
let pass2 = false;

/** turn_latency_seconds per stage: count, sum and the first bucket bound holding 95 %. */
function parseHistogram(text: string): Record<string, { count: number; sum: number; p95le: string }> {
  const out: Record<string, { count: number; sum: number; buckets: [string, number][]; p95le: string }> = {};
  for (const l of text.split('\n')) {
    const m = /^turn_latency_seconds_(bucket|sum|count)\{(.*)\} ([0-9.e+-]+)$/.exec(l);
    if (!m) continue;
    const stage = /stage="([^"]+)"/.exec(m[2]!)?.[1] ?? '?';
    const h = (out[stage] ??= { count: 0, sum: 0, buckets: [], p95le: '?' });
    if (m[1] === 'bucket') h.buckets.push([/le="([^"]+)"/.exec(m[2]!)?.[1] ?? '?', Number(m[3])]);
    else if (m[1] === 'sum') h.sum = Number(m[3]);
    else h.count = Number(m[3]);
  }
  for (const h of Object.values(out)) h.p95le = h.buckets.find(([, n]) => n >= 0.95 * h.count)?.[0] ?? '?';
  return out;
}

main().catch(async (err: unknown) => {
  console.error(err);
  await stopChild().catch(() => undefined);
  await redis?.destroy().catch(() => undefined);
  process.exit(1);
});
