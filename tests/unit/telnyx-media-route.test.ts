import { MEDIA_PATH, mediaPathFor } from '../../src/lib/telnyx/media-route';
import { streamingStartBody, streamUrlFor } from '../../src/lib/telnyx/stream-params';

const settings = { publicBaseUrl: 'https://voice.example.test', mediaStreamToken: 'test-media-token', codec: 'PCMU', playbackMode: 'url' as const };

describe('Telnyx media route', () => {
  it('the stream_url we give Telnyx is a path the media upgrade route accepts, with the call id intact', () => {
    for (const callId of ['v3:abc-DEF_123', 'v3:with/slash+plus=', 'ünïcode id']) {
      const url = new URL(streamUrlFor(settings, callId));
      expect(url.protocol).toBe('wss:');
      const m = MEDIA_PATH.exec(url.pathname);
      expect(m).not.toBeNull();
      expect(decodeURIComponent(m![1]!)).toBe(callId);
      expect(url.pathname).toBe(mediaPathFor(callId));
    }
  });

  it('matches nothing but a single call-id segment under the media prefix', () => {
    expect(MEDIA_PATH.test('/v1/telnyx/media/')).toBe(false);
    expect(MEDIA_PATH.test('/v1/telnyx/media/a/b')).toBe(false);
    expect(MEDIA_PATH.test('/v1/telnyx/mediax/a')).toBe(false);
    expect(MEDIA_PATH.test('/x/v1/telnyx/media/a')).toBe(false);
    expect(MEDIA_PATH.test('/v1/telnyx/media/a')).toBe(true);
  });

  it('streaming_start asks for the codec\'s own bidirectional rate in stream mode, and none for an unknown codec or URL mode', () => {
    const stream = { ...settings, playbackMode: 'stream' as const };
    expect(streamingStartBody(stream, 'c1', 'PCMU')).toMatchObject({ stream_codec: 'PCMU', stream_bidirectional_codec: 'PCMU', stream_bidirectional_sampling_rate: 8000 });
    expect(streamingStartBody(stream, 'c1', 'G722')).toMatchObject({ stream_bidirectional_sampling_rate: 16000 });
    expect(streamingStartBody(stream, 'c1', 'toString')).not.toHaveProperty('stream_bidirectional_sampling_rate');
    expect(streamingStartBody(settings, 'c1', 'PCMU')).not.toHaveProperty('stream_bidirectional_sampling_rate');
  });
});
