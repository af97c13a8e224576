/**
 * The private redis-server launcher now lives in scripts/sim/redis-server.ts (the demo and the load test
 * use it too). Here: the test entry point, which shows Redis' output when REDIS_TEST_DEBUG is set.
 */
import { startRedisServer as start, type RedisServerHandle, type RedisServerOptions } from '../../scripts/sim/redis-server';

export { freePort } from '../../scripts/sim/redis-server';
export type { RedisServerHandle };

export function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  return start({ debug: Boolean(process.env.REDIS_TEST_DEBUG), ...opts });
}
