import { IngestHealthMonitor, type IngestHealthConfig } from '../../src/media/session/ingest-health';

const cfg = (o: Partial<IngestHealthConfig> = {}): IngestHealthConfig => ({
  enabled: true,
  restartEnabled: true,
  startGraceMs: 1200,
  postPlaybackGraceMs: 1200,
  minAudioMsSincePlaybackEnd: 2000,
  ...o,
});

describe('IngestHealthMonitor', () => {
  it('TELNYX_INGEST_HEALTH_GRACE_MS: no audio within the grace after stream start is a stall', () => {
    const m = new IngestHealthMonitor(cfg({ startGraceMs: 500 }));
    m.onStreamStart(0);
    expect(m.check(500)).toBe('ok');
    expect(m.check(501)).toBe('stalled_at_start');
    const longer = new IngestHealthMonitor(cfg({ startGraceMs: 1000 }));
    longer.onStreamStart(0);
    expect(longer.check(501)).toBe('ok');
  });

  it('first audio ends the start watch', () => {
    const m = new IngestHealthMonitor(cfg());
    m.onStreamStart(0);
    m.onAudio(100, 20);
    expect(m.check(10_000)).toBe('ok');
  });

  it('TELNYX_INGEST_HEALTH_ENABLED=false never reports a stall', () => {
    const m = new IngestHealthMonitor(cfg({ enabled: false }));
    m.onStreamStart(0);
    expect(m.check(60_000)).toBe('ok');
  });

  it('TELNYX_INGEST_POST_PLAYBACK_GRACE_MS: audio must resume within the grace after playback', () => {
    const m = new IngestHealthMonitor(cfg({ postPlaybackGraceMs: 300 }));
    m.onStreamStart(0);
    m.onAudio(20, 20);
    m.onPlaybackEnded(1000);
    expect(m.check(1300)).toBe('ok');
    expect(m.check(1301)).toBe('stalled_after_playback');
  });

  it('TELNYX_INGEST_MIN_AUDIO_MS_SINCE_PLAYBACK_END: the watch lasts until that much audio arrived', () => {
    const short = new IngestHealthMonitor(cfg({ postPlaybackGraceMs: 300, minAudioMsSincePlaybackEnd: 100 }));
    const long = new IngestHealthMonitor(cfg({ postPlaybackGraceMs: 300, minAudioMsSincePlaybackEnd: 2000 }));
    for (const m of [short, long]) {
      m.onStreamStart(0);
      m.onAudio(20, 20);
      m.onPlaybackEnded(1000);
      for (let t = 1020; t <= 1200; t += 20) m.onAudio(t, 20); // 200 ms of audio, then the stream stalls
    }
    expect(short.check(2000)).toBe('ok'); // recovered after 100 ms of audio
    expect(long.check(1500)).toBe('ok'); // still within the grace since the last frame
    expect(long.check(1501)).toBe('stalled_after_playback');
  });
});
