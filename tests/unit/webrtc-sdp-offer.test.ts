import { checkOfferSdp } from '../../src/media/webrtc/sdp-offer';
import { MAX_OFFER_SDP_BYTES } from '../../src/media/webrtc/peer';
import { CHROME_OFFER, chromeOfferWith, TWO_LINE_OFFER } from '../support/sdp-fixtures';

const reasonOf = (sdp: string) => {
  const r = checkOfferSdp(sdp);
  return r.ok ? 'ok' : r.reason;
};

describe('SDP offer check (before any slot, Redis call or werift peer)', () => {
  it('accepts what browsers send: Chrome-shaped, LF line ends, Firefox-style Opus without channels', () => {
    expect(checkOfferSdp(CHROME_OFFER)).toEqual({ ok: true });
    expect(checkOfferSdp(CHROME_OFFER.replace(/\r\n/g, '\n'))).toEqual({ ok: true });
    expect(checkOfferSdp(CHROME_OFFER.replace('s=-', 's=a\tb'))).toEqual({ ok: true });
    expect(checkOfferSdp(chromeOfferWith({ replace: [/^a=rtpmap:111 opus\/48000\/2$/, 'a=rtpmap:111 OPUS/48000'] }))).toEqual({ ok: true });
  });

  it('refuses the two-line attack offer and anything without Opus in its audio section', () => {
    expect(reasonOf(TWO_LINE_OFFER)).toMatch(/Opus/);
    expect(reasonOf(chromeOfferWith({ drop: /^a=rtpmap:111 / }))).toMatch(/Opus/);
    // Opus mapped to a payload type the m-line does not offer does not count.
    expect(reasonOf(chromeOfferWith({ replace: [/^a=rtpmap:111 opus/, 'a=rtpmap:100 opus'] }))).toMatch(/Opus/);
    // Opus only at 8 kHz is not Opus as RFC 7587 signals it.
    expect(reasonOf(chromeOfferWith({ replace: [/^a=rtpmap:111 opus\/48000\/2$/, 'a=rtpmap:111 opus/8000'] }))).toMatch(/Opus/);
  });

  it('needs exactly one audio section, the data channel, ICE credentials and a fingerprint', () => {
    expect(reasonOf(chromeOfferWith({ replace: [/^m=audio /, 'm=video '] }))).toMatch(/no audio/);
    expect(reasonOf(CHROME_OFFER + 'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n')).toMatch(/more than one audio/);
    expect(reasonOf(chromeOfferWith({ drop: /^m=application / }))).toMatch(/data channel/);
    expect(reasonOf(chromeOfferWith({ drop: /^a=ice-pwd:/ }))).toMatch(/ICE credentials/);
    expect(reasonOf(chromeOfferWith({ replace: [/^a=ice-ufrag:.*$/, 'a=ice-ufrag:'] }))).toMatch(/ice-ufrag must be/);
    expect(reasonOf(chromeOfferWith({ replace: [/^a=ice-pwd:.*$/, 'a=ice-pwd:short'] }))).toMatch(/ice-pwd must be/);
    expect(reasonOf(chromeOfferWith({ drop: /^a=fingerprint:/ }))).toMatch(/fingerprint/);
  });

  it('refuses broken line structure', () => {
    expect(reasonOf('V=0\r\n' + CHROME_OFFER.slice(5))).toMatch(/v=0/);
    expect(reasonOf(' ' + CHROME_OFFER)).toMatch(/v=0/);
    expect(reasonOf(CHROME_OFFER.replace('s=-', 'garbage'))).toMatch(/line 3 /);
    expect(reasonOf(CHROME_OFFER.replace('s=-', 's=-\u0000'))).toMatch(/line 3 /);
    expect(reasonOf(CHROME_OFFER.replace('s=-\r\n', 's=-\r'))).toMatch(/line 3 /);
    expect(reasonOf(CHROME_OFFER.replace('\r\nt=0 0', '\r\n\r\nt=0 0'))).toMatch(/line 4 /);
    expect(reasonOf(chromeOfferWith({ replace: [/^m=audio 9 /, 'm=audio port '] }))).toMatch(/valid "m=" line/);
    expect(reasonOf(chromeOfferWith({ replace: [/^m=audio (.*)$/, 'm=audio 9 UDP/TLS/RTP/SAVPF'] }))).toMatch(/valid "m=" line/);
  });

  it('bounds the size and the number of media sections', () => {
    const pad = `a=x:${'y'.repeat(200)}\r\n`;
    expect(reasonOf(CHROME_OFFER + pad.repeat(Math.ceil(MAX_OFFER_SDP_BYTES / pad.length)))).toMatch(/exceeds/);
    expect(reasonOf(CHROME_OFFER + 'm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n'.repeat(7))).toMatch(/more than 8 media sections/);
  });

  it('stays fast on hostile input at the size limit (no regex blow-up)', () => {
    const long = `v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF${' 1'.repeat(16_000)}!\r\n`.slice(0, MAX_OFFER_SDP_BYTES);
    const t0 = process.hrtime.bigint();
    expect(reasonOf(long)).not.toBe('ok');
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeLessThan(1000);
  });
});
