/**
 * A front-end worker thread (see front-end-pool.ts): runs the speech front end (resample →
 * high-pass → VAD → endpointer) of every call pinned to it. Reads PCM and controls from its shared
 * ring every `tickMs` while it has calls (and at once when the doorbell rings: controls); publishes each call's state (in speech,
 * current pause, frames done) in the shared slot table; posts events back batched per turn.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Endpointer } from '../audio/endpointer';
import { errorMessage } from '../../lib/errors';
import { ENERGY_END_LAG_MS, EnergyVad } from '../vad/energy-vad';
import { SileroModel, type SileroModelOptions } from '../vad/silero-model';
import { SILERO_END_LAG_MS, SileroVad } from '../vad/silero-vad';
import type { EndpointerEvent } from '../audio/endpointer';
import type { Vad } from '../vad/vad';
import { LocalFrontEnd } from './local-front-end';
import { BELL, CONSUMED, OP_CLOSE, OP_END_AFTER, OP_PCM, OP_RESET, RingReader, SLOT_WORDS, S_DONE, S_GEN, S_IN_SPEECH, S_PAUSE } from './front-end-ring';
import type { FromWorker, FrontEndWorkerInit, SlotSettings, ToWorker, WorkerOut } from './front-end-wire';

/** An event's audio buffer when the event owns all of it (endpointer audio is always a fresh copy): transferred, not copied. */
function ownBuffer(e: EndpointerEvent): ArrayBuffer | undefined {
  if (!('audio' in e) || !e.audio) return undefined;
  const a = e.audio;
  return a.byteOffset === 0 && a.byteLength > 0 && a.byteLength === a.buffer.byteLength ? (a.buffer as ArrayBuffer) : undefined;
}

interface Slot {
  gen: number;
  fe: LocalFrontEnd;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('front-end-worker must run in a worker thread');
  const init = workerData as FrontEndWorkerInit;
  let model: SileroModel | undefined;
  let model8k: SileroModel | undefined;
  if (init.vad === 'silero') {
    try {
      model = await SileroModel.load(init.model as SileroModelOptions);
      model8k = await SileroModel.load({ ...(init.model as SileroModelOptions), sampleRate: 8000 });
    } catch (err) {
      port.postMessage({ type: 'error', message: errorMessage(err) } satisfies FromWorker);
      return;
    }
  }
  const reader = new RingReader(init.rings);
  const table = new Int32Array(init.rings.slots);
  const slots = new Map<number, Slot>();
  /** Low 16 bits of the newest generation opened (records of later ones wait for their open). */
  let lastOpened = -1;
  let out: WorkerOut[] = [];
  const transfer: ArrayBuffer[] = [];
  let flushScheduled = false;
  let stopping = false;
  /** Event batches posted; the main thread counts the ones it handled in the ring's CONSUMED word. */
  let posted = 0;
  /** Batches the main thread may have outstanding before partials are shed. */
  const MAX_OUTSTANDING = 2;
  /**
   * Beyond this many unhandled batches the worker stops reading its ring (backpressure): the audio
   * waits there (bounded; the main thread drops frames when it is full) instead of the main thread's
   * message queue filling with utterance copies while it is starved of CPU.
   */
  const MAX_UNHANDLED = 4;
  const mainBehind = (): boolean => posted - Atomics.load(reader.ctl, CONSUMED) > MAX_UNHANDLED;

