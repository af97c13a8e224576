import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig, type Config } from '../../src/lib/config';
import { createLogger, type Logger } from '../../src/lib/logger';
import { generateTestKeyPair } from '../../scripts/sim/signing';

export const TEST_PUBLIC_KEY_B64 = 'ISxjlWQt9WmNqc4z4f9CNAmm08YM0FkAB7NR0oN7MTs=';

export function testRedisUrl(): string {
  const url = process.env.TEST_REDIS_URL;
  if (!url) throw new Error('TEST_REDIS_URL not set: integration tests must run under the jest global setup');
  return url;
}

/**
 * A minimal valid environment; every test gets unique Redis key prefixes so tests never collide.
 * AUDIO_STORAGE_DIR is a fresh path, not created here: a runtime creates it when it starts, and
 * whoever started that runtime removes it (createHarness does; otherwise the run's scratch temp dir
 * goes with it, see run-scratch.ts).
 */
export function testEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  const id = randomBytes(4).toString('hex');
  const audioDir = path.join(os.tmpdir(), `veralux-audio-${id}`);
  return {
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'silent',
    TELNYX_API_KEY: 'KEY_test',
    TELNYX_PUBLIC_KEY: TEST_PUBLIC_KEY_B64,
    MEDIA_STREAM_TOKEN: 'test-media-token',
    AUDIO_PUBLIC_BASE_URL: 'http://127.0.0.1:3000/audio',
    AUDIO_STORAGE_DIR: audioDir,
    WHISPER_URL: 'http://127.0.0.1:1/v1/audio/transcriptions',
    KOKORO_URL: 'http://127.0.0.1:1/v1/audio/speech',
    STT_CHUNK_MS: '1000',
    STT_SILENCE_MS: '500',
    DEAD_AIR_MS: '10000',
    REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:1',
    GLOBAL_CONCURRENCY_CAP: '100',
    TENANT_CONCURRENCY_CAP_DEFAULT: '10',
    TENANT_CALLS_PER_MIN_CAP_DEFAULT: '60',
    CAPACITY_TTL_SECONDS: '60',
    // Test fakes (Whisper, Kokoro, brain) listen on 127.0.0.1: tenant configs may name them, as an
    // operator allowlists an in-cluster service. Every other loopback/private host stays refused.
    TENANT_URL_ALLOWED_HOSTS: '127.0.0.1',
    TENANTMAP_PREFIX: `t${id}:tenantmap`,
    CAP_PREFIX: `t${id}:cap`,
    QUEUE_PREFIX: `t${id}:bull`,
    STATE_PREFIX: `t${id}:state`,
    ...overrides,
  };
}

/** A random secret long enough for production (32 chars). */
export const strongSecret = (): string => randomBytes(24).toString('base64url');

/**
 * testEnv with NODE_ENV=production and secrets production accepts: random ones, a fresh Ed25519
 * key (TEST_PUBLIC_KEY_B64 is also the published example key, which production refuses).
 */
export function productionEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return testEnv({
    NODE_ENV: 'production',
    TELNYX_API_KEY: `KEY${randomBytes(16).toString('hex')}`,
    TELNYX_PUBLIC_KEY: generateTestKeyPair().publicKeyB64,
    MEDIA_STREAM_TOKEN: strongSecret(),
    METRICS_TOKEN: strongSecret(),
    ...overrides,
  });
}

export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig(testEnv(overrides));
}

/** A logger whose JSON lines are kept in memory so tests can assert on real log output. */
export function memoryLogger(level = 'debug'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const dest = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const logger = createLogger({ level, destination: dest });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
