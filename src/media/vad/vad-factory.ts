/**
 * Builds per-call VADs. `silero` runs the model on a worker thread (silero-remote.ts) and, when that
 * thread cannot start, in this thread (the shared model); when the model cannot load at all, the
 * factory falls back to the energy VAD. Each fallback is reported (`fellBack`, `fallbackReason`) for
 * the caller to log — this module does no I/O of its own beyond loading the model.
 */
import { errorMessage } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import { EnergyVad, type EnergyVadOptions } from './energy-vad';
import { sharedSileroModel, type SileroInference, type SileroModelOptions } from './silero-model';
import { SileroWorkerClient } from './silero-remote';
import { SileroVad, type SileroVadOptions } from './silero-vad';
import type { Vad, VadKind } from './vad';

export interface VadFactoryOptions {
  mode: VadKind;
  energy?: EnergyVadOptions;
  silero?: Omit<SileroVadOptions, 'onAdvance'>;
  model?: Pick<SileroModelOptions, 'modelPath' | 'maxBatch' | 'maxWaitMs'>;
  /** Run Silero on a worker thread (default true). */
  worker?: boolean;
  logger?: Logger;
  /** Injected model loader (tests; implies worker: false); default: the process-wide shared Silero model. */
  loadModel?: (opts: SileroModelOptions) => Promise<SileroInference>;
}

export interface VadFactory {
  /** The detector actually in use (may be 'energy' when 'silero' was asked for). */
  readonly mode: VadKind;
  /** Where Silero runs ('none' for the energy VAD). */
  readonly thread: 'worker' | 'main' | 'none';
  readonly fellBack: boolean;
  readonly fallbackReason?: string;
  /** A fresh detector for one call (no state shared between calls except the model session). */
  create(): Vad;
  /** Stops the worker thread, if any. */
  close(): Promise<void>;
}

export async function createVadFactory(opts: VadFactoryOptions): Promise<VadFactory> {
  const energy = (fellBack: boolean, fallbackReason?: string): VadFactory => ({
    mode: 'energy',
    thread: 'none',
    fellBack,
    fallbackReason,
    create: () => new EnergyVad(opts.energy),
    close: async () => undefined,
  });
  if (opts.mode === 'energy') return energy(false);
  let workerProblem: string | undefined;
  if (opts.worker !== false && !opts.loadModel) {
    try {
      const client = await SileroWorkerClient.start({ model: opts.model ?? {}, vad: opts.silero ?? {}, logger: opts.logger });
      return { mode: 'silero', thread: 'worker', fellBack: false, create: () => client.createVad(), close: () => client.close() };
    } catch (err) {
      workerProblem = errorMessage(err);
    }
  }
  try {
    const model = await (opts.loadModel ?? sharedSileroModel)(opts.model ?? {});
    return {
      mode: 'silero',
      thread: 'main',
      fellBack: workerProblem !== undefined,
      fallbackReason: workerProblem && `Silero VAD worker thread unavailable, running it on the main thread: ${workerProblem}`,
      create: () => new SileroVad(model, opts.silero),
      close: async () => undefined,
    };
  } catch (err) {
    return energy(true, `Silero VAD unavailable, using energy VAD: ${errorMessage(err)}`);
  }
}
