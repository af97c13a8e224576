import { Endpointer, type EndpointerEvent } from '../../src/media/audio/endpointer';
import { EnergyVad } from '../../src/media/vad/energy-vad';
import { concat, frames, mix, pinkNoise, silence, speechLike, whiteNoise } from '../support/audio-signals';

const RATE = 16000;

function decisions(x: Int16Array, vad = new EnergyVad()): number[] {
  return [...frames(x, 320)].map((f) => vad.push(f));
}

/** Runs VAD + Endpointer (default onset 60 ms) and returns when speech was confirmed, in ms. */
function onsetMs(x: Int16Array): number | undefined {
  const vad = new EnergyVad();
  const ep = new Endpointer({ preRollMs: 300, silenceMs: 600, chunkMs: 1000, partialMinMs: 600 });
  for (const f of frames(x, 320)) {
    const ev = ep.push(f, vad.push(f)).find((e): e is Extract<EndpointerEvent, { type: 'speechStart' }> => e.type === 'speechStart');
    if (ev) return ev.detectedAtMs;
  }
  return undefined;
}

describe('EnergyVad', () => {
  it('scores digital silence as non-speech', () => {
    expect(decisions(silence(RATE, 2000)).every((p) => p === 0)).toBe(true);
  });

  it.each([
    ['white', whiteNoise],
    ['pink', pinkNoise],
  ])('never calls a steady −45 dBFS %s noise floor speech', (_name, noise) => {
    expect(decisions(noise(RATE, 5000, -45, 7)).filter((p) => p > 0)).toHaveLength(0);
  });

  it('confirms speech onset within 150 ms of the caller starting to talk (after silence)', () => {
    const at = onsetMs(concat(whiteNoise(RATE, 1000, -65), speechLike(RATE, 1500, -20)));
    expect(at).toBeDefined();
    expect(at! - 1000).toBeLessThanOrEqual(150);
  });

  it('confirms quiet speech over a −45 dBFS pink-noise bed within 150 ms', () => {
    const x = mix(pinkNoise(RATE, 3000, -45), concat(silence(RATE, 1500), speechLike(RATE, 1500, -30)));
    const at = onsetMs(x);
    expect(at).toBeDefined();
    expect(at! - 1500).toBeLessThanOrEqual(150);
  });

  it('needs no long run of speech: the first loud 20 ms frame is already scored as speech', () => {
    const p = decisions(concat(silence(RATE, 500), speechLike(RATE, 100, -20)));
    expect(p.indexOf(1)).toBe(25);
  });

  it('keeps a continuous 3 s utterance (syllable dips included) as speech', () => {
    const p = decisions(mix(whiteNoise(RATE, 4000, -50), concat(silence(RATE, 1000), speechLike(RATE, 3000, -22))));
    const during = p.slice(50, 200);
    expect(during.filter((v) => v === 1).length / during.length).toBeGreaterThan(0.95);
    expect(p.slice(0, 50).every((v) => v === 0)).toBe(true);
  });

  it('releases speech within ~0.5 s when a new steady noise starts (floor snaps to steady levels)', () => {
    const p = decisions(concat(whiteNoise(RATE, 1000, -70), whiteNoise(RATE, 3000, -40, 9)));
    const after = p.slice(50);
    expect(after.slice(30).every((v) => v === 0)).toBe(true); // 600 ms after the step
  });

  it('frames arbitrary push sizes exactly like 20 ms pushes', () => {
    const x = mix(whiteNoise(RATE, 3000, -50), concat(silence(RATE, 1000), speechLike(RATE, 2000, -25)));
    const byFrame = decisions(x);
    const vad = new EnergyVad();
    const results: number[] = [];
    let scored = 0;
    for (let i = 0; i < x.length; i += 100) {
      const p = vad.push(x.subarray(i, i + 100));
      while (vad.stats.frames > scored) {
        scored += 1;
        results.push(p);
      }
    }
    expect(results).toEqual(byFrame);
  });

  it('reset() forgets the noise floor', () => {
    const vad = new EnergyVad();
    decisions(whiteNoise(RATE, 1000, -40), vad);
    expect(vad.noiseFloorDb).toBeGreaterThan(-45);
    vad.reset();
    expect(Number.isNaN(vad.noiseFloorDb)).toBe(true);
  });
});
