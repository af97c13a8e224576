import { EnergyVad } from '../../src/media/vad/energy-vad';
import type { SileroInference, SileroJob } from '../../src/media/vad/silero-model';
import { SileroVad } from '../../src/media/vad/silero-vad';
import { createVadFactory } from '../../src/media/vad/vad-factory';
import { frames, silence, speechLike } from '../support/audio-signals';

/** Stands in for the shared model: queues jobs until the test answers them. */
class FakeModel implements SileroInference {
  jobs: SileroJob[] = [];
  accept = true;
  infer(job: SileroJob): boolean {
    if (!this.accept) return false;
    this.jobs.push(job);
    return true;
  }
  answer(prob: number | null = 0.9): void {
    const job = this.jobs.shift()!;
    job.state[0] = job.state[0]! + 1;
    job.onResult(prob);
  }
}

const loud = speechLike(16000, 3000, -20);
const flush = () => new Promise((r) => setImmediate(r));

describe('SileroVad (with a fake model)', () => {
  it('gates silence: no inference, synchronous 0', () => {
    const model = new FakeModel();
    const vad = new SileroVad(model);
    for (const f of frames(silence(16000, 2000), 320)) expect(vad.push(f)).toBe(0);
    expect(model.jobs).toHaveLength(0);
    expect(vad.stats).toMatchObject({ frames: 62, gated: 62, inferred: 0 });
  });

  it('sends 64 samples of context + 512 new samples, scaled to ±1, and carries the state', async () => {
    const model = new FakeModel();
    const vad = new SileroVad(model);
    const first = vad.push(loud.subarray(0, 512));
    expect(first).toBeInstanceOf(Promise);
    const job = model.jobs[0]!;
    expect(Array.from(job.input.subarray(0, 64))).toEqual(new Array(64).fill(0));
    expect(job.input[64 + 100]).toBeCloseTo(loud[100]! / 32768, 6);
    model.answer(0.8);
    await expect(first).resolves.toBeCloseTo(0.8, 6);
    const second = vad.push(loud.subarray(512, 1024));
    expect(model.jobs[0]!.input[0]).toBeCloseTo(loud[512 - 64]! / 32768, 6);
    expect(model.jobs[0]!.input[64]).toBeCloseTo(loud[512]! / 32768, 6);
    model.answer(0.7);
    await second;
    expect(vad.state[0]).toBe(2);
  });

  it('resolves pushes in order, even ones that complete no frame while inference is pending', async () => {
    const model = new FakeModel();
    const vad = new SileroVad(model);
    const order: string[] = [];
    const results = [...frames(loud.subarray(0, 1600), 320)].map((f, i) => {
      const r = vad.push(f);
      void Promise.resolve(r).then((p) => order.push(`${i}:${p}`));
      return r;
    });
    expect(results[0]).toBe(0); // no complete 512-sample frame yet, nothing pending
    expect(results[1]).toBeInstanceOf(Promise);
    model.answer(0.9);
    await flush();
    model.answer(0.6);
    await flush();
    expect(order).toEqual(['0:0', '1:0.9', '2:0.9', '3:0.6']);
    model.answer(0.3);
    await flush();
    expect(order).toEqual(['0:0', '1:0.9', '2:0.9', '3:0.6', '4:0.3']);
  });

  it('bounds the backlog when the model falls behind: oldest whole frames are dropped unscored', async () => {
    const model = new FakeModel();
    const vad = new SileroVad(model, { maxBacklogMs: 256 });
    const pending = [...frames(loud, 320)].map((f) => vad.push(f));
    expect(model.jobs).toHaveLength(1);
    expect(vad.stats.dropped).toBeGreaterThan(70);
    while (model.jobs.length > 0) {
      model.answer(0.9);
      await flush();
    }
    await Promise.all(pending);
    expect(vad.stats.frames).toBe(Math.floor(loud.length / 512));
    expect(vad.stats.inferred + vad.stats.dropped + vad.stats.gated).toBe(vad.stats.frames);
  });

  it('treats a full model queue or a failed run as "unscored": keeps the last probability', async () => {
    const model = new FakeModel();
    model.accept = false;
    const vad = new SileroVad(model);
    for (const f of frames(loud.subarray(0, 3200), 320)) expect(vad.push(f)).toBe(0);
    expect(vad.stats.dropped).toBe(6); // loud from the first frame (the gate starts at a quiet-line floor)
    model.accept = true;
    const p = vad.push(loud.subarray(3200, 3712));
    model.answer(null);
    await expect(p).resolves.toBe(0);
  });

  it('reset() while a frame is in flight discards its result and state', async () => {
    const model = new FakeModel();
    const vad = new SileroVad(model);
    const p = vad.push(loud.subarray(0, 512));
    vad.reset();
    await expect(p).resolves.toBe(0);
    model.answer(0.9);
    expect(vad.state[0]).toBe(0);
    expect(vad.push(silence(16000, 32))).toBe(0);
  });
});

describe('createVadFactory', () => {
  it('energy mode builds independent EnergyVads', async () => {
    const f = await createVadFactory({ mode: 'energy' });
    expect(f).toMatchObject({ mode: 'energy', fellBack: false });
    expect(f.create()).toBeInstanceOf(EnergyVad);
    expect(f.create()).not.toBe(f.create());
  });

  it('silero mode builds SileroVads on one shared model', async () => {
    const model = new FakeModel();
    const load = jest.fn(async () => model);
    const f = await createVadFactory({ mode: 'silero', loadModel: load });
    expect(f).toMatchObject({ mode: 'silero', fellBack: false });
    expect(f.create()).toBeInstanceOf(SileroVad);
    f.create();
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('falls back to energy with a reason when the model cannot load', async () => {
    const f = await createVadFactory({ mode: 'silero', loadModel: () => Promise.reject(new Error('boom')) });
    expect(f.mode).toBe('energy');
    expect(f.fellBack).toBe(true);
    expect(f.fallbackReason).toMatch(/boom/);
    expect(f.create()).toBeInstanceOf(EnergyVad);
  });
});
