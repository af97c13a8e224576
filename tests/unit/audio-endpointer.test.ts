import { AppError } from '../../src/lib/errors';
import { Endpointer, type EndpointerConfig, type EndpointerEvent } from '../../src/media/audio/endpointer';

const FRAME = 320; // 20 ms at 16 kHz
const S_PER_MS = 16;

/** A timeline of [durationMs, speechProb] segments; each 20 ms frame's samples all equal its frame index. */
function run(cfg: EndpointerConfig, segments: [number, number][]): { events: EndpointerEvent[]; ep: Endpointer } {
  const ep = new Endpointer(cfg);
  const events: EndpointerEvent[] = [];
  let index = 0;
  for (const [ms, prob] of segments) {
    for (let t = 0; t < ms; t += 20) {
      events.push(...ep.push(new Int16Array(FRAME).fill(index), prob));
      index += 1;
    }
  }
  return { events, ep };
}

const of = <T extends EndpointerEvent['type']>(events: EndpointerEvent[], type: T) =>
  events.filter((e): e is Extract<EndpointerEvent, { type: T }> => e.type === type);

const BASE: EndpointerConfig = { preRollMs: 300, silenceMs: 500, chunkMs: 400, partialMinMs: 600 };

describe('Endpointer', () => {
  it('two utterances separated by silence → exactly two finals with pre-roll + speech + 200 ms of trailing silence', () => {
    const { events } = run(BASE, [
      [1000, 0],
      [800, 0.9],
      [1000, 0],
      [600, 0.9],
      [1000, 0],
    ]);
    const finals = of(events, 'final');
    expect(finals).toHaveLength(2);
    expect(finals.map((f) => f.audio.length / S_PER_MS)).toEqual([300 + 800 + 200, 300 + 600 + 200]);
    expect(finals.map((f) => f.speechMs)).toEqual([800, 600]);
    expect(finals.map((f) => f.reason)).toEqual(['silence', 'silence']);
    expect(finals[0]).toMatchObject({ startedAtMs: 1000, endedAtMs: 1800 });
    expect(finals[1]).toMatchObject({ startedAtMs: 2800, endedAtMs: 3400 });
    // Pre-roll is exactly the 300 ms (15 frames) before speech: frame 50 starts speech, so audio starts at frame 35.
    expect(finals[0]!.audio[0]).toBe(35);
    expect(finals[1]!.audio[0]).toBe(140 - 15);
    expect(of(events, 'speechStart')).toEqual([
      { type: 'speechStart', atMs: 1000, detectedAtMs: 1060 },
      { type: 'speechStart', atMs: 2800, detectedAtMs: 2860 },
    ]);
  });

  it('emits the first partial after partialMinMs of speech, then one per chunkMs, each a copy including pre-roll', () => {
    const { events } = run(BASE, [
      [1000, 0],
      [2000, 0.9],
      [1000, 0],
    ]);
    const partials = of(events, 'partial');
    expect(partials.map((p) => p.speechMs)).toEqual([600, 1000, 1400, 1800]);
    expect(partials.map((p) => p.audio.length / S_PER_MS)).toEqual([900, 1300, 1700, 2100]);
    expect(partials[0]!.audio[0]).toBe(35);
    // Copies: a later partial does not change an earlier one.
    expect(partials[0]!.audio[partials[0]!.audio.length - 1]).toBe(50 + 29);
  });

  it('emits no partials during pauses or trailing silence', () => {
    const { events } = run({ ...BASE, silenceMs: 1500 }, [
      [400, 0],
      [700, 0.9],
      [1500, 0.1],
    ]);
    expect(of(events, 'partial').map((p) => p.speechMs)).toEqual([600]);
    expect(of(events, 'final')).toHaveLength(1);
  });

  it('discards a blip shorter than minSpeechMs and ignores one shorter than the onset run', () => {
    const { events } = run(BASE, [
      [500, 0],
      [100, 0.9],
      [1000, 0],
      [40, 0.9],
      [1000, 0],
    ]);
    expect(events.map((e) => e.type)).toEqual(['speechStart', 'discarded']);
    expect(of(events, 'discarded')[0]!.speechMs).toBe(100);
  });

  it('uses hysteresis: 0.4 keeps speech going but does not start it', () => {
    const { events } = run(BASE, [
      [500, 0.4],
      [300, 0.9],
      [1000, 0.4],
      [600, 0],
    ]);
    expect(of(events, 'speechStart')).toHaveLength(1);
    expect(of(events, 'final')[0]!.speechMs).toBe(1300);
  });

  it('caps an utterance at maxUtteranceMs with reason max_length, then carries on without losing audio', () => {
    const { events } = run({ ...BASE, maxUtteranceMs: 2000 }, [
      [1000, 0],
      [5000, 0.9],
      [1000, 0],
    ]);
    const finals = of(events, 'final');
    expect(finals.map((f) => f.reason)).toEqual(['max_length', 'max_length', 'silence']);
    expect(finals[0]!.audio.length).toBe(2000 * S_PER_MS);
    // The first capped final holds pre-roll (frames 35..49) + speech frames 50..134; the next starts right after.
    expect(finals[0]!.audio[finals[0]!.audio.length - 1]).toBe(134);
    expect(finals[1]!.audio[0]).toBe(135);
    const total = finals.reduce((n, f) => n + f.audio.length, 0) / S_PER_MS;
    expect(total).toBe(300 + 5000 + 200);
  });

  it('keeps the pre-roll ring bounded however long the silence before speech', () => {
    const { events, ep } = run(BASE, [
      [10000, 0],
      [500, 0.9],
      [600, 0],
    ]);
    expect(ep.capacities.preRoll).toBe((300 + 60 + 60) * S_PER_MS);
    expect(ep.capacities.utterance).toBe(30000 * S_PER_MS);
    expect(of(events, 'final')[0]!.audio.length / S_PER_MS).toBe(300 + 500 + 200);
  });

  it('with a short call start the pre-roll is whatever audio exists', () => {
    const { events } = run(BASE, [
      [100, 0],
      [500, 0.9],
      [600, 0],
    ]);
    expect(of(events, 'final')[0]!.audio.length / S_PER_MS).toBe(100 + 500 + 200);
  });

  it('reset() drops the utterance in progress', () => {
    const { events, ep } = run(BASE, [
      [500, 0],
      [300, 0.9],
    ]);
    expect(ep.isInSpeech).toBe(true);
    ep.reset();
    expect(ep.isInSpeech).toBe(false);
    const after = [...ep.push(new Int16Array(FRAME), 0)];
    for (let i = 0; i < 50; i += 1) after.push(...ep.push(new Int16Array(FRAME), 0));
    expect([...events, ...after].map((e) => e.type)).toEqual(['speechStart']);
  });

  it('rejects inconsistent config, reporting every problem at once', () => {
    let err: unknown;
    try {
      new Endpointer({ preRollMs: 2000, silenceMs: 0, chunkMs: 400, partialMinMs: 0, maxUtteranceMs: 1000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid_endpointer_config');
    expect((err as AppError).message).toMatch(/silenceMs.*maxUtteranceMs/);
  });

  describe('end of speech under a lagging VAD (vadEndLagMs)', () => {
    /** Frames of [durationMs, amplitude, prob]; samples are a ±amplitude square wave. */
    const play = (cfg: EndpointerConfig, parts: [number, number, number][]) => {
      const ep = new Endpointer(cfg);
      const out: { atMs: number; e: EndpointerEvent }[] = [];
      let ms = 0;
      for (const [dur, amp, prob] of parts) {
        for (let t = 0; t < dur; t += 20) {
          const f = new Int16Array(FRAME);
          for (let i = 0; i < FRAME; i += 1) f[i] = i % 2 === 0 ? amp : -amp;
          ms += 20;
          for (const e of ep.push(f, prob)) out.push({ atMs: ms, e });
        }
      }
      return out;
    };
    const LAGGED: EndpointerConfig = { ...BASE, silenceMs: 600, vadEndLagMs: 64 };

    it('times the wait from where the audio went quiet, not from the VAD verdict', () => {
      // Speech ends at 1800 ms; the VAD keeps saying speech for 80 ms of near-silence.
      const out = play(LAGGED, [
        [1000, 0, 0],
        [800, 8000, 0.9],
        [80, 3, 0.9],
        [1200, 3, 0],
      ]);
      const finals = out.filter((o) => o.e.type === 'final');
      expect(finals).toHaveLength(1);
      expect(finals[0]!.e).toMatchObject({ endedAtMs: 1800 });
      // 600 ms after the end of speech, not 600 ms after the VAD's verdict at 1880.
      expect(finals[0]!.atMs).toBe(2400);
    });

    it('falls back to the VAD lag when the level never drops (noise right up to the verdict)', () => {
      const out = play(LAGGED, [
        [1000, 0, 0],
        [800, 8000, 0.9],
        [80, 8000, 0.9],
        [1200, 8000, 0],
      ]);
      const finals = out.filter((o) => o.e.type === 'final');
      expect(finals).toHaveLength(1);
      // Verdict at 1880 (first silent frame ends at 1900); backdated by 64 ms → end ≈ 1816.
      const f = finals[0]!.e as Extract<EndpointerEvent, { type: 'final' }>;
      expect(f.endedAtMs).toBeCloseTo(1816, 0);
      expect(finals[0]!.atMs).toBe(2420);
    });

    it('never backdates further than twice the lag (a soft talker is not cut off)', () => {
      // 200 ms of quiet "speech" before the verdict: more than 2 × 64 ms, so only the lag is undone.
      const out = play(LAGGED, [
        [1000, 0, 0],
        [800, 8000, 0.9],
        [200, 3, 0.9],
        [1200, 3, 0],
      ]);
      const f = out.find((o) => o.e.type === 'final')!.e as Extract<EndpointerEvent, { type: 'final' }>;
      expect(f.endedAtMs).toBeCloseTo(2000 - 64, 0);
    });

    it('without a VAD lag (energy VAD) the wait starts at the verdict, as before', () => {
      const out = play({ ...BASE, silenceMs: 600 }, [
        [1000, 0, 0],
        [800, 8000, 0.9],
        [80, 3, 0.9],
        [1200, 3, 0],
      ]);
      const finals = out.filter((o) => o.e.type === 'final');
      expect(finals[0]!.e).toMatchObject({ endedAtMs: 1880 });
      expect(finals[0]!.atMs).toBe(2480);
    });
  });
});

describe('Endpointer pauses and endAfter (end of turn from the transcript)', () => {
  const push = (ep: Endpointer, ms: number, prob: number) => {
    const out: EndpointerEvent[] = [];
    for (let t = 0; t < ms; t += 20) out.push(...ep.push(new Int16Array(FRAME), prob));
    return out;
  };

  it('emits one pause per silence run after pauseMs, with the utterance so far', () => {
    const ep = new Endpointer({ ...BASE, pauseMs: 100 });
    push(ep, 200, 0);
    push(ep, 600, 0.9);
    const first = push(ep, 200, 0);
    const pauses = of(first, 'pause');
    expect(pauses).toHaveLength(1);
    expect(pauses[0]!.audio.length / S_PER_MS).toBe(200 + 600 + 100);
    expect(ep.currentPauseId).toBe(pauses[0]!.pauseId);
    push(ep, 100, 0.9);
    expect(ep.currentPauseId).toBeUndefined();
    const second = of(push(ep, 200, 0), 'pause');
    expect(second[0]!.pauseId).toBe(pauses[0]!.pauseId + 1);
  });

  it('endAfter shorter than the silence passed ends the utterance at once, carrying the pause id', () => {
    const ep = new Endpointer({ ...BASE, pauseMs: 100 });
    push(ep, 200, 0);
    push(ep, 600, 0.9);
    const p = of(push(ep, 160, 0), 'pause')[0]!;
    const ended = ep.endAfter(p.pauseId, 150);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ type: 'final', reason: 'silence', pauseId: p.pauseId, speechMs: 600 });
    expect(ep.isInSpeech).toBe(false);
  });

  it('endAfter longer than silenceMs keeps the utterance open; speech resuming makes one final of both parts', () => {
    const ep = new Endpointer({ ...BASE, pauseMs: 100 });
    push(ep, 200, 0);
    push(ep, 600, 0.9);
    const p = of(push(ep, 120, 0), 'pause')[0]!;
    expect(ep.endAfter(p.pauseId, 1500)).toHaveLength(0);
    expect(of(push(ep, 900, 0), 'final')).toHaveLength(0); // 1 020 ms of silence: past silenceMs (500), before 1 500
    push(ep, 400, 0.9);
    const events = push(ep, 600, 0); // back to silenceMs after the caller went on
    const finals = of(events, 'final');
    expect(finals).toHaveLength(1);
    expect(finals[0]!.speechMs).toBe(1000);
    expect(finals[0]!.pauseId).toBeDefined();
  });

  it('a stale pause (speech resumed) or an idle endpointer ignores endAfter', () => {
    const ep = new Endpointer({ ...BASE, pauseMs: 100 });
    push(ep, 600, 0.9);
    const p = of(push(ep, 120, 0), 'pause')[0]!;
    push(ep, 100, 0.9);
    expect(ep.endAfter(p.pauseId, 1)).toHaveLength(0);
    expect(ep.isInSpeech).toBe(true);
    push(ep, 600, 0);
    expect(ep.endAfter(p.pauseId + 1, 1)).toHaveLength(0);
  });

  it('speech after a pause emits resumed; silence reaching settledMs emits settled once per silence run', () => {
    const ep = new Endpointer({ ...BASE, silenceMs: 2000, pauseMs: 100, settledMs: 300 });
    const types = (events: EndpointerEvent[]) => events.map((e) => e.type).filter((t) => t !== 'partial');
    expect(types([...push(ep, 600, 0.9), ...push(ep, 200, 0)])).toEqual(['speechStart', 'pause']);
    const p1 = ep.currentPauseId!;
    expect(push(ep, 20, 0.9)).toEqual([{ type: 'resumed', pauseId: p1 }]);
    const run = [...push(ep, 200, 0.9), ...push(ep, 600, 0)];
    expect(types(run)).toEqual(['pause', 'settled']);
    expect(of(run, 'settled')[0]!.pauseId).toBe(p1 + 1);
    expect(types(push(ep, 600, 0))).toEqual([]);
    // Without settledMs: never.
    const plain = new Endpointer({ ...BASE, silenceMs: 2000, pauseMs: 100 });
    expect(types([...push(plain, 600, 0.9), ...push(plain, 1000, 0)])).toEqual(['speechStart', 'pause']);
  });

  it('pauseMs 0 emits no pauses (silence-only mode)', () => {
    const ep = new Endpointer({ ...BASE, pauseMs: 0 });
    const events = [...push(ep, 600, 0.9), ...push(ep, 600, 0)];
    expect(events.map((e) => e.type).filter((t) => t !== 'partial')).toEqual(['speechStart', 'final']);
    expect(of(events, 'final')[0]!.pauseId).toBeUndefined();
  });
});
