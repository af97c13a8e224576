#!/usr/bin/env node
/**
 * Media WebSocket smoke test (docs/testing.md §Smoke tests): connects to the runtime like Telnyx
 * does, sends `connected`, `start` (PCMU 8 kHz), a few seconds of a 440 Hz PCMU tone as 20 ms `media`
 * frames in real time, then `stop`; prints what the runtime sends back and how the socket closed.
 * The call must exist first: send call.initiated with the same CALL_CONTROL_ID
 * (EVENTS="call.initiated call.answered" ./scripts/smoke_webhook.sh).
 *
 * Environment (MEDIA_STREAM_TOKEN and PORT are also read from ./.env when unset):
 *   MEDIA_STREAM_TOKEN  required: the runtime's MEDIA_STREAM_TOKEN; the script derives the call's own
 *                       token from it (the runtime never accepts the shared token itself)
 *   CALL_CONTROL_ID     default call_123
 *   PORT                default 3000 (URL ws://localhost:${PORT}/v1/telnyx/media/${CALL_CONTROL_ID}?token=…)
 *   MEDIA_WS_URL        overrides the base (e.g. wss://xyz.trycloudflare.com); path and token are added
 *   DURATION_S          seconds of tone, default 3
 *   LINGER_MS           how long to keep listening after `stop` before closing, default 1000
 * Exit code 0 on a clean run (connected, streamed, closed normally), 1 otherwise.
 */
'use strict';

const { createHmac, randomUUID } = require('node:crypto');
const WebSocket = require('ws');

try {
  require('dotenv').config({ quiet: true });
} catch {
  // dotenv is optional here: the environment alone is enough.
}

const env = process.env;
const secret = env.MEDIA_STREAM_TOKEN;
const callControlId = env.CALL_CONTROL_ID || 'call_123';
const port = env.PORT || '3000';
const durationS = Number(env.DURATION_S || 3);
const lingerMs = Number(env.LINGER_MS || 1000);

function fail(msg) {
  console.error(`smoke_media_ws: ${msg}`);
  process.exit(1);
}

if (!secret) fail('MEDIA_STREAM_TOKEN is not set (export the value the runtime uses, e.g. from its .env)');
if (!Number.isFinite(durationS) || durationS <= 0 || durationS > 600) fail(`DURATION_S must be a number of seconds in (0, 600], got "${env.DURATION_S}"`);
if (!Number.isFinite(lingerMs) || lingerMs < 0) fail(`LINGER_MS must be >= 0, got "${env.LINGER_MS}"`);

// The call's own token, exactly as the runtime derives it for its stream_url (src/lib/telnyx/media-token.ts):
// base64url(HMAC-SHA256(MEDIA_STREAM_TOKEN, call_control_id)).
const token = createHmac('sha256', secret).update(callControlId).digest('base64url');
const base = (env.MEDIA_WS_URL || `ws://localhost:${port}`).replace(/\/+$/, '');
const url = `${base}/v1/telnyx/media/${encodeURIComponent(callControlId)}?token=${encodeURIComponent(token)}`;
const shownUrl = url.replace(/token=[^&]*/, 'token=***');

/** G.711 µ-law encoding of one 16-bit sample (ITU-T G.711). */
function linearToMulaw(sample) {
  const BIAS = 0x84;
  const CLIP = 32635;
  const sign = sample < 0 ? 0x80 : 0;
  const s = Math.min(Math.abs(sample), CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent -= 1;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

const SAMPLE_RATE = 8000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;
const totalFrames = Math.round((durationS * 1000) / FRAME_MS);
let phase = 0;

/** The next 20 ms of a 440 Hz tone at about -12 dBFS, µ-law, base64. */
function nextToneFrame() {
  const buf = Buffer.alloc(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i += 1) {
    buf[i] = linearToMulaw(Math.round(8000 * Math.sin(phase)));
    phase += (2 * Math.PI * 440) / SAMPLE_RATE;
  }
  phase %= 2 * Math.PI;
  return buf.toString('base64');
}

const streamId = randomUUID();
let seq = 0;
const nextSeq = () => String(++seq);
const received = new Map();
let printedMedia = 0;
let opened = false;
let stopSent = false;
let closedByUs = false;
let sendTimer;
let lingerTimer;

console.log(`connecting to ${shownUrl}`);
const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });

