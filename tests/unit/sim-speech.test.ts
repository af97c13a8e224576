/**
 * The simulator's model-free speech pieces: the STT stand-in recognizes the bundled utterances
 * through a codec round trip (prefix for partials, nothing for silence), and the call recorder
 * lays both sides on one timeline.
 */
import { createDecoder, createEncoder, type Encoding } from '../../src/media/audio/codecs';
import { parseWav } from '../../src/lib/audio/wav';
import { concatPcm, resample } from '../../scripts/sim/audio';
import { CallRecorder } from '../../scripts/sim/recording';
import { CALLER_LINES } from '../../scripts/sim/script';
import { createUtteranceMatcher, loadBundledSpeech, SPEECH_RATE } from '../../scripts/sim/speech';

function roundTrip(pcm16k: Int16Array, codec: Encoding): Int16Array {
  const rate = codec === 'PCMU' || codec === 'PCMA' ? 8000 : 16000;
  const enc = createEncoder(codec, { sampleRate: rate });
  const dec = createDecoder(codec, { sampleRate: rate });
  const src = concatPcm([new Int16Array(16000), pcm16k, new Int16Array(3200)]);
  const at = resample(src, SPEECH_RATE, rate);
  const out: Int16Array[] = [];
  const f = rate / 50;
  for (let i = 0; i + f <= at.length; i += f) {
    const d = dec.decode(enc.encode(at.subarray(i, i + f)));
    if (d) out.push(d.slice());
  }
  enc.close();
  dec.close();
  return resample(concatPcm(out), dec.sampleRate, SPEECH_RATE);
}

describe('bundled caller speech and the STT stand-in matcher', () => {
  const speech = loadBundledSpeech();
  const match = createUtteranceMatcher(speech.utterances);

  it('bundles one utterance per caller line', () => {
    expect(speech.utterances.map((u) => u.text)).toEqual(CALLER_LINES);
    for (const u of speech.utterances) expect(u.durationMs).toBeGreaterThan(1000);
  });

  it.each(['PCMU', 'PCMA', 'G722', 'OPUS', 'L16'] as const)('recognizes every utterance after a %s round trip', (codec) => {
    speech.utterances.forEach((u, i) => {
      const m = match(roundTrip(u.pcm, codec), SPEECH_RATE);
      expect(m).toMatchObject({ index: i, text: CALLER_LINES[i], partial: false });
    });
  });

  it('answers a partial with the first words and silence with nothing', () => {
    const u = speech.utterances[0]!;
    const m = match(u.pcm.subarray(0, Math.round(u.pcm.length * 0.45)), SPEECH_RATE);
    expect(m?.partial).toBe(true);
    expect(CALLER_LINES[0]!.startsWith(m!.text)).toBe(true);
    expect(m!.text.length).toBeLessThan(CALLER_LINES[0]!.length);
    expect(match(new Int16Array(32000), SPEECH_RATE)).toBeUndefined();
  });

  it('does not give the whole line to audio cut before its last word', () => {
    // What the runtime sends when it cuts at a pause inside the line: ~85 % of it.
    const u = speech.utterances[0]!;
    const m = match(u.pcm.subarray(0, Math.round(u.pcm.length * 0.85)), SPEECH_RATE);
    expect(m?.partial).toBe(true);
    expect(m!.text).not.toBe(CALLER_LINES[0]);
    expect(CALLER_LINES[0]!.startsWith(m!.text)).toBe(true);
  });
});

describe('CallRecorder', () => {
  it('renders caller left and agent right on one timeline, cut where playback was cleared', () => {
    const rec = new CallRecorder(1000);
    const tone = (n: number) => Int16Array.from({ length: n }, (_, i) => (i % 2 ? 8000 : -8000));
    rec.caller.add(tone(8000), 8000, 1000); // 0–1 s
    rec.agent.add(tone(16000), 16000, 2000); // 1–2 s, cleared at 1.5 s
    rec.agent.truncateAfter(2500);
    const wav = rec.toWav(16000, 1000 + 2000);
    expect(wav.readUInt16LE(22)).toBe(2);
    const mono = parseWav(wav);
    expect(mono.durationMs).toBeCloseTo(2000, 0);
    const level = (ch: number, fromMs: number, toMs: number) => {
      let max = 0;
      for (let i = (fromMs * 16000) / 1000; i < (toMs * 16000) / 1000; i += 1) max = Math.max(max, Math.abs(wav.readInt16LE(44 + (i * 2 + ch) * 2)));
      return max;
    };
    expect(level(0, 100, 900)).toBeGreaterThan(1000);
    expect(level(1, 100, 900)).toBe(0);
    expect(level(1, 1100, 1400)).toBeGreaterThan(1000);
    expect(level(1, 1600, 1900)).toBe(0);
  });
});
