/**
 * Caller speech for media tests: two espeak-ng utterances separated by silence, made with the
 * Debian packages espeak-ng and sox (installed by .ci/run) in a temp dir removed right after, and
 * cached in memory per test file. Returns 16 kHz and 8 kHz mono PCM plus where each utterance lies.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface SpeechFixture {
  pcm16k: Int16Array;
  pcm8k: Int16Array;
  /** Utterance spans in ms from the start of the audio. */
  utterances: { startMs: number; endMs: number; text: string }[];
}

export const UTTERANCES = ['Hello, I would like to book an appointment for tomorrow.', 'Around ten in the morning would be great.'];
const LEAD_MS = 600;
const GAP_MS = 1800;
const TAIL_MS = 1500;

let cached: SpeechFixture | undefined;

function readS16(file: string): Int16Array {
  const buf = readFileSync(file);
  return new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function speechFixture(): SpeechFixture {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-speech-'));
  try {
    cached = synthesize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return cached;
}

function synthesize(dir: string): SpeechFixture {
  const parts: Int16Array[] = [];
  const utterances: SpeechFixture['utterances'] = [];
  const silence = (ms: number) => new Int16Array((ms * 16000) / 1000);
  let t = 0;
  const push = (pcm: Int16Array) => {
    parts.push(pcm);
    t += (pcm.length * 1000) / 16000;
  };
  push(silence(LEAD_MS));
  UTTERANCES.forEach((text, i) => {
    const wav = path.join(dir, `u${i}.wav`);
    const raw = path.join(dir, `u${i}.s16`);
    execFileSync('espeak-ng', ['-v', 'en-us', '-s', '165', '-w', wav, text]);
    // Trim espeak's own leading/trailing silence so the spans below are the speech itself.
    execFileSync('sox', ['-D', wav, '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'raw', raw, 'silence', '1', '0.02', '0.5%', 'reverse', 'silence', '1', '0.02', '0.5%', 'reverse', 'gain', '-n', '-6']);
    const pcm = readS16(raw);
    const start = t;
    push(pcm);
    utterances.push({ startMs: start, endMs: t, text });
    push(silence(i === UTTERANCES.length - 1 ? TAIL_MS : GAP_MS));
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  const pcm16k = new Int16Array(total);
  let off = 0;
  for (const p of parts) {
    pcm16k.set(p, off);
    off += p.length;
  }
  const full = path.join(dir, 'full.s16');
  const eight = path.join(dir, 'full8k.s16');
  writeFileSync(full, Buffer.from(pcm16k.buffer));
  execFileSync('sox', ['-D', '-t', 'raw', '-r', '16000', '-c', '1', '-b', '16', '-e', 'signed-integer', full, '-t', 'raw', eight, 'rate', '-v', '8000']);
  return { pcm16k, pcm8k: readS16(eight), utterances };
}

/** Cuts PCM into frames of `frameSamples` (the last partial frame is zero-padded). */
export function frames(pcm: Int16Array, frameSamples: number): Int16Array[] {
  const out: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += frameSamples) {
    const f = new Int16Array(frameSamples);
    f.set(pcm.subarray(i, Math.min(i + frameSamples, pcm.length)));
    out.push(f);
  }
  return out;
}
