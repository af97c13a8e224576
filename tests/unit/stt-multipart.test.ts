import { buildMultipart, escapeHeaderParam } from '../../src/lib/stt/multipart';
import { parseMultipartBody } from '../fakes/fake-whisper';

describe('multipart builder', () => {
  it('encodes fields and files exactly as RFC 7578 describes', () => {
    const mp = buildMultipart(
      [
        { name: 'model', value: 'whisper-1' },
        { name: 'file', filename: 'audio.wav', contentType: 'audio/wav', data: Buffer.from([0, 1, 2, 13, 10]) },
      ],
      'XyZ',
    );
    expect(mp.contentType).toBe('multipart/form-data; boundary=XyZ');
    const expected = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'),
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="audio.wav"\r\nContent-Type: audio/wav\r\n\r\n'),
      Buffer.from([0, 1, 2, 13, 10]),
      Buffer.from('\r\n--XyZ--\r\n'),
    ]);
    expect(mp.body.equals(expected)).toBe(true);
  });

  it('round-trips binary data through a strict parser with a random boundary', () => {
    const data = Buffer.alloc(5000);
    for (let i = 0; i < data.length; i += 1) data[i] = (i * 37) & 0xff;
    const mp = buildMultipart([
      { name: 'file', filename: 'a.wav', contentType: 'audio/wav', data },
      { name: 'language', value: 'de' },
    ]);
    const boundary = /boundary=(.+)$/.exec(mp.contentType)![1]!;
    expect(boundary.length).toBeLessThanOrEqual(70);
    const parts = parseMultipartBody(mp.body, boundary);
    expect(parts.map((p) => p.name)).toEqual(['file', 'language']);
    expect(parts[0]!.data.equals(data)).toBe(true);
    expect(parts[0]).toMatchObject({ filename: 'a.wav', contentType: 'audio/wav' });
    expect(parts[1]!.data.toString()).toBe('de');
  });

  it('escapes quotes and line breaks in names and rejects bad boundaries', () => {
    expect(escapeHeaderParam('a"b\r\nc')).toBe('a%22b%0D%0Ac');
    expect(() => buildMultipart([], 'bad boundary\r\n')).toThrow('invalid multipart boundary');
    expect(() => buildMultipart([], 'x'.repeat(71))).toThrow('invalid multipart boundary');
  });
});
