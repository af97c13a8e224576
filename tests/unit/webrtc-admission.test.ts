import { browserCallLimits } from '../../src/lib/capacity/tenant-limits';
import { clientAddressKey } from '../../src/lib/rate-limit/client-address';
import { parseTenantConfig, type TenantConfig } from '../../src/lib/tenants/tenant-config';
import { parseTrustProxy } from '../../src/lib/trust-proxy';
import { mintJoinToken } from '../../src/lib/webrtc/join-token';
import { checkBrowserCaller, tenantRefusal, type BrowserCallerInput } from '../../src/media/webrtc/browser-admission';

const NOW = Date.UTC(2030, 0, 1);
const SECRET = 'acme-join-secret-0123456789';
const DEFAULTS = { globalMax: 20, tenantMax: 5, tenantPerMinute: 10 };

function tenant(webrtc?: Record<string, unknown>): TenantConfig {
  const r = parseTenantConfig(JSON.stringify({ contractVersion: 'v1', tenantId: 'acme', caps: { maxConcurrentCallsTenant: 99 }, ...(webrtc ? { webrtc } : {}) }), 'acme');
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.config;
}

const reason = (over: Partial<BrowserCallerInput>) => {
  const r = checkBrowserCaller({ tenantId: 'acme', tenant: tenant(), joinToken: undefined, origin: undefined, requireJoinToken: false, now: NOW, ...over });
  return r.ok ? 'ok' : r.reason;
};

describe('browser-call admission (tenant side)', () => {
  it('uses the browser caps, never the phone caps: tenant config webrtc block, else the WEBRTC_* defaults', () => {
    expect(browserCallLimits(tenant().webrtc, DEFAULTS)).toEqual({ globalMax: 20, tenantMax: 5, tenantPerMinute: 10 });
    expect(browserCallLimits(tenant({ maxConcurrentCalls: 2, maxCallsPerMinute: 3 }).webrtc, DEFAULTS)).toEqual({ globalMax: 20, tenantMax: 2, tenantPerMinute: 3 });
  });

  it('refuses unknown tenants, invalid configs and tenants that turned browser calls off', () => {
    expect(tenantRefusal({ kind: 'not_configured', tenantId: 'acme' })).toEqual({ reason: 'tenant_unknown' });
    expect(tenantRefusal({ kind: 'invalid_config', tenantId: 'acme', problems: ['x', 'y'] })).toEqual({ reason: 'tenant_invalid', detail: 'x; y' });
    expect(reason({ tenant: tenant({ enabled: false }) })).toBe('webrtc_disabled');
  });

  it('asks for a join token when the tenant (or WEBRTC_REQUIRE_JOIN_TOKEN) says so', () => {
    const required = tenant({ requireJoinToken: true, joinTokenSecret: SECRET });
    const token = mintJoinToken({ secret: SECRET, tenantId: 'acme', now: NOW });
    expect(reason({ tenant: required })).toBe('token_missing');
    expect(reason({ tenant: required, joinToken: token })).toBe('ok');
    expect(reason({ tenant: required, joinToken: 'v1.garbage' })).toBe('token_invalid');
    expect(reason({ tenant: required, joinToken: token, now: NOW + 301_000 })).toBe('token_expired');
    expect(reason({ tenant: required, joinToken: mintJoinToken({ secret: SECRET, tenantId: 'other', now: NOW }) })).toBe('token_invalid');
    // Env default on, tenant silent: required, and without a secret nobody gets in.
    expect(reason({ requireJoinToken: true, joinToken: token })).toBe('token_secret_missing');
    expect(reason({ tenant: tenant({ requireJoinToken: true, joinTokenSecret: 'short' }), joinToken: token })).toBe('token_secret_missing');
    // Tenant explicitly off wins over the env default.
    expect(reason({ tenant: tenant({ requireJoinToken: false }), requireJoinToken: true })).toBe('ok');
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
