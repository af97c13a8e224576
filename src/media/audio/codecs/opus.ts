/**
 * Opus via opusscript's WASM build of libopus 1.4. One Telnyx message = one Opus packet (20 ms).
 *
 * We drive the WASM module ourselves instead of through opusscript's JS class because that class
 * caches typed-array views of the WASM heap at construction: once enough codecs exist that the
 * heap grows (≈150 instances), every older instance's views are detached and it breaks. We read
 * the module's current HEAP views on every call instead. One module per process, lazily loaded;
 * each decoder/encoder owns one native handler plus two heap buffers, freed by close().
 */
import { AppError } from '../../../lib/errors';
import { OPUS_DEFAULT_RATE, OPUS_RATES } from './encoding';
import { Int16Frames, Uint8Frames } from './frame-buffer';
import type { Decoder, Encoder } from './types';

interface OpusHandler {
  /** Decodes `bytes` at `inPtr`; writes each sample as two 16-bit slots (low byte, high byte). */
  _decode(inPtr: number, bytes: number, outPtr: number): number;
  /** Encodes `samples` PCM16 stored one byte per 16-bit slot (low, high) at `inPtr`. */
  _encode(inPtr: number, samples: number, outPtr: number, frameSize: number): number;
  _encoder_ctl(request: number, value: number): number;
}

interface OpusModule {
  HEAPU8: Uint8Array;
  HEAP16: Int16Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  OpusScriptHandler: { new (rate: number, channels: number, application: number): OpusHandler; destroy_handler(h: OpusHandler): void };
}

/** libopus limits: 120 ms at 48 kHz is the longest frame; 1275 bytes × 3 the longest packet. */
const MAX_FRAME_SAMPLES = 5760;
const MAX_PACKET_BYTES = 3828;
const OPUS_APPLICATION_VOIP = 2048;
const OPUS_SET_COMPLEXITY_REQUEST = 4010;
/**
 * libopus defaults to complexity 10: ~600 µs per 20 ms frame in WASM here. 5 costs ~170 µs and is
 * what real-time VoIP stacks commonly run; speech quality at 16 kHz is near-identical.
 */
const ENCODER_COMPLEXITY = 5;

let opusModule: OpusModule | undefined;

function loadModule(): OpusModule {
  // The package's own build, loaded as a fresh module instance (synchronous WASM compile).
  opusModule ??= (require('opusscript/build/opusscript_native_wasm.js') as () => OpusModule)();
  return opusModule;
}

function checkRate(rate: number): number {
  if (!OPUS_RATES.includes(rate)) throw new AppError('codec_bad_option', `Opus cannot run at ${rate} Hz (use ${OPUS_RATES.join('/')})`);
  return rate;
}

/** Safety net for codecs dropped without close(): frees their WASM memory when collected. */
const leaked = new FinalizationRegistry<OpusNative>((native) => native.free());

/** A native handler with an input and an output heap buffer. */
class OpusNative {
  readonly mod = loadModule();
  handler: OpusHandler | undefined;
  readonly inPtr: number;
  readonly outPtr: number;

  constructor(owner: object, rate: number, inBytes: number, outBytes: number) {
    this.handler = new this.mod.OpusScriptHandler(rate, 1, OPUS_APPLICATION_VOIP);
    this.inPtr = this.mod._malloc(inBytes);
    this.outPtr = this.mod._malloc(outBytes);
    leaked.register(owner, this, this);
  }

  free(): void {
    if (!this.handler) return;
    leaked.unregister(this);
    this.mod.OpusScriptHandler.destroy_handler(this.handler);
    this.mod._free(this.inPtr);
    this.mod._free(this.outPtr);
    this.handler = undefined;
  }
}

export class OpusDecoder implements Decoder {
  readonly encoding = 'OPUS' as const;
  readonly sampleRate: number;
  private readonly native: OpusNative;
  private readonly out = new Int16Frames(320);

  constructor(sampleRate = OPUS_DEFAULT_RATE) {
    this.sampleRate = checkRate(sampleRate);
    // The handler writes 2 slots of 2 bytes per sample.
    this.native = new OpusNative(this, this.sampleRate, MAX_PACKET_BYTES, MAX_FRAME_SAMPLES * 4);
  }

  decode(payload: Uint8Array): Int16Array | null {
    const { handler, mod, inPtr, outPtr } = this.native;
    if (!handler || payload.length === 0 || payload.length > MAX_PACKET_BYTES) return null;
    mod.HEAPU8.set(payload, inPtr);
    const n = handler._decode(inPtr, payload.length, outPtr);
    if (n <= 0) return null; // negative = libopus error (OPUS_INVALID_PACKET, …)
    const heap = mod.HEAP16;
    const buf = this.out.reserve(n);
    for (let i = 0, k = outPtr >> 1; i < n; i += 1, k += 2) buf[i] = ((heap[k + 1]! << 24) | ((heap[k]! & 0xff) << 16)) >> 16;
    return this.out.view(n);
  }

  close(): void {
    this.native.free();
  }
}

/** Encodes exactly one 20 ms frame per call (Telnyx sends and expects one packet per message). */
export class OpusEncoder implements Encoder {
  readonly encoding = 'OPUS' as const;
  readonly sampleRate: number;
  private readonly frameSamples: number;
  private readonly native: OpusNative;
  private readonly out = new Uint8Frames(MAX_PACKET_BYTES);

  constructor(sampleRate = OPUS_DEFAULT_RATE) {
    this.sampleRate = checkRate(sampleRate);
    this.frameSamples = this.sampleRate / 50;
    // The handler reads 2 slots of 2 bytes per sample.
    this.native = new OpusNative(this, this.sampleRate, MAX_FRAME_SAMPLES * 4, MAX_PACKET_BYTES);
    this.native.handler!._encoder_ctl(OPUS_SET_COMPLEXITY_REQUEST, ENCODER_COMPLEXITY);
  }

  encode(pcm: Int16Array): Uint8Array {
    const { handler, mod, inPtr, outPtr } = this.native;
    if (!handler) throw new AppError('codec_closed', 'Opus encoder used after close()');
    if (pcm.length !== this.frameSamples) {
      throw new AppError('codec_frame_size', `Opus encodes one 20 ms frame (${this.frameSamples} samples), got ${pcm.length}`);
    }
    const heap = mod.HEAP16;
    for (let i = 0, k = inPtr >> 1; i < pcm.length; i += 1, k += 2) {
      heap[k] = pcm[i]! & 0xff;
      heap[k + 1] = (pcm[i]! >> 8) & 0xff;
    }
    const n = handler._encode(inPtr, pcm.length, outPtr, this.frameSamples);
    if (n < 0) throw new AppError('codec_encode_failed', `Opus encode failed (libopus error ${n})`);
    const buf = this.out.reserve(n);
    const bytes = mod.HEAPU8;
    for (let i = 0; i < n; i += 1) buf[i] = bytes[outPtr + i]!;
    return this.out.view(n);
  }

  close(): void {
    this.native.free();
  }
}
