import { ConfigError, loadConfig } from '../../src/lib/config';
import { testEnv } from '../support/test-config';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('config', () => {
  it('accepts a complete environment and applies the documented defaults', () => {
    const c = loadConfig(testEnv());
    expect(c.BRAIN_TIMEOUT_MS).toBe(8000);
    expect(c.BRAIN_STREAMING_ENABLED).toBe(true);
    expect(c.BRAIN_STREAM_PATH).toBe('/reply/stream');
    expect(c.BRAIN_STREAM_PING_MS).toBe(15000);
    expect(c.BRAIN_STREAM_FIRST_AUDIO_MAX_MS).toBe(2000);
    expect(c.BRAIN_STREAM_SEGMENT_MIN_CHARS).toBe(120);
    expect(c.BRAIN_STREAM_SEGMENT_NEXT_CHARS).toBe(180);
    expect(c.TRANSPORT_MODE).toBe('pstn');
    expect(c.AUDIO_CLEANUP_HOURS).toBe(24);
    expect(c.TELNYX_INGEST_HEALTH_GRACE_MS).toBe(1200);
    expect(c.TELNYX_INGEST_HEALTH_ENABLED).toBe(true);
    expect(c.TELNYX_INGEST_HEALTH_RESTART_ENABLED).toBe(true);
    expect(c.TELNYX_INGEST_POST_PLAYBACK_GRACE_MS).toBe(1200);
    expect(c.TELNYX_INGEST_MIN_AUDIO_MS_SINCE_PLAYBACK_END).toBe(2000);
    expect(c.TELNYX_AMRWB_MIN_DECODED_BYTES).toBe(320);
    expect(c.TELNYX_INGEST_DECODE_FAILURES_BEFORE_FALLBACK).toBe(3);
    expect(c.STT_PRE_ROLL_MS).toBe(300);
    expect(c.TURN_END_MODE).toBe('transcript');
    expect(c.TURN_COMPLETE_SILENCE_MS).toBe(200);
    expect(c.TURN_INCOMPLETE_SILENCE_MS).toBe(1500);
    expect(c.STT_PARTIAL_MIN_MS).toBe(600);
    expect(c.STT_HIGHPASS_ENABLED).toBe(true);
    expect(c.STT_HIGHPASS_CUTOFF_HZ).toBe(100);
    expect(c.STT_DEBUG_DUMP_WHISPER_WAVS).toBe(false);
    expect(c.STT_DEBUG_DUMP_PCM16).toBe(false);
    expect(c.TELNYX_API_BASE_URL).toBe('https://api.telnyx.com/v2');
    expect(c.PLAYBACK_MODE).toBe('stream');
    expect(c.TELNYX_STREAM_CODEC).toBe('PCMU');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('defaults PUBLIC_BASE_URL to the origin of AUDIO_PUBLIC_BASE_URL', () => {
    expect(loadConfig(testEnv({ AUDIO_PUBLIC_BASE_URL: 'https://voice.example.com/audio' })).PUBLIC_BASE_URL).toBe(
      'https://voice.example.com',
    );
    expect(loadConfig(testEnv({ PUBLIC_BASE_URL: 'https://edge.example.com/' })).PUBLIC_BASE_URL).toBe('https://edge.example.com');
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
  ])('parses boolean %s', (raw, expected) => {
    expect(loadConfig(testEnv({ STT_HIGHPASS_ENABLED: raw })).STT_HIGHPASS_ENABLED).toBe(expected);
  });

  it('names a missing REDIS_URL', () => {
    expect(problems(testEnv({ REDIS_URL: undefined }))).toEqual(['REDIS_URL: is required']);
  });

  it('rejects a TELNYX_PUBLIC_KEY that is not base64 of 32 bytes (e.g. a PEM/SPKI key)', () => {
    expect(problems(testEnv({ TELNYX_PUBLIC_KEY: 'not base64!' }))[0]).toMatch(/^TELNYX_PUBLIC_KEY: must be the base64/);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.alloc(32, 1)]).toString('base64');
    expect(problems(testEnv({ TELNYX_PUBLIC_KEY: spki }))[0]).toMatch(/^TELNYX_PUBLIC_KEY/);
  });

  it('reports every bad variable at once', () => {
    const p = problems(
      testEnv({ PORT: 'abc', STT_HIGHPASS_ENABLED: 'maybe', WHISPER_URL: 'ftp://x', PLAYBACK_MODE: 'carrier-pigeon', KOKORO_URL: undefined }),
    );
    expect(p.map((l) => l.split(':')[0])).toEqual(['KOKORO_URL', 'PLAYBACK_MODE', 'PORT', 'STT_HIGHPASS_ENABLED', 'WHISPER_URL']);
  });

  it('treats empty values as unset so defaults apply', () => {
    expect(loadConfig(testEnv({ BRAIN_URL: '', AUDIO_CLEANUP_HOURS: '' })).AUDIO_CLEANUP_HOURS).toBe(24);
  });

  it('gives browser calls their own defaults and parses TRUST_PROXY', () => {
    const c = loadConfig(testEnv());
    expect({
      perIp: c.WEBRTC_OFFERS_PER_MIN_PER_IP,
      global: c.WEBRTC_GLOBAL_CONCURRENCY_CAP,
      tenant: c.WEBRTC_TENANT_CONCURRENCY_CAP_DEFAULT,
      rpm: c.WEBRTC_TENANT_CALLS_PER_MIN_CAP_DEFAULT,
      token: c.WEBRTC_REQUIRE_JOIN_TOKEN,
      trust: c.TRUST_PROXY,
    }).toEqual({ perIp: 10, global: 20, tenant: 5, rpm: 10, token: false, trust: 'loopback, linklocal, uniquelocal' });
    expect(loadConfig(testEnv({ TRUST_PROXY: '1' })).TRUST_PROXY).toBe(1);
    expect(problems(testEnv({ TRUST_PROXY: 'everyone', WEBRTC_OFFERS_PER_MIN_PER_IP: '0' })).map((l) => l.split(':')[0])).toEqual(['TRUST_PROXY', 'WEBRTC_OFFERS_PER_MIN_PER_IP']);
  });

  it('requires admin user and password together', () => {
    expect(problems(testEnv({ ADMIN_USER: 'admin' }))).toEqual(['ADMIN_USER/ADMIN_PASSWORD: set both or neither']);
  });
});
