/**
 * The codec contract. Every decoder/encoder is per call (it carries that call's codec state),
 * pure (no I/O, timers or logs) and allocation-free per frame once warmed up: results are views
 * into buffers the codec owns, valid until its next call — copy them if you keep them.
 */
import type { AmrWbPayloadFormat } from './amrwb-payload';

/** Codec names as Telnyx spells them in `media_format.encoding` and `stream_codec`. */
export type Encoding = 'PCMU' | 'PCMA' | 'L16' | 'G722' | 'OPUS' | 'AMR-WB';

/** L16 sample byte order; RTP L16 (RFC 3551 §4.5.11) is network order, i.e. big-endian. */
export type L16ByteOrder = 'be' | 'le';

export interface Decoder {
  readonly encoding: Encoding;
  /** Rate of the PCM that decode() returns. */
  readonly sampleRate: number;
  /**
   * One media payload (codec bytes, no RTP header) → mono PCM16 at `sampleRate`. The result is a
   * view into a buffer owned by this decoder, valid until the next decode() call. Returns null
   * when the payload cannot be decoded (empty, corrupt, wrong size); never throws on bad input.
   */
  decode(payload: Uint8Array): Int16Array | null;
  /** Frees native/WASM state. Idempotent; decode() after close() returns null. */
  close(): void;
}

export interface Encoder {
  readonly encoding: Encoding;
  /** Rate the PCM handed to encode() must have. */
  readonly sampleRate: number;
  /**
   * Mono PCM16 at `sampleRate` → codec bytes for one media message. The result is a view into a
   * buffer owned by this encoder, valid until the next encode() call (base64 it right away).
   */
  encode(pcm: Int16Array): Uint8Array;
  /** Frees native/WASM state. Idempotent. */
  close(): void;
}

export interface DecoderOptions {
  /** L16: the stream's `media_format.sample_rate`. OPUS: the rate to decode at. Others: fixed. */
  sampleRate?: number;
  /** L16 only; default 'be'. 'auto' decides per stream from the audio itself (see l16.ts). */
  l16ByteOrder?: L16ByteOrder | 'auto';
  /** AMR-WB only; default 'auto' (RFC 4867 octet-aligned, bandwidth-efficient, or storage frames). */
  amrWbPayload?: AmrWbPayloadFormat | 'auto';
}

export interface EncoderOptions {
  /** L16: the rate Telnyx expects (`stream_bidirectional_sampling_rate`). OPUS: 8/12/16/24/48 kHz. */
  sampleRate?: number;
  /** L16 only; default 'be'. */
  l16ByteOrder?: L16ByteOrder;
}

/**
 * Decoders refuse payloads above this size. Telnyx sends one 20 ms frame per message (L16 at
 * 48 kHz: 1,920 bytes); 64 KiB is 2 s of 16 kHz L16, so anything larger is not a media frame.
 */
export const MAX_PAYLOAD_BYTES = 65536;