ws.on('unexpected-response', (_req, res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    const hint =
      res.statusCode === 401
        ? ' — MEDIA_STREAM_TOKEN does not match the runtime\'s'
        : res.statusCode === 404
          ? ' — wrong path or host'
          : '';
    fail(`connection refused with HTTP ${res.statusCode}: ${body.slice(0, 300)}${hint}`);
  });
});

ws.on('error', (err) => fail(`socket error: ${err.message}`));

ws.on('open', () => {
  opened = true;
  console.log(`connected; streaming ${durationS} s of a 440 Hz PCMU tone (${totalFrames} frames of ${FRAME_MS} ms)`);
  ws.send(JSON.stringify({ event: 'connected', version: '1.0.0' }));
  ws.send(
    JSON.stringify({
      event: 'start',
      sequence_number: nextSeq(),
      stream_id: streamId,
      start: {
        call_control_id: callControlId,
        call_session_id: randomUUID(),
        from: '+15550001111',
        to: '+15551234567',
        client_state: null,
        media_format: { encoding: 'PCMU', sample_rate: SAMPLE_RATE, channels: 1 },
      },
    }),
  );
  const t0 = performance.now();
  let frame = 0;
  // Real-time pacing against the start time, so timer jitter does not accumulate.
  const tick = () => {
    const due = Math.floor((performance.now() - t0) / FRAME_MS) + 1;
    while (frame < Math.min(due, totalFrames) && ws.readyState === WebSocket.OPEN) {
      frame += 1;
      ws.send(
        JSON.stringify({
          event: 'media',
          sequence_number: nextSeq(),
          stream_id: streamId,
          media: { track: 'inbound', chunk: String(frame), timestamp: String(frame * FRAME_MS), payload: nextToneFrame() },
        }),
      );
    }
    if (ws.readyState !== WebSocket.OPEN) return;
    if (frame >= totalFrames) {
      ws.send(JSON.stringify({ event: 'stop', sequence_number: nextSeq(), stream_id: streamId, stop: { call_control_id: callControlId } }));
      stopSent = true;
      console.log(`sent ${frame} media frames and stop; listening ${lingerMs} ms more`);
      lingerTimer = setTimeout(() => {
        closedByUs = true;
        ws.close(1000, 'smoke test done');
      }, lingerMs);
      return;
    }
    sendTimer = setTimeout(tick, Math.max(1, t0 + frame * FRAME_MS - performance.now()));
  };
  tick();
});

ws.on('message', (data, isBinary) => {
  if (isBinary) {
    received.set('(binary)', (received.get('(binary)') || 0) + 1);
    return;
  }
  let msg;
  try {
    msg = JSON.parse(data.toString());
  } catch {
    console.log(`received non-JSON text: ${data.toString().slice(0, 200)}`);
    received.set('(invalid)', (received.get('(invalid)') || 0) + 1);
    return;
  }
  const event = String(msg.event);
  received.set(event, (received.get(event) || 0) + 1);
  if (event === 'media') {
    if (printedMedia < 3) {
      const bytes = msg.media && typeof msg.media.payload === 'string' ? Buffer.from(msg.media.payload, 'base64').length : 0;
      console.log(`received media (${bytes} bytes of agent audio)${printedMedia === 2 ? ' … (further media frames counted, not printed)' : ''}`);
    }
    printedMedia += 1;
  } else {
    console.log(`received ${JSON.stringify(msg).slice(0, 300)}`);
  }
});

ws.on('close', (code, reasonBuf) => {
  clearTimeout(sendTimer);
  clearTimeout(lingerTimer);
  const reason = reasonBuf.toString();
  const summary = [...received].map(([e, n]) => `${e} × ${n}`).join(', ') || 'nothing';
  console.log(`received in total: ${summary}`);
  console.log(`closed by ${closedByUs ? 'us' : 'the server'}: code ${code}${reason ? ` (${reason})` : ''}`);
  if (!opened) fail('never connected');
  if (!closedByUs) {
    const hint = code === 1008 ? ' — unknown or ended call: send call.initiated with this CALL_CONTROL_ID first' : '';
    if (code !== 1000 || !stopSent) fail(`the server closed the stream early${hint}`);
  }
  console.log('smoke_media_ws: OK');
  process.exit(0);
});
