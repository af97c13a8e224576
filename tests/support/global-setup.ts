import { openScratch } from './run-scratch';
import { startRedisServer } from './redis-server';

/**
 * Opens the run's scratch temp dir (run-scratch.ts), then uses REDIS_URL when the caller set one,
 * otherwise starts a private redis-server for the run.
 */
export default async function globalSetup(): Promise<void> {
  openScratch();
  if (process.env.REDIS_URL) {
    process.env.TEST_REDIS_URL = process.env.REDIS_URL;
    return;
  }
  const server = await startRedisServer();
  process.env.TEST_REDIS_URL = server.url;
  (globalThis as Record<string, unknown>).__veraluxRedis = server;
}
