import { createHmac, sign } from 'node:crypto';
import { createWebhookVerifier } from '../../src/lib/telnyx/webhook-verify';
import { AppError } from '../../src/lib/errors';
import { generateTestKeyPair, makeEvent, signEd25519, signHmac } from '../support/telnyx-signing';

const NOW_SEC = 1_760_000_000;
const now = () => NOW_SEC * 1000;
const keys = generateTestKeyPair();
const SECRET = 'devsecret';
const body = Buffer.from(JSON.stringify(makeEvent('call.initiated', { client_state: 'aGk=' })));

const verifier = createWebhookVerifier({ publicKeyB64: keys.publicKeyB64, hmacSecret: SECRET, now });
const edOnly = createWebhookVerifier({ publicKeyB64: keys.publicKeyB64, now });

describe('webhook verification: Ed25519', () => {
  it('accepts a valid signature over `${timestamp}|${rawBody}`', () => {
    expect(edOnly.verify(signEd25519(body, keys.privateKey, NOW_SEC), body)).toEqual({ ok: true, scheme: 'ed25519' });
  });

  it('verifies the raw bytes, not a re-serialization (whitespace and key order preserved)', () => {
    const raw = Buffer.from('{ "data" : {"id":"x", "event_type":"call.hangup"} }\n');
    expect(edOnly.verify(signEd25519(raw, keys.privateKey, NOW_SEC), raw).ok).toBe(true);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(raw.toString())));
    expect(edOnly.verify(signEd25519(raw, keys.privateKey, NOW_SEC), reserialized)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a tampered body', () => {
    const headers = signEd25519(body, keys.privateKey, NOW_SEC);
    const tampered = Buffer.from(body.toString().replace('+15551234567', '+15551234568'));
    expect(edOnly.verify(headers, tampered)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature over `${timestamp}.${rawBody}` (the original product\'s dot bug)', () => {
    const sig = sign(null, Buffer.concat([Buffer.from(`${NOW_SEC}.`), body]), keys.privateKey).toString('base64');
    const headers = { 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': String(NOW_SEC) };
    expect(edOnly.verify(headers, body)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature made with another key', () => {
    const other = generateTestKeyPair();
    expect(edOnly.verify(signEd25519(body, other.privateKey, NOW_SEC), body)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signed timestamp swapped for a fresh one', () => {
    const headers = { ...signEd25519(body, keys.privateKey, NOW_SEC - 10), 'telnyx-timestamp': String(NOW_SEC) };
    expect(edOnly.verify(headers, body)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['300 s old', -300, true],
    ['300 s ahead', 300, true],
    ['301 s old', -301, false],
    ['301 s ahead', 301, false],
  ])('timestamp %s → ok=%s', (_label, offset, ok) => {
    const r = edOnly.verify(signEd25519(body, keys.privateKey, NOW_SEC + offset), body);
    expect(r).toEqual(ok ? { ok: true, scheme: 'ed25519' } : { ok: false, reason: 'stale_timestamp' });
  });

  it('honours a custom tolerance', () => {
    const strict = createWebhookVerifier({ publicKeyB64: keys.publicKeyB64, toleranceSec: 5, now });
    expect(strict.verify(signEd25519(body, keys.privateKey, NOW_SEC - 6), body)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(strict.verify(signEd25519(body, keys.privateKey, NOW_SEC - 5), body).ok).toBe(true);
  });

  it('reports missing signature and missing/non-numeric timestamps', () => {
    const headers = signEd25519(body, keys.privateKey, NOW_SEC);
    expect(edOnly.verify({ 'telnyx-timestamp': String(NOW_SEC) }, body)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(edOnly.verify({ 'telnyx-signature-ed25519': headers['telnyx-signature-ed25519'] }, body)).toEqual({ ok: false, reason: 'missing_timestamp' });
    for (const ts of ['', 'abc', '1.5', '-1760000000', '1760000000abc']) {
      expect(edOnly.verify({ ...headers, 'telnyx-timestamp': ts }, body)).toEqual({ ok: false, reason: 'missing_timestamp' });
    }
  });

  it.each([
    ['not base64', '!!!not-base64!!!'],
    ['too short', Buffer.alloc(32, 1).toString('base64')],
    ['too long', Buffer.alloc(65, 1).toString('base64')],
    ['hex instead of base64', Buffer.alloc(64, 1).toString('hex')],
  ])('rejects a malformed signature (%s)', (_label, sig) => {
    expect(edOnly.verify({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': String(NOW_SEC) }, body)).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
  });

  it('rejects 64 bytes of garbage as a bad signature without throwing', () => {
    const sig = Buffer.alloc(64, 0xff).toString('base64');
    expect(edOnly.verify({ 'telnyx-signature-ed25519': sig, 'telnyx-timestamp': String(NOW_SEC) }, body)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('accepts array header values and mixed-case header names', () => {
    const h = signEd25519(body, keys.privateKey, NOW_SEC);
    const headers = { 'Telnyx-Signature-Ed25519': [h['telnyx-signature-ed25519']!], 'Telnyx-Timestamp': h['telnyx-timestamp'] };
    expect(edOnly.verify(headers, body)).toEqual({ ok: true, scheme: 'ed25519' });
  });

  it('refuses to construct with a key that is not 32 raw bytes (e.g. an SPKI key)', () => {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(keys.publicKeyB64, 'base64')]).toString('base64');
    expect(() => createWebhookVerifier({ publicKeyB64: spki })).toThrow(AppError);
    expect(() => createWebhookVerifier({ publicKeyB64: 'garbage!' })).toThrow(/32-byte/);
  });
});

describe('webhook verification: HMAC (local signing)', () => {
  it('accepts a valid HMAC over `${timestamp}.${rawBody}`', () => {
    expect(verifier.verify(signHmac(body, SECRET, NOW_SEC), body)).toEqual({ ok: true, scheme: 'hmac' });
  });

  it('matches the documented formula byte for byte', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW_SEC}.${body.toString()}`).digest('base64');
    expect(signHmac(body, SECRET, NOW_SEC)['telnyx-signature']).toBe(expected);
  });

  it('rejects a wrong secret, a tampered body and a stale timestamp', () => {
    expect(verifier.verify(signHmac(body, 'other', NOW_SEC), body)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifier.verify(signHmac(body, SECRET, NOW_SEC), Buffer.concat([body, Buffer.from(' ')]))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifier.verify(signHmac(body, SECRET, NOW_SEC - 301), body)).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('rejects a truncated or non-base64 HMAC as malformed', () => {
    const h = signHmac(body, SECRET, NOW_SEC);
    expect(verifier.verify({ ...h, 'telnyx-signature': h['telnyx-signature']!.slice(0, 20) }, body)).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(verifier.verify({ ...h, 'telnyx-signature': '%%%' }, body)).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it('ignores HMAC signatures when no secret is configured', () => {
    expect(edOnly.verify(signHmac(body, SECRET, NOW_SEC), body)).toEqual({ ok: false, reason: 'missing_signature' });
    const empty = createWebhookVerifier({ publicKeyB64: keys.publicKeyB64, hmacSecret: '', now });
    expect(empty.verify(signHmac(body, '', NOW_SEC), body)).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('with both headers: Ed25519 first, HMAC as fallback', () => {
    const ed = signEd25519(body, keys.privateKey, NOW_SEC);
    const hm = signHmac(body, SECRET, NOW_SEC);
    expect(verifier.verify({ ...ed, ...hm }, body)).toEqual({ ok: true, scheme: 'ed25519' });
    const badEd = { ...hm, 'telnyx-signature-ed25519': Buffer.alloc(64, 7).toString('base64') };
    expect(verifier.verify(badEd, body)).toEqual({ ok: true, scheme: 'hmac' });
    const bothBad = { ...badEd, 'telnyx-signature': signHmac(body, 'other', NOW_SEC)['telnyx-signature'] };
    expect(verifier.verify(bothBad, body)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

