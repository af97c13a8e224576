/**
 * bench:media load generator (forked by scripts/bench/media.ts, its own process so it never steals
 * the runtime's event loop). Plays Telnyx for N concurrent calls:
 *   signed call.initiated webhook → `answer` (received by the fake Call Control API that lives
 *   here) → signed call.answered → WebSocket to the answer's stream_url → connected + start →
 *   real-time 20 ms PCMU media frames (espeak-ng speech fixture + pauses over a -60 dBFS line
 *   noise, each call at its own offset and phase) in the exact Telnyx wire format.
 * Pacing: every frame has an absolute due time (call start + k × 20 ms, no drift); a 2 ms ticker
 * sends whatever is due and records how late it was sent. `pause` stops all streams (so the
 * runtime's frame counter can settle and be compared exactly), `resume` re-bases the schedules.
 */
import http from 'node:http';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { createHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createEncoder } from '../../src/media/audio/codecs';
import { startFakeTelnyxApi, type FakeTelnyxApi } from '../../tests/fakes/fake-telnyx-api';
import { makeEvent, newCallControlId, signedWebhook } from '../../tests/support/telnyx-signing';
import { speechFixture } from '../../tests/support/speech-fixture';
import { mix, whiteNoise } from '../../tests/support/audio-signals';
import { summarize } from '../lib/stats';

type Msg =
  | { cmd: 'init'; runtimeUrl: string; privateKeyPem: string; did: string; extraSilenceMs: number; noiseDbfs: number; setupConcurrency: number; floor: boolean }
  | { cmd: 'ramp'; calls: number }
  | { cmd: 'mark' }
  | { cmd: 'pause' }
  | { cmd: 'resume' }
  | { cmd: 'stats' }
  | { cmd: 'stop' };

interface Call {
  id: string;
  ws: WebSocket;
  sid: string;
  seq: number;
  chunk: number;
  /** performance.now() when the next frame is due. */
  next: number;
  /** Offset into the audio loop. */
  idx: number;
  phase: number;
  open: boolean;
  /** performance.now() when the agent audio received so far has finished "playing". */
  playedUntil: number;
  /** Utterances of the loop whose first frame this call has sent (only those count as spoken). */
  begun: boolean[];
  /** Frames this call has sent, and that count when its latest utterance ended (-1: none yet). */
  sentCount: number;
  lastEnd: number;
}

const FRAME_MS = 20;
const send = (m: unknown) => process.send?.(m);

let telnyx: FakeTelnyxApi;
let runtimeUrl = '';
let wsBase = '';
let key: KeyObject;
let did = '';
let setupConcurrency = 32;
/** Transport-floor mode: no webhooks, connect straight to the bare WebSocket server. */
let floor = false;
let payloads: string[] = [];
/** Per loop frame index: the utterance that starts there (its first voiced frame), or -1. */
let utteranceStartAt: Int8Array = new Int8Array(0);
/** Per loop frame index: the utterance that ends there (its last voiced frame), or -1. */
let utteranceEndAt: Int8Array = new Int8Array(0);
/** Caller utterances spoken to their end, over all calls. */
let spoken = 0;
/** Utterance spans in loop frames [start, end). */
let spans: { start: number; end: number }[] = [];
/** Share of the loop that is speech (fixture utterance spans). */
let voicedShare = 0;
/**
 * After an utterance's end its final is due within this much silence (longer than STT_SILENCE_MS and
 * TURN_INCOMPLETE_SILENCE_MS, 1.5 s, + margin); calls paused sooner after an end are `pending`.
 */
const COUNT_AFTER_MS = 1700;
const calls: Call[] = [];
const answers = new Map<string, (streamUrl: string | undefined) => void>();
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

let sent = 0;
let closedUnexpectedly = 0;
let setupFailures = 0;
let running = false;
let ticker: NodeJS.Timeout | undefined;
let lateness = createHistogram();
let maxBuffered = 0;
let burst = 0;
/** Agent audio frames the runtime sent back (--conversation), and marks echoed like Telnyx does. */
let mediaIn = 0;
let marksEchoed = 0;
const eld = monitorEventLoopDelay({ resolution: 10 });
eld.enable();

