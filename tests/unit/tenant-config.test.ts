import { normalizeE164 } from '../../src/lib/tenants/e164';
import { createUrlPolicy, STRICT_URL_POLICY } from '../../src/lib/net/url-policy';
import { parseTenantConfig } from '../../src/lib/tenants/tenant-config';

describe('normalizeE164', () => {
  it.each([
    ['+15551234567', '+15551234567'],
    [' +1 (555) 123-4567 ', '+15551234567'],
    ['sip:+15551234567@sip.telnyx.com', '+15551234567'],
    ['tel:+442071838750', '+442071838750'],
    ['5551234567', '+15551234567'],
    ['15551234567', '+15551234567'],
    ['0044 20 7183 8750', '+442071838750'],
  ])('%s → %s', (raw, e164) => expect(normalizeE164(raw)).toBe(e164));

  it.each([[''], ['anonymous'], ['+12'], [undefined]])('rejects %p', (raw) => expect(normalizeE164(raw)).toBeUndefined());
});

describe('tenant config v1 contract', () => {
  const original = {
    contractVersion: 'v1',
    tenantId: 'acme',
    dids: ['+15551234567'],
    caps: { maxConcurrentCallsTenant: 5, maxCallsPerMinuteTenant: 20 },
    stt: { mode: 'whisper_http', whisperUrl: 'http://whisper:9000/inference', chunkMs: 800, language: 'en' },
    tts: { mode: 'coqui_xtts', coquiUrl: 'http://coqui', voice: 'x' },
    quickReplies: [{ match: ['hours'], reply: 'We open at nine.' }],
    assistantContext: { businessName: 'Acme' },
    transferProfiles: [{ name: 'sales', to: '+15550000000' }],
    callForwarding: { enabled: false, destination: '+15550000001', ringSeconds: 20 },
    webhookSecretRef: 'vault:acme',
    someFutureKey: { nested: true },
  };

  it("accepts the original product's documents unchanged and keeps unknown keys", () => {
    const r = parseTenantConfig(JSON.stringify(original), 'acme');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject(original);
    expect((r.config as Record<string, unknown>).someFutureKey).toEqual({ nested: true });
    expect((r.config.tts as Record<string, unknown>).coquiUrl).toBe('http://coqui');
  });

  it('reports what is wrong with an invalid document', () => {
    const r = parseTenantConfig(JSON.stringify({ ...original, contractVersion: 'v2', caps: { maxConcurrentCallsTenant: -1 } }), 'acme');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.join('\n')).toMatch(/contractVersion/);
    expect(r.problems.join('\n')).toMatch(/caps\.maxConcurrentCallsTenant/);
    expect(parseTenantConfig('{not json', 'acme')).toEqual({ ok: false, problems: ['not valid JSON'] });
    expect(parseTenantConfig(JSON.stringify(original), 'other').ok).toBe(false);
  });

  it('takes a turnTaking block and bounds it', () => {
    const turnTaking = { mode: 'transcript', completeSilenceMs: 150, incompleteSilenceMs: 2000, speculativeReply: false, trailingWords: ['für'], shortAnswers: ['ja bitte'] };
    const r = parseTenantConfig(JSON.stringify({ ...original, turnTaking }), 'acme');
    expect(r.ok && r.config.turnTaking).toEqual(turnTaking);
    const bad = parseTenantConfig(
      JSON.stringify({ ...original, turnTaking: { mode: 'guess', incompleteSilenceMs: 60_000, trailingWords: ['two words'], shortAnswers: Array(201).fill('ok') } }),
      'acme',
    );
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    for (const field of ['mode', 'incompleteSilenceMs', 'trailingWords', 'shortAnswers']) expect(bad.problems.join('\n')).toContain(`turnTaking.${field}`);
  });
});

describe('tenant config URLs (tenant data, not operator settings)', () => {
  const base = { contractVersion: 'v1', tenantId: 'acme', dids: ['+15551234567'] };
  const problemsOf = (doc: Record<string, unknown>, policy = STRICT_URL_POLICY) => {
    const r = parseTenantConfig(JSON.stringify({ ...base, ...doc }), 'acme', policy);
    return r.ok ? [] : r.problems;
  };

  it.each([
    [{ stt: { mode: 'whisper_http', whisperUrl: 'file:///etc/passwd' } }, 'stt.whisperUrl: scheme "file:" is not allowed (http/https only)'],
    [{ stt: { mode: 'whisper_http', whisperUrl: 'http://169.254.169.254/latest/meta-data' } }, 'stt.whisperUrl: host 169.254.169.254 is link-local (cloud metadata)'],
    [{ tts: { mode: 'kokoro_http', kokoroUrl: 'http://[::ffff:127.0.0.1]:8880/v1/audio/speech' } }, 'tts.kokoroUrl: host [::ffff:7f00:1] is loopback (IPv4-mapped 127.0.0.1)'],
    [{ tts: { mode: 'kokoro_http', kokoroUrl: 'gopher://kokoro.example.com/' } }, 'tts.kokoroUrl: scheme "gopher:" is not allowed (http/https only)'],
    [{ audio: { publicBaseUrl: 'http://10.0.0.8/audio' } }, 'audio.publicBaseUrl: host 10.0.0.8 is private'],
    // Every other URL field too: other TTS modes' servers, profile hold music, future keys.
    [{ tts: { mode: 'coqui_xtts', coquiUrl: 'http://localhost:5002' } }, 'tts.coquiUrl: host localhost is loopback'],
    [{ transferProfiles: [{ name: 'sales', to: '+15550000000', audioUrl: 'http://0x7f.1/hold.mp3' }] }, 'transferProfiles.0.audioUrl: host 127.0.0.1 is loopback'],
    [{ crm: { webhookURL: 'http://metadata.google.internal/' } }, 'crm.webhookURL: host metadata.google.internal is a cloud metadata host'],
  ])('refuses %j naming the field', (doc, problem) => {
    expect(problemsOf(doc)).toEqual([problem]);
  });

  it('reports URL problems together with schema problems', () => {
    const problems = problemsOf({ caps: { maxConcurrentCallsTenant: -1 }, stt: { mode: 'whisper_http', whisperUrl: 'file:///etc/passwd' } });
    expect(problems).toHaveLength(2);
    expect(problems.join('\n')).toMatch(/caps\.maxConcurrentCallsTenant/);
    expect(problems.join('\n')).toMatch(/stt\.whisperUrl: scheme "file:"/);
  });

  it('accepts public URLs, and loopback ones only for hosts the operator allowlisted', () => {
    const local = { stt: { mode: 'whisper_http', whisperUrl: 'http://127.0.0.1:9000/inference' }, tts: { mode: 'kokoro_http', kokoroUrl: 'http://localhost:8880/v1/audio/speech' } };
    expect(problemsOf(local)).toEqual(['stt.whisperUrl: host 127.0.0.1 is loopback', 'tts.kokoroUrl: host localhost is loopback']);
    expect(problemsOf(local, createUrlPolicy(['127.0.0.1', 'localhost:8880']))).toEqual([]);
    expect(problemsOf({ audio: { publicBaseUrl: 'https://cdn.example.com/audio' }, stt: { mode: 'whisper_http', whisperUrl: 'https://stt.example.com/v1/audio/transcriptions' } })).toEqual([]);
  });

  it("does not treat the brain's free-form assistantContext as URLs to fetch", () => {
    expect(problemsOf({ assistantContext: { bookingUrl: 'http://localhost/book' } })).toEqual([]);
  });
});
