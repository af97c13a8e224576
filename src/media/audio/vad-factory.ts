/**
 * Builds per-call VADs. `silero` loads the shared model once; when it cannot load, the factory falls
 * back to the energy VAD and says so (`fellBack`, `fallbackReason`) for the caller to log — this
 * module does no I/O of its own beyond loading the model.
 */
import { errorMessage } from '../../lib/errors';
import { EnergyVad, type EnergyVadOptions } from './energy-vad';
import { sharedSileroModel, type SileroInference, type SileroModelOptions } from './silero-model';
import { SileroVad, type SileroVadOptions } from './silero-vad';
import type { Vad, VadKind } from './vad';

export interface VadFactoryOptions {
  mode: VadKind;
  energy?: EnergyVadOptions;
  silero?: SileroVadOptions;
  model?: SileroModelOptions;
  /** Injected model loader (tests); default: the process-wide shared Silero model. */
  loadModel?: (opts: SileroModelOptions) => Promise<SileroInference>;
}

export interface VadFactory {
  /** The detector actually in use (may be 'energy' when 'silero' was asked for). */
  readonly mode: VadKind;
  readonly fellBack: boolean;
  readonly fallbackReason?: string;
  /** A fresh detector for one call (no state shared between calls except the model session). */
  create(): Vad;
}

export async function createVadFactory(opts: VadFactoryOptions): Promise<VadFactory> {
  const energy = (fellBack: boolean, fallbackReason?: string): VadFactory => ({
    mode: 'energy',
    fellBack,
    fallbackReason,
    create: () => new EnergyVad(opts.energy),
  });
  if (opts.mode === 'energy') return energy(false);
  try {
    const model = await (opts.loadModel ?? sharedSileroModel)(opts.model ?? {});
    return { mode: 'silero', fellBack: false, create: () => new SileroVad(model, opts.silero) };
  } catch (err) {
    return energy(true, `Silero VAD unavailable, using energy VAD: ${errorMessage(err)}`);
  }
}
