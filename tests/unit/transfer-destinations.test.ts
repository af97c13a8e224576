import { createUrlPolicy, STRICT_URL_POLICY } from '../../src/lib/net/url-policy';
import type { TenantConfig } from '../../src/lib/tenants/tenant-config';
import { checkTransfer, destinationKey } from '../../src/lib/tenants/transfer-destinations';

const tenant = (extra: Partial<TenantConfig>): TenantConfig => ({ contractVersion: 'v1', tenantId: 'acme', dids: [], caps: {}, ...extra }) as TenantConfig;

const ACME = tenant({
  transferProfiles: [
    { name: 'sales', to: '+15550001111' },
    { name: 'support', destination: '(555) 000-2222' },
    { name: 'billing', number: '+44 20 7183 8750' },
    { name: 'desk', to: 'sip:Desk@PBX.Example.com' },
    { name: 'old', to: '+15550003333', enabled: false },
    'not a profile object',
    { name: 'no destination' },
  ],
  callForwarding: { enabled: true, destination: 'sips:frontdesk@sip.example.com:5061;transport=tls' },
});

describe('destinationKey', () => {
  it.each([
    ['+15550001111', 'tel:+15550001111'],
    [' +1 (555) 000-1111 ', 'tel:+15550001111'],
    ['tel:+15550001111', 'tel:+15550001111'],
    ['5550001111', 'tel:+15550001111'],
    ['SIP:desk@PBX.example.COM', 'sip:desk@pbx.example.com'],
    ['sip:Desk@pbx.example.com', 'sip:Desk@pbx.example.com'], // the user part is case-sensitive
    ['sips:a@[2001:DB8::1]:5061;transport=tls', 'sips:a@[2001:db8::1]:5061;transport=tls'],
  ])('%s → %s', (raw, key) => expect(destinationKey(raw)).toBe(key));

  it.each([['sales'], [''], ['+1 555 000 1111 ext 5'], ['http://evil.example.com'], ['sip:'], ['sip:a@'], ['+12']])('%p is no destination', (raw) => {
    expect(destinationKey(raw)).toBeUndefined();
  });
});

describe('checkTransfer', () => {
  it.each([
    ['+15550001111', '+15550001111'],
    ['+1 555-000-1111', '+15550001111'],
    ['tel:+15550002222', '+15550002222'], // profile "destination", national format
    ['00442071838750', '+442071838750'], // profile "number"
    ['sip:Desk@pbx.example.com', 'sip:Desk@PBX.Example.com'], // host compared case-insensitively; the tenant's spelling is sent
    ['SIPS:frontdesk@SIP.example.com:5061;transport=tls', 'sips:frontdesk@sip.example.com:5061;transport=tls'], // callForwarding
  ])('allows %s, sent as %s', (to, sent) => {
    expect(checkTransfer({ to }, ACME, STRICT_URL_POLICY)).toEqual({ ok: true, transfer: { to: sent } });
  });

  it.each([
    ['+19005550123'], // nowhere in the config
    ['+15550003333'], // a disabled profile
    ['sip:desk@pbx.example.com'], // another user at the allowed host
    ['sip:Desk@pbx.example.com:5070'], // another port
    ['sip:+15550001111@evil.example.com'], // the allowed number, routed through someone else's SIP server
    ['sales'], // a profile name is not a destination
  ])('refuses %s', (to) => {
    expect(checkTransfer({ to }, ACME, STRICT_URL_POLICY)).toEqual({ ok: false, to });
  });

  it('refuses everything when the tenant configures no destination (or forwarding is off)', () => {
    expect(checkTransfer({ to: '+15550001111' }, undefined, STRICT_URL_POLICY).ok).toBe(false);
    expect(checkTransfer({ to: '+15550001111' }, tenant({}), STRICT_URL_POLICY).ok).toBe(false);
    const off = tenant({ callForwarding: { enabled: false, destination: '+15550001111' } });
    expect(checkTransfer({ to: '+15550001111' }, off, STRICT_URL_POLICY).ok).toBe(false);
  });

  it('keeps timeoutSecs and an audioUrl that passes the URL policy; drops one that does not', () => {
    expect(checkTransfer({ to: '+15550001111', audioUrl: 'https://cdn.example.com/hold.mp3', timeoutSecs: 20 }, ACME, STRICT_URL_POLICY)).toEqual({
      ok: true,
      transfer: { to: '+15550001111', audioUrl: 'https://cdn.example.com/hold.mp3', timeoutSecs: 20 },
    });
    expect(checkTransfer({ to: '+15550001111', audioUrl: 'http://169.254.169.254/latest/meta-data' }, ACME, STRICT_URL_POLICY)).toEqual({
      ok: true,
      transfer: { to: '+15550001111' },
      droppedAudioUrl: { url: 'http://169.254.169.254/latest/meta-data', reason: 'host 169.254.169.254 is link-local (cloud metadata)' },
    });
    expect(checkTransfer({ to: '+15550001111', audioUrl: 'file:///etc/passwd' }, ACME, STRICT_URL_POLICY)).toMatchObject({ transfer: { to: '+15550001111' } });
    const local = createUrlPolicy(['10.0.0.5']);
    expect(checkTransfer({ to: '+15550001111', audioUrl: 'http://10.0.0.5/hold.mp3' }, ACME, local)).toEqual({
      ok: true,
      transfer: { to: '+15550001111', audioUrl: 'http://10.0.0.5/hold.mp3' },
    });
  });

  it('never passes on keys of the brain reply other than to, audioUrl and timeoutSecs', () => {
    const r = checkTransfer({ to: '+15550001111', from: '+19005550123', webhook_url: 'http://x' } as never, ACME, STRICT_URL_POLICY);
    expect(r).toEqual({ ok: true, transfer: { to: '+15550001111' } });
  });

  it('shows at most 100 characters of a refused destination (it is the brain\'s text)', () => {
    const r = checkTransfer({ to: `+1${'9'.repeat(500)}` }, ACME, STRICT_URL_POLICY);
    expect(!r.ok && r.to.length).toBe(100);
  });
});
