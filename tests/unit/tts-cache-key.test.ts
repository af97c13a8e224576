import { normalizeTtsText, ttsCacheKey } from '../../src/lib/tts/tts-cache-key';
import { buildKokoroBody, declaredPcmRate, isOpenAiSpeechUrl } from '../../src/lib/tts/kokoro-client';

const base = { url: 'http://kokoro:8880/v1/audio/speech', voice: 'af_heart', speed: 1, sampleRate: 24000, text: 'Hello there.' };

describe('ttsCacheKey', () => {
  it('is a sha256 hex digest that ignores whitespace differences in the text', () => {
    const k = ttsCacheKey(base);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(ttsCacheKey({ ...base, text: '  Hello \n\t there.\n' })).toBe(k);
    expect(normalizeTtsText('  a \u00a0 b\n')).toBe('a b');
  });

  it('treats a missing speed as 1', () => {
    const { speed: _speed, ...noSpeed } = base;
    expect(ttsCacheKey(noSpeed)).toBe(ttsCacheKey(base));
  });

  it('changes with every field that changes the audio', () => {
    const k = ttsCacheKey(base);
    const variants = [
      { url: 'http://other:8880/v1/audio/speech' },
      { voice: 'am_adam' },
      { speed: 1.25 },
      { sampleRate: 16000 },
      { text: 'Hello there!' },
      { text: 'hello there.' },
    ];
    const keys = variants.map((v) => ttsCacheKey({ ...base, ...v }));
    for (const other of keys) expect(other).not.toBe(k);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('cannot be collided by moving text between fields', () => {
    expect(ttsCacheKey({ ...base, voice: 'a', text: 'b c' })).not.toBe(ttsCacheKey({ ...base, voice: 'a b', text: 'c' }));
  });
});

describe('kokoro request shapes', () => {
  it('chooses the OpenAI shape only for a /v1/audio/speech path', () => {
    expect(isOpenAiSpeechUrl('http://h:8880/v1/audio/speech')).toBe(true);
    expect(isOpenAiSpeechUrl('http://h:8880/v1/audio/speech/')).toBe(true);
    expect(isOpenAiSpeechUrl('http://h:8880/v1/audio/speech?key=x')).toBe(true);
    expect(isOpenAiSpeechUrl('http://h:7001/tts')).toBe(false);
    expect(isOpenAiSpeechUrl('http://h/v1/audio/speech/extra')).toBe(false);
  });

  it('builds both bodies', () => {
    const req = { text: 'Hi', voice: 'af_heart', sampleRate: 16000, speed: 1.1 };
    expect(buildKokoroBody({ ...req, url: 'http://h/v1/audio/speech' })).toEqual({
      model: 'kokoro',
      input: 'Hi',
      voice: 'af_heart',
      response_format: 'wav',
      speed: 1.1,
    });
    expect(buildKokoroBody({ ...req, url: 'http://h/tts' })).toEqual({ text: 'Hi', voice: 'af_heart', format: 'wav', sampleRate: 16000 });
    expect(buildKokoroBody({ ...req, url: 'http://h/v1/audio/speech', format: 'pcm', speed: undefined })).toMatchObject({
      response_format: 'pcm',
      speed: 1,
    });
  });

  it('reads the declared raw PCM rate from x-sample-rate or the content type', () => {
    expect(declaredPcmRate({ 'x-sample-rate': '22050', 'content-type': 'audio/pcm;rate=8000' })).toBe(22050);
    expect(declaredPcmRate({ 'content-type': 'audio/pcm; rate=24000' })).toBe(24000);
    expect(declaredPcmRate({ 'content-type': 'audio/L16;rate="16000";channels=1' })).toBe(16000);
    expect(declaredPcmRate({ 'content-type': 'audio/pcm' })).toBeUndefined();
    expect(declaredPcmRate({ 'x-sample-rate': 'fast' })).toBeUndefined();
  });
});
