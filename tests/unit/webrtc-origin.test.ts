import { normalizeOrigin, OriginPolicy } from '../../src/api/webrtc-origin';
import { parseClientMessage } from '../../src/media/webrtc/hd-call-messages';

describe('WEBRTC_ALLOWED_ORIGINS policy', () => {
  it('normalizes origins the way browsers send them', () => {
    expect(normalizeOrigin(' HTTPS://Example.COM:443/ ')).toBe('https://example.com');
    expect(normalizeOrigin('http://localhost:4001')).toBe('http://localhost:4001');
    expect(normalizeOrigin('not a url/')).toBe('not a url');
  });

  it('with a list: exact origins only, and an Origin is required for API calls', () => {
    const p = new OriginPolicy(['http://localhost:4001', 'https://app.example.com/']);
    expect(p.check('http://localhost:4001', { requireOrigin: true })).toBeUndefined();
    expect(p.check('https://APP.example.com', { requireOrigin: true })).toBeUndefined();
    expect(p.check('http://localhost:4002', { requireOrigin: true })).toMatch(/not in WEBRTC_ALLOWED_ORIGINS/);
    expect(p.check('https://app.example.com.evil.test', { requireOrigin: true })).toBeDefined();
    expect(p.check('null', { requireOrigin: true })).toBeDefined();
    expect(p.check(undefined, { requireOrigin: true })).toMatch(/no Origin/);
    expect(p.check(undefined, { requireOrigin: false })).toBeUndefined();
  });

  it('without a list: no check', () => {
    const p = new OriginPolicy([]);
    expect(p.restricted).toBe(false);
    expect(p.check('https://anything.test', { requireOrigin: true })).toBeUndefined();
    expect(p.check(undefined, { requireOrigin: true })).toBeUndefined();
  });
});

describe('page → server data-channel messages', () => {
  it('knows one keypad digit, nothing longer or outside 0-9 * # A-D', () => {
    expect(parseClientMessage('{"type":"dtmf","digit":"5"}')).toEqual({ type: 'dtmf', digit: '5' });
    expect(parseClientMessage('{"type":"dtmf","digit":"#"}')).toEqual({ type: 'dtmf', digit: '#' });
    for (const digit of ['55', 'x', '', 5, null]) expect(parseClientMessage(JSON.stringify({ type: 'dtmf', digit }))).toBeUndefined();
  });

  it('knows hangup and ignores everything else', () => {
    expect(parseClientMessage('{"type":"hangup"}')).toEqual({ type: 'hangup' });
    expect(parseClientMessage(Buffer.from('{"type":"hangup","x":1}'))).toEqual({ type: 'hangup' });
    expect(parseClientMessage('{"type":"other"}')).toBeUndefined();
    expect(parseClientMessage('null')).toBeUndefined();
    expect(parseClientMessage('{')).toBeUndefined();
    expect(parseClientMessage(`{"type":"hangup","pad":"${'x'.repeat(2000)}"}`)).toBeUndefined();
  });
});
