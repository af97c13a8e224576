/**
 * The connect-time DNS check of tenant URLs through the real Whisper and Kokoro clients and real
 * HTTP fakes on 127.0.0.1. The names are resolved by an injected resolver (the test cannot add
 * DNS records); everything after the lookup — the socket, the request, the error — is real.
 */
import type { LookupAddress } from 'node:dns';
import { AppError } from '../../src/lib/errors';
import { guardedLookup, hostsOf } from '../../src/lib/net/guarded-lookup';
import { createWhisperClient } from '../../src/lib/stt/whisper-client';
import { createKokoroClient } from '../../src/lib/tts/kokoro-client';
import { startFakeKokoro, type FakeKokoro } from '../fakes/fake-kokoro';
import { startFakeWhisper, type FakeWhisper } from '../fakes/fake-whisper';

/** 250 ms of a 300 Hz tone at 16 kHz. */
const speech = Int16Array.from({ length: 4000 }, (_, i) => Math.round(8000 * Math.sin((2 * Math.PI * 300 * i) / 16000)));

/** Every name resolves to the loopback fakes, as a rebinding or hostile DNS answer would. */
const toLoopback = async (): Promise<LookupAddress[]> => [{ address: '127.0.0.1', family: 4 }];

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected a rejection');
}

describe('tenant URLs whose name resolves to an internal address', () => {
  let whisper: FakeWhisper;
  let kokoro: FakeKokoro;
  beforeAll(async () => {
    whisper = await startFakeWhisper();
    kokoro = await startFakeKokoro({ sampleRate: 24000 });
  });
  afterAll(async () => {
    await whisper.close();
    await kokoro.close();
  });
  const viaName = (url: string, name: string) => {
    const u = new URL(url);
    u.hostname = name;
    return u.href;
  };

  it('are not connected to by the Whisper client; the operator\'s own service name still is', async () => {
    const lookup = guardedLookup({ trustedHosts: hostsOf(['http://whisper.internal:9000/inference', undefined]), resolve: toLoopback });
    const client = createWhisperClient({ timeoutMs: 2000, maxConcurrent: 2, retryDelayMs: 10, lookup });
    try {
      const err = await rejection(client.transcribe({ url: viaName(whisper.transcriptionsUrl, 'stt.tenant.example'), pcm16k: speech }));
      expect(err.code).toBe('stt_failed');
      expect(err.message).toMatch(/STT server http:\/\/stt\.tenant\.example:\d+ unreachable: ENOTALLOWED/);
      expect(whisper.requests).toHaveLength(0);
      const ok = await client.transcribe({ url: viaName(whisper.transcriptionsUrl, 'whisper.internal'), pcm16k: speech });
      expect(typeof ok.text).toBe('string');
      expect(whisper.requests).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('are not connected to by the Kokoro client', async () => {
    const lookup = guardedLookup({ trustedHosts: [], resolve: toLoopback });
    const client = createKokoroClient({ timeoutMs: 2000, lookup });
    const err = await rejection(client.synthesize({ url: viaName(kokoro.speechUrl, 'tts.tenant.example'), text: 'Hello.', voice: 'v', sampleRate: 24000 }));
    expect(err.message).toMatch(/TTS server http:\/\/tts\.tenant\.example:\d+ unreachable: ENOTALLOWED/);
    expect(kokoro.requests).toHaveLength(0);
  });

  it('a public answer passes', async () => {
    const lookup = guardedLookup({ trustedHosts: [], resolve: async () => [{ address: '93.184.216.34', family: 4 }] });
    await expect(lookup('example.com', {})).resolves.toEqual([[{ address: '93.184.216.34', family: 4 }]]);
    const mixed = guardedLookup({ trustedHosts: [], resolve: async () => [{ address: '93.184.216.34', family: 4 }, { address: 'fd00:ec2::254', family: 6 }] });
    await expect(mixed('rebind.example', {})).rejects.toMatchObject({
      code: 'ENOTALLOWED',
      message: 'rebind.example resolves to fd00:ec2::254, which is private (cloud metadata): not allowed for a tenant URL',
    });
  });
});
