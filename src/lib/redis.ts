/**
 * Every ioredis connection is made here. Two kinds:
 * - `request`: used on the HTTP/webhook path. Commands fail fast (bounded retries, command timeout)
 *   so a Redis outage turns into a 503 instead of a hung request.
 * - `bullmq`: handed to BullMQ Queues/Workers, which require `maxRetriesPerRequest: null` and
 *   block on Redis by design.
 * Both reconnect forever with capped backoff, so a Redis restart heals without a process restart.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';

export type RedisRole = 'request' | 'bullmq';

/** Reconnect backoff: 50 ms doubling, capped at 2 s (keeps reconnect attempts cheap during an outage). */
export const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000);

export function redisOptions(role: RedisRole): RedisOptions {
  const common: RedisOptions = {
    retryStrategy: reconnectDelay,
    connectTimeout: 5000,
    enableAutoPipelining: role === 'request',
    lazyConnect: false,
  };
  if (role === 'bullmq') return { ...common, maxRetriesPerRequest: null, enableReadyCheck: false };
  return {
    ...common,
    // Request-path commands must not queue forever while Redis is down.
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
    enableOfflineQueue: true,
  };
}

export function createRedis(url: string, role: RedisRole, logger?: Logger, name?: string): Redis {
  const client = new Redis(url, { ...redisOptions(role), connectionName: name });
  if (logger) {
    let down = false;
    client.on('error', (err: Error) => {
      if (!down) logger.warn({ err: err.message, conn: name ?? role }, 'redis connection error');
      down = true;
    });
    client.on('ready', () => {
      if (down) logger.info({ conn: name ?? role }, 'redis connection restored');
      down = false;
    });
  } else {
    client.on('error', () => undefined);
  }
  return client;
}

/** Closes a client, falling back to disconnect when QUIT cannot complete (Redis down). */
export async function closeRedis(client: Redis, timeoutMs = 1000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const timer = setTimeout(() => client.disconnect(), timeoutMs);
  try {
    await client.quit();
  } catch {
    client.disconnect();
  } finally {
    clearTimeout(timer);
  }
}
