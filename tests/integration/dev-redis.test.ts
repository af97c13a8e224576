/**
 * scripts/dev_redis.sh starts the project's own Redis and never adopts someone else's: a Redis already
 * answering on the port is reused only when its data dir is ours.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { freePort } from '../../scripts/sim/redis-server';
import { runScript, script } from '../support/run-script';
import { testRedisUrl } from '../support/test-config';

jest.setTimeout(60_000);

describe('scripts/dev_redis.sh', () => {
  let dir: string;
  let port: number | undefined;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'veralux-devredis-'));
  });
  afterAll(async () => {
    if (port !== undefined) {
      const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
      await r.connect().then(() => r.shutdown('NOSAVE')).catch(() => undefined);
      r.disconnect();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts its own Redis, reuses it on a second run, and refuses a Redis that is not its own', async () => {
    port = await freePort();
    const env = { REDIS_PORT: String(port), REDIS_DATA_DIR: path.join(dir, 'redis') };
    const first = await runScript('/bin/bash', [script('dev_redis.sh')], { env, cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`export REDIS_URL=redis://127.0.0.1:${port}`);
    const again = await runScript('/bin/bash', [script('dev_redis.sh')], { env, cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already running');

    // The tests' private Redis is someone else's as far as the script can tell: not adopted.
    const foreign = new URL(testRedisUrl()).port;
    const refused = await runScript('/bin/bash', [script('dev_redis.sh')], { env: { ...env, REDIS_PORT: foreign }, cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`something else listens on 127.0.0.1:${foreign}`);
  });
});
