/**
 * G.711 µ-law (PCMU) and A-law (PCMA), 8 kHz, one byte per sample. Table driven: decoding is a
 * 256-entry lookup; encoding a 65,536-entry lookup indexed by the 16-bit sample (64 KiB per law,
 * built once on first use from alawmulaw's reference encoder, so results are identical to it).
 */
import { alaw, mulaw } from 'alawmulaw';
import { Int16Frames, Uint8Frames } from './frame-buffer';
import { MAX_PAYLOAD_BYTES, type Decoder, type Encoder } from './types';

type Law = 'PCMU' | 'PCMA';

interface LawTables {
  decode: Int16Array;
  encode: Uint8Array;
}

const tables: Partial<Record<Law, LawTables>> = {};

function lawTables(law: Law): LawTables {
  let t = tables[law];
  if (!t) {
    const impl = law === 'PCMU' ? mulaw : alaw;
    const decode = new Int16Array(256);
    for (let code = 0; code < 256; code += 1) decode[code] = impl.decodeSample(code);
    const encode = new Uint8Array(65536);
    for (let u = 0; u < 65536; u += 1) encode[u] = impl.encodeSample((u << 16) >> 16) & 0xff;
    t = { decode, encode };
    tables[law] = t;
  }
  return t;
}

/** One code → linear sample (for callers that need a single value, e.g. silence bytes). */
export function g711DecodeSample(law: Law, code: number): number {
  return lawTables(law).decode[code & 0xff]!;
}

/** One linear sample → code. */
export function g711EncodeSample(law: Law, sample: number): number {
  return lawTables(law).encode[sample & 0xffff]!;
}

export class G711Decoder implements Decoder {
  readonly sampleRate = 8000;
  private readonly table: Int16Array;
  private readonly out = new Int16Frames(160);
  private closed = false;

  constructor(readonly encoding: Law) {
    this.table = lawTables(encoding).decode;
  }

  decode(payload: Uint8Array): Int16Array | null {
    const n = payload.length;
    if (this.closed || n === 0 || n > MAX_PAYLOAD_BYTES) return null;
    const buf = this.out.reserve(n);
    const table = this.table;
    for (let i = 0; i < n; i += 1) buf[i] = table[payload[i]!]!;
    return this.out.view(n);
  }

  close(): void {
    this.closed = true;
  }
}

export class G711Encoder implements Encoder {
  readonly sampleRate = 8000;
  private readonly table: Uint8Array;
  private readonly out = new Uint8Frames(160);

  constructor(readonly encoding: Law) {
    this.table = lawTables(encoding).encode;
  }

  encode(pcm: Int16Array): Uint8Array {
    const n = pcm.length;
    const buf = this.out.reserve(n);
    const table = this.table;
    for (let i = 0; i < n; i += 1) buf[i] = table[pcm[i]! & 0xffff]!;
    return this.out.view(n);
  }

  close(): void {}
}
