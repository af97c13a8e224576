import { ConfigError, loadConfig } from '../../src/lib/config';
import { PRODUCTION_SECRET_MIN_LENGTH } from '../../src/lib/production-checks';
import { productionEnv, strongSecret, testEnv } from '../support/test-config';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}
const names = (p: string[]) => p.map((l) => l.split(':')[0]);

describe('production configuration', () => {
  it('boots with real-looking secrets', () => {
    expect(problems(productionEnv())).toEqual([]);
    expect(problems(productionEnv({ ADMIN_USER: 'ops', ADMIN_PASSWORD: strongSecret(), TELNYX_WEBHOOK_SECRET: strongSecret() }))).toEqual([]);
  });

  it.each([
    ['TELNYX_API_KEY', 'KEY_placeholder_replace_me'],
    ['TELNYX_PUBLIC_KEY', 'ISxjlWQt9WmNqc4z4f9CNAmm08YM0FkAB7NR0oN7MTs='],
    // The key load-test:calls prints: its private half comes from a seed anyone can read.
    ['TELNYX_PUBLIC_KEY', 'uEd1CjfiyYQI7FSFvyCEt+XIAgvXH4h1H8gbI8ocxMw='],
    ['MEDIA_STREAM_TOKEN', 'devtoken-change-me'],
    ['TELNYX_WEBHOOK_SECRET', 'devsecret'],
    ['ADMIN_PASSWORD', 'change-me'],
    ['METRICS_TOKEN', 'metrics-token-change-me'],
  ])('refuses the example value of %s, naming it', (name, value) => {
    const extra = name === 'ADMIN_PASSWORD' ? { ADMIN_USER: 'admin' } : {};
    const p = problems(productionEnv({ ...extra, [name]: value }));
    expect(names(p)).toEqual([name]);
    expect(p[0]).toMatch(/example|placeholder/);
  });

  it('refuses long values that still carry a placeholder word', () => {
    const p = problems(productionEnv({ MEDIA_STREAM_TOKEN: `please-change-me-${strongSecret()}`, METRICS_TOKEN: `REPLACE_ME_${strongSecret()}` }));
    expect(names(p)).toEqual(['MEDIA_STREAM_TOKEN', 'METRICS_TOKEN']);
  });

  it(`refuses secrets shorter than ${PRODUCTION_SECRET_MIN_LENGTH} chars, each by name, all at once`, () => {
    const short = 'x'.repeat(PRODUCTION_SECRET_MIN_LENGTH - 1);
    const p = problems(
      productionEnv({ MEDIA_STREAM_TOKEN: short, METRICS_TOKEN: short, ADMIN_USER: 'admin', ADMIN_PASSWORD: short, TELNYX_WEBHOOK_SECRET: short }),
    );
    expect(names(p)).toEqual(['ADMIN_PASSWORD', 'MEDIA_STREAM_TOKEN', 'METRICS_TOKEN', 'TELNYX_WEBHOOK_SECRET']);
    for (const line of p) expect(line).toMatch(/>= 32/);
    const ok = 'y'.repeat(PRODUCTION_SECRET_MIN_LENGTH);
    expect(problems(productionEnv({ MEDIA_STREAM_TOKEN: ok, METRICS_TOKEN: ok, ADMIN_USER: 'admin', ADMIN_PASSWORD: ok }))).toEqual([]);
  });

  it('requires METRICS_TOKEN', () => {
    const p = problems(productionEnv({ METRICS_TOKEN: undefined }));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^METRICS_TOKEN: required in production/);
  });

  it('refuses the local HMAC webhook scheme', () => {
    const p = problems(productionEnv({ TELNYX_WEBHOOK_SECRET: strongSecret(), TELNYX_WEBHOOK_HMAC_ENABLED: 'true' }));
    expect(names(p)).toEqual(['TELNYX_WEBHOOK_HMAC_ENABLED']);
  });

  it('reports production problems together with schema problems', () => {
    const p = problems(productionEnv({ MEDIA_STREAM_TOKEN: 'devtoken', PORT: 'abc', METRICS_TOKEN: undefined }));
    expect(names(p)).toEqual(['MEDIA_STREAM_TOKEN', 'METRICS_TOKEN', 'PORT']);
  });

  it('points a newcomer at the development settings', () => {
    expect(() => loadConfig(productionEnv({ METRICS_TOKEN: undefined }))).toThrow(/NODE_ENV=development/);
  });

  it('development and test boot with the example values', () => {
    const examples = {
      TELNYX_API_KEY: 'KEY_placeholder_replace_me',
      MEDIA_STREAM_TOKEN: 'devtoken-change-me',
      TELNYX_WEBHOOK_SECRET: 'devsecret',
      TELNYX_WEBHOOK_HMAC_ENABLED: 'true',
      ADMIN_USER: 'admin',
      ADMIN_PASSWORD: 'change-me',
    };
    expect(problems(testEnv({ NODE_ENV: 'development', ...examples }))).toEqual([]);
    expect(problems(testEnv(examples))).toEqual([]);
  });
});

describe('webhook HMAC switch', () => {
  it('is off by default and needs a secret when on', () => {
    expect(loadConfig(testEnv({ TELNYX_WEBHOOK_SECRET: 'devsecret' })).TELNYX_WEBHOOK_HMAC_ENABLED).toBe(false);
    expect(problems(testEnv({ TELNYX_WEBHOOK_HMAC_ENABLED: 'true' }))).toEqual(['TELNYX_WEBHOOK_HMAC_ENABLED: needs TELNYX_WEBHOOK_SECRET']);
  });
});

describe('admin and proxy settings', () => {
  it('defaults to a read-only queue board', () => {
    const c = loadConfig(testEnv());
    expect(c.ADMIN_QUEUES_READ_ONLY).toBe(true);
  });
});