function post(path: string, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${runtimeUrl}${path}`, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(15_000, () => req.destroy(new Error('webhook timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

async function webhook(type: string, callId: string): Promise<void> {
  const { rawBody, headers } = signedWebhook(makeEvent(type, { call_control_id: callId, to: did }), { privateKey: key });
  const status = await post('/v1/telnyx/webhook', rawBody, headers);
  if (status !== 200) throw new Error(`${type} webhook: HTTP ${status}`);
}

function buildAudio(extraSilenceMs: number, noiseDbfs: number): string[] {
  const fx = speechFixture();
  const frames = Math.floor((fx.pcm8k.length + (extraSilenceMs * 8000) / 1000) / 160);
  utteranceStartAt = new Int8Array(frames).fill(-1);
  utteranceEndAt = new Int8Array(frames).fill(-1);
  let voicedMs = 0;
  fx.utterances.forEach((u, k) => {
    utteranceStartAt[Math.floor(u.startMs / FRAME_MS) % frames] = k;
    utteranceEndAt[Math.floor(u.endMs / FRAME_MS) % frames] = k;
    voicedMs += u.endMs - u.startMs;
  });
  spans = fx.utterances.map((u) => ({ start: Math.floor(u.startMs / FRAME_MS), end: Math.ceil(u.endMs / FRAME_MS) }));
  voicedShare = voicedMs / (frames * FRAME_MS);
  const loop = new Int16Array(fx.pcm8k.length + (extraSilenceMs * 8000) / 1000);
  loop.set(fx.pcm8k);
  const withNoise = mix(loop, whiteNoise(8000, (loop.length * 1000) / 8000, noiseDbfs, 7));
  const enc = createEncoder('PCMU');
  const out: string[] = [];
  for (let i = 0; i + 160 <= withNoise.length; i += 160) out.push(Buffer.from(enc.encode(withNoise.subarray(i, i + 160))).toString('base64'));
  enc.close();
  return out;
}

function sendFrame(c: Call, lateMs: number): void {
  c.seq += 1;
  c.chunk += 1;
  const p = payloads[c.idx]!;
  const starts = utteranceStartAt[c.idx]!;
  if (starts >= 0) c.begun[starts] = true;
  c.sentCount += 1;
  const ends = utteranceEndAt[c.idx]!;
  if (ends >= 0 && c.begun[ends]) {
    c.begun[ends] = false;
    spoken += 1;
    c.lastEnd = c.sentCount;
  }
  c.idx = (c.idx + 1) % payloads.length;
  c.ws.send(
    `{"event":"media","sequence_number":"${c.seq}","stream_id":"${c.sid}","media":{"track":"inbound","chunk":"${c.chunk}","timestamp":"${c.chunk * FRAME_MS}","payload":"${p}"}}`,
  );
  sent += 1;
  lateness.record(Math.max(1, Math.round(lateMs * 1000)));
}

function tick(): void {
  if (!running) return;
  const now = performance.now();
  let n = 0;
  for (let i = 0; i < calls.length; i += 1) {
    const c = calls[i]!;
    if (!c.open) continue;
    while (c.next <= now) {
      sendFrame(c, now - c.next);
      c.next += FRAME_MS;
      n += 1;
    }
    const b = c.ws.bufferedAmount;
    if (b > maxBuffered) maxBuffered = b;
  }
  if (n > burst) burst = n;
  ticker = setTimeout(tick, 2);
}

function startTicker(): void {
  if (running) return;
  running = true;
  ticker = setTimeout(tick, 2);
}

/** A random loop offset outside speech: a call never begins mid-utterance, so every utterance it sends is whole. */
function startIndex(): number {
  const i = Math.floor(Math.random() * payloads.length);
  const inside = spans.find((s) => i > s.start && i < s.end);
  return inside ? inside.end % payloads.length : i;
}

async function setupCall(): Promise<void> {
  const id = newCallControlId();
  const answered = new Promise<string | undefined>((resolve, reject) => {
    answers.set(id, resolve);
    setTimeout(() => reject(new Error('no answer within 15 s')), 15_000).unref();
  });
  answered.catch(() => undefined);
  try {
    let streamUrl = `${wsBase}/v1/telnyx/media/${encodeURIComponent(id)}`;
    if (!floor) {
      await webhook('call.initiated', id);
      const answer = await answered;
      if (!answer) throw new Error('answered without stream_url (call refused?)');
      await webhook('call.answered', id);
      streamUrl = answer;
    }
    const u = new URL(streamUrl);
    const ws = new WebSocket(`${wsBase}${u.pathname}${u.search}`, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    const sid = `stream-${id.slice(-8)}`;
    const c: Call = { id, ws, sid, seq: 1, chunk: 0, next: 0, idx: startIndex(), phase: Math.random() * FRAME_MS, open: true, playedUntil: 0, begun: [], sentCount: 0, lastEnd: -1 };
    ws.on('error', () => undefined);
    // Agent audio (conversation mode): "play" it in real time and echo each mark once the audio
    // sent before it has played, as Telnyx does; `clear` drops what is queued.
    ws.on('message', (data) => {
      const text = data.toString();
      const now = performance.now();
      if (text.includes('"media"')) {
        mediaIn += 1;
        c.playedUntil = Math.max(c.playedUntil, now) + FRAME_MS;
      } else if (text.includes('"clear"')) {
        c.playedUntil = now;
      } else if (text.includes('"mark"')) {
        const name = (JSON.parse(text) as { mark?: { name?: string } }).mark?.name ?? '';
        setTimeout(() => {
          if (!c.open) return;
          marksEchoed += 1;
          ws.send(JSON.stringify({ event: 'mark', stream_id: sid, mark: { name } }));
        }, Math.max(0, c.playedUntil - now)).unref();
      }
    });
    ws.on('close', () => {
      if (c.open) closedUnexpectedly += 1;
      c.open = false;
    });
    ws.send(JSON.stringify({ event: 'connected', version: '1.0.0' }));
    ws.send(
      JSON.stringify({
        event: 'start',
        sequence_number: '1',
        stream_id: sid,
        start: { call_control_id: id, call_session_id: 'bench', from: '+15550001111', to: did, media_format: { encoding: 'PCMU', sample_rate: 8000, channels: 1 } },
      }),
    );
    c.next = performance.now() + c.phase;
    calls.push(c);
  } finally {
    answers.delete(id);
  }
}

async function ramp(target: number): Promise<void> {
  const t0 = performance.now();
  const setupMs: number[] = [];
  const errors = new Map<string, number>();
  const todo = target - calls.length;
  let issued = 0;
  const worker = async () => {
    while (issued < todo) {
      issued += 1;
      const s = performance.now();
      try {
        await setupCall();
        setupMs.push(performance.now() - s);
      } catch (err) {
        setupFailures += 1;
        const m = (err as Error).message;
        errors.set(m, (errors.get(m) ?? 0) + 1);
      }
    }
  };
  startTicker(); // calls stream as soon as they are connected, as with Telnyx
  await Promise.all(Array.from({ length: Math.min(setupConcurrency, Math.max(todo, 0)) }, worker));
  send({ type: 'ramped', calls: calls.filter((c) => c.open).length, setup: summarize(setupMs), rampMs: performance.now() - t0, errors: Object.fromEntries(errors) });
}

function stats(type: string) {
  const us = (v: number) => v / 1000;
  return {
    type,
    sent,
    spoken,
    /** Utterances ended less than COUNT_AFTER_MS of audio ago: their finals may not exist yet. */
    pending: calls.filter((c) => c.lastEnd >= 0 && c.sentCount - c.lastEnd < COUNT_AFTER_MS / FRAME_MS).length,
    open: calls.filter((c) => c.open).length,
    closedUnexpectedly,
    setupFailures,
    lateMs: { p50: us(lateness.percentile(50)), p99: us(lateness.percentile(99)), max: us(lateness.max), n: lateness.count },
    maxBuffered,
    burst,
    mediaIn,
    marksEchoed,
    eldP99: eld.percentile(99) / 1e6 - 10,
    cpu: process.cpuUsage(),
  };
}

process.on('message', (m: Msg) => {
  void (async () => {
    switch (m.cmd) {
      case 'init':
        runtimeUrl = m.runtimeUrl;
        wsBase = runtimeUrl.replace(/^http/, 'ws');
        key = createPrivateKey(m.privateKeyPem);
        did = m.did;
        setupConcurrency = m.setupConcurrency;
        floor = m.floor;
        payloads = buildAudio(m.extraSilenceMs, m.noiseDbfs);
        send({ type: 'init', loopMs: payloads.length * FRAME_MS, voicedShare });
        return;
      case 'ramp':
        return ramp(m.calls);
      case 'mark':
        lateness = createHistogram();
        maxBuffered = 0;
        burst = 0;
        eld.reset();
        send(stats('mark'));
        return;
      case 'pause':
        running = false;
        if (ticker) clearTimeout(ticker);
        send(stats('paused'));
        return;
      case 'resume': {
        const now = performance.now();
        for (const c of calls) c.next = now + c.phase;
        startTicker();
        send(stats('resumed'));
        return;
      }
      case 'stats':
        send(stats('stats'));
        return;
      case 'stop':
        running = false;
        if (ticker) clearTimeout(ticker);
        for (const c of calls) {
          c.open = false;
          c.ws.terminate();
        }
        agent.destroy();
        await telnyx.close().catch(() => undefined);
        process.exit(0);
    }
  })().catch((err: unknown) => send({ type: 'error', message: (err as Error).stack ?? String(err) }));
});

process.on('disconnect', () => process.exit(0));

void (async () => {
  telnyx = await startFakeTelnyxApi();
  telnyx.onCommand((cmd) => {
    if (cmd.action !== 'answer') return;
    const r = answers.get(cmd.callControlId);
    const url = cmd.body.stream_url;
    r?.(typeof url === 'string' ? url : undefined);
  });
  // The fake records every command; keep its memory flat over a long run.
  setInterval(() => telnyx.requests.splice(0), 5000).unref();
  send({ type: 'ready', telnyxBaseUrl: telnyx.baseUrl, apiKey: telnyx.apiKey });
})();
