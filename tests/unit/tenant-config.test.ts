import { normalizeE164 } from '../../src/lib/tenants/e164';
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
});
