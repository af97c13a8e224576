/**
 * A cheap, pure check of a browser's SDP offer, run before anything costs a Redis round trip, a
 * capacity slot or a werift peer: the offer must look like what a browser sends for /hd-call
 * (RFC 8866 line structure; one audio section offering Opus; the data channel; ICE credentials
 * and a DTLS fingerprint). werift still parses it fully afterwards; this only turns away junk
 * early and cheaply. Work is bounded by MAX_OFFER_SDP_BYTES.
 */
import { MAX_OFFER_SDP_BYTES } from './peer';

export type SdpOfferCheck = { ok: true } | { ok: false; reason: string };

/** A browser offer for /hd-call has 2–3 sections (audio, data channel, maybe video); more is not one of ours. */
const MAX_MEDIA_SECTIONS = 8;
/** `<type>=<value>`: one lowercase letter, then any text without control characters (tab allowed). */
const SDP_LINE = /^[a-z]=(?:[^\p{Cc}]|\t)*$/u;
/** `m=<media> <port>[/<n>] <proto> <fmt> …` (RFC 8866 §5.14). */
const MEDIA_LINE = /^m=([a-z]+) (\d{1,5})(?:\/\d{1,3})? ([A-Za-z0-9/_.-]+)((?: [A-Za-z0-9._-]+)+)$/;
/** `a=rtpmap:<pt> opus/48000[/2]`: RFC 7587 signals every Opus stream this way. */
const OPUS_RTPMAP = /^a=rtpmap:(\d{1,3}) opus\/48000(?:\/[12])?$/i;
/** RFC 8839 §5.4: ufrag 4–256, pwd 22–256 ice-chars. */
const ICE_UFRAG = /^a=ice-ufrag:[A-Za-z0-9+/]{4,256}$/;
const ICE_PWD = /^a=ice-pwd:[A-Za-z0-9+/]{22,256}$/;

const no = (reason: string): SdpOfferCheck => ({ ok: false, reason });

export function checkOfferSdp(sdp: string): SdpOfferCheck {
  if (Buffer.byteLength(sdp) > MAX_OFFER_SDP_BYTES) return no(`the SDP offer exceeds ${MAX_OFFER_SDP_BYTES} bytes`);
  if (!sdp.startsWith('v=0\r\n') && !sdp.startsWith('v=0\n')) return no('an SDP offer starts with the line "v=0"');
  const lines = sdp.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();

  let sections = 0;
  let audioSections = 0;
  let audioFormats: string[] = [];
  let inAudio = false;
  let opusInAudio = false;
  let dataChannel = false;
  let iceUfrag = false;
  let icePwd = false;
  let fingerprint = false;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (!SDP_LINE.test(line)) return no(`line ${i + 1} is not an SDP "<type>=<value>" line`);
    if (line.startsWith('m=')) {
      const m = MEDIA_LINE.exec(line);
      if (!m) return no(`line ${i + 1} is not a valid "m=" line`);
      sections += 1;
      if (sections > MAX_MEDIA_SECTIONS) return no(`the offer has more than ${MAX_MEDIA_SECTIONS} media sections`);
      inAudio = m[1] === 'audio';
      if (inAudio) {
        audioSections += 1;
        audioFormats = m[4]!.trim().split(' ');
      }
      if (m[1] === 'application' && m[4]!.includes('webrtc-datachannel')) dataChannel = true;
    } else if (line.startsWith('a=ice-ufrag:')) {
      if (!ICE_UFRAG.test(line)) return no(`line ${i + 1}: a=ice-ufrag must be 4–256 ICE characters`);
      iceUfrag = true;
    } else if (line.startsWith('a=ice-pwd:')) {
      if (!ICE_PWD.test(line)) return no(`line ${i + 1}: a=ice-pwd must be 22–256 ICE characters`);
      icePwd = true;
    }
    else if (line.startsWith('a=fingerprint:')) fingerprint = true;
    else if (inAudio && audioSections === 1) {
      const opus = OPUS_RTPMAP.exec(line);
      if (opus && audioFormats.includes(opus[1]!)) opusInAudio = true;
    }
  }
  if (audioSections === 0) return no('the offer has no audio (m=audio) section');
  if (audioSections > 1) return no('the offer has more than one audio section (one microphone track is expected)');
  if (!opusInAudio) return no('the audio section does not offer Opus (a=rtpmap:<pt> opus/48000/2)');
  if (!dataChannel) return no('the offer has no data channel (m=application … webrtc-datachannel)');
  if (!iceUfrag || !icePwd) return no('the offer has no ICE credentials (a=ice-ufrag, a=ice-pwd)');
  if (!fingerprint) return no('the offer has no DTLS fingerprint (a=fingerprint)');
  return { ok: true };
}
