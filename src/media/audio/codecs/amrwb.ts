/**
 * AMR-WB decoding through Debian's libopencore-amrwb0 (3GPP reference decoder) via koffi.
 * The library is loaded once, lazily; if it is missing, createDecoder('AMR-WB') throws
 * AppError('codec_unavailable') and the caller re-requests a codec we can always decode (PCMU).
 * Output: 320 samples (20 ms at 16 kHz) per frame in the payload.
 */
import { AppError, errorMessage } from '../../../lib/errors';
import { AMRWB_MAX_FRAMES, AMRWB_SLOT_BYTES, AmrWbPayloadReader, type AmrWbPayloadFormat } from './amrwb-payload';
import { Int16Frames } from './frame-buffer';
import { MAX_PAYLOAD_BYTES, type Decoder } from './types';

const FRAME_SAMPLES = 320;
/** Debian/Ubuntu soname first, then an unversioned dev symlink, then Homebrew's. */
const LIBRARY_NAMES = ['libopencore-amrwb.so.0', 'libopencore-amrwb.so', 'libopencore-amrwb.0.dylib'];

interface AmrWbLib {
  init(): unknown;
  decode(state: unknown, frame: Uint8Array, out: Int16Array, bfi: number): void;
  exit(state: unknown): void;
}

/** Safety net for decoders dropped without close(): frees the native state when collected. */
const leaked = new FinalizationRegistry<{ lib: AmrWbLib; state: unknown }>(({ lib: l, state }) => l.exit(state));

let lib: AmrWbLib | null | undefined;
let loadFailure = '';

function loadLibrary(): AmrWbLib | null {
  if (lib !== undefined) return lib;
  lib = null;
  const failures: string[] = [];
  try {
    const koffi = require('koffi') as typeof import('koffi');
    for (const name of LIBRARY_NAMES) {
      try {
        const h = koffi.load(name);
        lib = {
          init: h.func('void *D_IF_init(void)'),
          decode: h.func('void D_IF_decode(void *state, const uint8_t *bits, int16_t *synth, int bfi)'),
          exit: h.func('void D_IF_exit(void *state)'),
        };
        break;
      } catch (err) {
        failures.push(errorMessage(err));
      }
    }
  } catch (err) {
    failures.push(`koffi: ${errorMessage(err)}`);
  }
  if (!lib) loadFailure = failures.join('; ');
  return lib;
}

/** Whether AMR-WB can be decoded in this process (cached after the first call). */
export function isAmrWbAvailable(): boolean {
  return loadLibrary() !== null;
}

export class AmrWbDecoder implements Decoder {
  readonly encoding = 'AMR-WB' as const;
  readonly sampleRate = 16000;
  private readonly lib: AmrWbLib;
  private state: unknown;
  private readonly reader: AmrWbPayloadReader;
  private readonly frames = new Uint8Array(AMRWB_MAX_FRAMES * AMRWB_SLOT_BYTES);
  /** Views made once, so a decode allocates nothing: frame slot k in, 320 samples at k × 320 out. */
  private readonly slots: Uint8Array[] = [];
  private readonly pcm = new Int16Frames(AMRWB_MAX_FRAMES * FRAME_SAMPLES);
  private readonly pcmSlots: Int16Array[] = [];

  /** @throws AppError('codec_unavailable') when libopencore-amrwb cannot be loaded. */
  constructor(payloadFormat: AmrWbPayloadFormat | 'auto' = 'auto') {
    const loaded = loadLibrary();
    if (!loaded) {
      throw new AppError('codec_unavailable', `AMR-WB decoding needs libopencore-amrwb (apt: libopencore-amrwb0): ${loadFailure}`, {
        status: 503,
      });
    }
    this.lib = loaded;
    this.reader = new AmrWbPayloadReader(payloadFormat);
    const pcm = this.pcm.reserve(AMRWB_MAX_FRAMES * FRAME_SAMPLES);
    for (let k = 0; k < AMRWB_MAX_FRAMES; k += 1) {
      this.slots.push(this.frames.subarray(k * AMRWB_SLOT_BYTES, (k + 1) * AMRWB_SLOT_BYTES));
      this.pcmSlots.push(pcm.subarray(k * FRAME_SAMPLES, (k + 1) * FRAME_SAMPLES));
    }
    this.state = this.lib.init();
    leaked.register(this, { lib: this.lib, state: this.state }, this);
  }

  /** The payload format in use (undefined while 'auto' is still undecided). */
  get payloadFormat(): AmrWbPayloadFormat | undefined {
    return this.reader.format;
  }

  decode(payload: Uint8Array): Int16Array | null {
    if (this.state === undefined || payload.length > MAX_PAYLOAD_BYTES) return null;
    const n = this.reader.read(payload, this.frames);
    if (n <= 0) return null;
    // SID, SPEECH_LOST and NO_DATA frames go to the decoder too: it answers with comfort noise or
    // concealment, which keeps 20 ms of audio per 20 ms frame.
    for (let k = 0; k < n; k += 1) this.lib.decode(this.state, this.slots[k]!, this.pcmSlots[k]!, 0);
    return this.pcm.view(n * FRAME_SAMPLES);
  }

  close(): void {
    if (this.state === undefined) return;
    leaked.unregister(this);
    this.lib.exit(this.state);
    this.state = undefined;
  }
}
