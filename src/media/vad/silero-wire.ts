/**
 * Messages between the main thread and the Silero worker (silero-remote.ts ↔ silero-worker.ts).
 *
 * main → worker: `{ meta: Int32Array, pcm: Int16Array }`, both transferred; `meta` is a list of
 * 4-int ops `[op, streamId, offset, length]` applied in order (`offset`/`length` index into `pcm`
 * for OP_PCM, unused otherwise).
 * worker → main: `WorkerReply`; `records` is a Float64Array of REC_FIELDS-wide records
 * `[streamId, consumedSamples, prob, +inferred, +gated, +dropped]`, one per advance of a stream's
 * scoring, in order.
 */
export const OP_PCM = 0;
export const OP_OPEN = 1;
export const OP_CLOSE = 2;
/** Finish the run in progress, release the model and end the thread (the rest of the message is ignored). */
export const OP_STOP = 3;
export const REC_FIELDS = 6;

export interface WorkerInit {
  model: { modelPath?: string; maxBatch?: number; maxWaitMs?: number };
  vad: { gateMarginDb?: number; gateMinDbfs?: number; hangoverProb?: number; maxBacklogMs?: number };
}

export type WorkerReply = { type: 'ready' } | { type: 'error'; message: string } | { type: 'records'; recs: Float64Array };
