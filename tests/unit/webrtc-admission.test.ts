import { clientAddressKey } from '../../src/lib/rate-limit/client-address';
import { parseTenantConfig, type TenantConfig } from '../../src/lib/tenants/tenant-config';
import { parseTrustProxy } from '../../src/lib/trust-proxy';
import { mintJoinToken } from '../../src/lib/webrtc/join-token';
import { admitBrowserCall, type BrowserAdmissionInput, type TenantLookup } from '../../src/media/webrtc/browser-admission';

const NOW = Date.UTC(2030, 0, 1);
const SECRET = 'acme-join-secret-0123456789';
const DEFAULTS = { globalMax: 20, tenantMax: 5, tenantPerMinute: 10, requireJoinToken: false };

function tenant(webrtc?: Record<string, unknown>): TenantLookup {
  const r = parseTenantConfig(JSON.stringify({ contractVersion: 'v1', tenantId: 'acme', caps: { maxConcurrentCallsTenant: 99 }, ...(webrtc ? { webrtc } : {}) }), 'acme');
  if (!r.ok) throw new Error(r.problems.join('; '));
  return { kind: 'ok', config: r.config as TenantConfig };
}

const admit = (over: Partial<BrowserAdmissionInput>) => admitBrowserCall({ tenantId: 'acme', lookup: tenant(), joinToken: undefined, origin: undefined, defaults: DEFAULTS, now: NOW, ...over });
const reason = (over: Partial<BrowserAdmissionInput>) => {
  const r = admit(over);
  return r.ok ? 'ok' : r.reason;
};

describe('browser-call admission (tenant side)', () => {
  it('uses the browser caps, never the phone caps: tenant config webrtc block, else the WEBRTC_* defaults', () => {
    const plain = admit({});
    expect(plain.ok && plain.limits).toEqual({ globalMax: 20, tenantMax: 5, tenantPerMinute: 10 });
    const own = admit({ lookup: tenant({ maxConcurrentCalls: 2, maxCallsPerMinute: 3 }) });
    expect(own.ok && own.limits).toEqual({ globalMax: 20, tenantMax: 2, tenantPerMinute: 3 });
  });

  it('refuses unknown tenants, invalid configs and tenants that turned browser calls off', () => {
    expect(reason({ lookup: { kind: 'missing' } })).toBe('tenant_unknown');
    expect(reason({ lookup: { kind: 'invalid', problems: ['x'] } })).toBe('tenant_invalid');
    expect(reason({ lookup: tenant({ enabled: false }) })).toBe('webrtc_disabled');
  });

  it('asks for a join token when the tenant (or WEBRTC_REQUIRE_JOIN_TOKEN) says so', () => {
    const required = tenant({ requireJoinToken: true, joinTokenSecret: SECRET });
    const token = mintJoinToken({ secret: SECRET, tenantId: 'acme', now: NOW });
    expect(reason({ lookup: required })).toBe('token_missing');
    expect(reason({ lookup: required, joinToken: token })).toBe('ok');
    expect(reason({ lookup: required, joinToken: 'v1.garbage' })).toBe('token_invalid');
    expect(reason({ lookup: required, joinToken: token, now: NOW + 301_000 })).toBe('token_expired');
    expect(reason({ lookup: required, joinToken: mintJoinToken({ secret: SECRET, tenantId: 'other', now: NOW }) })).toBe('token_invalid');
    // Env default on, tenant silent: required, and without a secret nobody gets in.
    expect(reason({ defaults: { ...DEFAULTS, requireJoinToken: true }, joinToken: token })).toBe('token_secret_missing');
    expect(reason({ lookup: tenant({ requireJoinToken: true, joinTokenSecret: 'short' }), joinToken: token })).toBe('token_secret_missing');
    // Tenant explicitly off wins over the env default.
    expect(reason({ lookup: tenant({ requireJoinToken: false }), defaults: { ...DEFAULTS, requireJoinToken: true } })).toBe('ok');
    // Not required: a token is not looked at.
    expect(reason({ joinToken: 'nonsense' })).toBe('ok');
  });

  it('keeps unknown keys of the webrtc block and rejects wrong types', () => {
    const r = parseTenantConfig(JSON.stringify({ contractVersion: 'v1', tenantId: 'acme', webrtc: { maxConcurrentCalls: 2, futureKey: 1 } }), 'acme');
    expect(r.ok && r.config.webrtc).toEqual({ maxConcurrentCalls: 2, futureKey: 1 });
    const bad = parseTenantConfig(JSON.stringify({ contractVersion: 'v1', tenantId: 'acme', webrtc: { maxConcurrentCalls: '2' } }), 'acme');
    expect(bad.ok).toBe(false);
  });
});

describe('rate-limit subject of a client address', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.33', '64:ff9b:0:0::/64'],
    [undefined, 'unknown'],
    ['not-an-ip', 'unknown'],
  ])('%s → %s', (address, key) => expect(clientAddressKey(address)).toBe(key));
});

describe('TRUST_PROXY', () => {
  it.each([
    ['true', true],
    ['FALSE', false],
    ['1', 1],
    ['loopback, uniquelocal', 'loopback, uniquelocal'],
    ['10.0.0.0/8,127.0.0.1, ::1/128', '10.0.0.0/8, 127.0.0.1, ::1/128'],
  ])('%s → %p', (raw, value) => expect(parseTrustProxy(raw)).toEqual({ ok: true, value }));

  it.each([['yes please'], ['10.0.0.0/33'], ['127.0.0.1/8/1'], [' , ']])('refuses %p', (raw) => expect(parseTrustProxy(raw).ok).toBe(false));
});
