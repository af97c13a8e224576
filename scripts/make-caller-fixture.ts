/**
 * Regenerates the bundled caller audio (scripts/sim/assets/caller-N.wav, 16 kHz mono PCM16) from
 * CALLER_LINES with espeak-ng: trimmed to the speech, peak-normalized to −6 dBFS. The files are
 * committed so the demo and the load test carry real speech on machines without espeak-ng.
 *
 * Usage: npx tsx scripts/make-caller-fixture.ts
 */
import { writeFileSync } from 'node:fs';
import { buildWav } from '../src/lib/audio/wav';
import { resample } from './sim/audio';
import { CALLER_LINES } from './sim/script';
import { espeakAvailable, espeakSynthesize, fixturePath, SPEECH_RATE, trimSilence } from './sim/speech';

async function main(): Promise<void> {
  if (!espeakAvailable()) throw new Error('espeak-ng is not installed (apt-get install -y espeak-ng)');
  for (const [i, line] of CALLER_LINES.entries()) {
    const spoken = await espeakSynthesize(line, { voice: 'en-us', wpm: 160 });
    const pcm = trimSilence(resample(spoken.samples, spoken.sampleRate, SPEECH_RATE), SPEECH_RATE);
    let peak = 1;
    for (const s of pcm) peak = Math.max(peak, Math.abs(s));
    const gain = (32767 * 0.5) / peak;
    const out = Int16Array.from(pcm, (s) => Math.max(-32768, Math.min(32767, Math.round(s * gain))));
    writeFileSync(fixturePath(i), buildWav(out, SPEECH_RATE));
    console.log(`${fixturePath(i)}  ${(out.length / SPEECH_RATE).toFixed(2)} s  "${line}"`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
