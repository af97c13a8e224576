/**
 * Telnyx media codecs: payload bytes ↔ mono PCM16. createDecoder/createEncoder build per-call
 * codec state; see types.ts for the contract (views valid until the next call, null on bad input).
 */
import { AppError } from '../../../lib/errors';
import { AmrWbDecoder } from './amrwb';
import { L16_DEFAULT_RATE, L16_RATES, isL16Rate } from './encoding';
import { G711Decoder, G711Encoder } from './g711';
import { G722Decoder, G722Encoder } from './g722';
import { L16Decoder, L16Encoder } from './l16';
import { OpusDecoder, OpusEncoder } from './opus';
import type { Decoder, DecoderOptions, Encoder, EncoderOptions, Encoding } from './types';

export type { Decoder, DecoderOptions, Encoder, EncoderOptions, Encoding, L16ByteOrder } from './types';
export { MAX_PAYLOAD_BYTES } from './types';
export { normalizeEncoding, nativeRate, OPUS_RATES, L16_RATES, isL16Rate } from './encoding';
export { isAmrWbAvailable, AmrWbDecoder } from './amrwb';
export { AmrWbPayloadReader, toStorageFrames, AMRWB_FRAME_BITS, type AmrWbPayloadFormat } from './amrwb-payload';
export { L16Decoder, l16PredictionResidual } from './l16';
export { g711DecodeSample, g711EncodeSample } from './g711';

function l16Rate(rate: number | undefined): number {
  if (rate === undefined) return L16_DEFAULT_RATE;
  if (!isL16Rate(rate)) throw new AppError('codec_bad_option', `L16 runs at ${L16_RATES.join('/')} Hz, not ${rate}`);
  return rate;
}

/**
 * A decoder for one stream. Throws AppError('codec_unavailable') for AMR-WB when
 * libopencore-amrwb is missing (check isAmrWbAvailable() first, or catch and fall back to PCMU),
 * and AppError('codec_bad_option') for a rate the codec does not run at (L16: L16_RATES).
 */
export function createDecoder(enc: Encoding, opts: DecoderOptions = {}): Decoder {
  switch (enc) {
    case 'PCMU':
    case 'PCMA':
      return new G711Decoder(enc);
    case 'L16':
      return new L16Decoder(l16Rate(opts.sampleRate), opts.l16ByteOrder ?? 'be');
    case 'G722':
      return new G722Decoder();
    case 'OPUS':
      return new OpusDecoder(opts.sampleRate);
    case 'AMR-WB':
      return new AmrWbDecoder(opts.amrWbPayload ?? 'auto');
  }
}

/** An encoder for one outbound stream. AMR-WB has none (no encoder library is installed). */
export function createEncoder(enc: Encoding, opts: EncoderOptions = {}): Encoder {
  switch (enc) {
    case 'PCMU':
    case 'PCMA':
      return new G711Encoder(enc);
    case 'L16':
      return new L16Encoder(l16Rate(opts.sampleRate), opts.l16ByteOrder ?? 'be');
    case 'G722':
      return new G722Encoder();
    case 'OPUS':
      return new OpusEncoder(opts.sampleRate);
    case 'AMR-WB':
      throw new AppError('codec_unsupported', 'no AMR-WB encoder: ask Telnyx for another bidirectional codec');
  }
}
