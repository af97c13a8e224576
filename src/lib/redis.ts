/**
 * Every ioredis connection is made here, from one target (a plain REDIS_URL, or Redis Sentinel) and
 * one of three roles:
 * - `request`: used on the HTTP/webhook path. Commands fail fast (bounded retries, command timeout)
 *   so a Redis outage turns into a 503 instead of a hung request.
 * - `bullmq`: handed to BullMQ Queues/Workers, which require `maxRetriesPerRequest: null` and
 *   block on Redis by design.
 * - `subscriber`: a pub/sub connection (the call bus); waits like `bullmq`, re-subscribes itself.
 * Every role reconnects forever with capped backoff, so a Redis restart or a Sentinel failover heals
 * without a process restart, and a write that reaches a demoted primary (READONLY) is sent again on
 * the new one.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';
import { withTimeout } from './with-timeout';

export type RedisRole = 'request' | 'bullmq' | 'subscriber';

/** Where the data lives: a plain URL, or the sentinels that know the current primary. */
export type RedisTarget = string | SentinelTarget;

export interface SentinelTarget {
  sentinels: readonly { host: string; port: number }[];
  /** Name of the monitored primary (`sentinel monitor <name> …`). */
  name: string;
  sentinelPassword?: string;
  /** Credentials, database and TLS (rediss:) of the data nodes; host and port are not used. */
  url: string;
}

/** The target of a parsed configuration: Sentinel when REDIS_SENTINELS is set, else REDIS_URL. */
export function redisTarget(c: {
  REDIS_URL: string;
  REDIS_SENTINELS: readonly { host: string; port: number }[];
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
}): RedisTarget {
  if (c.REDIS_SENTINELS.length === 0 || c.REDIS_SENTINEL_NAME === undefined) return c.REDIS_URL;
  return { sentinels: c.REDIS_SENTINELS, name: c.REDIS_SENTINEL_NAME, sentinelPassword: c.REDIS_SENTINEL_PASSWORD, url: c.REDIS_URL };
}

/** For logs and errors: where a target points, without secrets. */
export function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') {
    try {
      const u = new URL(target);
      return `${u.protocol}//${u.host}${u.pathname}`;
    } catch {
      return 'redis (unparsable URL)';
    }
  }
  return `sentinel ${target.name} via ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`;
}

/** Reconnect backoff: 50 ms doubling, capped at 2 s (keeps reconnect attempts cheap during an outage). */
export const reconnectDelay = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000);

/**
 * 2 = reconnect and send the command again (ioredis): a write refused by a primary that was demoted
 * (READONLY), or a blocking read released because the node changed role, goes to the new primary.
 */
export function reconnectOnError(err: Error): false | 2 {
  const m = err.message;
  return m.startsWith('READONLY') || (m.startsWith('UNBLOCKED') && m.includes('instance state changed')) ? 2 : false;
}

/** Longest a request-role command waits (also the bound of a webhook's persist, jobs/events/event-ingest.ts). */
export const REQUEST_COMMAND_TIMEOUT_MS = 2000;

export function redisOptions(role: RedisRole): RedisOptions {
  const common: RedisOptions = {
    retryStrategy: reconnectDelay,
    reconnectOnError,
    connectTimeout: 5000,
    enableAutoPipelining: role === 'request',
    lazyConnect: false,
  };
  if (role !== 'request') return { ...common, maxRetriesPerRequest: null, enableReadyCheck: false };
  return {
    ...common,
    // Request-path commands must not queue forever while Redis is down.
    maxRetriesPerRequest: 1,
    commandTimeout: REQUEST_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: true,
  };
}

/** What ioredis needs to find and reach the primary through the sentinels. */
export function sentinelOptions(t: SentinelTarget): RedisOptions {
  const u = new URL(t.url);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  const tls = u.protocol === 'rediss:';
  return {
    sentinels: t.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: t.name,
    role: 'master',
    sentinelPassword: t.sentinelPassword,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    ...(tls ? { tls: {}, enableTLSForSentinelMode: true } : {}),
    // All sentinels unreachable: ask again with the same capped backoff as a lost connection.
    sentinelRetryStrategy: reconnectDelay,
    sentinelCommandTimeout: 1000,
    // Subscribes to +switch-master on the sentinels: a failover drops the connection at once instead
    // of when the old primary refuses a write.
    failoverDetector: true,
    // The ready check is where ioredis confirms the node it reached really is the primary (INFO role);
    // a sentinel that still names the old one sends the connection round again.
    enableReadyCheck: true,
  };
}

export function createRedis(target: RedisTarget, role: RedisRole, logger?: Logger, name?: string): Redis {
  const options = { ...redisOptions(role), connectionName: name };
  const client = typeof target === 'string' ? new Redis(target, options) : new Redis({ ...options, ...sentinelOptions(target) });
  if (logger) {
    let down = false;
    const conn = name ?? role;
    client.on('error', (err: Error) => {
      if (!down) logger.warn({ err: err.message, conn }, 'redis connection error');
      down = true;
    });
    client.on('ready', () => {
      if (down) logger.info({ conn }, 'redis connection restored');
      down = false;
    });
    // ioredis emits these only for Sentinel targets: one sentinel failing is routine while others answer.
    client.on('sentinelError', (err: Error) => logger.debug({ err: err.message, conn }, 'redis sentinel unreachable'));
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
  try {
    await withTimeout(client.quit(), timeoutMs, () => undefined);
  } catch {
    // disconnect() below
  } finally {
    // A QUIT still pending after timeoutMs ends here. After QUIT too: only disconnect() closes a
    // Sentinel client's subscriptions to the sentinels.
    client.disconnect();
  }
}
