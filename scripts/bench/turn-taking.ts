/**
 * bench:turn-taking — how the runtime takes turns with realistic service latencies (issue "turn-taking
 * like a good receptionist"): Whisper answers 150 ms after each request, the brain's first token comes
 * 350 ms after the request and then one token every 25 ms, Kokoro's first audio 150 ms after the
 * request; STT_SILENCE_MS=600, PLAYBACK_MODE=stream, one PCMU 8 kHz call on one in-process runtime.
 *
 * Caller speech is espeak-ng (sox-trimmed), streamed in real time as 20 ms frames with silence between
 * lines, like Telnyx. The Whisper stand-in answers with the words the caller has said in the audio it
 * was sent: it counts the voiced 20 ms frames of the WAV and answers the script's segments that fit
 * (a mid-sentence pause thus yields the first half only, the whole line once both halves are in); audio
 * sent with a `prompt` (the rest of an utterance) gets the words after the prompt's.
 *
 * Rows (each with its bar):
 *   voice-to-voice p50/p95   complete sentence: last voiced frame sent → first agent media received
 *   cut-offs                 "I would like to book an appointment for … [900 ms] … tomorrow morning":
 *                            more than one brain request, or agent audio in the pause
 *   backchannel brain turns  "uh huh" 1.5 s into a long reply: brain requests it caused
 *   backchannel kept reply   agent audio not cleared, or media again within 1 s of the clear
 *   interruption clear       "wait, stop, I have a question" 1.5 s into a long reply: first speech frame
 *                            sent → `clear` received
 *   STT audio ÷ speech       seconds of audio sent to Whisper ÷ seconds of caller speech
 *   brain requests per turn  brain requests ÷ caller turns meant to be answered
 *
 * Usage: npm run bench:turn-taking -- [--turns 6] [--hesitations 3] [--backchannels 3] [--interruptions 3]
 *        [--json FILE] [--verbose]
 * Bounded: hard deadline 240 s; exits by itself. Needs espeak-ng and sox.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startRedisServer, type RedisServerHandle } from '../../tests/support/redis-server';
import type { FakeMediaClient } from '../../tests/fakes/fake-media-client';
import { fmt, parseArgs, percentile } from '../lib/stats';
import { saidAfter, voicedMs } from '../sim/said-so-far';

const FRAME_MS = 20;
const DEADLINE_MS = 240_000;
const WHISPER_MS = 150;
const BRAIN_FIRST_MS = 350;
const BRAIN_TOKEN_MS = 25;
const KOKORO_MS = 150;
const SILENCE_MS = 600;

const args = parseArgs(process.argv.slice(2));
const TURNS = Number(args.turns ?? 6);
const HESITATIONS = Number(args.hesitations ?? 3);
const BACKCHANNELS = Number(args.backchannels ?? 3);
const INTERRUPTIONS = Number(args.interruptions ?? 3);
const VERBOSE = args.verbose === 'true';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------- caller audio

interface Line {
  text: string;
  pcm: Int16Array;
  speechMs: number;
}

/** espeak-ng → 8 kHz mono PCM16, leading/trailing silence trimmed. */
function synth(dir: string, text: string): Line {
  const wav = path.join(dir, 'a.wav');
  const raw = path.join(dir, 'a.s16');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '165', '-w', wav, text]);
  execFileSync('sox', ['-D', wav, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw, 'silence', '1', '0.02', '0.5%', 'reverse', 'silence', '1', '0.02', '0.5%', 'reverse', 'gain', '-n', '-6']);
  const buf = readFileSync(raw);
  const pcm = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { text, pcm, speechMs: voicedMs(pcm, 8000) };
}

// ------------------------------------------------------------------------------------- main

interface Rows {
  v2v: number[];
  cutoffs: number;
  hesitations: number;
  bcBrainTurns: number;
  bcCleared: number;
  bcResumed: number;
  backchannels: number;
  clears: number[];
  sttAudioMs: number;
  callerSpeechMs: number;
  brainRequests: number;
  turns: number;
}

