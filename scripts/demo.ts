/**
 * npm run demo — a whole phone call through the real runtime, on this machine, in ~30 s.
 *
 * Starts a private redis-server (temp dir, free port), the Telnyx simulator (Call Control API +
 * Ed25519-signed webhooks + media streams), local stand-ins for Whisper, the brain and Kokoro, and
 * the runtime itself as a child process (`node --import tsx src/main.ts`, env passed explicitly,
 * .env ignored); seeds a demo tenant; places a call whose caller speaks bundled audio; prints the
 * conversation as it happens with each turn's latency (from the runtime's `turn` log lines); hangs
 * up; checks that the runtime released the call (Redis capacity + /metrics); writes both sides of
 * the call to a stereo WAV; stops everything it started. Exit 0 when the call went as scripted,
 * 1 with the reason otherwise.
 *
 * Usage: npm run demo -- [--playback stream|url] [--codec PCMU|PCMA|G722|OPUS|L16] [--calls N]
 *                        [--out demo-call.wav] [--ci] [--timeout 180]
 * Real services instead of the stand-ins: WHISPER_URL, KOKORO_URL, BRAIN_URL in the environment.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Capacity } from '../src/lib/capacity';
import { closeRedis, createRedis } from '../src/lib/redis';
import { matchQuickReply } from '../src/lib/brain/quick-replies';
import { PHRASES } from '../src/media/conversation/phrases';
import { freePort, startRedisServer, type RedisServerHandle } from './sim/redis-server';
import { CALLER_LINES, DEMO_CALLER, DEMO_DID, DEMO_GREETING, DEMO_QUICK_REPLIES, DEMO_TENANT_ID, demoTenantConfig } from './sim/script';
import { SIM_CODECS, TelnyxSimulator, type CallerStep, type SimCall, type SimCodec } from './sim/simulator';
import { espeakAvailable, espeakSynthesize, loadBundledSpeech, SPEECH_RATE } from './sim/speech';
import { startStandIns, type StandIns } from './sim/stand-ins';
import { metricValue, scrape } from './lib/metrics';
import { spawnRuntime, type LogLine, type RuntimeProcess } from './lib/runtime-process';
import { startTap, type Tap, type TapRecord } from './lib/tap-proxy';

const USAGE = `npm run demo -- [options]
  --playback stream|url   how the agent's audio reaches the caller (default stream)
  --codec PCMU|PCMA|G722|OPUS|L16   media stream codec (default PCMU)
  --calls N               concurrent calls (default 1; the WAV holds call 1)
  --out FILE              where to write the call's audio (default ./demo-call.wav)
  --ci                    shorter call, quieter output
  --timeout SEC           give up after this long (default 180)
Real services instead of the local stand-ins: set WHISPER_URL, KOKORO_URL and/or BRAIN_URL.`;

class DemoError extends Error {}

interface Options {
  playback: 'stream' | 'url';
  codec: SimCodec;
  calls: number;
  out: string;
  ci: boolean;
  timeoutSec: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      playback: { type: 'string', default: 'stream' },
      codec: { type: 'string', default: 'PCMU' },
      calls: { type: 'string', default: '1' },
      out: { type: 'string' },
      ci: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '180' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const playback = values.playback;
  if (playback !== 'stream' && playback !== 'url') throw new DemoError(`--playback must be stream or url, got ${playback}`);
  const codec = String(values.codec).toUpperCase() as SimCodec;
  if (!SIM_CODECS.includes(codec)) throw new DemoError(`--codec must be one of ${SIM_CODECS.join(', ')}, got ${values.codec}`);
  const calls = Number(values.calls);
  if (!Number.isInteger(calls) || calls < 1 || calls > 50) throw new DemoError(`--calls must be 1..50, got ${values.calls}`);
  const timeoutSec = Number(values.timeout);
  if (!(timeoutSec >= 10)) throw new DemoError(`--timeout must be >= 10 seconds, got ${values.timeout}`);
  return { playback, codec, calls, out: path.resolve(values.out ?? 'demo-call.wav'), ci: values.ci, timeoutSec };
}

/** What the runtime's brain saw and answered, whichever answered (stand-in or a real service behind a tap). */
interface BrainTurn {
  callControlId: string;
  transcript: string;
  reply: string;
  /** A real brain's answer still streaming through the tap (reply filled in when it ends). */
  pending?: TapRecord;
}

