/**
 * Messages between the main thread and a front-end worker (front-end-pool.ts ↔ front-end-worker.ts).
 * Audio and the endpointer controls travel through the shared ring (front-end-ring.ts); messages
 * carry only what is rare: a call opening (its settings), the worker's events (speech start, pause,
 * partial, final, discarded — audio transferred, not copied) and a closed call's VAD counters,
 * batched per event-loop turn of the worker.
 */
import type { EndpointerConfig, EndpointerEvent } from '../audio/endpointer';
import type { VadStats } from '../vad/vad';
import type { RingBuffers } from './front-end-ring';

export interface FrontEndWorkerInit {
  rings: RingBuffers;
  vad: 'energy' | 'silero';
  model: { modelPath?: string; maxBatch?: number; maxWaitMs?: number };
  /** How often the worker reads the audio in its ring (ms); controls ring its doorbell at once. */
  tickMs: number;
}

/** One call's settings; `endpointer.vadEndLagMs` is filled in by the worker from its VAD. */
export interface SlotSettings {
  highPassCutoffHz: number | null;
  endpointer: Omit<EndpointerConfig, 'vadEndLagMs'>;
}

export type ToWorker = { type: 'open'; slot: number; gen: number; settings: SlotSettings } | { type: 'stop' };

export type WorkerOut =
  | { kind: 'event'; slot: number; gen: number; samples: number; e: EndpointerEvent }
  | { kind: 'closed'; slot: number; gen: number; stats: VadStats }
  | { kind: 'error'; slot: number; gen: number; message: string };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'error'; message: string }
  | { type: 'out'; list: WorkerOut[] };