async function main(): Promise<void> {
  const redis: RedisServerHandle = await startRedisServer();
  const hardStop = setTimeout(() => {
    console.error(`bench:turn-taking: hard deadline ${DEADLINE_MS / 1000}s reached; aborting`);
    void redis.destroy().finally(() => process.exit(2));
  }, DEADLINE_MS);
  hardStop.unref();
  process.env.TEST_REDIS_URL = redis.url;
  const { createHarness, newCallControlId, tenantDoc } = await import('../../tests/support/call-harness');
  const { connectStream } = await import('../../tests/support/media-harness');
  const { startFakeWhisper } = await import('../../tests/fakes/fake-whisper');
  const { startFakeBrain } = await import('../../tests/fakes/fake-brain');
  const { startFakeKokoro } = await import('../../tests/fakes/fake-kokoro');
  const { createEncoder } = await import('../../src/media/audio/codecs');

  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-turn-taking-'));
  let lines: Record<string, Line>;
  try {
    lines = {
      complete: synth(dir, 'Could I book a table for two tonight?'),
      hes1: synth(dir, 'I would like to book an appointment for'),
      hes2: synth(dir, 'tomorrow morning.'),
      uhhuh: synth(dir, 'uh huh'),
      stop: synth(dir, 'Wait, stop, I have a question.'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // What the caller is saying now, as segments; the Whisper stand-in answers the ones the audio covers.
  let script: Line[] = [];
  /** Index in `script` of the segment the caller is saying (or said last). */
  let saying = 0;
  let sttAudioMs = 0;
  const whisper = await startFakeWhisper({
    latencyMs: WHISPER_MS,
    respond: (wav, req) => {
      sttAudioMs += (wav.samples.length * 1000) / wav.sampleRate;
      const text = saidAfter(script, saying, wav.samples, wav.sampleRate, req.prompt);
      if (process.env.TT_DEBUG) console.log(`    stt ${Math.round((wav.samples.length * 1000) / wav.sampleRate)} ms${req.prompt ? ` after "${req.prompt}"` : ''} → ${text}`);
      return text;
    },
  });
  let replyKind: 'short' | 'long' = 'short';
  const brainAt: { at: number; transcript: string }[] = [];
  const words = (s: string) => s.split(/(?<= )/);
  const brain = await startFakeBrain({
    mode: 'sse',
    latencyMs: BRAIN_FIRST_MS,
    script: (body) => {
      brainAt.push({ at: performance.now(), transcript: String(body.transcript ?? body.text ?? '') });
      const text =
        replyKind === 'long'
          ? 'Okay, here is what we have. We are open every day from nine in the morning until late at night. Tables for two are usually free before seven and after nine. On weekends we recommend booking a day ahead. Would you like me to check a time?'
          : 'Sure, I can help with that. Anything else?';
      return { tokens: words(text), tokenDelayMs: BRAIN_TOKEN_MS };
    },
  });
  const kokoro = await startFakeKokoro({ sampleRate: 8000, latencyMs: KOKORO_MS });
  const h = await createHarness();
  const rt = await h.start({
    PLAYBACK_MODE: 'stream',
    WHISPER_URL: whisper.transcriptionsUrl,
    BRAIN_URL: brain.url,
    KOKORO_URL: kokoro.speechUrl,
    TTS_SAMPLE_RATE: '8000',
    STT_SILENCE_MS: String(SILENCE_MS),
    DEAD_AIR_MS: '600000',
  });

  const enc = createEncoder('PCMU', { sampleRate: 8000 });
  const frames = (pcm: Int16Array) => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < pcm.length; i += 160) {
      const f = new Int16Array(160);
      f.set(pcm.subarray(i, Math.min(pcm.length, i + 160)));
      out.push(Uint8Array.from(enc.encode(f)));
    }
    return out;
  };
  const silence = Uint8Array.from(enc.encode(new Int16Array(160)));
  const coded = Object.fromEntries(Object.entries(lines).map(([k, l]) => [k, frames(l.pcm)])) as Record<string, Uint8Array[]>;

  const did = '+15553009999';
  await h.seedTenant('bench-tt', did, tenantDoc('bench-tt', did, { greeting: 'Hello, this is the bench line.' }));
  const callId = newCallControlId();
  await h.send(rt, 'call.initiated', callId, { to: did });
  const answer = await h.telnyx.waitFor((x) => x.callControlId === callId && x.action === 'answer', 10_000);
  await h.send(rt, 'call.answered', callId, { to: did });
  const client: FakeMediaClient = await connectStream(rt, String(answer.body.stream_url), callId, { encoding: 'PCMU', sampleRate: 8000, playback: true });

  // The caller's line: one frame every 20 ms (drift-corrected), silence unless frames are queued.
  const queue: { frame: Uint8Array; onSent?: (at: number) => void }[] = [];
  const t0 = performance.now();
  let n = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const item = queue.shift();
    client.sendMedia(item?.frame ?? silence, FRAME_MS);
    item?.onSent?.(performance.now());
    n += 1;
    timer = setTimeout(tick, Math.max(0, t0 + n * FRAME_MS - performance.now()));
  };
  tick();
  let callerSpeechMs = 0;
  /** Queues a line; resolves with the send times of its first and last frame. */
  const say = (key: string, segment = 0): Promise<{ first: number; last: number }> =>
    new Promise((resolve) => {
      const f = coded[key]!;
      callerSpeechMs += (lines[key]!.pcm.length * 1000) / 8000; // the line as said, pauses between words included
      let first = 0;
      f.forEach((frame, i) => {
        queue.push({
          frame,
          onSent: i === 0 ? (at) => ((first = at), (saying = segment)) : i === f.length - 1 ? (at) => resolve({ first, last: at }) : undefined,
        });
      });
    });
  const pause = (ms: number) => {
    for (let i = 0; i < ms / FRAME_MS; i += 1) queue.push({ frame: silence });
  };
  const firstAfter = async (event: string, after: number, timeoutMs: number): Promise<number | undefined> => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = client.received.find((x) => x.event === event && x.at > after);
      if (m) return m.at;
      if (performance.now() > deadline) return undefined;
      await sleep(5);
    }
  };
  const waitQuiet = async (quietMs: number, timeoutMs = 30_000) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const last = [...client.received].reverse().find((x) => x.event === 'media');
      if (!last || performance.now() - last.at >= quietMs) return;
      if (performance.now() > deadline) throw new Error('agent audio never went quiet');
      await sleep(20);
    }
  };

  const r: Rows = { v2v: [], cutoffs: 0, hesitations: 0, bcBrainTurns: 0, bcCleared: 0, bcResumed: 0, backchannels: 0, clears: [], sttAudioMs: 0, callerSpeechMs: 0, brainRequests: 0, turns: 0 };
  const failures: string[] = [];
  const log = (s: string) => VERBOSE && console.log(`  ${s}`);

  try {
    if ((await firstAfter('media', 0, 10_000)) === undefined) throw new Error('no greeting audio');
    await waitQuiet(400);
    const brain0 = brainAt.length;
    sttAudioMs = 0;

    /** A complete sentence answered with `kind`; returns when its reply's first audio arrived. */
    const ask = async (kind: 'short' | 'long'): Promise<number | undefined> => {
      replyKind = kind;
      saying = 0;
      script = [lines.complete!];
      r.turns += 1;
      const { last } = await say('complete');
      const at = await firstAfter('media', last, 8000);
      if (at === undefined) failures.push('no reply to a complete sentence within 8 s');
      else r.v2v.push(at - last);
      return at;
    };

    for (let i = 0; i < TURNS; i += 1) {
      const at = await ask('short');
      log(`complete sentence: voice-to-voice ${at === undefined ? 'none' : fmt(r.v2v[r.v2v.length - 1]!)}`);
      await waitQuiet(400);
      await sleep(200);
    }

    for (let i = 0; i < HESITATIONS; i += 1) {
      replyKind = 'short';
      saying = 0;
      script = [lines.hes1!, lines.hes2!];
      r.turns += 1;
      r.hesitations += 1;
      const before = brainAt.length;
      const first = await say('hes1');
      pause(900);
      const second = await say('hes2', 1);
      const inPause = client.received.some((x) => x.event === 'media' && x.at > first.last && x.at < second.first);
      await firstAfter('media', second.last, 8000);
      await waitQuiet(600);
      const requests = brainAt.length - before;
      const heard = brainAt.slice(before).map((b) => b.transcript);
      const cut = inPause || requests !== 1 || !/tomorrow/i.test(heard[0] ?? '');
      if (cut) r.cutoffs += 1;
      log(`hesitation: brain heard ${JSON.stringify(heard)}, agent audio in the pause: ${inPause}`);
      await sleep(200);
    }

    for (let i = 0; i < BACKCHANNELS; i += 1) {
      const at = await ask('long');
      if (at === undefined) continue;
      await sleep(1500 - (performance.now() - at));
      saying = 0;
      script = [lines.uhhuh!];
      r.backchannels += 1;
      const before = brainAt.length;
      const bc = await say('uhhuh');
      const clearAt = await firstAfter('clear', bc.first - 40, 1500);
      let resumed = false;
      if (clearAt !== undefined) {
        r.bcCleared += 1;
        resumed = (await firstAfter('media', clearAt, 1000)) !== undefined;
        if (resumed) r.bcResumed += 1;
      }
      await sleep(1500);
      const caused = brainAt.length - before;
      r.bcBrainTurns += caused;
      log(`backchannel: cleared ${clearAt !== undefined}, resumed ${resumed}, brain requests ${caused}`);
      await waitQuiet(600);
      await sleep(200);
    }

    for (let i = 0; i < INTERRUPTIONS; i += 1) {
      const at = await ask('long');
      if (at === undefined) continue;
      await sleep(1500 - (performance.now() - at));
      replyKind = 'short';
      saying = 0;
      script = [lines.stop!];
      r.turns += 1;
      const st = await say('stop');
      const clearAt = await firstAfter('clear', st.first - 40, 3000);
      if (clearAt === undefined) failures.push('no clear within 3 s of an interruption');
      else r.clears.push(clearAt - st.first);
      log(`interruption: clear ${clearAt === undefined ? 'none' : fmt(clearAt - st.first)}`);
      await firstAfter('media', st.last, 8000);
      await waitQuiet(600);
      await sleep(200);
    }
    r.brainRequests = brainAt.length - brain0;
    r.sttAudioMs = sttAudioMs;
    r.callerSpeechMs = callerSpeechMs;
  } finally {
    stopped = true;
    if (timer) clearTimeout(timer);
    enc.close();
    client.stop();
    await client.close();
    await h.send(rt, 'call.hangup', callId, { to: did, hangup_cause: 'normal_clearing' }).catch(() => undefined);
    await h.close();
    await Promise.all([whisper.close(), brain.close(), kokoro.close()]);
    await redis.destroy();
  }

  const v2v = [...r.v2v].sort((a, b) => a - b);
  const clears = [...r.clears].sort((a, b) => a - b);
  const sttRatio = r.sttAudioMs / Math.max(1, r.callerSpeechMs);
  const perTurn = r.brainRequests / Math.max(1, r.turns);
  const bcKept = r.backchannels - r.bcCleared + r.bcResumed;
  const rows: [string, string, string, boolean][] = [
    ['voice-to-voice p50 (complete sentence)', fmt(percentile(v2v, 50)), '≤ 700 ms', v2v.length > 0 && percentile(v2v, 50) <= 700],
    ['voice-to-voice p95 (complete sentence)', fmt(percentile(v2v, 95)), '≤ 900 ms', v2v.length > 0 && percentile(v2v, 95) <= 900],
    ['cut-offs on a 900 ms mid-sentence pause', `${r.cutoffs} of ${r.hesitations}`, '0', r.cutoffs === 0],
    ['brain turns caused by backchannels', `${r.bcBrainTurns} (${r.backchannels} backchannels)`, '0', r.bcBrainTurns === 0],
    ['backchannel: reply not cleared or resumed ≤ 1 s', `${bcKept} of ${r.backchannels} (${r.bcCleared} cleared)`, 'all', bcKept === r.backchannels],
    ['interruption: clear after onset p95', clears.length ? fmt(percentile(clears, 95)) : 'none', '≤ 400 ms', clears.length === INTERRUPTIONS && percentile(clears, 95) <= 400],
    ['STT audio sent ÷ caller speech', `${sttRatio.toFixed(2)}×`, '≤ 1.5×', sttRatio <= 1.5],
    ['brain requests per turn', `${perTurn.toFixed(2)} (${r.brainRequests}/${r.turns})`, '≤ 1.3', perTurn <= 1.3],
  ];
  console.log(
    `bench:turn-taking: ${new Date().toISOString()} ${os.cpus().length}× ${os.cpus()[0]?.model ?? '?'}; Whisper ${WHISPER_MS} ms, brain ${BRAIN_FIRST_MS} ms + ${BRAIN_TOKEN_MS} ms/token, Kokoro ${KOKORO_MS} ms, STT_SILENCE_MS=${SILENCE_MS}`,
  );
  console.log('| row | measured | bar | result |\n|---|---|---|---|');
  for (const [name, value, bar, pass] of rows) console.log(`| ${name} | ${value} | ${bar} | ${pass ? 'PASS' : 'FAIL'} |`);
  for (const f of failures) console.log(`failure: ${f}`);
  const summary = {
    v2vP50: v2v.length ? percentile(v2v, 50) : null,
    v2vP95: v2v.length ? percentile(v2v, 95) : null,
    v2vN: v2v.length,
    cutoffs: r.cutoffs,
    hesitations: r.hesitations,
    bcBrainTurns: r.bcBrainTurns,
    backchannels: r.backchannels,
    bcNotKept: r.backchannels - bcKept,
    clearP95: clears.length === INTERRUPTIONS ? percentile(clears, 95) : null,
    sttRatio,
    brainPerTurn: perTurn,
  };
  if (args.json) writeFileSync(args.json, JSON.stringify({ summary, rows: rows.map(([name, value, bar, pass]) => ({ name, value, bar, pass })), failures, raw: r }, null, 2));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
