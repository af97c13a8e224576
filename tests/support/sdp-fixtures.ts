/**
 * SDP offers as browsers send them for /hd-call (one microphone track + the "events" data
 * channel), for tests that need an offer that passes the cheap checks without a live peer.
 * The ICE/DTLS values are syntactically right but belong to no peer: werift will not answer them
 * in a way any browser could use, which is fine for tests that never connect.
 */
const CHROME_LINES = [
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 5d2c1e0f-7a55-4a4e-9d36-3c0f0f0e8a11',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 0.0.0.0',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 192.168.1.23 54321 typ host generation 0 network-id 1',
  'a=ice-ufrag:Qx9f',
  'a=ice-pwd:8Tqf6tVGbm3ePw1zK0kq5xYs',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=sendrecv',
  'a=msid:5d2c1e0f-7a55-4a4e-9d36-3c0f0f0e8a11 0b5c9a5e-0ad4-4e0e-9b8f-3b1c0c6c0e21',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:3316573519 cname:dQ1k0ZkB5c7Jw1iW',
  'm=application 9 UDP/DTLS/SCTP webrtc-datachannel',
  'c=IN IP4 0.0.0.0',
  'a=candidate:1467250027 1 udp 2122260223 192.168.1.23 54321 typ host generation 0 network-id 1',
  'a=ice-ufrag:Qx9f',
  'a=ice-pwd:8Tqf6tVGbm3ePw1zK0kq5xYs',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08',
  'a=setup:actpass',
  'a=mid:1',
  'a=sctp-port:5000',
  'a=max-message-size:262144',
];

/** A Chrome-shaped audio + data-channel offer. */
export const CHROME_OFFER = `${CHROME_LINES.join('\r\n')}\r\n`;

/** CHROME_OFFER with lines matching `drop` removed and/or `replace` applied line by line. */
export function chromeOfferWith(opts: { drop?: RegExp; replace?: [RegExp, string] }): string {
  const lines = CHROME_LINES.filter((l) => !opts.drop?.test(l)).map((l) => (opts.replace ? l.replace(opts.replace[0], opts.replace[1]) : l));
  return `${lines.join('\r\n')}\r\n`;
}

/** The attacker's two-line offer: passed the old "starts with v=0 and has m=audio" check. */
export const TWO_LINE_OFFER = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