  const flush = (): void => {
    flushScheduled = false;
    if (out.length === 0) return;
    const list = out;
    out = [];
    posted += 1;
    port.postMessage({ type: 'out', list } satisfies FromWorker, transfer.splice(0));
  };
  const emit = (o: WorkerOut, buf?: ArrayBuffer): void => {
    // Partials are best effort: not while the main thread lags behind our batches (each carries a
    // copy of the utterance so far; queued without bound they would only grow its backlog).
    if (o.kind === 'event' && o.e.type === 'partial' && posted - Atomics.load(reader.ctl, CONSUMED) >= MAX_OUTSTANDING) return;
    out.push(o);
    if (buf) transfer.push(buf);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const publish = (slot: number, s: Slot): void => {
    const b = slot * SLOT_WORDS;
    const pause = s.fe.currentPauseId;
    Atomics.store(table, b + S_IN_SPEECH, s.fe.isInSpeech ? 1 : 0);
    Atomics.store(table, b + S_PAUSE, pause === undefined ? 0 : pause + 1);
    Atomics.store(table, b + S_DONE, s.fe.framesDone);
    Atomics.store(table, b + S_GEN, s.gen);
  };

  /** A call's VAD once its codec rate is known: telephony (8 kHz) audio is scored by the 8 kHz model, as it arrives. */
  const vadFor = (rate: number): Vad => (model8k && rate === 8000 ? new SileroVad(model8k) : model ? new SileroVad(model) : new EnergyVad());

  const open = (slot: number, gen: number, settings: SlotSettings): void => {
    const s: Slot = {
      gen,
      fe: new LocalFrontEnd({
        highPassCutoffHz: settings.highPassCutoffHz,
        vad: vadFor,
        endpointer: new Endpointer({ ...settings.endpointer, vadEndLagMs: model ? SILERO_END_LAG_MS : ENERGY_END_LAG_MS }),
        onVadError: (err) => emit({ kind: 'error', slot, gen, message: errorMessage(err) }),
        onProgress: () => publish(slot, s),
      }),
    };
    s.fe.attach((e, samples) => emit({ kind: 'event', slot, gen, samples, e }, ownBuffer(e)));
    slots.set(slot, s);
    lastOpened = gen & 0xffff;
    publish(slot, s);
  };

  /** Applies ring records in order; stops at a record of a call whose open has not arrived yet. */
  const drain = (): void => {
    if (mainBehind()) return; // read again at the next tick, once the main thread has handled its batches
    for (let rec = reader.peek(); rec; rec = reader.peek()) {
      const s = slots.get(rec.slot);
      if (!s || (s.gen & 0xffff) !== rec.gen) {
        const ahead = (rec.gen - lastOpened) & 0xffff;
        if (ahead !== 0 && ahead < 0x8000) return; // its open message is still on the way
        reader.consume(); // a closed call's leftovers
        continue;
      }
      try {
        if (rec.op === OP_PCM) s.fe.push(rec.pcm, rec.a);
        else if (rec.op === OP_END_AFTER) {
          for (const e of s.fe.endAfter(rec.a, rec.b)) emit({ kind: 'event', slot: rec.slot, gen: s.gen, samples: s.fe.streamSamples, e }, ownBuffer(e));
          publish(rec.slot, s);
        } else if (rec.op === OP_RESET) {
          s.fe.reset();
          publish(rec.slot, s);
        } else if (rec.op === OP_CLOSE) {
          const slot = rec.slot;
          slots.delete(slot);
          s.fe.close((stats) => emit({ kind: 'closed', slot, gen: s.gen, stats }));
        }
      } catch (err) {
        emit({ kind: 'error', slot: rec.slot, gen: s.gen, message: errorMessage(err) });
      }
      reader.consume();
    }
  };

  port.on('message', (m: ToWorker) => {
    if (m.type === 'open') {
      open(m.slot, m.gen, m.settings);
      drain();
      // An idle worker waits without a tick: wake its loop so the tick runs again.
      Atomics.add(reader.ctl, BELL, 1);
      Atomics.notify(reader.ctl, BELL);
    } else if (m.type === 'stop') {
      stopping = true;
      slots.clear();
      flush();
      const done = () => port.close();
      Promise.all([model?.stop(), model8k?.stop()]).then(done, done);
    }
  });

  // Atomics.waitAsync is in Node 20 (V8) but not in the ES2022 lib this project compiles against.
  const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, timeoutMs: number): { async: boolean; value: Promise<unknown> | string } }).waitAsync;
  const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const loop = async (): Promise<void> => {
    while (!stopping) {
      const seen = reader.doorbell;
      drain();
      // Audio is read on a tick (the main thread rings only for controls): one wake-up per tick
      // for every call instead of one per main event-loop turn; none while the worker has no calls.
      const w = waitAsync(reader.ctl, BELL, seen, slots.size > 0 ? init.tickMs : Infinity);
      // Let this thread's other work run (Silero results, messages) before the next drain.
      if (w.async) await w.value;
      else await yieldTurn();
    }
  };
  port.postMessage({ type: 'ready' } satisfies FromWorker);
  await loop();
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'error', message: errorMessage(err) } satisfies FromWorker);
});