/** The request of a brain call seen by the tap (callControlId, transcript). */
function parseBrainRequest(request: string | undefined): { callControlId: string; transcript: string } | undefined {
  try {
    const req = JSON.parse(request ?? '{}') as { callControlId?: string; transcript?: string };
    return req.callControlId ? { callControlId: req.callControlId, transcript: req.transcript ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** The reply text of a brain answer: JSON `{text}` or SSE tokens / done.text. */
function parseBrainReply(response: string | undefined): string {
  const body = response ?? '';
  try {
    if (/^\s*\{/.test(body)) return String((JSON.parse(body) as { text?: string }).text ?? '');
    let reply = '';
    let done = '';
    for (const block of body.split(/\r?\n\r?\n/)) {
      const event = /^event:\s*(.*)$/m.exec(block)?.[1]?.trim() ?? 'message';
      const data = [...block.matchAll(/^data:\s?(.*)$/gm)].map((m) => m[1]).join('\n');
      if (!data) continue;
      const d = JSON.parse(data) as { t?: string; text?: string };
      if (event === 'token' && d.t) reply += d.t;
      if (event === 'done' && d.text) done = d.text;
    }
    return done || reply;
  } catch {
    return '';
  }
}

function parseSttTap(response: string | undefined): string | undefined {
  if (!response) return undefined;
  try {
    const j = JSON.parse(response) as { text?: string; transcription?: string; segments?: { text?: string }[] };
    return (j.text ?? j.transcription ?? j.segments?.map((s) => s.text ?? '').join(' ') ?? '').trim() || undefined;
  } catch {
    return response.trim() || undefined;
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const stamp = () => `[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
  const out = (line: string) => console.log(line);
  const detail = (line: string) => {
    if (!opts.ci) console.log(line);
  };

  // --- everything we start, stopped in reverse order; PIDs killed on any exit ------------------
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  let runtime: RuntimeProcess | undefined;
  let redisServer: RedisServerHandle | undefined;
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
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      for (const c of closers.reverse()) {
        await Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 15_000))]);
      }
    })());
  const onSignal = () => {
    console.error('\ninterrupted: stopping everything the demo started');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const deadline = setTimeout(() => {
    console.error(`\nDEMO FAILED: not finished within ${opts.timeoutSec} s`);
    if (runtime) for (const l of runtime.tail(20)) console.error(`  runtime: ${l.slice(0, 300)}`);
    void cleanup().finally(() => process.exit(1));
  }, opts.timeoutSec * 1000);
  deadline.unref();

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'veralux-demo-'));
  closers.push({ name: 'temp dir', close: async () => rmSync(tmp, { recursive: true, force: true }) });
  const logFile = path.join(os.tmpdir(), `veralux-demo-runtime-${process.pid}.log`);

  try {
    out(`Veralux voice runtime demo — ${opts.calls} call${opts.calls > 1 ? 's' : ''}, codec ${opts.codec}, ${opts.playback} playback. Everything runs on this machine.`);

    // 1. Redis
    try {
      redisServer = await startRedisServer();
    } catch (err) {
      throw new DemoError(`could not start a private redis-server: ${(err as Error).message}\n  install it: sudo apt-get install -y redis-server`);
    }
    const rs = redisServer;
    closers.push({ name: 'redis', close: () => rs.destroy() });

    // 2. Speech services: stand-ins, or the real ones behind a recording tap.
    const real = { whisper: process.env.WHISPER_URL || undefined, kokoro: process.env.KOKORO_URL || undefined, brain: process.env.BRAIN_URL || undefined };
    const stand: StandIns = await startStandIns({ tts: 'auto', wpm: opts.ci ? 210 : 175, toneMsPerChar: opts.ci ? 30 : 60, brainTokenDelayMs: 15 });
    closers.push({ name: 'stand-ins', close: () => stand.close() });
    const taps: Partial<Record<'whisper' | 'kokoro' | 'brain', Tap>> = {};
    for (const k of ['whisper', 'kokoro', 'brain'] as const) {
      const u = real[k];
      if (!u) continue;
      try {
        new URL(u);
      } catch {
        throw new DemoError(`${k.toUpperCase()}_URL is not a URL: ${u}`);
      }
      const tap = await startTap(u);
      taps[k] = tap;
      closers.push({ name: `${k} tap`, close: () => tap.close() });
    }
    const whisperUrl = taps.whisper?.url ?? stand.whisper.transcriptionsUrl;
    const kokoroUrl = taps.kokoro?.url ?? stand.kokoro.speechUrl;
    const brainUrl = taps.brain?.url ?? stand.brain.url;

    // 3. Telnyx simulator, 4. the runtime.
    const port = await freePort();
    const sim = await TelnyxSimulator.start({
      webhookUrl: `http://127.0.0.1:${port}/v1/telnyx/webhook`,
      speakSynth: espeakAvailable() ? (text) => espeakSynthesize(text, { voice: 'en-us+f3' }) : undefined,
    });
    closers.push({ name: 'simulator', close: () => sim.close() });
    const STT_SILENCE_MS = 600;
    const env: Record<string, string> = {
      NODE_ENV: 'development',
      PORT: String(port),
      LOG_LEVEL: 'info',
      TELNYX_API_KEY: sim.apiKey,
      TELNYX_PUBLIC_KEY: sim.publicKeyB64,
      TELNYX_API_BASE_URL: sim.apiBaseUrl,
      TELNYX_STREAM_CODEC: opts.codec,
      MEDIA_STREAM_TOKEN: randomBytes(16).toString('hex'),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      AUDIO_PUBLIC_BASE_URL: `http://127.0.0.1:${port}/audio`,
      AUDIO_STORAGE_DIR: path.join(tmp, 'audio'),
      PLAYBACK_MODE: opts.playback,
      WHISPER_URL: whisperUrl,
      KOKORO_URL: kokoroUrl,
      BRAIN_URL: brainUrl,
      STT_CHUNK_MS: '1000',
      STT_SILENCE_MS: String(STT_SILENCE_MS),
      DEAD_AIR_MS: '15000',
      REDIS_URL: rs.url,
      GLOBAL_CONCURRENCY_CAP: '100',
      TENANT_CONCURRENCY_CAP_DEFAULT: String(Math.max(20, opts.calls)),
      TENANT_CALLS_PER_MIN_CAP_DEFAULT: '120',
      CAPACITY_TTL_SECONDS: '60',
    };

    const turnLogs: LogLine[] = [];
    const onTurn: ((l: LogLine) => void)[] = [];
    runtime = spawnRuntime({
      env,
      logFile,
      onLog: (l) => {
        if (l.msg === 'turn') {
          turnLogs.push(l);
          for (const f of onTurn) f(l);
        } else if ((l.level ?? 0) >= 40 && !opts.ci) {
          out(`${stamp()} runtime ${(l.level ?? 0) >= 50 ? 'error' : 'warning'}: ${String(l.msg)}${l.err ? ` (${String(l.err)})` : ''}`);
        }
      },
      onText: (t) => detail(`        runtime: ${t}`),
    });
    const rt = runtime;
    closers.push({ name: 'runtime', close: () => rt.stop() });
    await rt.waitReady(60_000);

    const sttNote = taps.whisper ? `real Whisper at ${real.whisper}` : 'STAND-IN (no model: recognizes only the bundled caller audio and returns its scripted line)';
    const brainNote = taps.brain ? `real brain at ${real.brain}` : 'STAND-IN (scripted SSE replies, scripts/sim/script.ts)';
    const ttsNote = taps.kokoro ? `real Kokoro at ${real.kokoro}` : stand.tts === 'espeak-ng' ? 'STAND-IN (espeak-ng, Kokoro API)' : 'STAND-IN (a 440 Hz tone; apt-get install espeak-ng for speech)';
    out(`  redis     private redis-server on ${rs.url} (pid ${rs.pid})`);
    out(`  runtime   ${rt.url} — child process: node --import tsx src/main.ts (pid ${rt.pid}); log: ${logFile}`);
    out(`  Telnyx    simulator: Call Control API ${sim.apiBaseUrl}, Ed25519-signed webhooks, media streams`);
    out(`  STT       ${sttNote}`);
    out(`  brain     ${brainNote}`);
    out(`  TTS       ${ttsNote}`);

    // 5. The demo tenant.
    const redis = createRedis(rs.url, 'request');
    closers.push({ name: 'redis client', close: () => closeRedis(redis) });
    await redis.set(`tenantmap:did:${DEMO_DID}`, DEMO_TENANT_ID);
    await redis.set(`tenantcfg:${DEMO_TENANT_ID}`, JSON.stringify(demoTenantConfig({ maxConcurrent: Math.max(20, opts.calls) })));
    out(`  tenant    "${DEMO_TENANT_ID}" on ${DEMO_DID}: greeting + quick reply for opening hours (tenantmap:did:${DEMO_DID}, tenantcfg:${DEMO_TENANT_ID})`);
    out('');

    // 6. Calls.
    const speech = loadBundledSpeech();
    const lines = opts.ci ? [0, 1] : [0, 1, 2];
    const quiet = opts.ci ? 500 : 900;
    const script = (): CallerStep[] => [
      { waitForAgent: { quietMs: quiet, timeoutMs: 15_000 } },
      ...lines.flatMap((i): CallerStep[] => [
        { say: speech.utterances[i]!.pcm, sampleRate: SPEECH_RATE, index: i, text: CALLER_LINES[i] },
        { waitForAgent: { quietMs: quiet, timeoutMs: 15_000 } },
      ]),
    ];

    const callNo = new Map<string, number>();
    /** "call N " when there are several (numbered as they first show up), else nothing. */
    const label = (call: SimCall) => {
      if (opts.calls === 1) return '';
      let n = callNo.get(call.id);
      if (n === undefined) callNo.set(call.id, (n = callNo.size + 1));
      return `call ${n} `;
    };
    const brainSeen = new Map<string, number>();
    const problems: string[] = [];
    const sttTexts = (): { at: number; text: string }[] =>
      taps.whisper
        ? taps.whisper.records.filter((r) => r.done).map((r) => ({ at: r.at, text: parseSttTap(r.response) ?? '' })).filter((r) => r.text)
        : stand.sttAnswers.filter((a) => a.text && !a.match?.partial).map((a) => ({ at: a.at, text: a.text }));
    const brainTurns = (callId: string): BrainTurn[] => {
      if (!taps.brain) return stand.brainReplies.filter((b) => b.callControlId === callId);
      return taps.brain.records.flatMap((r): BrainTurn[] => {
        const req = parseBrainRequest(r.request);
        if (!req || req.callControlId !== callId) return [];
        if (!r.done) return [{ ...req, reply: '', pending: r }];
        return r.status >= 200 && r.status < 300 ? [{ ...req, reply: parseBrainReply(r.response) }] : [];
      });
    };
    /** Agent lines whose text (a real brain's streamed reply) is not complete yet: printed when it is. */
    const waiting: { rec: TapRecord; print: (text: string) => void }[] = [];
    taps.brain?.onRecord((rec) => {
      for (const w of waiting.filter((x) => x.rec === rec)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.print(parseBrainReply(rec.response) || '(no reply text)');
      }
    });
    /** Per call: what the agent said in answer to each caller utterance (and the greeting), printed once. */
    interface Said {
      text: string;
      how: string;
      transcript?: string;
      pending?: TapRecord;
    }
    const sayAgent = (call: SimCall, said: Said, note = '') => {
      const print = (text: string) => out(`${stamp()} ${label(call)}agent   "${text}"  (${said.how}${note})`);
      if (said.pending && !said.pending.done) {
        waiting.push({
          rec: said.pending,
          print: (text) => {
            said.text = text;
            print(text);
          },
        });
      } else {
        if (said.pending) said.text = parseBrainReply(said.pending.response);
        print(said.text);
      }
    };
    const heardBy = new Map<string, Said[]>();
    const greeted = new Set<string>();
    const saidFor = new Map<string, Map<number, Said>>();
    const logged = new Map<string, number>();
    let legendShown = false;

    /** What the agent is saying in answer to utterance `k` of `call` (decided when its audio starts). */
    const answerFor = (call: SimCall, k: number): Said => {
      const byUtt = saidFor.get(call.id) ?? new Map<number, Said>();
      saidFor.set(call.id, byUtt);
      let said = byUtt.get(k);
      if (said) return said;
      const seen = brainSeen.get(call.id) ?? 0;
      const b = brainTurns(call.id)[seen];
      if (b) {
        brainSeen.set(call.id, seen + 1);
        said = { text: b.reply, how: taps.brain ? 'brain' : 'brain stand-in', transcript: b.transcript, pending: b.pending };
      } else {
        const transcript = sttTexts().at(-1)?.text;
        const quick = transcript ? matchQuickReply(transcript, DEMO_QUICK_REPLIES) : undefined;
        said = quick ? { text: quick, how: 'tenant quick reply, no brain', transcript } : { text: PHRASES.apology, how: 'apology', transcript };
      }
      byUtt.set(k, said);
      return said;
    };

    sim.onEvent((e) => {
      if (e.type !== 'agent_audio') return;
      const call = e.call;
      const k = call.utterances.filter((u) => u.endAt !== undefined && u.endAt <= e.at).length - 1;
      if (k < 0) {
        if (greeted.has(call.id)) return;
        greeted.add(call.id);
        out(`${stamp()} ${label(call)}agent   "${DEMO_GREETING}"  (tenant greeting)`);
        return;
      }
      if (saidFor.get(call.id)?.has(k)) return; // the next segment of the same reply after a gap
      sayAgent(call, answerFor(call, k));
    });

    onTurn.push((l) => {
      const callId = String(l.callControlId ?? '');
      const call = sim.calls.get(callId);
      if (!call) return;
      const source = String(l.source);
      const interrupted = l.outcome === 'interrupted' ? ' — interrupted by the caller' : '';
      if (source === 'greeting') {
        if (!greeted.has(callId)) out(`${stamp()} ${label(call)}agent   "${DEMO_GREETING}"  (tenant greeting${interrupted})`);
        greeted.add(callId);
        return;
      }
      if (source === 'apology') {
        // An STT failure: the apology answers the utterance and was printed when it started playing.
        const k = logged.get(callId) ?? 0;
        if (saidFor.get(callId)?.get(k)?.how === 'apology') {
          logged.set(callId, k + 1);
          return;
        }
      }
      if (source !== 'speech' && source !== 'dtmf') {
        const text = source === 'dead_air' ? PHRASES.stillThere : source === 'dead_air_goodbye' ? PHRASES.deadAirGoodbye : source === 'apology' ? PHRASES.apology : `(${source})`;
        out(`${stamp()} ${label(call)}agent   "${text}"  (${source}${interrupted})`);
        return;
      }
      const k = logged.get(callId) ?? 0;
      logged.set(callId, k + 1);
      const fresh = !saidFor.get(callId)?.has(k);
      const said = answerFor(call, k);
      if (fresh) sayAgent(call, said, interrupted);
      else if (said.pending?.done && !said.text) said.text = parseBrainReply(said.pending.response);
      const list = heardBy.get(callId) ?? [];
      list.push(said);
      heardBy.set(callId, list);
      const ms = (key: string) => (typeof l[key] === 'number' ? `${Math.round(l[key])} ms` : '–');
      const utt = call.utterances.filter((u) => u.endAt !== undefined)[k];
      const heardAt = utt ? call.agentSpurts.find((t) => t > utt.endAt!) : undefined;
      const callerView = heardAt !== undefined && utt ? `; caller heard it ${Math.round(heardAt - utt.endAt!)} ms after they stopped` : '';
      if (!legendShown) {
        legendShown = true;
        out(
          `${' '.repeat(8)}(two clocks: "first audio" runs from the end of speech the runtime measured to the agent audio it sent; ` +
            `"caller heard it" from the end of the caller's recorded line, trailing quiet included, to agent audio playing at the caller)`,
        );
      }
      out(
        `${' '.repeat(8)}${label(call)}turn ${String(l.turn)}: runtime heard "${said.transcript ?? '?'}"${interrupted}\n` +
          `${' '.repeat(8)}${label(call)}  from end of caller speech (incl. the end-of-turn wait + STT): ` +
          `brain first token ${ms('brainFirstTokenMs')}, first segment synthesized ${ms('firstSegmentMs')}, first audio ${ms('firstAudioMs')}${callerView}`,
      );
    });
    sim.onEvent((e) => {
      if (e.type === 'utterance' && e.phase === 'start') out(`${stamp()} ${label(e.call)}caller  "${e.text ?? ''}"`);
      else if (e.type === 'media_closed' && !e.expected) out(`${stamp()} ${label(e.call)}media stream closed by the runtime: ${e.code} ${e.reason}`);
      else if (e.type === 'media_failed') out(`${stamp()} ${label(e.call)}media stream failed: ${e.error}`);
      else if (e.type === 'wait_timeout') out(`${stamp()} ${label(e.call)}(the caller waited 15 s for the agent and moved on)`);
      else if (e.type === 'webhook' && (e.status < 200 || e.status >= 300)) out(`${stamp()} ${label(e.call)}webhook ${e.eventType} → ${e.status || e.error}`);
    });

    const calls = await Promise.all(
      Array.from({ length: opts.calls }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 300));
        const c = await sim.placeCall({ to: DEMO_DID, from: DEMO_CALLER, codec: opts.codec, record: i === 0, callerAudio: { script: script() } });
        out(
          `${stamp()} ${label(c)}call ${DEMO_CALLER} → ${DEMO_DID} answered: webhook → answer ${Math.round(c.setupMs ?? 0)} ms, ` +
            `media stream (${c.mediaCodec}) up ${Math.round(c.mediaConnectMs ?? 0)} ms later`,
        );
        if (!c.media) problems.push(`${label(c)}answered without a media stream (refused: check the runtime log)`);
        await c.ended;
        out(`${stamp()} ${label(c)}${c.endedBy === 'caller' ? 'caller hung up' : 'the runtime hung up'} after ${((c.endedAt! - (c.mediaOpenAt ?? c.createdAt)) / 1000).toFixed(1)} s`);
        return c;
      }),
    ).catch((err: unknown) => {
      throw new DemoError(`placing the call failed: ${(err as Error).message}`);
    });

    // 7. Did the runtime let go of every call?
    const capacity = new Capacity({ redis, prefix: 'cap' });
    let usage = await capacity.usage(DEMO_TENANT_ID);
    let active = -1;
    let sessions = -1;
    const until = Date.now() + 10_000;
    for (;;) {
      usage = await capacity.usage(DEMO_TENANT_ID);
      const m = await scrape(rt.url).catch(() => []);
      active = metricValue(m, 'active_calls');
      sessions = metricValue(m, 'media_sessions');
      if ((usage.tenant === 0 && usage.global === 0 && active === 0 && sessions === 0) || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const released = usage.tenant === 0 && usage.global === 0 && active === 0 && sessions === 0;
    out(
      `${stamp()} caps released: ${released ? 'yes' : 'NO'} — Redis leases tenant ${usage.tenant}, global ${usage.global}; ` +
        `/metrics active_calls ${active}, media_sessions ${sessions}`,
    );
    if (!released) problems.push('the runtime still holds capacity or sessions 10 s after the hangup');

    // 8. The recording.
    const first = calls[0]!;
    if (first.recorder) {
      const wav = first.recorder.toWav(16000);
      writeFileSync(opts.out, wav);
      out(`${stamp()} recording${opts.calls > 1 ? ` of ${label(first).trim()}` : ''}: ${opts.out} (stereo 16 kHz, left = caller, right = agent, ${(first.recorder.durationMs / 1000).toFixed(1)} s)`);
    }

    // 9. Verdict.
    for (const c of calls) {
      const turns = heardBy.get(c.id) ?? [];
      if (c.endedBy !== 'caller') problems.push(`${label(c)}the runtime hung up before the caller finished`);
      if (c.waitTimeouts > 0) problems.push(`${label(c)}the agent did not answer ${c.waitTimeouts} time(s) within 15 s`);
      if (c.unexpectedCloses.length) problems.push(`${label(c)}media stream closed by the runtime: ${c.unexpectedCloses.map((x) => `${x.code} ${x.reason}`).join(', ')}`);
      if (c.webhookFailures) problems.push(`${label(c)}${c.webhookFailures} webhook(s) refused`);
      if (turns.length < lines.length) problems.push(`${label(c)}${turns.length} of ${lines.length} caller utterances got a reply`);
      if (!taps.whisper) {
        lines.forEach((li, k) => {
          const t = turns[k];
          if (t && t.transcript && t.transcript !== CALLER_LINES[li]) problems.push(`${label(c)}utterance ${k + 1} transcribed as "${t.transcript}"`);
        });
      }
    }
    const m = await scrape(rt.url).catch(() => []);
    const turnCount = metricValue(m, 'conversation_turns_total');
    detail(`${stamp()} /metrics: conversation_turns_total ${turnCount}, turn_latency_seconds_count{stage="first_audio"} ${metricValue(m, 'turn_latency_seconds_count', { stage: 'first_audio' })}`);

    // 10. Stop everything (the runtime gets SIGTERM and shuts down gracefully).
    const code = await rt.stop();
    closers.splice(closers.findIndex((c) => c.name === 'runtime'), 1);
    out(`${stamp()} runtime stopped (SIGTERM → exit code ${code})`);
    if (code !== 0) problems.push(`the runtime exited with code ${code} on SIGTERM`);
    await cleanup();
    clearTimeout(deadline);
    if (problems.length) {
      console.error(`\nDEMO FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}\n  runtime log: ${logFile}`);
      process.exit(1);
    }
    rmSync(logFile, { force: true });
    out(`Demo OK: ${calls.length} call${calls.length > 1 ? 's' : ''}, ${calls.reduce((n, c) => n + (heardBy.get(c.id)?.length ?? 0), 0)} caller turns answered, everything stopped.`);
    process.exit(0);
  } catch (err) {
    const msg = err instanceof DemoError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    console.error(`\nDEMO FAILED: ${msg}`);
    if (runtime) {
      const tail = runtime.tail(15);
      if (tail.length) console.error(`  last runtime output (full log: ${logFile}):\n${tail.map((l) => `    ${l.slice(0, 300)}`).join('\n')}`);
    }
    await cleanup();
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error(`DEMO FAILED: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
