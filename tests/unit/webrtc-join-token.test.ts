import { createHmac } from 'node:crypto';
import { JOIN_TOKEN_MAX_TTL_SEC, mintJoinToken, verifyJoinToken } from '../../src/lib/webrtc/join-token';

const SECRET = 'tenant-secret-0123456789abcdef';
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const verify = (token: string, over: Partial<Parameters<typeof verifyJoinToken>[0]> = {}) =>
  verifyJoinToken({ token, secret: SECRET, tenantId: 'acme', now: NOW, ...over });

describe('WebRTC join tokens', () => {
  it('has the documented format and signature, so a web site can mint one in any language', () => {
    const token = mintJoinToken({ secret: SECRET, tenantId: 'acme', ttlSec: 120, now: NOW });
    const m = /^v1\.(\d+)\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(NOW / 1000 + 120);
    const expected = createHmac('sha256', SECRET).update(`v1\nacme\n${m![1]}\n${m![2]}\n`).digest('base64url');
    expect(m![3]).toBe(expected);
    // The nonce makes every token different.
    expect(mintJoinToken({ secret: SECRET, tenantId: 'acme', now: NOW })).not.toBe(mintJoinToken({ secret: SECRET, tenantId: 'acme', now: NOW }));
  });

  it('accepts a valid token until it expires, from any origin when unbound', () => {
    const token = mintJoinToken({ secret: SECRET, tenantId: 'acme', ttlSec: 60, now: NOW });
    expect(verify(token)).toBe('ok');
    expect(verify(token, { origin: 'https://anything.example' })).toBe('ok');
    expect(verify(token, { now: NOW + 59_999 })).toBe('ok');
    expect(verify(token, { now: NOW + 60_000 })).toBe('expired');
  });

  it('refuses a token for another tenant, under another secret, or tampered with', () => {
    const token = mintJoinToken({ secret: SECRET, tenantId: 'acme', now: NOW });
    expect(verify(token, { tenantId: 'acme2' })).toBe('bad_signature');
    expect(verify(token, { secret: `${SECRET}x` })).toBe('bad_signature');
    const [v, exp, nonce, sig] = token.split('.') as [string, string, string, string];
    expect(verify([v, String(Number(exp) + 1), nonce, sig].join('.'))).toBe('bad_signature');
    expect(verify([v, exp, `${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}`, sig].join('.'))).toBe('bad_signature');
    expect(verify([v, exp, nonce, `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BA' : 'AA'}`].join('.'))).toBe('bad_signature');
  });

  it('binds a token to the origin it was minted for', () => {
    const token = mintJoinToken({ secret: SECRET, tenantId: 'acme', origin: 'https://Shop.example.com/', now: NOW });
    expect(verify(token, { origin: 'https://shop.example.com' })).toBe('ok');
    expect(verify(token, { origin: 'https://evil.example.com' })).toBe('bad_signature');
    expect(verify(token)).toBe('bad_signature');
  });

  it('refuses expiries further ahead than the maximum lifetime (plus clock skew)', () => {
    const far = mintJoinToken({ secret: SECRET, tenantId: 'acme', now: NOW + 3_600_000 });
    expect(verify(far)).toBe('expiry_too_far');
    expect(verify(mintJoinToken({ secret: SECRET, tenantId: 'acme', now: NOW + 30_000 }))).toBe('ok');
  });

  const SIG = 'A'.repeat(43);
  it.each([
    ['empty', ''],
    ['version only', 'v1'],
    ['another version', `v2.1893499200.abcdefghijkl.${SIG}`],
    ['a short nonce', `v1.1893499200.short.${SIG}`],
    ['a non-decimal expiry', `v1.18934992e3.abcdefghijkl.${SIG}`],
    ['a short signature', 'v1.1893499200.abcdefghijkl.AAAA'],
    ['an extra part', `v1.1893499200.abc.def.${SIG}`],
    ['a 10 kB nonce', `v1.1893499200.${'a'.repeat(10_000)}.${SIG}`],
  ])('calls a token with %s malformed', (_what, token) => expect(verify(token)).toBe('malformed'));

  it('will not mint with a short secret or an overlong lifetime', () => {
    expect(() => mintJoinToken({ secret: 'short', tenantId: 'acme' })).toThrow(/at least 16/);
    expect(() => mintJoinToken({ secret: SECRET, tenantId: 'acme', ttlSec: JOIN_TOKEN_MAX_TTL_SEC + 1 })).toThrow(/ttlSec/);
    expect(() => mintJoinToken({ secret: SECRET, tenantId: 'acme', ttlSec: 0 })).toThrow(/ttlSec/);
  });
});
