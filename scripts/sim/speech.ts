/**
 * Speech for the simulator, without any model:
 * - the bundled caller utterances (16 kHz mono WAVs in scripts/sim/assets, made from CALLER_LINES with
 *   espeak-ng by `npx tsx scripts/make-caller-fixture.ts`), so calls carry real speech on machines
 *   without espeak-ng;
 * - espeak-ng synthesis (caller fixture generation, and the demo's TTS stand-in when installed);
 * - an utterance matcher: which bundled utterance a WAV the runtime sent to STT contains, from the
 *   shape of its 20 ms energy envelope (codec, resampling, filters and pre-roll barely change it).
 *   The STT stand-in answers with that utterance's line (a prefix of it for a partial).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseWav } from '../../src/lib/audio/wav';
import { resample } from './audio';
import { CALLER_LINES } from './script';

export const SPEECH_RATE = 16000;
export const ASSETS_DIR = path.join(__dirname, 'assets');

export interface CallerUtterance {
  index: number;
  text: string;
  /** 16 kHz mono PCM16, speech only (leading/trailing silence trimmed). */
  pcm: Int16Array;
  durationMs: number;
}

export interface BundledSpeech {
  utterances: CallerUtterance[];
  /** An utterance's audio at `rate` (cached). */
  pcmAt(index: number, rate: number): Int16Array;
}

export function fixturePath(index: number): string {
  return path.join(ASSETS_DIR, `caller-${index + 1}.wav`);
}

let bundled: BundledSpeech | undefined;

/** The bundled caller utterances (read once per process). */
export function loadBundledSpeech(): BundledSpeech {
  if (bundled) return bundled;
  const utterances = CALLER_LINES.map((text, index) => {
    const file = fixturePath(index);
    if (!existsSync(file)) throw new Error(`bundled caller audio missing: ${file} (regenerate: npx tsx scripts/make-caller-fixture.ts)`);
    const wav = parseWav(readFileSync(file));
    const pcm = resample(wav.samples, wav.sampleRate, SPEECH_RATE);
    return { index, text, pcm, durationMs: (pcm.length * 1000) / SPEECH_RATE };
  });
  const cache = new Map<string, Int16Array>();
  bundled = {
    utterances,
    pcmAt(index, rate) {
      const key = `${index}@${rate}`;
      let pcm = cache.get(key);
      if (!pcm) {
        pcm = resample(utterances[index]!.pcm, SPEECH_RATE, rate);
        cache.set(key, pcm);
      }
      return pcm;
    },
  };
  return bundled;
}

// --- espeak-ng ---------------------------------------------------------------------------------

let espeak: boolean | undefined;

/** Is the espeak-ng binary installed (Debian: apt-get install espeak-ng)? */
export function espeakAvailable(): boolean {
  espeak ??= spawnSync('espeak-ng', ['--version'], { stdio: 'ignore', timeout: 5000 }).status === 0;
  return espeak;
}

export interface EspeakOptions {
  /** espeak-ng voice, e.g. en-us (male) or en-us+f3 (female variant). */
  voice?: string;
  /** Words per minute (espeak's default is 175). */
  wpm?: number;
  timeoutMs?: number;
}

/** Text → mono PCM16 (espeak-ng writes a 22.05 kHz WAV to stdout). */
export function espeakSynthesize(text: string, opts: EspeakOptions = {}): Promise<{ samples: Int16Array; sampleRate: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      'espeak-ng',
      ['-v', opts.voice ?? 'en-us', '-s', String(Math.round(opts.wpm ?? 165)), '--stdout', '--', text],
      { encoding: 'buffer', maxBuffer: 32 * 1024 * 1024, timeout: opts.timeoutMs ?? 15_000 },
      (err, stdout) => {
        if (err) return reject(new Error(`espeak-ng failed: ${err.message}`));
        try {
          const wav = parseWav(stdout);
          resolve({ samples: wav.samples, sampleRate: wav.sampleRate });
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
    );
  });
}

/** Drops leading/trailing audio quieter than `thresholdDbfs` (20 ms granularity, `keepMs` kept each side). */
export function trimSilence(pcm: Int16Array, rate: number, thresholdDbfs = -45, keepMs = 40): Int16Array {
  const env = envelope(pcm, rate);
  const first = env.findIndex((d) => d > thresholdDbfs);
  if (first < 0) return pcm.slice(0, 0);
  let last = env.length - 1;
  while (last > first && env[last]! <= thresholdDbfs) last -= 1;
  const frame = rate / 50;
  const keep = Math.round((keepMs * rate) / 1000);
  return pcm.slice(Math.max(0, first * frame - keep), Math.min(pcm.length, (last + 1) * frame + keep));
}

// --- utterance matching ------------------------------------------------------------------------

/** dBFS of each 20 ms frame. */
export function envelope(pcm: Int16Array, rate: number): number[] {
  const frame = Math.max(1, Math.round(rate / 50));
  const out: number[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) {
    let sum = 0;
    for (let j = i; j < i + frame; j += 1) sum += pcm[j]! * pcm[j]!;
    const rms = Math.sqrt(sum / frame) / 32768;
    out.push(rms > 0 ? Math.max(-100, 20 * Math.log10(rms)) : -100);
  }
  return out;
}

