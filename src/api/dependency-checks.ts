import http from 'node:http';
import https from 'node:https';
import type { Redis } from 'ioredis';
import type { DependencyCheck } from './health';

/**
 * Redis is "ok" when the request connection (tenant lookups, capacity) answers PING and every other
 * given connection (the queue connection that persists webhooks) is connected and ready. After a
 * Sentinel failover all of them must have reached the new primary before the instance is ready again.
 */
export function redisCheck(redis: Redis, ...others: Redis[]): DependencyCheck {
  return {
    name: 'redis',
    critical: true,
    async check() {
      // Fail fast while disconnected instead of waiting in the offline queue.
      for (const c of [redis, ...others]) if (c.status !== 'ready') throw new Error(`redis connection ${c.status}`);
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
    },
  };
}

/**
 * An HTTP dependency is "up" when its server answers anything at all (speech servers rarely have a
 * health route, and a 404/405 still proves the process is listening). Connection errors and
 * timeouts are "down". Uses a HEAD request to the service origin; bodies are never read. One
 * kept-alive connection per dependency is reused from check to check (close() ends it).
 */
export function httpReachableCheck(name: string, url: string | undefined, timeoutMs: number, critical = false): DependencyCheck {
  const target = url ? new URL(url) : undefined;
  const lib = target?.protocol === 'https:' ? https : http;
  // maxSockets 1: checks of one dependency never overlap (CachedRun), so one connection is enough.
  // (Node reuses it when the answer is length-delimited, as every HTTP server's 404/405 is.)
  const agent = target ? new lib.Agent({ keepAlive: true, maxSockets: 1 }) : undefined;
  return {
    name,
    critical,
    check() {
      if (!target) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const req = lib.request(target.origin + '/', { method: 'HEAD', agent }, (res) => {
          res.resume();
          if ((res.statusCode ?? 0) >= 500) reject(new Error(`HTTP ${res.statusCode}`));
          else resolve();
        });
        req.on('error', reject);
        req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
        req.end();
      });
    },
    close() {
      agent?.destroy();
    },
  };
}
