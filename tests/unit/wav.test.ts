import { AppError } from '../../src/lib/errors';
import { buildWav, isWav, parseWav, pcm16leToSamples } from '../../src/lib/audio/wav';

/** Assembles a RIFF file from raw chunks (id, body), padding odd bodies as the spec requires. */
function riff(chunks: [string, Buffer, number?][]): Buffer {
  const parts: Buffer[] = [];
  for (const [id, body, declared] of chunks) {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(declared ?? body.length, 4);
    parts.push(head, body);
    if (body.length % 2 === 1) parts.push(Buffer.alloc(1));
  }
  const payload = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(4 + payload.length, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, payload]);
}

function fmt(format: number, channels: number, rate: number, bits: number, extensibleSub?: number): Buffer {
  const b = Buffer.alloc(extensibleSub === undefined ? 16 : 40);
  b.writeUInt16LE(format, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE((rate * channels * bits) / 8, 8);
  b.writeUInt16LE((channels * bits) / 8, 12);
  b.writeUInt16LE(bits, 14);
  if (extensibleSub !== undefined) {
    b.writeUInt16LE(22, 16);
    b.writeUInt16LE(bits, 18);
    b.writeUInt32LE(channels === 1 ? 4 : 3, 20);
    b.writeUInt16LE(extensibleSub, 24);
    Buffer.from('000000001000800000aa00389b71', 'hex').copy(b, 26);
  }
  return b;
}

const int16le = (vals: number[]) => {
  const b = Buffer.alloc(vals.length * 2);
  vals.forEach((v, i) => b.writeInt16LE(v, i * 2));
  return b;
};

function expectInvalid(fn: () => unknown, pattern: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid_wav');
    expect((err as AppError).message).toMatch(pattern);
    return;
  }
  throw new Error('expected invalid_wav');
}

describe('buildWav / parseWav', () => {
  it('round-trips mono PCM16 with a canonical little-endian header', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234, -4321]);
    const wav = buildWav(samples, 16000);
    expect(wav.length).toBe(44 + samples.length * 2);
    expect(wav.toString('latin1', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(16000);
    expect(wav.readInt16LE(44 + 3 * 2)).toBe(32767);
    expect(isWav(wav)).toBe(true);
    const parsed = parseWav(wav);
    expect(parsed).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });
    expect(Array.from(parsed.samples)).toEqual(Array.from(samples));
    expect(parsed.durationMs).toBeCloseTo((7 / 16000) * 1000);
  });

  it('walks past LIST/fact chunks (odd-sized, padded) and downmixes stereo by averaging', () => {
    const wav = riff([
      ['LIST', Buffer.from('INFOISFT\x05\x00\x00\x00Lavf\x00', 'latin1')],
      ['fmt ', fmt(1, 2, 22050, 16)],
      ['fact', Buffer.from([1, 2, 3])],
      ['data', int16le([100, 300, -1000, -2000, 32767, 32767, 5, 6])],
      ['id3 ', Buffer.from('trailing metadata')],
    ]);
    const parsed = parseWav(wav);
    expect(parsed).toMatchObject({ sampleRate: 22050, channels: 2 });
    expect(Array.from(parsed.samples)).toEqual([200, -1500, 32767, 6]);
    expect(parsed.durationMs).toBeCloseTo((4 / 22050) * 1000);
  });

  it('takes the rest of the file when the data size is unknown (streaming writers)', () => {
    for (const declared of [0xffffffff, 0]) {
      const wav = riff([['fmt ', fmt(1, 1, 24000, 16)], ['data', int16le([1, 2, 3, 4]), declared]]);
      expect(Array.from(parseWav(wav).samples)).toEqual([1, 2, 3, 4]);
    }
    // declared larger than what arrived (truncated download), with a dangling odd byte
    const full = riff([['fmt ', fmt(1, 1, 24000, 16)], ['data', int16le([7, 8, 9]), 1000]]);
    const truncated = full.subarray(0, full.length - 1);
    expect(Array.from(parseWav(truncated).samples)).toEqual([7, 8]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE PCM16 and float32 (format 3 and extensible float), clamping floats', () => {
    const ext = riff([['fmt ', fmt(0xfffe, 1, 48000, 16, 1)], ['data', int16le([-5, 5])]]);
    expect(Array.from(parseWav(ext).samples)).toEqual([-5, 5]);

    const floats = Buffer.alloc(5 * 4);
    [0, 0.25, -0.25, 1.5, -1].forEach((v, i) => floats.writeFloatLE(v, i * 4));
    const f32 = parseWav(riff([['fmt ', fmt(3, 1, 24000, 32)], ['data', floats]]));
    expect(f32.bitsPerSample).toBe(32);
    expect(Array.from(f32.samples)).toEqual([0, 8192, -8192, 32767, -32767]);
    const extFloat = parseWav(riff([['fmt ', fmt(0xfffe, 1, 24000, 32, 3)], ['data', floats]]));
    expect(Array.from(extFloat.samples)).toEqual(Array.from(f32.samples));
  });

  it('rejects garbage and unsupported encodings with invalid_wav', () => {
    expectInvalid(() => parseWav(Buffer.alloc(0)), /RIFF/);
    expectInvalid(() => parseWav(Buffer.from('ID3\x04 definitely an mp3 file', 'latin1')), /RIFF/);
    expectInvalid(() => parseWav(riff([['data', int16le([1])]])), /fmt/);
    expectInvalid(() => parseWav(riff([['fmt ', fmt(1, 1, 8000, 16)]])), /data/);
    expectInvalid(() => parseWav(riff([['fmt ', fmt(1, 1, 8000, 8)], ['data', Buffer.from([1, 2])]])), /unsupported/);
    expectInvalid(() => parseWav(riff([['fmt ', fmt(1, 1, 8000, 24)], ['data', Buffer.alloc(6)]])), /unsupported/);
    expectInvalid(() => parseWav(riff([['fmt ', fmt(0x55, 1, 8000, 16)], ['data', Buffer.alloc(6)]])), /unsupported/);
    expectInvalid(() => parseWav(riff([['fmt ', Buffer.alloc(8)], ['data', Buffer.alloc(2)]])), /fmt chunk too short/);
    expectInvalid(() => parseWav(riff([['fmt ', fmt(1, 0, 8000, 16)], ['data', Buffer.alloc(2)]])), /channels/);
    const lying = riff([['LIST', Buffer.alloc(4), 5000], ['fmt ', fmt(1, 1, 8000, 16)], ['data', Buffer.alloc(2)]]);
    expectInvalid(() => parseWav(lying), /past the end/);
  });

  it('accepts fmt after data', () => {
    const wav = riff([['data', int16le([9, -9])], ['fmt ', fmt(1, 1, 8000, 16)]]);
    expect(Array.from(parseWav(wav).samples)).toEqual([9, -9]);
  });

  it('converts raw little-endian PCM16 bytes', () => {
    expect(Array.from(pcm16leToSamples(Buffer.from([0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0x07])))).toEqual([1, -1, -32768]);
  });
});