/** The speech part of an envelope: from the first to the last frame within 35 dB of the loudest (and above −60 dBFS). */
function speechSpan(env: number[]): number[] {
  const max = Math.max(-100, ...env);
  const floor = Math.max(max - 35, -60);
  const first = env.findIndex((d) => d > floor);
  if (first < 0) return [];
  let last = env.length - 1;
  while (last > first && env[last]! <= floor) last -= 1;
  // Normalize: level relative to the loudest frame, clipped to the 35 dB that matter.
  return env.slice(first, last + 1).map((d) => Math.max(d, floor) - max);
}

function correlation(a: number[], b: number[], offset: number): number {
  // a[i] against b[i + offset] over the overlap.
  let n = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i += 1) {
    const j = i + offset;
    if (j < 0 || j >= b.length) continue;
    n += 1;
    sa += a[i]!;
    sb += b[j]!;
  }
  if (n < 5) return -1;
  const ma = sa / n;
  const mb = sb / n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < a.length; i += 1) {
    const j = i + offset;
    if (j < 0 || j >= b.length) continue;
    const x = a[i]! - ma;
    const y = b[j]! - mb;
    num += x * y;
    da += x * x;
    db += y * y;
  }
  return da > 0 && db > 0 ? num / Math.sqrt(da * db) : -1;
}

export interface UtteranceMatch {
  index: number;
  /** The line (or its first words, for audio covering only the start of the utterance). */
  text: string;
  /** True when the audio held only the start of the utterance (a partial transcription). */
  partial: boolean;
  /** The line's words said up to the end of this audio (`text` unless the audio continued a prompt). */
  sofar: string;
  score: number;
}

/**
 * Finds which of `utterances` a recording contains. Returns undefined for silence or audio that
 * resembles none of them (score below 0.5).
 */
/** A recording whose speech spans less than this share of a line's is a partial transcription. */
const PARTIAL_BELOW = 0.92;

export function createUtteranceMatcher(
  utterances: readonly { text: string; pcm: Int16Array }[],
  rate = SPEECH_RATE,
): (pcm: Int16Array, pcmRate: number, prompt?: string) => UtteranceMatch | undefined {
  const refs = utterances.map((u) => speechSpan(envelope(u.pcm, rate)));
  const norm = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}\s]/gu, '').split(/\s+/).filter(Boolean);
  /**
   * The rest of a line after `prompt` (the runtime sent only the audio after it): where the audio
   * fits best in the line (envelope correlation) says how far into the line it reaches.
   */
  const continuation = (got: number[], prompt: string): UtteranceMatch | undefined => {
    const before = norm(prompt);
    const index = utterances.findIndex((u) => {
      const w = norm(u.text);
      return w.length > before.length && before.every((x, i) => w[i] === x);
    });
    if (index < 0) return undefined;
    const ref = refs[index]!;
    let at = 0;
    let best = -2;
    for (let o = 0; o + got.length <= ref.length + 4; o += 1) {
      const c = correlation(got, ref, o);
      if (c > best) [best, at] = [c, o];
    }
    const reach = Math.min(1, (at + got.length) / ref.length);
    const words = utterances[index]!.text.split(/\s+/);
    const rest = words.slice(before.length);
    const n = reach >= 0.97 ? rest.length : Math.max(1, Math.round(words.length * reach) - before.length);
    const text = rest.slice(0, n).join(' ');
    return { index, text, partial: n < rest.length, score: 1, sofar: words.slice(0, before.length + n).join(' ') };
  };
  return (pcm, pcmRate, prompt) => {
    const got = speechSpan(envelope(pcm, pcmRate));
    if (got.length < 5) return undefined;
    if (prompt?.trim()) {
      const m = continuation(got, prompt);
      if (m) return m;
    }
    let best: UtteranceMatch | undefined;
    refs.forEach((ref, index) => {
      if (ref.length < 5) return;
      const ratio = got.length / ref.length;
      // Whisper does not hear words that are not in the audio: a recording that stops before the
      // line's last word (a pause inside the line, cut there by the runtime) is only its first
      // words. Codec round trips move the span's edges by a frame or two, well inside 8 %.
      const partial = ratio < PARTIAL_BELOW;
      let corr = -1;
      for (let lag = -4; lag <= 4; lag += 1) corr = Math.max(corr, correlation(got, ref, lag));
      const score = corr - (partial ? 0 : Math.abs(1 - ratio));
      if (!best || score > best.score) {
        const words = utterances[index]!.text.split(/\s+/);
        const text = partial ? words.slice(0, Math.max(1, Math.round(words.length * ratio))).join(' ') : utterances[index]!.text;
        best = { index, text, partial, score, sofar: text };
      }
    });
    return best && best.score >= 0.5 ? best : undefined;
  };
}
