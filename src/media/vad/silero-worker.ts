/**
 * Worker-thread host of the Silero VAD (see silero-remote.ts for why and for the wire format).
 *
 * Holds one SileroVad per caller stream on top of one SileroModel; every time a stream's scoring
 * advances, a record goes back to the main thread. Records are batched per event-loop turn of this
 * thread into one Float64Array message (transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../lib/errors';
import { SileroModel, type SileroModelOptions } from './silero-model';
import { SileroVad, type SileroVadOptions } from './silero-vad';
import { OP_CLOSE, OP_OPEN, OP_PCM, OP_STOP, REC_FIELDS, type WorkerInit, type WorkerReply } from './silero-wire';

interface Stream {
  vad: SileroVad;
  /** Stats already reported (the main thread receives deltas). */
  inferred: number;
  gated: number;
  dropped: number;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('silero-worker must run in a worker thread');
  const init = workerData as WorkerInit;
  let model: SileroModel;
  try {
    model = await SileroModel.load(init.model as SileroModelOptions);
  } catch (err) {
    port.postMessage({ type: 'error', message: errorMessage(err) } satisfies WorkerReply);
    return;
  }
  const streams = new Map<number, Stream>();
  let out = new Float64Array(REC_FIELDS * 1024);
  let outLen = 0;
  let flushScheduled = false;

  const flush = (): void => {
    flushScheduled = false;
    if (outLen === 0) return;
    const recs = out.slice(0, outLen);
    outLen = 0;
    port.postMessage({ type: 'records', recs } satisfies WorkerReply, [recs.buffer]);
  };

  const record = (id: number, s: Stream, consumed: number, prob: number): void => {
    if (outLen + REC_FIELDS > out.length) {
      const grown = new Float64Array(out.length * 2);
      grown.set(out.subarray(0, outLen));
      out = grown;
    }
    const st = s.vad.stats;
    out[outLen] = id;
    out[outLen + 1] = consumed;
    out[outLen + 2] = prob;
    out[outLen + 3] = st.inferred - s.inferred;
    out[outLen + 4] = st.gated - s.gated;
    out[outLen + 5] = st.dropped - s.dropped;
    outLen += REC_FIELDS;
    s.inferred = st.inferred;
    s.gated = st.gated;
    s.dropped = st.dropped;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const open = (id: number): void => {
    const opts: SileroVadOptions = {
      ...(init.vad as SileroVadOptions),
      onAdvance: (consumed, prob) => {
        const s = streams.get(id);
        if (s) record(id, s, consumed, prob);
      },
    };
    streams.set(id, { vad: new SileroVad(model, opts), inferred: 0, gated: 0, dropped: 0 });
  };

  let stopping = false;
  const stop = (): void => {
    stopping = true;
    streams.clear();
    model.stop().then(
      () => port.close(),
      () => port.close(),
    );
  };

  port.on('message', (msg: { meta: Int32Array; pcm: Int16Array }) => {
    if (stopping) return;
    const { meta, pcm } = msg;
    for (let i = 0; i + 3 < meta.length; i += 4) {
      const op = meta[i]!;
      const id = meta[i + 1]!;
      if (op === OP_PCM) {
        const s = streams.get(id);
        if (!s) continue;
        const off = meta[i + 2]!;
        const r = s.vad.push(pcm.subarray(off, off + meta[i + 3]!));
        // Progress is reported through onAdvance; a rejected promise cannot happen (failed runs
        // resolve with the last probability), but never leave one unhandled.
        if (typeof r !== 'number') r.catch(() => undefined);
      } else if (op === OP_OPEN) {
        open(id);
      } else if (op === OP_CLOSE) {
        streams.delete(id);
      } else if (op === OP_STOP) {
        return stop();
      }
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
}

main().catch((err: unknown) => {
  parentPort?.postMessage({ type: 'error', message: errorMessage(err) } satisfies WorkerReply);
});
