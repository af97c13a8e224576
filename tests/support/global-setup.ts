import { startRedisServer } from './redis-server';

/** Uses REDIS_URL when the caller set one; otherwise starts a private redis-server for the run. */
export default async function globalSetup(): Promise<void> {
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const server = await startRedisServer();
  process.env.TEST_REDIS_URL = server.url;
  (globalThis as Record<string, unknown>).__veraluxRedis = server;
}
