import { redactUrl } from '../../src/lib/logger';
import { memoryLogger } from '../support/test-config';

describe('logger redaction', () => {
  it('censors secrets in headers, config and nested objects', () => {
    const { logger, lines } = memoryLogger();
    logger.info({
      req: { headers: { authorization: 'Bearer KEY123', 'telnyx-signature-ed25519': 'sig', 'x-telnyx-streaming-auth-token': 'tok' } },
      config: { TELNYX_API_KEY: 'KEY123', MEDIA_STREAM_TOKEN: 'mst', ADMIN_PASSWORD: 'pw' },
      token: 'abc',
    });
    const out = JSON.stringify(lines());
    for (const secret of ['KEY123', '"sig"', '"tok"', 'mst', '"pw"', '"abc"']) expect(out).not.toContain(secret);
    expect(out).toContain('[Redacted]');
  });

  it('strips token query parameters from URLs', () => {
    expect(redactUrl('/v1/telnyx/media/c1?token=secret&x=1')).toBe('/v1/telnyx/media/c1?token=[Redacted]&x=1');
  });
});
