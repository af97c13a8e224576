/** Codec names and rates. Telnyx and SDKs spell codecs many ways; we accept them all. */
import type { Encoding } from './types';

const ALIASES: Readonly<Record<string, Encoding>> = {
  pcmu: 'PCMU', mulaw: 'PCMU', ulaw: 'PCMU', 'mu-law': 'PCMU', g711u: 'PCMU', 'g711-ulaw': 'PCMU', 'x-mulaw': 'PCMU',
  pcma: 'PCMA', alaw: 'PCMA', 'a-law': 'PCMA', g711a: 'PCMA', 'g711-alaw': 'PCMA', 'x-alaw': 'PCMA',
  g722: 'G722', 'g.722': 'G722',
  opus: 'OPUS',
  'amr-wb': 'AMR-WB', amrwb: 'AMR-WB', amr_wb: 'AMR-WB',
  l16: 'L16', linear16: 'L16', pcm: 'L16', 'pcm16': 'L16', s16be: 'L16',
};

/**
 * Liberal codec-name parsing: case-insensitive, optional `audio/` prefix and `;rate=…` parameters
 * (`audio/x-mulaw`, `audio/L16;rate=16000`). Unknown names → undefined.
 */
export function normalizeEncoding(name: string): Encoding | undefined {
  let n = name.trim().toLowerCase();
  const semi = n.indexOf(';');
  if (semi >= 0) n = n.slice(0, semi).trim();
  if (n.startsWith('audio/')) n = n.slice(6);
  return Object.prototype.hasOwnProperty.call(ALIASES, n) ? ALIASES[n] : undefined;
}

/** Telnyx's default `stream_bidirectional_sampling_rate`, so an L16 stream that names no rate. */
export const L16_DEFAULT_RATE = 8000;
/**
 * The only L16 rates we run at: the values Telnyx takes for `stream_bidirectional_sampling_rate`.
 * A fixed list because the rate sizes the resampler to 16 kHz (filter bank, buffers): an arbitrary
 * peer-announced rate (1, 1600003 Hz) would build hundreds of MB.
 */
export const L16_RATES: readonly number[] = [8000, 16000, 22050, 24000, 48000];

export function isL16Rate(rate: number): boolean {
  return L16_RATES.includes(rate);
}

/**
 * Rate of the PCM our decoder produces (and our encoder expects) for `enc`.
 * G.711 is 8 kHz; G.722 and AMR-WB are 16 kHz (whatever RTP clock rate the stream announces:
 * G.722's is 8000 by RFC 3551 accident). L16 is whatever the stream says (`streamRate`).
 * Opus can decode at any of 8/12/16/24/48 kHz without a resampler; we decode at 16 kHz, the
 * rate STT wants, whatever the stream announces (its RTP clock is always 48000), so nothing
 * downstream resamples. createDecoder('OPUS', { sampleRate }) picks another rate deliberately.
 */
export function nativeRate(enc: Encoding, streamRate?: number): number {
  switch (enc) {
    case 'PCMU':
    case 'PCMA':
      return 8000;
    case 'G722':
    case 'AMR-WB':
      return 16000;
    case 'OPUS':
      return OPUS_DEFAULT_RATE;
    case 'L16':
      return streamRate !== undefined && streamRate > 0 ? streamRate : L16_DEFAULT_RATE;
  }
}

/** What we decode Opus at unless told otherwise (see nativeRate). */
export const OPUS_DEFAULT_RATE = 16000;
/** Rates libopus decodes and encodes at natively. */
export const OPUS_RATES: readonly number[] = [8000, 12000, 16000, 24000, 48000];
