import { closeScratch } from './run-scratch';
import type { RedisServerHandle } from './redis-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as Record<string, unknown>).__veraluxRedis as RedisServerHandle | undefined;
  if (server) await server.destroy();
  closeScratch();
}
