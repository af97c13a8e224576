/**
 * Pure WAV (RIFF) parsing and building. Everything downstream works on mono PCM16, so parsing
 * always returns mono Int16 samples whatever the file held (PCM16, extensible PCM16 or float32,
 * any channel count). All multi-byte fields are read and written little-endian explicitly; raw
 * PCM16 runs are block-copied through typed-array views only when the host is little-endian
 * (checked once at load), so the result does not depend on the host byte order.
 */
import { AppError } from '../errors';

export interface ParsedWav {
  sampleRate: number;
  /** Channels in the file; `samples` is always mono. */
  channels: number;
  /** Bits per sample in the file; `samples` is always 16-bit. */
  bitsPerSample: number;
  samples: Int16Array;
  durationMs: number;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Streaming writers that cannot seek back leave the data size at its maximum (or 0). */
const SIZE_UNKNOWN = 0xffffffff;

const invalid = (message: string) => new AppError('invalid_wav', message, { status: 422 });

interface Fmt {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

function readFmt(buf: Buffer, start: number, size: number): Fmt {
  if (size < 16) throw invalid(`fmt chunk too short (${size} bytes)`);
  let format = buf.readUInt16LE(start);
  const channels = buf.readUInt16LE(start + 2);
  const sampleRate = buf.readUInt32LE(start + 4);
  const bitsPerSample = buf.readUInt16LE(start + 14);
  if (format === FORMAT_EXTENSIBLE) {
    // WAVE_FORMAT_EXTENSIBLE: cbSize(2) validBits(2) channelMask(4) then a GUID whose first two
    // bytes are the real format tag (1 = PCM, 3 = IEEE float).
    if (size < 40) throw invalid('extensible fmt chunk too short');
    format = buf.readUInt16LE(start + 24);
  }
  return { format, channels, sampleRate, bitsPerSample };
}

/**
 * Int16Array memory is in host byte order; on a little-endian host (x86, ARM as Node ships it) it
 * already IS the PCM16LE a WAV holds, so it can be copied in one memcpy. Writing sample by sample
 * with writeInt16LE cost ~400 µs per 3 s utterance (bench, EPYC) — and every partial transcript
 * re-sends the whole utterance so far, so this ran many times per utterance on the event loop.
 */
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when the 4 bytes at `offset` look like a chunk id (printable ASCII), i.e. a real chunk follows. */
function looksLikeChunkId(buf: Buffer, offset: number): boolean {
  if (offset + 8 > buf.length) return false;
  for (let i = 0; i < 4; i += 1) {
    const c = buf[offset + i]!;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

export function parseWav(buf: Buffer): ParsedWav {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw invalid('not a RIFF/WAVE file');
  }
  let fmt: Fmt | undefined;
  let data: { start: number; end: number } | undefined;
  let offset = 12;
  // Walk every chunk (LIST, fact, bext, ...) instead of assuming a 44-byte header.
  while (offset + 8 <= buf.length && !data) {
    const id = buf.toString('latin1', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'data') {
      const rest = buf.length - body;
      const unknown = size === SIZE_UNKNOWN || size > rest || (size === 0 && rest > 0 && !looksLikeChunkId(buf, body));
      data = { start: body, end: unknown ? buf.length : body + size };
      break;
    }
    if (body + size > buf.length) throw invalid(`chunk "${id}" runs past the end of the file`);
    if (id === 'fmt ') fmt = readFmt(buf, body, size);
    offset = body + size + (size % 2); // chunks are padded to an even length
  }
  // fmt normally precedes data; tolerate it following data by scanning on.
  if (data && !fmt) {
    let o = data.end + ((data.end - data.start) % 2);
    while (o + 8 <= buf.length && !fmt) {
      const size = buf.readUInt32LE(o + 4);
      if (buf.toString('latin1', o, o + 4) === 'fmt ' && o + 8 + size <= buf.length) fmt = readFmt(buf, o + 8, size);
      o += 8 + size + (size % 2);
    }
  }
  if (!fmt) throw invalid('missing fmt chunk');
  if (!data) throw invalid('missing data chunk');
  return decode(buf, fmt, data.start, data.end);
}

function decode(buf: Buffer, fmt: Fmt, start: number, end: number): ParsedWav {
  const { format, channels, sampleRate, bitsPerSample } = fmt;
  if (channels < 1) throw invalid('zero channels');
  if (sampleRate < 1) throw invalid('zero sample rate');
  const pcm16 = format === FORMAT_PCM && bitsPerSample === 16;
  const float32 = format === FORMAT_FLOAT && bitsPerSample === 32;
  if (!pcm16 && !float32) {
    throw invalid(`unsupported encoding: format ${format}, ${bitsPerSample} bits (need PCM16 or float32)`);
  }
  const bytesPerSample = bitsPerSample / 8;
  const frameBytes = bytesPerSample * channels;
  // A trailing partial frame (truncated stream) is dropped rather than misread.
  const frames = Math.floor((end - start) / frameBytes);
  const samples = new Int16Array(frames);
  if (pcm16 && channels === 1 && HOST_LE) {
    // Mono PCM16LE on a little-endian host: one memcpy (TTS replies are parsed on the turn's path;
    // sample by sample cost ~1 ms per 3 s at 24 kHz).
    new Uint8Array(samples.buffer).set(buf.subarray(start, start + frames * 2));
    return { sampleRate, channels, bitsPerSample, samples, durationMs: (frames / sampleRate) * 1000 };
  }
  for (let f = 0; f < frames; f += 1) {
    const base = start + f * frameBytes;
    let sum = 0;
    for (let c = 0; c < channels; c += 1) {
      const at = base + c * bytesPerSample;
      sum += pcm16 ? buf.readInt16LE(at) : floatToInt16(buf.readFloatLE(at));
    }
    samples[f] = channels === 1 ? sum : Math.round(sum / channels);
  }
  return { sampleRate, channels, bitsPerSample, samples, durationMs: (frames / sampleRate) * 1000 };
}

function floatToInt16(v: number): number {
  if (Number.isNaN(v)) return 0;
  const clamped = v > 1 ? 1 : v < -1 ? -1 : v;
  return Math.round(clamped * 32767);
}


/** Writes `samples` as PCM16LE into `buf` at `offset` (buf needs samples.length * 2 bytes there). */
export function writePcm16le(samples: Int16Array, buf: Buffer, offset: number): void {
  if (HOST_LE) {
    Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).copy(buf, offset);
    return;
  }
  for (let i = 0; i < samples.length; i += 1) buf.writeInt16LE(samples[i]!, offset + i * 2);
}

export const WAV_HEADER_BYTES = 44;

/** The canonical 44-byte header of a mono PCM16 WAV holding `dataBytes` of samples, written at `offset`. */
export function writeWavHeader(buf: Buffer, offset: number, dataBytes: number, sampleRate: number): void {
  buf.write('RIFF', offset, 'latin1');
  buf.writeUInt32LE(36 + dataBytes, offset + 4);
  buf.write('WAVE', offset + 8, 'latin1');
  buf.write('fmt ', offset + 12, 'latin1');
  buf.writeUInt32LE(16, offset + 16);
  buf.writeUInt16LE(FORMAT_PCM, offset + 20);
  buf.writeUInt16LE(1, offset + 22);
  buf.writeUInt32LE(sampleRate, offset + 24);
  buf.writeUInt32LE(sampleRate * 2, offset + 28); // byte rate
  buf.writeUInt16LE(2, offset + 32); // block align
  buf.writeUInt16LE(16, offset + 34);
  buf.write('data', offset + 36, 'latin1');
  buf.writeUInt32LE(dataBytes, offset + 40);
}

/** A canonical 44-byte-header mono PCM16 WAV. */
export function buildWav(samples: Int16Array, sampleRate: number): Buffer {
  const dataBytes = samples.length * 2;
  const buf = Buffer.allocUnsafe(WAV_HEADER_BYTES + dataBytes);
  writeWavHeader(buf, 0, dataBytes, sampleRate);
  writePcm16le(samples, buf, WAV_HEADER_BYTES);
  return buf;
}

/** Raw little-endian PCM16 bytes → samples (an odd trailing byte is dropped). */
export function pcm16leToSamples(buf: Buffer): Int16Array {
  const n = Math.floor(buf.length / 2);
  const samples = new Int16Array(n);
  // Copy through bytes: `buf` may sit at an odd offset of its pool, so no Int16Array view on it.
  if (HOST_LE) new Uint8Array(samples.buffer).set(buf.subarray(0, n * 2));
  else for (let i = 0; i < n; i += 1) samples[i] = buf.readInt16LE(i * 2);
  return samples;
}

/** Cheap sniff: does this buffer start like a WAV file? */
export function isWav(buf: Buffer): boolean {
  return buf.length >= 12 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WAVE';
}
