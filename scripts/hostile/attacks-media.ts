/**
 * Hostile media-stream frames against a live call's stream_url: sequence-number jumps up to 1e308 and
 * numeric strings, bad base64, 64 KB payloads, events out of order, non-object JSON, nesting bombs, L16
 * rates no codec has, plus a seeded corpus of random mutations of valid frames. Each connection replaces
 * the previous one for the call (as a Telnyx stream restart does) and is closed by us after its frames,
 * so the server has read every frame when the close handshake completes.
 */
import WebSocket from 'ws';
import type { Outcome } from './attacks-http';

export interface MediaTarget {
  /** The call's stream_url, token included (from the `answer` command the runtime sent). */
  streamUrl: string;
  callControlId: string;
}

const OPEN_TIMEOUT_MS = 5_000;
const CLOSE_TIMEOUT_MS = 10_000;
/** 160 bytes of PCMU silence (20 ms at 8 kHz), base64. */
const PCMU_20MS = Buffer.alloc(160, 0xff).toString('base64');

function start(t: MediaTarget, encoding: string, sampleRate: unknown): string {
  return JSON.stringify({
    event: 'start',
    sequence_number: '1',
    stream_id: 'hostile',
    start: { call_control_id: t.callControlId, media_format: { encoding, sample_rate: sampleRate, channels: 1 } },
  });
}

function media(seq: unknown, chunk: unknown = seq, payload = PCMU_20MS): string {
  return JSON.stringify({ event: 'media', sequence_number: seq, stream_id: 'hostile', media: { track: 'inbound', chunk, timestamp: '0', payload } });
}

/** Opens a stream, sends `frames` in order, closes it, and resolves with the close code the server saw or sent. */
export function sendStream(t: MediaTarget, frames: readonly (string | Buffer)[]): Promise<number | 'no_open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(t.streamUrl, { perMessageDeflate: false, maxPayload: 1024 * 1024 });
    let settled = false;
    const settle = (v: number | 'no_open') => {
      if (settled) return;
      settled = true;
      clearTimeout(openTimer);
      clearTimeout(closeTimer);
      resolve(v);
    };
    const openTimer = setTimeout(() => {
      ws.terminate();
      settle('no_open');
    }, OPEN_TIMEOUT_MS);
    let closeTimer: NodeJS.Timeout | undefined;
    ws.on('open', () => {
      clearTimeout(openTimer);
      for (const f of frames) {
        if (ws.readyState !== WebSocket.OPEN) break;
        ws.send(f);
      }
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'done');
      closeTimer = setTimeout(() => {
        ws.terminate();
        settle(1006);
      }, CLOSE_TIMEOUT_MS);
    });
    ws.on('close', (code) => settle(code));
    ws.on('error', () => undefined);
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      settle(res.statusCode ?? 0);
    });
  });
}

/** Seeded xorshift: the same corpus on every run, so a failure is reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

const HOSTILE_NUMBERS: unknown[] = [
  1e5, 1e9, 1e15, 2 ** 53 + 2, 1e308, -1, -1e308, 1.5, NaN, '99999999999999999999', '1e308', '-5', 'abc', '', ' 7', '0x10', null, true,
  { a: 1 }, [1], '9'.repeat(400),
];
const HOSTILE_PAYLOADS: unknown[] = ['!!!not base64!!!', '', '=', 'AAA', 'A'.repeat(40_000), 12, null, { a: 1 }];

/** One mutated frame of the corpus: a valid frame with one field replaced by something hostile. */
function mutant(rand: () => number, t: MediaTarget, seq: number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  switch (Math.floor(rand() * 7)) {
    case 0:
      return media(pick(HOSTILE_NUMBERS), seq);
    case 1:
      return media(seq, pick(HOSTILE_NUMBERS));
    case 2:
      return JSON.stringify({ event: 'media', sequence_number: String(seq), media: { track: 'inbound', chunk: String(seq), payload: pick(HOSTILE_PAYLOADS) } });
    case 3:
      return JSON.stringify({ event: pick(['media', 'start', 'stop', 'dtmf', 'mark', 'error', 'connected', 'bogus', 7, null]), media: pick([null, 1, 'x', {}]) });
    case 4:
      return start(t, pick(['PCMU', 'L16', 'l16', 'OPUS', 'AMR-WB', 'G722', 'x', '']), pick([8000, 16000, 1, 1_600_003, -8000, 1e308, '16000', null]));
    case 5:
      return pick(['null', '[]', '"x"', '1', '{', '{"event":', '\u0000', JSON.stringify({ event: 'dtmf', dtmf: { digit: 'x'.repeat(1000) } })]);
    default:
      return media(String(seq));
  }
}

/** The fixed cases of the corpus, one stream each. */
export function fixedStreams(t: MediaTarget): [string, string[]][] {
  const head = [JSON.stringify({ event: 'connected', version: '1.0.0' }), start(t, 'PCMU', 8000)];
  const inOrder = Array.from({ length: 5 }, (_, i) => media(String(i + 2)));
  const jumps: [string, string[]][] = HOSTILE_NUMBERS.map((n) => [
    `sequence ${JSON.stringify(n).slice(0, 24)}`,
    [...head, ...inOrder, media(n, n), media('8'), media('9')],
  ]);
  return [
    ...jumps,
    ['jump 1e5 then back', [...head, ...inOrder, media('100000'), ...Array.from({ length: 20 }, (_, i) => media(String(8 + i)))]],
    ['bad base64 payloads', [...head, ...HOSTILE_PAYLOADS.map((p, i) => JSON.stringify({ event: 'media', sequence_number: String(i + 2), media: { track: 'inbound', chunk: String(i + 2), payload: p } }))]],
    ['64 KB payload (over the frame limit)', [...head, media('2', '2', 'A'.repeat(64 * 1024))]],
    ['media before start', [media('1'), media('2'), ...head]],
    ['start twice, different codecs', [...head, start(t, 'L16', 16000), ...inOrder]],
    ['stop then media', [...head, JSON.stringify({ event: 'stop', sequence_number: '3', stop: {} }), ...inOrder]],
    ['non-object JSON', [...head, 'null', '[]', '"x"', '1', 'true', '{', '']],
    ['nesting 10,000 deep', [...head, '{"event":"media","media":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}']],
    ['L16 at 1 Hz', [JSON.stringify({ event: 'connected' }), start(t, 'L16', 1), media('2')]],
    ['L16 at 1,600,003 Hz', [JSON.stringify({ event: 'connected' }), start(t, 'L16', 1_600_003), media('2')]],
    ['start without media_format', [JSON.stringify({ event: 'start', start: {} }), media('2')]],
  ];
}

/** Runs the fixed cases and `mutants` seeded random frames (in streams of 50); one outcome per stream. */
export async function mediaCorpus(t: MediaTarget, mutants: number, seed: number): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const [name, frames] of fixedStreams(t)) {
    const code = await sendStream(t, frames);
    out.push({ name, answer: code === 'no_open' ? 'timeout' : code });
  }
  const rand = rng(seed);
  const head = [JSON.stringify({ event: 'connected', version: '1.0.0' }), start(t, 'PCMU', 8000)];
  for (let done = 0; done < mutants; done += 50) {
    const frames = [...head];
    for (let i = 0; i < Math.min(50, mutants - done); i += 1) frames.push(mutant(rand, t, done + i + 2));
    const code = await sendStream(t, frames);
    out.push({ name: `mutants ${done}..${done + 49}`, answer: code === 'no_open' ? 'timeout' : code });
  }
  return out;
}
