import { AppError } from '../../src/lib/errors';
import { buildSttRequest, parseTranscription, sttProtocolFor } from '../../src/lib/stt/whisper-client';
import { parseWav } from '../../src/lib/audio/wav';
import { parseMultipartBody } from '../fakes/fake-whisper';

const pcm = new Int16Array([0, 1000, -1000, 32767, -32768]);

describe('STT request building and answer parsing', () => {
  it('chooses the protocol from the URL path', () => {
    expect(sttProtocolFor('http://h/v1/audio/transcriptions')).toBe('multipart');
    expect(sttProtocolFor('http://h/v1/audio/transcriptions/')).toBe('multipart');
    expect(sttProtocolFor('http://h:8080/inference?x=1')).toBe('multipart');
    expect(sttProtocolFor('http://h/stt')).toBe('raw');
    expect(sttProtocolFor('http://h/transcribe?key=k')).toBe('raw');
    expect(sttProtocolFor('http://h/')).toBe('raw');
  });

  it('builds the raw request: WAV body, audio/wav, language in the query, other params kept', () => {
    const r = buildSttRequest({ url: 'http://h/stt?key=abc', pcm16k: pcm, language: 'es' });
    expect(r.protocol).toBe('raw');
    expect(r.headers['content-type']).toBe('audio/wav');
    expect(new URL(r.url).searchParams.get('language')).toBe('es');
    expect(new URL(r.url).searchParams.get('key')).toBe('abc');
    const wav = parseWav(r.body);
    expect(wav).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });
    expect(Array.from(wav.samples)).toEqual(Array.from(pcm));
    expect(buildSttRequest({ url: 'http://h/stt', pcm16k: pcm, language: ' ' }).url).toBe('http://h/stt');
  });

  it('builds the multipart request with file, model, language and response_format', () => {
    const r = buildSttRequest({ url: 'http://h/v1/audio/transcriptions', pcm16k: pcm, language: 'fr', model: 'large-v3' });
    const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(r.headers['content-type']!)![1]!;
    const parts = parseMultipartBody(r.body, boundary);
    expect(parts.map((p) => p.name)).toEqual(['file', 'model', 'language', 'response_format']);
    expect(parts[0]).toMatchObject({ filename: 'audio.wav', contentType: 'audio/wav' });
    expect(parseWav(parts[0]!.data).sampleRate).toBe(16000);
    expect(parts.slice(1).map((p) => p.data.toString())).toEqual(['large-v3', 'fr', 'json']);
    const plain = buildSttRequest({ url: 'http://h/inference', pcm16k: pcm });
    const b2 = /boundary=(.+)$/.exec(plain.headers['content-type']!)![1]!;
    const p2 = parseMultipartBody(plain.body, b2);
    expect(p2.map((p) => p.name)).toEqual(['file', 'model', 'response_format']);
    expect(p2[1]!.data.toString()).toBe('whisper-1');
  });

  const json = (o: unknown) => Buffer.from(JSON.stringify(o));
  it.each<[string, Buffer, string, string]>([
    ['{text}', json({ text: '  Hello there. ' }), 'application/json', 'Hello there.'],
    ['{transcription}', json({ transcription: 'Hi' }), 'application/json; charset=utf-8', 'Hi'],
    ['{segments}', json({ segments: [{ text: ' One.' }, { text: '' }, { text: ' Two.' }] }), 'application/json', 'One. Two.'],
    ['empty text', json({ text: '' }), 'application/json', ''],
    ['text/plain', Buffer.from(' plain words \n'), 'text/plain; charset=utf-8', 'plain words'],
    ['JSON sent as text/plain', json({ text: 'sneaky' }), 'text/plain', 'sneaky'],
    ['no content type', Buffer.from('bare'), '', 'bare'],
  ])('parses %s', (_name, buf, type, expected) => {
    expect(parseTranscription(buf, type)).toBe(expected);
  });

  it.each<[string, Buffer, string]>([
    ['malformed JSON', Buffer.from('{nope'), 'application/json'],
    ['JSON without text', json({ result: 'x' }), 'application/json'],
    ['an HTML error page', Buffer.from('<html>502</html>'), 'text/html'],
    ['audio', Buffer.from('RIFF'), 'audio/wav'],
  ])('rejects %s as a non-retryable stt_failed', (_name, buf, type) => {
    let err: unknown;
    try {
      parseTranscription(buf, type);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'stt_failed', retryable: false });
  });
});
