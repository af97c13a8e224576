import { ConfigError, loadConfig } from '../../src/lib/config';
import { describeTarget, reconnectOnError, redisOptions, redisTarget, sentinelOptions, type SentinelTarget } from '../../src/lib/redis';
import { testEnv } from '../support/test-config';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('Redis Sentinel configuration', () => {
  it('parses the sentinel list (host:port and [IPv6]:port) into a Sentinel target', () => {
    const c = loadConfig(testEnv({ REDIS_SENTINELS: ' 10.0.0.5:26379, sentinel-b:26380,[::1]:26381 ', REDIS_SENTINEL_NAME: 'main', REDIS_SENTINEL_PASSWORD: 's3cret' }));
    expect(c.REDIS_SENTINELS).toEqual([
      { host: '10.0.0.5', port: 26379 },
      { host: 'sentinel-b', port: 26380 },
      { host: '::1', port: 26381 },
    ]);
    expect(redisTarget(c)).toEqual({ sentinels: c.REDIS_SENTINELS, name: 'main', sentinelPassword: 's3cret', url: c.REDIS_URL });
    expect(describeTarget(redisTarget(c))).toBe('sentinel main via 10.0.0.5:26379,sentinel-b:26380,::1:26381');
  });

  it('is REDIS_URL alone when no sentinel is configured', () => {
    const c = loadConfig(testEnv({ REDIS_URL: 'redis://:pw@10.1.1.1:6390/2' }));
    expect(c.REDIS_SENTINELS).toEqual([]);
    expect(redisTarget(c)).toBe('redis://:pw@10.1.1.1:6390/2');
    expect(describeTarget(redisTarget(c))).toBe('redis://10.1.1.1:6390/2');
  });

  it.each([
    [{ REDIS_SENTINELS: '10.0.0.5:26379' }, 'REDIS_SENTINEL_NAME: required with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS: required with REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_PASSWORD: 'x' }, 'REDIS_SENTINEL_PASSWORD: set without REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: '10.0.0.5', REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS: "10.0.0.5" is not host:port'],
    [{ REDIS_SENTINELS: 'a:26379,b:70000', REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS: "b:70000" is not host:port'],
    [{ REDIS_SENTINELS: 'redis://a:26379', REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS: "redis://a:26379" is not host:port'],
  ])('names the bad variable: %o', (vars, message) => {
    const p = problems(testEnv(vars));
    expect(p).toHaveLength(1);
    expect(p[0]).toContain(message);
  });
});

describe('connection options', () => {
  const target: SentinelTarget = { sentinels: [{ host: '127.0.0.1', port: 26379 }], name: 'main', sentinelPassword: 'sp', url: 'rediss://app:p%40ss@ignored-host:1/3' };

  it('takes the data nodes credentials, database and TLS from the URL, never its host', () => {
    const o = sentinelOptions(target);
    expect(o).toMatchObject({ name: 'main', role: 'master', sentinelPassword: 'sp', username: 'app', password: 'p@ss', db: 3, tls: {}, enableTLSForSentinelMode: true, failoverDetector: true, enableReadyCheck: true });
    expect(o.sentinels).toEqual([{ host: '127.0.0.1', port: 26379 }]);
    expect(o).not.toHaveProperty('host');
    expect(sentinelOptions({ ...target, url: 'redis://x' })).toMatchObject({ db: 0, password: undefined });
    expect(sentinelOptions({ ...target, url: 'redis://x' })).not.toHaveProperty('tls');
  });

  it('retries with the capped backoff when every sentinel is down', () => {
    const retry = sentinelOptions(target).sentinelRetryStrategy!;
    expect([1, 3, 10, 100].map((n) => retry(n))).toEqual([100, 400, 2000, 2000]);
  });

  it('sends a write refused by a demoted primary again after reconnecting, for every role', () => {
    for (const role of ['request', 'bullmq', 'subscriber'] as const) {
      const f = redisOptions(role).reconnectOnError!;
      expect(f(new Error("READONLY You can't write against a read only replica."))).toBe(2);
      expect(f(new Error('UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)'))).toBe(2);
      expect(f(new Error('ERR wrong number of arguments'))).toBe(false);
    }
    expect(reconnectOnError(new Error('NOSCRIPT No matching script'))).toBe(false);
  });

  it('fails request commands fast and lets queue and subscriber connections wait', () => {
    expect(redisOptions('request')).toMatchObject({ maxRetriesPerRequest: 1, commandTimeout: 2000 });
    expect(redisOptions('bullmq')).toMatchObject({ maxRetriesPerRequest: null });
    expect(redisOptions('subscriber')).toMatchObject({ maxRetriesPerRequest: null });
  });
});
