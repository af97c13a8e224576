/**
 * Caller lines for turn-taking tests: espeak-ng speech, trimmed, as PCMU 8 kHz frames of 20 ms (what
 * Telnyx sends), with what the Whisper stand-in needs to answer truthfully (scripts/sim/said-so-far.ts).
 */
import { createEncoder } from '../../src/media/audio/codecs';
import { resample } from '../../scripts/sim/audio';
import { espeakSynthesize, trimSilence } from '../../scripts/sim/speech';
import { voicedMs, type SaidSegment } from '../../scripts/sim/said-so-far';

export interface Spoken extends SaidSegment {
  frames: Uint8Array[];
}

export async function speak(text: string): Promise<Spoken> {
  const { samples, sampleRate } = await espeakSynthesize(text, { voice: 'en-us', wpm: 165 });
  const pcm = trimSilence(resample(samples, sampleRate, 8000), 8000, -45, 0);
  const enc = createEncoder('PCMU', { sampleRate: 8000 });
  const frames: Uint8Array[] = [];
  for (let i = 0; i < pcm.length; i += 160) {
    const f = new Int16Array(160);
    f.set(pcm.subarray(i, Math.min(pcm.length, i + 160)));
    frames.push(Uint8Array.from(enc.encode(f)));
  }
  enc.close();
  return { text, speechMs: voicedMs(pcm, 8000), frames };
}

/** `ms` of PCMU silence as 20 ms frames. */
export function silenceFrames(ms: number): Uint8Array[] {
  const enc = createEncoder('PCMU', { sampleRate: 8000 });
  const f = Uint8Array.from(enc.encode(new Int16Array(160)));
  enc.close();
  return Array.from({ length: ms / 20 }, () => f);
}
