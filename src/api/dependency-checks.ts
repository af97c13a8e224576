import http from 'node:http';
import https from 'node:https';
import type { Redis } from 'ioredis';
import type { DependencyCheck } from './health';

export function redisCheck(redis: Redis): DependencyCheck {
  return {
    name: 'redis',
    critical: true,
    async check() {
      // Fail fast while disconnected instead of waiting in the offline queue.
      if (redis.status !== 'ready') throw new Error(`redis connection ${redis.status}`);
      const pong = await redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING reply ${pong}`);
    },
  };
}

/**
 * An HTTP dependency is "up" when its server answers anything at all (speech servers rarely have a
 * health route, and a 404/405 still proves the process is listening). Connection errors and
 * timeouts are "down". Uses a HEAD request to the service origin; bodies are never read.
 */
export function httpReachableCheck(name: string, url: string | undefined, timeoutMs: number, critical = false): DependencyCheck {
  return {
    name,
    critical,
    check() {
      if (!url) return Promise.resolve();
      const target = new URL(url);
      const lib = target.protocol === 'https:' ? https : http;
      return new Promise<void>((resolve, reject) => {
        const req = lib.request(target.origin + '/', { method: 'HEAD', agent: false }, (res) => {
          res.resume();
          if ((res.statusCode ?? 0) >= 500) reject(new Error(`HTTP ${res.statusCode}`));
          else resolve();
        });
        req.on('error', reject);
        req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
        req.end();
      });
    },
  };
}
